package server

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/authz"
	"github.com/sportello/sportello/web"
)

const (
	sessionCookie  = "sportello_session"
	platformCookie = "sportello_platform"
)

// cookiePath keeps a tenant's session to that tenant's pages when tenants
// share a host (the /t/{slug} form): one town's cookie never reaches
// another town's handlers.
func cookiePath(rs *reqState) string {
	if rs.base != "" {
		return rs.base
	}
	return "/"
}

// loadSession finds who is signed in. Anonymous requests (no cookie) cost
// no database round trip.
func (s *Server) loadSession(c *fiber.Ctx) error {
	rs := state(c)
	ctx := c.UserContext()
	if strings.HasPrefix(c.Path(), "/platform") {
		if tok := c.Cookies(platformCookie); tok != "" {
			ps, err := s.Auth.PlatformSession(ctx, tok)
			switch {
			case err == nil:
				rs.platform = ps
				rs.subject = authz.PlatformSubject(ps.UserID)
			case !errors.Is(err, authn.ErrNoSession):
				return fmt.Errorf("platform session: %w", err)
			}
		}
		return c.Next()
	}
	if rs.tenant == nil {
		return c.Next()
	}
	tok := c.Cookies(sessionCookie)
	if tok == "" {
		return c.Next()
	}
	sess, err := s.Auth.Session(ctx, rs.tenant.ID, tok)
	switch {
	case err == nil:
		rs.session = sess
		if sess.Subject.UserID != 0 {
			rs.subject = authz.UserSubject(sess.Subject.UserID)
		} else {
			rs.subject = authz.CitizenSubject(sess.Subject.CitizenID)
		}
	case errors.Is(err, authn.ErrNoSession):
		// Expired or from before a restart of the database: forget it.
		c.ClearCookie(sessionCookie)
	default:
		return fmt.Errorf("session: %w", err)
	}
	return c.Next()
}

func (s *Server) setSession(c *fiber.Ctx, name, token, path string, expires time.Time) {
	c.Cookie(&fiber.Cookie{Name: name, Value: token, Path: path, Expires: expires, HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.SecureCookies})
}

func (s *Server) clearSession(c *fiber.Ctx, name, path string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: path, Expires: time.Unix(1, 0), MaxAge: -1, HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.SecureCookies})
}

func (s *Server) loginURL(c *fiber.Ctx) string {
	rs := state(c)
	if rs.tenant == nil {
		return "/platform/login"
	}
	return rs.base + "/login?next=" + c.OriginalURL()
}

// localPath keeps a redirect target on this site, else fallback.
func localPath(p, fallback string) string {
	if p == "" || authn.LocalPath(p) != p {
		return fallback
	}
	return p
}

// LoginData is the Data of the "login" page.
type loginView = web.LoginData

func (s *Server) loginForm(c *fiber.Ctx) error {
	return s.renderLogin(c, fiber.StatusOK, "", "")
}

func (s *Server) renderLogin(c *fiber.Ctx, status int, email, msgID string) error {
	rs := state(c)
	p := s.page(c, "login", s.i18n.T(rs.lang, "login.title", nil))
	d := loginView{Email: email, Next: localPath(c.Query("next", c.FormValue("next")), ""), Action: rs.base + "/login"}
	if msgID != "" {
		d.Error = s.i18n.T(rs.lang, msgID, nil)
	}
	if s.citizenLoginOffered(rs) {
		d.CitizenLoginURL = rs.base + "/auth/citizen"
		if d.Next != "" {
			d.CitizenLoginURL += "?next=" + d.Next
		}
	}
	p.Data = d
	return s.renderStatus(c, status, p)
}

func (s *Server) login(c *fiber.Ctx) error {
	rs := state(c)
	email := strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	if email == "" || password == "" || len(email) > 254 || len(password) > 1024 {
		return s.renderLogin(c, fiber.StatusUnprocessableEntity, email, "login.missing")
	}
	userID, err := s.Auth.LoginStaff(c.UserContext(), rs.tenant.ID, email, password)
	var locked *authn.LockedError
	switch {
	case errors.As(err, &locked):
		return s.renderLogin(c, fiber.StatusTooManyRequests, email, "login.locked")
	case errors.Is(err, authn.ErrBadCredentials):
		return s.renderLogin(c, fiber.StatusUnauthorized, email, "login.bad_credentials")
	case err != nil:
		return err
	}
	// A new session at every login: a token planted before it is worthless.
	tok, exp, err := s.Auth.RotateSession(c.UserContext(), rs.tenant.ID, c.Cookies(sessionCookie), authn.Subject{UserID: userID})
	if err != nil {
		return err
	}
	s.setSession(c, sessionCookie, tok, cookiePath(rs), exp)
	return c.Redirect(localPath(c.FormValue("next"), rs.base+"/backoffice"), fiber.StatusSeeOther)
}

func (s *Server) logout(c *fiber.Ctx) error {
	rs := state(c)
	if tok := c.Cookies(sessionCookie); tok != "" {
		if err := s.Auth.EndSession(c.UserContext(), rs.tenant.ID, tok); err != nil {
			return err
		}
	}
	s.clearSession(c, sessionCookie, cookiePath(rs))
	return c.Redirect(rs.base+"/", fiber.StatusSeeOther)
}

// citizenLoginOffered: the tenant has an OpenID Connect client, and a
// "dev" issuer only while the development provider runs.
func (s *Server) citizenLoginOffered(rs *reqState) bool {
	cl := rs.tenant.CitizenLogin
	return cl.Enabled() && (cl.Issuer != "dev" || s.cfg.DevIssuer != "")
}

func (s *Server) oidcConfig(rs *reqState) authn.OIDCConfig {
	cl := rs.tenant.CitizenLogin
	issuer := cl.Issuer
	if issuer == "dev" {
		issuer = s.cfg.DevIssuer
	}
	return authn.OIDCConfig{Issuer: issuer, ClientID: cl.ClientID, ClientSecret: cl.Secret()}
}

func (s *Server) callbackURL(c *fiber.Ctx) string {
	return c.Protocol() + "://" + c.Hostname() + state(c).base + "/auth/citizen/callback"
}

func (s *Server) citizenLoginStart(c *fiber.Ctx) error {
	rs := state(c)
	if !s.citizenLoginOffered(rs) {
		return errNotFound
	}
	next := localPath(c.Query("next"), rs.base+"/profile")
	url, err := s.Citizens.Begin(c.UserContext(), rs.tenant.ID, s.oidcConfig(rs), s.callbackURL(c), next)
	if err != nil {
		return fmt.Errorf("citizen login: %w", err)
	}
	return c.Redirect(url, fiber.StatusSeeOther)
}

func (s *Server) citizenLoginFinish(c *fiber.Ctx) error {
	rs := state(c)
	if !s.citizenLoginOffered(rs) {
		return errNotFound
	}
	if e := c.Query("error"); e != "" {
		// The citizen cancelled at the identity provider.
		return s.renderLogin(c, fiber.StatusUnauthorized, "", "login.citizen_cancelled")
	}
	citizenID, next, err := s.Citizens.Finish(c.UserContext(), rs.tenant.ID, s.oidcConfig(rs), s.callbackURL(c), c.Query("state"), c.Query("code"))
	if errors.Is(err, authn.ErrLoginFailed) {
		return s.renderLogin(c, fiber.StatusBadRequest, "", "login.citizen_failed")
	}
	if err != nil {
		return err
	}
	tok, exp, err := s.Auth.RotateSession(c.UserContext(), rs.tenant.ID, c.Cookies(sessionCookie), authn.Subject{CitizenID: citizenID})
	if err != nil {
		return err
	}
	s.setSession(c, sessionCookie, tok, cookiePath(rs), exp)
	return c.Redirect(localPath(next, rs.base+"/profile"), fiber.StatusSeeOther)
}

// Platform console: staff of the platform, nobody's tenant.

func (s *Server) platformLoginForm(c *fiber.Ctx) error {
	return s.renderPlatformLogin(c, fiber.StatusOK, "", "")
}

func (s *Server) renderPlatformLogin(c *fiber.Ctx, status int, email, msgID string) error {
	rs := state(c)
	p := s.page(c, "platform_login", s.i18n.T(rs.lang, "platform.login_title", nil))
	d := loginView{Email: email, Action: "/platform/login"}
	if msgID != "" {
		d.Error = s.i18n.T(rs.lang, msgID, nil)
	}
	p.Data = d
	return s.renderStatus(c, status, p)
}

func (s *Server) platformLogin(c *fiber.Ctx) error {
	email := strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	if email == "" || password == "" || len(email) > 254 || len(password) > 1024 {
		return s.renderPlatformLogin(c, fiber.StatusUnprocessableEntity, email, "login.missing")
	}
	userID, err := s.Auth.LoginPlatform(c.UserContext(), email, password)
	var locked *authn.LockedError
	switch {
	case errors.As(err, &locked):
		return s.renderPlatformLogin(c, fiber.StatusTooManyRequests, email, "login.locked")
	case errors.Is(err, authn.ErrBadCredentials):
		return s.renderPlatformLogin(c, fiber.StatusUnauthorized, email, "login.bad_credentials")
	case err != nil:
		return err
	}
	tok, exp, err := s.Auth.RotatePlatformSession(c.UserContext(), c.Cookies(platformCookie), userID)
	if err != nil {
		return err
	}
	s.setSession(c, platformCookie, tok, "/platform", exp)
	return c.Redirect("/platform", fiber.StatusSeeOther)
}

func (s *Server) platformLogout(c *fiber.Ctx) error {
	if tok := c.Cookies(platformCookie); tok != "" {
		if err := s.Auth.EndPlatformSession(c.UserContext(), tok); err != nil {
			return err
		}
	}
	s.clearSession(c, platformCookie, "/platform")
	return c.Redirect("/platform/login", fiber.StatusSeeOther)
}
