package booking

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// loaded is a resource's calendar as one transaction read it.
type loaded struct {
	calendar
	hours      []Hours
	officeID   int64
	priceCents int64
	currency   string
	// Filled when a slot was probed:
	taken []int64 // seats live bookings hold in the slot, as of the read
	stale bool    // an expired hold still sits in the slot
}

// probe asks loadCalendar to queue for one slot and look into it.
type probe struct {
	start   time.Time
	now     time.Time
	exclude int64 // a booking not to count (the one being moved)
}

// lockKey names one slot of one resource. Reservations of the same slot
// queue on it; without the queue two transactions inserting overlapping
// rows can each wait for the other and one dies of a deadlock instead of
// meeting the exclusion constraint cleanly.
func lockKey(tenantID, resourceID int64, start time.Time) string {
	return fmt.Sprintf("%d/%d/%d", tenantID, resourceID, start.Unix())
}

// calendarQuery reads a resource ($1 tenant, $2 id), its hours, and its
// closures touching the days $3..$4. probeQuery adds what Reserve needs of
// one slot starting at $7 at time $6, not counting booking $5: the seats
// taken, whether an expired hold is in the way; and it queues for the slot
// first (advisory lock on $8).
const (
	calendarQuery = `SELECT r.capacity, coalesce(r.price_cents, 0), r.currency, r.approval_required, r.active,
		coalesce(r.office_id, 0), r.timezone, r.slot_minutes, r.horizon_days, r.min_notice_minutes,
		r.cancel_deadline_minutes, r.hold_minutes,
		(SELECT coalesce(json_agg(json_build_object('n', h.name, 'w', h.weekdays, 'o', to_char(h.opens, 'HH24:MI'),
				'c', to_char(h.closes, 'HH24:MI'), 'f', h.valid_from, 't', h.valid_to) ORDER BY h.name), '[]')
			FROM booking_hours h WHERE h.tenant_id = r.tenant_id AND h.resource_id = r.id),
		(SELECT coalesce(json_agg(json_build_object('f', c.first_day, 't', c.last_day, 'r', c.reason)), '[]')
			FROM booking_closures c WHERE c.tenant_id = r.tenant_id AND (c.resource_id IS NULL OR c.resource_id = r.id)
			  AND c.last_day >= $3::date AND c.first_day <= $4::date)`
	calendarFrom = `
	FROM booking_resources r WHERE r.tenant_id = $1::bigint AND r.id = $2::bigint`
	probeSlot  = `tstzrange($7::timestamptz, $7::timestamptz + make_interval(mins => r.slot_minutes), '[)')`
	probeQuery = calendarQuery + `,
		(SELECT coalesce(array_agg(b.seat), '{}') FROM bookings b
			WHERE b.tenant_id = r.tenant_id AND b.resource_id = r.id AND b.id <> $5::bigint
			  AND b.status IN ('held', 'pending', 'confirmed') AND (b.status <> 'held' OR b.expires_at > $6::timestamptz)
			  AND b.period && ` + probeSlot + `),
		EXISTS (SELECT 1 FROM bookings b
			WHERE b.tenant_id = r.tenant_id AND b.resource_id = r.id AND b.status = 'held' AND b.expires_at <= $6::timestamptz
			  AND b.period && ` + probeSlot + `)
	FROM booking_resources r, LATERAL (SELECT pg_advisory_xact_lock(` + lockClass + `, hashtext($8::text))) AS queue
	WHERE r.tenant_id = $1::bigint AND r.id = $2::bigint`
	// lockClass namespaces the engine's advisory locks (two-key form),
	// apart from core/store's and core/hostapi's.
	lockClass = "7164010"
)

// loadCalendar reads a resource, its hours, and its closures touching the
// civil days from..to (none when both are zero), in one round trip. With a
// probe it first queues for the slot and reports the seats taken and
// whether an expired hold is in the way.
func (e *Engine) loadCalendar(ctx context.Context, tx bun.Tx, tenantID, resourceID int64, from, to time.Time, p *probe) (*loaded, error) {
	if resourceID <= 0 {
		return nil, invalidf("choose a resource")
	}
	// Closing days are civil dates in the resource's zone, which the query
	// does not know yet: a day's margin on each side covers every zone.
	lo, hi := "0001-01-01", "0001-01-01"
	if !from.IsZero() || !to.IsZero() {
		lo, hi = day(from).AddDate(0, 0, -1).Format(time.DateOnly), day(to).AddDate(0, 0, 1).Format(time.DateOnly)
	}
	var (
		l                            loaded
		tz                           string
		slot, notice, deadline, hold int
		hoursJSON, closuresJSON      []byte
		taken                        []int64
	)
	dest := []any{&l.capacity, &l.priceCents, &l.currency, &l.approval, &l.active, &l.officeID,
		&tz, &slot, &l.horizonDays, &notice, &deadline, &hold, &hoursJSON, &closuresJSON}
	var row *sql.Row
	if p == nil {
		row = tx.Tx.QueryRowContext(ctx, calendarQuery+calendarFrom, tenantID, resourceID, lo, hi)
	} else {
		stmt, err := e.statement(ctx, tx, probeQuery)
		if err != nil {
			return nil, err
		}
		row = stmt.QueryRowContext(ctx, tenantID, resourceID, lo, hi, p.exclude, p.now, p.start, lockKey(tenantID, resourceID, p.start))
		dest = append(dest, pgdialect.Array(&taken), &l.stale)
	}
	err := row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("resource %d: %w", resourceID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load resource %d: %w", resourceID, err)
	}
	l.taken = taken
	if l.loc, err = e.zone(tz); err != nil {
		return nil, fmt.Errorf("resource %d: %w", resourceID, err)
	}
	l.slot = time.Duration(slot) * time.Minute
	l.notice = time.Duration(notice) * time.Minute
	l.cancelDeadline = time.Duration(deadline) * time.Minute
	l.hold = time.Duration(hold) * time.Minute

	var hours []struct {
		Name     string  `json:"n"`
		Weekdays []int   `json:"w"`
		Opens    string  `json:"o"`
		Closes   string  `json:"c"`
		From     *string `json:"f"`
		To       *string `json:"t"`
	}
	if err := json.Unmarshal(hoursJSON, &hours); err != nil {
		return nil, fmt.Errorf("resource %d hours: %w", resourceID, err)
	}
	for _, h := range hours {
		var r rule
		var def Hours
		def.Name, def.Opens, def.Closes = h.Name, h.Opens, h.Closes
		for _, iso := range h.Weekdays {
			w := time.Weekday(iso % 7) // ISO Sunday 7 is Go's 0
			r.weekdays[w] = true
			def.Weekdays = append(def.Weekdays, w)
		}
		if r.opens, err = parseClock(h.Opens); err != nil {
			return nil, fmt.Errorf("resource %d hours %q: %w", resourceID, h.Name, err)
		}
		if r.closes, err = parseClock(h.Closes); err != nil {
			return nil, fmt.Errorf("resource %d hours %q: %w", resourceID, h.Name, err)
		}
		if h.From != nil {
			r.from, _ = time.Parse(time.DateOnly, *h.From)
			def.ValidFrom = r.from
		}
		if h.To != nil {
			r.to, _ = time.Parse(time.DateOnly, *h.To)
			def.ValidTo = r.to
		}
		l.rules = append(l.rules, r)
		l.hours = append(l.hours, def)
	}
	var closures []struct {
		From   string `json:"f"`
		To     string `json:"t"`
		Reason string `json:"r"`
	}
	if err := json.Unmarshal(closuresJSON, &closures); err != nil {
		return nil, fmt.Errorf("resource %d closures: %w", resourceID, err)
	}
	for _, c := range closures {
		f, err1 := time.Parse(time.DateOnly, c.From)
		t, err2 := time.Parse(time.DateOnly, c.To)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("resource %d closure %s..%s: bad date", resourceID, c.From, c.To)
		}
		l.closures = append(l.closures, closure{from: f, to: t, reason: c.Reason})
	}
	return &l, nil
}
