package procedure

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

func readCamp(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("testdata/camp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// edit replaces old with new in the definition, once; the test fails if
// old is not there, so that a case cannot silently test nothing.
func edit(t *testing.T, def, old, new string) string {
	t.Helper()
	if !strings.Contains(def, old) {
		t.Fatalf("the definition has no %q to change", old)
	}
	return strings.Replace(def, old, new, 1)
}

// Every way a definition can be wrong is refused at load, with the YAML
// path of the mistake.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     string // in the error
	}{
		{"bad id", "id: testcamp", "id: Test Camp", `$.id: "Test Camp"`},
		{"bad version", "version: 1.0.0", "version: v1", `$.version: "v1"`},
		{"unknown category", "category: educazione-e-formazione", "category: sport", `$.category: "sport"`},
		{"unknown key", "processing_days: 20", "processing_day: 20", `unknown field "processing_day"`},
		{"missing language", "  en: *texts\n", "", "$.texts.en: missing"},
		{"language not offered", "  en: *texts\n", "  fr: *texts\n", "$.texts.fr: not a language"},
		{"missing section", "    contacts: Ufficio servizi educativi.\n", "", "$.texts.it.contacts: missing"},
		{"bad office", "office: servizi-educativi", "office: Servizi Educativi", "$.office"},
		{"no processing days", "processing_days: 20", "processing_days: 0", "$.processing_days: 0"},
		{"absurd processing days", "processing_days: 20", "processing_days: 3000", "$.processing_days: 3000"},
		{"nobody may apply", "who: {citizens: true, anonymous: false, staff: true}", "who: {}", "$.who: nobody may apply"},
		{"visitors but not citizens", "who: {citizens: true, anonymous: false, staff: true}",
			"who: {citizens: false, anonymous: true}", "$.who.anonymous"},
		{"form title language", "title: {it: Domanda, de: Antrag, en: Application}", "title: {it: Domanda, de: Antrag}",
			"$.form.title.en: missing"},
		{"texts with a comma cut", "action: {it: Iscrivi, de: Anmelden, en: Enrol}",
			"action: {it: Iscrivi, de: Anmelden, jetzt, en: Enrol}", `$.form.action.jetzt: not a language`},
		{"no examples", "    examples:\n      - parent:", "    x-examples:\n      - parent:", "$.form.schema.examples"},
		{"example fails the schema", "isee_band: none\n", "isee_band: rich\n", "$.form.schema.examples[0]"},
		{"schema does not compile", "pattern: \"^[A-Za-z0-9]{16}$\"", "pattern: \"^[A-Z\"", "$.form.schema:"},
		{"title field not in the form", "title_field: /child/name", "title_field: /child/nome", `$.form.title_field: "/child/nome" is no field`},
		{"email field not an e-mail", "email_field: /parent/email", "email_field: /parent/fiscal_code", "$.form.email_field"},
		{"choice titles cut at a comma", "en: [Up to 10000 EUR, Over 10000 EUR, Not declared]", "en: [Up to €10,000, Over €10,000, Not declared]",
			"$.form.schema.properties.isee_band.x-enum-titles.en: 5 titles for 3 choices"},
		{"label missing in English", "x-title: {de: Kind, en: Child}", "x-title: {de: Kind}", "$.form.schema.properties.child.x-title.en: missing"},
		{"file without types", "        x-accept: [application/pdf]\n", "", "x-accept: list the file types"},
		{"file type no MIME type", "x-accept: [application/pdf]", "x-accept: [pdf]", "x-accept[0]: pdf is no MIME type"},
		{"file too large", "x-max-bytes: 1048576", "x-max-bytes: 999999999", "x-max-bytes"},
		{"required_when on a required field", "  - field: /isee_file\n", "  - field: /resident\n", "$.required_when[0].field: /resident is always required"},
		{"required_when value not a choice", "when: {field: /isee_band, in: [a, b]}", "when: {field: /isee_band, in: [a, z]}",
			"$.required_when[0].when: z is not among the choices"},
		{"required_when equals and in", "when: {field: /isee_band, in: [a, b]}", "when: {field: /isee_band, equals: a, in: [b]}",
			"give equals or in, not both"},
		{"rule on no field", "{field: /start, min_days_from_today: 7}", "{field: /begin, min_days_from_today: 7}", `$.rules[2].field: "/begin"`},
		{"date rule on text", "{field: /start, min_days_from_today: 7}", "{field: /child/name, min_days_from_today: 7}",
			"$.rules[2].field: /child/name is no date"},
		{"rule checking nothing", "{field: /start, min_days_from_today: 7}", "{field: /start}", "$.rules[2]: say what to check"},
		{"impossible date range", "{field: /start, min_days_from_today: 7}", "{field: /start, min_days_from_today: 7, max_days_from_today: 3}",
			"no date would do"},
		{"not_before itself", "{field: /end, not_before: /start}", "{field: /end, not_before: /end}", "a date compared with itself"},
		{"condition without message in German", "message: {it: Solo per residenti., de: Nur für Ansässige., en: Residents only.}",
			"message: {it: Solo per residenti., en: Residents only.}", "$.eligibility[0].message.de: missing"},
		{"condition of the wrong type", "    equals: true\n", "    equals: yes please\n", "$.eligibility[0]: yes please cannot be an answer to /resident"},
		{"age on a text", "  - field: /child/birth_date\n", "  - field: /child/name\n", "$.eligibility[1].field: /child/name is no date"},
		{"age upside down", "age: {min: 3, max: 14, on: year_end}", "age: {min: 14, max: 3}", "$.eligibility[1].age: min 14 is above max 3"},
		{"age on an unknown day", "age: {min: 3, max: 14, on: year_end}", "age: {min: 3, on: birthday}", `$.eligibility[1].age.on: "birthday"`},
		{"unique per nothing", "unique: {field: /child/fiscal_code, per: window}", "unique: {field: /child/fiscal_code, per: month}", `$.unique.per: "month"`},
		{"unique per window without one", "window: {required: true}\n", "", "$.unique.per: window: the procedure has no application window"},
		{"fee on an unknown step", "  on: admit\n", "  on: approve\n", `$.fee.on: "approve"`},
		{"fee fixed and by answer", "  on: admit\n", "  on: admit\n  amount: 10\n", "$.fee: give amount"},
		{"fee missing an option", "amounts: {a: 30, b: 60, none: 90}", "amounts: {a: 30, b: 60}", "$.fee.by.amounts: no amount for none"},
		{"fee option that is no choice", "amounts: {a: 30, b: 60, none: 90}", "amounts: {a: 30, b: 60, none: 90, c: 1}",
			"$.fee.by.amounts.c: not a choice"},
		{"fee in tenths of cents", "amounts: {a: 30, b: 60, none: 90}", "amounts: {a: 30.005, b: 60, none: 90}", "$.fee.by.amounts.a: 30.005"},
		{"fee in dollars", "  on: admit\n", "  on: admit\n  currency: USD\n", `$.fee.currency: "USD"`},
		{"fee times a text", "times: [/weeks]", "times: [/child/name]", "$.fee.times[0]: /child/name is of type string"},
		{"fee reason missing", "reason: {it: Centro estivo, de: Sommerlager, en: Summer camp}", "reason: {it: Centro estivo}", "$.fee.reason.de: missing"},
		{"first state final", "  - {id: submitted, label: {it: Ricevuta, de: Eingegangen, en: Received}}",
			"  - {id: submitted, label: {it: Ricevuta, de: Eingegangen, en: Received}, final: true}", "$.statuses[0].final"},
		{"state twice", "{id: admitted, label:", "{id: submitted, label:", `$.statuses[1].id: "submitted" is listed twice`},
		{"state id malformed", "{id: admitted, label:", "{id: Admitted, label:", `$.statuses[1].id: "Admitted"`},
		{"state label missing", "{id: enrolled, label: {it: Iscritto, de: Angemeldet, en: Enrolled}, final: true}",
			"{id: enrolled, final: true}", "$.statuses[2].label: required"},
		{"unreachable state", "    to: enrolled\n", "    to: rejected\n", `$.statuses[2]: "enrolled" cannot be reached`},
		{"transition from nowhere", "    from: [admitted]\n", "    from: [accepted]\n", `$.transitions[1].from[0]: "accepted" is not among $.statuses`},
		{"transition from a final state", "    from: [admitted]\n", "    from: [enrolled]\n", `$.transitions[1].from[0]: "enrolled" is final`},
		{"transition to nowhere", "    to: enrolled\n", "    to: done\n", `$.transitions[1].to: "done"`},
		{"transition to itself", "    to: enrolled\n", "    to: admitted\n", "the transition would change nothing"},
		{"transition named submit", "  - id: confirm\n", "  - id: submit\n", `$.transitions[1].id: "submit" is an action the procedure keeps for itself`},
		{"transition named payment", "  - id: confirm\n", "  - id: payment\n", `$.transitions[1].id: "payment" is an action the procedure keeps for itself`},
		{"transition twice", "  - id: confirm\n", "  - id: admit\n", `$.transitions[1].id: "admit" is listed twice`},
		{"note neither", "    note: required\n", "    note: maybe\n", `$.transitions[2].note: "maybe"`},
		{"payment check on the step that charges", "    to: admitted\n", "    to: admitted\n    requires_payment: true\n",
			"$.transitions[0].requires_payment: admit is the step that asks for the fee"},
		{"configuration example wrong", "  opens: \"2026-03-01\"", "  opens: \"first of March\"", "$.config_example.examples[0]"},
	}
	base := readCamp(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(edit(t, base, tc.old, tc.new)))
			if err == nil {
				t.Fatalf("accepted; want an error with %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\nwant it to say %q", err, tc.want)
			}
		})
	}
}

// Two mistakes that only show together, and the empty file.
func TestLoadErrorsCombined(t *testing.T) {
	base := readCamp(t)
	def := edit(t, base, "who: {citizens: true, anonymous: false, staff: true}", "who: {citizens: true, anonymous: true, staff: true}")
	def = edit(t, def, "  on: admit\n", "  on: submit\n")
	_, err := Load([]byte(def))
	if err == nil || !strings.Contains(err.Error(), "$.fee.on: a fee at submission needs a logged-in applicant") {
		t.Fatalf("fee from visitors: %v", err)
	}
	def = edit(t, base, "    from: [submitted, admitted]\n", "    from: [submitted]\n")
	def = edit(t, def, "    from: [admitted]\n    to: enrolled\n", "    from: [submitted]\n    to: enrolled\n")
	_, err = Load([]byte(def))
	if err == nil || !strings.Contains(err.Error(), `$.statuses[1]: "admitted" is not final and no transition leaves it`) {
		t.Fatalf("dead end: %v", err)
	}
	// A payment check with no fee at all.
	def = edit(t, base, "    to: enrolled\n", "    to: enrolled\n    requires_payment: true\n")
	def = def[:strings.Index(def, "fee:\n")] + def[strings.Index(def, "statuses:\n"):]
	_, err = Load([]byte(def))
	if err == nil || !strings.Contains(err.Error(), "$.transitions[1].requires_payment: the procedure has no fee") {
		t.Fatalf("payment check without a fee: %v", err)
	}
	var de *DefinitionError
	if !errors.As(err, &de) || len(de.Problems) == 0 {
		t.Fatalf("not a DefinitionError: %T", err)
	}
	if _, err := Load([]byte("  \n")); !errors.Is(err, errNoDefinition) {
		t.Fatalf("empty: %v", err)
	}
	if _, err := Load([]byte("id: [unclosed")); err == nil || !strings.Contains(err.Error(), "procedure definition") {
		t.Fatalf("broken YAML: %v", err)
	}
}

// The manifest the definition makes is one the host takes: complete in
// every language, forms to the conventions, examples valid.
func TestManifest(t *testing.T) {
	p, err := Load([]byte(readCamp(t)))
	if err != nil {
		t.Fatal(err)
	}
	m := sdktest.CheckManifest(t, p.Manifest())
	sdktest.CheckMessages(t, msg)
	if m.GetId() != "testcamp" || m.GetCategory() != "educazione-e-formazione" || len(m.GetStatuses()) != 4 || !m.GetStatuses()[2].GetFinal() {
		t.Fatalf("manifest %v", m)
	}
	type action struct{ form, audience, scope string }
	got := map[string]action{}
	for _, a := range m.GetActions() {
		got[a.GetId()] = action{a.GetFormId(), a.GetAudience(), a.GetScope()}
	}
	want := map[string]action{
		"submit":  {"application", "citizen", ""},
		"admit":   {"note_admit", "staff", sdk.ScopeDossier},
		"confirm": {"", "staff", sdk.ScopeDossier},
		"reject":  {"note_reject", "staff", sdk.ScopeDossier},
		"payment": {"", sdk.AudienceSystem, sdk.ScopeDossier}, // the camp charges a fee
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("action %s: %+v, want %+v", id, got[id], w)
		}
	}
	var reject struct {
		Required []string `json:"required"`
	}
	var app struct {
		AllOf []json.RawMessage `json:"allOf"`
	}
	var cfg struct {
		Properties map[string]struct {
			Properties map[string]any `json:"properties"`
			Maximum    *float64       `json:"maximum"`
		} `json:"properties"`
	}
	for _, f := range m.GetForms() {
		switch f.GetId() {
		case "note_reject":
			_ = json.Unmarshal(f.GetSchemaJson(), &reject)
		case "application":
			_ = json.Unmarshal(f.GetSchemaJson(), &app)
		}
	}
	if err := json.Unmarshal(m.GetConfigSchemaJson(), &cfg); err != nil {
		t.Fatal(err)
	}
	if strings.Join(reject.Required, ",") != "note" {
		t.Errorf("the note of a rejection is not required: %v", reject.Required)
	}
	if len(app.AllOf) != 1 {
		t.Errorf("required_when not written as JSON Schema: %d", len(app.AllOf))
	}
	for _, k := range []string{"office", "office_email", "processing_days", "opens", "closes", "currency", "fee_amounts"} {
		if _, ok := cfg.Properties[k]; !ok {
			t.Errorf("config schema lacks %s", k)
		}
	}
	if n := len(cfg.Properties["fee_amounts"].Properties); n != 3 {
		t.Errorf("fee_amounts: %d tariffs, want one per ISEE band", n)
	}
	if mx := cfg.Properties["processing_days"].Maximum; mx == nil || *mx != 20 {
		t.Errorf("a town may promise less than the legal time, not more: maximum %v", mx)
	}
}
