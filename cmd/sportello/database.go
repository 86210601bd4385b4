package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/sportello/sportello/core/pgcluster"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/migrations"
)

// env is the configuration read from the environment.
type env struct {
	addr          string
	databaseURL   string // owner URL of an existing PostgreSQL; "" = managed
	appPassword   string
	dataDir       string
	baseDomain    string
	devIdPAddr    string
	devIssuer     string
	tenantsDir    string
	secureCookies bool
	logFormat     string
	logLevel      string
}

func loadEnv() env {
	get := func(k, def string) string {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v
		}
		return def
	}
	return env{
		addr:          get("SPORTELLO_ADDR", "127.0.0.1:8080"),
		databaseURL:   get("SPORTELLO_DATABASE_URL", ""),
		appPassword:   get("SPORTELLO_APP_DB_PASSWORD", ""),
		dataDir:       get("SPORTELLO_DATA_DIR", ".data"),
		baseDomain:    get("SPORTELLO_BASE_DOMAIN", "localhost"),
		devIdPAddr:    get("SPORTELLO_DEV_IDP_ADDR", "127.0.0.1:8090"),
		devIssuer:     get("SPORTELLO_DEV_ISSUER", ""),
		tenantsDir:    get("SPORTELLO_TENANTS_DIR", "tenants"),
		secureCookies: get("SPORTELLO_SECURE_COOKIES", "") == "1",
		logFormat:     get("SPORTELLO_LOG_FORMAT", "text"),
		logLevel:      get("SPORTELLO_LOG_LEVEL", "info"),
	}
}

// database is a migrated database and the application's pool on it.
type database struct {
	App     *store.DB
	cluster *pgcluster.Cluster // nil unless this process started it
}

// Close closes the pool and stops a PostgreSQL that this process started.
func (d *database) Close() {
	if d.App != nil {
		d.App.Close()
	}
	if d.cluster != nil {
		if err := d.cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop PostgreSQL:", err)
		}
	}
}

// openDatabase finds the database — SPORTELLO_DATABASE_URL, the managed
// PostgreSQL already running on the data folder, or a new start of it —
// migrates it as the owner, and connects as the application role.
func openDatabase(ctx context.Context, e env, log *slog.Logger) (*database, error) {
	d := &database{}
	ownerURL := e.databaseURL
	if ownerURL == "" {
		pgDir := filepath.Join(e.dataDir, "postgres")
		if port, ok := pgcluster.Running(pgDir); ok {
			log.Info("using the PostgreSQL already running on the data folder", "port", port)
			ownerURL = pgcluster.URLFor(port, "sportello")
		} else {
			if err := os.MkdirAll(e.dataDir, 0o755); err != nil {
				return nil, err
			}
			logFile, err := os.OpenFile(filepath.Join(e.dataDir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				return nil, err
			}
			log.Info("starting PostgreSQL", "data", pgDir, "log", logFile.Name())
			c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: pgDir, Log: logFile})
			if err != nil {
				return nil, err
			}
			d.cluster = c
			ownerURL = c.URL("sportello")
			if err := ensureDatabase(ctx, c.URL("postgres"), "sportello"); err != nil {
				d.Close()
				return nil, err
			}
		}
	}
	password, err := appPassword(e)
	if err != nil {
		d.Close()
		return nil, err
	}
	owner, err := store.Open(ctx, ownerURL, 2)
	if err != nil {
		d.Close()
		return nil, err
	}
	defer owner.Close()
	if err := store.EnsureAppRole(ctx, owner, password); err != nil {
		d.Close()
		return nil, err
	}
	applied, err := store.Migrate(ctx, owner, migrations.Files)
	if err != nil {
		d.Close()
		return nil, err
	}
	for _, name := range applied {
		log.Info("migration applied", "name", name)
	}
	appURL, err := store.AppURL(ownerURL, password)
	if err != nil {
		d.Close()
		return nil, err
	}
	if d.App, err = store.Open(ctx, appURL, 40); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func ensureDatabase(ctx context.Context, adminURL, name string) error {
	admin, err := store.Open(ctx, adminURL, 1)
	if err != nil {
		return err
	}
	defer admin.Close()
	var exists bool
	if err := admin.NewRaw("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ?)", name).Scan(ctx, &exists); err != nil {
		return err
	}
	if !exists {
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return nil
}

// appPassword is SPORTELLO_APP_DB_PASSWORD, or for the managed PostgreSQL a
// random one kept in the data folder.
func appPassword(e env) (string, error) {
	if e.appPassword != "" {
		return e.appPassword, nil
	}
	if e.databaseURL != "" {
		return "", errors.New("SPORTELLO_APP_DB_PASSWORD must be set with SPORTELLO_DATABASE_URL: it is the password of the application role " + store.AppRole)
	}
	path := filepath.Join(e.dataDir, "app-db-password")
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	var raw [18]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	pw := hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", err
	}
	return pw, nil
}

func migrate(ctx context.Context, e env) error {
	log := newLogger(e)
	d, err := openDatabase(ctx, e, log)
	if err != nil {
		return err
	}
	d.Close()
	log.Info("database is up to date")
	return nil
}
