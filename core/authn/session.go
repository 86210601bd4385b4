package authn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Session lifetimes, the same for staff, citizens and platform staff. A
// session ends after IdleTimeout without requests (a counter PC left
// unlocked) and in any case MaxSessionAge after login (one working day), so
// a stolen cookie does not live forever.
const (
	IdleTimeout   = 30 * time.Minute
	MaxSessionAge = 12 * time.Hour
	// RenewInterval: a session's expiry slides forward at most this often,
	// so a busy page costs one write a minute instead of one per request.
	RenewInterval = time.Minute
)

// ErrNoSession is a token that is unknown, expired, ended or malformed.
var ErrNoSession = errors.New("no such session")

// Subject is who a tenant session belongs to: a staff user or a citizen,
// exactly one of the two ids set.
type Subject struct {
	UserID    int64
	CitizenID int64
}

func (s Subject) valid() bool { return (s.UserID > 0) != (s.CitizenID > 0) }

// Session is a live tenant session.
type Session struct {
	TenantID  int64
	Subject   Subject
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PlatformSession is a live session of a platform staff member.
type PlatformSession struct {
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// tokenBytes is the entropy of a session token: 256 bits, unguessable.
const tokenBytes = 32

// newToken returns a fresh cookie token and the id stored for it.
func newToken() (token, id string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("session token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, tokenID(token), nil
}

// tokenID is what the table stores for token: its SHA-256, so that whoever
// reads the table (a backup, a leaked dump) cannot present the cookie.
func tokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// wellFormed spares the database the lookup of tokens we never issued.
func wellFormed(token string) bool {
	b, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && len(b) == tokenBytes
}

// expiry is when a session created at created and last seen at seen ends.
func expiry(created, seen time.Time) time.Time {
	idle, max := seen.Add(IdleTimeout), created.Add(MaxSessionAge)
	if idle.Before(max) {
		return idle
	}
	return max
}

// nullID maps the unset id of a Subject to SQL NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// NewSession starts a session for subj in a tenant and returns the cookie
// token and when the session would expire if left idle.
func (a *Authenticator) NewSession(ctx context.Context, tenantID int64, subj Subject) (string, time.Time, error) {
	return a.RotateSession(ctx, tenantID, "", subj)
}

// RotateSession is NewSession at login: it also ends the session of
// previous, the token the browser held before logging in (if any), so a
// token planted in the browser beforehand (session fixation) never becomes
// a logged-in one. Call it at every login, with the request's cookie.
func (a *Authenticator) RotateSession(ctx context.Context, tenantID int64, previous string, subj Subject) (string, time.Time, error) {
	if !subj.valid() {
		return "", time.Time{}, fmt.Errorf("new session: subject %+v must be a user or a citizen", subj)
	}
	token, id, err := newToken()
	if err != nil {
		return "", time.Time{}, err
	}
	now := a.now()
	expires := expiry(now, now)
	err = a.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		if previous != "" {
			if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE tenant_id = ? AND id = ?", tenantID, tokenID(previous)); err != nil {
				return fmt.Errorf("end previous session: %w", err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (tenant_id, id, user_id, citizen_id, created_at, seen_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, tenantID, id, nullID(subj.UserID), nullID(subj.CitizenID), now, now, expires)
		return err
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("new session in tenant %d: %w", tenantID, err)
	}
	return token, expires, nil
}

// Session returns the live session of token in a tenant, sliding its expiry
// forward. A token of another tenant is ErrNoSession here, as is an expired
// one, whose row goes at once.
func (a *Authenticator) Session(ctx context.Context, tenantID int64, token string) (*Session, error) {
	if !wellFormed(token) {
		return nil, ErrNoSession
	}
	id := tokenID(token)
	var s *Session
	err := a.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var (
			userID, citizenID sql.NullInt64
			created, seen     time.Time
			expires           time.Time
		)
		err := tx.QueryRowContext(ctx, `SELECT user_id, citizen_id, created_at, seen_at, expires_at
			FROM sessions WHERE tenant_id = ? AND id = ?`, tenantID, id).Scan(&userID, &citizenID, &created, &seen, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		now := a.now()
		if !now.Before(expires) {
			_, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE tenant_id = ? AND id = ?", tenantID, id)
			return err
		}
		if now.Sub(seen) >= RenewInterval {
			expires = expiry(created, now)
			if _, err := tx.ExecContext(ctx, "UPDATE sessions SET seen_at = ?, expires_at = ? WHERE tenant_id = ? AND id = ?",
				now, expires, tenantID, id); err != nil {
				return err
			}
		}
		s = &Session{
			TenantID:  tenantID,
			Subject:   Subject{UserID: userID.Int64, CitizenID: citizenID.Int64},
			CreatedAt: created,
			ExpiresAt: expires,
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("session in tenant %d: %w", tenantID, err)
	}
	if s == nil {
		return nil, ErrNoSession
	}
	return s, nil
}

// EndSession ends the session of token (logout). Ending a session that
// does not exist is no error.
func (a *Authenticator) EndSession(ctx context.Context, tenantID int64, token string) error {
	err := a.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE tenant_id = ? AND id = ?", tenantID, tokenID(token))
		return err
	})
	if err != nil {
		return fmt.Errorf("end session in tenant %d: %w", tenantID, err)
	}
	return nil
}

// NewPlatformSession starts a session for a platform user.
func (a *Authenticator) NewPlatformSession(ctx context.Context, userID int64) (string, time.Time, error) {
	return a.RotatePlatformSession(ctx, "", userID)
}

// RotatePlatformSession is NewPlatformSession at login, ending the session
// of the pre-login token previous; see RotateSession.
func (a *Authenticator) RotatePlatformSession(ctx context.Context, previous string, userID int64) (string, time.Time, error) {
	token, id, err := newToken()
	if err != nil {
		return "", time.Time{}, err
	}
	now := a.now()
	expires := expiry(now, now)
	err = a.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if previous != "" {
			if _, err := tx.ExecContext(ctx, "DELETE FROM platform_sessions WHERE id = ?", tokenID(previous)); err != nil {
				return fmt.Errorf("end previous session: %w", err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO platform_sessions (id, user_id, created_at, seen_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, id, userID, now, now, expires)
		return err
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("new platform session for user %d: %w", userID, err)
	}
	return token, expires, nil
}

// PlatformSession returns the live platform session of token, sliding its
// expiry forward; ErrNoSession if there is none.
func (a *Authenticator) PlatformSession(ctx context.Context, token string) (*PlatformSession, error) {
	if !wellFormed(token) {
		return nil, ErrNoSession
	}
	id := tokenID(token)
	var s PlatformSession
	var seen time.Time
	err := a.db.QueryRowContext(ctx, "SELECT user_id, created_at, seen_at, expires_at FROM platform_sessions WHERE id = ?", id).
		Scan(&s.UserID, &s.CreatedAt, &seen, &s.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("platform session: %w", err)
	}
	now := a.now()
	if !now.Before(s.ExpiresAt) {
		if _, err := a.db.ExecContext(ctx, "DELETE FROM platform_sessions WHERE id = ?", id); err != nil {
			return nil, fmt.Errorf("end expired platform session: %w", err)
		}
		return nil, ErrNoSession
	}
	if now.Sub(seen) >= RenewInterval {
		s.ExpiresAt = expiry(s.CreatedAt, now)
		if _, err := a.db.ExecContext(ctx, "UPDATE platform_sessions SET seen_at = ?, expires_at = ? WHERE id = ?", now, s.ExpiresAt, id); err != nil {
			return nil, fmt.Errorf("renew platform session: %w", err)
		}
	}
	return &s, nil
}

// EndPlatformSession ends the platform session of token (logout).
func (a *Authenticator) EndPlatformSession(ctx context.Context, token string) error {
	if _, err := a.db.ExecContext(ctx, "DELETE FROM platform_sessions WHERE id = ?", tokenID(token)); err != nil {
		return fmt.Errorf("end platform session: %w", err)
	}
	return nil
}

// PurgeExpired deletes expired sessions of every tenant, expired platform
// sessions and expired ephemeral rows, and returns how many. Lookups never
// accept an expired row anyway; this only keeps the tables small, so the
// server runs it every few minutes.
//
// Tenant sessions are deleted by the database's clock (the purge_expired
// policy of migrations/0005_authn.sql decides), the rest by the
// Authenticator's.
func (a *Authenticator) PurgeExpired(ctx context.Context) (int64, error) {
	var total int64
	err := a.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Under row-level security and with no tenant set, a DELETE without
		// WHERE reaches exactly the expired rows of every tenant (the
		// purge_expired policy). A role that bypasses row-level security
		// (the owner, a superuser) would delete every session that way, so
		// it gets the WHERE instead.
		var rls bool
		if err := tx.QueryRowContext(ctx, "SELECT row_security_active('sessions')").Scan(&rls); err != nil {
			return fmt.Errorf("check row-level security: %w", err)
		}
		purgeSessions := "DELETE FROM sessions WHERE expires_at < now()"
		if rls {
			purgeSessions = "DELETE FROM sessions"
		}
		now := a.now()
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{purgeSessions, nil},
			{"DELETE FROM platform_sessions WHERE expires_at <= ?", []any{now}},
			{"DELETE FROM ephemeral WHERE expires_at <= ?", []any{now}},
		} {
			res, err := tx.ExecContext(ctx, q.sql, q.args...)
			if err != nil {
				return fmt.Errorf("%s: %w", q.sql, err)
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired sessions: %w", err)
	}
	return total, nil
}
