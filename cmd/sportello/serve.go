package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/authn/devidp"
	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/docsign"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/live"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/core/privacy"
	"github.com/sportello/sportello/core/server"
	"github.com/sportello/sportello/core/tenancy"
)

// Demo platform account, created by `serve --demo` only.
const (
	demoPlatformEmail    = "platform@sportello.example"
	demoPlatformPassword = "demo-platform"
)

func newLogger(e env) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(e.logLevel))
	opts := &slog.HandlerOptions{Level: level}
	if e.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// defaultRateLimit is what one client (a person signed in, else an
// address) may ask of one town per minute: 600 reads, 60 writes. A page
// is one read (assets are not counted), so 600 is ten pages a second held
// for a minute: no person browsing, nor an office of operators (each
// counted as themselves), comes near it, while a scraper or a flood from
// one address is slowed to that. Writes are a tenth: a person submits a
// form every few seconds at most, and a login or a submission costs far
// more than a page, so guessing passwords or filling the dossiers with
// junk stops at one a second.
const defaultRateLimit = "600,60"

// rateLimit is the limit of SPORTELLO_RATE_LIMIT ("READS,WRITES" per
// minute, "0" for none): defaultRateLimit when unset, none for the demo,
// whose tests and benchmarks drive it from one address. Behind the
// proxies of SPORTELLO_TRUSTED_PROXIES (loopback when unset: a proxy on
// the same machine) a client is the address the proxy names.
func rateLimit(demo bool) (server.RateLimit, error) {
	spec, set := os.LookupEnv("SPORTELLO_RATE_LIMIT")
	switch {
	case set && strings.TrimSpace(spec) != "":
	case demo:
		spec = "0"
	default:
		spec = defaultRateLimit
	}
	rl, err := server.ParseRateLimit(spec)
	if err != nil {
		return rl, fmt.Errorf("SPORTELLO_RATE_LIMIT: %w", err)
	}
	proxies, set := os.LookupEnv("SPORTELLO_TRUSTED_PROXIES")
	if !set {
		proxies = "127.0.0.0/8, ::1"
	}
	if rl.TrustedProxies, err = server.ParseProxies(proxies); err != nil {
		return rl, fmt.Errorf("SPORTELLO_TRUSTED_PROXIES: %w", err)
	}
	return rl, nil
}

func serve(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "load the demo tenants and start the development identity provider")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	limits, err := rateLimit(*demo)
	if err != nil {
		return err
	}
	log := newLogger(e)
	d, err := openDatabase(ctx, e, log)
	if err != nil {
		return err
	}
	defer d.Close()
	db := d.App

	var manifests []*tenancy.Manifest
	if *demo {
		if manifests, err = applyDir(ctx, e, db, e.tenantsDir, log); err != nil {
			return err
		}
		if err := ensurePlatformUser(ctx, db, demoPlatformEmail, "Platform staff (demo)", demoPlatformPassword); err != nil {
			return err
		}
	}

	devIssuer := e.devIssuer
	if *demo && devIssuer == "" {
		devIssuer = "http://" + strings.Replace(e.devIdPAddr, "127.0.0.1", "localhost", 1)
	}
	if devIssuer != "" {
		stopIdP, err := startDevIdP(e.devIdPAddr, devIssuer, log)
		if err != nil {
			return err
		}
		defer stopIdP()
	}

	if *demo {
		// The demo trusts the plugins it has just built; a real deployment
		// pins each binary with `sportello plugin register`.
		if err := registerAll(ctx, catalog.New(db), pluginDir(), log); err != nil {
			return err
		}
	}
	// Documents the plugins issue (a concession deed) are kept with the
	// dossiers' attachments and signed with each town's certificate.
	docFiles, err := dossier.NewFiles(dossier.FilesDir(e.dataDir), 0)
	if err != nil {
		return err
	}
	liveCfg, err := liveConfig(log)
	if err != nil {
		return err
	}
	lv := server.NewLive(liveCfg)
	plugins, err := pluginhost.Launch(ctx, db, lv.Options(pluginhost.Options{Dir: pluginDir(), Log: log,
		HostAPI: []hostapi.Option{hostapi.WithDocuments(docFiles, docsign.New(db, nil))}}))
	if err != nil {
		return err
	}
	// Stopped after the HTTP server has drained (defers run last-in first-out).
	defer plugins.Stop()

	// The demo pays with the local test provider; a deployment chooses
	// (SPORTELLO_PAYMENT_PROVIDER), and without a payment service provider
	// citizens pay at the counter.
	payWith := os.Getenv("SPORTELLO_PAYMENT_PROVIDER")
	if payWith == "" && *demo {
		payWith = "local"
	}
	srv, err := server.Assemble(ctx, db, server.Config{
		BaseDomain:      e.baseDomain,
		DevIssuer:       devIssuer,
		SecureCookies:   e.secureCookies,
		PaymentProvider: payWith,
		FilesDir:        dossier.FilesDir(e.dataDir),
		MapTiles:        strings.TrimSpace(os.Getenv("SPORTELLO_MAP_TILES")),
		MapAttribution:  strings.TrimSpace(os.Getenv("SPORTELLO_MAP_ATTRIBUTION")),
		Live:            lv,
		RateLimit:       limits,
	}, log, plugins)
	if err != nil {
		return err
	}
	go srv.Tenants.Listen(ctx, log, time.Minute)
	go purgeLoop(ctx, srv.Auth, log)
	go srv.Payments.Run(ctx, 5*time.Second)
	go expireLoop(ctx, booking.New(db, nil), log)
	go privacy.New(db).PurgeEvery(ctx, 6*time.Hour, catalog.New(db), log)
	mailView, stopMail, err := startMail(ctx, db, *demo, log)
	if err != nil {
		return err
	}
	defer stopMail()

	ln, err := net.Listen("tcp", e.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set SPORTELLO_ADDR to use another address)", e.addr, err)
	}
	printWelcome(e, srv.Tenants, manifests, devIssuer, mailView)
	err = srv.Serve(ctx, ln, 20*time.Second)
	log.Info("stopped")
	return err
}

// purgeLoop removes expired sessions and login-flow state.
func purgeLoop(ctx context.Context, auth *authn.Authenticator, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := auth.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
				log.Warn("purge expired sessions", "err", err)
			}
		}
	}
}

// expireLoop marks the holds that ran out as expired. A new booking
// already takes an expired hold's slot; this keeps the lists staff and
// citizens see true between bookings.
func expireLoop(ctx context.Context, engine *booking.Engine, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := engine.ExpireAll(ctx); err != nil && ctx.Err() == nil {
				log.Warn("expire booking holds", "err", err)
			} else if n > 0 {
				log.Info("booking holds expired", "count", n)
			}
		}
	}
}

func startDevIdP(addr, issuer string, log *slog.Logger) (func(), error) {
	idp, err := devidp.New(issuer, devidp.Options{AcceptAnyClient: true})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("development identity provider on %s: %w (set SPORTELLO_DEV_IDP_ADDR)", addr, err)
	}
	hs := &http.Server{Handler: idp, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("development identity provider", "err", err)
		}
	}()
	log.Info("development identity provider", "issuer", issuer)
	return func() { _ = hs.Close() }, nil
}

func printWelcome(e env, tenants *tenancy.Registry, manifests []*tenancy.Manifest, devIssuer, mailView string) {
	host := e.addr
	if h, port, err := net.SplitHostPort(e.addr); err == nil && (h == "127.0.0.1" || h == "" || h == "0.0.0.0") {
		host = "localhost:" + port
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nSportello is serving on http://%s\n\nPortals:\n", host)
	for _, t := range tenants.List() {
		fmt.Fprintf(&b, "  %-28s http://%s/t/%s/   (also http://%s.%s)\n", t.Name, host, t.Slug, t.Slug, host)
	}
	if len(manifests) > 0 {
		fmt.Fprintf(&b, "\nDemo logins (staff: <portal>/login; platform console: http://%s/platform):\n", host)
		fmt.Fprintf(&b, "  %-28s %s / %s\n", "platform", demoPlatformEmail, demoPlatformPassword)
		sort.Slice(manifests, func(i, j int) bool { return manifests[i].Slug < manifests[j].Slug })
		for _, m := range manifests {
			for _, s := range m.Staff {
				if s.Password != "" {
					fmt.Fprintf(&b, "  %-28s %s / %s  (%s)\n", m.Slug, s.Email, s.Password, strings.Join(s.Roles, ", "))
				}
			}
		}
	}
	if devIssuer != "" {
		fmt.Fprintf(&b, "\nCitizens: \"Entra con SPID / CIE\" on a portal's login page opens the development\nidentity provider (%s); pick a demo citizen there.\n", devIssuer)
	}
	if mailView != "" {
		fmt.Fprintf(&b, "\nE-mail: nothing leaves this machine; what Sportello sends is shown at %s\n", mailView)
	}
	fmt.Fprintf(&b, "\nMetrics: http://%s/metrics   Health: http://%s/readyz   Stop: Ctrl-C\n", host, host)
	fmt.Fprint(os.Stdout, b.String())
}

// manifestFiles expands files and directories into YAML files.
func manifestFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		matches, _ := filepath.Glob(filepath.Join(p, "*.yaml"))
		out = append(out, matches...)
	}
	return out, nil
}

// registerAll pins every plugin binary of dir, for the demo.
func registerAll(ctx context.Context, cat *catalog.Catalog, dir string, log *slog.Logger) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		log.Warn("no plugin folder: the catalogue stays as it is (make build puts the plugins there)", "dir", dir)
		return nil
	}
	ids, err := pluginFiles(dir)
	if err != nil {
		return err
	}
	for _, id := range ids {
		verb, rec, err := registerPlugin(ctx, cat, dir, id)
		if err != nil {
			return err
		}
		if verb != "unchanged" {
			log.Info("plugin registered", "plugin", rec.ID, "sha256", rec.SHA256, "as", verb)
		}
	}
	return nil
}

// liveConfig is the live desks' setup of this instance: a fresh name on
// the bus, and the ICE servers of SPORTELLO_ICE, a JSON object such as
//
//	{"servers":[{"urls":["turn:turn.example.org:3478"],"username":"u","credential":"p"}],
//	 "public_ips":["203.0.113.7"],"port_min":40000,"port_max":40100}
//
// Without it the relay offers its host addresses, loopback included, which
// is what a machine running the demo needs.
func liveConfig(log *slog.Logger) (live.Config, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	cfg := live.Config{Instance: hex.EncodeToString(b[:]), Log: log, ICE: live.ICE{Loopback: true}}
	if raw := strings.TrimSpace(os.Getenv("SPORTELLO_ICE")); raw != "" {
		cfg.ICE = live.ICE{}
		if err := json.Unmarshal([]byte(raw), &cfg.ICE); err != nil {
			return cfg, fmt.Errorf("SPORTELLO_ICE: %w", err)
		}
	}
	return cfg, nil
}
