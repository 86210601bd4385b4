// Package devidp is an OpenID provider for development and tests: it plays
// the SPID/CIE gateway a town would configure, with a few demo citizens
// one picks with a click. It keeps everything in memory and must never be
// exposed as a real provider.
//
// It implements the authorization code flow only, with PKCE S256 required,
// signs ID tokens with an RSA key made at start, and serves discovery,
// JWKS, /authorize, /token and /userinfo under the issuer URL.
package devidp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Citizen is a person the provider can log in.
type Citizen struct {
	Subject    string // the stable "sub"
	GivenName  string
	FamilyName string
	Email      string
	FiscalCode string
}

// DemoCitizens are the people offered when Options.Citizens is empty. The
// fiscal codes have valid check characters; the e-mails are on example.com
// so that nothing sent in development reaches anyone.
func DemoCitizens() []Citizen {
	return []Citizen{
		{"mario.rossi", "Mario", "Rossi", "mario.rossi@example.com", "RSSMRA80A01H501U"},
		{"giulia.bianchi", "Giulia", "Bianchi", "giulia.bianchi@example.com", "BNCGLI85M41F205B"},
		{"lukas.meier", "Lukas", "Meier", "lukas.meier@example.com", "MRELKS90C15A952Q"},
		{"anna.verdi", "Anna", "Verdi", "anna.verdi@example.com", "VRDNNA72T55L736I"},
	}
}

// Client is a registered relying party.
type Client struct {
	ID     string
	Secret string
}

// Options configure a Provider.
type Options struct {
	Clients []Client
	// AcceptAnyClient lets any client id and secret in, so a developer's
	// tenants need no registration.
	AcceptAnyClient bool
	// Citizens replace DemoCitizens.
	Citizens []Citizen
	// UserinfoOnly leaves the person's attributes out of the ID token, as
	// some SPID/CIE gateways do; relying parties must ask /userinfo.
	UserinfoOnly bool
	// Clock is time.Now when nil.
	Clock func() time.Time
}

const (
	codeTTL  = time.Minute
	tokenTTL = 10 * time.Minute
)

// Provider is the development OpenID provider, an http.Handler.
type Provider struct {
	issuer string
	opts   Options
	signer jose.Signer
	jwks   jose.JSONWebKeySet
	mux    *http.ServeMux

	mu     sync.Mutex
	codes  map[string]grant // authorization code → what it grants
	tokens map[string]grant // access token → whose userinfo
}

// grant is a code or an access token: who logged in for which client.
type grant struct {
	citizen     Citizen
	clientID    string
	redirectURI string
	challenge   string
	nonce       string
	authTime    time.Time
	expires     time.Time
}

// New returns a provider whose issuer is issuerURL (the URL it is served at,
// e.g. http://127.0.0.1:8090).
func New(issuerURL string, opts Options) (*Provider, error) {
	u, err := url.Parse(issuerURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("devidp: issuer %q is not an http(s) URL", issuerURL)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("devidp: generate key: %w", err)
	}
	kid := randomString()[:8]
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("devidp: signer: %w", err)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if len(opts.Citizens) == 0 {
		opts.Citizens = DemoCitizens()
	}
	p := &Provider{
		issuer: strings.TrimSuffix(issuerURL, "/"),
		opts:   opts,
		signer: signer,
		jwks:   jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"}}},
		mux:    http.NewServeMux(),
		codes:  map[string]grant{},
		tokens: map[string]grant{},
	}
	base := strings.TrimSuffix(u.Path, "/")
	p.mux.HandleFunc("GET "+base+"/.well-known/openid-configuration", p.discovery)
	p.mux.HandleFunc("GET "+base+"/jwks", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, p.jwks) })
	p.mux.HandleFunc("GET "+base+"/authorize", p.authorize)
	p.mux.HandleFunc("POST "+base+"/token", p.token)
	p.mux.HandleFunc("GET "+base+"/userinfo", p.userinfo)
	return p, nil
}

func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.issuer,
		"authorization_endpoint":                p.issuer + "/authorize",
		"token_endpoint":                        p.issuer + "/token",
		"userinfo_endpoint":                     p.issuer + "/userinfo",
		"jwks_uri":                              p.issuer + "/jwks",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"sub", "name", "given_name", "family_name", "email", "fiscal_number"},
	})
}

var pickPage = template.Must(template.New("pick").Parse(`<!doctype html>
<html lang="it"><head><meta charset="utf-8"><title>Development login</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
<h1>Development login</h1>
<p>This provider is for development only. Log in as:</p>
<ul>{{range .}}
<li><a href="{{.URL}}">{{.C.GivenName}} {{.C.FamilyName}}</a> — {{.C.FiscalCode}} — {{.C.Email}}</li>{{end}}
</ul>
</body></html>`))

// authorize logs in the citizen named by login_hint, or shows the page to
// pick one, which links back here with the hint.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	if !p.knownClient(clientID) {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	ru, err := url.Parse(redirectURI)
	if err != nil || (ru.Scheme != "http" && ru.Scheme != "https") || ru.Host == "" {
		http.Error(w, "redirect_uri must be an absolute http(s) URL", http.StatusBadRequest)
		return
	}
	switch {
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		http.Error(w, "scope must include openid", http.StatusBadRequest)
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		http.Error(w, "PKCE with code_challenge_method=S256 is required", http.StatusBadRequest)
		return
	}

	hint := strings.ToLower(q.Get("login_hint"))
	i := slices.IndexFunc(p.opts.Citizens, func(c Citizen) bool {
		return hint != "" && (hint == strings.ToLower(c.Subject) || hint == strings.ToLower(c.Email) || hint == strings.ToLower(c.FiscalCode))
	})
	if i < 0 {
		type choice struct {
			C   Citizen
			URL string
		}
		var choices []choice
		for _, c := range p.opts.Citizens {
			cq := r.URL.Query()
			cq.Set("login_hint", c.Subject)
			choices = append(choices, choice{c, r.URL.Path + "?" + cq.Encode()})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = pickPage.Execute(w, choices)
		return
	}

	now := p.opts.Clock()
	code := randomString()
	p.mu.Lock()
	sweep(p.codes, now)
	p.codes[code] = grant{
		citizen:     p.opts.Citizens[i],
		clientID:    clientID,
		redirectURI: redirectURI,
		challenge:   q.Get("code_challenge"),
		nonce:       q.Get("nonce"),
		authTime:    now,
		expires:     now.Add(codeTTL),
	}
	p.mu.Unlock()
	back := ru.Query()
	back.Set("code", code)
	if s := q.Get("state"); s != "" {
		back.Set("state", s)
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

// token exchanges a code for an ID token and an access token.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code")
		return
	}
	clientID, secret, ok := r.BasicAuth()
	if ok {
		// RFC 6749 §2.3.1: both are form-encoded inside the Basic header.
		clientID, _ = url.QueryUnescape(clientID)
		secret, _ = url.QueryUnescape(secret)
	} else {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if !p.authenticClient(clientID, secret) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}

	now := p.opts.Clock()
	p.mu.Lock()
	g, found := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code")) // single use, even when what follows fails
	p.mu.Unlock()
	verifier := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case !found || !now.Before(g.expires):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
		return
	case g.clientID != clientID || g.redirectURI != r.PostForm.Get("redirect_uri"):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code issued to another client or redirect_uri")
		return
	case subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(verifier[:])), []byte(g.challenge)) != 1:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		return
	}

	claims := map[string]any{
		"iss":       p.issuer,
		"sub":       g.citizen.Subject,
		"aud":       clientID,
		"iat":       now.Unix(),
		"exp":       now.Add(tokenTTL).Unix(),
		"auth_time": g.authTime.Unix(),
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if !p.opts.UserinfoOnly {
		for k, v := range personClaims(g.citizen) {
			claims[k] = v
		}
	}
	payload, _ := json.Marshal(claims)
	jws, err := p.signer.Sign(payload)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	idToken, err := jws.CompactSerialize()
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	access := randomString()
	g.expires = now.Add(tokenTTL)
	p.mu.Lock()
	sweep(p.tokens, now)
	p.tokens[access] = g
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"expires_in":   int(tokenTTL.Seconds()),
		"id_token":     idToken,
	})
}

func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	access, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	g, found := p.tokens[access]
	p.mu.Unlock()
	if !ok || !found || !p.opts.Clock().Before(g.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "invalid access token", http.StatusUnauthorized)
		return
	}
	claims := personClaims(g.citizen)
	claims["sub"] = g.citizen.Subject
	writeJSON(w, http.StatusOK, claims)
}

// personClaims are a citizen's attributes, the fiscal code in the form
// SPID sends it.
func personClaims(c Citizen) map[string]any {
	return map[string]any{
		"name":           c.GivenName + " " + c.FamilyName,
		"given_name":     c.GivenName,
		"family_name":    c.FamilyName,
		"email":          c.Email,
		"email_verified": true,
		"fiscal_number":  "TINIT-" + c.FiscalCode,
	}
}

func (p *Provider) knownClient(id string) bool {
	return id != "" && (p.opts.AcceptAnyClient || slices.ContainsFunc(p.opts.Clients, func(c Client) bool { return c.ID == id }))
}

func (p *Provider) authenticClient(id, secret string) bool {
	if p.opts.AcceptAnyClient {
		return id != ""
	}
	return slices.ContainsFunc(p.opts.Clients, func(c Client) bool {
		return c.ID == id && subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) == 1
	})
}

// sweep drops expired grants; called on every insert, it keeps the maps
// bounded by the traffic of the last few minutes.
func sweep(m map[string]grant, now time.Time) {
	for k, g := range m {
		if !now.Before(g.expires) {
			delete(m, k)
		}
	}
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
