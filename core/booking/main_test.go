package booking_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the zones tested must not depend on the machine's

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/store/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

var rome = mustZone("Europe/Rome")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// at is a wall-clock time in Rome.
func at(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, rome) }

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// fakeClock is the engine's clock, moved by the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     *testing.T
	db    *pgtest.DB
	clock *fakeClock
	eng   *booking.Engine
	ctx   context.Context
}

func newEnv(t *testing.T, now time.Time) *env {
	t.Helper()
	db := pg.NewDB(t)
	c := &fakeClock{t: now}
	return &env{t: t, db: db, clock: c, eng: booking.New(db.App, c.Now), ctx: context.Background()}
}

func (e *env) tenant(slug string) int64 {
	e.t.Helper()
	var id int64
	err := e.db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it}') RETURNING id", slug, slug).Scan(e.ctx, &id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) insert(tenant int64, query string, args ...any) int64 {
	e.t.Helper()
	var id int64
	err := e.db.App.InTenant(e.ctx, tenant, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, query, args...).Scan(&id)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) citizen(tenant int64, name, email string) int64 {
	return e.insert(tenant, "INSERT INTO citizens (tenant_id, issuer, subject, name, email) VALUES (?, 'test', ?, ?, ?) RETURNING id",
		tenant, email, name, email)
}

func (e *env) office(tenant int64, slug string) int64 {
	return e.insert(tenant, `INSERT INTO offices (tenant_id, slug, name) VALUES (?, ?, '{"it": "Ufficio"}') RETURNING id`, tenant, slug)
}

// resource defines r (a desk in Rome by default) with hours.
func (e *env) resource(tenant int64, r booking.Resource, hours ...booking.Hours) *booking.Resource {
	e.t.Helper()
	if r.Kind == "" {
		r.Kind = booking.Desk
	}
	if r.Name == nil {
		r.Name = map[string]string{"it": "Sportello " + r.Slug}
	}
	out, err := e.eng.DefineResource(e.ctx, tenant, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.eng.SetHours(e.ctx, tenant, out.ID, hours); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// bookings counts the rows of bookings across tenants (as the owner).
func (e *env) bookings(where string) int {
	e.t.Helper()
	var n int
	if err := e.db.Owner.NewRaw("SELECT count(*) FROM bookings WHERE "+where).Scan(e.ctx, &n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

var weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

var everyDay = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}

func guest(name string) booking.Contact {
	return booking.Contact{Name: name, Email: name + "@example.org"}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s: %v, want success", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}

// must(x, err)(t) is x when err is nil.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func starts(slots []booking.Slot) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.Start.Format("15:04")
	}
	return out
}
