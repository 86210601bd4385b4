package devidp_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/sportello/sportello/core/authn/devidp"
)

const (
	redirect = "https://alpha.sportello.example/auth/callback"
	verifier = "a-verifier-long-enough-to-be-a-real-pkce-verifier-0123456789"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func start(t *testing.T, opts devidp.Options) (issuer string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer = "http://" + srv.Listener.Addr().String()
	p, err := devidp.New(issuer, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func authorizeURL(issuer string, extra url.Values) string {
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {"app"},
		"redirect_uri":          {redirect},
		"scope":                 {"openid profile"},
		"state":                 {"st"},
		"nonce":                 {"n0"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return issuer + "/authorize?" + q.Encode()
}

func code(t *testing.T, issuer, hint string) string {
	t.Helper()
	resp, err := noRedirects.Get(authorizeURL(issuer, url.Values{"login_hint": {hint}}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "st" {
		t.Fatalf("authorize: %s, Location %q", resp.Status, loc)
	}
	return loc.Query().Get("code")
}

func exchange(t *testing.T, issuer string, form url.Values, basic bool) (int, map[string]any) {
	t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
	for k, v := range form {
		f[k] = v
	}
	req, _ := http.NewRequest("POST", issuer+"/token", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth("app", "secret")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestFlow(t *testing.T) {
	clk := &clock{t: time.Now()}
	issuer := start(t, devidp.Options{Clients: []devidp.Client{{ID: "app", Secret: "secret"}}, Clock: clk.Now})
	ctx := context.Background()

	t.Run("discovery and a verifiable ID token", func(t *testing.T) {
		p, err := oidc.NewProvider(ctx, issuer)
		if err != nil {
			t.Fatal(err)
		}
		status, body := exchange(t, issuer, url.Values{"code": {code(t, issuer, "giulia.bianchi")}}, true)
		if status != http.StatusOK {
			t.Fatalf("token: %d %v", status, body)
		}
		idt, err := p.Verifier(&oidc.Config{ClientID: "app", Now: clk.Now}).Verify(ctx, body["id_token"].(string))
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			Name, Email string
			Fiscal      string `json:"fiscal_number"`
		}
		_ = idt.Claims(&claims)
		if idt.Subject != "giulia.bianchi" || idt.Nonce != "n0" || claims.Name != "Giulia Bianchi" || claims.Fiscal != "TINIT-BNCGLI85M41F205B" {
			t.Fatalf("ID token: sub %q nonce %q claims %+v", idt.Subject, idt.Nonce, claims)
		}
		req, _ := http.NewRequest("GET", issuer+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(info), `"sub":"giulia.bianchi"`) {
			t.Fatalf("userinfo: %d %s", resp.StatusCode, info)
		}
	})
	t.Run("secret in the form works too", func(t *testing.T) {
		status, body := exchange(t, issuer, url.Values{"code": {code(t, issuer, "mario.rossi")}, "client_id": {"app"}, "client_secret": {"secret"}}, false)
		if status != http.StatusOK {
			t.Fatalf("%d %v", status, body)
		}
	})

	for _, tc := range []struct {
		name   string
		form   func(code string) url.Values
		basic  bool
		before func()
		status int
		error  string
	}{
		{"wrong verifier", func(c string) url.Values { return url.Values{"code": {c}, "code_verifier": {"other"}} }, true, nil, 400, "invalid_grant"},
		{"wrong redirect_uri", func(c string) url.Values { return url.Values{"code": {c}, "redirect_uri": {"https://evil.example/"}} }, true, nil, 400, "invalid_grant"},
		{"wrong secret", func(c string) url.Values {
			return url.Values{"code": {c}, "client_id": {"app"}, "client_secret": {"guess"}}
		}, false, nil, 401, "invalid_client"},
		{"expired code", func(c string) url.Values { return url.Values{"code": {c}} }, true, func() { clk.Add(time.Minute) }, 400, "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := code(t, issuer, "mario.rossi")
			if tc.before != nil {
				tc.before()
			}
			if status, body := exchange(t, issuer, tc.form(c), tc.basic); status != tc.status || body["error"] != tc.error {
				t.Fatalf("got %d %v, want %d %s", status, body, tc.status, tc.error)
			}
		})
	}
	t.Run("a code works once", func(t *testing.T) {
		c := code(t, issuer, "mario.rossi")
		if status, _ := exchange(t, issuer, url.Values{"code": {c}}, true); status != http.StatusOK {
			t.Fatal(status)
		}
		if status, body := exchange(t, issuer, url.Values{"code": {c}}, true); status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("replay: %d %v", status, body)
		}
	})
}

func TestAuthorizePage(t *testing.T) {
	issuer := start(t, devidp.Options{AcceptAnyClient: true})
	resp, err := http.Get(authorizeURL(issuer, nil))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"Mario Rossi", "Giulia Bianchi", "Lukas Meier", "RSSMRA80A01H501U", "login_hint=mario.rossi"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q", want)
		}
	}

	for name, extra := range map[string]url.Values{
		"no PKCE":           {"code_challenge_method": {"plain"}},
		"no openid scope":   {"scope": {"profile"}},
		"relative redirect": {"redirect_uri": {"/cb"}},
		"implicit flow":     {"response_type": {"token"}},
	} {
		resp, err := http.Get(authorizeURL(issuer, extra))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %s", name, resp.Status)
		}
	}
}

func TestUnknownClient(t *testing.T) {
	issuer := start(t, devidp.Options{Clients: []devidp.Client{{ID: "other", Secret: "x"}}})
	resp, err := noRedirects.Get(authorizeURL(issuer, url.Values{"login_hint": {"mario.rossi"}}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown client: %s", resp.Status)
	}
	if _, err := devidp.New("not a url", devidp.Options{}); err == nil {
		t.Fatal("bad issuer accepted")
	}
}
