package dossier

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// event is one line of dossier_events.
type event struct {
	kind    string
	status  string // the dossier's status after it
	note    string
	details map[string]any
}

func (s *Store) record(ctx context.Context, tx bun.Tx, d *Dossier, by Actor, at time.Time, ev event) error {
	details := "{}"
	if len(ev.details) > 0 {
		b, err := json.Marshal(ev.details)
		if err != nil {
			return fmt.Errorf("history of dossier %s: %w", d.Number, err)
		}
		details = string(b)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO dossier_events
		(tenant_id, dossier_id, at, actor, actor_name, kind, status, note, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)`,
		d.TenantID, d.ID, at, by.String(), actorName(by), ev.kind, ev.status, ev.note, details)
	if err != nil {
		return fmt.Errorf("history of dossier %s: %w", d.Number, err)
	}
	return nil
}

// applyFunc makes one change to the locked dossier d. It reports whether
// anything changed (nothing: no new version, no history) and the history
// entry to record, if any.
type applyFunc func(ctx context.Context, tx bun.Tx, d *Dossier, by Actor, at time.Time) (changed bool, ev *event, err error)

// mutate runs one change of dossier id: it locks the row, refuses it with
// a *StaleError if the dossier moved past version, applies fn, bumps the
// version and records fn's event, all in one transaction. The row lock
// queues concurrent changes, so of two operators who saw one version the
// second always learns about the first.
func (s *Store) mutate(ctx context.Context, tenantID, id, version int64, by Actor, fn applyFunc) (*Dossier, error) {
	if err := checkActor(by); err != nil {
		return nil, err
	}
	if version < 0 {
		return nil, fieldErr("version", "invalid")
	}
	var out *Dossier
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		d, err := scanDossier(tx.QueryRowContext(ctx, selectFull+"WHERE d.tenant_id = ? AND d.id = ? FOR UPDATE OF d", tenantID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("dossier %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("lock dossier %d: %w", id, err)
		}
		if version != AnyVersion && d.Version != version {
			return s.stale(ctx, tx, d, version)
		}
		if by, err = named(ctx, tx, tenantID, by); err != nil {
			return err
		}
		at := s.now()
		changed, ev, err := fn(ctx, tx, d, by, at)
		if err != nil {
			return err
		}
		if !changed {
			out = d
			return nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE dossiers SET version = version + 1, updated_at = ? WHERE tenant_id = ? AND id = ?",
			at, tenantID, id); err != nil {
			return fmt.Errorf("update dossier %s: %w", d.Number, err)
		}
		if ev != nil {
			if err := s.record(ctx, tx, d, by, at, *ev); err != nil {
				return err
			}
		}
		out, err = readOne(ctx, tx, d.Number, "d.tenant_id = ? AND d.id = ?", tenantID, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// stale is the StaleError of d for a caller who saw version saw: the last
// entry of its history says who moved it on.
func (s *Store) stale(ctx context.Context, tx bun.Tx, d *Dossier, saw int64) error {
	e := &StaleError{Number: d.Number, Saw: saw, Current: d.Version, ChangedAt: d.UpdatedAt}
	err := tx.QueryRowContext(ctx, `SELECT name FROM (
			SELECT actor_name AS name, at, id FROM dossier_events WHERE tenant_id = ? AND dossier_id = ?
			UNION ALL
			SELECT author_name, at, id FROM dossier_messages WHERE tenant_id = ? AND dossier_id = ?
		) h ORDER BY at DESC, id DESC LIMIT 1`, d.TenantID, d.ID, d.TenantID, d.ID).Scan(&e.ChangedBy)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("dossier %s changed; its last change: %w", d.Number, err)
	}
	return e
}

// named fills in by's name from their account when the caller gave none
// (the Host API knows only ids), so the history shows a name.
func named(ctx context.Context, tx bun.Tx, tenantID int64, by Actor) (Actor, error) {
	if by.Name != "" || by.ID <= 0 {
		return by, nil
	}
	table := "users"
	if by.Kind == ActorCitizen {
		table = "citizens"
	}
	err := tx.QueryRowContext(ctx, "SELECT name FROM "+table+" WHERE tenant_id = ? AND id = ?", tenantID, by.ID).Scan(&by.Name)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return by, fmt.Errorf("look up %s: %w", by, err)
	}
	return by, nil
}

// staffName is the name of staff user id, ErrInvalid on field if there is
// no such user in the tenant.
func staffName(ctx context.Context, tx bun.Tx, tenantID, id int64, field string) (string, error) {
	var name string
	err := tx.QueryRowContext(ctx, "SELECT name FROM users WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fieldErr(field, "unknown")
	}
	if err != nil {
		return "", fmt.Errorf("look up user %d: %w", id, err)
	}
	return name, nil
}

// officeSlug is the slug of office id, ErrInvalid if there is none.
func officeSlug(ctx context.Context, tx bun.Tx, tenantID, id int64) (string, error) {
	var slug string
	err := tx.QueryRowContext(ctx, "SELECT slug FROM offices WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&slug)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fieldErr("office", "unknown")
	}
	if err != nil {
		return "", fmt.Errorf("look up office %d: %w", id, err)
	}
	return slug, nil
}

// Take assigns the dossier to by (a staff user), keeping its office.
func (s *Store) Take(ctx context.Context, tenantID, id, version int64, by Actor) (*Dossier, error) {
	if by.Kind != ActorStaff {
		return nil, fieldErr("actor", "invalid")
	}
	return s.mutate(ctx, tenantID, id, version, by, func(ctx context.Context, tx bun.Tx, d *Dossier, by Actor, at time.Time) (bool, *event, error) {
		return s.assign(ctx, tx, d, Assignment{OfficeID: d.OfficeID, AssigneeID: by.ID})
	})
}

// Assign sets the dossier's office and operator as a says (0: none).
func (s *Store) Assign(ctx context.Context, tenantID, id, version int64, by Actor, a Assignment) (*Dossier, error) {
	if a.OfficeID < 0 || a.AssigneeID < 0 {
		return nil, fieldErr("assignee", "invalid")
	}
	return s.mutate(ctx, tenantID, id, version, by, func(ctx context.Context, tx bun.Tx, d *Dossier, by Actor, at time.Time) (bool, *event, error) {
		return s.assign(ctx, tx, d, a)
	})
}

func (s *Store) assign(ctx context.Context, tx bun.Tx, d *Dossier, a Assignment) (bool, *event, error) {
	if a.OfficeID == d.OfficeID && a.AssigneeID == d.AssigneeID {
		return false, nil, nil
	}
	var slug, name string
	var err error
	if a.OfficeID > 0 {
		if slug, err = officeSlug(ctx, tx, d.TenantID, a.OfficeID); err != nil {
			return false, nil, err
		}
	}
	if a.AssigneeID > 0 {
		if name, err = staffName(ctx, tx, d.TenantID, a.AssigneeID, "assignee"); err != nil {
			return false, nil, err
		}
	}
	_, err = tx.ExecContext(ctx, "UPDATE dossiers SET office_id = ?, assignee_id = ? WHERE tenant_id = ? AND id = ?",
		nullID(a.OfficeID), nullID(a.AssigneeID), d.TenantID, d.ID)
	if err != nil {
		return false, nil, fmt.Errorf("assign dossier %s: %w", d.Number, err)
	}
	return true, &event{kind: EntryAssigned, status: d.Status, details: map[string]any{
		"office_id": a.OfficeID, "office": slug, "assignee_id": a.AssigneeID, "assignee": name,
	}}, nil
}

// SetStatus moves the dossier to status, with a note for its history
// (the citizen sees it: internal remarks go in AddNote). Drafts leave
// StatusDraft through Submit only.
func (s *Store) SetStatus(ctx context.Context, tenantID, id, version int64, by Actor, status, note string) (*Dossier, error) {
	if !statusRe.MatchString(status) || status == StatusDraft {
		return nil, fieldErr("status", "invalid")
	}
	note, err := text("note", note, false, true, MaxNote)
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, tenantID, id, version, by, func(ctx context.Context, tx bun.Tx, d *Dossier, by Actor, at time.Time) (bool, *event, error) {
		if d.Draft() {
			return false, nil, fieldErr("status", "draft")
		}
		if status == d.Status && note == "" {
			return false, nil, nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE dossiers SET status = ? WHERE tenant_id = ? AND id = ?", status, d.TenantID, d.ID); err != nil {
			return false, nil, fmt.Errorf("set status of dossier %s: %w", d.Number, err)
		}
		return true, &event{kind: EntryStatus, status: status, note: note}, nil
	})
}

// SetPriority changes the dossier's priority ("" is normal).
func (s *Store) SetPriority(ctx context.Context, tenantID, id, version int64, by Actor, p Priority) (*Dossier, error) {
	p, err := ParsePriority(string(p))
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, tenantID, id, version, by, func(ctx context.Context, tx bun.Tx, d *Dossier, by Actor, at time.Time) (bool, *event, error) {
		if p == d.Priority {
			return false, nil, nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE dossiers SET priority = ? WHERE tenant_id = ? AND id = ?", p.rank(), d.TenantID, d.ID); err != nil {
			return false, nil, fmt.Errorf("set priority of dossier %s: %w", d.Number, err)
		}
		return true, &event{kind: EntryPriority, status: d.Status, details: map[string]any{"priority": string(p)}}, nil
	})
}

// SetDue sets the dossier's due date; the zero time removes it.
func (s *Store) SetDue(ctx context.Context, tenantID, id, version int64, by Actor, due time.Time) (*Dossier, error) {
	if !due.IsZero() && (due.Year() < 2000 || due.Year() > 9999) {
		return nil, fieldErr("due", "invalid")
	}
	due = due.Truncate(time.Microsecond) // as PostgreSQL keeps it
	return s.mutate(ctx, tenantID, id, version, by, func(ctx context.Context, tx bun.Tx, d *Dossier, by Actor, at time.Time) (bool, *event, error) {
		if due.Equal(d.DueAt) {
			return false, nil, nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE dossiers SET due_at = ? WHERE tenant_id = ? AND id = ?", nullTime(due), d.TenantID, d.ID); err != nil {
			return false, nil, fmt.Errorf("set due date of dossier %s: %w", d.Number, err)
		}
		details := map[string]any{"due": ""}
		if !due.IsZero() {
			details["due"] = due.UTC().Format(time.RFC3339)
		}
		return true, &event{kind: EntryDue, status: d.Status, details: details}, nil
	})
}

func nullID(id int64) any {
	if id <= 0 {
		return nil
	}
	return id
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }
