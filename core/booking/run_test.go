package booking_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/payments"
)

// A hall open in two blocks a day, with a closing day, booked by the hour.
func hall(e *env, tenant int64, capacity int) *booking.Resource {
	r := e.resource(tenant, booking.Resource{Slug: "sala-civica", Kind: booking.Room, Capacity: capacity, PriceCents: 2500,
		Calendar: booking.Calendar{SlotMinutes: 60, HorizonDays: 90}},
		booking.Hours{Name: "mattina", Weekdays: weekdays, Opens: "09:00", Closes: "13:00"},
		booking.Hours{Name: "sera", Weekdays: weekdays, Opens: "17:00", Closes: "23:00"})
	must(e.eng.AddClosure(e.ctx, tenant, booking.Closure{ResourceID: r.ID, From: date(2026, 3, 25), To: date(2026, 3, 25), Reason: "Pulizie"}))(e.t)
	return r
}

func TestReserveRun(t *testing.T) {
	now := at(2026, 3, 16, 8, 0) // a Monday
	e := newEnv(t, now)
	tenant := e.tenant("roma")
	r := hall(e, tenant, 1)
	tests := []struct {
		name   string
		start  time.Time
		slots  int
		want   error
		rule   string
		refuse time.Time // the slot the refusal names
	}{
		{"three evening hours", at(2026, 3, 17, 18, 0), 3, nil, "", time.Time{}},
		{"the whole morning", at(2026, 3, 18, 9, 0), 4, nil, "", time.Time{}},
		{"one slot", at(2026, 3, 18, 17, 0), 0, nil, "", time.Time{}},
		{"past closing time", at(2026, 3, 19, 21, 0), 3, booking.ErrOutsideHours, booking.RuleHours, at(2026, 3, 19, 23, 0)},
		{"across the lunch break", at(2026, 3, 19, 12, 0), 2, booking.ErrOutsideHours, booking.RuleHours, at(2026, 3, 19, 13, 0)},
		{"on a closing day", at(2026, 3, 25, 9, 0), 2, booking.ErrClosed, booking.RuleClosed, at(2026, 3, 25, 9, 0)},
		{"in the past", at(2026, 3, 16, 7, 0), 2, booking.ErrPast, booking.RulePast, at(2026, 3, 16, 7, 0)},
		{"off the grid", at(2026, 3, 19, 9, 30), 2, booking.ErrOutsideHours, booking.RuleGrid, at(2026, 3, 19, 9, 30)},
		{"beyond the horizon", at(2026, 6, 16, 9, 0), 1, booking.ErrBeyondHorizon, booking.RuleHorizon, at(2026, 6, 16, 9, 0)},
		{"overlapping an earlier run", at(2026, 3, 17, 20, 0), 2, booking.ErrSlotTaken, "", time.Time{}},
		{"the slot before an earlier run, reaching into it", at(2026, 3, 17, 17, 0), 2, booking.ErrSlotTaken, "", time.Time{}},
		{"too many slots", at(2026, 3, 19, 9, 0), booking.MaxRunSlots + 1, booking.ErrInvalid, "", time.Time{}},
	}
	ok := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := e.eng.ReserveRun(e.ctx, tenant, booking.Run{Request: booking.Request{Resource: r.ID, Start: tt.start,
				Contact: guest("pro-loco"), Service: "roombooking"}, Slots: tt.slots})
			wantErr(t, "reserve run", err, tt.want)
			if tt.want == nil {
				if err != nil {
					return
				}
				ok++
				n := max(tt.slots, 1)
				if !b.Start.Equal(tt.start) || b.End.Sub(b.Start) != time.Duration(n)*time.Hour || b.PriceCents != int64(n)*2500 ||
					b.Status != booking.Confirmed || b.ServiceID != "roombooking" {
					t.Errorf("booked %s-%s, %d cents, %s, service %q", b.Start, b.End, b.PriceCents, b.Status, b.ServiceID)
				}
				return
			}
			var re *booking.RuleError
			if tt.rule != "" {
				if !errors.As(err, &re) || re.Rule != tt.rule || !re.Start.Equal(tt.refuse) {
					t.Errorf("refusal %v, want rule %s at %s", err, tt.rule, tt.refuse)
				}
			}
		})
	}
	if n := e.bookings("true"); n != ok {
		t.Errorf("%d bookings stored, want the %d accepted", n, ok)
	}
	// A run takes every slot it spans, as the free slots show.
	free := must(e.eng.Slots(e.ctx, tenant, r.ID, date(2026, 3, 17)))(t)
	if got := starts(free); len(got) != 7 || got[4] != "17:00" || got[5] != "21:00" {
		t.Errorf("free slots around a run: %v", got)
	}
}

// Two seats of a room: two runs share a slot, a third is refused; a run
// overlapping one booking on each seat is refused too.
func TestReserveRunCapacity(t *testing.T) {
	e := newEnv(t, at(2026, 3, 16, 8, 0))
	tenant := e.tenant("roma")
	r := hall(e, tenant, 2)
	book := func(start time.Time, slots int) (*booking.Booking, error) {
		return e.eng.ReserveRun(e.ctx, tenant, booking.Run{Request: booking.Request{Resource: r.ID, Start: start, Contact: guest("coro")}, Slots: slots})
	}
	a := must(book(at(2026, 3, 17, 9, 0), 2))(t)
	b := must(book(at(2026, 3, 17, 10, 0), 2))(t)
	if a.Seat == b.Seat {
		t.Fatalf("two overlapping runs on seat %d", a.Seat)
	}
	_, err := book(at(2026, 3, 17, 10, 0), 1)
	wantErr(t, "a third booking of 10:00", err, booking.ErrSlotTaken)
	_, err = book(at(2026, 3, 17, 9, 0), 4)
	wantErr(t, "a run over both seats' bookings", err, booking.ErrSlotTaken)
	must(book(at(2026, 3, 17, 11, 0), 2))(t) // seat of the first run is free from 11:00
}

// A hold keeps a run for the time asked; once it has run out, the run is
// free for another, and a payment can no longer confirm it.
func TestReserveRunHold(t *testing.T) {
	e := newEnv(t, at(2026, 3, 16, 8, 0))
	tenant := e.tenant("roma")
	r := hall(e, tenant, 1)
	start := at(2026, 3, 17, 18, 0)
	h := must(e.eng.ReserveRun(e.ctx, tenant, booking.Run{Request: booking.Request{Resource: r.ID, Start: start, Hold: true,
		Contact: guest("coro")}, Slots: 2, HoldFor: 40 * time.Minute}))(t)
	if h.Status != booking.Held || !h.ExpiresAt.Equal(at(2026, 3, 16, 8, 40)) {
		t.Fatalf("hold %s until %s", h.Status, h.ExpiresAt)
	}
	_, err := e.eng.ReserveRun(e.ctx, tenant, booking.Run{Request: booking.Request{Resource: r.ID, Start: start.Add(time.Hour),
		Contact: guest("banda")}})
	wantErr(t, "inside a live hold", err, booking.ErrSlotTaken)
	e.clock.Advance(41 * time.Minute)
	must(e.eng.ReserveRun(e.ctx, tenant, booking.Run{Request: booking.Request{Resource: r.ID, Start: start.Add(time.Hour),
		Contact: guest("banda")}}))(t)
	if got := must(e.eng.Get(e.ctx, tenant, h.Code, booking.Actor{Staff: true}))(t); got.Status != booking.Expired {
		t.Errorf("the hold in the way is %s", got.Status)
	}
	_, err = e.eng.ReserveRun(e.ctx, tenant, booking.Run{Request: booking.Request{Resource: r.ID, Start: start, Hold: true,
		Contact: guest("coro")}, HoldFor: 25 * time.Hour})
	wantErr(t, "a hold of more than a day", err, booking.ErrInvalid)
}

// Declaring a resource again with the same configuration writes nothing;
// a changed one replaces the hours and the resource's own closing days,
// and leaves the tenant's.
func TestDeclare(t *testing.T) {
	e := newEnv(t, at(2026, 3, 16, 8, 0))
	tenant := e.tenant("roma")
	holiday := must(e.eng.AddClosure(e.ctx, tenant, booking.Closure{From: date(2026, 6, 2), To: date(2026, 6, 2), Reason: "Festa della Repubblica"}))(t)
	r := booking.Resource{Slug: "roombooking--sala", Kind: booking.Room, Name: map[string]string{"it": "Sala"}, PriceCents: 1000,
		Calendar: booking.Calendar{SlotMinutes: 60}}
	hours := []booking.Hours{{Name: "sera", Weekdays: weekdays, Opens: "17:00", Closes: "23:00"}}
	closures := []booking.Closure{{From: date(2026, 8, 10), To: date(2026, 8, 20), Reason: "Ferie"}}
	first := must(e.eng.Declare(e.ctx, tenant, r, hours, closures))(t)
	stamp := func() time.Time {
		var at time.Time
		if err := e.db.Owner.NewRaw("SELECT updated_at FROM booking_resources WHERE id = ?", first.ID).Scan(e.ctx, &at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	before := stamp()
	again := must(e.eng.Declare(e.ctx, tenant, r, hours, closures))(t)
	if again.ID != first.ID || !stamp().Equal(before) {
		t.Errorf("declaring the same again wrote: id %d→%d, updated %s→%s", first.ID, again.ID, before, stamp())
	}
	if n := len(must(e.eng.Closures(e.ctx, tenant, first.ID, time.Time{}, time.Time{}))(t)); n != 2 {
		t.Errorf("%d closures after declaring twice, want the resource's and the tenant's", n)
	}

	r.PriceCents = 1500
	hours = append(hours, booking.Hours{Name: "sabato", Weekdays: []time.Weekday{time.Saturday}, Opens: "09:00", Closes: "13:00"})
	closures = []booking.Closure{{From: date(2026, 12, 24), To: date(2026, 12, 26), Reason: "Natale"}}
	changed := must(e.eng.Declare(e.ctx, tenant, r, hours, closures))(t)
	if changed.ID != first.ID || changed.PriceCents != 1500 {
		t.Errorf("changed resource %+v", changed)
	}
	if got := must(e.eng.Hours(e.ctx, tenant, first.ID))(t); len(got) != 2 {
		t.Errorf("hours %+v", got)
	}
	cs := must(e.eng.Closures(e.ctx, tenant, first.ID, time.Time{}, time.Time{}))(t)
	var reasons []string
	for _, c := range cs {
		reasons = append(reasons, c.Reason)
	}
	if len(cs) != 2 || cs[0].ID != holiday.ID || cs[1].Reason != "Natale" {
		t.Errorf("closures after a change: %v", reasons)
	}

	bad := []struct {
		name     string
		hours    []booking.Hours
		closures []booking.Closure
	}{
		{"closing before opening", []booking.Hours{{Name: "x", Weekdays: weekdays, Opens: "18:00", Closes: "17:00"}}, nil},
		{"no weekday", []booking.Hours{{Name: "x", Opens: "09:00", Closes: "10:00"}}, nil},
		{"a name twice", []booking.Hours{{Name: "x", Weekdays: weekdays, Opens: "09:00", Closes: "10:00"},
			{Name: "x", Weekdays: weekdays, Opens: "11:00", Closes: "12:00"}}, nil},
		{"a closure ending before it starts", hours, []booking.Closure{{From: date(2026, 5, 2), To: date(2026, 5, 1)}}},
	}
	r.PriceCents = 9900
	for _, tt := range bad {
		_, err := e.eng.Declare(e.ctx, tenant, r, tt.hours, tt.closures)
		wantErr(t, tt.name, err, booking.ErrInvalid)
	}
	if got := must(e.eng.ResourceBySlug(e.ctx, tenant, r.Slug))(t); got.PriceCents != 1500 {
		t.Errorf("a refused declaration changed the price to %d", got.PriceCents)
	}
	_, err := e.eng.ResourceBySlug(e.ctx, e.tenant("milano"), r.Slug)
	wantErr(t, "another tenant's slug", err, booking.ErrNotFound)
}

// The payment hold confirms a live hold (pending where approval is
// needed), refuses one that ran out, and releases what will not be paid.
func TestPaymentHold(t *testing.T) {
	e := newEnv(t, time.Now())
	tenant := e.tenant("roma")
	plain := e.resource(tenant, booking.Resource{Slug: "sala", Kind: booking.Room, PriceCents: 1000},
		booking.Hours{Name: "sempre", Weekdays: everyDay, Opens: "00:00", Closes: "24:00"})
	approval := e.resource(tenant, booking.Resource{Slug: "teatro", Kind: booking.Room, PriceCents: 1000, ApprovalRequired: true},
		booking.Hours{Name: "sempre", Weekdays: everyDay, Opens: "00:00", Closes: "24:00"})
	slot := time.Now().Add(48 * time.Hour).Truncate(24 * time.Hour)
	reserve := func(r *booking.Resource, start time.Time, hold bool) *booking.Booking {
		return must(e.eng.ReserveRun(e.ctx, tenant, booking.Run{Request: booking.Request{Resource: r.ID, Start: start, Hold: hold,
			Contact: guest("coro")}}))(t)
	}
	inTx := func(fn func(ctx context.Context, tx bun.Tx) error) error {
		return e.db.App.InTenant(e.ctx, tenant, fn)
	}
	var h payments.Hold = booking.PaymentHold{}
	status := func(b *booking.Booking) booking.Status {
		return must(e.eng.Get(e.ctx, tenant, b.Code, booking.Actor{Staff: true}))(t).Status
	}
	tests := []struct {
		name    string
		booking *booking.Booking
		prepare string // SQL run on the booking first, as the owner
		confirm bool   // else release
		want    booking.Status
		err     error
	}{
		{"paid hold", reserve(plain, slot, true), "", true, booking.Confirmed, nil},
		{"paid hold of a room with approval", reserve(approval, slot, true), "", true, booking.Pending, nil},
		{"paid after approval", reserve(plain, slot.Add(time.Hour), false), "", true, booking.Confirmed, nil},
		{"paid too late", reserve(plain, slot.Add(2*time.Hour), true), "UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id = ?", true, booking.Held, payments.ErrHoldLost},
		{"paid after a cancellation", reserve(plain, slot.Add(3*time.Hour), false), "UPDATE bookings SET status = 'cancelled' WHERE id = ?", true, booking.Cancelled, payments.ErrHoldLost},
		{"unpaid hold", reserve(plain, slot.Add(4*time.Hour), true), "", false, booking.Expired, nil},
		{"unpaid after approval", reserve(plain, slot.Add(5*time.Hour), false), "", false, booking.Cancelled, nil},
		{"released twice", reserve(plain, slot.Add(6*time.Hour), true), "UPDATE bookings SET status = 'expired' WHERE id = ?", false, booking.Expired, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.prepare != "" {
				if _, err := e.db.Owner.ExecContext(e.ctx, tt.prepare, tt.booking.ID); err != nil {
					t.Fatal(err)
				}
			}
			err := inTx(func(ctx context.Context, tx bun.Tx) error {
				if tt.confirm {
					return h.Confirm(ctx, tx, tenant, tt.booking.ID)
				}
				return h.Release(ctx, tx, tenant, tt.booking.ID)
			})
			wantErr(t, "hold", err, tt.err)
			if got := status(tt.booking); got != tt.want {
				t.Errorf("booking is %s, want %s", got, tt.want)
			}
		})
	}
	// Released, the slot is free again.
	must(e.eng.ReserveRun(e.ctx, tenant, booking.Run{Request: booking.Request{Resource: plain.ID, Start: slot.Add(4 * time.Hour),
		Contact: guest("banda")}}))(t)
	// Another tenant's transaction does not reach the booking.
	other := e.tenant("milano")
	err := e.db.App.InTenant(e.ctx, other, func(ctx context.Context, tx bun.Tx) error {
		return h.Confirm(ctx, tx, other, tests[0].booking.ID)
	})
	wantErr(t, "confirm from another tenant", err, payments.ErrHoldLost)
}
