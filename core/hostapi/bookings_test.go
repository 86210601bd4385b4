package hostapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the zones tested must not depend on the machine's

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/payments"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// bookingClock is the Host API's booking clock, moved by the test.
type bookingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *bookingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *bookingClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// bookingEnv is env with the booking engine on a clock of the test's: it
// reads 08:00 of a Monday (in Rome) a few days ahead, so that the database's
// now() is always earlier than the engine's and the weekdays are known.
type bookingEnv struct {
	*env
	clock  *bookingClock
	rome   *time.Location
	monday time.Time // midnight starting that Monday, in Rome
}

func newBookingEnv(t *testing.T, opts ...hostapi.Option) *bookingEnv {
	t.Helper()
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	d := time.Now().In(rome).AddDate(0, 0, 2)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, 1)
	}
	monday := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, rome)
	clock := &bookingClock{t: monday.Add(8 * time.Hour)}
	db := pg.NewDB(t)
	srv := hostapi.New(db.App, slog.New(slog.NewTextHandler(t.Output(), nil)), append(opts, hostapi.WithBookingClock(clock.Now))...)
	return &bookingEnv{env: &env{t: t, db: db, srv: srv, clients: map[string]pb.HostAPIClient{}},
		clock: clock, rome: rome, monday: monday}
}

// at is hh:mm in Rome on the day'th day after the first Monday.
func (b *bookingEnv) at(day, hh, mm int) time.Time {
	return time.Date(b.monday.Year(), b.monday.Month(), b.monday.Day()+day, hh, mm, 0, 0, b.rome)
}

// day is the civil date of the day'th day after the first Monday.
func (b *bookingEnv) day(day int) string { return b.at(day, 0, 0).Format(time.DateOnly) }

// sala is a council room: hourly slots on weekdays 09-12 and 14-18, 25 euro
// a slot, bookable from 90 minutes ahead up to two weeks, cancellable up
// to a day before, closed on the first Wednesday.
func (b *bookingEnv) sala() *pb.BookingResource {
	return &pb.BookingResource{Slug: "sala-consiliare", Kind: "room", Name: map[string]string{"it": "Sala consiliare", "de": "Ratssaal"},
		PriceCents: 2500, SlotMinutes: 60, HorizonDays: 14, MinNoticeMinutes: 90, CancelDeadlineMinutes: 24 * 60,
		Hours: []*pb.OpeningHours{
			{Name: "mattina", Weekdays: []int32{1, 2, 3, 4, 5}, Opens: "09:00", Closes: "12:00"},
			{Name: "pomeriggio", Weekdays: []int32{1, 2, 3, 4, 5}, Opens: "14:00", Closes: "18:00"},
		},
		Closures: []*pb.ClosingDays{{FirstDay: b.day(2), LastDay: b.day(2), Reason: "Festa patronale"}},
	}
}

// aula is a hall that staff must approve, in two-hour slots every day but
// Sunday, 40 euro a slot.
func (b *bookingEnv) aula() *pb.BookingResource {
	return &pb.BookingResource{Slug: "aula-magna", Kind: "room", Name: map[string]string{"it": "Aula magna"},
		PriceCents: 4000, ApprovalRequired: true, SlotMinutes: 120, HorizonDays: 30,
		Hours: []*pb.OpeningHours{{Name: "sempre", Weekdays: []int32{1, 2, 3, 4, 5, 6}, Opens: "08:00", Closes: "20:00"}},
	}
}

// declare defines sala and aula for plugin in tenant, as staff.
func (b *bookingEnv) declare(plugin string, tenant int64, op int64) *pb.DefineResourcesResponse {
	b.t.Helper()
	ctx, api := b.as(plugin, tenant, staff(op))
	return must(api.DefineResources(ctx, &pb.DefineResourcesRequest{Resources: []*pb.BookingResource{b.sala(), b.aula()}}))(b.t)
}

// countRows counts rows FROM where, across tenants.
func (b *bookingEnv) countRows(where string, args ...any) int {
	b.t.Helper()
	var n int
	if err := b.db.Owner.NewRaw("SELECT count(*) FROM "+where, args...).Scan(context.Background(), &n); err != nil {
		b.t.Fatal(err)
	}
	return n
}

// refusalOf is the BookingRefusal in err's status details, or nil.
func refusalOf(err error) *pb.BookingRefusal {
	for _, d := range status.Convert(err).Details() {
		if r, ok := d.(*pb.BookingRefusal); ok {
			return r
		}
	}
	return nil
}

// wantRefusal checks err is code with a BookingRefusal of rule, and
// returns the refusal.
func wantRefusal(t *testing.T, what string, err error, code codes.Code, rule string) *pb.BookingRefusal {
	t.Helper()
	wantCode(t, what, err, code)
	r := refusalOf(err)
	if r == nil {
		t.Errorf("%s: no BookingRefusal in %v", what, err)
		return &pb.BookingRefusal{}
	}
	if r.Rule != rule {
		t.Errorf("%s: rule %q, want %q", what, r.Rule, rule)
	}
	return r
}

func slotStarts(b *bookingEnv, slots []*pb.BookingSlot) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = time.Unix(s.StartUnix, 0).In(b.rome).Format("15:04")
	}
	return out
}

// DefineResources refuses a bad configuration with InvalidArgument and a
// message naming what is wrong, and writes nothing.
func TestDefineResourcesValidation(t *testing.T) {
	b := newBookingEnv(t)
	with := func(change func(r *pb.BookingResource)) []*pb.BookingResource {
		r := b.sala()
		change(r)
		return []*pb.BookingResource{r}
	}
	hours := func(h *pb.OpeningHours) func(r *pb.BookingResource) {
		return func(r *pb.BookingResource) { r.Hours = []*pb.OpeningHours{h} }
	}
	closure := func(c *pb.ClosingDays) func(r *pb.BookingResource) {
		return func(r *pb.BookingResource) { r.Closures = []*pb.ClosingDays{c} }
	}
	for i, tc := range []struct {
		name      string
		resources []*pb.BookingResource
		want      string // in the message
	}{
		{"slug with spaces and capitals", with(func(r *pb.BookingResource) { r.Slug = "Sala Grande" }), `resource "Sala Grande"`},
		{"slug with a leading hyphen", with(func(r *pb.BookingResource) { r.Slug = "-sala" }), `resource "-sala"`},
		{"empty slug", with(func(r *pb.BookingResource) { r.Slug = "" }), `resource ""`},
		{"slug too long with the service's prefix", with(func(r *pb.BookingResource) { r.Slug = strings.Repeat("s", 60) }), "at most 51 characters"},
		{"hour 25", with(hours(&pb.OpeningHours{Name: "sera", Weekdays: []int32{1}, Opens: "20:00", Closes: "25:00"})), `"25:00"`},
		{"hours without a colon", with(hours(&pb.OpeningHours{Name: "sera", Weekdays: []int32{1}, Opens: "0900", Closes: "12:00"})), `"0900"`},
		{"weekday 8", with(hours(&pb.OpeningHours{Name: "sera", Weekdays: []int32{1, 8}, Opens: "09:00", Closes: "12:00"})), "weekday 8"},
		{"weekday 0", with(hours(&pb.OpeningHours{Name: "sera", Weekdays: []int32{0}, Opens: "09:00", Closes: "12:00"})), "weekday 0"},
		{"no weekday", with(hours(&pb.OpeningHours{Name: "sera", Opens: "09:00", Closes: "12:00"})), "no weekday"},
		{"closes before it opens", with(hours(&pb.OpeningHours{Name: "sera", Weekdays: []int32{1}, Opens: "12:00", Closes: "09:00"})), "closes at 09:00, not after it opens at 12:00"},
		{"closes as it opens", with(hours(&pb.OpeningHours{Name: "sera", Weekdays: []int32{1}, Opens: "12:00", Closes: "12:00"})), "not after it opens"},
		{"hours without a name", with(hours(&pb.OpeningHours{Weekdays: []int32{1}, Opens: "09:00", Closes: "12:00"})), "a name of 1-80 characters"},
		{"hours named twice", with(func(r *pb.BookingResource) { r.Hours[1].Name = "mattina" }), `"mattina" is used twice`},
		{"valid_from not a date", with(hours(&pb.OpeningHours{Name: "estate", Weekdays: []int32{1}, Opens: "09:00", Closes: "12:00", ValidFrom: "2026-13-01"})), `valid_from "2026-13-01"`},
		{"valid_to before valid_from", with(hours(&pb.OpeningHours{Name: "estate", Weekdays: []int32{1}, Opens: "09:00", Closes: "12:00", ValidFrom: "2026-09-01", ValidTo: "2026-06-01"})), "before it starts"},
		{"closure day not a date", with(closure(&pb.ClosingDays{FirstDay: "tomorrow", LastDay: "2026-08-16"})), `first_day "tomorrow"`},
		{"closure without a last day", with(closure(&pb.ClosingDays{FirstDay: "2026-08-15"})), `last_day ""`},
		{"closure ending before it starts", with(closure(&pb.ClosingDays{FirstDay: "2026-08-16", LastDay: "2026-08-15"})), "before it starts on 2026-08-16"},
		{"closure over a year", with(closure(&pb.ClosingDays{FirstDay: "2026-01-01", LastDay: "2027-06-01"})), "at most a year"},
		{"closure reason with a NUL", with(closure(&pb.ClosingDays{FirstDay: "2026-08-15", LastDay: "2026-08-15", Reason: "Ferragosto\x00"})), "closure reason"},
		{"unknown time zone", with(func(r *pb.BookingResource) { r.TimeZone = "Europe/Atlantis" }), "Europe/Atlantis"},
		{"the server's own time zone", with(func(r *pb.BookingResource) { r.TimeZone = "Local" }), `"Local"`},
		{"a time zone file path", with(func(r *pb.BookingResource) { r.TimeZone = "../../etc/passwd" }), "../../etc/passwd"},
		{"hours named with a NUL", with(hours(&pb.OpeningHours{Name: "sera\x00", Weekdays: []int32{1}, Opens: "09:00", Closes: "12:00"})), "hours"},
		{"a name with a NUL", with(func(r *pb.BookingResource) { r.Name = map[string]string{"it": "Sala\x00"} }), "name"},
		{"a bad second resource", []*pb.BookingResource{b.sala(), func() *pb.BookingResource {
			r := b.aula()
			r.Hours[0].Closes = "25:00"
			return r
		}()}, `"25:00"`},
		{"negative price", with(func(r *pb.BookingResource) { r.PriceCents = -100 }), "price"},
		{"currency in lower case", with(func(r *pb.BookingResource) { r.Currency = "eur" }), `currency "eur"`},
		{"unknown kind", with(func(r *pb.BookingResource) { r.Kind = "boat" }), `kind "boat"`},
		{"no name", with(func(r *pb.BookingResource) { r.Name = nil }), "a name in at least one language"},
		{"name under no language", with(func(r *pb.BookingResource) { r.Name = map[string]string{"italiano": "Sala"} }), `name["italiano"]`},
		{"negative capacity", with(func(r *pb.BookingResource) { r.Capacity = -1 }), "capacity -1"},
		{"three-minute slots", with(func(r *pb.BookingResource) { r.SlotMinutes = 3 }), "slot_minutes 3"},
		{"negative horizon", with(func(r *pb.BookingResource) { r.HorizonDays = -5 }), "horizon_days -5"},
		{"notice of two months", with(func(r *pb.BookingResource) { r.MinNoticeMinutes = 90 * 24 * 60 }), "min_notice_minutes"},
		{"negative cancellation deadline", with(func(r *pb.BookingResource) { r.CancelDeadlineMinutes = -1 }), "cancel_deadline_minutes -1"},
		{"a slug listed twice", []*pb.BookingResource{b.sala(), b.sala()}, "listed twice"},
		{"too many resources", func() []*pb.BookingResource {
			out := make([]*pb.BookingResource, 101)
			for i := range out {
				out[i] = b.sala()
			}
			return out
		}(), "at most 100 resources"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A tenant of its own, so that no case finds another's resources.
			tid := b.tenant(fmt.Sprintf("t%d", i))
			ctx, api := b.as("roombooking", tid, staff(b.user(tid, "op@example.org")))
			before := b.snapshot()
			_, err := api.DefineResources(ctx, &pb.DefineResourcesRequest{Resources: tc.resources})
			wantCode(t, "DefineResources", err, codes.InvalidArgument)
			if msg := status.Convert(err).Message(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "booking: invalid input") {
				t.Errorf("message %q, want it to say %q (without the engine's prefix)", msg, tc.want)
			}
			if after := b.snapshot(); after != before {
				t.Errorf("a refused declaration wrote: resources, hours and closures\n%s\nbefore\n%s", after, before)
			}
		})
	}
}

// What lies on the limits is accepted: the Host API's checks are no
// stricter than the engine's.
func TestDefineResourcesLimits(t *testing.T) {
	b := newBookingEnv(t)
	tid := b.tenant("alpha")
	ctx, api := b.as("roombooking", tid, staff(b.user(tid, "op@alpha.example")))
	r := &pb.BookingResource{Slug: strings.Repeat("s", 51), Kind: "expert", Name: map[string]string{"it": strings.Repeat("à", 100), "en": "x"},
		Capacity: 1000, PriceCents: 0, Currency: "CHF", SlotMinutes: 1440, HorizonDays: 730, MinNoticeMinutes: 43200,
		CancelDeadlineMinutes: 43200, TimeZone: "America/Argentina/Buenos_Aires",
		Hours: []*pb.OpeningHours{
			{Name: strings.Repeat("h", 80), Weekdays: []int32{7, 1, 1}, Opens: "00:00", Closes: "24:00", ValidFrom: "2026-06-01", ValidTo: "2026-06-01"},
			{Name: "b", Weekdays: []int32{2}, Opens: "23:59", Closes: "24:00"},
		},
		Closures: []*pb.ClosingDays{{FirstDay: "2028-01-01", LastDay: "2029-01-01", Reason: strings.Repeat("€", 66)}},
	}
	small := &pb.BookingResource{Slug: "s", Name: map[string]string{"de": "S"}, SlotMinutes: 5, HorizonDays: 1}
	out := must(api.DefineResources(ctx, &pb.DefineResourcesRequest{Resources: []*pb.BookingResource{r, small}}))(t)
	if got := out.Resources[0]; got.Slug != r.Slug || got.Capacity != 1000 || got.TimeZone != r.TimeZone || len(got.Hours) != 2 || len(got.Closures) != 1 {
		t.Errorf("declared %v", got)
	}
	if got := out.Resources[1]; got.Kind != "room" || got.Capacity != 1 || got.Currency != "EUR" || got.TimeZone != "Europe/Rome" || got.HorizonDays != 1 {
		t.Errorf("declared with the defaults %v", got)
	}
}

// snapshot names every resource row as last written, and every hours and
// closure row: equal snapshots mean nothing was rewritten.
func (b *bookingEnv) snapshot() string {
	b.t.Helper()
	var s string
	err := b.db.Owner.NewRaw(`SELECT coalesce(string_agg(x, ',' ORDER BY x), '') FROM (
			SELECT 'r' || id || '@' || updated_at::text AS x FROM booking_resources
			UNION ALL SELECT 'h' || id FROM booking_hours
			UNION ALL SELECT 'c' || id FROM booking_closures) s`).Scan(context.Background(), &s)
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

func TestDefineResources(t *testing.T) {
	b := newBookingEnv(t)
	tid := b.tenant("alpha")
	op, anna := b.user(tid, "op@alpha.example"), b.citizen(tid, "anna", "")
	ctx, api := b.as("roombooking", tid, staff(op))
	annaCtx, annaAPI := b.as("roombooking", tid, citizen(anna))

	first := b.declare("roombooking", tid, op)
	if len(first.Resources) != 2 {
		t.Fatalf("declared %v", first.Resources)
	}
	sala := first.Resources[0]
	if sala.Slug != "sala-consiliare" || sala.Kind != "room" || sala.TimeZone != "Europe/Rome" || sala.Currency != "EUR" ||
		sala.Capacity != 1 || sala.Disabled || sala.PriceCents != 2500 || sala.SlotMinutes != 60 || sala.CancelDeadlineMinutes != 1440 ||
		len(sala.Hours) != 2 || len(sala.Closures) != 1 || sala.Closures[0].Reason != "Festa patronale" ||
		sala.Closures[0].FirstDay != b.day(2) || len(sala.Hours[0].Weekdays) != 5 || sala.Hours[0].Weekdays[4] != 5 {
		t.Fatalf("sala as declared: %v", sala)
	}
	if n := b.countRows("booking_resources WHERE slug = 'roombooking--sala-consiliare' AND tenant_id = ?", tid); n != 1 {
		t.Fatalf("%d resources under the service's slug", n)
	}

	t.Run("declaring again rewrites nothing", func(t *testing.T) {
		before := b.snapshot()
		again := b.declare("roombooking", tid, op)
		if !proto.Equal(again, first) {
			t.Errorf("declared again:\n%v\nfirst:\n%v", again, first)
		}
		if after := b.snapshot(); after != before {
			t.Errorf("declaring the same configuration wrote:\n%s\nbefore:\n%s", after, before)
		}
	})
	t.Run("a Sunday is weekday 7", func(t *testing.T) {
		r := b.sala()
		r.Slug = "sala-domenica"
		r.Hours = []*pb.OpeningHours{{Name: "domenica", Weekdays: []int32{7}, Opens: "10:00", Closes: "12:00"}}
		out := must(api.DefineResources(ctx, &pb.DefineResourcesRequest{Resources: []*pb.BookingResource{b.sala(), b.aula(), r}}))(t)
		if got := out.Resources[2].Hours[0].Weekdays; len(got) != 1 || got[0] != 7 {
			t.Errorf("weekdays %v, want [7]", got)
		}
		slots := must(api.BookingSlots(ctx, &pb.BookingSlotsRequest{Resource: "sala-domenica", Day: b.day(6)}))(t)
		if got := slotStarts(b, slots.Slots); strings.Join(got, " ") != "10:00 11:00" {
			t.Errorf("Sunday slots %v", got)
		}
		b.declare("roombooking", tid, op)
	})
	t.Run("a change is applied", func(t *testing.T) {
		r := b.sala()
		r.SlotMinutes = 90
		r.Hours = r.Hours[:1]
		must(api.DefineResources(ctx, &pb.DefineResourcesRequest{Resources: []*pb.BookingResource{r, b.aula()}}))(t)
		slots := must(api.BookingSlots(ctx, &pb.BookingSlotsRequest{Resource: "sala-consiliare", Day: b.day(1)}))(t)
		if got := slotStarts(b, slots.Slots); strings.Join(got, " ") != "09:00 10:30" {
			t.Errorf("after the change, Tuesday's slots are %v", got)
		}
		b.declare("roombooking", tid, op)
	})
	t.Run("a resource left out stops taking bookings and keeps its bookings", func(t *testing.T) {
		kept := must(annaAPI.Book(annaCtx, &pb.BookRequest{Resource: "aula-magna", StartUnix: b.at(1, 10, 0).Unix()}))(t)
		out := must(api.DefineResources(ctx, &pb.DefineResourcesRequest{Resources: []*pb.BookingResource{b.sala()}}))(t)
		if len(out.Resources) != 1 {
			t.Fatalf("declared %v", out.Resources)
		}
		_, err := annaAPI.Book(annaCtx, &pb.BookRequest{Resource: "aula-magna", StartUnix: b.at(1, 14, 0).Unix()})
		r := wantRefusal(t, "booking a resource left out", err, codes.FailedPrecondition, "inactive")
		if r.StartUnix != b.at(1, 14, 0).Unix() {
			t.Errorf("refusal start %d, want %d", r.StartUnix, b.at(1, 14, 0).Unix())
		}
		days := must(annaAPI.BookingDays(annaCtx, &pb.BookingDaysRequest{Resource: "aula-magna", From: b.day(0), To: b.day(20)}))(t)
		slots := must(annaAPI.BookingSlots(annaCtx, &pb.BookingSlotsRequest{Resource: "aula-magna", Day: b.day(1)}))(t)
		if len(days.Days) != 0 || len(slots.Slots) != 0 {
			t.Errorf("a resource left out offers days %v and slots %v", days.Days, slots.Slots)
		}
		got := must(annaAPI.GetBooking(annaCtx, &pb.GetBookingRequest{Code: kept.Code}))(t)
		if got.Status != "pending" || got.Resource != "aula-magna" {
			t.Errorf("the booking made before: %v", got)
		}
		if approved := must(api.ApproveBooking(ctx, &pb.DecideBookingRequest{Code: kept.Code}))(t); approved.Status != "confirmed" {
			t.Errorf("approved %v", approved)
		}
		if n := b.countRows("booking_resources WHERE slug = 'roombooking--aula-magna' AND NOT active"); n != 1 {
			t.Errorf("%d inactive aula rows, want 1", n)
		}

		// Listing it again opens it again.
		b.declare("roombooking", tid, op)
		must(annaAPI.Book(annaCtx, &pb.BookRequest{Resource: "aula-magna", StartUnix: b.at(1, 14, 0).Unix()}))(t)
	})
	t.Run("a resource declared disabled takes no bookings", func(t *testing.T) {
		r := b.aula()
		r.Disabled = true
		out := must(api.DefineResources(ctx, &pb.DefineResourcesRequest{Resources: []*pb.BookingResource{b.sala(), r}}))(t)
		if !out.Resources[1].Disabled {
			t.Errorf("declared %v", out.Resources[1])
		}
		_, err := annaAPI.Book(annaCtx, &pb.BookRequest{Resource: "aula-magna", StartUnix: b.at(1, 16, 0).Unix()})
		wantRefusal(t, "booking a disabled resource", err, codes.FailedPrecondition, "inactive")
		b.declare("roombooking", tid, op)
	})
	t.Run("another service's declaration leaves this service's resources alone", func(t *testing.T) {
		otherCtx, otherAPI := b.as("sportsfields", tid, staff(op))
		must(otherAPI.DefineResources(otherCtx, &pb.DefineResourcesRequest{}))(t)
		must(annaAPI.Book(annaCtx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(1, 10, 0).Unix()}))(t)
	})
	t.Run("an empty declaration closes every resource of the service", func(t *testing.T) {
		must(api.DefineResources(ctx, &pb.DefineResourcesRequest{}))(t)
		_, err := annaAPI.Book(annaCtx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(1, 11, 0).Unix()})
		wantRefusal(t, "booking after an empty declaration", err, codes.FailedPrecondition, "inactive")
		if n := b.countRows("bookings"); n != 3 {
			t.Errorf("%d bookings, want the 3 made", n)
		}
	})
}

func TestBookingDaysAndSlots(t *testing.T) {
	b := newBookingEnv(t)
	tid := b.tenant("alpha")
	op, anna := b.user(tid, "op@alpha.example"), b.citizen(tid, "anna", "")
	b.declare("roombooking", tid, op)
	ctx, api := b.as("roombooking", tid, citizen(anna))
	days := func() []string {
		t.Helper()
		return must(api.BookingDays(ctx, &pb.BookingDaysRequest{Resource: "sala-consiliare", From: b.day(-3), To: b.day(20)}))(t).Days
	}
	slots := func(day int) string {
		t.Helper()
		out := must(api.BookingSlots(ctx, &pb.BookingSlotsRequest{Resource: "sala-consiliare", Day: b.day(day)}))(t)
		for _, s := range out.Slots {
			if s.EndUnix-s.StartUnix != 3600 || s.Free != 1 {
				t.Errorf("slot %v: want an hour with one seat free", s)
			}
		}
		return strings.Join(slotStarts(b, out.Slots), " ")
	}

	// Weekdays only, not the closing Wednesday (2), not the days past nor
	// beyond the horizon (14 days from today, Monday 0).
	want := []string{b.day(0), b.day(1), b.day(3), b.day(4), b.day(7), b.day(8), b.day(9), b.day(10), b.day(11), b.day(14)}
	if got := days(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("days %v\nwant %v", got, want)
	}
	for _, tc := range []struct {
		name string
		day  int
		want string
	}{
		{"today, 90 minutes' notice at 08:00", 0, "10:00 11:00 14:00 15:00 16:00 17:00"},
		{"a weekday", 1, "09:00 10:00 11:00 14:00 15:00 16:00 17:00"},
		{"the closing day", 2, ""},
		{"a Saturday", 5, ""},
		{"the last day of the horizon", 14, "09:00 10:00 11:00 14:00 15:00 16:00 17:00"},
		{"past the horizon", 15, ""},
		{"last week", -7, ""},
	} {
		if got := slots(tc.day); got != tc.want {
			t.Errorf("%s: slots %q, want %q", tc.name, got, tc.want)
		}
	}

	t.Run("a taken slot is not offered, nor a day with none free", func(t *testing.T) {
		must(api.Book(ctx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(1, 9, 0).Unix(), Slots: 3}))(t)
		if got := slots(1); got != "14:00 15:00 16:00 17:00" {
			t.Errorf("Tuesday after booking the morning: %q", got)
		}
		must(api.Book(ctx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(1, 14, 0).Unix(), Slots: 3, HoldMinutes: 10}))(t)
		if got := slots(1); got != "17:00" {
			t.Errorf("Tuesday after holding the afternoon: %q", got)
		}
		must(api.Book(ctx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(1, 17, 0).Unix()}))(t)
		if got := days(); len(got) != len(want)-1 || got[1] != b.day(3) {
			t.Errorf("days after Tuesday is full: %v", got)
		}
	})
	t.Run("the clock moves on", func(t *testing.T) {
		b.clock.Set(b.at(0, 15, 10))
		defer b.clock.Set(b.at(0, 8, 0))
		if got := slots(0); got != "17:00" {
			t.Errorf("at 15:10, today's slots are %q", got)
		}
	})
	t.Run("free seats are counted", func(t *testing.T) {
		r := b.sala()
		r.Slug, r.Capacity, r.Closures = "postazioni", 3, nil
		opCtx, opAPI := b.as("roombooking", tid, staff(op))
		must(opAPI.DefineResources(opCtx, &pb.DefineResourcesRequest{Resources: []*pb.BookingResource{b.sala(), b.aula(), r}}))(t)
		must(api.Book(ctx, &pb.BookRequest{Resource: "postazioni", StartUnix: b.at(2, 9, 0).Unix()}))(t)
		out := must(api.BookingSlots(ctx, &pb.BookingSlotsRequest{Resource: "postazioni", Day: b.day(2)}))(t)
		if len(out.Slots) != 7 || out.Slots[0].Free != 2 || out.Slots[1].Free != 3 {
			t.Errorf("slots %v: want 7, the first with 2 seats free", out.Slots)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			req  *pb.BookingDaysRequest
			want codes.Code
		}{
			{"no dates", &pb.BookingDaysRequest{Resource: "sala-consiliare"}, codes.InvalidArgument},
			{"February 30", &pb.BookingDaysRequest{Resource: "sala-consiliare", From: "2026-02-30", To: "2026-03-10"}, codes.InvalidArgument},
			{"a time, not a date", &pb.BookingDaysRequest{Resource: "sala-consiliare", From: b.day(0) + "T10:00:00Z", To: b.day(3)}, codes.InvalidArgument},
			{"to before from", &pb.BookingDaysRequest{Resource: "sala-consiliare", From: b.day(3), To: b.day(0)}, codes.InvalidArgument},
			{"more than 400 days", &pb.BookingDaysRequest{Resource: "sala-consiliare", From: b.day(0), To: b.day(500)}, codes.InvalidArgument},
			{"year 0001 to 9999", &pb.BookingDaysRequest{Resource: "sala-consiliare", From: "0001-01-01", To: "9999-12-31"}, codes.InvalidArgument},
			{"an unknown resource", &pb.BookingDaysRequest{Resource: "palestra", From: b.day(0), To: b.day(3)}, codes.NotFound},
			{"a slug that cannot be", &pb.BookingDaysRequest{Resource: "Sala!", From: b.day(0), To: b.day(3)}, codes.InvalidArgument},
		} {
			_, err := api.BookingDays(ctx, tc.req)
			wantCode(t, "BookingDays: "+tc.name, err, tc.want)
		}
		for _, tc := range []struct {
			name string
			req  *pb.BookingSlotsRequest
			want codes.Code
		}{
			{"no day", &pb.BookingSlotsRequest{Resource: "sala-consiliare"}, codes.InvalidArgument},
			{"not a date", &pb.BookingSlotsRequest{Resource: "sala-consiliare", Day: "12/03/2026"}, codes.InvalidArgument},
			{"an unknown resource", &pb.BookingSlotsRequest{Resource: "palestra", Day: b.day(0)}, codes.NotFound},
			{"no resource", &pb.BookingSlotsRequest{Day: b.day(0)}, codes.InvalidArgument},
			{"year 1", &pb.BookingSlotsRequest{Resource: "sala-consiliare", Day: "0001-01-01"}, codes.InvalidArgument},
			{"year 9999", &pb.BookingSlotsRequest{Resource: "sala-consiliare", Day: "9999-12-31"}, codes.OK},
		} {
			_, err := api.BookingSlots(ctx, tc.req)
			wantCode(t, "BookingSlots: "+tc.name, err, tc.want)
		}
	})
}

func TestBook(t *testing.T) {
	b := newBookingEnv(t)
	tid := b.tenant("alpha")
	op, anna, bruno := b.user(tid, "op@alpha.example"), b.citizen(tid, "anna", ""), b.citizen(tid, "bruno", "")
	b.declare("roombooking", tid, op)
	ctx, api := b.as("roombooking", tid, citizen(anna))
	brunoCtx, brunoAPI := b.as("roombooking", tid, citizen(bruno))
	opCtx, opAPI := b.as("roombooking", tid, staff(op))
	sala := func(start time.Time) *pb.BookRequest {
		return &pb.BookRequest{Resource: "sala-consiliare", StartUnix: start.Unix()}
	}

	t.Run("confirmed", func(t *testing.T) {
		start := b.at(0, 10, 0)
		got := must(api.Book(ctx, sala(start)))(t)
		if got.Status != "confirmed" || got.Resource != "sala-consiliare" || got.StartUnix != start.Unix() ||
			got.EndUnix != start.Add(time.Hour).Unix() || got.PriceCents != 2500 || got.Currency != "EUR" ||
			got.CitizenId != anna || got.ExpiresUnix != 0 || got.CancelDeadlineUnix != start.Add(-24*time.Hour).Unix() ||
			got.Id <= 0 || !regexp.MustCompile(`^[2-9A-HJ-NP-Z]{8}$`).MatchString(got.Code) {
			t.Fatalf("booked %v", got)
		}
		if read := must(api.GetBooking(ctx, &pb.GetBookingRequest{Code: strings.ToLower(got.Code)}))(t); !proto.Equal(read, got) {
			t.Errorf("read back %v\nbooked %v", read, got)
		}
	})
	t.Run("held", func(t *testing.T) {
		got := must(api.Book(ctx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(0, 11, 0).Unix(), HoldMinutes: 20}))(t)
		if got.Status != "held" || got.ExpiresUnix != b.clock.Now().Add(20*time.Minute).Unix() {
			t.Fatalf("held %v", got)
		}
		_, err := brunoAPI.Book(brunoCtx, sala(b.at(0, 11, 0)))
		wantRefusal(t, "a held slot", err, codes.AlreadyExists, "taken")

		// Run out, before any sweep: it reads as expired, its slot is free.
		b.clock.Set(time.Unix(got.ExpiresUnix, 0))
		defer b.clock.Set(b.at(0, 8, 0))
		if read := must(api.GetBooking(ctx, &pb.GetBookingRequest{Code: got.Code}))(t); read.Status != "expired" {
			t.Errorf("a hold that ran out reads %v", read)
		}
		free := must(brunoAPI.BookingSlots(brunoCtx, &pb.BookingSlotsRequest{Resource: "sala-consiliare", Day: b.day(0)}))(t)
		if !strings.Contains(strings.Join(slotStarts(b, free.Slots), " "), "11:00") {
			t.Errorf("the slot of a hold that ran out is not offered: %v", slotStarts(b, free.Slots))
		}
	})
	t.Run("pending where approval is required", func(t *testing.T) {
		start := b.at(1, 8, 0)
		got := must(api.Book(ctx, &pb.BookRequest{Resource: "aula-magna", StartUnix: start.Unix()}))(t)
		if got.Status != "pending" || got.EndUnix != start.Add(2*time.Hour).Unix() || got.PriceCents != 4000 {
			t.Fatalf("pending %v", got)
		}
		_, err := brunoAPI.Book(brunoCtx, &pb.BookRequest{Resource: "aula-magna", StartUnix: start.Unix()})
		wantRefusal(t, "a pending slot", err, codes.AlreadyExists, "taken")
	})
	t.Run("consecutive slots as one booking", func(t *testing.T) {
		start := b.at(1, 14, 0)
		got := must(api.Book(ctx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: start.Unix(), Slots: 3}))(t)
		if got.Status != "confirmed" || got.EndUnix != b.at(1, 17, 0).Unix() || got.PriceCents != 3*2500 {
			t.Fatalf("run %v", got)
		}
		for _, r := range []*pb.BookRequest{
			sala(b.at(1, 15, 0)),
			{Resource: "sala-consiliare", StartUnix: b.at(1, 16, 0).Unix(), Slots: 2},
			{Resource: "sala-consiliare", StartUnix: b.at(1, 14, 0).Unix(), HoldMinutes: 5},
		} {
			_, err := brunoAPI.Book(brunoCtx, r)
			wantRefusal(t, "overlapping the run", err, codes.AlreadyExists, "taken")
		}
		if after := must(brunoAPI.Book(brunoCtx, sala(b.at(1, 17, 0))))(t); after.Status != "confirmed" {
			t.Errorf("right after the run: %v", after)
		}
	})
	t.Run("staff for a caller without an account", func(t *testing.T) {
		got := must(opAPI.Book(opCtx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(3, 9, 0).Unix(),
			ContactName: "Carla Rossi", ContactPhone: "+39 02 1234567"}))(t)
		if got.Status != "confirmed" || got.CitizenId != 0 {
			t.Fatalf("booked %v", got)
		}
	})
	t.Run("staff for a citizen's dossier", func(t *testing.T) {
		d := must(api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "Matrimonio civile"}))(t)
		got := must(opAPI.Book(opCtx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(3, 10, 0).Unix(), DossierId: d.Id}))(t)
		if got.CitizenId != anna || got.DossierId != d.Id {
			t.Fatalf("booked %v", got)
		}
		must(api.GetBooking(ctx, &pb.GetBookingRequest{Code: got.Code}))(t) // anna's now
		_, err := brunoAPI.Book(brunoCtx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(3, 11, 0).Unix(), DossierId: d.Id})
		wantCode(t, "on another citizen's dossier", err, codes.NotFound)
	})

	t.Run("refusals", func(t *testing.T) {
		must(api.Book(ctx, sala(b.at(4, 10, 0))))(t)
		before := b.countRows("bookings")
		now := b.clock.Now()
		for _, tc := range []struct {
			name      string
			req       *pb.BookRequest
			code      codes.Code
			rule      string
			start     time.Time // the slot refused
			limit     time.Time
			reason    string
			zeroStart bool
		}{
			{name: "last week", req: sala(b.at(-7, 10, 0)), code: codes.InvalidArgument, rule: "past", start: b.at(-7, 10, 0), limit: now.Add(90 * time.Minute)},
			{name: "within the notice", req: sala(b.at(0, 9, 0)), code: codes.InvalidArgument, rule: "notice", start: b.at(0, 9, 0), limit: b.at(0, 9, 30)},
			{name: "beyond the horizon", req: sala(b.at(15, 10, 0)), code: codes.InvalidArgument, rule: "horizon", start: b.at(15, 10, 0), limit: b.at(14, 0, 0)},
			{name: "in the year 3000", req: sala(time.Date(3000, 1, 6, 10, 0, 0, 0, b.rome)), code: codes.InvalidArgument, rule: "horizon",
				start: time.Date(3000, 1, 6, 10, 0, 0, 0, b.rome), limit: b.at(14, 0, 0)},
			{name: "96 slots from the last day of 9999", req: &pb.BookRequest{Resource: "sala-consiliare", Slots: 96,
				StartUnix: time.Date(9999, 12, 31, 9, 0, 0, 0, b.rome).Unix()}, code: codes.InvalidArgument, rule: "horizon",
				start: time.Date(9999, 12, 31, 9, 0, 0, 0, b.rome), limit: b.at(14, 0, 0)},
			{name: "the closing day", req: sala(b.at(2, 10, 0)), code: codes.InvalidArgument, rule: "closed", start: b.at(2, 10, 0), reason: "Festa patronale"},
			{name: "the lunch break", req: sala(b.at(0, 12, 0)), code: codes.InvalidArgument, rule: "hours", start: b.at(0, 12, 0)},
			{name: "a Saturday", req: sala(b.at(5, 10, 0)), code: codes.InvalidArgument, rule: "hours", start: b.at(5, 10, 0)},
			{name: "off the grid", req: sala(b.at(0, 10, 30)), code: codes.InvalidArgument, rule: "grid", start: b.at(0, 10, 30)},
			{name: "a run past closing time", req: &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(4, 11, 0).Unix(), Slots: 2},
				code: codes.InvalidArgument, rule: "hours", start: b.at(4, 12, 0)},
			{name: "a run reaching a taken slot", req: &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(4, 9, 0).Unix(), Slots: 2},
				code: codes.AlreadyExists, rule: "taken", zeroStart: true},
			{name: "a taken slot", req: sala(b.at(0, 10, 0)), code: codes.AlreadyExists, rule: "taken", zeroStart: true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := brunoAPI.Book(brunoCtx, tc.req)
				r := wantRefusal(t, "Book", err, tc.code, tc.rule)
				if !tc.zeroStart && r.StartUnix != tc.start.Unix() {
					t.Errorf("refused start %s, want %s", time.Unix(r.StartUnix, 0).In(b.rome), tc.start)
				}
				var limit int64
				if !tc.limit.IsZero() {
					limit = tc.limit.Unix()
				}
				if r.LimitUnix != limit {
					t.Errorf("limit %s, want %s", time.Unix(r.LimitUnix, 0).In(b.rome), tc.limit)
				}
				if r.Reason != tc.reason {
					t.Errorf("reason %q, want %q", r.Reason, tc.reason)
				}
			})
		}
		if after := b.countRows("bookings"); after != before {
			t.Errorf("%d bookings, %d before: a refusal wrote", after, before)
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		before := b.countRows("bookings")
		anonCtx, anonAPI := b.as("roombooking", tid, anonymous())
		d := must(api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "Festa di compleanno"}))(t)
		free := b.at(4, 15, 0).Unix()
		for _, tc := range []struct {
			name string
			ctx  context.Context
			api  pb.HostAPIClient
			req  *pb.BookRequest
			want codes.Code
		}{
			{"no start", ctx, api, &pb.BookRequest{Resource: "sala-consiliare"}, codes.InvalidArgument},
			{"a negative start", ctx, api, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: -3600}, codes.InvalidArgument},
			{"a start in the year 292 billion", ctx, api, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: 1 << 62}, codes.InvalidArgument},
			{"the last second there is", ctx, api, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: 1<<63 - 1}, codes.InvalidArgument},
			{"-1 slots", ctx, api, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free, Slots: -1}, codes.InvalidArgument},
			{"97 slots", ctx, api, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free, Slots: 97}, codes.InvalidArgument},
			{"a negative hold", ctx, api, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free, HoldMinutes: -1}, codes.InvalidArgument},
			{"a hold over a day", ctx, api, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free, HoldMinutes: 1441}, codes.InvalidArgument},
			{"a negative dossier", ctx, api, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free, DossierId: -1}, codes.InvalidArgument},
			{"a dossier that does not exist", ctx, api, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free, DossierId: 999999}, codes.NotFound},
			{"another citizen's dossier", brunoCtx, brunoAPI, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free, DossierId: d.Id}, codes.NotFound},
			{"a contact name too long", opCtx, opAPI, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free, ContactName: strings.Repeat("a", 201), ContactPhone: "+39 02 1234567"}, codes.InvalidArgument},
			{"a contact name with a NUL", opCtx, opAPI, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free, ContactName: "Carla\x00", ContactPhone: "+39 02 1234567"}, codes.InvalidArgument},
			{"a bad e-mail address", opCtx, opAPI, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free, ContactName: "Carla", ContactEmail: "carla at example"}, codes.InvalidArgument},
			{"a bad phone number", opCtx, opAPI, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free, ContactName: "Carla", ContactPhone: "call me"}, codes.InvalidArgument},
			{"staff naming nobody", opCtx, opAPI, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free}, codes.InvalidArgument},
			{"a name without a way to reach them", opCtx, opAPI, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free, ContactName: "Carla"}, codes.InvalidArgument},
			{"an unknown resource", ctx, api, &pb.BookRequest{Resource: "palestra", StartUnix: free}, codes.NotFound},
			{"no resource", ctx, api, &pb.BookRequest{StartUnix: free}, codes.InvalidArgument},
			{"a resource slug that cannot be", ctx, api, &pb.BookRequest{Resource: "sala consiliare", StartUnix: free}, codes.InvalidArgument},
			{"an anonymous visitor", anonCtx, anonAPI, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free}, codes.PermissionDenied},
		} {
			_, err := tc.api.Book(tc.ctx, tc.req)
			wantCode(t, tc.name, err, tc.want)
		}
		if after := b.countRows("bookings"); after != before {
			t.Errorf("%d bookings, %d before: a refused call wrote", after, before)
		}
		_, err := opAPI.Book(opCtx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: free})
		if msg := status.Convert(err).Message(); msg != "give a name and an e-mail address or a phone number" {
			t.Errorf("the engine's refusal reads %q", msg)
		}
	})
}

// A service reaches only its own resources and bookings, a tenant only its
// own, a citizen only their own.
func TestBookingIsolation(t *testing.T) {
	b := newBookingEnv(t)
	tid, other := b.tenant("alpha"), b.tenant("beta")
	op, anna, bruno := b.user(tid, "op@alpha.example"), b.citizen(tid, "anna", ""), b.citizen(tid, "bruno", "")
	b.declare("roombooking", tid, op)
	ctx, api := b.as("roombooking", tid, citizen(anna))
	start := b.at(1, 10, 0)
	annas := must(api.Book(ctx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: start.Unix()}))(t)
	pending := must(api.Book(ctx, &pb.BookRequest{Resource: "aula-magna", StartUnix: start.Unix()}))(t)

	// A desk of the core's appointments in the same tenant, under a slug
	// a plugin might choose too.
	eng := booking.New(b.db.App, b.clock.Now)
	desk, err := eng.DefineResource(context.Background(), tid, booking.Resource{Kind: booking.Desk, Slug: "anagrafe", Name: map[string]string{"it": "Anagrafe"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.SetHours(context.Background(), tid, desk.ID, []booking.Hours{{Name: "h", Weekdays: []time.Weekday{time.Tuesday}, Opens: "09:00", Closes: "12:00"}}); err != nil {
		t.Fatal(err)
	}

	type caller struct {
		ctx context.Context
		api pb.HostAPIClient
	}
	as := func(plugin string, tenant int64, actor hostapi.Actor) caller {
		ctx, api := b.as(plugin, tenant, actor)
		return caller{ctx, api}
	}
	otherService := as("sportsfields", tid, staff(op))
	otherServiceCitizen := as("sportsfields", tid, citizen(anna))
	otherTenant := as("roombooking", other, staff(b.user(other, "op@beta.example")))
	otherCitizen := as("roombooking", tid, citizen(bruno))
	before := b.countRows("bookings")
	for _, who := range []struct {
		name   string
		c      caller
		decide codes.Code // what approving or declining gets
	}{
		{"another service's staff", otherService, codes.NotFound},
		{"another service, for the same citizen", otherServiceCitizen, codes.PermissionDenied},
		{"another tenant's staff", otherTenant, codes.NotFound},
	} {
		t.Run(who.name, func(t *testing.T) {
			_, err := who.c.api.BookingSlots(who.c.ctx, &pb.BookingSlotsRequest{Resource: "sala-consiliare", Day: b.day(1)})
			wantCode(t, "BookingSlots", err, codes.NotFound)
			_, err = who.c.api.BookingDays(who.c.ctx, &pb.BookingDaysRequest{Resource: "sala-consiliare", From: b.day(0), To: b.day(7)})
			wantCode(t, "BookingDays", err, codes.NotFound)
			_, err = who.c.api.Book(who.c.ctx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(1, 11, 0).Unix(), ContactName: "X", ContactPhone: "+39 02 1234567"})
			wantCode(t, "Book", err, codes.NotFound)
			_, err = who.c.api.GetBooking(who.c.ctx, &pb.GetBookingRequest{Code: annas.Code})
			wantCode(t, "GetBooking", err, codes.NotFound)
			_, err = who.c.api.CancelBooking(who.c.ctx, &pb.CancelBookingRequest{Code: annas.Code})
			wantCode(t, "CancelBooking", err, codes.NotFound)
			_, err = who.c.api.ApproveBooking(who.c.ctx, &pb.DecideBookingRequest{Code: pending.Code})
			wantCode(t, "ApproveBooking", err, who.decide)
			_, err = who.c.api.DeclineBooking(who.c.ctx, &pb.DecideBookingRequest{Code: pending.Code, Reason: "no"})
			wantCode(t, "DeclineBooking", err, who.decide)
			_, err = who.c.api.CreatePayment(who.c.ctx, &pb.CreatePaymentRequest{AmountCents: 2500, Reason: "Sala", BookingId: annas.Id})
			wantCode(t, "CreatePayment", err, codes.NotFound)
		})
	}
	t.Run("another citizen", func(t *testing.T) {
		c := otherCitizen
		_, err := c.api.GetBooking(c.ctx, &pb.GetBookingRequest{Code: annas.Code})
		wantCode(t, "GetBooking", err, codes.NotFound)
		_, err = c.api.CancelBooking(c.ctx, &pb.CancelBookingRequest{Code: annas.Code})
		wantCode(t, "CancelBooking", err, codes.NotFound)
		_, err = c.api.CreatePayment(c.ctx, &pb.CreatePaymentRequest{AmountCents: 2500, Reason: "Sala", BookingId: annas.Id})
		wantCode(t, "CreatePayment", err, codes.NotFound)
		// bruno sees the slot is taken, nothing more.
		_, err = c.api.Book(c.ctx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: start.Unix()})
		wantRefusal(t, "Book", err, codes.AlreadyExists, "taken")
	})
	t.Run("an anonymous visitor", func(t *testing.T) {
		ctx, api := b.as("roombooking", tid, anonymous())
		_, err := api.GetBooking(ctx, &pb.GetBookingRequest{Code: annas.Code})
		wantCode(t, "GetBooking", err, codes.PermissionDenied)
		_, err = api.CancelBooking(ctx, &pb.CancelBookingRequest{Code: annas.Code})
		wantCode(t, "CancelBooking", err, codes.PermissionDenied)
		_, err = api.ApproveBooking(ctx, &pb.DecideBookingRequest{Code: pending.Code})
		wantCode(t, "ApproveBooking", err, codes.PermissionDenied)
		// The calendar is public: a visitor may look before logging in.
		must(api.BookingSlots(ctx, &pb.BookingSlotsRequest{Resource: "sala-consiliare", Day: b.day(1)}))(t)
	})
	t.Run("the core's desks are no service's", func(t *testing.T) {
		ctx, api := b.as("roombooking", tid, staff(op))
		_, err := api.BookingSlots(ctx, &pb.BookingSlotsRequest{Resource: "anagrafe", Day: b.day(1)})
		wantCode(t, "BookingSlots", err, codes.NotFound)
		must(api.DefineResources(ctx, &pb.DefineResourcesRequest{Resources: []*pb.BookingResource{b.sala(), b.aula()}}))(t)
		if d, err := eng.Resource(context.Background(), tid, desk.ID); err != nil || d.Disabled || d.Slug != "anagrafe" {
			t.Errorf("the core's desk after a service's declaration: %+v, %v", d, err)
		}
	})
	if after := b.countRows("bookings"); after != before {
		t.Errorf("%d bookings, %d before: a refused call wrote", after, before)
	}
	if got := b.countRows("bookings WHERE status = 'confirmed' AND id = ?", annas.Id) + b.countRows("bookings WHERE status = 'pending' AND id = ?", pending.Id); got != 2 {
		t.Errorf("anna's bookings changed by others' calls")
	}

	t.Run("services whose ids differ only in - and _ do not share resources", func(t *testing.T) {
		for _, plugin := range []string{"room-booking", "room_booking", "roombooking-"} {
			c := as(plugin, tid, staff(op))
			_, err := c.api.BookingSlots(c.ctx, &pb.BookingSlotsRequest{Resource: "sala-consiliare", Day: b.day(1)})
			wantCode(t, plugin+" before declaring", err, codes.NotFound)
			must(c.api.DefineResources(c.ctx, &pb.DefineResourcesRequest{Resources: []*pb.BookingResource{b.sala()}}))(t)
			must(c.api.Book(c.ctx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(1, 9, 0).Unix(), ContactName: plugin, ContactPhone: "+39 02 1234567"}))(t)
		}
		must(api.Book(ctx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(1, 9, 0).Unix()}))(t)
	})
	t.Run("another service's resource of the same slug is another resource", func(t *testing.T) {
		c := otherService
		r := b.sala()
		out := must(c.api.DefineResources(c.ctx, &pb.DefineResourcesRequest{Resources: []*pb.BookingResource{r}}))(t)
		if out.Resources[0].Slug != "sala-consiliare" {
			t.Fatalf("declared %v", out.Resources)
		}
		got := must(otherServiceCitizen.api.Book(otherServiceCitizen.ctx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: start.Unix()}))(t)
		if got.Status != "confirmed" || got.Resource != "sala-consiliare" {
			t.Fatalf("booked %v", got)
		}
		_, err := api.GetBooking(ctx, &pb.GetBookingRequest{Code: got.Code})
		wantCode(t, "the first service reading the second's booking", err, codes.NotFound)
		if n := b.countRows("booking_resources WHERE tenant_id = ? AND slug LIKE '%sala-consiliare'", tid); n != 5 {
			t.Errorf("%d resources named sala-consiliare, want one per service", n)
		}
	})
}

func TestDecideBooking(t *testing.T) {
	b := newBookingEnv(t)
	tid := b.tenant("alpha")
	op, anna, bruno := b.user(tid, "op@alpha.example"), b.citizen(tid, "anna", ""), b.citizen(tid, "bruno", "")
	b.declare("roombooking", tid, op)
	ctx, api := b.as("roombooking", tid, citizen(anna))
	brunoCtx, brunoAPI := b.as("roombooking", tid, citizen(bruno))
	opCtx, opAPI := b.as("roombooking", tid, staff(op))
	aula := func(day, hh int) *pb.BookRequest {
		return &pb.BookRequest{Resource: "aula-magna", StartUnix: b.at(day, hh, 0).Unix()}
	}

	t.Run("only staff decide", func(t *testing.T) {
		p := must(api.Book(ctx, aula(1, 8)))(t)
		_, err := api.ApproveBooking(ctx, &pb.DecideBookingRequest{Code: p.Code})
		wantCode(t, "the booker approving", err, codes.PermissionDenied)
		_, err = api.DeclineBooking(ctx, &pb.DecideBookingRequest{Code: p.Code})
		wantCode(t, "the booker declining", err, codes.PermissionDenied)
		if got := must(api.GetBooking(ctx, &pb.GetBookingRequest{Code: p.Code}))(t); got.Status != "pending" {
			t.Errorf("after the refusals: %v", got)
		}
		ok := must(opAPI.ApproveBooking(opCtx, &pb.DecideBookingRequest{Code: p.Code}))(t)
		if ok.Status != "confirmed" || ok.Code != p.Code || ok.Resource != "aula-magna" {
			t.Errorf("approved %v", ok)
		}
		if again := must(opAPI.ApproveBooking(opCtx, &pb.DecideBookingRequest{Code: p.Code}))(t); again.Status != "confirmed" {
			t.Errorf("approved twice %v", again)
		}
		_, err = opAPI.DeclineBooking(opCtx, &pb.DecideBookingRequest{Code: p.Code, Reason: "changed my mind"})
		wantRefusal(t, "declining an approved booking", err, codes.FailedPrecondition, "state")
	})
	t.Run("a decline keeps its reason and frees the slot", func(t *testing.T) {
		p := must(api.Book(ctx, aula(1, 10)))(t)
		no := must(opAPI.DeclineBooking(opCtx, &pb.DecideBookingRequest{Code: p.Code, Reason: "La sala è riservata al consiglio"}))(t)
		if no.Status != "cancelled" || no.CancelReason != "La sala è riservata al consiglio" {
			t.Fatalf("declined %v", no)
		}
		if got := must(api.GetBooking(ctx, &pb.GetBookingRequest{Code: p.Code}))(t); got.Status != "cancelled" || got.CancelReason != no.CancelReason {
			t.Errorf("the booker reads %v", got)
		}
		_, err := opAPI.ApproveBooking(opCtx, &pb.DecideBookingRequest{Code: p.Code})
		wantRefusal(t, "approving a declined booking", err, codes.FailedPrecondition, "state")
		must(brunoAPI.Book(brunoCtx, aula(1, 10)))(t)
	})
	t.Run("only a pending booking", func(t *testing.T) {
		confirmed := must(api.Book(ctx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(1, 10, 0).Unix()}))(t)
		_, err := opAPI.DeclineBooking(opCtx, &pb.DecideBookingRequest{Code: confirmed.Code, Reason: "no"})
		wantRefusal(t, "declining a booking that needed no approval", err, codes.FailedPrecondition, "state")
		held := must(api.Book(ctx, &pb.BookRequest{Resource: "aula-magna", StartUnix: b.at(1, 12, 0).Unix(), HoldMinutes: 15}))(t)
		_, err = opAPI.ApproveBooking(opCtx, &pb.DecideBookingRequest{Code: held.Code})
		wantRefusal(t, "approving a hold", err, codes.FailedPrecondition, "state")
		_, err = opAPI.DeclineBooking(opCtx, &pb.DecideBookingRequest{Code: held.Code})
		wantRefusal(t, "declining a hold", err, codes.FailedPrecondition, "state")
		cancelled := must(api.Book(ctx, aula(1, 14)))(t)
		must(api.CancelBooking(ctx, &pb.CancelBookingRequest{Code: cancelled.Code}))(t)
		_, err = opAPI.ApproveBooking(opCtx, &pb.DecideBookingRequest{Code: cancelled.Code})
		wantRefusal(t, "approving a cancelled booking", err, codes.FailedPrecondition, "state")
	})
	t.Run("bad requests", func(t *testing.T) {
		p := must(api.Book(ctx, aula(1, 16)))(t)
		for _, tc := range []struct {
			name string
			req  *pb.DecideBookingRequest
			want codes.Code
		}{
			{"no code", &pb.DecideBookingRequest{}, codes.InvalidArgument},
			{"a malformed code", &pb.DecideBookingRequest{Code: "0000-OOO"}, codes.InvalidArgument},
			{"a code with a NUL", &pb.DecideBookingRequest{Code: p.Code + "\x00"}, codes.InvalidArgument},
			{"an unknown code", &pb.DecideBookingRequest{Code: "ZZZZZZZZ"}, codes.NotFound},
			{"a reason too long", &pb.DecideBookingRequest{Code: p.Code, Reason: strings.Repeat("x", 501)}, codes.InvalidArgument},
			{"a reason too long in bytes", &pb.DecideBookingRequest{Code: p.Code, Reason: strings.Repeat("è", 400)}, codes.InvalidArgument},
			{"a reason with a NUL", &pb.DecideBookingRequest{Code: p.Code, Reason: "no\x00"}, codes.InvalidArgument},
		} {
			_, err := opAPI.DeclineBooking(opCtx, tc.req)
			wantCode(t, "DeclineBooking: "+tc.name, err, tc.want)
			if tc.req.Reason == "" { // approving reads no reason
				_, err = opAPI.ApproveBooking(opCtx, tc.req)
				wantCode(t, "ApproveBooking: "+tc.name, err, tc.want)
			}
		}
		if got := must(api.GetBooking(ctx, &pb.GetBookingRequest{Code: p.Code}))(t); got.Status != "pending" {
			t.Errorf("after the bad requests: %v", got)
		}
	})
}

func TestCancelBooking(t *testing.T) {
	b := newBookingEnv(t)
	tid := b.tenant("alpha")
	op, anna, bruno := b.user(tid, "op@alpha.example"), b.citizen(tid, "anna", ""), b.citizen(tid, "bruno", "")
	b.declare("roombooking", tid, op)
	ctx, api := b.as("roombooking", tid, citizen(anna))
	brunoCtx, brunoAPI := b.as("roombooking", tid, citizen(bruno))
	opCtx, opAPI := b.as("roombooking", tid, staff(op))
	sala := func(day, hh int) *pb.BookRequest {
		return &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(day, hh, 0).Unix()}
	}

	t.Run("before the deadline the booker cancels, and the slot is free", func(t *testing.T) {
		bk := must(api.Book(ctx, sala(3, 10)))(t) // deadline Wednesday 10:00
		out := must(api.CancelBooking(ctx, &pb.CancelBookingRequest{Code: bk.Code, Reason: "Evento rinviato"}))(t)
		if out.Status != "cancelled" || out.CancelReason != "Evento rinviato" || out.Code != bk.Code {
			t.Fatalf("cancelled %v", out)
		}
		must(api.CancelBooking(ctx, &pb.CancelBookingRequest{Code: bk.Code}))(t) // twice is fine
		must(brunoAPI.Book(brunoCtx, sala(3, 10)))(t)
	})
	t.Run("after the deadline the booker cannot, staff can", func(t *testing.T) {
		bk := must(api.Book(ctx, sala(0, 10)))(t) // its deadline was yesterday at 10:00
		_, err := api.CancelBooking(ctx, &pb.CancelBookingRequest{Code: bk.Code})
		r := wantRefusal(t, "the booker after the deadline", err, codes.FailedPrecondition, "deadline")
		if r.LimitUnix != bk.CancelDeadlineUnix || r.LimitUnix != b.at(0, 10, 0).Add(-24*time.Hour).Unix() {
			t.Errorf("limit %d, want the deadline %d", r.LimitUnix, bk.CancelDeadlineUnix)
		}
		if got := must(api.GetBooking(ctx, &pb.GetBookingRequest{Code: bk.Code}))(t); got.Status != "confirmed" {
			t.Errorf("after the refusal: %v", got)
		}
		out := must(opAPI.CancelBooking(opCtx, &pb.CancelBookingRequest{Code: bk.Code, Reason: "Sala inagibile"}))(t)
		if out.Status != "cancelled" || out.CancelReason != "Sala inagibile" {
			t.Errorf("staff cancelled %v", out)
		}
	})
	t.Run("the deadline passes while the booking waits", func(t *testing.T) {
		bk := must(api.Book(ctx, sala(8, 10)))(t)
		b.clock.Set(b.at(7, 10, 1))
		defer b.clock.Set(b.at(0, 8, 0))
		_, err := api.CancelBooking(ctx, &pb.CancelBookingRequest{Code: bk.Code})
		r := wantRefusal(t, "a minute after the deadline", err, codes.FailedPrecondition, "deadline")
		if r.LimitUnix != b.at(7, 10, 0).Unix() {
			t.Errorf("limit %s, want a day before the start", time.Unix(r.LimitUnix, 0).In(b.rome))
		}
		b.clock.Set(b.at(7, 10, 0))
		must(api.CancelBooking(ctx, &pb.CancelBookingRequest{Code: bk.Code}))(t)
	})
	t.Run("a hold may be let go at any time", func(t *testing.T) {
		bk := must(api.Book(ctx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(0, 11, 0).Unix(), HoldMinutes: 10}))(t)
		out := must(api.CancelBooking(ctx, &pb.CancelBookingRequest{Code: bk.Code}))(t)
		if out.Status != "cancelled" || out.ExpiresUnix != 0 {
			t.Errorf("cancelled hold %v", out)
		}
	})
	t.Run("a pending booking, before its deadline", func(t *testing.T) {
		bk := must(api.Book(ctx, &pb.BookRequest{Resource: "aula-magna", StartUnix: b.at(1, 8, 0).Unix()}))(t)
		if out := must(api.CancelBooking(ctx, &pb.CancelBookingRequest{Code: bk.Code}))(t); out.Status != "cancelled" {
			t.Errorf("cancelled %v", out)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		bk := must(api.Book(ctx, sala(4, 10)))(t)
		for _, tc := range []struct {
			name string
			req  *pb.CancelBookingRequest
			want codes.Code
		}{
			{"no code", &pb.CancelBookingRequest{}, codes.InvalidArgument},
			{"a malformed code", &pb.CancelBookingRequest{Code: "abc"}, codes.InvalidArgument},
			{"a code with a NUL", &pb.CancelBookingRequest{Code: "\x00\x00\x00\x00\x00\x00\x00\x00"}, codes.InvalidArgument},
			{"an unknown code", &pb.CancelBookingRequest{Code: "ZZZZZZZZ"}, codes.NotFound},
			{"a reason too long", &pb.CancelBookingRequest{Code: bk.Code, Reason: strings.Repeat("x", 501)}, codes.InvalidArgument},
			{"a reason too long in bytes", &pb.CancelBookingRequest{Code: bk.Code, Reason: strings.Repeat("€", 300)}, codes.InvalidArgument},
			{"a reason with a NUL", &pb.CancelBookingRequest{Code: bk.Code, Reason: "\x00"}, codes.InvalidArgument},
		} {
			_, err := api.CancelBooking(ctx, tc.req)
			wantCode(t, tc.name, err, tc.want)
		}
		for _, code := range []string{"", "abc", "ZZZZZZZZ", "\x00", strings.Repeat("Z", 10000)} {
			_, err := api.GetBooking(ctx, &pb.GetBookingRequest{Code: code})
			if c := status.Code(err); c != codes.InvalidArgument && c != codes.NotFound {
				t.Errorf("GetBooking %q: %v", code, err)
			}
		}
		if got := must(api.GetBooking(ctx, &pb.GetBookingRequest{Code: bk.Code}))(t); got.Status != "confirmed" {
			t.Errorf("after the bad requests: %v", got)
		}
	})
}

// paymentService is core/payments as the server assembles it, with the
// local test provider and the booking engine's holds.
func (b *bookingEnv) paymentService() *payments.Service {
	b.t.Helper()
	svc, err := payments.New(b.db.App, payments.Options{
		Providers: []payments.Provider{payments.Local{}},
		Default:   "local",
		Holds:     map[string]payments.Hold{"reservation": payments.Reservations{}, "booking": booking.PaymentHold{}},
	})
	if err != nil {
		b.t.Fatal(err)
	}
	return svc
}

// payment reads what CreatePayment stored beyond what it answers.
func (b *bookingEnv) payment(id int64) (expires time.Time, citizen int64, holdKind string, holdID int64) {
	b.t.Helper()
	err := b.db.Owner.QueryRowContext(context.Background(), `SELECT expires_at, coalesce(citizen_id, 0), hold_kind, hold_id
		FROM payments WHERE id = ?`, id).Scan(&expires, &citizen, &holdKind, &holdID)
	if err != nil {
		b.t.Fatal(err)
	}
	return
}

// expire makes rows of table (bookings' holds, payments) due a second
// ago, as the database and the engine's clock both see it.
func (b *bookingEnv) expire(table string, id int64) {
	b.t.Helper()
	if _, err := b.db.Owner.ExecContext(context.Background(),
		"UPDATE "+table+" SET expires_at = now() - interval '1 second' WHERE id = ?", id); err != nil {
		b.t.Fatal(err)
	}
}

func TestBookingPayments(t *testing.T) {
	b := newBookingEnv(t)
	tid := b.tenant("alpha")
	op, anna, bruno := b.user(tid, "op@alpha.example"), b.citizen(tid, "anna", ""), b.citizen(tid, "bruno", "")
	b.declare("roombooking", tid, op)
	ctx, api := b.as("roombooking", tid, citizen(anna))
	brunoCtx, brunoAPI := b.as("roombooking", tid, citizen(bruno))
	opCtx, opAPI := b.as("roombooking", tid, staff(op))
	svc := b.paymentService()
	bg := context.Background()
	hold := func(resource string, start time.Time, slots int32) *pb.Booking {
		t.Helper()
		return must(api.Book(ctx, &pb.BookRequest{Resource: resource, StartUnix: start.Unix(), Slots: slots, HoldMinutes: 30}))(t)
	}
	pay := func(c context.Context, a pb.HostAPIClient, bk *pb.Booking) *pb.Payment {
		t.Helper()
		return must(a.CreatePayment(c, &pb.CreatePaymentRequest{AmountCents: bk.PriceCents, Reason: "Sala " + bk.Code, BookingId: bk.Id}))(t)
	}
	complete := func(p *pb.Payment) error {
		t.Helper()
		if _, err := svc.Open(bg, tid, p.Id); err != nil {
			t.Fatal(err)
		}
		_, err := svc.Transition(bg, tid, p.Id, payments.Complete, "provider:local", "")
		return err
	}

	t.Run("a paid hold is confirmed", func(t *testing.T) {
		bk := hold("sala-consiliare", b.at(3, 14, 0), 2)
		p := pay(ctx, api, bk)
		if p.Status != "creation_pending" || p.AmountCents != 5000 {
			t.Fatalf("payment %v", p)
		}
		expires, payer, kind, id := b.payment(p.Id)
		if expires.Unix() != bk.ExpiresUnix || payer != anna || kind != "booking" || id != bk.Id {
			t.Errorf("payment due %s for citizen %d, hold %s %d; want due %s (the hold's end) for %d, booking %d",
				expires, payer, kind, id, time.Unix(bk.ExpiresUnix, 0), anna, bk.Id)
		}
		_, err := api.CreatePayment(ctx, &pb.CreatePaymentRequest{AmountCents: 5000, Reason: "again", BookingId: bk.Id})
		wantCode(t, "a second payment for the booking", err, codes.AlreadyExists)

		if err := complete(p); err != nil {
			t.Fatal(err)
		}
		got := must(api.GetBooking(ctx, &pb.GetBookingRequest{Code: bk.Code}))(t)
		if got.Status != "confirmed" || got.ExpiresUnix != 0 {
			t.Errorf("after the payment: %v", got)
		}
		_, err = api.CreatePayment(ctx, &pb.CreatePaymentRequest{AmountCents: 5000, Reason: "again", BookingId: bk.Id})
		wantCode(t, "paying a paid booking again", err, codes.AlreadyExists)
	})
	t.Run("a paid hold of a resource needing approval waits for staff", func(t *testing.T) {
		bk := hold("aula-magna", b.at(1, 8, 0), 1)
		if err := complete(pay(ctx, api, bk)); err != nil {
			t.Fatal(err)
		}
		if got := must(api.GetBooking(ctx, &pb.GetBookingRequest{Code: bk.Code}))(t); got.Status != "pending" {
			t.Errorf("after the payment: %v", got)
		}
		must(opAPI.ApproveBooking(opCtx, &pb.DecideBookingRequest{Code: bk.Code}))(t)
	})
	t.Run("an unpaid hold expires with its payment and frees the slot", func(t *testing.T) {
		start := b.at(3, 10, 0)
		bk := hold("sala-consiliare", start, 1)
		p := pay(ctx, api, bk)
		_, err := brunoAPI.Book(brunoCtx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: start.Unix()})
		wantRefusal(t, "while the hold waits for its payment", err, codes.AlreadyExists, "taken")

		b.expire("bookings", bk.Id)
		b.expire("payments", p.Id)
		if n, err := svc.Sweep(bg, 100); err != nil || n < 1 {
			t.Fatalf("sweep changed %d payments: %v", n, err)
		}
		if got := must(svc.Get(bg, tid, p.Id))(t); got.Status != payments.Expired {
			t.Errorf("payment %s, want expired", got.Status)
		}
		if got := must(api.GetBooking(ctx, &pb.GetBookingRequest{Code: bk.Code}))(t); got.Status != "expired" {
			t.Errorf("booking after the sweep: %v", got)
		}
		_, err = api.CreatePayment(ctx, &pb.CreatePaymentRequest{AmountCents: 2500, Reason: "late", BookingId: bk.Id})
		wantCode(t, "paying an expired hold", err, codes.FailedPrecondition)
		if got := must(brunoAPI.Book(brunoCtx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: start.Unix()}))(t); got.Status != "confirmed" {
			t.Errorf("bruno after the hold expired: %v", got)
		}
	})
	t.Run("the engine's sweep frees an unpaid hold too", func(t *testing.T) {
		start := b.at(3, 11, 0)
		bk := hold("sala-consiliare", start, 1)
		b.expire("bookings", bk.Id)
		if n, err := booking.New(b.db.App, b.clock.Now).ExpireAll(bg); err != nil || n != 1 {
			t.Fatalf("engine sweep expired %d: %v", n, err)
		}
		if got := must(api.GetBooking(ctx, &pb.GetBookingRequest{Code: bk.Code}))(t); got.Status != "expired" {
			t.Errorf("booking after the sweep: %v", got)
		}
		must(brunoAPI.Book(brunoCtx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: start.Unix()}))(t)
	})
	t.Run("a payment completing after its slot was taken confirms nothing", func(t *testing.T) {
		start := b.at(4, 9, 0)
		bk := hold("sala-consiliare", start, 1)
		p := pay(ctx, api, bk)
		if _, err := svc.Open(bg, tid, p.Id); err != nil {
			t.Fatal(err)
		}
		b.expire("bookings", bk.Id) // the hold ran out; the payment's sweep has not come yet
		theirs := must(brunoAPI.Book(brunoCtx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: start.Unix()}))(t)
		_, err := svc.Transition(bg, tid, p.Id, payments.Complete, "provider:local", "")
		if err == nil {
			t.Fatal("a payment for a lost hold completed")
		}
		if got := must(brunoAPI.GetBooking(brunoCtx, &pb.GetBookingRequest{Code: theirs.Code}))(t); got.Status != "confirmed" {
			t.Errorf("bruno's booking %v", got)
		}
		if got := must(api.GetBooking(ctx, &pb.GetBookingRequest{Code: bk.Code}))(t); got.Status != "expired" {
			t.Errorf("anna's lapsed hold %v", got)
		}
	})
	t.Run("staff ask for the payment of an approved booking, due at its deadline", func(t *testing.T) {
		bk := must(api.Book(ctx, &pb.BookRequest{Resource: "aula-magna", StartUnix: b.at(8, 10, 0).Unix()}))(t)
		must(opAPI.ApproveBooking(opCtx, &pb.DecideBookingRequest{Code: bk.Code}))(t)
		p := pay(opCtx, opAPI, bk)
		if expires, payer, _, _ := b.payment(p.Id); expires.Unix() != bk.CancelDeadlineUnix || payer != anna {
			t.Errorf("payment due %s for citizen %d; want %s for anna (%d)", expires, payer, time.Unix(bk.CancelDeadlineUnix, 0), anna)
		}
		// Not paid by then: the booking is cancelled, saying why.
		b.expire("payments", p.Id)
		if _, err := svc.Sweep(bg, 100); err != nil {
			t.Fatal(err)
		}
		got := must(api.GetBooking(ctx, &pb.GetBookingRequest{Code: bk.Code}))(t)
		if got.Status != "cancelled" || got.CancelReason != booking.ReasonNotPaid {
			t.Errorf("approved but unpaid: %v", got)
		}
	})
	t.Run("refused payments", func(t *testing.T) {
		cancelled := must(api.Book(ctx, &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(4, 10, 0).Unix(), HoldMinutes: 30}))(t)
		must(api.CancelBooking(ctx, &pb.CancelBookingRequest{Code: cancelled.Code}))(t)
		live := hold("sala-consiliare", b.at(4, 11, 0), 1)
		res := must(api.Reserve(ctx, &pb.ReserveRequest{Resource: "x", StartUnix: b.at(4, 11, 0).Unix(), EndUnix: b.at(4, 12, 0).Unix(), HoldMinutes: 10}))(t)
		anonCtx, anonAPI := b.as("roombooking", tid, anonymous())
		before := b.rows()
		for _, tc := range []struct {
			name string
			ctx  context.Context
			api  pb.HostAPIClient
			req  *pb.CreatePaymentRequest
			want codes.Code
		}{
			{"a cancelled booking", ctx, api, &pb.CreatePaymentRequest{AmountCents: 2500, Reason: "Sala", BookingId: cancelled.Id}, codes.FailedPrecondition},
			{"a booking that does not exist", ctx, api, &pb.CreatePaymentRequest{AmountCents: 2500, Reason: "Sala", BookingId: 999999}, codes.NotFound},
			{"a negative booking", ctx, api, &pb.CreatePaymentRequest{AmountCents: 2500, Reason: "Sala", BookingId: -1}, codes.InvalidArgument},
			{"a booking and a reservation", ctx, api, &pb.CreatePaymentRequest{AmountCents: 2500, Reason: "Sala", BookingId: live.Id, ReservationId: res.Id}, codes.InvalidArgument},
			{"no amount", ctx, api, &pb.CreatePaymentRequest{Reason: "Sala", BookingId: live.Id}, codes.InvalidArgument},
			{"another citizen's booking", brunoCtx, brunoAPI, &pb.CreatePaymentRequest{AmountCents: 2500, Reason: "Sala", BookingId: live.Id}, codes.NotFound},
			{"an anonymous visitor", anonCtx, anonAPI, &pb.CreatePaymentRequest{AmountCents: 2500, Reason: "Sala", BookingId: live.Id}, codes.PermissionDenied},
		} {
			_, err := tc.api.CreatePayment(tc.ctx, tc.req)
			wantCode(t, tc.name, err, tc.want)
		}
		b.sameRows(before)
		pay(ctx, api, live) // the refusals left it payable
	})
}

// Many ask at once for one slot, or for runs that overlap it: exactly one
// gets it, every other is told it is taken.
func TestConcurrentBookingsOfOneSlot(t *testing.T) {
	b := newBookingEnv(t)
	tid := b.tenant("alpha")
	b.declare("roombooking", tid, b.user(tid, "op@alpha.example"))
	var mu sync.Mutex
	var wins, refusals int
	var wg sync.WaitGroup
	for i := range 12 {
		ctx, api := b.as("roombooking", tid, citizen(b.citizen(tid, fmt.Sprintf("c%d", i), "")))
		req := &pb.BookRequest{Resource: "sala-consiliare", StartUnix: b.at(1, 9+i%3, 0).Unix(), Slots: int32(3 - i%3)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := api.Book(ctx, req)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case status.Code(err) == codes.AlreadyExists && refusalOf(err).GetRule() == "taken":
				refusals++
			default:
				t.Errorf("Book %v: %v", req, err)
			}
		}()
	}
	wg.Wait()
	// Every request takes 11:00, whatever it starts with.
	if wins != 1 || refusals != 11 {
		t.Fatalf("%d won, %d refused; want 1 and 11", wins, refusals)
	}
	if n := b.countRows("bookings WHERE status = 'confirmed'"); n != 1 {
		t.Fatalf("%d bookings stored, want 1", n)
	}
}
