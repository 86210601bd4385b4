package main

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

var (
	ctx = context.Background()
	// Reports come in on Monday 2 March 2026 at 10:00.
	monday   = time.Date(2026, 3, 2, 10, 0, 0, 0, sdk.Zone)
	citizen7 = sdktest.Citizen(7)
	operator = sdktest.Staff(3, "operator")
)

func TestManifest(t *testing.T) {
	m, err := sdk.ParseManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if m.GetId() != "helpdesk" || m.GetCategory() != "ambiente" {
		t.Errorf("manifest %s/%s", m.GetId(), m.GetCategory())
	}
	// The map widget is the host's newest; until sdktest learns it, it is
	// the one convention the check does not know.
	for _, p := range sdktest.Problems(m) {
		if !strings.Contains(p, `location.x-widget "map"`) {
			t.Error(p)
		}
	}
	sdktest.CheckMessages(t, msg)

	var statuses []string
	for _, s := range m.GetStatuses() {
		statuses = append(statuses, s.GetId())
		for _, lang := range sdk.Languages {
			if got := msg.Get(lang, "status."+s.GetId()); got != s.GetLabel()[lang] {
				t.Errorf("status %s in %s: message %q, manifest %q", s.GetId(), lang, got, s.GetLabel()[lang])
			}
		}
	}
	want := []string{statusOpen, statusProgress, statusWaiting, statusResolved, statusClosed, statusReopened}
	if !slices.Equal(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	audiences := map[string]string{"report": "citizen", "services": "anonymous", "take": "staff", "ask": "staff",
		"resolve": "staff", "close": "staff", "reopen": "staff", "reopen_request": "citizen", "answer": "citizen"}
	for _, a := range m.GetActions() {
		dossier := a.GetId() != "report" && a.GetId() != "services"
		if audiences[a.GetId()] != a.GetAudience() || dossier != (a.GetScope() == sdk.ScopeDossier) {
			t.Errorf("action %s: audience %s, scope %q", a.GetId(), a.GetAudience(), a.GetScope())
		}
		if _, ok := steps[a.GetId()]; ok != dossier {
			t.Errorf("action %s: a step of the workflow is %v", a.GetId(), ok)
		}
	}
}

// The form's topics are the catalogue's, in its order and with its names,
// and the config's patterns know every code.
func TestCatalogue(t *testing.T) {
	m, _ := sdk.ParseManifest(manifest)
	var form struct {
		Properties struct {
			Category struct {
				Enum   []string            `json:"enum"`
				Titles map[string][]string `json:"x-enum-titles"`
			} `json:"category"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(m.GetForms()[0].GetSchemaJson(), &form); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, c := range catalogue {
		codes = append(codes, c.Code)
		if groupName(c.Group, "en") == c.Group {
			t.Errorf("%s: no group %q", c.Code, c.Group)
		}
		if (c.Kind == kindRequest) != (c.Code == categoryInformation) {
			t.Errorf("%s: kind %s", c.Code, c.Kind)
		}
		for _, lang := range sdk.Languages {
			if c.Name[lang] == "" || c.Description[lang] == "" || len(c.Keywords[lang]) == 0 {
				t.Errorf("%s: texts missing in %s", c.Code, lang)
			}
		}
	}
	if !slices.Equal(form.Properties.Category.Enum, codes) {
		t.Errorf("form topics %v, catalogue %v", form.Properties.Category.Enum, codes)
	}
	for _, lang := range sdk.Languages {
		for i, c := range catalogue {
			if got := form.Properties.Category.Titles[lang]; i >= len(got) || got[i] != c.Name[lang] {
				t.Errorf("%s in %s: form title differs from %q", c.Code, lang, c.Name[lang])
			}
		}
	}
	var cfg struct {
		Properties map[string]struct {
			Pattern string `json:"pattern"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(m.GetConfigSchemaJson(), &cfg); err != nil {
		t.Fatal(err)
	}
	alternation := "(" + strings.Join(codes, "|")
	for _, key := range []string{"categories", "redirects", "rules"} {
		if !strings.Contains(cfg.Properties[key].Pattern, alternation) {
			t.Errorf("config %s: the pattern does not list the catalogue's codes", key)
		}
	}
}

// What the admin page lets through: each line's shape.
func TestConfigPatterns(t *testing.T) {
	h := sdktest.New(t, manifest)
	schema, err := sdk.CompileSchema(h.Manifest().GetConfigSchemaJson())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, value string
		ok         bool
	}{
		{"categories", "roads", true},
		{"categories", "roads; lavori-pubblici; high; 72\n\n  waste ;-; ; 48\ninformation;;low", true},
		{"categories", "potholes; lavori-pubblici", false},
		{"categories", "roads; lavori-pubblici; critical", false},
		{"categories", "roads; Lavori Pubblici", false},
		{"categories", "roads; lavori-pubblici; high; 72; extra", false},
		{"categories", "roads; lavori-pubblici; high; 0", false},
		{"redirects", "water_leaks; Gestore del servizio idrico; +39 800 123456", true},
		{"redirects", "water_leaks; Veritas; https://www.veritas.example/guasti\nanimals; ASL veterinaria", true},
		{"redirects", "water_leaks", false},
		{"redirects", "water_leaks; Veritas; call us", false},
		{"redirects", "water_leaks;    ", false},
		{"areas", "centro; 45.430 12.320, 45.445 12.345", true},
		{"areas", "lido; 45.38 12.35, 45.42 12.37, 45.415 12.39\nnord; -1 -2, 3 4", true},
		{"areas", "centro; 45.430 12.320", false},
		{"areas", "Centro; 45.430 12.320, 45.445 12.345", false},
		{"areas", "centro; 45,430 12,320, 45,445 12,345", false},
		{"rules", "roads; centro; * -> lavori-pubblici; 24; urgent", true},
		{"rules", "*; *; phone → urp\nnoise; *; app -> -; ; high\nroads;centro;web->x;12", true},
		{"rules", "roads; centro; * lavori-pubblici", false},
		{"rules", "roads; centro; fax -> urp", false},
		{"rules", "roads; centro; * -> urp; soon", false},
		{"rules", "roads; centro; * -> urp; 0", false},
		{"answers", "cie, carta d'identità; Come si rinnova la carta?; Prenota un appuntamento.; /services/appointments", true},
		{"answers", "tari; Quando si paga la TARI?; A maggio e a novembre.", true},
		{"answers", "tari; Quando si paga la TARI?", false},
		{"answers", "tari; Quando si paga?; A maggio.; www.example.org", false},
		{"answers", "tari;   ; A maggio.", false},
	}
	for _, tc := range tests {
		doc := map[string]any{tc.key: tc.value}
		if err := schema.Validate(doc); (err == nil) != tc.ok {
			t.Errorf("%s %q: valid %v, want %v (%v)", tc.key, tc.value, err == nil, tc.ok, err)
		}
	}
	if err := schema.Validate(map[string]any{"bounds": map[string]any{"south": 45.2, "west": 12.1}}); err == nil {
		t.Error("half a territory accepted")
	}
}

// What the patterns cannot see: the plugin refuses to apply it.
func TestConfigChecks(t *testing.T) {
	tests := []struct {
		name    string
		config  map[string]any
		setting string
	}{
		{"topic twice", map[string]any{"categories": "roads\nwaste\nroads; urp"}, "categories"},
		{"handled and sent elsewhere", map[string]any{"categories": "roads", "redirects": "roads; ANAS"}, "redirects"},
		{"redirected twice", map[string]any{"redirects": "animals; ASL\nanimals; ENPA"}, "redirects"},
		{"area twice", map[string]any{"areas": "a; 1 1, 2 2\na; 3 3, 4 4"}, "areas"},
		{"flat box", map[string]any{"areas": "a; 1 1, 1 2"}, "areas"},
		{"polygon on a line", map[string]any{"areas": "a; 1 1, 2 2, 3 3"}, "areas"},
		{"point off the globe", map[string]any{"areas": "a; 91 1, 2 2"}, "areas"},
		{"rule on a missing area", map[string]any{"categories": "roads", "rules": "roads; lido; * -> urp"}, "rules"},
		{"rule for an operator without an address", map[string]any{"categories": "roads", "rules": "roads; *; * -> urp mario@localhost"}, "rules"},
		{"territory upside down", map[string]any{"bounds": map[string]any{"south": 46.0, "west": 12.0, "north": 45.0, "east": 13.0}}, "bounds"},
		{"territory half given", map[string]any{"bounds": map[string]any{"south": 45.0}}, "bounds"},
	}
	for _, tc := range tests {
		raw, _ := json.Marshal(tc.config)
		_, err := setupOf(raw)
		var ce *configError
		if !errors.As(err, &ce) || ce.Setting != tc.setting {
			t.Errorf("%s: %v, want an error in %s", tc.name, err, tc.setting)
		}
	}
	raw, _ := json.Marshal(newHost(t).ConfigExample())
	s, err := setupOf(raw)
	if err != nil {
		t.Fatalf("the config example: %v", err)
	}
	if len(s.Handled) != 9 || len(s.Redirects) != 2 || len(s.Areas) != 2 || len(s.Rules) != 3 || len(s.Answers) != 2 ||
		s.Bounds == nil || !s.Anonymous || s.ReopenDays != 14 || s.DueHours != 240 || s.Office != "urp" {
		t.Errorf("the config example read as %+v", s)
	}
	if s, err := setupOf(nil); err != nil || len(s.Handled) != 0 || s.ReopenDays != defaultReopenDays || s.DueHours != defaultDueHours {
		t.Errorf("no config: %+v, %v", s, err)
	}
}

func TestAreas(t *testing.T) {
	box := area{Name: "centro", Points: []point{{45.445, 12.345}, {45.430, 12.320}}}
	// A triangle pointing east.
	triangle := area{Name: "punta", Points: []point{{45.0, 12.0}, {46.0, 12.0}, {45.5, 13.0}}}
	tests := []struct {
		area area
		p    point
		in   bool
	}{
		{box, point{45.437, 12.333}, true},
		{box, point{45.430, 12.320}, true}, // a corner belongs to the box
		{box, point{45.450, 12.333}, false},
		{box, point{45.437, 12.350}, false},
		{triangle, point{45.5, 12.5}, true},
		{triangle, point{45.5, 12.9}, true},
		{triangle, point{45.1, 12.9}, false}, // inside the bounding box, outside the triangle
		{triangle, point{45.5, 11.9}, false},
	}
	for _, tc := range tests {
		if got := tc.area.contains(tc.p); got != tc.in {
			t.Errorf("%s contains %v: %v, want %v", tc.area.Name, tc.p, got, tc.in)
		}
	}
}

// The rules choose office, deadline and priority: the first that matches,
// "*" for anything, areas by the report's point; without one, the topic's
// own line, then the town's defaults.
func TestAssign(t *testing.T) {
	raw, _ := json.Marshal(newHost(t).ConfigExample())
	cfg, err := setupOf(raw)
	if err != nil {
		t.Fatal(err)
	}
	centro, lido, elsewhere := &point{45.437, 12.333}, &point{45.40, 12.37}, &point{45.49, 12.24}
	tests := []struct {
		name     string
		category string
		at       *point
		channel  string
		want     assignment
	}{
		{"first rule: roads in the centre", "roads", centro, "web", assignment{"lavori-pubblici", "urgent", 24, 1, ""}},
		{"the topic's line: roads elsewhere", "roads", elsewhere, "web", assignment{"lavori-pubblici", "high", 72, 0, ""}},
		{"no point, no area", "roads", nil, "web", assignment{"lavori-pubblici", "high", 72, 0, ""}},
		{"wildcard topic in an area", "waste", lido, "app", assignment{"municipalita-lido", "normal", 48, 2, ""}},
		{"first match wins over a later rule", "noise", lido, "phone", assignment{"municipalita-lido", "normal", 24, 2, ""}},
		{"channel rule", "noise", elsewhere, "phone", assignment{"polizia-locale", "high", 4, 3, ""}},
		{"channel rule not for the web", "noise", elsewhere, "web", assignment{"polizia-locale", "normal", 24, 0, ""}},
		{"central office and default hours", "graffiti", nil, "web", assignment{"urp", "low", 240, 0, ""}},
		{"office only", "abandoned_vehicles", elsewhere, "counter", assignment{"polizia-locale", "normal", 240, 0, ""}},
	}
	for _, tc := range tests {
		if got := cfg.assign(tc.category, tc.at, tc.channel); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	// A rule's "-" keeps the topic's office and takes its own hours.
	raw, _ = json.Marshal(map[string]any{"office": "urp", "categories": "roads; strade; high; 72",
		"areas": "a; 1 1, 2 2", "rules": "roads; a; * -> -; 12"})
	cfg, err = setupOf(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.assign("roads", &point{1.5, 1.5}, "web"); got != (assignment{"strade", "high", 12, 1, ""}) {
		t.Errorf("rule keeping the office: %+v", got)
	}
}

func newHost(t *testing.T) *sdktest.Host {
	h := sdktest.New(t, manifest)
	h.Now = func() time.Time { return monday }
	return h
}

func newService() *service { return &service{now: func() time.Time { return monday }} }

// values is example i of the report form, changed: a nil value removes
// the key.
func values(h *sdktest.Host, i int, change map[string]any) map[string]any {
	var s struct {
		Examples []map[string]any `json:"examples"`
	}
	_ = json.Unmarshal(h.Manifest().GetForms()[0].GetSchemaJson(), &s)
	v := s.Examples[i]
	for k, x := range change {
		if x == nil {
			delete(v, k)
		} else {
			v[k] = x
		}
	}
	return v
}

func config(h *sdktest.Host, change map[string]any) map[string]any {
	c := h.ConfigExample()
	for k, x := range change {
		if x == nil {
			delete(c, k)
		} else {
			c[k] = x
		}
	}
	return c
}

func dataOf(t *testing.T, d *pb.Dossier) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(d.GetDataJson(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReport(t *testing.T) {
	question, anonymous := 1, 2
	tests := []struct {
		name    string
		actor   sdk.Actor
		lang    string
		example int
		change  map[string]any
		config  func(*sdktest.Host) any
		outcome string
		field   string // the field in error
		text    string // in the message or the field's error
		// what the dossier holds
		office, priority string
		dueHours         int
		channel          string
		data             map[string]any
		absent           []string // data keys that must be missing
		mailTo           string
	}{
		{name: "a problem with a point", outcome: sdk.OutcomeOK, text: "pratica n. 2026-000001",
			office: "lavori-pubblici", priority: "normal", dueHours: 120, channel: "web", mailTo: "citizen:7",
			data: map[string]any{"category": "street_lighting", "kind": "problem", "lat": 45.4372, "lon": 12.3326,
				"address": "Via Verdi 12, davanti alla farmacia", "area": "centro", "channel": "web", "lang": "it"},
			absent: []string{"contact_name", "contact_email", "contact_phone", "rule"}},
		{name: "in German, with the deadline's time", lang: "de", outcome: sdk.OutcomeOK, text: "bis 10:00 Uhr am 7. März 2026",
			office: "lavori-pubblici", priority: "normal", dueHours: 120, channel: "web", mailTo: "citizen:7",
			data: map[string]any{"lang": "de"}},
		{name: "an address only, as a plain fieldset sends it", lang: "en",
			change:  map[string]any{"location": map[string]any{"address": "Via Verdi 12"}},
			outcome: sdk.OutcomeOK, text: "by 10:00 on 7 March 2026", office: "lavori-pubblici", priority: "normal", dueHours: 120,
			channel: "web", mailTo: "citizen:7", data: map[string]any{"address": "Via Verdi 12"}, absent: []string{"lat", "lon", "area"}},
		// The central office is the host's default (the town's "office"),
		// which the fake host leaves empty.
		{name: "a question needs no place", example: question, outcome: sdk.OutcomeOK, text: "la tua richiesta",
			office: "", priority: "normal", dueHours: 240, channel: "web", mailTo: "citizen:7",
			data: map[string]any{"category": "information", "kind": "request"}, absent: []string{"lat", "lon", "address"}},
		{name: "a rule for the centre", change: map[string]any{"category": "roads"}, outcome: sdk.OutcomeOK,
			office: "lavori-pubblici", priority: "urgent", dueHours: 24, channel: "web", mailTo: "citizen:7",
			data: map[string]any{"rule": 1.0}},
		{name: "anonymous, where the town allows it", actor: sdktest.Anonymous(), example: anonymous, outcome: sdk.OutcomeOK,
			text: "recapiti", office: "ambiente", priority: "normal", dueHours: 48, channel: "web", mailTo: "anna.verdi@example.org",
			data: map[string]any{"contact_name": "Anna Verdi", "contact_email": "anna.verdi@example.org", "channel": "app"}},
		{name: "a visitor with a phone only", actor: sdktest.Anonymous(), example: anonymous,
			change:  map[string]any{"contact_email": nil, "contact_phone": "+39 333 1234567", "channel": nil},
			outcome: sdk.OutcomeOK, office: "ambiente", priority: "normal", dueHours: 48, channel: "web",
			data: map[string]any{"contact_phone": "+39 333 1234567", "channel": "web"}, absent: []string{"contact_email"}},
		{name: "a visitor cannot claim the counter", actor: sdktest.Anonymous(), example: anonymous, change: map[string]any{"channel": "counter"},
			outcome: sdk.OutcomeOK, office: "ambiente", priority: "normal", dueHours: 48, channel: "web", mailTo: "anna.verdi@example.org",
			data: map[string]any{"channel": "web"}},
		{name: "an operator on the phone, for a caller", actor: operator, example: anonymous,
			change:  map[string]any{"category": "noise", "location": map[string]any{"lat": 45.49, "lon": 12.24}, "channel": nil},
			outcome: sdk.OutcomeOK, text: "per conto di", office: "polizia-locale", priority: "high", dueHours: 4, channel: "phone",
			mailTo: "anna.verdi@example.org", data: map[string]any{"contact_name": "Anna Verdi", "channel": "phone", "rule": 3.0}},
		{name: "an operator at the counter", actor: operator, change: map[string]any{"channel": "counter"},
			outcome: sdk.OutcomeOK, office: "lavori-pubblici", priority: "normal", dueHours: 120, channel: "counter",
			data: map[string]any{"channel": "counter"}},
		{name: "a citizen's contact fields are not kept", change: map[string]any{"contact_phone": "+39 333 1234567"},
			outcome: sdk.OutcomeOK, office: "lavori-pubblici", priority: "normal", dueHours: 120, channel: "web", mailTo: "citizen:7",
			absent: []string{"contact_phone"}},

		{name: "a town that has not set the service up", config: func(*sdktest.Host) any { return nil },
			outcome: sdk.OutcomeRefused, text: "non sono ancora attive"},
		{name: "a configuration the plugin cannot apply", config: func(h *sdktest.Host) any {
			return config(h, map[string]any{"rules": "roads; porto; * -> urp"})
		}, outcome: sdk.OutcomeRefused, text: "non sono ancora attive"},
		{name: "a topic sent elsewhere, with where to turn", change: map[string]any{"category": "water_leaks"},
			outcome: sdk.OutcomeRefused, text: "rivolgiti a Gestore del servizio idrico (+39 800 123456)"},
		{name: "where to turn, in English", lang: "en", change: map[string]any{"category": "animals"},
			outcome: sdk.OutcomeRefused, text: "turn to Servizio veterinario dell'ASL (https://www.asl.example/veterinaria)"},
		{name: "a topic the town does not handle", change: map[string]any{"category": "cemeteries"},
			outcome: sdk.OutcomeRefused, text: "non tratta online le segnalazioni su «Cimiteri»"},
		{name: "anonymous, where the town does not allow it", actor: sdktest.Anonymous(), example: anonymous,
			config:  func(h *sdktest.Host) any { return config(h, map[string]any{"anonymous": false}) },
			outcome: sdk.OutcomeRefused, text: "accedi con SPID o CIE"},
		{name: "a problem without a place", change: map[string]any{"location": nil}, outcome: sdk.OutcomeInvalid,
			field: "/location", text: "dove si trova"},
		{name: "a problem with a blank address", change: map[string]any{"location": map[string]any{"address": "  "}},
			outcome: sdk.OutcomeInvalid, field: "/location"},
		{name: "half a point", change: map[string]any{"location": map[string]any{"lat": 45.43}}, outcome: sdk.OutcomeInvalid,
			field: "/location", text: "latitudine sia la longitudine"},
		{name: "a point outside the town", lang: "de", change: map[string]any{"location": map[string]any{"lat": 45.07, "lon": 7.68}},
			outcome: sdk.OutcomeInvalid, field: "/location", text: "außerhalb des Gemeindegebiets"},
		{name: "a question may come from outside", example: question,
			change:  map[string]any{"location": map[string]any{"lat": 45.07, "lon": 7.68}},
			outcome: sdk.OutcomeInvalid, field: "/location", text: "fuori dal territorio"},
		{name: "anonymous without a name", actor: sdktest.Anonymous(), example: anonymous, change: map[string]any{"contact_name": nil},
			outcome: sdk.OutcomeInvalid, field: "/contact_name", text: "nome e cognome"},
		{name: "anonymous without a way to answer", actor: sdktest.Anonymous(), example: anonymous, change: map[string]any{"contact_email": nil},
			outcome: sdk.OutcomeInvalid, field: "/contact_email", text: "e-mail o un numero di telefono"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t)
			call := sdktest.Call{Actor: tc.actor, Lang: tc.lang, Action: "report", Values: values(h, tc.example, tc.change), Config: h.ConfigExample()}
			if call.Actor.Kind == "" {
				call.Actor = citizen7
			}
			if tc.config != nil {
				call.Config = tc.config(h)
			}
			res, err := h.Handle(ctx, newService(), call)
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %q (%+v), want %q", res.Outcome, res, tc.outcome)
			}
			got := h.Tenant(1)
			text := res.Message
			if tc.outcome == sdk.OutcomeInvalid {
				if len(res.Errors) != 1 || res.Errors[0].Field != tc.field {
					t.Fatalf("errors %+v, want one on %s", res.Errors, tc.field)
				}
				text = res.Errors[0].Message
			}
			if !strings.Contains(text, tc.text) {
				t.Errorf("message %q, want %q in it", text, tc.text)
			}
			if tc.outcome != sdk.OutcomeOK {
				if len(got.Dossiers)+len(got.Notifications)+len(got.Audit) != 0 {
					t.Errorf("state left behind: %+v", got)
				}
				return
			}
			d := got.Dossier(res.DossierNumber)
			if d == nil {
				t.Fatalf("no dossier %s", res.DossierNumber)
			}
			if d.GetStatus() != statusOpen || d.GetOffice() != tc.office || d.GetPriority() != tc.priority || d.GetChannel() != tc.channel ||
				d.GetDueUnix() != monday.Add(time.Duration(tc.dueHours)*time.Hour).Unix() {
				t.Errorf("dossier %s: status %s, office %q, priority %s, channel %s, due %s; want office %q, priority %s, channel %s, %dh",
					d.GetNumber(), d.GetStatus(), d.GetOffice(), d.GetPriority(), d.GetChannel(), time.Unix(d.GetDueUnix(), 0),
					tc.office, tc.priority, tc.channel, tc.dueHours)
			}
			if want := int64(0); call.Actor.Kind == "citizen" {
				if d.GetCitizenId() != 7 {
					t.Errorf("citizen %d", d.GetCitizenId())
				}
			} else if d.GetCitizenId() != want {
				t.Errorf("a report of a %s belongs to citizen %d", call.Actor.Kind, d.GetCitizenId())
			}
			data := dataOf(t, d)
			for k, v := range tc.data {
				if data[k] != v {
					t.Errorf("data %s = %v, want %v (%s)", k, data[k], v, d.GetDataJson())
				}
			}
			for _, k := range tc.absent {
				if _, ok := data[k]; ok {
					t.Errorf("data has %s: %s", k, d.GetDataJson())
				}
			}
			for _, k := range []string{"category", "description", "channel"} {
				if data[k] == "" || data[k] == nil {
					t.Errorf("data without %s: %s", k, d.GetDataJson())
				}
			}
			var to []string
			for _, n := range got.Notifications {
				to = append(to, n.To)
				if !strings.Contains(n.Body, d.GetNumber()) {
					t.Errorf("notification %+v without the number", n)
				}
			}
			if want := []string{tc.mailTo}; tc.mailTo == "" && len(to) != 0 || tc.mailTo != "" && !slices.Equal(to, want) {
				t.Errorf("notified %v, want %q", to, tc.mailTo)
			}
			if len(got.Audit) != 1 || got.Audit[0].Action != "helpdesk.report" {
				t.Errorf("audit %+v", got.Audit)
			}
		})
	}
}

// A form cannot send a topic outside its list; the plugin, called some
// other way, refuses it all the same.
func TestUnknownCategory(t *testing.T) {
	h := newHost(t)
	req := h.Request(sdktest.Call{Actor: citizen7, Action: "report", Values: values(h, 0, nil), Config: h.ConfigExample()})
	req.Values = json.RawMessage(`{"category": "potholes", "title": "Buca", "description": "Una buca profonda.", "consent": true}`)
	res, err := newService().Handle(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != sdk.OutcomeInvalid || res.Errors[0].Field != "/category" || len(h.Tenant(1).Dossiers) != 0 {
		t.Errorf("%+v", res)
	}
}

// Photos and documents stay on the dossier; which ones a field takes is
// the host's check, by content.
func TestReportFiles(t *testing.T) {
	h := newHost(t)
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	pdf := []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
	files := []sdktest.Upload{
		{Field: "/photo_1", Name: "buca.png", Content: png},
		{Field: "/photo_2", Name: "buca2.png", Content: png},
		{Field: "/photo_3", Name: "buca3.png", Content: png},
		{Field: "/document_1", Name: "verbale.pdf", Content: pdf},
		{Field: "/document_2", Name: "foto.pdf", Content: pdf},
		{Field: "/document_3", Name: "altro.pdf", Content: pdf},
	}
	res, err := h.Handle(ctx, newService(), sdktest.Call{Actor: citizen7, Action: "report", Values: values(h, 0, nil),
		Config: h.ConfigExample(), Files: files})
	if err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("%+v, %v", res, err)
	}
	got := h.Tenant(1)
	d := got.Dossier(res.DossierNumber)
	if len(got.Attachments) != 6 {
		t.Fatalf("attachments %+v", got.Attachments)
	}
	for _, a := range got.Attachments {
		if a.DossierID != d.GetId() {
			t.Errorf("%s not kept on the dossier", a.Name)
		}
	}
	if att, _ := dataOf(t, d)["attachments"].([]any); len(att) != 6 {
		t.Errorf("data %s", d.GetDataJson())
	}

	// A refused report keeps none of them.
	h = newHost(t)
	res, err = h.Handle(ctx, newService(), sdktest.Call{Actor: citizen7, Action: "report",
		Values: values(h, 0, map[string]any{"category": "water_leaks"}), Config: h.ConfigExample(), Files: files[:1]})
	if err != nil || res.Outcome != sdk.OutcomeRefused {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := h.Tenant(1); len(got.Dossiers) != 0 || got.Attachments[0].DossierID != 0 {
		t.Errorf("refused, yet %+v", got)
	}
}

func TestSuggest(t *testing.T) {
	answers, err := parseAnswers(strings.Join([]string{
		"carta d'identità, cie; Come si rinnova la carta d'identità?; Prenota all'anagrafe.; /services/appointments",
		"rifiut*, raccolta; Quando passa la raccolta?; Vedi il calendario.",
		"anagrafe, orari; Quando è aperta l'anagrafe?; Dal lunedì al venerdì, 9-12.",
		"tari, rifiuti; Come si paga la TARI?; Con pagoPA.",
		"cie, passaporto; Serve la CIE per l'espatrio?; Sì, se valida per l'espatrio.",
	}, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		want []string // questions, in order
	}{
		{"Come rinnovo la carta d'identità?", []string{"Come si rinnova la carta d'identità?"}},
		{"CARTA D'IDENTITA scaduta", []string{"Come si rinnova la carta d'identità?"}},
		{"Quando passano a ritirare il rifiuto ingombrante?", []string{"Quando passa la raccolta?"}},
		// Two keywords beat one; ties keep the town's order.
		{"Rifiuti: come si paga la tari?", []string{"Come si paga la TARI?", "Quando passa la raccolta?"}},
		{"cie e orari dell'anagrafe, raccolta rifiuti, tari, passaporto", []string{"Quando passa la raccolta?",
			"Quando è aperta l'anagrafe?", "Come si paga la TARI?"}},
		{"La ciedi è una parola che non c'è", nil},
		{"Una domanda qualsiasi", nil},
	}
	for _, tc := range tests {
		var got []string
		for _, a := range suggest(answers, tc.text) {
			got = append(got, a.Question)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, want %v", tc.text, got, tc.want)
		}
	}
}

// An information request gets the knowledge base's answers at once, and
// is filed all the same; a problem gets none.
func TestKnowledgeBase(t *testing.T) {
	tests := []struct {
		name     string
		example  int
		change   map[string]any
		lang     string
		want     []string
		notInMsg string
	}{
		{name: "a question the base answers", example: 1,
			want: []string{"Come si rinnova la carta d'identità?", "Prenota un appuntamento all'anagrafe", "Vedi /services/appointments"}},
		{name: "in English", example: 1, lang: "en", want: []string{"Meanwhile, this may help:", "See /services/appointments"}},
		{name: "a question it does not", example: 1, change: map[string]any{"title": "Orari", "description": "Quando è aperto il museo civico?"},
			notInMsg: "Intanto"},
		{name: "a problem gets no answers", example: 0, change: map[string]any{"description": "Il lampione vicino alla raccolta rifiuti è spento."},
			notInMsg: "Intanto"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t)
			res, err := h.Handle(ctx, newService(), sdktest.Call{Actor: citizen7, Lang: tc.lang, Action: "report",
				Values: values(h, tc.example, tc.change), Config: h.ConfigExample()})
			if err != nil || res.Outcome != sdk.OutcomeOK {
				t.Fatalf("%+v, %v", res, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Message, w) {
					t.Errorf("message %q, want %q in it", res.Message, w)
				}
			}
			if tc.notInMsg != "" && strings.Contains(res.Message, tc.notInMsg) {
				t.Errorf("message %q", res.Message)
			}
			d := h.Tenant(1).Dossier(res.DossierNumber)
			if d == nil {
				t.Fatal("no dossier filed")
			}
			suggested, _ := dataOf(t, d)["suggested"].([]any)
			inData, _ := res.Data.(map[string]any)["suggestions"].([]suggestion)
			if (len(tc.want) > 0) != (len(suggested) == 1 && len(inData) == 1) {
				t.Errorf("suggested %v, data %v", suggested, res.Data)
			}
		})
	}
}

// fileOne files the example problem of citizen 7 (or, anonymous, the
// visitor's) and puts the dossier in status.
func fileOne(t *testing.T, h *sdktest.Host, actor sdk.Actor, status string) *pb.Dossier {
	t.Helper()
	example := 0
	if actor.Kind == "anonymous" {
		example = 2
	}
	res, err := h.Handle(ctx, newService(), sdktest.Call{Actor: actor, Action: "report", Values: values(h, example, nil), Config: h.ConfigExample()})
	if err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("%+v, %v", res, err)
	}
	if status != statusOpen {
		if _, err := h.For(1, operator).SetDossierStatus(ctx, res.DossierID, status, ""); err != nil {
			t.Fatal(err)
		}
	}
	d, err := h.For(1, operator).GetDossier(ctx, res.DossierID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var stepForms = map[string]map[string]any{
	"take":           nil,
	"ask":            {"question": "Il lampione è quello sul lato della farmacia?"},
	"resolve":        {"answer": "Abbiamo sostituito la lampada."},
	"close":          {"message": "Doppione della pratica 2026-000031."},
	"reopen":         {"reason": "Il guasto si è ripresentato."},
	"reopen_request": {"reason": "Si è spento di nuovo dopo due giorni."},
	"answer":         {"answer": "Sì, quello sul lato della farmacia."},
}

// Every step from every state: allowed where the workflow says, refused
// with the state and what it takes otherwise.
func TestTransitions(t *testing.T) {
	all := []string{statusOpen, statusProgress, statusWaiting, statusResolved, statusClosed, statusReopened, statusSubmitted}
	allowed := map[string][]string{
		"take":           {statusOpen, statusWaiting, statusReopened, statusSubmitted},
		"ask":            {statusOpen, statusProgress, statusWaiting, statusReopened, statusSubmitted},
		"resolve":        {statusOpen, statusProgress, statusWaiting, statusReopened, statusSubmitted},
		"close":          {statusOpen, statusProgress, statusWaiting, statusResolved, statusReopened, statusSubmitted},
		"reopen":         {statusResolved, statusClosed},
		"reopen_request": {statusResolved},
		"answer":         {statusWaiting},
	}
	for action, ok := range allowed {
		for _, from := range all {
			t.Run(action+" from "+from, func(t *testing.T) {
				h := newHost(t)
				d := fileOne(t, h, citizen7, from)
				actor := operator
				if action == "reopen_request" || action == "answer" {
					actor = citizen7
				}
				req := h.Request(sdktest.Call{Actor: actor, Action: action, DossierID: d.GetId(), Values: stepForms[action],
					Config: h.ConfigExample()})
				before := h.Tenant(1)
				res, err := newService().Handle(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				after := h.Tenant(1)
				status := after.Dossier(d.GetNumber()).GetStatus()
				if !slices.Contains(ok, from) {
					if res.Outcome != sdk.OutcomeRefused || !strings.Contains(res.Message, "«"+msg.Get("it", "status."+from)+"»") {
						t.Errorf("%+v, want refused naming the state", res)
					}
					if status != from || len(after.Messages) != len(before.Messages) || len(after.Events) != len(before.Events) {
						t.Errorf("refused, yet moved: %s, messages %v", status, after.Messages)
					}
					if !maps.Equal(after.Assignees, before.Assignees) {
						t.Errorf("refused, yet assigned: %v", after.Assignees)
					}
					return
				}
				if res.Outcome != sdk.OutcomeOK || status != steps[action].to {
					t.Fatalf("%+v: status %s, want %s", res, status, steps[action].to)
				}
				last := after.Events[len(after.Events)-1]
				if last.Status != status || last.Note == "" {
					t.Errorf("history %+v", last)
				}
				if n := len(after.Messages) - len(before.Messages); (action == "take") != (n == 0) || n > 1 {
					t.Errorf("%d messages added", n)
				}
				// Taking it makes it the operator's; no other step
				// changes whose it is.
				want := maps.Clone(before.Assignees)
				if action == "take" {
					if want == nil {
						want = map[int64]string{}
					}
					want[d.GetId()] = "staff:3"
				}
				if !maps.Equal(after.Assignees, want) {
					t.Errorf("assignees %v, want %v", after.Assignees, want)
				}
				if len(after.Audit) != len(before.Audit)+1 || after.Audit[len(after.Audit)-1].Action != "helpdesk."+action {
					t.Errorf("audit %+v", after.Audit)
				}
			})
		}
	}
}

// The office's steps and their replies, which the citizen reads in the
// language they reported in.
func TestStaffSteps(t *testing.T) {
	h := newHost(t)
	svc := newService()
	res, err := h.Handle(ctx, svc, sdktest.Call{Actor: citizen7, Lang: "de", Action: "report", Values: values(h, 0, nil), Config: h.ConfigExample()})
	if err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("%+v, %v", res, err)
	}
	id := res.DossierID
	run := func(by sdk.Actor, action string, lang string) *sdk.Response {
		t.Helper()
		res, err := h.Handle(ctx, svc, sdktest.Call{Actor: by, Lang: lang, Action: action, DossierID: id, Values: stepForms[action],
			Config: h.ConfigExample()})
		if err != nil || res.Outcome != sdk.OutcomeOK {
			t.Fatalf("%s: %+v, %v", action, res, err)
		}
		return res
	}
	if res := run(operator, "take", "it"); !strings.Contains(res.Message, "presa in carico") {
		t.Errorf("take: %q", res.Message)
	}
	d := h.Tenant(1).Dossier(res.DossierNumber)
	if d.GetStatus() != statusProgress || d.GetAssigneeId() != operator.ID || h.Tenant(1).Assignees[id] != "staff:3" {
		t.Fatalf("taken: %s, operator %d (%q)", d.GetStatus(), d.GetAssigneeId(), h.Tenant(1).Assignees[id])
	}
	// The office shares the work: a colleague asks and resolves the
	// ticket the operator took, which stays the operator's.
	colleague := sdktest.Staff(4, "operator")
	run(colleague, "ask", "it")
	run(colleague, "resolve", "it")
	got := h.Tenant(1)
	if got.Assignees[id] != "staff:3" || got.Dossier(res.DossierNumber).GetAssigneeId() != operator.ID {
		t.Errorf("after a colleague's steps, operator %q", got.Assignees[id])
	}
	if len(got.Messages) != 2 || !strings.Contains(got.Messages[0].Body, "braucht das Amt eine Auskunft") ||
		!strings.Contains(got.Messages[0].Body, stepForms["ask"]["question"].(string)) ||
		!strings.Contains(got.Messages[1].Body, "ist erledigt") || !strings.Contains(got.Messages[1].Body, "innerhalb von 14 Tagen") {
		t.Errorf("replies %+v", got.Messages)
	}
	if got.Settings[resolvedKey(id)] == nil || string(got.Settings[resolvedKey(id)]) != "1772442000" {
		t.Errorf("resolution date %s", got.Settings[resolvedKey(id)])
	}
	if len(got.Notifications) != 1 { // the confirmation: the host mails replies to citizens itself
		t.Errorf("notifications %+v", got.Notifications)
	}
	// A step as the wrong kind of actor.
	res, err = h.Handle(ctx, svc, sdktest.Call{Actor: citizen7, Action: "close", DossierID: id, Config: h.ConfigExample()})
	if err != nil || res.Outcome != sdk.OutcomeRefused || !strings.Contains(res.Message, "riservata agli uffici") {
		t.Errorf("a citizen closing: %+v, %v", res, err)
	}
	res, err = h.Handle(ctx, svc, sdktest.Call{Actor: operator, Action: "answer", DossierID: id, Values: stepForms["answer"]})
	if err != nil || res.Outcome != sdk.OutcomeRefused || !strings.Contains(res.Message, "Solo chi ha inviato") {
		t.Errorf("an operator answering for the citizen: %+v, %v", res, err)
	}
}

// Taking a ticket makes it the operator's before it moves: when the host
// refuses the assignment, the ticket stays where it was, and taking it
// again once the host answers does it all.
func TestTakeAssignsFirst(t *testing.T) {
	h := newHost(t)
	d := fileOne(t, h, citizen7, statusOpen)
	take := func() (*sdk.Response, error) {
		return h.Handle(ctx, newService(), sdktest.Call{Actor: operator, Action: "take", DossierID: d.GetId(), Config: h.ConfigExample()})
	}
	h.FailOn("AssignDossier", &sdk.HostError{Code: sdk.ErrConflict.Code, Msg: "busy"})
	if _, err := take(); !errors.Is(err, sdk.ErrConflict) {
		t.Fatalf("%v, want the host's refusal", err)
	}
	if got := h.Tenant(1).Dossier(d.GetNumber()); got.GetStatus() != statusOpen || got.GetAssigneeId() != 0 {
		t.Fatalf("a refused assignment, yet %s, operator %d", got.GetStatus(), got.GetAssigneeId())
	}
	h.FailOn("AssignDossier", nil)
	if res, err := take(); err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := h.Tenant(1).Dossier(d.GetNumber()); got.GetStatus() != statusProgress || got.GetAssigneeId() != operator.ID {
		t.Fatalf("taken: %s, operator %d", got.GetStatus(), got.GetAssigneeId())
	}
}

// Somebody who reported without an account hears of the office's steps
// at the address they left.
func TestRepliesToVisitors(t *testing.T) {
	h := newHost(t)
	d := fileOne(t, h, sdktest.Anonymous(), statusOpen)
	for _, action := range []string{"ask", "resolve"} {
		res, err := h.Handle(ctx, newService(), sdktest.Call{Actor: operator, Action: action, DossierID: d.GetId(), Values: stepForms[action],
			Config: h.ConfigExample()})
		if err != nil || res.Outcome != sdk.OutcomeOK {
			t.Fatalf("%s: %+v, %v", action, res, err)
		}
	}
	got := h.Tenant(1)
	if len(got.Notifications) != 3 {
		t.Fatalf("notifications %+v", got.Notifications)
	}
	for _, n := range got.Notifications[1:] {
		if n.To != "anna.verdi@example.org" || !strings.Contains(n.Subject, d.GetNumber()) {
			t.Errorf("notification %+v", n)
		}
	}
	if !strings.Contains(got.Notifications[1].Body, "citando il numero della pratica") || strings.Contains(got.Notifications[2].Body, "area personale") {
		t.Errorf("bodies %q / %q", got.Notifications[1].Body, got.Notifications[2].Body)
	}
}

// A citizen reopens a resolved ticket within the town's days, not after;
// the Host API lets only staff move a dossier on, so until it lets the
// citizen's step do so the office gets the request as the citizen's message.
func TestCitizenReopen(t *testing.T) {
	tests := []struct {
		name    string
		after   time.Duration
		config  map[string]any
		moves   bool // with a Host API that lets the step move the dossier
		outcome string
		text    string
		status  string
	}{
		{name: "within the days", after: 13 * 24 * time.Hour, moves: true, outcome: sdk.OutcomeOK, text: "di nuovo aperta", status: statusReopened},
		{name: "within the days, host refusing the change", after: 24 * time.Hour, outcome: sdk.OutcomeOK,
			text: "Abbiamo inviato all'ufficio la tua richiesta", status: statusResolved},
		{name: "after the days", after: 15 * 24 * time.Hour, moves: true, outcome: sdk.OutcomeRefused,
			text: "risolta il 2 marzo 2026 e si può riaprire solo entro 14 giorni", status: statusResolved},
		{name: "the town's own days", after: 3 * 24 * time.Hour, config: map[string]any{"reopen_days": 2}, moves: true,
			outcome: sdk.OutcomeRefused, text: "entro 2 giorni", status: statusResolved},
		{name: "a town that does not allow it", config: map[string]any{"reopen_days": 0}, moves: true,
			outcome: sdk.OutcomeRefused, text: "non consente di riaprire", status: statusResolved},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t)
			cfg := config(h, tc.config)
			d := fileOne(t, h, citizen7, statusOpen)
			res, err := h.Handle(ctx, newService(), sdktest.Call{Actor: operator, Action: "resolve", DossierID: d.GetId(),
				Values: stepForms["resolve"], Config: cfg})
			if err != nil || res.Outcome != sdk.OutcomeOK {
				t.Fatalf("resolve: %+v, %v", res, err)
			}
			later := monday.Add(tc.after)
			h.Now = func() time.Time { return later }
			req := h.Request(sdktest.Call{Actor: citizen7, Action: "reopen_request", DossierID: d.GetId(),
				Values: stepForms["reopen_request"], Config: cfg})
			if !tc.moves {
				h.FailOn("SetDossierStatus", sdk.ErrPermissionDenied)
			}
			before := len(h.Tenant(1).Messages)
			res, err = (&service{now: func() time.Time { return later }}).Handle(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			got := h.Tenant(1)
			if res.Outcome != tc.outcome || !strings.Contains(res.Message, tc.text) || got.Dossier(d.GetNumber()).GetStatus() != tc.status {
				t.Fatalf("%+v, status %s; want %s, %q, %s", res, got.Dossier(d.GetNumber()).GetStatus(), tc.outcome, tc.text, tc.status)
			}
			added := got.Messages[before:]
			if tc.outcome == sdk.OutcomeOK {
				if len(added) != 1 || added[0].Actor != "plugin:helpdesk/citizen:7" || !strings.Contains(added[0].Body, "Si è spento di nuovo") {
					t.Errorf("the citizen's message: %+v", added)
				}
			} else if len(added) != 0 {
				t.Errorf("refused, yet %+v", added)
			}
		})
	}
}

// A citizen answers the office's question: their answer goes on the
// dossier and the ticket goes back to work.
func TestCitizenAnswer(t *testing.T) {
	for _, moves := range []bool{true, false} {
		h := newHost(t)
		d := fileOne(t, h, citizen7, statusWaiting)
		req := h.Request(sdktest.Call{Actor: citizen7, Lang: "en", Action: "answer", DossierID: d.GetId(), Values: stepForms["answer"]})
		want, text := statusWaiting, "We have sent your answer about report"
		if moves {
			want, text = statusProgress, "is in progress again"
		} else {
			h.FailOn("SetDossierStatus", sdk.ErrPermissionDenied)
		}
		res, err := newService().Handle(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		got := h.Tenant(1)
		if res.Outcome != sdk.OutcomeOK || !strings.Contains(res.Message, text) || got.Dossier(d.GetNumber()).GetStatus() != want {
			t.Errorf("moves %v: %+v, status %s", moves, res, got.Dossier(d.GetNumber()).GetStatus())
		}
		if len(got.Messages) != 1 || got.Messages[0].Body != stepForms["answer"]["answer"] || got.Messages[0].Internal {
			t.Errorf("messages %+v", got.Messages)
		}
	}
}

func TestServices(t *testing.T) {
	h := newHost(t)
	type info struct {
		Code        string   `json:"code"`
		Name        string   `json:"name"`
		Description string   `json:"description"`
		Group       string   `json:"group"`
		Keywords    []string `json:"keywords"`
		Handled     bool     `json:"handled"`
		Redirect    string   `json:"redirect"`
	}
	list := func(lang string, cfg any) ([]info, string) {
		t.Helper()
		res, err := h.Handle(ctx, newService(), sdktest.Call{Actor: sdktest.Anonymous(), Lang: lang, Action: "services", Config: cfg})
		if err != nil || res.Outcome != sdk.OutcomeOK {
			t.Fatalf("%+v, %v", res, err)
		}
		raw, _ := json.Marshal(res.Data)
		var out struct {
			Services []info `json:"services"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return out.Services, res.Message
	}
	got, text := list("de", h.ConfigExample())
	if len(got) != len(catalogue) {
		t.Fatalf("%d services", len(got))
	}
	byCode := map[string]info{}
	for i, s := range got {
		byCode[s.Code] = s
		if s.Code != catalogue[i].Code || s.Name == "" || s.Description == "" || s.Group == "" || len(s.Keywords) == 0 {
			t.Errorf("service %+v", s)
		}
	}
	want := map[string]info{
		"roads":       {Name: "Straßen und Gehwege", Group: "Straßen und Verkehr", Handled: true},
		"water_leaks": {Name: "Wasserlecks und Kanalisation", Group: "Umwelt und Sauberkeit", Redirect: "Gestore del servizio idrico (+39 800 123456)"},
		"cemeteries":  {Name: "Friedhöfe", Group: "Gemeindegebäude und -anlagen"},
		"information": {Name: "Informationsanfrage", Group: "Auskünfte", Handled: true},
	}
	for code, w := range want {
		s := byCode[code]
		if s.Name != w.Name || s.Group != w.Group || s.Handled != w.Handled || s.Redirect != w.Redirect {
			t.Errorf("%s: %+v, want %+v", code, s, w)
		}
	}
	if !slices.Contains(byCode["roads"].Keywords, "Schlagloch") {
		t.Errorf("keywords %v", byCode["roads"].Keywords)
	}
	if !strings.Contains(text, "Straßenbeleuchtung") || !strings.Contains(text, "Für «Tiere» wenden Sie sich an") {
		t.Errorf("message %q", text)
	}
	got, text = list("en", nil)
	for _, s := range got {
		if s.Handled || s.Redirect != "" {
			t.Errorf("an unconfigured town handles %+v", s)
		}
	}
	if !strings.Contains(text, "not yet said") {
		t.Errorf("message %q", text)
	}
}

// offices is a host that knows only some offices, as a town does.
type offices struct {
	sdk.Host
	known []string
}

func (o offices) CreateDossier(ctx context.Context, nd sdk.NewDossier) (*pb.Dossier, error) {
	if nd.Office != "" && !slices.Contains(o.known, nd.Office) {
		return nil, &sdk.HostError{Code: sdk.ErrInvalid.Code, Msg: "office: unknown"}
	}
	return o.Host.CreateDossier(ctx, nd)
}

// A rule naming an office the town does not have files the report for
// the central office rather than failing the citizen.
func TestUnknownOffice(t *testing.T) {
	h := newHost(t)
	req := h.Request(sdktest.Call{Actor: citizen7, Action: "report", Values: values(h, 0, nil), Config: h.ConfigExample()})
	req.Host = offices{Host: req.Host, known: []string{"urp"}}
	res, err := newService().Handle(ctx, req)
	if err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("%+v, %v", res, err)
	}
	if d := h.Tenant(1).Dossier(res.DossierNumber); d.GetOffice() != "" || d.GetPriority() != "normal" {
		t.Errorf("dossier %+v", d)
	}
}

func TestHostFailures(t *testing.T) {
	h := newHost(t)
	h.FailOn("Notify", &sdk.HostError{Code: sdk.ErrConflict.Code, Msg: "queue full"})
	h.FailOn("Audit", &sdk.HostError{Code: sdk.ErrConflict.Code, Msg: "log full"})
	res, err := h.Handle(ctx, newService(), sdktest.Call{Actor: citizen7, Action: "report", Values: values(h, 0, nil), Config: h.ConfigExample()})
	if err != nil || res.Outcome != sdk.OutcomeOK || len(h.Tenant(1).Dossiers) != 1 {
		t.Errorf("a lost e-mail failed the report: %+v, %v", res, err)
	}
	h.FailOn("CreateDossier", sdk.ErrPermissionDenied)
	if _, err := h.Handle(ctx, newService(), sdktest.Call{Actor: citizen7, Action: "report", Values: values(h, 0, nil),
		Config: h.ConfigExample()}); !errors.Is(err, sdk.ErrPermissionDenied) {
		t.Errorf("create failing: %v", err)
	}
	h.FailOn("AddDossierMessage", &sdk.HostError{Code: sdk.ErrConflict.Code, Msg: "busy"})
	res, err = h.Handle(ctx, newService(), sdktest.Call{Actor: operator, Action: "resolve", DossierID: 1, Values: stepForms["resolve"]})
	if err == nil || h.Tenant(1).Dossiers[0].GetStatus() != statusOpen {
		t.Errorf("a reply failing moved the ticket: %+v, %v", res, err)
	}
}

// Two towns' reports stay apart.
func TestTenantsApart(t *testing.T) {
	h := newHost(t)
	for _, tenant := range []int64{1, 2} {
		res, err := h.Handle(ctx, newService(), sdktest.Call{Tenant: tenant, Actor: citizen7, Action: "report", Values: values(h, 0, nil),
			Config: h.ConfigExample()})
		if err != nil || res.DossierNumber != "2026-000001" {
			t.Fatalf("town %d: %+v, %v", tenant, res, err)
		}
	}
	if len(h.Tenant(1).Dossiers) != 1 || len(h.Tenant(2).Dossiers) != 1 {
		t.Error("dossiers mixed")
	}
}

// The demo towns' configurations are ones the admin page would save and
// the plugin applies, and name offices and operators the towns have.
func TestDemoTowns(t *testing.T) {
	files, err := filepath.Glob("../../tenants/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("demo towns: %v", err)
	}
	h := newHost(t)
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
			Staff []struct {
				Email string `yaml:"email"`
			} `yaml:"staff"`
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
		staff := map[string]bool{}
		for _, u := range town.Staff {
			staff[strings.ToLower(u.Email)] = true
		}
		for _, s := range town.Services {
			if s.ID != "helpdesk" {
				continue
			}
			enabled++
			// Request fails the test if the admin page would refuse it.
			req := h.Request(sdktest.Call{Action: "services", Actor: sdktest.Anonymous(), Config: s.Config})
			cfg, err := setupOf(req.Config)
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			if len(cfg.Handled) < 5 || len(cfg.Redirects) == 0 || len(cfg.Rules) == 0 || len(cfg.Areas) == 0 ||
				len(cfg.Answers) == 0 || cfg.Bounds == nil {
				t.Errorf("%s: not a realistic setup: %+v", f, cfg)
			}
			offices := []string{cfg.Office}
			for _, h := range cfg.Handled {
				offices = append(offices, h.Office)
			}
			for _, r := range cfg.Rules {
				if r.Office != "-" {
					offices = append(offices, r.Office)
				}
			}
			for _, o := range offices {
				if !has[o] {
					t.Errorf("%s: office %q is not one of the town's", f, o)
				}
			}
			for _, r := range cfg.Rules {
				if r.Assignee != "" && !staff[strings.ToLower(r.Assignee)] {
					t.Errorf("%s: rule %d: operator %q is not one of the town's staff", f, r.Number, r.Assignee)
				}
			}
			for _, a := range cfg.Areas {
				for _, p := range a.Points {
					if !cfg.Bounds.contains(p) {
						t.Errorf("%s: area %s reaches outside the town", f, a.Name)
					}
				}
			}
		}
	}
	if enabled == 0 {
		t.Fatal("no demo town enables the service")
	}
}

// The manifest's example patterns for lines agree with the parsers on
// what a line is: whatever the admin page saves, the plugin reads.
func TestPatternsAndParsers(t *testing.T) {
	m, _ := sdk.ParseManifest(manifest)
	var cfg struct {
		Properties map[string]struct {
			Pattern string `json:"pattern"`
		} `json:"properties"`
	}
	_ = json.Unmarshal(m.GetConfigSchemaJson(), &cfg)
	lines := map[string][]string{
		"categories": {"roads", "roads;", "roads; ;", "roads; -; ; 5", "information;urp;urgent;9999"},
		"redirects":  {"noise; Polizia locale", "noise;  Polizia locale ; +41 58 866 81 11", "noise; ab; https://x.example/a?b=c"},
		"areas":      {"a; 1 1, 2 2", "a-b; -1.5 -2.25, 3 4, 5 -6"},
		"rules": {"*;*;*->-", "roads; a; web -> urp; ; low", "noise; *; app → polizia; 1",
			"roads; a; * -> urp mario.rossi@comune.example; 8", "*;*;*->Mario.Rossi@Comune.example",
			"noise; *; phone → -\tl.o'neill+x@vigili.comune.example ; ; high"},
		"answers": {"ab; cde; fgh", "a b, c*; Una domanda?; Una risposta.; https://x.example/p"},
	}
	parse := map[string]func(string) error{
		"categories": func(s string) error { _, err := parseCategories(s); return err },
		"redirects":  func(s string) error { _, err := parseRedirects(s, nil); return err },
		"areas":      func(s string) error { _, err := parseAreas(s); return err },
		"rules": func(s string) error {
			_, err := parseRules(s, []area{{Name: "a", Points: []point{{1, 1}, {2, 2}}}})
			return err
		},
		"answers": func(s string) error { _, err := parseAnswers(s); return err },
	}
	for key, ls := range lines {
		re := regexp.MustCompile(cfg.Properties[key].Pattern)
		for _, l := range ls {
			if !re.MatchString(l) {
				t.Errorf("%s: the pattern refuses %q", key, l)
			}
			if err := parse[key](l); err != nil {
				t.Errorf("%s: %q passes the pattern, and the parser says %v", key, l, err)
			}
		}
	}
}
