package pluginhost_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/core/store"
)

func TestStartAndDispatch(t *testing.T) {
	f := setup(t, pluginhost.Options{}, "echo")
	f.start()
	ctx := context.Background()

	st := f.status("echo")
	if st.Status != catalog.StatusRunning || st.PID <= 0 || st.Version != "1.2.3" || st.ColdStart <= 0 || st.StartedAt.IsZero() {
		t.Fatalf("status %+v", st)
	}
	t.Logf("cold start %s", st.ColdStart)
	rec := f.record("echo")
	if rec.Status != catalog.StatusRunning || rec.PID != st.PID || rec.Version != "1.2.3" || rec.Manifest.GetId() != "echo" {
		t.Fatalf("catalogue record %+v", rec)
	}
	if m, ok := f.sup.Manifest("echo"); !ok || m.GetVersion() != "1.2.3" {
		t.Fatalf("manifest %v %v", m, ok)
	}
	if ms := f.sup.Manifests(); len(ms) != 1 || ms["echo"] == nil {
		t.Fatalf("manifests %v", ms)
	}

	tenant := f.tenant("alpha")
	res, err := f.sup.Dispatch(ctx, "echo", pluginhost.Request{TenantID: tenant, TenantSlug: "alpha", Lang: "de",
		RequestID: "r-1", Actor: staff(7), Action: "echo", Values: []byte(`{"a":1}`), Config: []byte(`{"c":2}`)})
	if err != nil {
		t.Fatal(err)
	}
	got := data[map[string]any](t, res)
	want := map[string]any{"tenant_id": float64(tenant), "tenant_slug": "alpha", "lang": "de", "request_id": "r-1",
		"actor_kind": "staff", "actor_id": float64(7), "actor_name": "Staff", "pid": float64(st.PID)}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if res.GetOutcome() != "ok" {
		t.Errorf("outcome %q", res.GetOutcome())
	}

	// The Host API, bound to the request's tenant.
	if _, err := f.call("echo", tenant, "put_setting", map[string]any{"key": "greeting", "value": "ciao"}); err != nil {
		t.Fatal(err)
	}
	res, err = f.call("echo", tenant, "get_setting", map[string]any{"key": "greeting"})
	if err != nil {
		t.Fatal(err)
	}
	if v := data[map[string]any](t, res); v["found"] != true || v["value"] != "ciao" {
		t.Fatalf("setting %v", v)
	}
	var stored string
	if err := f.db.Owner.NewRaw("SELECT value #>> '{}' FROM plugin_settings WHERE tenant_id = ? AND plugin_id = 'echo' AND key = 'greeting'", tenant).
		Scan(ctx, &stored); err != nil || stored != "ciao" {
		t.Fatalf("stored %q, %v", stored, err)
	}

	// What a plugin answers with, as the HTTP layer will see it.
	res, err = f.call("echo", tenant, "form", nil)
	if err != nil || res.GetOutcome() != "invalid" || len(res.GetErrors()) != 1 {
		t.Fatalf("form: %v %v", res, err)
	}
	for _, tc := range []struct {
		action string
		is     error
		code   codes.Code
	}{
		{"invalid", pluginhost.ErrInvalid, codes.InvalidArgument},
		{"denied", pluginhost.ErrForbidden, codes.PermissionDenied},
		{"broken", nil, codes.Internal},
	} {
		_, err := f.call("echo", tenant, tc.action, nil)
		var pe *pluginhost.PluginError
		if !errors.As(err, &pe) || pe.Code != tc.code || pe.Plugin != "echo" {
			t.Errorf("%s: %v", tc.action, err)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v is not %v", tc.action, err, tc.is)
		}
		if errors.Is(err, pluginhost.ErrUnavailable) || errors.Is(err, pluginhost.ErrFailed) {
			t.Errorf("%s: %v reads as the plugin being down", tc.action, err)
		}
	}

	if _, err := f.call("nosuch", tenant, "echo", nil); !errors.Is(err, pluginhost.ErrNotFound) {
		t.Errorf("unknown plugin: %v", err)
	}
	if _, err := f.call("echo", 0, "echo", nil); !errors.Is(err, store.ErrNoTenant) {
		t.Errorf("no tenant: %v", err)
	}
	if pid := f.status("echo").PID; pid != st.PID {
		t.Errorf("pid changed from %d to %d without a crash", st.PID, pid)
	}
}

func TestRefusedBinaries(t *testing.T) {
	f := setup(t, pluginhost.Options{}, "echo", "crasher", "sleeper")
	ctx := context.Background()
	// Altered after it was registered.
	file, err := os.OpenFile(filepath.Join(f.dir, "crasher"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := file.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
	file.Close()
	// Gone.
	if err := os.Remove(filepath.Join(f.dir, "sleeper")); err != nil {
		t.Fatal(err)
	}
	// A genuine plugin registered under another name.
	f.install("echo", "impostor")
	// A link leading out of the folder, to a binary that is otherwise fine.
	if err := os.Symlink(filepath.Join(bins, "echo"), filepath.Join(f.dir, "sneaky")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cat.Register(ctx, f.dir, "sneaky"); err != nil {
		t.Fatal(err)
	}
	// A record whose file climbs out of the folder (Register refuses such
	// names; a hand-edited row need not).
	f.install("echo", "climber")
	if _, err := f.db.Owner.ExecContext(ctx, "UPDATE catalog_plugins SET file = '../echo' WHERE id = 'climber'"); err != nil {
		t.Fatal(err)
	}
	f.start()

	for id, want := range map[string]string{
		"crasher":  "changed since it was registered",
		"sleeper":  "is missing",
		"impostor": `says it is plugin "echo"`,
		"sneaky":   "outside the plugin folder",
		"climber":  "not a plain name",
	} {
		st := f.status(id)
		if st.Status != catalog.StatusRefused || !strings.Contains(st.Reason, want) || st.PID != 0 {
			t.Errorf("%s: status %+v, want refused: %s", id, st, want)
		}
		rec := f.record(id)
		if rec.Status != catalog.StatusRefused || !strings.Contains(rec.StatusReason, want) {
			t.Errorf("%s: record %s %q", id, rec.Status, rec.StatusReason)
		}
		if _, err := f.call(id, 1, "echo", nil); !errors.Is(err, pluginhost.ErrFailed) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: dispatch: %v", id, err)
		}
	}
	if st := f.status("echo"); st.Status != catalog.StatusRunning {
		t.Errorf("the good plugin: %+v", st)
	}
	// Nothing of the refused ones runs: the only process from the folder is
	// the good plugin.
	if pids := processesIn(f.dir); len(pids) != 1 || pids[0] != f.status("echo").PID {
		t.Errorf("processes from the plugin folder: %v", pids)
	}
	if !strings.Contains(f.log.String(), "plugin refused") {
		t.Error("refusals not logged")
	}

	// A new build registered and restarted from the console runs.
	f.install("crasher", "crasher")
	if err := f.sup.Restart(ctx, "crasher"); err != nil {
		t.Fatal(err)
	}
	if st := f.status("crasher"); st.Status != catalog.StatusRunning || st.Reason != "" {
		t.Errorf("after registering again: %+v", st)
	}
}

func TestCrashDuringCall(t *testing.T) {
	f := setup(t, pluginhost.Options{BackoffBase: 50 * time.Millisecond, CallTimeout: 10 * time.Second}, "echo", "crasher")
	f.start()
	tenant := f.tenant("alpha")
	before, echoPID := f.status("crasher").PID, f.status("echo").PID

	// A call in flight on another stream when the process dies.
	waitErr := make(chan error, 1)
	go func() {
		_, err := f.call("crasher", tenant, "wait", nil)
		waitErr <- err
	}()
	time.Sleep(100 * time.Millisecond)

	t0 := time.Now()
	_, err := f.call("crasher", tenant, "crash", nil)
	if !errors.Is(err, pluginhost.ErrUnavailable) {
		t.Fatalf("crashing call: %v", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("the crashing call took %s to fail", d)
	}
	select {
	case err := <-waitErr:
		if !errors.Is(err, pluginhost.ErrUnavailable) {
			t.Errorf("call in flight: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("the call in flight still hangs a second after the crash")
	}
	t.Logf("error of the crashing call: %v", err)

	// Meanwhile the other plugin serves, undisturbed.
	if _, err := f.call("echo", tenant, "echo", nil); err != nil {
		t.Errorf("echo during the crash: %v", err)
	}

	// Back within about a second.
	var after int
	eventually(t, 1500*time.Millisecond, "crasher serves again", func() bool {
		res, err := f.call("crasher", tenant, "hello", nil)
		if err != nil {
			return false
		}
		after = int(data[map[string]any](t, res)["pid"].(float64))
		return true
	})
	t.Logf("back after %s", time.Since(t0))
	if after == before || alive(before) {
		t.Errorf("pid %d before, %d after; old alive: %v", before, after, alive(before))
	}
	st := f.status("crasher")
	if st.Status != catalog.StatusRunning || st.Crashes != 1 || st.Restarts != 1 || !strings.Contains(st.LastCrash, "exit status 3") {
		t.Errorf("status %+v", st)
	}
	if st := f.status("echo"); st.PID != echoPID || st.Crashes != 0 {
		t.Errorf("echo affected: %+v", st)
	}
}

func TestTooManyCrashes(t *testing.T) {
	f := setup(t, pluginhost.Options{BackoffBase: 20 * time.Millisecond, MaxCrashes: 3}, "crasher")
	f.start()
	ctx := context.Background()
	tenant := f.tenant("alpha")
	for i := range 3 {
		eventually(t, 2*time.Second, "crasher running", func() bool {
			_, err := f.call("crasher", tenant, "hello", nil)
			return err == nil
		})
		if _, err := f.call("crasher", tenant, "crash", nil); !errors.Is(err, pluginhost.ErrUnavailable) {
			t.Fatalf("crash %d: %v", i+1, err)
		}
	}
	eventually(t, 2*time.Second, "crasher failed", func() bool { return f.status("crasher").Status == catalog.StatusFailed })
	st := f.status("crasher")
	if !strings.Contains(st.Reason, "3 crashes") || !strings.Contains(st.Reason, "exit status 3") || st.PID != 0 || st.Crashes != 3 {
		t.Errorf("status %+v", st)
	}
	// The catalogue follows the memory.
	eventually(t, time.Second, "failed in the catalogue", func() bool { return f.record("crasher").Status == catalog.StatusFailed })
	rec := f.record("crasher")
	if rec.StatusReason != st.Reason || rec.PID != 0 {
		t.Errorf("record %s %q %d", rec.Status, rec.StatusReason, rec.PID)
	}
	// Not restarted by itself.
	time.Sleep(300 * time.Millisecond)
	if _, err := f.call("crasher", tenant, "hello", nil); !errors.Is(err, pluginhost.ErrFailed) || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("dispatch to a failed plugin: %v", err)
	}
	if pids := processesIn(f.dir); len(pids) != 0 {
		t.Errorf("a failed plugin runs: %v", pids)
	}

	if err := f.sup.Restart(ctx, "crasher"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.call("crasher", tenant, "hello", nil); err != nil {
		t.Fatal(err)
	}
	if st := f.status("crasher"); st.Status != catalog.StatusRunning || st.Crashes != 0 || st.Reason != "" {
		t.Errorf("after restart: %+v", st)
	}
	if rec := f.record("crasher"); rec.Status != catalog.StatusRunning || rec.StatusReason != "" {
		t.Errorf("record after restart: %s %q", rec.Status, rec.StatusReason)
	}
}

func TestCallTimeout(t *testing.T) {
	f := setup(t, pluginhost.Options{CallTimeout: 300 * time.Millisecond}, "sleeper")
	f.start()
	tenant := f.tenant("alpha")
	pid := f.status("sleeper").PID
	t0 := time.Now()
	_, err := f.call("sleeper", tenant, "sleep", nil)
	d := time.Since(t0)
	if !errors.Is(err, pluginhost.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("sleep: %v", err)
	}
	if d < 250*time.Millisecond || d > 2*time.Second {
		t.Errorf("timed out after %s", d)
	}
	// A slow call is no crash.
	if _, err := f.call("sleeper", tenant, "hello", nil); err != nil {
		t.Fatal(err)
	}
	if st := f.status("sleeper"); st.PID != pid || st.Crashes != 0 {
		t.Errorf("status %+v", st)
	}
}

func TestHungPluginRestarted(t *testing.T) {
	f := setup(t, pluginhost.Options{HealthInterval: 100 * time.Millisecond, BackoffBase: 20 * time.Millisecond,
		CallTimeout: 20 * time.Second}, "echo")
	f.start()
	tenant := f.tenant("alpha")
	pid := f.status("echo").PID
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// The signal is delivered when the process is next scheduled.
	eventually(t, time.Second, "the plugin stopped", func() bool { return procState(pid) == 'T' })
	t0 := time.Now()
	// A call to the frozen process ends when the supervisor gives up on it,
	// not at the call timeout.
	_, err := f.call("echo", tenant, "echo", nil)
	if !errors.Is(err, pluginhost.ErrUnavailable) || time.Since(t0) > 3*time.Second {
		t.Fatalf("call to a frozen plugin: %v after %s", err, time.Since(t0))
	}
	t.Logf("call to the frozen plugin: %v", err)
	eventually(t, 3*time.Second, "a new echo process", func() bool {
		st := f.status("echo")
		return st.Status == catalog.StatusRunning && st.PID != pid
	})
	if _, err := f.call("echo", tenant, "echo", nil); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Errorf("the frozen process %d is still there", pid)
	}
	if st := f.status("echo"); !strings.Contains(st.LastCrash, "health") {
		t.Errorf("last crash %q", st.LastCrash)
	}
}

func TestConcurrentCalls(t *testing.T) {
	f := setup(t, pluginhost.Options{}, "echo", "crasher")
	f.start()
	tenants := []int64{f.tenant("alpha"), f.tenant("beta"), f.tenant("gamma")}
	const workers, calls = 48, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	for w := range workers {
		wg.Go(func() {
			tenant := tenants[w%len(tenants)]
			for i := range calls {
				plugin, action, values := "echo", "echo", any(map[string]int{"w": w, "i": i})
				switch i % 4 {
				case 1:
					action, values = "put_setting", map[string]any{"key": "last", "value": tenant}
				case 2:
					action, values = "get_setting", map[string]any{"key": "last"}
				case 3:
					plugin, action = "crasher", "hello"
				}
				res, err := f.call(plugin, tenant, action, values)
				if err != nil {
					errs <- err
					continue
				}
				switch action {
				case "echo":
					if d := data[map[string]any](t, res); d["tenant_id"] != float64(tenant) {
						errs <- errors.New("echo answered for another tenant")
					}
				case "get_setting":
					// Written by this tenant's workers only.
					if d := data[map[string]any](t, res); d["found"] == true && d["value"] != float64(tenant) {
						errs <- errors.New("read another tenant's setting")
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	if err := f.db.Owner.NewRaw("SELECT count(*) FROM plugin_settings WHERE plugin_id = 'echo' AND key = 'last' AND value::text::bigint = tenant_id").
		Scan(context.Background(), &n); err != nil || n != len(tenants) {
		t.Errorf("settings: %d, %v", n, err)
	}
	for _, st := range f.sup.Status() {
		if st.Crashes != 0 {
			t.Errorf("%+v", st)
		}
	}
}

func TestMaliciousPluginStaysInItsTenant(t *testing.T) {
	f := setup(t, pluginhost.Options{}, "malicious")
	f.start()
	ctx := context.Background()
	a, b := f.tenant("alpha"), f.tenant("beta")

	// An ordinary request of the victim, then one of the attacker's tenant.
	res, err := f.call("malicious", b, "remember", nil)
	if err != nil {
		t.Fatal(err)
	}
	victim := res.GetDossierId()
	if _, err := f.call("malicious", a, "remember", nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the late writes have been tried

	res, err = f.call("malicious", a, "attack", map[string]int64{"victim_tenant": b, "victim_dossier": victim})
	if err != nil {
		t.Fatal(err)
	}
	attempts := data[map[string]string](t, res)
	res, err = f.call("malicious", a, "report", nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range data[map[string]string](t, res) {
		attempts[k] = v
	}
	if len(attempts) < 15 {
		t.Fatalf("attempts: %v", attempts)
	}
	for what, outcome := range attempts {
		t.Logf("%s: %s", what, outcome)
		if !strings.HasPrefix(outcome, "refused") {
			t.Errorf("%s: %s", what, outcome)
		}
	}

	// What the database says (as the superuser, past row-level security).
	type setting struct {
		TenantID int64  `bun:"tenant_id"`
		Key      string `bun:"key"`
		Value    string `bun:"value"`
	}
	var settings []setting
	if err := f.db.Owner.NewRaw("SELECT tenant_id, key, value #>> '{}' AS value FROM plugin_settings ORDER BY tenant_id, key").
		Scan(ctx, &settings); err != nil {
		t.Fatal(err)
	}
	want := []setting{{a, "secret", "of tenant " + itoa(a)}, {b, "secret", "of tenant " + itoa(b)}}
	if len(settings) != 2 || settings[0] != want[0] || settings[1] != want[1] {
		t.Errorf("settings %+v, want %+v", settings, want)
	}
	var dossiers, events, tampered int
	if err := f.db.Owner.NewRaw(`SELECT (SELECT count(*) FROM dossiers), (SELECT count(*) FROM dossier_events),
		(SELECT count(*) FROM dossiers WHERE status <> 'submitted')`).Scan(ctx, &dossiers, &events, &tampered); err != nil {
		t.Fatal(err)
	}
	if dossiers != 2 || events != 2 || tampered != 0 {
		t.Errorf("dossiers %d, events %d, tampered %d", dossiers, events, tampered)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestRestart(t *testing.T) {
	f := setup(t, pluginhost.Options{}, "echo")
	f.start()
	ctx := context.Background()
	pid := f.status("echo").PID
	if err := f.sup.Restart(ctx, "echo"); err != nil {
		t.Fatal(err)
	}
	st := f.status("echo")
	if st.Status != catalog.StatusRunning || st.PID == pid || st.Crashes != 0 || st.Restarts != 0 {
		t.Errorf("after restart: %+v (pid before %d)", st, pid)
	}
	eventually(t, 3*time.Second, "the old process ends", func() bool { return !alive(pid) })

	if err := f.sup.Restart(ctx, "nosuch"); !errors.Is(err, pluginhost.ErrNotFound) {
		t.Errorf("unknown: %v", err)
	}
	// Registered after the host started: the console's Restart picks it up.
	f.install("sleeper", "sleeper")
	if _, err := f.call("sleeper", 1, "hello", nil); !errors.Is(err, pluginhost.ErrNotFound) {
		t.Errorf("before restart: %v", err)
	}
	if err := f.sup.Restart(ctx, "sleeper"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.call("sleeper", f.tenant("alpha"), "hello", nil); err != nil {
		t.Error(err)
	}
}

func TestStop(t *testing.T) {
	f := setup(t, pluginhost.Options{}, "echo", "crasher")
	f.start()
	pids := []int{f.status("echo").PID, f.status("crasher").PID}
	f.sup.Stop()
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("pid %d alive after Stop", pid)
		}
	}
	for _, id := range []string{"echo", "crasher"} {
		if rec := f.record(id); rec.Status != catalog.StatusStopped || rec.PID != 0 {
			t.Errorf("%s: %s %d", id, rec.Status, rec.PID)
		}
	}
	if _, err := f.call("echo", 1, "echo", nil); !errors.Is(err, pluginhost.ErrUnavailable) {
		t.Errorf("after stop: %v", err)
	}
	if err := f.sup.Restart(context.Background(), "echo"); !errors.Is(err, pluginhost.ErrUnavailable) {
		t.Errorf("restart after stop: %v", err)
	}
	f.sup.Stop()
}

func TestLive(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		status string
		age    time.Duration
		live   bool
	}{
		{catalog.StatusRunning, time.Second, true},
		{catalog.StatusRunning, 2 * pluginhost.Heartbeat, true},
		{catalog.StatusRunning, 4 * pluginhost.Heartbeat, false}, // its host died without a word
		{catalog.StatusRestarting, time.Second, true},
		{catalog.StatusStarting, time.Hour, false},
		{catalog.StatusFailed, time.Second, false},
		{catalog.StatusStopped, time.Second, false},
		{catalog.StatusRegistered, time.Second, false},
	} {
		rec := &catalog.Record{Status: tc.status, UpdatedAt: now.Add(-tc.age)}
		if got := pluginhost.Live(rec, now); got != tc.live {
			t.Errorf("%s %s ago: live %v, want %v", tc.status, tc.age, got, tc.live)
		}
	}
}

// TestStopFrozenPlugin stops a host whose plugin does not answer anything
// (stopped with SIGSTOP): Stop must not wait for it forever.
func TestStopFrozenPlugin(t *testing.T) {
	f := setup(t, pluginhost.Options{HealthInterval: time.Minute}, "echo")
	f.start()
	pid := f.status("echo").PID
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "the plugin stopped", func() bool { return procState(pid) == 'T' })
	t0 := time.Now()
	f.sup.Stop()
	if d := time.Since(t0); d > 6*time.Second {
		t.Errorf("Stop took %s", d)
	}
	if alive(pid) {
		t.Errorf("the frozen plugin %d outlived Stop", pid)
	}
}
