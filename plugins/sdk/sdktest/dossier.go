package sdktest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Message is a public reply or an internal note on a dossier.
type Message struct {
	ID        int64
	DossierID int64
	Body      string
	Internal  bool
	Actor     string
}

// Attachment is a file kept by the host: an upload, or a document a
// plugin issued. DossierID is 0 while an upload waits for its dossier.
type Attachment struct {
	ID          int64
	DossierID   int64
	Field       string // the form field it was uploaded with; "" for issued documents
	Name        string
	ContentType string
	SHA256      string
	Content     []byte
	Issued      bool // issued by the plugin with IssueDocument
	Signed      bool // issued with Sign: the real host signs it (PAdES)
	uploader    sdk.Actor
}

type attachment struct{ Attachment }

// The host's limits on files (core/dossier, core/hostapi).
const (
	maxUpload   = 10 << 20
	maxDocument = 10 << 20
	maxMessage  = 4000
)

// checkDossier fails the test when c's dossier does not fit its action, as
// the host would never send such a request.
func (h *Host) checkDossier(c Call, action *pb.Action) {
	h.t.Helper()
	if action.GetScope() != sdk.ScopeDossier {
		if c.DossierID != 0 {
			h.t.Fatalf("sdktest: action %q is not of scope dossier; the host sends no dossier with it", c.Action)
		}
		return
	}
	if c.DossierID <= 0 {
		h.t.Fatalf("sdktest: action %q has scope dossier: Call.DossierID is required", c.Action)
	}
	b := &bound{h: h, tenant: c.Tenant, actor: c.Actor}
	st, err := b.begin(context.Background(), "")
	if err != nil {
		h.t.Fatalf("sdktest: %v", err)
	}
	_, err = b.dossier(st, c.DossierID)
	b.end()
	if err != nil {
		h.t.Fatalf("sdktest: the host would not send dossier %d with action %q: %v", c.DossierID, c.Action, err)
	}
}

// upload stores c's files as the host does before it calls the plugin, and
// puts each one's attachment id into its field.
func (h *Host) upload(c Call, values json.RawMessage) (json.RawMessage, []sdk.File) {
	h.t.Helper()
	if len(c.Files) == 0 {
		return values, nil
	}
	var m map[string]any
	if err := json.Unmarshal(values, &m); err != nil || m == nil {
		h.t.Fatalf("sdktest: values with files must be a JSON object: %v", err)
	}
	var files []sdk.File
	h.mu.Lock()
	st := h.tenants[c.Tenant]
	if st == nil {
		st = &tenant{settings: map[string]json.RawMessage{}, counters: map[int]int64{}}
		h.tenants[c.Tenant] = st
	}
	for _, u := range c.Files {
		field := strings.TrimPrefix(u.Field, "/")
		if field == "" || strings.Contains(field, "/") || u.Name == "" {
			h.mu.Unlock()
			h.t.Fatalf("sdktest: upload %q: want a top-level field like /documents and a file name", u.Field)
		}
		if len(u.Content) == 0 || len(u.Content) > maxUpload {
			h.mu.Unlock()
			h.t.Fatalf("sdktest: upload %s: %d bytes; the host takes 1 to %d", u.Name, len(u.Content), maxUpload)
		}
		sum := sha256.Sum256(u.Content)
		a := &attachment{Attachment{ID: h.lastID + 1, Field: u.Field, Name: u.Name,
			ContentType: sniff(u.Content), SHA256: hex.EncodeToString(sum[:]),
			Content: append([]byte(nil), u.Content...), uploader: c.Actor}}
		h.lastID++
		st.attachments = append(st.attachments, a)
		m[field] = strconv.FormatInt(a.ID, 10)
		files = append(files, sdk.File{Field: u.Field, AttachmentID: a.ID, Name: a.Name, ContentType: a.ContentType,
			Size: int64(len(a.Content)), SHA256: a.SHA256})
	}
	h.mu.Unlock()
	out, err := json.Marshal(m)
	if err != nil {
		h.t.Fatalf("sdktest: %v", err)
	}
	return out, files
}

// sniff is the content type as the host finds it, from the content only.
func sniff(b []byte) string {
	t := http.DetectContentType(b)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	return t
}

// pending is the uploads of this actor not yet on a dossier, by id; any
// other id is refused, as the host refuses it.
func (b *bound) pending(st *tenant, ids []int64) ([]*attachment, error) {
	var out []*attachment
	for _, id := range ids {
		var found *attachment
		for _, a := range st.attachments {
			if a.ID == id && a.DossierID == 0 && !a.Issued && a.uploader.Kind == b.actor.Kind && a.uploader.ID == b.actor.ID {
				found = a
			}
		}
		if found == nil {
			return nil, hostErr(codes.InvalidArgument, "attachment %d is no upload of this request", id)
		}
		out = append(out, found)
	}
	return out, nil
}

func (b *bound) AddDossierMessage(ctx context.Context, dossierID int64, body string, internal bool) (*pb.DossierMessage, error) {
	st, err := b.begin(ctx, "AddDossierMessage")
	if err != nil {
		return nil, err
	}
	defer b.end()
	if internal && !b.privileged() {
		return nil, hostErr(codes.PermissionDenied, "only staff write internal notes")
	}
	if err := text("body", body, true, maxMessage); err != nil {
		return nil, err
	}
	d, err := b.dossier(st, dossierID)
	if err != nil {
		return nil, err
	}
	m := Message{ID: b.nextID(), DossierID: d.GetId(), Body: body, Internal: internal, Actor: b.actorRef()}
	st.messages = append(st.messages, m)
	d.Version++
	return &pb.DossierMessage{Id: m.ID, DossierId: m.DossierID, Body: body, Internal: internal,
		CreatedUnix: b.h.Now().Unix()}, nil
}

func (b *bound) IssueDocument(ctx context.Context, doc sdk.NewDocument) (*pb.Attachment, error) {
	st, err := b.begin(ctx, "IssueDocument")
	if err != nil {
		return nil, err
	}
	defer b.end()
	switch {
	case !strings.HasSuffix(strings.ToLower(doc.Name), ".pdf") || strings.ContainsAny(doc.Name, "/\\\x00"):
		return nil, hostErr(codes.InvalidArgument, "name %q: a file name ending in .pdf", doc.Name)
	case len(doc.PDF) > maxDocument:
		return nil, hostErr(codes.InvalidArgument, "pdf: %d bytes, at most %d", len(doc.PDF), maxDocument)
	case !strings.HasPrefix(string(doc.PDF), "%PDF-"):
		return nil, hostErr(codes.InvalidArgument, "pdf: not a PDF document")
	}
	if err := text("name", doc.Name, true, 200); err != nil {
		return nil, err
	}
	d, err := b.dossier(st, doc.DossierID)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(doc.PDF)
	a := &attachment{Attachment{ID: b.nextID(), DossierID: d.GetId(), Name: doc.Name, ContentType: "application/pdf",
		SHA256: hex.EncodeToString(sum[:]), Content: append([]byte(nil), doc.PDF...), Issued: true, Signed: doc.Sign,
		uploader: b.actor}}
	st.attachments = append(st.attachments, a)
	return &pb.Attachment{Id: a.ID, Name: a.Name, ContentType: a.ContentType, Size: int64(len(a.Content)),
		Sha256: a.SHA256}, nil
}

// reservation finds id (or, with id 0, code) as the actor may see it.
func (b *bound) reservation(st *tenant, id int64, code string) (*reservation, error) {
	switch {
	case b.actor.Kind == "anonymous":
		return nil, hostErr(codes.PermissionDenied, "an anonymous visitor has no reservations")
	case id < 0 || (id == 0 && code == ""):
		return nil, hostErr(codes.InvalidArgument, "an id or a code is required")
	}
	for _, r := range st.reservations {
		if (id != 0 && r.GetId() == id || id == 0 && r.GetCode() == code) &&
			(b.privileged() || r.citizenID == b.actor.ID) {
			return r, nil
		}
	}
	return nil, hostErr(codes.NotFound, "reservation not found")
}

func (b *bound) GetReservation(ctx context.Context, id int64, code string) (*pb.Reservation, error) {
	st, err := b.begin(ctx, "GetReservation")
	if err != nil {
		return nil, err
	}
	defer b.end()
	r, err := b.reservation(st, id, code)
	if err != nil {
		return nil, err
	}
	return proto.Clone(r.Reservation).(*pb.Reservation), nil
}

func (b *bound) ConfirmReservation(ctx context.Context, id int64) (*pb.Reservation, error) {
	st, err := b.begin(ctx, "ConfirmReservation")
	if err != nil {
		return nil, err
	}
	defer b.end()
	r, err := b.reservation(st, id, "")
	if err != nil {
		return nil, err
	}
	switch {
	case r.GetStatus() == "confirmed":
	case r.GetStatus() == "held" && live(r, b.h.Now()):
		r.Status, r.ExpiresUnix = "confirmed", 0
	default:
		return nil, hostErr(codes.FailedPrecondition, "reservation %d is %s or its hold has expired", id, r.GetStatus())
	}
	return proto.Clone(r.Reservation).(*pb.Reservation), nil
}

func (b *bound) GetPayment(ctx context.Context, id int64) (*pb.Payment, error) {
	st, err := b.begin(ctx, "GetPayment")
	if err != nil {
		return nil, err
	}
	defer b.end()
	if b.actor.Kind == "anonymous" {
		return nil, hostErr(codes.PermissionDenied, "an anonymous visitor has no payments")
	}
	for _, p := range st.payments {
		if p.GetId() == id && (b.privileged() || st.payers[id] == b.actor.ID) {
			return proto.Clone(p).(*pb.Payment), nil
		}
	}
	return nil, hostErr(codes.NotFound, "payment %d not found", id)
}

// SetPaymentStatus moves payment id of tenant on, as the payment provider
// would ("payment_pending", "complete", "expired", ...). A booking the
// payment is for follows, as with the host: confirmed when it completes,
// freed when it is canceled or expires.
func (h *Host) SetPaymentStatus(tenantID, id int64, status string) {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.tenants[tenantID]; st != nil {
		for _, p := range st.payments {
			if p.GetId() == id {
				p.Status = status
				st.settleBooking(id, status, h.Now())
				return
			}
		}
	}
	h.t.Fatalf("sdktest: SetPaymentStatus: tenant %d has no payment %d", tenantID, id)
}
