package dossier

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// List limits.
const (
	DefaultLimit = 50
	MaxLimit     = 500
	maxQuery     = 100
)

var (
	// A protocol number, or a draft's provisional one.
	numberRe = regexp.MustCompile(`^([0-9]{4}-[0-9]{6,}|D-[0-9]+)$`)
	statusRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	// As catalog_plugins.id.
	serviceRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,39}$`)
)

// selectDossier reads every field of a dossier; list adds its WHERE and
// ORDER BY. The office's slug and the assignee's name come along, so a
// list page needs no second query.
const selectDossier = `SELECT d.tenant_id, d.id, d.number, d.service_id, d.title, d.status, d.channel, %s,
	coalesce(d.citizen_id, 0), d.applicant::text, coalesce(d.office_id, 0), coalesce(o.slug, ''),
	coalesce(d.assignee_id, 0), coalesce(u.name, ''), d.priority, d.due_at, coalesce(d.created_by, 0),
	d.submitted_at, d.created_at, d.updated_at, d.version
FROM dossiers d
LEFT JOIN offices o ON o.tenant_id = d.tenant_id AND o.id = d.office_id
LEFT JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.assignee_id
`

var (
	// selectFull reads the service's data too; lists leave it out (it
	// may be large, and no list shows it).
	selectFull = fmt.Sprintf(selectDossier, "d.data::text")
	selectList = fmt.Sprintf(selectDossier, "''")
)

type scanner interface{ Scan(dest ...any) error }

func scanDossier(row scanner) (*Dossier, error) {
	d := &Dossier{}
	var data, applicant string
	var rank int16
	var due, submitted sql.NullTime
	err := row.Scan(&d.TenantID, &d.ID, &d.Number, &d.ServiceID, &d.Title, &d.Status, &d.Channel, &data,
		&d.CitizenID, &applicant, &d.OfficeID, &d.OfficeSlug, &d.AssigneeID, &d.AssigneeName, &rank, &due, &d.CreatedBy,
		&submitted, &d.CreatedAt, &d.UpdatedAt, &d.Version)
	if err != nil {
		return nil, err
	}
	if data != "" {
		d.Data = json.RawMessage(data)
	}
	if err := json.Unmarshal([]byte(applicant), &d.Applicant); err != nil {
		return nil, fmt.Errorf("applicant of dossier %d: %w", d.ID, err)
	}
	d.Priority = priorityOf(rank)
	if due.Valid {
		d.DueAt = due.Time
	}
	if submitted.Valid {
		d.SubmittedAt = submitted.Time
	}
	return d, nil
}

// readOne reads one dossier matching where in tx, ErrNotFound if none.
func readOne(ctx context.Context, tx bun.Tx, what, where string, args ...any) (*Dossier, error) {
	d, err := scanDossier(tx.QueryRowContext(ctx, selectFull+"WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("dossier %s: %w", what, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read dossier %s: %w", what, err)
	}
	return d, nil
}

// Get reads dossier id, drafts included (staff's view).
func (s *Store) Get(ctx context.Context, tenantID, id int64) (*Dossier, error) {
	var d *Dossier
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		d, err = readOne(ctx, tx, strconv.FormatInt(id, 10), "d.tenant_id = ? AND d.id = ?", tenantID, id)
		return err
	})
	return d, err
}

// GetByNumber reads the dossier with protocol number (staff's view).
func (s *Store) GetByNumber(ctx context.Context, tenantID int64, number string) (*Dossier, error) {
	if !numberRe.MatchString(number) {
		return nil, fmt.Errorf("dossier %q: %w", number, ErrNotFound)
	}
	var d *Dossier
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		d, err = readOne(ctx, tx, number, "d.tenant_id = ? AND d.number = ?", tenantID, number)
		return err
	})
	return d, err
}

// GetForCitizen reads dossier id if it is citizenID's and no draft;
// otherwise ErrNotFound, whether it exists or not.
func (s *Store) GetForCitizen(ctx context.Context, tenantID, citizenID, id int64) (*Dossier, error) {
	if citizenID <= 0 {
		return nil, fmt.Errorf("dossier %d: %w", id, ErrNotFound)
	}
	var d *Dossier
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		d, err = readOne(ctx, tx, strconv.FormatInt(id, 10),
			"d.tenant_id = ? AND d.id = ? AND d.citizen_id = ? AND d.status <> 'draft'", tenantID, id, citizenID)
		return err
	})
	return d, err
}

// List is the back office's list: the dossiers of the tenant matching f,
// newest first, one page at a time. Data is left out of listed dossiers.
func (s *Store) List(ctx context.Context, tenantID int64, f Filter) (*Page, error) {
	return s.list(ctx, tenantID, f, false)
}

// ListForCitizen is a citizen's "my requests": their dossiers, drafts
// excluded, narrowed by f (whose Citizen field is ignored).
func (s *Store) ListForCitizen(ctx context.Context, tenantID, citizenID int64, f Filter) (*Page, error) {
	if citizenID <= 0 {
		return &Page{}, nil
	}
	f.Citizen = citizenID
	return s.list(ctx, tenantID, f, true)
}

func (s *Store) list(ctx context.Context, tenantID int64, f Filter, citizenView bool) (*Page, error) {
	where, args, err := f.where(tenantID)
	if err != nil {
		return nil, err
	}
	if citizenView {
		where += " AND d.status <> 'draft'"
	}
	return s.page(ctx, tenantID, "list dossiers", where, args, f.Limit)
}

// page runs the list query under where, newest first, one page of limit
// (0: DefaultLimit; at most MaxLimit) and the cursor of the next.
func (s *Store) page(ctx context.Context, tenantID int64, what, where string, args []any, limit int) (*Page, error) {
	switch {
	case limit < 0:
		return nil, fieldErr("limit", "invalid")
	case limit == 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	page := &Page{}
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		// One more than asked tells whether there is a next page.
		rows, err := tx.QueryContext(ctx, selectList+"WHERE "+where+" ORDER BY d.created_at DESC, d.id DESC LIMIT ?",
			append(args, limit+1)...)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDossier(rows)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			page.Dossiers = append(page.Dossiers, *d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if len(page.Dossiers) > limit {
		page.Dossiers = page.Dossiers[:limit]
		last := page.Dossiers[limit-1]
		page.Next = encodeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

// where is f as SQL over dossiers d, checked.
func (f Filter) where(tenantID int64) (string, []any, error) {
	conds := []string{"d.tenant_id = ?"}
	args := []any{tenantID}
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.Office < 0 || f.Assignee < 0 || f.Citizen < 0 {
		return "", nil, fieldErr("filter", "invalid")
	}
	if f.Office > 0 {
		add("d.office_id = ?", f.Office)
	}
	switch {
	case f.Unassigned && f.Assignee > 0:
		return "", nil, fieldErr("assignee", "invalid")
	case f.Unassigned:
		add("d.assignee_id IS NULL")
	case f.Assignee > 0:
		add("d.assignee_id = ?", f.Assignee)
	}
	if f.Citizen > 0 {
		add("d.citizen_id = ?", f.Citizen)
	}
	if n := strings.TrimSpace(f.Number); n != "" {
		if !numberRe.MatchString(n) {
			return "", nil, fieldErr("number", "invalid")
		}
		add("d.number = ?", n)
	}
	if f.Status != "" {
		if !statusRe.MatchString(f.Status) {
			return "", nil, fieldErr("status", "invalid")
		}
		add("d.status = ?", f.Status)
	}
	if f.Service != "" {
		if !serviceRe.MatchString(f.Service) {
			return "", nil, fieldErr("service", "invalid")
		}
		add("d.service_id = ?", f.Service)
	}
	if f.Channel != "" {
		if !validChannel(f.Channel) {
			return "", nil, fieldErr("channel", "invalid")
		}
		add("d.channel = ?", f.Channel)
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
	if q := strings.TrimSpace(f.Query); q != "" {
		if !utf8.ValidString(q) || strings.IndexByte(q, 0) >= 0 {
			return "", nil, fieldErr("query", "invalid")
		}
		if utf8.RuneCountInString(q) > maxQuery {
			return "", nil, &FieldError{Field: "query", Code: "too_long", Limit: maxQuery}
		}
		if numberRe.MatchString(q) {
			add("d.number = ?", q)
		} else {
			add("d.search ILIKE ?", "%"+likeEscape(q)+"%")
		}
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

// likeEscape makes v match itself in a LIKE pattern (backslash is the
// default escape character).
func likeEscape(v string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(v)
}

// A cursor is the (created_at, id) of a page's last dossier; opaque to
// callers, checked when it comes back.
func encodeCursor(at time.Time, id int64) string {
	raw := strconv.FormatInt(at.UnixMicro(), 10) + "." + strconv.FormatInt(id, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(c string) (time.Time, int64, error) {
	bad := fieldErr("cursor", "invalid")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, 0, bad
	}
	us, ids, ok := strings.Cut(string(raw), ".")
	if !ok {
		return time.Time{}, 0, bad
	}
	micro, err1 := strconv.ParseInt(us, 10, 64)
	id, err2 := strconv.ParseInt(ids, 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return time.Time{}, 0, bad
	}
	return time.UnixMicro(micro).UTC(), id, nil
}

func validChannel(c string) bool {
	for _, ch := range Channels() {
		if c == ch {
			return true
		}
	}
	return false
}
