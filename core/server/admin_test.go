package server_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestAdminSettings: a tenant admin reaches the administration from the
// menu, and chooses the portal's languages; visitors then get the new
// choice; bad choices come back with their errors and change nothing.
func TestAdminSettings(t *testing.T) {
	s := newSite(t)
	town := s.url + "/t/trezzo-sull-adda"
	admin := s.staff("trezzo-sull-adda", "admin@trezzo.example", "demo-trezzo")
	operator := s.staff("trezzo-sull-adda", "anagrafe@trezzo.example", "demo-trezzo")

	expect(t, admin.get(town+"/backoffice"), 200, `href="/t/trezzo-sull-adda/admin"><span>Amministrazione</span>`)
	if r := operator.get(town + "/backoffice"); strings.Contains(r.body, `href="/t/trezzo-sull-adda/admin"`) {
		t.Error("an operator's menu leads to the administration")
	}
	expect(t, admin.get(town+"/admin"), 200, `href="/t/trezzo-sull-adda/admin/services"`, `href="/t/trezzo-sull-adda/admin/settings"`,
		`href="/t/trezzo-sull-adda/admin/policies"`)
	expect(t, operator.get(town+"/admin"), 403)
	expect(t, operator.get(town+"/admin/settings"), 403)
	expect(t, operator.form(town+"/backoffice", town+"/admin/settings", url.Values{"languages": {"it", "en"}, "default": {"it"}}), 403)

	page := town + "/admin/settings"
	expect(t, admin.get(page), 200, `name="languages" value="it" checked`, `<option value="it" selected>`)
	// Trezzo speaks Italian only: no language switch, and English is refused.
	if r := s.browser().get(town + "/?lang=en"); !strings.Contains(r.body, `<html lang="it">`) {
		t.Fatal("an Italian-only town answered in another language")
	}

	bad := []struct {
		name string
		form url.Values
		want string
	}{
		{"no language", url.Values{"default": {"it"}}, "Spunta almeno una lingua."},
		{"main not among those ticked", url.Values{"languages": {"it", "de"}, "default": {"en"}}, "La lingua principale deve essere tra quelle spuntate."},
		{"a language the portal has not", url.Values{"languages": {"it", "fr"}, "default": {"it"}}, "Scegli tra italiano, tedesco e inglese."},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, admin.form(page, page, tt.form), 422, tt.want, `aria-`)
			if got := mustTenant(t, s, "trezzo-sull-adda").Languages; !slices.Equal(got, []string{"it"}) {
				t.Fatalf("a refused change changed the languages to %v", got)
			}
		})
	}

	r := admin.form(page, page, url.Values{"languages": {"en", "it"}, "default": {"it"}})
	expect(t, r, 303)
	expect(t, admin.get(town+r.header.Get("Location")[len("/t/trezzo-sull-adda"):]), 200, "Impostazioni salvate.", `name="languages" value="en" checked`)
	if got := mustTenant(t, s, "trezzo-sull-adda").Languages; !slices.Equal(got, []string{"it", "en"}) {
		t.Fatalf("languages %v, want [it en]", got)
	}
	expect(t, s.browser().get(town+"/?lang=en"), 200, `<html lang="en">`, `hreflang="en"`)

	// English first: a visitor who asks nothing gets English.
	expect(t, admin.form(page, page, url.Values{"languages": {"it", "en"}, "default": {"en"}}), 303)
	expect(t, s.browser().get(town+"/"), 200, `<html lang="en">`)
}
