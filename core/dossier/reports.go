package dossier

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Reports are a service's dossiers as a public interface shows them (the
// Open311 interface of the helpdesk, its open dataset): what was reported,
// where, and how far the town got with it. Nothing of who reported it is
// even read: not the applicant, not the citizen, not the operators, not
// the internal notes.

// MaxReports is the longest list Reports returns at once.
const MaxReports = 1000

// maxDataValue bounds a value ReportFilter.DataValues compares with.
const maxDataValue = 200

// A top-level key of a dossier's data.
var dataKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// ReportFilter narrows Reports; zero fields do not filter, except Service.
type ReportFilter struct {
	Service string // the service's catalogue id; required
	// Numbers keeps the dossiers with these protocol numbers.
	Numbers []string
	// Statuses keeps the dossiers in one of these statuses,
	// ExceptStatuses those in none of them.
	Statuses, ExceptStatuses []string
	// DataKey and DataValues keep the dossiers whose data holds one of
	// the values (strings) under the top-level key DataKey.
	DataKey    string
	DataValues []string
	From, To   time.Time // created at or after From, before To
	// Limit is how many at most (0: MaxReports, never more); Cursor is a
	// ReportPage's Next, to continue after it.
	Limit  int
	Cursor string
	// Lang is the language of the offices' names ("" is Italian).
	Lang string
}

// Report is one dossier as the public sees it.
type Report struct {
	ID         int64
	Number     string
	Status     string
	Data       json.RawMessage // the service's data, whole: the caller picks what it shows
	OfficeSlug string          // "" with no office
	OfficeName string          // in the filter's language, else Italian
	DueAt      time.Time       // zero: no due date
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// StatusSince is when the dossier entered its current status.
	StatusSince time.Time
	// Reply is the last public reply of the town (staff or the system),
	// "" if none; the citizen's own messages are left out.
	Reply   string
	ReplyAt time.Time
}

// ReportPage is one page of Reports, newest first; Next is "" on the last.
type ReportPage struct {
	Reports []Report
	Next    string
}

// Reports lists the tenant's dossiers of one service matching f, newest
// first, drafts never.
func (s *Store) Reports(ctx context.Context, tenantID int64, f ReportFilter) (*ReportPage, error) {
	where, args, err := f.where(tenantID)
	if err != nil {
		return nil, err
	}
	limit := f.Limit
	switch {
	case limit < 0:
		return nil, fieldErr("limit", "invalid")
	case limit == 0 || limit > MaxReports:
		limit = MaxReports
	}
	lang := f.Lang
	if lang == "" {
		lang = "it"
	}
	// The status's start is the first event after the last one that left
	// the dossier in another status; a status repeated with a note does
	// not restart it.
	q := `SELECT d.id, d.number, d.status, d.data::text, coalesce(o.slug, ''),
		coalesce(nullif(o.name->>?, ''), o.name->>'it', o.slug, ''),
		d.due_at, d.created_at, d.updated_at,
		coalesce((SELECT min(e.at) FROM dossier_events e WHERE e.tenant_id = d.tenant_id AND e.dossier_id = d.id
			AND e.at > coalesce((SELECT max(x.at) FROM dossier_events x
				WHERE x.tenant_id = d.tenant_id AND x.dossier_id = d.id AND x.status <> d.status), '-infinity'::timestamptz)),
			d.created_at),
		coalesce(r.body, ''), r.at
	FROM dossiers d
	LEFT JOIN offices o ON o.tenant_id = d.tenant_id AND o.id = d.office_id
	LEFT JOIN LATERAL (SELECT m.body, m.at FROM dossier_messages m
		WHERE m.tenant_id = d.tenant_id AND m.dossier_id = d.id AND NOT m.internal AND m.author_kind IN ('staff', 'system')
		ORDER BY m.at DESC, m.id DESC LIMIT 1) r ON true
	WHERE ` + where + ` ORDER BY d.created_at DESC, d.id DESC LIMIT ?`
	args = append([]any{lang}, args...)
	args = append(args, limit+1)
	page := &ReportPage{}
	err = s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("list reports of %s: %w", f.Service, err)
		}
		defer rows.Close()
		for rows.Next() {
			var r Report
			var data string
			var due, replyAt sql.NullTime
			if err := rows.Scan(&r.ID, &r.Number, &r.Status, &data, &r.OfficeSlug, &r.OfficeName, &due,
				&r.CreatedAt, &r.UpdatedAt, &r.StatusSince, &r.Reply, &replyAt); err != nil {
				return fmt.Errorf("list reports of %s: %w", f.Service, err)
			}
			r.Data = json.RawMessage(data)
			if due.Valid {
				r.DueAt = due.Time
			}
			if replyAt.Valid {
				r.ReplyAt = replyAt.Time
			}
			page.Reports = append(page.Reports, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if len(page.Reports) > limit {
		page.Reports = page.Reports[:limit]
		last := page.Reports[limit-1]
		page.Next = encodeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

// where is f as SQL over dossiers d, checked.
func (f ReportFilter) where(tenantID int64) (string, []any, error) {
	if !serviceRe.MatchString(f.Service) {
		return "", nil, fieldErr("service", "invalid")
	}
	conds := []string{"d.tenant_id = ?", "d.service_id = ?", "d.status <> 'draft'"}
	args := []any{tenantID, f.Service}
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	// Lists go into the query as one array parameter each, whatever
	// their length.
	list := func(field string, vs []string, valid func(string) bool) ([]string, error) {
		if len(vs) > MaxReports {
			return nil, &FieldError{Field: field, Code: "too_long", Limit: MaxReports}
		}
		for _, v := range vs {
			if !valid(v) {
				return nil, fieldErr(field, "invalid")
			}
		}
		return vs, nil
	}
	if len(f.Numbers) > 0 {
		ns, err := list("number", f.Numbers, numberRe.MatchString)
		if err != nil {
			return "", nil, err
		}
		add("d.number = ANY(?)", pgdialect.Array(ns))
	}
	if len(f.Statuses) > 0 {
		ss, err := list("status", f.Statuses, statusRe.MatchString)
		if err != nil {
			return "", nil, err
		}
		add("d.status = ANY(?)", pgdialect.Array(ss))
	}
	if len(f.ExceptStatuses) > 0 {
		ss, err := list("status", f.ExceptStatuses, statusRe.MatchString)
		if err != nil {
			return "", nil, err
		}
		add("NOT (d.status = ANY(?))", pgdialect.Array(ss))
	}
	if f.DataKey != "" || len(f.DataValues) > 0 {
		if !dataKeyRe.MatchString(f.DataKey) || len(f.DataValues) == 0 {
			return "", nil, fieldErr("data", "invalid")
		}
		vs, err := list("data", f.DataValues, func(v string) bool {
			return v != "" && utf8.ValidString(v) && !strings.ContainsRune(v, 0) && utf8.RuneCountInString(v) <= maxDataValue
		})
		if err != nil {
			return "", nil, err
		}
		add("d.data->>? = ANY(?)", f.DataKey, pgdialect.Array(vs))
	}
	if !f.From.IsZero() {
		add("d.created_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		if !f.From.IsZero() && !f.To.After(f.From) {
			return "", nil, fieldErr("to", "invalid")
		}
		add("d.created_at < ?", f.To)
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return "", nil, err
		}
		add("(d.created_at, d.id) < (?, ?)", at, id)
	}
	return strings.Join(conds, " AND "), args, nil
}
