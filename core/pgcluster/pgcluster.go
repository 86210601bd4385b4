// Package pgcluster runs a PostgreSQL server that the project manages itself:
// the persistent one behind `make run` and the throwaway ones the tests start.
//
// It uses the system's PostgreSQL binaries (15 or newer). initdb and postgres
// refuse to run as root, so when the process is root the server runs as the
// unprivileged "postgres" user that the Debian package creates.
package pgcluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// MinVersion is the oldest PostgreSQL major version the project supports.
const MinVersion = 15

// Superuser is the bootstrap role initdb creates; only migrations use it.
const Superuser = "postgres"

// ErrNoBinaries means no usable PostgreSQL installation was found.
var ErrNoBinaries = errors.New("PostgreSQL binaries not found")

// Options shape a cluster.
type Options struct {
	// Dir is the data directory. It is created and initialised when empty.
	Dir string
	// Port to listen on (127.0.0.1 only). Zero picks a free one.
	Port int
	// Throwaway turns off durability for speed; for test clusters only.
	Throwaway bool
	// Log receives the server's own output; nil discards it.
	Log io.Writer
}

// Cluster is a running PostgreSQL server.
type Cluster struct {
	dir  string
	port int
	cmd  *exec.Cmd
	done chan error
}

// FindBinaries returns the directory holding initdb and postgres: the PATH
// first, then Debian's versioned folders, newest first.
func FindBinaries() (string, error) {
	var candidates []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			candidates = append(candidates, filepath.Dir(real))
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versions, func(i, j int) bool { return majorOf(versions[i]) > majorOf(versions[j]) })
	candidates = append(candidates, versions...)
	for _, dir := range candidates {
		if !executable(filepath.Join(dir, "initdb")) || !executable(filepath.Join(dir, "postgres")) {
			continue
		}
		out, err := exec.Command(filepath.Join(dir, "postgres"), "--version").Output()
		if err != nil {
			continue
		}
		if v := parseMajor(string(out)); v >= MinVersion {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w (need PostgreSQL %d or newer)", ErrNoBinaries, MinVersion)
}

// EnsureBinaries finds the PostgreSQL binaries and, when there are none and
// the process is root, installs Debian's postgresql package. An ordinary user
// gets the exact command to run instead.
func EnsureBinaries(ctx context.Context, log io.Writer) (string, error) {
	dir, err := FindBinaries()
	if err == nil {
		return dir, nil
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("%w: install them with `sudo apt-get install -y postgresql` and run again", err)
	}
	fmt.Fprintln(log, "PostgreSQL not found: installing the Debian package postgresql")
	for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "postgresql"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("apt-get %s: %w", args[0], err)
		}
	}
	return FindBinaries()
}

// Start initialises the data directory if needed and starts the server,
// returning once it accepts connections.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	bin, err := EnsureBinaries(ctx, orDiscard(opts.Log))
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	if err := prepareDir(dir, cred); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := initdb(ctx, bin, dir, cred, opts.Log); err != nil {
			return nil, err
		}
	}
	port := opts.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	args := []string{
		"-D", dir,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "max_connections=300",
	}
	if opts.Throwaway {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	c, err := launch(ctx, bin, dir, port, args, cred, opts)
	// A port found free may be taken by the time the server binds it;
	// a port of our own choosing is worth another try.
	for try := 1; errors.Is(err, errStartup) && opts.Port == 0 && try < 5; try++ {
		if port, err = freePort(); err != nil {
			return nil, err
		}
		args[3] = strconv.Itoa(port)
		c, err = launch(ctx, bin, dir, port, args, cred, opts)
	}
	return c, err
}

// errStartup: the server exited while starting (a port taken, say).
var errStartup = errors.New("postgres exited during start-up")

func launch(ctx context.Context, bin, dir string, port int, args []string, cred *syscall.Credential, opts Options) (*Cluster, error) {
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		// A host killed with SIGKILL must not leave its database behind:
		// the kernel asks the server for a fast shutdown.
		Pdeathsig: syscall.SIGINT,
		Setpgid:   true,
	}
	cmd.Stdout, cmd.Stderr = orDiscard(opts.Log), orDiscard(opts.Log)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	c := &Cluster{dir: dir, port: port, cmd: cmd, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	if err := c.waitReady(ctx, 60*time.Second); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

// Port is the TCP port on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// Dir is the data directory.
func (c *Cluster) Dir() string { return c.dir }

// URL is a connection string for database db as the bootstrap superuser.
func (c *Cluster) URL(db string) string { return URLFor(c.port, db) }

// Stop asks for a fast shutdown and waits for the server to exit.
func (c *Cluster) Stop() error {
	if c == nil || c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		return errors.New("postgres did not stop in 30s and was killed")
	}
}

// Exited reports the server's exit, for callers that watch it.
func (c *Cluster) Exited() <-chan error { return c.done }

func (c *Cluster) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(c.URL("postgres")), pgdriver.WithTimeout(2*time.Second)))
	defer db.Close()
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		var dataDir string
		err := db.QueryRowContext(pctx, "SELECT current_setting('data_directory')").Scan(&dataDir)
		cancel()
		// Another cluster may answer on the port: one started at the same
		// moment on the same free port (parallel test packages), while ours
		// fails to bind it. Only our own data directory will do.
		if err == nil && sameDir(dataDir, c.dir) {
			return nil
		}
		select {
		case exitErr := <-c.done:
			c.done <- exitErr
			return fmt.Errorf("%w (%v); see its log", errStartup, exitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after %s: %w", limit, err)
		}
	}
}

func initdb(ctx context.Context, bin, dir string, cred *syscall.Credential, log io.Writer) error {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", dir, "-U", Superuser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	if log != nil {
		_, _ = log.Write(out)
	}
	if err != nil {
		return fmt.Errorf("initdb %s: %w: %s", dir, err, lastLines(string(out), 5))
	}
	return nil
}

// serverCredential is nil for an ordinary user, and the postgres user's ids
// when the process is root.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as an unprivileged user, and there is no user \"postgres\" (apt-get install postgresql creates it): %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// prepareDir creates the data directory with owner-only access, owned by the
// server's user, and checks that user can reach it.
func prepareDir(dir string, cred *syscall.Credential) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if cred == nil {
		return os.Chmod(dir, 0o700)
	}
	// Every parent must be searchable by the unprivileged user.
	for p := filepath.Dir(dir); p != "/"; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the postgres user cannot reach %s: %s is not searchable by others (chmod o+x %s, or use another folder)", dir, p, p)
		}
	}
	err := filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(cred.Uid), int(cred.Gid))
	})
	if err != nil {
		return fmt.Errorf("hand data directory to postgres: %w", err)
	}
	return os.Chmod(dir, 0o700)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func executable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// parseMajor reads "postgres (PostgreSQL) 15.18 (Debian ...)".
func parseMajor(version string) int {
	for _, f := range strings.Fields(version) {
		if n, err := strconv.Atoi(strings.SplitN(f, ".", 2)[0]); err == nil {
			return n
		}
	}
	return 0
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// Running finds a server already running on dir (started by another
// sportello process, such as `make run`) and returns its port.
func Running(dir string) (int, bool) {
	data, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	// Line 1 is the pid, line 4 the port (PostgreSQL's documented layout).
	lines := strings.Split(string(data), "\n")
	if len(lines) < 4 {
		return 0, false
	}
	pid, err1 := strconv.Atoi(strings.TrimSpace(lines[0]))
	port, err2 := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err1 != nil || err2 != nil || pid <= 0 {
		return 0, false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return 0, false
	}
	return port, true
}

// URLFor is the superuser URL of database db on a server at port.
func URLFor(port int, db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Superuser, port, db)
}

// sameDir reports whether two paths name one directory.
func sameDir(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}
