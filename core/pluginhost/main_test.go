package pluginhost_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/core/store/pgtest"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

var (
	pg *pgtest.Server
	// bins holds the test plugins and the test host, built once.
	bins string
)

// testPrograms are built from testdata/<name>/main.go.
var testPrograms = []string{"echo", "crasher", "sleeper", "malicious", "host"}

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pluginhost-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, p := range testPrograms {
		args = append(args, "./testdata/"+p)
	}
	build := exec.Command(goTool(), args...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the test plugins:", err)
		return 1
	}
	bins = dir
	s, err := pgtest.Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer s.Stop()
	pg = s
	return m.Run()
}

func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// fixture is one test's database, plugin folder and supervisor.
type fixture struct {
	t   *testing.T
	db  *pgtest.DB
	dir string
	cat *catalog.Catalog
	api *hostapi.Server
	sup *pluginhost.Supervisor
	log *syncBuffer
	// staffOf is each tenant's one staff user, the actor of f.call.
	staffOf map[int64]int64
}

// setup registers copies of the named test plugins in a fresh catalogue;
// the supervisor is not started yet.
func setup(t *testing.T, opts pluginhost.Options, plugins ...string) *fixture {
	t.Helper()
	f := &fixture{t: t, db: pg.NewDB(t), dir: t.TempDir(), log: &syncBuffer{}}
	f.cat = catalog.New(f.db.App)
	logger := slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.api = hostapi.New(f.db.App, logger)
	for _, p := range plugins {
		f.install(p, p)
	}
	opts.Dir, opts.Log = f.dir, logger
	f.sup = pluginhost.New(f.cat, f.api, opts)
	t.Cleanup(func() {
		f.sup.Stop()
		if t.Failed() {
			t.Logf("supervisor log:\n%s", f.log.String())
		}
	})
	return f
}

// install copies test plugin src into the folder as file and registers it.
func (f *fixture) install(src, file string) {
	f.t.Helper()
	data, err := os.ReadFile(filepath.Join(bins, src))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, file), data, 0o755); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.cat.Register(context.Background(), f.dir, file); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) start() {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.sup.Start(ctx); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) tenant(slug string) int64 {
	f.t.Helper()
	var id int64
	err := f.db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it}') RETURNING id", slug, slug).
		Scan(context.Background(), &id)
	if err != nil {
		f.t.Fatal(err)
	}
	var user int64
	err = f.db.Owner.NewRaw("INSERT INTO users (tenant_id, email, name) VALUES (?, ?, 'Staff') RETURNING id", id, "staff@"+slug+".example").
		Scan(context.Background(), &user)
	if err != nil {
		f.t.Fatal(err)
	}
	if f.staffOf == nil {
		f.staffOf = map[int64]int64{}
	}
	f.staffOf[id] = user
	return id
}

func staff(id int64) pluginhost.Actor {
	return pluginhost.Actor{Actor: hostapi.Actor{Kind: hostapi.ActorStaff, ID: id}, Name: "Staff", Roles: []string{"operator"}}
}

// call runs action in plugin for tenant, as a staff member.
func (f *fixture) call(plugin string, tenant int64, action string, values any) (*pb.HandleResponse, error) {
	var raw []byte
	if values != nil {
		var err error
		if raw, err = json.Marshal(values); err != nil {
			f.t.Fatal(err)
		}
	}
	return f.sup.Dispatch(context.Background(), plugin, pluginhost.Request{TenantID: tenant, TenantSlug: "t" + strconv.FormatInt(tenant, 10),
		Lang: "it", RequestID: "req-" + action, Actor: staff(f.staffOf[tenant]), Action: action, Values: raw})
}

// data decodes a response's data.
func data[T any](t *testing.T, res *pb.HandleResponse) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(res.GetDataJson(), &v); err != nil {
		t.Fatalf("data %s: %v", res.GetDataJson(), err)
	}
	return v
}

func (f *fixture) status(id string) pluginhost.PluginStatus {
	f.t.Helper()
	for _, st := range f.sup.Status() {
		if st.ID == id {
			return st
		}
	}
	f.t.Fatalf("no status for %s", id)
	return pluginhost.PluginStatus{}
}

func (f *fixture) record(id string) *catalog.Record {
	f.t.Helper()
	rec, err := f.cat.Get(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return rec
}

// eventually polls cond every 10 ms until it holds or d has passed.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid is a live process: gone and zombie (exited,
// waiting for a parent to reap it) both count as dead.
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	st := procState(pid)
	return st != 0 && st != 'Z' && st != 'X'
}

// procState is the state letter of /proc/<pid>/stat (R, S, T, Z, …), 0 if
// there is no such process.
func procState(pid int) byte {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The state follows the command name in parentheses, which may itself
	// hold spaces and parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0
	}
	return s[i+2]
}

// processesIn lists the live processes whose executable is in dir.
func processesIn(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && strings.HasPrefix(exe, dir+string(filepath.Separator)) && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// syncBuffer collects the log of goroutines and plugins alike.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

var _ io.Writer = (*syncBuffer)(nil)

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
