// Package authn tells who is making a request: staff and platform staff by
// e-mail and password, citizens through their town's OpenID provider (SPID
// and CIE gateways), and everyone afterwards by a session cookie.
//
// Everything lives in PostgreSQL so that any app instance can serve any
// request: sessions, the short-lived state of login flows (ephemeral), and
// the lock-out counters. Tenant-owned rows are only touched inside
// store.DB.InTenant. The HTTP layer owns cookies and routes; this package
// hands it tokens and identities.
package authn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/store"
)

// Lock-out: an account that fails MaxFailedLogins times within
// FailureWindow is locked for LockDuration. A guesser thus gets at most 10
// tries per 30 minutes, about 40 an hour, well under the 100 an hour per
// account that the security requirements allow, while a user who mistypes
// a few times is never locked out.
const (
	MaxFailedLogins = 10
	FailureWindow   = 15 * time.Minute
	LockDuration    = 15 * time.Minute
)

var (
	// ErrBadCredentials is a wrong e-mail or password; which of the two is
	// deliberately not said.
	ErrBadCredentials = errors.New("wrong e-mail or password")
	// ErrLocked is an account locked after too many failures. The error
	// returned is a *LockedError, which says until when.
	ErrLocked = errors.New("account locked")
)

// LockedError is the ErrLocked of one account: Until lets the login page say
// when to come back.
type LockedError struct {
	Until time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("account locked until %s", e.Until.Format(time.RFC3339))
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// Options tune an Authenticator; the zero value is right for production.
type Options struct {
	// HashConcurrency bounds the password checks running at once; the
	// default is one per CPU. Each takes 19 MiB, so a flood of logins queues
	// here instead of exhausting memory.
	HashConcurrency int
}

// Authenticator logs staff and platform staff in and keeps everyone's
// sessions.
type Authenticator struct {
	db        *store.DB
	now       func() time.Time
	hashSlots chan struct{}
}

// New returns an Authenticator on db. clock is the time source (time.Now
// when nil); tests move it to expire locks and sessions.
func New(db *store.DB, clock func() time.Time, opts Options) *Authenticator {
	if clock == nil {
		clock = time.Now
	}
	n := opts.HashConcurrency
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &Authenticator{db: db, now: clock, hashSlots: make(chan struct{}, n)}
}

// NormalizeEmail is the form e-mails are stored and looked up in.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// LoginStaff checks a staff member's e-mail and password in a tenant and
// returns the user's id. Errors: ErrBadCredentials, a *LockedError, or a
// failure of the database.
func (a *Authenticator) LoginStaff(ctx context.Context, tenantID int64, email, password string) (int64, error) {
	if tenantID <= 0 {
		return 0, store.ErrNoTenant
	}
	id, err := a.login(ctx, accounts{
		table: "users",
		scope: "tenant_id = ? AND ",
		args:  []any{tenantID},
		inTx: func(ctx context.Context, fn func(context.Context, bun.Tx) error) error {
			return a.db.InTenant(ctx, tenantID, fn)
		},
	}, email, password)
	if err != nil {
		return 0, fmt.Errorf("staff login to tenant %d: %w", tenantID, err)
	}
	return id, nil
}

// LoginPlatform checks a platform staff member's e-mail and password and
// returns the platform user's id. Errors as for LoginStaff.
func (a *Authenticator) LoginPlatform(ctx context.Context, email, password string) (int64, error) {
	id, err := a.login(ctx, accounts{
		table: "platform_users",
		inTx: func(ctx context.Context, fn func(context.Context, bun.Tx) error) error {
			return a.db.RunInTx(ctx, nil, fn)
		},
	}, email, password)
	if err != nil {
		return 0, fmt.Errorf("platform login: %w", err)
	}
	return id, nil
}

// accounts is where one kind of account lives: staff users of a tenant or
// platform users. table and scope are constants of this file, never input.
type accounts struct {
	table string
	scope string // SQL condition ending in "AND " that binds the tenant, or ""
	args  []any  // the scope's arguments
	inTx  func(ctx context.Context, fn func(context.Context, bun.Tx) error) error
}

// lockout is an account's record of recent failures.
type lockout struct {
	failed      int
	firstFailed *time.Time
	lockedUntil *time.Time
}

// admit decides whether an attempt may be checked against the password at
// now, and returns the record with the attempt counted as a failure in
// advance. Counting before the (slow) check, in a transaction that holds
// the row, means parallel guesses cannot all slip in under the limit; a
// success then clears the record.
func (l lockout) admit(now time.Time) (lockout, error) {
	if l.lockedUntil != nil && now.Before(*l.lockedUntil) {
		return l, &LockedError{Until: *l.lockedUntil}
	}
	if l.lockedUntil != nil || l.firstFailed == nil || now.Sub(*l.firstFailed) >= FailureWindow {
		l = lockout{firstFailed: &now}
	}
	l.failed++
	if l.failed >= MaxFailedLogins {
		until := now.Add(LockDuration)
		l.lockedUntil = &until
	}
	return l, nil
}

func (a *Authenticator) login(ctx context.Context, acc accounts, email, password string) (int64, error) {
	email = NormalizeEmail(email)
	var (
		id    int64
		hash  string
		found bool
	)
	err := acc.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var l lockout
		q := fmt.Sprintf(`SELECT id, password_hash, failed_logins, first_failed_at, locked_until
			FROM %s WHERE %semail = ? FOR UPDATE`, acc.table, acc.scope)
		err := tx.QueryRowContext(ctx, q, append(acc.args, email)...).Scan(&id, &hash, &l.failed, &l.firstFailed, &l.lockedUntil)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("look up account: %w", err)
		}
		found = true
		l, err = l.admit(a.now())
		if err != nil {
			return err
		}
		q = fmt.Sprintf(`UPDATE %s SET failed_logins = ?, first_failed_at = ?, locked_until = ?
			WHERE %sid = ?`, acc.table, acc.scope)
		if _, err := tx.ExecContext(ctx, q, append(append([]any{l.failed, l.firstFailed, l.lockedUntil}, acc.args...), id)...); err != nil {
			return fmt.Errorf("count login attempt: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if !found || hash == "" {
		_, _ = a.verify(ctx, password, dummyHash)
		return 0, ErrBadCredentials
	}
	ok, err := a.verify(ctx, password, hash)
	if err != nil {
		return 0, fmt.Errorf("account %d: %w", id, err)
	}
	if !ok {
		return 0, ErrBadCredentials
	}

	newHash := hash
	if needsRehash(hash) {
		if h, err := HashPassword(password); err == nil {
			newHash = h
		}
	}
	err = acc.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// The CASE keeps a password changed meanwhile from being overwritten
		// by the rehash of the old one.
		q := fmt.Sprintf(`UPDATE %s SET failed_logins = 0, first_failed_at = NULL, locked_until = NULL,
			password_hash = CASE WHEN password_hash = ? THEN ? ELSE password_hash END
			WHERE %sid = ?`, acc.table, acc.scope)
		_, err := tx.ExecContext(ctx, q, append(append([]any{hash, newHash}, acc.args...), id)...)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("clear failed logins of account %d: %w", id, err)
	}
	return id, nil
}
