// Package open311 keeps what the Open311 GeoReport v2 interface of a
// town's helpdesk needs beyond the helpdesk itself: the keys of the apps
// allowed to file reports, and the errors the interface answers with. The
// HTTP side is core/server/open311.go.
//
// A key belongs to one town (the jurisdiction). It is issued with
// `sportello open311 api-key create` and shown once: only its SHA-256 is
// kept. Reading (services, requests, the public dataset) needs no key.
package open311

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/store"
)

// Errors of the interface; the HTTP layer maps each to a status and an
// Open311 error body (core/server/errors.go).
var (
	// ErrKeyMissing: a report was posted without api_key.
	ErrKeyMissing = errors.New("open311: api_key missing")
	// ErrKeyUnknown: the key was never issued, or was revoked.
	ErrKeyUnknown = errors.New("open311: unknown or revoked api_key")
	// ErrKeyOtherTown: the key is live, but another town issued it.
	ErrKeyOtherTown = errors.New("open311: api_key of another town")
	// ErrNotOffered: the town does not publish the helpdesk, or its
	// helpdesk has no Open311 actions.
	ErrNotOffered = errors.New("open311: not offered by this town")
	// ErrJurisdiction: jurisdiction_id names another town than the path.
	ErrJurisdiction = errors.New("open311: jurisdiction_id not found")
	// ErrFormat: the format (the path's extension) is neither json nor xml.
	ErrFormat = errors.New("open311: format must be json or xml")
	// ErrUnknownService: no handled service has this service_code.
	ErrUnknownService = errors.New("open311: service_code not found")
	// ErrUnknownRequest: no service request has this id in the town.
	ErrUnknownRequest = errors.New("open311: service_request_id not found")
	// ErrTooLarge: the posted body is larger than MaxBody.
	ErrTooLarge = errors.New("open311: request body too large")
	// ErrInvalid: a parameter is missing or wrong; the error is an
	// *InputError saying which and why.
	ErrInvalid = errors.New("open311: invalid request")
)

// MaxBody bounds a posted report: far above any real one (a description
// is at most 4,000 characters), far below what would strain the server.
const MaxBody = 64 << 10

// Problem is one wrong parameter: its Open311 name ("lat",
// "service_code", "" for the request as a whole) and why, already in the
// request's language.
type Problem struct {
	Param string
	Text  string
}

// InputError is an ErrInvalid listing every problem found, so a client
// learns all of them at once (an Open311 error body is a list).
type InputError struct {
	Problems []Problem
}

func (e *InputError) Error() string {
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		if p.Param == "" {
			parts = append(parts, p.Text)
		} else {
			parts = append(parts, p.Param+": "+p.Text)
		}
	}
	return "open311: invalid request: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) hold.
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

// Invalid is an InputError of one problem.
func Invalid(param, text string) error {
	return &InputError{Problems: []Problem{{Param: param, Text: text}}}
}

// keyPrefix marks the keys, so that one found in a log or a configuration
// file is recognised for what it is.
const keyPrefix = "o311_"

// maxKey bounds what is hashed: a real key is 48 characters.
const maxKey = 100

// MaxLabel is the longest label of a key.
const MaxLabel = 100

func hashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// Keys issues, revokes and checks the towns' keys.
type Keys struct {
	db *store.DB
}

// NewKeys returns the keys kept in db (the application role's pool).
func NewKeys(db *store.DB) *Keys { return &Keys{db: db} }

// Issue creates a key of the town and returns it; only its hash is
// kept, so this is the one time it can be read.
func (k *Keys) Issue(ctx context.Context, tenantID int64, label string) (key string, id int64, err error) {
	label = strings.TrimSpace(label)
	if utf8.RuneCountInString(label) > MaxLabel || !utf8.ValidString(label) || strings.ContainsRune(label, 0) {
		return "", 0, Invalid("label", fmt.Sprintf("at most %d characters of text", MaxLabel))
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", 0, err
	}
	key = keyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	err = k.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO open311_api_keys (tenant_id, label, key_hash)
			VALUES (?, ?, ?) RETURNING id`, tenantID, label, hashKey(key)).Scan(&id)
	})
	if err != nil {
		return "", 0, fmt.Errorf("issue an Open311 key: %w", err)
	}
	return key, id, nil
}

// Revoke stops key id of the town from working; revoking twice is no
// error. A key of another town is ErrKeyUnknown.
func (k *Keys) Revoke(ctx context.Context, tenantID, id int64) error {
	return k.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE open311_api_keys SET revoked_at = coalesce(revoked_at, now())
			WHERE tenant_id = ? AND id = ?`, tenantID, id)
		if err != nil {
			return fmt.Errorf("revoke Open311 key %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("Open311 key %d: %w", id, ErrKeyUnknown)
		}
		return nil
	})
}

// Check admits key for the town: nil for a live key it issued,
// ErrKeyMissing for none, ErrKeyOtherTown for a live key of another town
// and ErrKeyUnknown for anything else.
func (k *Keys) Check(ctx context.Context, tenantID int64, key string) error {
	key = strings.TrimSpace(key)
	if key == "" {
		return ErrKeyMissing
	}
	if !strings.HasPrefix(key, keyPrefix) || len(key) > maxKey {
		return ErrKeyUnknown
	}
	hash := hashKey(key)
	// Checked on every report an app files: one round trip, no
	// transaction. The key is marked used at most once a minute, so an
	// app posting in bursts costs no write per report.
	row, err := k.db.QueryRowInTenant(ctx, tenantID, `SELECT id,
			last_used_at IS NULL OR last_used_at < now() - interval '1 minute'
		FROM open311_api_keys WHERE tenant_id = ? AND key_hash = ? AND revoked_at IS NULL`, tenantID, hash)
	if err != nil {
		return fmt.Errorf("look up Open311 key: %w", err)
	}
	var id int64
	var stale bool
	switch err := row.Scan(&id, &stale); {
	case err == nil:
		if stale {
			return k.markUsed(ctx, tenantID, id)
		}
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("look up Open311 key: %w", err)
	}
	var owner sql.NullInt64
	if err := k.db.QueryRowContext(ctx, "SELECT open311_key_tenant(?)", hash).Scan(&owner); err != nil {
		return fmt.Errorf("look up Open311 key: %w", err)
	}
	if owner.Valid && owner.Int64 != tenantID {
		return ErrKeyOtherTown
	}
	return ErrKeyUnknown
}

// markUsed records that key id was used now, unless that was within the
// minute (a concurrent report of the same app got there first).
func (k *Keys) markUsed(ctx context.Context, tenantID, id int64) error {
	row, err := k.db.QueryRowInTenant(ctx, tenantID, `UPDATE open311_api_keys SET last_used_at = now()
		WHERE tenant_id = ? AND id = ? AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
		RETURNING id`, tenantID, id)
	if err == nil {
		err = row.Scan(&id)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("mark Open311 key %d used: %w", id, err)
	}
	return nil
}
