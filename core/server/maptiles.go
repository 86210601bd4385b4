package server

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// tilePlaceholder is what Leaflet fills in a tile URL template; any other
// {name} would stop the map with a script error.
var tilePlaceholder = regexp.MustCompile(`\{[^}]*\}`)

// hostName is a DNS name as a Content-Security-Policy source may hold it.
var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// tileSource checks the map tile server's URL template (Config.MapTiles)
// and returns the source the Content-Security-Policy's img-src needs for
// it: "https://tile.example", or "https://*.tile.example" for a template
// naming subdomains ({s}); "" for no template.
func tileSource(tmpl string) (string, error) {
	if tmpl == "" {
		return "", nil
	}
	bad := func(reason string) error {
		return fmt.Errorf("map tile URL template %q: %s (like https://tile.example/{z}/{x}/{y}.png)", tmpl, reason)
	}
	seen := map[string]bool{}
	for _, p := range tilePlaceholder.FindAllString(tmpl, -1) {
		switch p {
		case "{z}", "{x}", "{y}", "{-y}", "{s}", "{r}":
			seen[p] = true
		default:
			return "", bad(p + " is not filled in: use {z}, {x}, {y} (or {-y}), {s} and {r}")
		}
	}
	if !seen["{z}"] || !seen["{x}"] || !seen["{y}"] && !seen["{-y}"] {
		return "", bad("{z}, {x} and {y} are needed")
	}
	if strings.ContainsAny(tmpl, " \t\r\n;,'\"") {
		return "", bad("spaces, quotes, commas and semicolons are not allowed")
	}
	rest, sub := tmpl, false
	for _, scheme := range []string{"https://", "http://"} {
		if after, ok := strings.CutPrefix(rest, scheme+"{s}."); ok {
			rest, sub = scheme+after, true
		}
	}
	_, after, _ := strings.Cut(rest, "://")
	if authority, _, _ := strings.Cut(after, "/"); strings.ContainsAny(authority, "{}") {
		return "", bad("only {s}. may come before the host name")
	}
	u, err := url.Parse(tilePlaceholder.ReplaceAllString(rest, "0"))
	switch {
	case err != nil:
		return "", bad(err.Error())
	case u.Scheme != "https" && u.Scheme != "http":
		return "", bad("want an http:// or https:// URL")
	case u.User != nil:
		return "", bad("a user or password has no place in it")
	case u.Host == "":
		return "", bad("want a host name")
	}
	if h := u.Hostname(); net.ParseIP(h) == nil && !hostName.MatchString(h) {
		return "", bad("the host is no host name")
	}
	host := u.Host
	if sub {
		host = "*." + host
	}
	return u.Scheme + "://" + host, nil
}

// imgSource is what the policy's img-src adds for the map tiles: " " and
// the tile server's origin, or "".
func (s *Server) imgSource() string {
	if s.tileSource == "" {
		return ""
	}
	return " " + s.tileSource
}
