// Command mixed puts a day's kind of traffic on one `sportello serve`
// holding every Italian municipality (the set-up of bench/scale: the 7,904
// towns of bench/import/comuni-istat.csv, five services each): portal home
// pages and service pages read by visitors, rooms booked by signed-in
// citizens who compete for the same evenings (so the engine refuses some
// with 409), helpdesk reports filed through Open311, and operators reading
// their back office queue. Each request picks its town weighted by
// population, as real visitors would. Closed loop, for a fixed time after
// a warm-up; then, as the reference, a static fiber response of the same
// size as a home page under the same clients. Afterwards every booking
// and report answered must be in the database. The last line is one JSON
// object; it exits non-zero on any answer but the expected (200, 201, and
// 409 for a booking) or when the database does not match.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/sportello/sportello/bench/fixture"
	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/open311"
	"github.com/sportello/sportello/core/store/pgtest"
)

// The kinds of request and their share of the traffic.
const (
	kindHome     = "portal_home"
	kindService  = "service_page"
	kindBooking  = "room_booking"
	kindHelpdesk = "helpdesk_open311"
	kindBack     = "backoffice_queue"
)

var mix = []struct {
	kind   string
	weight int
}{
	{kindHome, 40},
	{kindService, 20},
	{kindBooking, 10},
	{kindHelpdesk, 10},
	{kindBack, 20},
}

// The booking contention: every booking asks for the council chamber on
// one of bookDays evenings at one of bookHours, so a large town's slots
// are soon taken and later attempts there are refused.
var bookHours = []string{"18:00", "19:00", "20:00"}

const bookDays = 5

type options struct {
	clients  int
	dur      time.Duration
	warmup   time.Duration
	staticD  time.Duration
	poolDraw int
	towns    int
}

type town struct {
	id         int64
	slug       string
	population int
	// Signed-in towns only: an operator's and a citizen's session
	// tokens, and an Open311 key.
	operator, citizen, key string
}

// picker draws towns weighted by population.
type picker struct {
	towns []*town
	cum   []float64
}

func newPicker(towns []*town) *picker {
	p := &picker{towns: towns, cum: make([]float64, len(towns))}
	total := 0.0
	for i, t := range towns {
		total += float64(max(t.population, 1))
		p.cum[i] = total
	}
	return p
}

func (p *picker) pick(rng *rand.Rand) *town {
	x := rng.Float64() * p.cum[len(p.cum)-1]
	return p.towns[sort.SearchFloat64s(p.cum, x)]
}

type kindResult struct {
	Requests int            `json:"requests"`
	Share    float64        `json:"share"`
	RPS      float64        `json:"rps"`
	P50ms    float64        `json:"p50_ms"`
	P99ms    float64        `json:"p99_ms"`
	MaxMS    float64        `json:"max_ms"`
	Status   map[string]int `json:"status"`
	Towns    int            `json:"towns"`
}

type runResult struct {
	Requests int                    `json:"requests"`
	Seconds  float64                `json:"seconds"`
	RPS      float64                `json:"rps"`
	P50ms    float64                `json:"p50_ms"`
	P99ms    float64                `json:"p99_ms"`
	Kinds    map[string]*kindResult `json:"kinds"`
	// Unexpected counts the answers that are errors: transport failures
	// and any status but 200 and 201 (409 too, except for a booking).
	Unexpected int            `json:"unexpected"`
	Status     map[string]int `json:"status"`
}

func main() {
	var o options
	flag.IntVar(&o.clients, "c", 32, "concurrent keep-alive clients")
	flag.DurationVar(&o.dur, "d", 60*time.Second, "duration of the measurement")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "warm-up before it (its answers are checked too)")
	flag.DurationVar(&o.staticD, "static-d", 10*time.Second, "duration of the static reference")
	flag.IntVar(&o.poolDraw, "signed-in-draws", 1000, "draws (by population, with replacement) of the towns whose citizens and operators sign in")
	flag.IntVar(&o.towns, "towns", 0, "onboard only the most populous N towns (0: all of them)")
	flag.StringVar(&fixture.RateLimit, "rate-limit", fixture.RateLimit, "SPORTELLO_RATE_LIMIT of the host (READS,WRITES a minute per client and town; 0 for none)")
	only := flag.String("only", "", "send only this kind of request (to see what one kind costs)")
	flag.Parse()
	if *only != "" {
		var kept []struct {
			kind   string
			weight int
		}
		for _, m := range mix {
			if m.kind == *only {
				kept = append(kept, m)
			}
		}
		if len(kept) == 0 {
			fmt.Fprintln(os.Stderr, "bench-mixed: -only: no such kind", *only)
			os.Exit(2)
		}
		mix = kept
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-mixed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	began := time.Now()
	bin, csvFile, list, err := fixture.Country()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-mixed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if o.towns > 0 && o.towns < len(list) {
		slices.SortStableFunc(list, func(a, b fixture.Town) int { return b.Population - a.Population })
		list = list[:o.towns]
		csvFile = filepath.Join(dir, "towns.csv")
		if err := fixture.WriteTowns(csvFile, list); err != nil {
			return err
		}
	}
	db, stop, err := fixture.Database(ctx)
	if err != nil {
		return err
	}
	defer stop()
	data := filepath.Join(dir, "data")
	t0 := time.Now()
	if err := fixture.Onboard(ctx, bin, db, data, csvFile); err != nil {
		return err
	}
	towns, err := loadTowns(ctx, db)
	if err != nil {
		return err
	}
	if len(towns) != len(list) {
		return fmt.Errorf("%d towns onboarded, want %d", len(towns), len(list))
	}
	everyone := newPicker(towns)
	signedIn, err := signIn(ctx, db, everyone, o.poolDraw)
	if err != nil {
		return err
	}
	setup := time.Since(t0)
	fmt.Fprintf(os.Stderr, "mixed: %d towns onboarded, %d of them with signed-in citizens and operators, in %.1f s\n",
		len(towns), len(signedIn.towns), setup.Seconds())

	host, err := fixture.StartHost(bin, db, data, filepath.Join(dir, "serve.log"))
	if err != nil {
		return err
	}
	defer func() { _ = host.Stop() }()
	if _, err := host.WaitFor("/t/"+towns[0].slug+"/", time.Minute); err != nil {
		return err
	}
	client := &fasthttp.HostClient{Addr: host.Addr, MaxConns: o.clients, ReadTimeout: 60 * time.Second}
	csrf, err := csrfToken(client, host.Addr, towns[0].slug)
	if err != nil {
		return err
	}
	g := &generator{addr: host.Addr, client: client, csrf: csrf, everyone: everyone, signedIn: signedIn,
		today: time.Now().In(rome)}

	warm := g.run(o.clients, o.warmup, 1)
	fmt.Fprintf(os.Stderr, "mixed: warm-up %d requests, %d unexpected\n", warm.Requests, warm.Unexpected)
	postmaster, err := postmasterPID(ctx, db)
	if err != nil {
		return err
	}
	cpu0 := readCPU(host, postmaster)
	res := g.run(o.clients, o.dur, 2)
	cpu := readCPU(host, postmaster).since(cpu0, res.Requests, res.Seconds)
	fmt.Fprintf(os.Stderr, "mixed: %d requests in %.1f s (%.0f/s), p50 %.1f ms, p99 %.1f ms, unexpected %d, statuses %v\n",
		res.Requests, res.Seconds, res.RPS, res.P50ms, res.P99ms, res.Unexpected, res.Status)
	fmt.Fprintf(os.Stderr, "mixed: CPU per request (ms): host %.2f, plugins %.2f, PostgreSQL %.2f, load generator %.2f, other work %.2f; machine busy %.0f %%\n",
		cpu.PerRequestMS.Host, cpu.PerRequestMS.Plugins, cpu.PerRequestMS.Postgres, cpu.PerRequestMS.Load, cpu.PerRequestMS.Other, cpu.MachineBusyPct)
	mem, _ := host.Memory()

	// Every booking confirmed and every report answered is in the
	// database, once.
	check, err := verify(ctx, db, warm, res)
	if err != nil {
		return err
	}

	// The reference: fiber answering a home page's bytes, the same
	// clients, the same load generator.
	page, err := get(client, host.Addr, "/t/"+towns[0].slug+"/")
	if err != nil {
		return err
	}
	ref, err := static(page, o.clients, o.staticD)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "mixed: static fiber %d requests in %.1f s (%.0f/s), p99 %.2f ms\n", ref.Requests, ref.Seconds, ref.RPS, ref.P99ms)

	ok := res.Unexpected == 0 && warm.Unexpected == 0 && check.OK
	weights := map[string]int{}
	for _, m := range mix {
		weights[m.kind] = m.weight
	}
	out := map[string]any{
		"bench":             "mixed",
		"cores":             runtime.NumCPU(),
		"clients":           o.clients,
		"rate_limit":        fixture.RateLimit,
		"towns":             len(towns),
		"signed_in_towns":   len(signedIn.towns),
		"services":          fixture.Services,
		"mix_percent":       weights,
		"setup_s":           round(setup.Seconds()),
		"warmup":            warm.summary(),
		"mixed":             res,
		"database":          check,
		"static_fiber":      ref,
		"static_page_bytes": len(page),
		"ratio_rps":         round3(res.RPS / ref.RPS),
		"memory_after_load": mem,
		"cpu":               cpu,
		"expected_statuses": "200 and 201; 409 too for a room booking (the slot was taken)",
		"ok":                ok,
		"run_s":             round(time.Since(began).Seconds()),
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	if !ok {
		return fmt.Errorf("%d unexpected answers (%d in the warm-up); database check %+v", res.Unexpected, warm.Unexpected, check)
	}
	return nil
}

var rome, _ = time.LoadLocation("Europe/Rome")

func loadTowns(ctx context.Context, db *pgtest.DB) ([]*town, error) {
	rows, err := db.Owner.QueryContext(ctx, "SELECT id, slug, coalesce(population, 0) FROM tenants WHERE istat_code IS NOT NULL ORDER BY population DESC NULLS LAST, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*town
	for rows.Next() {
		t := &town{}
		if err := rows.Scan(&t.id, &t.slug, &t.population); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// signIn draws the towns whose people sign in (the most populous come up
// many times, so they are there; smaller ones by chance) and makes for
// each a citizen's and its operator's sessions and an Open311 key, as
// the application: what a login and a key's issue store.
func signIn(ctx context.Context, db *pgtest.DB, everyone *picker, draws int) (*picker, error) {
	rng := rand.New(rand.NewPCG(7, 11))
	seen := map[int64]bool{}
	var pool []*town
	for range draws {
		t := everyone.pick(rng)
		if !seen[t.id] {
			seen[t.id] = true
			pool = append(pool, t)
		}
	}
	auth := authn.New(db.App, time.Now, authn.Options{})
	keys := open311.NewKeys(db.App)
	for _, t := range pool {
		var op, cit int64
		if err := db.Owner.QueryRowContext(ctx, "SELECT id FROM users WHERE tenant_id = ? AND email = ?", t.id, fixture.Operator(t.slug)).Scan(&op); err != nil {
			return nil, fmt.Errorf("operator of %s: %w", t.slug, err)
		}
		if err := db.Owner.QueryRowContext(ctx, `INSERT INTO citizens (tenant_id, issuer, subject, name, email, fiscal_code)
			VALUES (?, 'bench', 'mixed', 'Maria Rossi', ?, 'RSSMRA80A41H501Y') RETURNING id`, t.id, "maria.rossi@"+t.slug+".example").Scan(&cit); err != nil {
			return nil, fmt.Errorf("citizen of %s: %w", t.slug, err)
		}
		var err error
		if t.operator, _, err = auth.NewSession(ctx, t.id, authn.Subject{UserID: op}); err != nil {
			return nil, err
		}
		if t.citizen, _, err = auth.NewSession(ctx, t.id, authn.Subject{CitizenID: cit}); err != nil {
			return nil, err
		}
		if t.key, _, err = keys.Issue(ctx, t.id, "bench"); err != nil {
			return nil, err
		}
	}
	return newPicker(pool), nil
}

// csrfToken is a visitor's CSRF cookie, from a page with a form; it is
// not bound to a town nor a session, so every client uses it everywhere.
func csrfToken(c *fasthttp.HostClient, addr, slug string) (string, error) {
	req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI("http://" + addr + "/t/" + slug + "/login")
	if err := c.Do(req, res); err != nil {
		return "", err
	}
	var tok string
	res.Header.VisitAllCookie(func(k, v []byte) {
		ck := fasthttp.AcquireCookie()
		defer fasthttp.ReleaseCookie(ck)
		if ck.ParseBytes(v) == nil && string(ck.Key()) == "sportello_csrf" {
			tok = string(ck.Value())
		}
	})
	if tok == "" {
		return "", fmt.Errorf("no CSRF cookie from the login page (status %d)", res.StatusCode())
	}
	return tok, nil
}

type generator struct {
	addr     string
	client   *fasthttp.HostClient
	csrf     string
	everyone *picker
	signedIn *picker
	today    time.Time
}

type sample struct {
	kind   string
	status int // 0: transport error
	took   time.Duration
	town   int64
}

// run keeps clients busy for d, each sending its next request when the
// last is answered.
func (g *generator) run(clients int, d time.Duration, pass uint64) runResult {
	var wg sync.WaitGroup
	samples := make([][]sample, clients)
	start := time.Now()
	deadline := start.Add(d)
	total := 0
	for _, m := range mix {
		total += m.weight
	}
	for i := range clients {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), pass<<32|uint64(i)))
			req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(res)
			for n := 0; time.Now().Before(deadline); n++ {
				x, kind := rng.IntN(total), ""
				for _, m := range mix {
					if x < m.weight {
						kind = m.kind
						break
					}
					x -= m.weight
				}
				req.Reset()
				res.Reset()
				t := g.prepare(req, kind, rng, n)
				t0 := time.Now()
				err := g.client.Do(req, res)
				s := sample{kind: kind, took: time.Since(t0), town: t.id}
				if err == nil {
					s.status = res.StatusCode()
				}
				if !expected(kind, s.status) {
					fmt.Fprintf(os.Stderr, "mixed: %s %s: status %d %v %.300s\n", kind, req.URI().Path(), s.status, err, res.Body())
				}
				samples[i] = append(samples[i], s)
			}
		}(i)
	}
	wg.Wait()
	return summarize(samples, time.Since(start))
}

var services = []string{"helpdesk", "roombooking", "cemetery", "scrutineer", "recordsaccess"}

// prepare fills req with the next request of kind and returns its town.
func (g *generator) prepare(req *fasthttp.Request, kind string, rng *rand.Rand, n int) *town {
	req.Header.Set("Accept-Language", "it-IT,it;q=0.9")
	var t *town
	switch kind {
	case kindHome:
		t = g.everyone.pick(rng)
		req.SetRequestURI("http://" + g.addr + "/t/" + t.slug + "/")
	case kindService:
		t = g.everyone.pick(rng)
		req.SetRequestURI("http://" + g.addr + "/t/" + t.slug + "/services/" + services[rng.IntN(len(services))])
	case kindBack:
		t = g.signedIn.pick(rng)
		req.SetRequestURI("http://" + g.addr + "/t/" + t.slug + "/backoffice")
		req.Header.Set("Cookie", "sportello_session="+t.operator)
	case kindBooking:
		t = g.signedIn.pick(rng)
		day := g.today.AddDate(0, 0, 7+rng.IntN(bookDays))
		form := url.Values{"room": {"Sala consiliare"}, "date": {day.Format(time.DateOnly)},
			"start": {bookHours[rng.IntN(len(bookHours))]}, "slots": {"1"}, "attendees": {strconv.Itoa(10 + rng.IntN(60))},
			"purpose": {"Assemblea dell'associazione di quartiere n. " + strconv.Itoa(n)}, "consent": {"on"}, "_csrf": {g.csrf}}
		g.post(req, "/t/"+t.slug+"/services/roombooking/book", form)
		req.Header.Set("Cookie", "sportello_session="+t.citizen+"; sportello_csrf="+g.csrf)
	case kindHelpdesk:
		t = g.signedIn.pick(rng)
		code := []string{"roads", "street_lighting", "waste", "green_areas", "graffiti", "information", "other"}[rng.IntN(7)]
		form := url.Values{"api_key": {t.key}, "jurisdiction_id": {t.slug}, "service_code": {code},
			"lat": {strconv.FormatFloat(41.0+rng.Float64()*4, 'f', 6, 64)}, "long": {strconv.FormatFloat(9.0+rng.Float64()*6, 'f', 6, 64)},
			"address_string": {"Via Roma " + strconv.Itoa(1+rng.IntN(200))},
			"description":    {"Il lampione davanti al civico " + strconv.Itoa(1+rng.IntN(200)) + " è spento da una settimana (segnalazione " + strconv.Itoa(n) + ")."},
			"first_name":     {"Anna"}, "last_name": {"Verdi"}, "email": {"anna.verdi" + strconv.Itoa(n) + "@example.org"}}
		g.post(req, "/t/"+t.slug+"/open311/v2/requests.json", form)
	}
	return t
}

func (g *generator) post(req *fasthttp.Request, path string, form url.Values) {
	req.SetRequestURI("http://" + g.addr + path)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/x-www-form-urlencoded")
	req.SetBodyString(form.Encode())
}

func expected(kind string, status int) bool {
	switch status {
	case fasthttp.StatusOK, fasthttp.StatusCreated:
		return true
	case fasthttp.StatusConflict:
		return kind == kindBooking
	}
	return false
}

func summarize(samples [][]sample, took time.Duration) runResult {
	r := runResult{Seconds: round(took.Seconds()), Kinds: map[string]*kindResult{}, Status: map[string]int{}}
	var all []time.Duration
	lat := map[string][]time.Duration{}
	towns := map[string]map[int64]bool{}
	for _, ss := range samples {
		for _, s := range ss {
			all = append(all, s.took)
			lat[s.kind] = append(lat[s.kind], s.took)
			k := r.Kinds[s.kind]
			if k == nil {
				k = &kindResult{Status: map[string]int{}}
				r.Kinds[s.kind] = k
				towns[s.kind] = map[int64]bool{}
			}
			towns[s.kind][s.town] = true
			status := strconv.Itoa(s.status)
			if s.status == 0 {
				status = "transport_error"
			}
			k.Status[status]++
			r.Status[status]++
			if !expected(s.kind, s.status) {
				r.Unexpected++
			}
		}
	}
	r.Requests = len(all)
	if r.Requests == 0 {
		return r
	}
	r.RPS = round(float64(r.Requests) / took.Seconds())
	r.P50ms, r.P99ms = pct(all, 0.50), pct(all, 0.99)
	for kind, k := range r.Kinds {
		l := lat[kind]
		k.Requests = len(l)
		k.Share = round3(float64(len(l)) / float64(r.Requests))
		k.RPS = round(float64(len(l)) / took.Seconds())
		k.P50ms, k.P99ms = pct(l, 0.50), pct(l, 0.99)
		k.MaxMS = pct(l, 1)
		k.Towns = len(towns[kind])
	}
	return r
}

// summary is the warm-up's counts alone.
func (r runResult) summary() map[string]any {
	return map[string]any{"requests": r.Requests, "seconds": r.Seconds, "unexpected": r.Unexpected, "status": r.Status}
}

func pct(ds []time.Duration, q float64) float64 {
	slices.Sort(ds)
	i := int(math.Ceil(q*float64(len(ds)))) - 1
	return round3(float64(ds[min(max(i, 0), len(ds)-1)].Nanoseconds()) / 1e6)
}

// dbCheck compares the answers with the database.
type dbCheck struct {
	BookingsConfirmed int  `json:"bookings_answered_200"`
	BookingsInDB      int  `json:"bookings_in_database"`
	BookingsRefused   int  `json:"bookings_answered_409"`
	DoubleBooked      int  `json:"slots_booked_twice"`
	ReportsAnswered   int  `json:"reports_answered"`
	ReportsInDB       int  `json:"reports_in_database"`
	OK                bool `json:"ok"`
}

func verify(ctx context.Context, db *pgtest.DB, runs ...runResult) (dbCheck, error) {
	var c dbCheck
	for _, r := range runs {
		if k := r.Kinds[kindBooking]; k != nil {
			c.BookingsConfirmed += k.Status["200"]
			c.BookingsRefused += k.Status["409"]
		}
		if k := r.Kinds[kindHelpdesk]; k != nil {
			c.ReportsAnswered += k.Status["200"] + k.Status["201"]
		}
	}
	err := db.Owner.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM bookings WHERE service_id = 'roombooking' AND status = 'confirmed'),
			(SELECT count(*) FROM (SELECT 1 FROM bookings WHERE service_id = 'roombooking' AND status = 'confirmed'
				GROUP BY tenant_id, resource_id, seat, period HAVING count(*) > 1) AS twice),
			(SELECT count(*) FROM dossiers WHERE service_id = 'helpdesk')`).
		Scan(&c.BookingsInDB, &c.DoubleBooked, &c.ReportsInDB)
	if err != nil {
		return c, fmt.Errorf("check the database: %w", err)
	}
	c.OK = c.BookingsInDB == c.BookingsConfirmed && c.DoubleBooked == 0 && c.ReportsInDB == c.ReportsAnswered
	return c, nil
}

func get(c *fasthttp.HostClient, addr, path string) ([]byte, error) {
	req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI("http://" + addr + path)
	req.Header.Set("Accept-Language", "it-IT,it;q=0.9")
	if err := c.Do(req, res); err != nil {
		return nil, err
	}
	if res.StatusCode() != fasthttp.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", path, res.StatusCode())
	}
	return slices.Clone(res.Body()), nil
}

type staticResult struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
}

// static serves page from a bare fiber app and loads it as the mixed run
// was loaded: the same clients, closed loop, the same generator.
func static(page []byte, clients int, d time.Duration) (staticResult, error) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/*", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(page)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return staticResult{}, err
	}
	go func() { _ = app.Listener(ln) }()
	defer func() { _ = app.Shutdown() }()
	addr := ln.Addr().String()
	client := &fasthttp.HostClient{Addr: addr, MaxConns: clients, ReadTimeout: 10 * time.Second}
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(res)
			req.SetRequestURI("http://" + addr + "/t/town/")
			var mine []time.Duration
			bad := 0
			for time.Now().Before(deadline) {
				t0 := time.Now()
				err := client.Do(req, res)
				mine = append(mine, time.Since(t0))
				if err != nil || res.StatusCode() != fasthttp.StatusOK {
					bad++
				}
			}
			mu.Lock()
			all = append(all, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if len(all) == 0 {
		return staticResult{}, fmt.Errorf("no static requests completed")
	}
	return staticResult{Requests: len(all), Errors: errs, Seconds: round(took.Seconds()),
		RPS: round(float64(len(all)) / took.Seconds()), P50ms: pct(all, 0.5), P99ms: pct(all, 0.99)}, nil
}

func postmasterPID(ctx context.Context, db *pgtest.DB) (int, error) {
	var backend int
	if err := db.Owner.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return 0, err
	}
	f, err := fixture.StatFields(backend)
	if err != nil {
		return 0, fmt.Errorf("the PostgreSQL backend's process: %w", err)
	}
	return strconv.Atoi(f[1])
}

// cpuTimes are the clock ticks (10 ms) spent so far by the host, its
// plugins, PostgreSQL (the server, its live backends and those it has
// reaped), this process (the load generator) and the whole machine.
type cpuTimes struct{ host, plugins, postgres, load, machine int64 }

func readCPU(h *fixture.Host, postmaster int) cpuTimes {
	t := cpuTimes{host: fixture.ProcessTicks(h.Cmd.Process.Pid), load: fixture.ProcessTicks(os.Getpid()), machine: fixture.MachineTicks()}
	for _, c := range h.Children() {
		t.plugins += fixture.ProcessTicks(c)
	}
	t.postgres = fixture.PostgresTicks(postmaster)
	return t
}

type cpuShare struct {
	Host     float64 `json:"host"`
	Plugins  float64 `json:"plugins"`
	Postgres float64 `json:"postgres"`
	Load     float64 `json:"load_generator"`
	Other    float64 `json:"other_work"`
}

// cpuSplit is where the machine's time went during the run: per request,
// in milliseconds, and as a share of all cores.
type cpuSplit struct {
	PerRequestMS   cpuShare `json:"per_request_ms"`
	PctOfMachine   cpuShare `json:"pct_of_machine"`
	MachineBusyPct float64  `json:"machine_busy_pct"`
}

func (t cpuTimes) since(t0 cpuTimes, requests int, seconds float64) cpuSplit {
	tick := 10.0 // ms
	host, plugins, pg, load := t.host-t0.host, t.plugins-t0.plugins, t.postgres-t0.postgres, t.load-t0.load
	other := max(t.machine-t0.machine-host-plugins-pg-load, 0)
	capacity := seconds * 1000 / tick * float64(runtime.NumCPU())
	per := func(n int64) float64 { return round(float64(n) * tick / float64(max(requests, 1))) }
	pct := func(n int64) float64 { return round(100 * float64(n) / capacity) }
	return cpuSplit{
		PerRequestMS:   cpuShare{Host: per(host), Plugins: per(plugins), Postgres: per(pg), Load: per(load), Other: per(other)},
		PctOfMachine:   cpuShare{Host: pct(host), Plugins: pct(plugins), Postgres: pct(pg), Load: pct(load), Other: pct(other)},
		MachineBusyPct: pct(t.machine - t0.machine),
	}
}

func round(f float64) float64 { return math.Round(f*100) / 100 }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
