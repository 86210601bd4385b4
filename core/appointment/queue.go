package appointment

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/booking"
)

// The queue at the counter: a queue-management system ("eliminacode")
// lists the day's appointments of its office, checks people in when they
// arrive, calls them to a desk and marks them served. It authenticates
// with a key issued for one office.

// Today lists the appointments of office on the current day of the
// town's time zone, cancelled ones left out, by time.
func (s *Service) Today(ctx context.Context, tenantID int64, office Office) ([]Appointment, error) {
	cfg, err := s.Config(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return s.Search(ctx, tenantID, Filter{Office: office.ID, Day: s.now().In(cfg.Zone), Live: true, Limit: 1000})
}

// CheckIn records that the person of appointment code has arrived.
// Checking in twice is no error.
func (s *Service) CheckIn(ctx context.Context, tenantID int64, office Office, code string) (*Appointment, error) {
	return s.step(ctx, tenantID, office, code, CheckedIn, "")
}

// Call calls the person to counter (a desk's name or number). Calling
// again calls once more, to the counter given.
func (s *Service) Call(ctx context.Context, tenantID int64, office Office, code, counter string) (*Appointment, error) {
	counter = strings.TrimSpace(counter)
	if len(counter) > 40 {
		return nil, invalidf("counter: at most 40 characters")
	}
	return s.step(ctx, tenantID, office, code, Called, counter)
}

// Serve records that the person has been served. Serving twice is no
// error.
func (s *Service) Serve(ctx context.Context, tenantID int64, office Office, code string) (*Appointment, error) {
	return s.step(ctx, tenantID, office, code, Served, "")
}

// step moves the appointment forward to st, on the appointment's day and
// only in order: a step out of order is a *StateError.
func (s *Service) step(ctx context.Context, tenantID int64, office Office, code string, st State, counter string) (*Appointment, error) {
	a, _, err := s.get(ctx, tenantID, code, Access{Staff: true})
	if err != nil {
		return nil, err
	}
	if a.OfficeID != office.ID {
		return nil, fmt.Errorf("appointment %s is at another office than %s: %w", a.Code, office.Slug, ErrNotFound)
	}
	cfg, err := s.Config(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	y1, m1, d1 := now.In(cfg.Zone).Date()
	y2, m2, d2 := a.Start.In(cfg.Zone).Date()
	err = s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var status booking.Status
		// The booking's row is locked too: a cancellation in flight either
		// lands before this step (which then refuses) or waits for it.
		if err := tx.QueryRowContext(ctx, "SELECT status FROM bookings WHERE tenant_id = ? AND id = ? FOR SHARE",
			tenantID, a.ID).Scan(&status); err != nil {
			return fmt.Errorf("read booking %s: %w", a.Code, err)
		}
		cur, _, err := scanAppointment(tx.QueryRowContext(ctx, "SELECT "+appointmentCols+
			" FROM appointments WHERE tenant_id = ? AND booking_id = ? FOR UPDATE", tenantID, a.ID))
		if err != nil {
			return fmt.Errorf("read appointment %s: %w", a.Code, err)
		}
		if status != booking.Confirmed {
			return &StateError{Code: a.Code, Refuse: RefuseCancelled}
		}
		if y1 != y2 || m1 != m2 || d1 != d2 {
			return &StateError{Code: a.Code, Refuse: RefuseNotToday, Day: a.Start}
		}
		if refuse := refusal(cur.State, st); refuse != "" {
			return &StateError{Code: a.Code, Refuse: refuse}
		}
		if cur.State == st && st != Called {
			a.State, a.CheckedInAt, a.CalledAt, a.ServedAt = cur.State, cur.CheckedInAt, cur.CalledAt, cur.ServedAt
			a.Calls, a.Counter = cur.Calls, cur.Counter
			return nil // a repeated request, say after a lost answer
		}
		var q string
		switch st {
		case CheckedIn:
			q = "state = 'checked_in', checked_in_at = ?"
		case Called:
			q = "state = 'called', called_at = ?, calls = calls + 1, counter = ?"
		case Served:
			q = "state = 'served', served_at = ?"
		}
		args := []any{now}
		if st == Called {
			args = append(args, counter)
		}
		args = append(args, tenantID, a.ID)
		got, _, err := scanAppointment(tx.QueryRowContext(ctx, "UPDATE appointments SET "+q+
			" WHERE tenant_id = ? AND booking_id = ? RETURNING "+appointmentCols, args...))
		if err != nil {
			return fmt.Errorf("appointment %s %s: %w", a.Code, st, err)
		}
		a.State, a.CheckedInAt, a.CalledAt, a.ServedAt = got.State, got.CheckedInAt, got.CalledAt, got.ServedAt
		a.Calls, a.Counter = got.Calls, got.Counter
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// refusal is why an appointment in state from cannot go to to, or "".
func refusal(from, to State) string {
	switch {
	case from == Served && to != Served:
		return RefuseServed
	case to == CheckedIn && from == Called:
		return RefuseCalled
	case to == Called && from == Booked:
		return RefuseNotCheckedIn
	case to == Served && (from == Booked || from == CheckedIn):
		return RefuseNotCalled
	}
	return ""
}

// keyPrefix marks the keys of counter systems, so that one found in a
// log or a configuration file is recognised for what it is.
const keyPrefix = "spq_"

func hashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// IssueKey creates a key for the counter system of office and returns it;
// only its hash is kept, so this is the one time it can be read.
func (s *Service) IssueKey(ctx context.Context, tenantID int64, office, label string) (key string, id int64, err error) {
	label = strings.TrimSpace(label)
	if len(label) > 100 {
		return "", 0, invalidf("label: at most 100 characters")
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", 0, err
	}
	key = keyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	err = s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		cfg, err := s.loadConfig(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		o, ok := cfg.Office(office)
		if !ok {
			return fmt.Errorf("office %q takes no appointments: %w", office, ErrNotFound)
		}
		return tx.QueryRowContext(ctx, `INSERT INTO appointment_api_keys (tenant_id, office_id, label, key_hash)
			VALUES (?, ?, ?, ?) RETURNING id`, tenantID, o.ID, label, hashKey(key)).Scan(&id)
	})
	if err != nil {
		return "", 0, fmt.Errorf("issue a key for %s: %w", office, err)
	}
	return key, id, nil
}

// RevokeKey stops key id from working.
func (s *Service) RevokeKey(ctx context.Context, tenantID, id int64) error {
	return s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE appointment_api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE tenant_id = ? AND id = ?", tenantID, id)
		if err != nil {
			return fmt.Errorf("revoke key %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("key %d: %w", id, ErrNotFound)
		}
		return nil
	})
}

// KeyOffice is the office key was issued for, in the tenant; ErrKey for a
// key the tenant did not issue or has revoked, which includes every key
// of another town.
func (s *Service) KeyOffice(ctx context.Context, tenantID int64, key string) (Office, error) {
	if !strings.HasPrefix(key, keyPrefix) || len(key) > 100 {
		return Office{}, ErrKey
	}
	var o Office
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var id, officeID int64
		err := tx.QueryRowContext(ctx, `SELECT id, office_id FROM appointment_api_keys
			WHERE tenant_id = ? AND key_hash = ? AND revoked_at IS NULL`, tenantID, hashKey(key)).Scan(&id, &officeID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrKey
		}
		if err != nil {
			return fmt.Errorf("look up key: %w", err)
		}
		// Marked used at most once a minute: a busy counter polls often.
		if _, err := tx.ExecContext(ctx, `UPDATE appointment_api_keys SET last_used_at = now()
			WHERE tenant_id = ? AND id = ? AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, tenantID, id); err != nil {
			return fmt.Errorf("mark key %d used: %w", id, err)
		}
		cfg, err := s.loadConfig(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		for _, c := range cfg.Offices {
			if c.ID == officeID {
				o = c
				return nil
			}
		}
		return fmt.Errorf("the key's office %d takes no appointments now: %w", officeID, ErrKey)
	})
	return o, err
}
