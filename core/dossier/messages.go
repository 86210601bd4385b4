package dossier

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// maxSubject is the longest subject the outbox takes.
const maxSubject = 200

// AddNote adds an internal note (staff only) to the dossier.
func (s *Store) AddNote(ctx context.Context, tenantID, id, version int64, by Actor, body string) (*Message, error) {
	if by.Kind != ActorStaff && by.Kind != ActorSystem {
		return nil, fieldErr("actor", "invalid")
	}
	return s.addMessage(ctx, tenantID, id, version, by, body, true)
}

// Reply adds a public message. From staff (or a plugin, or the system) it
// is a reply the citizen sees, and an e-mail to the citizen (their
// account's address, or else the applicant's) is queued in the
// notifications outbox, unless the dossier is still a draft; from the
// citizen it is their follow-up on their own dossier.
func (s *Store) Reply(ctx context.Context, tenantID, id, version int64, by Actor, body string) (*Message, error) {
	if by.Kind == ActorAnonymous {
		return nil, fieldErr("actor", "invalid")
	}
	return s.addMessage(ctx, tenantID, id, version, by, body, false)
}

func (s *Store) addMessage(ctx context.Context, tenantID, id, version int64, by Actor, body string, internal bool) (*Message, error) {
	body, err := text("body", body, true, true, MaxMessage)
	if err != nil {
		return nil, err
	}
	var m *Message
	_, err = s.mutate(ctx, tenantID, id, version, by, func(ctx context.Context, tx bun.Tx, d *Dossier, by Actor, at time.Time) (bool, *event, error) {
		if by.Kind == ActorCitizen && (d.CitizenID != by.ID || d.Draft()) {
			return false, nil, fmt.Errorf("dossier %d: %w", id, ErrNotFound)
		}
		m = &Message{DossierID: d.ID, Internal: internal, Author: by, Body: body, At: at}
		m.Author.Name = actorName(by)
		err := tx.QueryRowContext(ctx, `INSERT INTO dossier_messages
			(tenant_id, dossier_id, internal, author_kind, author_id, author_name, plugin_id, body, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, at`,
			d.TenantID, d.ID, internal, by.Kind, by.ID, m.Author.Name, by.Plugin, body, at).Scan(&m.ID, &m.At)
		if err != nil {
			return false, nil, fmt.Errorf("add message to dossier %s: %w", d.Number, err)
		}
		if !internal && by.Kind != ActorCitizen && !d.Draft() {
			if err := s.notifyCitizen(ctx, tx, d, body); err != nil {
				return false, nil, err
			}
		}
		return true, nil, nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// notifyCitizen queues the e-mail telling d's citizen of a reply. No
// address on file is no error: the reply is on the dossier all the same.
func (s *Store) notifyCitizen(ctx context.Context, tx bun.Tx, d *Dossier, body string) error {
	to := d.Applicant.Email
	if d.CitizenID > 0 {
		var email string
		err := tx.QueryRowContext(ctx, "SELECT email FROM citizens WHERE tenant_id = ? AND id = ?", d.TenantID, d.CitizenID).Scan(&email)
		if err == nil && emailAddress(email) {
			to = email
		}
	}
	if !emailAddress(to) {
		return nil
	}
	// Language-neutral subject: the number and the title, as the citizen
	// filed it; the body is the reply itself.
	subject := strings.Join(strings.Fields("["+d.Number+"] "+d.Title), " ")
	if utf8.RuneCountInString(subject) > maxSubject {
		subject = string([]rune(subject)[:maxSubject-1]) + "…"
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO notifications (tenant_id, plugin_id, channel, recipient, subject, body)
		VALUES (?, ?, 'email', ?, ?, ?)`, d.TenantID, d.ServiceID, to, subject, body)
	if err != nil {
		return fmt.Errorf("queue reply notice of dossier %s: %w", d.Number, err)
	}
	return nil
}

// History is the dossier's timeline, oldest first: status changes,
// assignments, messages, attachments. publicOnly leaves out what the
// citizen does not see (internal notes and files, assignment, priority).
func (s *Store) History(ctx context.Context, tenantID, id int64, publicOnly bool) ([]Entry, error) {
	var out []Entry
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		if err := exists(ctx, tx, tenantID, id); err != nil {
			return err
		}
		files, err := attachmentsOf(ctx, tx, tenantID, id, false)
		if err != nil {
			return err
		}
		byID := map[int64]*Attachment{}
		for i := range files {
			byID[files[i].ID] = &files[i]
		}
		if out, err = events(ctx, tx, tenantID, id, byID); err != nil {
			return err
		}
		msgs, err := messages(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		out = append(out, msgs...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Events come before messages of the same instant: a status change
	// and the reply explaining it read in that order.
	slices.SortStableFunc(out, func(a, b Entry) int { return a.At.Compare(b.At) })
	if publicOnly {
		out = slices.DeleteFunc(out, func(e Entry) bool { return e.Internal })
	}
	return out, nil
}

func events(ctx context.Context, tx bun.Tx, tenantID, id int64, files map[int64]*Attachment) ([]Entry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT at, kind, actor, actor_name, status, note, details::text
		FROM dossier_events WHERE tenant_id = ? AND dossier_id = ? ORDER BY at, id`, tenantID, id)
	if err != nil {
		return nil, fmt.Errorf("history of dossier %d: %w", id, err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var actor, details string
		if err := rows.Scan(&e.At, &e.Kind, &actor, &e.Actor, &e.Status, &e.Note, &details); err != nil {
			return nil, fmt.Errorf("history of dossier %d: %w", id, err)
		}
		e.ActorKind = actorKind(actor)
		var d struct {
			Office       string   `json:"office"`
			Assignee     string   `json:"assignee"`
			Priority     Priority `json:"priority"`
			Due          string   `json:"due"`
			AttachmentID int64    `json:"attachment_id"`
			Internal     bool     `json:"internal"`
		}
		if err := json.Unmarshal([]byte(details), &d); err != nil {
			return nil, fmt.Errorf("history of dossier %d: %w", id, err)
		}
		switch e.Kind {
		case EntryAssigned:
			e.Office, e.Assignee, e.Internal = d.Office, d.Assignee, true
		case EntryPriority:
			e.Priority, e.Internal = d.Priority, true
		case EntryDue:
			if d.Due != "" {
				e.DueAt, _ = time.Parse(time.RFC3339, d.Due)
			}
		case EntryAttached:
			e.Attachment = files[d.AttachmentID]
			// A file gone from the dossier (never, today) leaves its
			// line to staff only.
			e.Internal = d.Internal || e.Attachment == nil
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func messages(ctx context.Context, tx bun.Tx, tenantID, id int64) ([]Entry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, internal, author_kind, author_id, author_name, plugin_id, body, at
		FROM dossier_messages WHERE tenant_id = ? AND dossier_id = ? ORDER BY at, id`, tenantID, id)
	if err != nil {
		return nil, fmt.Errorf("messages of dossier %d: %w", id, err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		m := &Message{DossierID: id}
		if err := rows.Scan(&m.ID, &m.Internal, &m.Author.Kind, &m.Author.ID, &m.Author.Name, &m.Author.Plugin, &m.Body, &m.At); err != nil {
			return nil, fmt.Errorf("messages of dossier %d: %w", id, err)
		}
		kind := EntryReply
		if m.Internal {
			kind = EntryNote
		}
		out = append(out, Entry{At: m.At, Kind: kind, Actor: m.Author.Name, ActorKind: m.Author.Kind,
			Internal: m.Internal, Note: m.Body, Message: m})
	}
	return out, rows.Err()
}

// actorKind reads the kind out of a recorded actor, "staff:3" or
// "plugin:helpdesk/citizen:7".
func actorKind(actor string) string {
	if i := strings.LastIndexByte(actor, '/'); i >= 0 {
		actor = actor[i+1:]
	}
	kind, _, _ := strings.Cut(actor, ":")
	return kind
}
