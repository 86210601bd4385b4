package server_test

import (
	"regexp"
	"strings"
	"testing"
)

var footerHref = regexp.MustCompile(`(?s)<footer.*</footer>`)
var hrefAttr = regexp.MustCompile(`href="(/t/[^"#?]+)"`)

// TestFooterLinksAnswer: every link of a town's footer to the town's own
// pages answers, in each demo town (the privacy notice, legal notes,
// accessibility statement, FAQ, booking, reporting a problem).
func TestFooterLinksAnswer(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.header.Set("Accept-Language", "it")
	for _, slug := range []string{"lugano", "trezzo-sull-adda", "venezia"} {
		home := b.get(s.url + "/t/" + slug + "/")
		footer := footerHref.FindString(home.body)
		links := hrefAttr.FindAllStringSubmatch(footer, -1)
		if len(links) < 6 {
			t.Fatalf("%s: %d links to its own pages in the footer", slug, len(links))
		}
		for _, l := range links {
			u := s.url + l[1]
			r := b.get(u)
			for hops := 0; r.status == 303 || r.status == 302; hops++ {
				if hops == 3 {
					t.Fatalf("%s: %s redirects on and on", slug, l[1])
				}
				u = s.url + r.header.Get("Location")
				r = b.get(u)
			}
			if r.status != 200 {
				t.Errorf("%s: footer link %s answers %d", slug, l[1], r.status)
			}
		}
	}
	expect(t, b.get(s.url+"/t/lugano/privacy"), 200, "Titolare del trattamento", "Città di Lugano")
	expect(t, b.get(s.url+"/t/lugano/accessibilita?lang=de"), 200, "Erklärung zur Barrierefreiheit", "WCAG 2.1")
	expect(t, b.get(s.url+"/t/venezia/faq?lang=en"), 200, "How do I book an appointment?")
	// Without the helpdesk in the catalogue, the page says whom to tell;
	// with it, reporting goes there.
	expect(t, b.get(s.url+"/t/lugano/segnala"), 200, "Segnala un disservizio", "Città di Lugano")
	withPlugins(t, s, testPlugin{ID: "helpdesk", Pkg: "../../plugins/helpdesk"})
	if r := b.get(s.url + "/t/lugano/segnala"); r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), "/services/helpdesk") {
		t.Errorf("reporting a problem in Lugano: %d %s", r.status, r.header.Get("Location"))
	}
}
