package booking

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ConfirmIn is Confirm inside the caller's transaction tx, which must be
// bound to tenantID (store.InTenant). A service that announces a booking
// reserves it as a hold, then confirms it in the transaction that queues
// the announcement: the booking is final exactly when its e-mail is in the
// outbox, and a hold whose transaction failed frees its slot by itself.
func (e *Engine) ConfirmIn(ctx context.Context, tx bun.Tx, tenantID int64, code string, by Actor) (*Booking, error) {
	code, err := normCode(code)
	if err != nil {
		return nil, err
	}
	now := e.now()
	b, err := e.lockBooking(ctx, tx, tenantID, code, by)
	if err != nil {
		return nil, err
	}
	switch {
	case b.Status == Confirmed || b.Status == Pending:
		return b, nil
	case b.Status == Expired || (b.Status == Held && !b.ExpiresAt.After(now)):
		return nil, fmt.Errorf("booking %s held until %s: %w", code, b.ExpiresAt.Format(time.RFC3339), ErrHoldExpired)
	case b.Status != Held:
		return nil, fmt.Errorf("confirm booking %s, %s: %w", code, b.Status, ErrWrongState)
	}
	var approval bool
	if err := tx.QueryRowContext(ctx, "SELECT approval_required FROM booking_resources WHERE tenant_id = ? AND id = ?",
		tenantID, b.ResourceID).Scan(&approval); err != nil {
		return nil, fmt.Errorf("read resource %d: %w", b.ResourceID, err)
	}
	st := Confirmed
	if approval {
		st = Pending
	}
	return e.setStatus(ctx, tx, tenantID, b, st, "")
}
