// Package appointment is a town's office appointments: a citizen chooses
// what for (a topic, such as the electronic identity card), the office, a
// day with free time and a time, and gets a code, an e-mail with an .ics
// file, and links to move or cancel it. Staff book on a citizen's behalf,
// move and cancel; the queue-management system at the counter checks
// people in, calls and serves them.
//
// An office's desks are one booking resource (core/booking) whose seats
// are the desks, so that double booking stays impossible by construction
// and moving an appointment is one transaction whichever desk is free.
// This package adds what the engine does not know: the topics, which
// office takes which, the state of each appointment on the day, the
// e-mails, and the keys of the counter systems.
package appointment

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/tenancy"
)

// ServiceID is the catalogue id appointments are booked under, in the
// booking engine and in tenant manifests.
const ServiceID = "appointments"

// Errors of the package; core/server maps them to statuses. The engine's
// own errors (a refused time, a taken slot, a passed deadline) come through
// wrapped as they are.
var (
	// ErrNotFound: no such appointment for whoever asks, or a town or
	// office that takes no appointments.
	ErrNotFound = errors.New("appointment: not found")
	// ErrInvalid is input that cannot be booked as it is.
	ErrInvalid = errors.New("appointment: invalid input")
	// ErrLoginRequired: the town takes bookings only from people who log in.
	ErrLoginRequired = errors.New("appointment: log in to book")
	// ErrState is a step the appointment's state does not allow (served
	// before being called, cancelled after checking in); a *StateError
	// says which.
	ErrState = errors.New("appointment: not possible in the appointment's state")
	// ErrKey is a missing, unknown or revoked key of a counter system.
	ErrKey = errors.New("appointment: unknown or revoked API key")
	// ErrOtherOffice is a key used for an office it was not issued for.
	ErrOtherOffice = errors.New("appointment: the API key is for another office")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// State is where a person is on the day of the appointment. It only goes
// forward: Booked, CheckedIn, Called, Served.
type State string

const (
	Booked    State = "booked"
	CheckedIn State = "checked_in"
	Called    State = "called"
	Served    State = "served"
)

// Channels an appointment is booked through.
const (
	Web     = "web"
	Phone   = "phone"
	Counter = "counter"
)

// Refusals a StateError names.
const (
	RefuseCancelled    = "cancelled"      // the booking is cancelled (or was never confirmed)
	RefuseNotToday     = "not_today"      // a queue step on another day than the appointment's
	RefuseNotCheckedIn = "not_checked_in" // called before checking in
	RefuseNotCalled    = "not_called"     // served before being called
	RefuseCalled       = "called"         // checked in again after being called
	RefuseServed       = "served"         // anything after being served
	RefuseAtOffice     = "at_office"      // moved or cancelled once the person is at the office
)

// StateError refuses a step in the appointment's state.
type StateError struct {
	Code   string
	Refuse string    // one of the Refuse constants
	Day    time.Time // the appointment's day, for RefuseNotToday
}

func (e *StateError) Error() string {
	msg := fmt.Sprintf("appointment %s: %s", e.Code, e.Refuse)
	if e.Refuse == RefuseNotToday {
		msg += " (it is on " + e.Day.Format(time.DateOnly) + ")"
	}
	return msg + ": " + ErrState.Error()
}

func (e *StateError) Unwrap() error { return ErrState }

// MessageID is the id of the refusal's message in the catalogue.
func (e *StateError) MessageID() string { return "appointments.error." + e.Refuse }

// MessageData fills the refusal's message in lang.
func (e *StateError) MessageData(lang string) map[string]any {
	return map[string]any{"Code": e.Code, "Day": i18n.FormatDate(lang, e.Day)}
}

// MessageID is the catalogue id of err's message when err is a refusal
// of this package that has one of its own, else "".
func MessageID(err error) string {
	var se *StateError
	if errors.As(err, &se) {
		return se.MessageID()
	}
	return ""
}

// Topic is what one books for.
type Topic struct {
	ID     int64
	Slug   string
	Name   tenancy.Text
	Active bool
}

// Office is an office that takes appointments.
type Office struct {
	ID         int64
	Slug       string
	Name       tenancy.Text
	Address    string
	Phone      string
	Email      string
	ResourceID int64    // the booking resource of its desks
	Desks      int      // appointments per slot
	Topics     []string // slugs of the topics it takes, in the town's order
	Active     bool
}

// Appointment is a booking of an office's desks for a topic, with where the
// person is on the day.
type Appointment struct {
	booking.Booking
	Topic    Topic
	Office   Office
	Channel  string
	BookedBy string // "user:12" when staff booked it for somebody
	// Sequence is the version of the calendar entry sent to the person.
	Sequence    int
	State       State
	CheckedInAt time.Time
	CalledAt    time.Time
	ServedAt    time.Time
	Calls       int
	Counter     string // where the person was called to
}

// Options configure a Service.
type Options struct {
	// Secret signs the links of e-mails (store.DB.Secret); every instance
	// of a deployment shares it.
	Secret []byte
	// Messages writes the e-mails in the person's language.
	Messages *i18n.Catalog
	// Now is the clock (time.Now when nil); give the engine the same one.
	Now func() time.Time
	// Log records what cannot be reported to anybody: an e-mail about a
	// change already made that could not be queued.
	Log *slog.Logger
}

// Service runs the appointments of every town. It is safe for concurrent
// use.
type Service struct {
	db     *store.DB
	eng    *booking.Engine
	secret []byte
	msg    *i18n.Catalog
	now    func() time.Time
	log    *slog.Logger
}

// New returns the appointments of db, booked through eng.
func New(db *store.DB, eng *booking.Engine, o Options) (*Service, error) {
	if len(o.Secret) < 16 {
		return nil, errors.New("appointment: a secret of at least 16 bytes signs the e-mail links")
	}
	if o.Messages == nil {
		return nil, errors.New("appointment: the message catalogue is needed for the e-mails")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, eng: eng, secret: o.Secret, msg: o.Messages, now: o.Now, log: o.Log}, nil
}

// Token is what the links of an appointment's e-mail carry, so that the
// code alone (read out at the counter, written on a note) does not let
// anybody cancel or move it. It is an HMAC of the town and the code under
// the deployment's secret: nothing to store, nothing to expire.
func (s *Service) Token(tenantID int64, code string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("appointment:" + strconv.FormatInt(tenantID, 10) + ":" + code))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func (s *Service) validToken(tenantID int64, code, token string) bool {
	return token != "" && hmac.Equal([]byte(token), []byte(s.Token(tenantID, code)))
}
