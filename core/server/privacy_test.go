package server_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/privacy"
)

var mario = person{Name: "Mario Rossi", Email: "mario.rossi@example.com", FiscalCode: "RSSMRA80A01H501U",
	Phone: "+39 320 111 2233", Secret: "La buca di Mario in via dei Glicini"}

// countRows counts as the database owner, who sees every town.
func countRows(t *testing.T, s *site, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.Owner.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCitizenDownloadsOwnData(t *testing.T) {
	s := newSite(t)
	b := s.citizen("lugano", "mario.rossi")
	mine := seedData(t, s, "lugano", accountOf(t, s, "lugano", mario.FiscalCode), mario)
	giulia := person{Name: "Giulietta Sassafrass", Email: "giulietta.s@example.net", FiscalCode: "SSSGLT81C50F205Q",
		Phone: "+39 348 000 1122", Secret: "Giulietta parla del suo vicino"}
	seedPerson(t, s, "lugano", giulia)
	// The same person in another town: that town's account is another.
	s.citizen("trezzo-sull-adda", "mario.rossi")
	elsewhere := mario
	elsewhere.Secret, elsewhere.Phone = "Segreto di Trezzo: il lampione rotto", "+39 320 999 8877"
	seedData(t, s, "trezzo-sull-adda", accountOf(t, s, "trezzo-sull-adda", mario.FiscalCode), elsewhere)

	r := b.get(s.url + "/t/lugano/profile/data.json")
	expect(t, r, 200, mario.Secret, "Chiamatemi al "+mario.Phone, "documento-"+mario.FiscalCode+".pdf", "Gentile Mario Rossi")
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("Content-Disposition %q", cd)
	}
	var x privacy.Export
	if err := json.Unmarshal([]byte(r.body), &x); err != nil {
		t.Fatal(err)
	}
	if x.Account.FiscalCode != mario.FiscalCode || x.Account.Email != mario.Email || len(x.Dossiers) != len(mine.dossiers) ||
		len(x.Bookings) != 1 || x.Bookings[0].Appointment == nil || len(x.Notifications) != 1 {
		t.Errorf("export: account %+v, %d dossiers, %d bookings, %d notifications", x.Account, len(x.Dossiers), len(x.Bookings), len(x.Notifications))
	}
	for _, d := range x.Dossiers {
		if len(d.Messages) != 1 || len(d.Attachments) != 1 {
			t.Errorf("dossier %s: %d messages, %d attachments; want the public one of each", d.Number, len(d.Messages), len(d.Attachments))
		}
	}
	for _, str := range append(giulia.strings(), elsewhere.Secret, elsewhere.Phone, "Nota interna") {
		if strings.Contains(r.body, str) {
			t.Errorf("the download contains %q, which is not Mario's in Lugano", str)
		}
	}

	// Staff have no citizen's data to download; nobody signed in is asked
	// to log in.
	staff := s.staff("lugano", "admin@lugano.example", "demo-lugano")
	expect(t, staff.get(s.url+"/t/lugano/profile/data.json"), 404)
	expectLogin(t, s.browser().get(s.url+"/t/lugano/profile/data.json"))
}

// expectLogin: the page sends whoever is not signed in to log in.
func expectLogin(t *testing.T, r response) {
	t.Helper()
	if r.status != 303 || !strings.Contains(r.header.Get("Location"), "/login") {
		t.Fatalf("status %d to %q, want 303 to the login", r.status, r.header.Get("Location"))
	}
}

var erasureForm = regexp.MustCompile(`action="/t/lugano/admin/privacy/requests/([0-9]+)"`)

func TestErasureIsRequestedAndCarriedOut(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	b := s.citizen("lugano", "mario.rossi")
	old := accountOf(t, s, "lugano", mario.FiscalCode)
	seed := seedData(t, s, "lugano", old, mario)
	// One closed request changed lately: still within its retention.
	if _, err := s.db.Owner.ExecContext(ctx, "UPDATE dossiers SET updated_at = now() WHERE id = ?", seed.dossiers["closed3"]); err != nil {
		t.Fatal(err)
	}
	admin := s.staff("lugano", "admin@lugano.example", "demo-lugano")
	page := s.url + "/t/lugano/admin/privacy"
	expect(t, admin.form(page, page+"/retention", url.Values{"service": {"helpdesk"}, "days": {"30"}}), 303)
	expect(t, admin.get(page+"?done=retention"), 200, `value="30"`)

	// The form asks to tick the box; then the request is recorded, once.
	profile := s.url + "/t/lugano/profile"
	// The profile offers the download and the erasure; Mario also asked
	// for text messages, which his erasure must stop.
	expect(t, b.get(profile), 200, `href="/t/lugano/profile/data.json"`, `action="/t/lugano/profile/erasure"`)
	expect(t, b.form(profile, profile, url.Values{"sms": {"1"}, "phone": {"+41 79 123 45 67"}}), 303)
	if n := countRows(t, s, "SELECT count(*) FROM notify_prefs WHERE citizen_id = ? AND sms AND phone <> ''", old); n != 1 {
		t.Fatalf("Mario's SMS consent was not stored (%d)", n)
	}
	expect(t, b.form(profile, profile+"/erasure", url.Values{}), 422)
	expect(t, b.form(profile, profile+"/erasure", url.Values{"confirm": {"yes"}}), 200, "Richiesta di cancellazione ricevuta", "conservare")
	expect(t, b.form(profile, profile+"/erasure", url.Values{"confirm": {"yes"}}), 200)
	if n := countRows(t, s, "SELECT count(*) FROM privacy_requests WHERE citizen_id = ? AND status = 'pending'", old); n != 1 {
		t.Fatalf("%d pending requests, want 1", n)
	}

	// Only the town's admin sees and carries out requests.
	expect(t, b.get(page), 403)
	expect(t, s.staff("lugano", "sportello@lugano.example", "demo-lugano").get(page), 403)
	r := admin.get(page)
	expect(t, r, 200, "Mario Rossi", mario.FiscalCode)
	m := erasureForm.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no erasure request to carry out: %.3000s", r.body)
	}
	trezzoAdmin := s.staff("trezzo-sull-adda", "admin@trezzo.example", "demo-trezzo")
	tpage := s.url + "/t/trezzo-sull-adda/admin/privacy"
	expect(t, trezzoAdmin.form(tpage, tpage+"/requests/"+m[1], url.Values{}), 404)

	expect(t, admin.form(page, page+"/requests/"+m[1], url.Values{}), 303)
	expect(t, admin.get(page+"?done=erased"), 200, "La cancellazione è stata eseguita.",
		"2 pratiche cancellate, 1 bozze cancellate, 2 pratiche conservate")
	expect(t, admin.form(page, page+"/requests/"+m[1], url.Values{}), 409)

	// The account is anonymous and signed out everywhere.
	var name, email, fiscal, subject string
	if err := s.db.Owner.NewRaw("SELECT name, email, fiscal_code, subject FROM citizens WHERE id = ?", old).
		Scan(ctx, &name, &email, &fiscal, &subject); err != nil {
		t.Fatal(err)
	}
	if name != "" || email != "" || fiscal != "" || subject == "mario.rossi" {
		t.Errorf("account after erasure: %q %q %q %q", name, email, fiscal, subject)
	}
	if n := countRows(t, s, "SELECT count(*) FROM sessions WHERE citizen_id = ?", old); n != 0 {
		t.Errorf("%d sessions left", n)
	}
	if n := countRows(t, s, "SELECT count(*) FROM notify_prefs WHERE citizen_id = ? AND (sms OR email OR phone <> '')", old); n != 0 {
		t.Errorf("consents or a phone number left after erasure (%d)", n)
	}
	expectLogin(t, b.get(profile))
	expectLogin(t, b.get(profile+"/data.json"))
	// Drafts and closed requests past retention are gone; the rest are
	// kept as filed, applicant and all.
	for label, id := range seed.dossiers {
		n := countRows(t, s, "SELECT count(*) FROM dossiers WHERE id = ?", id)
		want := map[string]int{"closed1": 0, "closed2": 0, "draft": 0, "closed3": 1, "open": 1}[label]
		if n != want {
			t.Errorf("dossier %s: %d rows, want %d", label, n, want)
		}
	}
	if n := countRows(t, s, "SELECT count(*) FROM dossiers WHERE id = ? AND applicant->>'fiscal_code' = ?", seed.dossiers["open"], mario.FiscalCode); n != 1 {
		t.Errorf("the open request lost its applicant")
	}

	// Logging in again makes a new, empty account.
	again := s.citizen("lugano", "mario.rossi")
	fresh := accountOf(t, s, "lugano", mario.FiscalCode)
	if fresh == old {
		t.Fatal("the login found the erased account again")
	}
	r = again.get(profile + "/data.json")
	expect(t, r, 200, mario.FiscalCode)
	for _, str := range []string{mario.Secret, mario.Phone, "documento-"} {
		if strings.Contains(r.body, str) {
			t.Errorf("the new account's data contains %q of the erased one", str)
		}
	}
}

func TestRetentionPurgeTakesOnlyOldClosedDossiersOfItsTown(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	a := seedPerson(t, s, "lugano", mario)
	other := seedPerson(t, s, "trezzo-sull-adda", person{Name: "Ottoline Brackenridge", Email: "ottoline.b@other-town.example",
		FiscalCode: "BRCTLN65B42L219K", Phone: "+39 333 987 6543", Secret: "Ottoline"})
	lugano, trezzo := mustTenant(t, s, "lugano").ID, mustTenant(t, s, "trezzo-sull-adda").ID
	if _, err := s.db.Owner.ExecContext(ctx, "UPDATE dossiers SET updated_at = now() - interval '5 days' WHERE id = ?", a.dossiers["closed3"]); err != nil {
		t.Fatal(err)
	}
	// A payment of a dossier that goes: the payment stays.
	if _, err := s.db.Owner.ExecContext(ctx, `INSERT INTO payments (tenant_id, service_id, dossier_id, citizen_id, amount_cents, reason, iuv, notice_code)
		VALUES (?, 'helpdesk', ?, ?, 1650, 'Diritti', '01234567890123456', '301234567890123456')`, lugano, a.dossiers["closed1"], a.citizen); err != nil {
		t.Fatal(err)
	}
	ps := privacy.New(s.db.App)
	for _, town := range []int64{lugano, trezzo} {
		if err := ps.SetRetention(ctx, town, "helpdesk", 30); err != nil {
			t.Fatal(err)
		}
	}
	if err := ps.SetRetention(ctx, lugano, "Bad Id", 30); err == nil {
		t.Error("a bad service id was taken")
	}
	if err := ps.SetRetention(ctx, lugano, "helpdesk", privacy.MaxRetentionDays+1); err == nil {
		t.Error("a retention past the bound was taken")
	}

	n, err := ps.Purge(ctx, lugano, privacy.FinalStatuses(nil))
	if err != nil || n != 2 {
		t.Fatalf("purge: %d, %v; want 2", n, err)
	}
	for label, id := range a.dossiers {
		want := map[string]int{"closed1": 0, "closed2": 0, "closed3": 1, "open": 1, "draft": 1}[label]
		if got := countRows(t, s, "SELECT count(*) FROM dossiers WHERE id = ?", id); got != want {
			t.Errorf("lugano's %s: %d, want %d", label, got, want)
		}
	}
	if got := countRows(t, s, "SELECT count(*) FROM dossier_messages WHERE dossier_id = ?", a.dossiers["closed1"]); got != 0 {
		t.Errorf("%d messages of a purged dossier left", got)
	}
	if got := countRows(t, s, "SELECT count(*) FROM payments WHERE tenant_id = ? AND dossier_id IS NULL AND amount_cents = 1650", lugano); got != 1 {
		t.Errorf("the payment of a purged dossier: %d rows", got)
	}
	for label, id := range other.dossiers {
		if got := countRows(t, s, "SELECT count(*) FROM dossiers WHERE id = ?", id); got != 1 {
			t.Errorf("the other town's %s was purged", label)
		}
	}
	// Without a retention nothing goes; a second purge finds nothing.
	if err := ps.SetRetention(ctx, trezzo, "helpdesk", 0); err != nil {
		t.Fatal(err)
	}
	if n, err := ps.PurgeTowns(ctx, catalog.New(s.db.App)); err != nil || n != 0 {
		t.Errorf("second purge: %d, %v", n, err)
	}
	// The periodic job takes every town: the other town's old closed
	// reports go once it sets a retention again.
	if err := ps.SetRetention(ctx, trezzo, "helpdesk", 30); err != nil {
		t.Fatal(err)
	}
	if n, err := ps.PurgeTowns(ctx, catalog.New(s.db.App)); err != nil || n != 3 {
		t.Errorf("purge of every town: %d, %v; want the other town's 3", n, err)
	}
}

func TestPrivacyBadInput(t *testing.T) {
	s := newSite(t)
	admin := s.staff("lugano", "admin@lugano.example", "demo-lugano")
	page := s.url + "/t/lugano/admin/privacy"
	for _, c := range []struct {
		action string
		values url.Values
		status int
	}{
		{"/retention", url.Values{"service": {"helpdesk"}, "days": {"abc"}}, 422},
		{"/retention", url.Values{"service": {"helpdesk"}, "days": {"-3"}}, 422},
		{"/retention", url.Values{"service": {"helpdesk"}, "days": {"99999999999999999999"}}, 422},
		{"/retention", url.Values{"service": {"Not A Service"}, "days": {"10"}}, 422},
		{"/retention", url.Values{"days": {"10"}}, 422},
		{"/requests/0", url.Values{}, 404},
		{"/requests/abc", url.Values{}, 404},
		{"/requests/99999999999999999999", url.Values{}, 404},
		{"/requests/123456", url.Values{}, 404},
	} {
		r := admin.form(page, page+c.action, c.values)
		if r.status != c.status {
			t.Errorf("POST %s %v: %d, want %d", c.action, c.values, r.status, c.status)
		}
	}
	r := admin.form(page, page+"/retention", url.Values{"service": {"helpdesk"}, "days": {"abc"}})
	expect(t, r, 422, `id="retention-error"`, `value="abc"`, `aria-invalid="true"`)
	// Without the CSRF token nothing is posted.
	expect(t, admin.do("POST", page+"/retention", url.Values{"service": {"helpdesk"}, "days": {"10"}}), 403)
	b := s.citizen("lugano", "mario.rossi")
	expect(t, b.do("POST", s.url+"/t/lugano/profile/erasure", url.Values{"confirm": {"yes"}}), 403)
	expect(t, s.browser().get(s.url+"/t/nowhere/profile/data.json"), 404)
	expectLogin(t, s.browser().get(s.url+"/t/lugano/admin/privacy"))
}

// TestPrivacyPagesInChromium opens the open data and the admin's privacy
// pages in Chromium, works them by their buttons, and has axe-core check
// each state against WCAG 2.1 AA.
func TestPrivacyPagesInChromium(t *testing.T) {
	axe, err := os.ReadFile(axeSource)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run web/vendor.sh, as make test does", err)
	}
	s := newSite(t)
	b := s.citizen("lugano", "mario.rossi")
	old := accountOf(t, s, "lugano", mario.FiscalCode)
	seedData(t, s, "lugano", old, mario)
	profile := s.url + "/t/lugano/profile"
	expect(t, b.form(profile, profile+"/erasure", url.Values{"confirm": {"yes"}}), 200)
	admin := s.staff("lugano", "admin@lugano.example", "demo-lugano")

	ctx := brStart(t, brChromium(t))
	var seen brLog
	if err := chromedp.Listen(ctx, seen.record); err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("SPORTELLO_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	check := func(what, file string) {
		t.Helper()
		brPoll(t, ctx, `document.readyState === "complete"`)
		sctx, cancel := context.WithTimeout(ctx, brStep)
		defer cancel()
		found, err := chromedp.Run(sctx, chromedp.Evaluate[[]axeViolation](string(axe)+";\n"+axeRun, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("axe on %s: %v", what, err)
		}
		for _, v := range found {
			t.Errorf("%s: %s (%s) %s: %s", what, v.ID, v.Impact, v.Help, strings.Join(v.Targets[:min(3, len(v.Targets))], ", "))
		}
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	brDo(t, ctx, chromedp.Navigate(s.url+"/t/lugano/opendata?lang=de"), chromedp.WaitVisible(chromedp.CSS("#datasets")))
	if got := brText(t, ctx, "#page-title"); got != "Offene Daten" {
		t.Errorf("title %q", got)
	}
	check("the open data", "opendata.png")

	brSession(t, ctx, admin, s.url+"/t/lugano")
	brDo(t, ctx, chromedp.Navigate(s.url+"/t/lugano/admin/privacy?lang=it"), chromedp.WaitVisible(chromedp.CSS("#erasure-requests")))
	check("the pending erasure request", "admin-privacy-pending.png")
	// submit runs js, which sends a form, and waits for the page it gets.
	submit := func(js string, status int) {
		t.Helper()
		run := chromedp.Evaluate[bool](js)
		sctx, cancel := context.WithTimeout(ctx, brStep)
		defer cancel()
		res, err := chromedp.RunResponse(sctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := run(ctx, tg)
			return err
		}))
		if err != nil || res.Status != int64(status) {
			t.Fatalf("%s: %v %v", js, res, err)
		}
	}
	submit(`(() => { document.querySelector('#erasure-requests button[type=submit]').click(); return true; })()`, 200)
	brPoll(t, ctx, `location.search === '?done=erased' && document.querySelector('#erasure-requests') === null`)
	check("the erasure carried out", "admin-privacy-done.png")
	if n := countRows(t, s, "SELECT count(*) FROM citizens WHERE id = ? AND fiscal_code = ''", old); n != 1 {
		t.Error("the account was not anonymised")
	}

	if errs := seen.errors(); len(errs) > 0 {
		t.Errorf("the browser logged errors: %v", errs)
	}

	// A retention typed wrong (answered 422, which the browser logs)
	// comes back marked beside its field, the browser's own checks off
	// as in a browser without them.
	submit(`(() => {
		const f = document.querySelector('form[data-service="helpdesk"]');
		f.noValidate = true; f.querySelector('input[name="days"]').value = '-5'; f.requestSubmit(); return true; })()`, 422)
	brPoll(t, ctx, `document.querySelector('#retention-error') !== null &&
		document.querySelector('form[data-service="helpdesk"] input[aria-invalid="true"]').value === '-5'`)
	check("a refused retention", "admin-privacy-invalid.png")
}
