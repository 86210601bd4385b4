package procedure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

// campNow is inside the example configuration's window (1 March to 30
// April 2026).
var campNow = time.Date(2026, 3, 10, 10, 0, 0, 0, sdk.Zone)

// newCamp loads the test definition, changed by edits (pairs of old,
// new), with its clock and the fake host's at now.
func newCamp(t *testing.T, now time.Time, edits ...string) (*Procedure, *sdktest.Host) {
	t.Helper()
	def := readCamp(t)
	for i := 0; i+1 < len(edits); i += 2 {
		def = edit(t, def, edits[i], edits[i+1])
	}
	p, err := Load([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	p.now = func() time.Time { return now }
	p.log = slog.New(slog.DiscardHandler)
	h := sdktest.New(t, p.Manifest())
	h.Now = p.now
	return p, h
}

var (
	pdf = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
)

func TestSubmitAccepted(t *testing.T) {
	ctx := context.Background()
	p, h := newCamp(t, campNow)
	cfg := h.ConfigExample()
	cfg["office_email"] = "scuola@comune.example"
	res, err := h.Handle(ctx, p, sdktest.Call{Action: "submit", Actor: sdktest.Citizen(7), Lang: "de",
		Values: h.Example("application"), Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != sdk.OutcomeOK || res.DossierNumber != "2026-000001" ||
		!strings.Contains(res.Message, "Vorgangsnummer 2026-000001") || !strings.Contains(res.Message, "30. März 2026") {
		t.Fatalf("response %+v", res)
	}
	got := h.Tenant(1)
	d := got.Dossier("2026-000001")
	if d == nil {
		t.Fatal("no dossier")
	}
	due := time.Date(2026, 3, 30, 23, 59, 59, 0, sdk.Zone)
	if d.GetStatus() != "submitted" || d.GetOffice() != "servizi-educativi" || d.GetChannel() != "web" ||
		d.GetCitizenId() != 7 || d.GetDueUnix() != due.Unix() || d.GetTitle() != "Centro estivo di prova – Luca Rossi" {
		t.Fatalf("dossier %v", d)
	}
	var data dossierData
	if err := json.Unmarshal(d.GetDataJson(), &data); err != nil || data.Lang != "de" || lookup(data.Answers, "/child/fiscal_code") != "RSSLCU16C10F205G" {
		t.Fatalf("dossier data %s: %v", d.GetDataJson(), err)
	}
	// The citizen's confirmation, in German; the office's copy, in Italian.
	if len(got.Notifications) != 2 || got.Notifications[0].To != "citizen:7" || !strings.Contains(got.Notifications[0].Body, "Vorgangsnummer") ||
		got.Notifications[1].To != "scuola@comune.example" || !strings.Contains(got.Notifications[1].Body, "Nuova domanda") {
		t.Fatalf("notifications %+v", got.Notifications)
	}
	if len(got.Payments) != 0 {
		t.Fatalf("the fee is asked on admission, not now: %+v", got.Payments)
	}
	if len(got.Audit) != 1 || got.Audit[0].Action != "testcamp.submit" {
		t.Fatalf("audit %+v", got.Audit)
	}
}

// A member of staff enters an application at the counter: the dossier
// says so, and the confirmation goes to the e-mail in the form.
func TestSubmitOnBehalf(t *testing.T) {
	ctx := context.Background()
	p, h := newCamp(t, campNow)
	res, err := h.Handle(ctx, p, sdktest.Call{Action: "submit", Actor: sdktest.Staff(3, "operator"),
		Values: h.Example("application"), Config: map[string]any{"opens": "2026-03-01", "closes": "2026-04-30", "processing_days": 10}})
	if err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("%+v %v", res, err)
	}
	got := h.Tenant(1)
	d := got.Dossiers[0]
	if d.GetChannel() != "counter" || d.GetCitizenId() != 0 ||
		d.GetDueUnix() != time.Date(2026, 3, 20, 23, 59, 59, 0, sdk.Zone).Unix() {
		t.Fatalf("dossier %v", d)
	}
	if len(got.Notifications) != 1 || got.Notifications[0].To != "mario.rossi@example.com" {
		t.Fatalf("notifications %+v", got.Notifications)
	}

	// Where staff may not apply for people, they are told so.
	p, h = newCamp(t, campNow, "who: {citizens: true, anonymous: false, staff: true}", "who: {citizens: true, anonymous: false, staff: false}")
	res, err = h.Handle(ctx, p, sdktest.Call{Action: "submit", Actor: sdktest.Staff(3), Values: h.Example("application"), Config: h.ConfigExample()})
	if err != nil || res.Outcome != sdk.OutcomeRefused || !strings.Contains(res.Message, "solo la persona interessata") {
		t.Fatalf("%+v %v", res, err)
	}
}

// What the procedure refuses, and why, beside the fields; nothing is
// stored for a refused application.
func TestSubmitRefused(t *testing.T) {
	type change func(values, config map[string]any)
	tests := []struct {
		name    string
		now     time.Time
		actor   sdk.Actor
		lang    string
		change  change
		files   []sdktest.Upload
		outcome string
		fields  []string // with outcome invalid, in this order
		want    string   // in the message or the first field error
	}{
		{name: "before the window", now: time.Date(2026, 2, 28, 18, 0, 0, 0, sdk.Zone), outcome: sdk.OutcomeRefused,
			want: "dal 1 marzo 2026"},
		{name: "after the deadline", now: time.Date(2026, 5, 1, 0, 0, 1, 0, sdk.Zone), lang: "en", outcome: sdk.OutcomeRefused,
			want: "deadline to apply passed on 30 April 2026"},
		{name: "no window set", change: func(_, c map[string]any) { delete(c, "closes") }, outcome: sdk.OutcomeRefused,
			want: "non ha ancora aperto"},
		{name: "a visitor", actor: sdktest.Anonymous(), outcome: sdk.OutcomeRefused, want: "accedi con SPID"},
		{name: "not resident", change: func(v, _ map[string]any) { v["resident"] = false }, outcome: sdk.OutcomeInvalid,
			fields: []string{"/resident"}, want: "Solo per residenti."},
		{name: "too young by the end of the year", lang: "de",
			change:  func(v, _ map[string]any) { v["child"].(map[string]any)["birth_date"] = "2024-01-01" },
			outcome: sdk.OutcomeInvalid, fields: []string{"/child/birth_date"}, want: "Von 3 bis 14 Jahren."},
		{name: "wrong fiscal code", change: func(v, _ map[string]any) { v["parent"].(map[string]any)["fiscal_code"] = "RSSMRA80A01F205Y" },
			outcome: sdk.OutcomeInvalid, fields: []string{"/parent/fiscal_code"}, want: "codice fiscale non è corretto"},
		{name: "start too soon", change: func(v, _ map[string]any) { v["start"] = "2026-03-12" },
			outcome: sdk.OutcomeInvalid, fields: []string{"/start"}, want: "dal 17 marzo 2026 in poi"},
		{name: "end before start", change: func(v, _ map[string]any) { v["start"] = "2026-06-15"; v["end"] = "2026-06-14" },
			outcome: sdk.OutcomeInvalid, fields: []string{"/end"}, want: "precedente a «Primo giorno»"},
		{name: "every problem at once", lang: "en", change: func(v, _ map[string]any) {
			v["resident"] = false
			v["parent"].(map[string]any)["fiscal_code"] = "RSSMRA80A01F205Y"
			v["start"] = "2026-03-11"
		}, outcome: sdk.OutcomeInvalid, fields: []string{"/parent/fiscal_code", "/start", "/resident"}, want: "fiscal code is not correct"},
		{name: "wrong file type", change: func(v, _ map[string]any) { v["isee_band"] = "a" },
			files: []sdktest.Upload{{Field: "/isee_file", Name: "isee.png", Content: png}}, outcome: sdk.OutcomeInvalid,
			fields: []string{"/isee_file"}, want: "allega un file PDF"},
		{name: "file too large", change: func(v, _ map[string]any) { v["isee_band"] = "b" },
			files:   []sdktest.Upload{{Field: "/isee_file", Name: "isee.pdf", Content: append(bytes.Clone(pdf), make([]byte, 1<<20)...)}},
			outcome: sdk.OutcomeInvalid, fields: []string{"/isee_file"}, want: "troppo grande (1 MB): al massimo 1 MB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = campNow
			}
			p, h := newCamp(t, now)
			values, config := h.Example("application"), h.ConfigExample()
			if tc.change != nil {
				tc.change(values, config)
			}
			actor := tc.actor
			if actor.Kind == "" {
				actor = sdktest.Citizen(7)
			}
			res, err := h.Handle(context.Background(), p, sdktest.Call{Action: "submit", Actor: actor, Lang: tc.lang,
				Values: values, Config: config, Files: tc.files})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %q, want %q: %+v", res.Outcome, tc.outcome, res)
			}
			text := res.Message
			if tc.outcome == sdk.OutcomeInvalid {
				var fields []string
				for _, e := range res.Errors {
					fields = append(fields, e.Field)
				}
				if !slices.Equal(fields, tc.fields) {
					t.Fatalf("errors on %v, want %v: %+v", fields, tc.fields, res.Errors)
				}
				text = res.Errors[0].Message
			}
			if !strings.Contains(text, tc.want) {
				t.Fatalf("%q does not say %q", text, tc.want)
			}
			if got := h.Tenant(1); len(got.Dossiers) != 0 || len(got.Notifications) != 0 || len(got.Payments) != 0 || len(got.Settings) != 0 {
				t.Fatalf("a refused application left %+v", got)
			}
		})
	}
}

// The procedure checks the form again, whatever the host let through: a
// missing answer, one required by another answer, a file that never
// arrived.
func TestSubmitChecksTheFormItself(t *testing.T) {
	tests := []struct {
		name   string
		change func(v map[string]any)
		fields []string
		want   string
	}{
		{"missing child", func(v map[string]any) { delete(v, "child") }, []string{"/child"}, "obbligatorio"},
		{"missing nested answer", func(v map[string]any) { delete(v["child"].(map[string]any), "birth_date") },
			[]string{"/child/birth_date"}, "obbligatorio"},
		{"required by another answer", func(v map[string]any) { v["isee_band"] = "a" }, []string{"/isee_file"}, "obbligatorio"},
		{"consent not given", func(v map[string]any) { v["consent"] = false }, []string{"/consent"}, "spuntare"},
		{"a choice not offered", func(v map[string]any) { v["weeks"] = []any{"w9"} }, []string{"/weeks"}, "non è valido"},
		{"a file that did not arrive", func(v map[string]any) { v["isee_band"] = "a"; v["isee_file"] = "999" },
			[]string{"/isee_file"}, "non è arrivato"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, h := newCamp(t, campNow)
			req := h.Request(sdktest.Call{Action: "submit", Actor: sdktest.Citizen(7), Values: h.Example("application"), Config: h.ConfigExample()})
			values := h.Example("application")
			tc.change(values)
			req.Values, _ = json.Marshal(values)
			res, err := p.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var fields []string
			for _, e := range res.Errors {
				fields = append(fields, e.Field)
			}
			if res.Outcome != sdk.OutcomeInvalid || !slices.Equal(fields, tc.fields) || !strings.Contains(res.Errors[0].Message, tc.want) {
				t.Fatalf("%+v, want errors on %v saying %q", res, tc.fields, tc.want)
			}
			if len(h.Tenant(1).Dossiers) != 0 {
				t.Fatal("a dossier for an invalid form")
			}
		})
	}
}

// A file of the right type and size is kept on the dossier.
func TestSubmitKeepsFiles(t *testing.T) {
	p, h := newCamp(t, campNow)
	values := h.Example("application")
	values["isee_band"] = "a"
	res, err := h.Handle(context.Background(), p, sdktest.Call{Action: "submit", Values: values, Config: h.ConfigExample(),
		Files: []sdktest.Upload{{Field: "/isee_file", Name: "isee-2026.pdf", Content: pdf}}})
	if err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("%+v %v", res, err)
	}
	got := h.Tenant(1)
	if len(got.Attachments) != 1 || got.Attachments[0].DossierID != res.DossierID || got.Attachments[0].Name != "isee-2026.pdf" {
		t.Fatalf("attachments %+v", got.Attachments)
	}
}

// One application per child and window; a new window starts afresh.
func TestSubmitOncePerWindow(t *testing.T) {
	ctx := context.Background()
	p, h := newCamp(t, campNow)
	call := sdktest.Call{Action: "submit", Actor: sdktest.Citizen(7), Values: h.Example("application"), Config: h.ConfigExample()}
	if res, err := h.Handle(ctx, p, call); err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("%+v %v", res, err)
	}
	// The other parent, with the code in lower case.
	values := h.Example("application")
	values["child"].(map[string]any)["fiscal_code"] = "rsslcu16c10f205g"
	call.Actor, call.Values = sdktest.Citizen(8), values
	res, err := h.Handle(ctx, p, call)
	if err != nil || res.Outcome != sdk.OutcomeRefused || !strings.Contains(res.Message, "pratica n. 2026-000001") {
		t.Fatalf("second application: %+v %v", res, err)
	}
	next := h.ConfigExample()
	next["opens"], next["closes"] = "2026-03-05", "2026-06-30"
	call.Config = next
	if res, err := h.Handle(ctx, p, call); err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("in a new window: %+v %v", res, err)
	}
	for k := range h.Tenant(1).Settings {
		if strings.Contains(strings.ToUpper(k), "RSSLCU") {
			t.Fatalf("a fiscal code in a setting key: %s", k)
		}
	}
}

// A fee on submission: priced by the answers and the town's tariffs, a
// pagoPA notice at once; a failed notice leaves the application standing.
func TestSubmitFee(t *testing.T) {
	tests := []struct {
		name     string
		band     string
		config   map[string]any
		fail     bool
		cents    int64
		want     string
		wantNote bool
	}{
		{name: "by band and weeks", band: "b", cents: 2 * 6000, want: "€ 120,00"},
		{name: "the town's tariff", band: "a", config: map[string]any{"fee_amounts": map[string]any{"a": 12.5}}, cents: 2 * 1250, want: "€ 25,00"},
		{name: "free for the band", band: "a", config: map[string]any{"fee_amounts": map[string]any{"a": 0}}, cents: 0},
		{name: "in francs", band: "none", config: map[string]any{"currency": "CHF"}, cents: 2 * 9000, want: "CHF 180.00"},
		{name: "notice not created", band: "none", fail: true, want: "ti arriva a parte", wantNote: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, h := newCamp(t, campNow, "  on: admit\n", "  on: submit\n")
			values := h.Example("application")
			values["isee_band"] = tc.band
			var files []sdktest.Upload
			if tc.band != "none" {
				files = []sdktest.Upload{{Field: "/isee_file", Name: "isee.pdf", Content: pdf}}
			}
			cfg := h.ConfigExample()
			cfg["office_email"] = "scuola@comune.example"
			for k, v := range tc.config {
				cfg[k] = v
			}
			if tc.fail {
				h.FailOn("CreatePayment", &sdk.HostError{Code: 14, Msg: "pagoPA unreachable"})
			}
			res, err := h.Handle(context.Background(), p, sdktest.Call{Action: "submit", Values: values, Config: cfg, Files: files})
			if err != nil || res.Outcome != sdk.OutcomeOK {
				t.Fatalf("%+v %v", res, err)
			}
			got := h.Tenant(1)
			switch {
			case tc.fail:
				if len(got.Payments) != 0 {
					t.Fatalf("payments %+v", got.Payments)
				}
			case tc.cents == 0:
				if len(got.Payments) != 0 || strings.Contains(res.Message, "pagare") {
					t.Fatalf("a free application asks to pay: %q %+v", res.Message, got.Payments)
				}
			default:
				if len(got.Payments) != 1 || got.Payments[0].GetAmountCents() != tc.cents || got.Payments[0].GetDossierId() != res.DossierID ||
					!strings.Contains(res.Message, got.Payments[0].GetNoticeCode()) {
					t.Fatalf("payments %+v, message %q", got.Payments, res.Message)
				}
			}
			if !strings.Contains(res.Message, tc.want) {
				t.Fatalf("message %q does not say %q", res.Message, tc.want)
			}
			// The office learns that it must send the notice itself.
			told := slices.ContainsFunc(got.Notifications, func(n sdktest.Notification) bool {
				return n.To == "scuola@comune.example" && strings.Contains(n.Body, "non creato")
			})
			if told != tc.wantNote || !strings.Contains(string(got.Audit[0].Details), fmt.Sprintf(`"payment_failed":%v`, tc.wantNote)) {
				t.Fatalf("office told %v, want %v: %+v %s", told, tc.wantNote, got.Notifications, got.Audit[0].Details)
			}
		})
	}
}

// A host that fails before the dossier exists fails the request: the
// person sees an error and applies again, nothing half done.
func TestSubmitHostFailure(t *testing.T) {
	p, h := newCamp(t, campNow)
	boom := &sdk.HostError{Code: 14, Msg: "database unavailable"}
	h.FailOn("CreateDossier", boom)
	_, err := h.Handle(context.Background(), p, sdktest.Call{Action: "submit", Values: h.Example("application"), Config: h.ConfigExample()})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if got := h.Tenant(1); len(got.Settings) != 0 {
		t.Fatalf("remembered an application that failed: %v", got.Settings)
	}
	// A lost e-mail does not undo an application.
	h.FailOn("CreateDossier", nil)
	h.FailOn("Notify", boom)
	res, err := h.Handle(context.Background(), p, sdktest.Call{Action: "submit", Values: h.Example("application"), Config: h.ConfigExample()})
	if err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("%+v %v", res, err)
	}
}
