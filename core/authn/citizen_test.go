package authn_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/authn/devidp"
)

const callback = "https://alpha.sportello.example/auth/callback"

// startIdP serves a devidp on 127.0.0.1 and returns its issuer URL. hits
// counts discovery requests; while down is set, every request fails.
type testIdP struct {
	issuer string
	hits   atomic.Int32
	down   atomic.Bool
}

func startIdP(t *testing.T, opts devidp.Options) *testIdP {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	tp := &testIdP{issuer: "http://" + srv.Listener.Addr().String()}
	if len(opts.Clients) == 0 && !opts.AcceptAnyClient {
		opts.Clients = []devidp.Client{{ID: "sportello", Secret: "s3cret"}}
	}
	idp, err := devidp.New(tp.issuer, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tp.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
			tp.hits.Add(1)
		}
		idp.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return tp
}

func (tp *testIdP) config() authn.OIDCConfig {
	return authn.OIDCConfig{Issuer: tp.issuer, ClientID: "sportello", ClientSecret: "s3cret"}
}

// authorize plays the browser at the provider: it follows authURL with a
// login hint and returns the state and code sent back to the callback.
func authorize(t *testing.T, authURL, hint string) (state, code string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL + "&login_hint=" + url.QueryEscape(hint))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %s", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != callback {
		t.Fatalf("redirected to %s, want %s", got, callback)
	}
	return loc.Query().Get("state"), loc.Query().Get("code")
}

type citizenRow struct {
	Issuer, Subject, Name, Email, FiscalCode string
}

func citizenOf(t *testing.T, db interface {
	InTenant(context.Context, int64, func(context.Context, bun.Tx) error) error
}, tenantID, id int64) (citizenRow, bool) {
	t.Helper()
	var c citizenRow
	var found bool
	err := db.InTenant(context.Background(), tenantID, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT issuer, subject, name, email, fiscal_code FROM citizens WHERE id = ?", id)
		if err != nil {
			return err
		}
		defer rows.Close()
		if rows.Next() {
			found = true
			return rows.Scan(&c.Issuer, &c.Subject, &c.Name, &c.Email, &c.FiscalCode)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, found
}

func TestCitizenLogin(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	a, b := newTenant(t, db, "alpha"), newTenant(t, db, "beta")
	idp := startIdP(t, devidp.Options{})
	cfg := idp.config()
	cl := authn.NewCitizenLogin(db.App, nil, authn.CitizenLoginOptions{})

	login := func(t *testing.T, tenant int64, hint, returnTo string) (int64, string, error) {
		t.Helper()
		authURL, err := cl.Begin(ctx, tenant, cfg, callback, returnTo)
		if err != nil {
			t.Fatal(err)
		}
		state, code := authorize(t, authURL, hint)
		return cl.Finish(ctx, tenant, cfg, callback, state, code)
	}

	var mario int64
	t.Run("first login creates the citizen", func(t *testing.T) {
		id, returnTo, err := login(t, a, "RSSMRA80A01H501U", "/servizi/anagrafe?x=1")
		if err != nil {
			t.Fatal(err)
		}
		if returnTo != "/servizi/anagrafe?x=1" {
			t.Fatalf("returnTo %q", returnTo)
		}
		c, ok := citizenOf(t, db.App, a, id)
		want := citizenRow{idp.issuer, "mario.rossi", "Mario Rossi", "mario.rossi@example.com", "RSSMRA80A01H501U"}
		if !ok || c != want {
			t.Fatalf("citizen %+v, want %+v", c, want)
		}
		mario = id
	})
	t.Run("second login is the same citizen", func(t *testing.T) {
		id, _, err := login(t, a, "mario.rossi@example.com", "/")
		if err != nil || id != mario {
			t.Fatalf("got %d, %v; want %d", id, err, mario)
		}
		if n := count(t, db, "SELECT count(*) FROM citizens WHERE tenant_id = ?", a); n != 1 {
			t.Fatalf("%d citizens", n)
		}
	})
	t.Run("another person is another citizen", func(t *testing.T) {
		id, _, err := login(t, a, "giulia.bianchi", "/")
		if err != nil || id == mario {
			t.Fatalf("got %d, %v", id, err)
		}
	})
	t.Run("the same person in another town is that town's citizen", func(t *testing.T) {
		id, _, err := login(t, b, "mario.rossi", "/")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := citizenOf(t, db.App, b, mario); ok && id != mario {
			t.Fatal("tenant b sees tenant a's citizen")
		}
		if c, ok := citizenOf(t, db.App, b, id); !ok || c.FiscalCode != "RSSMRA80A01H501U" {
			t.Fatalf("tenant b's citizen: %+v %v", c, ok)
		}
	})
	t.Run("a return address off the site becomes /", func(t *testing.T) {
		_, returnTo, err := login(t, a, "mario.rossi", "https://evil.example/phish")
		if err != nil || returnTo != "/" {
			t.Fatalf("got %q, %v", returnTo, err)
		}
	})

	begin := func(t *testing.T, tenant int64) (state, code string) {
		t.Helper()
		authURL, err := cl.Begin(ctx, tenant, cfg, callback, "/")
		if err != nil {
			t.Fatal(err)
		}
		return authorize(t, authURL, "mario.rossi")
	}
	failures := []struct {
		name   string
		reason string // in the error, so each case fails for its own reason
		finish func(t *testing.T) error
	}{
		{"tampered state", "unknown or expired state", func(t *testing.T) error {
			state, code := begin(t, a)
			_, _, err := cl.Finish(ctx, a, cfg, callback, state+"x", code)
			return err
		}},
		{"state of another tenant", "issued for tenant", func(t *testing.T) error {
			state, code := begin(t, a)
			_, _, err := cl.Finish(ctx, b, cfg, callback, state, code)
			return err
		}},
		{"replayed state and code", "unknown or expired state", func(t *testing.T) error {
			state, code := begin(t, a)
			if _, _, err := cl.Finish(ctx, a, cfg, callback, state, code); err != nil {
				t.Fatal(err)
			}
			_, _, err := cl.Finish(ctx, a, cfg, callback, state, code)
			return err
		}},
		{"replayed code with a fresh state", "used or expired code", func(t *testing.T) error {
			state, code := begin(t, a)
			if _, _, err := cl.Finish(ctx, a, cfg, callback, state, code); err != nil {
				t.Fatal(err)
			}
			fresh, _ := begin(t, a)
			_, _, err := cl.Finish(ctx, a, cfg, callback, fresh, code)
			return err
		}},
		{"code of another login", "code_verifier", func(t *testing.T) error {
			// A code obtained in one flow presented with another flow's
			// state fails PKCE: the verifier belongs to the other flow.
			state1, _ := begin(t, a)
			_, code2 := begin(t, a)
			_, _, err := cl.Finish(ctx, a, cfg, callback, state1, code2)
			return err
		}},
		{"no code (citizen cancelled)", "no code", func(t *testing.T) error {
			state, _ := begin(t, a)
			_, _, err := cl.Finish(ctx, a, cfg, callback, state, "")
			return err
		}},
		{"wrong client secret", "invalid_client", func(t *testing.T) error {
			state, code := begin(t, a)
			bad := cfg
			bad.ClientSecret = "guess"
			_, _, err := cl.Finish(ctx, a, bad, callback, state, code)
			return err
		}},
		{"another redirect URL", "redirect_uri", func(t *testing.T) error {
			state, code := begin(t, a)
			_, _, err := cl.Finish(ctx, a, cfg, "https://evil.example/cb", state, code)
			return err
		}},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			before := count(t, db, "SELECT count(*) FROM citizens")
			err := tc.finish(t)
			if !errors.Is(err, authn.ErrLoginFailed) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("got %v, want ErrLoginFailed for %q", err, tc.reason)
			}
			if after := count(t, db, "SELECT count(*) FROM citizens"); after != before {
				t.Fatal("a failed login created a citizen")
			}
		})
	}
}

// Some gateways send only the subject in the ID token.
func TestCitizenLoginReadsUserinfo(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	a := newTenant(t, db, "alpha")
	idp := startIdP(t, devidp.Options{UserinfoOnly: true, AcceptAnyClient: true})
	cfg := authn.OIDCConfig{Issuer: idp.issuer, ClientID: "any", ClientSecret: "thing"}
	cl := authn.NewCitizenLogin(db.App, nil, authn.CitizenLoginOptions{})
	authURL, err := cl.Begin(ctx, a, cfg, callback, "/")
	if err != nil {
		t.Fatal(err)
	}
	state, code := authorize(t, authURL, "lukas.meier")
	id, _, err := cl.Finish(ctx, a, cfg, callback, state, code)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := citizenOf(t, db.App, a, id)
	if c.Name != "Lukas Meier" || c.Email != "lukas.meier@example.com" || c.FiscalCode != "MRELKS90C15A952Q" {
		t.Fatalf("citizen %+v", c)
	}
}

func TestCitizenLoginDiscovery(t *testing.T) {
	ctx := context.Background()
	db := pg.NewDB(t)
	a := newTenant(t, db, "alpha")
	idp := startIdP(t, devidp.Options{})
	cl := authn.NewCitizenLogin(db.App, nil, authn.CitizenLoginOptions{})

	t.Run("a failure is not cached", func(t *testing.T) {
		idp.down.Store(true)
		if _, err := cl.Begin(ctx, a, idp.config(), callback, "/"); !errors.Is(err, authn.ErrLoginFailed) {
			t.Fatalf("provider down: %v, want ErrLoginFailed", err)
		}
		idp.down.Store(false)
		if _, err := cl.Begin(ctx, a, idp.config(), callback, "/"); err != nil {
			t.Fatalf("provider back: %v", err)
		}
	})
	t.Run("once per issuer, however many logins at once", func(t *testing.T) {
		idp.hits.Store(0)
		cl := authn.NewCitizenLogin(db.App, nil, authn.CitizenLoginOptions{})
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if _, err := cl.Begin(ctx, a, idp.config(), callback, "/"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := idp.hits.Load(); n != 1 {
			t.Fatalf("%d discovery requests, want 1", n)
		}
	})
	t.Run("not configured", func(t *testing.T) {
		if _, err := cl.Begin(ctx, a, authn.OIDCConfig{}, callback, "/"); err == nil {
			t.Fatal("began a login without a provider")
		}
	})
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/":                     "/",
		"/servizi?x=1#top":      "/servizi?x=1#top",
		"/t/alpha/prenotazioni": "/t/alpha/prenotazioni",
		"":                      "/",
		"servizi":               "/",
		"//evil.example/x":      "/",
		"/\\evil.example":       "/",
		"/\t/evil.example":      "/",
		"https://evil.example/": "/",
		"javascript:alert(1)":   "/",
		"/ok\n":                 "/",
		"/%2F%2Fstill-local":    "/%2F%2Fstill-local",
	} {
		if got := authn.LocalPath(in); got != want {
			t.Errorf("LocalPath(%q) = %q, want %q", in, got, want)
		}
	}
}
