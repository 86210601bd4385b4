package pluginhost_test

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/core/pluginhost"
)

// TestNoOrphans kills a host with SIGKILL, which it cannot catch, and
// expects its plugins to die with it. The malicious plugin does not use the
// SDK and so lacks its watch on the parent: only the kernel (Pdeathsig) can
// end it.
func TestNoOrphans(t *testing.T) {
	f := setup(t, pluginhost.Options{}, "echo", "malicious")
	host := exec.Command(filepath.Join(bins, "host"), f.db.AppURL, f.dir)
	out, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	host.Stderr = f.log
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = host.Process.Kill()
		_ = host.Wait()
		for _, pid := range processesIn(f.dir) { // after a failure: leave nothing behind
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	pids := map[string]int{}
	lines := bufio.NewScanner(out)
	for lines.Scan() && lines.Text() != "ready" {
		var pid int
		var id, status string
		if _, err := fmt.Sscanf(lines.Text(), "pid %d %s %s", &pid, &id, &status); err != nil || status != "running" {
			t.Fatalf("host said %q", lines.Text())
		}
		pids[id] = pid
	}
	if len(pids) != 2 {
		t.Fatalf("plugins %v", pids)
	}
	for id, pid := range pids {
		if !alive(pid) {
			t.Fatalf("%s (%d) not running", id, pid)
		}
	}
	// Let the host's runtime settle (idle threads, GC) before the kill.
	time.Sleep(300 * time.Millisecond)

	if err := host.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = host.Wait()
	t0 := time.Now()
	for id, pid := range pids {
		eventually(t, 2*time.Second, id+" gone after the host was killed", func() bool { return !alive(pid) })
	}
	t.Logf("plugins gone %s after the host", time.Since(t0))
	if rest := processesIn(f.dir); len(rest) != 0 {
		t.Errorf("still running from the plugin folder: %v", rest)
	}
	if strings.Contains(f.log.String(), "panic") {
		t.Errorf("host log:\n%s", f.log.String())
	}
}
