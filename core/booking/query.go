package booking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// bookingSelectFrom reads bookings of table (bookings, or a CTE returning
// its rows) with what their resource adds.
func bookingSelectFrom(table string) string {
	return `SELECT b.id, b.code, b.resource_id, b.seat, lower(b.period), upper(b.period), b.status, b.expires_at,
		coalesce(b.citizen_id, 0), b.contact_name, b.contact_email, b.contact_phone, b.service_id,
		coalesce(b.office_id, 0), coalesce(b.dossier_id, 0), coalesce(b.price_cents, 0), r.currency,
		lower(b.period) - make_interval(mins => r.cancel_deadline_minutes), b.cancel_reason,
		b.created_at, b.updated_at, r.timezone
	FROM ` + table + ` b JOIN booking_resources r ON r.tenant_id = b.tenant_id AND r.id = b.resource_id`
}

var bookingSelect = bookingSelectFrom("bookings")

// scanBooking reads one row of bookingSelectFrom, its times in the
// resource's zone.
func (e *Engine) scanBooking(row interface{ Scan(...any) error }) (*Booking, error) {
	var b Booking
	var expires sql.NullTime
	var tz string
	err := row.Scan(&b.ID, &b.Code, &b.ResourceID, &b.Seat, &b.Start, &b.End, &b.Status, &expires,
		&b.CitizenID, &b.Contact.Name, &b.Contact.Email, &b.Contact.Phone, &b.ServiceID,
		&b.OfficeID, &b.DossierID, &b.PriceCents, &b.Currency, &b.CancelDeadline, &b.CancelReason,
		&b.CreatedAt, &b.UpdatedAt, &tz)
	if err != nil {
		return nil, err
	}
	if expires.Valid {
		b.ExpiresAt = expires.Time
	}
	if loc, err := e.zone(tz); err == nil {
		b.Start, b.End, b.CancelDeadline = b.Start.In(loc), b.End.In(loc), b.CancelDeadline.In(loc)
		if !b.ExpiresAt.IsZero() {
			b.ExpiresAt = b.ExpiresAt.In(loc)
		}
	}
	return &b, nil
}

// Get returns the booking with code, as by may see it.
func (e *Engine) Get(ctx context.Context, tenantID int64, code string, by Actor) (*Booking, error) {
	code, err := normCode(code)
	if err != nil {
		return nil, err
	}
	var out *Booking
	err = e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		b, err := e.scanBooking(tx.QueryRowContext(ctx, bookingSelect+` WHERE b.tenant_id = ? AND b.code = ?`, tenantID, code))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !by.may(b)) {
			return fmt.Errorf("booking %s: %w", code, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read booking %s: %w", code, err)
		}
		out = b
		return nil
	})
	return out, err
}

// Filter narrows List. Zero fields do not filter.
type Filter struct {
	Day      time.Time // a civil date: bookings starting that day in their resource's zone
	Office   int64
	Resource int64
	Citizen  int64
	Code     string   // a whole code
	Name     string   // part of the contact's or the citizen's name
	Statuses []Status // default: every status
	Limit    int      // default 200, at most 1000
}

// List returns the tenant's bookings matching f, by start time.
func (e *Engine) List(ctx context.Context, tenantID int64, f Filter) ([]Booking, error) {
	where := []string{"b.tenant_id = ?"}
	args := []any{tenantID}
	if !f.Day.IsZero() {
		d := day(f.Day)
		// The range narrows on the index; the zone test picks the day.
		where = append(where, "b.period && tstzrange(?::timestamptz, ?::timestamptz)",
			"(lower(b.period) AT TIME ZONE r.timezone)::date = ?::date")
		args = append(args, d.AddDate(0, 0, -1), d.AddDate(0, 0, 2), d.Format(time.DateOnly))
	}
	if f.Office > 0 {
		where, args = append(where, "b.office_id = ?"), append(args, f.Office)
	}
	if f.Resource > 0 {
		where, args = append(where, "b.resource_id = ?"), append(args, f.Resource)
	}
	if f.Citizen > 0 {
		where, args = append(where, "b.citizen_id = ?"), append(args, f.Citizen)
	}
	if f.Code != "" {
		code, err := normCode(f.Code)
		if err != nil {
			return nil, err
		}
		where, args = append(where, "b.code = ?"), append(args, code)
	}
	if name := strings.TrimSpace(f.Name); name != "" {
		if len(name) > 200 {
			return nil, invalidf("name: at most 200 characters")
		}
		pattern := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(name) + "%"
		where = append(where, "(b.contact_name ILIKE ? OR EXISTS (SELECT 1 FROM citizens c WHERE c.tenant_id = b.tenant_id AND c.id = b.citizen_id AND c.name ILIKE ?))")
		args = append(args, pattern, pattern)
	}
	if len(f.Statuses) > 0 {
		st := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			switch s {
			case Held, Pending, Confirmed, Cancelled, Expired:
			default:
				return nil, invalidf("status %q", s)
			}
			st[i] = string(s)
		}
		where, args = append(where, "b.status = ANY(?)"), append(args, pgdialect.Array(st))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 200
	}
	limit = min(limit, 1000)
	var out []Booking
	err := e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, bookingSelect+" WHERE "+strings.Join(where, " AND ")+
			fmt.Sprintf(" ORDER BY lower(b.period), b.resource_id, b.seat LIMIT %d", limit), args...)
		if err != nil {
			return fmt.Errorf("list bookings: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			b, err := e.scanBooking(rows)
			if err != nil {
				return err
			}
			out = append(out, *b)
		}
		return rows.Err()
	})
	return out, err
}

// Slot is a bookable time with the seats still free.
type Slot struct {
	Start, End time.Time // in the resource's time zone
	Free       int
}

// maxDays bounds the span Days reads at once.
const maxDays = 400

// Slots returns the slots of the civil date day (its year, month and day,
// whatever its location) that one may book now and that have a free seat.
func (e *Engine) Slots(ctx context.Context, tenantID, resourceID int64, d time.Time) ([]Slot, error) {
	var out []Slot
	err := e.availability(ctx, tenantID, resourceID, d, d, func(_ time.Time, s []Slot) { out = s })
	return out, err
}

// Days returns the civil dates from..to (both included) that have at least
// one free slot one may book now, as midnights in the resource's zone.
func (e *Engine) Days(ctx context.Context, tenantID, resourceID int64, from, to time.Time) ([]time.Time, error) {
	var out []time.Time
	err := e.availability(ctx, tenantID, resourceID, from, to, func(d time.Time, s []Slot) {
		if len(s) > 0 {
			out = append(out, d)
		}
	})
	return out, err
}

// availability calls each with every civil day from..to and its free
// slots, all read in one transaction.
func (e *Engine) availability(ctx context.Context, tenantID, resourceID int64, from, to time.Time, each func(day time.Time, free []Slot)) error {
	if from.IsZero() || to.IsZero() {
		return invalidf("choose the days")
	}
	from, to = day(from), day(to)
	if to.Before(from) {
		return invalidf("the last day %s is before the first %s", to.Format(time.DateOnly), from.Format(time.DateOnly))
	}
	if to.Sub(from) > maxDays*24*time.Hour {
		return invalidf("at most %d days at once", maxDays)
	}
	now := e.now()
	return e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		cal, err := e.loadCalendar(ctx, tx, tenantID, resourceID, from, to, nil)
		if err != nil {
			return err
		}
		if !cal.active {
			return nil
		}
		first := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, cal.loc)
		last := time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, cal.loc)
		rows, err := tx.QueryContext(ctx, `SELECT seat, lower(period), upper(period) FROM bookings
			WHERE tenant_id = ? AND resource_id = ? AND status IN ('held', 'pending', 'confirmed')
			  AND (status <> 'held' OR expires_at > ?) AND period && tstzrange(?::timestamptz, ?::timestamptz)`,
			tenantID, resourceID, now, first, last)
		if err != nil {
			return fmt.Errorf("read bookings of resource %d: %w", resourceID, err)
		}
		var periods []seatPeriod
		for rows.Next() {
			var p seatPeriod
			if err := rows.Scan(&p.seat, &p.start, &p.end); err != nil {
				rows.Close()
				return err
			}
			periods = append(periods, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		occ := newOccupancy(periods)
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			var free []Slot
			if _, closed := cal.closedOn(d); !closed && !d.After(cal.lastDay(now)) {
				for _, s := range cal.slots(d) {
					if !cal.inWindow(s, now) {
						continue
					}
					end := s.Add(cal.slot)
					if n := cal.capacity - occ.taken(s, end); n > 0 {
						free = append(free, Slot{Start: s, End: end, Free: n})
					}
				}
			}
			each(time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, cal.loc), free)
		}
		return nil
	})
}
