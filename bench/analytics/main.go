// Command analytics measures a tenant admin's analytics page on a town with
// 1,000,000 dossiers filed over two years (with their history, live
// consultations, page ratings and registered citizens), among a few
// smaller towns. The data is loaded in bulk with the analytics triggers in
// place but off, then the totals are refreshed from the raw rows. The page is
// then fetched over HTTP through the real server, signed in as the town's
// admin, for the whole two years; next to it, in the same run, the same
// figures computed from the raw rows with plain SQL, which must equal the
// page's. The last line is one JSON object.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/sportello/sportello/bench/fixture"
	"github.com/sportello/sportello/core/analytics"
	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/server"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/tenancy"
)

// The target: the page's p95 over the whole two years at most this.
const targetP95ms = 300

// The two years the big town's dossiers are filed in, and the page's
// period.
const (
	first = "2024-12-01"
	last  = "2026-11-30"
)

func main() {
	n := flag.Int("dossiers", 1_000_000, "dossiers of the big town")
	runs := flag.Int("runs", 30, "timed page requests")
	flag.Parse()
	if err := run(*n, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench-analytics:", err)
		os.Exit(1)
	}
}

func run(n, runs int) error {
	ctx := context.Background()
	db, stop, err := fixture.Database(ctx)
	if err != nil {
		return err
	}
	defer stop()
	root, err := fixture.RepoRoot()
	if err != nil {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(root, "tenants", "*.yaml"))
	for _, f := range files {
		m, err := tenancy.LoadManifest(f)
		if err != nil {
			return err
		}
		if _, err := tenancy.Apply(ctx, db.App, authn.Argon2{}, m); err != nil {
			return err
		}
	}
	// The load's statements run longer than the store's 10 s read timeout.
	loader := &store.DB{DB: bun.NewDB(sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(db.OwnerURL),
		pgdriver.WithTimeout(time.Hour))), pgdialect.New())}
	defer loader.Close()
	var big int64
	if err := loader.NewRaw("SELECT id FROM tenants WHERE slug = 'lugano'").Scan(ctx, &big); err != nil {
		return err
	}
	t0 := time.Now()
	counts, err := load(ctx, loader, big, n)
	if err != nil {
		return err
	}
	loadS := time.Since(t0).Seconds()
	fmt.Fprintf(os.Stderr, "loaded in %.1f s: %v\n", loadS, counts)

	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	srv, err := server.Assemble(ctx, db.App, server.Config{BaseDomain: "localhost"}, log, nil)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = srv.App().Listener(ln) }()
	defer func() { _ = srv.App().Shutdown() }()
	base := "http://" + ln.Addr().String() + "/t/lugano"
	client, err := signIn(base, "admin@lugano.example", "demo-lugano")
	if err != nil {
		return err
	}
	page := base + "/admin/analytics?from=" + first + "&to=" + last + "&lang=it"

	// The page, warmed then timed, one request at a time.
	var size int
	for range 3 {
		if size, err = fetch(client, page); err != nil {
			return err
		}
	}
	var pageTimes []time.Duration
	for range runs {
		t := time.Now()
		if _, err := fetch(client, page); err != nil {
			return err
		}
		pageTimes = append(pageTimes, time.Since(t))
	}

	// The same figures from the totals (the page's query work alone) and
	// from the raw rows, which must agree.
	p, err := analytics.ParsePeriod(first, last, time.Now())
	if err != nil {
		return err
	}
	st := analytics.New(db.App)
	finals := func(_, status string) bool {
		return slices.Contains([]string{"completed", "rejected", "cancelled"}, status)
	}
	var totals, raw *analytics.Figures
	var totalTimes, rawTimes []time.Duration
	for i := range 5 + runs {
		t := time.Now()
		if totals, err = st.Figures(ctx, big, p, finals); err != nil {
			return err
		}
		if i >= 5 {
			totalTimes = append(totalTimes, time.Since(t))
		}
	}
	rawRuns := max(3, runs/10)
	// The raw reference runs as long as it takes, past the app pool's
	// 10 s read timeout.
	rawDB := loaderApp(db.AppURL)
	defer rawDB.Close()
	rawStore := analytics.New(rawDB)
	for i := range 1 + rawRuns {
		t := time.Now()
		if raw, err = rawStore.RawFigures(ctx, big, p, finals); err != nil {
			return err
		}
		if i >= 1 {
			rawTimes = append(rawTimes, time.Since(t))
		}
	}
	equal := reflect.DeepEqual(totals, raw)
	if !equal {
		return fmt.Errorf("the totals' figures differ from the raw rows'")
	}
	var filed int64
	for _, s := range totals.ByService {
		filed += s.Total
	}

	pg, tg, rg := summarize(pageTimes), summarize(totalTimes), summarize(rawTimes)
	out := map[string]any{
		"bench":                 "analytics",
		"cores":                 runtime.NumCPU(),
		"dossiers":              n,
		"rows":                  counts,
		"load_s":                round(loadS),
		"period":                first + ".." + last,
		"filed_in_period":       filed,
		"page_bytes":            size,
		"page_http":             pg,
		"figures_from_totals":   tg,
		"figures_from_raw_rows": rg,
		"ratio_raw_to_page_p50": round(rg.P50ms / pg.P50ms),
		"figures_equal":         equal,
		"target":                fmt.Sprintf("page p95 <= %d ms over %d dossiers", targetP95ms, n),
		"meets_target":          pg.P95ms <= targetP95ms,
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	return nil
}

// loaderApp is a pool of the application role without the read timeout.
func loaderApp(dsn string) *store.DB {
	return &store.DB{DB: bun.NewDB(sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn),
		pgdriver.WithTimeout(time.Hour))), pgdialect.New())}
}

// load fills the big town with n dossiers and the other towns with a
// twentieth each, as the owner, in a few INSERT … SELECT statements, with
// the analytics triggers off; the totals are then refreshed at once from
// the raw rows (analytics_rebuild), as after any bulk load.
func load(ctx context.Context, owner *store.DB, big int64, n int) (map[string]int64, error) {
	steps := []struct {
		what string
		sql  string
	}{
		{"triggers off", triggers("DISABLE")},
		{"citizens", `INSERT INTO citizens (tenant_id, issuer, subject, name, created_at)
			SELECT t.id, 'bench', 'c' || k, 'Citizen ' || k,
				timestamptz '` + first + ` 00:00+01' + (k::bigint * 7919 % 729) * interval '1 day' + (k % 86400) * interval '1 second'
			FROM tenants t, generate_series(1, CASE WHEN t.id = ?0 THEN 50000 ELSE 2500 END) k`},
		// Dossier k of a town is filed k/n of the way through the two
		// years, at an hour of the working day; service, channel and
		// office vary with k; most are closed, some days after filing.
		{"dossiers", `WITH o AS (SELECT tenant_id, array_agg(id ORDER BY id) AS ids FROM offices GROUP BY tenant_id),
			g AS (SELECT t.id AS tenant_id, k, CASE WHEN t.id = ?0 THEN ?1 ELSE ?1 / 20 END AS total
				FROM tenants t, generate_series(1, CASE WHEN t.id = ?0 THEN ?1 ELSE ?1 / 20 END) k),
			d AS (SELECT g.*, timestamptz '` + first + ` 00:00+01' + (k::float8 / total) * interval '729 days'
					+ ((k * 37) % 10) * interval '1 hour' + interval '8 hours' AS at FROM g)
			INSERT INTO dossiers (tenant_id, number, service_id, status, title, channel, office_id, due_at,
				submitted_at, created_at, updated_at)
			SELECT d.tenant_id, extract(year FROM d.at)::int || '-' || lpad(k::text, 7, '0'),
				(ARRAY['helpdesk', 'registry', 'taxes', 'cemetery', 'roombooking'])[1 + k % 5],
				CASE WHEN k % 10 < 7 THEN 'completed' WHEN k % 10 = 7 THEN 'rejected' WHEN k % 10 = 8 THEN 'in_progress' ELSE 'submitted' END,
				'Richiesta ' || k,
				(ARRAY['web', 'web', 'web', 'phone', 'counter', 'consultation'])[1 + k % 6],
				o.ids[1 + (k / 7) % cardinality(o.ids)],
				CASE WHEN k % 3 = 0 THEN d.at + interval '30 days' END,
				d.at, d.at, d.at
			FROM d LEFT JOIN o ON o.tenant_id = d.tenant_id`},
		{"opened events", `INSERT INTO dossier_events (tenant_id, dossier_id, at, actor, kind, status)
			SELECT tenant_id, id, created_at, 'bench', 'opened', 'submitted' FROM dossiers`},
		{"work events", `INSERT INTO dossier_events (tenant_id, dossier_id, at, actor, kind, status)
			SELECT tenant_id, id, created_at + (id % 11) * interval '5 hours', 'bench', 'status', 'in_progress'
			FROM dossiers WHERE status <> 'submitted'`},
		{"closing events", `INSERT INTO dossier_events (tenant_id, dossier_id, at, actor, kind, status)
			SELECT tenant_id, id, created_at + (id % 11) * interval '5 hours' + (1 + id % 23) * interval '1 day 37 minutes', 'bench', 'status', status
			FROM dossiers WHERE status IN ('completed', 'rejected')`},
		{"consultations", `INSERT INTO consultation_entries (tenant_id, desk, dossier_id, citizen_id, mode, status,
				queued_at, joined_at, taken_at, ended_at)
			SELECT d.tenant_id, (ARRAY['registry', 'taxes', 'helpdesk'])[1 + d.id % 3], d.id, c.id, 'video',
				CASE WHEN d.id % 7 = 0 THEN 'left' ELSE 'ended' END, d.created_at, d.created_at,
				CASE WHEN d.id % 7 <> 0 THEN d.created_at + (d.id % 900) * interval '1 second' END,
				d.created_at + (d.id % 900) * interval '1 second' + (d.id % 1200) * interval '1 second'
			FROM dossiers d
			JOIN LATERAL (SELECT id FROM citizens c WHERE c.tenant_id = d.tenant_id ORDER BY id LIMIT 1) c ON true
			WHERE d.channel = 'consultation' AND d.id % 5 = 0`},
		{"ratings", `INSERT INTO page_ratings (tenant_id, path, stars, answer, lang, created_at)
			SELECT t.id, (ARRAY['/', '/services/helpdesk', '/services/registry', '/faq', '/privacy'])[1 + k % 5], 1 + k % 5,
				CASE WHEN 1 + k % 5 >= 4 THEN 'clear' ELSE 'unclear' END, 'it',
				timestamptz '` + first + ` 00:00+01' + (k::bigint * 104729 % 729) * interval '1 day' + (k % 600) * interval '1 minute'
			FROM tenants t, generate_series(1, CASE WHEN t.id = ?0 THEN 30000 ELSE 1500 END) k`},
		{"triggers on", triggers("ENABLE")},
		{"refresh totals", `SELECT analytics_rebuild()`},
		{"statistics", `ANALYZE`},
	}
	for _, s := range steps {
		t := time.Now()
		if _, err := owner.ExecContext(ctx, s.sql, big, n); err != nil {
			return nil, fmt.Errorf("load %s: %w", s.what, err)
		}
		fmt.Fprintf(os.Stderr, "  %-15s %6.1f s\n", s.what, time.Since(t).Seconds())
	}
	counts := map[string]int64{}
	for _, table := range []string{"dossiers", "dossier_events", "consultation_entries", "page_ratings", "citizens",
		"analytics_requests", "analytics_transitions", "analytics_hours", "analytics_due"} {
		var c int64
		if err := owner.NewRaw("SELECT count(*) FROM "+table+" WHERE tenant_id = ?", big).Scan(ctx, &c); err != nil {
			return nil, err
		}
		counts[table] = c
	}
	return counts, nil
}

// triggers turns the analytics triggers off or on.
func triggers(verb string) string {
	return `DO $$ DECLARE r record; BEGIN
		FOR r IN SELECT tgrelid::regclass AS tab, tgname FROM pg_trigger WHERE tgname LIKE 'analytics\_%' LOOP
			EXECUTE format('ALTER TABLE %s ` + verb + ` TRIGGER %I', r.tab, r.tgname);
		END LOOP; END $$`
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// signIn logs staff in through the login form, as a browser does.
func signIn(base, email, password string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("no CSRF field on the login page (%d)", res.StatusCode)
	}
	res, err = c.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}, "_csrf": {string(m[1])}})
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("login: status %d", res.StatusCode)
	}
	return c, nil
}

func fetch(c *http.Client, u string) (int, error) {
	res, err := c.Get(u)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: status %d: %.300s", u, res.StatusCode, b)
	}
	return len(b), nil
}

type stats struct {
	Runs  int     `json:"runs"`
	P50ms float64 `json:"p50_ms"`
	P95ms float64 `json:"p95_ms"`
	MaxMS float64 `json:"max_ms"`
}

func summarize(ds []time.Duration) stats {
	slices.Sort(ds)
	at := func(q float64) float64 { return ms(ds[min(len(ds)-1, int(q*float64(len(ds))))]) }
	return stats{Runs: len(ds), P50ms: at(0.50), P95ms: at(0.95), MaxMS: ms(ds[len(ds)-1])}
}

func ms(d time.Duration) float64 { return round(float64(d.Nanoseconds()) / 1e6) }

func round(f float64) float64 {
	if f < 0 {
		return -round(-f)
	}
	return float64(int64(f*1000+0.5)) / 1000
}
