// Command backoffice measures the back office's two busiest lists on a
// large database: an operator's office queue (one office, one status,
// newest first) and a citizen's own requests. It loads 1,000,000 dossiers
// across 100 towns into a throwaway PostgreSQL, then times each list
// through core/dossier (the application role, row-level security, one
// tenant-scoped transaction per list) next to the plain indexed SQL query
// sent directly, in the same run. The last line is one JSON object.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/sportello/sportello/bench/fixture"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/store"
)

// The target: each list's p99 at most this, through core/dossier.
const targetP99ms = 50

type shape struct {
	tenants, offices, staff, citizens, dossiers int
}

// explain prints the lists' plans before measuring.
var explain bool

type stats struct {
	Runs   int     `json:"runs"`
	P50ms  float64 `json:"p50_ms"`
	P99ms  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
	MeanMS float64 `json:"mean_ms"`
	Rows   float64 `json:"rows_per_run"`
}

type pair struct {
	What     string  `json:"what"`
	Core     stats   `json:"core_dossier"`
	SQL      stats   `json:"plain_sql"`
	RatioP50 float64 `json:"ratio_p50"` // core / SQL
	RatioP99 float64 `json:"ratio_p99"`
}

func main() {
	runs := flag.Int("runs", 3000, "timed runs of each list")
	n := flag.Int("dossiers", 1_000_000, "dossiers to load")
	flag.BoolVar(&explain, "explain", false, "print the plans of both lists (as core/dossier sends them) to stderr")
	flag.Parse()
	sh := shape{tenants: 100, offices: 5, staff: 20, citizens: 2000, dossiers: *n}
	if err := run(sh, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench-backoffice:", err)
		os.Exit(1)
	}
}

func run(sh shape, runs int) error {
	ctx := context.Background()
	db, stop, err := fixture.Database(ctx)
	if err != nil {
		return err
	}
	defer stop()

	// The load's statements run longer than the store's 10 s read timeout.
	loader := &store.DB{DB: bun.NewDB(sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(db.OwnerURL),
		pgdriver.WithTimeout(time.Hour))), pgdialect.New())}
	defer loader.Close()
	t0 := time.Now()
	if err := load(ctx, loader, sh); err != nil {
		return err
	}
	loadS := time.Since(t0).Seconds()
	fmt.Fprintf(os.Stderr, "loaded %d dossiers across %d towns in %.1f s\n", sh.dossiers, sh.tenants, loadS)

	w, err := newWorld(ctx, db.Owner)
	if err != nil {
		return err
	}
	store := dossier.New(db.App, nil, time.Now)
	rng := rand.New(rand.NewPCG(1, 2))

	// The operator's queue: newest first, one page of 50.
	queue := func(ctx context.Context, pick int) (int, error) {
		t, o, st := w.queueArgs(pick)
		p, err := store.List(ctx, t, dossier.Filter{Office: o, Status: st, Limit: 50})
		if err != nil {
			return 0, err
		}
		return len(p.Dossiers), nil
	}
	queueSQL := func(ctx context.Context, pick int) (int, error) {
		t, o, st := w.queueArgs(pick)
		return count(ctx, db.Owner, `SELECT id, number, title, status, created_at FROM dossiers
			WHERE tenant_id = ? AND office_id = ? AND status = ? ORDER BY created_at DESC, id DESC LIMIT 51`, t, o, st)
	}
	// A citizen's "my requests": a page of 20.
	mine := func(ctx context.Context, pick int) (int, error) {
		t, c := w.citizenArgs(pick)
		p, err := store.ListForCitizen(ctx, t, c, dossier.Filter{Limit: 20})
		if err != nil {
			return 0, err
		}
		return len(p.Dossiers), nil
	}
	mineSQL := func(ctx context.Context, pick int) (int, error) {
		t, c := w.citizenArgs(pick)
		return count(ctx, db.Owner, `SELECT id, number, title, status, created_at FROM dossiers
			WHERE tenant_id = ? AND citizen_id = ? AND status <> 'draft' ORDER BY created_at DESC, id DESC LIMIT 21`, t, c)
	}

	if explain {
		t, o, st := w.queueArgs(0)
		tc, c := w.citizenArgs(0)
		for _, q := range []struct {
			tenant int64
			sql    string
			args   []any
		}{
			{t, "SELECT * FROM dossiers d LEFT JOIN offices o ON o.tenant_id = d.tenant_id AND o.id = d.office_id " +
				"LEFT JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.assignee_id " +
				"WHERE d.tenant_id = ? AND d.office_id = ? AND d.status = ? ORDER BY d.created_at DESC, d.id DESC LIMIT 51", []any{t, o, st}},
			{tc, "SELECT * FROM dossiers d WHERE d.tenant_id = ? AND d.citizen_id = ? AND d.status <> 'draft' " +
				"ORDER BY d.created_at DESC, d.id DESC LIMIT 21", []any{tc, c}},
		} {
			err := db.App.InTenant(ctx, q.tenant, func(ctx context.Context, tx bun.Tx) error {
				var plan []string
				if err := tx.NewRaw("EXPLAIN (ANALYZE, BUFFERS) "+q.sql, q.args...).Scan(ctx, &plan); err != nil {
					return err
				}
				fmt.Fprintln(os.Stderr, strings.Join(plan, "\n"))
				return nil
			})
			if err != nil {
				return err
			}
		}
	}

	var pairs []pair
	for _, m := range []struct {
		what      string
		core, sql func(context.Context, int) (int, error)
	}{
		{"operator office queue (office + status, 50 newest)", queue, queueSQL},
		{"citizen's own requests (20 newest, no drafts)", mine, mineSQL},
	} {
		core, plain, err := measure(ctx, rng, runs, m.core, m.sql)
		if err != nil {
			return fmt.Errorf("%s: %w", m.what, err)
		}
		pairs = append(pairs, pair{What: m.what, Core: core, SQL: plain,
			RatioP50: round(core.P50ms / plain.P50ms), RatioP99: round(core.P99ms / plain.P99ms)})
	}
	// What the difference is made of: a tenant-scoped transaction that
	// runs no query (BEGIN, set_config, COMMIT: three round trips).
	empty := func(ctx context.Context, pick int) (int, error) {
		return 0, db.App.InTenant(ctx, w.tenants[pick%len(w.tenants)], func(context.Context, bun.Tx) error { return nil })
	}
	nothing := func(context.Context, int) (int, error) { return 0, nil }
	overhead, _, err := measure(ctx, rng, runs, empty, nothing)
	if err != nil {
		return fmt.Errorf("empty transaction: %w", err)
	}
	meets := true
	for _, p := range pairs {
		meets = meets && p.Core.P99ms <= targetP99ms
	}
	out := map[string]any{
		"bench":        "backoffice",
		"cores":        runtime.NumCPU(),
		"dossiers":     sh.dossiers,
		"tenants":      sh.tenants,
		"load_s":       round(loadS),
		"operator":     pairs[0],
		"citizen":      pairs[1],
		"tenant_tx":    overhead,
		"target":       fmt.Sprintf("p99 <= %d ms for each list through core/dossier", targetP99ms),
		"meets_target": meets,
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	return nil
}

// load fills the database as the owner (no row-level security for a
// superuser), in a few INSERT … SELECT statements with every index and
// constraint the application has in place.
func load(ctx context.Context, owner *store.DB, sh shape) error {
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"towns", `INSERT INTO tenants (slug, name, languages)
			SELECT 'town-' || g, 'Town ' || g, '{it,de}' FROM generate_series(1, ?) g`, []any{sh.tenants}},
		{"offices", `INSERT INTO offices (tenant_id, slug, name)
			SELECT t.id, 'office-' || k, jsonb_build_object('it', 'Ufficio ' || k) FROM tenants t, generate_series(1, ?) k`, []any{sh.offices}},
		{"staff", `INSERT INTO users (tenant_id, email, name)
			SELECT t.id, 'op' || k || '@' || t.slug || '.example', 'Operator ' || k FROM tenants t, generate_series(1, ?) k`, []any{sh.staff}},
		{"citizens", `INSERT INTO citizens (tenant_id, issuer, subject, name, email)
			SELECT t.id, 'bench', 'c' || k, 'Citizen ' || k, 'c' || k || '@' || t.slug || '.example'
			FROM tenants t, generate_series(1, ?) k`, []any{sh.citizens}},
		// Dossier g belongs to town g % tenants and is that town's
		// (g / tenants + 1)th of the year, filed about every 50 minutes;
		// office, status, assignee, citizen and channel vary with it (the
		// status with seq % 10, the office with seq / 10: every office has
		// every status).
		{"dossiers", `WITH t AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM tenants),
			o AS (SELECT tenant_id, id, row_number() OVER (PARTITION BY tenant_id ORDER BY id) - 1 AS i FROM offices),
			u AS (SELECT tenant_id, id, row_number() OVER (PARTITION BY tenant_id ORDER BY id) - 1 AS i FROM users),
			c AS (SELECT tenant_id, id, name, row_number() OVER (PARTITION BY tenant_id ORDER BY id) - 1 AS i FROM citizens),
			g AS (SELECT g, g % ?0 AS ti, g / ?0 + 1 AS seq FROM generate_series(0, ?1 - 1) g),
			d AS (SELECT g.*, t.id AS tenant_id,
				(ARRAY['submitted','in_progress','in_progress','waiting','closed','closed','closed','closed','rejected','draft'])[1 + (g.seq * 7) % 10] AS status,
				(ARRAY['helpdesk','registry','taxes','cemetery','roombooking'])[1 + g.seq % 5] AS service,
				timestamptz '2026-01-01 08:00+01' + g.seq * interval '50 minutes' AS at
				FROM g JOIN t ON t.i = g.ti)
			INSERT INTO dossiers (tenant_id, number, service_id, citizen_id, status, title, data, channel, office_id, assignee_id,
				priority, applicant, submitted_at, created_at, updated_at)
			SELECT d.tenant_id, '2026-' || lpad(d.seq::text, 6, '0'), d.service,
				CASE WHEN d.seq % 10 < 9 THEN c.id END, d.status,
				'Richiesta ' || d.service || ' n. ' || d.seq, jsonb_build_object('seq', d.seq),
				CASE WHEN d.seq % 10 < 9 THEN 'web' WHEN d.seq % 2 = 0 THEN 'phone' ELSE 'counter' END,
				o.id, CASE WHEN d.status NOT IN ('submitted', 'draft') THEN u.id END,
				(ARRAY[1, 1, 1, 2, 0, 1, 3, 1])[1 + d.seq % 8],
				jsonb_build_object('name', c.name), CASE WHEN d.status <> 'draft' THEN d.at END, d.at, d.at
			FROM d
			JOIN o ON o.tenant_id = d.tenant_id AND o.i = (d.seq / 10) % ?2
			JOIN u ON u.tenant_id = d.tenant_id AND u.i = d.seq % ?3
			JOIN c ON c.tenant_id = d.tenant_id AND c.i = (d.seq * 13) % ?4`,
			[]any{sh.tenants, sh.dossiers, sh.offices, sh.staff, sh.citizens}},
		{"counters", `INSERT INTO dossier_counters (tenant_id, year, last)
			SELECT tenant_id, 2026, count(*) FROM dossiers GROUP BY tenant_id`, nil},
		{"statistics", `ANALYZE`, nil},
	}
	for _, s := range steps {
		t := time.Now()
		if _, err := owner.ExecContext(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("load %s: %w", s.what, err)
		}
		fmt.Fprintf(os.Stderr, "  %-10s %6.1f s\n", s.what, time.Since(t).Seconds())
	}
	return nil
}

// world is what the lists are asked about: towns, their offices and
// citizens, picked at random per run.
type world struct {
	tenants  []int64
	offices  map[int64][]int64
	citizens map[int64][]int64
	statuses []string
}

func newWorld(ctx context.Context, owner *store.DB) (*world, error) {
	w := &world{offices: map[int64][]int64{}, citizens: map[int64][]int64{},
		statuses: []string{"submitted", "in_progress", "waiting"}}
	if err := owner.NewRaw("SELECT id FROM tenants ORDER BY id").Scan(ctx, &w.tenants); err != nil {
		return nil, err
	}
	rows, err := owner.QueryContext(ctx, "SELECT tenant_id, id FROM offices")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var t, id int64
		if err := rows.Scan(&t, &id); err != nil {
			rows.Close()
			return nil, err
		}
		w.offices[t] = append(w.offices[t], id)
	}
	rows.Close()
	// A sample of citizens with dossiers, per town.
	rows, err = owner.QueryContext(ctx, `SELECT tenant_id, id FROM (
		SELECT tenant_id, id, row_number() OVER (PARTITION BY tenant_id ORDER BY id) AS i FROM citizens) c WHERE i <= 200`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t, id int64
		if err := rows.Scan(&t, &id); err != nil {
			return nil, err
		}
		w.citizens[t] = append(w.citizens[t], id)
	}
	return w, rows.Err()
}

// pick is a random number; both sides of a pair get the same one, so
// they answer the same question.
func (w *world) queueArgs(pick int) (tenant, office int64, status string) {
	tenant = w.tenants[pick%len(w.tenants)]
	offices := w.offices[tenant]
	return tenant, offices[(pick/7)%len(offices)], w.statuses[(pick/11)%len(w.statuses)]
}

func (w *world) citizenArgs(pick int) (tenant, citizen int64) {
	tenant = w.tenants[pick%len(w.tenants)]
	cs := w.citizens[tenant]
	return tenant, cs[(pick/7)%len(cs)]
}

func count(ctx context.Context, db *store.DB, q string, args ...any) (int, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// measure times runs of a and b, one caller, alternating (a then b on the
// same random question) so both see the same cache, after a warm-up.
func measure(ctx context.Context, rng *rand.Rand, runs int, a, b func(context.Context, int) (int, error)) (stats, stats, error) {
	var ta, tb []time.Duration
	var ra, rb int
	warm := runs / 10
	for i := range warm + runs {
		pick := rng.IntN(1 << 30)
		t := time.Now()
		na, err := a(ctx, pick)
		da := time.Since(t)
		if err != nil {
			return stats{}, stats{}, err
		}
		t = time.Now()
		nb, err := b(ctx, pick)
		db := time.Since(t)
		if err != nil {
			return stats{}, stats{}, err
		}
		if na != nb && na != nb-1 { // the SQL asks one more row, as List does
			return stats{}, stats{}, fmt.Errorf("core/dossier listed %d rows, plain SQL %d", na, nb)
		}
		if i >= warm {
			ta, tb = append(ta, da), append(tb, db)
			ra, rb = ra+na, rb+nb
		}
	}
	return summarize(ta, ra), summarize(tb, rb), nil
}

func summarize(ds []time.Duration, rows int) stats {
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	at := func(q float64) float64 { return ms(ds[min(len(ds)-1, int(q*float64(len(ds))))]) }
	return stats{Runs: len(ds), P50ms: at(0.50), P99ms: at(0.99), MaxMS: ms(ds[len(ds)-1]),
		MeanMS: round(ms(sum) / float64(len(ds))), Rows: round(float64(rows) / float64(len(ds)))}
}

func ms(d time.Duration) float64 { return round(float64(d.Nanoseconds()) / 1e6) }

func round(f float64) float64 {
	if f < 0 {
		return -round(-f)
	}
	return float64(int64(f*1000+0.5)) / 1000
}
