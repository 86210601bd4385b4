package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/template/parse"

	"golang.org/x/net/html"

	"github.com/sportello/sportello/core/i18n"
)

func newTestRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := NewRenderer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func render(t *testing.T, r *Renderer, p *Page) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.Render(&b, p); err != nil {
		t.Fatalf("Render(%s): %v", p.Name, err)
	}
	return b.String()
}

func TestEveryPageHasASample(t *testing.T) {
	r := newTestRenderer(t)
	want := []string{"admin_analytics", "admin_home", "admin_policies", "admin_privacy", "admin_service", "admin_services", "admin_settings", "appointment", "appointments", "backoffice", "backoffice_appointment", "backoffice_appointments", "backoffice_citizen", "backoffice_citizens", "backoffice_dossier", "backoffice_new", "error", "home", "info", "live_call", "live_console", "login", "my_requests", "my_requests_detail", "opendata", "payment", "payment_local", "payments", "platform_home", "platform_login", "profile", "rating", "service", "services"}
	if got := r.Pages(); !slices.Equal(got, want) {
		t.Errorf("Pages() = %v, want %v", got, want)
	}
	covered := map[string]bool{}
	for _, p := range samplePages() {
		covered[p.Name] = true
	}
	for _, name := range r.Pages() {
		if !covered[name] {
			t.Errorf("page %q has no sample in samplePages", name)
		}
	}
}

// TestRenderSamples draws every sample and checks what every page must have:
// the language, landmarks, a single h1, labelled controls, no inline script,
// no template escaping accident and no untranslated message id.
func TestRenderSamples(t *testing.T) {
	r := newTestRenderer(t)
	var ids []string
	for _, lang := range r.Catalog().Languages() {
		ids = append(ids, r.Catalog().IDs(lang)...)
	}
	for label, p := range samplePages() {
		t.Run(label, func(t *testing.T) {
			out := render(t, r, p)
			if strings.Contains(out, "ZgotmplZ") {
				t.Errorf("output has ZgotmplZ (a value html/template refused)")
			}
			for _, id := range ids {
				if strings.Contains(out, ">"+id+"<") || strings.Contains(out, "\""+id+"\"") {
					t.Errorf("output shows the message id %q instead of its text", id)
				}
			}
			checkHTML(t, out, p.Lang)
		})
	}
}

func checkHTML(t *testing.T, out, lang string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var (
		h1s, mains, headers, footers int
		labels                       = map[string]bool{}
		controls                     []string
		ids                          = map[string]int{}
		describedBy                  []string
		htmlLang                     string
	)
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("<%s> has an inline event handler %s", n.Data, a.Key)
				}
				if a.Key == "style" {
					t.Errorf("<%s> has an inline style", n.Data)
				}
			}
			if id, ok := attr["id"]; ok {
				ids[id]++
			}
			switch n.Data {
			case "html":
				htmlLang = attr["lang"]
			case "h1":
				h1s++
			case "main":
				mains++
			case "header":
				headers++
			case "footer":
				footers++
			case "script":
				if attr["src"] == "" || n.FirstChild != nil {
					t.Errorf("inline <script>")
				}
			case "img":
				if _, ok := attr["alt"]; !ok {
					t.Errorf("<img src=%q> has no alt", attr["src"])
				}
			case "label":
				labels[attr["for"]] = true
			case "input", "select", "textarea":
				if attr["type"] != "hidden" && attr["type"] != "submit" {
					if attr["id"] == "" {
						t.Errorf("<%s name=%q> has no id for a label", n.Data, attr["name"])
					}
					controls = append(controls, attr["id"])
				}
			}
			if d := attr["aria-describedby"]; d != "" {
				describedBy = append(describedBy, d)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if htmlLang != lang {
		t.Errorf("<html lang=%q>, want %q", htmlLang, lang)
	}
	if h1s != 1 || mains != 1 || headers < 1 || footers != 1 {
		t.Errorf("h1=%d main=%d header=%d footer=%d, want 1, 1, ≥1, 1", h1s, mains, headers, footers)
	}
	for _, c := range controls {
		if !labels[c] {
			t.Errorf("control #%s has no <label for>", c)
		}
	}
	for _, d := range describedBy {
		for _, id := range strings.Fields(d) {
			if ids[id] == 0 {
				t.Errorf("aria-describedby=%q names no element %q", d, id)
			}
		}
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q used %d times", id, n)
		}
	}
}

func TestRenderContent(t *testing.T) {
	r := newTestRenderer(t)
	pages := samplePages()
	tests := []struct {
		page string
		want []string
		not  []string
	}{
		{"home", []string{
			`<html lang="it">`, "Città di Lugano", "Prenota un appuntamento", `href="/t/lugano/servizi/helpdesk"`,
			"Lunedì–venerdì 08:30–12:00", `href="tel:&#43;41588661111"`, `href="mailto:abitanti@lugano.example"`,
			`href="/t/lugano/login"`, `href="/t/lugano/servizi" data-element="all-services"`, `data-element="management"`, `data-element="news"`, `data-element="live"`, "Repubblica e Cantone Ticino", "/static/theme/a3151b.css?v=", `src="/t/lugano/logo?v=3"`,
			"Amministrazione", "Novità", "Vivere il Comune", "Prenota un appuntamento", "Segnala un disservizio",
			"Leggi le FAQ", "Informativa privacy", "Note legali", "Dichiarazione di accessibilità", `href="/t/lugano/accessibilita"`,
			"4 servizi disponibili online", `hreflang="de"`, `aria-current="true"`,
		}, nil},
		{"home-titled", []string{"<title>Città di Lugano</title>"}, nil},
		{"admin_home", []string{`href="/t/lugano/admin/services"`, `href="/t/lugano/admin/settings"`, "Impostazioni del portale", `href="/t/lugano/admin"><span>Amministrazione</span>`}, nil},
		{"admin_settings", []string{"Impostazioni salvate.", `action="/t/lugano/admin/settings"`, `name="languages" value="de" checked`, `<option value="it" selected>`}, []string{`value="en" checked`, "aria-invalid"}},
		{"admin_settings-errors", []string{`id="languages-error">Spunta almeno una lingua.`, `aria-invalid="true" aria-describedby="default-error"`}, []string{"Impostazioni salvate."}},
		// The Modello Comuni's service page: the breadcrumb through Servizi
		// and the category, the page index in the model's order, each
		// section by its data-element, the booking entry and the office.
		{"service", []string{`data-element="breadcrumb"`, `href="/t/lugano/servizi">Servizi</a>`, `href="/t/lugano/servizi?categoria=ambiente">Ambiente</a>`,
			`data-element="service-title">Segnala un disservizio`, `data-element="service-status"`, `data-element="service-description">Segnala un problema.`,
			`data-element="service-topic"`, `data-element="page-index"`,
			`<a class="list-item" href="#who-needs">A chi è rivolto</a></li><li><a class="list-item" href="#how-to">Come fare</a></li><li><a class="list-item" href="#needed">Cosa serve</a></li><li><a class="list-item" href="#obtain">Cosa si ottiene</a></li><li><a class="list-item" href="#deadlines">Tempi e scadenze</a></li><li><a class="list-item" href="#costs">Quanto costa</a></li>`,
			`data-element="service-addressed"><h2 class="h3" id="who-needs-title">A chi è rivolto</h2><p>Chi abita nel Comune.</p>`,
			`data-element="service-how-to"`, `data-element="service-needed"`, `data-element="service-achieved"`, `data-element="service-calendar-text"`,
			`data-element="service-online-access"`, `data-element="service-booking-access"`, `href="/t/lugano/appointments" data-element="appointment-booking">Prenota appuntamento</a>`,
			`data-element="service-file"`, `data-element="service-area"`, "Ufficio responsabile", "Ufficio tecnico", "Lunedì–Venerdì 08:30–12:00"}, nil},
		{"service-login", []string{`data-element="service-online-access"`, `href="/t/lugano/login?next=x"`, `data-element="service-area">`, "Città di Lugano</h3>"}, []string{"appointment-booking", "Ufficio responsabile"}},
		{"services", []string{`data-element="breadcrumb"`, `<h1 id="page-title">Servizi</h1>`, `data-element="service-category-link" href="/t/lugano/servizi?categoria=ambiente"`,
			`<a href="/t/lugano/services/helpdesk" data-element="service-link">Segnala un disservizio</a>`, `href="/t/lugano/appointments" data-element="appointment-booking"`,
			`action="/t/lugano/servizi"`, `id="cat-cultura-e-tempo-libero"`}, []string{"Nessun servizio"}},
		{"services-category", []string{`<h1 id="page-title">Ambiente</h1>`, `name="categoria" value="ambiente"`, `value="lampione"`, "Nessun servizio corrisponde alla ricerca.",
			`aria-current="page"><span>Ambiente</span>`}, []string{"appointment-booking"}},
		{"services-none", []string{"Il Comune non offre ancora servizi online."}, []string{"service-category-link"}},
		{"login", []string{"<title>Accedi · Città di Lugano</title>"}, nil},
		{"home-empty", []string{"Non ci sono ancora servizi online attivi", "Gli orari degli uffici non sono ancora stati pubblicati", "Benvenuti nel nuovo portale.", `href="/t/nuovo/login"`},
			[]string{"dropdown-toggle"}}, // one language: no switch
		{"home-personal", []string{`id="per-te"`, "Per te", `<a href="/t/lugano/requests/42">Buca in via Nassa</a>`, "2026-000042 · Aperta", "16,50 CHF",
			`href="/t/lugano/payments/7"`, "Servizi che potrebbero interessarti", `class="btn btn-outline-primary btn-sm" href="/t/lugano/services/helpdesk"`}, nil},
		{"home-personal-empty", []string{"For you", "You have no requests, appointments or payments in progress."}, []string{"sp-suggested"}},
		{"home-de", []string{`<html lang="de">`, "Dienstleistungen", "Marco Rezzonico", `href="/t/lugano/profile"`}, []string{"Accedi"}},
		{"error", []string{"Pagina non trovata", "req-7f3a9c", `href="/t/lugano/"`, "404"}, nil},
		{"error-msg", []string{"Servizio momentaneamente non disponibile", "Il servizio Prenotazioni si sta riavviando."}, nil},
		{"login", []string{
			`role="alert" id="login-error"`, `aria-describedby="login-error"`, `aria-invalid="true"`,
			`name="_csrf" value="csrf-token-123"`, `value="sportello@lugano.example"`, `href="/t/lugano/auth/citizen"`,
			"Entra con SPID / CIE", `action="/t/lugano/login"`, `name="next" value="/t/lugano/backoffice"`,
		}, nil},
		{"login-staff", []string{`action="/t/lugano/login"`}, []string{"SPID", `role="alert"`, "aria-invalid"}},
		{"profile", []string{"Anna Rossi", "RSSNNA80A41F205X", `action="/t/lugano/logout"`, `name="_csrf"`}, []string{"Ruoli"}},
		{"profile-staff", []string{"Operatore", "Responsabile d&#39;ufficio", "Controllo abitanti"}, []string{"Codice fiscale"}},
		{"backoffice", []string{"Buongiorno, Marco Rezzonico", "PR-2025-00042", "3\u00a0marzo 2025, 09:15", "2 richieste in attesa"}, nil},
		{"backoffice-empty", []string{"Nessuna richiesta in attesa"}, []string{"<table"}},
		{"backoffice_citizens", []string{`action="/t/lugano/backoffice/citizens"`, `value="rossi"`, `<a href="/t/lugano/backoffice/citizens/7">Anna Rossi</a>`, "RSSNNA80A41F205X"}, []string{"Nessun cittadino"}},
		{"backoffice_citizens-none", []string{"Nessun cittadino trovato."}, []string{"<table"}},
		{"backoffice_citizen", []string{"Anna Rossi", "RSSNNA80A41F205X", `href="mailto:anna@example.org"`, "Nota interna", "16,50 €", "Telefono",
			`<a href="/t/lugano/backoffice/requests/3">2026-000001</a>`, `href="/t/lugano/backoffice/citizens/7?all=1"`, `datetime="2026-03-02T08:00:00Z"`,
			"Consensi agli avvisi", "Dato il 2 febbraio 2026", `href="tel:&#43;41791234567"`}, nil},
		{"backoffice_citizen-empty", []string{"Nessuna attività finora."}, []string{"sp-timeline-entry"}},
		{"admin_policies", []string{
			`action="/t/lugano/admin/policies/7/delete"`, `action="/t/lugano/admin/policies/9/delete"`, `action="/t/lugano/admin/policies"`,
			"admin/offices", `name="role" value="operator"`, `list="policy-role-options"`, `<option value="office_manager">Responsabile d&#39;ufficio</option>`,
			`<option value="write" selected>Scrivere</option>`, "<td>Leggere</td>",
			`id="policy-object-error">Indica un oggetto valido.`, `aria-describedby="policy-object-error"`, "correggi i campi segnalati",
		}, []string{`aria-describedby="policy-role-error"`}},
		{"admin_policies-empty", []string{"Non ci sono regole aggiuntive", `<option value="read">Leggere</option>`}, []string{"<table", "<datalist"}},
		{"platform_login", []string{`action="/platform/login"`, "Sportello"}, []string{"/static/theme/", "SPID", "Amministrazione"}},
		{"platform_home", []string{`action="/platform/logout"`, "3 active towns", "venezia.sportello.example", "IT, EN, DE", `href="/t/venezia/"`}, nil},
		{"platform_home-empty", []string{"0 aktive Gemeinden", "Es wurde noch keine Gemeinde aktiviert."}, nil},
		{"home", []string{`data-element="feedback"`, `action="/t/lugano/rating"`, `name="path" value="/"`, "Quanto sono chiare le informazioni su questa pagina?",
			`name="stars" value="5"`, `value="other_bad"`, `value="other_good"`, `maxlength="200"`, "/static/js/rating.js?v="}, []string{" checked", `role="alert" id="rating-error"`}},
		{"rating", []string{"Valuta la pagina", `href="/t/lugano/services/helpdesk"`, `name="path" value="/services/helpdesk"`,
			`role="alert" id="rating-error"`, `id="rating-star-2" name="stars" value="2" checked`, `value="clear" checked`, "Troppi passaggi.</textarea>"}, nil},
		{"rating-thanks", []string{"Thank you, your feedback helps us improve the service!", "Your rating has been sent."}, []string{"<form method=\"post\" action=\"/t/lugano/rating\""}},
		{"error", nil, []string{`data-element="feedback"`, "js/rating.js"}},
		{"platform_home", nil, []string{`data-element="feedback"`, "js/rating.js", "/rating"}},
	}
	for _, tt := range tests {
		t.Run(tt.page, func(t *testing.T) {
			p, ok := pages[tt.page]
			if !ok {
				t.Fatalf("no sample %q", tt.page)
			}
			out := render(t, r, p)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q", n)
				}
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	r := newTestRenderer(t)
	var b bytes.Buffer
	if err := r.Render(&b, &Page{Name: "nope"}); !errors.Is(err, ErrUnknownPage) {
		t.Errorf("unknown page: err = %v, want ErrUnknownPage", err)
	}
	if err := r.Render(&b, nil); err == nil {
		t.Errorf("nil page: no error")
	}
	// A page whose Data has the wrong type fails without writing anything.
	err := r.Render(&b, &Page{Name: "backoffice", Lang: "it", User: &User{Name: "x"}, Data: 42})
	if err == nil {
		t.Errorf("wrong Data type: no error")
	}
	if b.Len() != 0 {
		t.Errorf("a failed Render wrote %d bytes", b.Len())
	}
	// The failed run left a usable renderer behind.
	render(t, r, samplePages()["backoffice"])
}

// TestRenderConcurrent draws pages from many goroutines: each must see its
// own Page in t and path (run with -race).
func TestRenderConcurrent(t *testing.T) {
	r := newTestRenderer(t)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lang, base := "it", fmt.Sprintf("/t/town%d", i)
			if i%2 == 1 {
				lang = "de"
			}
			p := &Page{Name: "home", Lang: lang, Base: base, Tenant: &Tenant{Name: fmt.Sprintf("Town %d", i)}}
			for range 5 {
				var b bytes.Buffer
				if err := r.Render(&b, p); err != nil {
					t.Error(err)
					return
				}
				out := b.String()
				if !strings.Contains(out, `href="`+base+`/login"`) || !strings.Contains(out, `<html lang="`+lang+`">`) {
					t.Errorf("goroutine %d got another page's base or language", i)
					return
				}
				wantNav := map[string]string{"it": "Servizi", "de": "Dienstleistungen"}[lang]
				if !strings.Contains(out, wantNav) {
					t.Errorf("goroutine %d: output not in %s", i, lang)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestMessagesComplete fails when a template uses a message id that a
// locale file lacks, or when the locale files do not have the same ids.
func TestMessagesComplete(t *testing.T) {
	cat, err := i18n.New(LocalesFS())
	if err != nil {
		t.Fatal(err)
	}
	langs := cat.Languages()
	if !slices.Equal(langs, []string{"de", "en", "it"}) {
		t.Fatalf("locale files for %v, want de, en, it", langs)
	}
	used := templateMessageIDs(t)
	if len(used) < 50 {
		t.Fatalf("found only %d message ids in the templates: is the parser broken?", len(used))
	}
	for _, id := range statusMessages {
		used[id+".title"] = "funcs.go statusMessages"
		used[id+".text"] = "funcs.go statusMessages"
	}
	for _, id := range roleMessageIDs {
		used[id] = "funcs.go roleMessageIDs"
	}
	for _, id := range actionMessageIDs {
		used[id] = "funcs.go actionMessageIDs"
	}
	for _, lang := range langs {
		have := map[string]bool{}
		for _, id := range cat.IDs(lang) {
			have[id] = true
		}
		for id, where := range used {
			if !have[id] {
				t.Errorf("active.%s.toml lacks %q (used in %s)", lang, id, where)
			}
		}
	}
	ref := cat.IDs(i18n.Default)
	for _, lang := range langs {
		ids := cat.IDs(lang)
		for _, id := range ref {
			if !slices.Contains(ids, id) {
				t.Errorf("active.%s.toml lacks %q, which active.it.toml has", lang, id)
			}
		}
		for _, id := range ids {
			if !slices.Contains(ref, id) {
				t.Errorf("active.%s.toml has %q, which active.it.toml lacks", lang, id)
			}
		}
	}
}

// templateMessageIDs parses every template and returns the ids of all
// {{t "id" …}} calls, with the file each was found in. A t call whose id is
// not a string literal fails the test: its id could not be checked.
func templateMessageIDs(t *testing.T) map[string]string {
	t.Helper()
	ids := map[string]string{}
	funcs := map[string]any{}
	for name := range (&Renderer{}).funcs(&instance{}) {
		funcs[name] = func() {}
	}
	files, err := fs.Glob(templatesFS(), "*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		src, err := fs.ReadFile(templatesFS(), file)
		if err != nil {
			t.Fatal(err)
		}
		trees, err := parse.Parse(file, string(src), "{{", "}}", funcs, builtinFuncs)
		if err != nil {
			t.Fatal(err)
		}
		for _, tree := range trees {
			walkNodes(tree.Root, func(cmd *parse.CommandNode) {
				if len(cmd.Args) == 0 {
					return
				}
				if id, ok := cmd.Args[0].(*parse.IdentifierNode); !ok || id.Ident != "t" {
					return
				}
				if len(cmd.Args) < 2 {
					t.Errorf("%s: t without a message id: %s", file, cmd)
					return
				}
				s, ok := cmd.Args[1].(*parse.StringNode)
				if !ok {
					t.Errorf("%s: t with a computed id, which this test cannot check: %s", file, cmd)
					return
				}
				ids[s.Text] = file
			})
		}
	}
	return ids
}

// builtinFuncs are text/template's own functions, which parse needs to know.
var builtinFuncs = func() map[string]any {
	m := map[string]any{}
	for _, name := range []string{"and", "call", "html", "index", "slice", "js", "len", "not", "or",
		"print", "printf", "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"} {
		m[name] = func() {}
	}
	return m
}()

func walkNodes(n parse.Node, visit func(*parse.CommandNode)) {
	if n == nil {
		return
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkNodes(c, visit)
		}
	case *parse.ActionNode:
		walkNodes(n.Pipe, visit)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkNodes(c, visit)
		}
	case *parse.CommandNode:
		visit(n)
		for _, a := range n.Args {
			walkNodes(a, visit)
		}
	case *parse.IfNode:
		walkBranch(&n.BranchNode, visit)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, visit)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, visit)
	case *parse.TemplateNode:
		walkNodes(n.Pipe, visit)
	}
}

func walkBranch(b *parse.BranchNode, visit func(*parse.CommandNode)) {
	walkNodes(b.Pipe, visit)
	walkNodes(b.List, visit)
	walkNodes(b.ElseList, visit)
}

func TestTemplateMessageIDsFindsNestedCalls(t *testing.T) {
	ids := templateMessageIDs(t)
	// Each is used in a different position: plain action, template argument
	// in parentheses, inside with/else, with key/value arguments.
	for _, id := range []string{"skip.content", "home.services.none", "home.hours.none", "backoffice.hello", "policies.object"} {
		if _, ok := ids[id]; !ok {
			t.Errorf("templateMessageIDs missed %q", id)
		}
	}
}

func TestPath(t *testing.T) {
	tests := []struct{ base, p, want string }{
		{"/t/lugano", "/login", "/t/lugano/login"},
		{"", "/login", "/login"},
		{"/t/lugano", "/", "/t/lugano/"},
		{"", "/", "/"},
		{"/t/lugano/", "/login", "/t/lugano/login"},
		{"/t/lugano", "login", "/t/lugano/login"},
		{"/t/lugano", "/#servizi", "/t/lugano/#servizi"},
		{"/t/lugano", "#servizi", "/t/lugano/#servizi"},
		{"", "", "/"},
	}
	for _, tt := range tests {
		if got := joinPath(tt.base, tt.p); got != tt.want {
			t.Errorf("joinPath(%q, %q) = %q, want %q", tt.base, tt.p, got, tt.want)
		}
	}
}

func TestAsset(t *testing.T) {
	r := newTestRenderer(t)
	got := r.Asset("css/sportello.css")
	if !regexp.MustCompile(`^/static/css/sportello\.css\?v=[0-9a-f]{10}$`).MatchString(got) {
		t.Errorf("Asset(css/sportello.css) = %q, want a versioned URL", got)
	}
	for _, name := range []string{"/static/css/sportello.css", "/css/sportello.css"} {
		if g := r.Asset(name); g != got {
			t.Errorf("Asset(%q) = %q, want %q", name, g, got)
		}
	}
	// A file that is not there (vendor files before vendor.sh) keeps its plain URL.
	if got, want := r.Asset("vendor/none/x.js"), "/static/vendor/none/x.js"; got != want {
		t.Errorf("Asset(missing) = %q, want %q", got, want)
	}
	r2, err := NewRenderer(Options{StaticURL: "/assets/"})
	if err != nil {
		t.Fatal(err)
	}
	if got := r2.Asset("css/sportello.css"); !strings.HasPrefix(got, "/assets/css/sportello.css?v=") {
		t.Errorf("Asset with StaticURL /assets = %q", got)
	}
}

func TestStaticFS(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/static/", http.FileServerFS(StaticFS())))
	defer srv.Close()
	get := func(path string) (int, string, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Content-Type"), string(b)
	}
	code, ctype, body := get("/static/theme/a3151b.css")
	if code != 200 || !strings.HasPrefix(ctype, "text/css") || !strings.Contains(body, "--sp-primary:#a3151b") {
		t.Errorf("theme: %d %q %q", code, ctype, body)
	}
	code, _, body = get("/static/css/sportello.css")
	if code != 200 || !strings.Contains(body, "@font-face") {
		t.Errorf("sportello.css: %d", code)
	}
	for _, bad := range []string{"/static/theme/A3151B.css", "/static/theme/zzzzzz.css", "/static/theme/a3151b.js", "/static/theme/fff.css", "/static/theme/a3151b0.css"} {
		if code, _, _ := get(bad); code != 404 {
			t.Errorf("GET %s = %d, want 404", bad, code)
		}
	}
	if _, err := fs.Stat(StaticFS(), "theme/0066cc.css"); err != nil {
		t.Errorf("Stat(theme/0066cc.css): %v", err)
	}
}

func TestThemeURL(t *testing.T) {
	r := newTestRenderer(t)
	a := r.themeURL("#A3151B")
	if !regexp.MustCompile(`^/static/theme/a3151b\.css\?v=[0-9a-f]{8}$`).MatchString(a) {
		t.Errorf("themeURL(#A3151B) = %q", a)
	}
	if b := r.themeURL("#a3151b"); b != a {
		t.Errorf("themeURL is case sensitive: %q vs %q", b, a)
	}
	if got := r.themeURL("not a colour"); !strings.HasPrefix(got, "/static/theme/0066cc.css") {
		t.Errorf("themeURL(bad) = %q, want the default colour", got)
	}
}

func TestTelMailto(t *testing.T) {
	tels := map[string]string{
		"+41 58 866 11 11": "tel:+41588661111",
		"02 1234-5678":     "tel:0212345678",
		"javascript:1":     "tel:1",
		"n/a":              "",
		"+":                "",
	}
	for in, want := range tels {
		if got := string(telURL(in)); got != want {
			t.Errorf("telURL(%q) = %q, want %q", in, got, want)
		}
	}
	mails := map[string]string{
		"info@lugano.example":           "mailto:info@lugano.example",
		"Info <info@lugano.example>":    "",
		"not an address":                "",
		"a@b.example?subject=hi":        "",
		"javascript:alert(1)@x.example": "",
	}
	for in, want := range mails {
		if got := string(mailtoURL(in)); got != want {
			t.Errorf("mailtoURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSocialIcon(t *testing.T) {
	for label, want := range map[string]string{"Facebook": "it-facebook", " YouTube ": "it-youtube", "X": "it-twitter", "Sito del Lido": "it-link"} {
		if got := socialIcon(label); got != want {
			t.Errorf("socialIcon(%q) = %q, want %q", label, got, want)
		}
	}
}

func TestStatusMessageID(t *testing.T) {
	for status, want := range map[int]string{404: "error.404", 418: "error.400", 502: "error.500", 503: "error.503", 0: "error.500"} {
		if got := statusMessageID(status); got != want {
			t.Errorf("statusMessageID(%d) = %q, want %q", status, got, want)
		}
	}
}
