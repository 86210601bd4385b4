// Command portal measures a tenant's home page under 64 concurrent
// connections, next to a static fiber response measured in the same run on
// the same machine. It starts its own throwaway PostgreSQL, loads the demo
// tenants, serves both apps on loopback and prints its figures as one JSON
// object on the last line.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/sportello/sportello/bench/fixture"
	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/server"
	"github.com/sportello/sportello/core/tenancy"
)

// profile names the CPU profile file; "" for none.
var profile string

type result struct {
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	Seconds    float64 `json:"seconds"`
	Throughput float64 `json:"rps"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
}

func main() {
	conns := flag.Int("c", 64, "concurrent connections")
	dur := flag.Duration("d", 10*time.Second, "duration of each measurement")
	path := flag.String("path", "/t/lugano/", "page to measure")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the portal measurement to this file")
	flag.Parse()
	profile = *cpuprofile
	if err := run(*conns, *dur, *path); err != nil {
		fmt.Fprintln(os.Stderr, "bench-portal:", err)
		os.Exit(1)
	}
}

func run(conns int, dur time.Duration, path string) error {
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
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	srv, err := server.Assemble(ctx, db.App, server.Config{BaseDomain: "localhost"}, log, nil)
	if err != nil {
		return err
	}
	portalAddr, stopPortal, err := serveApp(srv.App())
	if err != nil {
		return err
	}
	defer stopPortal()

	// The reference: fiber answering a fixed page of the same size.
	sample, err := fetch(portalAddr, path)
	if err != nil {
		return err
	}
	static := fiber.New(fiber.Config{DisableStartupMessage: true})
	static.Get("/*", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(sample)
	})
	staticAddr, stopStatic, err := serveApp(static)
	if err != nil {
		return err
	}
	defer stopStatic()

	// Warm both, then measure alternately.
	_, _ = load(portalAddr, path, conns, time.Second)
	_, _ = load(staticAddr, path, conns, time.Second)
	ref, err := load(staticAddr, path, conns, dur)
	if err != nil {
		return err
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	portal, err := load(portalAddr, path, conns, dur)
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	out := map[string]any{
		"bench":        "portal",
		"page":         path,
		"page_bytes":   len(sample),
		"connections":  conns,
		"cores":        runtime.NumCPU(),
		"portal":       portal,
		"static_fiber": ref,
		"ratio_rps":    round(portal.Throughput / ref.Throughput),
		"target":       "ratio_rps >= 0.5 and portal.p99_ms <= 20",
		"meets_target": portal.Throughput/ref.Throughput >= 0.5 && portal.P99ms <= 20 && portal.Errors == 0,
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	return nil
}

func serveApp(app *fiber.App) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() { _ = app.Listener(ln) }()
	return ln.Addr().String(), func() { _ = app.Shutdown() }, nil
}

func fetch(addr, path string) ([]byte, error) {
	req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI("http://" + addr + path)
	if err := fasthttp.Do(req, res); err != nil {
		return nil, err
	}
	if res.StatusCode() != 200 {
		return nil, fmt.Errorf("GET %s: status %d", path, res.StatusCode())
	}
	return append([]byte(nil), res.Body()...), nil
}

// load keeps conns connections busy for d, each sending the next request
// when the previous answer arrives (closed loop), and records latencies.
func load(addr, path string, conns int, d time.Duration) (result, error) {
	client := &fasthttp.HostClient{Addr: addr, MaxConns: conns, ReadTimeout: 5 * time.Second}
	var total, errs atomic.Int64
	lat := make([][]time.Duration, conns)
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(res)
			req.SetRequestURI("http://" + addr + path)
			req.Header.Set("Accept-Language", "it-IT,it;q=0.9")
			for time.Now().Before(deadline) {
				t0 := time.Now()
				err := client.Do(req, res)
				lat[i] = append(lat[i], time.Since(t0))
				total.Add(1)
				if err != nil || res.StatusCode() != 200 {
					errs.Add(1)
				}
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return result{}, fmt.Errorf("no requests completed against %s", addr)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 { return round(float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000) }
	return result{Requests: total.Load(), Errors: errs.Load(), Seconds: round(elapsed),
		Throughput: round(float64(total.Load()) / elapsed), P50ms: pct(0.50), P99ms: pct(0.99)}, nil
}

func round(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
