package appointment_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/sportello/sportello/core/appointment"
	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/store/pgtest"
	"github.com/sportello/sportello/core/tenancy"
	"github.com/sportello/sportello/web"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

var rome = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return l
}()

// at is a wall-clock time in Rome.
func at(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, rome) }

// monday is the tests' "now": Monday 16 March 2026, 08:00 in Rome.
var monday = at(2026, 3, 16, 8, 0)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// townYAML is a town with two offices taking appointments: the registry
// office with two desks, Monday to Friday 09:00–12:00 in 30-minute slots,
// and a public relations office with one desk on Monday 09:00–10:00. The
// registry is closed on 19 March.
const townYAML = `slug: %s
name: Comune di Prova
languages: [it, en]
offices:
  - slug: anagrafe
    name: {it: Servizi demografici, en: Registry office}
    address: Via Roma 5, piano terra
    email: anagrafe@prova.example
    hours:
      - {days: [mon, tue, wed, thu, fri], open: "09:00", close: "12:00"}
  - slug: urp
    name: {it: Ufficio relazioni con il pubblico}
    address: Piazza Libertà 1
    hours:
      - {days: [mon, tue, wed, thu, fri], open: "09:00", close: "18:00"}
appointments:
  anonymous: %t
  slot_minutes: 30
  horizon_days: 30
  cancel_deadline_hours: 24
  topics:
    - {id: carta-identita, name: {it: Carta d'identità elettronica, en: Electronic identity card}}
    - {id: cambio-residenza, name: {it: Cambio di residenza, en: Change of residence}}
    - {id: informazioni, name: {it: Informazioni}}
  offices:
    - office: anagrafe
      desks: 2
      topics: [carta-identita, cambio-residenza]
    - office: urp
      topics: [informazioni]
      hours:
        - {days: [mon], open: "09:00", close: "10:00"}
  closures:
    - {from: "2026-03-19", to: "2026-03-19", reason: San Giuseppe, offices: [anagrafe]}
`

type env struct {
	t     *testing.T
	ctx   context.Context
	db    *pgtest.DB
	clock *clock
	eng   *booking.Engine
	svc   *appointment.Service
	msg   *i18n.Catalog
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := pg.NewDB(t)
	c := &clock{t: monday}
	msg, err := i18n.New(web.LocalesFS())
	if err != nil {
		t.Fatal(err)
	}
	eng := booking.New(db.App, c.Now)
	svc, err := appointment.New(db.App, eng, appointment.Options{Secret: []byte("0123456789abcdef0123456789abcdef"), Messages: msg, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: context.Background(), db: db, clock: c, eng: eng, svc: svc, msg: msg}
}

func manifest(t *testing.T, yaml string) *tenancy.Manifest {
	t.Helper()
	m, err := tenancy.ParseManifest("test.yaml", []byte(yaml), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// town applies a town of townYAML and returns its id.
func (e *env) town(slug string, anonymous bool) int64 {
	e.t.Helper()
	return e.apply(manifest(e.t, fmt.Sprintf(townYAML, slug, anonymous)))
}

func (e *env) apply(m *tenancy.Manifest) int64 {
	e.t.Helper()
	res, err := tenancy.Apply(e.ctx, e.db.App, authn.Argon2{}, m)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := appointment.Apply(e.ctx, e.db.App, e.eng, m); err != nil {
		e.t.Fatal(err)
	}
	return res.TenantID
}

func (e *env) office(tenantID int64, slug string) appointment.Office {
	e.t.Helper()
	cfg, err := e.svc.Config(e.ctx, tenantID)
	if err != nil {
		e.t.Fatal(err)
	}
	o, ok := cfg.Office(slug)
	if !ok {
		e.t.Fatalf("no office %s", slug)
	}
	return o
}

var notice = appointment.Notice{Lang: "it", Town: "Comune di Prova", Host: "prova.sportello.test", BaseURL: "https://prova.sportello.test"}

func guest(name string) booking.Contact {
	return booking.Contact{Name: name, Email: name + "@example.org"}
}

// book books topic at office for a guest, failing the test on an error.
func (e *env) book(tenantID int64, topic, office string, start time.Time, who string) *appointment.Appointment {
	e.t.Helper()
	a, err := e.svc.Book(e.ctx, tenantID, appointment.Request{Topic: topic, Office: office, Start: start, Contact: guest(who)}, notice)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// count counts rows across towns, as the owner.
func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Owner.NewRaw(query, args...).Scan(e.ctx, &n); err != nil {
		e.t.Fatal(err)
	}
	return n
}
