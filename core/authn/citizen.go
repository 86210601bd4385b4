package authn

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/uptrace/bun"
	"golang.org/x/oauth2"

	"github.com/sportello/sportello/core/store"
)

// ErrLoginFailed is a citizen login that did not succeed for a reason the
// citizen can do something about by starting again: an expired or tampered
// flow, a refusal by the provider, a provider that is unreachable.
var ErrLoginFailed = errors.New("citizen login failed")

// FlowTTL is how long a citizen has to come back from the provider.
const FlowTTL = 10 * time.Minute

// discoveryTimeout bounds fetching a provider's discovery document.
const discoveryTimeout = 10 * time.Second

// OIDCConfig is a tenant's OpenID provider and its client registration.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
}

// CitizenLoginOptions tune a CitizenLogin; the zero value is fine.
type CitizenLoginOptions struct {
	// HTTPClient talks to the providers; the default has a 15 s timeout.
	HTTPClient *http.Client
}

// CitizenLogin logs citizens in through their tenant's OpenID provider
// (authorization code flow with PKCE and nonce) and records them as
// citizens of that tenant.
type CitizenLogin struct {
	db     *store.DB
	eph    *Ephemeral
	now    func() time.Time
	client *http.Client

	mu sync.Mutex
	// providers holds one entry per issuer. Many tenants share a SPID/CIE
	// gateway, so discovery is done once per issuer, not per tenant.
	providers map[string]*providerEntry
}

// providerEntry is one issuer's provider, discovered on first use.
type providerEntry struct {
	p    atomic.Pointer[provider]
	busy chan struct{} // held while discovering, so one request does it
}

// provider is a discovered OpenID provider.
type provider struct {
	*oidc.Provider
	// authStyle is how the token endpoint wants the client secret. Left to
	// guess, oauth2 retries a refused exchange the other way, which spends
	// the single-use code twice and hides the provider's first answer.
	authStyle oauth2.AuthStyle
}

// NewCitizenLogin returns a CitizenLogin storing citizens and login flows
// in db. clock is time.Now when nil.
func NewCitizenLogin(db *store.DB, clock func() time.Time, opts CitizenLoginOptions) *CitizenLogin {
	if clock == nil {
		clock = time.Now
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	return &CitizenLogin{
		db:        db,
		eph:       NewEphemeral(db, clock),
		now:       clock,
		client:    client,
		providers: map[string]*providerEntry{},
	}
}

// provider returns the issuer's provider, discovering it on first use. A
// failed discovery is not remembered: the next login tries again.
func (c *CitizenLogin) provider(ctx context.Context, issuer string) (*provider, error) {
	c.mu.Lock()
	e := c.providers[issuer]
	if e == nil {
		e = &providerEntry{busy: make(chan struct{}, 1)}
		c.providers[issuer] = e
	}
	c.mu.Unlock()
	if p := e.p.Load(); p != nil {
		return p, nil
	}
	select {
	case e.busy <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-e.busy }()
	if p := e.p.Load(); p != nil {
		return p, nil // discovered while we waited
	}
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, c.client), discoveryTimeout)
	defer cancel()
	// The provider keeps c.client for its key set, not dctx's deadline.
	op, err := oidc.NewProvider(dctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", issuer, err)
	}
	var meta struct {
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	_ = op.Claims(&meta)
	p := &provider{Provider: op, authStyle: oauth2.AuthStyleInHeader} // the default of OpenID Connect Discovery
	if len(meta.AuthMethods) > 0 && !slices.Contains(meta.AuthMethods, "client_secret_basic") && slices.Contains(meta.AuthMethods, "client_secret_post") {
		p.authStyle = oauth2.AuthStyleInParams
	}
	e.p.Store(p)
	return p, nil
}

func oauthConfig(p *provider, cfg OIDCConfig, redirectURL string) *oauth2.Config {
	endpoint := p.Endpoint()
	endpoint.AuthStyle = p.authStyle
	return &oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint:     endpoint,
		RedirectURL:  redirectURL,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
}

// loginFlow is what Begin leaves for Finish, under the state's key.
type loginFlow struct {
	TenantID int64  `json:"tenant_id"`
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	ReturnTo string `json:"return_to"`
}

func flowKey(state string) string { return "oidc:" + state }

func randomString() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Begin starts a citizen's login at the tenant's provider and returns the
// URL to send the browser to. redirectURL is the tenant's callback, which
// will receive state and code; returnTo is where the citizen goes after
// logging in, kept only if it is a local path.
func (c *CitizenLogin) Begin(ctx context.Context, tenantID int64, cfg OIDCConfig, redirectURL, returnTo string) (string, error) {
	if tenantID <= 0 {
		return "", store.ErrNoTenant
	}
	if cfg.Issuer == "" || cfg.ClientID == "" {
		return "", fmt.Errorf("begin citizen login in tenant %d: no OpenID provider configured", tenantID)
	}
	p, err := c.provider(ctx, cfg.Issuer)
	if err != nil {
		return "", fmt.Errorf("begin citizen login in tenant %d: %w: %w", tenantID, ErrLoginFailed, err)
	}
	state, err := randomString()
	if err != nil {
		return "", fmt.Errorf("begin citizen login: state: %w", err)
	}
	nonce, err := randomString()
	if err != nil {
		return "", fmt.Errorf("begin citizen login: nonce: %w", err)
	}
	flow := loginFlow{
		TenantID: tenantID,
		Issuer:   cfg.Issuer,
		ClientID: cfg.ClientID,
		Nonce:    nonce,
		Verifier: oauth2.GenerateVerifier(),
		ReturnTo: LocalPath(returnTo),
	}
	b, err := json.Marshal(flow)
	if err != nil {
		return "", fmt.Errorf("begin citizen login: %w", err)
	}
	if err := c.eph.Put(ctx, flowKey(state), b, FlowTTL); err != nil {
		return "", fmt.Errorf("begin citizen login in tenant %d: %w", tenantID, err)
	}
	return oauthConfig(p, cfg, redirectURL).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(flow.Verifier)), nil
}

// Finish completes a login begun by Begin, given what the provider sent to
// redirectURL. It returns the citizen, created at the first login, and
// where to send them. Every failure the citizen can retry is
// ErrLoginFailed; a flow begun for another tenant is one of them.
func (c *CitizenLogin) Finish(ctx context.Context, tenantID int64, cfg OIDCConfig, redirectURL, state, code string) (citizenID int64, returnTo string, err error) {
	fail := func(format string, args ...any) (int64, string, error) {
		return 0, "", fmt.Errorf("finish citizen login in tenant %d: %w: %s", tenantID, ErrLoginFailed, fmt.Sprintf(format, args...))
	}
	if state == "" {
		return fail("no state")
	}
	// Taken, not read: a state works once, whatever happens next.
	raw, err := c.eph.Take(ctx, flowKey(state))
	if errors.Is(err, ErrNotFound) {
		return fail("unknown or expired state")
	}
	if err != nil {
		return 0, "", fmt.Errorf("finish citizen login in tenant %d: %w", tenantID, err)
	}
	var flow loginFlow
	if err := json.Unmarshal(raw, &flow); err != nil {
		return fail("corrupt flow: %v", err)
	}
	if flow.TenantID != tenantID {
		return fail("state was issued for tenant %d", flow.TenantID)
	}
	if flow.Issuer != cfg.Issuer || flow.ClientID != cfg.ClientID {
		return fail("provider configuration changed during the login")
	}
	if code == "" {
		return fail("no code (the provider refused or the citizen cancelled)")
	}
	p, err := c.provider(ctx, cfg.Issuer)
	if err != nil {
		return fail("%v", err)
	}
	cctx := oidc.ClientContext(ctx, c.client)
	tok, err := oauthConfig(p, cfg, redirectURL).Exchange(cctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		return fail("exchange code: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return fail("no ID token in the token response")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: c.now}).Verify(ctx, rawID)
	if err != nil {
		return fail("verify ID token: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		return fail("ID token nonce does not match")
	}
	var claims citizenClaims
	if err := idt.Claims(&claims); err != nil {
		return fail("ID token claims: %v", err)
	}
	// SPID/CIE gateways often put only the subject in the ID token and the
	// person's attributes behind the userinfo endpoint.
	if !claims.complete() && p.UserInfoEndpoint() != "" {
		ui, err := p.UserInfo(cctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return fail("userinfo: %v", err)
		}
		if ui.Subject != idt.Subject {
			return fail("userinfo is about subject %q, the ID token about %q", ui.Subject, idt.Subject)
		}
		var more citizenClaims
		if err := ui.Claims(&more); err != nil {
			return fail("userinfo claims: %v", err)
		}
		claims.fillFrom(more)
	}
	id, err := c.upsertCitizen(ctx, tenantID, idt.Issuer, idt.Subject, claims)
	if err != nil {
		return 0, "", fmt.Errorf("finish citizen login in tenant %d: %w", tenantID, err)
	}
	return id, flow.ReturnTo, nil
}

// citizenClaims are the claims a citizen is recorded with.
type citizenClaims struct {
	Name       string `json:"name"`
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	Email      string `json:"email"`
	// fiscal_number is what SPID/CIE OIDC gateways send; the full claim
	// name is the one of the Italian OIDC federation profile.
	FiscalNumber    string `json:"fiscal_number"`
	FiscalNumberURI string `json:"https://attributes.eid.gov.it/fiscal_number"`
}

func (c citizenClaims) name() string {
	if n := strings.TrimSpace(c.Name); n != "" {
		return n
	}
	return strings.TrimSpace(c.GivenName + " " + c.FamilyName)
}

func (c citizenClaims) fiscalCode() string {
	f := c.FiscalNumber
	if f == "" {
		f = c.FiscalNumberURI
	}
	// SPID sends the code as an ETSI identifier, "TINIT-" + code.
	f = strings.ToUpper(strings.TrimSpace(f))
	return strings.TrimPrefix(f, "TINIT-")
}

func (c citizenClaims) complete() bool {
	return c.name() != "" && c.Email != "" && c.fiscalCode() != ""
}

func (c *citizenClaims) fillFrom(o citizenClaims) {
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&c.Name, o.Name}, {&c.GivenName, o.GivenName}, {&c.FamilyName, o.FamilyName},
		{&c.Email, o.Email}, {&c.FiscalNumber, o.FiscalNumber}, {&c.FiscalNumberURI, o.FiscalNumberURI},
	} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
}

// upsertCitizen records a login of (issuer, subject) in a tenant and
// returns the citizen's id. Attributes the provider did not send this time
// keep their recorded values.
func (c *CitizenLogin) upsertCitizen(ctx context.Context, tenantID int64, issuer, subject string, cl citizenClaims) (int64, error) {
	var id int64
	err := c.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO citizens (tenant_id, issuer, subject, name, email, fiscal_code, last_login)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, issuer, subject) DO UPDATE SET
				name = COALESCE(NULLIF(EXCLUDED.name, ''), citizens.name),
				email = COALESCE(NULLIF(EXCLUDED.email, ''), citizens.email),
				fiscal_code = COALESCE(NULLIF(EXCLUDED.fiscal_code, ''), citizens.fiscal_code),
				last_login = EXCLUDED.last_login
			RETURNING id`,
			tenantID, issuer, subject, cl.name(), NormalizeEmail(cl.Email), cl.fiscalCode(), c.now()).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("record citizen %s of %s: %w", subject, issuer, err)
	}
	return id, nil
}

// LocalPath returns p if it is a path on this site, else "/": a return
// address from a query string must not send anyone to another site after
// login (open redirect). "//host" and "/\host" are other sites to browsers,
// and browsers drop tabs and newlines inside URLs, so those are refused too.
func LocalPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') {
		return "/"
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return p
}
