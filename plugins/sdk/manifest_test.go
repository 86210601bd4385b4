package sdk_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sportello/sportello/plugins/sdk"
)

const goodManifest = `
id: sample
version: 1.2.0
category: altro
texts:
  it: {name: Esempio, summary: Un servizio di prova.}
  en: {name: Sample, summary: A test service.}
forms:
  - id: request
    title: {it: Richiesta}
    schema:
      type: object
      required: [zeta]
      properties:
        zeta: {type: string, title: Zeta}
        alpha:
          type: object
          title: Alfa
          properties:
            second: {type: integer, title: Secondo}
            first: {type: boolean, title: Primo}
        middle: {type: string, format: date, title: Mezzo}
actions:
  - {id: submit, label: {it: Invia}, form: request, audience: citizen}
  - {id: review, label: {it: Esamina}, audience: staff, scope: dossier}
statuses:
  - {id: submitted, label: {it: Inviata}}
  - {id: closed, label: {it: Chiusa}, final: true}
config_schema:
  type: object
  properties:
    email: {type: string, format: email, title: E-mail}
permissions:
  - {role: operator, object: backoffice/services/sample/*, action: write}
`

func TestParseManifest(t *testing.T) {
	m, err := sdk.ParseManifest([]byte(goodManifest))
	if err != nil {
		t.Fatal(err)
	}
	if m.GetId() != "sample" || m.GetVersion() != "1.2.0" || m.GetProtocol() != sdk.ProtocolVersion ||
		m.GetTexts()["en"].GetName() != "Sample" || len(m.GetActions()) != 2 || m.GetActions()[0].GetFormId() != "request" ||
		len(m.GetPermissions()) != 1 || len(m.GetConfigSchemaJson()) == 0 ||
		m.GetActions()[1].GetScope() != sdk.ScopeDossier || len(m.GetStatuses()) != 2 || !m.GetStatuses()[1].GetFinal() {
		t.Fatalf("manifest %v", m)
	}
	// Fields keep the author's order, at each level, whatever JSON does
	// with object keys.
	var form struct {
		Order      []string `json:"x-order"`
		Properties struct {
			Alpha struct {
				Order []string `json:"x-order"`
			} `json:"alpha"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(m.GetForms()[0].GetSchemaJson(), &form); err != nil {
		t.Fatal(err)
	}
	if strings.Join(form.Order, ",") != "zeta,alpha,middle" || strings.Join(form.Properties.Alpha.Order, ",") != "second,first" {
		t.Errorf("x-order %v and %v", form.Order, form.Properties.Alpha.Order)
	}
}

// A plugin that wants to hear of its payments declares the event as an
// action of audience system on a dossier.
func TestParseManifestPaymentEvent(t *testing.T) {
	event := strings.Replace(goodManifest, "{id: review, label: {it: Esamina}, audience: staff, scope: dossier}",
		"{id: payment, label: {it: Esito del pagamento}, audience: system, scope: dossier}", 1)
	m, err := sdk.ParseManifest([]byte(event))
	if err != nil {
		t.Fatal(err)
	}
	a := m.GetActions()[1]
	if a.GetId() != sdk.ActionPayment || a.GetAudience() != sdk.AudienceSystem || a.GetScope() != sdk.ScopeDossier || a.GetFormId() != "" {
		t.Fatalf("event action %v", a)
	}
}

func TestParseManifestErrors(t *testing.T) {
	tests := []struct {
		name    string
		old     string // replaced in goodManifest
		new     string
		wantErr string
	}{
		{"not YAML", "id: sample", "id: [sample", "manifest:"},
		{"unknown field", "category: altro", "category: altro\ncolour: red", "colour"},
		{"bad id", "id: sample", "id: Sample!", `id "Sample!"`},
		{"bad version", "version: 1.2.0", "version: v1", `version "v1"`},
		{"unknown category", "category: altro", "category: sport", `category "sport"`},
		{"no Italian", "  it: {name: Esempio, summary: Un servizio di prova.}\n", "", "texts.it"},
		{"language not offered", "  en: {name: Sample", "  fr: {name: Sample", "texts.fr"},
		{"bad form id", "  - id: request", "  - id: Request", `forms[0].id "Request"`},
		{"form without Italian title", "title: {it: Richiesta}", "title: {en: Request}", "forms[0].title.it"},
		{"schema not compiling", "zeta: {type: string, title: Zeta}", "zeta: {type: strin, title: Zeta}", "forms[0].schema"},
		{"schema not an object", "    schema:\n      type: object", "    schema:\n      type: array", `forms[0].schema: want "type: object"`},
		{"bad pattern", "zeta: {type: string, title: Zeta}", "zeta: {type: string, pattern: '(', title: Zeta}", "forms[0].schema"},
		{"repeated action", "  - {id: review,", "  - {id: submit,", `actions[1].id "submit"`},
		{"action without label", "label: {it: Esamina}", "label: {en: Review}", "actions[1].label.it"},
		{"action for no form", "form: request, audience", "form: other, audience", `actions[0].form "other"`},
		{"unknown audience", "audience: staff", "audience: everyone", `actions[1].audience "everyone"`},
		{"bad config schema", "email: {type: string, format: email", "email: {type: 42, format: email", "config_schema"},
		{"bad permission", "action: write}", "action: delete}", "permissions[0]"},
		{"unknown scope", "scope: dossier}", "scope: tenant}", `actions[1].scope "tenant"`},
		{"anonymous on a dossier", "audience: staff, scope", "audience: anonymous, scope", "actions[1]: an action on a dossier"},
		{"system action that is no event", "audience: staff, scope", "audience: system, scope", "actions[1]: audience system is for the host's events"},
		{"event not on a dossier", "{id: review, label: {it: Esamina}, audience: staff, scope: dossier}",
			"{id: payment, label: {it: Pagamento}, audience: system}", `actions[1]: the payment event is about a dossier`},
		{"event with a form", "{id: review, label: {it: Esamina}, audience: staff, scope: dossier}",
			"{id: payment, label: {it: Pagamento}, form: request, audience: system, scope: dossier}", "actions[1].form: an event has no form"},
		{"bad status id", "{id: closed,", "{id: Closed,", `statuses[1].id "Closed"`},
		{"repeated status", "{id: closed,", "{id: submitted,", `statuses[1].id "submitted"`},
		{"status without Italian", "label: {it: Chiusa}", "label: {en: Closed}", "statuses[1].label.it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(goodManifest, tc.old) {
				t.Fatalf("%q is not in the good manifest", tc.old)
			}
			_, err := sdk.ParseManifest([]byte(strings.Replace(goodManifest, tc.old, tc.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one with %q", err, tc.wantErr)
			}
		})
	}
}

// Several problems are reported together, in the same order every time.
func TestParseManifestErrorsTogether(t *testing.T) {
	bad := strings.NewReplacer("id: sample", "id: X", "version: 1.2.0", "version: 1",
		"  en: {name: Sample", "  fr: {name: Sample").Replace(goodManifest)
	_, first := sdk.ParseManifest([]byte(bad))
	if first == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"id", "version", "texts.fr"} {
		if !strings.Contains(first.Error(), want) {
			t.Errorf("%v: want %q in it", first, want)
		}
	}
	for range 10 {
		if _, err := sdk.ParseManifest([]byte(bad)); err.Error() != first.Error() {
			t.Fatalf("%v\nthen\n%v", first, err)
		}
	}
}

func TestFormats(t *testing.T) {
	schema, err := sdk.CompileSchema([]byte(`{"type": "object", "properties": {
		"t": {"type": "string", "format": "time"},
		"dt": {"type": "string", "format": "date-time"},
		"tel": {"type": "string", "format": "tel"},
		"d": {"type": "string", "format": "date"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		field, value string
		ok           bool
	}{
		{"t", "14:30", true},
		{"t", "14:30:05", true},
		{"t", "14:30:05+01:00", true},
		{"t", "24:00", false},
		{"t", "9:30", false},
		{"dt", "2026-05-10T14:30", true},
		{"dt", "2026-05-10T14:30:00Z", true},
		{"dt", "2026-05-10 14:30", false},
		{"tel", "+41 91 123 45 67", true},
		{"tel", "02/1234567", true},
		{"tel", "(02) 123-4567", true},
		{"tel", "12345", false},
		{"tel", "+39 333 abc", false},
		{"tel", "1234567890123456", false},
		{"d", "2026-02-29", false},
	}
	for _, tc := range tests {
		err := schema.Validate(map[string]any{tc.field: tc.value})
		if (err == nil) != tc.ok {
			t.Errorf("%s %q: valid %v, want %v (%v)", tc.field, tc.value, err == nil, tc.ok, err)
		}
	}
}

func TestCompileSchemaReadsNothingOutside(t *testing.T) {
	// A valid schema on the host's disk: a loader would happily read it.
	onDisk := filepath.Join(t.TempDir(), "secret.json")
	if err := os.WriteFile(onDisk, []byte(`{"type":"string"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{onDisk, "file://" + onDisk, "http://127.0.0.1:1/x.json"} {
		schema := []byte(`{"type":"object","properties":{"a":{"$ref":"` + ref + `"}}}`)
		if _, err := sdk.CompileSchema(schema); err == nil {
			t.Errorf("a $ref to %s compiled", ref)
		}
	}
	if _, err := sdk.CompileSchema([]byte(`{"$defs":{"n":{"type":"string"}},"type":"object","properties":{"a":{"$ref":"#/$defs/n"}}}`)); err != nil {
		t.Errorf("a local $ref: %v", err)
	}
}
