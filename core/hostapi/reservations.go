package hostapi

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/uptrace/bun"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

const (
	maxHoldMinutes = 60
	// codeAlphabet has 32 signs, none confusable when read aloud or typed
	// (no 0/O, no 1/I): one random byte masked to 5 bits picks one evenly.
	codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	codeLen      = 8
	// Codes are random (2^40 of them), so a clash within a tenant is rare;
	// a few fresh draws make one harmless.
	codeAttempts = 5
	// reserveLockClass namespaces Reserve's advisory locks (two-key form,
	// apart from the one-key locks of core/store).
	reserveLockClass = 7164003
)

var reservationCodeRe = regexp.MustCompile(`^[2-9A-HJ-NP-Z]{8}$`) // as reservations.code

const reservationCols = `id, resource, extract(epoch FROM lower(period))::bigint, extract(epoch FROM upper(period))::bigint,
	status, code, coalesce(floor(extract(epoch FROM expires_at))::bigint, 0)`

func scanReservation(row scanner) (*pb.Reservation, error) {
	r := &pb.Reservation{}
	if err := row.Scan(&r.Id, &r.Resource, &r.StartUnix, &r.EndUnix, &r.Status, &r.Code, &r.ExpiresUnix); err != nil {
		return nil, err
	}
	return r, nil
}

func reservationCode() string {
	var b [codeLen]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = codeAlphabet[b[i]&31]
	}
	return string(b[:])
}

func (s *Server) reserve(ctx context.Context, c Call, r *pb.ReserveRequest) (*pb.Reservation, error) {
	if c.Actor.Kind == ActorAnonymous {
		return nil, denied("an anonymous visitor cannot reserve; the citizen must log in")
	}
	if !resourceID.MatchString(r.GetResource()) {
		return nil, invalid("resource %q: 1-128 letters, digits and _ . : / -, starting with a letter or digit", r.GetResource())
	}
	start, end := time.Unix(r.GetStartUnix(), 0), time.Unix(r.GetEndUnix(), 0)
	now := time.Now()
	switch {
	case !start.Before(end):
		return nil, invalid("start must be before end")
	case start.Before(now):
		return nil, invalid("start is in the past")
	case end.After(now.AddDate(1, 0, 0)):
		return nil, invalid("a reservation must end within one year")
	}
	hold := r.GetHoldMinutes()
	if hold < 0 || hold > maxHoldMinutes {
		return nil, invalid("hold_minutes must be 0 (confirm at once) to %d", maxHoldMinutes)
	}
	if r.GetDossierId() < 0 {
		return nil, invalid("dossier_id must not be negative")
	}
	st := "confirmed"
	if hold > 0 {
		st = "held"
	}
	var out *pb.Reservation
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
				citizen = owner // staff booking for a citizen's dossier
			}
		}
		// The exclusion constraint alone keeps bookings apart, but two
		// transactions inserting overlapping rows wait on each other and
		// one dies of a deadlock instead of a clean conflict. Queuing the
		// contenders for one resource turns that into AlreadyExists.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?, hashtext(?))", reserveLockClass,
			fmt.Sprintf("%d/%s/%s", c.TenantID, c.PluginID, r.GetResource())); err != nil {
			return fmt.Errorf("queue for %s: %w", r.GetResource(), err)
		}
		// Expired holds still count for the exclusion constraint; release
		// those in the way first. The row locks taken here make a
		// concurrent Reserve wait and then see them cancelled.
		_, err := tx.ExecContext(ctx, `UPDATE reservations SET status = 'cancelled', updated_at = now()
			WHERE tenant_id = ? AND service_id = ? AND resource = ? AND status = 'held' AND expires_at <= now()
			  AND period && tstzrange(?::timestamptz, ?::timestamptz, '[)')`,
			c.TenantID, c.PluginID, r.GetResource(), start, end)
		if err != nil {
			return fmt.Errorf("release expired holds: %w", err)
		}
		for range codeAttempts {
			out, err = scanReservation(tx.QueryRowContext(ctx, `INSERT INTO reservations
				(tenant_id, service_id, resource, period, status, code, expires_at, dossier_id, citizen_id)
				VALUES (?, ?, ?, tstzrange(?::timestamptz, ?::timestamptz, '[)'), ?, ?,
				        CASE WHEN ? > 0 THEN now() + make_interval(mins => ?) END, ?, ?)
				ON CONFLICT (tenant_id, code) DO NOTHING
				RETURNING `+reservationCols,
				c.TenantID, c.PluginID, r.GetResource(), start, end, st, reservationCode(), hold, hold, dossier, citizen))
			if errors.Is(err, sql.ErrNoRows) {
				continue // the code was taken: draw another
			}
			if sqlState(err) == "23P01" {
				return status.Errorf(codes.AlreadyExists, "%s is already reserved for part of that period", r.GetResource())
			}
			if err != nil {
				return fmt.Errorf("insert reservation: %w", err)
			}
			return nil
		}
		return fmt.Errorf("no free reservation code after %d attempts", codeAttempts)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Server) cancelReservation(ctx context.Context, c Call, r *pb.CancelReservationRequest) (*pb.Reservation, error) {
	if r.GetId() <= 0 {
		return nil, invalid("id must be positive")
	}
	where, args := "tenant_id = ? AND service_id = ? AND id = ?", []any{c.TenantID, c.PluginID, r.GetId()}
	switch c.Actor.Kind {
	case ActorCitizen:
		where += " AND citizen_id = ?"
		args = append(args, c.Actor.ID)
	case ActorAnonymous:
		return nil, denied("an anonymous visitor has no reservations")
	}
	var out *pb.Reservation
	err := s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		// Cancelling twice is no error, and keeps the first time.
		out, err = scanReservation(tx.QueryRowContext(ctx, `UPDATE reservations
			SET status = 'cancelled', updated_at = CASE WHEN status = 'cancelled' THEN updated_at ELSE now() END
			WHERE `+where+` RETURNING `+reservationCols, args...))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("reservation", r.GetId())
		}
		if err != nil {
			return fmt.Errorf("cancel reservation %d: %w", r.GetId(), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (v *view) GetReservation(ctx context.Context, r *pb.GetReservationRequest) (*pb.Reservation, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.getReservation)
}

func (v *view) ConfirmReservation(ctx context.Context, r *pb.ConfirmReservationRequest) (*pb.Reservation, error) {
	return serve(ctx, v.s, v.plugin, r, v.s.confirmReservation)
}

// reservationScope is the WHERE clause that keeps a call to its tenant,
// its plugin's service and, for a citizen, their own reservations.
func reservationScope(c Call) (string, []any, error) {
	where, args := "tenant_id = ? AND service_id = ?", []any{c.TenantID, c.PluginID}
	switch c.Actor.Kind {
	case ActorCitizen:
		where += " AND citizen_id = ?"
		args = append(args, c.Actor.ID)
	case ActorAnonymous:
		return "", nil, denied("an anonymous visitor has no reservations")
	}
	return where, args, nil
}

func (s *Server) getReservation(ctx context.Context, c Call, r *pb.GetReservationRequest) (*pb.Reservation, error) {
	where, args, err := reservationScope(c)
	if err != nil {
		return nil, err
	}
	switch {
	case r.GetId() > 0:
		where += " AND id = ?"
		args = append(args, r.GetId())
	case r.GetId() == 0 && reservationCodeRe.MatchString(r.GetCode()):
		where += " AND code = ?"
		args = append(args, r.GetCode())
	default:
		return nil, invalid("a positive id or an 8-character booking code is required")
	}
	var out *pb.Reservation
	err = s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = scanReservation(tx.QueryRowContext(ctx, `SELECT `+reservationCols+` FROM reservations WHERE `+where, args...))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("reservation", r.GetId())
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// confirmReservation turns a live hold into a booking. A hold that has
// expired may already be someone else's slot, so it is a conflict, not a
// late confirmation.
func (s *Server) confirmReservation(ctx context.Context, c Call, r *pb.ConfirmReservationRequest) (*pb.Reservation, error) {
	if r.GetId() <= 0 {
		return nil, invalid("id must be positive")
	}
	where, args, err := reservationScope(c)
	if err != nil {
		return nil, err
	}
	args = append(args, r.GetId())
	var out *pb.Reservation
	err = s.db.InTenant(ctx, c.TenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = scanReservation(tx.QueryRowContext(ctx, `SELECT `+reservationCols+` FROM reservations
			WHERE `+where+` AND id = ? FOR UPDATE`, args...))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("reservation", r.GetId())
		}
		if err != nil {
			return fmt.Errorf("read reservation %d: %w", r.GetId(), err)
		}
		switch out.GetStatus() {
		case "confirmed":
			return nil // confirming twice is no error
		case "cancelled":
			return status.Errorf(codes.FailedPrecondition, "reservation %d was cancelled", r.GetId())
		}
		out, err = scanReservation(tx.QueryRowContext(ctx, `UPDATE reservations
			SET status = 'confirmed', expires_at = NULL, updated_at = now()
			WHERE tenant_id = ? AND id = ? AND expires_at > now() RETURNING `+reservationCols, c.TenantID, r.GetId()))
		if errors.Is(err, sql.ErrNoRows) {
			return status.Errorf(codes.FailedPrecondition, "the hold on reservation %d has expired", r.GetId())
		}
		if err != nil {
			return fmt.Errorf("confirm reservation %d: %w", r.GetId(), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
