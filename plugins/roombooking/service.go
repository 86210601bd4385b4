package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
)

// The dossier's statuses, as the manifest lists them. The booking engine
// keeps the booking's own state; the dossier follows it, so that the back
// office sees where each request is.
const (
	statusAwaitingPayment = "awaiting_payment"
	statusPendingApproval = "pending_approval"
	statusConfirmed       = "confirmed"
	statusDeclined        = "declined"
	statusCancelled       = "cancelled"
)

// The booking engine's states (pb.Booking.Status).
const (
	bookingHeld      = "held"
	bookingPending   = "pending"
	bookingConfirmed = "confirmed"
	bookingCancelled = "cancelled"
	bookingExpired   = "expired"
)

type service struct {
	// now is the clock of the service's own rules; nil is time.Now. The
	// booking engine keeps its own (the host's).
	now func() time.Time
}

var _ sdk.Service = (*service)(nil)

func (s *service) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

func (s *service) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	switch req.Action {
	case "rooms":
		return s.rooms(ctx, req)
	case "book":
		return s.book(ctx, req)
	case "wedding":
		return s.wedding(ctx, req)
	case "cancel":
		return s.cancel(ctx, req)
	case "approve":
		return s.approve(ctx, req)
	case "decline":
		return s.decide(ctx, req, false)
	case "revoke":
		return s.decide(ctx, req, true)
	case sdk.ActionPayment:
		return s.payment(ctx, req)
	}
	return nil, fmt.Errorf("unknown action %q", req.Action)
}

// record is what the dossier keeps of a booking: what the office decides
// on and what the person was told.
type record struct {
	Kind         string   `json:"kind"` // "room" or "wedding"
	Room         string   `json:"room"`
	RoomName     string   `json:"room_name"`
	Date         string   `json:"date"`
	From         string   `json:"from"`
	To           string   `json:"to"`
	Slots        int      `json:"slots"`
	People       int      `json:"people"`
	Purpose      string   `json:"purpose,omitempty"`
	Organisation string   `json:"organisation,omitempty"`
	Ceremony     string   `json:"ceremony,omitempty"`
	Partners     []string `json:"partners,omitempty"`
	Celebrant    string   `json:"celebrant,omitempty"`
	Notes        string   `json:"notes,omitempty"`
	ContactName  string   `json:"contact_name,omitempty"`
	ContactPhone string   `json:"contact_phone,omitempty"`
	ContactEmail string   `json:"contact_email,omitempty"`
	Code         string   `json:"booking_code"`
	BookingID    int64    `json:"booking_id"`
	PriceCents   int64    `json:"price_cents"`
	Currency     string   `json:"currency"`
	// PayAt is when the price is paid: payAtBooking (the booking is held
	// until paid) or payAfterApproval; "" for a free room.
	PayAt string `json:"pay_at,omitempty"`
	Lang  string `json:"lang"` // the booker's: replies are written in it
}

// contact is the person on the spot, which staff booking for somebody
// must give (the engine needs a name and a way to reach them).
type contact struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Email string `json:"email"`
}

// fields name a form's date, time and length fields, for the engine's
// refusals to be shown beside the right one.
type fields struct{ date, start, slots string }

// attempt is one booking to make, from either form.
type attempt struct {
	room    *room
	start   time.Time
	slots   int
	fields  fields
	rec     record
	title   string
	contact contact
}

// settingsOf loads the town's configuration, or the response to give when
// the town has not set the service up properly.
func settingsOf(req *sdk.Request) (*settings, *sdk.Response) {
	s, err := loadSettings(req.Config)
	switch {
	case errors.Is(err, errNoRooms):
		return nil, sdk.Refused(msg.Get(req.Lang, "not_configured"))
	case err != nil:
		// The town's admin saved something the schema could not rule
		// out (a date that does not exist): theirs to fix, not the
		// person's.
		slog.Error("roombooking configuration", "tenant", req.TenantSlug, "request_id", req.RequestID, "err", err)
		return nil, sdk.Refused(msg.Get(req.Lang, "misconfigured"))
	}
	return s, nil
}

// ensureDeclared declares the rooms to the engine when needed; a
// configuration the engine refuses is the town's to fix.
func ensureDeclared(ctx context.Context, req *sdk.Request, s *settings, force bool) (*sdk.Response, error) {
	err := declare(ctx, req.Host, s, force)
	if errors.Is(err, sdk.ErrInvalid) {
		slog.Error("roombooking rooms refused by the booking engine", "tenant", req.TenantSlug, "request_id", req.RequestID, "err", err)
		return sdk.Refused(msg.Get(req.Lang, "misconfigured")), nil
	}
	return nil, err
}

type bookingForm struct {
	Room         string  `json:"room"`
	Date         string  `json:"date"`
	Start        string  `json:"start"`
	Slots        int     `json:"slots"`
	Attendees    int     `json:"attendees"`
	Purpose      string  `json:"purpose"`
	Organisation string  `json:"organisation"`
	Contact      contact `json:"contact"`
}

// book takes one or several consecutive slots of a room for a meeting,
// a course, an event.
func (s *service) book(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	lang := req.Lang
	if req.Actor.Kind == "anonymous" {
		return sdk.Refused(msg.Get(lang, "login")), nil
	}
	var v bookingForm
	if err := req.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	set, refused := settingsOf(req)
	if refused != nil {
		return refused, nil
	}
	r := set.find(v.Room)
	switch {
	case r == nil:
		return sdk.Invalid("/room", msg.Get(lang, "which_room", set.roomNames(lang, false))), nil
	case r.Wedding:
		return sdk.Invalid("/room", msg.Get(lang, "use_wedding_form", r.name(lang))), nil
	case v.Attendees > r.Capacity:
		return sdk.Invalid("/attendees", msg.Get(lang, "capacity", r.name(lang), r.Capacity)), nil
	}
	if res := needContact(req, v.Contact); res != nil {
		return res, nil
	}
	start, err := wallClock(v.Date, v.Start)
	if err != nil {
		return nil, err
	}
	slots := max(v.Slots, 1)
	end := start.Add(time.Duration(slots*r.SlotMinutes) * time.Minute)
	a := attempt{room: r, start: start, slots: slots, fields: fields{date: "/date", start: "/start", slots: "/slots"},
		contact: v.Contact,
		rec: record{Kind: "room", Slots: slots, People: v.Attendees, Purpose: strings.TrimSpace(v.Purpose),
			Organisation: strings.TrimSpace(v.Organisation)},
		title: msg.Get(lang, "title_room", r.name(lang), sdk.Date(lang, start), start.Format("15:04"), end.In(sdk.Zone).Format("15:04"))}
	return s.reserve(ctx, req, set, a)
}

type weddingForm struct {
	Room      string `json:"room"`
	Date      string `json:"date"`
	Time      string `json:"time"`
	Ceremony  string `json:"ceremony"`
	Partner1  string `json:"partner_1"`
	Partner2  string `json:"partner_2"`
	Celebrant string `json:"celebrant"`
	Guests    int    `json:"guests"`
	Phone     string `json:"phone"`
	Email     string `json:"email"`
	Notes     string `json:"notes"`
}

// wedding books a wedding room for a ceremony: one slot, the room's
// length of a ceremony, at the time the couple asks.
func (s *service) wedding(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	lang := req.Lang
	if req.Actor.Kind == "anonymous" {
		return sdk.Refused(msg.Get(lang, "login")), nil
	}
	var v weddingForm
	if err := req.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	set, refused := settingsOf(req)
	if refused != nil {
		return refused, nil
	}
	weddingRooms := set.roomNames(lang, true)
	if weddingRooms == "" {
		return sdk.Refused(msg.Get(lang, "no_wedding_rooms")), nil
	}
	var errs []sdk.FieldError
	r := set.find(v.Room)
	switch {
	case r == nil:
		errs = append(errs, sdk.FieldError{Field: "/room", Message: msg.Get(lang, "which_room", weddingRooms)})
	case !r.Wedding:
		errs = append(errs, sdk.FieldError{Field: "/room", Message: msg.Get(lang, "not_wedding_room", r.name(lang), weddingRooms)})
	case v.Guests > r.Capacity:
		errs = append(errs, sdk.FieldError{Field: "/guests", Message: msg.Get(lang, "capacity", r.name(lang), r.Capacity)})
	}
	if !contains(set.ceremonies, v.Ceremony) {
		errs = append(errs, sdk.FieldError{Field: "/ceremony", Message: msg.Get(lang, "ceremony_not_offered", offered(lang, set.ceremonies))})
	}
	if len(errs) > 0 {
		return &sdk.Response{Outcome: sdk.OutcomeInvalid, Errors: errs}, nil
	}
	start, err := wallClock(v.Date, v.Time)
	if err != nil {
		return nil, err
	}
	end := start.Add(time.Duration(r.SlotMinutes) * time.Minute)
	ceremony := msg.Get(lang, "ceremony."+v.Ceremony)
	a := attempt{room: r, start: start, slots: 1, fields: fields{date: "/date", start: "/time", slots: "/time"},
		// The couple are who the office calls: when staff book for them
		// on the phone, they are the booking's contact.
		contact: contact{Name: strings.TrimSpace(v.Partner1), Phone: v.Phone, Email: v.Email},
		rec: record{Kind: "wedding", Slots: 1, People: v.Guests, Ceremony: v.Ceremony,
			Partners:  []string{strings.TrimSpace(v.Partner1), strings.TrimSpace(v.Partner2)},
			Celebrant: strings.TrimSpace(v.Celebrant), Notes: strings.TrimSpace(v.Notes)},
		title: msg.Get(lang, "title_wedding", ceremony, r.name(lang), sdk.Date(lang, start), start.Format("15:04"))}
	a.rec.To = end.In(sdk.Zone).Format("15:04")
	return s.reserve(ctx, req, set, a)
}

// needContact asks staff booking for somebody for the person to call; a
// citizen books in their own name.
func needContact(req *sdk.Request, c contact) *sdk.Response {
	if req.Actor.Kind != "staff" || strings.TrimSpace(c.Name) != "" && (c.Phone != "" || c.Email != "") {
		return nil
	}
	return sdk.Invalid("/contact/name", msg.Get(req.Lang, "contact_needed"))
}

// reserve books the attempt and files it: the slot first (a slot taken
// leaves nothing behind), then the dossier, then the payment. What fails
// after the slot is taken gives the slot back.
func (s *service) reserve(ctx context.Context, req *sdk.Request, set *settings, a attempt) (*sdk.Response, error) {
	lang := req.Lang
	if res, err := ensureDeclared(ctx, req, set, false); res != nil || err != nil {
		return res, err
	}
	r := a.room
	payAt, hold := "", 0
	if r.PriceCents > 0 {
		payAt = payAtBooking
		if r.Approval && set.payment == payAfterApproval {
			payAt = payAfterApproval
		} else {
			hold = set.holdMinutes
		}
	}
	nb := sdk.NewBooking{Resource: r.Slug, Start: a.start, Slots: a.slots, HoldMinutes: hold}
	if req.Actor.Kind == "staff" {
		nb.ContactName, nb.ContactPhone, nb.ContactEmail = strings.TrimSpace(a.contact.Name), a.contact.Phone, a.contact.Email
	}
	b, err := req.Host.Book(ctx, nb)
	if errors.Is(err, sdk.ErrNotFound) && sdk.BookingRefusalOf(err) == nil {
		// The digest says the rooms were declared, the engine knows
		// none of this one: declare them again, once.
		if res, err := ensureDeclared(ctx, req, set, true); res != nil || err != nil {
			return res, err
		}
		b, err = req.Host.Book(ctx, nb)
	}
	if res := refusal(lang, err, r, a); res != nil {
		return res, nil
	}
	if err != nil {
		return nil, fmt.Errorf("book %s: %w", r.Slug, err)
	}

	start, end := time.Unix(b.GetStartUnix(), 0).In(sdk.Zone), time.Unix(b.GetEndUnix(), 0).In(sdk.Zone)
	rec := a.rec
	rec.Room, rec.RoomName = r.Slug, r.name(lang)
	rec.Date, rec.From, rec.To = start.Format(time.DateOnly), start.Format("15:04"), end.Format("15:04")
	rec.Code, rec.BookingID = b.GetCode(), b.GetId()
	rec.PriceCents, rec.Currency, rec.PayAt, rec.Lang = b.GetPriceCents(), b.GetCurrency(), payAt, lang
	rec.ContactName, rec.ContactPhone, rec.ContactEmail = strings.TrimSpace(a.contact.Name), a.contact.Phone, a.contact.Email
	if rec.PriceCents == 0 {
		rec.PayAt = ""
	}
	status := statusConfirmed
	switch b.GetStatus() {
	case bookingHeld:
		status = statusAwaitingPayment
	case bookingPending:
		status = statusPendingApproval
	}
	d, err := req.Host.CreateDossier(ctx, sdk.NewDossier{Title: a.title, Status: status, Data: rec})
	if err != nil {
		s.release(ctx, req, b.GetCode())
		return nil, fmt.Errorf("create dossier: %w", err)
	}
	if err := req.Host.PutSetting(ctx, bookingKey(b.GetCode()), d.GetId()); err != nil {
		// Only a cancellation by code misses it: it then leaves no note
		// on the dossier.
		slog.Warn("booking not linked to its dossier", "request_id", req.RequestID, "booking", b.GetCode(), "err", err)
	}

	var text string
	if rec.Kind == "wedding" {
		text = msg.Get(lang, "wedding_booked", msg.Get(lang, "ceremony."+rec.Ceremony), r.name(lang), sdk.Date(lang, start),
			rec.From, b.GetCode(), d.GetNumber())
	} else {
		text = msg.Get(lang, "booked", r.name(lang), sdk.Date(lang, start), rec.From, rec.To, b.GetCode(), d.GetNumber())
	}
	data := map[string]any{"booking_code": b.GetCode(), "status": b.GetStatus(), "price_cents": rec.PriceCents,
		"currency": rec.Currency}
	amount := sdk.Money(lang, rec.PriceCents, rec.Currency)
	switch {
	case b.GetStatus() == bookingHeld:
		p, err := req.Host.CreatePayment(ctx, sdk.NewPayment{AmountCents: rec.PriceCents, Currency: rec.Currency,
			Reason: reason(lang, r.name(lang), start, b.GetCode()), DossierID: d.GetId(), BookingID: b.GetId()})
		if err != nil {
			s.release(ctx, req, b.GetCode())
			return nil, fmt.Errorf("create payment for %s: %w", d.GetNumber(), err)
		}
		if err := req.Host.PutSetting(ctx, paymentKey(d.GetId()), p.GetId()); err != nil {
			slog.Warn("payment not linked to its dossier", "request_id", req.RequestID, "dossier", d.GetNumber(), "err", err)
		}
		text += " " + msg.Get(lang, "pay_now", amount, sdk.DateTime(lang, time.Unix(b.GetExpiresUnix(), 0)), p.GetNoticeCode())
		if r.Approval {
			text += " " + msg.Get(lang, "approval_after_payment")
		}
		data["payment_id"], data["notice_code"] = p.GetId(), p.GetNoticeCode()
	case b.GetStatus() == bookingPending:
		text += " " + msg.Get(lang, "pending")
		if rec.PriceCents > 0 {
			text += " " + msg.Get(lang, "pay_after", amount)
		}
	case rec.PriceCents == 0:
		text += " " + msg.Get(lang, "free")
	}
	text += " " + msg.Get(lang, "cancel_until", sdk.DateTime(lang, time.Unix(b.GetCancelDeadlineUnix(), 0)))

	// The page shows the confirmation: from here on, a failure is
	// logged, not returned, or the person would book twice.
	if err := req.Host.Audit(ctx, "roombooking."+req.Action, "dossier:"+d.GetNumber(),
		map[string]any{"room": r.Slug, "booking": b.GetCode(), "status": b.GetStatus(), "price_cents": rec.PriceCents}); err != nil {
		slog.Error("audit not written", "request_id", req.RequestID, "dossier", d.GetNumber(), "err", err)
	}
	s.notify(ctx, req, rec, msg.Get(lang, "mail_subject", d.GetNumber()), text)
	if b.GetStatus() != bookingConfirmed && r.Approval && r.Manager != "" {
		body := msg.Get("it", "manager_body", r.name("it"), sdk.Date("it", start), rec.From, rec.To, b.GetCode(), d.GetNumber())
		if _, err := req.Host.Notify(ctx, sdk.Notification{Channel: "email", To: r.Manager,
			Subject: msg.Get("it", "manager_subject", r.name("it"), d.GetNumber()), Body: body}); err != nil {
			slog.Warn("room manager not notified", "request_id", req.RequestID, "dossier", d.GetNumber(), "err", err)
		}
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: text, DossierID: d.GetId(), DossierNumber: d.GetNumber(), Data: data}, nil
}

// notify e-mails the booker: a citizen at the address on file, somebody
// staff booked for at the address they gave, if any.
func (s *service) notify(ctx context.Context, req *sdk.Request, rec record, subject, body string) {
	n := sdk.Notification{Channel: "email", Subject: subject, Body: body}
	switch {
	case req.Actor.Kind == "citizen":
	case rec.ContactEmail != "":
		n.To = rec.ContactEmail
	default:
		return
	}
	if _, err := req.Host.Notify(ctx, n); err != nil {
		slog.Warn("notification not queued", "request_id", req.RequestID, "err", err)
	}
}

// refusal words the booking engine's refusal of a, beside the field the
// person must change; nil when err is no refusal.
func refusal(lang string, err error, r *room, a attempt) *sdk.Response {
	ref := sdk.BookingRefusalOf(err)
	if ref == nil {
		return nil
	}
	text, _ := sdk.BookingRefusalText(lang, err)
	at := time.Unix(ref.GetStartUnix(), 0).In(sdk.Zone)
	first := ref.GetStartUnix() == 0 || ref.GetStartUnix() == a.start.Unix()
	sameDay := ref.GetStartUnix() == 0 || sameDate(at, a.start)
	switch ref.GetRule() {
	case sdk.RefusalTaken:
		return sdk.Refused(msg.Get(lang, "taken", r.name(lang)))
	case sdk.RefusalPast, sdk.RefusalNotice:
		if limit := time.Unix(ref.GetLimitUnix(), 0); !sameDate(limit, a.start) && limit.After(a.start) {
			return sdk.Invalid(a.fields.date, text)
		}
		return sdk.Invalid(a.fields.start, text)
	case sdk.RefusalHorizon, sdk.RefusalClosed:
		if !sameDay {
			return sdk.Invalid(a.fields.slots, text)
		}
		return sdk.Invalid(a.fields.date, text)
	case sdk.RefusalHours, sdk.RefusalGrid:
		hours := strings.Join(r.HoursText, ", ")
		switch {
		case !first:
			return sdk.Invalid(a.fields.slots, msg.Get(lang, "run_too_long", a.slots, at.Format("15:04")))
		case ref.GetRule() == sdk.RefusalGrid:
			return sdk.Invalid(a.fields.start, msg.Get(lang, "off_grid", r.name(lang), r.SlotMinutes, hours))
		}
		return sdk.Invalid(a.fields.start, msg.Get(lang, "outside_hours", r.name(lang), hours))
	}
	return sdk.Refused(text)
}

func sameDate(a, b time.Time) bool {
	return a.In(sdk.Zone).Format(time.DateOnly) == b.In(sdk.Zone).Format(time.DateOnly)
}

// release gives a booking back when it could not be completed, so that a
// failure does not block the room until someone notices.
func (s *service) release(ctx context.Context, req *sdk.Request, code string) {
	if _, err := req.Host.CancelBooking(ctx, code, ""); err != nil {
		slog.Error("booking not released", "request_id", req.RequestID, "booking", code, "err", err)
	}
}

// bookingKey is the setting linking a booking code to its dossier.
func bookingKey(code string) string { return "booking." + strings.ToLower(code) }

// paymentKey is the setting holding the payment asked for a dossier.
func paymentKey(dossierID int64) string { return fmt.Sprintf("payment.%d", dossierID) }

// reason is pagoPA's causale: at most 140 characters.
func reason(lang, room string, start time.Time, code string) string {
	s := msg.Get(lang, "reason", room, start.In(sdk.Zone).Format("02/01/2006 15:04"), code)
	if rs := []rune(s); len(rs) > 140 {
		s = string(rs[:140])
	}
	return s
}

// wallClock is the moment date at hh:mm in the towns' zone. A time with
// an offset (the form's format allows one) counts by its wall clock too.
func wallClock(date, hhmm string) (time.Time, error) {
	day, err := time.ParseInLocation(time.DateOnly, date, sdk.Zone)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: %w", date, err)
	}
	for _, layout := range []string{"15:04", "15:04:05", "15:04:05Z07:00", "15:04Z07:00"} {
		if t, err := time.Parse(layout, hhmm); err == nil {
			return time.Date(day.Year(), day.Month(), day.Day(), t.Hour(), t.Minute(), 0, 0, sdk.Zone), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want hh:mm", hhmm)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// offered lists the ceremonies on offer: "Matrimonio civile o Unione civile".
func offered(lang string, list []string) string {
	var names []string
	for _, c := range ceremonies {
		if contains(list, c) {
			names = append(names, msg.Get(lang, "ceremony."+c))
		}
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + msg.Get(lang, "or") + " " + names[len(names)-1]
}
