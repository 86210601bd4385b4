package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

const (
	// exitPoll is how often a running process is checked for having
	// exited: go-plugin offers a flag, not a channel. Calls in flight learn
	// of a crash sooner, from their broken connection.
	exitPoll = 50 * time.Millisecond
	// healthFailLimit consecutive failed Health calls count as a crash: one
	// slow answer under load is not a reason to kill a plugin.
	healthFailLimit = 2
)

// unit supervises one catalogue plugin through its successive processes.
// One goroutine (loop) owns the processes; Dispatch only reads serving.
type unit struct {
	id  string
	sup *Supervisor
	log *slog.Logger

	// serving is the process calls go to; nil unless the plugin runs.
	serving atomic.Pointer[instance]

	// wake tells the loop that Restart asked for a fresh start. It is sent
	// with a waiter added, and drained with the waiters taken, both under mu:
	// whoever receives it finds the waiters still listed for the next start.
	wake chan struct{}
	done chan struct{} // closed when the loop has returned

	mu        sync.Mutex
	rec       *catalog.Record
	status    string
	reason    string
	pid       int
	startedAt time.Time
	coldStart time.Duration
	crashes   []time.Time // within the crash window
	restarts  int
	lastCrash string
	crashedAt time.Time
	manifest  *pb.Manifest
	waiters   []chan error // answered with the outcome of the next start
	forget    bool         // Restart asked: forget the crashes before starting
}

func newUnit(s *Supervisor, rec *catalog.Record) *unit {
	return &unit{id: rec.ID, sup: s, log: s.log.With("plugin", rec.ID), rec: rec, status: rec.Status,
		manifest: rec.Manifest, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// requestRestart asks the loop for a fresh start with rec; the channel
// gets its outcome.
func (u *unit) requestRestart(rec *catalog.Record) chan error {
	w := make(chan error, 1)
	u.mu.Lock()
	u.rec = rec
	u.forget = true
	u.waiters = append(u.waiters, w)
	select {
	case u.wake <- struct{}{}:
	default:
	}
	u.mu.Unlock()
	return w
}

// refusal is a start that must not be retried until someone acts: the
// binary is missing, altered, or is not the plugin it was registered as.
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

// loop starts the plugin, watches it, and restarts it after a crash, until
// life ends.
func (u *unit) loop(life context.Context) {
	defer func() {
		u.serving.Store(nil)
		u.mu.Lock()
		answer(&u.waiters, fmt.Errorf("plugin %s: %w: the host is stopping", u.id, ErrUnavailable))
		u.mu.Unlock()
		close(u.done)
	}()
	backoff := u.sup.opts.BackoffBase
	status := catalog.StatusStarting
	for {
		u.mu.Lock()
		waiters := u.waiters
		u.waiters = nil
		select {
		case <-u.wake:
		default:
		}
		if u.forget {
			u.crashes, u.forget = nil, false
			backoff = u.sup.opts.BackoffBase
			status = catalog.StatusStarting
		}
		rec := u.rec
		u.mu.Unlock()

		u.set(status, u.currentReason(status), 0)
		inst, err := u.start(life, rec)
		if life.Err() != nil {
			if inst != nil {
				inst.stop(errors.New("the host is stopping"), true)
			}
			answer(&waiters, fmt.Errorf("plugin %s: %w: the host is stopping", u.id, ErrUnavailable))
			return
		}
		var crash string
		var ref *refusal
		switch {
		case errors.As(err, &ref):
			u.set(catalog.StatusRefused, ref.reason, 0)
			u.log.Error("plugin refused", "reason", ref.reason)
			answer(&waiters, fmt.Errorf("plugin %s: %w: refused: %s", u.id, ErrFailed, ref.reason))
			if !u.idle(life) {
				return
			}
			continue
		case err != nil:
			crash = "start failed: " + err.Error()
		default:
			u.running(inst)
			answer(&waiters, nil)
			var restart bool
			crash, restart = u.watch(life, inst, func() { backoff = u.sup.opts.BackoffBase })
			u.serving.Store(nil)
			if f := u.sup.opts.OnExit; f != nil && life.Err() == nil {
				go f(u.id)
			}
			switch {
			case life.Err() != nil:
				inst.stop(errors.New("the host is stopping"), true)
				return
			case restart:
				u.log.Info("plugin restart requested")
				inst.stop(errors.New("restarted from the console"), true)
				continue
			}
			inst.stop(errors.New(crash), false)
		}

		failed := u.crashed(crash)
		if failed {
			reason := fmt.Sprintf("%d crashes within %s, the last: %s", u.sup.opts.MaxCrashes, u.sup.opts.CrashWindow, crash)
			u.set(catalog.StatusFailed, reason, 0)
			u.log.Error("plugin failed: not restarted until the console restarts it", "reason", reason)
			answer(&waiters, fmt.Errorf("plugin %s: %w: %s", u.id, ErrFailed, reason))
			if !u.idle(life) {
				return
			}
			continue
		}
		status = catalog.StatusRestarting
		u.set(status, crash, 0)
		u.log.Warn("plugin crashed, restarting", "reason", crash, "after", backoff)
		answer(&waiters, fmt.Errorf("plugin %s: %w: %s", u.id, ErrUnavailable, crash))
		select {
		case <-time.After(backoff):
		case <-u.wake: // a Restart does not wait out the backoff
		case <-life.Done():
			return
		}
		backoff = min(2*backoff, u.sup.opts.BackoffMax)
	}
}

// currentReason keeps the crash that caused a restart visible while the
// plugin restarts.
func (u *unit) currentReason(status string) string {
	if status != catalog.StatusRestarting {
		return ""
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.reason
}

// idle waits for a Restart (true) or the end of life (false).
func (u *unit) idle(life context.Context) bool {
	select {
	case <-u.wake:
		return true
	case <-life.Done():
		return false
	}
}

// answer tells waiters the outcome of a start, once: each has room for
// one answer, and one whose asker gave up must not block the loop.
func answer(waiters *[]chan error, err error) {
	for _, w := range *waiters {
		select {
		case w <- err:
		default:
		}
	}
	*waiters = nil
}

// start verifies the binary and starts a process of it.
func (u *unit) start(life context.Context, rec *catalog.Record) (*instance, error) {
	path, err := u.sup.binary(rec)
	if err != nil {
		return nil, err
	}
	return u.sup.launch(life, rec, path, u.log)
}

func (u *unit) running(inst *instance) {
	u.mu.Lock()
	u.startedAt = inst.started
	u.coldStart = inst.cold
	u.manifest = inst.manifest
	// Together: whoever reads "running" can call, and the other way round.
	u.status, u.reason, u.pid = catalog.StatusRunning, "", inst.pid
	u.serving.Store(inst)
	u.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := u.sup.cat.SetManifest(ctx, u.id, inst.manifest); err != nil {
		u.log.Error("record the plugin's manifest", "err", err)
	}
	u.record(catalog.StatusRunning, "", inst.pid)
	u.log.Info("plugin running", "version", inst.manifest.GetVersion(), "pid", inst.pid,
		"cold_start_ms", float64(inst.cold.Microseconds())/1000)
}

// watch returns when the process has to go: crashed (the reason), restart
// asked, or life over. stable is called once the process has run healthy
// for StableAfter.
func (u *unit) watch(life context.Context, inst *instance, stable func()) (crash string, restart bool) {
	o := u.sup.opts
	exit := time.NewTicker(exitPoll)
	defer exit.Stop()
	health := time.NewTicker(o.HealthInterval)
	defer health.Stop()
	beat := time.NewTicker(Heartbeat)
	defer beat.Stop()
	fails := 0
	stableAt := inst.started.Add(o.StableAfter)
	for {
		select {
		case <-life.Done():
			return "", false
		case <-u.wake:
			return "", true
		case <-exit.C:
			if inst.client.Exited() {
				return inst.exitReason(), false
			}
		case <-health.C:
			err := inst.health(life, o.HealthInterval)
			if life.Err() != nil {
				return "", false
			}
			if inst.client.Exited() {
				return inst.exitReason(), false
			}
			if err != nil {
				fails++
				u.log.Warn("plugin health check failed", "err", err, "failures", fails)
				if fails >= healthFailLimit {
					return fmt.Sprintf("no answer to %d health checks: %v", fails, err), false
				}
				continue
			}
			fails = 0
			if !stableAt.IsZero() && time.Now().After(stableAt) {
				stableAt = time.Time{}
				stable()
			}
		case <-beat.C:
			u.record(catalog.StatusRunning, "", inst.pid)
		}
	}
}

// crashed records a crash and reports whether it was one too many.
func (u *unit) crashed(reason string) bool {
	now := time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	keep := u.crashes[:0]
	for _, t := range u.crashes {
		if now.Sub(t) < u.sup.opts.CrashWindow {
			keep = append(keep, t)
		}
	}
	u.crashes = append(keep, now)
	u.lastCrash, u.crashedAt = reason, now
	if len(u.crashes) >= u.sup.opts.MaxCrashes {
		return true
	}
	u.restarts++
	return false
}

// set records the status in memory and in the catalogue.
func (u *unit) set(status, reason string, pid int) {
	u.mu.Lock()
	u.status, u.reason, u.pid = status, reason, pid
	u.mu.Unlock()
	u.record(status, reason, pid)
}

// record writes the status to the catalogue.
func (u *unit) record(status, reason string, pid int) {
	// Not bound to life: the last word ("stopped") is written after it ends.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := u.sup.cat.SetStatus(ctx, u.id, status, truncate(reason, 2000), pid); err != nil {
		u.log.Error("record the plugin's status", "status", status, "err", err)
	}
}

// ready is the process to call, or why there is none.
func (u *unit) ready() (*instance, error) {
	if inst := u.serving.Load(); inst != nil {
		return inst, nil
	}
	u.mu.Lock()
	status, reason := u.status, u.reason
	u.mu.Unlock()
	if reason != "" {
		reason = ": " + reason
	}
	switch status {
	case catalog.StatusFailed, catalog.StatusRefused:
		return nil, fmt.Errorf("plugin %s: %w: %s%s", u.id, ErrFailed, status, reason)
	case catalog.StatusRunning: // the process just ended; the status follows
		status = "its process ended"
	}
	return nil, fmt.Errorf("plugin %s: %w: %s%s", u.id, ErrUnavailable, status, reason)
}

func (u *unit) snapshot() PluginStatus {
	u.mu.Lock()
	defer u.mu.Unlock()
	ps := PluginStatus{ID: u.id, SHA256: u.rec.SHA256, Version: u.rec.Version, Status: u.status,
		Reason: u.reason, PID: u.pid, Restarts: u.restarts, LastCrash: u.lastCrash, CrashedAt: u.crashedAt}
	if u.manifest != nil {
		ps.Version = u.manifest.GetVersion()
	}
	if u.status == catalog.StatusRunning {
		ps.StartedAt, ps.ColdStart = u.startedAt, u.coldStart
	}
	for _, t := range u.crashes {
		if time.Since(t) < u.sup.opts.CrashWindow {
			ps.Crashes++
		}
	}
	return ps
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // not in the middle of a UTF-8 sequence
		n--
	}
	return s[:n] + "…"
}
