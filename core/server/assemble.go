package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sportello/sportello/core/appointment"
	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/authz"
	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/live"
	"github.com/sportello/sportello/core/payments"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/tenancy"
	"github.com/sportello/sportello/web"
)

// Assemble builds a Server and all its collaborators on db: the one wiring
// shared by `sportello serve`, the tests and the benchmarks. The tenant
// registry is loaded; keeping it fresh (Registry.Listen) is the caller's.
// plugins may be nil: service pages show, and their actions answer 503.
func Assemble(ctx context.Context, db *store.DB, cfg Config, log *slog.Logger, plugins *pluginhost.Supervisor) (*Server, error) {
	tenants := tenancy.NewRegistry(db, cfg.BaseDomain)
	if err := tenants.Reload(ctx); err != nil {
		return nil, err
	}
	messages, err := i18n.New(web.LocalesFS())
	if err != nil {
		return nil, err
	}
	if _, err := tileSource(cfg.MapTiles); err != nil {
		return nil, err
	}
	renderer, err := web.NewRenderer(web.Options{Catalog: messages,
		MapTiles: web.MapTiles{URL: cfg.MapTiles, Attribution: cfg.MapAttribution}})
	if err != nil {
		return nil, err
	}
	az, err := authz.New(db, authz.Options{})
	if err != nil {
		return nil, err
	}
	if cfg.Secret == nil {
		if cfg.Secret, err = db.Secret(ctx, "csrf", 32); err != nil {
			return nil, err
		}
	}
	var files *dossier.Files
	if cfg.FilesDir != "" {
		if files, err = dossier.NewFiles(cfg.FilesDir, 0); err != nil {
			return nil, err
		}
	}
	if cfg.PaymentProvider == "" {
		cfg.PaymentProvider = "counter"
	}
	pay, err := payments.New(db, payments.Options{
		Providers: []payments.Provider{payments.Local{}, payments.Counter{}},
		Default:   cfg.PaymentProvider,
		Holds:     map[string]payments.Hold{"reservation": payments.Reservations{}, "booking": booking.PaymentHold{}},
		Log:       log,
		OnOutcome: paymentOutcomes(plugins, tenants, catalog.New(db), log),
	})
	if err != nil {
		return nil, err
	}
	apptSecret, err := db.Secret(ctx, "appointments", 32)
	if err != nil {
		return nil, err
	}
	appts, err := appointment.New(db, booking.New(db, nil), appointment.Options{Secret: apptSecret, Messages: messages, Log: log})
	if err != nil {
		return nil, err
	}
	lv := cfg.Live
	if lv == nil {
		lv = NewLive(live.Config{Log: log})
	}
	if lv.cfg.Log == nil {
		lv.cfg.Log = log
	}
	lv.hub.Store(live.New(db, relayer(plugins), liveDirectory{cat: catalog.New(db)}, lv.cfg))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sportello_tenants", Help: "Tenants served."},
		func() float64 { return float64(tenants.Len()) }))
	return New(cfg, Deps{
		DB:           db,
		Tenants:      tenants,
		Portals:      tenancy.NewPortalCache(db, 30*time.Second),
		Render:       renderer,
		I18n:         messages,
		Authz:        az,
		Catalog:      catalog.New(db),
		Dossiers:     dossier.New(db, files, time.Now),
		Payments:     pay,
		Appointments: appts,
		Plugins:      plugins,
		Live:         lv,
		Auth:         authn.New(db, time.Now, authn.Options{}),
		Citizens:     authn.NewCitizenLogin(db, time.Now, authn.CitizenLoginOptions{}),
		Log:          log,
		Metrics:      reg,
	}), nil
}
