package authn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/store"
)

// ErrNotFound is an ephemeral key that is missing, expired or already taken.
var ErrNotFound = errors.New("not found")

// Ephemeral keeps short-lived values in the ephemeral table, shared by all
// app instances: a login begun on one instance can finish on another.
type Ephemeral struct {
	db  *store.DB
	now func() time.Time
}

// NewEphemeral returns the ephemeral store on db; clock is time.Now when nil.
func NewEphemeral(db *store.DB, clock func() time.Time) *Ephemeral {
	if clock == nil {
		clock = time.Now
	}
	return &Ephemeral{db: db, now: clock}
}

// Put stores value under key for ttl, replacing what was there.
func (e *Ephemeral) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if value == nil {
		value = []byte{} // the column is NOT NULL; nil would be NULL
	}
	_, err := e.db.ExecContext(ctx, `INSERT INTO ephemeral (key, value, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
		key, value, e.now().Add(ttl))
	if err != nil {
		return fmt.Errorf("put ephemeral %q: %w", key, err)
	}
	return nil
}

// Take returns the value of key and deletes it, in one statement: of two
// requests presenting the same OIDC state, exactly one gets it. A missing
// or expired key is ErrNotFound.
func (e *Ephemeral) Take(ctx context.Context, key string) ([]byte, error) {
	var (
		value []byte
		live  bool
	)
	err := e.db.QueryRowContext(ctx, "DELETE FROM ephemeral WHERE key = ? RETURNING value, expires_at > ?", key, e.now()).
		Scan(&value, &live)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !live {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("take ephemeral %q: %w", key, err)
	}
	return value, nil
}

// storageTimeout bounds each EphemeralStorage call, whose fiber.Storage
// signature carries no context.
const storageTimeout = 5 * time.Second

// EphemeralStorage is a fiber.Storage on the ephemeral table, for fiber
// middleware whose state must be shared by all app instances (the CSRF
// middleware's tokens). Its keys carry a prefix, so Reset clears only its own.
type EphemeralStorage struct {
	db     *store.DB
	prefix string
	now    func() time.Time
}

var _ fiber.Storage = (*EphemeralStorage)(nil)

// NewEphemeralStorage returns a storage whose keys are prefix+key; prefix
// must not be empty (Reset would otherwise clear every login in progress).
func NewEphemeralStorage(db *store.DB, prefix string, clock func() time.Time) (*EphemeralStorage, error) {
	if prefix == "" {
		return nil, errors.New("ephemeral storage: empty key prefix")
	}
	if clock == nil {
		clock = time.Now
	}
	return &EphemeralStorage{db: db, prefix: prefix, now: clock}, nil
}

// Get returns the value of key, or nil, nil when there is none.
func (s *EphemeralStorage) Get(key string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	var value []byte
	err := s.db.QueryRowContext(ctx, "SELECT value FROM ephemeral WHERE key = ? AND expires_at > ?", s.prefix+key, s.now()).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage get %q: %w", s.prefix+key, err)
	}
	return value, nil
}

// Set stores val under key for exp, forever when exp is 0. An empty key or
// value is ignored, as fiber.Storage specifies.
func (s *EphemeralStorage) Set(key string, val []byte, exp time.Duration) error {
	if key == "" || len(val) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	var expires any = "infinity"
	if exp > 0 {
		expires = s.now().Add(exp)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO ephemeral (key, value, expires_at) VALUES (?, ?, ?::timestamptz)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
		s.prefix+key, val, expires)
	if err != nil {
		return fmt.Errorf("storage set %q: %w", s.prefix+key, err)
	}
	return nil
}

// Delete deletes key; a missing key is no error.
func (s *EphemeralStorage) Delete(key string) error {
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, "DELETE FROM ephemeral WHERE key = ?", s.prefix+key); err != nil {
		return fmt.Errorf("storage delete %q: %w", s.prefix+key, err)
	}
	return nil
}

// Reset deletes every key of this storage's prefix.
func (s *EphemeralStorage) Reset() error {
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, "DELETE FROM ephemeral WHERE starts_with(key, ?)", s.prefix); err != nil {
		return fmt.Errorf("storage reset %q: %w", s.prefix, err)
	}
	return nil
}

// Close does nothing: the database belongs to the caller.
func (s *EphemeralStorage) Close() error { return nil }
