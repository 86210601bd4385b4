// Package analytics answers a town's analytics page: requests over time by
// service, channel and office, the weekday × hour of filings, waits and
// lengths of live consultations, resolution times, overdue requests, page
// ratings and registered citizens, over a period of calendar days.
//
// The figures come from running totals that triggers keep (migration
// 0018), so a town with a million dossiers reads a few thousand rows.
// RawFigures computes the very same figures from the raw rows; it is the
// reference the tests and the benchmark hold the totals to.
package analytics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/store"
)

// Zone is where the days of the figures begin and end, as for protocol
// numbers.
const Zone = "Europe/Rome"

// MaxDays is the longest period asked at once: ten years.
const MaxDays = 3660

// WeeklyAfter is the longest period drawn day by day; longer ones are
// drawn week by week (weeks from Monday).
const WeeklyAfter = 92

// Errors of ParsePeriod.
var (
	// ErrPeriodFormat: a date is not YYYY-MM-DD (HTTP 400).
	ErrPeriodFormat = errors.New("analytics: a date is not in the form YYYY-MM-DD")
	// ErrPeriodOrder: the period ends before it starts (HTTP 422).
	ErrPeriodOrder = errors.New("analytics: the period ends before it starts")
	// ErrPeriodLength: the period is longer than MaxDays (HTTP 422).
	ErrPeriodLength = errors.New("analytics: the period is too long")
)

var zone = mustZone(Zone)

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// Period is a span of whole days in Zone, From and To included. Now is
// the moment overdue requests are judged at.
type Period struct {
	From, To time.Time // midnight UTC of each date
	Now      time.Time
}

// Days is how many days the period has.
func (p Period) Days() int { return int(p.To.Sub(p.From).Hours()/24) + 1 }

// Weekly says whether the period is drawn week by week.
func (p Period) Weekly() bool { return p.Days() > WeeklyAfter }

// DefaultPeriod is the 90 days up to now's date in Zone.
func DefaultPeriod(now time.Time) Period {
	to := date(now.In(zone))
	return Period{From: to.AddDate(0, 0, -89), To: to, Now: now}
}

// ParsePeriod reads a period from its two dates ("2026-01-31"); an empty
// one takes DefaultPeriod's.
func ParsePeriod(from, to string, now time.Time) (Period, error) {
	p := DefaultPeriod(now)
	for _, f := range []struct {
		s   string
		dst *time.Time
	}{{from, &p.From}, {to, &p.To}} {
		if f.s == "" {
			continue
		}
		d, err := time.Parse(time.DateOnly, f.s)
		if err != nil {
			return Period{}, ErrPeriodFormat
		}
		*f.dst = d
	}
	switch {
	case p.To.Before(p.From):
		return Period{}, ErrPeriodOrder
	case p.Days() > MaxDays:
		return Period{}, ErrPeriodLength
	}
	return p, nil
}

func date(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Finals says whether status closes a dossier of service; services name
// their final statuses in their manifests, so the caller knows.
type Finals func(service, status string) bool

// Series is one line of a chart: a count per bucket of Figures.Buckets.
type Series struct {
	Key    string // service id, channel, office id ("0": none)
	Counts []int64
	Total  int64
}

// Resolution is the closings of a service in the period: N dossiers
// entered a final status, Secs after their creation in all.
type Resolution struct {
	Service string
	N, Secs int64
}

// Overdue is how many of a service's requests are past their due date
// and not closed.
type Overdue struct {
	Service string
	N       int64
}

// Desk is a live desk's consultations joined in the period: entries,
// those taken with their total wait, and the calls that ended with their
// total length.
type Desk struct {
	Desk                                      string
	Entries, Taken, WaitSecs, Calls, CallSecs int64
}

// PageRating is a page's ratings in the period: N ratings, Stars in all.
type PageRating struct {
	Path     string
	N, Stars int64
}

// Figures are everything the analytics page shows, for one period.
type Figures struct {
	Period Period
	// Buckets are the first days of the period's days or weeks; every
	// series has one count per bucket.
	Buckets                        []time.Time
	ByService, ByChannel, ByOffice []Series
	// Heat counts filings by weekday (0 is Monday) and hour.
	Heat        [7][24]int64
	Resolutions []Resolution
	Overdue     []Overdue
	Desks       []Desk
	Ratings     []PageRating
	// Citizens are the registrations per bucket; CitizensTotal all
	// registered up to the period's end.
	Citizens      Series
	CitizensTotal int64
}

// Store reads the figures of every town.
type Store struct {
	db *store.DB
}

// New returns the figures kept in db.
func New(db *store.DB) *Store { return &Store{db: db} }

// queries are the SQL of one way of computing the figures: from the
// totals or from the raw rows. Every one takes the tenant, the first and
// the last day ("YYYY-MM-DD"), and returns grouped rows.
type queries struct {
	// requests: bucket day, service, channel, office, count; or, with
	// byDim, bucket day, dimension, key, count.
	requests string
	byDim    bool
	// hours: isodow, hour, count.
	hours string
	// closings: service, status, count, seconds.
	closings string
	// overdue: service, status, count; takes the tenant, now, and the
	// UTC midnight before now.
	overdue []string
	// desks: desk, entries, taken, wait, calls, length.
	desks string
	// ratings: path, count, stars.
	ratings string
	// citizens: bucket day, count; citizensTotal: count up to the end
	// (tenant and last day only).
	citizens, citizensTotal string
}

// bucketSQL is the first day of day's bucket.
func bucketSQL(weekly bool, day string) string {
	if weekly {
		return "date_trunc('week', (" + day + ")::timestamp)::date"
	}
	return day
}

func totalsSQL(weekly bool) queries {
	b := bucketSQL(weekly, "day")
	return queries{
		requests: `SELECT ` + b + `, dim, key, sum(n) FROM analytics_requests
			WHERE tenant_id = ? AND day BETWEEN ?::date AND ?::date GROUP BY 1, 2, 3 HAVING sum(n) <> 0`,
		byDim: true,
		hours: `SELECT extract(isodow FROM day)::int, hour, sum(n) FROM analytics_hours
			WHERE tenant_id = ? AND day BETWEEN ?::date AND ?::date GROUP BY 1, 2`,
		closings: `SELECT service_id, status, sum(n), sum(secs) FROM analytics_transitions
			WHERE tenant_id = ? AND day BETWEEN ?::date AND ?::date GROUP BY 1, 2`,
		// Whole days before today from the totals, today's part from the
		// index of due dates.
		overdue: []string{
			`SELECT service_id, status, sum(n) FROM analytics_due
				WHERE tenant_id = ?0 AND due_day < (?2::timestamptz AT TIME ZONE 'UTC')::date GROUP BY 1, 2`,
			`SELECT service_id, status, count(*) FROM dossiers
				WHERE tenant_id = ?0 AND due_at >= ?2::timestamptz AND due_at < ?1::timestamptz AND status <> 'draft' GROUP BY 1, 2`,
		},
		desks: `SELECT desk, sum(entries), sum(taken), sum(wait_secs), sum(calls), sum(call_secs) FROM analytics_consultations
			WHERE tenant_id = ? AND day BETWEEN ?::date AND ?::date GROUP BY 1`,
		ratings: `SELECT path, sum(n), sum(stars) FROM analytics_ratings
			WHERE tenant_id = ? AND day BETWEEN ?::date AND ?::date GROUP BY 1`,
		citizens: `SELECT ` + b + `, sum(n) FROM analytics_citizens
			WHERE tenant_id = ? AND day BETWEEN ?::date AND ?::date GROUP BY 1`,
		citizensTotal: `SELECT coalesce(sum(n), 0) FROM analytics_citizens WHERE tenant_id = ? AND day <= ?::date`,
	}
}

// local is the day of timestamp column col in Zone; within is col in the
// period's days (taking the first and the last day as parameters).
func local(col string) string { return "(" + col + " AT TIME ZONE '" + Zone + "')::date" }

func within(col string) string {
	return col + " >= (?::date::timestamp AT TIME ZONE '" + Zone + "') AND " +
		col + " < ((?::date + 1)::timestamp AT TIME ZONE '" + Zone + "')"
}

func rawSQL(weekly bool) queries {
	return queries{
		requests: `SELECT ` + bucketSQL(weekly, local("submitted_at")) + `, service_id, channel, coalesce(office_id, 0), count(*)
			FROM dossiers WHERE tenant_id = ? AND status <> 'draft' AND ` + within("submitted_at") + ` GROUP BY 1, 2, 3, 4`,
		hours: `SELECT extract(isodow FROM submitted_at AT TIME ZONE '` + Zone + `')::int,
				extract(hour FROM submitted_at AT TIME ZONE '` + Zone + `')::int, count(*)
			FROM dossiers WHERE tenant_id = ? AND status <> 'draft' AND ` + within("submitted_at") + ` GROUP BY 1, 2`,
		// An event enters a status when the dossier's previous event
		// (by time, then id) had another one.
		closings: `SELECT d.service_id, e.status, count(*), coalesce(sum(floor(extract(epoch FROM e.at - d.created_at))), 0)::bigint
			FROM (SELECT tenant_id, dossier_id, at, status,
					lag(status) OVER (PARTITION BY dossier_id ORDER BY at, id) AS prev
				FROM dossier_events WHERE tenant_id = ?0) e
			JOIN dossiers d ON d.tenant_id = e.tenant_id AND d.id = e.dossier_id
			WHERE e.status <> 'draft' AND e.status IS DISTINCT FROM e.prev
				AND e.at >= (?1::date::timestamp AT TIME ZONE '` + Zone + `')
				AND e.at < ((?2::date + 1)::timestamp AT TIME ZONE '` + Zone + `')
			GROUP BY 1, 2`,
		overdue: []string{`SELECT service_id, status, count(*) FROM dossiers
			WHERE tenant_id = ?0 AND due_at < ?1::timestamptz AND status <> 'draft' GROUP BY 1, 2`},
		desks: `SELECT desk, count(*), count(*) FILTER (WHERE taken_at IS NOT NULL),
				coalesce(sum(floor(extract(epoch FROM taken_at - joined_at))) FILTER (WHERE taken_at IS NOT NULL), 0)::bigint,
				count(*) FILTER (WHERE taken_at IS NOT NULL AND ended_at IS NOT NULL),
				coalesce(sum(floor(extract(epoch FROM ended_at - taken_at))) FILTER (WHERE taken_at IS NOT NULL AND ended_at IS NOT NULL), 0)::bigint
			FROM consultation_entries WHERE tenant_id = ? AND ` + within("joined_at") + ` GROUP BY 1`,
		ratings: `SELECT path, count(*), sum(stars) FROM page_ratings
			WHERE tenant_id = ? AND ` + within("created_at") + ` GROUP BY 1`,
		citizens: `SELECT ` + bucketSQL(weekly, local("created_at")) + `, count(*) FROM citizens
			WHERE tenant_id = ? AND ` + within("created_at") + ` GROUP BY 1`,
		citizensTotal: `SELECT count(*) FROM citizens
			WHERE tenant_id = ? AND created_at < ((?::date + 1)::timestamp AT TIME ZONE '` + Zone + `')`,
	}
}

// Figures reads the period's figures of tenantID from the running totals.
func (s *Store) Figures(ctx context.Context, tenantID int64, p Period, finals Finals) (*Figures, error) {
	return s.compute(ctx, tenantID, p, finals, totalsSQL(p.Weekly()))
}

// RawFigures computes the same figures as Figures straight from the raw
// rows: slow on a large town, and exactly equal.
func (s *Store) RawFigures(ctx context.Context, tenantID int64, p Period, finals Finals) (*Figures, error) {
	return s.compute(ctx, tenantID, p, finals, rawSQL(p.Weekly()))
}

func (s *Store) compute(ctx context.Context, tenantID int64, p Period, finals Finals, q queries) (*Figures, error) {
	if p.To.Before(p.From) || p.Days() > MaxDays {
		return nil, ErrPeriodLength
	}
	f := &Figures{Period: p, Buckets: buckets(p)}
	index := make(map[time.Time]int, len(f.Buckets))
	for i, b := range f.Buckets {
		index[b] = i
	}
	from, to := p.From.Format(time.DateOnly), p.To.Format(time.DateOnly)
	now := p.Now.UTC()
	midnight := date(now)
	// The figures are read side by side, each in a tenant transaction of
	// its own: the page waits for the slowest query, not for their sum.
	// Each fills fields of f no other touches.
	each := func(what, query string, args []any, scan func(rs rowScanner) error) error {
		return s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
			rows, err := tx.QueryContext(ctx, query, args...)
			if err != nil {
				return fmt.Errorf("analytics %s: %w", what, err)
			}
			defer rows.Close()
			for rows.Next() {
				if err := scan(rows); err != nil {
					return fmt.Errorf("analytics %s: %w", what, err)
				}
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("analytics %s: %w", what, err)
			}
			return nil
		})
	}
	period := []any{tenantID, from, to}
	var blocks []func() error
	blocks = append(blocks, func() error {
		service, channel, office := newSeries(len(f.Buckets)), newSeries(len(f.Buckets)), newSeries(len(f.Buckets))
		dims := map[string]*seriesSet{"service": service, "channel": channel, "office": office}
		if err := each("requests", q.requests, period, func(rs rowScanner) error {
			if q.byDim {
				var day, dim, key string
				var n int64
				if err := rs.Scan(&day, &dim, &key, &n); err != nil {
					return err
				}
				i, ok := bucketOf(index, day)
				if !ok || dims[dim] == nil {
					return fmt.Errorf("day %s, dimension %q outside the figures", day, dim)
				}
				dims[dim].add(key, i, n)
				return nil
			}
			var day, svc, ch string
			var off, n int64
			if err := rs.Scan(&day, &svc, &ch, &off, &n); err != nil {
				return err
			}
			i, ok := bucketOf(index, day)
			if !ok {
				return fmt.Errorf("day %s outside the period", day)
			}
			service.add(svc, i, n)
			channel.add(ch, i, n)
			office.add(strconv.FormatInt(off, 10), i, n)
			return nil
		}); err != nil {
			return err
		}
		f.ByService, f.ByChannel, f.ByOffice = service.list(), channel.list(), office.list()

		return nil
	})
	blocks = append(blocks, func() error {
		if err := each("hours", q.hours, period, func(rs rowScanner) error {
			var dow, hour int
			var n int64
			if err := rs.Scan(&dow, &hour, &n); err != nil {
				return err
			}
			if dow < 1 || dow > 7 || hour < 0 || hour > 23 {
				return fmt.Errorf("weekday %d hour %d", dow, hour)
			}
			f.Heat[dow-1][hour] += n
			return nil
		}); err != nil {
			return err
		}

		return nil
	})
	blocks = append(blocks, func() error {
		closings := map[string]*Resolution{}
		if err := each("closings", q.closings, period, func(rs rowScanner) error {
			var svc, status string
			var n, secs int64
			if err := rs.Scan(&svc, &status, &n, &secs); err != nil {
				return err
			}
			if n == 0 || !finals(svc, status) {
				return nil
			}
			r := closings[svc]
			if r == nil {
				r = &Resolution{Service: svc}
				closings[svc] = r
			}
			r.N += n
			r.Secs += secs
			return nil
		}); err != nil {
			return err
		}
		for _, r := range closings {
			f.Resolutions = append(f.Resolutions, *r)
		}
		slices.SortFunc(f.Resolutions, func(a, b Resolution) int { return cmpStr(a.Service, b.Service) })

		return nil
	})
	blocks = append(blocks, func() error {
		overdue := map[string]int64{}
		for _, oq := range q.overdue {
			if err := each("overdue", oq, []any{tenantID, now, midnight}, func(rs rowScanner) error {
				var svc, status string
				var n int64
				if err := rs.Scan(&svc, &status, &n); err != nil {
					return err
				}
				if !finals(svc, status) {
					overdue[svc] += n
				}
				return nil
			}); err != nil {
				return err
			}
		}
		for svc, n := range overdue {
			if n != 0 {
				f.Overdue = append(f.Overdue, Overdue{Service: svc, N: n})
			}
		}
		slices.SortFunc(f.Overdue, func(a, b Overdue) int { return cmpStr(a.Service, b.Service) })

		return nil
	})
	blocks = append(blocks, func() error {
		if err := each("consultations", q.desks, period, func(rs rowScanner) error {
			var d Desk
			if err := rs.Scan(&d.Desk, &d.Entries, &d.Taken, &d.WaitSecs, &d.Calls, &d.CallSecs); err != nil {
				return err
			}
			if d.Entries != 0 {
				f.Desks = append(f.Desks, d)
			}
			return nil
		}); err != nil {
			return err
		}
		slices.SortFunc(f.Desks, func(a, b Desk) int { return cmpStr(a.Desk, b.Desk) })

		return nil
	})
	blocks = append(blocks, func() error {
		if err := each("ratings", q.ratings, period, func(rs rowScanner) error {
			var r PageRating
			if err := rs.Scan(&r.Path, &r.N, &r.Stars); err != nil {
				return err
			}
			if r.N != 0 {
				f.Ratings = append(f.Ratings, r)
			}
			return nil
		}); err != nil {
			return err
		}
		slices.SortFunc(f.Ratings, func(a, b PageRating) int { return cmpStr(a.Path, b.Path) })

		return nil
	})
	blocks = append(blocks, func() error {
		f.Citizens = Series{Key: "citizens", Counts: make([]int64, len(f.Buckets))}
		if err := each("citizens", q.citizens, period, func(rs rowScanner) error {
			var day string
			var n int64
			if err := rs.Scan(&day, &n); err != nil {
				return err
			}
			i, ok := bucketOf(index, day)
			if !ok {
				return fmt.Errorf("day %s outside the period", day)
			}
			f.Citizens.Counts[i] += n
			f.Citizens.Total += n
			return nil
		}); err != nil {
			return err
		}
		return nil
	})
	blocks = append(blocks, func() error {
		return s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
			if err := tx.QueryRowContext(ctx, q.citizensTotal, tenantID, to).Scan(&f.CitizensTotal); err != nil {
				return fmt.Errorf("analytics citizens: %w", err)
			}
			return nil
		})
	})
	errs := make([]error, len(blocks))
	var wg sync.WaitGroup
	for i, b := range blocks {
		wg.Go(func() { errs[i] = b() })
	}
	wg.Wait()
	err := errors.Join(errs...)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// bucketOf is the index of the bucket starting on day, as PostgreSQL
// writes a date.
func bucketOf(index map[time.Time]int, day string) (int, bool) {
	d, err := time.Parse(time.DateOnly, day[:min(len(day), 10)])
	if err != nil {
		return 0, false
	}
	i, ok := index[d]
	return i, ok
}

type rowScanner interface{ Scan(dest ...any) error }

// buckets are the first days of p's days or weeks (Mondays; the first
// week may begin before p does).
func buckets(p Period) []time.Time {
	start, step := p.From, 1
	if p.Weekly() {
		start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7))
		step = 7
	}
	var out []time.Time
	for d := start; !d.After(p.To); d = d.AddDate(0, 0, step) {
		out = append(out, d)
	}
	return out
}

// seriesSet gathers counts by key.
type seriesSet struct {
	n    int
	byID map[string]*Series
}

func newSeries(n int) *seriesSet { return &seriesSet{n: n, byID: map[string]*Series{}} }

func (s *seriesSet) add(key string, i int, n int64) {
	sr := s.byID[key]
	if sr == nil {
		sr = &Series{Key: key, Counts: make([]int64, s.n)}
		s.byID[key] = sr
	}
	sr.Counts[i] += n
	sr.Total += n
}

// list is the series with any count, the largest first.
func (s *seriesSet) list() []Series {
	var out []Series
	for _, sr := range s.byID {
		if sr.Total != 0 || slices.ContainsFunc(sr.Counts, func(c int64) bool { return c != 0 }) {
			out = append(out, *sr)
		}
	}
	slices.SortFunc(out, func(a, b Series) int {
		if a.Total != b.Total {
			if a.Total > b.Total {
				return -1
			}
			return 1
		}
		return cmpStr(a.Key, b.Key)
	})
	return out
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// OfficeNames are the tenant's offices' names in lang (else Italian, else
// the slug), by id as Series.Key has it.
func (s *Store) OfficeNames(ctx context.Context, tenantID int64, lang string) (map[string]string, error) {
	out := map[string]string{}
	err := s.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, coalesce(nullif(name->>?, ''), nullif(name->>'it', ''), slug)
			FROM offices WHERE tenant_id = ?`, lang, tenantID)
		if err != nil {
			return fmt.Errorf("analytics offices: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				return fmt.Errorf("analytics offices: %w", err)
			}
			out[strconv.FormatInt(id, 10)] = name
		}
		return rows.Err()
	})
	return out, err
}
