package server_test

import (
	"strings"
	"testing"
)

// TestPersonalHome: a signed-in citizen's home starts with what is open
// between them and the town, then services that fit them; a request
// concluded leaves the list; nobody else gets the section, and the
// shared anonymous page never carries it.
func TestPersonalHome(t *testing.T) {
	s := newSite(t)
	withPlugins(t, s, testPlugin{ID: "helpdesk", Pkg: "../../plugins/helpdesk"}, testPlugin{ID: "cemetery", Pkg: "../../plugins/cemetery"})
	town := s.url + "/t/trezzo-sull-adda"
	mario := s.citizen("trezzo-sull-adda", "mario.rossi")

	before := mario.get(town + "/")
	expect(t, before, 200, `id="per-te"`, "Non hai richieste, appuntamenti o pagamenti in corso.", "Servizi che potrebbero interessarti")
	svc := town + "/services/helpdesk"
	report := hdReport()
	report.Set("location.lat", "45.6063") // Trezzo sull'Adda
	report.Set("location.lon", "9.5204")
	number := hdConfirmation(t, mario.multipart(svc, svc+"/report", report))
	after := mario.get(town + "/")
	expect(t, after, 200, "Per te", "Buca profonda in via Nassa", number, `href="/t/trezzo-sull-adda/requests/`)
	// History first: the helpdesk is the first service suggested.
	sugg := after.body[strings.Index(after.body, "sp-suggested"):]
	if h, c := strings.Index(sugg, "/services/helpdesk"), strings.Index(sugg, "/services/cemetery"); h < 0 || c < 0 || h > c {
		t.Errorf("the service they used is not suggested first (helpdesk at %d, cemetery at %d)", h, c)
	}

	// The operator concludes it: it leaves the open list.
	if _, err := s.db.Owner.ExecContext(t.Context(), `UPDATE dossiers SET status = 'closed'
		WHERE number = ? AND tenant_id = (SELECT id FROM tenants WHERE slug = 'trezzo-sull-adda')`, number); err != nil {
		t.Fatal(err)
	}
	expect(t, mario.get(town+"/"), 200, "Non hai richieste, appuntamenti o pagamenti in corso.")

	for name, r := range map[string]response{
		"a visitor":   s.browser().get(town + "/"),
		"an operator": s.staff("trezzo-sull-adda", "anagrafe@trezzo.example", "demo-trezzo").get(town + "/"),
	} {
		expect(t, r, 200)
		if strings.Contains(r.body, `id="per-te"`) || strings.Contains(r.body, "Buca profonda") {
			t.Errorf("%s sees the citizen's section", name)
		}
	}
}
