package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/store/pgtest"
)

var (
	pg  *pgtest.Server
	bin string
)

// TestMain builds the real binary once and gives the package a throwaway
// PostgreSQL; the tests run the binary as an operator would.
func TestMain(m *testing.M) {
	if pgtest.FuzzWorker() {
		os.Exit(m.Run()) // the fuzz target reads CSV: no binary, no database
	}
	dir, err := os.MkdirTemp("", "sportello-bin-")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "sportello")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	pgtest.Run(m, &pg)
}

// emptyDB creates a database with nothing in it and returns its owner URL.
func emptyDB(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	admin, err := store.Open(ctx, pg.URL("postgres"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("cli_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if a, err := store.Open(ctx, pg.URL("postgres"), 1); err == nil {
			_, _ = a.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			a.Close()
		}
	})
	return pg.URL(name)
}

type cli struct {
	t   *testing.T
	env []string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, env: append(os.Environ(),
		"SPORTELLO_DATABASE_URL="+emptyDB(t),
		"SPORTELLO_APP_DB_PASSWORD="+pgtest.AppPassword,
		"SPORTELLO_DATA_DIR="+t.TempDir(),
	)}
}

func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = c.env
	cmd.Dir = "../.."
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestMigrateAndTenantCommands(t *testing.T) {
	c := newCLI(t)
	_, stderr, code := c.run("migrate")
	if code != 0 || !strings.Contains(stderr, "0001_tenancy.sql") {
		t.Fatalf("migrate: %d %s", code, stderr)
	}
	if _, stderr, code = c.run("migrate"); code != 0 || strings.Contains(stderr, "migration applied") {
		t.Fatalf("second migrate: %d %s", code, stderr)
	}

	out, stderr, code := c.run("tenant", "apply", "-f", "tenants")
	if code != 0 || strings.Count(out, "created") != 3 {
		t.Fatalf("apply: %d %s %s", code, out, stderr)
	}
	if out, _, code = c.run("tenant", "apply", "-f", "tenants"); code != 0 || strings.Count(out, "unchanged") != 3 {
		t.Fatalf("second apply: %d %s", code, out)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("slug: bad\nname: Bad\nlanguages: [it]\noffices:\n  - slug: a\n    name: {it: A}\n    hours:\n      - {days: [mon], open: \"9\", close: \"12:00\"}\n"), 0o644)
	_, stderr, code = c.run("tenant", "apply", "-f", bad)
	if code != 1 || !strings.Contains(stderr, bad+":8: offices[0].hours[0].open:") {
		t.Fatalf("malformed manifest: %d %q", code, stderr)
	}

	out, _, code = c.run("tenant", "list", "--json")
	var rows []struct {
		ID      int64    `json:"id"`
		Slug    string   `json:"slug"`
		Name    string   `json:"name"`
		Domains []string `json:"domains"`
	}
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil {
		t.Fatalf("list: %d %v %s", code, err, out)
	}
	if len(rows) != 3 || rows[0].Slug != "lugano" || rows[0].ID == 0 || rows[0].Name != "Città di Lugano" ||
		len(rows[0].Domains) != 2 {
		t.Fatalf("list: %+v", rows)
	}

	if _, _, code = c.run("frobnicate"); code != 2 {
		t.Fatalf("unknown command: exit %d, want 2", code)
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	c := newCLI(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	idp, _ := net.Listen("tcp", "127.0.0.1:0")
	idpAddr := idp.Addr().String()
	idp.Close()
	plugins := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(plugins, "example"), "../../plugins/example").CombinedOutput(); err != nil {
		t.Fatalf("build the example plugin: %v\n%s", err, out)
	}
	c.env = append(c.env, "SPORTELLO_PLUGIN_DIR="+plugins)
	cmd := exec.Command(bin, "serve", "--demo")
	cmd.Dir = "../.."
	cmd.Env = append(c.env, "SPORTELLO_ADDR="+addr, "SPORTELLO_DEV_IDP_ADDR="+idpAddr, "SPORTELLO_LOG_FORMAT=json")
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill() }()

	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(stdout.String(), "/t/lugano/") || !strings.Contains(stdout.String(), "admin@lugano.example / demo-lugano") {
		t.Fatalf("the welcome lacks portals or logins:\n%s", stdout.String())
	}

	// The demo registered and started the plugin; `plugin list` sees it run.
	out, _, code := c.run("plugin", "list", "--json")
	var listed []struct {
		ID     string `json:"id"`
		SHA256 string `json:"sha256"`
		Status string `json:"status"`
		PID    int    `json:"pid"`
	}
	if err := json.Unmarshal([]byte(out), &listed); code != 0 || err != nil || len(listed) != 1 {
		t.Fatalf("plugin list: %d %v %s", code, err, out)
	}
	if p := listed[0]; p.ID != "example" || p.Status != "running" || p.PID <= 0 || len(p.SHA256) != 64 {
		t.Fatalf("plugin list: %+v", p)
	}
	pluginPID := listed[0].PID

	// A request in flight when the signal comes is answered before exit.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "email=a%40b.example&password=x"
	fmt.Fprintf(conn, "POST /t/lugano/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body[:5])
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	io.WriteString(conn, body[5:])
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(status, "403") {
		t.Fatalf("in-flight request: %q %v (a form without CSRF token must get 403)", status, err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(25 * time.Second):
		t.Fatal("serve did not stop after SIGTERM")
	}
	// No plugin process outlives the host.
	if running(pluginPID) {
		t.Fatalf("plugin %d still runs after the host stopped", pluginPID)
	}
	// Structured logs carry the request id and the tenant.
	if !strings.Contains(stderr.String(), `"request_id":`) || !strings.Contains(stderr.String(), `"tenant":"lugano"`) {
		t.Fatalf("logs lack request id or tenant:\n%.2000s", stderr.String())
	}
}

// lockedBuffer collects a running process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running reports whether pid is a live process; a zombie waiting for a
// parent that never reaps it (PID 1 of some sandboxes) has ended.
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
