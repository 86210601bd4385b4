package dossier

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/uptrace/bun"
)

const attachmentCols = `a.id, coalesce(a.dossier_id, 0), a.name, a.content_type, a.size, a.sha256, a.internal,
	a.uploader_kind, a.uploader_id, a.uploader_name, a.plugin_id, a.created_at, a.storage_key`

func scanAttachment(row scanner) (*Attachment, string, error) {
	a := &Attachment{}
	var key string
	err := row.Scan(&a.ID, &a.DossierID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.Internal,
		&a.UploadedBy.Kind, &a.UploadedBy.ID, &a.UploadedBy.Name, &a.UploadedBy.Plugin, &a.CreatedAt, &key)
	return a, key, err
}

// insertAttachment records stored file st; dossierID 0 leaves it pending.
func insertAttachment(ctx context.Context, tx bun.Tx, tenantID, dossierID int64, by Actor, requestID string,
	st *stored, internal bool, at time.Time) (*Attachment, error) {
	a, _, err := scanAttachment(tx.QueryRowContext(ctx, `INSERT INTO dossier_attachments AS a
		(tenant_id, dossier_id, name, content_type, size, sha256, storage_key, internal,
		 uploader_kind, uploader_id, uploader_name, plugin_id, request_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+attachmentCols,
		tenantID, nullID(dossierID), st.name, st.contentType, st.size, st.sha256, st.key, internal,
		by.Kind, by.ID, actorName(by), by.Plugin, requestID, at))
	if err != nil {
		return nil, fmt.Errorf("record attachment %q: %w", st.name, err)
	}
	return a, nil
}

// Attach stores f on the dossier: ErrTooLarge past the size limit,
// ErrFileType for a type not allowed or a name that disguises it. A
// citizen attaches to their own dossier only, and never an internal file.
func (s *Store) Attach(ctx context.Context, tenantID, id, version int64, by Actor, f NewFile) (*Attachment, error) {
	if err := checkActor(by); err != nil {
		return nil, err
	}
	if by.Kind != ActorStaff && by.Kind != ActorSystem && f.Internal {
		return nil, fieldErr("internal", "invalid")
	}
	if tenantID <= 0 {
		return nil, fmt.Errorf("attach to dossier %d: %w", id, ErrNotFound)
	}
	// The content goes to the folder first: a file without its record is
	// an orphan that harms nobody, a record without its file would be a
	// hole in a dossier.
	st, err := s.files.put(tenantID, f.Name, f.Content)
	if err != nil {
		return nil, err
	}
	var out *Attachment
	_, err = s.mutate(ctx, tenantID, id, version, by, func(ctx context.Context, tx bun.Tx, d *Dossier, by Actor, at time.Time) (bool, *event, error) {
		if by.Kind == ActorCitizen && (d.CitizenID != by.ID || d.Draft()) {
			return false, nil, fmt.Errorf("dossier %d: %w", id, ErrNotFound)
		}
		a, err := insertAttachment(ctx, tx, tenantID, d.ID, by, "", st, f.Internal, at)
		if err != nil {
			return false, nil, err
		}
		out = a
		return true, &event{kind: EntryAttached, status: d.Status,
			details: map[string]any{"attachment_id": a.ID, "name": a.Name, "internal": a.Internal}}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Upload stores f for a dossier not filed yet (a form's file field):
// NewDossier.AttachmentIDs (or the Host API's CreateDossier) links it
// later, for the same actor; requestID, when not "", binds it to one
// request too. An anonymous visitor has no other identity, so their
// uploads need one.
func (s *Store) Upload(ctx context.Context, tenantID int64, by Actor, requestID string, f NewFile) (*Attachment, error) {
	if err := checkActor(by); err != nil {
		return nil, err
	}
	if by.Kind == ActorAnonymous && requestID == "" {
		return nil, fieldErr("request", "required")
	}
	if _, err := text("request", requestID, false, false, 200); err != nil {
		return nil, err
	}
	if by.Kind != ActorStaff && by.Kind != ActorSystem && f.Internal {
		return nil, fieldErr("internal", "invalid")
	}
	if tenantID <= 0 {
		return nil, fmt.Errorf("upload: %w", ErrNotFound)
	}
	st, err := s.files.put(tenantID, f.Name, f.Content)
	if err != nil {
		return nil, err
	}
	var out *Attachment
	err = s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if by, err = named(ctx, tx, tenantID, by); err != nil {
			return err
		}
		out, err = insertAttachment(ctx, tx, tenantID, 0, by, requestID, st, f.Internal, s.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Attachments lists the dossier's files, oldest first; publicOnly leaves
// out internal ones. A dossier that does not exist is ErrNotFound.
func (s *Store) Attachments(ctx context.Context, tenantID, dossierID int64, publicOnly bool) ([]Attachment, error) {
	var out []Attachment
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		if err := exists(ctx, tx, tenantID, dossierID); err != nil {
			return err
		}
		var err error
		out, err = attachmentsOf(ctx, tx, tenantID, dossierID, publicOnly)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func attachmentsOf(ctx context.Context, tx bun.Tx, tenantID, dossierID int64, publicOnly bool) ([]Attachment, error) {
	q := "SELECT " + attachmentCols + " FROM dossier_attachments a WHERE a.tenant_id = ? AND a.dossier_id = ?"
	if publicOnly {
		q += " AND NOT a.internal"
	}
	rows, err := tx.QueryContext(ctx, q+" ORDER BY a.id", tenantID, dossierID)
	if err != nil {
		return nil, fmt.Errorf("attachments of dossier %d: %w", dossierID, err)
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		a, _, err := scanAttachment(rows)
		if err != nil {
			return nil, fmt.Errorf("attachments of dossier %d: %w", dossierID, err)
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

func exists(ctx context.Context, tx bun.Tx, tenantID, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM dossiers WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("dossier %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("look up dossier %d: %w", id, err)
	}
	return nil
}

// OpenAttachment opens the content of attachment attachmentID of dossier
// dossierID after checking it against its checksum (ErrCorrupt). The
// caller closes it. publicOnly: an internal file is ErrNotFound.
func (s *Store) OpenAttachment(ctx context.Context, tenantID, dossierID, attachmentID int64, publicOnly bool) (*Attachment, io.ReadCloser, error) {
	q := "SELECT " + attachmentCols + " FROM dossier_attachments a WHERE a.tenant_id = ? AND a.dossier_id = ? AND a.id = ?"
	if publicOnly {
		q += " AND NOT a.internal"
	}
	var a *Attachment
	var key string
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		a, key, err = scanAttachment(tx.QueryRowContext(ctx, q, tenantID, dossierID, attachmentID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("attachment %d of dossier %d: %w", attachmentID, dossierID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read attachment %d: %w", attachmentID, err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	file, err := s.files.open(tenantID, key, a.SHA256)
	if err != nil {
		return nil, nil, err
	}
	return a, file, nil
}
