package pluginhost

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/store/pgtest"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

func TestProbeHealthLatency(t *testing.T) {
	ctx := context.Background()
	pg, err := pgtest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	db := pg.NewDB(t)
	dir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "echo"), "./testdata/echo").CombinedOutput(); err != nil {
		t.Fatal(err, string(out))
	}
	cat := catalog.New(db.App)
	cat.Register(ctx, dir, "echo")
	sup := New(cat, hostapi.New(db.App, nil), Options{Dir: dir, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	sup.Start(ctx)
	defer sup.Stop()
	inst := sup.unit("echo").serving.Load()
	for _, c := range []int{1, 64} {
		var mu sync.Mutex
		var lat []time.Duration
		deadline := time.Now().Add(2 * time.Second)
		var wg sync.WaitGroup
		for range c {
			wg.Go(func() {
				var l []time.Duration
				for time.Now().Before(deadline) {
					t0 := time.Now()
					inst.conn.Plugin.Health(ctx, &pb.HealthRequest{})
					l = append(l, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, l...)
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.Sort(lat)
		t.Logf("c=%d n=%d rps=%.0f p50=%s p99=%s", c, len(lat), float64(len(lat))/2, lat[len(lat)/2], lat[len(lat)*99/100])
	}
}
