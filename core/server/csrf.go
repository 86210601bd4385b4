package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/gofiber/fiber/v2"
)

const csrfCookie = "sportello_csrf"

// csrf protects every state-changing request with a signed double-submit
// token: the cookie holds a random value and its HMAC under the
// deployment's secret, and a form must post the same value back as _csrf
// (or an X-CSRF-Token header). Being stateless, it costs no database round
// trip on the anonymous pages that make up most traffic, and it works on
// any instance of the deployment.
func (s *Server) csrf(c *fiber.Ctx) error {
	rs := state(c)
	cookie := c.Cookies(csrfCookie)
	valid := s.csrfValid(cookie)
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
	default:
		sent := c.FormValue("_csrf")
		if sent == "" {
			sent = c.Get("X-CSRF-Token")
		}
		if !valid || !hmac.Equal([]byte(sent), []byte(cookie)) {
			return errCSRF
		}
	}
	if valid {
		rs.csrf = strings.Clone(cookie)
	}
	return c.Next()
}

// csrfToken is the visitor's token, issued (with its cookie) the first
// time a page with a form needs one: pages without forms set no cookie.
func (s *Server) csrfToken(c *fiber.Ctx) string {
	rs := state(c)
	if rs.csrf == "" {
		rs.csrf = s.newCSRF()
		c.Cookie(&fiber.Cookie{Name: csrfCookie, Value: rs.csrf, Path: "/", HTTPOnly: true,
			SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.SecureCookies})
	}
	return rs.csrf
}

func (s *Server) newCSRF() string {
	var nonce [18]byte
	_, _ = rand.Read(nonce[:])
	n := base64.RawURLEncoding.EncodeToString(nonce[:])
	return n + "." + s.csrfMAC(n)
}

func (s *Server) csrfMAC(nonce string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte("csrf:" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) csrfValid(token string) bool {
	nonce, mac, ok := strings.Cut(token, ".")
	return ok && len(nonce) == 24 && hmac.Equal([]byte(mac), []byte(s.csrfMAC(nonce)))
}
