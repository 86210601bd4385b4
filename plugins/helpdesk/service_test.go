package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

func TestManifest(t *testing.T) {
	m := sdktest.CheckManifest(t, manifest)
	if m.GetId() != "helpdesk" || m.GetCategory() != "segnalazioni" {
		t.Errorf("manifest %s/%s", m.GetId(), m.GetCategory())
	}
	sdktest.CheckMessages(t, msg)
}

func TestSubmit(t *testing.T) {
	problem := map[string]any{"kind": "problem", "topic": "lighting", "subject": "Lampione spento in via Verdi",
		"description": "Il lampione davanti al civico 12 è spento da una settimana.",
		"location":    map[string]any{"address": "Via Verdi 12"}, "consent": true}
	question := map[string]any{"kind": "question", "topic": "waste", "subject": "Ritiro sfalci",
		"description": "In quali giorni passa la raccolta degli sfalci?", "consent": true}
	without := func(m map[string]any, key string) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			if k != key {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name     string
		values   map[string]any
		config   map[string]any
		lang     string
		outcome  string
		title    string
		priority string
		text     string
	}{
		{name: "problem", values: problem, outcome: sdk.OutcomeOK, title: "Segnalazione: Lampione spento in via Verdi",
			priority: "normal", text: "entro 30 giorni"},
		{name: "urgent topic", values: problem, config: map[string]any{"urgent_topics": []string{"lighting"}, "reply_days": 5},
			outcome: sdk.OutcomeOK, priority: "high", text: "entro 5 giorni"},
		{name: "question needs no place", values: question, lang: "de", outcome: sdk.OutcomeOK, title: "Anfrage: Ritiro sfalci",
			priority: "normal", text: "Ihre Anfrage"},
		{name: "problem without a place", values: without(problem, "location"), outcome: sdk.OutcomeInvalid, text: "dove si trova"},
		{name: "problem with a blank address", values: func() map[string]any {
			v := without(problem, "location")
			v["location"] = map[string]any{"address": "   ", "landmark": "vicino alla piazza"}
			return v
		}(), outcome: sdk.OutcomeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := sdktest.New(t, manifest)
			res, err := h.Handle(context.Background(), &service{}, sdktest.Call{Action: "submit", Lang: tc.lang,
				Values: tc.values, Config: tc.config})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %q (%+v), want %q", res.Outcome, res, tc.outcome)
			}
			got := h.Tenant(1)
			if tc.outcome == sdk.OutcomeInvalid {
				if res.Errors[0].Field != "/location/address" || !strings.Contains(res.Errors[0].Message, tc.text) {
					t.Errorf("errors %+v", res.Errors)
				}
				if len(got.Dossiers) != 0 {
					t.Errorf("dossier left behind")
				}
				return
			}
			if !strings.Contains(res.Message, tc.text) {
				t.Errorf("message %q, want %q in it", res.Message, tc.text)
			}
			d := got.Dossier(res.DossierNumber)
			if d == nil || (tc.title != "" && d.GetTitle() != tc.title) {
				t.Fatalf("dossier %v, want title %q", d, tc.title)
			}
			var data struct {
				Priority string `json:"priority"`
			}
			if err := json.Unmarshal(d.GetDataJson(), &data); err != nil || data.Priority != tc.priority {
				t.Errorf("data %s, want priority %s", d.GetDataJson(), tc.priority)
			}
			if len(got.Notifications) != 1 || got.Notifications[0].To != "citizen:1" || len(got.Audit) != 1 {
				t.Errorf("notifications %v, audit %v", got.Notifications, got.Audit)
			}
		})
	}
}
