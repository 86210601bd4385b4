// Command helpdesk measures how fast a town's helpdesk takes reports
// through Open311: 64 concurrent keep-alive clients POST valid
// requests.json to a full server (the host assembled as `sportello serve`
// does, the helpdesk plugin as its own process, a throwaway PostgreSQL),
// closed loop, for a fixed time after a warm-up; then the same clients
// again, paced at the target rate. It checks in the database that every
// ticket answered is there exactly once, at the office the town's rules
// give it, and measures the raw single-row insert rate of the same
// PostgreSQL with as many connections, for the same time, as the
// reference. The last line is one JSON object; it exits non-zero
// when a request failed or the tickets in the database do not match.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sportello/sportello/bench/fixture"
	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/open311"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/core/server"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/tenancy"
)

// The targets of the path, on two cores.
const (
	targetTicketsPerS = 200
	targetP99ms       = 100
)

// town is the demo town whose helpdesk takes anonymous reports.
const town = "venezia"

// appConns is the application pool of `sportello serve`.
const appConns = 40

type pathResult struct {
	Tickets    int64    `json:"tickets"`
	Errors     int64    `json:"errors"`
	Seconds    float64  `json:"seconds"`
	TicketsPS  float64  `json:"tickets_per_s"`
	P50ms      float64  `json:"p50_ms"`
	P95ms      float64  `json:"p95_ms"`
	P99ms      float64  `json:"p99_ms"`
	MaxMS      float64  `json:"max_ms"`
	CPUPerCall cpuSplit `json:"cpu_us_per_ticket,omitzero"`
}

type refResult struct {
	Inserts   int64   `json:"inserts"`
	Errors    int64   `json:"errors"`
	Seconds   float64 `json:"seconds"`
	InsertsPS float64 `json:"inserts_per_s"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
}

// dbCheck compares the tickets answered with the helpdesk's dossiers.
type dbCheck struct {
	Answered      int `json:"answered"`
	InDatabase    int `json:"in_database"`
	Missing       int `json:"missing"`
	Unexpected    int `json:"unexpected"`
	DuplicateIDs  int `json:"duplicate_ids"`
	WrongOffice   int `json:"wrong_office"`
	WithoutOffice int `json:"without_office"`
}

func (c dbCheck) ok() bool {
	return c.Answered == c.InDatabase && c.Missing == 0 && c.Unexpected == 0 && c.DuplicateIDs == 0 &&
		c.WrongOffice == 0 && c.WithoutOffice == 0
}

type options struct {
	dur, warmup time.Duration
	clients     int
	rate        int
	profile     string
}

func main() {
	var o options
	flag.DurationVar(&o.dur, "d", 10*time.Second, "duration of each measurement")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up before each measurement")
	flag.IntVar(&o.clients, "c", 64, "concurrent clients, and connections of the reference")
	flag.IntVar(&o.rate, "rate", targetTicketsPerS, "reports per second of the paced measurement (0: none)")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the host process during the Open311 measurement to this file")
	flag.Parse()
	if o.clients < 1 || o.dur <= 0 || o.warmup < 0 || o.rate < 0 {
		fmt.Fprintln(os.Stderr, "bench-helpdesk: want at least one client and a positive duration")
		os.Exit(2)
	}
	ok, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-helpdesk:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(o options) (bool, error) {
	ctx := context.Background()
	root, err := fixture.RepoRoot()
	if err != nil {
		return false, err
	}
	dir, err := os.MkdirTemp("", "bench-helpdesk-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	if err := fixture.Build(root, "./plugins/helpdesk", filepath.Join(dir, "helpdesk")); err != nil {
		return false, err
	}

	db, stop, err := fixture.Database(ctx)
	if err != nil {
		return false, err
	}
	defer stop()
	app, err := store.Open(ctx, db.AppURL, appConns)
	if err != nil {
		return false, err
	}
	defer app.Close()

	m, err := tenancy.LoadManifest(filepath.Join(root, "tenants", town+".yaml"))
	if err != nil {
		return false, err
	}
	if err := takesAnonymousReports(m); err != nil {
		return false, err
	}
	applied, err := tenancy.Apply(ctx, app, authn.Argon2{}, m)
	if err != nil {
		return false, err
	}
	tenantID := applied.TenantID
	if _, err := catalog.New(app).Register(ctx, dir, "helpdesk"); err != nil {
		return false, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	sup, err := pluginhost.Launch(ctx, app, pluginhost.Options{Dir: dir, Log: log})
	if err != nil {
		return false, err
	}
	defer sup.Stop()
	st := sup.Status()
	if len(st) != 1 || st[0].Status != catalog.StatusRunning {
		return false, fmt.Errorf("the helpdesk plugin is not running: %+v", st)
	}
	pluginPID := st[0].PID
	srv, err := server.Assemble(ctx, app, server.Config{BaseDomain: "sportello.test", PaymentProvider: "local"}, log, sup)
	if err != nil {
		return false, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return false, err
	}
	sctx, cancel := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() { _ = srv.Serve(sctx, ln, 5*time.Second); close(served) }()
	defer func() { cancel(); <-served }()
	base := "http://" + ln.Addr().String() + "/t/" + town + "/open311/v2/"

	key, _, err := open311.NewKeys(app).Issue(ctx, tenantID, "bench")
	if err != nil {
		return false, err
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: o.clients, MaxIdleConnsPerHost: o.clients, MaxConnsPerHost: o.clients,
		IdleConnTimeout: time.Minute, DisableCompression: true}}
	defer client.CloseIdleConnections()
	if err := checkServices(client, base); err != nil {
		return false, err
	}
	postmaster, err := postmasterPID(ctx, db.Owner)
	if err != nil {
		return false, err
	}

	// Every ticket answered, with the office it should have reached:
	// the probe's, the warm-up's and the measurement's.
	answered := map[string]string{}
	var duplicates int
	keep := func(tickets []ticket) {
		for _, t := range tickets {
			if _, dup := answered[t.id]; dup {
				duplicates++
			}
			answered[t.id] = t.office
		}
	}
	gen := &reports{key: key, seed: uint64(time.Now().UnixNano())}
	probe, err := gen.post(client, base, rand.New(rand.NewPCG(gen.seed, 1<<32)), 0)
	if err != nil {
		return false, fmt.Errorf("the first report: %w", err)
	}
	keep([]ticket{probe})

	if o.warmup > 0 {
		w, wt := loadOpen311(client, base, gen, o.clients, o.warmup, 1)
		keep(wt)
		if w.Errors > 0 {
			fmt.Fprintf(os.Stderr, "helpdesk: %d errors during the warm-up\n", w.Errors)
		}
	}
	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			return false, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return false, err
		}
	}
	cpu0 := readCPU(pluginPID, postmaster)
	path, tickets := loadOpen311(client, base, gen, o.clients, o.dur, 2)
	path.CPUPerCall = readCPU(pluginPID, postmaster).since(cpu0, path.Tickets)
	pprof.StopCPUProfile()
	keep(tickets)
	fmt.Fprintf(os.Stderr, "helpdesk: %d tickets in %.2f s (%.0f/s), %d errors, p50 %.1f ms, p99 %.1f ms\n",
		path.Tickets, path.Seconds, path.TicketsPS, path.Errors, path.P50ms, path.P99ms)
	// Paced: reports sent at the target rate over the same clients,
	// timed from when each was due, so a wait for a free client counts.
	var paced *pathResult
	if o.rate > 0 {
		p, pt := loadPaced(client, base, gen, o.clients, o.rate, o.dur)
		keep(pt)
		paced = &p
		fmt.Fprintf(os.Stderr, "helpdesk paced at %d/s: %d tickets in %.2f s (%.0f/s), %d errors, p50 %.1f ms, p99 %.1f ms\n",
			o.rate, p.Tickets, p.Seconds, p.TicketsPS, p.Errors, p.P50ms, p.P99ms)
	}
	if st := sup.Status(); st[0].PID != pluginPID || st[0].Crashes != 0 {
		return false, fmt.Errorf("the helpdesk plugin restarted during the measurement: %+v", st[0])
	}

	check, err := verify(ctx, db.Owner, tenantID, answered)
	if err != nil {
		return false, err
	}
	check.DuplicateIDs += duplicates
	if !check.ok() {
		fmt.Fprintf(os.Stderr, "helpdesk: the database does not match the answers: %+v\n", check)
	}

	// The reference: the same PostgreSQL, as many connections, plain
	// single-row INSERTs in autocommit.
	owner, err := store.Open(ctx, db.OwnerURL, o.clients)
	if err != nil {
		return false, err
	}
	defer owner.Close()
	if _, err := owner.ExecContext(ctx, `CREATE TABLE bench_rows (id bigserial PRIMARY KEY, title text NOT NULL, data jsonb NOT NULL)`); err != nil {
		return false, err
	}
	var warmRows int64
	if o.warmup > 0 {
		warmRows = loadInserts(owner, o.clients, o.warmup).Inserts
	}
	cpu0 = readCPU(pluginPID, postmaster)
	ref := loadInserts(owner, o.clients, o.dur)
	refCPU := readCPU(pluginPID, postmaster).since(cpu0, ref.Inserts)
	fmt.Fprintf(os.Stderr, "reference: %d inserts in %.2f s (%.0f/s), %d errors\n", ref.Inserts, ref.Seconds, ref.InsertsPS, ref.Errors)
	var rows int64
	if err := owner.NewRaw("SELECT count(*) FROM bench_rows").Scan(ctx, &rows); err != nil {
		return false, err
	}

	ratio := 0.0
	if ref.InsertsPS > 0 {
		ratio = round(path.TicketsPS / ref.InsertsPS)
	}
	checks := map[string]bool{
		// Capacity: the closed loop, every client sending its next report
		// as soon as the last is answered.
		"tickets_per_s": path.TicketsPS >= targetTicketsPerS,
		// Latency at the target's rate: 200 reports a second offered over
		// the 64 clients, each timed from when it was due. The closed
		// loop's p99 is no measure of it: 64 clients always waiting make
		// the mean wait 64 ÷ throughput (Little's law), whatever the rate.
		"p99_at_target_rate": paced != nil && o.rate >= targetTicketsPerS && paced.TicketsPS >= 0.98*float64(o.rate) &&
			paced.P99ms <= targetP99ms,
		"no_errors":       path.Errors == 0 && (paced == nil || paced.Errors == 0),
		"count_matches":   check.ok(),
		"reference_clean": ref.Errors == 0 && rows == warmRows+ref.Inserts,
	}
	meets := true
	for _, ok := range checks {
		meets = meets && ok
	}
	out := map[string]any{
		"bench":   "helpdesk",
		"cores":   runtime.NumCPU(),
		"clients": o.clients,
		"path": "POST /t/" + town + "/open311/v2/requests.json → key check → report form → helpdesk plugin (report) → " +
			"Host API CreateDossier, Audit, Notify → PostgreSQL",
		"open311":           path,
		"open311_paced":     paced,
		"paced_rate":        o.rate,
		"database":          check,
		"reference":         ref,
		"reference_what":    "single-row INSERT (bigserial id, text, jsonb; one index), autocommit, as many connections",
		"ratio":             ratio,
		"cpu_us_per_insert": refCPU,
		"target": fmt.Sprintf("closed loop >= %d tickets/s; at %d tickets/s offered by the same clients p99 <= %d ms; no errors; "+
			"every ticket in the database once at its office", targetTicketsPerS, targetTicketsPerS, targetP99ms),
		"checks":       checks,
		"meets_target": meets,
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	return checks["no_errors"] && check.ok(), nil
}

// takesAnonymousReports checks the town's helpdesk lets an app without a
// signed-in citizen file, as Open311 does.
func takesAnonymousReports(m *tenancy.Manifest) error {
	for _, s := range m.Services {
		if s.ID == "helpdesk" {
			if anon, _ := s.Config["anonymous"].(bool); anon {
				return nil
			}
			return fmt.Errorf("%s's helpdesk does not take anonymous reports (anonymous: true in its config)", m.Slug)
		}
	}
	return fmt.Errorf("%s publishes no helpdesk", m.Slug)
}

// The reports: categories the town handles, and where they go under its
// rules (tenants/venezia.yaml): questions asked from Mestre go to the
// registry office there, everything else to the public relations office.
const (
	officeCentral = "urp"
	officeMestre  = "anagrafe-mestre"
)

var problems = []string{"street_lighting", "waste", "roads", "green_areas", "graffiti", "accessibility", "public_buildings"}

const question = "information"

// Inside the town's bounds (45.20–45.58 N, 12.15–12.62 E), and inside
// the Mestre area (45.470–45.515 N, 12.200–12.270 E), with a margin.
var (
	townBox   = box{45.22, 12.17, 45.56, 12.60}
	mestreBox = box{45.475, 12.205, 45.510, 12.265}
)

type box struct{ south, west, north, east float64 }

func (b box) point(rng *rand.Rand) (float64, float64) {
	return b.south + rng.Float64()*(b.north-b.south), b.west + rng.Float64()*(b.east-b.west)
}

// checkServices makes sure the town handles every category the reports use.
func checkServices(c *http.Client, base string) error {
	res, err := c.Get(base + "services.json")
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var list []struct {
		Code string `json:"service_code"`
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil || res.StatusCode != http.StatusOK {
		return fmt.Errorf("services.json: %d %v", res.StatusCode, err)
	}
	var codes []string
	for _, s := range list {
		codes = append(codes, s.Code)
	}
	for _, want := range append(slices.Clone(problems), question) {
		if !slices.Contains(codes, want) {
			return fmt.Errorf("%s does not handle %q through Open311 (it handles %v)", town, want, codes)
		}
	}
	return nil
}

// reports makes valid, varied reports.
type reports struct {
	key  string
	seed uint64
}

type ticket struct{ id, office string }

var (
	things  = []string{"Il lampione", "Il cestino", "La panchina", "Il marciapiede", "Il cartello", "La fontanella", "La ringhiera", "Il tombino"}
	places  = []string{"davanti al civico", "all'angolo con la calle", "vicino alla fermata", "accanto al ponte", "di fronte alla scuola", "in fondo alla fondamenta"}
	states  = []string{"è rotto", "è spento", "è pericoloso", "è stato danneggiato", "va sistemato", "è coperto di scritte"}
	since   = []string{"da ieri", "da una settimana", "da un mese", "da stamattina", "da qualche giorno"}
	asks    = []string{"Come si rinnova la carta d'identità?", "Come cambio la residenza?", "Dove si paga la tassa sui rifiuti?", "Quando apre l'ufficio anagrafe?", "Come chiedo una copia di un documento?"}
	streets = []string{"Calle Larga", "Campo San Luca", "Via Piave", "Corso del Popolo", "Riva degli Schiavoni", "Via Carducci"}
	names   = []string{"Anna", "Marco", "Giulia", "Luca", "Sara", "Paolo", "Elena", "Davide"}
	surnams = []string{"Verdi", "Rossi", "Zanon", "Favaro", "Bianchi", "Scarpa", "Vianello", "Tosi"}
)

func pick(rng *rand.Rand, list []string) string { return list[rng.IntN(len(list))] }

// form is report n of a client: one in eight a question from Mestre, the
// others problems anywhere in town.
func (g *reports) form(rng *rand.Rand, n int) (url.Values, string) {
	code, office := pick(rng, problems), officeCentral
	var lat, lon float64
	var description string
	if rng.IntN(8) == 0 {
		code, office = question, officeMestre
		lat, lon = mestreBox.point(rng)
		description = pick(rng, asks) + " Vorrei saperlo prima di venire (domanda " + strconv.Itoa(n) + ")."
	} else {
		lat, lon = townBox.point(rng)
		description = fmt.Sprintf("%s %s %d %s %s. Segnalazione numero %d.", pick(rng, things), pick(rng, places),
			1+rng.IntN(200), pick(rng, states), pick(rng, since), n)
	}
	first, last := pick(rng, names), pick(rng, surnams)
	return url.Values{"api_key": {g.key}, "jurisdiction_id": {town}, "service_code": {code},
		"lat": {strconv.FormatFloat(lat, 'f', 6, 64)}, "long": {strconv.FormatFloat(lon, 'f', 6, 64)},
		"address_string": {pick(rng, streets) + " " + strconv.Itoa(1+rng.IntN(300))}, "description": {description},
		"first_name": {first}, "last_name": {last},
		"email": {strings.ToLower(first+"."+last) + strconv.Itoa(n) + "@example.org"}}, office
}

// post files one report and returns its ticket.
func (g *reports) post(c *http.Client, base string, rng *rand.Rand, n int) (ticket, error) {
	form, office := g.form(rng, n)
	req, err := http.NewRequest(http.MethodPost, base+"requests.json", strings.NewReader(form.Encode()))
	if err != nil {
		return ticket{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.Do(req)
	if err != nil {
		return ticket{}, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return ticket{}, err
	}
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		return ticket{}, fmt.Errorf("status %d: %.300s", res.StatusCode, body)
	}
	var created []struct {
		ID string `json:"service_request_id"`
	}
	if err := json.Unmarshal(body, &created); err != nil || len(created) != 1 || created[0].ID == "" {
		return ticket{}, fmt.Errorf("status %d without a service_request_id: %.300s", res.StatusCode, body)
	}
	return ticket{id: created[0].ID, office: office}, nil
}

// loadOpen311 keeps clients goroutines filing reports for d, each filing
// the next when the previous is answered (closed loop).
func loadOpen311(c *http.Client, base string, g *reports, clients int, d time.Duration, pass uint64) (pathResult, []ticket) {
	var errs atomic.Int64
	var firstErr sync.Once
	lat := make([][]time.Duration, clients)
	got := make([][]ticket, clients)
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(g.seed, pass<<32|uint64(i)))
			for n := 0; time.Now().Before(deadline); n++ {
				t0 := time.Now()
				t, err := g.post(c, base, rng, int(pass)*10_000_000+i*100_000+n)
				lat[i] = append(lat[i], time.Since(t0))
				if err != nil {
					errs.Add(1)
					firstErr.Do(func() { fmt.Fprintln(os.Stderr, "helpdesk: a report failed:", err) })
					continue
				}
				got[i] = append(got[i], t)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	var all []ticket
	for _, t := range got {
		all = append(all, t...)
	}
	p := percentiles(lat)
	return pathResult{Tickets: int64(len(all)), Errors: errs.Load(), Seconds: round(elapsed),
		TicketsPS: round(float64(len(all)) / elapsed), P50ms: p(0.50), P95ms: p(0.95), P99ms: p(0.99), MaxMS: p(1)}, all
}

// loadPaced sends rate reports a second for d over clients goroutines
// (open loop): each report is due at its time, and its latency runs from
// then, so the wait for a free client counts (no coordinated omission).
func loadPaced(c *http.Client, base string, g *reports, clients, rate int, d time.Duration) (pathResult, []ticket) {
	var errs atomic.Int64
	var firstErr sync.Once
	lat := make([][]time.Duration, clients)
	got := make([][]ticket, clients)
	n := int(float64(rate) * d.Seconds())
	due := make(chan time.Time, n)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	go func() {
		for i := range n {
			at := start.Add(time.Duration(i) * interval)
			time.Sleep(time.Until(at))
			due <- at
		}
		close(due)
	}()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(g.seed, 3<<32|uint64(i)))
			k := 0
			for at := range due {
				t, err := g.post(c, base, rng, 30_000_000+i*100_000+k)
				k++
				lat[i] = append(lat[i], time.Since(at))
				if err != nil {
					errs.Add(1)
					firstErr.Do(func() { fmt.Fprintln(os.Stderr, "helpdesk: a paced report failed:", err) })
					continue
				}
				got[i] = append(got[i], t)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	var all []ticket
	for _, t := range got {
		all = append(all, t...)
	}
	p := percentiles(lat)
	return pathResult{Tickets: int64(len(all)), Errors: errs.Load(), Seconds: round(elapsed),
		TicketsPS: round(float64(len(all)) / elapsed), P50ms: p(0.50), P95ms: p(0.95), P99ms: p(0.99), MaxMS: p(1)}, all
}

// loadInserts keeps clients goroutines inserting one row each for d.
func loadInserts(db *store.DB, clients int, d time.Duration) refResult {
	var total, errs atomic.Int64
	var firstErr sync.Once
	lat := make([][]time.Duration, clients)
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for n := 0; time.Now().Before(deadline); n++ {
				title := fmt.Sprintf("%s %s %d %s", pick(rng, things), pick(rng, places), n, pick(rng, states))
				data := fmt.Sprintf(`{"category": %q, "kind": "problem", "title": %q, "description": %q, "lat": %.6f, "lon": %.6f, "address": %q, "contact_name": "Anna Verdi", "contact_email": "anna.verdi%d@example.org", "channel": "app", "lang": "it"}`,
					pick(rng, problems), title, title+" "+pick(rng, since)+".", 45.2+rng.Float64()/3, 12.2+rng.Float64()/3, pick(rng, streets), n)
				t0 := time.Now()
				_, err := db.ExecContext(ctx, "INSERT INTO bench_rows (title, data) VALUES (?, ?::jsonb)", title, data)
				lat[i] = append(lat[i], time.Since(t0))
				total.Add(1)
				if err != nil {
					errs.Add(1)
					firstErr.Do(func() { fmt.Fprintln(os.Stderr, "reference: an insert failed:", err) })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	ok := total.Load() - errs.Load()
	p := percentiles(lat)
	return refResult{Inserts: ok, Errors: errs.Load(), Seconds: round(elapsed), InsertsPS: round(float64(ok) / elapsed),
		P50ms: p(0.50), P99ms: p(0.99)}
}

func percentiles(lat [][]time.Duration) func(float64) float64 {
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	return func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return round(float64(all[int(p*float64(len(all)-1))].Nanoseconds()) / 1e6)
	}
}

// verify reads the town's helpdesk dossiers and compares them with the
// tickets answered: each once, each at its office.
func verify(ctx context.Context, owner *store.DB, tenantID int64, answered map[string]string) (dbCheck, error) {
	c := dbCheck{Answered: len(answered)}
	rows, err := owner.QueryContext(ctx, `SELECT d.number, coalesce(o.slug, '') FROM dossiers d
		LEFT JOIN offices o ON o.tenant_id = d.tenant_id AND o.id = d.office_id
		WHERE d.tenant_id = ? AND d.service_id = 'helpdesk'`, tenantID)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var number, office string
		if err := rows.Scan(&number, &office); err != nil {
			return c, err
		}
		c.InDatabase++
		if seen[number] {
			c.DuplicateIDs++
		}
		seen[number] = true
		want, ok := answered[number]
		switch {
		case !ok:
			c.Unexpected++
		case office == "":
			c.WithoutOffice++
		case office != want:
			c.WrongOffice++
		}
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	for number := range answered {
		if !seen[number] {
			c.Missing++
		}
	}
	return c, nil
}

// postmasterPID is the PostgreSQL server's main process: the parent of
// this connection's backend.
func postmasterPID(ctx context.Context, owner *store.DB) (int, error) {
	var backend int
	if err := owner.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &backend); err != nil {
		return 0, err
	}
	f, err := fixture.StatFields(backend)
	if err != nil {
		return 0, fmt.Errorf("the PostgreSQL backend's process: %w", err)
	}
	return strconv.Atoi(f[1])
}

// cpuTimes are clock ticks spent so far.
type cpuTimes struct{ host, plugin, postgres, machine int64 }

// cpuSplit is CPU time per ticket (or insert) in microseconds, by who
// spent it: this process (the host and the load generator), the plugin,
// PostgreSQL (the server and its backends) and the rest of the machine.
type cpuSplit struct {
	Host     float64 `json:"host_and_load"`
	Plugin   float64 `json:"plugin"`
	Postgres float64 `json:"postgres"`
	Other    float64 `json:"other"`
}

// readCPU reads the CPU time of this process, of the plugin, of the
// PostgreSQL server (its main process, its live children and those it has
// reaped) and of the whole machine (busy time, all cores) from /proc.
func readCPU(plugin, postmaster int) cpuTimes {
	t := cpuTimes{host: fixture.ProcessTicks(os.Getpid()), plugin: fixture.ProcessTicks(plugin), machine: fixture.MachineTicks()}
	t.postgres = fixture.PostgresTicks(postmaster)
	return t
}

// since splits the CPU time spent since t0 per call (ticks are 10 ms:
// rough figures). A backend that ended in between counts only if the
// server has reaped it.
func (t cpuTimes) since(t0 cpuTimes, calls int64) cpuSplit {
	if calls == 0 {
		return cpuSplit{}
	}
	per := func(ticks int64) float64 { return round(float64(ticks) * 1e4 / float64(calls)) }
	host, plugin, pg := t.host-t0.host, t.plugin-t0.plugin, t.postgres-t0.postgres
	return cpuSplit{Host: per(host), Plugin: per(plugin), Postgres: per(pg), Other: per(t.machine - t0.machine - host - plugin - pg)}
}

func round(f float64) float64 {
	if f < 0 {
		return -round(-f)
	}
	return float64(int64(f*1000+0.5)) / 1000
}
