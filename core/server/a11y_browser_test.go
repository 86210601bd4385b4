package server_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core as web/vendor.sh leaves it: pinned in
// web/package.json, installed in node_modules and never served.
const axeSource = "../../web/node_modules/axe-core/axe.min.js"

// axeRun checks the page against WCAG 2.1 levels A and AA and keeps what
// axe rates serious or critical, each node by its CSS path.
const axeRun = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})
	.then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
		.map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(' '))})))`

type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// TestAccessibility opens a representative page of each kind, as each
// kind of visitor sees it, in a real Chromium and has axe-core check it
// against WCAG 2.1 AA: no violation rated serious or critical.
func TestAccessibility(t *testing.T) {
	axe, err := os.ReadFile(axeSource)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run web/vendor.sh, as make test does", err)
	}
	s := newSite(t)
	// lugano publishes the helpdesk, trezzo-sull-adda the cemetery: two
	// services with forms of many kinds of field.
	withPlugins(t, s, testPlugin{ID: "helpdesk", Pkg: "../../plugins/helpdesk"}, testPlugin{ID: "cemetery", Pkg: "../../plugins/cemetery"})
	addPlatformUser(t, s, "ops@sportello.example", "platform-password")
	town := s.url + "/t/lugano"

	citizen := s.citizen("lugano", "mario.rossi")
	svc := town + "/services/helpdesk"
	hdConfirmation(t, citizen.multipart(svc, svc+"/report", hdReport()))
	request := regexp.MustCompile(`href="(/t/lugano/requests/[^"/?]+)"`).FindStringSubmatch(citizen.get(town + "/requests").body)
	if request == nil {
		t.Fatal("the citizen's requests list no request")
	}
	// The report goes to the technical office: the operator works there too.
	tid := mustTenant(t, s, "lugano").ID
	if _, err := s.db.Owner.ExecContext(context.Background(), `INSERT INTO user_offices (tenant_id, user_id, office_id)
		SELECT ?, ?, id FROM offices WHERE tenant_id = ? AND slug = 'ufficio-tecnico'`,
		tid, userID(t, s, "lugano", "sportello@lugano.example"), tid); err != nil {
		t.Fatal(err)
	}
	operator := s.staff("lugano", "sportello@lugano.example", "demo-lugano")
	dossier := regexp.MustCompile(`href="(/t/lugano/backoffice/requests/[^"/?]+)"`).FindStringSubmatch(operator.get(town + "/backoffice").body)
	if dossier == nil {
		t.Fatal("the back office lists no request")
	}
	admin := s.staff("lugano", "admin@lugano.example", "demo-lugano")
	platform := s.browser()
	login := s.url + "/platform/login"
	expect(t, platform.form(login, login, url.Values{"email": {"ops@sportello.example"}, "password": {"platform-password"}}), 303)
	// A visitor's appointment, and the booking steps before it: the
	// calendar of days, the times of a day, the visitor's details.
	days := freeDays(t, s, "trezzo-sull-adda", "anagrafe")
	day := days[0].Format(time.DateOnly)
	_, _, booked := bookThroughPages(t, s, s.browser(), trezzo, days[1], "09:00",
		url.Values{"name": {"Anna"}, "email": {"anna@example.org"}})
	steps := trezzo + "/appointments?topic=carta-identita"

	visits := []struct {
		who   *browser // nil: nobody signed in
		scope string   // the path the session cookie is for
		pages []string
	}{
		{nil, "", []string{"/t/lugano/", "/t/lugano/servizi", "/t/lugano/servizi?categoria=ambiente&q=buca", "/t/lugano/services/helpdesk", trezzo + "/services/cemetery", "/t/lugano/login", "/t/lugano/faq", "/t/lugano/privacy", "/t/lugano/opendata",
			"/t/lugano/appointments", steps, steps + "&office=anagrafe&day=" + day, steps + "&office=anagrafe&day=" + day + "&time=09%3A00",
			strings.TrimPrefix(booked, s.url), "/platform/login"}},
		{citizen, "/t/lugano", []string{"/t/lugano/requests", request[1], "/t/lugano/profile", "/t/lugano/payments"}},
		{operator, "/t/lugano", []string{"/t/lugano/backoffice", dossier[1], "/t/lugano/backoffice/new", "/t/lugano/backoffice/live",
			"/t/lugano/backoffice/appointments", "/t/lugano/backoffice/citizens?q=rossi",
			"/t/lugano/backoffice/citizens/" + strconv.FormatInt(accountOf(t, s, "lugano", "RSSMRA80A01H501U"), 10)}},
		{admin, "/t/lugano", []string{"/t/lugano/admin", "/t/lugano/admin/settings", "/t/lugano/admin/analytics", "/t/lugano/admin/privacy", "/t/lugano/admin/services", "/t/lugano/admin/services/helpdesk", "/t/lugano/admin/policies"}},
		{platform, "/platform", []string{"/platform"}},
	}

	ctx := brStart(t, brChromium(t))
	// audit has axe check the page the browser shows.
	audit := func(page string) {
		t.Helper()
		brPoll(t, ctx, `document.readyState === "complete"`)
		sctx, cancel := context.WithTimeout(ctx, brStep)
		defer cancel()
		found, err := chromedp.Run(sctx, chromedp.Evaluate[[]axeViolation](string(axe)+";\n"+axeRun, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("axe on %s: %v", page, err)
		}
		for _, v := range found {
			t.Errorf("%s: %s (%s) %s: %s (%d in all)", page, v.ID, v.Impact, v.Help,
				strings.Join(v.Targets[:min(3, len(v.Targets))], ", "), len(v.Targets))
		}
	}
	// open shows page, which must answer status itself, not by a redirect.
	open := func(page string, status int) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, brStep)
		defer cancel()
		res, err := chromedp.RunResponse(sctx, chromedp.Navigate(s.url+page))
		if err != nil {
			t.Fatalf("open %s: %v", page, err)
		}
		if got := mustURL(res.URL).Path; res.Status != int64(status) || got != mustURL(page).Path {
			t.Fatalf("%s answered %d from %s, want %d", page, res.Status, got, status)
		}
	}
	signIn := func(who *browser, scope string) {
		t.Helper()
		if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		if who != nil {
			brSession(t, ctx, who, s.url+scope)
		}
	}
	for _, v := range visits {
		signIn(v.who, v.scope)
		for _, p := range v.pages {
			open(p, http.StatusOK)
			audit(p)
		}
	}

	signIn(nil, "")
	open("/t/lugano/no-such-page", http.StatusNotFound)
	audit("the page not found")

	// A form sent empty comes back with its errors beside the fields; the
	// browser's own checks are off, as in a browser without them.
	signIn(citizen, "/t/lugano")
	open("/t/lugano/services/helpdesk", http.StatusOK)
	send := chromedp.Evaluate[bool](`(() => {
		const f = document.querySelector('form[action$="/services/helpdesk/report"]');
		f.noValidate = true; f.requestSubmit(); return true; })()`)
	sctx, cancel := context.WithTimeout(ctx, brStep)
	defer cancel()
	res, err := chromedp.RunResponse(sctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := send(ctx, tg)
		return err
	}))
	if err != nil || res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("the empty report: %v %v", res, err)
	}
	brPoll(t, ctx, `document.querySelectorAll('[aria-invalid="true"]').length > 0`)
	audit("the helpdesk form with its errors")

	// On a phone the header folds into its menu button.
	signIn(nil, "")
	brDo(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	for _, p := range []string{"/t/lugano/", "/t/lugano/services/helpdesk"} {
		open(p, http.StatusOK)
		audit(p + " on a phone")
	}
}

// brSession carries the session b signed in with over to the browser, for
// the pages under scope.
func brSession(t *testing.T, ctx context.Context, b *browser, scope string) {
	t.Helper()
	u, err := url.Parse(scope)
	if err != nil {
		t.Fatal(err)
	}
	httpOnly, n := true, 0
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name != "sportello_session" && c.Name != "sportello_platform" {
			continue
		}
		if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: c.Name, Value: c.Value, URL: u.String(),
			Path: u.Path, HTTPOnly: &httpOnly}); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("no session cookie for %s", scope)
	}
}
