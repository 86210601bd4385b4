// Command host is a minimal Sportello host for the orphan test: it
// supervises the catalogue's plugins, prints "pid N" for each running one,
// and serves until killed. The test kills it with SIGKILL and expects its
// plugins to die with it.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/core/store"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: host DATABASE_URL PLUGIN_DIR")
		os.Exit(2)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, os.Args[1], 4)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sup := pluginhost.New(catalog.New(db), hostapi.New(db, log), pluginhost.Options{Dir: os.Args[2], Log: log})
	if err := sup.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Goroutines that end locked to their thread make the runtime end the
	// thread: were a plugin forked from one of them, Pdeathsig would kill it
	// now. The test checks that the plugins live on.
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() { runtime.LockOSThread() })
	}
	wg.Wait()
	time.Sleep(100 * time.Millisecond)
	for _, st := range sup.Status() {
		fmt.Printf("pid %d %s %s\n", st.PID, st.ID, st.Status)
	}
	fmt.Println("ready")
	select {}
}
