package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Service is what a plugin author implements: one method that runs an
// action for one request of one tenant. It is called concurrently for many
// tenants; keep per-tenant state keyed by Request.TenantID, or better in
// the Host API (settings), which outlives the process.
type Service interface {
	Handle(ctx context.Context, req *Request) (*Response, error)
}

// Actor is who acts: a citizen, a staff member, an anonymous visitor, or
// the host itself for an event (ActorSystem, id 0).
type Actor struct {
	Kind  string // ActorCitizen, ActorStaff, ActorAnonymous or ActorSystem
	ID    int64
	Name  string
	Roles []string
}

// Request is one action of one person in one tenant.
type Request struct {
	TenantID   int64
	TenantSlug string
	Lang       string
	RequestID  string
	Actor      Actor
	Action     string
	// Values is the submitted form, already valid against its schema.
	Values json.RawMessage
	// Config is the tenant's configuration of this service.
	Config json.RawMessage
	// DossierID is the dossier an action of scope "dossier" is about; the
	// host has checked it is one of this service's, in this tenant.
	DossierID int64
	// Files are the files uploaded with the form, stored by the host; the
	// form's value for a file field is the attachment id, as a string.
	Files []File
	// Host is the Host API, bound to this request: what it reads and
	// writes belongs to this request's tenant, on behalf of its actor.
	Host Host
}

// File is an uploaded file the host has checked and stored.
type File struct {
	Field        string // JSON pointer of the form field
	AttachmentID int64  // keep it on a dossier with NewDossier.AttachmentIDs
	Name         string
	ContentType  string // sniffed from the content
	Size         int64
	SHA256       string
}

// Download is a file the host sends instead of a page: a CSV export, a
// document.
type Download struct {
	Name        string
	ContentType string
	Content     []byte
}

// Decode unmarshals the submitted values into v.
func (r *Request) Decode(v any) error {
	if len(r.Values) == 0 {
		return nil
	}
	return json.Unmarshal(r.Values, v)
}

// DecodeConfig unmarshals the tenant's configuration into v.
func (r *Request) DecodeConfig(v any) error {
	if len(r.Config) == 0 {
		return nil
	}
	return json.Unmarshal(r.Config, v)
}

// Outcomes of an action.
const (
	OutcomeOK      = "ok"
	OutcomeInvalid = "invalid"
	OutcomeRefused = "refused"
)

// FieldError is a problem with one field, in the request's language.
type FieldError struct {
	Field   string // JSON pointer, e.g. "/birth_date"
	Message string
}

// Response is the result the host renders.
type Response struct {
	Outcome       string
	Message       string
	Errors        []FieldError
	Data          any
	DossierID     int64
	DossierNumber string
	// File, when set, is sent to the person as a download.
	File *Download
	// Next, when set, is the page of the town's portal the person is sent
	// to: a path below the town, such as the URL Enqueue returns.
	Next string
}

// OK is a successful response with a message for the person.
func OK(message string) *Response { return &Response{Outcome: OutcomeOK, Message: message} }

// Invalid is a response that sends the form back with one field's error.
func Invalid(field, message string) *Response {
	return &Response{Outcome: OutcomeInvalid, Errors: []FieldError{{Field: field, Message: message}}}
}

// Refused is a response that declines the action, saying why.
func Refused(message string) *Response { return &Response{Outcome: OutcomeRefused, Message: message} }

// server adapts a Service to the Plugin gRPC service.
type server struct {
	pb.UnimplementedPluginServer
	manifest *pb.Manifest
	svc      Service

	mu     sync.Mutex
	broker *plugin.GRPCBroker
	host   pb.HostAPIClient
}

func (s *server) setBroker(b *plugin.GRPCBroker) {
	s.mu.Lock()
	s.broker = b
	s.mu.Unlock()
}

func (s *server) Init(_ context.Context, req *pb.InitRequest) (*pb.Manifest, error) {
	if req.HostProtocol < ProtocolVersion {
		return nil, status.Errorf(codes.FailedPrecondition, "host speaks protocol %d, this plugin needs %d", req.HostProtocol, ProtocolVersion)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broker == nil {
		return nil, status.Error(codes.FailedPrecondition, "no broker")
	}
	conn, err := s.broker.DialWithOptions(req.HostApiBrokerId, dialOptions...)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "dial the Host API: %v", err)
	}
	s.host = pb.NewHostAPIClient(conn)
	return s.manifest, nil
}

func (s *server) Health(context.Context, *pb.HealthRequest) (*pb.HealthResponse, error) {
	return &pb.HealthResponse{Status: "ok"}, nil
}

func (s *server) Handle(ctx context.Context, in *pb.HandleRequest) (_ *pb.HandleResponse, err error) {
	// One process serves every town: a panic in one request must fail that
	// request, not every request in flight.
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "panic in %s: %v\n%s", in.GetAction(), r, debug.Stack())
			err = status.Errorf(codes.Internal, "%s: panic: %v", in.GetAction(), r)
		}
	}()
	s.mu.Lock()
	host := s.host
	s.mu.Unlock()
	if host == nil {
		return nil, status.Error(codes.FailedPrecondition, "Handle before Init")
	}
	c := in.GetContext()
	req := &Request{
		TenantID:   c.GetTenantId(),
		TenantSlug: c.GetTenantSlug(),
		Lang:       c.GetLang(),
		RequestID:  c.GetRequestId(),
		Actor: Actor{Kind: c.GetActor().GetKind(), ID: c.GetActor().GetId(), Name: c.GetActor().GetName(),
			Roles: c.GetActor().GetRoles()},
		Action:    in.GetAction(),
		Values:    in.GetValuesJson(),
		Config:    c.GetConfigJson(),
		DossierID: in.GetDossierId(),
		Host:      &hostClient{api: host, token: c.GetCallToken()},
	}
	for _, f := range in.GetFiles() {
		req.Files = append(req.Files, File{Field: f.GetField(), AttachmentID: f.GetAttachmentId(), Name: f.GetName(),
			ContentType: f.GetContentType(), Size: f.GetSize(), SHA256: f.GetSha256()})
	}
	res, err := s.svc.Handle(ctx, req)
	if err != nil {
		var he *HostError
		if errors.As(err, &he) {
			return nil, status.Error(he.Code, he.Msg)
		}
		return nil, status.Errorf(codes.Internal, "%s: %v", in.GetAction(), err)
	}
	if res == nil {
		return nil, status.Errorf(codes.Internal, "%s: no response", in.GetAction())
	}
	out := &pb.HandleResponse{Outcome: res.Outcome, Message: res.Message, DossierId: res.DossierID, DossierNumber: res.DossierNumber,
		Next: res.Next}
	switch out.Outcome {
	case "":
		out.Outcome = OutcomeOK
	case OutcomeOK, OutcomeRefused:
	case OutcomeInvalid:
		// The host sends the form back marking the fields in error: with
		// none, the person would see their form again and no reason why.
		if len(res.Errors) == 0 {
			return nil, status.Errorf(codes.Internal, "%s: outcome invalid without field errors", in.GetAction())
		}
	default:
		return nil, status.Errorf(codes.Internal, "%s: unknown outcome %q", in.GetAction(), out.Outcome)
	}
	if f := res.File; f != nil {
		if f.Name == "" || f.ContentType == "" {
			return nil, status.Errorf(codes.Internal, "%s: a download needs a name and a content type", in.GetAction())
		}
		out.File = &pb.File{Name: f.Name, ContentType: f.ContentType, Content: f.Content}
	}
	for _, fe := range res.Errors {
		out.Errors = append(out.Errors, &pb.FieldError{Field: fe.Field, Message: fe.Message})
	}
	if res.Data != nil {
		if out.DataJson, err = json.Marshal(res.Data); err != nil {
			return nil, status.Errorf(codes.Internal, "%s: encode data: %v", in.GetAction(), err)
		}
	}
	return out, nil
}

// NewServer is the Plugin service for svc with its manifest; Serve uses it,
// and tests of a plugin may too.
func NewServer(manifest *pb.Manifest, svc Service) pb.PluginServer {
	return &server{manifest: manifest, svc: svc}
}

// HostError is a Host API refusal: not found, permission denied, conflict.
type HostError struct {
	Code codes.Code
	Msg  string
	// Refusal says why the booking engine refused a booking call (a slot
	// taken, a closing day, a deadline passed); nil for other errors.
	// BookingRefusalText words it in the person's language.
	Refusal *pb.BookingRefusal
}

func (e *HostError) Error() string { return fmt.Sprintf("host: %s: %s", e.Code, e.Msg) }

// Sentinels to test a Host API error against with errors.Is.
var (
	ErrNotFound         = &HostError{Code: codes.NotFound}
	ErrPermissionDenied = &HostError{Code: codes.PermissionDenied}
	ErrConflict         = &HostError{Code: codes.AlreadyExists}
	ErrInvalid          = &HostError{Code: codes.InvalidArgument}
	// ErrPrecondition: the object is not in a state that allows the call
	// (an appointment that is not now, say).
	ErrPrecondition = &HostError{Code: codes.FailedPrecondition}
)

// Is matches HostErrors by code.
func (e *HostError) Is(target error) bool {
	t, ok := target.(*HostError)
	return ok && t.Code == e.Code
}
