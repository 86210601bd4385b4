package server_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// A citizen chooses on their profile page how the town may reach them:
// the form posts back without JavaScript, a bad or missing number brings
// it back (422) with what was typed and a message in the page's language,
// and what was saved (in international form, with the date of consent)
// shows on the next visit. Withdrawing SMS keeps the e-mail choice.
func TestCitizenChoosesNotificationChannels(t *testing.T) {
	s := newSite(t)
	prefs := func(slug, fc string) (email, sms bool, phone, lang string, smsAt time.Time) {
		t.Helper()
		err := s.db.Owner.NewRaw(`SELECT p.email, p.sms, p.phone, p.lang, p.sms_changed_at FROM notify_prefs p
			JOIN tenants t ON t.id = p.tenant_id JOIN citizens c ON c.tenant_id = p.tenant_id AND c.id = p.citizen_id
			WHERE t.slug = ? AND c.fiscal_code = ?`, slug, fc).Scan(context.Background(), &email, &sms, &phone, &lang, &smsAt)
		if err != nil {
			t.Fatalf("preferences of %s in %s: %v", fc, slug, err)
		}
		return
	}

	b := s.citizen("lugano", "mario.rossi")
	page := s.url + "/t/lugano/profile"
	r := b.get(page)
	expect(t, r, 200, `id="notify-form"`, `action="/t/lugano/profile"`, `name="phone"`, "mario.rossi@example.com")
	if strings.Contains(r.body, "notify-sms\" name=\"sms\" value=\"1\" checked") {
		t.Fatal("SMS ticked before the citizen chose anything")
	}

	bad := []struct {
		name, phone, msg string
	}{
		{"SMS without a number", "", "Per ricevere SMS serve il numero di cellulare."},
		{"a number without its country code", "333 123 4567", "Scrivi un numero di cellulare con il prefisso internazionale"},
		{"letters in the number", "+39 333 CIAO", "Scrivi un numero di cellulare con il prefisso internazionale"},
		{"too short", "+39 12", "Scrivi un numero di cellulare con il prefisso internazionale"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := b.form(page, page, url.Values{"email": {"1"}, "sms": {"1"}, "phone": {tc.phone}})
			expect(t, r, 422, tc.msg, `id="notify-error"`, `aria-invalid="true"`)
			body := html.UnescapeString(r.body)
			// Nothing typed is lost: both boxes stay ticked, the number stays.
			for _, want := range []string{`name="email" value="1" checked`, `name="sms" value="1" checked`, `value="` + tc.phone + `"`} {
				if !strings.Contains(body, want) {
					t.Errorf("the form came back without %q", want)
				}
			}
		})
	}
	var n int
	if err := s.db.Owner.NewRaw(`SELECT count(*) FROM notify_prefs`).Scan(context.Background(), &n); err != nil || n != 0 {
		t.Fatalf("a refused form stored %d rows (%v)", n, err)
	}

	t.Run("German", func(t *testing.T) {
		b.get(page + "?lang=de")
		r := b.form(page, page, url.Values{"sms": {"1"}, "phone": {"079 123 45 67"}})
		expect(t, r, 422, "Geben Sie eine Mobilnummer mit Landesvorwahl ein", "Die Einstellungen wurden nicht gespeichert")
		b.get(page + "?lang=it")
	})
	t.Run("English", func(t *testing.T) {
		v := s.citizen("venezia", "giulia.bianchi")
		vp := s.url + "/t/venezia/profile"
		v.get(vp + "?lang=en")
		r := v.form(vp, vp, url.Values{"sms": {"1"}})
		expect(t, r, 422, "To receive SMS we need your mobile number.", "The preferences were not saved")
	})

	r = b.form(page, page, url.Values{"email": {"1"}, "sms": {"1"}, "phone": {"+39 333 123 4567"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/t/lugano/profile?saved=notify" {
		t.Fatalf("save: %d %s %.300s", r.status, r.header.Get("Location"), r.body)
	}
	r = b.get(page + "?saved=notify")
	expect(t, r, 200, "Preferenze salvate.", "Consenso dato il")
	body := html.UnescapeString(r.body)
	for _, want := range []string{`name="email" value="1" checked`, `name="sms" value="1" checked`, `value="+393331234567"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the saved page lacks %q", want)
		}
	}
	email, sms, phone, lang, given := prefs("lugano", "RSSMRA80A01H501U")
	if !email || !sms || phone != "+393331234567" || lang != "it" {
		t.Fatalf("stored %v %v %q %q", email, sms, phone, lang)
	}

	// Withdraw SMS: unticked boxes are not posted at all.
	r = b.form(page, page, url.Values{"email": {"1"}, "phone": {"+393331234567"}})
	expect(t, r, http.StatusSeeOther)
	email, sms, _, _, withdrawn := prefs("lugano", "RSSMRA80A01H501U")
	if !email || sms || !withdrawn.After(given) {
		t.Fatalf("after withdrawal: e-mail %v, SMS %v, %v → %v", email, sms, given, withdrawn)
	}
	expect(t, b.get(page), 200, "Consenso revocato il")

	t.Run("without the CSRF token", func(t *testing.T) {
		r := b.do(http.MethodPost, page, url.Values{"sms": {"1"}, "phone": {"+41791234567"}})
		if r.status != http.StatusForbidden {
			t.Fatalf("status %d", r.status)
		}
		if _, sms, _, _, _ := prefs("lugano", "RSSMRA80A01H501U"); sms {
			t.Fatal("a forged post turned SMS on")
		}
	})
	t.Run("staff have no such form", func(t *testing.T) {
		st := s.staff("lugano", "sportello@lugano.example", "demo-lugano")
		r := st.get(page)
		if r.status != 200 || strings.Contains(r.body, `id="notify-form"`) {
			t.Fatalf("staff profile: %d, form shown: %v", r.status, strings.Contains(r.body, `id="notify-form"`))
		}
		expect(t, st.form(page, page, url.Values{"email": {"1"}}), http.StatusForbidden)
	})
	t.Run("anonymous", func(t *testing.T) {
		r := s.browser().do(http.MethodPost, page, url.Values{"email": {"1"}})
		if r.status == http.StatusSeeOther && strings.Contains(r.header.Get("Location"), "saved") {
			t.Fatal("an anonymous post was saved")
		}
	})
}

// The same form in Chromium with scripts off, as a person fills it in: a
// number without its country code comes back with the message beside the
// field and everything as typed; corrected, it is saved and shown in
// international form.
func TestNotificationFormInTheBrowserWithoutScripts(t *testing.T) {
	s := newSite(t)
	ctx := brStart(t, brChromium(t), chromedp.Flag("lang", "it-IT"))
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	brSession(t, ctx, s.citizen("lugano", "mario.rossi"), s.url+"/t/lugano/")
	dir := os.Getenv("SPORTELLO_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	submit := func(status int, path string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, brStep)
		defer cancel()
		res, err := chromedp.RunResponse(sctx, chromedp.Click(chromedp.CSS(`#notify-form button[type="submit"]`)))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != int64(status) || mustURL(res.URL).Path != path {
			t.Fatalf("the form led to %s (%d), want %s (%d)", res.URL, res.Status, path, status)
		}
	}
	checked := func(sel string) bool {
		t.Helper()
		attrs, err := chromedp.Run(ctx, chromedp.Attributes(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		_, on := attrs["checked"]
		return on
	}

	jrOpen(t, ctx, s.url+"/t/lugano/profile")
	// Bootstrap Italia draws the box over the label: a person clicks that.
	brDo(t, ctx, chromedp.Click(chromedp.CSS(`label[for="notify-email"]`)), chromedp.Click(chromedp.CSS(`label[for="notify-sms"]`)))
	brDo(t, ctx, chromedp.SendKeys(chromedp.CSS("#notify-phone"), "333 1234567"))
	submit(http.StatusUnprocessableEntity, "/t/lugano/profile")
	if msg := brText(t, ctx, "#notify-phone-error"); !strings.Contains(msg, "prefisso internazionale") {
		t.Errorf("beside the field: %q", msg)
	}
	if v := brValue(t, ctx, "#notify-phone"); v != "333 1234567" || !checked("#notify-email") || !checked("#notify-sms") {
		t.Errorf("the form came back with %q, e-mail %v, SMS %v", v, checked("#notify-email"), checked("#notify-sms"))
	}
	shot("profile-notify-error.png")

	brDo(t, ctx, chromedp.SetValue(chromedp.CSS("#notify-phone"), "+39 333 1234567"))
	submit(http.StatusOK, "/t/lugano/profile")
	if flash := brText(t, ctx, "body"); !strings.Contains(flash, "Preferenze salvate.") || !strings.Contains(flash, "Consenso dato il") {
		t.Errorf("after saving the page lacks the notice or the date of consent")
	}
	if v := brValue(t, ctx, "#notify-phone"); v != "+393331234567" || !checked("#notify-email") || !checked("#notify-sms") {
		t.Errorf("saved: %q, e-mail %v, SMS %v", v, checked("#notify-email"), checked("#notify-sms"))
	}
	shot("profile-notify-saved.png")
}
