package dossier

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// What the back office needs beyond the model's own operations: an
// operator's queue across their offices, the details of a request taken by
// phone or at the counter, and the life of a draft.

// ListQueue is List narrowed to an operator's queue: the dossiers of any of
// offices, and those no office has been given yet (nobody would see them
// otherwise). With no offices it is List.
func (s *Store) ListQueue(ctx context.Context, tenantID int64, offices []int64, f Filter) (*Page, error) {
	if len(offices) == 0 {
		return s.List(ctx, tenantID, f)
	}
	for _, o := range offices {
		if o <= 0 {
			return nil, fieldErr("office", "invalid")
		}
	}
	where, args, err := f.where(tenantID)
	if err != nil {
		return nil, err
	}
	where += " AND (d.office_id = ANY(?) OR d.office_id IS NULL)"
	args = append(args, pgdialect.Array(offices))
	return s.page(ctx, tenantID, "list queue", where, args, f.Limit)
}

// CitizenByFiscalCode is the id of the tenant's citizen account with that
// fiscal code, 0 if there is none (or the code is no fiscal code): a
// request taken by phone for somebody with an account shows in their "my
// requests".
func (s *Store) CitizenByFiscalCode(ctx context.Context, tenantID int64, code string) (int64, error) {
	code = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), " ", ""))
	if !fiscalCodeRe.MatchString(code) {
		return 0, nil
	}
	var id int64
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		// Two accounts with one fiscal code (two identity providers) are
		// one person: the oldest account is theirs.
		err := tx.QueryRowContext(ctx, "SELECT id FROM citizens WHERE tenant_id = ? AND fiscal_code = ? ORDER BY id LIMIT 1",
			tenantID, code).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("citizen by fiscal code: %w", err)
	}
	return id, nil
}

// Intake is how a request taken by staff came in: the channel, the person
// it is for and their account (0: none).
type Intake struct {
	Channel   string
	Applicant Applicant
	CitizenID int64
}

func (in Intake) clean() (Intake, error) {
	if in.Channel == "" {
		in.Channel = ChannelWeb
	}
	if !validChannel(in.Channel) {
		return in, fieldErr("channel", "invalid")
	}
	if in.CitizenID < 0 {
		return in, fieldErr("citizen", "invalid")
	}
	a, err := in.Applicant.clean()
	in.Applicant = a
	return in, err
}

// SetIntake records the intake of a dossier a service opened while an
// operator acted for somebody (the service knows nothing of the phone
// call). Only staff may, and only on a dossier of no citizen yet: a
// citizen's own request is never handed to somebody else.
func (s *Store) SetIntake(ctx context.Context, tenantID, id, version int64, by Actor, in Intake) (*Dossier, error) {
	if by.Kind != ActorStaff {
		return nil, fieldErr("actor", "invalid")
	}
	in, err := in.clean()
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, tenantID, id, version, by, func(ctx context.Context, tx bun.Tx, d *Dossier, by Actor, at time.Time) (bool, *event, error) {
		if d.CitizenID != 0 {
			return false, nil, fieldErr("citizen", "invalid")
		}
		a := in.Applicant
		if in.CitizenID > 0 {
			if a, err = fillFromAccount(ctx, tx, tenantID, in.CitizenID, a); err != nil {
				return false, nil, err
			}
		}
		applicant, err := jsonText(a)
		if err != nil {
			return false, nil, err
		}
		_, err = tx.ExecContext(ctx, `UPDATE dossiers SET channel = ?, applicant = ?::jsonb, citizen_id = ?,
			created_by = coalesce(created_by, ?) WHERE tenant_id = ? AND id = ?`,
			in.Channel, applicant, nullID(in.CitizenID), by.ID, tenantID, d.ID)
		if err != nil {
			return false, nil, fmt.Errorf("intake of dossier %s: %w", d.Number, err)
		}
		return true, nil, nil
	})
}

// DraftEdit is what an operator may still change on a draft.
type DraftEdit struct {
	Title  string
	Data   json.RawMessage
	Intake Intake
}

// EditDraft saves a draft again, as the operator completed it so far.
// Anything but a draft is a *FieldError on "status".
func (s *Store) EditDraft(ctx context.Context, tenantID, id, version int64, by Actor, e DraftEdit) (*Dossier, error) {
	if by.Kind != ActorStaff {
		return nil, fieldErr("actor", "invalid")
	}
	title, err := text("title", e.Title, true, false, MaxTitle)
	if err != nil {
		return nil, err
	}
	data, err := dataObject(e.Data)
	if err != nil {
		return nil, err
	}
	in, err := e.Intake.clean()
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, tenantID, id, version, by, func(ctx context.Context, tx bun.Tx, d *Dossier, by Actor, at time.Time) (bool, *event, error) {
		if !d.Draft() {
			return false, nil, fieldErr("status", "invalid")
		}
		a := in.Applicant
		if in.CitizenID > 0 {
			if a, err = fillFromAccount(ctx, tx, tenantID, in.CitizenID, a); err != nil {
				return false, nil, err
			}
		}
		applicant, err := jsonText(a)
		if err != nil {
			return false, nil, err
		}
		_, err = tx.ExecContext(ctx, `UPDATE dossiers SET title = ?, data = ?::jsonb, channel = ?, applicant = ?::jsonb,
			citizen_id = ? WHERE tenant_id = ? AND id = ?`,
			title, data, in.Channel, applicant, nullID(in.CitizenID), tenantID, d.ID)
		if err != nil {
			return false, nil, fmt.Errorf("save draft %s: %w", d.Number, err)
		}
		return true, nil, nil
	})
}

// Discard deletes a draft, with its history and files: a draft of a
// catalogue service is filed by the service itself when submitted, and a
// draft nobody wants is no record. Anything but a draft is a *FieldError on
// "status".
func (s *Store) Discard(ctx context.Context, tenantID, id, version int64, by Actor) error {
	if by.Kind != ActorStaff {
		return fieldErr("actor", "invalid")
	}
	_, err := s.mutate(ctx, tenantID, id, version, by, func(ctx context.Context, tx bun.Tx, d *Dossier, by Actor, at time.Time) (bool, *event, error) {
		if !d.Draft() {
			return false, nil, fieldErr("status", "invalid")
		}
		// Files of the draft go back to pending uploads of their uploader
		// rather than with the row: the service's dossier may keep them.
		if _, err := tx.ExecContext(ctx, "UPDATE dossier_attachments SET dossier_id = NULL WHERE tenant_id = ? AND dossier_id = ?",
			tenantID, d.ID); err != nil {
			return false, nil, fmt.Errorf("discard draft %s: %w", d.Number, err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM dossiers WHERE tenant_id = ? AND id = ?", tenantID, d.ID); err != nil {
			return false, nil, fmt.Errorf("discard draft %s: %w", d.Number, err)
		}
		return false, nil, nil
	})
	return err
}

// PendingUpload is upload id of by that still waits for its dossier (and,
// if it was bound to a request, of requestID): a form sent back with
// errors keeps its files by id, and only their uploader may name them.
// ErrNotFound for anything else, without saying which.
func (s *Store) PendingUpload(ctx context.Context, tenantID int64, by Actor, requestID string, id int64) (*Attachment, error) {
	if err := checkActor(by); err != nil {
		return nil, err
	}
	a := &Attachment{ID: id, UploadedBy: by}
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT name, content_type, size, sha256, internal, created_at
			FROM dossier_attachments
			WHERE tenant_id = ? AND id = ? AND dossier_id IS NULL AND uploader_kind = ? AND uploader_id = ?
			  AND (request_id = '' OR request_id = ?)`,
			tenantID, id, by.Kind, by.ID, requestID).Scan(&a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.Internal, &a.CreatedAt)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("upload %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("upload %d: %w", id, err)
	}
	return a, nil
}

// Check checks and normalises in as SetIntake would, so that a caller can
// refuse bad details before anything is filed. Errors are *FieldError on
// "channel", "citizen" or "applicant.<field>".
func (in Intake) Check() (Intake, error) { return in.clean() }
