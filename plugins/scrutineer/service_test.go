package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

func TestManifest(t *testing.T) {
	m := sdktest.CheckManifest(t, manifest)
	if m.GetId() != "scrutineer" || m.GetCategory() != "elezioni" || len(m.GetActions()) != 2 {
		t.Errorf("manifest %s/%s with %d actions", m.GetId(), m.GetCategory(), len(m.GetActions()))
	}
	sdktest.CheckMessages(t, msg)
}

// at is a moment in the town's time.
func at(s string) func() time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, sdk.Zone)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return t }
}

func TestOffer(t *testing.T) {
	open := map[string]any{"round": map[string]any{"id": "2026-06-europee", "name": "Europee 2026", "deadline": "2026-05-08"}}
	tests := []struct {
		name    string
		action  string
		change  map[string]any // over the form's example
		config  map[string]any
		now     string
		outcome string
		fields  []string // invalid: the fields in error, in order
		text    string   // in the message
	}{
		{name: "scrutineer", action: "scrutineer", config: open, now: "2026-04-20 10:00", outcome: sdk.OutcomeOK, text: "come scrutatore"},
		{name: "president", action: "president", config: open, now: "2026-04-20 10:00", outcome: sdk.OutcomeOK, text: "come presidente di seggio"},
		{name: "last day, late evening", action: "scrutineer", config: open, now: "2026-05-08 23:59", outcome: sdk.OutcomeOK},
		{name: "after the deadline", action: "scrutineer", config: open, now: "2026-05-09 00:00", outcome: sdk.OutcomeRefused, text: "8 maggio 2026"},
		{name: "no round open", action: "scrutineer", config: map[string]any{}, now: "2026-04-20 10:00", outcome: sdk.OutcomeRefused, text: "nessuna tornata"},
		{name: "not in the register", action: "scrutineer", change: map[string]any{"in_register": false}, config: open,
			now: "2026-04-20 10:00", outcome: sdk.OutcomeInvalid, fields: []string{"/in_register"}, text: "albo degli scrutatori"},
		{name: "president without diploma, over 70", action: "president", change: map[string]any{"diploma": false, "under_70": false},
			config: open, now: "2026-04-20 10:00", outcome: sdk.OutcomeInvalid, fields: []string{"/diploma", "/under_70"}},
		{name: "incompatible", action: "president", change: map[string]any{"no_incompatibility": false, "voter_here": false},
			config: open, now: "2026-04-20 10:00", outcome: sdk.OutcomeInvalid, fields: []string{"/voter_here", "/no_incompatibility"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := sdktest.New(t, manifest)
			h.Now = at(tc.now)
			values := h.Example(tc.action)
			for k, v := range tc.change {
				values[k] = v
			}
			res, err := h.Handle(context.Background(), &service{now: h.Now},
				sdktest.Call{Action: tc.action, Actor: sdktest.Citizen(4), Values: values, Config: tc.config})
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
				if len(got.Dossiers) != 0 || len(got.Settings) != 0 {
					t.Errorf("state left behind: %+v", got)
				}
				return
			}
			d := got.Dossier(res.DossierNumber)
			if d == nil || d.GetCitizenId() != 4 || !strings.Contains(string(d.GetDataJson()), `"role":"`+tc.action+`"`) {
				t.Fatalf("dossier %v", d)
			}
			if _, ok := got.Settings[offerKey("2026-06-europee", 4)]; !ok {
				t.Errorf("offer not remembered: %v", got.Settings)
			}
			if len(got.Notifications) != 1 || len(got.Audit) != 1 {
				t.Errorf("notifications %v, audit %v", got.Notifications, got.Audit)
			}
		})
	}
}

// One offer per citizen and round, whichever the role; a new round, or
// another citizen, or another town, starts afresh.
func TestOneOfferPerRound(t *testing.T) {
	ctx := context.Background()
	h := sdktest.New(t, manifest)
	h.Now = at("2026-04-20 10:00")
	svc := &service{now: h.Now}
	round := func(id string) map[string]any {
		return map[string]any{"round": map[string]any{"id": id, "name": "Tornata " + id, "deadline": "2026-05-08"},
			"office_email": "elettorale@comune.example"}
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
		{1, 4, "president", "a", sdk.OutcomeRefused},
		{1, 5, "president", "a", sdk.OutcomeOK},
		{1, 4, "president", "b", sdk.OutcomeOK},
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
	if n := len(h.Tenant(1).Dossiers); n != 3 {
		t.Errorf("tenant 1: %d dossiers, want 3", n)
	}
	if n := len(h.Tenant(1).Notifications); n != 6 {
		t.Errorf("tenant 1: %d notifications, want 6 (citizen and office, three times)", n)
	}
}

// Only a logged-in citizen offers for themselves.
func TestStaffCannotOffer(t *testing.T) {
	h := sdktest.New(t, manifest)
	h.Now = at("2026-04-20 10:00")
	res, err := h.Handle(context.Background(), &service{now: h.Now}, sdktest.Call{Actor: sdktest.Staff(9, "operator"),
		Action: "scrutineer", Values: h.Example("scrutineer"),
		Config: map[string]any{"round": map[string]any{"id": "a", "name": "A", "deadline": "2026-05-08"}}})
	if err != nil || res.Outcome != sdk.OutcomeRefused {
		t.Fatalf("%+v, %v", res, err)
	}
}
