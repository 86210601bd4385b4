// Package store connects to PostgreSQL, applies the migrations and runs
// every tenant-owned query inside a transaction bound to one tenant.
//
// Two roles: the owner (the URL the operator gives) runs migrations; the
// application connects as AppRole, which owns nothing and is no superuser,
// so row-level security holds for every query it makes.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// AppRole is the database role the application runs as.
const AppRole = "sportello_app"

// ErrNoTenant is returned when a tenant-scoped call gets no tenant.
var ErrNoTenant = errors.New("no tenant in scope")

// DB is the application's connection pool.
type DB struct {
	*bun.DB
}

// Open connects to dsn and checks the connection.
func Open(ctx context.Context, dsn string, maxConns int) (*DB, error) {
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn), pgdriver.WithTimeout(10*time.Second),
		pgdriver.WithResetSessionFunc(dropDead)))
	if maxConns > 0 {
		sqldb.SetMaxOpenConns(maxConns)
		sqldb.SetMaxIdleConns(maxConns)
	}
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to %s: %w", redact(dsn), err)
	}
	return &DB{DB: db}, nil
}

// InTenant runs fn in a transaction whose tenant is tenantID: row-level
// security shows fn that tenant's rows and no others. fn's error rolls back.
func (db *DB) InTenant(ctx context.Context, tenantID int64, fn func(ctx context.Context, tx bun.Tx) error) error {
	if tenantID <= 0 {
		return ErrNoTenant
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := SetTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		return fn(ctx, tx)
	})
}

// QueryRowInTenant runs one statement in tenantID's scope with a single
// round trip, where InTenant takes four (BEGIN, the setting, the statement,
// COMMIT): the tenant is set with SET LOCAL in the same simple-protocol
// message, which PostgreSQL runs as one implicit transaction, so the
// setting ends with the statement and never outlives it on the pooled
// connection. For the hot reads of the Host API; whatever needs more than
// one statement uses InTenant.
func (db *DB) QueryRowInTenant(ctx context.Context, tenantID int64, query string, args ...any) (*sql.Row, error) {
	if tenantID <= 0 {
		return nil, ErrNoTenant
	}
	// The id is an integer formatted here, never text from outside.
	return db.QueryRowContext(ctx, "SET LOCAL sportello.tenant_id = '"+strconv.FormatInt(tenantID, 10)+"'; "+query, args...), nil
}

// SetTenant binds the rest of transaction tx to tenantID. InTenant is the
// usual way; this is for transactions that first touch global tables.
func SetTenant(ctx context.Context, tx bun.Tx, tenantID int64) error {
	if tenantID <= 0 {
		return ErrNoTenant
	}
	if _, err := tx.ExecContext(ctx, "SELECT set_config('sportello.tenant_id', ?, true)", strconv.FormatInt(tenantID, 10)); err != nil {
		return fmt.Errorf("set tenant %d: %w", tenantID, err)
	}
	return nil
}

// AppURL is ownerURL with the application role's credentials in place of
// the owner's.
func AppURL(ownerURL, password string) (string, error) {
	u, err := url.Parse(ownerURL)
	if err != nil {
		return "", fmt.Errorf("parse database URL: %w", err)
	}
	u.User = url.UserPassword(AppRole, password)
	return u.String(), nil
}

// EnsureAppRole creates the application role if it is missing and sets its
// password. Roles are cluster-wide, so several databases share it.
func EnsureAppRole(ctx context.Context, owner *DB, password string) error {
	// Concurrent creators (parallel test packages) race on the role; a
	// transaction-level advisory lock serialises them.
	return owner.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7164001)"); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ?)", AppRole).Scan(&exists); err != nil {
			return fmt.Errorf("look up role %s: %w", AppRole, err)
		}
		verb := "ALTER"
		if !exists {
			verb = "CREATE"
		}
		q := fmt.Sprintf("%s ROLE %s LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD ?", verb, AppRole)
		if _, err := tx.ExecContext(ctx, q, password); err != nil {
			return fmt.Errorf("%s role %s: %w", verb, AppRole, err)
		}
		return nil
	})
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "database"
	}
	return u.Redacted()
}

// Secret returns the deployment-wide secret called name, creating it with
// n random bytes the first time. Concurrent first starts agree on one.
func (db *DB) Secret(ctx context.Context, name string, n int) ([]byte, error) {
	fresh := make([]byte, n)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO deployment_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name, fresh); err != nil {
		return nil, fmt.Errorf("store secret %s: %w", name, err)
	}
	var v []byte
	if err := db.NewRaw("SELECT value FROM deployment_secrets WHERE name = ?", name).Scan(ctx, &v); err != nil {
		return nil, fmt.Errorf("read secret %s: %w", name, err)
	}
	return v, nil
}
