package booking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/payments"
)

// PaymentHold is the engine's bookings as holds a payment may be for
// (payments.Options.Holds["booking"]). It runs in the payment's own
// transaction, so a booking is confirmed exactly when its payment
// completes, and freed exactly when its payment can no longer complete.
type PaymentHold struct{}

var _ payments.Hold = PaymentHold{}

// Confirm makes a booking paid for final: a live hold becomes confirmed,
// or pending when its resource needs approval (staff decide after the
// payment). A booking already pending or confirmed (approved before it
// was paid) stays as it is. A hold that has run out, or a booking
// cancelled meanwhile, is payments.ErrHoldLost: its slot may be someone
// else's by now.
func (PaymentHold) Confirm(ctx context.Context, tx bun.Tx, tenantID, id int64) error {
	var st string
	err := tx.QueryRowContext(ctx, `UPDATE bookings b SET
			status = CASE WHEN b.status <> 'held' THEN b.status
			              WHEN r.approval_required THEN 'pending' ELSE 'confirmed' END,
			expires_at = NULL,
			updated_at = CASE WHEN b.status = 'held' THEN now() ELSE b.updated_at END
		FROM booking_resources r
		WHERE b.tenant_id = ? AND b.id = ? AND r.tenant_id = b.tenant_id AND r.id = b.resource_id
		  AND (b.status IN ('pending', 'confirmed') OR (b.status = 'held' AND b.expires_at > now()))
		RETURNING b.status`, tenantID, id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("booking %d: %w", id, payments.ErrHoldLost)
	}
	if err != nil {
		return fmt.Errorf("confirm booking %d: %w", id, err)
	}
	return nil
}

// Release frees the seat of a booking whose payment will not complete: a
// hold expires; a booking approved and waiting for its payment is
// cancelled, the reason saying why.
func (PaymentHold) Release(ctx context.Context, tx bun.Tx, tenantID, id int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE bookings SET
			status = CASE WHEN status = 'held' THEN 'expired' ELSE 'cancelled' END,
			expires_at = CASE WHEN status = 'held' THEN expires_at END,
			cancel_reason = CASE WHEN status = 'held' THEN cancel_reason ELSE ? END,
			updated_at = now()
		WHERE tenant_id = ? AND id = ? AND status IN ('held', 'pending', 'confirmed')`,
		ReasonNotPaid, tenantID, id)
	if err != nil {
		return fmt.Errorf("release booking %d: %w", id, err)
	}
	return nil
}

// ReasonNotPaid is the cancel reason of a booking released because its
// payment did not complete.
const ReasonNotPaid = "payment not completed"
