package server

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
)

const (
	// idempotencyTTL is how long a key's answer is kept.
	idempotencyTTL = 24 * time.Hour
	// idempotencyStale is when a first request that never finished (its
	// process died) no longer holds its key.
	idempotencyStale = 2 * time.Minute
	// maxReplayBody is the largest answer kept for replay; a larger one
	// is not kept, and a retry runs again.
	maxReplayBody = 1 << 20
)

var idempotencyKeyRe = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)

var (
	errIdempotencyKey      = errors.New("invalid Idempotency-Key")
	errIdempotencyMismatch = errors.New("Idempotency-Key used for another request")
	errIdempotencyBusy     = errors.New("request with this Idempotency-Key in progress")
)

// idempotent makes a POST with an Idempotency-Key header safe to send
// again: the first request runs and its answer is kept; the same key
// with the same request gets that answer back (marked
// Idempotent-Replayed), with another request 422, and while the first
// still runs 409. Answers of 500 and more are not kept: a retry runs
// again. Without the header nothing changes.
func (s *Server) idempotent(c *fiber.Ctx) error {
	key := c.Get("Idempotency-Key")
	if c.Method() != fiber.MethodPost || key == "" {
		return c.Next()
	}
	if !idempotencyKeyRe.MatchString(key) {
		return errIdempotencyKey
	}
	rs := state(c)
	key = string([]byte(key)) // kept past the handler, so copied
	client := idempotencyClient(c)
	h := sha256.New()
	h.Write(c.Request().Header.Method())
	h.Write([]byte{0})
	h.Write(c.Request().URI().PathOriginal())
	h.Write([]byte{0})
	h.Write(c.Request().Header.ContentType())
	h.Write([]byte{0})
	h.Write(c.Body())
	hash := hex.EncodeToString(h.Sum(nil))

	ctx := c.UserContext()
	claimed, err := s.claimIdempotencyKey(ctx, rs.tenant.ID, client, key, hash)
	if err != nil {
		return err
	}
	if !claimed {
		return s.replay(c, rs.tenant.ID, client, key, hash)
	}
	// The handler's error is rendered here, not after the chain, so that
	// the answer kept is the one the client gets.
	if err := c.Next(); err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	res := c.Response()
	status, body := res.StatusCode(), res.Body()
	// A context of its own: the answer is kept even when the client
	// went away, which is exactly when it will ask again.
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = s.DB.InTenant(kctx, rs.tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		if status >= 500 || len(body) > maxReplayBody {
			_, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = ? AND client = ? AND key = ?`, rs.tenant.ID, client, key)
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET status = ?, content_type = ?, body = ?
			WHERE tenant_id = ? AND client = ? AND key = ?`, status, string(res.Header.ContentType()), body, rs.tenant.ID, client, key)
		return err
	})
	if err != nil {
		s.log.Error("idempotency key not kept", "err", err, "key", key)
	}
	return nil
}

// claimIdempotencyKey records the key for this request; false when the
// key is already held. A key past its day, or held by a first request
// that never finished, is taken over.
func (s *Server) claimIdempotencyKey(ctx context.Context, tenantID int64, client, key, hash string) (bool, error) {
	var claimed bool
	err := s.DB.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = ? AND client = ? AND key = ?
			AND (created_at < now() - ?::interval OR status IS NULL AND created_at < now() - ?::interval)`,
			tenantID, client, key, idempotencyTTL.String(), idempotencyStale.String()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (tenant_id, client, key, request_hash) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, tenantID, client, key, hash)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim idempotency key: %w", err)
	}
	return claimed, nil
}

// replay answers a request whose key is held: with the kept answer when
// it is the same request and the first one finished.
func (s *Server) replay(c *fiber.Ctx, tenantID int64, client, key, hash string) error {
	var (
		held        string
		status      sql.NullInt64
		contentType string
		body        []byte
	)
	err := s.DB.InTenant(c.UserContext(), tenantID, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT request_hash, status, content_type, body FROM idempotency_keys
			WHERE tenant_id = ? AND client = ? AND key = ?`, tenantID, client, key).Scan(&held, &status, &contentType, &body)
	})
	if errors.Is(err, sql.ErrNoRows) {
		// Gone between the claim and now (its first request failed):
		// the client may send it again.
		return errIdempotencyBusy
	}
	if err != nil {
		return fmt.Errorf("replay idempotency key: %w", err)
	}
	switch {
	case held != hash:
		return errIdempotencyMismatch
	case !status.Valid:
		return errIdempotencyBusy
	}
	c.Set("Idempotent-Replayed", "true")
	if contentType != "" {
		c.Set(fiber.HeaderContentType, contentType)
	}
	return c.Status(int(status.Int64)).Send(body)
}

// idempotencyClient names who sent the request, hashed: the API key it
// carries, else the session, else its address.
func idempotencyClient(c *fiber.Ctx) string {
	h := sha256.New()
	switch rs := state(c); {
	case c.Get("Authorization") != "":
		h.Write([]byte("auth\x00" + c.Get("Authorization")))
	case c.Get("X-Api-Key") != "":
		h.Write([]byte("key\x00" + c.Get("X-Api-Key")))
	case c.FormValue("api_key") != "":
		h.Write([]byte("key\x00" + c.FormValue("api_key")))
	case rs.subject != "":
		h.Write([]byte("subject\x00" + rs.subject))
	default:
		h.Write([]byte("ip\x00" + c.IP()))
	}
	return hex.EncodeToString(h.Sum(nil))
}
