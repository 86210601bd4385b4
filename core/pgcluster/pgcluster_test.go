package pgcluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun/driver/pgdriver"
)

func TestParseMajor(t *testing.T) {
	for in, want := range map[string]int{
		"postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)": 15,
		"postgres (PostgreSQL) 17.2":                           17,
		"postgres (PostgreSQL) 9.6.24":                         9,
		"nonsense":                                             0,
	} {
		if got := parseMajor(in); got != want {
			t.Errorf("parseMajor(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestRunningReadsThePidFile(t *testing.T) {
	dir := t.TempDir()
	if _, ok := Running(dir); ok {
		t.Fatal("an empty folder reported a running server")
	}
	write := func(pid int) {
		data := fmt.Sprintf("%d\n%s\n1700000000\n54321\n\n127.0.0.1\n", pid, dir)
		if err := os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(os.Getpid())
	if port, ok := Running(dir); !ok || port != 54321 {
		t.Fatalf("live pid: %d %v", port, ok)
	}
	write(1 << 22) // beyond pid_max: no such process
	if _, ok := Running(dir); ok {
		t.Fatal("a stale pid file reported a running server")
	}
}

// Start, stop, and start again on the same folder: the data survives, as
// it must between two `make run`.
func TestStartKeepsDataAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	exec := func(c *Cluster, q string) error {
		db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(c.URL("postgres"))))
		defer db.Close()
		_, err := db.ExecContext(ctx, q)
		return err
	}
	c, err := Start(ctx, Options{Dir: dir, Throwaway: false})
	if err != nil {
		t.Fatal(err)
	}
	if port, ok := Running(dir); !ok || port != c.Port() {
		t.Errorf("Running while up: %d %v, want %d", port, ok, c.Port())
	}
	if err := exec(c, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, ok := Running(dir); ok {
		t.Error("Running after stop")
	}
	c, err = Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if err := exec(c, "DO $$ BEGIN IF (SELECT x FROM kept) <> 42 THEN RAISE 'lost'; END IF; END $$"); err != nil {
		t.Fatalf("data after restart: %v", err)
	}
}

// TestStartTellsItsOwnServer: a server that cannot bind its port (another
// cluster took it a moment before) does not pass for ready because the
// other cluster answers there.
func TestStartTellsItsOwnServer(t *testing.T) {
	ctx := context.Background()
	dirs := make([]string, 2)
	for i := range dirs {
		d, err := os.MkdirTemp("", "pgcluster-test-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(d)
		dirs[i] = d
	}
	first, err := Start(ctx, Options{Dir: dirs[0], Throwaway: true})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	second, err := Start(ctx, Options{Dir: dirs[1], Port: first.Port(), Throwaway: true})
	if err == nil {
		second.Stop()
		t.Fatal("a server without its port started as if it had it")
	}
	if !errors.Is(err, errStartup) {
		t.Fatalf("got %v, want a failed start", err)
	}
}
