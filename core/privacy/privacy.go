// Package privacy carries out citizens' rights over their data in a town:
// a copy of everything the town keeps about them (Export), being
// forgotten (RequestErasure, then CarryOut by the town's admin), and the
// retention of closed dossiers per service (SetRetention, Purge).
//
// What erasure does, and why it stops where it does:
//   - the account is anonymised, not deleted: dossiers the law requires to
//     keep still point at it, and a fresh login with the same identity
//     makes a new, empty account rather than finding the old one;
//   - its sessions end, its drafts (never filed) are deleted, and so are
//     the messages sent to its addresses;
//   - its closed dossiers past their service's retention are deleted, as
//     the purge would have done; every other dossier is kept until its
//     retention ends, applicant and all, since it is a public record.
//
// A deleted dossier takes its history, messages, attachments' records and
// consultation entries along; payments, bookings and reservations that
// named it are kept (accounting and calendars) and lose the link.
package privacy

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/store"
)

var (
	// ErrNotFound: no such request (or account) in the town.
	ErrNotFound = errors.New("privacy: not found")
	// ErrDone: the request was carried out already.
	ErrDone = errors.New("privacy: request already carried out")
	// ErrInvalid: a retention or a service id is out of range.
	ErrInvalid = errors.New("privacy: invalid input")
)

// MaxRetentionDays bounds a retention (a hundred years).
const MaxRetentionDays = 36500

// Closed says whether status is a final status of service's dossiers.
type Closed func(service, status string) bool

// coreFinals are the final statuses of the core's own workflow and of the
// helpdesk's default one, for services whose manifest does not say.
var coreFinals = map[string]bool{"completed": true, "rejected": true, "cancelled": true, "resolved": true, "closed": true}

// FinalStatuses is Closed as the catalogue's manifests define it: a
// status a service's manifest lists is final when the manifest says so;
// any other is final when the core's workflow makes it so.
func FinalStatuses(recs []*catalog.Record) Closed {
	declared := map[string]map[string]bool{}
	for _, r := range recs {
		if r == nil || r.Manifest == nil {
			continue
		}
		m := map[string]bool{}
		for _, st := range r.Manifest.GetStatuses() {
			m[st.GetId()] = st.GetFinal()
		}
		declared[r.ID] = m
	}
	return func(service, status string) bool {
		if final, ok := declared[service][status]; ok {
			return final
		}
		return coreFinals[status]
	}
}

// Store keeps the requests and retentions, in db (the application role's
// pool).
type Store struct {
	db *store.DB
}

// New returns the store.
func New(db *store.DB) *Store { return &Store{db: db} }

// Request is an erasure request.
type Request struct {
	ID        int64
	CitizenID int64
	// Who asked, as the account says now: blank once carried out.
	Name, Email, FiscalCode string
	Status                  string // pending, done
	CreatedAt               time.Time
	DoneAt                  time.Time
	Outcome                 Outcome
}

// Outcome is what carrying a request out did.
type Outcome struct {
	Deleted int `json:"deleted"` // closed dossiers past retention
	Drafts  int `json:"drafts"`  // drafts never filed
	Kept    int `json:"kept"`    // dossiers kept until their retention ends
}

// RequestErasure records the citizen's request to be forgotten; asking
// again while one is pending returns that one.
func (s *Store) RequestErasure(ctx context.Context, tenantID, citizenID int64) (*Request, error) {
	var r *Request
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM citizens WHERE tenant_id = ? AND id = ?)",
			tenantID, citizenID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO privacy_requests (tenant_id, citizen_id) VALUES (?, ?)
			ON CONFLICT (tenant_id, citizen_id) WHERE status = 'pending' DO NOTHING`, tenantID, citizenID); err != nil {
			return err
		}
		list, err := listRequests(ctx, tx, tenantID, "r.citizen_id = ? AND r.status = 'pending'", citizenID)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return ErrNotFound
		}
		r = &list[0]
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("erasure request of citizen %d: %w", citizenID, err)
	}
	return r, nil
}

// Pending lists the town's requests waiting, oldest first.
func (s *Store) Pending(ctx context.Context, tenantID int64) ([]Request, error) {
	return s.list(ctx, tenantID, "r.status = 'pending' ORDER BY r.created_at, r.id")
}

// Recent lists the town's last requests carried out, newest first.
func (s *Store) Recent(ctx context.Context, tenantID int64, limit int) ([]Request, error) {
	return s.list(ctx, tenantID, "r.status = 'done' ORDER BY r.done_at DESC, r.id DESC LIMIT ?", limit)
}

func (s *Store) list(ctx context.Context, tenantID int64, where string, args ...any) ([]Request, error) {
	var out []Request
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = listRequests(ctx, tx, tenantID, where, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("erasure requests: %w", err)
	}
	return out, nil
}

func listRequests(ctx context.Context, tx bun.Tx, tenantID int64, where string, args ...any) ([]Request, error) {
	rows, err := tx.QueryContext(ctx, `SELECT r.id, r.citizen_id, c.name, c.email, c.fiscal_code, r.status, r.created_at,
			r.done_at, r.outcome::text
		FROM privacy_requests r JOIN citizens c ON c.tenant_id = r.tenant_id AND c.id = r.citizen_id
		WHERE r.tenant_id = ? AND `+where, append([]any{tenantID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		var r Request
		var done sql.NullTime
		var outcome string
		if err := rows.Scan(&r.ID, &r.CitizenID, &r.Name, &r.Email, &r.FiscalCode, &r.Status, &r.CreatedAt,
			&done, &outcome); err != nil {
			return nil, err
		}
		r.DoneAt = done.Time
		_ = json.Unmarshal([]byte(outcome), &r.Outcome)
		out = append(out, r)
	}
	return out, rows.Err()
}

// CarryOut erases the account of request id, as the package says;
// adminID is the user doing it.
func (s *Store) CarryOut(ctx context.Context, tenantID, id, adminID int64, closed Closed) (*Outcome, error) {
	var out Outcome
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var citizenID int64
		var status string
		err := tx.QueryRowContext(ctx, "SELECT citizen_id, status FROM privacy_requests WHERE tenant_id = ? AND id = ? FOR UPDATE",
			tenantID, id).Scan(&citizenID, &status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return err
		case status != "pending":
			return ErrDone
		}
		retention, err := retentions(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, service_id, status, updated_at < now() - make_interval(days => coalesce(
				(SELECT days FROM privacy_retention p WHERE p.tenant_id = d.tenant_id AND p.service_id = d.service_id), 0))
			FROM dossiers d WHERE tenant_id = ? AND citizen_id = ? FOR UPDATE`, tenantID, citizenID)
		if err != nil {
			return err
		}
		var drop []int64
		for rows.Next() {
			var did int64
			var service, st string
			var old bool
			if err := rows.Scan(&did, &service, &st, &old); err != nil {
				rows.Close()
				return err
			}
			switch {
			case st == "draft":
				drop = append(drop, did)
				out.Drafts++
			case retention[service] > 0 && old && closed(service, st):
				drop = append(drop, did)
				out.Deleted++
			default:
				out.Kept++
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if err := deleteDossiers(ctx, tx, tenantID, drop); err != nil {
			return err
		}
		// The outbox keeps addresses, not accounts: what was sent to the
		// account's address, or to a contact of its bookings, goes, so a
		// new account with the same address does not find it again.
		if _, err := tx.ExecContext(ctx, `DELETE FROM notifications n WHERE n.tenant_id = ? AND lower(n.recipient) IN (
				SELECT lower(email) FROM citizens WHERE tenant_id = ? AND id = ? AND email <> ''
				UNION SELECT lower(contact_email) FROM bookings WHERE tenant_id = ? AND citizen_id = ? AND contact_email <> ''
				UNION SELECT lower(contact_phone) FROM bookings WHERE tenant_id = ? AND citizen_id = ? AND contact_phone <> '')`,
			tenantID, tenantID, citizenID, tenantID, citizenID, tenantID, citizenID); err != nil {
			return err
		}
		// No more notices: the consents go, and the phone number with them.
		if _, err := tx.ExecContext(ctx, `UPDATE notify_prefs SET email = false, sms = false, phone = '', lang = '',
				email_changed_at = now(), sms_changed_at = now(), updated_at = now()
			WHERE tenant_id = ? AND citizen_id = ?`, tenantID, citizenID); err != nil {
			return err
		}
		// A new subject: the identity provider's next login for this
		// person no longer finds this account.
		if _, err := tx.ExecContext(ctx, `UPDATE citizens SET name = '', email = '', fiscal_code = '',
			subject = 'erased:' || id WHERE tenant_id = ? AND id = ?`, tenantID, citizenID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE tenant_id = ? AND citizen_id = ?", tenantID, citizenID); err != nil {
			return err
		}
		// Bookings and calls that are over keep their place in the
		// calendar and the statistics, not who came.
		if _, err := tx.ExecContext(ctx, `UPDATE bookings SET contact_name = '', contact_email = '', contact_phone = '', updated_at = now()
			WHERE tenant_id = ? AND citizen_id = ? AND (status IN ('cancelled', 'expired') OR upper(period) < now())`,
			tenantID, citizenID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE consultation_entries SET citizen_name = ''
			WHERE tenant_id = ? AND citizen_id = ? AND status IN ('ended', 'left')`, tenantID, citizenID); err != nil {
			return err
		}
		outcome, _ := json.Marshal(out)
		var by any
		if adminID > 0 {
			by = adminID
		}
		_, err = tx.ExecContext(ctx, `UPDATE privacy_requests SET status = 'done', done_at = now(), done_by = ?, outcome = ?
			WHERE tenant_id = ? AND id = ?`, by, string(outcome), tenantID, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("carry out erasure request %d: %w", id, err)
	}
	return &out, nil
}

// deleteDossiers deletes dossiers ids of the town; what must outlive them
// loses its link first.
func deleteDossiers(ctx context.Context, tx bun.Tx, tenantID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	arr := pgdialect.Array(ids)
	for _, table := range []string{"payments", "bookings", "reservations"} {
		if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET dossier_id = NULL WHERE tenant_id = ? AND dossier_id = ANY(?)",
			tenantID, arr); err != nil {
			return fmt.Errorf("unlink %s: %w", table, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM dossiers WHERE tenant_id = ? AND id = ANY(?)", tenantID, arr); err != nil {
		return fmt.Errorf("delete dossiers: %w", err)
	}
	return nil
}

// Retention is how long one service's closed dossiers are kept.
type Retention struct {
	ServiceID string
	Days      int
}

// A service's catalogue id, or the back office's generic one.
var serviceRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// SetRetention keeps service's closed dossiers days days; 0 keeps them
// for good (removes the retention).
func (s *Store) SetRetention(ctx context.Context, tenantID int64, service string, days int) error {
	if !serviceRe.MatchString(service) || days < 0 || days > MaxRetentionDays {
		return ErrInvalid
	}
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		if days == 0 {
			_, err := tx.ExecContext(ctx, "DELETE FROM privacy_retention WHERE tenant_id = ? AND service_id = ?", tenantID, service)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO privacy_retention (tenant_id, service_id, days) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id, service_id) DO UPDATE SET days = EXCLUDED.days, updated_at = now()`, tenantID, service, days)
		return err
	})
	if err != nil {
		return fmt.Errorf("retention of %s: %w", service, err)
	}
	return nil
}

// Retentions are the town's retentions by service.
func (s *Store) Retentions(ctx context.Context, tenantID int64) (map[string]int, error) {
	var out map[string]int
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = retentions(ctx, tx, tenantID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("retentions: %w", err)
	}
	return out, nil
}

func retentions(ctx context.Context, tx bun.Tx, tenantID int64) (map[string]int, error) {
	rows, err := tx.QueryContext(ctx, "SELECT service_id, days FROM privacy_retention WHERE tenant_id = ?", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var days int
		if err := rows.Scan(&id, &days); err != nil {
			return nil, err
		}
		out[id] = days
	}
	return out, rows.Err()
}

// Purge deletes the town's closed dossiers whose last change is older
// than their service's retention, and returns how many. Dossiers of a
// service without a retention, and those still open, are never touched.
func (s *Store) Purge(ctx context.Context, tenantID int64, closed Closed) (int, error) {
	var n int
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT d.id, d.service_id, d.status
			FROM dossiers d JOIN privacy_retention p ON p.tenant_id = d.tenant_id AND p.service_id = d.service_id
			WHERE d.tenant_id = ? AND d.status <> 'draft' AND d.updated_at < now() - make_interval(days => p.days)
			FOR UPDATE OF d`, tenantID)
		if err != nil {
			return err
		}
		var drop []int64
		for rows.Next() {
			var id int64
			var service, status string
			if err := rows.Scan(&id, &service, &status); err != nil {
				rows.Close()
				return err
			}
			if closed(service, status) {
				drop = append(drop, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		n = len(drop)
		return deleteDossiers(ctx, tx, tenantID, drop)
	})
	if err != nil {
		return 0, fmt.Errorf("purge dossiers past retention: %w", err)
	}
	return n, nil
}

// PurgeAll purges every town of tenantIDs, going on past a town that
// fails; the error joins the failures.
func (s *Store) PurgeAll(ctx context.Context, tenantIDs []int64, closed Closed) (int, error) {
	total := 0
	var errs []error
	for _, id := range tenantIDs {
		n, err := s.Purge(ctx, id, closed)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", strconv.FormatInt(id, 10), err))
		}
	}
	return total, errors.Join(errs...)
}

// AdminView is what a town admin's privacy page shows: the requests
// waiting, the last ones carried out, and each service's retention.
type AdminView struct {
	Pending  []Request
	Done     []Request
	Services []ServiceRetention
	// A refused retention comes back with the service it was for, what
	// was typed, and why (translated).
	Error, ErrorService, ErrorValue string
}

// ServiceRetention is a service of the town and its retention (0: kept
// for good).
type ServiceRetention struct {
	ID, Name string
	Days     int
}

// PurgeTowns purges every town, with the final statuses the catalogue's
// manifests declare now.
func (s *Store) PurgeTowns(ctx context.Context, cat *catalog.Catalog) (int, error) {
	recs, err := cat.List(ctx)
	if err != nil {
		return 0, err
	}
	var ids []int64
	if err := s.db.NewRaw("SELECT id FROM tenants ORDER BY id").Scan(ctx, &ids); err != nil {
		return 0, fmt.Errorf("list towns: %w", err)
	}
	return s.PurgeAll(ctx, ids, FinalStatuses(recs))
}

// PurgeEvery runs PurgeTowns at once and then every interval, until ctx
// ends: the periodic job of the retention.
func (s *Store) PurgeEvery(ctx context.Context, every time.Duration, cat *catalog.Catalog, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.PurgeTowns(ctx, cat); err != nil && ctx.Err() == nil {
			log.Warn("purge dossiers past retention", "err", err)
		} else if n > 0 {
			log.Info("dossiers past retention deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
