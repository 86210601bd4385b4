package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/tenancy"
)

// reqState is everything the middleware learns about a request. Strings in
// it are copies: fiber reuses the request's memory after the handler.
type reqState struct {
	requestID string
	start     time.Time
	tenant    *tenancy.Tenant
	base      string // "/t/{slug}" or ""
	lang      string
	session   *authn.Session
	platform  *authn.PlatformSession
	subject   string // casbin subject: "user:12", "citizen:7", "platform:3"
	csrf      string
}

const stateKey = "sportello.state"

func state(c *fiber.Ctx) *reqState {
	if rs, ok := c.Locals(stateKey).(*reqState); ok {
		return rs
	}
	// Errors raised before begin ran (fasthttp's own, such as an oversized
	// body) still get a state to render with.
	rs := &reqState{requestID: newRequestID(), start: time.Now(), lang: "it"}
	c.Locals(stateKey, rs)
	return rs
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// begin names the request, times it, and logs and counts it when done.
func (s *Server) begin(c *fiber.Ctx) error {
	rs := &reqState{start: time.Now(), lang: "it"}
	if id := c.Get("X-Request-ID"); id != "" && len(id) <= 64 && isToken(id) {
		rs.requestID = strings.Clone(id)
	} else {
		rs.requestID = newRequestID()
	}
	c.Locals(stateKey, rs)
	c.Set("X-Request-ID", rs.requestID)
	err := c.Next()
	if err != nil {
		if herr := s.handleError(c, err); herr != nil {
			s.log.Error("error handler failed", "err", herr)
			c.Status(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	route := c.Route().Path
	elapsed := time.Since(rs.start)
	s.metrics.observe(c.Method(), route, status, elapsed)
	if s.log.Enabled(c.UserContext(), levelFor(status)) {
		s.log.Log(c.UserContext(), levelFor(status), "request",
			append(logAttrs(rs), "method", c.Method(), "path", c.Path(), "route", route,
				"status", status, "duration_ms", float64(elapsed.Microseconds())/1000)...)
	}
	return nil
}

func isToken(s string) bool {
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// recoverPanics turns a panic into a 500 page and a log line with the
// stack, so one bad request never takes the process down.
func (s *Server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Next()
}

// securityHeaders: the pages load nothing from elsewhere (but the map tiles
// of the tile server the deployment chose) and run no inline script, so the
// policy can be strict.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:"+s.imgSource()+"; font-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"object-src 'none'; base-uri 'self'; form-action 'self' "+s.cfg.DevIssuer+"; frame-ancestors 'none'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Permissions-Policy", "camera=(self), microphone=(self), geolocation=(self)")
	if s.cfg.SecureCookies {
		c.Set("Strict-Transport-Security", "max-age=31536000")
	}
	return c.Next()
}

// resolveTenant finds the tenant from the path prefix or the host. An
// unknown tenant is a 404 page, before any other work.
func (s *Server) resolveTenant(c *fiber.Ctx) error {
	rs := state(c)
	t, how := s.Tenants.Resolve(c.Hostname(), c.Path())
	switch how {
	case tenancy.Unknown:
		return errTenantNotFound
	case tenancy.FromPath:
		rs.tenant, rs.base = t, "/t/"+t.Slug
	case tenancy.FromHost:
		rs.tenant = t
	}
	return c.Next()
}

// requireTenant guards the routes that only make sense for a town.
func (s *Server) requireTenant(c *fiber.Ctx) error {
	if state(c).tenant == nil {
		return errNotFound
	}
	return c.Next()
}

const langCookie = "sportello_lang"

// language picks the response language: an explicit ?lang= (remembered in
// a cookie), the cookie, the browser's preference; always one the tenant
// offers.
func (s *Server) language(c *fiber.Ctx) error {
	rs := state(c)
	offered := s.i18n.Languages()
	if rs.tenant != nil {
		offered = rs.tenant.Languages
	}
	pick := func(l string) bool {
		for _, o := range offered {
			if o == l {
				rs.lang = o
				return true
			}
		}
		return false
	}
	if q := c.Query("lang"); q != "" && pick(q) {
		c.Cookie(&fiber.Cookie{Name: langCookie, Value: rs.lang, Path: "/", MaxAge: 365 * 24 * 3600,
			HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.SecureCookies})
	} else if !pick(c.Cookies(langCookie)) {
		rs.lang = strings.Clone(s.matchers.Match(c.Get(fiber.HeaderAcceptLanguage), offered))
	}
	return c.Next()
}

// require lets the request through when the person may do action on
// object in this tenant; deny by default.
func (s *Server) require(object, action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		rs := state(c)
		if rs.subject == "" {
			return errLoginRequired
		}
		ok, err := s.Authz.Enforce(c.UserContext(), rs.tenant.ID, rs.subject, object, action)
		if err != nil {
			return fmt.Errorf("authorize %s %s %s: %w", rs.subject, action, object, err)
		}
		if !ok {
			return errForbidden
		}
		return c.Next()
	}
}

func levelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
