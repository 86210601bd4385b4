package sdktest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// CheckManifest parses a plugin's manifest and checks what a published
// service needs beyond what sdk.ParseManifest enforces: every service-page
// section, form title and action label in Italian, German and English;
// forms and the config schema written to the host's form conventions
// (plugins/README.md); every form with at least one example ("examples")
// and every example valid against its schema; every form used by an action.
// Each problem is a test error; the parsed manifest is returned.
func CheckManifest(t testing.TB, manifest []byte) *pb.Manifest {
	t.Helper()
	m, err := sdk.ParseManifest(manifest)
	if err != nil {
		t.Fatalf("%v", err)
	}
	for _, p := range Problems(m) {
		t.Error(p)
	}
	return m
}

// Problems is what CheckManifest reports, as a list.
func Problems(m *pb.Manifest) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, lang := range sdk.Languages {
		t := m.GetTexts()[lang]
		sections := []struct{ name, text string }{
			{"name", t.GetName()}, {"summary", t.GetSummary()}, {"audience", t.GetAudience()},
			{"how_to", t.GetHowTo()}, {"what_you_need", t.GetWhatYouNeed()}, {"what_you_get", t.GetWhatYouGet()},
			{"times_and_deadlines", t.GetTimesAndDeadlines()}, {"costs", t.GetCosts()},
			{"conditions", t.GetConditions()}, {"contacts", t.GetContacts()},
		}
		for _, s := range sections {
			if s.text == "" {
				bad("texts.%s.%s: missing", lang, s.name)
			}
		}
	}
	used := map[string]bool{}
	for _, a := range m.GetActions() {
		used[a.GetFormId()] = true
		for _, lang := range sdk.Languages {
			if a.GetLabel()[lang] == "" {
				bad("actions[%s].label.%s: missing", a.GetId(), lang)
			}
		}
		for _, k := range sortedKeys(a.GetLabel()) {
			if !contains(sdk.Languages, k) {
				bad("actions[%s].label: %q is not a language (quote texts with commas)", a.GetId(), k)
			}
		}
	}
	for _, f := range m.GetForms() {
		where := fmt.Sprintf("forms[%s]", f.GetId())
		if !used[f.GetId()] {
			bad("%s: no action uses this form", where)
		}
		for _, lang := range sdk.Languages {
			if f.GetTitle()[lang] == "" {
				bad("%s.title.%s: missing", where, lang)
			}
		}
		for _, k := range sortedKeys(f.GetTitle()) {
			if !contains(sdk.Languages, k) {
				bad("%s.title: %q is not a language (quote texts with commas)", where, k)
			}
		}
		out = append(out, schemaProblems(where+".schema", f.GetSchemaJson(), true)...)
	}
	if len(m.GetConfigSchemaJson()) > 0 {
		out = append(out, schemaProblems("config_schema", m.GetConfigSchemaJson(), false)...)
	}
	return out
}

// schemaProblems checks a form (or config) schema against the form
// conventions and validates its examples.
func schemaProblems(where string, schema []byte, needExample bool) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	var s map[string]any
	if err := json.Unmarshal(schema, &s); err != nil {
		return []string{fmt.Sprintf("%s: %v", where, err)}
	}
	lintObject(where, s, 0, bad)

	compiled, err := sdk.CompileSchema(schema)
	if err != nil {
		return append(out, fmt.Sprintf("%s: %v", where, err))
	}
	examples, _ := s["examples"].([]any)
	if needExample && len(examples) == 0 {
		bad("%s.examples: give at least one example of filled-in values", where)
	}
	for i, ex := range examples {
		if err := compiled.Validate(ex); err != nil {
			bad("%s.examples[%d]: %v", where, i, err)
		}
	}
	return out
}

var (
	types   = []string{"string", "integer", "number", "boolean", "array", "object"}
	widgets = []string{"input", "textarea", "radio", "select", "checkbox", "checkboxes", "hidden", "file"}
	fmts    = []string{"date", "time", "date-time", "email", "uri", "tel"}
)

// lintObject checks an object schema's properties; depth 0 is the form,
// 1 a nested object, and there is no deeper level.
func lintObject(where string, s map[string]any, depth int, bad func(string, ...any)) {
	props, _ := s["properties"].(map[string]any)
	if len(props) == 0 {
		bad("%s: an object needs properties", where)
	}
	req, _ := s["required"].([]any)
	for _, r := range req {
		if _, ok := props[fmt.Sprint(r)]; !ok {
			bad("%s.required: %v is no property", where, r)
		}
	}
	for _, name := range sortedKeys(props) {
		p, ok := props[name].(map[string]any)
		if !ok {
			bad("%s.properties.%s: not a schema", where, name)
			continue
		}
		lintProperty(where+".properties."+name, p, depth, bad)
	}
}

func lintProperty(where string, p map[string]any, depth int, bad func(string, ...any)) {
	if title, _ := p["title"].(string); title == "" {
		bad("%s.title: the Italian label is missing", where)
	}
	translated(where, p, "x-title", bad)
	if _, ok := p["description"]; ok {
		translated(where, p, "x-description", bad)
	} else if _, ok := p["x-description"]; ok {
		bad("%s: x-description without description (the Italian help text)", where)
	}
	typ, _ := p["type"].(string)
	if !contains(types, typ) {
		bad("%s.type %q: want one of %v", where, p["type"], types)
	}
	if f, ok := p["format"]; ok && (typ != "string" || !contains(fmts, fmt.Sprint(f))) {
		bad("%s.format %v: want a string with one of %v", where, f, fmts)
	}
	_, hasEnum := p["enum"]
	if hasEnum {
		lintEnum(where, p, bad)
	}
	if w, ok := p["x-widget"]; ok {
		widget := fmt.Sprint(w)
		switch {
		case !contains(widgets, widget):
			bad("%s.x-widget %q: want one of %v", where, widget, widgets)
		case widget == "textarea" && (typ != "string" || hasEnum):
			bad("%s.x-widget textarea: for free text (a string without enum)", where)
		case (widget == "radio" || widget == "select") && !hasEnum:
			bad("%s.x-widget %s: for a choice (enum)", where, widget)
		case widget == "checkbox" && typ != "boolean":
			bad("%s.x-widget checkbox: for a boolean", where)
		case widget == "checkboxes" && typ != "array":
			bad("%s.x-widget checkboxes: for an array of enum strings", where)
		case widget == "file" && (typ != "string" || hasEnum):
			bad("%s.x-widget file: for a string (the host puts the attachment id there)", where)
		}
	}
	_, accept := p["x-accept"]
	_, maxBytes := p["x-max-bytes"]
	if (accept || maxBytes) && p["x-widget"] != "file" {
		bad("%s: x-accept and x-max-bytes belong to x-widget file", where)
	}
	if accept {
		if list, ok := p["x-accept"].([]any); !ok || len(list) == 0 {
			bad("%s.x-accept: a list of MIME types (application/pdf, image/jpeg, ...)", where)
		}
	}
	if maxBytes {
		if n, ok := p["x-max-bytes"].(float64); !ok || n < 1 || n > 10<<20 || n != float64(int64(n)) {
			bad("%s.x-max-bytes: a whole number of bytes, 1 to %d", where, 10<<20)
		}
	}
	switch typ {
	case "array":
		items, _ := p["items"].(map[string]any)
		if items == nil || items["type"] != "string" || items["enum"] == nil {
			bad("%s.items: an array is a multiple choice: items of type string with enum", where)
		} else {
			lintEnum(where+".items", items, bad)
		}
		if p["uniqueItems"] != true {
			bad("%s.uniqueItems: a multiple choice needs uniqueItems: true", where)
		}
	case "object":
		if depth > 0 {
			bad("%s: objects nest one level only", where)
			return
		}
		lintObject(where, p, depth+1, bad)
	}
}

func lintEnum(where string, p map[string]any, bad func(string, ...any)) {
	enum, _ := p["enum"].([]any)
	for _, v := range enum {
		switch v.(type) {
		case string:
		case float64:
			if p["type"] != "integer" && p["type"] != "number" {
				bad("%s.enum: %v is a number in a field of type %v", where, v, p["type"])
			}
		default:
			bad("%s.enum: %v is neither a string nor a number", where, v)
		}
	}
	titles, _ := p["x-enum-titles"].(map[string]any)
	for _, k := range sortedKeys(titles) {
		if !contains(sdk.Languages, k) {
			bad("%s.x-enum-titles: %q is not a language", where, k)
		}
	}
	for _, lang := range sdk.Languages {
		list, _ := titles[lang].([]any)
		if len(list) != len(enum) {
			bad("%s.x-enum-titles.%s: want %d titles, one per enum value", where, lang, len(enum))
			continue
		}
		for i, t := range list {
			if s, _ := t.(string); s == "" {
				bad("%s.x-enum-titles.%s[%d]: empty", where, lang, i)
			}
		}
	}
}

// translated checks that key holds the German and English versions of an
// Italian text.
func translated(where string, p map[string]any, key string, bad func(string, ...any)) {
	m, _ := p[key].(map[string]any)
	for _, lang := range sdk.Languages[1:] {
		if s, _ := m[lang].(string); s == "" {
			bad("%s.%s.%s: missing", where, key, lang)
		}
	}
	// A stray key is most often a YAML flow map cut at a comma:
	// {de: Ja, gern, en: Yes} reads as de "Ja", "gern" null, en "Yes".
	for _, k := range sortedKeys(m) {
		if !contains(sdk.Languages[1:], k) {
			bad("%s.%s: %q is not a language (quote texts with commas)", where, key, k)
		}
	}
}

// Example is the first example of form id, as a map a test may change.
// The test fails if the form has none.
func (h *Host) Example(formID string) map[string]any {
	h.t.Helper()
	f := h.form(formID)
	if f == nil {
		h.t.Fatalf("sdktest: no form %q", formID)
	}
	return h.example("form "+formID, f.GetSchemaJson())
}

// ConfigExample is the first example of the config schema, as a map a test
// may change. The test fails if there is none.
func (h *Host) ConfigExample() map[string]any {
	h.t.Helper()
	return h.example("config schema", h.manifest.GetConfigSchemaJson())
}

func (h *Host) example(what string, schema []byte) map[string]any {
	h.t.Helper()
	var s struct {
		Examples []map[string]any `json:"examples"`
	}
	if err := json.Unmarshal(schema, &s); err != nil || len(s.Examples) == 0 {
		h.t.Fatalf("sdktest: the %s has no examples", what)
	}
	return s.Examples[0]
}

var verbRe = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z]`)

// verbs counts the formatting verbs of s; "%%" is a percent sign.
func verbs(s string) int {
	return len(verbRe.FindAllString(strings.ReplaceAll(s, "%%", ""), -1))
}

// CheckMessages checks a plugin's messages: each in Italian, German and
// English, all three taking the same number of arguments.
func CheckMessages(t testing.TB, msgs sdk.Messages) {
	t.Helper()
	for _, key := range sortedKeys(msgs) {
		texts := msgs[key]
		want := verbs(texts["it"])
		for _, lang := range sdk.Languages {
			s := texts[lang]
			if s == "" {
				t.Errorf("message %s: missing in %s", key, lang)
				continue
			}
			if n := verbs(s); n != want {
				t.Errorf("message %s.%s: %d arguments, Italian has %d", key, lang, n, want)
			}
		}
		for lang := range texts {
			if !contains(sdk.Languages, lang) {
				t.Errorf("message %s: language %q not offered", key, lang)
			}
		}
	}
}
