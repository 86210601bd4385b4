package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestCoreFlowsWithoutJavaScript walks the flows a town cannot do without
// in a real Chromium whose scripts are switched off, by clicking and
// typing only: every form must post as plain HTML and land where it says.
func TestCoreFlowsWithoutJavaScript(t *testing.T) {
	s := newSite(t)
	withPlugins(t, s, testPlugin{ID: "helpdesk", Pkg: "../../plugins/helpdesk"})
	town := s.url + "/t/lugano"
	bg := context.Background()
	// The reports go to the technical office: the operator works there too.
	tid := mustTenant(t, s, "lugano").ID
	if _, err := s.db.Owner.ExecContext(bg, `INSERT INTO user_offices (tenant_id, user_id, office_id)
		SELECT ?, ?, id FROM offices WHERE tenant_id = ? AND slug = 'ufficio-tecnico'`,
		tid, userID(t, s, "lugano", "sportello@lugano.example"), tid); err != nil {
		t.Fatal(err)
	}

	ctx := brStart(t, brChromium(t))
	shots := os.Getenv("SPORTELLO_ARTIFACTS")
	if shots == "" {
		shots = t.TempDir()
	}
	var last string // the page the browser shows, for the failure messages
	// fail shows what the browser shows, in words and in a picture.
	fail := func(format string, args ...any) {
		t.Helper()
		if html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main"))); err == nil {
			t.Logf("%s shows: %.4000s", last, html)
		}
		if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(filepath.Join(shots, "nojs-failure.png"), png, 0o644)
		}
		t.Fatalf(format, args...)
	}
	// arrive checks that a step ended on path with status and that the
	// page says each of want.
	arrive := func(step string, res *network.Response, err error, status int, path string, want ...string) {
		t.Helper()
		if err != nil || res == nil {
			fail("%s: %v (no page loaded)", step, err)
		}
		last = res.URL
		if res.Status != int64(status) || mustURL(res.URL).Path != path {
			fail("%s answered %d at %s, want %d at %s", step, res.Status, res.URL, status, path)
		}
		body := brText(t, ctx, "body")
		for _, w := range want {
			if !strings.Contains(body, w) {
				fail("%s: the page lacks %q", step, w)
			}
		}
	}
	open := func(path string, want ...string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, brStep)
		defer cancel()
		res, err := chromedp.RunResponse(sctx, chromedp.Navigate(s.url+path))
		arrive("open "+path, res, err, http.StatusOK, mustURL(s.url+path).Path, want...)
	}
	// follow goes where a link of the page leads. Following a link needs
	// no script; the link is read from the page rather than clicked, as a
	// click right after a redirect can land while the page still loads.
	follow := func(link string, want ...string) {
		t.Helper()
		open(attrOf(t, ctx, link, "href"), want...)
	}
	// press clicks a button as a person does and waits for the page the
	// browser goes to.
	press := func(button string, status int, path string, want ...string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, brStep)
		defer cancel()
		res, err := chromedp.RunResponse(sctx, brPressing(button)...)
		arrive("press "+button, res, err, status, path, want...)
	}
	// typeIn types short texts key by key and sets long ones at once,
	// which a loaded machine types slowly.
	typeIn := func(field, text string) {
		t.Helper()
		if len(text) > 24 {
			brDo(t, ctx, chromedp.SetValue(chromedp.CSS(field), text))
			return
		}
		brDo(t, ctx, chromedp.SendKeys(chromedp.CSS(field), text))
	}
	choose := func(field, value string) {
		t.Helper()
		brDo(t, ctx, chromedp.SetValue(chromedp.CSS(field), value))
	}
	signOut := func() {
		t.Helper()
		if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
	}
	// staffIn signs in through the login form, which leads to home.
	staffIn := func(slug, email, password, home string) {
		t.Helper()
		signOut()
		open("/t/" + slug + "/login")
		typeIn("#login-email", email)
		typeIn("#login-password", password)
		press(`form:has(#login-email) button[type="submit"]`, http.StatusOK, home)
	}
	// scalar reads one value from the database.
	scalar := func(query string, args ...any) string {
		t.Helper()
		var v string
		if err := s.db.Owner.QueryRowContext(bg, query, args...).Scan(&v); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return v
	}
	// scriptsOff proves the page in the browser ran no script: the rating
	// script, on every town page, hides the notes meant for the plain form.
	scriptsOff := func() {
		t.Helper()
		attrs, err := chromedp.Run(ctx, chromedp.Attributes(chromedp.CSS("[data-rating-band]")))
		if err != nil {
			fail("no rating widget: %v", err)
		}
		if _, hidden := attrs["hidden"]; hidden {
			fail("a script ran on %s: the rating notes are hidden", last)
		}
	}

	// With scripts on, the same check tells a page that ran them.
	open("/t/lugano/appointments")
	brPoll(t, ctx, `document.querySelector("[data-rating-band]").hidden`)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	open("/t/lugano/appointments")
	scriptsOff()

	// A citizen reports a pothole, finds it among their requests and rates the page.
	{
		brSession(t, ctx, s.citizen("lugano", "mario.rossi"), town)
		open("/t/lugano/services/helpdesk")
		scriptsOff()
		// The map stays hidden without its script; its inputs take the place.
		form := `form[action$="/services/helpdesk/report"] `
		choose(form+`[name="category"]`, "roads")
		typeIn(form+`[name="title"]`, "Buca profonda in via Nassa")
		typeIn(form+`[name="description"]`, "Una buca profonda mezzo metro sul marciapiede davanti al civico 5.")
		typeIn(form+`[name="location.lat"]`, "46.0037")
		typeIn(form+`[name="location.lon"]`, "8.9511")
		typeIn(form+`[name="location.address"]`, "Via Nassa 5")
		brTick(t, ctx, form+`[name="consent"]`)
		press(form+`button[type="submit"]`, http.StatusOK, "/t/lugano/services/helpdesk/report")
		number := hdNumber.FindString(brText(t, ctx, "#service-result"))
		if number == "" {
			fail("no protocol number in the confirmation")
		}
		if got := scalar(`SELECT title FROM dossiers WHERE tenant_id = ? AND number = ?`, tid, number); got != "Strade e marciapiedi: Buca profonda in via Nassa" {
			t.Errorf("dossier %s is titled %q", number, got)
		}

		open("/t/lugano/requests", number)
		scriptsOff()
		// The rating goes as one form: stars, answer and details at once.
		brTick(t, ctx, `#rating-star-2`)
		brTick(t, ctx, `#rating-answer-lost`)
		typeIn("#rating-comment", "Non trovo la pratica.")
		press(`[data-rating-form] button[type="submit"]`, http.StatusOK, "/t/lugano/requests")
		if thanks := brText(t, ctx, "#rating-title"); thanks != "Grazie, il tuo parere ci aiuterà a migliorare il servizio!" {
			fail("after the rating: %q", thanks)
		}
		rows := allRatings(t, s)
		if len(rows) != 1 || rows[0].Stars != 2 || rows[0].Answer != "lost" || rows[0].Comment != "Non trovo la pratica." || rows[0].Path != "/requests" {
			t.Errorf("stored %+v", rows)
		}
		follow(`main a[href^="/t/lugano/requests/"]`,
			number, "Buca profonda in via Nassa")
	}

	// The operator works the report from the queue and takes a request at the counter.
	{
		staffIn("lugano", "sportello@lugano.example", "demo-lugano", "/t/lugano/backoffice")
		// Without scripts the browser parses <noscript> as markup: the live
		// console's warning is there to be read.
		open("/t/lugano/backoffice/live")
		brDo(t, ctx, chromedp.WaitReady(chromedp.CSS("noscript p.alert")))

		open("/t/lugano/backoffice", "Buca profonda in via Nassa")
		scriptsOff()
		link := `main a[href^="/t/lugano/backoffice/requests/"]`
		dossierPath := attrOf(t, ctx, link, "href")
		press(link, http.StatusOK, dossierPath, "Buca profonda in via Nassa")
		id := dossierPath[strings.LastIndex(dossierPath, "/")+1:]
		press(`form[action$="/take"] button[type="submit"]`, http.StatusOK, dossierPath)
		if got := scalar(`SELECT coalesce(assignee_id, 0) FROM dossiers WHERE tenant_id = ? AND id = ?`, tid, id); got != fmt.Sprint(userID(t, s, "lugano", "sportello@lugano.example")) {
			t.Errorf("taken by %s", got)
		}
		choose("#status-status", "in_progress")
		typeIn("#status-note", "Sopralluogo fissato per domani.")
		press(`form[action$="/status"] button[type="submit"]`, http.StatusOK, dossierPath, "Sopralluogo fissato per domani.")
		if got := scalar(`SELECT status FROM dossiers WHERE tenant_id = ? AND id = ?`, tid, id); got != "in_progress" {
			t.Errorf("status %q after the step", got)
		}
		typeIn("#reply-body", "Grazie, interveniamo entro la settimana.")
		press(`form[action$="/reply"] button[type="submit"]`, http.StatusOK, dossierPath, "Grazie, interveniamo entro la settimana.")
		typeIn("#note-body", "Serve la ditta esterna.")
		press(`form[action$="/note"] button[type="submit"]`, http.StatusOK, dossierPath, "Serve la ditta esterna.")
		for body, internal := range map[string]string{"Grazie, interveniamo entro la settimana.": "false", "Serve la ditta esterna.": "true"} {
			if got := scalar(`SELECT internal::text FROM dossier_messages WHERE tenant_id = ? AND dossier_id = ? AND body = ?`, tid, id, body); got != internal {
				t.Errorf("message %q internal=%s", body, got)
			}
		}

		// A request taken at the counter, with no service behind it.
		open("/t/lugano/backoffice/new")
		choose("#intake-channel", "counter")
		typeIn("#intake-name", "Giulia Bianchi")
		typeIn("#intake-phone", "+41 91 123 45 67")
		typeIn("#intake-title", "Lampione spento in via Cattedrale")
		typeIn("#intake-description", "Il lampione davanti al numero 3 è spento da una settimana.")
		sctx, cancel := context.WithTimeout(ctx, brStep)
		defer cancel()
		res, err := chromedp.RunResponse(sctx, brPressing(`main form[method="post"] button[type="submit"]:not([name])`)...)
		if err != nil || !strings.HasPrefix(mustURL(res.URL).Path, "/t/lugano/backoffice/requests/") {
			fail("the intake: %v %v", res, err)
		}
		arrive("the intake", res, err, http.StatusOK, mustURL(res.URL).Path, "Lampione spento in via Cattedrale", "Giulia Bianchi")
		if got := scalar(`SELECT channel FROM dossiers WHERE tenant_id = ? AND title = 'Lampione spento in via Cattedrale'`, tid); got != "counter" {
			t.Errorf("the intake's channel: %q", got)
		}
	}

	// The registry office books an appointment on somebody's behalf, moves it and cancels it.
	{
		days := freeDays(t, s, "trezzo-sull-adda", "anagrafe")
		staffIn("trezzo-sull-adda", "anagrafe@trezzo.example", "demo-trezzo", trezzo+"/backoffice")
		open(trezzo+"/backoffice/appointments", "Prenota per un cittadino")
		scriptsOff()
		choose("#book-topic", "cambio-residenza")
		choose("#book-office", "anagrafe")
		choose("#book-day", days[0].Format(time.DateOnly))
		choose("#book-time", "09:20")
		choose("#book-channel", "phone")
		typeIn("#book-name", "Carlo Verdi")
		typeIn("#book-phone", "+39 02 1234567")
		sctx, cancel := context.WithTimeout(ctx, brStep)
		defer cancel()
		res, err := chromedp.RunResponse(sctx, brPressing(`#book button[type="submit"]`)...)
		if err != nil {
			fail("book: %v", err)
		}
		code := regexp.MustCompile(`/backoffice/appointments/([2-9A-HJ-NP-Z]{8})$`).FindStringSubmatch(mustURL(res.URL).Path)
		if code == nil {
			fail("booked, then at %s", res.URL)
		}
		page := trezzo + "/backoffice/appointments/" + code[1]
		arrive("book", res, err, http.StatusOK, page, "comunica il codice "+code[1], "Carlo Verdi")

		choose("#move-day", days[1].Format(time.DateOnly))
		choose("#move-time", "10:00")
		press(`form[action$="/move"] button[type="submit"]`, http.StatusOK, page, "Appuntamento spostato")
		typeIn("#cancel-reason", "Richiesta telefonica")
		press(`form[action$="/cancel"] button[type="submit"]`, http.StatusOK, page, "Annullato", "Richiesta telefonica")
		trz := mustTenant(t, s, "trezzo-sull-adda").ID
		if got := scalar(`SELECT b.status FROM bookings b JOIN appointments a ON a.tenant_id = b.tenant_id AND a.booking_id = b.id
			WHERE a.tenant_id = ? AND a.channel = 'phone'`, trz); got != "cancelled" {
			t.Errorf("the booking is %q", got)
		}
	}

	// The town's admin saves a service's settings, disables and publishes it, adds a rule and deletes it.
	{
		staffIn("lugano", "admin@lugano.example", "demo-lugano", "/t/lugano/backoffice")
		open("/t/lugano/admin/services")
		scriptsOff()
		svc := "/t/lugano/admin/services/helpdesk"
		follow(`main a[href="` + svc + `"]`)
		press(`form[action$="/config"] button[type="submit"]`, http.StatusOK, svc)
		press(`form[action$="/disable"] button[type="submit"]`, http.StatusOK, svc)
		if got := scalar(`SELECT state FROM tenant_services WHERE tenant_id = ? AND service_id = 'helpdesk'`, tid); got != "disabled" {
			t.Errorf("after disable the helpdesk is %q", got)
		}
		press(`form[action$="/publish"] button[type="submit"]`, http.StatusOK, svc)
		if got := scalar(`SELECT state FROM tenant_services WHERE tenant_id = ? AND service_id = 'helpdesk'`, tid); got != "published" {
			t.Errorf("after publish the helpdesk is %q", got)
		}

		open("/t/lugano/admin/policies")
		typeIn("#policy-role", "operator")
		typeIn("#policy-object", "admin/reports")
		choose("#policy-action", "read")
		press(`form[action="/t/lugano/admin/policies"] button[type="submit"]`, http.StatusOK, "/t/lugano/admin/policies", "admin/reports")
		if got := scalar(`SELECT count(*) FROM casbin_rules WHERE tenant_id = ? AND v2 = 'admin/reports'`, tid); got != "1" {
			t.Errorf("%s rules after adding one", got)
		}
		rule := scalar(`SELECT id FROM casbin_rules WHERE tenant_id = ? AND v2 = 'admin/reports'`, tid)
		press(`form[action="/t/lugano/admin/policies/`+rule+`/delete"] button[type="submit"]`, http.StatusOK, "/t/lugano/admin/policies")
		if got := scalar(`SELECT count(*) FROM casbin_rules WHERE tenant_id = ? AND v2 = 'admin/reports'`, tid); got != "0" {
			t.Errorf("%s rules after deleting the one", got)
		}
	}

	// On a phone the header folds into the menu button.
	{
		signOut()
		brDo(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
		open("/t/lugano/")
		scriptsOff()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err == nil {
			_ = os.WriteFile(filepath.Join(shots, "nojs-phone-menu.png"), png, 0o644)
		}
		// Bootstrap Italia opens the menu with its script: without it the
		// menu must show in the page, each link there to be followed.
		links, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("#main-menu .menu-wrapper a.nav-link"), chromedp.AtLeast(0)))
		if err != nil || len(links) == 0 {
			fail("no links in the main menu: %v", err)
		}
		for _, n := range links {
			sctx, cancel := context.WithTimeout(ctx, brStep)
			box, err := chromedp.Run(sctx, chromedp.Dimensions(chromedp.NodeIDs{n.NodeID}))
			cancel()
			if err != nil || box.Width == 0 || box.Height == 0 {
				t.Errorf("on a phone without scripts the main menu's link to %s cannot be reached (%v)", n.AttributeValue("href"), err)
			}
		}
		// A link to another page, not to a part of this one.
		if other := slices.IndexFunc(links, func(n *chromedp.Node) bool { return !strings.Contains(n.AttributeValue("href"), "#") }); !t.Failed() && other >= 0 {
			first := links[other].AttributeValue("href")
			press(`#main-menu .menu-wrapper a.nav-link[href="`+first+`"]`, http.StatusOK, mustURL(s.url+first).Path)
		}
	}
}

// attrOf is an attribute of the first element sel finds, read from the DOM.
func attrOf(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	attrs, err := chromedp.Run(ctx, chromedp.Attributes(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	return attrs[name]
}
