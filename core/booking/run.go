package booking

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// MaxRunSlots bounds how many consecutive slots one booking may take.
const MaxRunSlots = 96

// Run asks for Slots consecutive slots of a resource from Start, taken as
// one booking on one seat: one code, one period, the slot's price times
// Slots. A room booked from 18:00 to 21:00 is one run of three hourly
// slots, which the person pays, cancels and shows at the door as one.
type Run struct {
	Request
	Slots int // 0 means 1
	// HoldFor is how long a hold (Request.Hold) keeps the run; 0 takes the
	// resource's hold minutes. Longer than a day is refused.
	HoldFor time.Duration
}

// ReserveRun books r like Reserve books one slot: every slot of the run
// must be one the calendar offers (the first it refuses is the *RuleError,
// so a run reaching past closing time names the slot that is not open),
// and the whole run must fit one seat, or it is ErrSlotTaken. Nothing is
// written unless all of it is.
//
// Move keeps a booking one slot long; it is not for runs.
func (e *Engine) ReserveRun(ctx context.Context, tenantID int64, r Run) (*Booking, error) {
	if err := r.Request.normalize(); err != nil {
		return nil, err
	}
	if r.Slots == 0 {
		r.Slots = 1
	}
	if r.Slots < 1 || r.Slots > MaxRunSlots {
		return nil, invalidf("a booking takes 1 to %d consecutive slots", MaxRunSlots)
	}
	if r.HoldFor < 0 || r.HoldFor > 24*time.Hour {
		return nil, invalidf("a hold lasts at most a day")
	}
	if err := e.prepare(ctx); err != nil {
		return nil, err
	}
	now := e.now()
	var out *Booking
	err := e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		// The slot length is the resource's: read it before the slots
		// can be named. A slot lasts at most a day, so the run ends within
		// Slots days: the closures of those days are all it can meet.
		cal, err := e.loadCalendar(ctx, tx, tenantID, r.Resource, r.Start, r.Start.AddDate(0, 0, r.Slots+1), nil)
		if err != nil {
			return err
		}
		starts := make([]time.Time, r.Slots)
		for i := range starts {
			starts[i] = r.Start.In(cal.loc).Add(time.Duration(i) * cal.slot)
			if err := cal.check(starts[i], now); err != nil {
				return err
			}
		}
		// Queue for every slot of the run, in time order: contenders
		// for overlapping runs then meet the exclusion constraint one
		// after the other, never in a deadlock. Reserve queues for its
		// one slot the same way, so it waits here too.
		for _, s := range starts {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock("+lockClass+", hashtext(?))",
				lockKey(tenantID, r.Resource, s)); err != nil {
				return fmt.Errorf("queue for %s: %w", s.Format(time.RFC3339), err)
			}
		}
		b := &Booking{
			ResourceID: r.Resource, Start: starts[0], Status: Confirmed,
			CitizenID: r.Citizen, Contact: r.Contact, ServiceID: r.Service, OfficeID: r.Office, DossierID: r.Dossier,
			PriceCents: cal.priceCents * int64(r.Slots), Currency: cal.currency,
		}
		b.End = starts[len(starts)-1].Add(cal.slot)
		b.CancelDeadline = b.Start.Add(-cal.cancelDeadline)
		if b.OfficeID == 0 {
			b.OfficeID = cal.officeID
		}
		switch {
		case r.Hold:
			hold := cal.hold
			if r.HoldFor > 0 {
				hold = r.HoldFor
			}
			b.Status, b.ExpiresAt = Held, now.Add(hold).In(cal.loc)
		case cal.approval:
			b.Status = Pending
		}
		if err := e.lookInto(ctx, tx, tenantID, cal, b, now); err != nil {
			return err
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
		return nil, fmt.Errorf("reserve %d slots of resource %d from %s: %w", r.Slots, r.Resource, r.Start.Format(time.RFC3339), err)
	}
	return out, nil
}

// lookInto fills what the probe of a single slot would: the seats live
// bookings take somewhere in b's period, and whether an expired hold is in
// the way.
func (e *Engine) lookInto(ctx context.Context, tx bun.Tx, tenantID int64, cal *loaded, b *Booking, now time.Time) error {
	var taken []int64
	err := tx.QueryRowContext(ctx, `SELECT
			coalesce(array_agg(DISTINCT seat) FILTER (WHERE status <> 'held' OR expires_at > ?), '{}'),
			coalesce(bool_or(status = 'held' AND expires_at <= ?), false)
		FROM bookings WHERE tenant_id = ? AND resource_id = ? AND status IN ('held', 'pending', 'confirmed')
		  AND period && tstzrange(?::timestamptz, ?::timestamptz, '[)')`,
		now, now, tenantID, b.ResourceID, b.Start, b.End).Scan(pgdialect.Array(&taken), &cal.stale)
	if err != nil {
		return fmt.Errorf("look into %s..%s: %w", b.Start.Format(time.RFC3339), b.End.Format(time.RFC3339), err)
	}
	cal.taken = taken
	return nil
}
