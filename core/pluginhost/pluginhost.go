// Package pluginhost is the supervisor of the catalogue's service plugins.
//
// Each plugin binary runs as one process serving every tenant. Before each
// start its SHA-256 is checked against the catalogue's pin, and a binary
// that is missing, altered or answers under another id is refused and never
// run. A running plugin is health-checked; a crash fails its calls in
// flight at once and restarts it with exponential backoff, until it has
// crashed MaxCrashes times within CrashWindow: then it is marked failed and
// waits for Restart from the platform console. No plugin outlives the host,
// even one killed with SIGKILL.
//
// What the supervisor sees is recorded in the catalogue (status, reason,
// pid), so that `sportello plugin list` and the console show it; a running
// plugin's record is refreshed every Heartbeat, which is how a reader tells a
// live host's record from one a killed host left behind (see Live).
//
// The supervisor assumes one host per catalogue: several app instances
// sharing a database each run their own plugin processes, and the last one
// to write a record wins.
package pluginhost

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Heartbeat is how often the supervisor refreshes a live plugin's
// catalogue record.
const Heartbeat = 30 * time.Second

// Live reports whether rec was written by a host that is still running:
// a live status refreshed within the last few heartbeats. A host killed
// with SIGKILL cannot record "stopped"; its records go stale instead.
func Live(rec *catalog.Record, now time.Time) bool {
	switch rec.Status {
	case catalog.StatusStarting, catalog.StatusRunning, catalog.StatusRestarting:
		return now.Sub(rec.UpdatedAt) <= 3*Heartbeat
	}
	return false
}

// Options tune the supervisor; zero values take the defaults.
type Options struct {
	// Dir holds the plugin binaries (SPORTELLO_PLUGIN_DIR). Default bin/plugins.
	Dir string
	Log *slog.Logger
	// HealthInterval is the time between Health calls, and their timeout.
	// Default 2s.
	HealthInterval time.Duration
	// StartTimeout bounds exec → handshake, and Init. Default 10s.
	StartTimeout time.Duration
	// CallTimeout bounds one Handle call. Default 30s.
	CallTimeout time.Duration
	// MaxCrashes within CrashWindow mark a plugin failed. Default 3 in 10m.
	MaxCrashes  int
	CrashWindow time.Duration
	// The delay before a restart doubles from BackoffBase up to BackoffMax
	// with each crash, and goes back to BackoffBase once the plugin has run
	// healthy for StableAfter. Defaults 100ms, 5s, 1m.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	StableAfter time.Duration
	// OnExit, when set, is called (in a goroutine of its own) each time a
	// running process of a plugin goes, crashed or restarted: whatever it
	// held in memory, such as the media of live calls, is gone.
	OnExit func(pluginID string)
	// HostAPI configures the Host API that Launch serves to the plugins
	// (hostapi.WithDocuments: where issued documents go, who signs them).
	HostAPI []hostapi.Option
}

func (o Options) withDefaults() Options {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.Dir == "" {
		o.Dir = "bin/plugins"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	def(&o.HealthInterval, 2*time.Second)
	def(&o.StartTimeout, 10*time.Second)
	def(&o.CallTimeout, 30*time.Second)
	def(&o.CrashWindow, 10*time.Minute)
	def(&o.BackoffBase, 100*time.Millisecond)
	def(&o.BackoffMax, 5*time.Second)
	def(&o.StableAfter, time.Minute)
	if o.MaxCrashes <= 0 {
		o.MaxCrashes = 3
	}
	return o
}

// Errors of Dispatch and Restart, wrapped with the plugin and the reason.
// The HTTP layer answers 503 to ErrUnavailable and ErrFailed, 404 to
// ErrNotFound.
var (
	// ErrNotFound: no such plugin in the catalogue.
	ErrNotFound = errors.New("no such plugin")
	// ErrUnavailable: the plugin is starting, restarting or stopped, crashed
	// during the call, or did not answer within CallTimeout. Worth a retry.
	ErrUnavailable = errors.New("plugin unavailable")
	// ErrFailed: the plugin crashed too often or its binary was refused; it
	// stays down until Restart.
	ErrFailed = errors.New("plugin failed")
)

// PluginStatus is what the console shows of one plugin.
type PluginStatus struct {
	ID        string        `json:"id"`
	Version   string        `json:"version"`
	SHA256    string        `json:"sha256"`
	Status    string        `json:"status"` // catalog.Status*
	Reason    string        `json:"reason,omitempty"`
	PID       int           `json:"pid,omitempty"`
	StartedAt time.Time     `json:"started_at,omitzero"`
	ColdStart time.Duration `json:"cold_start_ns,omitempty"` // exec → Init answered
	// Crashes counts the crashes within the crash window; Restarts every
	// restart after a crash since the host started.
	Crashes   int       `json:"crashes"`
	Restarts  int       `json:"restarts"`
	LastCrash string    `json:"last_crash,omitempty"`
	CrashedAt time.Time `json:"crashed_at,omitzero"`
}

// Supervisor starts, watches and restarts the catalogue's plugins.
type Supervisor struct {
	cat  *catalog.Catalog
	api  *hostapi.Server
	opts Options
	log  *slog.Logger

	// life bounds every plugin's supervision loop; Stop cancels it.
	life   context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	units   map[string]*unit
	stopped bool
}

// New returns a supervisor of cat's plugins that serves api to them. Nothing
// runs until Start.
func New(cat *catalog.Catalog, api *hostapi.Server, opts Options) *Supervisor {
	opts = opts.withDefaults()
	life, cancel := context.WithCancel(context.Background())
	return &Supervisor{cat: cat, api: api, opts: opts, log: opts.Log, life: life, cancel: cancel,
		units: map[string]*unit{}}
}

// Launch is how `sportello serve` runs the plugins: a supervisor of the
// catalogue on db serving them a Host API on db, every plugin started.
// Call Stop once the HTTP server has drained, before db is closed.
func Launch(ctx context.Context, db *store.DB, opts Options) (*Supervisor, error) {
	sup := New(catalog.New(db), hostapi.New(db, opts.Log, opts.HostAPI...), opts)
	if err := sup.Start(ctx); err != nil {
		sup.Stop()
		return nil, err
	}
	return sup, nil
}

// Start starts every plugin of the catalogue and returns when each has
// either started, been refused or failed its first start: a plugin that
// cannot start does not keep the host from serving (its status says why).
// Only an unreadable catalogue is an error.
func (s *Supervisor) Start(ctx context.Context) error {
	recs, err := s.cat.List(ctx)
	if err != nil {
		return fmt.Errorf("start plugins: %w", err)
	}
	var waits []chan error
	for _, rec := range recs {
		u, w, err := s.add(rec)
		if err != nil {
			return err
		}
		if u != nil {
			waits = append(waits, w)
		}
	}
	for _, w := range waits {
		select {
		case <-w:
		case <-ctx.Done():
			return fmt.Errorf("start plugins: %w", ctx.Err())
		}
	}
	return nil
}

// add starts supervising rec, unless it already is; the channel reports
// the outcome of the first start.
func (s *Supervisor) add(rec *catalog.Record) (*unit, chan error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, nil, fmt.Errorf("plugin %s: %w: the host is stopping", rec.ID, ErrUnavailable)
	}
	if _, ok := s.units[rec.ID]; ok {
		return nil, nil, nil
	}
	u := newUnit(s, rec)
	w := make(chan error, 1)
	u.waiters = append(u.waiters, w)
	s.units[rec.ID] = u
	go u.loop(s.life)
	return u, w, nil
}

func (s *Supervisor) unit(id string) *unit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.units[id]
}

// Restart starts a plugin afresh: it rereads its catalogue record (a binary
// registered again since is checked against its new pin), forgets its
// crashes, and stops the running process if there is one. It returns once
// the new start has succeeded (nil) or not (ErrFailed, ErrUnavailable with
// the reason); ctx bounds only the wait. A plugin registered after Start is
// picked up by its first Restart.
func (s *Supervisor) Restart(ctx context.Context, id string) error {
	rec, err := s.cat.Get(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return fmt.Errorf("restart plugin %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("restart plugin %s: %w", id, err)
	}
	var w chan error
	u := s.unit(id)
	if u == nil {
		if u, w, err = s.add(rec); err != nil {
			return err
		}
	}
	if w == nil {
		if u == nil { // added by a concurrent Restart in between
			u = s.unit(id)
		}
		w = u.requestRestart(rec)
	}
	select {
	case err := <-w:
		return err
	case <-u.done:
		// The loop answers its waiters before it ends; only a request made
		// after that is left unanswered.
		select {
		case err := <-w:
			return err
		default:
			return fmt.Errorf("restart plugin %s: %w: the host is stopping", id, ErrUnavailable)
		}
	case <-ctx.Done():
		return fmt.Errorf("restart plugin %s: %w", id, ctx.Err())
	}
}

// Stop stops every plugin and waits until their processes are gone. The
// supervisor cannot be started again.
func (s *Supervisor) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	units := make([]*unit, 0, len(s.units))
	for _, u := range s.units {
		units = append(units, u)
	}
	s.mu.Unlock()
	s.cancel()
	var wg sync.WaitGroup
	for _, u := range units {
		wg.Go(func() {
			<-u.done
			u.set(catalog.StatusStopped, "the host stopped", 0)
		})
	}
	wg.Wait()
}

// Status is every supervised plugin's state, by id.
func (s *Supervisor) Status() []PluginStatus {
	s.mu.Lock()
	units := make([]*unit, 0, len(s.units))
	for _, u := range s.units {
		units = append(units, u)
	}
	s.mu.Unlock()
	out := make([]PluginStatus, 0, len(units))
	for _, u := range units {
		out = append(out, u.snapshot())
	}
	slices.SortFunc(out, func(a, b PluginStatus) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Manifest is what plugin id said of itself when it last started (or, if
// it has not started since the host did, what the catalogue kept of it).
func (s *Supervisor) Manifest(id string) (*pb.Manifest, bool) {
	u := s.unit(id)
	if u == nil {
		return nil, false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.manifest, u.manifest != nil
}

// Manifests are the manifests of every plugin that has one, by id.
func (s *Supervisor) Manifests() map[string]*pb.Manifest {
	s.mu.Lock()
	units := make([]*unit, 0, len(s.units))
	for _, u := range s.units {
		units = append(units, u)
	}
	s.mu.Unlock()
	out := make(map[string]*pb.Manifest, len(units))
	for _, u := range units {
		u.mu.Lock()
		if u.manifest != nil {
			out[u.id] = u.manifest
		}
		u.mu.Unlock()
	}
	return out
}
