package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/core/server"
)

// serveWith serves the site's database a second time with cfg (the town
// host, the development provider and a files folder filled in when
// unset), as a deployment so configured serves it, and returns its URL.
func serveWith(t *testing.T, s *site, cfg server.Config) string {
	t.Helper()
	ctx := context.Background()
	if cfg.BaseDomain == "" {
		cfg.BaseDomain = "sportello.test"
	}
	if cfg.DevIssuer == "" {
		cfg.DevIssuer = s.idp
	}
	if cfg.FilesDir == "" {
		cfg.FilesDir = t.TempDir()
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.Assemble(ctx, s.db.App, cfg, log, s.srv.Plugins)
	if err != nil {
		t.Fatal(err)
	}
	url, stop := listen(t, srv)
	t.Cleanup(stop)
	return url
}

// clientAt is a browser whose connections come from ip, an address of the
// loopback network (127.0.0.2, …): to the server, another client.
func (s *site) clientAt(ip string) *browser {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	s.t.Cleanup(tr.CloseIdleConnections)
	return &browser{t: s.t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, header: http.Header{}}
}

// post sends body as contentType, with the headers hdr (name, value, …).
func (b *browser) post(u, contentType string, body []byte, hdr ...string) (response, error) {
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(data), header: res.Header}, nil
}

// A body over BodyLimit, which fasthttp refuses before any handler runs,
// is answered as every other error: a 413 page in the request's language
// with the town's look and the security headers, JSON for an API client,
// an Open311 error list for an app; and a body far over the limit is read
// to its end, so the client gets that answer instead of a reset
// connection.
func TestLimitsBodyTooLarge(t *testing.T) {
	s := newSite(t) // BodyLimit: 64 KiB
	b := s.browser()
	over := []byte("email=" + strings.Repeat("x", 100<<10))

	t.Run("a page in the request's language", func(t *testing.T) {
		r, err := b.post(s.url+"/t/lugano/login", "application/x-www-form-urlencoded", over, "Accept-Language", "de")
		if err != nil {
			t.Fatal(err)
		}
		expect(t, r, 413, `lang="de"`, "Ihre Sendung überschreitet die erlaubte Grösse.", "Città di Lugano")
		checkSecurityHeaders(t, r, false)
		if r.header.Get("X-Request-ID") == "" {
			t.Error("no request id on the 413")
		}
	})
	t.Run("JSON for an API client", func(t *testing.T) {
		r, err := b.post(s.url+"/t/venezia/login", "application/x-www-form-urlencoded", over, "Accept", "application/json", "Accept-Language", "en")
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error  string `json:"error"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || r.status != 413 || body.Status != 413 ||
			body.Error != "What you sent is larger than allowed." {
			t.Fatalf("%d %s (%v)", r.status, r.body, err)
		}
		checkSecurityHeaders(t, r, false)
	})
	t.Run("an Open311 error list for an app", func(t *testing.T) {
		r, err := b.post(s.url+"/t/venezia/open311/v2/requests.json", "application/x-www-form-urlencoded", over)
		if err != nil {
			t.Fatal(err)
		}
		var list []struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		}
		if err := json.Unmarshal([]byte(r.body), &list); err != nil || r.status != 413 || len(list) != 1 || list[0].Code != 413 {
			t.Fatalf("%d %s (%v)", r.status, r.body, err)
		}
	})
	t.Run("a body far over the limit is read, and answered", func(t *testing.T) {
		// More than the system's buffers hold: closing on a client still
		// sending would reset the connection under it.
		big := serveWith(t, s, server.Config{BodyLimit: 8 << 20})
		r, err := s.browser().post(big+"/t/lugano/login", "application/x-www-form-urlencoded",
			append([]byte("email="), bytes.Repeat([]byte("x"), 30<<20)...), "Accept-Language", "de")
		if err != nil {
			t.Fatalf("the client got no answer: %v", err)
		}
		expect(t, r, 413, `lang="de"`, "Ihre Sendung überschreitet die erlaubte Grösse.")
	})
	t.Run("a multipart body of too many parts", func(t *testing.T) {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		for i := range 1200 {
			_ = w.WriteField(fmt.Sprintf("f%d", i), "x")
		}
		_ = w.Close()
		r, err := b.post(s.url+"/t/lugano/login", w.FormDataContentType(), body.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		expect(t, r, 413)
		checkSecurityHeaders(t, r, false)
	})
}

// Files in a service's form: one over its field's limit is refused beside
// the field (422, the form kept); more files than the form has file
// fields are refused altogether and none is stored; one file per field,
// with the empty parts of untouched file inputs, is taken.
func TestLimitsUploads(t *testing.T) {
	s := newSite(t)
	withDesk(t, s)
	mario := s.citizen("lugano", "mario.rossi")
	svc := s.url + "/t/lugano/services/desk"
	expect(t, mario.get(svc+"?lang=de"), 200, `lang="de"`)
	pending := func() int {
		var n int
		if err := s.db.Owner.NewRaw("SELECT count(*) FROM dossier_attachments WHERE dossier_id IS NULL").Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("a file over its field's limit", func(t *testing.T) {
		r := mario.multipart(svc, svc+"/submit", url.Values{"subject": {"Erneuerung"}}, fileUpload{"document", "ausweis.pdf", pdfOf(30000)})
		expect(t, r, 422, "Die Datei ist zu groß: höchstens", `id="field-document-error"`, "Erneuerung")
	})
	for _, tc := range []struct {
		name  string
		files []fileUpload
	}{
		{"two files for one field", []fileUpload{{"document", "a.pdf", pdfOf(1000)}, {"document", "b.pdf", pdfOf(1000)}}},
		{"a file for a field that takes none", []fileUpload{{"document", "a.pdf", pdfOf(1000)}, {"subject", "b.pdf", pdfOf(1000)}}},
		{"a file under no field's name", []fileUpload{{"document", "a.pdf", pdfOf(1000)}, {"photo", "io.png", pngPixel}, {"extra", "c.png", pngPixel}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := pending()
			r := mario.multipart(svc, svc+"/submit", url.Values{"subject": {"Erneuerung"}}, tc.files...)
			expect(t, r, 422, "Es sind mehr Dateien eingegangen, als das Formular vorsieht", "Erneuerung")
			if strings.Contains(r.body, `id="service-result"`) {
				t.Fatal("the service received the submission")
			}
			if n := pending(); n != before {
				t.Fatalf("%d files stored from a refused submission", n-before)
			}
		})
	}
	t.Run("one file per field is taken", func(t *testing.T) {
		// A browser posts an empty part for a file input left alone.
		r := mario.multipart(svc, svc+"/submit", url.Values{"subject": {"Erneuerung"}},
			fileUpload{"document", "ausweis.pdf", pdfOf(2000)}, fileUpload{"photo", "", nil})
		expect(t, r, 200, `id="service-result"`, "/document=ausweis.pdf (application/pdf")
	})
}

// rateLimited checks a 429: Retry-After a whole number of seconds within
// the window, and the message saying so.
func rateLimited(t *testing.T, r response, window time.Duration) int {
	t.Helper()
	if r.status != 429 {
		t.Fatalf("status %d, want 429; body: %.300s", r.status, r.body)
	}
	wait, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || wait < 1 || wait > int(window/time.Second) {
		t.Fatalf("Retry-After %q, want 1 to %d seconds", r.header.Get("Retry-After"), int(window/time.Second))
	}
	return wait
}

// spend makes n requests that must all pass, then one that must not.
func spend(t *testing.T, n int, do func() response) response {
	t.Helper()
	for i := range n {
		if r := do(); r.status == 429 {
			t.Fatalf("request %d of a budget of %d refused", i+1, n)
		}
	}
	return do()
}

// Each client has its budget at each town: past it, 429 with Retry-After
// and a message in its language; others at the same town, and the same
// client at another town, go on; writes have a smaller budget of their
// own; assets and probes have none; a person signed in is counted as
// themselves, and behind a trusted proxy the address it forwards is the
// client's.
func TestRateLimitPerTownAndClient(t *testing.T) {
	s := newSite(t)
	const window = time.Minute
	base := serveWith(t, s, server.Config{RateLimit: server.RateLimit{Reads: 5, Writes: 3, Window: window,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.9/32")}}})

	a := s.clientAt("127.0.0.2")
	r := spend(t, 5, func() response { return a.get(base+"/t/lugano/", "Accept-Language", "de") })
	wait := rateLimited(t, r, window)
	expect(t, r, 429, `lang="de"`, fmt.Sprintf("Versuchen Sie es in %d Sekunde", wait), "Città di Lugano")
	checkSecurityHeaders(t, r, false)

	t.Run("as JSON for an API client", func(t *testing.T) {
		c := s.clientAt("127.0.0.8")
		r := spend(t, 5, func() response {
			return c.get(base+"/t/venezia/opendata/ratings.json", "Accept", "application/json", "Accept-Language", "en")
		})
		wait := rateLimited(t, r, window)
		var body struct {
			Code       string `json:"code"`
			Error      string `json:"error"`
			RetryAfter int    `json:"retry_after"`
		}
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Code != "rate_limited" || body.RetryAfter != wait ||
			!strings.Contains(body.Error, fmt.Sprintf("Try again in %d second", wait)) {
			t.Fatalf("%s (%v)", r.body, err)
		}
	})
	t.Run("another client of the same town goes on", func(t *testing.T) {
		expect(t, s.clientAt("127.0.0.3").get(base+"/t/lugano/"), 200)
	})
	t.Run("the same client at another town goes on", func(t *testing.T) {
		expect(t, a.get(base+"/t/venezia/"), 200)
		expect(t, a.get(base+"/", "Host", "venezia.sportello.test"), 200)
	})
	t.Run("assets and probes are never counted", func(t *testing.T) {
		for _, p := range []string{"/static/css/sportello.css", "/healthz", "/readyz"} {
			if r := a.get(base + p); r.status != 200 {
				t.Errorf("%s: %d", p, r.status)
			}
		}
	})
	t.Run("writes have their own budget", func(t *testing.T) {
		c := s.clientAt("127.0.0.4")
		// Counted whatever the answer: these lack a CSRF token (403).
		r := spend(t, 3, func() response { return c.do("POST", base+"/t/lugano/login", url.Values{"email": {"x@y.example"}}) })
		rateLimited(t, r, window)
		expect(t, c.get(base+"/t/lugano/login"), 200)
	})
	t.Run("a person signed in is counted as themselves", func(t *testing.T) {
		login := func(email string) *browser {
			b := s.clientAt("127.0.0.5")
			expect(t, b.form(base+"/t/lugano/login", base+"/t/lugano/login", url.Values{"email": {email}, "password": {"demo-lugano"}}), 303)
			return b
		}
		first, second := login("admin@lugano.example"), login("sportello@lugano.example")
		rateLimited(t, spend(t, 5, func() response { return first.get(base + "/t/lugano/backoffice") }), window)
		// Same address, another person; and the address's own budget,
		// which the two logins used twice each, is not the person's.
		expect(t, second.get(base+"/t/lugano/backoffice"), 200)
		expect(t, s.clientAt("127.0.0.5").get(base+"/t/lugano/"), 200)
	})
	t.Run("behind a trusted proxy, the forwarded address", func(t *testing.T) {
		proxy := s.clientAt("127.0.0.9")
		via := func(addr string) func() response {
			return func() response { return proxy.get(base+"/t/lugano/", "X-Forwarded-For", addr+", 127.0.0.9") }
		}
		rateLimited(t, spend(t, 5, via("203.0.113.7")), window)
		expect(t, via("203.0.113.8")(), 200)
		// Anyone else writing the header is counted as themselves.
		c := s.clientAt("127.0.0.6")
		n := 0
		r := spend(t, 5, func() response {
			n++
			return c.get(base+"/t/lugano/", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", n))
		})
		rateLimited(t, r, window)
	})
	t.Run("the APIs share the pages' budgets", func(t *testing.T) {
		c := s.clientAt("127.0.0.7")
		r := spend(t, 5, func() response { return c.get(base + "/t/venezia/open311/v2/services.json") })
		rateLimited(t, r, window)
		var list []struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		}
		if err := json.Unmarshal([]byte(r.body), &list); err != nil || len(list) != 1 || list[0].Code != 429 {
			t.Fatalf("%s (%v)", r.body, err)
		}
		// The budget spent on the API is gone for the pages too.
		rateLimited(t, c.get(base+"/t/venezia/"), window)
	})
}

// After the window the client's budget is whole again.
func TestRateLimitWindowEnds(t *testing.T) {
	s := newSite(t)
	const window = 2 * time.Second
	base := serveWith(t, s, server.Config{RateLimit: server.RateLimit{Reads: 2, Window: window}})
	a := s.clientAt("127.0.0.2")
	rateLimited(t, spend(t, 2, func() response { return a.get(base + "/t/trezzo-sull-adda/") }), window)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := a.get(base + "/t/trezzo-sull-adda/")
		if r.status == 200 {
			break
		}
		wait := rateLimited(t, r, window)
		if time.Now().After(deadline) {
			t.Fatal("still refused long after the window")
		}
		time.Sleep(time.Duration(wait) * time.Second)
	}
	// A new window, a whole budget.
	expect(t, a.get(base+"/t/trezzo-sull-adda/"), 200)
}

// The operator's setting.
func TestRateLimitSetting(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want server.RateLimit
		bad  bool
	}{
		{"600,60", server.RateLimit{Reads: 600, Writes: 60, Window: time.Minute}, false},
		{" 120 , 12 ", server.RateLimit{Reads: 120, Writes: 12, Window: time.Minute}, false},
		{"300", server.RateLimit{Reads: 300, Writes: 30, Window: time.Minute}, false},
		{"5", server.RateLimit{Reads: 5, Writes: 1, Window: time.Minute}, false},
		{"0", server.RateLimit{}, false},
		{"off", server.RateLimit{}, false},
		{"600,0", server.RateLimit{Reads: 600, Window: time.Minute}, false},
		{"many", server.RateLimit{}, true},
		{"-1", server.RateLimit{}, true},
		{"600,x", server.RateLimit{}, true},
	} {
		got, err := server.ParseRateLimit(tc.in)
		if (err != nil) != tc.bad || !tc.bad && (got.Reads != tc.want.Reads || got.Writes != tc.want.Writes || got.Window != tc.want.Window) {
			t.Errorf("%q: %+v, %v; want %+v (error %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
	p, err := server.ParseProxies("127.0.0.1, 10.0.0.0/8,::1,")
	if err != nil || len(p) != 3 || !p[0].Contains(netip.MustParseAddr("127.0.0.1")) || p[0].Contains(netip.MustParseAddr("127.0.0.2")) ||
		!p[1].Contains(netip.MustParseAddr("10.1.2.3")) || !p[2].Contains(netip.MustParseAddr("::1")) {
		t.Errorf("proxies %v, %v", p, err)
	}
	if _, err := server.ParseProxies("proxy.example"); err == nil {
		t.Error("a host name taken as a proxy")
	}
}
