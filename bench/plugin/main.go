// Command plugin measures what running a service as a plugin process costs:
// one request host → plugin → Host API (a setting read from PostgreSQL) →
// back, at 1 and at 64 concurrent callers, next to the same handler called
// in-process with the same Host API server, in the same run. It also
// measures the plugin's cold start and its resident memory. It starts its
// own throwaway PostgreSQL and prints its figures as one JSON object on
// the last line.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
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

	"google.golang.org/grpc/metadata"

	"github.com/sportello/sportello/bench/fixture"
	"github.com/sportello/sportello/bench/plugin/handler"
	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Targets, for the plugin path against the in-process one: the added
// latency at one caller (at 64 callers on a few cores, latency is queueing
// and says little about the plugin hop), throughput at 64 callers.
const (
	targetAddedP50ms = 0.3
	targetAddedP99ms = 2
	targetRPS        = 5000
	targetColdMS     = 250
	targetRSSMB      = 30
)

// profile names the CPU profile file; "" for none.
var profile string

type result struct {
	Calls      int64   `json:"calls"`
	Errors     int64   `json:"errors"`
	Seconds    float64 `json:"seconds"`
	Throughput float64 `json:"calls_per_s"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
}

type pair struct {
	Callers   int    `json:"callers"`
	InProcess result `json:"in_process"`
	Plugin    result `json:"plugin"`
	// CPU time per call of the plugin path, by who spent it: the host,
	// the plugin, and the rest of the machine (PostgreSQL, mostly).
	CPUPerCall cpuSplit `json:"plugin_cpu_us_per_call"`
	AddedP50ms float64  `json:"added_p50_ms"`
	AddedP99ms float64  `json:"added_p99_ms"`
	RatioRPS   float64  `json:"ratio_calls_per_s"` // plugin / in-process
}

func main() {
	dur := flag.Duration("d", 3*time.Second, "duration of each measurement")
	flag.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the host during the plugin measurement at 64 callers to this file")
	flag.Parse()
	if err := run(*dur); err != nil {
		fmt.Fprintln(os.Stderr, "bench-plugin:", err)
		os.Exit(1)
	}
}

func run(dur time.Duration) error {
	ctx := context.Background()
	root, err := fixture.RepoRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-plugin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := fixture.Build(root, "./bench/plugin/benchplugin", filepath.Join(dir, "bench")); err != nil {
		return err
	}

	db, stop, err := fixture.Database(ctx)
	if err != nil {
		return err
	}
	defer stop()

	var tenant int64
	if err := db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES ('bench', 'Bench', '{it}') RETURNING id").Scan(ctx, &tenant); err != nil {
		return err
	}
	if _, err := db.Owner.ExecContext(ctx, "INSERT INTO plugin_settings (tenant_id, plugin_id, key, value) VALUES (?, 'bench', ?, '\"Buongiorno\"')",
		tenant, handler.SettingKey); err != nil {
		return err
	}
	cat := catalog.New(db.App)
	if _, err := cat.Register(ctx, dir, "bench"); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	api := hostapi.New(db.App, log)
	sup := pluginhost.New(cat, api, pluginhost.Options{Dir: dir, Log: log})
	if err := sup.Start(ctx); err != nil {
		return err
	}
	defer sup.Stop()

	// Cold start: the first start, then a few more through Restart.
	var colds []float64
	for i := 0; ; i++ {
		st := sup.Status()[0]
		if st.Status != catalog.StatusRunning {
			return fmt.Errorf("plugin %s: %s %s", st.ID, st.Status, st.Reason)
		}
		colds = append(colds, ms(st.ColdStart))
		if i == 4 {
			break
		}
		if err := sup.Restart(ctx, "bench"); err != nil {
			return err
		}
	}
	pid := sup.Status()[0].PID
	time.Sleep(500 * time.Millisecond)
	rssStart, err := rssMB(pid)
	if err != nil {
		return err
	}

	req := pluginhost.Request{TenantID: tenant, TenantSlug: "bench", Lang: "it", RequestID: "bench",
		Actor: pluginhost.Actor{Actor: hostapi.Actor{Kind: hostapi.ActorStaff, ID: 1}, Name: "Ada"}, Action: "greet"}
	viaPlugin := func(ctx context.Context) error {
		res, err := sup.Dispatch(ctx, "bench", req)
		if err == nil && res.GetOutcome() != sdk.OutcomeOK {
			err = fmt.Errorf("outcome %s: %s", res.GetOutcome(), res.GetMessage())
		}
		return err
	}
	view := api.ForPlugin("bench")
	inProcess := func(ctx context.Context) error {
		token, end := api.Begin(hostapi.Call{TenantID: req.TenantID, PluginID: "bench", Actor: req.Actor.Actor, RequestID: req.RequestID})
		defer end()
		res, err := handler.Service{}.Handle(ctx, &sdk.Request{TenantID: req.TenantID, TenantSlug: req.TenantSlug,
			Lang: req.Lang, RequestID: req.RequestID, Actor: sdk.Actor{Kind: req.Actor.Kind, ID: req.Actor.ID, Name: req.Actor.Name},
			Action: req.Action, Host: &inProcessHost{api: view, token: token}})
		if err == nil && res.Outcome != sdk.OutcomeOK {
			err = fmt.Errorf("outcome %s: %s", res.Outcome, res.Message)
		}
		return err
	}
	for _, f := range []func(context.Context) error{viaPlugin, inProcess} {
		if err := f(ctx); err != nil {
			return fmt.Errorf("first call: %w", err)
		}
		load(f, 64, time.Second) // warm-up
	}

	var pairs []pair
	for _, callers := range []int{1, 64} {
		ref := load(inProcess, callers, dur)
		if profile != "" && callers == 64 {
			f, err := os.Create(profile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
		}
		cpu0 := readCPU(pid)
		plug := load(viaPlugin, callers, dur)
		cpu := readCPU(pid).since(cpu0, plug.Calls)
		pprof.StopCPUProfile()
		pairs = append(pairs, pair{Callers: callers, InProcess: ref, Plugin: plug, CPUPerCall: cpu,
			AddedP50ms: round(plug.P50ms - ref.P50ms), AddedP99ms: round(plug.P99ms - ref.P99ms),
			RatioRPS: round(plug.Throughput / ref.Throughput)})
	}
	if st := sup.Status()[0]; st.PID != pid || st.Crashes != 0 {
		return fmt.Errorf("the plugin restarted during the measurement: %+v", st)
	}
	// Idle again after the load: what it keeps once it has served.
	runtime.GC()
	time.Sleep(2 * time.Second)
	rssAfter, err := rssMB(pid)
	if err != nil {
		return err
	}

	one, many := pairs[0], pairs[1]
	slices.Sort(colds)
	cold := colds[len(colds)/2]
	errs := one.Plugin.Errors + one.InProcess.Errors + many.Plugin.Errors + many.InProcess.Errors
	checks := map[string]bool{
		"added_p50_1_caller": one.AddedP50ms <= targetAddedP50ms,
		"added_p99_1_caller": one.AddedP99ms <= targetAddedP99ms,
		"calls_per_s_64":     many.Plugin.Throughput >= targetRPS,
		"cold_start":         cold <= targetColdMS,
		"idle_rss":           max(rssStart, rssAfter) <= targetRSSMB,
		"no_errors":          errs == 0,
	}
	meets := true
	for _, ok := range checks {
		meets = meets && ok
	}
	out := map[string]any{
		"bench":               "plugin",
		"cores":               runtime.NumCPU(),
		"seconds_each":        dur.Seconds(),
		"path":                "Dispatch → plugin Handle → Host API GetSetting (PostgreSQL) → back",
		"c1":                  one,
		"c64":                 many,
		"cold_start_ms":       cold,
		"cold_starts_ms":      colds,
		"idle_rss_mb":         rssStart,
		"idle_rss_after_load": rssAfter,
		"target": fmt.Sprintf("at 1 caller added p50 <= %.1f ms and p99 <= %.0f ms; at 64 callers >= %d calls/s; cold start <= %d ms; idle RSS <= %d MB",
			targetAddedP50ms, float64(targetAddedP99ms), targetRPS, targetColdMS, targetRSSMB),
		"checks":       checks,
		"meets_target": meets,
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	return nil
}

// inProcessHost is the Host API called directly, as the in-process
// reference's handler sees it; only what the handler uses is there.
type inProcessHost struct {
	sdk.Host
	api   pb.HostAPIServer
	token string
}

func (h *inProcessHost) GetSetting(ctx context.Context, key string, v any) (bool, error) {
	ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(sdk.CallTokenKey, h.token))
	out, err := h.api.GetSetting(ctx, &pb.GetSettingRequest{Key: key})
	if err != nil || !out.GetFound() {
		return false, err
	}
	return true, json.Unmarshal(out.GetValueJson(), v)
}

// load keeps callers goroutines calling f for d, each calling again when
// the previous call returns (closed loop), and records latencies.
func load(f func(context.Context) error, callers int, d time.Duration) result {
	var total, errs atomic.Int64
	lat := make([][]time.Duration, callers)
	var firstErr sync.Once
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			ctx := context.Background()
			for time.Now().Before(deadline) {
				t0 := time.Now()
				err := f(ctx)
				lat[i] = append(lat[i], time.Since(t0))
				total.Add(1)
				if err != nil {
					errs.Add(1)
					firstErr.Do(func() { fmt.Fprintln(os.Stderr, "bench-plugin: call failed:", err) })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) float64 { return round(ms(all[int(p*float64(len(all)-1))])) }
	return result{Calls: total.Load(), Errors: errs.Load(), Seconds: round(elapsed),
		Throughput: round(float64(total.Load()) / elapsed), P50ms: pct(0.50), P99ms: pct(0.99)}
}

// cpuTimes are clock ticks spent so far.
type cpuTimes struct{ host, plugin, machine int64 }

type cpuSplit struct {
	Host   float64 `json:"host"`
	Plugin float64 `json:"plugin"`
	Rest   float64 `json:"rest"`
}

// readCPU reads the CPU time of this process, of the plugin and of the
// whole machine (busy time, all cores) from /proc.
func readCPU(pid int) cpuTimes {
	return cpuTimes{host: fixture.ProcessTicks(os.Getpid()), plugin: fixture.ProcessTicks(pid), machine: fixture.MachineTicks()}
}

// since splits the CPU time spent since t0 per call, in microseconds
// (ticks are 10 ms: figures are rough).
func (t cpuTimes) since(t0 cpuTimes, calls int64) cpuSplit {
	if calls == 0 {
		return cpuSplit{}
	}
	per := func(ticks int64) float64 { return round(float64(ticks) * 1e4 / float64(calls)) }
	host, plugin := t.host-t0.host, t.plugin-t0.plugin
	return cpuSplit{Host: per(host), Plugin: per(plugin), Rest: per(t.machine - t0.machine - host - plugin)}
}

// rssMB is a process's resident memory, from /proc.
func rssMB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", rest, err)
			}
			return round(kb / 1024), nil
		}
	}
	return 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func round(f float64) float64 {
	if f < 0 {
		return -round(-f)
	}
	return float64(int64(f*1000+0.5)) / 1000
}
