package sdk

import (
	"context"
	"encoding/json"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Host is the Host API as a plugin sees it during one request. Every call
// acts in that request's tenant, on behalf of its actor; there is no way to
// name another tenant.
type Host interface {
	// CreateDossier opens a dossier of this service, numbered per tenant
	// and year ("2026-000042"); it belongs to the actor if a citizen.
	CreateDossier(ctx context.Context, d NewDossier) (*pb.Dossier, error)
	// GetDossier reads one of this service's dossiers: staff any, a
	// citizen their own (ErrNotFound otherwise), a visitor none.
	GetDossier(ctx context.Context, id int64) (*pb.Dossier, error)
	// ListDossiers lists what GetDossier could read, newest first.
	ListDossiers(ctx context.Context, q DossierQuery) ([]*pb.Dossier, error)
	// SetDossierStatus moves a dossier on, recording the note in its
	// history; staff only.
	SetDossierStatus(ctx context.Context, id int64, status, note string) (*pb.Dossier, error)
	// SetDossierDue moves a dossier's deadline (a term the law suspends);
	// the zero time removes it. Staff only.
	SetDossierDue(ctx context.Context, id int64, due time.Time) (*pb.Dossier, error)
	// AssignDossier gives one of this service's dossiers to an operator
	// (the acting one, or the one with a's e-mail address) and/or moves it
	// to an office, recorded in its history; what a leaves out stays as it
	// is. Staff only.
	AssignDossier(ctx context.Context, id int64, a Assignment) (*pb.Dossier, error)
	// AddDossierMessage adds to one of this service's dossiers a public
	// reply, which the citizen sees and is notified of, or (internal) a
	// note for staff only.
	AddDossierMessage(ctx context.Context, dossierID int64, body string, internal bool) (*pb.DossierMessage, error)
	// IssueDocument attaches a PDF to one of this service's dossiers for
	// the citizen to download; with sign, the host first signs it (PAdES)
	// with the tenant's certificate.
	IssueDocument(ctx context.Context, d NewDocument) (*pb.Attachment, error)

	// Reserve takes a resource (named by the plugin, scoped to its
	// service) for [Start, End): ErrConflict if a live reservation
	// overlaps. Not for visitors who have not logged in.
	Reserve(ctx context.Context, r NewReservation) (*pb.Reservation, error)
	// CancelReservation frees a reservation; cancelling twice is no error.
	CancelReservation(ctx context.Context, id int64) (*pb.Reservation, error)
	// GetReservation reads one of this service's reservations by id or,
	// with id 0, by its booking code.
	GetReservation(ctx context.Context, id int64, code string) (*pb.Reservation, error)
	// ConfirmReservation turns a hold into a booking: ErrConflict if the
	// hold has expired or was cancelled.
	ConfirmReservation(ctx context.Context, id int64) (*pb.Reservation, error)

	// GetSetting decodes the tenant's value of key into v and reports
	// whether there was one. Settings are this plugin's own, per tenant,
	// shared by all actors; keys are 1-64 of a-z 0-9 _ . -.
	GetSetting(ctx context.Context, key string, v any) (bool, error)
	PutSetting(ctx context.Context, key string, v any) error

	// Notify queues a message; the host delivers it later.
	Notify(ctx context.Context, n Notification) (int64, error)
	// CreatePayment opens a pagoPA position for the citizen to pay.
	CreatePayment(ctx context.Context, p NewPayment) (*pb.Payment, error)
	// GetPayment reads one of this service's payments, to learn its status.
	GetPayment(ctx context.Context, id int64) (*pb.Payment, error)
	// Audit writes to the tenant's audit log; the host records who (this
	// plugin, on behalf of the actor). action is like "example.submit",
	// details a JSON object.
	Audit(ctx context.Context, action, object string, details any) error

	// The core's booking engine, scoped to this service (see booking.go).

	// DefineResources declares this service's bookable resources in the
	// tenant, as its configuration says; idempotent by slug. The
	// service's resources not listed take no new bookings.
	DefineResources(ctx context.Context, resources []*pb.BookingResource) ([]*pb.BookingResource, error)
	// BookingDays lists the days from..to (in Zone) with a free slot one
	// may book now, as midnights in Zone.
	BookingDays(ctx context.Context, resource string, from, to time.Time) ([]time.Time, error)
	// BookingSlots lists the free slots of day (in Zone).
	BookingSlots(ctx context.Context, resource string, day time.Time) ([]*pb.BookingSlot, error)
	// Book takes one or several consecutive slots as one booking:
	// ErrConflict when they are taken, ErrInvalid (with a Refusal) when the
	// calendar does not offer them.
	Book(ctx context.Context, b NewBooking) (*pb.Booking, error)
	// GetBooking reads one of this service's bookings by code: staff any,
	// a citizen their own.
	GetBooking(ctx context.Context, code string) (*pb.Booking, error)
	// ApproveBooking and DeclineBooking decide on a pending booking
	// (staff only); reason is shown to the booker.
	ApproveBooking(ctx context.Context, code string) (*pb.Booking, error)
	DeclineBooking(ctx context.Context, code, reason string) (*pb.Booking, error)
	// CancelBooking frees a booking: a citizen their own until its
	// cancellation deadline (a Refusal naming it after), staff any.
	CancelBooking(ctx context.Context, code, reason string) (*pb.Booking, error)

	// Enqueue puts the request's citizen in a live desk's waiting queue
	// (ErrConflict when they already wait somewhere in the town); the
	// entry's URL is the page where they wait and then talk.
	Enqueue(ctx context.Context, e Enqueue) (*pb.QueueEntry, error)
}

// NewDossier opens a dossier for the request's citizen.
type NewDossier struct {
	Title   string // up to 300 characters
	Data    any    // a JSON object (a struct or map), or nil
	Status  string // default "submitted"
	Channel string // default "web"
	// Office is the slug of the office to assign it to; "" lets the host
	// choose (the office the tenant configured for the service, if any).
	Office string
	// Due is the legal or promised deadline; zero: none.
	Due time.Time
	// Priority is "low", "normal" (the default), "high" or "urgent".
	Priority string
	// AttachmentIDs are files of this request (Request.Files) to keep on
	// the dossier.
	AttachmentIDs []int64
	// Assignee is the e-mail address of the member of the town's staff
	// to assign it to (as well as to the office); "" for nobody. An
	// address none of them has is ErrInvalid, its message starting
	// "assignee_email".
	Assignee string
}

// Assignment is where AssignDossier sends a dossier: to the acting
// operator (ToActor) or to the one with address Email, and/or to Office.
type Assignment struct {
	// ToActor gives it to the member of staff the request acts for: the
	// operator who pressed the button. Not with Email, and not on an
	// event, where the host acts and is nobody to give it to.
	ToActor bool
	// Email is the address of the member of the town's staff to give it
	// to, matched without regard to case; one none of them has is
	// ErrInvalid, its message starting "assignee_email".
	Email string
	// Office is the slug of the office to move it to; "" keeps its own.
	// One the town does not have is ErrInvalid, its message starting
	// "office".
	Office string
}

// NewDocument is a PDF to issue on a dossier.
type NewDocument struct {
	DossierID int64
	Name      string // shown to the citizen; ends in .pdf
	PDF       []byte
	Sign      bool
}

// DossierQuery selects dossiers of the service, newest first.
type DossierQuery struct {
	Status string // "" for all
	Limit  int    // 0 means 50; at most 200 come back
	// BeforeID pages: only dossiers with a smaller id (the last id of the
	// previous page).
	BeforeID int64
}

// NewReservation holds or books a resource for a time range.
type NewReservation struct {
	Resource    string
	Start, End  time.Time
	HoldMinutes int // 0 confirms at once; a hold lasts at most 60 minutes
	DossierID   int64
}

// Notification is a message to a person. To "" means the request's
// actor, at the e-mail address the host has on file; an SMS needs To, in
// international form ("+39…").
type Notification struct {
	Channel string // "email" or "sms"
	To      string
	Subject string // one line, up to 200 characters
	Body    string
}

// NewPayment asks the citizen to pay.
type NewPayment struct {
	AmountCents int64
	Currency    string // default "EUR"
	Reason      string // pagoPA's causale: up to 140 characters
	DossierID   int64
	// ReservationID is a held reservation the payment is for: the host
	// confirms it when the payment completes and releases it when the
	// payment fails for good or is not made before the hold expires.
	ReservationID int64
	// BookingID is a booking of this service the payment is for: a hold
	// is confirmed when the payment completes and freed if it is not paid
	// by the hold's expiry; an approved booking is cancelled if it is not
	// paid by its cancellation deadline.
	BookingID int64
}

// hostClient is Host over gRPC, stamping every call with the request's
// call token.
type hostClient struct {
	api   pb.HostAPIClient
	token string
}

var _ Host = (*hostClient)(nil)

func (h *hostClient) ctx(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, CallTokenKey, h.token)
}

// hostErr turns a gRPC status into a *HostError the plugin can test.
func hostErr(err error) error {
	if err == nil {
		return nil
	}
	if s, ok := status.FromError(err); ok {
		he := &HostError{Code: s.Code(), Msg: s.Message()}
		for _, d := range s.Details() {
			if r, ok := d.(*pb.BookingRefusal); ok {
				he.Refusal = r
			}
		}
		return he
	}
	return err
}

func marshal(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	return json.Marshal(v)
}

func (h *hostClient) CreateDossier(ctx context.Context, d NewDossier) (*pb.Dossier, error) {
	data, err := marshal(d.Data)
	if err != nil {
		return nil, err
	}
	req := &pb.CreateDossierRequest{Title: d.Title, DataJson: data, Status: d.Status, Channel: d.Channel,
		Office: d.Office, Priority: d.Priority, AttachmentIds: d.AttachmentIDs, AssigneeEmail: d.Assignee}
	if !d.Due.IsZero() {
		req.DueUnix = d.Due.Unix()
	}
	out, err := h.api.CreateDossier(h.ctx(ctx), req)
	return out, hostErr(err)
}

func (h *hostClient) AddDossierMessage(ctx context.Context, dossierID int64, body string, internal bool) (*pb.DossierMessage, error) {
	out, err := h.api.AddDossierMessage(h.ctx(ctx), &pb.AddDossierMessageRequest{DossierId: dossierID, Body: body, Internal: internal})
	return out, hostErr(err)
}

func (h *hostClient) IssueDocument(ctx context.Context, d NewDocument) (*pb.Attachment, error) {
	out, err := h.api.IssueDocument(h.ctx(ctx), &pb.IssueDocumentRequest{DossierId: d.DossierID, Name: d.Name, Pdf: d.PDF, Sign: d.Sign})
	return out, hostErr(err)
}

func (h *hostClient) GetReservation(ctx context.Context, id int64, code string) (*pb.Reservation, error) {
	out, err := h.api.GetReservation(h.ctx(ctx), &pb.GetReservationRequest{Id: id, Code: code})
	return out, hostErr(err)
}

func (h *hostClient) ConfirmReservation(ctx context.Context, id int64) (*pb.Reservation, error) {
	out, err := h.api.ConfirmReservation(h.ctx(ctx), &pb.ConfirmReservationRequest{Id: id})
	return out, hostErr(err)
}

func (h *hostClient) GetPayment(ctx context.Context, id int64) (*pb.Payment, error) {
	out, err := h.api.GetPayment(h.ctx(ctx), &pb.GetPaymentRequest{Id: id})
	return out, hostErr(err)
}

func (h *hostClient) GetDossier(ctx context.Context, id int64) (*pb.Dossier, error) {
	out, err := h.api.GetDossier(h.ctx(ctx), &pb.GetDossierRequest{Id: id})
	return out, hostErr(err)
}

func (h *hostClient) ListDossiers(ctx context.Context, q DossierQuery) ([]*pb.Dossier, error) {
	out, err := h.api.ListDossiers(h.ctx(ctx), &pb.ListDossiersRequest{Status: q.Status, Limit: int32(q.Limit),
		BeforeId: q.BeforeID})
	if err != nil {
		return nil, hostErr(err)
	}
	return out.GetDossiers(), nil
}

func (h *hostClient) SetDossierDue(ctx context.Context, id int64, due time.Time) (*pb.Dossier, error) {
	var u int64
	if !due.IsZero() {
		u = due.Unix()
	}
	out, err := h.api.SetDossierDue(h.ctx(ctx), &pb.SetDossierDueRequest{Id: id, DueUnix: u})
	return out, hostErr(err)
}

func (h *hostClient) AssignDossier(ctx context.Context, id int64, a Assignment) (*pb.Dossier, error) {
	out, err := h.api.AssignDossier(h.ctx(ctx), &pb.AssignDossierRequest{Id: id, AssigneeEmail: a.Email, ToActor: a.ToActor,
		Office: a.Office})
	return out, hostErr(err)
}

func (h *hostClient) SetDossierStatus(ctx context.Context, id int64, status, note string) (*pb.Dossier, error) {
	out, err := h.api.SetDossierStatus(h.ctx(ctx), &pb.SetDossierStatusRequest{Id: id, Status: status, Note: note})
	return out, hostErr(err)
}

func (h *hostClient) Reserve(ctx context.Context, r NewReservation) (*pb.Reservation, error) {
	out, err := h.api.Reserve(h.ctx(ctx), &pb.ReserveRequest{Resource: r.Resource, StartUnix: r.Start.Unix(),
		EndUnix: r.End.Unix(), HoldMinutes: int32(r.HoldMinutes), DossierId: r.DossierID})
	return out, hostErr(err)
}

func (h *hostClient) CancelReservation(ctx context.Context, id int64) (*pb.Reservation, error) {
	out, err := h.api.CancelReservation(h.ctx(ctx), &pb.CancelReservationRequest{Id: id})
	return out, hostErr(err)
}

func (h *hostClient) GetSetting(ctx context.Context, key string, v any) (bool, error) {
	out, err := h.api.GetSetting(h.ctx(ctx), &pb.GetSettingRequest{Key: key})
	if err != nil {
		return false, hostErr(err)
	}
	if !out.GetFound() {
		return false, nil
	}
	return true, json.Unmarshal(out.GetValueJson(), v)
}

func (h *hostClient) PutSetting(ctx context.Context, key string, v any) error {
	// The host refuses an empty value: nil is stored as JSON null, which
	// GetSetting then finds and decodes into nothing.
	data := []byte("null")
	if v != nil {
		var err error
		if data, err = marshal(v); err != nil {
			return err
		}
	}
	_, err := h.api.PutSetting(h.ctx(ctx), &pb.PutSettingRequest{Key: key, ValueJson: data})
	return hostErr(err)
}

func (h *hostClient) Notify(ctx context.Context, n Notification) (int64, error) {
	out, err := h.api.Notify(h.ctx(ctx), &pb.NotifyRequest{Channel: n.Channel, To: n.To, Subject: n.Subject, Body: n.Body})
	if err != nil {
		return 0, hostErr(err)
	}
	return out.GetId(), nil
}

func (h *hostClient) CreatePayment(ctx context.Context, p NewPayment) (*pb.Payment, error) {
	out, err := h.api.CreatePayment(h.ctx(ctx), &pb.CreatePaymentRequest{AmountCents: p.AmountCents, Currency: p.Currency,
		Reason: p.Reason, DossierId: p.DossierID, ReservationId: p.ReservationID, BookingId: p.BookingID})
	return out, hostErr(err)
}

func (h *hostClient) Audit(ctx context.Context, action, object string, details any) error {
	data, err := marshal(details)
	if err != nil {
		return err
	}
	_, err = h.api.Audit(h.ctx(ctx), &pb.AuditRequest{Action: action, Object: object, DetailsJson: data})
	return hostErr(err)
}
