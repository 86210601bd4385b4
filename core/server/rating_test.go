package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/uptrace/bun"
)

// pageRating is a row of page_ratings, read as the owner (past RLS).
type pageRating struct {
	TenantID int64  `bun:"tenant_id"`
	Path     string `bun:"path"`
	Stars    int    `bun:"stars"`
	Answer   string `bun:"answer"`
	Comment  string `bun:"comment"`
	Lang     string `bun:"lang"`
}

func allRatings(t *testing.T, s *site) []pageRating {
	t.Helper()
	var rows []pageRating
	if err := s.db.Owner.NewRaw("SELECT tenant_id, path, stars, answer, comment, lang FROM page_ratings ORDER BY id").
		Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// An anonymous visitor rates a page without JavaScript: the rating is kept
// for that town alone, and the page comes back with thanks in place of the
// form.
func TestRatingIsStoredForItsTownOnly(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	b := s.browser()
	lugano, venezia := mustTenant(t, s, "lugano"), mustTenant(t, s, "venezia")

	r := b.form(s.url+"/t/lugano/appointments", s.url+"/t/lugano/rating", url.Values{"path": {"/appointments"}, "stars": {"2"},
		"answer": {"lost"}, "comment": {"Non ho capito\r\nquale ufficio scegliere. È lunga?"}})
	expect(t, r, 303)
	if loc := r.header.Get("Location"); loc != "/t/lugano/appointments?rated=1#rating" {
		t.Fatalf("back to %q", loc)
	}
	back := b.get(s.url + "/t/lugano/appointments?rated=1")
	expect(t, back, 200, "La tua valutazione è stata inviata.", "Grazie, il tuo parere ci aiuterà a migliorare il servizio!")
	if strings.Contains(back.body, `action="/t/lugano/rating"`) {
		t.Error("the form is still shown after rating")
	}

	// The script's way: the same form, answered in JSON, here in English.
	en := s.browser()
	r = en.form(s.url+"/t/venezia/?lang=en", s.url+"/t/venezia/rating", url.Values{"path": {"/"}, "stars": {"5"}, "answer": {"other_good"}})
	expect(t, r, 303)
	page := en.get(s.url + "/t/venezia/")
	tok := csrfField.FindStringSubmatch(page.body)
	r = en.do(http.MethodPost, s.url+"/t/venezia/rating", url.Values{"_csrf": {tok[1]}, "path": {"/"}, "stars": {"4"}, "answer": {"clear"}},
		"Accept", "application/json")
	expect(t, r, 200)
	var body struct{ Message string }
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Message != "Thank you, your feedback helps us improve the service!" {
		t.Fatalf("JSON answer %q (%v)", r.body, err)
	}

	rows := allRatings(t, s)
	want := []pageRating{
		{TenantID: lugano.ID, Path: "/appointments", Stars: 2, Answer: "lost", Comment: "Non ho capito\nquale ufficio scegliere. È lunga?", Lang: "it"},
		{TenantID: venezia.ID, Path: "/", Stars: 5, Answer: "other_good", Lang: "en"},
		{TenantID: venezia.ID, Path: "/", Stars: 4, Answer: "clear", Lang: "en"},
	}
	if len(rows) != len(want) {
		t.Fatalf("stored %+v, want %+v", rows, want)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("rating %d: %+v, want %+v", i, rows[i], want[i])
		}
	}

	// Through the application's own role each town sees its ratings only.
	for tn, n := range map[int64]int{lugano.ID: 1, venezia.ID: 2, mustTenant(t, s, "trezzo-sull-adda").ID: 0} {
		var count int
		if err := s.srv.DB.InTenant(ctx, tn, func(ctx context.Context, tx bun.Tx) error {
			return tx.NewRaw("SELECT count(*) FROM page_ratings").Scan(ctx, &count)
		}); err != nil {
			t.Fatal(err)
		}
		if count != n {
			t.Errorf("tenant %d sees %d ratings, want %d", tn, count, n)
		}
	}

	t.Run("CSRF applies", func(t *testing.T) {
		expect(t, s.browser().do(http.MethodPost, s.url+"/t/lugano/rating", url.Values{"path": {"/"}, "stars": {"5"}, "answer": {"clear"}}), 403)
	})
}

// Whatever is posted, a bad rating is a 422 naming what is wrong in the
// page's language, with the form kept, and nothing is stored.
func TestRatingRefusesBadInput(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	page, action := s.url+"/t/lugano/", s.url+"/t/lugano/rating"
	ok := url.Values{"path": {"/appointments"}, "stars": {"4"}, "answer": {"complete"}, "comment": {"Bene."}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range ok {
			f[kk] = vv
		}
		if v == "\x00drop" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	cases := []struct {
		name string
		form url.Values
		want string
	}{
		{"no stars", with("stars", "\x00drop"), "Scegli da 1 a 5 stelle."},
		{"zero stars", with("stars", "0"), "Scegli da 1 a 5 stelle."},
		{"six stars", with("stars", "6"), "Scegli da 1 a 5 stelle."},
		{"stars not a number", with("stars", "4.5"), "Scegli da 1 a 5 stelle."},
		{"unknown answer", with("answer", "bellissimo"), "Scegli una risposta"},
		{"no answer", with("answer", ""), "Scegli una risposta"},
		{"an answer for other stars", with("answer", "lost"), "Scegli una risposta"},
		{"201 characters", with("comment", strings.Repeat("è", 201)), "al massimo 200 caratteri"},
		{"a NUL in the details", with("comment", "ciao\x00"), "al massimo 200 caratteri"},
		{"absolute URL", with("path", "https://evil.example/"), "La pagina da valutare non è valida."},
		{"scheme-relative URL", with("path", "//evil.example/x"), "La pagina da valutare non è valida."},
		{"another town", with("path", "/t/venezia/"), "La pagina da valutare non è valida."},
		{"up and out", with("path", "/../../platform"), "La pagina da valutare non è valida."},
		{"the platform", with("path", "/platform"), "La pagina da valutare non è valida."},
		{"relative without slash", with("path", "appointments"), "La pagina da valutare non è valida."},
		{"no path", with("path", ""), "La pagina da valutare non è valida."},
		{"path too long", with("path", "/"+strings.Repeat("a", 300)), "La pagina da valutare non è valida."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, b.form(page, action, tc.form), 422, tc.want, `id="rating-error"`, `<h1 id="page-title">Valuta la pagina`)
		})
	}
	t.Run("the form comes back as it was sent", func(t *testing.T) {
		expect(t, b.form(page, action, with("answer", "lost")), 422, `name="path" value="/appointments"`,
			`id="rating-star-4" name="stars" value="4" checked`, `value="lost" checked`, "Bene.</textarea>", `href="/t/lugano/appointments"`)
	})
	t.Run("in the page's language", func(t *testing.T) {
		de := s.browser()
		expect(t, de.form(page+"?lang=de", action, with("stars", "9")), 422, "Wählen Sie 1 bis 5 Sterne.", `lang="de"`)
	})
	t.Run("as JSON for the script", func(t *testing.T) {
		tok := csrfField.FindStringSubmatch(b.get(page).body)
		f := with("comment", strings.Repeat("x", 201))
		f.Set("_csrf", tok[1])
		r := b.do(http.MethodPost, action, f, "Accept", "application/json")
		expect(t, r, 422)
		var body struct{ Error, Code string }
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Code != "comment" || !strings.Contains(body.Error, "200") {
			t.Fatalf("JSON error %q (%v)", r.body, err)
		}
	})
	t.Run("200 characters are fine", func(t *testing.T) {
		expect(t, b.form(page, action, with("comment", strings.Repeat("è", 200))), 303)
	})
	if rows := allRatings(t, s); len(rows) != 1 || len([]rune(rows[0].Comment)) != 200 {
		t.Fatalf("stored %+v, want only the 200-character rating", rows)
	}
}

// The widget is on every page of a town, for visitors and staff alike, and
// on no page of the platform.
func TestRatingWidgetOnEveryTownPage(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	widget := []string{`data-element="feedback"`, "Quanto sono chiare le informazioni su questa pagina?", `action="/t/lugano/rating"`, "/static/js/rating.js"}
	expect(t, b.get(s.url+"/t/lugano/"), 200, append(widget, `name="path" value="/"`)...)
	// The visitors' shared copy of the home page gets each visitor's token.
	if r := s.browser().get(s.url + "/t/lugano/"); !csrfField.MatchString(r.body) || strings.Contains(r.body, "placeholder") {
		t.Errorf("the cached home page has no CSRF token of its own: %s", csrfField.FindString(r.body))
	}
	expect(t, b.get(s.url+"/t/lugano/appointments"), 200, append(widget, `name="path" value="/appointments"`)...)
	// A town served on its own host rates the same paths, under no prefix.
	expect(t, b.get(s.url+"/", "Host", "lugano.sportello.example"), 200, `action="/rating"`, `name="path" value="/"`)

	login := s.url + "/t/lugano/login"
	expect(t, b.form(login, login, url.Values{"email": {"sportello@lugano.example"}, "password": {"demo-lugano"}}), 303)
	expect(t, b.get(s.url+"/t/lugano/backoffice"), 200, append(widget, `name="path" value="/backoffice"`)...)

	for _, u := range []string{s.url + "/platform/login", s.url + "/", s.url + "/t/lugano/no/such/page"} {
		r := b.get(u)
		if strings.Contains(r.body, `data-element="feedback"`) || strings.Contains(r.body, "rating.js") {
			t.Errorf("%s (%d) shows the rating widget", u, r.status)
		}
	}
}
