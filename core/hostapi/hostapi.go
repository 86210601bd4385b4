// Package hostapi is the host side of the Host API: what a plugin calls,
// over the go-plugin broker, for anything stateful (dossiers, reservations,
// settings, notifications, payments, audit).
//
// A plugin never names a tenant. Before the host hands a request to a
// plugin it binds the request with Begin, which yields a call token; the
// plugin sends the token back in the gRPC metadata of every Host API call
// (sdk.CallTokenKey), and the server acts in that call's tenant, for that
// call's plugin and on behalf of that call's actor, until the host ends it.
//
// The supervisor registers ForPlugin(id) on each plugin's broker, so that a
// token leaked from one plugin is worthless to another.
package hostapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Actor kinds, as in the plugin contract.
const (
	ActorCitizen   = sdk.ActorCitizen
	ActorStaff     = sdk.ActorStaff
	ActorAnonymous = sdk.ActorAnonymous
	// ActorSystem is the host itself (ID 0), calling a plugin on an event
	// such as a payment's outcome. Only the host binds such a call: no
	// HTTP request is ever made one.
	ActorSystem = sdk.ActorSystem
)

// DefaultCallTimeout bounds a call token whose end is never called (a
// forgotten defer, a crashed handler): past it, the token is refused.
const DefaultCallTimeout = 2 * time.Minute

// Call is one request in progress that a plugin may act for.
type Call struct {
	TenantID  int64
	PluginID  string
	Actor     Actor
	RequestID string
	// DossierID is the dossier a dossier-scoped action is about (the
	// host checked it is the service's and, for a citizen, theirs): a
	// citizen's follow-up may move that dossier, and no other.
	DossierID int64
}

// Actor is who the request acts for: a citizen (citizens.id), a staff
// member (users.id), an anonymous visitor (ID 0) or the system (ID 0).
type Actor struct {
	Kind string // ActorCitizen, ActorStaff, ActorAnonymous or ActorSystem
	ID   int64
}

// privileged reports whether a may do what only staff may: a member of
// staff, or the host acting on its own for an event.
func (a Actor) privileged() bool { return a.Kind == ActorStaff || a.Kind == ActorSystem }

// String is the actor as audit_log and dossier_events record it.
func (c Call) String() string {
	return fmt.Sprintf("plugin:%s/%s:%d", c.PluginID, c.Actor.Kind, c.Actor.ID)
}

var pluginID = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,39}$`) // as catalog_plugins.id

func (c Call) validate() error {
	if c.TenantID <= 0 {
		return errors.New("no tenant")
	}
	if !pluginID.MatchString(c.PluginID) {
		return fmt.Errorf("plugin id %q", c.PluginID)
	}
	switch c.Actor.Kind {
	case ActorCitizen, ActorStaff:
		if c.Actor.ID <= 0 {
			return fmt.Errorf("%s actor without id", c.Actor.Kind)
		}
	case ActorAnonymous, ActorSystem:
		if c.Actor.ID != 0 {
			return fmt.Errorf("%s actor with an id", c.Actor.Kind)
		}
	default:
		return fmt.Errorf("actor kind %q", c.Actor.Kind)
	}
	return nil
}

// Server keeps the calls in progress and the Host API's logic. Plugins are
// served its ForPlugin views, which accept only their own plugin's tokens;
// the Server itself is no gRPC service, so no endpoint can act as any plugin.
type Server struct {
	db       *store.DB
	dossiers *dossier.Store
	docs     *documents // nil: IssueDocument is unavailable
	bookings *booking.Engine
	queue    Queuer // nil: Enqueue is unavailable
	log      *slog.Logger
	timeout  time.Duration

	// bookingNow is the booking engine's clock, for what the Host API
	// reads of bookings itself (a hold that has run out).
	bookingNow func() time.Time

	mu    sync.Mutex
	calls map[[sha256.Size]byte]*binding
}

type binding struct {
	call    Call
	expires time.Time
}

// New is a Server storing in db (the application role's pool). Its
// dossiers are core/dossier's; plugins only link the files of their
// requests, so it needs an attachment folder only for IssueDocument
// (WithDocuments).
func New(db *store.DB, log *slog.Logger, opts ...Option) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{db: db, dossiers: dossier.New(db, nil, time.Now), bookings: booking.New(db, time.Now), bookingNow: time.Now, log: log,
		timeout: DefaultCallTimeout, calls: map[[sha256.Size]byte]*binding{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Begin binds c to a fresh call token, valid until end is called or
// DefaultCallTimeout has passed. A malformed Call is logged and bound to
// nothing: its token is refused like a made-up one.
func (s *Server) Begin(c Call) (token string, end func()) {
	var raw [32]byte
	_, _ = rand.Read(raw[:]) // never fails (crypto/rand crashes the program instead)
	token = base64.RawURLEncoding.EncodeToString(raw[:])
	if err := c.validate(); err != nil {
		s.log.Error("host API call not bound", "err", err, "tenant_id", c.TenantID, "plugin", c.PluginID, "request_id", c.RequestID)
		return token, func() {}
	}
	// Keyed by the token's hash: a lookup's timing says nothing useful
	// about live tokens, and a dump of the map holds none.
	key := sha256.Sum256([]byte(token))
	s.mu.Lock()
	s.calls[key] = &binding{call: c, expires: time.Now().Add(s.timeout)}
	s.mu.Unlock()
	timer := time.AfterFunc(s.timeout, func() { s.drop(key) })
	var once sync.Once
	return token, func() {
		once.Do(func() {
			timer.Stop()
			s.drop(key)
		})
	}
}

func (s *Server) drop(key [sha256.Size]byte) {
	s.mu.Lock()
	delete(s.calls, key)
	s.mu.Unlock()
}

// resolve finds the call of ctx's token; only calls of plugin qualify.
func (s *Server) resolve(ctx context.Context, plugin string) (Call, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(sdk.CallTokenKey)
	if len(vals) != 1 || vals[0] == "" {
		return Call{}, status.Error(codes.PermissionDenied, "no call token (metadata "+sdk.CallTokenKey+")")
	}
	key := sha256.Sum256([]byte(vals[0]))
	s.mu.Lock()
	b, ok := s.calls[key]
	s.mu.Unlock()
	// One message for unknown, ended, expired and foreign tokens: a caller
	// learns nothing about other plugins' calls.
	if !ok || time.Now().After(b.expires) || b.call.PluginID != plugin {
		return Call{}, status.Error(codes.PermissionDenied, "call token unknown or no longer valid")
	}
	return b.call, nil
}

// ForPlugin is the Host API as plugin id may use it: only calls begun for
// that plugin are accepted.
func (s *Server) ForPlugin(id string) pb.HostAPIServer {
	return &view{s: s, plugin: id}
}

type view struct {
	pb.UnimplementedHostAPIServer
	s      *Server
	plugin string
}

var _ pb.HostAPIServer = (*view)(nil)

// serve resolves the call and runs fn in it, turning fn's errors into
// gRPC statuses.
func serve[Req, Res any](ctx context.Context, s *Server, plugin string, req Req,
	fn func(context.Context, Call, Req) (Res, error)) (Res, error) {
	var zero Res
	c, err := s.resolve(ctx, plugin)
	if err != nil {
		return zero, err
	}
	res, err := fn(ctx, c, req)
	if err != nil {
		return zero, s.statusOf(ctx, c, err)
	}
	return res, nil
}

// statusOf maps an error to the status the plugin sees. Statuses made on
// purpose pass; database errors are logged and answered without their SQL.
func (s *Server) statusOf(ctx context.Context, c Call, err error) error {
	var made interface{ GRPCStatus() *status.Status }
	if errors.As(err, &made) {
		return made.GRPCStatus().Err()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	method, _ := grpc.Method(ctx)
	if store.Unavailable(err) {
		// The database is down or restarting: nothing the plugin did, and
		// worth a retry once it is back (the visitor gets a 503).
		s.log.Warn("host API call: database unavailable", "method", method, "tenant_id", c.TenantID, "plugin", c.PluginID,
			"request_id", c.RequestID, "err", err)
		return status.Error(codes.Unavailable, "the database is unavailable; try again shortly")
	}
	if strings.HasPrefix(sqlState(err), "40") {
		// Serialization failure or deadlock: nothing was written, and the
		// same call may well pass if the plugin tries again.
		s.log.Warn("host API call lost a race", "method", method, "tenant_id", c.TenantID, "plugin", c.PluginID,
			"request_id", c.RequestID, "err", err)
		return status.Error(codes.Aborted, "conflict with a concurrent request; try again")
	}
	if strings.HasPrefix(sqlState(err), "22") {
		// Data exceptions come from values the plugin sent (a NUL in a
		// JSON string, say) that passed our checks.
		s.log.Warn("host API: value refused by the database", "method", method, "tenant_id", c.TenantID,
			"plugin", c.PluginID, "request_id", c.RequestID, "err", err)
		return status.Error(codes.InvalidArgument, "a value cannot be stored (invalid text or JSON content)")
	}
	s.log.Error("host API call failed", "method", method, "tenant_id", c.TenantID, "plugin", c.PluginID,
		"request_id", c.RequestID, "err", err)
	return status.Errorf(codes.Internal, "internal error (request %s)", c.RequestID)
}

func sqlState(err error) string {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		return pgErr.Field('C')
	}
	return ""
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

func denied(msg string) error { return status.Error(codes.PermissionDenied, msg) }

func notFound(what string, id int64) error {
	return status.Errorf(codes.NotFound, "%s %d not found", what, id)
}

// The Host API methods of a plugin's view: resolve the call of the token,
// then act in its tenant, as its plugin, for its actor. What each does is
// told in the proto and the methods below.

func (v *view) CreateDossier(ctx context.Context, r *pb.CreateDossierRequest) (*pb.Dossier, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.createDossier)
}
func (v *view) GetDossier(ctx context.Context, r *pb.GetDossierRequest) (*pb.Dossier, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.getDossier)
}
func (v *view) ListDossiers(ctx context.Context, r *pb.ListDossiersRequest) (*pb.ListDossiersResponse, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.listDossiers)
}
func (v *view) SetDossierStatus(ctx context.Context, r *pb.SetDossierStatusRequest) (*pb.Dossier, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.setDossierStatus)
}

func (v *view) SetDossierDue(ctx context.Context, r *pb.SetDossierDueRequest) (*pb.Dossier, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.setDossierDue)
}
func (v *view) AssignDossier(ctx context.Context, r *pb.AssignDossierRequest) (*pb.Dossier, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.assignDossier)
}
func (v *view) AddDossierMessage(ctx context.Context, r *pb.AddDossierMessageRequest) (*pb.DossierMessage, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.addDossierMessage)
}
func (v *view) Reserve(ctx context.Context, r *pb.ReserveRequest) (*pb.Reservation, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.reserve)
}
func (v *view) CancelReservation(ctx context.Context, r *pb.CancelReservationRequest) (*pb.Reservation, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.cancelReservation)
}
func (v *view) GetSetting(ctx context.Context, r *pb.GetSettingRequest) (*pb.Setting, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.getSetting)
}
func (v *view) PutSetting(ctx context.Context, r *pb.PutSettingRequest) (*pb.Setting, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.putSetting)
}
func (v *view) Notify(ctx context.Context, r *pb.NotifyRequest) (*pb.NotifyResponse, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.notify)
}
func (v *view) CreatePayment(ctx context.Context, r *pb.CreatePaymentRequest) (*pb.Payment, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.createPayment)
}
func (v *view) Audit(ctx context.Context, r *pb.AuditRequest) (*pb.AuditResponse, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.audit)
}
