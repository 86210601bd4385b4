package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"github.com/sportello/sportello/web"
)

// RateLimit bounds how many requests one client makes of one town in a
// window: a person signed in is one client wherever they connect from,
// anybody else is their address. A flood from one client then slows that
// client only: the same person at another town, and everybody else at
// this one, keep their own budgets. The zero value sets no bound.
type RateLimit struct {
	// Reads is the budget of GET and HEAD requests (pages, downloads,
	// lists), Writes that of every other method (forms, logins, uploads),
	// which cost the database and the services more; 0 leaves that kind
	// unbounded.
	Reads, Writes int
	// Window is the period the budgets are counted over; a minute when 0.
	Window time.Duration
	// TrustedProxies are the reverse proxies in front of the server: a
	// request arriving from one of them is counted against the address it
	// names in X-Forwarded-For, the nearest one that is no trusted proxy.
	// From anyone else the header is ignored, so nobody dodges the limit
	// by writing it.
	TrustedProxies []netip.Prefix
}

// ParseRateLimit reads the operator's setting: "0" (or "off") sets no
// bound; "READS,WRITES" sets both per minute ("600,60"); a single number
// sets reads, and writes a tenth of it.
func ParseRateLimit(s string) (RateLimit, error) {
	s = strings.TrimSpace(s)
	if s == "0" || strings.EqualFold(s, "off") {
		return RateLimit{}, nil
	}
	reads, writes, both := strings.Cut(s, ",")
	r, err := strconv.Atoi(strings.TrimSpace(reads))
	if err != nil || r < 0 {
		return RateLimit{}, fmt.Errorf("rate limit %q: want READS,WRITES per minute (600,60), or 0 for none", s)
	}
	w := max(r/10, 1)
	if r == 0 {
		w = 0
	}
	if both {
		if w, err = strconv.Atoi(strings.TrimSpace(writes)); err != nil || w < 0 {
			return RateLimit{}, fmt.Errorf("rate limit %q: want READS,WRITES per minute (600,60), or 0 for none", s)
		}
	}
	return RateLimit{Reads: r, Writes: w, Window: time.Minute}, nil
}

// ParseProxies reads a comma-separated list of addresses and networks
// ("127.0.0.1, 10.0.0.0/8").
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want an address or a network (10.0.0.0/8)", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// rateLimitExempt are the paths no budget applies to: assets, which every
// page brings along, and the probes of the orchestrator and of monitoring,
// which must answer whoever asks how often.
func rateLimitExempt(path string) bool {
	return strings.HasPrefix(path, "/static/") || path == "/healthz" || path == "/readyz" || path == "/metrics"
}

// rateLimit is the middleware counting requests against the budgets; it
// runs once the town and the person are known.
func (s *Server) rateLimit() fiber.Handler {
	rl := s.cfg.RateLimit
	next := func(c *fiber.Ctx) error { return c.Next() }
	if rl.Reads <= 0 && rl.Writes <= 0 {
		return next
	}
	window := rl.Window
	if window <= 0 {
		window = time.Minute
	}
	budget := func(n int) fiber.Handler {
		if n <= 0 {
			return next
		}
		return limiter.New(limiter.Config{Max: n, Expiration: window, KeyGenerator: s.rateKey, LimitReached: s.rateLimited})
	}
	reads, writes := budget(rl.Reads), budget(rl.Writes)
	return func(c *fiber.Ctx) error {
		if rateLimitExempt(c.Path()) {
			return c.Next()
		}
		switch c.Method() {
		case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
			return reads(c)
		}
		return writes(c)
	}
}

// rateKey is the client a request counts against: the town (none for the
// platform's own pages) and the person signed in, else the address. The
// key outlives the request, so it is built from copies only (fiber reuses
// a request's memory).
func (s *Server) rateKey(c *fiber.Ctx) string {
	rs := state(c)
	town := "-"
	if rs.tenant != nil {
		town = strconv.FormatInt(rs.tenant.ID, 10)
	}
	if rs.subject != "" {
		return town + "|" + rs.subject
	}
	return town + "|ip:" + s.clientAddr(c)
}

// clientAddr is the address of the client: the peer's, or behind trusted
// proxies the nearest untrusted address of X-Forwarded-For.
func (s *Server) clientAddr(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return strings.Clone(c.IP())
	}
	peer = peer.Unmap()
	proxies := s.cfg.RateLimit.TrustedProxies
	if !trusted(proxies, peer) {
		return peer.String()
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
		a, err := netip.ParseAddr(strings.Trim(h, "[]"))
		if err != nil {
			// What a proxy we trust wrote is no address: the proxy is
			// the client we know of.
			return peer.String()
		}
		if a = a.Unmap(); !trusted(proxies, a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func trusted(proxies []netip.Prefix, a netip.Addr) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// errRateLimited is a request over its client's budget.
var errRateLimited = errors.New("rate limited")

// rateLimited answers a request over the budget: 429, with Retry-After
// (which the limiter has set) and a message in the request's language
// saying when to try again, as a page, a JSON error or an Open311 error
// as the request asked.
func (s *Server) rateLimited(c *fiber.Ctx) error {
	rs := state(c)
	wait, err := strconv.Atoi(string(c.Response().Header.Peek(fiber.HeaderRetryAfter)))
	if err != nil || wait < 1 {
		wait = 1
		c.Set(fiber.HeaderRetryAfter, "1")
	}
	msg := s.i18n.T(rs.lang, "error.rate_limited", map[string]any{"Count": wait})
	s.log.Debug("request refused", "request_id", rs.requestID, "path", c.Path(), "status", fiber.StatusTooManyRequests,
		"err", errRateLimited)
	switch {
	case isOpen311(c):
		return s.open311Fail(c, fiber.StatusTooManyRequests, msg, errRateLimited)
	case wantsJSON(c):
		return c.Status(fiber.StatusTooManyRequests).JSON(fiber.Map{"error": msg, "code": "rate_limited",
			"status": fiber.StatusTooManyRequests, "retry_after": wait, "request_id": rs.requestID})
	}
	p := s.page(c, "error", s.i18n.T(rs.lang, "error.title", map[string]any{"Status": fiber.StatusTooManyRequests}))
	p.Data = web.ErrorData{Status: fiber.StatusTooManyRequests, Message: msg}
	return s.renderStatus(c, fiber.StatusTooManyRequests, p)
}
