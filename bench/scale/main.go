// Command scale measures one `sportello serve` holding every Italian
// municipality: the 7,904 towns of bench/import/comuni-istat.csv onboarded
// with `sportello tenant import`, each with five services published
// (helpdesk, room booking, cemetery, scrutineers, access to records) and
// its plugins registered with `sportello plugin register`. It times the
// start-up (process start to the first 200 of a town's home page), reads
// the resident memory of the host and of its plugin processes, and
// measures a mid-size town's home page and a service page. The reference,
// in the same run on the same PostgreSQL, is a second database holding
// only three towns, the measured one among them, served by a second
// host: the latency ratio says what 7,904 towns cost a request. The last
// line is one JSON object; it exits non-zero when a request failed.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sportello/sportello/bench/fixture"
	"github.com/sportello/sportello/core/store/pgtest"
)

// The targets.
const (
	targetStartupS = 5.0
	targetRSSMB    = 1024.0
	targetRatio    = 1.2
)

// servicePage is the service page measured: the room booking service,
// whose page draws two forms from the plugin's manifest.
const servicePage = "services/roombooking"

type options struct {
	requests int
	conns    int
	rounds   int
	starts   int
	size     int
}

type pageResult struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	RPS      float64 `json:"rps"`
	P50ms    float64 `json:"p50_ms"`
	P90ms    float64 `json:"p90_ms"`
	P99ms    float64 `json:"p99_ms"`
	MaxMS    float64 `json:"max_ms"`
}

type deployment struct {
	Tenants        int                    `json:"tenants"`
	Services       int                    `json:"tenant_services"`
	SetupS         float64                `json:"setup_s"`
	StartupS       []float64              `json:"startup_s"`
	StartupMedianS float64                `json:"startup_median_s"`
	MemoryIdle     fixture.Memory         `json:"memory_after_start"`
	Crawl          *crawlResult           `json:"crawl"`
	MemoryCrawled  fixture.Memory         `json:"memory_after_crawl"`
	MemoryLoaded   fixture.Memory         `json:"memory_after_load"`
	Pages          map[string]*pageResult `json:"pages"`
}

func main() {
	var o options
	flag.IntVar(&o.requests, "n", 4000, "requests per page and deployment, split over the rounds")
	flag.IntVar(&o.conns, "c", 8, "concurrent keep-alive connections")
	flag.IntVar(&o.rounds, "rounds", 4, "alternations of the two deployments per page")
	flag.IntVar(&o.starts, "starts", 3, "starts of each host timed (the last one stays up for the load)")
	flag.IntVar(&o.size, "town-size", 30000, "the measured town is the one whose population is nearest this")
	flag.StringVar(&fixture.RateLimit, "rate-limit", fixture.RateLimit, "SPORTELLO_RATE_LIMIT of the host (READS,WRITES a minute per client and town; 0 for none)")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-scale:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	began := time.Now()
	bin, allFile, towns, err := fixture.Country()
	if err != nil {
		return err
	}
	town, few := pick(towns, o.size)
	dir, err := os.MkdirTemp("", "bench-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fewFile := filepath.Join(dir, "three-towns.csv")
	if err := fixture.WriteTowns(fewFile, few); err != nil {
		return err
	}

	pg, err := pgtest.Start(ctx)
	if err != nil {
		return err
	}
	defer pg.Stop()
	type side struct {
		name string
		csv  string
		db   *pgtest.DB
		host *fixture.Host
		slug string
		res  deployment
		lat  map[string][]time.Duration
	}
	sides := []*side{{name: "all", csv: allFile}, {name: "three", csv: fewFile}}
	for _, s := range sides {
		db, drop, err := pg.CreateDB(ctx)
		if err != nil {
			return err
		}
		defer drop()
		s.db, s.lat = db, map[string][]time.Duration{}
		t0 := time.Now()
		if err := fixture.Onboard(ctx, bin, db, filepath.Join(dir, "data-"+s.name), s.csv); err != nil {
			return err
		}
		s.res.SetupS = round(time.Since(t0).Seconds())
		if err := db.Owner.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM tenant_services WHERE state = 'published')").
			Scan(&s.res.Tenants, &s.res.Services); err != nil {
			return err
		}
		if err := db.Owner.QueryRowContext(ctx, "SELECT slug FROM tenants WHERE istat_code = ?", town.Code).Scan(&s.slug); err != nil {
			return fmt.Errorf("the measured town %s in %s: %w", town.Code, s.name, err)
		}
		fmt.Fprintf(os.Stderr, "scale: %s: %d towns, %d services published, set up in %.1f s\n", s.name, s.res.Tenants, s.res.Services, s.res.SetupS)
	}
	if want := len(towns); sides[0].res.Tenants != want || sides[0].res.Services != want*len(fixture.Services) {
		return fmt.Errorf("%d towns and %d services onboarded, want %d and %d", sides[0].res.Tenants, sides[0].res.Services,
			want, want*len(fixture.Services))
	}

	// Start-up: each host started o.starts times, alone on the machine
	// but for the other's idle host; the last start stays up.
	defer func() {
		for _, s := range sides {
			if s.host != nil {
				_ = s.host.Stop()
			}
		}
	}()
	var failed int
	for _, s := range sides {
		home := "/t/" + s.slug + "/"
		for i := range o.starts {
			h, err := fixture.StartHost(bin, s.db, filepath.Join(dir, "data-"+s.name), filepath.Join(dir, fmt.Sprintf("serve-%s-%d.log", s.name, i)))
			if err != nil {
				return err
			}
			took, err := h.WaitFor(home, time.Minute)
			if err != nil {
				_ = h.Stop()
				return err
			}
			s.res.StartupS = append(s.res.StartupS, round3(took.Seconds()))
			fmt.Fprintf(os.Stderr, "scale: %s: start %d answered %s in %.3f s\n", s.name, i+1, home, took.Seconds())
			if i < o.starts-1 {
				if err := h.Stop(); err != nil {
					return fmt.Errorf("stop %s host: %w", s.name, err)
				}
				continue
			}
			s.host = h
		}
		s.res.StartupMedianS = median(s.res.StartupS)
		// The plugins start before the server listens; wait until all
		// five run, so the memory read is of the whole deployment.
		if err := waitPlugins(s.host, len(fixture.Services)); err != nil {
			return err
		}
		if s.res.MemoryIdle, err = s.host.Memory(); err != nil {
			return err
		}
	}

	// Every town's home page visited once, as a crawler would: the
	// host's per-town caches (portal content, rendered pages) then hold
	// the whole country, which is the memory to measure and the state a
	// town's page is served in.
	for _, s := range sides {
		slugs, err := homeSlugs(ctx, s.db)
		if err != nil {
			return err
		}
		t0 := time.Now()
		errs := crawl(s.host.Addr, slugs, o.conns)
		s.res.Crawl = &crawlResult{Towns: len(slugs), Errors: errs, Seconds: round(time.Since(t0).Seconds())}
		s.res.Crawl.PerS = round(float64(len(slugs)) / time.Since(t0).Seconds())
		failed += errs
		if s.res.MemoryCrawled, err = s.host.Memory(); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "scale: %s: %d home pages crawled in %.1f s, %d errors; memory %.0f MB (host %.0f, its heap %.0f)\n",
			s.name, len(slugs), s.res.Crawl.Seconds, errs, s.res.MemoryCrawled.TotalMB, s.res.MemoryCrawled.HostMB, s.res.MemoryCrawled.HostHeapMB)
	}

	pages := map[string]string{"home": "", "service": servicePage}
	order := []string{"home", "service"}
	// Warm-up: every page of both, so the first requests' loading (the
	// portal's cache, the enforcer, the plugin connection) is not timed.
	for _, s := range sides {
		for _, p := range order {
			if _, errs := load(s.host.Addr, "/t/"+s.slug+"/"+pages[p], o.conns, 300); errs > 0 {
				return fmt.Errorf("%s %s: %d errors in the warm-up", s.name, p, errs)
			}
		}
	}
	per := max(o.requests/o.rounds, 1)
	elapsed := map[string]map[string]time.Duration{}
	for _, s := range sides {
		elapsed[s.name] = map[string]time.Duration{}
	}
	for r := range o.rounds {
		for _, p := range order {
			// ABBA: each deployment goes first every other round, so a
			// drift in the machine's load falls on both alike.
			turn := slices.Clone(sides)
			if r%2 == 1 {
				slices.Reverse(turn)
			}
			for _, s := range turn {
				t0 := time.Now()
				lat, errs := load(s.host.Addr, "/t/"+s.slug+"/"+pages[p], o.conns, per)
				elapsed[s.name][p] += time.Since(t0)
				s.lat[p] = append(s.lat[p], lat...)
				failed += errs
				if s.res.Pages == nil {
					s.res.Pages = map[string]*pageResult{}
				}
				if s.res.Pages[p] == nil {
					s.res.Pages[p] = &pageResult{}
				}
				s.res.Pages[p].Errors += errs
			}
		}
	}
	for _, s := range sides {
		for _, p := range order {
			r := s.res.Pages[p]
			fillStats(r, s.lat[p], elapsed[s.name][p])
		}
		if s.res.MemoryLoaded, err = s.host.Memory(); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "scale: %s: home p50 %.2f ms p99 %.2f ms, service p50 %.2f ms p99 %.2f ms; memory %.0f MB (host %.0f, its heap %.0f; %d plugins %.0f)\n",
			s.name, s.res.Pages["home"].P50ms, s.res.Pages["home"].P99ms, s.res.Pages["service"].P50ms, s.res.Pages["service"].P99ms,
			s.res.MemoryLoaded.TotalMB, s.res.MemoryLoaded.HostMB, s.res.MemoryLoaded.HostHeapMB, s.res.MemoryLoaded.Plugins, s.res.MemoryLoaded.PluginsMB)
	}
	all, three := sides[0], sides[1]
	ratios := map[string]float64{}
	worst := 0.0
	for _, p := range order {
		r := round(all.res.Pages[p].P99ms / three.res.Pages[p].P99ms)
		ratios[p] = r
		worst = max(worst, r)
	}
	rss := max(all.res.MemoryIdle.TotalMB, all.res.MemoryCrawled.TotalMB, all.res.MemoryLoaded.TotalMB)
	checks := map[string]bool{
		"startup":   all.res.StartupMedianS <= targetStartupS,
		"rss":       rss <= targetRSSMB,
		"p99_ratio": worst <= targetRatio,
		"no_errors": failed == 0,
	}
	meets := true
	for _, ok := range checks {
		meets = meets && ok
	}
	out := map[string]any{
		"bench":       "scale",
		"cores":       runtime.NumCPU(),
		"connections": o.conns,
		"rate_limit":  fixture.RateLimit,
		"town":        map[string]any{"istat_code": town.Code, "name": town.Name, "population": town.Population, "slug": all.slug},
		"pages":       map[string]string{"home": "/t/{town}/", "service": "/t/{town}/" + servicePage},
		"services":    fixture.Services,
		"all_towns":   all.res,
		"three_towns": three.res,
		"p99_ratio":   ratios,
		"targets": map[string]any{"startup_s": targetStartupS, "rss_mb": targetRSSMB, "p99_ratio": targetRatio,
			"startup_checked": "all_towns.startup_median_s", "rss_checked": "all_towns total (host + plugins), the largest of after start, after the crawl and after the load"},
		"checks":       checks,
		"meets_target": meets,
		"run_s":        round(time.Since(began).Seconds()),
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	if failed > 0 {
		return fmt.Errorf("%d requests failed", failed)
	}
	return nil
}

type crawlResult struct {
	Towns   int     `json:"towns"`
	Errors  int     `json:"errors"`
	Seconds float64 `json:"seconds"`
	PerS    float64 `json:"pages_per_s"`
}

func homeSlugs(ctx context.Context, db *pgtest.DB) ([]string, error) {
	rows, err := db.Owner.QueryContext(ctx, "SELECT slug FROM tenants ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// crawl GETs every town's home page once over conns connections and
// returns how many did not answer 200.
func crawl(addr string, slugs []string, conns int) int {
	client := &fasthttp.HostClient{Addr: addr, MaxConns: conns, ReadTimeout: 30 * time.Second}
	next := make(chan string)
	var mu sync.Mutex
	failed := 0
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(res)
			req.Header.Set("Accept-Language", "it-IT,it;q=0.9")
			for slug := range next {
				req.SetRequestURI("http://" + addr + "/t/" + slug + "/")
				if err := client.Do(req, res); err != nil || res.StatusCode() != fasthttp.StatusOK {
					mu.Lock()
					if failed == 0 {
						fmt.Fprintf(os.Stderr, "scale: crawl /t/%s/: status %d %v\n", slug, res.StatusCode(), err)
					}
					failed++
					mu.Unlock()
				}
			}
		}()
	}
	for _, s := range slugs {
		next <- s
	}
	close(next)
	wg.Wait()
	return failed
}

// pick returns the town measured, the one whose population is nearest
// size, and the three towns of the reference: it and the towns just
// above and below it in population.
func pick(towns []fixture.Town, size int) (fixture.Town, []fixture.Town) {
	byPop := slices.Clone(towns)
	sort.SliceStable(byPop, func(i, j int) bool { return byPop[i].Population < byPop[j].Population })
	best := 0
	for i, t := range byPop {
		if abs(t.Population-size) < abs(byPop[best].Population-size) {
			best = i
		}
	}
	lo, hi := max(best-1, 0), min(best+2, len(byPop))
	return byPop[best], byPop[lo:hi]
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// waitPlugins waits until the host has n child processes.
func waitPlugins(h *fixture.Host, n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for len(h.Children()) < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("the host runs %d plugin processes, want %d", len(h.Children()), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// load sends n GETs of path over conns keep-alive connections, each
// sending its next request when the last is answered, and returns every
// latency and how many answers were not 200.
func load(addr, path string, conns, n int) ([]time.Duration, int) {
	client := &fasthttp.HostClient{Addr: addr, MaxConns: conns, ReadTimeout: 30 * time.Second}
	lat := make([][]time.Duration, conns)
	errs := make([]int, conns)
	var wg sync.WaitGroup
	for i := range conns {
		count := n / conns
		if i < n%conns {
			count++
		}
		wg.Add(1)
		go func(i, count int) {
			defer wg.Done()
			req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(res)
			req.SetRequestURI("http://" + addr + path)
			req.Header.Set("Accept-Language", "it-IT,it;q=0.9")
			for range count {
				t0 := time.Now()
				err := client.Do(req, res)
				lat[i] = append(lat[i], time.Since(t0))
				if err != nil || res.StatusCode() != fasthttp.StatusOK {
					if errs[i] == 0 {
						status := 0
						if err == nil {
							status = res.StatusCode()
						}
						fmt.Fprintf(os.Stderr, "scale: GET %s: status %d %v\n", path, status, err)
					}
					errs[i]++
				}
			}
		}(i, count)
	}
	wg.Wait()
	var all []time.Duration
	failed := 0
	for i := range conns {
		all = append(all, lat[i]...)
		failed += errs[i]
	}
	return all, failed
}

func fillStats(r *pageResult, lat []time.Duration, took time.Duration) {
	slices.Sort(lat)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(lat)))) - 1
		return ms(lat[min(max(i, 0), len(lat)-1)])
	}
	r.Requests = len(lat)
	r.RPS = round(float64(len(lat)) / took.Seconds())
	r.P50ms, r.P90ms, r.P99ms, r.MaxMS = at(0.50), at(0.90), at(0.99), ms(lat[len(lat)-1])
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return round3(float64(d.Nanoseconds()) / 1e6) }

func round(f float64) float64 { return math.Round(f*100) / 100 }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
