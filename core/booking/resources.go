package booking

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

var (
	slugPattern     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
	langPattern     = regexp.MustCompile(`^[a-z]{2}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// Resource is something bookable, with its calendar settings.
type Resource struct {
	ID       int64
	Kind     Kind
	Slug     string
	Name     map[string]string // per language
	OfficeID int64             // 0: not tied to an office
	Capacity int               // seats per slot; 0 means 1
	// PriceCents is the price of one slot in Currency; 0 is free.
	PriceCents       int64
	Currency         string // ISO 4217; "" means EUR
	ApprovalRequired bool   // bookings wait as Pending for staff
	Disabled         bool   // takes no new bookings; existing ones stay
	Calendar         Calendar
}

// Calendar holds a resource's booking rules. Zero fields take the default
// named beside them.
type Calendar struct {
	TimeZone              string // IANA name; "Europe/Rome"
	SlotMinutes           int    // 30
	HorizonDays           int    // 60: the last bookable day is today + HorizonDays
	MinNoticeMinutes      int    // 0: a slot may be booked until it starts
	CancelDeadlineMinutes int    // 0: cancellable until the slot starts
	HoldMinutes           int    // 15: how long a draft keeps its slot
}

// Hours is one named opening-hour rule: on Weekdays from Opens to Closes
// ("08:30", "12:00"; "24:00" is midnight at the end of the day), on the
// days from ValidFrom to ValidTo (civil dates, either zero for no bound).
type Hours struct {
	Name               string
	Weekdays           []time.Weekday
	Opens, Closes      string
	ValidFrom, ValidTo time.Time
}

// Closure closes a resource, or with ResourceID 0 every resource of the
// tenant, from the civil day From to To, both included.
type Closure struct {
	ID         int64
	ResourceID int64
	From, To   time.Time
	Reason     string
}

func (r *Resource) normalize() error {
	switch r.Kind {
	case Desk, Room, Expert:
	default:
		return invalidf("kind %q: want desk, room or expert", r.Kind)
	}
	if !slugPattern.MatchString(r.Slug) {
		return invalidf("slug %q: 1-64 lower-case letters, digits and inner hyphens", r.Slug)
	}
	if len(r.Name) == 0 {
		return invalidf("resource %s: a name in at least one language", r.Slug)
	}
	for lang, n := range r.Name {
		if !langPattern.MatchString(lang) || n == "" || len(n) > 200 {
			return invalidf("resource %s: name[%q] must be 1-200 characters under a two-letter language code", r.Slug, lang)
		}
	}
	if r.Capacity == 0 {
		r.Capacity = 1
	}
	if r.Currency == "" {
		r.Currency = "EUR"
	}
	c := &r.Calendar
	if c.TimeZone == "" {
		c.TimeZone = "Europe/Rome"
	}
	if c.SlotMinutes == 0 {
		c.SlotMinutes = 30
	}
	if c.HorizonDays == 0 {
		c.HorizonDays = 60
	}
	if c.HoldMinutes == 0 {
		c.HoldMinutes = 15
	}
	for _, f := range []struct {
		name      string
		v, lo, hi int
	}{
		{"capacity", r.Capacity, 1, 1000},
		{"slot_minutes", c.SlotMinutes, 5, 1440},
		{"horizon_days", c.HorizonDays, 1, 730},
		{"min_notice_minutes", c.MinNoticeMinutes, 0, 43200},
		{"cancel_deadline_minutes", c.CancelDeadlineMinutes, 0, 43200},
		{"hold_minutes", c.HoldMinutes, 1, 1440},
	} {
		if f.v < f.lo || f.v > f.hi {
			return invalidf("resource %s: %s %d: want %d to %d", r.Slug, f.name, f.v, f.lo, f.hi)
		}
	}
	if r.PriceCents < 0 || r.OfficeID < 0 {
		return invalidf("resource %s: price and office must not be negative", r.Slug)
	}
	if !currencyPattern.MatchString(r.Currency) {
		return invalidf("resource %s: currency %q: an ISO 4217 code such as EUR", r.Slug, r.Currency)
	}
	return nil
}

// DefineResource creates the resource r.Slug, or updates it when the
// tenant has one by that slug, and returns it with its id. Bookings already
// made keep their period when the calendar changes.
func (e *Engine) DefineResource(ctx context.Context, tenantID int64, r Resource) (*Resource, error) {
	if err := r.normalize(); err != nil {
		return nil, err
	}
	if _, err := e.zone(r.Calendar.TimeZone); err != nil {
		return nil, invalidf("resource %s: %v", r.Slug, err)
	}
	name, _ := json.Marshal(r.Name)
	err := e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		c := r.Calendar
		err := tx.QueryRowContext(ctx, `INSERT INTO booking_resources (tenant_id, kind, slug, name, office_id, capacity,
				price_cents, currency, approval_required, active, timezone, slot_minutes, horizon_days,
				min_notice_minutes, cancel_deadline_minutes, hold_minutes)
			VALUES (?, ?, ?, ?, NULLIF(?, 0), ?, NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, slug) DO UPDATE SET kind = excluded.kind, name = excluded.name,
				office_id = excluded.office_id, capacity = excluded.capacity, price_cents = excluded.price_cents,
				currency = excluded.currency, approval_required = excluded.approval_required, active = excluded.active,
				timezone = excluded.timezone, slot_minutes = excluded.slot_minutes, horizon_days = excluded.horizon_days,
				min_notice_minutes = excluded.min_notice_minutes, cancel_deadline_minutes = excluded.cancel_deadline_minutes,
				hold_minutes = excluded.hold_minutes, updated_at = now()
			RETURNING id`,
			tenantID, string(r.Kind), r.Slug, string(name), r.OfficeID, r.Capacity, r.PriceCents, r.Currency,
			r.ApprovalRequired, !r.Disabled, c.TimeZone, c.SlotMinutes, c.HorizonDays, c.MinNoticeMinutes,
			c.CancelDeadlineMinutes, c.HoldMinutes).Scan(&r.ID)
		if sqlState(err) == "23503" {
			return invalidf("resource %s: office %d does not exist", r.Slug, r.OfficeID)
		}
		if err != nil {
			return fmt.Errorf("store resource %s: %w", r.Slug, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

const resourceCols = `id, kind, slug, name, coalesce(office_id, 0), capacity, coalesce(price_cents, 0), currency,
	approval_required, NOT active, timezone, slot_minutes, horizon_days, min_notice_minutes,
	cancel_deadline_minutes, hold_minutes`

func scanResource(row interface{ Scan(...any) error }) (*Resource, error) {
	var r Resource
	var name []byte
	c := &r.Calendar
	err := row.Scan(&r.ID, &r.Kind, &r.Slug, &name, &r.OfficeID, &r.Capacity, &r.PriceCents, &r.Currency,
		&r.ApprovalRequired, &r.Disabled, &c.TimeZone, &c.SlotMinutes, &c.HorizonDays, &c.MinNoticeMinutes,
		&c.CancelDeadlineMinutes, &c.HoldMinutes)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(name, &r.Name); err != nil {
		return nil, fmt.Errorf("resource %d name: %w", r.ID, err)
	}
	return &r, nil
}

// Resource returns one resource of the tenant.
func (e *Engine) Resource(ctx context.Context, tenantID, id int64) (*Resource, error) {
	var out *Resource
	err := e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = scanResource(tx.QueryRowContext(ctx, "SELECT "+resourceCols+" FROM booking_resources WHERE tenant_id = ? AND id = ?", tenantID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("resource %d: %w", id, ErrNotFound)
		}
		return err
	})
	return out, err
}

// Resources lists the tenant's resources by slug.
func (e *Engine) Resources(ctx context.Context, tenantID int64) ([]Resource, error) {
	var out []Resource
	err := e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, "SELECT "+resourceCols+" FROM booking_resources WHERE tenant_id = ? ORDER BY slug", tenantID)
		if err != nil {
			return fmt.Errorf("list resources: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanResource(rows)
			if err != nil {
				return err
			}
			out = append(out, *r)
		}
		return rows.Err()
	})
	return out, err
}

// isoWeekdays turns Go weekdays (Sunday 0) into ISO ones (Monday 1,
// Sunday 7), the form the table keeps.
func isoWeekdays(ws []time.Weekday) ([]int16, error) {
	if len(ws) == 0 {
		return nil, errors.New("no weekday")
	}
	var out []int16
	for _, w := range ws {
		if w < time.Sunday || w > time.Saturday {
			return nil, fmt.Errorf("weekday %d", w)
		}
		iso := int16(w)
		if w == time.Sunday {
			iso = 7
		}
		if !slices.Contains(out, iso) {
			out = append(out, iso)
		}
	}
	slices.Sort(out)
	return out, nil
}

func nullDate(d time.Time) any {
	if d.IsZero() {
		return nil
	}
	return d.Format(time.DateOnly)
}

// SetHours replaces the opening-hour rules of a resource with hours.
func (e *Engine) SetHours(ctx context.Context, tenantID, resourceID int64, hours []Hours) error {
	type row struct {
		name       string
		days       []int16
		opens, end clock
		from, to   any
	}
	rows := make([]row, 0, len(hours))
	for i, h := range hours {
		if h.Name == "" || len(h.Name) > 80 {
			return invalidf("hours[%d]: a name of 1-80 characters", i)
		}
		if slices.ContainsFunc(rows, func(r row) bool { return r.name == h.Name }) {
			return invalidf("hours[%d]: the name %q is used twice", i, h.Name)
		}
		days, err := isoWeekdays(h.Weekdays)
		if err != nil {
			return invalidf("hours %q: %v", h.Name, err)
		}
		opens, err := parseClock(h.Opens)
		if err != nil {
			return invalidf("hours %q opens: %v", h.Name, err)
		}
		closes, err := parseClock(h.Closes)
		if err != nil {
			return invalidf("hours %q closes: %v", h.Name, err)
		}
		if closes <= opens {
			return invalidf("hours %q: closes at %s, not after it opens at %s", h.Name, closes, opens)
		}
		if !h.ValidFrom.IsZero() && !h.ValidTo.IsZero() && day(h.ValidTo).Before(day(h.ValidFrom)) {
			return invalidf("hours %q: valid until %s, before it starts on %s", h.Name, h.ValidTo.Format(time.DateOnly), h.ValidFrom.Format(time.DateOnly))
		}
		rows = append(rows, row{h.Name, days, opens, closes, nullDate(h.ValidFrom), nullDate(h.ValidTo)})
	}
	return e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM booking_resources WHERE tenant_id = ? AND id = ? FOR UPDATE)",
			tenantID, resourceID).Scan(&exists); err != nil {
			return fmt.Errorf("find resource %d: %w", resourceID, err)
		}
		if !exists {
			return fmt.Errorf("resource %d: %w", resourceID, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM booking_hours WHERE tenant_id = ? AND resource_id = ?", tenantID, resourceID); err != nil {
			return fmt.Errorf("clear hours of resource %d: %w", resourceID, err)
		}
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, `INSERT INTO booking_hours (tenant_id, resource_id, name, weekdays, opens, closes, valid_from, valid_to)
				VALUES (?, ?, ?, ?, ?::time, ?::time, ?::date, ?::date)`,
				tenantID, resourceID, r.name, pgdialect.Array(r.days), r.opens.String(), r.end.String(), r.from, r.to); err != nil {
				return fmt.Errorf("store hours %q: %w", r.name, err)
			}
		}
		_, err := tx.ExecContext(ctx, "UPDATE booking_resources SET updated_at = now() WHERE tenant_id = ? AND id = ?", tenantID, resourceID)
		return err
	})
}

// Hours returns the opening-hour rules of a resource, by name.
func (e *Engine) Hours(ctx context.Context, tenantID, resourceID int64) ([]Hours, error) {
	var out []Hours
	err := e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		cal, err := e.loadCalendar(ctx, tx, tenantID, resourceID, time.Time{}, time.Time{}, nil)
		if err != nil {
			return err
		}
		out = cal.hours
		return nil
	})
	return out, err
}

// AddClosure records closing days and returns the closure with its id.
func (e *Engine) AddClosure(ctx context.Context, tenantID int64, c Closure) (*Closure, error) {
	if c.From.IsZero() || c.To.IsZero() {
		return nil, invalidf("a closure needs its first and last day")
	}
	c.From, c.To = day(c.From), day(c.To)
	if c.To.Before(c.From) {
		return nil, invalidf("closure ends on %s, before it starts on %s", c.To.Format(time.DateOnly), c.From.Format(time.DateOnly))
	}
	if c.To.Sub(c.From) > 366*24*time.Hour {
		return nil, invalidf("a closure spans at most a year")
	}
	if len(c.Reason) > 200 {
		return nil, invalidf("closure reason: at most 200 characters")
	}
	if c.ResourceID < 0 {
		return nil, invalidf("resource id must not be negative")
	}
	err := e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO booking_closures (tenant_id, resource_id, first_day, last_day, reason)
			VALUES (?, NULLIF(?, 0), ?::date, ?::date, ?) RETURNING id`,
			tenantID, c.ResourceID, c.From.Format(time.DateOnly), c.To.Format(time.DateOnly), c.Reason).Scan(&c.ID)
		if sqlState(err) == "23503" {
			return fmt.Errorf("resource %d: %w", c.ResourceID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store closure: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// RemoveClosure deletes a closure; the days become bookable again.
func (e *Engine) RemoveClosure(ctx context.Context, tenantID, id int64) error {
	return e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM booking_closures WHERE tenant_id = ? AND id = ?", tenantID, id)
		if err != nil {
			return fmt.Errorf("remove closure %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("closure %d: %w", id, ErrNotFound)
		}
		return nil
	})
}

// Closures lists the closures that touch the days from..to (civil dates,
// either zero for no bound) and apply to resourceID (0: the tenant-wide
// ones only).
func (e *Engine) Closures(ctx context.Context, tenantID, resourceID int64, from, to time.Time) ([]Closure, error) {
	var out []Closure
	err := e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, `SELECT id, coalesce(resource_id, 0), first_day::text, last_day::text, reason
			FROM booking_closures WHERE tenant_id = ? AND (resource_id IS NULL OR resource_id = ?)
			  AND (?::date IS NULL OR last_day >= ?::date) AND (?::date IS NULL OR first_day <= ?::date)
			ORDER BY first_day, id`, tenantID, resourceID, nullDate(from), nullDate(from), nullDate(to), nullDate(to))
		if err != nil {
			return fmt.Errorf("list closures: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c Closure
			var f, t string
			if err := rows.Scan(&c.ID, &c.ResourceID, &f, &t, &c.Reason); err != nil {
				return err
			}
			c.From, _ = time.Parse(time.DateOnly, f)
			c.To, _ = time.Parse(time.DateOnly, t)
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}
