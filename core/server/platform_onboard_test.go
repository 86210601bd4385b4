package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
)

func TestPlatformOnboardsATown(t *testing.T) {
	s := newSite(t)
	addPlatformUser(t, s, "ops@sportello.example", "platform-password")
	b := s.browser()
	b.header.Set("Accept-Language", "it")
	console := s.url + "/platform"
	onboard := console + "/tenants"
	login := console + "/login"
	// Without a platform session the form is refused, even with a valid CSRF token.
	r := s.browser().form(login, onboard, url.Values{"slug": {"cervia"}, "name": {"Comune di Cervia"}, "languages": {"it"}})
	if _, ok := s.srv.Tenants.BySlug("cervia"); ok || r.status < 300 {
		t.Fatalf("a town onboarded without login: %d", r.status)
	}
	expect(t, b.form(login, login, url.Values{"email": {"ops@sportello.example"}, "password": {"platform-password"}}), 303)
	expect(t, b.get(console), 200, `action="/platform/tenants"`, "Attiva un Comune")

	r = b.form(console, onboard, url.Values{"slug": {" Cervia "}, "name": {"Comune di  Cervia"}, "languages": {"it", "en"}})
	if r.status != 303 || r.header.Get("Location") != "/platform?done=onboarded" {
		t.Fatalf("onboard: %d %s %.600s", r.status, r.header.Get("Location"), r.body)
	}
	town, ok := s.srv.Tenants.BySlug("cervia")
	if !ok || town.Name != "Comune di Cervia" || len(town.Languages) != 2 || town.Languages[1] != "en" {
		t.Fatalf("onboarded town: %+v %v", town, ok)
	}
	expect(t, b.get(console+"?done=onboarded"), 200, "Il Comune è stato attivato.", "cervia")
	expect(t, s.browser().get(s.url+"/t/cervia/"), 200, "Comune di Cervia")

	// The same slug again, whoever holds it, is a conflict, and nothing changes.
	expect(t, b.form(console, onboard, url.Values{"slug": {"cervia"}, "name": {"Altro"}, "languages": {"it"}}), 409,
		"Questo identificativo è già di un altro Comune.")
	expect(t, b.form(console, onboard, url.Values{"slug": {"lugano"}, "name": {"Altro"}, "languages": {"it"}}), 409)
	if town, _ := s.srv.Tenants.BySlug("lugano"); town.Name == "Altro" {
		t.Fatal("the form renamed an existing town")
	}
	// Every bad field is named in the visitor's language.
	for _, c := range []struct {
		values url.Values
		want   string
	}{
		{url.Values{"slug": {"bad slug!"}, "name": {"X"}, "languages": {"it"}}, "identificativo deve avere"},
		{url.Values{"slug": {"-bad"}, "name": {"X"}, "languages": {"it"}}, "identificativo deve avere"},
		{url.Values{"slug": {"nameless"}, "name": {"  "}, "languages": {"it"}}, "Scrivi il nome del Comune"},
		{url.Values{"slug": {"nolang"}, "name": {"X"}}, "Scegli almeno una lingua"},
		{url.Values{"slug": {"french"}, "name": {"X"}, "languages": {"fr"}}, "Scegli almeno una lingua"},
		{url.Values{"slug": {"twice"}, "name": {"X"}, "languages": {"it", "it"}}, "Scegli almeno una lingua"},
	} {
		expect(t, b.form(console, onboard, c.values), 422, c.want)
		if _, ok := s.srv.Tenants.BySlug(c.values.Get("slug")); ok {
			t.Fatalf("%v: stored", c.values)
		}
	}
	en := s.browser()
	en.header.Set("Accept-Language", "en")
	expect(t, en.form(login, login, url.Values{"email": {"ops@sportello.example"}, "password": {"platform-password"}}), 303)
	expect(t, en.form(console, onboard, url.Values{"slug": {"x"}, "name": {"X"}}), 422, "Choose at least one language")
}

// TestPlatformListPages: with a platform of many towns, the console lists
// them fifty at a time and finds them by name or slug.
func TestPlatformListPages(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	if _, err := s.db.Owner.ExecContext(ctx, `INSERT INTO tenants (slug, name, languages)
		SELECT 'paese-' || n, 'Comune di Paese ' || n, '{it}' FROM generate_series(1, 120) n`); err != nil {
		t.Fatal(err)
	}
	if err := s.srv.Tenants.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	addPlatformUser(t, s, "ops@sportello.example", "platform-password")
	b := s.browser()
	b.header.Set("Accept-Language", "it")
	login := s.url + "/platform/login"
	expect(t, b.form(login, login, url.Values{"email": {"ops@sportello.example"}, "password": {"platform-password"}}), 303)

	r := b.get(s.url + "/platform")
	expect(t, r, 200, "123 Comuni attivi", "Pagina 1 di 3", `href="/platform?page=2"`)
	if n := strings.Count(r.body, `<th scope="row">`); n != 50 {
		t.Fatalf("first page lists %d towns", n)
	}
	r = b.get(s.url + "/platform?page=3")
	expect(t, r, 200, "Pagina 3 di 3", `href="/platform?page=2"`)
	if n := strings.Count(r.body, `<th scope="row">`); n != 23 {
		t.Fatalf("last page lists %d towns", n)
	}
	// Past the end is the last page; nonsense is the first.
	expect(t, b.get(s.url+"/platform?page=99"), 200, "Pagina 3 di 3")
	expect(t, b.get(s.url+"/platform?page=abc"), 200, "Pagina 1 di 3")
	r = b.get(s.url + "/platform?q=" + url.QueryEscape("paese 11"))
	expect(t, r, 200, "11 Comuni per «paese 11».", "Comune di Paese 110")
	expect(t, b.get(s.url+"/platform?q=lugano"), 200, "1 Comune per «lugano».", "/t/lugano/")
}
