package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/plugins/sdk"
)

// TestJourneysInABrowser follows three people through the site in a real
// (headless) Chromium, as they would go: by the links and buttons the
// pages offer and by typing into the fields, never by posting behind the
// page's back. Each journey ends with an operator working the case in the
// back office, in a window of their own, and the citizen reading the
// outcome. A full-page screenshot is kept of each step that matters.
func TestJourneysInABrowser(t *testing.T) {
	s := newSite(t)
	withPlugins(t, s, testPlugin{ID: "helpdesk", Pkg: "../../plugins/helpdesk"}, testPlugin{ID: "cemetery", Pkg: "../../plugins/cemetery"})
	ctx := context.Background()
	// A pothole goes to Lugano's technical office and a concession to
	// Trezzo's cemetery office: the operators who sign in work there.
	for _, m := range []struct{ slug, email, office string }{
		{"lugano", "sportello@lugano.example", "ufficio-tecnico"},
		{"trezzo-sull-adda", "anagrafe@trezzo.example", "servizi-cimiteriali"},
	} {
		tid := mustTenant(t, s, m.slug).ID
		if _, err := s.db.Owner.ExecContext(ctx, `INSERT INTO user_offices (tenant_id, user_id, office_id)
			SELECT ?, ?, id FROM offices WHERE tenant_id = ? AND slug = ?`, tid, userID(t, s, m.slug, m.email), tid, m.office); err != nil {
			t.Fatal(err)
		}
	}

	// Italian, as the towns' people are.
	citizen := brStart(t, brChromium(t), chromedp.Flag("lang", "it-IT"))
	// The operator's window: the same browser, cookies of its own.
	operator, cancel := chromedp.NewContext(citizen, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(operator); err != nil {
		t.Fatalf("open the operator's window: %v", err)
	}
	var citizenLog, operatorLog brLog
	for _, side := range []struct {
		ctx context.Context
		log *brLog
	}{{citizen, &citizenLog}, {operator, &operatorLog}} {
		if err := chromedp.Listen(side.ctx, side.log.record); err != nil {
			t.Fatal(err)
		}
	}
	dir := os.Getenv("SPORTELLO_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	j := &journeys{s: s, citizen: citizen, operator: operator, dir: dir}

	t.Run("a visitor books an appointment, the office moves and cancels it", j.appointment)
	t.Run("a citizen reports a pothole, the office resolves and closes it", j.helpdesk)
	t.Run("a citizen asks for a niche, pays, and gets the deed", j.cemetery)

	for _, side := range []struct {
		name string
		log  *brLog
	}{{"citizen", &citizenLog}, {"operator", &operatorLog}} {
		for _, e := range side.log.errors() {
			t.Errorf("the %s's browser logged an error: %s", side.name, e)
		}
		for _, r := range side.log.get() {
			if !strings.HasPrefix(r, s.url+"/") && !strings.HasPrefix(r, "data:") {
				t.Errorf("the %s's browser asked %s, no test server", side.name, r)
			}
		}
	}
}

// journeys is what the journeys share: the site, the citizen's and the
// operator's windows, and where the screenshots go.
type journeys struct {
	s                 *site
	citizen, operator context.Context
	dir               string
}

// shot keeps a full-page screenshot of what the window shows.
func (j *journeys) shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, brStep)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(j.dir, "journey-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", file)
}

// jrOpen goes to u as one types it in the address bar; the page must
// answer 200, perhaps after redirects.
func jrOpen(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, brStep)
	defer cancel()
	res, err := chromedp.RunResponse(sctx, chromedp.Navigate(u))
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	if res.Status != http.StatusOK {
		t.Fatalf("%s answered %d (from %s)", u, res.Status, res.URL)
	}
}

// jrFollow presses sel, a link or a form's button, and waits for the page
// it leads to, which must answer 200; it returns that page's address.
func jrFollow(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, brStep)
	defer cancel()
	res, err := chromedp.RunResponse(sctx, brPressing(sel)...)
	if err != nil {
		t.Fatalf("press %s: %v", sel, err)
	}
	if res.Status != http.StatusOK {
		t.Fatalf("clicking %s led to %s (%d): %.1500s", sel, res.URL, res.Status, jrMain(t, ctx))
	}
	return res.URL
}

// jrType types keys into the field sel, which then holds want.
func jrType(t *testing.T, ctx context.Context, sel, keys, want string) {
	t.Helper()
	brDo(t, ctx, chromedp.SendKeys(chromedp.CSS(sel), keys))
	if got := brValue(t, ctx, sel); got != want {
		t.Fatalf("typed %q into %s, which holds %q, want %q", keys, sel, got, want)
	}
}

// jrChoose picks an option of the list sel by typing the start of its
// label, as one does on a focused list; value is the option's.
func jrChoose(t *testing.T, ctx context.Context, sel, label, value string) {
	t.Helper()
	brDo(t, ctx, chromedp.SendKeys(chromedp.CSS(sel), label))
	if got := brValue(t, ctx, sel); got != value {
		t.Fatalf("chose %q in %s, which holds %q, want %q", label, sel, got, value)
	}
}

// jrTick checks the check box or radio button sel. Bootstrap Italia
// draws the box over the label and keeps the input out of sight; the
// keyboard reaches it all the same.
func jrTick(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	brTick(t, ctx, sel)
}

// jrDate types day into the date field sel in the order the browser lays
// the field out, which its locale decides, and checks the value it holds.
func jrDate(t *testing.T, ctx context.Context, sel string, day time.Time) {
	t.Helper()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(sel)))
	if err != nil || len(nodes) == 0 {
		t.Fatalf("no date field %s (%v)", sel, err)
	}
	depth, pierce := int64(-1), true
	res, err := chromedp.Call(ctx, dom.DescribeNode, dom.DescribeNodeParams{NodeID: nodes[0].NodeID, Depth: &depth, Pierce: &pierce})
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]string{"-webkit-datetime-edit-day-field": "02", "-webkit-datetime-edit-month-field": "01",
		"-webkit-datetime-edit-year-field": "2006"}
	var layout string
	var walk func(n *cdp.Node)
	walk = func(n *cdp.Node) {
		for i := 0; i+1 < len(n.Attributes); i += 2 {
			if n.Attributes[i] == "pseudo" {
				layout += parts[n.Attributes[i+1]]
			}
		}
		for _, k := range append(n.ShadowRoots, n.Children...) {
			walk(k)
		}
	}
	walk(res.Node)
	if len(layout) != len("02012006") {
		t.Fatalf("the date field %s is laid out as %q", sel, layout)
	}
	jrType(t, ctx, sel, day.Format(layout), day.Format(time.DateOnly))
}

// jrMain is the text of the page's main part, to say what a page showed.
func jrMain(t *testing.T, ctx context.Context) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("main") || document.body).innerText`))
	if err != nil {
		return err.Error()
	}
	return strings.Join(strings.Fields(text), " ")
}

// jrSees waits until the page's main part reads each of want.
func jrSees(t *testing.T, ctx context.Context, want ...string) {
	t.Helper()
	for _, w := range want {
		// The page's spaces, the non-breaking too, count as one.
		w = strings.Join(strings.Fields(w), " ")
		expr := `(document.querySelector("main") || document.body).innerText.replace(/\s+/g, " ").includes(` + strconv.Quote(w) + `)`
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(brStep))); err != nil {
			t.Fatalf("the page does not read %q (%v): %.2000s", w, err, jrMain(t, ctx))
		}
	}
}

// jrStatus waits until the page draws label as the request's status.
func jrStatus(t *testing.T, ctx context.Context, label string) {
	t.Helper()
	expr := `[...document.querySelectorAll(".badge")].some((b) => b.textContent.trim() === ` + strconv.Quote(label) + `)`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(brStep))); err != nil {
		t.Fatalf("the page shows no status %q (%v): %.2000s", label, err, jrMain(t, ctx))
	}
}

// signIn signs a member of staff in with the town's own form.
func (j *journeys) signIn(t *testing.T, town, email, password string) {
	t.Helper()
	jrOpen(t, j.operator, j.s.url+town+"/login")
	jrType(t, j.operator, "#login-email", email, email)
	jrType(t, j.operator, "#login-password", password, password)
	if u := jrFollow(t, j.operator, `form:has(#login-password) button[type="submit"]`); strings.HasSuffix(mustURL(u).Path, "/login") {
		t.Fatalf("signing in as %s ended on %s", email, u)
	}
}

// appointment: a visitor books an identity card appointment in Trezzo,
// step by step; the registry office finds it by its code, moves it to
// another time and then cancels it; the visitor's page says each.
func (j *journeys) appointment(t *testing.T) {
	s, c, o := j.s, j.citizen, j.operator
	day := freeDays(t, s, "trezzo-sull-adda", "anagrafe")[0]
	dayParam := "day=" + day.Format(time.DateOnly)

	jrOpen(t, c, s.url+trezzo+"/appointments")
	jrFollow(t, c, `a[href*="topic=carta-identita"]`)
	// One office takes the topic: the calendar comes at once, on this
	// month; the day may be in the next.
	for range 3 {
		n, err := chromedp.Run(c, chromedp.Evaluate[int](`document.querySelectorAll('.sp-calendar a[href*="`+dayParam+`"]').length`))
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		jrFollow(t, c, `a[href*="month="]:last-of-type`)
	}
	jrSees(t, c, "Scegli il giorno", "Servizi demografici")
	j.shot(t, c, "appointment-1-calendar")
	jrFollow(t, c, `.sp-calendar a[href*="`+dayParam+`"]`)
	jrSees(t, c, "Scegli l'ora")
	j.shot(t, c, "appointment-2-times")
	jrFollow(t, c, `.sp-times a[href*="time=09%3A00"]`)
	jrSees(t, c, "I tuoi dati")
	jrType(t, c, "#appt-name", "Anna Bianchi", "Anna Bianchi")
	jrType(t, c, "#appt-email", "anna.bianchi@example.org", "anna.bianchi@example.org")
	j.shot(t, c, "appointment-3-details")
	booked := jrFollow(t, c, `form[action$="/appointments"] button[type="submit"]`)
	m := codeInURL.FindStringSubmatch(booked)
	if m == nil || !strings.HasSuffix(booked, "&done=booked") {
		t.Fatalf("booking ended on %s", booked)
	}
	code := m[1]
	if got := brText(t, c, "#appointment-code"); got != code {
		t.Fatalf("the confirmation shows the code %q, the address %s", got, code)
	}
	jrSees(t, c, "Appuntamento prenotato", "anna.bianchi@example.org", i18n.FormatDateTime("it", clock(day, 9, 0)))
	j.shot(t, c, "appointment-4-confirmation")
	// The link the visitor keeps, as the e-mail gives it.
	mine := s.url + trezzo + "/appointments/" + code + "?token=" + m[2]

	j.signIn(t, trezzo, "anagrafe@trezzo.example", "demo-trezzo")
	jrFollow(t, o, `a[href$="/backoffice/appointments"]`)
	jrType(t, o, "#search-code", strings.ToLower(code), strings.ToLower(code))
	jrFollow(t, o, `form[action$="/backoffice/appointments"][method="get"] button[type="submit"]`)
	jrSees(t, o, "Risultati", "Anna Bianchi")
	j.shot(t, o, "appointment-5-backoffice-found")
	jrFollow(t, o, `a[href*="/backoffice/appointments/`+code+`"]`)
	jrSees(t, o, code, "Anna Bianchi", "anna.bianchi@example.org")
	// The form holds the booked day and time: the operator types the new
	// hour over the old one.
	if got := brValue(t, o, "#move-day"); got != day.Format(time.DateOnly) {
		t.Fatalf("the move form's day is %q, want %s", got, day.Format(time.DateOnly))
	}
	jrType(t, o, "#move-time", "1000", "10:00")
	j.shot(t, o, "appointment-6-backoffice-move")
	jrFollow(t, o, `form[action$="/move"] button[type="submit"]`)
	jrSees(t, o, "Appuntamento spostato", i18n.FormatDateTime("it", clock(day, 10, 0)))

	jrOpen(t, c, mine)
	jrSees(t, c, code, i18n.FormatDateTime("it", clock(day, 10, 0)))
	j.shot(t, c, "appointment-7-moved")

	reason := "Ufficio chiuso per formazione del personale"
	jrType(t, o, "#cancel-reason", reason, reason)
	jrFollow(t, o, `form[action$="/cancel"] button[type="submit"]`)
	jrSees(t, o, "Appuntamento annullato", reason)
	j.shot(t, o, "appointment-8-backoffice-cancelled")

	jrOpen(t, c, mine)
	jrSees(t, c, code, reason)
	if n, err := chromedp.Run(c, chromedp.Evaluate[int](`document.querySelectorAll('form[action$="/cancel"], a[href*="/move"]').length`)); err != nil || n != 0 {
		t.Errorf("the cancelled appointment still offers %d ways to change it (%v)", n, err)
	}
	j.shot(t, c, "appointment-9-cancelled")
	var status string
	if err := s.db.Owner.NewRaw("SELECT status FROM bookings WHERE code = ?", code).Scan(context.Background(), &status); err != nil ||
		status != "cancelled" {
		t.Errorf("appointment %s is %q (%v), want cancelled", code, status, err)
	}
}

// helpdesk: Mario, signed in, reports a pothole in Via Nassa; the
// technical office takes it, resolves it and closes it, and Mario reads
// each status on his request's page.
func (j *journeys) helpdesk(t *testing.T) {
	s, c, o := j.s, j.citizen, j.operator
	base := s.url + "/t/lugano"
	brSession(t, c, s.citizen("lugano", "mario.rossi"), base)

	jrOpen(t, c, base+"/services/helpdesk")
	f := `form[action$="/services/helpdesk/report"] `
	jrChoose(t, c, f+`select[name="category"]`, "Strade e marciapiedi", "roads")
	jrType(t, c, f+`input[name="title"]`, "Buca profonda in via Nassa", "Buca profonda in via Nassa")
	desc := "Una buca profonda mezzo metro sul marciapiede davanti al civico 5, pericolosa di sera."
	jrType(t, c, f+`textarea[name="description"]`, desc, desc)
	jrType(t, c, f+`input[name="location.lat"]`, "46.0037", "46.0037")
	jrType(t, c, f+`input[name="location.lon"]`, "8.9511", "8.9511")
	jrType(t, c, f+`input[name="location.address"]`, "Via Nassa 5", "Via Nassa 5")
	photo := filepath.Join(t.TempDir(), "buca.png")
	if err := os.WriteFile(photo, hdPNG(t, 64, 48, false), 0o644); err != nil {
		t.Fatal(err)
	}
	brDo(t, c, chromedp.SetUploadFiles(chromedp.CSS(f+`input[type="file"][name="photo_1"]`), []string{photo}))
	jrTick(t, c, f+`input[type="checkbox"][name="consent"]`)
	j.shot(t, c, "helpdesk-1-form")
	jrFollow(t, c, f+`button[type="submit"]`)
	jrSees(t, c, "Abbiamo ricevuto la tua segnalazione, pratica n.")
	number := hdNumber.FindString(jrMain(t, c))
	if number == "" {
		t.Fatalf("no dossier number on the confirmation: %s", jrMain(t, c))
	}
	j.shot(t, c, "helpdesk-2-confirmation")
	d, err := s.srv.Dossiers.GetByNumber(context.Background(), mustTenant(t, s, "lugano").ID, number)
	if err != nil {
		t.Fatalf("dossier %s: %v", number, err)
	}
	if d.OfficeSlug != "ufficio-tecnico" || d.Status != "open" || d.Applicant.Name != "Mario Rossi" {
		t.Fatalf("the report was filed as %+v", d)
	}
	if tk := hdTicketOf(t, d); tk.Lat == nil || *tk.Lat != 46.0037 || tk.Lon == nil || *tk.Lon != 8.9511 || tk.Address != "Via Nassa 5" ||
		len(tk.Attachments) != 1 {
		t.Fatalf("the ticket holds %s", d.Data)
	}
	id := strconv.FormatInt(d.ID, 10)

	// Mario finds it among his requests.
	jrOpen(t, c, base+"/requests")
	jrFollow(t, c, `a[href$="/t/lugano/requests/`+id+`"]`)
	jrSees(t, c, number, "Buca profonda in via Nassa", "buca.png")
	jrStatus(t, c, "Aperta")

	j.signIn(t, "/t/lugano", "sportello@lugano.example", "demo-lugano")
	jrOpen(t, o, base+"/backoffice")
	jrSees(t, o, number)
	j.shot(t, o, "helpdesk-3-backoffice-queue")
	jrFollow(t, o, `a[href$="/backoffice/requests/`+id+`"]`)
	jrSees(t, o, number, "Via Nassa 5", "Mario Rossi")
	jrStatus(t, o, "Aperta")
	j.shot(t, o, "helpdesk-4-dossier")

	jrFollow(t, o, `form[action$="/requests/`+id+`/actions/take"] button[type="submit"]`)
	jrSees(t, o, "Pratica "+number+" presa in carico.")
	jrStatus(t, o, "In lavorazione")
	j.shot(t, o, "helpdesk-5-taken")
	jrOpen(t, c, base+"/requests/"+id)
	jrStatus(t, c, "In lavorazione")

	answer := "La buca è stata chiusa con asfalto a freddo il giorno stesso."
	resolve := `form[action$="/requests/` + id + `/actions/resolve"] `
	jrType(t, o, resolve+`textarea[name="answer"]`, answer, answer)
	jrFollow(t, o, resolve+`button[type="submit"]`)
	jrSees(t, o, "Pratica "+number+" risolta; la risposta è stata inviata.")
	jrStatus(t, o, "Risolta")
	j.shot(t, o, "helpdesk-6-resolved")
	jrOpen(t, c, base+"/requests/"+id)
	jrStatus(t, c, "Risolta")
	jrSees(t, c, answer)
	j.shot(t, c, "helpdesk-7-citizen-resolved")

	closing := "Intervento concluso, la segnalazione è chiusa."
	end := `form[action$="/requests/` + id + `/actions/close"] `
	jrType(t, o, end+`textarea[name="message"]`, closing, closing)
	jrFollow(t, o, end+`button[type="submit"]`)
	jrSees(t, o, "Pratica "+number+" chiusa.")
	jrStatus(t, o, "Chiusa")
	j.shot(t, o, "helpdesk-8-closed")
	jrOpen(t, c, base+"/requests/"+id)
	jrStatus(t, c, "Chiusa")
	jrSees(t, c, closing)
	j.shot(t, c, "helpdesk-9-citizen-closed")
	if got, err := s.srv.Dossiers.Get(context.Background(), d.TenantID, d.ID); err != nil || got.Status != "closed" {
		t.Fatalf("after closing: %+v %v", got, err)
	}
}

// cemetery: Mario asks Trezzo for a niche for his father, with the death
// certificate; the cemetery office takes the request and approves it, Mario
// pays online, the office issues the deed, and Mario reads each step.
func (j *journeys) cemetery(t *testing.T) {
	s, c, o := j.s, j.citizen, j.operator
	base := s.url + trezzo
	brSession(t, c, s.citizen("trezzo-sull-adda", "mario.rossi"), base)
	fee := cemEuro(cemTownTariff(t, "trezzo-sull-adda", "niche", 30))

	jrOpen(t, c, base+"/services/cemetery")
	f := `form[action$="/services/cemetery/request"] `
	jrType(t, c, f+`input[name="cemetery"]`, "Cimitero comunale di via Cavour", "Cimitero comunale di via Cavour")
	jrTick(t, c, f+`input[name="place"][value="niche"]`)
	jrType(t, c, f+`input[name="years"]`, "30", "30")
	jrType(t, c, f+`input[name="beneficiary.name"]`, "Giuseppe Bianchi", "Giuseppe Bianchi")
	jrDate(t, c, f+`input[name="beneficiary.birth_date"]`, time.Date(1941, time.April, 3, 0, 0, 0, 0, time.UTC))
	jrDate(t, c, f+`input[name="beneficiary.death_date"]`, time.Now().In(sdk.Zone).AddDate(0, -1, 0))
	jrType(t, c, f+`input[name="relationship"]`, "figlio", "figlio")
	jrType(t, c, f+`input[name="contact.phone"]`, "+39 333 1234567", "+39 333 1234567")
	certificate := filepath.Join(t.TempDir(), "certificato-di-morte.pdf")
	if err := os.WriteFile(certificate, pdfOf(4000), 0o644); err != nil {
		t.Fatal(err)
	}
	brDo(t, c, chromedp.SetUploadFiles(chromedp.CSS(f+`input[type="file"][name="document"]`), []string{certificate}))
	jrTick(t, c, f+`input[type="checkbox"][name="consent"]`)
	j.shot(t, c, "cemetery-1-form")
	jrFollow(t, c, f+`button[type="submit"]`)
	jrSees(t, c, "La tariffa per loculo per 30 anni è di € "+fee)
	number := cemNumber.FindString(jrMain(t, c))
	if number == "" {
		t.Fatalf("no dossier number on the confirmation: %s", jrMain(t, c))
	}
	j.shot(t, c, "cemetery-2-confirmation")
	d := cemDossier(t, s, "trezzo-sull-adda", number)
	if d.Status != "submitted" || d.OfficeSlug != "servizi-cimiteriali" {
		t.Fatalf("the request was filed as %+v", d)
	}
	id := strconv.FormatInt(d.ID, 10)
	mine := base + "/requests/" + id
	jrOpen(t, c, base+"/requests")
	jrFollow(t, c, `a[href$="`+trezzo+`/requests/`+id+`"]`)
	jrSees(t, c, number, "certificato-di-morte.pdf")
	jrStatus(t, c, "Inviata")

	// The operator signed in to Trezzo for the appointment.
	jrOpen(t, o, base+"/backoffice")
	jrSees(t, o, number)
	j.shot(t, o, "cemetery-3-backoffice-queue")
	jrFollow(t, o, `a[href$="/backoffice/requests/`+id+`"]`)
	jrSees(t, o, number, "Giuseppe Bianchi", "certificato-di-morte.pdf")
	jrFollow(t, o, `form[action$="/requests/`+id+`/take"] button[type="submit"]`)
	jrSees(t, o, "Hai preso in carico la pratica.")
	if got := cemDossier(t, s, "trezzo-sull-adda", number); got.AssigneeID != userID(t, s, "trezzo-sull-adda", "anagrafe@trezzo.example") {
		t.Fatalf("taken by %d (%s)", got.AssigneeID, got.AssigneeName)
	}
	j.shot(t, o, "cemetery-4-taken")

	note := "Posto nel blocco C."
	approve := `form[action$="/requests/` + id + `/actions/approve"] `
	jrType(t, o, approve+`textarea[name="note"]`, note, note)
	jrFollow(t, o, approve+`button[type="submit"]`)
	jrSees(t, o, "Pratica n. "+number+" approvata: chiesto il pagamento di € "+fee)
	jrStatus(t, o, "In attesa di pagamento")
	j.shot(t, o, "cemetery-5-approved")

	jrOpen(t, c, mine)
	jrStatus(t, c, "In attesa di pagamento")
	jrSees(t, c, "è stata approvata. Paga € "+fee, note)
	j.shot(t, c, "cemetery-6-citizen-to-pay")
	jrFollow(t, c, `a[href^="`+trezzo+`/payments/"]`)
	jrSees(t, c, fee)
	jrFollow(t, c, `form[action$="/checkout"] button[type="submit"]`)
	jrSees(t, c, "Ambiente di prova", fee)
	jrFollow(t, c, `button[name="outcome"][value="pay"]`)
	jrSees(t, c, "Pagamento riuscito")
	j.shot(t, c, "cemetery-7-paid")
	jrOpen(t, c, mine)
	jrStatus(t, c, "Pagata")

	jrOpen(t, o, base+"/backoffice/requests/"+id)
	jrStatus(t, o, "Pagata")
	issue := `form[action$="/requests/` + id + `/actions/issue"] `
	jrType(t, o, issue+`input[name="assigned_place"]`, "Blocco C, fila 2, n. 7", "Blocco C, fila 2, n. 7")
	jrFollow(t, o, issue+`button[type="submit"]`)
	deed := "concessione-" + number + ".pdf"
	jrSees(t, o, "Concessione della pratica n. "+number+" rilasciata", deed)
	jrStatus(t, o, "Concessione rilasciata")
	j.shot(t, o, "cemetery-8-issued")

	jrOpen(t, c, mine)
	jrStatus(t, c, "Concessione rilasciata")
	jrSees(t, c, "Blocco C, fila 2, n. 7", deed)
	j.shot(t, c, "cemetery-9-citizen-deed")
	if n, err := chromedp.Run(c, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('a[href^="%s/requests/%s/attachments/"]').length`, trezzo, id))); err != nil || n < 2 {
		t.Errorf("the citizen's page links %d files (%v), want the certificate and the deed", n, err)
	}
	if got := cemDossier(t, s, "trezzo-sull-adda", number); got.Status != "issued" {
		t.Fatalf("after the deed the request is %q", got.Status)
	}
}
