// Package server is the HTTP layer: it resolves the tenant, the person and
// their rights for every request, and hands the work to the core packages.
// Handlers are thin; the status of every error is decided in errors.go.
package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sportello/sportello/core/appointment"
	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/authz"
	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/forms"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/payments"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/tenancy"
	"github.com/sportello/sportello/web"
)

// Config is what an operator sets.
type Config struct {
	// BaseDomain: "{slug}.{BaseDomain}" is a tenant's host.
	BaseDomain string
	// DevIssuer is the development identity provider's URL; tenants whose
	// citizen login names the issuer "dev" use it. Empty turns it off.
	DevIssuer string
	// SecureCookies marks cookies Secure; on whenever served over HTTPS.
	SecureCookies bool
	// BodyLimit bounds a request body in bytes.
	BodyLimit int
	// Secret signs CSRF tokens; all instances of a deployment share it.
	Secret []byte
	// FilesDir keeps dossier attachments (dossier.FilesDir of the data
	// folder); "" refuses uploads.
	FilesDir string
	// PaymentProvider is the provider new payment positions go to:
	// "counter" (the default) or "local", the test provider.
	PaymentProvider string
	// MapTiles is the URL template of the tile server drawing the maps of
	// forms' "map" fields (https://tile.example/{z}/{x}/{y}.png), whose
	// origin the Content-Security-Policy then lets images come from, and
	// MapAttribution the credit its licence asks for (plain text). Without
	// tiles the maps are a plain background that still takes a point.
	MapTiles, MapAttribution string
	// RateLimit bounds the requests of each client at each town (see
	// RateLimit); the zero value, as in tests, sets no bound.
	RateLimit RateLimit
	// Live is the wiring of the live desks shared with the plugin
	// supervisor (NewLive); nil: Assemble makes one, and no plugin can
	// queue anybody.
	Live *Live
}

// Deps are the server's collaborators, built by the caller.
type Deps struct {
	DB      *store.DB
	Tenants *tenancy.Registry
	Portals *tenancy.PortalCache
	Render  *web.Renderer
	I18n    *i18n.Catalog
	Authz   *authz.Authorizer
	Catalog *catalog.Catalog
	// Dossiers is every request's record: the back office and "my requests".
	Dossiers *dossier.Store
	// Payments runs payment positions; nil hides the payment pages.
	Payments *payments.Service
	// Appointments are the offices' appointments; nil hides their pages.
	Appointments *appointment.Service
	// Plugins runs the catalogue services; nil answers their actions 503.
	Plugins *pluginhost.Supervisor
	// Live runs the live desks (queue and calls).
	Live     *Live
	Auth     *authn.Authenticator
	Citizens *authn.CitizenLogin
	Log      *slog.Logger
	Metrics  *prometheus.Registry
}

// Server is the Sportello HTTP application.
type Server struct {
	Deps
	cfg     Config
	log     *slog.Logger
	i18n    *i18n.Catalog
	app     *fiber.App
	metrics *httpMetrics
	pages   *pageCache
	forms   *formCache
	// matchers picks the response language from Accept-Language.
	matchers i18n.Matchers
	// tileSource is the origin of Config.MapTiles for the policy's
	// img-src; "" for none.
	tileSource string
}

// New builds the application and its routes.
func New(cfg Config, d Deps) *Server {
	if cfg.BodyLimit == 0 {
		// A form may carry files of up to 10 MB each (dossier's limit): a
		// body past this bound is a 413 page, one within it gets each
		// refused file's reason beside its field, the form kept.
		cfg.BodyLimit = 32 << 20
	}
	s := &Server{Deps: d, cfg: cfg, log: d.Log, i18n: d.I18n}
	s.tileSource, _ = tileSource(cfg.MapTiles) // Assemble refuses a template it cannot use
	s.metrics = newHTTPMetrics(d.Metrics)
	s.pages = newPageCache(30*time.Second, 20000)
	s.forms = newFormCache(forms.WithCatalog(d.I18n))
	s.app = fiber.New(fiber.Config{
		AppName:               "sportello",
		ErrorHandler:          s.handleError,
		BodyLimit:             cfg.BodyLimit,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
		ReadBufferSize:        16 << 10,
	})
	s.routes()
	s.answerReadErrors()
	return s
}

// App exposes the fiber application, for tests and benchmarks.
func (s *Server) App() *fiber.App { return s.app }

func (s *Server) routes() {
	app := s.app
	app.Use(s.recoverPanics, s.begin, s.securityHeaders)

	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	app.Get("/metrics", s.metricsHandler())
	// Asset URLs carry a content hash (?v=), so browsers may keep them.
	app.Use("/static", filesystem.New(filesystem.Config{
		Root:   http.FS(web.StaticFS()),
		MaxAge: 365 * 24 * 3600,
	}))

	// One set of budgets for the pages and the APIs: a client flooding
	// one does not get a fresh budget on the other.
	limit := s.rateLimit()
	s.queueAPIRoutes(app, limit) // keyed by an API key, not a session: before the session and CSRF checks
	s.open311Routes(app, limit)  // likewise
	app.Use(s.resolveTenant, s.language, s.loadSession, limit, s.csrf)

	platform := app.Group("/platform")
	platform.Get("/", s.platformHome)
	platform.Get("/login", s.platformLoginForm)
	platform.Post("/login", s.platformLogin)
	platform.Post("/logout", s.platformLogout)
	platform.Post("/requests/:tenant/:request/:verdict", s.requirePlatform, s.decideRequest)
	platform.Post("/plugins/:plugin/restart", s.requirePlatform, s.restartPlugin)
	platform.Post("/tenants", s.requirePlatform, s.platformOnboard)

	// A tenant's pages answer both under its own host and under /t/{slug}.
	s.tenantRoutes(app.Group("/t/:tenant"))
	s.tenantRoutes(app)

	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}

func (s *Server) tenantRoutes(r fiber.Router) {
	r.Get("/", s.home)
	r.Get("/logo", s.requireTenant, s.logo)
	r.Get("/login", s.requireTenant, s.loginForm)
	r.Post("/login", s.requireTenant, s.login)
	r.Post("/logout", s.requireTenant, s.logout)
	r.Get("/auth/citizen", s.requireTenant, s.citizenLoginStart)
	r.Get("/auth/citizen/callback", s.requireTenant, s.citizenLoginFinish)
	r.Get("/profile", s.requireTenant, s.require("profile", "read"), s.profile)
	s.notifyPrefsRoutes(r)
	r.Get("/backoffice", s.requireTenant, s.require("backoffice/home", "read"), s.backoffice)
	r.Get("/admin/policies", s.requireTenant, s.require("admin/policies", "read"), s.policies)
	r.Post("/admin/policies", s.requireTenant, s.require("admin/policies", "write"), s.addPolicy)
	r.Post("/admin/policies/:id/delete", s.requireTenant, s.require("admin/policies", "write"), s.removePolicy)
	r.Post("/rating", s.requireTenant, s.rate)
	s.catalogRoutes(r)
	s.serviceRoutes(r)
	s.backofficeRoutes(r)
	s.myRequestsRoutes(r)
	s.paymentRoutes(r)
	s.appointmentRoutes(r)
	s.liveRoutes(r)
	s.infoRoutes(r)
	s.analyticsRoutes(r)
	s.opendataRoutes(r)
	s.privacyRoutes(r)
	s.timelineRoutes(r)
	s.adminRoutes(r)
}

// Serve serves on ln until ctx ends, then stops accepting connections and
// lets the requests in flight finish (up to grace).
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	if h := s.Live.Hub(); h != nil {
		// Serving only once the hub hears the other instances: a call
		// taken there must reach a citizen here.
		select {
		case <-h.Run(ctx):
		case <-ctx.Done():
			return ln.Close()
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return s.app.ShutdownWithContext(sctx)
}
