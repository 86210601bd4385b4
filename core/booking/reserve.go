package booking

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

const (
	// codeAlphabet has 32 signs, none confusable when read aloud or typed
	// (no 0/O, no 1/I): one random byte masked to 5 bits picks one evenly.
	codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	codeLen      = 8
	// Codes are random (2^40 of them), so a clash within a tenant is rare;
	// a few fresh draws make one harmless.
	codeAttempts = 5
)

var (
	codePattern    = regexp.MustCompile(`^[2-9A-HJ-NP-Z]{8}$`)
	servicePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,39}$`)
	phonePattern   = regexp.MustCompile(`^\+?[0-9 ./()-]{4,31}$`)
)

func newCode() string {
	var b [codeLen]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = codeAlphabet[b[i]&31]
	}
	return string(b[:])
}

// Contact is who booked when no citizen account did: a visitor, or a
// person on the phone to an operator.
type Contact struct {
	Name, Email, Phone string
}

// Request asks for one slot of a resource.
type Request struct {
	Resource int64
	Start    time.Time // the slot's start; any location
	// Hold keeps the slot for the resource's hold minutes while the person
	// completes the booking; Confirm makes it final, and an unconfirmed
	// hold frees the slot by itself.
	Hold    bool
	Citizen int64   // the booking citizen's id, or 0 with Contact filled
	Contact Contact // at least a name, and an e-mail address or a phone number, when Citizen is 0
	Service string  // the catalogue service booked for ("appointments"), or ""
	Office  int64   // the office of the appointment; 0 takes the resource's
	Dossier int64   // the request the booking belongs to, or 0
}

func (r *Request) normalize() error {
	if r.Resource <= 0 {
		return invalidf("choose a resource")
	}
	if r.Start.IsZero() {
		return invalidf("choose a time")
	}
	if r.Citizen < 0 || r.Office < 0 || r.Dossier < 0 {
		return invalidf("ids must not be negative")
	}
	if r.Service != "" && !servicePattern.MatchString(r.Service) {
		return invalidf("service %q is no catalogue id", r.Service)
	}
	c := &r.Contact
	c.Name, c.Email, c.Phone = strings.TrimSpace(c.Name), strings.ToLower(strings.TrimSpace(c.Email)), strings.TrimSpace(c.Phone)
	if len(c.Name) > 200 {
		return invalidf("name: at most 200 characters")
	}
	if c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || len(c.Email) > 254 {
			return invalidf("e-mail address %q is not valid", c.Email)
		}
	}
	if c.Phone != "" && !phonePattern.MatchString(c.Phone) {
		return invalidf("phone number %q is not valid", c.Phone)
	}
	if r.Citizen == 0 && (c.Name == "" || (c.Email == "" && c.Phone == "")) {
		return invalidf("give a name and an e-mail address or a phone number")
	}
	return nil
}

// Actor is who acts on an existing booking.
type Actor struct {
	// Staff act on any booking of the tenant and are not bound by the
	// cancellation deadline (the office may always call an appointment off).
	Staff bool
	// Citizen acts on the bookings made under that citizen's account.
	Citizen int64
	// Email lets a visitor without an account act on a booking by its
	// code and the e-mail address given when booking.
	Email string
}

// Booking is one seat of a resource for one slot.
type Booking struct {
	ID         int64
	Code       string
	ResourceID int64
	Seat       int
	Start, End time.Time // in the resource's time zone
	Status     Status
	ExpiresAt  time.Time // a hold's end; zero otherwise
	CitizenID  int64
	Contact    Contact
	ServiceID  string
	OfficeID   int64
	DossierID  int64
	PriceCents int64
	Currency   string
	// CancelDeadline is the last moment the booker may cancel or move it.
	CancelDeadline time.Time
	CancelReason   string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Reserve books r.Start on r.Resource: held when r.Hold, else confirmed,
// or pending when the resource needs approval. A time the calendar does
// not offer is a *RuleError; a time someone else has (every seat taken)
// is ErrSlotTaken, which only the database's exclusion constraint decides.
func (e *Engine) Reserve(ctx context.Context, tenantID int64, r Request) (*Booking, error) {
	if err := r.normalize(); err != nil {
		return nil, err
	}
	if err := e.prepare(ctx); err != nil {
		return nil, err
	}
	now := e.now()
	var out *Booking
	err := e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		cal, err := e.loadCalendar(ctx, tx, tenantID, r.Resource, r.Start, r.Start, &probe{start: r.Start, now: now})
		if err != nil {
			return err
		}
		if err := cal.check(r.Start, now); err != nil {
			return err
		}
		b := &Booking{
			ResourceID: r.Resource, Start: r.Start.In(cal.loc), Status: Confirmed,
			CitizenID: r.Citizen, Contact: r.Contact, ServiceID: r.Service, OfficeID: r.Office, DossierID: r.Dossier,
			PriceCents: cal.priceCents, Currency: cal.currency,
		}
		b.End = b.Start.Add(cal.slot)
		b.CancelDeadline = b.Start.Add(-cal.cancelDeadline)
		if b.OfficeID == 0 {
			b.OfficeID = cal.officeID
		}
		switch {
		case r.Hold:
			b.Status, b.ExpiresAt = Held, now.Add(cal.hold).In(cal.loc)
		case cal.approval:
			b.Status = Pending
		}
		if err := releaseStale(ctx, tx, tenantID, cal, b, now); err != nil {
			return err
		}
		if err := e.insertBooking(ctx, tx, tenantID, cal, b); err != nil {
			return err
		}
		out = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reserve resource %d at %s: %w", r.Resource, r.Start.Format(time.RFC3339), err)
	}
	return out, nil
}

// releaseStale turns expired holds in b's slot into 'expired', so that the
// exclusion constraint, which cannot know the time, lets b in.
func releaseStale(ctx context.Context, tx bun.Tx, tenantID int64, cal *loaded, b *Booking, now time.Time) error {
	if !cal.stale {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE bookings SET status = 'expired', updated_at = now()
		WHERE tenant_id = ? AND resource_id = ? AND status = 'held' AND expires_at <= ?
		  AND period && tstzrange(?::timestamptz, ?::timestamptz, '[)')`,
		tenantID, b.ResourceID, now, b.Start, b.End)
	if err != nil {
		return fmt.Errorf("release expired holds: %w", err)
	}
	return nil
}

// seatOrder is the order to try seats in: the free-looking ones first,
// then those seen taken (the read may be older than the last commit).
// Every seat is tried, so exactly capacity bookings can win a slot.
func seatOrder(capacity int, taken []int64) []int {
	var free, busy []int
	for s := 1; s <= capacity; s++ {
		if slices.Contains(taken, int64(s)) {
			busy = append(busy, s)
		} else {
			free = append(free, s)
		}
	}
	return append(free, busy...)
}

// insertBooking writes b on the first seat the exclusion constraint lets
// it have. Each attempt but the last runs under a savepoint, so a refused
// seat leaves the transaction usable for the next one.
func (e *Engine) insertBooking(ctx context.Context, tx bun.Tx, tenantID int64, cal *loaded, b *Booking) error {
	seats := seatOrder(cal.capacity, cal.taken)
	for i, seat := range seats {
		last := i == len(seats)-1
		if !last {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT seat"); err != nil {
				return err
			}
		}
		err := e.insertSeat(ctx, tx, tenantID, b, seat)
		if sqlState(err) == "23P01" {
			if last {
				return ErrSlotTaken
			}
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT seat"); err != nil {
				return err
			}
			continue
		}
		return err
	}
	return ErrSlotTaken
}

const insertQuery = `INSERT INTO bookings (tenant_id, resource_id, seat, period, status, code, expires_at,
		citizen_id, contact_name, contact_email, contact_phone, service_id, office_id, dossier_id, price_cents)
	VALUES ($1::bigint, $2::bigint, $3::smallint, tstzrange($4::timestamptz, $5::timestamptz, '[)'), $6::text, $7::text,
		$8::timestamptz, NULLIF($9::bigint, 0), $10::text, $11::text, $12::text, $13::text, NULLIF($14::bigint, 0),
		NULLIF($15::bigint, 0), NULLIF($16::bigint, 0))
	ON CONFLICT (tenant_id, code) DO NOTHING
	RETURNING id, created_at`

func (e *Engine) insertSeat(ctx context.Context, tx bun.Tx, tenantID int64, b *Booking, seat int) error {
	stmt, err := e.statement(ctx, tx, insertQuery)
	if err != nil {
		return err
	}
	for range codeAttempts {
		code := newCode()
		// A zero ExpiresAt is sent as NULL.
		err := stmt.QueryRowContext(ctx, tenantID, b.ResourceID, seat, b.Start, b.End, string(b.Status), code, b.ExpiresAt,
			b.CitizenID, b.Contact.Name, b.Contact.Email, b.Contact.Phone, b.ServiceID, b.OfficeID, b.DossierID,
			b.PriceCents).Scan(&b.ID, &b.CreatedAt)
		if errors.Is(err, sql.ErrNoRows) {
			continue // the code was taken: draw another
		}
		if sqlState(err) == "23503" {
			return invalidf("the citizen, office or dossier named does not exist")
		}
		if err != nil {
			return err
		}
		b.Code, b.Seat, b.UpdatedAt = code, seat, b.CreatedAt
		return nil
	}
	return fmt.Errorf("no free booking code after %d attempts", codeAttempts)
}

// normCode reads a code as people type it: any case, spaces around.
func normCode(code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if !codePattern.MatchString(c) {
		return "", invalidf("a booking code is 8 letters and digits, such as K7M2QX9P")
	}
	return c, nil
}

// lockBooking reads a booking for update, as by may see it: another
// citizen's booking, or one whose e-mail does not match, is not found.
func (e *Engine) lockBooking(ctx context.Context, tx bun.Tx, tenantID int64, code string, by Actor) (*Booking, error) {
	b, err := e.scanBooking(tx.QueryRowContext(ctx, bookingSelect+` WHERE b.tenant_id = ? AND b.code = ? FOR UPDATE OF b`, tenantID, code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("booking %s: %w", code, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read booking %s: %w", code, err)
	}
	if !by.may(b) {
		return nil, fmt.Errorf("booking %s: %w", code, ErrNotFound)
	}
	return b, nil
}

func (a Actor) may(b *Booking) bool {
	switch {
	case a.Staff:
		return true
	case a.Citizen > 0:
		return b.CitizenID == a.Citizen
	case a.Email != "":
		return b.Contact.Email != "" && strings.EqualFold(strings.TrimSpace(a.Email), b.Contact.Email)
	}
	return false
}

// setStatus writes b's new status and returns the row as stored.
func (e *Engine) setStatus(ctx context.Context, tx bun.Tx, tenantID int64, b *Booking, st Status, reason string) (*Booking, error) {
	out, err := e.scanBooking(tx.QueryRowContext(ctx, `WITH u AS (
			UPDATE bookings SET status = ?, expires_at = CASE WHEN ? = 'held' THEN expires_at END,
				cancel_reason = ?, updated_at = now()
			WHERE tenant_id = ? AND id = ? RETURNING *)
		`+bookingSelectFrom("u"), string(st), string(st), reason, tenantID, b.ID))
	if err != nil {
		return nil, fmt.Errorf("set booking %s %s: %w", b.Code, st, err)
	}
	return out, nil
}

// Confirm makes a hold final: confirmed, or pending when the resource
// needs approval. Confirming twice is no error. A hold past its time is
// ErrHoldExpired: its slot may be someone else's by now.
func (e *Engine) Confirm(ctx context.Context, tenantID int64, code string, by Actor) (*Booking, error) {
	code, err := normCode(code)
	if err != nil {
		return nil, err
	}
	now := e.now()
	var out *Booking
	err = e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		b, err := e.lockBooking(ctx, tx, tenantID, code, by)
		if err != nil {
			return err
		}
		switch {
		case b.Status == Confirmed || b.Status == Pending:
			out = b
			return nil
		case b.Status == Expired || (b.Status == Held && !b.ExpiresAt.After(now)):
			return fmt.Errorf("booking %s held until %s: %w", code, b.ExpiresAt.Format(time.RFC3339), ErrHoldExpired)
		case b.Status != Held:
			return fmt.Errorf("confirm booking %s, %s: %w", code, b.Status, ErrWrongState)
		}
		var approval bool
		if err := tx.QueryRowContext(ctx, "SELECT approval_required FROM booking_resources WHERE tenant_id = ? AND id = ?",
			tenantID, b.ResourceID).Scan(&approval); err != nil {
			return fmt.Errorf("read resource %d: %w", b.ResourceID, err)
		}
		st := Confirmed
		if approval {
			st = Pending
		}
		out, err = e.setStatus(ctx, tx, tenantID, b, st, "")
		return err
	})
	return out, err
}

// Approve confirms a booking that waits for approval (staff only).
func (e *Engine) Approve(ctx context.Context, tenantID int64, code string) (*Booking, error) {
	return e.decide(ctx, tenantID, code, Confirmed, "")
}

// Decline refuses a booking that waits for approval (staff only); reason
// is shown to the booker.
func (e *Engine) Decline(ctx context.Context, tenantID int64, code, reason string) (*Booking, error) {
	return e.decide(ctx, tenantID, code, Cancelled, reason)
}

func (e *Engine) decide(ctx context.Context, tenantID int64, code string, st Status, reason string) (*Booking, error) {
	code, err := normCode(code)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if len(reason) > 500 {
		return nil, invalidf("reason: at most 500 characters")
	}
	var out *Booking
	err = e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		b, err := e.lockBooking(ctx, tx, tenantID, code, Actor{Staff: true})
		if err != nil {
			return err
		}
		if b.Status == st {
			out = b
			return nil
		}
		if b.Status != Pending {
			return fmt.Errorf("decide on booking %s, %s: %w", code, b.Status, ErrWrongState)
		}
		out, err = e.setStatus(ctx, tx, tenantID, b, st, reason)
		return err
	})
	return out, err
}

// Cancel cancels a booking and frees its seat. The booker may do so until
// the cancellation deadline (a *DeadlineError after it); staff at any
// time; a hold at any time. Cancelling twice is no error.
func (e *Engine) Cancel(ctx context.Context, tenantID int64, code string, by Actor, reason string) (*Booking, error) {
	code, err := normCode(code)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if len(reason) > 500 {
		return nil, invalidf("reason: at most 500 characters")
	}
	now := e.now()
	var out *Booking
	err = e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		b, err := e.lockBooking(ctx, tx, tenantID, code, by)
		if err != nil {
			return err
		}
		switch b.Status {
		case Cancelled, Expired:
			out = b
			return nil
		case Pending, Confirmed:
			if !by.Staff && now.After(b.CancelDeadline) {
				return &DeadlineError{Code: code, Deadline: b.CancelDeadline}
			}
		}
		out, err = e.setStatus(ctx, tx, tenantID, b, Cancelled, reason)
		return err
	})
	return out, err
}

// Move takes the booking to another slot of its resource in one
// transaction: the new slot is checked like a reservation and taken on the
// first free seat, or nothing changes. The code stays, so what the booker
// holds (an e-mail, a calendar entry) keeps pointing at the booking. The
// booker may move until the cancellation deadline of the old slot.
func (e *Engine) Move(ctx context.Context, tenantID int64, code string, start time.Time, by Actor) (*Booking, error) {
	code, err := normCode(code)
	if err != nil {
		return nil, err
	}
	if start.IsZero() {
		return nil, invalidf("choose a time")
	}
	if err := e.prepare(ctx); err != nil {
		return nil, err
	}
	now := e.now()
	var out *Booking
	err = e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		b, err := e.lockBooking(ctx, tx, tenantID, code, by)
		if err != nil {
			return err
		}
		switch {
		case !b.Status.Live():
			return fmt.Errorf("move booking %s, %s: %w", code, b.Status, ErrWrongState)
		case b.Status == Held && !b.ExpiresAt.After(now):
			return fmt.Errorf("booking %s held until %s: %w", code, b.ExpiresAt.Format(time.RFC3339), ErrHoldExpired)
		case b.Status != Held && !by.Staff && now.After(b.CancelDeadline):
			return &DeadlineError{Code: code, Deadline: b.CancelDeadline}
		}
		cal, err := e.loadCalendar(ctx, tx, tenantID, b.ResourceID, start, start, &probe{start: start, now: now, exclude: b.ID})
		if err != nil {
			return err
		}
		if err := cal.check(start, now); err != nil {
			return err
		}
		moved := *b
		moved.Start = start.In(cal.loc)
		moved.End = moved.Start.Add(cal.slot)
		if err := releaseStale(ctx, tx, tenantID, cal, &moved, now); err != nil {
			return err
		}
		out, err = e.moveSeat(ctx, tx, tenantID, cal, &moved)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("move booking to %s: %w", start.Format(time.RFC3339), err)
	}
	return out, nil
}

// moveSeat rewrites b's period onto the first seat the exclusion
// constraint allows, as insertBooking does for a new booking.
func (e *Engine) moveSeat(ctx context.Context, tx bun.Tx, tenantID int64, cal *loaded, b *Booking) (*Booking, error) {
	seats := seatOrder(cal.capacity, cal.taken)
	for i, seat := range seats {
		last := i == len(seats)-1
		if !last {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT seat"); err != nil {
				return nil, err
			}
		}
		out, err := e.scanBooking(tx.QueryRowContext(ctx, `WITH u AS (
				UPDATE bookings SET seat = ?, period = tstzrange(?::timestamptz, ?::timestamptz, '[)'), updated_at = now()
				WHERE tenant_id = ? AND id = ? RETURNING *)
			`+bookingSelectFrom("u"), seat, b.Start, b.End, tenantID, b.ID))
		if sqlState(err) == "23P01" {
			if last {
				return nil, ErrSlotTaken
			}
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT seat"); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("move booking %s: %w", b.Code, err)
		}
		return out, nil
	}
	return nil, ErrSlotTaken
}

// Expire turns the tenant's holds that ran out into 'expired' and returns
// how many. Reserve frees the holds in its way by itself; the sweep keeps
// lists and counts true.
func (e *Engine) Expire(ctx context.Context, tenantID int64) (int64, error) {
	now := e.now()
	var n int64
	err := e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE bookings SET status = 'expired', updated_at = now()
			WHERE tenant_id = ? AND status = 'held' AND expires_at <= ?`, tenantID, now)
		if err != nil {
			return fmt.Errorf("expire holds: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// ExpireAll runs Expire for every tenant, one transaction each, and
// returns the holds expired; the server calls it every minute or so.
func (e *Engine) ExpireAll(ctx context.Context) (int64, error) {
	var ids []int64
	if err := e.db.NewRaw("SELECT id FROM tenants ORDER BY id").Scan(ctx, &ids); err != nil {
		return 0, fmt.Errorf("list tenants: %w", err)
	}
	var total int64
	var errs []error
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := e.Expire(ctx, id)
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %d: %w", id, err))
		}
		total += n
	}
	return total, errors.Join(errs...)
}
