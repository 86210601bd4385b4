package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

// operatorRules route a topic to an operator, to an office and an
// operator, and (never reached for the centre) to another operator.
const operatorRules = `street_lighting; centro; * -> mario.rossi@comune.example; 8
roads; *; * -> manutenzione Luca.Bianchi@Comune.example; ; urgent
street_lighting; *; * -> illuminazione anna.neri@comune.example
noise; *; phone -> - vigile@comune.example`

// A rule's target may name an operator as well as, or instead of, an
// office; the first rule that matches decides both.
func TestAssignOperator(t *testing.T) {
	raw, _ := json.Marshal(map[string]any{"office": "urp",
		"categories": "roads; lavori-pubblici; high; 72\nstreet_lighting; lavori-pubblici\nnoise; polizia-locale\ngraffiti",
		"areas":      "centro; 45.430 12.320, 45.445 12.345", "rules": operatorRules})
	cfg, err := setupOf(raw)
	if err != nil {
		t.Fatal(err)
	}
	centro, elsewhere := &point{45.437, 12.333}, &point{45.49, 12.24}
	tests := []struct {
		name     string
		category string
		at       *point
		channel  string
		want     assignment
	}{
		{"an operator alone keeps the topic's office", "street_lighting", centro, "web",
			assignment{"lavori-pubblici", "normal", 8, 1, "mario.rossi@comune.example"}},
		{"the first match wins, operator and all", "street_lighting", elsewhere, "web",
			assignment{"illuminazione", "normal", 240, 3, "anna.neri@comune.example"}},
		{"office and operator", "roads", centro, "app",
			assignment{"manutenzione", "urgent", 72, 2, "Luca.Bianchi@Comune.example"}},
		{"- and an operator", "noise", nil, "phone", assignment{"polizia-locale", "normal", 240, 4, "vigile@comune.example"}},
		{"no rule, nobody", "noise", nil, "web", assignment{"polizia-locale", "normal", 240, 0, ""}},
		{"the central office, nobody", "graffiti", centro, "web", assignment{"urp", "normal", 240, 0, ""}},
	}
	for _, tc := range tests {
		if got := cfg.assign(tc.category, tc.at, tc.channel); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// After the arrow: an office code or "-", then optionally an operator's
// address; or the address alone.
func TestRuleTargets(t *testing.T) {
	tests := []struct {
		line             string
		office, assignee string
		bad              bool
	}{
		{line: "roads; *; * -> urp", office: "urp"},
		{line: "roads; *; * -> mario.rossi@comune.example", office: "-", assignee: "mario.rossi@comune.example"},
		{line: "roads; *; * -> urp  mario.rossi@comune.example", office: "urp", assignee: "mario.rossi@comune.example"},
		{line: "roads; *; * -> - mario.rossi@comune.example; 4", office: "-", assignee: "mario.rossi@comune.example"},
		{line: "roads; *; * → Mario.Rossi@Comune.example", office: "-", assignee: "Mario.Rossi@Comune.example"},
		{line: "roads; *; * -> mario.rossi@comune.example urp", bad: true},
		{line: "roads; *; * -> urp mario.rossi", bad: true},
		{line: "roads; *; * -> urp mario@localhost", bad: true},
		{line: "roads; *; * -> urp mario@comune.example anna@comune.example", bad: true},
		{line: "roads; *; * -> ", bad: true},
	}
	for _, tc := range tests {
		rules, err := parseRules(tc.line, nil)
		if tc.bad {
			var ce *configError
			if !errors.As(err, &ce) || ce.Setting != "rules" {
				t.Errorf("%q: %v, want an error in rules", tc.line, err)
			}
			continue
		}
		if err != nil || len(rules) != 1 || rules[0].Office != tc.office || rules[0].Assignee != tc.assignee {
			t.Errorf("%q: %+v, %v; want office %q, operator %q", tc.line, rules, err, tc.office, tc.assignee)
		}
	}
}

// staffOnly is a host whose town has only some operators: it refuses
// any other address as the host does, before it looks at the office.
type staffOnly struct {
	sdk.Host
	known []string
}

func (s staffOnly) CreateDossier(ctx context.Context, nd sdk.NewDossier) (*pb.Dossier, error) {
	if nd.Assignee != "" && !slices.Contains(s.known, strings.ToLower(nd.Assignee)) {
		return nil, &sdk.HostError{Code: sdk.ErrInvalid.Code,
			Msg: fmt.Sprintf("assignee_email %q: no member of the town's staff has this address", nd.Assignee)}
	}
	return s.Host.CreateDossier(ctx, nd)
}

// A report the rules give an operator is filed for that operator; one
// the town does not have leaves the ticket to its office, and an unknown
// office as well to the central one, rather than failing the citizen.
func TestReportToOperator(t *testing.T) {
	everybody := []string{"mario.rossi@comune.example", "luca.bianchi@comune.example"}
	tests := []struct {
		name     string
		category string
		staff    []string // the town's operators
		offices  []string // the town's offices; nil for any
		office   string
		assignee string // "" for nobody
	}{
		{name: "the first match names an operator", category: "street_lighting", staff: everybody,
			office: "lavori-pubblici", assignee: "mario.rossi@comune.example"},
		{name: "office and operator", category: "roads", staff: everybody,
			office: "manutenzione", assignee: "luca.bianchi@comune.example"},
		{name: "an operator the town does not have", category: "street_lighting", staff: []string{"luca.bianchi@comune.example"},
			office: "lavori-pubblici"},
		{name: "neither the operator nor the office", category: "roads", staff: []string{"mario.rossi@comune.example"},
			offices: []string{"lavori-pubblici"}},
		{name: "an office the town does not have, the operator it has", category: "roads", staff: everybody,
			offices: []string{"lavori-pubblici"}, assignee: "luca.bianchi@comune.example"},
		{name: "no rule names one", category: "waste", staff: everybody, office: "ambiente"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t)
			req := h.Request(sdktest.Call{Actor: citizen7, Action: "report",
				Values: values(h, 0, map[string]any{"category": tc.category}),
				Config: config(h, map[string]any{"rules": operatorRules})})
			inner := req.Host
			if tc.offices != nil {
				inner = offices{Host: inner, known: tc.offices}
			}
			req.Host = staffOnly{Host: inner, known: tc.staff}
			res, err := newService().Handle(ctx, req)
			if err != nil || res.Outcome != sdk.OutcomeOK {
				t.Fatalf("%+v, %v", res, err)
			}
			got := h.Tenant(1)
			if len(got.Dossiers) != 1 {
				t.Fatalf("%d dossiers, want one", len(got.Dossiers))
			}
			d := got.Dossier(res.DossierNumber)
			if d.GetOffice() != tc.office || got.Assignees[d.GetId()] != tc.assignee {
				t.Errorf("office %q, operator %q; want %q, %q", d.GetOffice(), got.Assignees[d.GetId()], tc.office, tc.assignee)
			}
			if len(got.Audit) != 1 {
				t.Fatalf("audit %+v", got.Audit)
			}
			var details map[string]any
			if err := json.Unmarshal(got.Audit[0].Details, &details); err != nil {
				t.Fatal(err)
			}
			if a, _ := details["assignee"].(string); !strings.EqualFold(a, tc.assignee) {
				t.Errorf("audit names operator %q, want %q", a, tc.assignee)
			}
		})
	}
}
