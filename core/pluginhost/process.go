package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// instance is one process of a plugin.
type instance struct {
	client   *plugin.Client
	conn     *sdk.Conn
	cmd      *exec.Cmd
	pid      int
	started  time.Time
	cold     time.Duration // exec → Init answered
	manifest *pb.Manifest
	output   *lastLine

	// ctx ends, with the reason as its cause, when the supervisor stops
	// using the process; calls in flight hang off it and fail at once.
	ctx    context.Context
	cancel context.CancelCauseFunc
	// release frees the OS thread the process was forked from (see spawn).
	release func()
}

// binary resolves rec's file under the plugin folder and checks it against
// its pin. Every failure is a refusal: retrying cannot fix it.
func (s *Supervisor) binary(rec *catalog.Record) (string, error) {
	if rec.File == "" || rec.File != filepath.Base(rec.File) || rec.File == "." || rec.File == ".." {
		return "", &refusal{fmt.Sprintf("file %q is not a plain name inside the plugin folder", rec.File)}
	}
	dir, err := filepath.Abs(s.opts.Dir)
	if err != nil {
		return "", &refusal{fmt.Sprintf("plugin folder %s: %v", s.opts.Dir, err)}
	}
	// A symbolic link could point anywhere: what runs must sit in the
	// folder once links are followed, as the folder itself may be a link.
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", &refusal{fmt.Sprintf("plugin folder %s: %v", dir, err)}
	}
	path, err := filepath.EvalSymlinks(filepath.Join(dir, rec.File))
	if errors.Is(err, fs.ErrNotExist) {
		return "", &refusal{fmt.Sprintf("binary %s is missing", filepath.Join(dir, rec.File))}
	}
	if err != nil {
		return "", &refusal{fmt.Sprintf("binary %s: %v", rec.File, err)}
	}
	if rel, err := filepath.Rel(realDir, path); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", &refusal{fmt.Sprintf("binary %s resolves to %s, outside the plugin folder %s", rec.File, path, realDir)}
	}
	sum, err := catalog.FileSHA256(path)
	if err != nil {
		return "", &refusal{fmt.Sprintf("binary %s: %v", path, err)}
	}
	if sum != rec.SHA256 {
		return "", &refusal{fmt.Sprintf("binary %s changed since it was registered: SHA-256 %s, registered %s", path, sum, rec.SHA256)}
	}
	return path, nil
}

// pluginEnv is what a plugin inherits of the host's environment: enough
// for the Go runtime and the locale, and none of the host's secrets (the
// database URL and password live in SPORTELLO_* variables).
func pluginEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL",
		"GODEBUG", "GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GOTRACEBACK"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// launch starts a process of the verified binary at path, serves it the
// Host API and initialises it.
func (s *Supervisor) launch(life context.Context, rec *catalog.Record, path string, log *slog.Logger) (*instance, error) {
	sum, err := hex.DecodeString(rec.SHA256)
	if err != nil {
		return nil, &refusal{fmt.Sprintf("registered SHA-256 %q: %v", rec.SHA256, err)}
	}
	cmd := exec.Command(path)
	cmd.Env = pluginEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// The kernel kills the plugin when the host dies, SIGKILL included.
		Pdeathsig: syscall.SIGKILL,
		// Its own process group: a Ctrl-C meant for the host does not reach
		// the plugin before the host stops it, and the group can be swept.
		Setpgid: true,
	}
	output := &lastLine{}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.VersionedPlugins(nil),
		Cmd:              cmd,
		// Checked again by go-plugin right before exec: the window in which
		// the file could be swapped shrinks to the exec itself.
		SecureConfig:     &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           newHCLogger(log),
		Stderr:           output,
		SyncStdout:       &lineLogger{log: log, stream: "stdout"},
		SyncStderr:       &lineLogger{log: log, stream: "stderr", last: output},
		StartTimeout:     s.opts.StartTimeout,
		SkipHostEnv:      true,
		GRPCDialOptions:  pluginDialOptions,
	})
	t0 := time.Now()
	release, err := spawn(client)
	if err != nil {
		client.Kill()
		release()
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			return nil, &refusal{fmt.Sprintf("binary %s changed while it was being started", path)}
		}
		return nil, fmt.Errorf("%w%s", err, output.suffix())
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	inst := &instance{client: client, cmd: cmd, pid: cmd.Process.Pid, started: t0, output: output,
		ctx: ctx, cancel: cancel, release: release}
	fail := func(err error) (*instance, error) {
		inst.stop(err, false)
		return nil, err
	}
	proto, err := client.Client()
	if err != nil {
		return fail(fmt.Errorf("connect: %w%s", err, output.suffix()))
	}
	raw, err := proto.Dispense(sdk.PluginName)
	if err != nil {
		return fail(fmt.Errorf("dispense %s: %w", sdk.PluginName, err))
	}
	conn, ok := raw.(*sdk.Conn)
	if !ok {
		return fail(fmt.Errorf("dispense %s: got %T", sdk.PluginName, raw))
	}
	inst.conn = conn
	hostAPI := s.api.ForPlugin(rec.ID)
	brokerID := conn.Broker.NextId()
	go conn.Broker.AcceptAndServe(brokerID, func(opts []grpc.ServerOption) *grpc.Server {
		srv := grpc.NewServer(append(opts, hostAPIServerOptions...)...)
		pb.RegisterHostAPIServer(srv, hostAPI)
		return srv
	})
	ictx, icancel := context.WithTimeout(life, s.opts.StartTimeout)
	defer icancel()
	m, err := conn.Plugin.Init(ictx, &pb.InitRequest{HostApiBrokerId: brokerID, HostProtocol: sdk.ProtocolVersion})
	if status.Code(err) == codes.FailedPrecondition {
		return fail(&refusal{fmt.Sprintf("the plugin refused the host: %s", status.Convert(err).Message())})
	}
	if err != nil {
		return fail(fmt.Errorf("init: %w%s", err, output.suffix()))
	}
	if m.GetId() != rec.ID {
		return fail(&refusal{fmt.Sprintf("binary %s says it is plugin %q, registered as %q", path, m.GetId(), rec.ID)})
	}
	inst.manifest = m
	inst.cold = time.Since(t0)
	return inst, nil
}

// Fixed flow-control windows switch off gRPC's bandwidth estimation, whose
// pings cost a round of syscalls and wake-ups on both sides of a call on a
// connection where bandwidth is never the limit: a local socket carrying
// small messages.
var (
	pluginDialOptions = []grpc.DialOption{
		grpc.WithInitialWindowSize(1 << 20),
		grpc.WithInitialConnWindowSize(1 << 20),
	}
	hostAPIServerOptions = []grpc.ServerOption{
		grpc.InitialWindowSize(1 << 20),
		grpc.InitialConnWindowSize(1 << 20),
		// Host API calls run on a pool of goroutines rather than a new
		// one each.
		grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))),
	}
)

// spawn starts the process from a goroutine locked to its OS thread until
// release. Pdeathsig fires when the *thread* that forked the child ends,
// not the process (golang/go#27505), and the Go runtime ends a thread
// whenever a goroutine exits while locked to it: forked from an ordinary
// goroutine, a plugin could be killed at random by unrelated code. Locked,
// the thread cannot be ended under the plugin. release unlocks rather than
// exits: the thread may have forked other children before (the managed
// PostgreSQL, say), and ending it would signal them. Call release once the
// process is gone.
func spawn(client *plugin.Client) (release func(), err error) {
	errc := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		_, err := client.Start()
		errc <- err
		<-done
	}()
	return func() { close(done) }, <-errc
}

// health asks the plugin whether it can serve.
func (inst *instance) health(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := inst.conn.Plugin.Health(ctx, &pb.HealthRequest{})
	return err
}

// exitReason says how the process ended, once client.Exited.
func (inst *instance) exitReason() string {
	// go-plugin's wait on cmd happens before Exited turns true, under the
	// client's lock: ProcessState is set and safe to read.
	how := "exited"
	if ps := inst.cmd.ProcessState; ps != nil {
		how = ps.String()
	}
	return "process " + how + inst.output.suffix()
}

// stop fails the calls in flight with cause, ends the process (asking it
// first when graceful) and everything in its process group, and releases
// its thread. It waits until the process is gone.
func (inst *instance) stop(cause error, graceful bool) {
	inst.cancel(cause)
	if !graceful {
		_ = syscall.Kill(-inst.pid, syscall.SIGKILL)
	}
	// go-plugin asks the plugin to shut down, kills it 2 s later, and waits
	// for the process. The asking is an RPC without a deadline, though: a
	// frozen plugin (stopped, or wedged so that it never answers) would
	// hold it forever, so the kill comes from here past a bound.
	killed := make(chan struct{})
	go func() {
		inst.client.Kill()
		close(killed)
	}()
	select {
	case <-killed:
	case <-time.After(killGrace):
		_ = syscall.Kill(-inst.pid, syscall.SIGKILL)
		<-killed
	}
	// Whatever the plugin may have started shares its group. The group id
	// cannot have been reused while any member is alive.
	_ = syscall.Kill(-inst.pid, syscall.SIGKILL)
	inst.release()
}

// killGrace is how long a plugin asked to stop has before it is killed.
const killGrace = 3 * time.Second
