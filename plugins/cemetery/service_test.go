package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

var (
	ctx = context.Background()
	// The office works on 15 June 2026; requests come in on 10 June.
	applied  = time.Date(2026, 6, 10, 9, 0, 0, 0, sdk.Zone)
	workDay  = time.Date(2026, 6, 15, 11, 30, 0, 0, sdk.Zone)
	citizen7 = sdktest.Citizen(7)
	office   = sdktest.Staff(3, "operator")
)

func TestManifest(t *testing.T) {
	m := sdktest.CheckManifest(t, manifest)
	if m.GetId() != "cemetery" || m.GetCategory() != "anagrafe-e-stato-civile" {
		t.Errorf("manifest %s/%s", m.GetId(), m.GetCategory())
	}
	sdktest.CheckMessages(t, msg)
	var statuses []string
	for _, s := range m.GetStatuses() {
		statuses = append(statuses, s.GetId())
		if msg.Get("en", "status."+s.GetId()) == "status."+s.GetId() {
			t.Errorf("status %s has no message", s.GetId())
		}
	}
	if want := []string{statusSubmitted, statusApproved, statusRejected, statusAwaiting, statusPaid, statusIssued}; !slices.Equal(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	for _, a := range m.GetActions() {
		audience, scope := "staff", sdk.ScopeDossier
		switch a.GetId() {
		case "request":
			audience, scope = "citizen", ""
		case sdk.ActionPayment:
			audience = sdk.AudienceSystem
		}
		if a.GetAudience() != audience || a.GetScope() != scope {
			t.Errorf("action %s: audience %s, scope %q", a.GetId(), a.GetAudience(), a.GetScope())
		}
	}
}

// The fee comes from the town's tariff table: per type of place, per
// duration, in the town's currency, decimals allowed.
func TestFee(t *testing.T) {
	cfg := config{Tariffs: map[string]string{"niche": "30=1500; 99=4200,50", "tomb": "99=18000", "ground": "10=0", "ossuary": " "}}
	tests := []struct {
		place string
		years int
		cents int64
		err   error
	}{
		{"niche", 30, 150000, nil},
		{"niche", 99, 420050, nil},
		{"tomb", 99, 1800000, nil},
		{"ground", 10, 0, nil},
		{"niche", 50, 0, errNoDuration},
		{"tomb", 30, 0, errNoDuration},
		{"ossuary", 30, 0, errNotOffered},
		{"columbarium", 30, 0, errNotOffered},
	}
	for _, tc := range tests {
		cents, err := fee(cfg, tc.place, tc.years)
		if cents != tc.cents || !errors.Is(err, tc.err) {
			t.Errorf("%s for %d years: %d, %v; want %d, %v", tc.place, tc.years, cents, err, tc.cents, tc.err)
		}
	}
	if _, err := fee(config{Tariffs: map[string]string{"niche": "30"}}, "niche", 30); err == nil || errors.Is(err, errNoDuration) {
		t.Errorf("a malformed tariff: %v", err)
	}
}

func TestParseTariff(t *testing.T) {
	got, err := parseTariff(" 30=1500; 99 = 4200,5 ;10=0.99")
	if err != nil || got[30] != 150000 || got[99] != 420050 || got[10] != 99 || len(got) != 3 {
		t.Fatalf("%v, %v", got, err)
	}
	for _, bad := range []string{"30", "x=1", "30=abc", "0=10"} {
		if _, err := parseTariff(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if got, err := parseTariff(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v, %v", got, err)
	}
}

func newHost(t *testing.T) (*sdktest.Host, *service) {
	h := sdktest.New(t, manifest)
	h.Now = func() time.Time { return applied }
	return h, &service{now: func() time.Time { return applied }}
}

// apply is a citizen's request, changed from the form's example.
func apply(t *testing.T, h *sdktest.Host, svc *service, lang string, change map[string]any, cfg func(map[string]any), files ...sdktest.Upload) *sdk.Response {
	t.Helper()
	values, config := h.Example("concession"), h.ConfigExample()
	for k, v := range change {
		if v == nil {
			delete(values, k)
		} else {
			values[k] = v
		}
	}
	if cfg != nil {
		cfg(config)
	}
	res, err := h.Handle(ctx, svc, sdktest.Call{Actor: citizen7, Lang: lang, Action: "request", Values: values, Config: config, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRequest(t *testing.T) {
	tariff := func(place, v string) func(map[string]any) {
		return func(c map[string]any) { c["tariffs"].(map[string]any)[place] = v }
	}
	tests := []struct {
		name    string
		lang    string
		change  map[string]any
		config  func(map[string]any)
		outcome string
		fields  []string // the fields in error, in order
		text    string   // in the message, or in the first field error
		cents   int64
		people  int
	}{
		{name: "niche for 30 years", outcome: sdk.OutcomeOK, cents: 150000, people: 1, text: "€ 1.500,00"},
		{name: "in English", lang: "en", outcome: sdk.OutcomeOK, cents: 150000, people: 1, text: "€1,500.00"},
		{name: "Swiss francs with decimals", lang: "de", config: func(c map[string]any) {
			c["currency"] = "CHF"
			tariff("niche", "30=1250,50")(c)
		}, outcome: sdk.OutcomeOK, cents: 125050, people: 1, text: "CHF 1'250.50"},
		{name: "name without 'Cimitero', other case", change: map[string]any{"cemetery": "san michele"}, outcome: sdk.OutcomeOK, cents: 150000, people: 1},
		{name: "no cemetery named, one in town", change: map[string]any{"cemetery": nil},
			config: func(c map[string]any) { c["cemeteries"] = "Cimitero comunale" }, outcome: sdk.OutcomeOK, cents: 150000, people: 1},
		{name: "a living person's place", change: map[string]any{"beneficiary": map[string]any{"name": "Anna Neri", "birth_date": "1950-01-31"}},
			outcome: sdk.OutcomeOK, cents: 150000, people: 1},
		{name: "free ground plot", change: map[string]any{"place": "ground", "years": 10}, config: tariff("ground", "10=0"),
			outcome: sdk.OutcomeOK, people: 1, text: "€ 0,00"},
		{name: "family tomb for four", change: map[string]any{"place": "tomb", "years": 99, "others": "Luca Neri\n\nMarta Neri, 1980\nPaolo Neri"},
			outcome: sdk.OutcomeOK, cents: 1800000, people: 4},

		{name: "unknown cemetery", change: map[string]any{"cemetery": "Cimitero degli Inglesi"}, outcome: sdk.OutcomeInvalid,
			fields: []string{"/cemetery"}, text: "Cimitero maggiore; Cimitero di San Michele"},
		{name: "no cemetery named, two in town", change: map[string]any{"cemetery": nil}, outcome: sdk.OutcomeInvalid, fields: []string{"/cemetery"}},
		{name: "duration not in the tariff", change: map[string]any{"years": 50}, outcome: sdk.OutcomeInvalid, fields: []string{"/years"}, text: "30 o 99 anni"},
		{name: "no tariff for the type", change: map[string]any{"place": "ossuary"},
			config: func(c map[string]any) { delete(c["tariffs"].(map[string]any), "ossuary") }, outcome: sdk.OutcomeInvalid, fields: []string{"/place"}},
		{name: "others in a niche", change: map[string]any{"others": "Luca Neri"}, outcome: sdk.OutcomeInvalid,
			fields: []string{"/others"}, text: "una sola persona"},
		{name: "tomb over its places", change: map[string]any{"place": "tomb", "years": 99, "others": "B\nC"},
			config: func(c map[string]any) { c["tomb_places"] = 2 }, outcome: sdk.OutcomeInvalid, fields: []string{"/others"}, text: "al massimo 2 persone: ne hai indicate 3"},
		{name: "born tomorrow", change: map[string]any{"beneficiary": map[string]any{"name": "Anna Neri", "birth_date": "2026-06-11"}},
			outcome: sdk.OutcomeInvalid, fields: []string{"/beneficiary/birth_date"}},
		{name: "died tomorrow", change: map[string]any{"beneficiary": map[string]any{"name": "Anna Neri", "birth_date": "1950-01-31", "death_date": "2026-06-11"}},
			outcome: sdk.OutcomeInvalid, fields: []string{"/beneficiary/death_date"}},
		{name: "died before birth", lang: "de", change: map[string]any{"beneficiary": map[string]any{"name": "Anna Neri", "birth_date": "1950-01-31", "death_date": "1949-12-31"}},
			outcome: sdk.OutcomeInvalid, fields: []string{"/beneficiary/death_date"}, text: "vor dem Geburtsdatum"},
		{name: "every problem at once", change: map[string]any{"cemetery": "Staglieno", "years": 50, "others": "Luca Neri",
			"beneficiary": map[string]any{"name": "Anna Neri", "birth_date": "2030-01-01"}},
			outcome: sdk.OutcomeInvalid, fields: []string{"/cemetery", "/years", "/beneficiary/birth_date", "/others"}},

		{name: "a town that has not set the service up", config: func(c map[string]any) { c["cemeteries"] = " \n " },
			outcome: sdk.OutcomeRefused, text: "ufficio servizi cimiteriali"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, svc := newHost(t)
			res := apply(t, h, svc, tc.lang, tc.change, tc.config)
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %q (%+v), want %q", res.Outcome, res, tc.outcome)
			}
			got := h.Tenant(1)
			if tc.outcome != sdk.OutcomeOK {
				var fields []string
				for _, e := range res.Errors {
					fields = append(fields, e.Field)
				}
				text := res.Message
				if len(res.Errors) > 0 {
					text = res.Errors[0].Message
				}
				if !slices.Equal(fields, tc.fields) || !strings.Contains(text, tc.text) {
					t.Errorf("errors %+v, message %q; want fields %v and %q", res.Errors, res.Message, tc.fields, tc.text)
				}
				if len(got.Dossiers)+len(got.Payments) != 0 {
					t.Errorf("state left behind: %+v", got)
				}
				return
			}
			if !strings.Contains(res.Message, tc.text) {
				t.Errorf("message %q, want %q in it", res.Message, tc.text)
			}
			d := got.Dossier(res.DossierNumber)
			if d == nil {
				t.Fatalf("no dossier %s", res.DossierNumber)
			}
			c, err := concessionOf(d)
			if err != nil || c.FeeCents != tc.cents || len(c.Beneficiaries) != tc.people || c.Applicant != "Citizen 7" || c.Submitted != "2026-06-10" {
				t.Errorf("dossier data %s (%v)", d.GetDataJson(), err)
			}
			// The payment is asked for once the office approves.
			if d.GetStatus() != statusSubmitted || len(got.Payments) != 0 {
				t.Errorf("status %s, payments %v", d.GetStatus(), got.Payments)
			}
			data, _ := json.Marshal(res.Data)
			if !strings.Contains(string(data), `"fee_cents":`) {
				t.Errorf("response data %s", data)
			}
		})
	}
}

// The documents a citizen attaches are kept on the dossier.
func TestRequestWithDocument(t *testing.T) {
	h, svc := newHost(t)
	res := apply(t, h, svc, "it", nil, nil, sdktest.Upload{Field: "/document", Name: "certificato-morte.pdf", Content: []byte("%PDF-1.4\n%test\n")})
	if res.Outcome != sdk.OutcomeOK {
		t.Fatalf("%+v", res)
	}
	got := h.Tenant(1)
	d := got.Dossier(res.DossierNumber)
	c, _ := concessionOf(d)
	if len(got.Attachments) != 1 || got.Attachments[0].DossierID != d.GetId() || !slices.Equal(c.Documents, []int64{got.Attachments[0].ID}) {
		t.Errorf("attachments %+v, documents %v", got.Attachments, c.Documents)
	}
}

// act is a staff action on a dossier, on the office's work day.
func act(t *testing.T, h *sdktest.Host, svc *service, action string, dossierID int64, values map[string]any) *sdk.Response {
	t.Helper()
	svc.now = func() time.Time { return workDay }
	h.Now = svc.now
	res, err := h.Handle(ctx, svc, sdktest.Call{Actor: office, Lang: "it", Action: action, DossierID: dossierID,
		Values: values, Config: h.ConfigExample()})
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return res
}

func statuses(got sdktest.Tenant, dossierID int64) []string {
	var out []string
	for _, e := range got.Events {
		if e.DossierID == dossierID {
			out = append(out, e.Status)
		}
	}
	return out
}

func replies(got sdktest.Tenant, dossierID int64) []string {
	var out []string
	for _, m := range got.Messages {
		if m.DossierID == dossierID && !m.Internal {
			out = append(out, m.Body)
		}
	}
	return out
}

// The whole life of a request: a German-speaking citizen applies, the
// office approves (a pagoPA position for the fee shown), cannot issue
// before the payment is complete, then issues the concession: a deed in
// German, signed by the host, on the dossier.
func TestWorkflow(t *testing.T) {
	h, svc := newHost(t)
	res := apply(t, h, svc, "de", nil, nil)
	d := h.Tenant(1).Dossier(res.DossierNumber)

	approved := act(t, h, svc, "approve", d.GetId(), map[string]any{"note": "Der Platz liegt im neuen Block B"})
	got := h.Tenant(1)
	if approved.Outcome != sdk.OutcomeOK || len(got.Payments) != 1 {
		t.Fatalf("approve: %+v, payments %v", approved, got.Payments)
	}
	p := got.Payments[0]
	if p.GetAmountCents() != 150000 || p.GetDossierId() != d.GetId() || !strings.Contains(approved.Message, p.GetNoticeCode()) ||
		!strings.Contains(approved.Message, "€ 1.500,00") {
		t.Errorf("payment %v, answer %q", p, approved.Message)
	}
	if s := statuses(got, d.GetId()); !slices.Equal(s, []string{statusSubmitted, statusApproved, statusAwaiting}) {
		t.Errorf("history %v", s)
	}
	if r := replies(got, d.GetId()); len(r) != 1 || !strings.Contains(r[0], "genehmigt") || !strings.Contains(r[0], p.GetNoticeCode()) ||
		!strings.Contains(r[0], "€ 1.500,00") || !strings.Contains(r[0], "Block B.") {
		t.Errorf("replies %q", r)
	}

	// Not paid yet: no concession, nothing changes.
	for _, st := range []string{"creation_pending", "payment_pending", "payment_started"} {
		h.SetPaymentStatus(1, p.GetId(), st)
		early := act(t, h, svc, "issue", d.GetId(), map[string]any{"assigned_place": "Blocco B, fila 3, n. 12"})
		if early.Outcome != sdk.OutcomeRefused || !strings.Contains(early.Message, st) {
			t.Errorf("issue while %s: %+v", st, early)
		}
	}
	if got := h.Tenant(1); len(got.Attachments) != 0 || got.Dossier(d.GetNumber()).GetStatus() != statusAwaiting {
		t.Fatalf("an unpaid concession left %d documents, status %s", len(got.Attachments), got.Dossier(d.GetNumber()).GetStatus())
	}

	h.SetPaymentStatus(1, p.GetId(), "complete")
	issued := act(t, h, svc, "issue", d.GetId(), map[string]any{"assigned_place": "Blocco B, fila 3, n. 12", "start_date": "2026-07-01"})
	if issued.Outcome != sdk.OutcomeOK {
		t.Fatalf("issue: %+v", issued)
	}
	got = h.Tenant(1)
	if s := statuses(got, d.GetId()); !slices.Equal(s, []string{statusSubmitted, statusApproved, statusAwaiting, statusPaid, statusIssued}) {
		t.Errorf("history %v", s)
	}
	if len(got.Attachments) != 1 {
		t.Fatalf("attachments %+v", got.Attachments)
	}
	a := got.Attachments[0]
	if !a.Issued || !a.Signed || a.DossierID != d.GetId() || a.Name != "konzession-"+d.GetNumber()+".pdf" || !strings.HasPrefix(string(a.Content), "%PDF-") {
		t.Errorf("deed %s: issued %v, signed %v, dossier %d", a.Name, a.Issued, a.Signed, a.DossierID)
	}
	text := pdfText(t, a.Content)
	for _, want := range []string{"Grabkonzessionsurkunde", "Vorgang Nr. " + d.GetNumber(), "Comune di Venezia – Servizi cimiteriali",
		"Citizen 7", "Cimitero maggiore", "Grabnische", "Blocco B, fila 3, n. 12", "30 Jahre, vom 1. Juli 2026 bis 30. Juni 2056",
		"Giuseppe Bianchi (3. April 1941 – 12. Februar 2026)", "€ 1.500,00", p.GetNoticeCode(), "Ausgestellt am 15. Juni 2026"} {
		if !strings.Contains(text, want) {
			t.Errorf("the deed lacks %q:\n%s", want, text)
		}
	}
	if r := replies(got, d.GetId()); len(r) != 2 || !strings.Contains(r[1], "erteilt") || !strings.Contains(r[1], "30. Juni 2056") {
		t.Errorf("replies %q", r)
	}

	// Issued is final.
	for _, action := range []string{"issue", "approve", "reject"} {
		values := map[string]any{"assigned_place": "X1", "reason": "Troppo tardi per cambiare"}
		if again := act(t, h, svc, action, d.GetId(), values); again.Outcome != sdk.OutcomeRefused || !strings.Contains(again.Message, "concessione rilasciata") {
			t.Errorf("%s after issue: %+v", action, again)
		}
	}
	if got := h.Tenant(1); len(got.Attachments) != 1 || len(got.Payments) != 1 {
		t.Errorf("refused actions changed the state: %d documents, %d payments", len(got.Attachments), len(got.Payments))
	}
}

// tell is the host telling the plugin of the outcome of payment p of a
// dossier, as it does once the payment's change is stored.
func tell(t *testing.T, h *sdktest.Host, svc *service, dossierID int64, p *pb.Payment, status string) *sdk.Response {
	t.Helper()
	h.SetPaymentStatus(1, p.GetId(), status)
	res, err := h.Handle(ctx, svc, sdktest.Call{Actor: sdktest.System(), Action: sdk.ActionPayment, DossierID: dossierID,
		Values: sdk.PaymentEvent{PaymentID: p.GetId(), Status: status, AmountCents: p.GetAmountCents(), Reason: "Concessione"},
		Config: h.ConfigExample()})
	if err != nil {
		t.Fatalf("payment %s: %v", status, err)
	}
	return res
}

// The host tells the service of the payment: a failed attempt is
// explained to the citizen, the payment arriving moves the dossier to
// paid with a reply saying what comes next, and the office issues the
// deed from there. Nobody in the office had to look in between.
func TestPaymentEvent(t *testing.T) {
	h, svc := newHost(t)
	res := apply(t, h, svc, "it", nil, nil)
	d := h.Tenant(1).Dossier(res.DossierNumber)
	act(t, h, svc, "approve", d.GetId(), nil)
	p := h.Tenant(1).Payments[0]

	if r := tell(t, h, svc, d.GetId(), p, sdk.PaymentFailed); r.Outcome != sdk.OutcomeOK {
		t.Fatalf("failed: %+v", r)
	}
	got := h.Tenant(1)
	if st := got.Dossier(d.GetNumber()).GetStatus(); st != statusAwaiting {
		t.Errorf("after a failed attempt the dossier is %s", st)
	}
	if r := replies(got, d.GetId()); len(r) != 2 || !strings.Contains(r[1], "non è andato a buon fine") || !strings.Contains(r[1], p.GetNoticeCode()) {
		t.Errorf("replies %q", r)
	}

	r, err := h.Handle(ctx, svc, sdktest.Call{Actor: sdktest.System(), Action: sdk.ActionPayment, DossierID: d.GetId(),
		Values: sdk.PaymentEvent{PaymentID: p.GetId() + 100, Status: sdk.PaymentComplete}, Config: h.ConfigExample()})
	if err != nil || r.Outcome != sdk.OutcomeRefused || h.Tenant(1).Dossier(d.GetNumber()).GetStatus() != statusAwaiting {
		t.Errorf("a payment the dossier does not wait for: %+v, %v", r, err)
	}
	if r := tell(t, h, svc, d.GetId(), p, sdk.PaymentComplete); r.Outcome != sdk.OutcomeOK {
		t.Fatalf("complete: %+v", r)
	}
	got = h.Tenant(1)
	if s := statuses(got, d.GetId()); !slices.Equal(s, []string{statusSubmitted, statusApproved, statusAwaiting, statusPaid}) {
		t.Errorf("history %v", s)
	}
	if e := got.Events[len(got.Events)-1]; e.Actor != "plugin:cemetery/system:0" || !strings.Contains(e.Note, p.GetNoticeCode()) {
		t.Errorf("the paid entry %+v", e)
	}
	if r := replies(got, d.GetId()); len(r) != 3 || !strings.Contains(r[2], "Abbiamo ricevuto il pagamento di € 1.500,00") ||
		!strings.Contains(r[2], d.GetNumber()) || !strings.Contains(r[2], "atto di concessione") {
		t.Errorf("replies %q", r)
	}

	if r := act(t, h, svc, "issue", d.GetId(), map[string]any{"assigned_place": "Blocco B, fila 3, n. 12"}); r.Outcome != sdk.OutcomeOK {
		t.Fatalf("issue after the payment: %+v", r)
	}
	// Told again once it is issued, nothing moves and nobody is written to.
	before := len(h.Tenant(1).Messages)
	if r := tell(t, h, svc, d.GetId(), p, sdk.PaymentComplete); r.Outcome != sdk.OutcomeOK {
		t.Errorf("told after the deed: %+v", r)
	}
	if got := h.Tenant(1); len(got.Messages) != before || got.Dossier(d.GetNumber()).GetStatus() != statusIssued {
		t.Errorf("a late event changed the dossier: %d messages, %s", len(got.Messages), got.Dossier(d.GetNumber()).GetStatus())
	}
}

// A notice left unpaid expires: the citizen, in their language, is told
// to ask the office for a new one; the dossier waits for the office.
func TestPaymentExpired(t *testing.T) {
	h, svc := newHost(t)
	res := apply(t, h, svc, "de", nil, nil)
	d := h.Tenant(1).Dossier(res.DossierNumber)
	act(t, h, svc, "approve", d.GetId(), nil)
	p := h.Tenant(1).Payments[0]
	if r := tell(t, h, svc, d.GetId(), p, sdk.PaymentExpired); r.Outcome != sdk.OutcomeOK {
		t.Fatalf("expired: %+v", r)
	}
	got := h.Tenant(1)
	if st := got.Dossier(d.GetNumber()).GetStatus(); st != statusAwaiting {
		t.Errorf("after expiry the dossier is %s", st)
	}
	if r := replies(got, d.GetId()); len(r) != 2 || !strings.Contains(r[1], "unbezahlt abgelaufen") || !strings.Contains(r[1], p.GetNoticeCode()) {
		t.Errorf("replies %q", r)
	}
	// Cancelled by the office: the office explains, the service only notes it.
	if r := tell(t, h, svc, d.GetId(), p, sdk.PaymentCanceled); r.Outcome != sdk.OutcomeOK || len(replies(h.Tenant(1), d.GetId())) != 2 {
		t.Errorf("cancelled: %+v", r)
	}
}

// A concession with nothing to pay goes from approval to paid, and its
// deed says nothing was due.
func TestFreeConcession(t *testing.T) {
	h, svc := newHost(t)
	res := apply(t, h, svc, "it", map[string]any{"place": "ground", "years": 10}, func(c map[string]any) {
		c["tariffs"].(map[string]any)["ground"] = "10=0"
	})
	d := h.Tenant(1).Dossier(res.DossierNumber)
	if r := act(t, h, svc, "approve", d.GetId(), nil); r.Outcome != sdk.OutcomeOK {
		t.Fatalf("approve: %+v", r)
	}
	if r := act(t, h, svc, "issue", d.GetId(), map[string]any{"assigned_place": "Campo 4, n. 7"}); r.Outcome != sdk.OutcomeOK {
		t.Fatalf("issue: %+v", r)
	}
	got := h.Tenant(1)
	if len(got.Payments) != 0 || !slices.Equal(statuses(got, d.GetId()), []string{statusSubmitted, statusApproved, statusPaid, statusIssued}) {
		t.Errorf("payments %v, history %v", got.Payments, statuses(got, d.GetId()))
	}
	if text := pdfText(t, got.Attachments[0].Content); !strings.Contains(text, "nessun importo dovuto") ||
		!strings.Contains(text, "10 anni, dal 15 giugno 2026 al 14 giugno 2036") {
		t.Errorf("deed:\n%s", text)
	}
}

func TestReject(t *testing.T) {
	h, svc := newHost(t)
	res := apply(t, h, svc, "en", nil, nil)
	d := h.Tenant(1).Dossier(res.DossierNumber)
	r := act(t, h, svc, "reject", d.GetId(), map[string]any{"reason": "Il cimitero maggiore non ha loculi liberi"})
	if r.Outcome != sdk.OutcomeOK || !strings.Contains(r.Message, "respinta") {
		t.Fatalf("reject: %+v", r)
	}
	got := h.Tenant(1)
	if s := statuses(got, d.GetId()); !slices.Equal(s, []string{statusSubmitted, statusRejected}) {
		t.Errorf("history %v", s)
	}
	if rs := replies(got, d.GetId()); len(rs) != 1 || !strings.Contains(rs[0], "has been rejected. Reason: Il cimitero maggiore non ha loculi liberi.") {
		t.Errorf("replies %q", rs)
	}
	if again := act(t, h, svc, "approve", d.GetId(), nil); again.Outcome != sdk.OutcomeRefused || len(h.Tenant(1).Payments) != 0 {
		t.Errorf("approve after reject: %+v", again)
	}
}

// Only staff act on dossiers; a request is a citizen's.
func TestActors(t *testing.T) {
	h, svc := newHost(t)
	res := apply(t, h, svc, "it", nil, nil)
	d := h.Tenant(1).Dossier(res.DossierNumber)
	for _, action := range []string{"approve", "reject", "issue"} {
		r, err := h.Handle(ctx, svc, sdktest.Call{Actor: citizen7, Action: action, DossierID: d.GetId(),
			Values: map[string]any{"assigned_place": "X1", "reason": "Non mi serve più"}, Config: h.ConfigExample()})
		if err != nil || r.Outcome != sdk.OutcomeRefused || !strings.Contains(r.Message, "riservata all'ufficio") {
			t.Errorf("%s by the citizen: %+v, %v", action, r, err)
		}
	}
	r, err := h.Handle(ctx, svc, sdktest.Call{Actor: office, Action: "request", Values: h.Example("concession"), Config: h.ConfigExample()})
	if err != nil || r.Outcome != sdk.OutcomeRefused {
		t.Errorf("a request by staff: %+v, %v", r, err)
	}
	if got := h.Tenant(1); len(got.Dossiers) != 1 || len(got.Payments) != 0 || len(got.Messages) != 0 {
		t.Errorf("refused actions changed the state: %+v", got)
	}
}

// A host failure in the middle of an approval leaves a dossier that can
// be approved again, without a second payment or a lost reply; a failed
// issue can be tried again too.
func TestHostFailures(t *testing.T) {
	h, svc := newHost(t)
	res := apply(t, h, svc, "it", nil, nil)
	d := h.Tenant(1).Dossier(res.DossierNumber)
	gone := &sdk.HostError{Code: 14, Msg: "host unavailable"}

	h.FailOn("AddDossierMessage", gone)
	if _, err := h.Handle(ctx, svc, sdktest.Call{Actor: office, Action: "approve", DossierID: d.GetId(), Config: h.ConfigExample()}); err == nil {
		t.Fatal("approve with the host gone: no error")
	}
	h.FailOn("AddDossierMessage", nil)
	if r := act(t, h, svc, "approve", d.GetId(), nil); r.Outcome != sdk.OutcomeOK {
		t.Fatalf("approve again: %+v", r)
	}
	got := h.Tenant(1)
	if len(got.Payments) != 1 || len(replies(got, d.GetId())) != 1 || got.Dossier(d.GetNumber()).GetStatus() != statusAwaiting {
		t.Fatalf("after a retried approval: %d payments, %d replies, status %s", len(got.Payments), len(replies(got, d.GetId())),
			got.Dossier(d.GetNumber()).GetStatus())
	}

	h.SetPaymentStatus(1, got.Payments[0].GetId(), "complete")
	h.FailOn("IssueDocument", gone)
	if _, err := h.Handle(ctx, svc, sdktest.Call{Actor: office, Action: "issue", DossierID: d.GetId(),
		Values: map[string]any{"assigned_place": "B-12"}, Config: h.ConfigExample()}); err == nil {
		t.Fatal("issue with the host gone: no error")
	}
	if st := h.Tenant(1).Dossier(d.GetNumber()).GetStatus(); st != statusPaid {
		t.Errorf("status after a failed issue: %s", st)
	}
	h.FailOn("IssueDocument", nil)
	if r := act(t, h, svc, "issue", d.GetId(), map[string]any{"assigned_place": "B-12"}); r.Outcome != sdk.OutcomeOK {
		t.Fatalf("issue again: %+v", r)
	}
	if got := h.Tenant(1); len(got.Attachments) != 1 || got.Dossier(d.GetNumber()).GetStatus() != statusIssued {
		t.Errorf("after a retried issue: %d documents, status %s", len(got.Attachments), got.Dossier(d.GetNumber()).GetStatus())
	}
}

func TestIssueStartDate(t *testing.T) {
	h, svc := newHost(t)
	res := apply(t, h, svc, "it", nil, nil)
	d := h.Tenant(1).Dossier(res.DossierNumber)
	act(t, h, svc, "approve", d.GetId(), nil)
	h.SetPaymentStatus(1, h.Tenant(1).Payments[0].GetId(), "complete")
	r := act(t, h, svc, "issue", d.GetId(), map[string]any{"assigned_place": "B-12", "start_date": "2026-06-09"})
	if r.Outcome != sdk.OutcomeInvalid || r.Errors[0].Field != "/start_date" || !strings.Contains(r.Errors[0].Message, "10 giugno 2026") {
		t.Errorf("a start before the request: %+v", r)
	}
	if len(h.Tenant(1).Attachments) != 0 {
		t.Error("a deed was issued")
	}
}

// The deed speaks each language, keeps accented letters and writes those
// the PDF's fonts lack without their accents.
func TestDeed(t *testing.T) {
	people := []person{{Name: "Jürgen Weiß", BirthDate: "1931-02-28"}, {Name: "Zoë Nuñez"}}
	c := concession{Cemetery: "Friedhof Sankt Peter", Place: "tomb", Years: 99, Applicant: "Dragan Čolić",
		Beneficiaries: people, FeeCents: 1800050, Currency: "CHF", Submitted: "2026-06-10"}
	start := time.Date(2026, 6, 15, 0, 0, 0, 0, sdk.Zone)
	for _, tc := range []struct{ lang, title, term string }{
		{"it", "Atto di concessione cimiteriale", "99 anni, dal 15 giugno 2026 al 14 giugno 2125"},
		{"de", "Grabkonzessionsurkunde", "99 Jahre, vom 15. Juni 2026 bis 14. Juni 2125"},
		{"en", "Cemetery concession deed", "99 years, from 15 June 2026 to 14 June 2125"},
	} {
		c.Lang = tc.lang
		pdf, err := deed(deedData{concession: c, Number: "2026-000042", Assigned: "Reihe 2", Start: start, End: start.AddDate(99, 0, -1),
			Issued: workDay, Payment: &pb.Payment{NoticeCode: "301000000000000042"}})
		if err != nil {
			t.Fatal(err)
		}
		text := pdfText(t, pdf)
		for _, want := range []string{tc.title, tc.term, "Dragan Colic", "Jürgen Weiß", "Zoë Nuñez", "CHF 18'000.50", "301000000000000042"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the deed lacks %q:\n%s", tc.lang, want, text)
			}
		}
	}
}

// pdfText is the text of a PDF as poppler's pdftotext reads it.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext not found: install poppler-utils (.ci/run does)")
	}
	path := filepath.Join(t.TempDir(), "deed.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	// Lines wrap where the page ends them: the checks read one long line.
	return strings.Join(strings.Fields(string(out)), " ")
}
