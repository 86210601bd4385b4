package hostapi

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/uptrace/bun"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

const (
	defaultCurrency = "EUR"
	// pagoPA positions stop below 100 million euro.
	maxAmountCents = 99_999_999_99
	iuvAttempts    = 5
)

// placeholderIUV is a random 17-digit code standing in for the IUV until a
// payment provider issues the position (status creation_pending says it
// has not yet). It has no pagoPA check digits and no segregation code; the
// notice code is "3" (pagoPA's auxiliary digit for a 17-digit IUV) plus the
// IUV, so it has pagoPA's 18-digit shape.
func placeholderIUV() (iuv, notice string, err error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1e17)) // 17 digits
	if err != nil {
		return "", "", fmt.Errorf("draw an IUV: %w", err)
	}
	iuv = fmt.Sprintf("%017d", n)
	return iuv, "3" + iuv, nil
}

const paymentCols = `id, amount_cents, currency, status, iuv, notice_code, coalesce(dossier_id, 0)`

func (s *Server) createPayment(ctx context.Context, c Call, r *pb.CreatePaymentRequest) (*pb.Payment, error) {
	if c.Actor.Kind == ActorAnonymous {
		return nil, denied("an anonymous visitor cannot be asked to pay; the citizen must log in")
	}
	if a := r.GetAmountCents(); a <= 0 || a > maxAmountCents {
		return nil, invalid("amount_cents must be 1 to %d", int64(maxAmountCents))
	}
	cur := r.GetCurrency()
	if cur == "" {
		cur = defaultCurrency
	} else if !currencyISO.MatchString(cur) {
		return nil, invalid("currency %q: three upper-case letters (ISO 4217)", cur)
	}
	if err := checkText("reason", r.GetReason(), true, maxReason); err != nil {
		return nil, err
	}
	if r.GetDossierId() < 0 || r.GetReservationId() < 0 || r.GetBookingId() < 0 {
		return nil, invalid("dossier_id, reservation_id and booking_id must not be negative")
	}
	if r.GetReservationId() > 0 && r.GetBookingId() > 0 {
		return nil, invalid("a payment is for a reservation or a booking, not both")
	}
	var out *pb.Payment
	err := s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
		var citizen, dossier *int64
		if c.Actor.Kind == ActorCitizen {
			citizen = &c.Actor.ID
		}
		if id := r.GetDossierId(); id > 0 {
			owner, err := dossierCitizen(ctx, tx, c, id)
			if err != nil {
				return err
			}
			dossier = &id
			if citizen == nil {
				citizen = owner
			}
		}
		// A payment for a hold is due when the hold expires: the sweeper
		// then expires the payment and releases the hold together.
		var holdKind *string
		var holdID *int64
		var expires *time.Time
		if id := r.GetReservationId(); id > 0 {
			where, args, err := reservationScope(c)
			if err != nil {
				return err
			}
			var exp sql.NullTime
			err = tx.QueryRowContext(ctx, `SELECT expires_at FROM reservations WHERE `+where+
				` AND id = ? AND status = 'held' AND expires_at > now() FOR UPDATE`, append(args, id)...).Scan(&exp)
			if errors.Is(err, sql.ErrNoRows) {
				return status.Errorf(codes.FailedPrecondition, "reservation %d is not a live hold of this service", id)
			}
			if err != nil {
				return fmt.Errorf("read hold %d: %w", id, err)
			}
			kind := "reservation"
			holdKind, holdID, expires = &kind, &id, &exp.Time
		}
		if id := r.GetBookingId(); id > 0 {
			due, owner, err := bookingPayable(ctx, tx, c, id)
			if err != nil {
				return err
			}
			kind := "booking"
			holdKind, holdID, expires = &kind, &id, &due
			if citizen == nil && owner > 0 {
				citizen = &owner // staff asking the booker to pay, after approval
			}
		}
		for range iuvAttempts {
			iuv, notice, err := placeholderIUV()
			if err != nil {
				return err
			}
			out = &pb.Payment{}
			err = tx.QueryRowContext(ctx, `INSERT INTO payments
				(tenant_id, service_id, dossier_id, citizen_id, amount_cents, currency, reason, iuv, notice_code,
				 hold_kind, hold_id, expires_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (tenant_id, iuv) DO NOTHING
				RETURNING `+paymentCols,
				c.TenantID, c.PluginID, dossier, citizen, r.GetAmountCents(), cur, r.GetReason(), iuv, notice,
				holdKind, holdID, expires).
				Scan(&out.Id, &out.AmountCents, &out.Currency, &out.Status, &out.Iuv, &out.NoticeCode, &out.DossierId)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("insert payment: %w", err)
			}
			return nil
		}
		return fmt.Errorf("no free IUV after %d attempts", iuvAttempts)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (v *view) GetPayment(ctx context.Context, r *pb.GetPaymentRequest) (*pb.Payment, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.getPayment)
}

// getPayment reads one of the service's payments: staff any, a citizen
// those they are the debtor of.
func (s *Server) getPayment(ctx context.Context, c Call, r *pb.GetPaymentRequest) (*pb.Payment, error) {
	if r.GetId() <= 0 {
		return nil, invalid("id must be positive")
	}
	where, args := "tenant_id = ? AND service_id = ? AND id = ?", []any{c.TenantID, c.PluginID, r.GetId()}
	switch c.Actor.Kind {
	case ActorCitizen:
		where += " AND citizen_id = ?"
		args = append(args, c.Actor.ID)
	case ActorAnonymous:
		return nil, denied("an anonymous visitor has no payments")
	}
	out := &pb.Payment{}
	err := s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT `+paymentCols+` FROM payments WHERE `+where, args...).
			Scan(&out.Id, &out.AmountCents, &out.Currency, &out.Status, &out.Iuv, &out.NoticeCode, &out.DossierId)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("payment", r.GetId())
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
