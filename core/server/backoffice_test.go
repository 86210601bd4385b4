package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/docsign"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/core/server"
)

// withDesk restarts the site's HTTP server with a supervisor running the
// back office's test plugin (testdata/desk), published in lugano and
// venezia, and with a folder for attachments.
func withDesk(t *testing.T, s *site) {
	t.Helper()
	withPlugins(t, s, testPlugin{ID: "desk", Pkg: "./testdata/desk", Publish: map[string]string{"lugano": "{}", "venezia": "{}"}})
}

// testPlugin is a plugin an end-to-end test runs as a real process: built
// from Pkg (relative to core/server: "./testdata/desk",
// "../../plugins/scrutineer"), registered in the catalogue and published
// in each town of Publish with that configuration (JSON).
type testPlugin struct {
	ID, Pkg string
	Publish map[string]string
}

// withPlugins restarts the site's HTTP server as `sportello serve` runs:
// a supervisor running the plugins, the Host API issuing signed documents
// into the attachments folder, the local payment provider.
func withPlugins(t *testing.T, s *site, plugins ...testPlugin) {
	t.Helper()
	withPluginsTimeout(t, s, 0, plugins...)
}

// withPluginsTimeout is withPlugins with the supervisor's call timeout
// (0: its default).
func withPluginsTimeout(t *testing.T, s *site, callTimeout time.Duration, plugins ...testPlugin) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	goBin := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		goBin = filepath.Join(root, "bin", "go")
	}
	for _, p := range plugins {
		if out, err := exec.Command(goBin, "build", "-o", filepath.Join(dir, p.ID), p.Pkg).CombinedOutput(); err != nil {
			t.Fatalf("build the %s plugin: %v\n%s", p.ID, err, out)
		}
		if _, err := catalog.New(s.db.App).Register(ctx, dir, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	filesDir := t.TempDir()
	files, err := dossier.NewFiles(filesDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sup, err := pluginhost.Launch(ctx, s.db.App, pluginhost.Options{Dir: dir, Log: log, CallTimeout: callTimeout,
		HostAPI: []hostapi.Option{hostapi.WithDocuments(files, docsign.New(s.db.App, nil))}})
	if err != nil {
		t.Fatal(err)
	}
	s.stop()
	srv, err := server.Assemble(ctx, s.db.App, server.Config{BaseDomain: "sportello.test", DevIssuer: s.idp, FilesDir: filesDir,
		PaymentProvider: "local"}, log, sup)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = srv.Serve(sctx, ln, 5*time.Second); close(done) }()
	s.srv = srv
	s.stop = func() { cancel(); <-done; sup.Stop() }
	for _, p := range plugins {
		for slug, config := range p.Publish {
			if err := publishDirect(ctx, s, mustTenant(t, s, slug).ID, p.ID, config); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// staff signs a member of staff in.
func (s *site) staff(slug, email, password string) *browser {
	s.t.Helper()
	b := s.browser()
	login := s.url + "/t/" + slug + "/login"
	expect(s.t, b.form(login, login, url.Values{"email": {email}, "password": {password}}), 303)
	return b
}

// citizen signs a demo citizen of the development provider in.
func (s *site) citizen(slug, hint string) *browser {
	s.t.Helper()
	b := s.browser()
	r := b.get(s.url + "/t/" + slug + "/auth/citizen")
	r = b.get(r.header.Get("Location") + "&login_hint=" + hint)
	r = b.get(r.header.Get("Location"))
	if r.status != 303 {
		s.t.Fatalf("citizen %s in %s: %d %s", hint, slug, r.status, r.body)
	}
	return b
}

// accountOf is the account of a demo citizen who has logged in.
func accountOf(t *testing.T, s *site, slug, fiscalCode string) int64 {
	t.Helper()
	var id int64
	err := s.db.Owner.NewRaw("SELECT c.id FROM citizens c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = ? AND c.fiscal_code = ?",
		slug, fiscalCode).Scan(context.Background(), &id)
	if err != nil {
		t.Fatalf("citizen %s of %s: %v", fiscalCode, slug, err)
	}
	return id
}

// userID is a member of staff's account.
func userID(t *testing.T, s *site, slug, email string) int64 {
	t.Helper()
	var id int64
	err := s.db.Owner.NewRaw("SELECT u.id FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE t.slug = ? AND u.email = ?",
		slug, email).Scan(context.Background(), &id)
	if err != nil {
		t.Fatalf("user %s of %s: %v", email, slug, err)
	}
	return id
}

func officeID(t *testing.T, s *site, slug, office string) int64 {
	t.Helper()
	var id int64
	err := s.db.Owner.NewRaw("SELECT o.id FROM offices o JOIN tenants t ON t.id = o.tenant_id WHERE t.slug = ? AND o.slug = ?",
		slug, office).Scan(context.Background(), &id)
	if err != nil {
		t.Fatalf("office %s of %s: %v", office, slug, err)
	}
	return id
}

// fileUpload is a file a multipart form posts.
type fileUpload struct {
	field, name string
	content     []byte
}

// multipart GETs page, takes its CSRF token and posts values and files to
// action as multipart/form-data, as a browser posts a form with files.
func (b *browser) multipart(page, action string, values url.Values, files ...fileUpload) response {
	b.t.Helper()
	m := csrfField.FindStringSubmatch(b.get(page).body)
	if m == nil {
		b.t.Fatalf("no CSRF field on %s", page)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", m[1])
	for k, vs := range values {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	for _, f := range files {
		fw, err := w.CreateFormFile(f.field, f.name)
		if err != nil {
			b.t.Fatal(err)
		}
		_, _ = fw.Write(f.content)
	}
	_ = w.Close()
	req, err := http.NewRequest(http.MethodPost, action, &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", action, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(data), header: res.Header}
}

var versionField = regexp.MustCompile(`name="version" value="(\d+)"`)

// step posts one of the dossier page's forms with the version the page
// shows, as the operator's browser would.
func (b *browser) step(page, step string, values url.Values) response {
	b.t.Helper()
	r := b.get(page)
	m := versionField.FindStringSubmatch(r.body)
	if m == nil {
		b.t.Fatalf("no version on %s (%d)", page, r.status)
	}
	values.Set("version", m[1])
	return b.form(page, page+"/"+step, values)
}

// listed is the numbers of a JSON list of dossiers.
func listed(t *testing.T, r response) []string {
	t.Helper()
	var body struct {
		Requests []struct {
			Number string `json:"number"`
		} `json:"requests"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("not a list (%d): %.500s", r.status, r.body)
	}
	out := []string{}
	for _, d := range body.Requests {
		out = append(out, d.Number)
	}
	slices.Sort(out)
	return out
}

func sortedNumbers(ds ...*dossier.Dossier) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Number)
	}
	slices.Sort(out)
	return out
}

// openDossier files a dossier straight in the store, as a service would.
func openDossier(t *testing.T, s *site, slug string, by dossier.Actor, n dossier.NewDossier) *dossier.Dossier {
	t.Helper()
	d, err := s.srv.Dossiers.Open(context.Background(), mustTenant(t, s, slug).ID, by, n)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func dossierURL(s *site, slug string, id int64) string {
	return s.url + "/t/" + slug + "/backoffice/requests/" + strconv.FormatInt(id, 10)
}

var systemActor = dossier.Actor{Kind: dossier.ActorSystem}

// The queue: the operator's office by default, every filter of the issue,
// never another town's dossiers; bad filters are 422 with the reason.
func TestBackofficeQueueFilters(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	// Mario logs in once, so that his account exists.
	s.citizen("lugano", "mario.rossi")
	mario := accountOf(t, s, "lugano", "RSSMRA80A01H501U")
	marco := userID(t, s, "lugano", "sportello@lugano.example")
	abitanti, tecnico := officeID(t, s, "lugano", "controllo-abitanti"), officeID(t, s, "lugano", "ufficio-tecnico")

	a := openDossier(t, s, "lugano", dossier.Citizen(mario, "Mario Rossi"), dossier.NewDossier{ServiceID: "desk", Title: "Rinnovo carta d'identità",
		CitizenID: mario, OfficeID: abitanti})
	b := openDossier(t, s, "lugano", dossier.Staff(marco, "Marco Rezzonico"), dossier.NewDossier{ServiceID: "general", Title: "Lampione spento",
		Status: "in_progress", Channel: "phone", OfficeID: tecnico, Applicant: dossier.Applicant{Name: "Luca Bianchi"}})
	c := openDossier(t, s, "lugano", systemActor, dossier.NewDossier{ServiceID: "desk", Title: "Certificato di residenza", Status: "done",
		Applicant: dossier.Applicant{Name: "Anna Verdi"}})
	e := openDossier(t, s, "lugano", systemActor, dossier.NewDossier{ServiceID: "desk", Title: "Cambio di indirizzo", Status: "checking",
		OfficeID: abitanti, AssigneeID: marco})
	// Numbers run per town: venezia's fifth has a number lugano has not.
	var other *dossier.Dossier
	for range 5 {
		other = openDossier(t, s, "venezia", systemActor, dossier.NewDossier{ServiceID: "desk", Title: "Rinnovo carta d'identità"})
	}
	if _, err := s.db.Owner.ExecContext(ctx, "UPDATE dossiers SET created_at = '2025-01-15 10:00+01' WHERE tenant_id = ? AND id = ?",
		c.TenantID, c.ID); err != nil {
		t.Fatal(err)
	}

	op := s.staff("lugano", "sportello@lugano.example", "demo-lugano")
	base := s.url + "/t/lugano/backoffice"
	cases := []struct {
		name  string
		query string
		want  []*dossier.Dossier
	}{
		{"default: my office's and the unrouted", "", []*dossier.Dossier{a, c, e}},
		{"all", "scope=all", []*dossier.Dossier{a, b, c, e}},
		{"taken by me", "scope=mine", []*dossier.Dossier{e}},
		{"nobody's", "scope=unassigned", []*dossier.Dossier{a, c}},
		{"by status", "scope=all&status=in_progress", []*dossier.Dossier{b}},
		{"by service", "scope=all&service=general", []*dossier.Dossier{b}},
		{"by office", "office=ufficio-tecnico", []*dossier.Dossier{b}},
		{"by channel", "scope=all&channel=phone", []*dossier.Dossier{b}},
		{"text in the title", "scope=all&q=lampione", []*dossier.Dossier{b}},
		{"text in the applicant's name", "scope=all&q=verdi", []*dossier.Dossier{c}},
		{"by number", "scope=all&number=" + a.Number, []*dossier.Dossier{a}},
		{"a number in the free text", "scope=all&q=" + e.Number, []*dossier.Dossier{e}},
		{"by citizen's fiscal code", "scope=all&citizen=rssmra80a01h501u", []*dossier.Dossier{a}},
		{"a fiscal code without an account", "scope=all&citizen=BNCGLI85M41F205B", nil},
		{"by dates, both inclusive", "scope=all&from=2025-01-15&to=2025-01-15", []*dossier.Dossier{c}},
		{"another town's number", "scope=all&number=" + other.Number, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := op.get(base+"?"+tc.query, "Accept", "application/json")
			expect(t, r, 200)
			if got, want := listed(t, r), sortedNumbers(tc.want...); !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			if strings.Contains(r.body, "venezia") {
				t.Fatal("a venezia dossier in lugano's queue")
			}
		})
	}
	bad := []struct{ name, query, field string }{
		{"a malformed number", "number=abc", `id="filter-number-error"`},
		{"a date that is none", "from=2025-02-30", `id="filter-from-error"`},
		{"an unknown scope", "scope=everything", `aria-invalid="true"`},
		{"no fiscal code", "citizen=Rossi", `id="filter-citizen-error"`},
		{"an unknown office", "office=nowhere", `id="filter-office-error"`},
		{"a malformed status", "status=Not%20A%20Status", `id="filter-status-error"`},
		{"to before from", "from=2025-03-01&to=2025-01-01", `id="filter-to-error"`},
		{"a forged page", "cursor=not!a!cursor", ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := op.get(base + "?" + tc.query)
			if r.status != 422 {
				t.Fatalf("status %d, want 422", r.status)
			}
			if tc.field != "" && !strings.Contains(r.body, tc.field) {
				t.Fatalf("no error beside the field %s: %.2000s", tc.field, r.body)
			}
		})
	}
	t.Run("the HTML queue links each dossier", func(t *testing.T) {
		expect(t, op.get(base+"?scope=all"), 200, a.Number, "Lampione spento", "/t/lugano/backoffice/requests/"+strconv.FormatInt(b.ID, 10),
			"Luca Bianchi", "In lavorazione")
	})
	t.Run("pages", func(t *testing.T) {
		for i := range 55 {
			openDossier(t, s, "lugano", systemActor, dossier.NewDossier{ServiceID: "general", Title: "Pratica " + strconv.Itoa(i), OfficeID: tecnico})
		}
		r := op.get(base+"?office=ufficio-tecnico", "Accept", "application/json")
		var page struct {
			Requests []json.RawMessage `json:"requests"`
			NextURL  string            `json:"next_url"`
		}
		if err := json.Unmarshal([]byte(r.body), &page); err != nil || len(page.Requests) != 50 || page.NextURL == "" {
			t.Fatalf("first page: %d dossiers, next %q, %v", len(page.Requests), page.NextURL, err)
		}
		r = op.get(s.url+page.NextURL, "Accept", "application/json")
		if got := listed(t, r); len(got) != 6 {
			t.Fatalf("second page: %d dossiers, want 6", len(got))
		}
	})
}

// The CSV export is the filtered list, every page of it, with formulas
// defused.
func TestBackofficeCSVExport(t *testing.T) {
	s := newSite(t)
	tecnico := officeID(t, s, "lugano", "ufficio-tecnico")
	for i := range 60 {
		openDossier(t, s, "lugano", systemActor, dossier.NewDossier{ServiceID: "general", Title: "Segnalazione " + strconv.Itoa(i), OfficeID: tecnico})
	}
	openDossier(t, s, "lugano", systemActor, dossier.NewDossier{ServiceID: "general", Title: "=HYPERLINK(\"http://evil.example\")", OfficeID: tecnico,
		Applicant: dossier.Applicant{Name: "Luca Bianchi", FiscalCode: "BNCLCU80A01H501X"}})
	openDossier(t, s, "lugano", systemActor, dossier.NewDossier{ServiceID: "desk", Title: "Non esportata"})
	openDossier(t, s, "venezia", systemActor, dossier.NewDossier{ServiceID: "general", Title: "Di Venezia"})

	op := s.staff("lugano", "sportello@lugano.example", "demo-lugano")
	r := op.get(s.url + "/t/lugano/backoffice?scope=all&service=general&format=csv")
	expect(t, r, 200)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("Content-Type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".csv") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	lines := strings.Split(strings.TrimSpace(r.body), "\n")
	if len(lines) != 1+61 {
		t.Fatalf("%d lines, want a header and 61 rows", len(lines))
	}
	if !strings.Contains(lines[0], "Numero di protocollo") || !strings.Contains(lines[0], "Oggetto") {
		t.Fatalf("header %q", lines[0])
	}
	for _, want := range []string{"Segnalazione 0,", "Segnalazione 59,", `'=HYPERLINK`, "Luca Bianchi"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("export lacks %q", want)
		}
	}
	for _, not := range []string{"Non esportata", "Di Venezia", "\n=HYPERLINK"} {
		if strings.Contains(r.body, not) {
			t.Errorf("export has %q", not)
		}
	}
	t.Run("a bad filter exports nothing", func(t *testing.T) {
		expect(t, op.get(s.url+"/t/lugano/backoffice?number=abc&format=csv"), 422)
	})
	t.Run("in German, headers in German", func(t *testing.T) {
		r := op.get(s.url + "/t/lugano/backoffice?scope=all&service=general&format=csv&lang=de")
		expect(t, r, 200)
		if strings.Contains(strings.SplitN(r.body, "\n", 2)[0], "Oggetto") {
			t.Fatalf("German export with Italian headers: %q", strings.SplitN(r.body, "\n", 2)[0])
		}
	})
}

// An operator works a dossier: takes it, assigns it, moves it through the
// service's states, sets its priority, notes and replies; the history
// records each step. Another town's operator and a citizen get nothing.
func TestBackofficeWorksADossier(t *testing.T) {
	s := newSite(t)
	withDesk(t, s)
	ctx := context.Background()
	s.citizen("lugano", "mario.rossi")
	mario := accountOf(t, s, "lugano", "RSSMRA80A01H501U")
	d := openDossier(t, s, "lugano", dossier.Citizen(mario, "Mario Rossi"), dossier.NewDossier{ServiceID: "desk", Title: "Rinnovo carta d'identità",
		CitizenID: mario})
	op := s.staff("lugano", "sportello@lugano.example", "demo-lugano")
	page := dossierURL(s, "lugano", d.ID)
	t.Run("the back office leads to the appointments, the citizen's menu to the payments", func(t *testing.T) {
		expect(t, op.get(s.url+"/t/lugano/backoffice"), 200, `href="/t/lugano/backoffice/appointments"`)
		expect(t, op.get(s.url+"/t/lugano/backoffice/appointments"), 200)
		citizen := s.citizen("lugano", "mario.rossi")
		expect(t, citizen.get(s.url+"/t/lugano/"), 200, `href="/t/lugano/payments"`, `href="/t/lugano/requests"`)
		expect(t, citizen.get(s.url+"/t/lugano/payments"), 200)
	})
	marco := userID(t, s, "lugano", "sportello@lugano.example")
	chiara := userID(t, s, "lugano", "admin@lugano.example")

	r := op.get(page)
	expect(t, r, 200, "Rinnovo carta d&#39;identità", d.Number, "Mario Rossi", "In verifica", "Evasa", "Ricevuta", "Timbra", "Scarica la scheda")
	if strings.Contains(r.body, "Sollecita") {
		t.Fatal("a citizen's action offered to staff")
	}

	steps := []struct {
		step   string
		values url.Values
		check  func(d *dossier.Dossier) bool
	}{
		{"take", url.Values{}, func(d *dossier.Dossier) bool { return d.AssigneeID == marco }},
		{"assign", url.Values{"office": {"ufficio-tecnico"}, "operator": {strconv.FormatInt(chiara, 10)}},
			func(d *dossier.Dossier) bool { return d.OfficeSlug == "ufficio-tecnico" && d.AssigneeID == chiara }},
		{"status", url.Values{"status": {"checking"}, "status_note": {"Documenti in verifica."}}, func(d *dossier.Dossier) bool { return d.Status == "checking" }},
		{"status", url.Values{"status": {"waiting"}}, func(d *dossier.Dossier) bool { return d.Status == "waiting" }},
		{"priority", url.Values{"priority": {"urgent"}}, func(d *dossier.Dossier) bool { return d.Priority == dossier.PriorityUrgent }},
		{"note", url.Values{"note": {"Chiamare il cittadino dopo le 14."}}, nil},
		{"reply", url.Values{"reply": {"Le mancano la foto e la firma."}}, nil},
	}
	for _, st := range steps {
		r := op.step(page, st.step, st.values)
		if r.status != 303 || !strings.Contains(r.header.Get("Location"), "done="+st.step) {
			t.Fatalf("%s: %d %s %.1000s", st.step, r.status, r.header.Get("Location"), r.body)
		}
		got, err := s.srv.Dossiers.Get(ctx, d.TenantID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.check != nil && !st.check(got) {
			t.Fatalf("after %s: %+v", st.step, got)
		}
	}
	r = op.get(page)
	expect(t, r, 200, "Ufficio tecnico", "Chiara Bernasconi", "In verifica", "Documenti in verifica.", "Urgente",
		"Chiamare il cittadino dopo le 14.", "Le mancano la foto e la firma.", "In attesa del cittadino")
	history, err := s.srv.Dossiers.History(ctx, d.TenantID, d.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	var public []string
	for _, e := range history {
		public = append(public, e.Kind)
	}
	if !slices.Contains(public, dossier.EntryReply) || slices.Contains(public, dossier.EntryNote) || slices.Contains(public, dossier.EntryAssigned) {
		t.Fatalf("the citizen's history: %v", public)
	}

	refused := []struct {
		name   string
		step   string
		values url.Values
		status int
	}{
		{"a status the service does not know", "status", url.Values{"status": {"vanished"}}, 422},
		{"a draft's status", "status", url.Values{"status": {"draft"}}, 422},
		{"an empty note", "note", url.Values{"note": {"   "}}, 422},
		{"an unknown office", "assign", url.Values{"office": {"nowhere"}}, 422},
		{"an operator of another town", "assign", url.Values{"operator": {strconv.FormatInt(userID(t, s, "venezia", "urp@venezia.example"), 10)}}, 422},
		{"a priority that is none", "priority", url.Values{"priority": {"whenever"}}, 422},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			r := op.step(page, tc.step, tc.values)
			expect(t, r, tc.status, `aria-invalid="true"`)
		})
	}
	t.Run("a missing version is refused", func(t *testing.T) {
		expect(t, op.form(page, page+"/note", url.Values{"note": {"senza versione"}}), 422)
	})
	t.Run("an unknown step is a 404", func(t *testing.T) {
		expect(t, op.form(page, page+"/explode", url.Values{"version": {"1"}}), 404)
	})

	t.Run("a service's action on the dossier", func(t *testing.T) {
		r := op.get(page)
		v := versionField.FindStringSubmatch(r.body)[1]
		// The host checks the form first, the plugin its own rules.
		expect(t, op.form(page, page+"/actions/stamp", url.Values{"version": {v}, "remark": {"x"}}), 422, `aria-invalid="true"`)
		expect(t, op.form(page, page+"/actions/stamp", url.Values{"version": {v}, "remark": {"no"}}), 422, "Osservazione rifiutata dal servizio.")
		r = op.form(page, page+"/actions/stamp", url.Values{"version": {v}, "remark": {"Timbro apposto"}})
		expect(t, r, 200, "Timbrata la pratica "+d.Number)
		got, _ := s.srv.Dossiers.Get(ctx, d.TenantID, d.ID)
		if got.Status != "checking" {
			t.Fatalf("status after the plugin's action: %s", got.Status)
		}
		// A post on the version before the plugin's change never reaches it.
		if got.Version > mustInt(t, v) {
			expect(t, op.form(page, page+"/actions/stamp", url.Values{"version": {v}, "remark": {"di nuovo"}}), 409, "di nuovo")
		}
		r = op.form(page, page+"/actions/export", url.Values{"version": {strconv.FormatInt(got.Version, 10)}})
		expect(t, r, 200, "dossier;"+strconv.FormatInt(d.ID, 10))
		if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, "scheda-") {
			t.Fatalf("download: %q", cd)
		}
		expect(t, op.form(page, page+"/actions/remind", url.Values{"version": {strconv.FormatInt(got.Version, 10)}}), 404)
	})

	t.Run("staff attach files; downloads", func(t *testing.T) {
		r := op.multipart(page, page+"/attach", url.Values{"version": {versionField.FindStringSubmatch(op.get(page).body)[1]}, "internal": {"1"}},
			fileUpload{"file", "verbale.pdf", pdfOf(300)})
		expect(t, r, 303)
		r = op.multipart(page, page+"/attach", url.Values{"version": {versionField.FindStringSubmatch(op.get(page).body)[1]}},
			fileUpload{"file", "pagina.pdf", []byte("<html><script>alert(1)</script></html>")})
		expect(t, r, 422, "Tipo di file non accettato")
		files, err := s.srv.Dossiers.Attachments(ctx, d.TenantID, d.ID, false)
		if err != nil || len(files) != 1 || !files[0].Internal {
			t.Fatalf("attachments: %+v %v", files, err)
		}
		r = op.get(page + "/attachments/" + strconv.FormatInt(files[0].ID, 10))
		expect(t, r, 200, "%PDF-")
		if !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") || r.header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("download headers: %v", r.header)
		}
	})

	t.Run("another town's operator, a citizen, nobody", func(t *testing.T) {
		venezia := s.staff("venezia", "urp@venezia.example", "demo-venezia")
		expect(t, venezia.get(s.url+"/t/venezia/backoffice/requests/"+strconv.FormatInt(d.ID, 10)), 404)
		r := venezia.get(s.url + "/t/lugano/backoffice/requests/" + strconv.FormatInt(d.ID, 10))
		if r.status != 303 || !strings.Contains(r.header.Get("Location"), "/t/lugano/login") {
			t.Fatalf("venezia's operator in lugano: %d %s", r.status, r.header.Get("Location"))
		}
		expect(t, venezia.form(s.url+"/t/venezia/profile", s.url+"/t/venezia/backoffice/requests/"+strconv.FormatInt(d.ID, 10)+"/note",
			url.Values{"version": {"1"}, "note": {"intrusione"}}), 404)
		citizen := s.citizen("lugano", "mario.rossi")
		expect(t, citizen.get(page), 403)
		expect(t, citizen.get(s.url+"/t/lugano/backoffice"), 403)
		anon := s.browser()
		if r := anon.get(page); r.status != 303 {
			t.Fatalf("anonymous: %d", r.status)
		}
		expect(t, anon.get(page, "Accept", "application/json"), 401)
		expect(t, op.get(dossierURL(s, "lugano", 999999)), 404)
		expect(t, op.get(s.url+"/t/lugano/backoffice/requests/abc"), 404)
	})
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pdfOf is a small PDF of about n bytes.
func pdfOf(n int) []byte {
	b := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n")
	for len(b) < n {
		b = append(b, "% padding padding padding padding\n"...)
	}
	return append(b, "%%EOF\n"...)
}

// pngPixel is a one-pixel PNG.
var pngPixel = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// Two operators edit one dossier from the same version: the second is
// told, sees the first's change, and keeps what they typed.
func TestStaleVersionLosesNothing(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	d := openDossier(t, s, "lugano", systemActor, dossier.NewDossier{ServiceID: "general", Title: "Richiesta di copia",
		Applicant: dossier.Applicant{Name: "Luca Bianchi"}})
	page := dossierURL(s, "lugano", d.ID)
	marco := s.staff("lugano", "sportello@lugano.example", "demo-lugano")
	chiara := s.staff("lugano", "admin@lugano.example", "demo-lugano")

	seen := versionField.FindStringSubmatch(chiara.get(page).body)[1]
	expect(t, marco.step(page, "note", url.Values{"note": {"Nota di Marco: ho già telefonato."}}), 303)

	r := chiara.form(page, page+"/reply", url.Values{"version": {seen}, "reply": {"Risposta di Chiara: la copia è pronta."}})
	expect(t, r, 409, `id="dossier-stale"`, "Marco Rezzonico", "Nota di Marco: ho già telefonato.", "Risposta di Chiara: la copia è pronta.")
	history, _ := s.srv.Dossiers.History(ctx, d.TenantID, d.ID, false)
	for _, e := range history {
		if e.Kind == dossier.EntryReply {
			t.Fatal("the stale reply was saved")
		}
	}
	// The page came back on the current version: sending again works.
	now := versionField.FindStringSubmatch(r.body)[1]
	if now == seen {
		t.Fatalf("the 409 page still carries version %s", seen)
	}
	expect(t, chiara.form(page, page+"/reply", url.Values{"version": {now}, "reply": {"Risposta di Chiara: la copia è pronta."}}), 303)
	expect(t, chiara.get(page), 200, "Nota di Marco: ho già telefonato.", "Risposta di Chiara: la copia è pronta.")

	t.Run("status and assignment too", func(t *testing.T) {
		old := versionField.FindStringSubmatch(marco.get(page).body)[1]
		expect(t, chiara.step(page, "status", url.Values{"status": {"completed"}}), 303)
		r := marco.form(page, page+"/assign", url.Values{"version": {old}, "office": {"ufficio-tecnico"}})
		expect(t, r, 409, "Chiara Bernasconi", `<option value="ufficio-tecnico" selected>`)
		r = marco.get(page, "Accept", "application/json")
		var body struct {
			Dossier struct {
				StatusID string `json:"status_id"`
				Office   string `json:"office"`
			} `json:"dossier"`
		}
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Dossier.StatusID != "completed" || body.Dossier.Office != "" {
			t.Fatalf("after the refused assignment: %s", r.body)
		}
	})
	t.Run("as JSON", func(t *testing.T) {
		r := marco.do("POST", page+"/note", url.Values{"_csrf": {csrfField.FindStringSubmatch(marco.get(page).body)[1]},
			"version": {seen}, "note": {"tardi"}}, "Accept", "application/json")
		expect(t, r, 409, `"error"`)
	})
}

// A phone operator opens a generic dossier as a draft, completes and
// submits it; a catalogue service's request taken for a citizen goes to
// the service and shows in the citizen's "my requests".
func TestPhoneRequestsAndDrafts(t *testing.T) {
	s := newSite(t)
	withDesk(t, s)
	ctx := context.Background()
	mario := s.citizen("lugano", "mario.rossi")
	marioID := accountOf(t, s, "lugano", "RSSMRA80A01H501U")
	op := s.staff("lugano", "sportello@lugano.example", "demo-lugano")
	newURL := s.url + "/t/lugano/backoffice/new"

	r := op.get(newURL)
	expect(t, r, 200, "Richiesta generica", "Sportello di prova", `name="_channel"`)
	if strings.Contains(r.body, "Conta le domande") {
		t.Error("the intake offers a staff tool (desk/tally) as a citizen's request")
	}
	t.Run("the person must be named; nothing typed is lost", func(t *testing.T) {
		r := op.form(newURL, newURL, url.Values{"_channel": {"phone"}, "_title": {"Buca in via Roma"}, "_description": {"Profonda."},
			"_email": {"non-valida"}})
		expect(t, r, 422, `id="intake-name-error"`, `id="intake-email-error"`, "Buca in via Roma", "Profonda.", "non-valida")
		r = op.form(newURL, newURL, url.Values{"_channel": {"web"}, "_name": {"Luca Bianchi"}, "_title": {"Buca in via Roma"}})
		expect(t, r, 422, `id="intake-channel-error"`)
	})

	var draftID int64
	t.Run("a generic draft, completed and submitted later", func(t *testing.T) {
		r := op.form(newURL, newURL, url.Values{"_channel": {"phone"}, "_name": {"Luca Bianchi"}, "_phone": {"+41 79 123 45 67"},
			"_title": {"Buca in via Roma"}, "_description": {"Davanti al civico 3."}, "_draft": {"1"}})
		expect(t, r, 303)
		loc := r.header.Get("Location")
		draftID = mustInt(t, regexp.MustCompile(`/requests/(\d+)`).FindStringSubmatch(loc)[1])
		d, err := s.srv.Dossiers.Get(ctx, mustTenant(t, s, "lugano").ID, draftID)
		if err != nil || !d.Draft() || d.Channel != "phone" || d.Applicant.Name != "Luca Bianchi" || d.CreatedBy == 0 {
			t.Fatalf("draft: %+v %v", d, err)
		}
		page := s.url + loc[:strings.Index(loc, "?")]
		expect(t, op.get(s.url+loc), 200, "Bozza", "Davanti al civico 3.", "Salva come bozza")
		r = op.step(page, "save", url.Values{"_channel": {"phone"}, "_name": {"Luca Bianchi"}, "_title": {""}, "_description": {"Davanti al civico 5."}})
		expect(t, r, 422, `id="intake-title-error"`, "Davanti al civico 5.")
		expect(t, op.step(page, "save", url.Values{"_channel": {"counter"}, "_name": {"Luca Bianchi"}, "_title": {"Buca in via Roma"},
			"_description": {"Davanti al civico 5."}}), 303)
		expect(t, op.step(page, "submit", url.Values{"_channel": {"counter"}, "_name": {"Luca Bianchi"}, "_title": {"Buca in via Roma"},
			"_description": {"Davanti al civico 5."}}), 303)
		d, _ = s.srv.Dossiers.Get(ctx, d.TenantID, d.ID)
		if d.Draft() || d.Status != dossier.StatusSubmitted || d.Channel != "counter" || !strings.Contains(string(d.Data), "civico 5") {
			t.Fatalf("submitted: %+v", d)
		}
		expect(t, op.step(page, "submit", url.Values{"_channel": {"counter"}, "_name": {"Luca Bianchi"}, "_title": {"x"}}), 422)
	})

	t.Run("a service's request for a citizen, as a draft, then submitted", func(t *testing.T) {
		page := newURL + "?service=desk/submit"
		expect(t, op.get(page), 200, `enctype="multipart/form-data"`, `name="document"`, `name="_service" value="desk/submit"`)
		r := op.multipart(page, newURL, url.Values{"_service": {"desk/submit"}, "_channel": {"phone"}, "_name": {"Mario Rossi"},
			"_fiscal_code": {"RSSMRA80A01H501U"}, "subject": {"Rinnovo"}, "_draft": {"1"}},
			fileUpload{"document", "carta.pdf", pdfOf(500)})
		expect(t, r, 303)
		loc := r.header.Get("Location")
		id := mustInt(t, regexp.MustCompile(`/requests/(\d+)`).FindStringSubmatch(loc)[1])
		d, _ := s.srv.Dossiers.Get(ctx, mustTenant(t, s, "lugano").ID, id)
		if !d.Draft() || d.ServiceID != "desk" || d.CitizenID != marioID {
			t.Fatalf("service draft: %+v", d)
		}
		// The citizen does not see a draft.
		expect(t, mario.get(s.url+"/t/lugano/requests/"+strconv.FormatInt(id, 10)), 404)
		dpage := s.url + loc[:strings.Index(loc, "?")]
		r = op.get(dpage)
		expect(t, r, 200, "carta.pdf", `name="subject"`, "Rinnovo")
		v := versionField.FindStringSubmatch(r.body)[1]
		fileID := regexp.MustCompile(`type="hidden" name="document" value="(\d+)"`).FindStringSubmatch(r.body)
		if fileID == nil {
			t.Fatalf("the draft's file is not kept: %.3000s", r.body)
		}
		r = op.multipart(dpage, dpage+"/submit", url.Values{"version": {v}, "_channel": {"phone"}, "_name": {"Mario Rossi"},
			"_fiscal_code": {"RSSMRA80A01H501U"}, "subject": {"Rinnovo carta"}, "document": {fileID[1]}})
		expect(t, r, 303)
		newLoc := r.header.Get("Location")
		filed := mustInt(t, regexp.MustCompile(`/requests/(\d+)`).FindStringSubmatch(newLoc)[1])
		if _, err := s.srv.Dossiers.Get(ctx, d.TenantID, id); err == nil {
			t.Fatal("the draft is still there after the service filed the request")
		}
		got, err := s.srv.Dossiers.Get(ctx, d.TenantID, filed)
		if err != nil || got.Channel != "phone" || got.CitizenID != marioID || got.Applicant.Name != "Mario Rossi" || got.Draft() {
			t.Fatalf("filed for the citizen: %+v %v", got, err)
		}
		expect(t, op.get(s.url+newLoc), 200, "Domanda: Rinnovo carta")
		expect(t, mario.get(s.url+"/t/lugano/requests"), 200, got.Number, "Domanda: Rinnovo carta")
	})

	t.Run("straight to the service, its refusal beside the field", func(t *testing.T) {
		r := op.multipart(newURL+"?service=desk/submit", newURL, url.Values{"_service": {"desk/submit"}, "_channel": {"counter"},
			"_name": {"Anna Verdi"}, "subject": {"rifiuta"}}, fileUpload{"document", "carta.pdf", pdfOf(500)})
		expect(t, r, 422, "Oggetto non accettato dal servizio.", "Anna Verdi", "carta.pdf")
		r = op.multipart(newURL+"?service=desk/submit", newURL, url.Values{"_service": {"desk/submit"}, "_channel": {"counter"},
			"_name": {"Anna Verdi"}, "subject": {"Certificato"}}, fileUpload{"document", "carta.pdf", pdfOf(500)})
		expect(t, r, 303)
	})
	t.Run("an unknown service", func(t *testing.T) {
		expect(t, op.get(newURL+"?service=nosuch/submit"), 404)
		expect(t, op.form(newURL, newURL, url.Values{"_service": {"nosuch/submit"}, "_name": {"x"}}), 404)
	})
	t.Run("discarding a draft", func(t *testing.T) {
		r := op.form(newURL, newURL, url.Values{"_channel": {"phone"}, "_name": {"Luca Bianchi"}, "_title": {"Da buttare"}, "_draft": {"1"}})
		loc := r.header.Get("Location")
		page := s.url + loc[:strings.Index(loc, "?")]
		expect(t, op.step(page, "discard", url.Values{}), 303)
		expect(t, op.get(page), 404)
		expect(t, op.step(dossierURL(s, "lugano", draftID), "discard", url.Values{}), 422)
	})
}

// A citizen's "my requests": their own dossiers only, the public part of
// each, their files; anybody else's is a 404.
func TestMyRequests(t *testing.T) {
	s := newSite(t)
	withDesk(t, s)
	ctx := context.Background()
	mario := s.citizen("lugano", "mario.rossi")
	giulia := s.citizen("lugano", "giulia.bianchi")
	marioID := accountOf(t, s, "lugano", "RSSMRA80A01H501U")
	giuliaID := accountOf(t, s, "lugano", "BNCGLI85M41F205B")
	staff := dossier.Staff(userID(t, s, "lugano", "sportello@lugano.example"), "Marco Rezzonico")
	tid := mustTenant(t, s, "lugano").ID

	mine := openDossier(t, s, "lugano", dossier.Citizen(marioID, "Mario Rossi"), dossier.NewDossier{ServiceID: "desk", Title: "Rinnovo carta d'identità",
		CitizenID: marioID})
	generic := openDossier(t, s, "lugano", staff, dossier.NewDossier{ServiceID: "general", Title: "Richiesta telefonica", CitizenID: marioID,
		Channel: "phone"})
	draft := openDossier(t, s, "lugano", staff, dossier.NewDossier{ServiceID: "general", Title: "Bozza segreta", CitizenID: marioID, Draft: true})
	theirs := openDossier(t, s, "lugano", dossier.Citizen(giuliaID, "Giulia Bianchi"), dossier.NewDossier{ServiceID: "desk", Title: "Di Giulia",
		CitizenID: giuliaID})
	d, err := s.srv.Dossiers.SetStatus(ctx, tid, mine.ID, mine.Version, staff, "checking", "Stiamo verificando.")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.srv.Dossiers.Reply(ctx, tid, mine.ID, d.Version+0, staff, "Porti la foto allo sportello."); err != nil {
		t.Fatal(err)
	}
	if _, err := s.srv.Dossiers.AddNote(ctx, tid, mine.ID, dossier.AnyVersion, staff, "Nota riservata agli uffici."); err != nil {
		t.Fatal(err)
	}
	public, err := s.srv.Dossiers.Attach(ctx, tid, mine.ID, dossier.AnyVersion, staff, dossier.NewFile{Name: "ricevuta.pdf", Content: bytes.NewReader(pdfOf(400))})
	if err != nil {
		t.Fatal(err)
	}
	internal, err := s.srv.Dossiers.Attach(ctx, tid, mine.ID, dossier.AnyVersion, staff, dossier.NewFile{Name: "interno.pdf", Internal: true,
		Content: bytes.NewReader(pdfOf(450))})
	if err != nil {
		t.Fatal(err)
	}
	base := s.url + "/t/lugano/requests"

	r := mario.get(base)
	expect(t, r, 200, mine.Number, generic.Number, "Rinnovo carta d&#39;identità", "Richiesta telefonica", "In verifica")
	for _, not := range []string{draft.Number, "Bozza segreta", theirs.Number, "Di Giulia"} {
		if strings.Contains(r.body, not) {
			t.Errorf("my requests show %q", not)
		}
	}
	if got := listed(t, mario.get(base, "Accept", "application/json")); !slices.Equal(got, sortedNumbers(mine, generic)) {
		t.Fatalf("JSON list %v", got)
	}
	expect(t, mario.get(base+"?lang=de"), 200, "Meine Anträge", "In Prüfung")

	page := base + "/" + strconv.FormatInt(mine.ID, 10)
	r = mario.get(page + "?lang=it")
	expect(t, r, 200, "Porti la foto allo sportello.", "Stiamo verificando.", "ricevuta.pdf", "Sollecita")
	for _, not := range []string{"Nota riservata agli uffici.", "interno.pdf", "Timbra"} {
		if strings.Contains(r.body, not) {
			t.Errorf("the citizen's page shows %q", not)
		}
	}
	r = mario.get(page, "Accept", "application/json")
	if !strings.Contains(r.body, `"status":"In verifica"`) || strings.Contains(r.body, "Nota riservata") || strings.Contains(r.body, "interno.pdf") {
		t.Fatalf("JSON detail: %s", r.body)
	}
	r = mario.get(page + "/attachments/" + strconv.FormatInt(public.ID, 10))
	expect(t, r, 200, "%PDF-")
	if !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("inline download: %v", r.header)
	}

	refused := []struct {
		name string
		who  *browser
		url  string
		want int
	}{
		{"an internal file", mario, page + "/attachments/" + strconv.FormatInt(internal.ID, 10), 404},
		{"another citizen's dossier", mario, base + "/" + strconv.FormatInt(theirs.ID, 10), 404},
		{"another citizen's file, through one's own dossier", giulia, base + "/" + strconv.FormatInt(theirs.ID, 10) + "/attachments/" + strconv.FormatInt(public.ID, 10), 404},
		{"another citizen reading mine", giulia, page, 404},
		{"a draft of mine", mario, base + "/" + strconv.FormatInt(draft.ID, 10), 404},
		{"a dossier that does not exist", mario, base + "/999999", 404},
		{"a malformed id", mario, base + "/abc", 404},
		{"staff have no requests of their own", s.staff("lugano", "sportello@lugano.example", "demo-lugano"), base, 403},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, tc.who.get(tc.url), tc.want)
		})
	}
	t.Run("another town's citizen", func(t *testing.T) {
		other := s.citizen("venezia", "mario.rossi")
		expect(t, other.get(s.url+"/t/venezia/requests/"+strconv.FormatInt(mine.ID, 10)), 404)
		if got := listed(t, other.get(s.url+"/t/venezia/requests", "Accept", "application/json")); len(got) != 0 {
			t.Fatalf("venezia's Mario sees %v", got)
		}
	})
	t.Run("the citizen's follow-up action", func(t *testing.T) {
		expect(t, mario.form(page, page+"/actions/remind", url.Values{}), 200, "Sollecito registrato per "+mine.Number)
		expect(t, mario.form(page, page+"/actions/stamp", url.Values{"remark": {"ok"}}), 404)
		expect(t, giulia.form(s.url+"/t/lugano/profile", page+"/actions/remind", url.Values{}), 404)
	})
	t.Run("anonymous visitors log in first", func(t *testing.T) {
		r := s.browser().get(base)
		if r.status != 303 || !strings.Contains(r.header.Get("Location"), "/login") {
			t.Fatalf("anonymous: %d %s", r.status, r.header.Get("Location"))
		}
	})
	t.Run("the navigation links the citizen's requests", func(t *testing.T) {
		expect(t, mario.get(s.url+"/t/lugano/"), 200, `href="/t/lugano/requests"`)
		expect(t, s.staff("lugano", "sportello@lugano.example", "demo-lugano").get(s.url+"/t/lugano/"), 200, `href="/t/lugano/backoffice"`)
	})
}

// Files in a service's form: checked by content and size, stored, kept by
// id when the form comes back, and handed to the service.
func TestServiceFormUploads(t *testing.T) {
	s := newSite(t)
	withDesk(t, s)
	mario := s.citizen("lugano", "mario.rossi")
	svc := s.url + "/t/lugano/services/desk"
	expect(t, mario.get(svc), 200, `enctype="multipart/form-data"`, `type="file"`, `accept="application/pdf"`, "Formati accettati: PDF")

	cases := []struct {
		name   string
		files  []fileUpload
		status int
		want   []string
	}{
		{"no file", nil, 422, []string{"Allega il file richiesto.", "Rinnovo urgente"}},
		{"too large", []fileUpload{{"document", "carta.pdf", pdfOf(30000)}}, 422, []string{"troppo grande", "Rinnovo urgente"}},
		{"a page disguised as a PDF", []fileUpload{{"document", "carta.pdf", []byte("<!doctype html><p>not a pdf</p>")}}, 422,
			[]string{"non è accettato qui", "Rinnovo urgente"}},
		{"a PNG where a PDF is asked for", []fileUpload{{"document", "carta.pdf", pngPixel}}, 422, []string{"non è accettato qui"}},
		{"a PDF named as a picture", []fileUpload{{"document", "carta.png", pdfOf(500)}}, 422, []string{"Tipo di file non accettato"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mario.multipart(svc, svc+"/submit", url.Values{"subject": {"Rinnovo urgente"}}, tc.files...)
			expect(t, r, tc.status, tc.want...)
			expect(t, r, tc.status, `aria-invalid="true"`, `id="field-document-error"`)
		})
	}

	t.Run("accepted files are kept by id when the form comes back", func(t *testing.T) {
		// A good photo and a bad document: the photo is kept, by id.
		r := mario.multipart(svc, svc+"/submit", url.Values{"subject": {"Rinnovo"}},
			fileUpload{"photo", "io.png", pngPixel}, fileUpload{"document", "carta.pdf", pdfOf(30000)})
		expect(t, r, 422, "io.png", "troppo grande")
		m := regexp.MustCompile(`type="hidden" name="photo" value="(\d+)"`).FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("the photo is not kept: %.3000s", r.body)
		}
		r = mario.multipart(svc, svc+"/submit", url.Values{"subject": {"Rinnovo"}, "photo": {m[1]}},
			fileUpload{"document", "carta.pdf", pdfOf(2000)})
		expect(t, r, 200, `id="service-result"`, "/photo=io.png (image/png", "/document=carta.pdf (application/pdf", "dal citizen")
		num := regexp.MustCompile(`\d{4}-\d{6}`).FindString(r.body)
		var linked int
		_ = s.db.Owner.NewRaw(`SELECT count(*) FROM dossier_attachments a JOIN dossiers d ON d.tenant_id = a.tenant_id AND d.id = a.dossier_id
			WHERE d.number = ? AND d.service_id = 'desk'`, num).Scan(context.Background(), &linked)
		if linked != 2 {
			t.Errorf("%d files on dossier %s, want 2", linked, num)
		}
		// The same id again: it belongs to a dossier now, not to a form.
		r = mario.multipart(svc, svc+"/submit", url.Values{"subject": {"Rinnovo"}, "document": {m[1]}})
		expect(t, r, 422, "Allega il file richiesto.")
	})
	t.Run("nobody can name another's upload", func(t *testing.T) {
		r := mario.multipart(svc, svc+"/submit", url.Values{"subject": {"Rinnovo"}}, fileUpload{"photo", "io.png", pngPixel})
		id := regexp.MustCompile(`type="hidden" name="photo" value="(\d+)"`).FindStringSubmatch(r.body)[1]
		giulia := s.citizen("lugano", "giulia.bianchi")
		r = giulia.multipart(svc, svc+"/submit", url.Values{"subject": {"Rinnovo"}, "document": {id}, "photo": {id}})
		expect(t, r, 422, "Allega il file richiesto.")
		if strings.Contains(r.body, "io.png") || strings.Contains(r.body, `name="photo" value="`+id+`"`) || strings.Contains(r.body, `name="document" value="`+id+`"`) {
			t.Fatal("Giulia's form shows Mario's upload")
		}
	})
}

// Odd and hostile input to the back office and "my requests" gets a clear
// 4xx, never a 500.
func TestBackofficeHostileInput(t *testing.T) {
	s := newSite(t)
	withDesk(t, s)
	op := s.staff("lugano", "sportello@lugano.example", "demo-lugano")
	mario := s.citizen("lugano", "mario.rossi")
	d := openDossier(t, s, "lugano", systemActor, dossier.NewDossier{ServiceID: "desk", Title: "Prova",
		CitizenID: accountOf(t, s, "lugano", "RSSMRA80A01H501U")})
	page := dossierURL(s, "lugano", d.ID)
	base := s.url + "/t/lugano"
	tok := func(b *browser) string { return csrfField.FindStringSubmatch(b.get(base + "/profile").body)[1] }
	post := func(b *browser, path string, v url.Values) response {
		v.Set("_csrf", tok(b))
		return b.do("POST", base+path, v)
	}
	id := strconv.FormatInt(d.ID, 10)
	cases := []struct {
		name string
		do   func() response
		want int
	}{
		{"a search too long", func() response { return op.get(base + "/backoffice?q=" + strings.Repeat("x", 101)) }, 422},
		{"a NUL in the search", func() response { return op.get(base + "/backoffice?q=a%00b") }, 422},
		{"a year out of range", func() response { return op.get(base + "/backoffice?from=99999-01-01") }, 422},
		{"an id past int64", func() response { return op.get(base + "/backoffice/requests/99999999999999999999") }, 404},
		{"a negative id", func() response { return op.get(base + "/backoffice/requests/-3") }, 404},
		{"a file id that is none", func() response { return op.get(page + "/attachments/abc") }, 404},
		{"a file of no dossier", func() response { return op.get(page + "/attachments/424242") }, 404},
		{"a version that is no number", func() response {
			return post(op, "/backoffice/requests/"+id+"/note", url.Values{"version": {"abc"}, "note": {"x"}})
		}, 422},
		{"a negative version", func() response {
			return post(op, "/backoffice/requests/"+id+"/note", url.Values{"version": {"-1"}, "note": {"x"}})
		}, 422},
		{"a version from the future", func() response {
			return post(op, "/backoffice/requests/"+id+"/note", url.Values{"version": {"99999"}, "note": {"x"}})
		}, 409},
		{"a note past its limit", func() response {
			return post(op, "/backoffice/requests/"+id+"/note", url.Values{"version": {"1"}, "note": {strings.Repeat("n", 10001)}})
		}, 422},
		{"an attachment without a file", func() response {
			return post(op, "/backoffice/requests/"+id+"/attach", url.Values{"version": {"1"}})
		}, 422},
		{"an action the service lacks", func() response {
			return post(op, "/backoffice/requests/"+id+"/actions/nosuch", url.Values{"version": {"1"}})
		}, 404},
		{"a service that is a path", func() response {
			return post(op, "/backoffice/new", url.Values{"_service": {"../../etc/passwd"}, "_name": {"x"}, "_channel": {"phone"}})
		}, 404},
		{"a generic request's title past its limit", func() response {
			return post(op, "/backoffice/new", url.Values{"_name": {"x"}, "_channel": {"phone"}, "_title": {strings.Repeat("t", 301)}})
		}, 422},
		{"a forged page of my requests", func() response { return mario.get(base + "/requests?cursor=AAAA") }, 422},
		{"a file name past its limit", func() response {
			return mario.multipart(base+"/services/desk", base+"/services/desk/submit", url.Values{"subject": {"Rinnovo"}},
				fileUpload{"document", strings.Repeat("a", 300) + ".pdf", pdfOf(500)})
		}, 422},
		{"a kept file that is no id", func() response {
			return mario.multipart(base+"/services/desk", base+"/services/desk/submit", url.Values{"subject": {"Rinnovo"}, "document": {"../1"}})
		}, 422},
		{"a citizen's action with another's id", func() response {
			return post(mario, "/requests/999999/actions/remind", url.Values{})
		}, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := tc.do(); r.status != tc.want {
				t.Fatalf("status %d, want %d: %.500s", r.status, tc.want, r.body)
			}
		})
	}
}
