package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

func TestManifest(t *testing.T) {
	m := sdktest.CheckManifest(t, manifest)
	if m.GetId() != "recordsaccess" || m.GetCategory() != "autorizzazioni" {
		t.Errorf("manifest %s/%s", m.GetId(), m.GetCategory())
	}
	sdktest.CheckMessages(t, msg)

	final := map[string]bool{}
	for _, st := range m.GetStatuses() {
		final[st.GetId()] = st.GetFinal()
	}
	want := map[string]bool{statusSubmitted: false, statusCounterparts: false, statusGranted: true,
		statusPartlyGranted: true, statusRefused: true, statusWithdrawn: true}
	if len(final) != len(want) || m.GetStatuses()[0].GetId() != statusSubmitted {
		t.Errorf("statuses %v, want %v starting with submitted", final, want)
	}
	for id, f := range want {
		if got, ok := final[id]; !ok || got != f || open(id) == f {
			t.Errorf("status %s: declared %v, final %v; want final %v", id, ok, got, f)
		}
	}
	scopes := map[string]string{"request": "citizen/", "notify_counterparties": "staff/dossier", "decide": "staff/dossier",
		"withdraw": "staff/dossier", "register": "staff/"}
	for _, a := range m.GetActions() {
		if got := a.GetAudience() + "/" + a.GetScope(); got != scopes[a.GetId()] {
			t.Errorf("action %s: %s, want %s", a.GetId(), got, scopes[a.GetId()])
		}
		delete(scopes, a.GetId())
	}
	if len(scopes) > 0 {
		t.Errorf("actions missing: %v", scopes)
	}

	// The form's file field and the plugin's own check agree.
	var form struct {
		Properties map[string]struct {
			Accept   []string `json:"x-accept"`
			MaxBytes int64    `json:"x-max-bytes"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(m.GetForms()[0].GetSchemaJson(), &form); err != nil {
		t.Fatal(err)
	}
	f := form.Properties["identity_document"]
	if !slices.Equal(f.Accept, identityTypes) || f.MaxBytes != identityMaxBytes {
		t.Errorf("form takes %v up to %d, the plugin %v up to %d", f.Accept, f.MaxBytes, identityTypes, identityMaxBytes)
	}
	// Every outcome the decision form offers is a final status.
	for _, o := range []string{statusGranted, statusPartlyGranted, statusRefused} {
		if !final[o] {
			t.Errorf("outcome %s is no final status", o)
		}
	}
}

// at is a moment in the town's time.
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, sdk.Zone)
	if err != nil {
		panic(err)
	}
	return t
}

func endOf(day string) time.Time { return at(day + " 23:59").Add(59 * time.Second) }

func TestDeadline(t *testing.T) {
	tests := []struct {
		name      string
		kind      string
		submitted time.Time
		due       time.Time
	}{
		{"generalised", "generalised", at("2026-03-02 10:00"), endOf("2026-04-01")},
		{"civic", "civic", at("2026-03-02 10:00"), endOf("2026-04-01")},
		{"documentary", "documentary", at("2026-03-02 10:00"), endOf("2026-04-01")},
		{"the day of the request does not count", "civic", at("2026-01-31 23:30"), endOf("2026-03-02")},
		{"a minute after midnight in the town, still the day before in UTC", "generalised",
			at("2026-03-02 00:10"), endOf("2026-04-01")},
		{"across the change to summer time", "documentary", at("2026-03-28 09:00"), endOf("2026-04-27")},
		{"across the year", "generalised", at("2026-12-15 12:00"), endOf("2027-01-14")},
		{"a last day on a Sunday stays", "civic", at("2026-04-04 08:00"), endOf("2026-05-04")},
		{"a last day on a holiday stays", "documentary", at("2026-11-22 08:00"), endOf("2026-12-22")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := deadline(tc.submitted, kinds[tc.kind]); !got.Equal(tc.due) {
				t.Errorf("deadline %v, want %v", got, tc.due)
			}
			// And as it reaches the dossier.
			h := sdktest.New(t, manifest)
			h.Now = func() time.Time { return tc.submitted }
			values := request(h, tc.kind)
			res, err := h.Handle(context.Background(), &service{now: h.Now}, sdktest.Call{Actor: sdktest.Citizen(3),
				Action: "request", Values: values, Config: h.ConfigExample(), Files: identity(tc.kind)})
			if err != nil || res.Outcome != sdk.OutcomeOK {
				t.Fatalf("%+v, %v", res, err)
			}
			if due := h.Tenant(1).Dossiers[0].GetDueUnix(); due != tc.due.Unix() {
				t.Errorf("dossier due %v, want %v", time.Unix(due, 0).In(sdk.Zone), tc.due)
			}
		})
	}
}

func TestSuspended(t *testing.T) {
	due := endOf("2026-04-01")
	tests := []struct {
		name           string
		sent, received string
		want           time.Time
	}{
		{"received the day it is sent (PEC)", "2026-03-10", "2026-03-10", endOf("2026-04-11")},
		{"received three days later", "2026-03-10", "2026-03-13", endOf("2026-04-14")},
		{"across the change to summer time", "2026-03-27", "2026-03-30", endOf("2026-04-14")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := suspended(due, at(tc.sent+" 09:00"), at(tc.received+" 18:00")); !got.Equal(tc.want) {
				t.Errorf("suspended to %v, want %v", got, tc.want)
			}
		})
	}
}

// request is the form's example of kind: the first example is generalised
// access, the second documentary.
func request(h *sdktest.Host, kind string) map[string]any {
	var schema struct {
		Examples []map[string]any `json:"examples"`
	}
	if err := json.Unmarshal(h.Manifest().GetForms()[0].GetSchemaJson(), &schema); err != nil {
		panic(err)
	}
	if kind == "documentary" {
		v := schema.Examples[1]
		delete(v, "identity_document") // an upload puts its own id there
		return v
	}
	v := schema.Examples[0]
	v["type"] = kind
	return v
}

var pdf = []byte("%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")

// identity is the upload a request of kind needs: an identity document for
// documentary access, nothing otherwise.
func identity(kind string) []sdktest.Upload {
	if kind != "documentary" {
		return nil
	}
	return []sdktest.Upload{{Field: "/identity_document", Name: "carta-identita.pdf", Content: pdf}}
}

func TestRequest(t *testing.T) {
	big := append(bytes.Clone(pdf), bytes.Repeat([]byte{' '}, identityMaxBytes)...)
	tests := []struct {
		name   string
		kind   string
		change map[string]any
		drop   []string // fields left out
		files  []sdktest.Upload
		actor  sdk.Actor
		lang   string
		config map[string]any // nil: the config schema's example
		// unconfigured: the town enabled the service and saved nothing
		unconfigured bool
		outcome      string
		fields       []string
		text         string // in the message, or in every field error
		office       string // ok: the office assigned
	}{
		{name: "generalised, office named", kind: "generalised", outcome: sdk.OutcomeOK, office: "lavori-pubblici",
			text: "protocollo n. 2026-000001, presentata il 2 marzo 2026. È assegnata all'ufficio Lavori pubblici, che decide entro il 1° aprile 2026"},
		{name: "civic goes to the transparency officer", kind: "civic", outcome: sdk.OutcomeOK, office: "segreteria",
			text: "Segreteria generale"},
		{name: "civic where the town names no transparency office", kind: "civic", outcome: sdk.OutcomeOK,
			config: map[string]any{"offices": "protocollo; Protocollo\nlavori-pubblici; Lavori pubblici"}, office: "lavori-pubblici"},
		{name: "no office named goes to the one that assigns", kind: "generalised", drop: []string{"office"},
			outcome: sdk.OutcomeOK, office: "protocollo"},
		{name: "no office and no assigning office: the first listed", kind: "generalised", drop: []string{"office"},
			config: map[string]any{"offices": "urp; URP\nedilizia; Edilizia"}, outcome: sdk.OutcomeOK, office: "urp"},
		{name: "office by part of its name", kind: "generalised", change: map[string]any{"office": "edilizia"},
			outcome: sdk.OutcomeOK, office: "edilizia"},
		{name: "office named in a longer phrase", kind: "generalised", change: map[string]any{"office": "Ufficio  EDILIZIA privata"},
			outcome: sdk.OutcomeOK, office: "edilizia"},
		{name: "office by its code", kind: "generalised", change: map[string]any{"office": "ragioneria"},
			outcome: sdk.OutcomeOK, office: "ragioneria"},
		{name: "office that does not exist", kind: "generalised", change: map[string]any{"office": "Anagrafe"},
			outcome: sdk.OutcomeInvalid, fields: []string{"/office"}, text: "Protocollo generale; Edilizia privata; Lavori pubblici"},
		{name: "office that matches two", kind: "generalised", change: map[string]any{"office": "generale"},
			outcome: sdk.OutcomeInvalid, fields: []string{"/office"}},
		{name: "generalised needs no reasons", kind: "generalised", drop: []string{"motivation"}, outcome: sdk.OutcomeOK,
			office: "lavori-pubblici"},
		{name: "documentary", kind: "documentary", files: identity("documentary"), outcome: sdk.OutcomeOK,
			office: "protocollo", text: "accesso documentale"},
		{name: "documentary, in German", kind: "documentary", files: identity("documentary"), lang: "de",
			outcome: sdk.OutcomeOK, office: "protocollo", text: "Zugang zu Verwaltungsunterlagen unter der Protokollnummer"},
		{name: "documentary without reasons", kind: "documentary", files: identity("documentary"),
			change: map[string]any{"motivation": "   "}, outcome: sdk.OutcomeInvalid, fields: []string{"/motivation"},
			text: "interesse diretto, concreto e attuale"},
		{name: "documentary without reasons nor identity", kind: "documentary", drop: []string{"motivation"},
			outcome: sdk.OutcomeInvalid, fields: []string{"/motivation", "/identity_document"}},
		{name: "documentary with a text file", kind: "documentary",
			files:   []sdktest.Upload{{Field: "/identity_document", Name: "ci.pdf", Content: []byte("not a document at all")}},
			outcome: sdk.OutcomeInvalid, fields: []string{"/identity_document"}, text: "PDF, JPEG o PNG"},
		{name: "documentary with a file too large", kind: "documentary",
			files:   []sdktest.Upload{{Field: "/identity_document", Name: "ci.pdf", Content: big}},
			outcome: sdk.OutcomeInvalid, fields: []string{"/identity_document"}, text: "5 MB"},
		{name: "documentary naming an attachment it did not upload", kind: "documentary",
			change: map[string]any{"identity_document": "1"}, outcome: sdk.OutcomeInvalid, fields: []string{"/identity_document"},
			text: "allegalo di nuovo"},
		{name: "every problem at once", kind: "documentary", drop: []string{"motivation"},
			change:  map[string]any{"office": "Polizia locale"},
			outcome: sdk.OutcomeInvalid, fields: []string{"/office", "/motivation", "/identity_document"}},
		{name: "town not configured", kind: "generalised", unconfigured: true, outcome: sdk.OutcomeRefused,
			text: "non ha ancora attivato"},
		{name: "staff cannot request in their own name", kind: "generalised", actor: sdktest.Staff(8, "operator"),
			outcome: sdk.OutcomeRefused, text: "SPID o CIE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := sdktest.New(t, manifest)
			h.Now = func() time.Time { return at("2026-03-02 10:00") }
			values := request(h, tc.kind)
			for k, v := range tc.change {
				values[k] = v
			}
			for _, k := range tc.drop {
				delete(values, k)
			}
			var config any // a town that saved nothing: the plugin gets {}
			switch {
			case tc.config != nil:
				config = tc.config
			case !tc.unconfigured:
				config = h.ConfigExample()
			}
			actor := tc.actor
			if actor.Kind == "" {
				actor = sdk.Actor{Kind: "citizen", ID: 3, Name: "Maria Rossi"}
			}
			res, err := h.Handle(context.Background(), &service{now: h.Now}, sdktest.Call{Actor: actor, Lang: tc.lang,
				Action: "request", Values: values, Config: config, Files: tc.files})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %q (%+v), want %q", res.Outcome, res, tc.outcome)
			}
			var fields []string
			for _, e := range res.Errors {
				fields = append(fields, e.Field)
				if tc.text != "" && !strings.Contains(e.Message, tc.text) {
					t.Errorf("error on %s: %q, want %q in it", e.Field, e.Message, tc.text)
				}
			}
			if strings.Join(fields, " ") != strings.Join(tc.fields, " ") {
				t.Errorf("fields in error %v, want %v", fields, tc.fields)
			}
			if tc.outcome != sdk.OutcomeInvalid && !strings.Contains(res.Message, tc.text) {
				t.Errorf("message %q, want %q in it", res.Message, tc.text)
			}
			got := h.Tenant(1)
			if tc.outcome != sdk.OutcomeOK {
				if len(got.Dossiers) != 0 || len(got.Notifications) != 0 || len(got.Audit) != 0 {
					t.Errorf("state left behind: %+v", got)
				}
				return
			}
			d := got.Dossier(res.DossierNumber)
			if d == nil || d.GetCitizenId() != 3 || d.GetOffice() != tc.office || d.GetStatus() != statusSubmitted {
				t.Fatalf("dossier %v, want office %s", d, tc.office)
			}
			var rd requestData
			if err := json.Unmarshal(d.GetDataJson(), &rd); err != nil {
				t.Fatal(err)
			}
			if rd.Type != tc.kind || rd.Office != tc.office || rd.Email != "maria.rossi@example.org" || rd.Applicant != "Maria Rossi" {
				t.Errorf("data %+v", rd)
			}
			// The identity document stays with a documentary request, and
			// only with it.
			if tc.kind == "documentary" {
				if len(got.Attachments) != 1 || got.Attachments[0].DossierID != d.GetId() || rd.IdentityID != got.Attachments[0].ID {
					t.Errorf("attachments %+v, data %d", got.Attachments, rd.IdentityID)
				}
			} else if len(got.Attachments) != 0 || rd.IdentityID != 0 {
				t.Errorf("attachments %+v", got.Attachments)
			}
			// The applicant hears at the address given; the office gets a
			// notice that names nobody.
			if tc.config != nil { // no office e-mail: the applicant's only
				if len(got.Notifications) != 1 || got.Notifications[0].To != "maria.rossi@example.org" {
					t.Errorf("notifications %+v", got.Notifications)
				}
				return
			}
			if len(got.Notifications) != 2 || got.Notifications[0].To != "maria.rossi@example.org" ||
				got.Notifications[0].Body != res.Message || got.Notifications[1].To != "protocollo@comune.example" {
				t.Fatalf("notifications %+v", got.Notifications)
			}
			office := got.Notifications[1].Subject + got.Notifications[1].Body
			for _, personal := range []string{"Maria", "Rossi", "maria.rossi", rd.Motivation, rd.Records} {
				if personal != "" && strings.Contains(office, personal) {
					t.Errorf("office notice %q carries %q", office, personal)
				}
			}
		})
	}
}

// A host that cannot queue the e-mails does not undo the request.
func TestRequestNotifyFails(t *testing.T) {
	h := sdktest.New(t, manifest)
	h.FailOn("Notify", &sdk.HostError{Code: 14, Msg: "down"})
	res, err := h.Handle(context.Background(), &service{}, sdktest.Call{Actor: sdktest.Citizen(3), Action: "request",
		Values: request(h, "civic"), Config: h.ConfigExample()})
	if err != nil || res.Outcome != sdk.OutcomeOK || len(h.Tenant(1).Dossiers) != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
}

// fixture is a town with one request of each kind, made on 2 March 2026
// by citizen 3 in lang.
type fixture struct {
	h   *sdktest.Host
	svc *service
	ids map[string]int64 // by kind
}

func newFixture(t *testing.T, lang string) *fixture {
	t.Helper()
	h := sdktest.New(t, manifest)
	now := at("2026-03-02 10:00")
	h.Now = func() time.Time { return now }
	f := &fixture{h: h, svc: &service{now: func() time.Time { return now }}, ids: map[string]int64{}}
	for _, kind := range []string{"civic", "generalised", "documentary"} {
		res, err := h.Handle(context.Background(), f.svc, sdktest.Call{Actor: sdk.Actor{Kind: "citizen", ID: 3, Name: "Maria Rossi"},
			Lang: lang, Action: "request", Values: request(h, kind), Config: h.ConfigExample(), Files: identity(kind)})
		if err != nil || res.Outcome != sdk.OutcomeOK {
			t.Fatalf("request %s: %+v, %v", kind, res, err)
		}
		f.ids[kind] = res.DossierID
	}
	return f
}

// at moves both clocks.
func (f *fixture) at(s string) {
	now := at(s)
	f.h.Now = func() time.Time { return now }
	f.svc.now = f.h.Now
}

func (f *fixture) staff(t *testing.T, action, kind string, values any) *sdk.Response {
	t.Helper()
	res, err := f.h.Handle(context.Background(), f.svc, sdktest.Call{Actor: sdktest.Staff(8, "operator"), Action: action,
		DossierID: f.ids[kind], Values: values, Config: f.h.ConfigExample()})
	if err != nil {
		t.Fatalf("%s on %s: %v", action, kind, err)
	}
	return res
}

// messages are the replies and notes on the dossier of kind.
func (f *fixture) messages(kind string) (public, internal []string) {
	for _, m := range f.h.Tenant(1).Messages {
		if m.DossierID != f.ids[kind] {
			continue
		}
		if m.Internal {
			internal = append(internal, m.Body)
		} else {
			public = append(public, m.Body)
		}
	}
	return public, internal
}

func (f *fixture) status(kind string) string {
	for _, d := range f.h.Tenant(1).Dossiers {
		if d.GetId() == f.ids[kind] {
			return d.GetStatus()
		}
	}
	return ""
}

// due is the deadline the dossier of kind has in the host.
func (f *fixture) due(kind string) int64 {
	for _, d := range f.h.Tenant(1).Dossiers {
		if d.GetId() == f.ids[kind] {
			return d.GetDueUnix()
		}
	}
	return 0
}

func TestCounterparties(t *testing.T) {
	f := newFixture(t, "it")
	f.at("2026-03-12 11:00")
	ctx := context.Background()

	// Generalised access: the deadline of 1 April is suspended from the
	// notice (10 March) to 10 days after its receipt (11 March), 11 days.
	res := f.staff(t, "notify_counterparties", "generalised", map[string]any{"sent_on": "2026-03-10",
		"received_on": "2026-03-11", "count": 2, "note": "PEC ai due titolari"})
	if res.Outcome != sdk.OutcomeOK || !strings.Contains(res.Message, "entro il 21 marzo 2026, decisione entro il 12 aprile 2026") {
		t.Fatalf("%+v", res)
	}
	public, internal := f.messages("generalised")
	if len(public) != 1 || !strings.Contains(public[0], "opporsi entro il 21 marzo 2026. Intanto il termine è sospeso: il Comune decide entro il 12 aprile 2026") ||
		len(internal) != 1 || internal[0] != "PEC ai due titolari" {
		t.Errorf("replies %q, notes %q", public, internal)
	}
	if st := f.status("generalised"); st != statusCounterparts {
		t.Errorf("status %s", st)
	}
	cs, err := readCase(ctx, f.h.For(1, sdktest.Staff(8)), f.ids["generalised"])
	if err != nil || cs.Counterparties != 2 || cs.OppositionEnds != "2026-03-21" || cs.LatestDue != endOf("2026-04-12").Unix() {
		t.Errorf("case %+v, %v", cs, err)
	}
	if due := f.due("generalised"); due != endOf("2026-04-12").Unix() {
		t.Errorf("the dossier's deadline is %s, want the suspended one", time.Unix(due, 0))
	}
	documentaryDue := f.due("documentary")

	// Documentary access: they may object, the deadline runs on.
	res = f.staff(t, "notify_counterparties", "documentary", map[string]any{"sent_on": "2026-03-11", "count": 1})
	if res.Outcome != sdk.OutcomeOK {
		t.Fatalf("%+v", res)
	}
	public, internal = f.messages("documentary")
	if len(public) != 1 || !strings.Contains(public[0], "opporsi entro il 21 marzo 2026. Il termine per la decisione resta il 1° aprile 2026") ||
		len(internal) != 0 {
		t.Errorf("replies %q, notes %q", public, internal)
	}
	if cs, _ := readCase(ctx, f.h.For(1, sdktest.Staff(8)), f.ids["documentary"]); cs.LatestDue != 0 {
		t.Errorf("documentary deadline moved: %+v", cs)
	}
	if due := f.due("documentary"); due != documentaryDue {
		t.Errorf("the documentary dossier's deadline moved from %d to %d", documentaryDue, due)
	}

	// Refusals that change nothing.
	for _, tc := range []struct {
		kind, text string
	}{
		{"civic", "non ci sono controinteressati"},
		{"generalised", "già stati informati"},
	} {
		res := f.staff(t, "notify_counterparties", tc.kind, map[string]any{"sent_on": "2026-03-11", "count": 1})
		if res.Outcome != sdk.OutcomeRefused || !strings.Contains(res.Message, tc.text) {
			t.Errorf("%s: %+v", tc.kind, res)
		}
	}
	if f.status("civic") != statusSubmitted {
		t.Errorf("civic moved to %s", f.status("civic"))
	}
}

func TestCounterpartiesDates(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		fields []string
		text   string
	}{
		{"sent tomorrow", map[string]any{"sent_on": "2026-03-13", "count": 1}, []string{"/sent_on", "/received_on"}, "futuro"},
		{"sent before the request", map[string]any{"sent_on": "2026-03-01", "count": 1}, []string{"/sent_on"},
			"presentata il 2 marzo 2026"},
		{"received before sent", map[string]any{"sent_on": "2026-03-10", "received_on": "2026-03-09", "count": 1},
			[]string{"/received_on"}, "invio"},
		{"received tomorrow", map[string]any{"sent_on": "2026-03-10", "received_on": "2026-03-13", "count": 1},
			[]string{"/received_on"}, "futuro"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, "it")
			f.at("2026-03-12 11:00")
			res := f.staff(t, "notify_counterparties", "generalised", tc.values)
			var fields []string
			for _, e := range res.Errors {
				fields = append(fields, e.Field)
			}
			if res.Outcome != sdk.OutcomeInvalid || strings.Join(fields, " ") != strings.Join(tc.fields, " ") ||
				!strings.Contains(res.Errors[0].Message, tc.text) {
				t.Errorf("%+v, want %v with %q", res, tc.fields, tc.text)
			}
			if f.status("generalised") != statusSubmitted || len(f.h.Tenant(1).Messages) != 0 {
				t.Errorf("state changed")
			}
		})
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name    string
		lang    string // the applicant's
		kind    string
		values  map[string]any
		outcome string // of the action
		fields  []string
		status  string
		reply   []string // in the public reply
		not     []string // not in it
	}{
		{name: "granted", lang: "it", kind: "generalised", values: map[string]any{"outcome": "granted"},
			outcome: sdk.OutcomeOK, status: statusGranted,
			reply: []string{"è stata accolta.", "Ti mandiamo le copie all'indirizzo maria.rossi@example.org."},
			not:   []string{"riesame", "Motivazione"}},
		{name: "granted with directions", lang: "it", kind: "civic",
			values:  map[string]any{"outcome": "granted", "reasons": "I dati sono pubblicati qui: https://comune.example/trasparenza", "grounds": []string{"excluded"}},
			outcome: sdk.OutcomeOK, status: statusGranted,
			reply: []string{"Indicazioni dell'ufficio: I dati sono pubblicati qui: https://comune.example/trasparenza."}},
		{name: "partly granted needs reasons", lang: "it", kind: "generalised", values: map[string]any{"outcome": "partly_granted"},
			outcome: sdk.OutcomeInvalid, fields: []string{"/reasons"}},
		{name: "refused needs reasons", lang: "it", kind: "documentary", values: map[string]any{"outcome": "refused", "reasons": "  "},
			outcome: sdk.OutcomeInvalid, fields: []string{"/reasons"}},
		{name: "partly granted", lang: "it", kind: "generalised",
			values:  map[string]any{"outcome": "partly_granted", "reasons": "Esclusi gli allegati con dati personali", "grounds": []string{"private_interest"}},
			outcome: sdk.OutcomeOK, status: statusPartlyGranted,
			reply: []string{"accolta in parte.", "Motivazione: Esclusi gli allegati con dati personali.", "Ti mandiamo le copie",
				"Responsabile della prevenzione della corruzione e della trasparenza"}},
		{name: "documentary refused, in German", lang: "de", kind: "documentary",
			values:  map[string]any{"outcome": "refused", "reasons": "Kein unmittelbares Interesse.", "grounds": []string{"no_interest"}},
			outcome: sdk.OutcomeOK, status: statusRefused,
			reply: []string{"wurde abgelehnt.", "Begründung: Kein unmittelbares Interesse.", "Volksanwaltschaft"},
			not:   []string{"Kopien", "Korruptionsvorbeugung"}},
		{name: "documentary granted, paper copy", lang: "en", kind: "documentary", values: map[string]any{"outcome": "granted"},
			outcome: sdk.OutcomeOK, status: statusGranted,
			reply: []string{"has been granted.", "collect the copies at the office Protocollo generale"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.lang)
			f.at("2026-03-20 16:00")
			res := f.staff(t, "decide", tc.kind, tc.values)
			if res.Outcome != tc.outcome {
				t.Fatalf("%+v, want %s", res, tc.outcome)
			}
			got := f.h.Tenant(1)
			if tc.outcome == sdk.OutcomeInvalid {
				if res.Errors[0].Field != tc.fields[0] || len(got.Messages) != 0 || f.status(tc.kind) != statusSubmitted {
					t.Errorf("%+v; messages %v", res, got.Messages)
				}
				return
			}
			if st := f.status(tc.kind); st != tc.status {
				t.Errorf("status %s, want %s", st, tc.status)
			}
			public, _ := f.messages(tc.kind)
			if len(public) != 1 {
				t.Fatalf("replies %q", public)
			}
			for _, s := range tc.reply {
				if !strings.Contains(public[0], s) {
					t.Errorf("reply %q\nwant %q in it", public[0], s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(public[0], s) {
					t.Errorf("reply %q\nhas %q", public[0], s)
				}
			}
			// The decision also goes by e-mail to the address the applicant gave.
			n := got.Notifications[len(got.Notifications)-1]
			if n.To != "maria.rossi@example.org" || n.Body != public[0] || !strings.Contains(n.Subject, res.DossierNumber) {
				t.Errorf("notification %+v", n)
			}
			cs, err := readCase(context.Background(), f.h.For(1, sdktest.Staff(8)), f.ids[tc.kind])
			if err != nil || cs.Outcome != tc.status || cs.DecidedUnix != at("2026-03-20 16:00").Unix() ||
				(tc.status == statusGranted && len(cs.Grounds) != 0) {
				t.Errorf("case %+v, %v", cs, err)
			}

			// Closed: no second decision, no counterparties, no withdrawal.
			for _, again := range []struct {
				action string
				values any
			}{
				{"decide", map[string]any{"outcome": "refused", "reasons": "Ci ho ripensato"}},
				{"notify_counterparties", map[string]any{"sent_on": "2026-03-20", "count": 1}},
				{"withdraw", nil},
			} {
				res := f.staff(t, again.action, tc.kind, again.values)
				if res.Outcome != sdk.OutcomeRefused {
					t.Errorf("%s after the decision: %+v", again.action, res)
				}
			}
			if public, _ := f.messages(tc.kind); len(public) != 1 || f.status(tc.kind) != tc.status {
				t.Errorf("changed after the decision: %q", public)
			}
		})
	}
}

// A request waiting on counter-interested parties is decided as any other.
func TestDecideAfterCounterparties(t *testing.T) {
	f := newFixture(t, "it")
	f.at("2026-03-12 11:00")
	if res := f.staff(t, "notify_counterparties", "generalised", map[string]any{"sent_on": "2026-03-10", "count": 1}); res.Outcome != sdk.OutcomeOK {
		t.Fatalf("%+v", res)
	}
	f.at("2026-03-25 09:00")
	res := f.staff(t, "decide", "generalised", map[string]any{"outcome": "refused", "reasons": "Opposizione motivata del controinteressato",
		"grounds": []string{"private_interest"}})
	if res.Outcome != sdk.OutcomeOK || f.status("generalised") != statusRefused {
		t.Fatalf("%+v, status %s", res, f.status("generalised"))
	}
	cs, _ := readCase(context.Background(), f.h.For(1, sdktest.Staff(8)), f.ids["generalised"])
	if cs.Counterparties != 1 || cs.Outcome != statusRefused {
		t.Errorf("case %+v", cs)
	}
}

func TestWithdraw(t *testing.T) {
	f := newFixture(t, "en")
	f.at("2026-03-05 09:00")
	res := f.staff(t, "withdraw", "civic", nil)
	if res.Outcome != sdk.OutcomeOK || f.status("civic") != statusWithdrawn {
		t.Fatalf("%+v, status %s", res, f.status("civic"))
	}
	if public, _ := f.messages("civic"); len(public) != 1 || !strings.Contains(public[0], "you withdrew request no. 2026-000001") {
		t.Errorf("replies %q", public)
	}
}

// A citizen cannot take the office's actions, even on their own request.
func TestStaffActionsRefuseCitizens(t *testing.T) {
	f := newFixture(t, "it")
	for _, action := range []string{"decide", "notify_counterparties", "withdraw"} {
		values := map[string]any{"decide": map[string]any{"outcome": "granted"},
			"notify_counterparties": map[string]any{"sent_on": "2026-03-02", "count": 1}}[action]
		res, err := f.svc.Handle(context.Background(), &sdk.Request{Lang: "it", Actor: sdktest.Citizen(3), Action: action,
			DossierID: f.ids["generalised"], Values: mustJSON(values), Host: f.h.For(1, sdktest.Citizen(3))})
		if err != nil || res.Outcome != sdk.OutcomeRefused {
			t.Errorf("%s: %+v, %v", action, res, err)
		}
	}
	if f.status("generalised") != statusSubmitted {
		t.Errorf("status %s", f.status("generalised"))
	}
}

func mustJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// readCSV parses an export: UTF-8 with a byte-order mark, semicolons.
func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\ufeff")) {
		t.Fatalf("no byte-order mark: %q", b[:min(len(b), 20)])
	}
	r := csv.NewReader(bytes.NewReader(b[3:]))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, b)
	}
	return rows
}

func TestRegister(t *testing.T) {
	ctx := context.Background()
	h := sdktest.New(t, manifest)
	svc := &service{}
	clock := func(s string) {
		now := at(s)
		h.Now = func() time.Time { return now }
		svc.now = h.Now
	}
	staff := sdktest.Staff(8, "operator")
	applicant := sdk.Actor{Kind: "citizen", ID: 3, Name: "Maria Rossi"}
	submit := func(kind, subject string) int64 {
		t.Helper()
		values := request(h, kind)
		values["subject"] = subject
		res, err := h.Handle(ctx, svc, sdktest.Call{Actor: applicant, Action: "request", Values: values,
			Config: h.ConfigExample(), Files: identity(kind)})
		if err != nil || res.Outcome != sdk.OutcomeOK {
			t.Fatalf("request: %+v, %v", res, err)
		}
		return res.DossierID
	}
	act := func(action string, id int64, values any) {
		t.Helper()
		res, err := h.Handle(ctx, svc, sdktest.Call{Actor: staff, Action: action, DossierID: id, Values: values,
			Config: h.ConfigExample()})
		if err != nil || res.Outcome != sdk.OutcomeOK {
			t.Fatalf("%s: %+v, %v", action, res, err)
		}
	}

	clock("2025-12-30 10:00")
	submit("civic", "Bilancio consuntivo 2024") // last year's: not in this year's register
	clock("2026-01-12 09:00")
	a := submit("generalised", "Contratti del verde pubblico 2025")
	clock("2026-01-20 09:00")
	b := submit("documentary", "Pratica edilizia di Maria Rossi in via Roma 5")
	clock("2026-02-02 09:00")
	c := submit("civic", "=HYPERLINK(\"http://evil.example\")")
	clock("2026-02-03 09:00")
	submit("generalised", "Verbali della commissione mensa")

	clock("2026-01-25 11:00")
	act("notify_counterparties", a, map[string]any{"sent_on": "2026-01-23", "count": 3})
	clock("2026-02-10 12:00")
	act("decide", a, map[string]any{"outcome": "partly_granted", "reasons": "Esclusi i dati dei lavoratori",
		"grounds": []string{"private_interest", "public_interest"}})
	clock("2026-02-11 12:00")
	act("decide", b, map[string]any{"outcome": "refused", "reasons": "Manca un interesse diretto",
		"grounds": []string{"no_interest"}, "register_object": "Accesso a una pratica edilizia"})
	clock("2026-02-12 12:00")
	act("withdraw", c, nil)

	clock("2026-03-01 08:00")
	res, err := h.Handle(ctx, svc, sdktest.Call{Actor: staff, Action: "register", Config: h.ConfigExample()})
	if err != nil || res.Outcome != sdk.OutcomeOK || res.File == nil {
		t.Fatalf("%+v, %v", res, err)
	}
	if res.File.Name != "registro-accessi-2026.csv" || res.File.ContentType != "text/csv; charset=utf-8" ||
		!strings.Contains(res.Message, "4 richieste") {
		t.Errorf("file %s (%s), message %q", res.File.Name, res.File.ContentType, res.Message)
	}
	want := [][]string{
		{"Protocollo", "Data della richiesta", "Tipo di accesso", "Oggetto", "Ufficio", "Controinteressati", "Esito",
			"Data dell'esito", "Motivi di esclusione o limitazione"},
		{"2026-000001", "2026-01-12", "accesso civico generalizzato", "Contratti del verde pubblico 2025", "Lavori pubblici",
			"sì", "accolta in parte", "2026-02-10", "tutela di interessi privati; tutela di interessi pubblici"},
		{"2026-000002", "2026-01-20", "accesso documentale", "Accesso a una pratica edilizia", "Protocollo generale",
			"no", "respinta", "2026-02-11", "interesse non diretto, concreto e attuale"},
		{"2026-000003", "2026-02-02", "accesso civico semplice", `'=HYPERLINK("http://evil.example")`, "Segreteria generale",
			"no", "ritirata", "2026-02-12", ""},
		{"2026-000004", "2026-02-03", "accesso civico generalizzato", "Verbali della commissione mensa", "Lavori pubblici",
			"no", "in corso", "", ""},
	}
	rows := readCSV(t, res.File.Content)
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("register\n%q\nwant\n%q", rows, want)
	}
	// Nothing of the applicant: not their name, address, e-mail, reasons
	// or the records as they described them.
	data, err := json.Marshal(res.Data)
	if err != nil {
		t.Fatal(err)
	}
	for _, personal := range []string{"Maria", "Rossi", "maria.rossi", "example.org", "proprietaria", "confinante",
		"capitolati", "paper", "email"} {
		if bytes.Contains(res.File.Content, []byte(personal)) || bytes.Contains(data, []byte(personal)) {
			t.Errorf("the register carries %q", personal)
		}
	}
	var api registerData
	if err := json.Unmarshal(data, &api); err != nil {
		t.Fatal(err)
	}
	if api.Year != 2026 || len(api.Requests) != 4 || api.Requests[0].Outcome != "partly_granted" ||
		!api.Requests[0].Counterparties || api.Requests[3].Outcome != "pending" || api.Requests[1].Type != "documentary" ||
		!slices.Equal(api.Requests[0].Grounds, []string{"private_interest", "public_interest"}) {
		t.Errorf("data %+v", api)
	}

	// Last year's register, in German, has last year's request.
	res, err = h.Handle(ctx, svc, sdktest.Call{Actor: staff, Lang: "de", Action: "register", Config: h.ConfigExample(),
		Values: map[string]any{"year": 2025}})
	if err != nil {
		t.Fatal(err)
	}
	rows = readCSV(t, res.File.Content)
	if res.File.Name != "zugangsregister-2025.csv" || len(rows) != 2 || rows[0][0] != "Protokollnummer" ||
		rows[1][2] != "einfacher Bürgerzugang" || rows[1][6] != "in Bearbeitung" {
		t.Errorf("%s: %q", res.File.Name, rows)
	}
}

// The register reads every page of the host's list, and stops at the
// year's beginning.
func TestRegisterPages(t *testing.T) {
	ctx := context.Background()
	h := sdktest.New(t, manifest)
	host := h.For(1, sdktest.Citizen(3))
	create := func(day string, n int) {
		now := at(day + " 10:00")
		h.Now = func() time.Time { return now }
		for range n {
			if _, err := host.CreateDossier(ctx, sdk.NewDossier{Title: "Richiesta",
				Data: requestData{Type: "generalised", Subject: "Oggetto", OfficeName: "Protocollo"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	create("2025-11-03", 30)
	create("2026-01-05", pageSize+90)
	create("2026-06-01", pageSize)
	create("2027-01-04", 5)
	svc := &service{now: func() time.Time { return at("2027-02-01 10:00") }}
	res, err := h.Handle(ctx, svc, sdktest.Call{Actor: sdktest.Staff(8), Action: "register", Config: h.ConfigExample(),
		Values: map[string]any{"year": 2026}})
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, res.File.Content)[1:]
	if len(rows) != 2*pageSize+90 {
		t.Fatalf("%d rows, want %d", len(rows), 2*pageSize+90)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i-1][0] >= rows[i][0] || !strings.HasPrefix(rows[i][0], "2026-") {
			t.Fatalf("rows out of order at %d: %s, %s", i, rows[i-1][0], rows[i][0])
		}
	}
}

func TestFindOffice(t *testing.T) {
	offices, err := parseOffices("protocollo; Protocollo generale\nedilizia; Edilizia privata\nsegreteria; Segreteria generale\r\n")
	if err != nil {
		t.Fatal(err)
	}
	for typed, want := range map[string]string{
		"Edilizia privata":            "edilizia",
		" edilizia   PRIVATA ":        "edilizia",
		"edilizia":                    "edilizia",
		"segreteria":                  "segreteria",
		"Ufficio protocollo generale": "protocollo",
		"generale":                    "", // two match
		"ed":                          "", // too short to be a part
		"":                            "",
		"Anagrafe":                    "",
	} {
		got, _ := findOffice(offices, typed)
		if got.Slug != want {
			t.Errorf("findOffice(%q) = %q, want %q", typed, got.Slug, want)
		}
	}
	for _, bad := range []string{"Protocollo", "protocollo;", "Proto; Protocollo", "a; A\na; B", "a; A; B"} {
		if _, err := parseOffices(bad); err == nil {
			t.Errorf("parseOffices(%q): no error", bad)
		}
	}
}

func TestOn(t *testing.T) {
	for _, tc := range []struct {
		lang, day, want string
	}{
		{"it", "2026-06-07", "il 7 giugno 2026"},
		{"it", "2026-05-08", "l'8 maggio 2026"},
		{"it", "2026-05-11", "l'11 maggio 2026"},
		{"it", "2026-04-01", "il 1° aprile 2026"},
		{"it", "2026-04-18", "il 18 aprile 2026"},
		{"de", "2026-05-08", "8. Mai 2026"},
		{"en", "2026-04-01", "1 April 2026"},
	} {
		if got := on(tc.lang, at(tc.day+" 12:00")); got != tc.want {
			t.Errorf("on(%s, %s) = %q, want %q", tc.lang, tc.day, got, tc.want)
		}
	}
}

// The demo towns' configurations are ones the admin page would save, and
// name offices the towns have: the host refuses a dossier for any other.
func TestDemoTenants(t *testing.T) {
	files, err := filepath.Glob("../../tenants/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("demo towns: %v", err)
	}
	h := sdktest.New(t, manifest)
	enabled := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var town struct {
			Offices []struct {
				Slug string `yaml:"slug"`
			} `yaml:"offices"`
			Services []struct {
				ID     string         `yaml:"id"`
				Config map[string]any `yaml:"config"`
			} `yaml:"services"`
		}
		if err := yaml.Unmarshal(data, &town); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		has := map[string]bool{"": true}
		for _, o := range town.Offices {
			has[o.Slug] = true
		}
		for _, s := range town.Services {
			if s.ID != "recordsaccess" {
				continue
			}
			enabled++
			req := h.Request(sdktest.Call{Action: "request", Values: request(h, "civic"), Config: s.Config})
			var c config
			if err := req.DecodeConfig(&c); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			offices, err := parseOffices(c.Offices)
			if err != nil || len(offices) == 0 {
				t.Errorf("%s: offices %v, %v", f, offices, err)
			}
			for _, o := range offices {
				if !has[o.Slug] {
					t.Errorf("%s: office %q is not one of the town's", f, o.Slug)
				}
			}
			if !has[c.DefaultOffice] || !has[c.TransparencyOffice] {
				t.Errorf("%s: default %q or transparency office %q is not one of the town's", f, c.DefaultOffice, c.TransparencyOffice)
			}
		}
	}
	if enabled == 0 {
		t.Fatal("no demo town enables the service")
	}
}
