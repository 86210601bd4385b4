package booking_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/core/booking"
)

// The town's desk of the rule tests: weekday mornings, Wednesday
// afternoons given by two overlapping rules, Saturdays in summer only, a
// closing day of its own and a town holiday.
func rulesDesk(e *env, tenant int64) *booking.Resource {
	r := e.resource(tenant, booking.Resource{Slug: "anagrafe", Calendar: booking.Calendar{
		SlotMinutes: 30, HorizonDays: 30, MinNoticeMinutes: 60,
	}},
		booking.Hours{Name: "mattina", Weekdays: weekdays, Opens: "08:30", Closes: "12:00"},
		booking.Hours{Name: "mercoledì pomeriggio", Weekdays: []time.Weekday{time.Wednesday}, Opens: "14:00", Closes: "16:30"},
		booking.Hours{Name: "mercoledì sera", Weekdays: []time.Weekday{time.Wednesday}, Opens: "16:00", Closes: "17:00"},
		booking.Hours{Name: "sabato estivo", Weekdays: []time.Weekday{time.Saturday}, Opens: "09:00", Closes: "10:00",
			ValidFrom: date(2026, 4, 1), ValidTo: date(2026, 9, 30)},
	)
	must(e.eng.AddClosure(e.ctx, tenant, booking.Closure{ResourceID: r.ID, From: date(2026, 3, 19), To: date(2026, 3, 19), Reason: "San Giuseppe"}))(e.t)
	must(e.eng.AddClosure(e.ctx, tenant, booking.Closure{From: date(2026, 3, 20), To: date(2026, 3, 20), Reason: "Festa del patrono"}))(e.t)
	return r
}

func TestReserveRules(t *testing.T) {
	now := at(2026, 3, 16, 10, 0) // a Monday
	e := newEnv(t, now)
	tenant := e.tenant("roma")
	desk := rulesDesk(e, tenant)
	tests := []struct {
		name   string
		start  time.Time
		want   error
		rule   string
		limit  time.Time
		reason string
	}{
		{"first slot of a morning", at(2026, 3, 17, 8, 30), nil, "", time.Time{}, ""},
		{"last slot of a morning", at(2026, 3, 17, 11, 30), nil, "", time.Time{}, ""},
		{"asked in UTC", time.Date(2026, 3, 17, 8, 0, 0, 0, time.UTC), nil, "", time.Time{}, ""}, // 09:00 in Rome
		{"off the slot grid", at(2026, 3, 17, 8, 45), booking.ErrOutsideHours, booking.RuleGrid, time.Time{}, ""},
		{"slot running past closing", at(2026, 3, 17, 11, 45), booking.ErrOutsideHours, booking.RuleGrid, time.Time{}, ""},
		{"before opening", at(2026, 3, 17, 8, 0), booking.ErrOutsideHours, booking.RuleHours, time.Time{}, ""},
		{"afternoon of a Tuesday", at(2026, 3, 17, 14, 0), booking.ErrOutsideHours, booking.RuleHours, time.Time{}, ""},
		{"Wednesday afternoon", at(2026, 3, 18, 14, 0), nil, "", time.Time{}, ""},
		{"where two Wednesday rules overlap", at(2026, 3, 18, 16, 0), nil, "", time.Time{}, ""},
		{"only the later Wednesday rule", at(2026, 3, 18, 16, 30), nil, "", time.Time{}, ""},
		{"after the later Wednesday rule", at(2026, 3, 18, 17, 0), booking.ErrOutsideHours, booking.RuleHours, time.Time{}, ""},
		{"in the past", at(2026, 3, 16, 8, 30), booking.ErrPast, booking.RulePast, now.Add(time.Hour), ""},
		{"within the notice", at(2026, 3, 16, 10, 30), booking.ErrPast, booking.RuleNotice, now.Add(time.Hour), ""},
		{"exactly the notice", at(2026, 3, 16, 11, 0), nil, "", time.Time{}, ""},
		{"last day of the horizon", at(2026, 4, 15, 8, 30), nil, "", time.Time{}, ""},
		{"beyond the horizon", at(2026, 4, 16, 8, 30), booking.ErrBeyondHorizon, booking.RuleHorizon, date(2026, 4, 15), ""},
		{"the desk's closing day", at(2026, 3, 19, 9, 0), booking.ErrClosed, booking.RuleClosed, time.Time{}, "San Giuseppe"},
		{"the town's holiday", at(2026, 3, 20, 9, 0), booking.ErrClosed, booking.RuleClosed, time.Time{}, "Festa del patrono"},
		{"a Saturday before summer", at(2026, 3, 28, 9, 0), booking.ErrOutsideHours, booking.RuleHours, time.Time{}, ""},
		{"a Saturday in summer", at(2026, 4, 4, 9, 0), nil, "", time.Time{}, ""},
	}
	ok := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: tt.start, Contact: guest("mario")})
			wantErr(t, "reserve", err, tt.want)
			if tt.want == nil {
				if err == nil {
					ok++
					if !b.Start.Equal(tt.start) || b.End.Sub(b.Start) != 30*time.Minute || b.Start.Location().String() != "Europe/Rome" || b.Status != booking.Confirmed {
						t.Errorf("booked %s-%s (%s) %s", b.Start, b.End, b.Start.Location(), b.Status)
					}
				}
				return
			}
			var re *booking.RuleError
			if !errors.As(err, &re) {
				t.Fatalf("%v is no *RuleError", err)
			}
			if re.Rule != tt.rule || !re.Limit.Equal(tt.limit) || re.Reason != tt.reason || !re.Start.Equal(tt.start) {
				t.Errorf("rule %q limit %s reason %q start %s; want %q %s %q %s", re.Rule, re.Limit, re.Reason, re.Start, tt.rule, tt.limit, tt.reason, tt.start)
			}
			if re.Start.Location().String() != "Europe/Rome" {
				t.Errorf("refusal names %s in %s, want the resource's zone", re.Start, re.Start.Location())
			}
		})
	}
	if n := e.bookings("true"); n != ok {
		t.Errorf("%d bookings stored, want the %d accepted", n, ok)
	}
}

// On the days the clocks change, slots follow the wall clock: a day open
// round the clock has 23 or 25 hourly slots, and 08:00 is 08:00 local.
func TestDaylightSavingDays(t *testing.T) {
	e := newEnv(t, at(2026, 3, 1, 12, 0))
	tenant := e.tenant("roma")
	room := e.resource(tenant, booking.Resource{Slug: "sala", Kind: booking.Room, Calendar: booking.Calendar{SlotMinutes: 60, HorizonDays: 300}},
		booking.Hours{Name: "sempre", Weekdays: everyDay, Opens: "00:00", Closes: "24:00"})
	hours := func(slots []booking.Slot) []int {
		var out []int
		for _, s := range slots {
			out = append(out, s.Start.Hour())
			if s.End.Sub(s.Start) != time.Hour {
				t.Errorf("slot %s-%s is not an hour", s.Start, s.End)
			}
		}
		return out
	}
	seq := func(from, to int) []int {
		var out []int
		for h := from; h <= to; h++ {
			out = append(out, h)
		}
		return out
	}
	for _, tt := range []struct {
		day  time.Time
		want []int
	}{
		{date(2026, 3, 28), seq(0, 23)},
		{date(2026, 3, 29), append([]int{0, 1}, seq(3, 23)...)},        // 02:00 does not exist
		{date(2026, 10, 25), append([]int{0, 1, 2, 2}, seq(3, 23)...)}, // 02:00 happens twice
	} {
		got := hours(must(e.eng.Slots(e.ctx, tenant, room.ID, tt.day))(t))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: slots at hours %v, want %v", tt.day.Format(time.DateOnly), got, tt.want)
		}
	}
	// 08:00 in Rome is 07:00 UTC the day before the change, 06:00 UTC on it.
	for _, tt := range []struct{ local, utc time.Time }{
		{at(2026, 3, 28, 8, 0), time.Date(2026, 3, 28, 7, 0, 0, 0, time.UTC)},
		{at(2026, 3, 29, 8, 0), time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC)},
	} {
		b := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: room.ID, Start: tt.utc, Contact: guest("anna")}))(t)
		if !b.Start.Equal(tt.local) || b.Start.Hour() != 8 {
			t.Errorf("booked %s, want %s", b.Start, tt.local)
		}
	}
	// In the autumn night 02:00 comes twice, and both are slots; 02:30 is
	// on neither's grid.
	_, err := e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: room.ID, Start: time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), Contact: guest("anna")})
	wantErr(t, "half past on the repeated hour", err, booking.ErrOutsideHours)
	must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: room.ID, Start: time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), Contact: guest("anna")}))(t)
	must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: room.ID, Start: time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC), Contact: guest("bruno")}))(t)
}

// Capacity 3 under 50 simultaneous attempts: exactly three win, each on
// its own seat; every other attempt is ErrSlotTaken and nothing else.
func TestCapacityUnderContention(t *testing.T) {
	e := newEnv(t, at(2026, 3, 16, 7, 0))
	tenant := e.tenant("roma")
	expert := e.resource(tenant, booking.Resource{Slug: "consulente", Kind: booking.Expert, Capacity: 3},
		booking.Hours{Name: "mattina", Weekdays: weekdays, Opens: "09:00", Closes: "12:00"})
	start := at(2026, 3, 17, 10, 0)
	const attempts = 50
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		won      []*booking.Booking
		taken    int
		failures []error
	)
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: expert.ID, Start: start, Contact: guest("p" + string(rune('a'+i%26)))})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, b)
			case errors.Is(err, booking.ErrSlotTaken):
				taken++
			default:
				failures = append(failures, err)
			}
		}()
	}
	wg.Wait()
	if len(won) != 3 || taken != attempts-3 || len(failures) > 0 {
		t.Fatalf("%d booked, %d refused as taken, other errors %v; want 3, %d, none", len(won), taken, failures, attempts-3)
	}
	var seats []int
	for _, b := range won {
		seats = append(seats, b.Seat)
	}
	slices.Sort(seats)
	if !slices.Equal(seats, []int{1, 2, 3}) {
		t.Errorf("seats %v, want 1 2 3", seats)
	}
	if n := e.bookings("status = 'confirmed'"); n != 3 {
		t.Errorf("%d confirmed rows, want 3", n)
	}
	for _, s := range must(e.eng.Slots(e.ctx, tenant, expert.ID, start))(t) {
		if s.Start.Equal(start) {
			t.Errorf("the full slot is still offered with %d free", s.Free)
		}
	}
}

func TestHoldExpiresAndFreesTheSlot(t *testing.T) {
	e := newEnv(t, at(2026, 3, 16, 7, 0))
	tenant := e.tenant("roma")
	desk := e.resource(tenant, booking.Resource{Slug: "tributi", Calendar: booking.Calendar{HoldMinutes: 10}},
		booking.Hours{Name: "mattina", Weekdays: weekdays, Opens: "09:00", Closes: "10:00"})
	slot := at(2026, 3, 17, 9, 0)
	free := func() bool {
		return slices.Contains(starts(must(e.eng.Slots(e.ctx, tenant, desk.ID, slot))(t)), "09:00")
	}
	anna := booking.Actor{Email: "anna@example.org"}

	hold := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: slot, Hold: true, Contact: guest("anna")}))(t)
	if hold.Status != booking.Held || !hold.ExpiresAt.Equal(e.clock.Now().Add(10*time.Minute)) {
		t.Fatalf("hold: %s until %s", hold.Status, hold.ExpiresAt)
	}
	if free() {
		t.Error("a held slot is offered")
	}
	_, err := e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: slot, Contact: guest("bruno")})
	wantErr(t, "reserve a held slot", err, booking.ErrSlotTaken)

	e.clock.Advance(10 * time.Minute)
	if !free() {
		t.Error("an expired hold still blocks the slot in Slots")
	}
	b := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: slot, Contact: guest("bruno")}))(t)
	if b.Status != booking.Confirmed || b.Seat != 1 {
		t.Errorf("after the hold expired: %s on seat %d", b.Status, b.Seat)
	}
	_, err = e.eng.Confirm(e.ctx, tenant, hold.Code, anna)
	wantErr(t, "confirm an expired hold", err, booking.ErrHoldExpired)
	if got := must(e.eng.Get(e.ctx, tenant, hold.Code, anna))(t); got.Status != booking.Expired {
		t.Errorf("the expired hold is %s", got.Status)
	}

	// Confirmed in time, a hold becomes a booking.
	second := at(2026, 3, 17, 9, 30)
	hold2 := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: second, Hold: true, Contact: guest("anna")}))(t)
	e.clock.Advance(9 * time.Minute)
	if c := must(e.eng.Confirm(e.ctx, tenant, typed(hold2.Code), anna))(t); c.Status != booking.Confirmed || !c.ExpiresAt.IsZero() {
		t.Errorf("confirmed hold: %s, expires %s", c.Status, c.ExpiresAt)
	}

	// The sweeper marks what nobody bumped into.
	e.clock.Set(at(2026, 3, 16, 8, 0))
	must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: at(2026, 3, 18, 9, 0), Hold: true, Contact: guest("carla")}))(t)
	if n := must(e.eng.Expire(e.ctx, tenant))(t); n != 0 {
		t.Errorf("expired %d live holds", n)
	}
	e.clock.Advance(15 * time.Minute)
	if n := must(e.eng.ExpireAll(e.ctx))(t); n != 1 {
		t.Errorf("ExpireAll expired %d holds, want 1", n)
	}
	if n := e.bookings("status = 'held'"); n != 0 {
		t.Errorf("%d holds left after the sweep", n)
	}
}

// typed is a code as someone types it: lower case, spaces around.
func typed(code string) string { return "  " + strings.ToLower(code) + " " }

func TestApproval(t *testing.T) {
	e := newEnv(t, at(2026, 3, 16, 7, 0))
	tenant := e.tenant("roma")
	room := e.resource(tenant, booking.Resource{Slug: "sala-consiglio", Kind: booking.Room, ApprovalRequired: true, PriceCents: 4000,
		Calendar: booking.Calendar{SlotMinutes: 240}},
		booking.Hours{Name: "serate", Weekdays: everyDay, Opens: "18:00", Closes: "22:00"})
	b := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: room.ID, Start: at(2026, 3, 20, 18, 0), Contact: guest("proloco")}))(t)
	if b.Status != booking.Pending || b.PriceCents != 4000 || b.Currency != "EUR" {
		t.Fatalf("booking of a room with approval: %s, %d %s", b.Status, b.PriceCents, b.Currency)
	}
	_, err := e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: room.ID, Start: at(2026, 3, 20, 18, 0), Contact: guest("coro")})
	wantErr(t, "a pending booking keeps its slot", err, booking.ErrSlotTaken)
	if a := must(e.eng.Approve(e.ctx, tenant, b.Code))(t); a.Status != booking.Confirmed {
		t.Errorf("approved: %s", a.Status)
	}
	_, err = e.eng.Decline(e.ctx, tenant, b.Code, "")
	wantErr(t, "decline a confirmed booking", err, booking.ErrWrongState)

	h := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: room.ID, Start: at(2026, 3, 21, 18, 0), Hold: true, Contact: guest("coro")}))(t)
	if c := must(e.eng.Confirm(e.ctx, tenant, h.Code, booking.Actor{Staff: true}))(t); c.Status != booking.Pending {
		t.Errorf("a confirmed hold on a room with approval is %s", c.Status)
	}
	d := must(e.eng.Decline(e.ctx, tenant, h.Code, "Sala in manutenzione"))(t)
	if d.Status != booking.Cancelled || d.CancelReason != "Sala in manutenzione" {
		t.Errorf("declined: %s %q", d.Status, d.CancelReason)
	}
	must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: room.ID, Start: at(2026, 3, 21, 18, 0), Contact: guest("banda")}))(t)
}

func TestCancelDeadline(t *testing.T) {
	now := at(2026, 3, 16, 9, 0)
	e := newEnv(t, now)
	tenant := e.tenant("roma")
	mario := e.citizen(tenant, "Mario Rossi", "mario@example.org")
	desk := e.resource(tenant, booking.Resource{Slug: "anagrafe", Calendar: booking.Calendar{CancelDeadlineMinutes: 24 * 60}},
		booking.Hours{Name: "mattina", Weekdays: weekdays, Opens: "09:00", Closes: "12:00"})
	slot := at(2026, 3, 18, 10, 0)
	as := booking.Actor{Citizen: mario}

	b := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: slot, Citizen: mario}))(t)
	if !b.CancelDeadline.Equal(at(2026, 3, 17, 10, 0)) {
		t.Errorf("deadline %s", b.CancelDeadline)
	}
	c := must(e.eng.Cancel(e.ctx, tenant, b.Code, as, ""))(t)
	if c.Status != booking.Cancelled {
		t.Fatalf("cancelled before the deadline: %s", c.Status)
	}
	must(e.eng.Cancel(e.ctx, tenant, b.Code, as, ""))(t) // twice is no error

	b = must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: slot, Citizen: mario}))(t)
	e.clock.Set(at(2026, 3, 17, 10, 1))
	_, err := e.eng.Cancel(e.ctx, tenant, b.Code, as, "")
	var de *booking.DeadlineError
	if !errors.As(err, &de) || !errors.Is(err, booking.ErrCancelDeadline) {
		t.Fatalf("cancel after the deadline: %v", err)
	}
	if !de.Deadline.Equal(at(2026, 3, 17, 10, 0)) || de.Deadline.Location().String() != "Europe/Rome" || de.Code != b.Code {
		t.Errorf("deadline named %s (%s) for %s", de.Deadline, de.Deadline.Location(), de.Code)
	}
	_, err = e.eng.Move(e.ctx, tenant, b.Code, at(2026, 3, 18, 11, 0), as)
	wantErr(t, "move after the deadline", err, booking.ErrCancelDeadline)
	if got := must(e.eng.Get(e.ctx, tenant, b.Code, as))(t); got.Status != booking.Confirmed || !got.Start.Equal(slot) {
		t.Errorf("a refused cancellation changed the booking: %s at %s", got.Status, got.Start)
	}
	if c := must(e.eng.Cancel(e.ctx, tenant, b.Code, booking.Actor{Staff: true}, "Ufficio chiuso per sciopero"))(t); c.Status != booking.Cancelled || c.CancelReason == "" {
		t.Errorf("staff cancel after the deadline: %s %q", c.Status, c.CancelReason)
	}
}

func TestMove(t *testing.T) {
	e := newEnv(t, at(2026, 3, 16, 7, 0))
	tenant := e.tenant("roma")
	desk := e.resource(tenant, booking.Resource{Slug: "anagrafe"},
		booking.Hours{Name: "mattina", Weekdays: weekdays, Opens: "09:00", Closes: "11:00"})
	anna := booking.Actor{Email: "Anna@Example.org"}
	b := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: at(2026, 3, 17, 9, 0), Contact: guest("anna")}))(t)
	other := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: at(2026, 3, 17, 10, 0), Contact: guest("bruno")}))(t)

	m := must(e.eng.Move(e.ctx, tenant, b.Code, at(2026, 3, 17, 9, 30), anna))(t)
	if m.Code != b.Code || m.ID != b.ID || !m.Start.Equal(at(2026, 3, 17, 9, 30)) || m.Status != booking.Confirmed {
		t.Errorf("moved: %s %s at %s", m.Code, m.Status, m.Start)
	}
	if got := starts(must(e.eng.Slots(e.ctx, tenant, desk.ID, date(2026, 3, 17)))(t)); !slices.Equal(got, []string{"09:00", "10:30"}) {
		t.Errorf("free after the move: %v", got)
	}
	for _, tt := range []struct {
		name  string
		start time.Time
		want  error
	}{
		{"onto a taken slot", other.Start, booking.ErrSlotTaken},
		{"outside hours", at(2026, 3, 17, 12, 0), booking.ErrOutsideHours},
		{"into the past", at(2026, 3, 16, 6, 0), booking.ErrPast},
	} {
		_, err := e.eng.Move(e.ctx, tenant, b.Code, tt.start, anna)
		wantErr(t, tt.name, err, tt.want)
	}
	if got := must(e.eng.Get(e.ctx, tenant, b.Code, anna))(t); !got.Start.Equal(m.Start) || got.Status != booking.Confirmed {
		t.Errorf("a refused move changed the booking: %s at %s", got.Status, got.Start)
	}
	// Onto a period overlapping its own: an hour booked before the room's
	// slots became half-hours, moved by half an hour.
	room := booking.Resource{Slug: "sala", Kind: booking.Room, Calendar: booking.Calendar{SlotMinutes: 60}}
	roomID := e.resource(tenant, room, booking.Hours{Name: "mattina", Weekdays: weekdays, Opens: "09:00", Closes: "11:00"}).ID
	r := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: roomID, Start: at(2026, 3, 17, 9, 0), Contact: guest("anna")}))(t)
	room.Calendar.SlotMinutes = 30
	e.resource(tenant, room, booking.Hours{Name: "mattina", Weekdays: weekdays, Opens: "09:00", Closes: "11:00"})
	if m := must(e.eng.Move(e.ctx, tenant, r.Code, at(2026, 3, 17, 9, 30), anna))(t); !m.End.Equal(at(2026, 3, 17, 10, 0)) {
		t.Errorf("moved onto half-hour slots: ends %s", m.End)
	}
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t, at(2026, 3, 16, 7, 0))
	a, b := e.tenant("roma"), e.tenant("milano")
	hours := booking.Hours{Name: "mattina", Weekdays: weekdays, Opens: "09:00", Closes: "10:00"}
	deskA := e.resource(a, booking.Resource{Slug: "anagrafe"}, hours)
	slot := at(2026, 3, 17, 9, 0)
	mine := must(e.eng.Reserve(e.ctx, a, booking.Request{Resource: deskA.ID, Start: slot, Contact: guest("anna")}))(t)
	staff := booking.Actor{Staff: true}

	_, err := e.eng.Get(e.ctx, b, mine.Code, staff)
	wantErr(t, "get across tenants", err, booking.ErrNotFound)
	_, err = e.eng.Cancel(e.ctx, b, mine.Code, staff, "")
	wantErr(t, "cancel across tenants", err, booking.ErrNotFound)
	_, err = e.eng.Move(e.ctx, b, mine.Code, at(2026, 3, 17, 9, 30), staff)
	wantErr(t, "move across tenants", err, booking.ErrNotFound)
	_, err = e.eng.Approve(e.ctx, b, mine.Code)
	wantErr(t, "approve across tenants", err, booking.ErrNotFound)
	_, err = e.eng.Reserve(e.ctx, b, booking.Request{Resource: deskA.ID, Start: at(2026, 3, 17, 9, 30), Contact: guest("bruno")})
	wantErr(t, "reserve another tenant's resource", err, booking.ErrNotFound)
	_, err = e.eng.Slots(e.ctx, b, deskA.ID, slot)
	wantErr(t, "slots of another tenant's resource", err, booking.ErrNotFound)
	_, err = e.eng.Resource(e.ctx, b, deskA.ID)
	wantErr(t, "another tenant's resource", err, booking.ErrNotFound)
	err = e.eng.SetHours(e.ctx, b, deskA.ID, nil)
	wantErr(t, "set another tenant's hours", err, booking.ErrNotFound)
	_, err = e.eng.AddClosure(e.ctx, b, booking.Closure{ResourceID: deskA.ID, From: date(2026, 3, 17), To: date(2026, 3, 17)})
	wantErr(t, "close another tenant's resource", err, booking.ErrNotFound)
	if l := must(e.eng.List(e.ctx, b, booking.Filter{}))(t); len(l) != 0 {
		t.Errorf("tenant b lists %d bookings of tenant a", len(l))
	}
	if rs := must(e.eng.Resources(e.ctx, b))(t); len(rs) != 0 {
		t.Errorf("tenant b lists %d resources of tenant a", len(rs))
	}
	// The same slug, the same time, another town: no conflict.
	deskB := e.resource(b, booking.Resource{Slug: "anagrafe"}, hours)
	must(e.eng.Reserve(e.ctx, b, booking.Request{Resource: deskB.ID, Start: slot, Contact: guest("bruno")}))(t)
	// A town-wide closure of b does not close a.
	must(e.eng.AddClosure(e.ctx, b, booking.Closure{From: date(2026, 3, 18), To: date(2026, 3, 18), Reason: "Patrono"}))(t)
	must(e.eng.Reserve(e.ctx, a, booking.Request{Resource: deskA.ID, Start: at(2026, 3, 18, 9, 0), Contact: guest("carla")}))(t)
	if got := must(e.eng.Get(e.ctx, a, mine.Code, staff))(t); got.Status != booking.Confirmed {
		t.Errorf("tenant a's booking is %s", got.Status)
	}
}

func TestWhoMaySeeABooking(t *testing.T) {
	e := newEnv(t, at(2026, 3, 16, 7, 0))
	tenant := e.tenant("roma")
	mario, lucia := e.citizen(tenant, "Mario Rossi", "mario@example.org"), e.citizen(tenant, "Lucia Bianchi", "lucia@example.org")
	desk := e.resource(tenant, booking.Resource{Slug: "anagrafe"},
		booking.Hours{Name: "mattina", Weekdays: weekdays, Opens: "09:00", Closes: "10:00"})
	byMario := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: at(2026, 3, 17, 9, 0), Citizen: mario}))(t)
	byGuest := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: at(2026, 3, 17, 9, 30), Contact: booking.Contact{Name: "Anna", Phone: "+39 06 1234567", Email: "anna@example.org"}}))(t)
	for _, tt := range []struct {
		name string
		code string
		by   booking.Actor
		want error
	}{
		{"the citizen", byMario.Code, booking.Actor{Citizen: mario}, nil},
		{"another citizen", byMario.Code, booking.Actor{Citizen: lucia}, booking.ErrNotFound},
		{"a visitor by e-mail", byMario.Code, booking.Actor{Email: "mario@example.org"}, booking.ErrNotFound},
		{"nobody", byMario.Code, booking.Actor{}, booking.ErrNotFound},
		{"staff", byMario.Code, booking.Actor{Staff: true}, nil},
		{"the visitor", byGuest.Code, booking.Actor{Email: " ANNA@example.org"}, nil},
		{"another visitor", byGuest.Code, booking.Actor{Email: "bruno@example.org"}, booking.ErrNotFound},
		{"a citizen", byGuest.Code, booking.Actor{Citizen: lucia}, booking.ErrNotFound},
		{"a malformed code", "K7M2-QX9", booking.Actor{Staff: true}, booking.ErrInvalid},
		{"an unknown code", "K7M2QX9P", booking.Actor{Staff: true}, booking.ErrNotFound},
	} {
		_, err := e.eng.Get(e.ctx, tenant, tt.code, tt.by)
		wantErr(t, "get: "+tt.name, err, tt.want)
		if tt.want != nil {
			_, err = e.eng.Cancel(e.ctx, tenant, tt.code, tt.by, "")
			wantErr(t, "cancel: "+tt.name, err, tt.want)
		}
	}
	if n := e.bookings("status = 'confirmed'"); n != 2 {
		t.Errorf("%d confirmed bookings left, want 2", n)
	}
}

func TestDaysOffersOnlyDaysWithFreeSlots(t *testing.T) {
	e := newEnv(t, at(2026, 3, 16, 9, 15)) // Monday, after its first slot
	tenant := e.tenant("roma")
	desk := e.resource(tenant, booking.Resource{Slug: "anagrafe", Calendar: booking.Calendar{HorizonDays: 10}},
		booking.Hours{Name: "mattina", Weekdays: weekdays, Opens: "09:00", Closes: "10:00"})
	must(e.eng.AddClosure(e.ctx, tenant, booking.Closure{ResourceID: desk.ID, From: date(2026, 3, 19), To: date(2026, 3, 19)}))(t)
	for _, s := range []time.Time{at(2026, 3, 18, 9, 0), at(2026, 3, 18, 9, 30)} { // Wednesday full
		must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: s, Contact: guest("anna")}))(t)
	}
	must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: at(2026, 3, 20, 9, 0), Contact: guest("anna")}))(t) // Friday half full

	days := must(e.eng.Days(e.ctx, tenant, desk.ID, date(2026, 3, 16), date(2026, 3, 31)))(t)
	var got []string
	for _, d := range days {
		got = append(got, d.Format(time.DateOnly))
		if d.Location().String() != "Europe/Rome" || d.Hour() != 0 {
			t.Errorf("day %s is not a midnight in Rome", d)
		}
	}
	// Monday: 09:00 passed, 09:30 still free. Not Wednesday (full), Thursday
	// (closed), weekends, or past the horizon (26 March).
	want := []string{"2026-03-16", "2026-03-17", "2026-03-20", "2026-03-23", "2026-03-24", "2026-03-25", "2026-03-26"}
	if !slices.Equal(got, want) {
		t.Errorf("days %v, want %v", got, want)
	}
	for _, s := range days {
		if len(must(e.eng.Slots(e.ctx, tenant, desk.ID, s))(t)) == 0 {
			t.Errorf("Days offers %s, which has no free slot", s.Format(time.DateOnly))
		}
	}
	if got := starts(must(e.eng.Slots(e.ctx, tenant, desk.ID, date(2026, 3, 20)))(t)); !slices.Equal(got, []string{"09:30"}) {
		t.Errorf("Friday offers %v", got)
	}
	e.clock.Set(at(2026, 3, 16, 9, 31))
	if got := starts(must(e.eng.Slots(e.ctx, tenant, desk.ID, date(2026, 3, 16)))(t)); len(got) != 0 {
		t.Errorf("a started slot is offered: %v", got)
	}
}

func TestList(t *testing.T) {
	e := newEnv(t, at(2026, 3, 16, 7, 0))
	tenant := e.tenant("roma")
	office := e.office(tenant, "anagrafe")
	mario := e.citizen(tenant, "Mario Rossi", "mario@example.org")
	desk := e.resource(tenant, booking.Resource{Slug: "anagrafe", OfficeID: office},
		booking.Hours{Name: "mattina", Weekdays: weekdays, Opens: "09:00", Closes: "10:00"})
	other := e.resource(tenant, booking.Resource{Slug: "tributi"},
		booking.Hours{Name: "mattina", Weekdays: weekdays, Opens: "09:00", Closes: "10:00"})
	b1 := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: at(2026, 3, 17, 9, 30), Citizen: mario}))(t)
	b2 := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: desk.ID, Start: at(2026, 3, 17, 9, 0), Contact: booking.Contact{Name: "anna_100%", Phone: "+39 06 123456"}}))(t)
	b3 := must(e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: other.ID, Start: at(2026, 3, 18, 9, 0), Contact: guest("bruno")}))(t)
	must(e.eng.Cancel(e.ctx, tenant, b3.Code, booking.Actor{Staff: true}, ""))(t)
	if b1.OfficeID != office {
		t.Errorf("booking's office %d, want the resource's %d", b1.OfficeID, office)
	}
	codes := func(bs []booking.Booking) []string {
		var out []string
		for _, b := range bs {
			out = append(out, b.Code)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		f    booking.Filter
		want []string
	}{
		{"all, by time", booking.Filter{}, []string{b2.Code, b1.Code, b3.Code}},
		{"a day", booking.Filter{Day: date(2026, 3, 17)}, []string{b2.Code, b1.Code}},
		{"an office", booking.Filter{Office: office}, []string{b2.Code, b1.Code}},
		{"a resource", booking.Filter{Resource: other.ID}, []string{b3.Code}},
		{"a code", booking.Filter{Code: b1.Code}, []string{b1.Code}},
		{"a citizen's name", booking.Filter{Name: "ROSSI"}, []string{b1.Code}},
		{"a contact's name, wildcards literal", booking.Filter{Name: "_100%"}, []string{b2.Code}},
		{"a percent sign matches itself", booking.Filter{Name: "%"}, []string{b2.Code}},
		{"cancelled", booking.Filter{Statuses: []booking.Status{booking.Cancelled}}, []string{b3.Code}},
		{"limit", booking.Filter{Limit: 1}, []string{b2.Code}},
	} {
		if got := codes(must(e.eng.List(e.ctx, tenant, tt.f))(t)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	_, err := e.eng.List(e.ctx, tenant, booking.Filter{Statuses: []booking.Status{"lost"}})
	wantErr(t, "unknown status", err, booking.ErrInvalid)
}

// Bad input is refused with ErrInvalid or ErrNotFound and stores nothing.
func TestBadInput(t *testing.T) {
	e := newEnv(t, at(2026, 3, 16, 7, 0))
	tenant := e.tenant("roma")
	desk := e.resource(tenant, booking.Resource{Slug: "anagrafe"},
		booking.Hours{Name: "mattina", Weekdays: weekdays, Opens: "09:00", Closes: "10:00"})
	slot := at(2026, 3, 17, 9, 0)
	for _, tt := range []struct {
		name string
		r    booking.Request
		want error
	}{
		{"no resource", booking.Request{Start: slot, Contact: guest("a")}, booking.ErrInvalid},
		{"no time", booking.Request{Resource: desk.ID, Contact: guest("a")}, booking.ErrInvalid},
		{"nobody", booking.Request{Resource: desk.ID, Start: slot}, booking.ErrInvalid},
		{"a name only", booking.Request{Resource: desk.ID, Start: slot, Contact: booking.Contact{Name: "Anna"}}, booking.ErrInvalid},
		{"a bad e-mail", booking.Request{Resource: desk.ID, Start: slot, Contact: booking.Contact{Name: "Anna", Email: "anna@"}}, booking.ErrInvalid},
		{"a bad phone", booking.Request{Resource: desk.ID, Start: slot, Contact: booking.Contact{Name: "Anna", Phone: "call me"}}, booking.ErrInvalid},
		{"a bad service", booking.Request{Resource: desk.ID, Start: slot, Contact: guest("a"), Service: "Appointments!"}, booking.ErrInvalid},
		{"an unknown citizen", booking.Request{Resource: desk.ID, Start: slot, Citizen: 999}, booking.ErrInvalid},
		{"an unknown office", booking.Request{Resource: desk.ID, Start: slot, Contact: guest("a"), Office: 999}, booking.ErrInvalid},
		{"an unknown resource", booking.Request{Resource: 999, Start: slot, Contact: guest("a")}, booking.ErrNotFound},
	} {
		_, err := e.eng.Reserve(e.ctx, tenant, tt.r)
		wantErr(t, "reserve: "+tt.name, err, tt.want)
	}
	for _, tt := range []struct {
		name string
		r    booking.Resource
	}{
		{"no kind", booking.Resource{Slug: "x", Name: map[string]string{"it": "X"}}},
		{"a bad slug", booking.Resource{Kind: booking.Desk, Slug: "Sala 1", Name: map[string]string{"it": "X"}}},
		{"no name", booking.Resource{Kind: booking.Desk, Slug: "x"}},
		{"a bad language", booking.Resource{Kind: booking.Desk, Slug: "x", Name: map[string]string{"italiano": "X"}}},
		{"a bad zone", booking.Resource{Kind: booking.Desk, Slug: "x", Name: map[string]string{"it": "X"}, Calendar: booking.Calendar{TimeZone: "Europe/Atlantis"}}},
		{"short slots", booking.Resource{Kind: booking.Desk, Slug: "x", Name: map[string]string{"it": "X"}, Calendar: booking.Calendar{SlotMinutes: 1}}},
		{"negative capacity", booking.Resource{Kind: booking.Desk, Slug: "x", Name: map[string]string{"it": "X"}, Capacity: -1}},
		{"a bad currency", booking.Resource{Kind: booking.Room, Slug: "x", Name: map[string]string{"it": "X"}, Currency: "euro"}},
		{"an unknown office", booking.Resource{Kind: booking.Desk, Slug: "x", Name: map[string]string{"it": "X"}, OfficeID: 999}},
	} {
		_, err := e.eng.DefineResource(e.ctx, tenant, tt.r)
		wantErr(t, "define: "+tt.name, err, booking.ErrInvalid)
	}
	for _, tt := range []struct {
		name string
		h    []booking.Hours
	}{
		{"no name", []booking.Hours{{Weekdays: weekdays, Opens: "09:00", Closes: "10:00"}}},
		{"no weekday", []booking.Hours{{Name: "a", Opens: "09:00", Closes: "10:00"}}},
		{"a bad weekday", []booking.Hours{{Name: "a", Weekdays: []time.Weekday{9}, Opens: "09:00", Closes: "10:00"}}},
		{"a bad time", []booking.Hours{{Name: "a", Weekdays: weekdays, Opens: "9", Closes: "10:00"}}},
		{"past midnight", []booking.Hours{{Name: "a", Weekdays: weekdays, Opens: "09:00", Closes: "24:30"}}},
		{"closes before it opens", []booking.Hours{{Name: "a", Weekdays: weekdays, Opens: "12:00", Closes: "08:00"}}},
		{"valid backwards", []booking.Hours{{Name: "a", Weekdays: weekdays, Opens: "09:00", Closes: "10:00", ValidFrom: date(2026, 5, 1), ValidTo: date(2026, 4, 1)}}},
		{"a name twice", []booking.Hours{{Name: "a", Weekdays: weekdays, Opens: "09:00", Closes: "10:00"}, {Name: "a", Weekdays: weekdays, Opens: "11:00", Closes: "12:00"}}},
	} {
		err := e.eng.SetHours(e.ctx, tenant, desk.ID, tt.h)
		wantErr(t, "hours: "+tt.name, err, booking.ErrInvalid)
	}
	_, err := e.eng.AddClosure(e.ctx, tenant, booking.Closure{From: date(2026, 3, 20), To: date(2026, 3, 19)})
	wantErr(t, "closure backwards", err, booking.ErrInvalid)
	_, err = e.eng.Days(e.ctx, tenant, desk.ID, date(2026, 3, 20), date(2026, 3, 19))
	wantErr(t, "days backwards", err, booking.ErrInvalid)
	_, err = e.eng.Days(e.ctx, tenant, desk.ID, date(2026, 1, 1), date(2028, 1, 1))
	wantErr(t, "days: too many", err, booking.ErrInvalid)

	if n := e.bookings("true"); n != 0 {
		t.Errorf("refused requests stored %d bookings", n)
	}
	// The hours survived every refused replacement.
	if h := must(e.eng.Hours(e.ctx, tenant, desk.ID))(t); len(h) != 1 || h[0].Opens != "09:00" || h[0].Closes != "10:00" || !slices.Equal(h[0].Weekdays, weekdays) {
		t.Errorf("hours after refusals: %+v", h)
	}
}

func TestDefineResourceUpdatesBySlug(t *testing.T) {
	e := newEnv(t, at(2026, 3, 16, 7, 0))
	tenant := e.tenant("roma")
	r := booking.Resource{Kind: booking.Room, Slug: "sala", Name: map[string]string{"it": "Sala", "de": "Saal"}, Capacity: 2, PriceCents: 1500, Currency: "CHF",
		Calendar: booking.Calendar{TimeZone: "Europe/Zurich", SlotMinutes: 120, HorizonDays: 90, MinNoticeMinutes: 1440, CancelDeadlineMinutes: 2880, HoldMinutes: 20}}
	first := must(e.eng.DefineResource(e.ctx, tenant, r))(t)
	r.Capacity, r.Disabled = 4, true
	second := must(e.eng.DefineResource(e.ctx, tenant, r))(t)
	if first.ID != second.ID {
		t.Fatalf("redefining made a new resource: %d then %d", first.ID, second.ID)
	}
	got := must(e.eng.Resource(e.ctx, tenant, first.ID))(t)
	r.ID = first.ID
	if got.Capacity != 4 || !got.Disabled || got.Calendar != r.Calendar || got.Name["de"] != "Saal" || got.Currency != "CHF" || got.PriceCents != 1500 {
		t.Errorf("stored %+v, want %+v", got, r)
	}
	hours := []booking.Hours{
		{Name: "inverno", Weekdays: []time.Weekday{time.Sunday, time.Monday}, Opens: "08:00", Closes: "24:00", ValidTo: date(2026, 3, 31)},
	}
	if err := e.eng.SetHours(e.ctx, tenant, first.ID, hours); err != nil {
		t.Fatal(err)
	}
	h := must(e.eng.Hours(e.ctx, tenant, first.ID))(t)
	if len(h) != 1 || h[0].Closes != "24:00" || !slices.Equal(h[0].Weekdays, []time.Weekday{time.Monday, time.Sunday}) || !h[0].ValidTo.Equal(date(2026, 3, 31)) || !h[0].ValidFrom.IsZero() {
		t.Errorf("hours read back: %+v", h)
	}
	_, err := e.eng.Reserve(e.ctx, tenant, booking.Request{Resource: first.ID, Start: time.Date(2026, 3, 22, 8, 0, 0, 0, mustZone("Europe/Zurich")), Contact: guest("a")})
	wantErr(t, "a disabled resource", err, booking.ErrClosed)
	if s := must(e.eng.Slots(e.ctx, tenant, first.ID, date(2026, 3, 22)))(t); len(s) != 0 {
		t.Errorf("a disabled resource offers %d slots", len(s))
	}
	c := must(e.eng.AddClosure(e.ctx, tenant, booking.Closure{ResourceID: first.ID, From: date(2026, 12, 24), To: date(2026, 12, 26), Reason: "Natale"}))(t)
	if cs := must(e.eng.Closures(e.ctx, tenant, first.ID, date(2026, 12, 1), date(2026, 12, 31)))(t); len(cs) != 1 || cs[0].ID != c.ID || !cs[0].To.Equal(date(2026, 12, 26)) {
		t.Errorf("closures: %+v", cs)
	}
	if err := e.eng.RemoveClosure(e.ctx, tenant, c.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "remove twice", e.eng.RemoveClosure(e.ctx, tenant, c.ID), booking.ErrNotFound)
}
