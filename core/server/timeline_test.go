package server_test

import (
	"net/url"
	"regexp"
	"strconv"
	"testing"
)

// TestCitizenTimeline: an operator finds a citizen by fiscal code and
// reads what they did with the town — the report they filed and its
// reply — reached too from the request's own page; each view is
// audited; nobody else reads it, and another town's citizen is not found.
func TestCitizenTimeline(t *testing.T) {
	s := newSite(t)
	withPlugins(t, s, testPlugin{ID: "helpdesk", Pkg: "../../plugins/helpdesk"})
	town := s.url + "/t/lugano"
	mario := s.citizen("lugano", "mario.rossi")
	svc := town + "/services/helpdesk"
	number := hdConfirmation(t, mario.multipart(svc, svc+"/report", hdReport()))
	marioID := accountOf(t, s, "lugano", "RSSMRA80A01H501U")
	// Mario in another town: the same person, another account.
	s.citizen("trezzo-sull-adda", "mario.rossi")
	elsewhere := accountOf(t, s, "trezzo-sull-adda", "RSSMRA80A01H501U")

	operator := s.staff("lugano", "sportello@lugano.example", "demo-lugano")
	expect(t, operator.get(town+"/backoffice"), 200, `href="/t/lugano/backoffice/citizens"`)
	found := operator.get(town + "/backoffice/citizens?q=rssmra80a01h501u")
	link := `/t/lugano/backoffice/citizens/` + strconv.FormatInt(marioID, 10)
	expect(t, found, 200, `href="`+link+`"`, "RSSMRA80A01H501U")
	expect(t, operator.get(town+"/backoffice/citizens?q=nessuno+si+chiama+cos%C3%AC"), 200, "Nessun cittadino trovato.")

	expect(t, operator.get(s.url+link), 200, "Consensi agli avvisi", "Non espresso")
	// Mario lets the town text him: the operator sees it, with the number.
	profile := town + "/profile"
	expect(t, mario.form(profile, profile, url.Values{"sms": {"1"}, "phone": {"+41 79 123 45 67"}}), 303)
	page := operator.get(s.url + link)
	expect(t, page, 200, "RSSMRA80A01H501U", "Richiesta presentata", number, "Buca profonda in via Nassa", "Online",
		"Dato il", `href="tel:&#43;41791234567"`)
	// The request's page leads here, and the timeline back to it.
	req := regexp.MustCompile(`href="(/t/lugano/backoffice/requests/\d+)">` + regexp.QuoteMeta(number)).FindStringSubmatch(page.body)
	if req == nil {
		t.Fatalf("the timeline does not link the request %s", number)
	}
	expect(t, operator.get(s.url+req[1]), 200, `href="`+link+`"`, "Storia del cittadino")

	var audited int
	if err := s.db.Owner.NewRaw(`SELECT count(*) FROM audit_log WHERE action = 'read' AND object = ?`, "citizen:"+strconv.FormatInt(marioID, 10)).
		Scan(t.Context(), &audited); err != nil || audited != 2 {
		t.Errorf("%d audited views (%v), want 2", audited, err)
	}

	tests := []struct {
		name   string
		who    *browser
		path   string
		status int
	}{
		{"another town's citizen", operator, "/t/lugano/backoffice/citizens/" + strconv.FormatInt(elsewhere, 10), 404},
		{"no such citizen", operator, "/t/lugano/backoffice/citizens/999999", 404},
		{"not an id", operator, "/t/lugano/backoffice/citizens/mario", 404},
		{"a citizen", mario, link, 403},
		{"a citizen searching", mario, "/t/lugano/backoffice/citizens?q=rossi", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, tt.who.get(s.url+tt.path), tt.status)
		})
	}
	// Nobody signed in here is sent to log in: a visitor, or staff of
	// another town (their session is that town's).
	for _, who := range []*browser{s.browser(), s.staff("trezzo-sull-adda", "anagrafe@trezzo.example", "demo-trezzo")} {
		if r := who.get(s.url + link); r.status != 303 || !regexp.MustCompile(`^/t/lugano/login`).MatchString(r.header.Get("Location")) {
			t.Errorf("not signed in to lugano: %d to %q", r.status, r.header.Get("Location"))
		}
	}
}
