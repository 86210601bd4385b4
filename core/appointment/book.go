package appointment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/sportello/sportello/core/booking"
)

// Request asks for an appointment.
type Request struct {
	Topic  string    // a topic's slug
	Office string    // an office's slug
	Start  time.Time // one of the free times Slots offers
	// Citizen is the booking citizen's id, 0 for a visitor or somebody
	// staff book for.
	Citizen int64
	// Contact is where the confirmation goes (an e-mail address is needed
	// on the web) and, without a citizen, who comes.
	Contact booking.Contact
	Channel string // Web (the default), Phone or Counter
	// BookedBy is the member of staff booking for somebody, "user:12".
	BookedBy string
}

// Notice says how to write to the person about an appointment.
type Notice struct {
	Lang string // the language of the e-mail
	Town string // the town's name, shown as the sender and in the calendar entry
	// Host is the town's host name: the calendar entry's UID is
	// code@Host, the same in every version sent.
	Host string
	// BaseURL is the town's portal, "https://comune.example.org" or
	// "http://localhost:8080/t/trezzo"; the links of the e-mail are under it.
	BaseURL string
}

// Access says who acts on an existing appointment.
type Access struct {
	Staff   bool  // any appointment of the town, whatever the deadline
	Citizen int64 // the appointments made under this citizen's account
	// Token from the links of the appointment's e-mail: its holder acts as
	// the person who booked.
	Token string
}

// Days are the days from..to (civil dates) on which office has a free time
// one may book now, as midnights in the town's time zone.
func (s *Service) Days(ctx context.Context, tenantID int64, office Office, from, to time.Time) ([]time.Time, error) {
	return s.eng.Days(ctx, tenantID, office.ResourceID, from, to)
}

// Slots are the free times of office on the civil date day.
func (s *Service) Slots(ctx context.Context, tenantID int64, office Office, day time.Time) ([]booking.Slot, error) {
	return s.eng.Slots(ctx, tenantID, office.ResourceID, day)
}

// Book books r and queues its confirmation, with the calendar entry, to the
// contact's e-mail address. The slot is first held, then confirmed in the
// transaction that queues the e-mail: the appointment is final exactly
// when its e-mail is on its way, and a failure in between frees the slot.
// A time the office does not offer is the engine's *booking.RuleError; a
// time somebody else has just taken is booking.ErrSlotTaken.
func (s *Service) Book(ctx context.Context, tenantID int64, r Request, n Notice) (*Appointment, error) {
	cfg, err := s.Config(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	topic, ok := cfg.Topic(r.Topic)
	if !ok {
		return nil, invalidf("topic %q: choose what the appointment is for", r.Topic)
	}
	office, ok := cfg.Office(r.Office)
	if !ok {
		return nil, invalidf("office %q: choose one of the offices offered", r.Office)
	}
	if !slices.Contains(office.Topics, topic.Slug) {
		return nil, invalidf("office %s gives no appointments for %s", office.Slug, topic.Slug)
	}
	if r.Channel == "" {
		r.Channel = Web
	}
	switch r.Channel {
	case Web:
		if r.Citizen == 0 && !cfg.Anonymous {
			return nil, ErrLoginRequired
		}
		if strings.TrimSpace(r.Contact.Email) == "" {
			return nil, invalidf("give an e-mail address: the confirmation goes there")
		}
	case Phone, Counter:
	default:
		return nil, invalidf("channel %q", r.Channel)
	}
	if len(r.BookedBy) > 40 {
		return nil, invalidf("booked by %q", r.BookedBy)
	}
	held, err := s.eng.Reserve(ctx, tenantID, booking.Request{Resource: office.ResourceID, Start: r.Start, Hold: true,
		Citizen: r.Citizen, Contact: r.Contact, Service: ServiceID, Office: office.ID})
	if err != nil {
		return nil, err
	}
	var out *Appointment
	err = s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		b, err := s.eng.ConfirmIn(ctx, tx, tenantID, held.Code, booking.Actor{Staff: true})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO appointments (tenant_id, booking_id, topic_id, channel, booked_by)
			VALUES (?, ?, ?, ?, ?)`, tenantID, b.ID, topic.ID, r.Channel, r.BookedBy); err != nil {
			return fmt.Errorf("store appointment %s: %w", b.Code, err)
		}
		a := &Appointment{Booking: *b, Topic: topic, Office: office, Channel: r.Channel, BookedBy: r.BookedBy, State: Booked}
		if err := s.queueMail(ctx, tx, tenantID, a, n, mailBooked); err != nil {
			return err
		}
		out = a
		return nil
	})
	if err != nil {
		// Free the slot now rather than when the hold runs out.
		if _, cerr := s.eng.Cancel(context.WithoutCancel(ctx), tenantID, held.Code, booking.Actor{Staff: true}, "not completed"); cerr != nil {
			err = errors.Join(err, fmt.Errorf("release hold %s: %w", held.Code, cerr))
		}
		return nil, fmt.Errorf("book %s at %s: %w", topic.Slug, office.Slug, err)
	}
	return out, nil
}

// Get returns the appointment with code, to whoever acc lets see it;
// anybody else gets ErrNotFound, as for a code that does not exist.
func (s *Service) Get(ctx context.Context, tenantID int64, code string, acc Access) (*Appointment, error) {
	a, _, err := s.get(ctx, tenantID, code, acc)
	return a, err
}

// get returns the appointment and the engine's actor for acc: staff act
// as staff; a token's holder and a citizen act as the person who booked,
// bound by the cancellation deadline.
func (s *Service) get(ctx context.Context, tenantID int64, code string, acc Access) (*Appointment, booking.Actor, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	var by booking.Actor
	switch {
	case acc.Staff:
		by = booking.Actor{Staff: true}
	case acc.Token != "":
		if !s.validToken(tenantID, code, acc.Token) {
			return nil, by, fmt.Errorf("appointment %s with a wrong token: %w", code, ErrNotFound)
		}
		by = booking.Actor{Staff: true} // to read it; the owner acts below
	case acc.Citizen > 0:
		by = booking.Actor{Citizen: acc.Citizen}
	default:
		return nil, by, fmt.Errorf("appointment %s: %w", code, ErrNotFound)
	}
	b, err := s.eng.Get(ctx, tenantID, code, by)
	if err != nil {
		return nil, by, err
	}
	if b.ServiceID != ServiceID {
		return nil, by, fmt.Errorf("booking %s is no appointment: %w", code, ErrNotFound)
	}
	list, err := s.complete(ctx, tenantID, []booking.Booking{*b})
	if err != nil {
		return nil, by, err
	}
	if len(list) == 0 {
		return nil, by, fmt.Errorf("appointment %s: %w", code, ErrNotFound)
	}
	if !acc.Staff && acc.Token != "" {
		by = owner(b)
	}
	return &list[0], by, nil
}

// Changeable reports whether the person who booked a may still move or
// cancel it online: it is live, they have not arrived, and the deadline
// has not passed.
func (s *Service) Changeable(a *Appointment) bool {
	return a.Status.Live() && a.State == Booked && !s.now().After(a.CancelDeadline)
}

// Now is the service's clock, for pages that show what is still possible.
func (s *Service) Now() time.Time { return s.now() }

// owner is the engine's actor for the person who booked b.
func owner(b *booking.Booking) booking.Actor {
	if b.CitizenID > 0 {
		return booking.Actor{Citizen: b.CitizenID}
	}
	return booking.Actor{Email: b.Contact.Email}
}

// Cancel calls the appointment off and writes to the person. The person
// may cancel until the office's cancellation deadline (a
// *booking.DeadlineError names it after that); staff at any time; nobody
// once the person has checked in. Cancelling twice is no error.
func (s *Service) Cancel(ctx context.Context, tenantID int64, code string, acc Access, reason string, n Notice) (*Appointment, error) {
	a, by, err := s.get(ctx, tenantID, code, acc)
	if err != nil {
		return nil, err
	}
	if a.Status == booking.Cancelled {
		return a, nil
	}
	if a.State != Booked {
		return nil, &StateError{Code: a.Code, Refuse: RefuseAtOffice}
	}
	b, err := s.eng.Cancel(ctx, tenantID, a.Code, by, reason)
	if err != nil {
		return nil, fmt.Errorf("cancel appointment: %w", err)
	}
	a.Booking = *b
	s.announce(ctx, tenantID, a, n, mailCancelled)
	return a, nil
}

// Move takes the appointment to another free time of its office, in one
// transaction, and sends the person the new calendar entry. The person may
// move it until the cancellation deadline; staff at any time.
func (s *Service) Move(ctx context.Context, tenantID int64, code string, start time.Time, acc Access, n Notice) (*Appointment, error) {
	a, by, err := s.get(ctx, tenantID, code, acc)
	if err != nil {
		return nil, err
	}
	if !a.Status.Live() {
		return nil, &StateError{Code: a.Code, Refuse: RefuseCancelled}
	}
	if a.State != Booked {
		return nil, &StateError{Code: a.Code, Refuse: RefuseAtOffice}
	}
	b, err := s.eng.Move(ctx, tenantID, a.Code, start, by)
	if err != nil {
		return nil, fmt.Errorf("move appointment: %w", err)
	}
	a.Booking = *b
	s.announce(ctx, tenantID, a, n, mailMoved)
	return a, nil
}

// announce writes to the person about a change already made: a new
// version of the calendar entry, and the e-mail. The change stands
// whatever happens here; a failure is logged, and the appointment's page
// offers the entry to download.
func (s *Service) announce(ctx context.Context, tenantID int64, a *Appointment, n Notice, kind string) {
	err := s.db.InTenant(context.WithoutCancel(ctx), tenantID, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.QueryRowContext(ctx, `UPDATE appointments SET sequence = sequence + 1 WHERE tenant_id = ? AND booking_id = ?
			RETURNING sequence`, tenantID, a.ID).Scan(&a.Sequence); err != nil {
			return fmt.Errorf("next version of appointment %s: %w", a.Code, err)
		}
		return s.queueMail(ctx, tx, tenantID, a, n, kind)
	})
	if err != nil {
		s.log.Error("appointment e-mail not queued", "tenant", tenantID, "code", a.Code, "kind", kind, "err", err)
	}
}

// Filter narrows Search; zero fields do not filter.
type Filter struct {
	Code   string
	Name   string    // part of the name of who booked
	Day    time.Time // a civil date
	Office int64
	// Live leaves out cancelled appointments.
	Live  bool
	Limit int // default 200
}

// Search finds the town's appointments, by time.
func (s *Service) Search(ctx context.Context, tenantID int64, f Filter) ([]Appointment, error) {
	bf := booking.Filter{Code: f.Code, Name: f.Name, Day: f.Day, Office: f.Office, Limit: f.Limit}
	if f.Live {
		bf.Statuses = []booking.Status{booking.Confirmed, booking.Pending}
	}
	list, err := s.eng.List(ctx, tenantID, bf)
	if err != nil {
		return nil, err
	}
	return s.complete(ctx, tenantID, list)
}

// complete turns bookings into appointments, leaving out bookings of
// other services.
func (s *Service) complete(ctx context.Context, tenantID int64, list []booking.Booking) ([]Appointment, error) {
	ids := make([]int64, 0, len(list))
	for _, b := range list {
		if b.ServiceID == ServiceID {
			ids = append(ids, b.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var out []Appointment
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		cfg, err := s.loadConfig(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+appointmentCols+` FROM appointments WHERE tenant_id = ? AND booking_id = ANY(?)`,
			tenantID, pgdialect.Array(ids))
		if err != nil {
			return fmt.Errorf("read appointments: %w", err)
		}
		found := map[int64]*Appointment{}
		for rows.Next() {
			a, topicID, err := scanAppointment(rows)
			if err != nil {
				rows.Close()
				return err
			}
			a.Topic = cfg.topics[topicID]
			found[a.ID] = a
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		offices := map[int64]Office{}
		for _, o := range cfg.Offices {
			offices[o.ID] = o
		}
		out = out[:0]
		for _, b := range list {
			a, ok := found[b.ID]
			if !ok {
				continue
			}
			a.Booking = b
			o, ok := offices[b.OfficeID]
			if !ok {
				if o, err = s.officeByID(ctx, tx, tenantID, b.OfficeID); err != nil {
					return err
				}
				offices[o.ID] = o
			}
			a.Office = o
			out = append(out, *a)
		}
		return nil
	})
	return out, err
}

const appointmentCols = `booking_id, topic_id, channel, booked_by, sequence, state, checked_in_at, called_at, served_at, calls, counter`

// scanAppointment reads a row of appointmentCols; the booking, the topic
// and the office are the caller's to fill.
func scanAppointment(row interface{ Scan(...any) error }) (*Appointment, int64, error) {
	var a Appointment
	var topicID int64
	var in, called, served sql.NullTime
	if err := row.Scan(&a.ID, &topicID, &a.Channel, &a.BookedBy, &a.Sequence, &a.State, &in, &called, &served,
		&a.Calls, &a.Counter); err != nil {
		return nil, 0, err
	}
	a.CheckedInAt, a.CalledAt, a.ServedAt = in.Time, called.Time, served.Time
	return &a, topicID, nil
}
