package authn_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/store/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

// clock is a time source tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTenant(t *testing.T, db *pgtest.DB, slug string) int64 {
	t.Helper()
	var id int64
	err := db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it}') RETURNING id", slug, slug).Scan(context.Background(), &id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func hash(t *testing.T, password string) string {
	t.Helper()
	h, err := authn.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newUser(t *testing.T, db *pgtest.DB, tenantID int64, email, password string) int64 {
	t.Helper()
	h := hash(t, password)
	var id int64
	err := db.App.InTenant(context.Background(), tenantID, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw("INSERT INTO users (tenant_id, email, name, password_hash) VALUES (?, ?, 'Staff', ?) RETURNING id",
			tenantID, email, h).Scan(ctx, &id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newPlatformUser(t *testing.T, db *pgtest.DB, email, password string) int64 {
	t.Helper()
	var id int64
	err := db.App.NewRaw("INSERT INTO platform_users (email, name, password_hash) VALUES (?, 'Platform', ?) RETURNING id",
		email, hash(t, password)).Scan(context.Background(), &id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newCitizen(t *testing.T, db *pgtest.DB, tenantID int64, subject string) int64 {
	t.Helper()
	var id int64
	err := db.App.InTenant(context.Background(), tenantID, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw("INSERT INTO citizens (tenant_id, issuer, subject) VALUES (?, 'https://idp.test', ?) RETURNING id",
			tenantID, subject).Scan(ctx, &id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// count counts rows as the owner, who sees every tenant's.
func count(t *testing.T, db *pgtest.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Owner.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}
