package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

func TestManifest(t *testing.T) {
	m := sdktest.CheckManifest(t, manifest)
	if m.GetId() != "scrutineer" || m.GetCategory() != "anagrafe-e-stato-civile" {
		t.Errorf("manifest %s/%s", m.GetId(), m.GetCategory())
	}
	sdktest.CheckMessages(t, msg)

	// The statuses the code moves dossiers to are the manifest's, and only
	// the decisions are final.
	final := map[string]bool{}
	for _, st := range m.GetStatuses() {
		final[st.GetId()] = st.GetFinal()
	}
	want := map[string]bool{statusSubmitted: false, statusApproved: true, statusRejected: true}
	if len(final) != len(want) {
		t.Errorf("statuses %v, want %v", final, want)
	}
	for id, f := range want {
		if got, ok := final[id]; !ok || got != f {
			t.Errorf("status %s: declared %v, final %v; want final %v", id, ok, got, f)
		}
	}
	// Citizens offer on the service page; the office decides on a dossier
	// and exports from the service.
	scopes := map[string]string{"scrutineer": "citizen/", "president": "citizen/", "approve": "staff/dossier",
		"reject": "staff/dossier", "export": "staff/"}
	for _, a := range m.GetActions() {
		if got := a.GetAudience() + "/" + a.GetScope(); got != scopes[a.GetId()] {
			t.Errorf("action %s: %s, want %s", a.GetId(), got, scopes[a.GetId()])
		}
		delete(scopes, a.GetId())
	}
	if len(scopes) > 0 {
		t.Errorf("actions missing: %v", scopes)
	}
}

// at is a moment in the town's time.
func at(s string) func() time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, sdk.Zone)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return t }
}

// The configuration's example: a referendum (voting 6-7 June 2026,
// offers until 8 May) and municipal elections (15-16 November 2026,
// offers until 9 October).
const (
	referendum = "2026-06-referendum"
	municipal  = "2026-11-comunali"
)

func TestOffer(t *testing.T) {
	oneRound := func(line string) map[string]any { return map[string]any{"rounds": line} }
	tests := []struct {
		name    string
		action  string
		change  map[string]any // over the form's example
		config  map[string]any // nil: the config schema's example
		now     string
		outcome string
		fields  []string // invalid: the fields in error, in order
		text    string   // in the message, or in every field error
		round   string   // ok: the round the offer went to
	}{
		{name: "scrutineer", action: "scrutineer", now: "2026-04-20 10:00", outcome: sdk.OutcomeOK, text: "come scrutatore",
			round: referendum},
		{name: "president", action: "president", now: "2026-04-20 10:00", outcome: sdk.OutcomeOK,
			text: "come presidente di seggio", round: referendum},
		{name: "last day, late evening", action: "scrutineer", now: "2026-05-08 23:59", outcome: sdk.OutcomeOK, round: referendum},
		{name: "after the first deadline the next round is open", action: "scrutineer", now: "2026-05-09 00:00",
			outcome: sdk.OutcomeOK, text: "Elezioni comunali 2026", round: municipal},
		{name: "after every deadline", action: "scrutineer", now: "2026-10-10 00:00", outcome: sdk.OutcomeRefused,
			text: "9 ottobre 2026"},
		{name: "after the deadline of the only round", action: "president", config: oneRound("a; Tornata A; 2026-06-07; 2026-05-08"),
			now: "2026-05-09 00:00", outcome: sdk.OutcomeRefused, text: "è scaduto l'8 maggio 2026"},
		{name: "no round configured", action: "scrutineer", config: map[string]any{}, now: "2026-04-20 10:00",
			outcome: sdk.OutcomeRefused, text: "nessuna tornata"},
		{name: "rounds that do not parse", action: "scrutineer", config: oneRound("a; A; 2026-06-07; 2026-06-08"),
			now: "2026-04-20 10:00", outcome: sdk.OutcomeRefused, text: "nessuna tornata"},
		{name: "role the town does not collect", action: "president",
			config: map[string]any{"rounds": "a; A; 2026-06-07; 2026-05-08", "roles": []string{"scrutineer"}},
			now:    "2026-04-20 10:00", outcome: sdk.OutcomeRefused, text: "presidente di seggio"},
		{name: "not resident", action: "scrutineer", change: map[string]any{"resident": false}, now: "2026-04-20 10:00",
			outcome: sdk.OutcomeInvalid, fields: []string{"/resident"}, text: "residenti"},
		{name: "not in the register", action: "scrutineer", change: map[string]any{"in_register": false},
			now: "2026-04-20 10:00", outcome: sdk.OutcomeInvalid, fields: []string{"/in_register"}, text: "albo degli scrutatori"},
		{name: "president not in the presidents' register", action: "president", change: map[string]any{"in_register": false},
			now: "2026-04-20 10:00", outcome: sdk.OutcomeInvalid, fields: []string{"/in_register"}, text: "albo dei presidenti"},
		{name: "scrutineer without schooling", action: "scrutineer", change: map[string]any{"schooling": false},
			now: "2026-04-20 10:00", outcome: sdk.OutcomeInvalid, fields: []string{"/schooling"}, text: "obbligo scolastico"},
		{name: "president without diploma", action: "president", change: map[string]any{"diploma": false},
			now: "2026-04-20 10:00", outcome: sdk.OutcomeInvalid, fields: []string{"/diploma"}, text: "diploma"},
		{name: "every declaration missing", action: "president",
			change: map[string]any{"resident": false, "voter_here": false, "in_register": false, "diploma": false, "no_incompatibility": false},
			now:    "2026-04-20 10:00", outcome: sdk.OutcomeInvalid,
			fields: []string{"/resident", "/voter_here", "/in_register", "/diploma", "/no_incompatibility"}},
		{name: "incompatible", action: "scrutineer", change: map[string]any{"no_incompatibility": false},
			now: "2026-04-20 10:00", outcome: sdk.OutcomeInvalid, fields: []string{"/no_incompatibility"}, text: "condizioni"},
		// The referendum votes on 6 and 7 June 2026.
		{name: "president turning 70 on the last voting day", action: "president", change: map[string]any{"birth_date": "1956-06-07"},
			now: "2026-04-20 10:00", outcome: sdk.OutcomeInvalid, fields: []string{"/birth_date"}, text: "7 giugno 2026"},
		{name: "president turning 70 the day after", action: "president", change: map[string]any{"birth_date": "1956-06-08"},
			now: "2026-04-20 10:00", outcome: sdk.OutcomeOK, round: referendum},
		{name: "scrutineer over 70 is fine", action: "scrutineer", change: map[string]any{"birth_date": "1940-01-01"},
			now: "2026-04-20 10:00", outcome: sdk.OutcomeOK, round: referendum},
		{name: "scrutineer of age on the first voting day", action: "scrutineer", change: map[string]any{"birth_date": "2008-06-06"},
			now: "2026-04-20 10:00", outcome: sdk.OutcomeOK, round: referendum},
		{name: "scrutineer not of age", action: "scrutineer", change: map[string]any{"birth_date": "2008-06-07"},
			now: "2026-04-20 10:00", outcome: sdk.OutcomeInvalid, fields: []string{"/birth_date"}, text: "maggiorenne"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := sdktest.New(t, manifest)
			h.Now = at(tc.now)
			values := h.Example(tc.action)
			for k, v := range tc.change {
				values[k] = v
			}
			config := tc.config
			if config == nil {
				config = h.ConfigExample()
			}
			res, err := h.Handle(context.Background(), &service{now: h.Now},
				sdktest.Call{Action: tc.action, Actor: sdktest.Citizen(4), Values: values, Config: config})
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
				if len(got.Dossiers) != 0 || len(got.Settings) != 0 || len(got.Notifications) != 0 {
					t.Errorf("state left behind: %+v", got)
				}
				return
			}
			d := got.Dossier(res.DossierNumber)
			if d == nil || d.GetCitizenId() != 4 || d.GetStatus() != statusSubmitted || d.GetOffice() != "elettorale" {
				t.Fatalf("dossier %v", d)
			}
			od, err := dossierData(d)
			if err != nil || od.Role != tc.action || od.RoundID != tc.round || od.Name != "Citizen 4" ||
				od.BirthDate != values["birth_date"] || od.Lang != "it" {
				t.Errorf("dossier data %+v (%v)", od, err)
			}
			if _, ok := got.Settings[offerKey(tc.round, tc.action, 4)]; !ok {
				t.Errorf("offer not remembered: %v", got.Settings)
			}
			if len(got.Notifications) != 2 || got.Notifications[1].To != "elettorale@comune.example" || len(got.Audit) != 1 {
				t.Errorf("notifications %v, audit %v", got.Notifications, got.Audit)
			}
		})
	}
}

// The scrutineers' review is due when the commission appoints them, the
// 20th day before the vote; presidents are appointed by the Court of
// Appeal, on its own calendar.
func TestDue(t *testing.T) {
	h := sdktest.New(t, manifest)
	h.Now = at("2026-04-20 10:00")
	svc := &service{now: h.Now}
	for i, action := range []string{"scrutineer", "president"} {
		res, err := h.Handle(context.Background(), svc, sdktest.Call{Action: action, Actor: sdktest.Citizen(int64(i + 1)),
			Values: h.Example(action), Config: h.ConfigExample()})
		if err != nil || res.Outcome != sdk.OutcomeOK {
			t.Fatalf("%s: %+v, %v", action, res, err)
		}
	}
	got := h.Tenant(1)
	want := time.Date(2026, 5, 17, 23, 59, 59, 0, sdk.Zone) // 6 June - 20 days, to the end of the day
	if due := got.Dossiers[0].GetDueUnix(); due != want.Unix() {
		t.Errorf("scrutineer due %v, want %v", time.Unix(due, 0).In(sdk.Zone), want)
	}
	if due := got.Dossiers[1].GetDueUnix(); due != 0 {
		t.Errorf("president due %v, want none", time.Unix(due, 0).In(sdk.Zone))
	}
}

// One offer per citizen, round and role; another role, a new round,
// another citizen, or another town, starts afresh.
func TestOneOfferPerRoundAndRole(t *testing.T) {
	ctx := context.Background()
	h := sdktest.New(t, manifest)
	h.Now = at("2026-04-20 10:00")
	svc := &service{now: h.Now}
	round := func(id string) map[string]any {
		return map[string]any{"rounds": id + "; Tornata " + id + "; 2026-06-07; 2026-05-08", "office_email": "elettorale@comune.example"}
	}
	steps := []struct {
		tenant  int64
		citizen int64
		action  string
		round   string
		outcome string
	}{
		{1, 4, "scrutineer", "a", sdk.OutcomeOK},
		{1, 4, "scrutineer", "a", sdk.OutcomeRefused},
		{1, 4, "president", "a", sdk.OutcomeOK},
		{1, 4, "president", "a", sdk.OutcomeRefused},
		{1, 5, "scrutineer", "a", sdk.OutcomeOK},
		{1, 4, "scrutineer", "b", sdk.OutcomeOK},
		{2, 4, "scrutineer", "a", sdk.OutcomeOK},
	}
	for i, st := range steps {
		res, err := h.Handle(ctx, svc, sdktest.Call{Tenant: st.tenant, Actor: sdktest.Citizen(st.citizen), Action: st.action,
			Lang: "de", Values: h.Example(st.action), Config: round(st.round)})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if res.Outcome != st.outcome {
			t.Fatalf("step %d: %q (%s), want %q", i, res.Outcome, res.Message, st.outcome)
		}
		if st.outcome == sdk.OutcomeRefused && !strings.Contains(res.Message, "bereits gemeldet") {
			t.Errorf("step %d: %q", i, res.Message)
		}
	}
	if n := len(h.Tenant(1).Dossiers); n != 4 {
		t.Errorf("tenant 1: %d dossiers, want 4", n)
	}
	if n := len(h.Tenant(1).Notifications); n != 8 {
		t.Errorf("tenant 1: %d notifications, want 8 (citizen and office, four times)", n)
	}
}

// An offer remembered by version 0.1, one per round whatever the role,
// still counts for its role.
func TestLegacyOffer(t *testing.T) {
	ctx := context.Background()
	h := sdktest.New(t, manifest)
	h.Now = at("2026-04-20 10:00")
	if err := h.For(1, sdktest.Citizen(4)).PutSetting(ctx, legacyOfferKey(referendum, 4),
		offer{Role: "scrutineer", Number: "2026-000001"}); err != nil {
		t.Fatal(err)
	}
	for action, outcome := range map[string]string{"scrutineer": sdk.OutcomeRefused, "president": sdk.OutcomeOK} {
		res, err := h.Handle(ctx, &service{now: h.Now}, sdktest.Call{Actor: sdktest.Citizen(4), Action: action,
			Values: h.Example(action), Config: h.ConfigExample()})
		if err != nil || res.Outcome != outcome {
			t.Errorf("%s: %+v, %v; want %s", action, res, err, outcome)
		}
	}
}

// Only a logged-in citizen offers for themselves.
func TestStaffCannotOffer(t *testing.T) {
	h := sdktest.New(t, manifest)
	h.Now = at("2026-04-20 10:00")
	res, err := h.Handle(context.Background(), &service{now: h.Now}, sdktest.Call{Actor: sdktest.Staff(9, "operator"),
		Action: "scrutineer", Values: h.Example("scrutineer"), Config: h.ConfigExample()})
	if err != nil || res.Outcome != sdk.OutcomeRefused {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := h.Tenant(1); len(got.Dossiers) != 0 {
		t.Errorf("dossiers %v", got.Dossiers)
	}
}

// offerAs makes an offer of citizen in lang and returns its dossier id.
func offerAs(t *testing.T, h *sdktest.Host, svc *service, citizen sdk.Actor, lang, action string) int64 {
	t.Helper()
	res, err := h.Handle(context.Background(), svc, sdktest.Call{Actor: citizen, Lang: lang, Action: action,
		Values: h.Example(action), Config: h.ConfigExample()})
	if err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("offer: %+v, %v", res, err)
	}
	return res.DossierID
}

func TestReview(t *testing.T) {
	staff := sdktest.Staff(9, "operator")
	tests := []struct {
		name   string
		lang   string // the citizen's
		role   string
		action string
		reason string
		status string
		reply  []string // in the public reply
	}{
		{name: "approve a scrutineer", lang: "it", role: "scrutineer", action: "approve", status: statusApproved,
			reply: []string{"è stata accolta", "Commissione elettorale"}},
		{name: "approve a president, in German", lang: "de", role: "president", action: "approve", status: statusApproved,
			reply: []string{"wurde angenommen", "Berufungsgericht"}},
		{name: "reject, in English", lang: "en", role: "scrutineer", action: "reject", reason: "Not on the register of scrutineers",
			status: statusRejected, reply: []string{"has not been accepted", "Reason: Not on the register of scrutineers. For questions"}},
		{name: "reject, the reason already punctuated", lang: "it", role: "president", action: "reject",
			reason: "Non risulta iscritto all'albo dei presidenti.", status: statusRejected,
			reply: []string{"Motivo: Non risulta iscritto all'albo dei presidenti. Per chiarimenti"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			h := sdktest.New(t, manifest)
			h.Now = at("2026-04-20 10:00")
			svc := &service{now: h.Now}
			id := offerAs(t, h, svc, sdktest.Citizen(4), tc.lang, tc.role)
			var values any
			if tc.action == "reject" {
				values = map[string]any{"reason": tc.reason}
			}
			call := sdktest.Call{Actor: staff, Action: tc.action, DossierID: id, Values: values, Config: h.ConfigExample()}
			res, err := h.Handle(ctx, svc, call)
			if err != nil || res.Outcome != sdk.OutcomeOK {
				t.Fatalf("%+v, %v", res, err)
			}
			got := h.Tenant(1)
			d := got.Dossiers[0]
			if d.GetStatus() != tc.status {
				t.Errorf("status %s, want %s", d.GetStatus(), tc.status)
			}
			if len(got.Messages) != 1 || got.Messages[0].Internal || got.Messages[0].DossierID != id {
				t.Fatalf("messages %+v", got.Messages)
			}
			for _, s := range tc.reply {
				if !strings.Contains(got.Messages[0].Body, s) {
					t.Errorf("reply %q, want %q in it", got.Messages[0].Body, s)
				}
			}
			last := got.Events[len(got.Events)-1]
			if last.Status != tc.status || (tc.reason != "" && !strings.Contains(last.Note, strings.TrimSuffix(tc.reason, "."))) {
				t.Errorf("history %+v", last)
			}
			if a := got.Audit[len(got.Audit)-1]; a.Action != "scrutineer."+tc.action {
				t.Errorf("audit %+v", a)
			}

			// Decided once: a second decision, either way, is refused and
			// changes nothing.
			for _, again := range []string{"approve", "reject"} {
				call.Action, call.Values = again, nil
				if again == "reject" {
					call.Values = map[string]any{"reason": "Un altro motivo qualsiasi"}
				}
				res, err := h.Handle(ctx, svc, call)
				if err != nil || res.Outcome != sdk.OutcomeRefused || !strings.Contains(res.Message, "già stata esaminata") {
					t.Errorf("%s again: %+v, %v", again, res, err)
				}
			}
			if after := h.Tenant(1); len(after.Messages) != 1 || after.Dossiers[0].GetStatus() != tc.status {
				t.Errorf("changed after the decision: %+v", after.Messages)
			}
		})
	}
}

// A reply the host cannot take leaves the offer to be decided again.
func TestReviewReplyFails(t *testing.T) {
	ctx := context.Background()
	h := sdktest.New(t, manifest)
	h.Now = at("2026-04-20 10:00")
	svc := &service{now: h.Now}
	id := offerAs(t, h, svc, sdktest.Citizen(4), "it", "scrutineer")
	h.FailOn("AddDossierMessage", &sdk.HostError{Code: 14, Msg: "down"})
	call := sdktest.Call{Actor: sdktest.Staff(9, "operator"), Action: "approve", DossierID: id, Config: h.ConfigExample()}
	if _, err := h.Handle(ctx, svc, call); !errors.Is(err, &sdk.HostError{Code: 14}) {
		t.Fatalf("err %v", err)
	}
	if st := h.Tenant(1).Dossiers[0].GetStatus(); st != statusSubmitted {
		t.Fatalf("status %s after a failed reply", st)
	}
	h.FailOn("AddDossierMessage", nil)
	if res, err := h.Handle(ctx, svc, call); err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("again: %+v, %v", res, err)
	}
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

func TestExport(t *testing.T) {
	ctx := context.Background()
	h := sdktest.New(t, manifest)
	h.Now = at("2026-04-20 10:00")
	svc := &service{now: h.Now}
	staff := sdktest.Staff(9, "operator")
	config := h.ConfigExample()

	// Offers for the referendum: Anna and Bruno as scrutineers (Anna
	// approved, Bruno not checked yet), Carla as scrutineer (rejected),
	// Dario as president (approved), and a name that is a formula.
	people := []struct {
		name, role, decision string
	}{
		{"Anna Bianchi", "scrutineer", "approve"},
		{"Bruno Verdi", "scrutineer", ""},
		{"Carla Neri", "scrutineer", "reject"},
		{"Dario Gallo", "president", "approve"},
		{`=HYPERLINK("http://evil.example","x")`, "scrutineer", "approve"},
	}
	for i, p := range people {
		citizen := sdk.Actor{Kind: "citizen", ID: int64(i + 1), Name: p.name}
		id := offerAs(t, h, svc, citizen, "it", p.role)
		if p.decision == "" {
			continue
		}
		var values any
		if p.decision == "reject" {
			values = map[string]any{"reason": "Non iscritta all'albo degli scrutatori"}
		}
		if res, err := h.Handle(ctx, svc, sdktest.Call{Actor: staff, Action: p.decision, DossierID: id, Values: values,
			Config: config}); err != nil || res.Outcome != sdk.OutcomeOK {
			t.Fatalf("%s %s: %+v, %v", p.decision, p.name, res, err)
		}
	}
	// An approved scrutineer of the next round is not in this one's list.
	h.Now = at("2026-05-20 10:00")
	svc.now = h.Now
	later := offerAs(t, h, svc, sdk.Actor{Kind: "citizen", ID: 99, Name: "Elena Riva"}, "it", "scrutineer")
	if res, err := h.Handle(ctx, svc, sdktest.Call{Actor: staff, Action: "approve", DossierID: later, Config: config}); err != nil ||
		res.Outcome != sdk.OutcomeOK {
		t.Fatalf("approve: %+v, %v", res, err)
	}

	tests := []struct {
		name   string
		values map[string]any
		lang   string
		file   string
		header string
		names  []string // in order
		status string   // of the first row
	}{
		{name: "approved scrutineers", values: map[string]any{"round": referendum, "role": "scrutineer"}, lang: "it",
			file: "scrutatori-2026-06-referendum.csv", header: "Pratica;Data della disponibilità;Tornata;Ruolo;Stato;Nome e cognome",
			names: []string{"Anna Bianchi", `'=HYPERLINK("http://evil.example","x")`}, status: "accolta"},
		{name: "scrutineers not rejected", values: map[string]any{"round": referendum, "role": "scrutineer", "include": "open"},
			lang: "it", file: "scrutatori-2026-06-referendum.csv",
			names: []string{"Anna Bianchi", "Bruno Verdi", `'=HYPERLINK("http://evil.example","x")`}},
		{name: "presidents, in German", values: map[string]any{"round": referendum, "role": "president"}, lang: "de",
			file: "vorsitzende-2026-06-referendum.csv", header: "Vorgang;Datum der Meldung;Wahlgang;Funktion;Status;Name",
			names: []string{"Dario Gallo"}, status: "angenommen"},
		{name: "the open round by default", values: map[string]any{"role": "scrutineer"}, lang: "en",
			file: "scrutineers-2026-11-comunali.csv", names: []string{"Elena Riva"}, status: "accepted"},
		{name: "a round nobody offered for", values: map[string]any{"round": "2030-x", "role": "president"}, lang: "it",
			file: "presidenti-2030-x.csv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := h.Handle(ctx, svc, sdktest.Call{Actor: staff, Lang: tc.lang, Action: "export", Values: tc.values,
				Config: config})
			if err != nil || res.Outcome != sdk.OutcomeOK || res.File == nil {
				t.Fatalf("%+v, %v", res, err)
			}
			if res.File.Name != tc.file || res.File.ContentType != "text/csv; charset=utf-8" {
				t.Errorf("file %s (%s), want %s", res.File.Name, res.File.ContentType, tc.file)
			}
			rows := readCSV(t, res.File.Content)
			if tc.header != "" && !strings.HasPrefix(strings.Join(rows[0], ";"), tc.header) {
				t.Errorf("header %v, want %s…", rows[0], tc.header)
			}
			var names []string
			for _, r := range rows[1:] {
				if len(r) != len(columns) {
					t.Fatalf("row %v: %d cells, want %d", r, len(r), len(columns))
				}
				names = append(names, r[5])
				if !strings.HasPrefix(r[8], "'+39") {
					t.Errorf("phone %q not defused", r[8])
				}
			}
			if strings.Join(names, "|") != strings.Join(tc.names, "|") {
				t.Errorf("names %q, want %q", names, tc.names)
			}
			if tc.status != "" && rows[1][4] != tc.status {
				t.Errorf("status %q, want %q", rows[1][4], tc.status)
			}
		})
	}

	// The first row in full, as the office reads it.
	res, err := h.Handle(ctx, svc, sdktest.Call{Actor: staff, Action: "export", Config: config,
		Values: map[string]any{"round": referendum, "role": "president"}})
	if err != nil {
		t.Fatal(err)
	}
	row := readCSV(t, res.File.Content)[1]
	want := []string{"2026-000004", "2026-04-20 10:00", "Referendum popolare 2026", "presidente di seggio", "accolta",
		"Dario Gallo", "1975-09-30", "", "'+39 333 123 4567", "scrutatore"}
	if strings.Join(row, "|") != strings.Join(want, "|") {
		t.Errorf("row\n %q\nwant\n %q", row, want)
	}
	if a := h.Tenant(1).Audit; a[len(a)-1].Action != "scrutineer.export" {
		t.Errorf("export not audited: %+v", a[len(a)-1])
	}
}

// The export reads every page of the host's list, however many offers.
func TestExportPages(t *testing.T) {
	ctx := context.Background()
	h := sdktest.New(t, manifest)
	h.Now = at("2026-04-20 10:00")
	host := h.For(1, sdktest.Citizen(1))
	const n = 2*pageSize + 17
	for i := range n {
		role := "scrutineer"
		if i%7 == 0 {
			role = "president"
		}
		if _, err := host.CreateDossier(ctx, sdk.NewDossier{Title: "Offerta", Status: statusApproved,
			Data: offerData{Role: role, RoundID: referendum, Round: "Referendum", Name: "P", Phone: "02 123456", Lang: "it"}}); err != nil {
			t.Fatal(err)
		}
	}
	svc := &service{now: h.Now}
	res, err := h.Handle(ctx, svc, sdktest.Call{Actor: sdktest.Staff(9), Action: "export", Config: h.ConfigExample(),
		Values: map[string]any{"role": "scrutineer"}})
	if err != nil {
		t.Fatal(err)
	}
	want := n - (n+6)/7
	if rows := readCSV(t, res.File.Content); len(rows)-1 != want {
		t.Errorf("%d rows, want %d", len(rows)-1, want)
	}
	var numbers []string
	for _, r := range readCSV(t, res.File.Content)[1:] {
		numbers = append(numbers, r[0])
	}
	for i := 1; i < len(numbers); i++ {
		if numbers[i-1] >= numbers[i] {
			t.Fatalf("rows out of order at %d: %s, %s", i, numbers[i-1], numbers[i])
		}
	}
}

// With no round configured, the office names the round to export.
func TestExportWhichRound(t *testing.T) {
	h := sdktest.New(t, manifest)
	res, err := h.Handle(context.Background(), &service{}, sdktest.Call{Actor: sdktest.Staff(9), Action: "export",
		Config: map[string]any{}, Values: map[string]any{"role": "scrutineer"}})
	if err != nil || res.Outcome != sdk.OutcomeInvalid || res.Errors[0].Field != "/round" {
		t.Fatalf("%+v, %v", res, err)
	}
}

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"Anna":             "Anna",
		"=1+1":             "'=1+1",
		"+39 02 123":       "'+39 02 123",
		"-2":               "'-2",
		"@SUM(A1)":         "'@SUM(A1)",
		"\t=1":             "'\t=1",
		"\r=1":             "'\r=1",
		"a=1":              "a=1",
		"2026-000001":      "2026-000001",
		"'already quoted'": "'already quoted'",
	} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRounds(t *testing.T) {
	good := "b; Comunali; 2026-11-16, 2026-11-15; 2026-10-09\r\n\na; Referendum; 2026-06-07; 2026-05-08\n"
	rs, err := parseRounds(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].ID != "a" || rs[1].ID != "b" || !rs[1].Days[0].Equal(time.Date(2026, 11, 15, 0, 0, 0, 0, sdk.Zone)) {
		t.Errorf("rounds %+v", rs)
	}
	for _, bad := range []string{
		"a; A; 2026-06-07",                                           // three parts
		"A; A; 2026-06-07; 2026-05-08",                               // upper case code
		"a; ; 2026-06-07; 2026-05-08",                                // no name
		"a; A; ; 2026-05-08",                                         // no voting day
		"a; A; 2026-06-31; 2026-05-08",                               // no such day
		"a; A; 2026-06-07; 2026-06-07",                               // deadline on voting day
		"a; A; 2026-06-07; 2026-05-08\na; B; 2026-07-07; 2026-06-08", // repeated code
	} {
		if _, err := parseRounds(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	// What the plugin reads, the admin page lets through: the config
	// schema's pattern takes the same lines.
	var schema struct {
		Properties map[string]struct {
			Pattern string `json:"pattern"`
		} `json:"properties"`
	}
	h := sdktest.New(t, manifest)
	if err := json.Unmarshal(h.Manifest().GetConfigSchemaJson(), &schema); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(schema.Properties["rounds"].Pattern)
	for _, lines := range []string{strings.TrimSpace(strings.ReplaceAll(good, "\r\n\n", "\n")), h.ConfigExample()["rounds"].(string),
		"2027-comunali; Elezioni comunali 2027; 2027-05-23 2027-05-24; 2027-04-15"} {
		if !re.MatchString(lines) {
			t.Errorf("the config schema refuses %q", lines)
		}
	}
}

// The demo towns' configurations are ones the admin page would save and
// the plugin reads.
func TestDemoTenants(t *testing.T) {
	configs := demoConfigs(t, "scrutineer")
	if len(configs) == 0 {
		t.Fatal("no demo town enables the service")
	}
	h := sdktest.New(t, manifest)
	for town, cfg := range configs {
		req := h.Request(sdktest.Call{Action: "scrutineer", Values: h.Example("scrutineer"), Config: cfg})
		var c config
		if err := req.DecodeConfig(&c); err != nil {
			t.Fatalf("%s: %v", town, err)
		}
		if rs, err := parseRounds(c.Rounds); err != nil || len(rs) == 0 {
			t.Errorf("%s: rounds %v, %v", town, rs, err)
		}
	}
}

// demoConfigs reads the configuration of service in every demo town.
func demoConfigs(t *testing.T, service string) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob("../../tenants/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("demo towns: %v", err)
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var town struct {
			Services []struct {
				ID     string         `yaml:"id"`
				Config map[string]any `yaml:"config"`
			} `yaml:"services"`
		}
		if err := yaml.Unmarshal(data, &town); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, s := range town.Services {
			if s.ID == service {
				out[filepath.Base(f)] = s.Config
			}
		}
	}
	return out
}
