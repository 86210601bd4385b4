// Package pgtest gives a package's tests one throwaway PostgreSQL, started
// by the tests themselves, and a fresh migrated database per test.
//
//	var pg *pgtest.Server
//	func TestMain(m *testing.M) { pgtest.Run(m, &pg) }
//	func TestX(t *testing.T) { db := pg.NewDB(t) ... }
//
// SPORTELLO_TEST_DATABASE_URL, a superuser URL of an existing server, is
// used instead of starting one.
package pgtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/core/pgcluster"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/migrations"
)

// AppPassword is the application role's password in test databases.
const AppPassword = "sportello-test"

const template = "sportello_template"

// Server is a PostgreSQL server holding a migrated template database.
type Server struct {
	cluster  *pgcluster.Cluster
	adminURL string // superuser URL with the database name left as %s
	tmpDir   string
	seq      atomic.Int64
	prefix   string
}

// DB is one test's database, reachable as the owner and as the app role.
type DB struct {
	Name     string
	Owner    *store.DB
	App      *store.DB
	OwnerURL string
	AppURL   string
}

// Run starts the server, runs the package's tests, stops the server and
// exits with the tests' status.
//
// A fuzzing worker gets no server: the fuzz targets parse input without a
// database, and each worker starting its own cluster would spend the
// brief fuzzing time of CI on start-up.
func Run(m *testing.M, into **Server) {
	if FuzzWorker() {
		os.Exit(m.Run())
	}
	s, err := Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		os.Exit(1)
	}
	*into = s
	code := m.Run()
	s.Stop()
	os.Exit(code)
}

// FuzzWorker tells whether this test process is one of go test -fuzz's
// workers, which run only the fuzz target.
func FuzzWorker() bool {
	if !flag.Parsed() {
		flag.Parse()
	}
	f := flag.Lookup("test.fuzzworker")
	return f != nil && f.Value.String() == "true"
}

// Start starts a throwaway cluster (or uses SPORTELLO_TEST_DATABASE_URL) and
// builds the template database.
func Start(ctx context.Context) (*Server, error) {
	s := &Server{prefix: fmt.Sprintf("t%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)}
	if u := os.Getenv("SPORTELLO_TEST_DATABASE_URL"); u != "" {
		s.adminURL = withDatabase(u, "%s")
	} else {
		dir, err := os.MkdirTemp("", "sportello-pg-")
		if err != nil {
			return nil, err
		}
		s.tmpDir = dir
		log, _ := os.Create(dir + ".log")
		c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Throwaway: true, Log: log})
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("start throwaway PostgreSQL (log in %s.log): %w", dir, err)
		}
		s.cluster = c
		s.adminURL = c.URL("%s")
	}
	if err := s.buildTemplate(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) url(db string) string { return strings.Replace(s.adminURL, "%s", db, 1) }

func (s *Server) tplName() string { return s.prefix + "_" + template }

func (s *Server) buildTemplate(ctx context.Context) error {
	admin, err := store.Open(ctx, s.url("postgres"), 2)
	if err != nil {
		return err
	}
	defer admin.Close()
	if err := store.EnsureAppRole(ctx, admin, AppPassword); err != nil {
		return err
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+s.tplName()); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	tpl, err := store.Open(ctx, s.url(s.tplName()), 2)
	if err != nil {
		return err
	}
	defer tpl.Close()
	if _, err := store.Migrate(ctx, tpl, migrations.Files); err != nil {
		return err
	}
	return nil
}

// URL is the superuser URL of database db on this server.
func (s *Server) URL(db string) string { return s.url(db) }

// NewDB creates a fresh migrated database for t, dropped when t ends.
func (s *Server) NewDB(t testing.TB) *DB {
	t.Helper()
	db, drop, err := s.CreateDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return db
}

// CreateDB creates a fresh migrated database outside a test (benchmarks);
// drop closes its pools and removes it.
func (s *Server) CreateDB(ctx context.Context) (db *DB, drop func(), err error) {
	name := fmt.Sprintf("%s_%d", s.prefix, s.seq.Add(1))
	admin, err := store.Open(ctx, s.url("postgres"), 1)
	if err != nil {
		return nil, nil, err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, s.tplName())); err != nil {
		return nil, nil, fmt.Errorf("create test database: %w", err)
	}
	db = &DB{Name: name, OwnerURL: s.url(name)}
	db.AppURL, _ = store.AppURL(db.OwnerURL, AppPassword)
	drop = func() {
		if db.App != nil {
			db.App.Close()
		}
		if db.Owner != nil {
			db.Owner.Close()
		}
		if admin, err := store.Open(context.Background(), s.url("postgres"), 1); err == nil {
			_, _ = admin.ExecContext(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
			admin.Close()
		}
	}
	if db.Owner, err = store.Open(ctx, db.OwnerURL, 4); err != nil {
		drop()
		return nil, nil, err
	}
	if db.App, err = store.Open(ctx, db.AppURL, 20); err != nil {
		drop()
		return nil, nil, err
	}
	return db, drop, nil
}

// Restart stops the server (a fast shutdown: sessions are cut) and starts
// it again on the same port and data, calling down while it is stopped: for
// tests of what an application does through a database outage. It fails on
// a server the tests did not start (SPORTELLO_TEST_DATABASE_URL).
func (s *Server) Restart(ctx context.Context, down func()) error {
	if s.cluster == nil {
		return errors.New("pgtest: cannot restart a server the tests did not start")
	}
	port := s.cluster.Port()
	if err := s.cluster.Stop(); err != nil {
		return err
	}
	if down != nil {
		down()
	}
	log, _ := os.OpenFile(s.tmpDir+".log", os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: s.tmpDir, Port: port, Throwaway: true, Log: log})
	if err != nil {
		return fmt.Errorf("start PostgreSQL again (log in %s.log): %w", s.tmpDir, err)
	}
	s.cluster = c
	return nil
}

// Stop stops the cluster and removes its files.
func (s *Server) Stop() {
	if s.cluster == nil {
		if admin, err := store.Open(context.Background(), s.url("postgres"), 1); err == nil {
			_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+s.tplName()+" WITH (FORCE)")
			admin.Close()
		}
		return
	}
	_ = s.cluster.Stop()
	os.RemoveAll(s.tmpDir)
	os.Remove(s.tmpDir + ".log")
}

// withDatabase replaces the path of a postgres URL.
func withDatabase(u, db string) string {
	i := strings.Index(u, "://")
	rest := u[i+3:]
	q := ""
	if j := strings.IndexByte(rest, '?'); j >= 0 {
		rest, q = rest[:j], rest[j:]
	}
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		rest = rest[:j]
	}
	return u[:i+3] + rest + "/" + db + q
}
