package server_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestServicesIndex walks the Servizi page of the "Modello Comuni" as
// the model's checker does: the main menu leads there, each category and
// each service is a link marked by its data-element, the booking entry
// is on it and on every service page, and a service page's breadcrumb
// goes through Servizi and the service's category.
func TestServicesIndex(t *testing.T) {
	s := newSite(t)
	withPlugins(t, s, testPlugin{ID: "helpdesk", Pkg: "../../plugins/helpdesk"}, testPlugin{ID: "cemetery", Pkg: "../../plugins/cemetery"})
	b := s.browser()
	base := s.url + "/t/trezzo-sull-adda"

	home := b.get(base + "/")
	expect(t, home, 200, `href="/t/trezzo-sull-adda/servizi" data-element="all-services"`)
	all := b.get(base + "/servizi")
	expect(t, all, 200, `<h1 id="page-title">Servizi</h1>`,
		`data-element="service-category-link" href="/t/trezzo-sull-adda/servizi?categoria=ambiente"`,
		`data-element="service-category-link" href="/t/trezzo-sull-adda/servizi?categoria=anagrafe-e-stato-civile"`,
		`<a href="/t/trezzo-sull-adda/services/cemetery" data-element="service-link">Concessione cimiteriale</a>`,
		`<a href="/t/trezzo-sull-adda/services/helpdesk" data-element="service-link">`,
		`href="/t/trezzo-sull-adda/appointments" data-element="appointment-booking"`)
	// Categories come in the catalogue's order (sdk.Categories), and only those with a service.
	if a, e := strings.Index(all.body, `id="cat-anagrafe-e-stato-civile"`), strings.Index(all.body, `id="cat-ambiente"`); a < 0 || e < 0 || a > e {
		t.Errorf("the categories are out of the catalogue's order (anagrafe at %d, ambiente at %d)", a, e)
	}
	if strings.Contains(all.body, "categoria=turismo") {
		t.Error("a category without services is offered")
	}
	// The booking entry leads to the booking pages.
	expect(t, b.get(base+"/appointments"), 200)

	tests := []struct {
		name, query  string
		status       int
		want, absent []string
	}{
		{"one category", "?categoria=anagrafe-e-stato-civile", 200,
			[]string{`<h1 id="page-title">Anagrafe e stato civile</h1>`, "/services/cemetery", `aria-current="page"><span>Anagrafe e stato civile`},
			[]string{`href="/t/trezzo-sull-adda/services/helpdesk"`}},
		{"a category without services", "?categoria=turismo", 200, []string{"Nessun servizio corrisponde alla ricerca."}, []string{"data-element=\"service-link\""}},
		{"an unknown category", "?categoria=sport", 404, nil, nil},
		{"search, any case", "?q=LOCULO", 200, []string{"/services/cemetery"}, []string{`href="/t/trezzo-sull-adda/services/helpdesk"`}},
		{"search without accents", "?q=citta+lampione", 200, []string{"/services/helpdesk"}, []string{`href="/t/trezzo-sull-adda/services/cemetery"`}},
		{"search within a category", "?categoria=ambiente&q=loculo", 200, []string{"Nessun servizio corrisponde alla ricerca.", `value="loculo"`}, nil},
		{"a search too long is cut", "?q=" + strings.Repeat("a", 5000), 200, []string{`value="` + strings.Repeat("a", 100) + `"`}, []string{strings.Repeat("a", 101)}},
		{"escaped search", "?q=%3Cscript%3E", 200, []string{`value="&lt;script&gt;"`}, []string{"<script>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.get(base + "/servizi" + tt.query)
			expect(t, r, tt.status, tt.want...)
			for _, a := range tt.absent {
				if strings.Contains(r.body, a) {
					t.Errorf("the page has %q", a)
				}
			}
		})
	}

	// In German, in a town that speaks it.
	de := b.get(s.url + "/t/lugano/servizi?lang=de")
	expect(t, de, 200, `lang="de"`, "Umwelt")

	// A service page: breadcrumb Home / Servizi / category, the model's
	// sections, the booking entry, and the office the town's
	// configuration puts in charge, with its hours.
	svc := b.get(base + "/services/cemetery")
	expect(t, svc, 200, `data-element="breadcrumb"`, `<a href="/t/trezzo-sull-adda/servizi">Servizi</a>`,
		`<a href="/t/trezzo-sull-adda/servizi?categoria=anagrafe-e-stato-civile">Anagrafe e stato civile</a>`,
		`data-element="service-status"`, `data-element="service-topic"`, `data-element="appointment-booking"`,
		`data-element="service-area"`, "Ufficio responsabile", "Servizi cimiteriali", "Mercoledì 09:00–12:00")
	// Every section the model requires is there with its text, and the
	// page index lists them in the model's order.
	for _, el := range []string{"service-addressed", "service-how-to", "service-needed", "service-achieved", "service-calendar-text", "service-file"} {
		m := regexp.MustCompile(`data-element="` + el + `"><h2[^>]*>[^<]+</h2><p>([^<]{3,})</p>`).FindStringSubmatch(svc.body)
		if m == nil {
			t.Errorf("the cemetery page has no %s section with text", el)
		}
	}
	index := regexp.MustCompile(`(?s)data-element="page-index">(.*?)</ul>`).FindStringSubmatch(svc.body)
	if index == nil {
		t.Fatal("no page index")
	}
	var entries []string
	for _, m := range regexp.MustCompile(`<li><a class="list-item" href="#[a-z-]+">([^<]+)</a></li>`).FindAllStringSubmatch(index[1], -1) {
		entries = append(entries, m[1])
	}
	want := []string{"A chi è rivolto", "Come fare", "Cosa serve", "Cosa si ottiene", "Tempi e scadenze", "Quanto costa", "Accedi al servizio", "Condizioni di servizio", "Contatti"}
	if strings.Join(entries, "|") != strings.Join(want, "|") {
		t.Errorf("the page index reads %q, want %q", entries, want)
	}
}
