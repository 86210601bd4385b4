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
	if m.GetId() != "cemetery" || m.GetCategory() != "servizi-cimiteriali" {
		t.Errorf("manifest %s/%s", m.GetId(), m.GetCategory())
	}
	sdktest.CheckMessages(t, msg)
}

func TestRequest(t *testing.T) {
	tests := []struct {
		name    string
		change  map[string]any // over the form's example
		config  func(map[string]any)
		lang    string
		outcome string
		field   string
		text    string
		cents   int64
	}{
		{name: "niche for 30 years", outcome: sdk.OutcomeOK, cents: 150000, text: "€ 1.500,00"},
		{name: "in English", lang: "en", outcome: sdk.OutcomeOK, cents: 150000, text: "€1,500.00"},
		{name: "name without 'Cimitero', other case", change: map[string]any{"cemetery": "san michele"}, outcome: sdk.OutcomeOK, cents: 150000},
		{name: "Swiss francs with decimals", config: func(c map[string]any) {
			c["currency"] = "CHF"
			c["tariffs"].(map[string]any)["niche"] = "30=1250,50"
		}, lang: "de", outcome: sdk.OutcomeOK, cents: 125050, text: "CHF 1'250.50"},
		{name: "free ground plot", change: map[string]any{"place": "ground", "years": 10}, config: func(c map[string]any) {
			c["tariffs"].(map[string]any)["ground"] = "10=0"
		}, outcome: sdk.OutcomeOK, text: "ti contatterà"},
		{name: "family tomb for four", change: map[string]any{"place": "tomb", "years": 99,
			"beneficiaries": "Anna Neri\nLuca Neri\n\nMarta Neri\nPaolo Neri"}, outcome: sdk.OutcomeOK, cents: 1800000},
		{name: "unknown cemetery", change: map[string]any{"cemetery": "Cimitero degli Inglesi"}, outcome: sdk.OutcomeInvalid,
			field: "/cemetery", text: "Cimitero maggiore; Cimitero di San Michele"},
		{name: "no cemetery named, two in town", change: map[string]any{"cemetery": ""}, outcome: sdk.OutcomeInvalid, field: "/cemetery"},
		{name: "no cemetery named, one in town", change: map[string]any{"cemetery": ""},
			config: func(c map[string]any) { c["cemeteries"] = "Cimitero comunale" }, outcome: sdk.OutcomeOK, cents: 150000},
		{name: "duration not on offer", change: map[string]any{"years": 50}, outcome: sdk.OutcomeInvalid, field: "/years", text: "30 o 99 anni"},
		{name: "type not on offer", change: map[string]any{"place": "ossuary"},
			config: func(c map[string]any) { delete(c["tariffs"].(map[string]any), "ossuary") }, outcome: sdk.OutcomeInvalid, field: "/place"},
		{name: "two people in a niche", change: map[string]any{"beneficiaries": "Anna Neri\nLuca Neri"}, outcome: sdk.OutcomeInvalid,
			field: "/beneficiaries", text: "una sola persona"},
		{name: "tomb over its places", change: map[string]any{"place": "tomb", "years": 99, "beneficiaries": "A\nB\nC"},
			config: func(c map[string]any) { c["tomb_places"] = 2 }, outcome: sdk.OutcomeInvalid, field: "/beneficiaries", text: "al massimo 2"},
		{name: "blank lines only", change: map[string]any{"beneficiaries": " \n \n "}, outcome: sdk.OutcomeInvalid, field: "/beneficiaries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := sdktest.New(t, manifest)
			values, config := h.Example("concession"), h.ConfigExample()
			for k, v := range tc.change {
				values[k] = v
			}
			if tc.config != nil {
				tc.config(config)
			}
			res, err := h.Handle(context.Background(), &service{}, sdktest.Call{Action: "request", Lang: tc.lang, Values: values, Config: config})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %q (%+v), want %q", res.Outcome, res, tc.outcome)
			}
			got := h.Tenant(1)
			if tc.outcome == sdk.OutcomeInvalid {
				if res.Errors[0].Field != tc.field || !strings.Contains(res.Errors[0].Message, tc.text) {
					t.Errorf("errors %+v, want %s with %q", res.Errors, tc.field, tc.text)
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
			var data struct {
				Beneficiaries []string `json:"beneficiaries"`
				FeeCents      int64    `json:"fee_cents"`
			}
			if err := json.Unmarshal(d.GetDataJson(), &data); err != nil || data.FeeCents != tc.cents || len(data.Beneficiaries) == 0 {
				t.Errorf("dossier data %s (%v)", d.GetDataJson(), err)
			}
			if tc.cents == 0 {
				if len(got.Payments) != 0 || d.GetStatus() != "submitted" {
					t.Errorf("free concession: payments %v, status %s", got.Payments, d.GetStatus())
				}
				return
			}
			if len(got.Payments) != 1 || got.Payments[0].GetAmountCents() != tc.cents || got.Payments[0].GetDossierId() != d.GetId() {
				t.Fatalf("payments %v, want %d cents on dossier %d", got.Payments, tc.cents, d.GetId())
			}
			if d.GetStatus() != "awaiting_payment" || !strings.Contains(res.Message, got.Payments[0].GetNoticeCode()) {
				t.Errorf("status %s, message %q", d.GetStatus(), res.Message)
			}
		})
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

// A town that enabled the service without configuring it refuses politely.
func TestNotConfigured(t *testing.T) {
	h := sdktest.New(t, manifest)
	res, err := h.Handle(context.Background(), &service{}, sdktest.Call{Action: "request", Values: h.Example("concession")})
	if err != nil || res.Outcome != sdk.OutcomeRefused || !strings.Contains(res.Message, "ufficio servizi cimiteriali") {
		t.Fatalf("%+v, %v", res, err)
	}
}
