package dossier

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// The year of a protocol number is the calendar year in Italy (and
// Ticino): a dossier opened at 00:30 on 1 January belongs to the new year.
const numberYear = `extract(year FROM ?::timestamptz AT TIME ZONE 'Europe/Rome')::int`

// maxAttachmentsPerDossier bounds the pending uploads one Open links.
const maxAttachmentsPerDossier = 50

// Open files a new dossier for by, allocating its protocol number
// ("2026-000042": per tenant and calendar year in Europe/Rome, no gaps) in
// the same transaction; a draft is "D-<id>" until Submit numbers it. Pending uploads named in n.AttachmentIDs must be
// by's own (and of n.RequestID, if they were bound to one).
func (s *Store) Open(ctx context.Context, tenantID int64, by Actor, n NewDossier) (*Dossier, error) {
	if err := checkActor(by); err != nil {
		return nil, err
	}
	if !serviceRe.MatchString(n.ServiceID) {
		return nil, fieldErr("service", "invalid")
	}
	title, err := text("title", n.Title, true, false, MaxTitle)
	if err != nil {
		return nil, err
	}
	status := n.Status
	switch {
	case n.Draft || status == StatusDraft:
		status = StatusDraft
	case status == "":
		status = StatusSubmitted
	case !statusRe.MatchString(status):
		return nil, fieldErr("status", "invalid")
	}
	channel := n.Channel
	if channel == "" {
		channel = ChannelWeb
	} else if !validChannel(channel) {
		return nil, fieldErr("channel", "invalid")
	}
	data, err := dataObject(n.Data)
	if err != nil {
		return nil, err
	}
	applicant, err := n.Applicant.clean()
	if err != nil {
		return nil, err
	}
	priority, err := ParsePriority(string(n.Priority))
	if err != nil {
		return nil, err
	}
	if n.CitizenID < 0 || n.OfficeID < 0 || n.AssigneeID < 0 {
		return nil, fieldErr("dossier", "invalid")
	}
	if !n.DueAt.IsZero() && (n.DueAt.Year() < 2000 || n.DueAt.Year() > 9999) {
		return nil, fieldErr("due", "invalid")
	}
	attachments := slices.Compact(slices.Sorted(slices.Values(n.AttachmentIDs)))
	if len(attachments) > maxAttachmentsPerDossier {
		return nil, &FieldError{Field: "attachments", Code: "too_long", Limit: maxAttachmentsPerDossier}
	}
	if len(attachments) > 0 && attachments[0] <= 0 {
		return nil, fieldErr("attachments", "unknown")
	}
	var createdBy any
	if by.Kind == ActorStaff {
		createdBy = by.ID
	}
	at := s.now()
	var submitted any = at
	if status == StatusDraft {
		submitted = nil
	}

	var out *Dossier
	err = s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		if by, err = named(ctx, tx, tenantID, by); err != nil {
			return err
		}
		if n.CitizenID > 0 {
			if applicant, err = fillFromAccount(ctx, tx, tenantID, n.CitizenID, applicant); err != nil {
				return err
			}
		}
		office, err := s.officeFor(ctx, tx, tenantID, n)
		if err != nil {
			return err
		}
		if n.AssigneeID > 0 {
			if _, err := staffName(ctx, tx, tenantID, n.AssigneeID, "assignee"); err != nil {
				return err
			}
		}
		applicantJSON, err := jsonText(applicant)
		if err != nil {
			return err
		}
		// Concurrent dossiers of a town queue on its counter row, whose
		// lock is held until COMMIT: so the number is taken last, in the
		// one statement that also inserts the dossier, records its "opened"
		// entry and reads it back. Only linking uploads, when there are
		// any, comes after it. A draft takes no number: it starts with a
		// placeholder no id reaches, so concurrent drafts do not wait on
		// each other's unique key, and is "D-<id>" once the id is known.
		with, numberSQL := "WITH ", "?"
		args := make([]any, 0, 26)
		if status == StatusDraft {
			args = append(args, tenantID, "D-"+strconv.FormatInt(1e18+rand.Int64N(1e18), 10))
		} else {
			with, numberSQL = "WITH counter AS ("+bumpCounter+"),\n", "(SELECT number FROM counter)"
			args = append(args, tenantID, at, tenantID)
		}
		args = append(args, n.ServiceID, nullID(n.CitizenID), status, title, data, channel, nullID(office),
			nullID(n.AssigneeID), priority.rank(), nullTime(n.DueAt), applicantJSON, createdBy, submitted, at, at,
			at, by.String(), actorName(by), EntryOpened)
		// The new row is named as the table, so that selectFull reads it
		// (a statement does not see its own inserts in the table itself).
		out, err = scanDossier(tx.QueryRowContext(ctx, with+`dossiers AS (INSERT INTO dossiers
				(tenant_id, number, service_id, citizen_id, status, title, data, channel, office_id, assignee_id,
				 priority, due_at, applicant, created_by, submitted_at, created_at, updated_at)
				VALUES (?, `+numberSQL+`, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?) RETURNING *),
			opened AS (INSERT INTO dossier_events (tenant_id, dossier_id, at, actor, actor_name, kind, status)
				SELECT tenant_id, id, ?::timestamptz, ?::text, ?::text, ?::text, status FROM dossiers)
			`+selectFull, args...))
		if err != nil {
			return fmt.Errorf("insert dossier of %s: %w", n.ServiceID, err)
		}
		if status == StatusDraft {
			out.Number = "D-" + idString(out.ID)
			if _, err := tx.ExecContext(ctx, "UPDATE dossiers SET number = ? WHERE tenant_id = ? AND id = ?", out.Number, tenantID, out.ID); err != nil {
				return fmt.Errorf("number draft %d: %w", out.ID, err)
			}
		}
		if len(attachments) > 0 {
			return s.link(ctx, tx, out, by, n.RequestID, attachments, at)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// officeFor is the office n goes to: by id, by slug, or the one the
// tenant configured for the service. A configured office that no longer
// exists leaves the dossier without one rather than refusing a citizen's
// request for a setting of the town's.
func (s *Store) officeFor(ctx context.Context, tx bun.Tx, tenantID int64, n NewDossier) (int64, error) {
	switch {
	case n.OfficeID > 0:
		_, err := officeSlug(ctx, tx, tenantID, n.OfficeID)
		return n.OfficeID, err
	case n.OfficeSlug != "":
		var id int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM offices WHERE tenant_id = ? AND slug = ?", tenantID, n.OfficeSlug).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fieldErr("office", "unknown")
		}
		if err != nil {
			return 0, fmt.Errorf("look up office %q: %w", n.OfficeSlug, err)
		}
		return id, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT o.id FROM tenant_services ts
		JOIN offices o ON o.tenant_id = ts.tenant_id AND o.slug = ts.config ->> 'office'
		WHERE ts.tenant_id = ? AND ts.service_id = ?`, tenantID, n.ServiceID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("office of service %s: %w", n.ServiceID, err)
	}
	return id, nil
}

// bumpCounter takes the tenant's (first arg) next protocol number of the
// year of the second arg, formatted: "2026-000042". The counter row is
// bumped in the dossier's own transaction: a rolled-back dossier gives its
// number back, and concurrent ones queue on the row lock, so numbers have
// neither gaps nor duplicates.
const bumpCounter = `INSERT INTO dossier_counters (tenant_id, year, last) VALUES (?, ` + numberYear + `, 1)
	ON CONFLICT (tenant_id, year) DO UPDATE SET last = dossier_counters.last + 1
	RETURNING year::text || '-' || lpad(last::text, greatest(6, length(last::text)), '0') AS number`

// nextNumber allocates the tenant's next protocol number of the year of
// at (bumpCounter).
func nextNumber(ctx context.Context, tx bun.Tx, tenantID int64, at time.Time) (string, error) {
	var number string
	if err := tx.QueryRowContext(ctx, bumpCounter, tenantID, at).Scan(&number); err != nil {
		return "", fmt.Errorf("next dossier number: %w", err)
	}
	return number, nil
}

// fillFromAccount checks citizen id exists and fills what a is missing
// from their account.
func fillFromAccount(ctx context.Context, tx bun.Tx, tenantID, id int64, a Applicant) (Applicant, error) {
	var name, email, fiscal string
	err := tx.QueryRowContext(ctx, "SELECT name, email, fiscal_code FROM citizens WHERE tenant_id = ? AND id = ?", tenantID, id).
		Scan(&name, &email, &fiscal)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fieldErr("citizen", "unknown")
	}
	if err != nil {
		return a, fmt.Errorf("look up citizen %d: %w", id, err)
	}
	if a.Name == "" {
		a.Name = name
	}
	if a.Email == "" && emailAddress(email) {
		a.Email = email
	}
	if a.FiscalCode == "" && fiscalCodeRe.MatchString(fiscal) {
		a.FiscalCode = fiscal
	}
	return a, nil
}

// link moves pending uploads ids onto d. Each must be pending, by by, and
// (if bound to a request) of requestID: anything else is refused whole,
// without saying which of the reasons applied.
func (s *Store) link(ctx context.Context, tx bun.Tx, d *Dossier, by Actor, requestID string, ids []int64, at time.Time) error {
	rows, err := tx.QueryContext(ctx, `UPDATE dossier_attachments SET dossier_id = ?
		WHERE tenant_id = ? AND id = ANY(?) AND dossier_id IS NULL AND uploader_kind = ? AND uploader_id = ?
		  AND (request_id = '' OR request_id = ?)
		RETURNING id, name, internal`,
		d.ID, d.TenantID, pgdialect.Array(ids), by.Kind, by.ID, requestID)
	if err != nil {
		return fmt.Errorf("attach uploads to dossier %s: %w", d.Number, err)
	}
	type linked struct {
		id       int64
		name     string
		internal bool
	}
	var got []linked
	for rows.Next() {
		var l linked
		if err := rows.Scan(&l.id, &l.name, &l.internal); err != nil {
			rows.Close()
			return fmt.Errorf("attach uploads to dossier %s: %w", d.Number, err)
		}
		got = append(got, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("attach uploads to dossier %s: %w", d.Number, err)
	}
	if len(got) != len(ids) {
		return fieldErr("attachments", "unknown")
	}
	slices.SortFunc(got, func(a, b linked) int { return int(a.id - b.id) })
	for _, l := range got {
		err := s.record(ctx, tx, d, by, at, event{kind: EntryAttached, status: d.Status,
			details: map[string]any{"attachment_id": l.id, "name": l.name, "internal": l.internal}})
		if err != nil {
			return err
		}
	}
	return nil
}

// Submit turns a draft into StatusSubmitted and gives it its protocol
// number (of the year of submission): from then on the citizen sees it. Submitting a dossier that is no draft is a *FieldError on "status".
func (s *Store) Submit(ctx context.Context, tenantID, id, version int64, by Actor) (*Dossier, error) {
	return s.mutate(ctx, tenantID, id, version, by, func(ctx context.Context, tx bun.Tx, d *Dossier, by Actor, at time.Time) (bool, *event, error) {
		if !d.Draft() {
			return false, nil, fieldErr("status", "invalid")
		}
		number, err := nextNumber(ctx, tx, d.TenantID, at)
		if err != nil {
			return false, nil, err
		}
		_, err = tx.ExecContext(ctx, "UPDATE dossiers SET status = ?, submitted_at = ?, number = ? WHERE tenant_id = ? AND id = ?",
			StatusSubmitted, at, number, d.TenantID, d.ID)
		if err != nil {
			return false, nil, fmt.Errorf("submit dossier %s: %w", d.Number, err)
		}
		return true, &event{kind: EntrySubmitted, status: StatusSubmitted}, nil
	})
}
