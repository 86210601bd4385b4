package payments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"
)

// Local is the test provider that development and the tests use: it
// accepts every position, and its checkout is a page of the host's own
// (returnURL + "/local") where the citizen chooses to pay or to fail, as a
// payment service provider's page would end either way.
type Local struct{}

var _ Provider = Local{}

func (Local) Name() string { return "local" }

func (Local) Open(_ context.Context, p *Payment) (Opened, error) {
	return Opened{Ref: "local-" + strconv.FormatInt(p.TenantID, 10) + "-" + strconv.FormatInt(p.ID, 10)}, nil
}

func (Local) Checkout(_ context.Context, _ *Payment, returnURL string) (string, error) {
	return returnURL + "/local", nil
}

// Counter is payment at the town's counter (or at any pagoPA point, with
// the notice code): there is nowhere to send the citizen, and staff record
// the payment when it is made.
type Counter struct{}

var _ Provider = Counter{}

func (Counter) Name() string { return "counter" }

func (Counter) Open(context.Context, *Payment) (Opened, error) { return Opened{}, nil }

func (Counter) Checkout(context.Context, *Payment, string) (string, error) { return "", nil }

// Reservations are the plugins' reservations (core/hostapi) as holds a
// payment may be for.
type Reservations struct{}

var _ Hold = Reservations{}

func (Reservations) Confirm(ctx context.Context, tx bun.Tx, tenantID, id int64) error {
	var status string
	err := tx.QueryRowContext(ctx, `UPDATE reservations SET status = 'confirmed', expires_at = NULL, updated_at = now()
		WHERE tenant_id = ? AND id = ? AND status IN ('held', 'confirmed') RETURNING status`, tenantID, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reservation %d: %w", id, ErrHoldLost)
	}
	return err
}

func (Reservations) Release(ctx context.Context, tx bun.Tx, tenantID, id int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE reservations SET status = 'cancelled', updated_at = now()
		WHERE tenant_id = ? AND id = ? AND status = 'held'`, tenantID, id)
	return err
}
