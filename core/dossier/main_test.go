package dossier_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/store/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

// env is one test's database, attachment folder and Store, with a clock
// the test moves.
type env struct {
	t     *testing.T
	db    *pgtest.DB
	files *dossier.Files
	dir   string
	store *dossier.Store
	clock *clock
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock on by d and returns the new time.
func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWithLimit(t, 0)
}

func newEnvWithLimit(t *testing.T, maxSize int64) *env {
	t.Helper()
	dir := t.TempDir()
	files, err := dossier.NewFiles(dir, maxSize)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC)}
	db := pg.NewDB(t)
	return &env{t: t, db: db, files: files, dir: dir, clock: c, store: dossier.New(db.App, files, c.Now)}
}

var ctx = context.Background()

func (e *env) tenant(slug string) int64 {
	e.t.Helper()
	var id int64
	err := e.db.Owner.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it}') RETURNING id", slug, slug).Scan(ctx, &id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) insert(tenant int64, query string, args ...any) int64 {
	e.t.Helper()
	var id int64
	err := e.db.App.InTenant(ctx, tenant, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, query, args...).Scan(&id)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) citizen(tenant int64, name, email string) int64 {
	return e.insert(tenant, "INSERT INTO citizens (tenant_id, issuer, subject, name, email, fiscal_code) VALUES (?, 'test', ?, ?, ?, '') RETURNING id",
		tenant, name, name, email)
}

// staff is a staff user of tenant, as an Actor.
func (e *env) staff(tenant int64, name string) dossier.Actor {
	id := e.insert(tenant, "INSERT INTO users (tenant_id, email, name) VALUES (?, ?, ?) RETURNING id", tenant, strings.ToLower(strings.ReplaceAll(name, " ", "."))+"@example.org", name)
	return dossier.Staff(id, name)
}

func (e *env) office(tenant int64, slug string) int64 {
	return e.insert(tenant, `INSERT INTO offices (tenant_id, slug, name) VALUES (?, ?, '{"it": "x"}') RETURNING id`, tenant, slug)
}

// open files a dossier that has to succeed.
func (e *env) open(tenant int64, by dossier.Actor, n dossier.NewDossier) *dossier.Dossier {
	e.t.Helper()
	if n.ServiceID == "" {
		n.ServiceID = "helpdesk"
	}
	d, err := e.store.Open(ctx, tenant, by, n)
	if err != nil {
		e.t.Fatalf("open %q: %v", n.Title, err)
	}
	return d
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Owner.NewRaw(query, args...).Scan(ctx, &n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

func wantField(t *testing.T, what string, err error, field, code string) {
	t.Helper()
	var fe *dossier.FieldError
	if !errors.As(err, &fe) || !errors.Is(err, dossier.ErrInvalid) {
		t.Fatalf("%s: got %v, want a FieldError on %s", what, err, field)
	}
	if fe.Field != field || fe.Code != code {
		t.Fatalf("%s: FieldError %s/%s, want %s/%s", what, fe.Field, fe.Code, field, code)
	}
}
