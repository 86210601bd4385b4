package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/core/appointment"
	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/authn/devidp"
	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/server"
	"github.com/sportello/sportello/core/store/pgtest"
	"github.com/sportello/sportello/core/tenancy"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

// listen serves srv over HTTP on a free loopback port until stop.
func listen(t *testing.T, srv *server.Server) (url string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx, ln, 5*time.Second); close(done) }()
	return "http://" + ln.Addr().String(), func() { cancel(); <-done }
}

// site is a running Sportello with the demo tenants, served over real
// HTTP on loopback, with the development identity provider beside it.
type site struct {
	t    *testing.T
	url  string
	srv  *server.Server
	db   *pgtest.DB
	idp  string
	stop func() // stops the HTTP server (and what withPlugins adds)
}

func newSite(t *testing.T) *site {
	t.Helper()
	ctx := context.Background()
	db := pg.NewDB(t)
	files, _ := filepath.Glob("../../tenants/*.yaml")
	for _, f := range files {
		m, err := tenancy.LoadManifest(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tenancy.Apply(ctx, db.App, authn.Argon2{}, m); err != nil {
			t.Fatal(err)
		}
		if err := appointment.Apply(ctx, db.App, booking.New(db.App, nil), m); err != nil {
			t.Fatal(err)
		}
	}
	idpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + idpLn.Addr().String()
	idp, err := devidp.New(issuer, devidp.Options{AcceptAnyClient: true})
	if err != nil {
		t.Fatal(err)
	}
	idpSrv := &httptest.Server{Listener: idpLn, Config: &http.Server{Handler: idp}}
	idpSrv.Start()

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.Assemble(ctx, db.App, server.Config{BaseDomain: "sportello.test", DevIssuer: issuer, BodyLimit: 64 << 10, PaymentProvider: "local",
		FilesDir: t.TempDir()}, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	url, stop := listen(t, srv)
	s := &site{t: t, url: url, srv: srv, db: db, idp: issuer, stop: stop}
	t.Cleanup(func() { s.stop(); idpSrv.Close() })
	return s
}

// browser is a client with a cookie jar that does not follow redirects,
// so each step can be checked.
type browser struct {
	t      *testing.T
	c      *http.Client
	header http.Header
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, header: http.Header{}}
}

type response struct {
	status int
	body   string
	header http.Header
}

func (b *browser) do(method, u string, form url.Values, hdr ...string) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(data), header: res.Header}
}

func (b *browser) get(u string, hdr ...string) response { return b.do(http.MethodGet, u, nil, hdr...) }

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// form GETs page, takes its CSRF token and posts values to action.
func (b *browser) form(page, action string, values url.Values) response {
	b.t.Helper()
	r := b.get(page)
	m := csrfField.FindStringSubmatch(r.body)
	if m == nil {
		b.t.Fatalf("no CSRF field on %s (%d): %.3000s", page, r.status, r.body[min(len(r.body), strings.Index(r.body, "<main")+1):])
	}
	values.Set("_csrf", m[1])
	return b.do(http.MethodPost, action, values)
}

func expect(t *testing.T, r response, status int, contains ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %.600s", r.status, status, r.body)
	}
	for _, c := range contains {
		if !strings.Contains(r.body, c) {
			t.Fatalf("response lacks %q; body: %.1500s", c, r.body)
		}
	}
}

func TestPortalsAreBranded(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	cases := []struct {
		name, url, host string
		contains        []string
	}{
		{"lugano by path", s.url + "/t/lugano/", "", []string{"Città di Lugano", `lang="it"`, "/t/lugano/logo", "Controllo abitanti"}},
		{"lugano in German", s.url + "/t/lugano/?lang=de", "", []string{"Città di Lugano", `lang="de"`, "Einwohnerkontrolle"}},
		{"trezzo by host", s.url + "/", "trezzo-sull-adda.sportello.test", []string{"Comune di Trezzo sull&#39;Adda", "Servizi demografici"}},
		{"venezia by custom host form", s.url + "/", "venezia.localhost", []string{"Comune di Venezia", "Ufficio relazioni con il pubblico"}},
		{"lugano by its own domain", s.url + "/", "lugano.sportello.example", []string{"Città di Lugano"}},
		{"landing lists the portals", s.url + "/", "", []string{"/t/lugano/", "/t/venezia/", "/t/trezzo-sull-adda/"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r response
			if tc.host != "" {
				r = b.get(tc.url, "Host", tc.host)
			} else {
				r = b.get(tc.url)
			}
			expect(t, r, 200, tc.contains...)
			if r.header.Get("Content-Security-Policy") == "" || r.header.Get("X-Request-ID") == "" {
				t.Error("security headers or request id missing")
			}
		})
	}
	t.Run("a language the town does not offer falls back", func(t *testing.T) {
		expect(t, b.get(s.url+"/t/trezzo-sull-adda/?lang=de"), 200, `lang="it"`)
	})
	t.Run("the browser's language is honoured", func(t *testing.T) {
		fresh := s.browser()
		expect(t, fresh.get(s.url+"/t/venezia/", "Accept-Language", "en-GB,en;q=0.9"), 200, `lang="en"`, "Public relations office")
	})
	t.Run("logo", func(t *testing.T) {
		r := b.get(s.url + "/t/lugano/logo")
		expect(t, r, 200, "<svg")
		if r.header.Get("Content-Type") != "image/svg+xml" {
			t.Errorf("logo type %q", r.header.Get("Content-Type"))
		}
	})
}

func TestBadRequestsGetClearErrors(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	t.Run("unknown tenant by path", func(t *testing.T) {
		expect(t, b.get(s.url+"/t/atlantide/"), 404, "<html")
	})
	t.Run("unknown tenant by host", func(t *testing.T) {
		expect(t, b.get(s.url+"/", "Host", "atlantide.localhost"), 404)
	})
	t.Run("unknown tenant as JSON", func(t *testing.T) {
		r := b.get(s.url+"/t/atlantide/", "Accept", "application/json")
		expect(t, r, 404)
		var body map[string]any
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || body["error"] == "" {
			t.Fatalf("not a JSON error: %s", r.body)
		}
	})
	t.Run("unknown route", func(t *testing.T) {
		expect(t, b.get(s.url+"/t/lugano/no/such/page"), 404)
	})
	t.Run("tenant route without a tenant", func(t *testing.T) {
		expect(t, b.get(s.url+"/login"), 404)
	})
	t.Run("form without CSRF token", func(t *testing.T) {
		expect(t, b.do("POST", s.url+"/t/lugano/login", url.Values{"email": {"a@b.example"}, "password": {"x"}}), 403)
	})
	t.Run("form with a forged CSRF token", func(t *testing.T) {
		b.get(s.url + "/t/lugano/login")
		expect(t, b.do("POST", s.url+"/t/lugano/login", url.Values{"_csrf": {"AAAAAAAAAAAAAAAAAAAAAAAA.forged"}}), 403)
	})
	t.Run("oversized body", func(t *testing.T) {
		big := url.Values{"email": {strings.Repeat("x", 100<<10)}}
		r := b.do("POST", s.url+"/t/lugano/login", big)
		if r.status != 413 {
			t.Fatalf("status %d, want 413", r.status)
		}
	})
	t.Run("malformed login form", func(t *testing.T) {
		expect(t, b.form(s.url+"/t/lugano/login", s.url+"/t/lugano/login", url.Values{"email": {""}}), 422)
	})
	t.Run("health", func(t *testing.T) {
		expect(t, b.get(s.url+"/healthz"), 200, `"ok"`)
		expect(t, b.get(s.url+"/readyz"), 200, `"database":"ok"`)
		expect(t, b.get(s.url+"/metrics"), 200, "sportello_http_requests_total", "sportello_tenants 3")
	})
}

func TestStaffLoginSessionsAndLockout(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	login := s.url + "/t/lugano/login"

	expect(t, b.form(login, login, url.Values{"email": {"sportello@lugano.example"}, "password": {"wrong-password"}}), 401, "sportello@lugano.example")
	r := b.form(login, login, url.Values{"email": {"Sportello@Lugano.example"}, "password": {"demo-lugano"}})
	if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), "/t/lugano/backoffice") {
		t.Fatalf("login: %d %s", r.status, r.header.Get("Location"))
	}
	cookie := r.header.Get("Set-Cookie")
	for _, want := range []string{"httponly", "samesite=lax", "path=/t/lugano;"} {
		if !strings.Contains(strings.ToLower(cookie), want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	expect(t, b.get(s.url+"/t/lugano/backoffice"), 200, "Marco Rezzonico", "Controllo abitanti")

	t.Run("an operator is not a tenant admin", func(t *testing.T) {
		expect(t, b.get(s.url+"/t/lugano/admin/policies"), 403)
	})
	t.Run("the session means nothing in another town", func(t *testing.T) {
		// Even presented on purpose, lugano's cookie opens nothing in venezia.
		var tok string
		for _, c := range b.c.Jar.Cookies(mustURL(s.url + "/t/lugano/")) {
			if c.Name == "sportello_session" {
				tok = c.Value
			}
		}
		other := s.browser()
		r := other.get(s.url+"/t/venezia/backoffice", "Cookie", "sportello_session="+tok)
		if r.status != 303 || !strings.Contains(r.header.Get("Location"), "/t/venezia/login") {
			t.Fatalf("lugano's session in venezia: %d %s", r.status, r.header.Get("Location"))
		}
	})
	t.Run("logout ends the session", func(t *testing.T) {
		r := b.form(s.url+"/t/lugano/profile", s.url+"/t/lugano/logout", url.Values{})
		expect(t, r, 303)
		r = b.get(s.url + "/t/lugano/backoffice")
		if r.status != 303 {
			t.Fatalf("after logout: %d", r.status)
		}
	})
	t.Run("lock-out after repeated failures", func(t *testing.T) {
		attacker := s.browser()
		var last response
		for i := 0; i < 11; i++ {
			last = attacker.form(login, login, url.Values{"email": {"admin@lugano.example"}, "password": {fmt.Sprintf("guess-%d", i)}})
		}
		expect(t, last, 429)
		// Even the right password is refused while locked.
		expect(t, attacker.form(login, login, url.Values{"email": {"admin@lugano.example"}, "password": {"demo-lugano"}}), 429)
	})
}

func TestExpiredSessionAsksToLogIn(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	login := s.url + "/t/venezia/login"
	expect(t, b.form(login, login, url.Values{"email": {"urp@venezia.example"}, "password": {"demo-venezia"}}), 303)
	if _, err := s.db.Owner.ExecContext(context.Background(), "UPDATE sessions SET expires_at = now() - interval '1 minute'"); err != nil {
		t.Fatal(err)
	}
	r := b.get(s.url + "/t/venezia/backoffice")
	if r.status != 303 || !strings.Contains(r.header.Get("Location"), "/t/venezia/login") {
		t.Fatalf("expired session: %d %s", r.status, r.header.Get("Location"))
	}
	r = b.get(s.url+"/t/venezia/backoffice", "Accept", "application/json")
	expect(t, r, 401)
}

func TestCitizenLogsInThroughOIDC(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	r := b.get(s.url + "/t/trezzo-sull-adda/login")
	expect(t, r, 200, "/t/trezzo-sull-adda/auth/citizen")
	r = b.get(s.url + "/t/trezzo-sull-adda/auth/citizen")
	if r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), s.idp) {
		t.Fatalf("start: %d %s", r.status, r.header.Get("Location"))
	}
	// At the provider, the demo citizen is picked by login_hint.
	authURL := r.header.Get("Location") + "&login_hint=" + url.QueryEscape("mario.rossi")
	r = b.get(authURL)
	if r.status != 302 && r.status != 303 {
		t.Fatalf("provider: %d %.300s", r.status, r.body)
	}
	r = b.get(r.header.Get("Location"))
	if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), "/t/trezzo-sull-adda/profile") {
		t.Fatalf("callback: %d %s %.300s", r.status, r.header.Get("Location"), r.body)
	}
	expect(t, b.get(s.url+"/t/trezzo-sull-adda/profile"), 200, "Mario Rossi")
	t.Run("a citizen is no operator", func(t *testing.T) {
		expect(t, b.get(s.url+"/t/trezzo-sull-adda/backoffice"), 403)
	})
	t.Run("a forged callback is refused", func(t *testing.T) {
		r := s.browser().get(s.url + "/t/trezzo-sull-adda/auth/citizen/callback?state=forged&code=x")
		expect(t, r, 400)
	})
}

func TestTenantAdminEditsPolicies(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	login := s.url + "/t/trezzo-sull-adda/login"
	page := s.url + "/t/trezzo-sull-adda/admin/policies"
	expect(t, b.form(login, login, url.Values{"email": {"admin@trezzo.example"}, "password": {"demo-trezzo"}}), 303)
	expect(t, b.get(page), 200)

	r := b.form(page, page, url.Values{"role": {"operator"}, "object": {"../../etc"}, "action": {"read"}})
	expect(t, r, 422, "../../etc")
	r = b.form(page, page, url.Values{"role": {"operator"}, "object": {"admin/reports"}, "action": {"read"}})
	expect(t, r, 303)
	expect(t, b.get(page), 200, "admin/reports")

	// The operator of the same town now reads reports; another town's
	// operator does not.
	var rules int
	_ = s.db.Owner.NewRaw("SELECT count(*) FROM casbin_rules").Scan(context.Background(), &rules)
	if rules != 1 {
		t.Fatalf("%d rules stored, want 1", rules)
	}
	ok, err := s.srv.Authz.Enforce(context.Background(), mustTenant(t, s, "venezia").ID, "user:1", "admin/reports", "read")
	if err != nil || ok {
		t.Fatalf("a rule of trezzo granted in venezia: %v %v", ok, err)
	}
}

func TestPlatformConsole(t *testing.T) {
	s := newSite(t)
	addPlatformUser(t, s, "ops@sportello.example", "platform-password")
	b := s.browser()
	r := b.get(s.url + "/platform")
	if r.status != 303 {
		t.Fatalf("console without login: %d", r.status)
	}
	login := s.url + "/platform/login"
	expect(t, b.form(login, login, url.Values{"email": {"ops@sportello.example"}, "password": {"nope-nope"}}), 401)
	expect(t, b.form(login, login, url.Values{"email": {"ops@sportello.example"}, "password": {"platform-password"}}), 303)
	expect(t, b.get(s.url+"/platform"), 200, "trezzo-sull-adda", "venezia", "lugano")
	// A tenant's staff session is no platform session.
	tb := s.browser()
	tl := s.url + "/t/lugano/login"
	expect(t, tb.form(tl, tl, url.Values{"email": {"admin@lugano.example"}, "password": {"demo-lugano"}}), 303)
	if r := tb.get(s.url + "/platform"); r.status != 303 {
		t.Fatalf("tenant admin reached the platform console: %d", r.status)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func mustTenant(t *testing.T, s *site, slug string) *tenancy.Tenant {
	tn, ok := s.srv.Tenants.BySlug(slug)
	if !ok {
		t.Fatalf("no tenant %s", slug)
	}
	return tn
}

func TestCachedHomePageFollowsChangesAndPeople(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	b := s.browser()
	expect(t, b.get(s.url+"/t/venezia/"), 200, "Comune di Venezia")
	expect(t, b.get(s.url+"/t/venezia/"), 200, "Comune di Venezia")

	data, err := os.ReadFile("../../tenants/venezia.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := tenancy.ParseManifest("venezia.yaml", []byte(strings.Replace(string(data), "name: Comune di Venezia", "name: Città di Venezia", 1)), "../../tenants")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tenancy.Apply(ctx, s.db.App, authn.Argon2{}, m); err != nil {
		t.Fatal(err)
	}
	if err := s.srv.Tenants.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	expect(t, b.get(s.url+"/t/venezia/"), 200, "Città di Venezia")

	// A signed-in operator gets a page of their own, not the visitors' copy.
	login := s.url + "/t/venezia/login"
	expect(t, b.form(login, login, url.Values{"email": {"urp@venezia.example"}, "password": {"demo-venezia"}}), 303)
	expect(t, b.get(s.url+"/t/venezia/"), 200, "Giorgio Favaro")
	if r := s.browser().get(s.url + "/t/venezia/"); strings.Contains(r.body, "Giorgio Favaro") {
		t.Fatal("an anonymous visitor saw the operator's page")
	}
}

// Odd and hostile requests get a 4xx, never a 500.
func TestHostileRequestsNeverFail(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	staff := s.browser()
	login := s.url + "/t/lugano/login"
	expect(t, staff.form(login, login, url.Values{"email": {"admin@lugano.example"}, "password": {"demo-lugano"}}), 303)
	cases := []struct {
		who    *browser
		method string
		path   string
		hdr    []string
	}{
		{b, "GET", "/t/" + strings.Repeat("a", 3000) + "/", nil},
		{b, "GET", "/t/lugano/%2e%2e/%2e%2e/etc/passwd", nil},
		{b, "GET", "/static/../../go.mod", nil},
		{b, "GET", "/t//", nil},
		{b, "GET", "/t/lugano/login?next=https://evil.example/", nil},
		{b, "GET", "/t/lugano/auth/citizen?next=//evil.example", nil},
		{b, "GET", "/t/lugano/auth/citizen/callback", nil},
		{b, "GET", "/t/lugano/auth/citizen/callback?error=access_denied", nil},
		{b, "GET", "/", []string{"Host", "xn--ls8h.localhost"}},
		{b, "GET", "/", []string{"Host", strings.Repeat("x", 300) + ".localhost"}},
		{b, "GET", "/t/lugano/?lang=" + strings.Repeat("x", 500), nil},
		{b, "GET", "/t/lugano/", []string{"Accept-Language", strings.Repeat("de;q=0.5,", 400)}},
		{b, "GET", "/t/lugano/", []string{"Cookie", "sportello_session=" + strings.Repeat("A", 3000)}},
		{b, "GET", "/t/lugano/", []string{"X-Request-ID", "<script>"}},
		{b, "DELETE", "/t/lugano/", nil},
		{b, "PUT", "/t/lugano/login", nil},
		{staff, "POST", "/t/lugano/admin/policies/abc/delete", nil},
		{staff, "POST", "/t/lugano/admin/policies/99999/delete", nil},
		{staff, "POST", "/t/lugano/admin/policies/-1/delete", nil},
		{staff, "GET", "/t/venezia/admin/policies", nil},
		{b, "GET", "/t/lugano/services/nosuch", nil},
		{b, "GET", "/t/lugano/services/" + strings.Repeat("x", 500), nil},
		{staff, "GET", "/t/lugano/admin/services/nosuch", nil},
		{staff, "POST", "/t/lugano/admin/services/nosuch/publish", nil},
		{staff, "POST", "/t/lugano/admin/services/helpdesk/request", nil},
		{staff, "POST", "/t/lugano/services/nosuch/submit", nil},
		{staff, "POST", "/platform/requests/abc/1/approve", nil},
		{staff, "POST", "/platform/requests/1/1/launch", nil},
	}
	for _, tc := range cases {
		var form url.Values
		if tc.method == "POST" {
			tok := csrfField.FindStringSubmatch(tc.who.get(s.url + "/t/lugano/admin/policies").body)
			form = url.Values{"_csrf": {tok[1]}}
		}
		r := tc.who.do(tc.method, s.url+tc.path, form, tc.hdr...)
		if r.status >= 500 || r.status < 200 {
			t.Errorf("%s %.80s %v: status %d", tc.method, tc.path, tc.hdr, r.status)
		}
		if loc := r.header.Get("Location"); strings.Contains(loc, "evil.example") {
			t.Errorf("%s %.80s: open redirect to %s", tc.method, tc.path, loc)
		}
	}
}
