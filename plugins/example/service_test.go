package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

// The manifest parses, is complete in every language, follows the form
// conventions, and its examples validate.
func TestManifest(t *testing.T) {
	m := sdktest.CheckManifest(t, manifest)
	if m.GetId() != "example" {
		t.Errorf("id %q", m.GetId())
	}
	sdktest.CheckMessages(t, msg)
	sdktest.CheckMessages(t, subjects)

	// subjects repeats the form's choice titles: they must not drift apart.
	var form struct {
		Properties struct {
			Subject struct {
				Enum   []string            `json:"enum"`
				Titles map[string][]string `json:"x-enum-titles"`
			} `json:"subject"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(m.GetForms()[0].GetSchemaJson(), &form); err != nil {
		t.Fatal(err)
	}
	s := form.Properties.Subject
	for i, key := range s.Enum {
		for _, lang := range sdk.Languages {
			if got := subjects.Get(lang, key); got != s.Titles[lang][i] {
				t.Errorf("subject %s in %s: %q here, %q in the manifest", key, lang, got, s.Titles[lang][i])
			}
		}
	}
}

func TestSubmit(t *testing.T) {
	config := map[string]any{"office_email": "urp@comune.example", "max_message_length": 200}
	tests := []struct {
		name       string
		lang       string
		message    string
		outcome    string
		field      string // for invalid
		wantInText string // in the response message or field error
	}{
		{name: "ok", message: "Quando passa la raccolta degli ingombranti?", outcome: sdk.OutcomeOK, wantInText: "2026-000001"},
		{name: "ok in German", lang: "de", message: "Wann wird der Sperrmüll abgeholt?", outcome: sdk.OutcomeOK, wantInText: "Vorgang Nr. 2026-000001"},
		{name: "only spaces", message: "              ", outcome: sdk.OutcomeInvalid, field: "/message", wantInText: "Scrivi"},
		{name: "over the town's limit", lang: "en", message: strings.Repeat("a", 201), outcome: sdk.OutcomeInvalid,
			field: "/message", wantInText: "at most 200 characters"},
		{name: "limit counts characters, not bytes", message: strings.Repeat("è", 200), outcome: sdk.OutcomeOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := sdktest.New(t, manifest)
			h.Now = fixedNow
			values := h.Example("request")
			values["message"] = tc.message
			res, err := h.Handle(context.Background(), &service{}, sdktest.Call{
				Action: "submit", Lang: tc.lang, Actor: sdktest.Citizen(7), Values: values, Config: config})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %q (%+v), want %q", res.Outcome, res, tc.outcome)
			}
			got := h.Tenant(1)
			if tc.outcome != sdk.OutcomeOK {
				if res.Errors[0].Field != tc.field || !strings.Contains(res.Errors[0].Message, tc.wantInText) {
					t.Errorf("errors %+v, want %s with %q", res.Errors, tc.field, tc.wantInText)
				}
				if len(got.Dossiers)+len(got.Notifications)+len(got.Audit) != 0 {
					t.Errorf("a refused request left state behind: %+v", got)
				}
				return
			}
			if !strings.Contains(res.Message, tc.wantInText) {
				t.Errorf("message %q, want %q in it", res.Message, tc.wantInText)
			}
			if len(got.Dossiers) != 1 || got.Dossiers[0].GetCitizenId() != 7 || res.DossierNumber != got.Dossiers[0].GetNumber() {
				t.Fatalf("dossiers %+v, response %+v", got.Dossiers, res)
			}
			if len(got.Notifications) != 2 || got.Notifications[0].To != "citizen:7" || got.Notifications[1].To != "urp@comune.example" {
				t.Errorf("notifications %+v: want the citizen, then the office", got.Notifications)
			}
			if len(got.Audit) != 1 || got.Audit[0].Object != "dossier:"+res.DossierNumber {
				t.Errorf("audit %+v", got.Audit)
			}
		})
	}
}

// A notification the host cannot queue does not undo a request already
// filed; a dossier the host cannot create fails the request.
func TestHostFailures(t *testing.T) {
	ctx := context.Background()
	config := map[string]any{"office_email": "urp@comune.example"}
	h := sdktest.New(t, manifest)
	h.FailOn("Notify", errors.New("outbox unavailable"))
	res, err := h.Handle(ctx, &service{}, sdktest.Call{Action: "submit", Values: h.Example("request"), Config: config})
	if err != nil || res.Outcome != sdk.OutcomeOK || res.DossierNumber == "" {
		t.Fatalf("with notifications failing: %+v, %v", res, err)
	}

	h.FailOn("CreateDossier", sdk.ErrPermissionDenied)
	if _, err := h.Handle(ctx, &service{}, sdktest.Call{Action: "submit", Values: h.Example("request"), Config: config}); !errors.Is(err, sdk.ErrPermissionDenied) {
		t.Fatalf("with dossiers refused: %v", err)
	}
}

// Two towns' requests are numbered and kept apart.
func TestTenantsApart(t *testing.T) {
	ctx := context.Background()
	h := sdktest.New(t, manifest)
	for _, tenant := range []int64{1, 2, 2} {
		c := sdktest.Call{Tenant: tenant, Action: "submit", Values: h.Example("request"),
			Config: map[string]any{"office_email": "urp@comune.example"}}
		if _, err := h.Handle(ctx, &service{}, c); err != nil {
			t.Fatal(err)
		}
	}
	if n1, n2 := len(h.Tenant(1).Dossiers), len(h.Tenant(2).Dossiers); n1 != 1 || n2 != 2 {
		t.Fatalf("tenant 1 has %d dossiers, tenant 2 %d", n1, n2)
	}
	if got := h.Tenant(2).Dossiers[1].GetNumber(); !strings.HasSuffix(got, "-000002") {
		t.Errorf("second dossier of tenant 2 is %s", got)
	}
}

func fixedNow() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }
