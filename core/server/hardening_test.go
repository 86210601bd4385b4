package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/server"
)

// checkSecurityHeaders: the policy runs no inline script nor eval, frames
// the page nowhere and loads no plugin; the browser sniffs no type and
// sends no referrer elsewhere; HSTS (a year at least) exactly when the
// deployment serves over HTTPS.
func checkSecurityHeaders(t *testing.T, r response, hsts bool) {
	t.Helper()
	directives := map[string]string{}
	for _, d := range strings.Split(r.header.Get("Content-Security-Policy"), ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		if name != "" {
			directives[name] = value
		}
	}
	script, ok := directives["script-src"]
	if !ok {
		script, ok = directives["default-src"]
	}
	if !ok || strings.Contains(script, "'unsafe-inline'") || strings.Contains(script, "'unsafe-eval'") || strings.Contains(script, "*") {
		t.Errorf("%d: scripts not held to the site: CSP %q", r.status, r.header.Get("Content-Security-Policy"))
	}
	if d := directives["default-src"]; d != "'self'" {
		t.Errorf("%d: default-src %q, want 'self'", r.status, d)
	}
	if d := directives["frame-ancestors"]; d != "'none'" {
		t.Errorf("%d: frame-ancestors %q, want 'none'", r.status, d)
	}
	if d := directives["object-src"]; d != "'none'" {
		t.Errorf("%d: object-src %q, want 'none'", r.status, d)
	}
	if v := r.header.Get("X-Content-Type-Options"); v != "nosniff" {
		t.Errorf("%d: X-Content-Type-Options %q", r.status, v)
	}
	if v := r.header.Get("X-Frame-Options"); v != "DENY" {
		t.Errorf("%d: X-Frame-Options %q", r.status, v)
	}
	switch v := r.header.Get("Referrer-Policy"); v {
	case "same-origin", "no-referrer", "strict-origin", "strict-origin-when-cross-origin":
	default:
		t.Errorf("%d: Referrer-Policy %q", r.status, v)
	}
	v := r.header.Get("Strict-Transport-Security")
	if !hsts {
		if v != "" {
			t.Errorf("%d: HSTS %q over plain HTTP", r.status, v)
		}
		return
	}
	age, err := strconv.Atoi(strings.TrimPrefix(strings.Split(v, ";")[0], "max-age="))
	if err != nil || age < 365*24*3600 {
		t.Errorf("%d: HSTS %q, want a max-age of a year at least", r.status, v)
	}
}

// Every kind of answer carries the security headers: pages, redirects,
// errors of every status (404, 403, 413, 422, 429, 500) as pages and as
// JSON, the APIs, downloads, static files and the probes; HSTS wherever
// the deployment is served over HTTPS.
func TestSecurityHeaders(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	staff := s.staff("lugano", "admin@lugano.example", "demo-lugano")
	over := []byte("email=" + strings.Repeat("x", 100<<10))
	cases := []struct {
		name   string
		status int
		do     func(base string) response
	}{
		{"portal page", 200, func(base string) response { return b.get(base + "/t/lugano/") }},
		{"landing page", 200, func(base string) response { return b.get(base + "/") }},
		{"signed-in page", 200, func(base string) response { return staff.get(base + "/t/lugano/backoffice") }},
		{"redirect to the login", 303, func(base string) response { return b.get(base + "/t/lugano/profile") }},
		{"404 page", 404, func(base string) response { return b.get(base + "/t/lugano/no/such/page") }},
		{"404 of an unknown town", 404, func(base string) response { return b.get(base + "/t/atlantide/") }},
		{"404 as JSON", 404, func(base string) response { return b.get(base+"/t/lugano/no/such", "Accept", "application/json") }},
		{"403 without a CSRF token", 403, func(base string) response {
			return b.do("POST", base+"/t/lugano/login", url.Values{"email": {"a@b.example"}})
		}},
		{"422 of a form", 422, func(base string) response {
			return b.form(base+"/t/lugano/login", base+"/t/lugano/login", url.Values{"email": {""}})
		}},
		{"413 of a body over the limit", 413, func(base string) response {
			r, err := b.post(base+"/t/lugano/login", "application/x-www-form-urlencoded", over)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}},
		{"JSON download", 200, func(base string) response { return b.get(base + "/t/lugano/opendata/ratings.json") }},
		{"CSV download", 200, func(base string) response { return b.get(base + "/t/lugano/opendata/requests.csv") }},
		{"Open311 API error", 404, func(base string) response { return b.get(base + "/t/lugano/open311/v2/services.json") }},
		{"static stylesheet", 200, func(base string) response { return b.get(base + "/static/css/sportello.css") }},
		{"static script", 200, func(base string) response { return b.get(base + "/static/js/map.js") }},
		{"missing static file", 404, func(base string) response { return b.get(base + "/static/css/nope.css") }},
		{"health", 200, func(base string) response { return b.get(base + "/healthz") }},
		{"metrics", 200, func(base string) response { return b.get(base + "/metrics") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.do(s.url)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, tc.status, r.body)
			}
			checkSecurityHeaders(t, r, false)
		})
	}

	t.Run("HSTS over HTTPS", func(t *testing.T) {
		// Behind HTTPS (SecureCookies) every answer asks browsers to
		// come back only over HTTPS.
		secure := serveWith(t, s, server.Config{BodyLimit: 64 << 10, SecureCookies: true})
		for _, tc := range cases {
			if tc.name == "422 of a form" { // its CSRF cookie, now Secure, is not sent over plain HTTP
				continue
			}
			r := tc.do(secure)
			if r.status != tc.status {
				t.Fatalf("%s: status %d, want %d", tc.name, r.status, tc.status)
			}
			checkSecurityHeaders(t, r, true)
		}
	})
	t.Run("429 of a client over its budget", func(t *testing.T) {
		limited := serveWith(t, s, server.Config{RateLimit: server.RateLimit{Reads: 1, Window: time.Minute}})
		c := s.clientAt("127.0.0.2")
		expect(t, c.get(limited+"/t/lugano/"), 200)
		r := c.get(limited + "/t/lugano/")
		expect(t, r, 429)
		checkSecurityHeaders(t, r, false)
		r = c.get(limited+"/t/lugano/", "Accept", "application/json")
		expect(t, r, 429)
		checkSecurityHeaders(t, r, false)
	})
	t.Run("500 when the database fails", func(t *testing.T) {
		// The sessions table gone: looking a session up fails, as it
		// does when the database does.
		if _, err := s.db.Owner.ExecContext(context.Background(), "ALTER TABLE sessions RENAME TO sessions_gone"); err != nil {
			t.Fatal(err)
		}
		cookie := "sportello_session=" + strings.Repeat("A", 43)
		r := s.browser().get(s.url+"/t/lugano/", "Cookie", cookie)
		expect(t, r, 500)
		checkSecurityHeaders(t, r, false)
		r = s.browser().get(s.url+"/t/lugano/", "Cookie", cookie, "Accept", "application/json")
		expect(t, r, 500)
		checkSecurityHeaders(t, r, false)
	})
}

// sessionCookie is the value of the cookie name that r sets, "" if none.
func sessionCookie(r response, name string) string {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// cookieOf is the value of the cookie name the browser holds for u.
func (b *browser) cookieOf(u, name string) string {
	for _, c := range b.c.Jar.Cookies(mustURL(u)) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// plant puts a session token into the browser before its owner logs in,
// as an attacker who can set a cookie for the site would (session
// fixation).
func (b *browser) plant(u, name, token, path string) {
	b.c.Jar.SetCookies(mustURL(u), []*http.Cookie{{Name: name, Value: token, Path: path}})
}

// Logging in starts a new session, whatever token the browser held: the
// cookie set differs from a token planted before, and the planted one is
// no session afterwards (its own holder is logged out), for the staff's
// login, the citizens' OpenID Connect login and the platform's.
func TestSessionRenewal(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()

	t.Run("staff login", func(t *testing.T) {
		// The attacker's own live session of the town: a citizen's.
		attacker := s.citizen("lugano", "giulia.bianchi")
		planted := attacker.cookieOf(s.url+"/t/lugano/", "sportello_session")
		if planted == "" {
			t.Fatal("the attacker has no session")
		}
		victim := s.browser()
		victim.plant(s.url+"/t/lugano/", "sportello_session", planted, "/t/lugano")
		login := s.url + "/t/lugano/login"
		r := victim.form(login, login, url.Values{"email": {"admin@lugano.example"}, "password": {"demo-lugano"}})
		expect(t, r, 303)
		renewed := sessionCookie(r, "sportello_session")
		if renewed == "" || renewed == planted {
			t.Fatalf("the login kept the planted token (cookie %q)", renewed)
		}
		expect(t, victim.get(s.url+"/t/lugano/backoffice"), 200, "Chiara Bernasconi")
		// The planted token opens nothing now, for the attacker neither.
		r = s.browser().get(s.url+"/t/lugano/backoffice", "Cookie", "sportello_session="+planted)
		if r.status != 303 || !strings.Contains(r.header.Get("Location"), "/t/lugano/login") {
			t.Fatalf("the planted token after the login: %d %s", r.status, r.header.Get("Location"))
		}
		if r := attacker.get(s.url + "/t/lugano/profile"); r.status != 303 {
			t.Fatalf("the attacker is still signed in: %d", r.status)
		}
		if _, err := s.srv.Auth.Session(ctx, mustTenant(t, s, "lugano").ID, planted); !errors.Is(err, authn.ErrNoSession) {
			t.Fatalf("the planted token is still a session: %v", err)
		}
	})

	t.Run("citizen login", func(t *testing.T) {
		attacker := s.staff("trezzo-sull-adda", "anagrafe@trezzo.example", "demo-trezzo")
		planted := attacker.cookieOf(s.url+"/t/trezzo-sull-adda/", "sportello_session")
		victim := s.browser()
		victim.plant(s.url+"/t/trezzo-sull-adda/", "sportello_session", planted, "/t/trezzo-sull-adda")
		r := victim.get(s.url + "/t/trezzo-sull-adda/auth/citizen")
		r = victim.get(r.header.Get("Location") + "&login_hint=mario.rossi")
		r = victim.get(r.header.Get("Location"))
		expect(t, r, 303)
		renewed := sessionCookie(r, "sportello_session")
		if renewed == "" || renewed == planted {
			t.Fatalf("the login kept the planted token (cookie %q)", renewed)
		}
		expect(t, victim.get(s.url+"/t/trezzo-sull-adda/profile"), 200, "Mario Rossi")
		r = s.browser().get(s.url+"/t/trezzo-sull-adda/backoffice", "Cookie", "sportello_session="+planted)
		if r.status != 303 || !strings.Contains(r.header.Get("Location"), "/login") {
			t.Fatalf("the planted token after the login: %d %s", r.status, r.header.Get("Location"))
		}
		if _, err := s.srv.Auth.Session(ctx, mustTenant(t, s, "trezzo-sull-adda").ID, planted); !errors.Is(err, authn.ErrNoSession) {
			t.Fatalf("the planted token is still a session: %v", err)
		}
	})

	t.Run("platform login", func(t *testing.T) {
		addPlatformUser(t, s, "ops@sportello.example", "platform-password")
		addPlatformUser(t, s, "intruder@sportello.example", "intruder-password")
		login := s.url + "/platform/login"
		attacker := s.browser()
		expect(t, attacker.form(login, login, url.Values{"email": {"intruder@sportello.example"}, "password": {"intruder-password"}}), 303)
		planted := attacker.cookieOf(s.url+"/platform/", "sportello_platform")
		if planted == "" {
			t.Fatal("the attacker has no platform session")
		}
		victim := s.browser()
		victim.plant(s.url+"/platform/", "sportello_platform", planted, "/platform")
		r := victim.form(login, login, url.Values{"email": {"ops@sportello.example"}, "password": {"platform-password"}})
		expect(t, r, 303)
		renewed := sessionCookie(r, "sportello_platform")
		if renewed == "" || renewed == planted {
			t.Fatalf("the login kept the planted token (cookie %q)", renewed)
		}
		expect(t, victim.get(s.url+"/platform"), 200)
		r = s.browser().get(s.url+"/platform", "Cookie", "sportello_platform="+planted)
		if r.status != 303 || !strings.Contains(r.header.Get("Location"), "/platform/login") {
			t.Fatalf("the planted token after the login: %d %s", r.status, r.header.Get("Location"))
		}
		if _, err := s.srv.Auth.PlatformSession(ctx, planted); !errors.Is(err, authn.ErrNoSession) {
			t.Fatalf("the planted token is still a platform session: %v", err)
		}
	})
}
