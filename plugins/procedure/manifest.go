package procedure

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/sportello/sportello/plugins/sdk"
)

// Ids the procedure gives the parts of the manifest it writes.
const (
	formApplication = "application"
	actionSubmit    = onSubmit
	notePrefix      = "note_"
)

// manifestYAML writes the plugin manifest of a checked definition: the
// service page, the application form and its action, one staff action per
// transition (with a form for its note), the workflow's states, the
// configuration a town fills in, and the operators' grant.
func manifestYAML(d *Definition, info *formInfo) ([]byte, error) {
	texts := yaml.MapSlice{}
	for _, lang := range sdk.Languages {
		t := d.Texts[lang]
		texts = append(texts, yaml.MapItem{Key: lang, Value: yaml.MapSlice{
			{Key: "name", Value: t.Name}, {Key: "summary", Value: t.Summary}, {Key: "audience", Value: t.Audience},
			{Key: "how_to", Value: t.HowTo}, {Key: "what_you_need", Value: t.WhatYouNeed},
			{Key: "what_you_get", Value: t.WhatYouGet}, {Key: "times_and_deadlines", Value: t.TimesAndDeadlines},
			{Key: "costs", Value: t.Costs}, {Key: "conditions", Value: t.Conditions}, {Key: "contacts", Value: t.Contacts},
		}})
	}

	forms := []any{yaml.MapSlice{
		{Key: "id", Value: formApplication},
		{Key: "title", Value: textMap(d.Form.Title)},
		{Key: "schema", Value: applicationSchema(d, info)},
	}}
	audience := "staff"
	switch {
	case d.Who.Anonymous:
		audience = "anonymous"
	case d.Who.Citizens:
		audience = "citizen"
	}
	actions := []any{yaml.MapSlice{
		{Key: "id", Value: actionSubmit}, {Key: "label", Value: textMap(d.Form.Action)},
		{Key: "form", Value: formApplication}, {Key: "audience", Value: audience},
	}}
	for _, t := range d.Transitions {
		a := yaml.MapSlice{{Key: "id", Value: t.ID}, {Key: "label", Value: textMap(t.Label)}}
		if t.Note == noteOptional || t.Note == noteRequired {
			forms = append(forms, yaml.MapSlice{
				{Key: "id", Value: notePrefix + t.ID},
				{Key: "title", Value: textMap(t.Label)},
				{Key: "schema", Value: noteSchema(t)},
			})
			a = append(a, yaml.MapItem{Key: "form", Value: notePrefix + t.ID})
		}
		a = append(a, yaml.MapItem{Key: "audience", Value: "staff"}, yaml.MapItem{Key: "scope", Value: sdk.ScopeDossier})
		actions = append(actions, a)
	}
	// A procedure that charges a fee hears from the host how its
	// payments end.
	if d.Fee != nil {
		actions = append(actions, yaml.MapSlice{
			{Key: "id", Value: sdk.ActionPayment}, {Key: "label", Value: textMap(msgText("action.payment"))},
			{Key: "audience", Value: sdk.AudienceSystem}, {Key: "scope", Value: sdk.ScopeDossier},
		})
	}
	var statuses []any
	for _, s := range d.Statuses {
		st := yaml.MapSlice{{Key: "id", Value: s.ID}, {Key: "label", Value: textMap(s.Label)}}
		if s.Final {
			st = append(st, yaml.MapItem{Key: "final", Value: true})
		}
		statuses = append(statuses, st)
	}
	perms := []any{yaml.MapSlice{{Key: "role", Value: "operator"},
		{Key: "object", Value: "backoffice/services/" + d.ID + "/*"}, {Key: "action", Value: "write"}}}
	for _, p := range d.Permissions {
		perms = append(perms, yaml.MapSlice{{Key: "role", Value: p.Role}, {Key: "object", Value: p.Object},
			{Key: "action", Value: p.Action}})
	}
	m := yaml.MapSlice{
		{Key: "id", Value: d.ID},
		{Key: "version", Value: d.Version},
		{Key: "category", Value: d.Category},
		{Key: "texts", Value: texts},
		{Key: "forms", Value: forms},
		{Key: "actions", Value: actions},
		{Key: "statuses", Value: statuses},
		{Key: "config_schema", Value: configSchema(d, info)},
		{Key: "permissions", Value: perms},
	}
	// JSON style: every string is quoted, so nothing the analyst wrote
	// ("no", "2026-05-08", "12:30") changes type on the way back in.
	out, err := yaml.MarshalWithOptions(m, yaml.JSON())
	if err != nil {
		return nil, fmt.Errorf("write the manifest: %w", err)
	}
	return out, nil
}

func textMap(t Text) yaml.MapSlice {
	out := yaml.MapSlice{}
	for _, lang := range sdk.Languages {
		if s := t[lang]; s != "" {
			out = append(out, yaml.MapItem{Key: lang, Value: s})
		}
	}
	return out
}

// labelled is a property's title in Italian and x-title in German and
// English, as the form conventions want.
func labelled(t Text) yaml.MapSlice {
	return yaml.MapSlice{
		{Key: "title", Value: t["it"]},
		{Key: "x-title", Value: yaml.MapSlice{{Key: "de", Value: t["de"]}, {Key: "en", Value: t["en"]}}},
	}
}

func described(t Text) yaml.MapSlice {
	return yaml.MapSlice{
		{Key: "description", Value: t["it"]},
		{Key: "x-description", Value: yaml.MapSlice{{Key: "de", Value: t["de"]}, {Key: "en", Value: t["en"]}}},
	}
}

func msgText(key string, args ...any) Text {
	t := Text{}
	for _, lang := range sdk.Languages {
		t[lang] = msg.Get(lang, key, args...)
	}
	return t
}

// applicationSchema is the analyst's form, with each required_when
// written as JSON Schema (if … then required), so that the host refuses
// a missing answer beside its field before the procedure sees the form.
func applicationSchema(d *Definition, info *formInfo) yaml.MapSlice {
	if len(d.RequiredWhen) == 0 {
		return d.Form.Schema
	}
	var all []any
	for _, r := range d.RequiredWhen {
		all = append(all, yaml.MapSlice{
			{Key: "if", Value: matchSchema(r.When, info.fields[r.When.Field])},
			{Key: "then", Value: requireSchema(r.Field)},
		})
	}
	out := make(yaml.MapSlice, 0, len(d.Form.Schema)+1)
	for _, item := range d.Form.Schema {
		if fmt.Sprint(item.Key) == "allOf" {
			if list, ok := item.Value.([]any); ok {
				all = append(list, all...)
			}
			continue
		}
		out = append(out, item)
	}
	return append(out, yaml.MapItem{Key: "allOf", Value: all})
}

// matchSchema holds when the answer at m.Field matches: for a multiple
// choice, when any choice ticked does, as matches has it.
func matchSchema(m Match, f *fieldInfo) yaml.MapSlice {
	var leaf yaml.MapSlice
	if m.Equals != nil {
		leaf = yaml.MapSlice{{Key: "const", Value: m.Equals}}
	} else {
		leaf = yaml.MapSlice{{Key: "enum", Value: m.In}}
	}
	if f.typ == "array" {
		leaf = yaml.MapSlice{{Key: "contains", Value: leaf}}
	}
	return nest(m.Field, leaf)
}

// nest wraps leaf as the schema of the (present) property at pointer.
func nest(pointer string, leaf yaml.MapSlice) yaml.MapSlice {
	parts := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	s := leaf
	for i := len(parts) - 1; i >= 0; i-- {
		s = yaml.MapSlice{
			{Key: "properties", Value: yaml.MapSlice{{Key: parts[i], Value: s}}},
			{Key: "required", Value: []any{parts[i]}},
		}
	}
	return s
}

// requireSchema requires the property at pointer (and its fieldset).
func requireSchema(pointer string) yaml.MapSlice {
	parts := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	if len(parts) == 1 {
		return yaml.MapSlice{{Key: "required", Value: []any{parts[0]}}}
	}
	return yaml.MapSlice{
		{Key: "properties", Value: yaml.MapSlice{{Key: parts[0], Value: yaml.MapSlice{{Key: "required", Value: []any{parts[1]}}}}}},
		{Key: "required", Value: []any{parts[0]}},
	}
}

// noteSchema is the form of a transition: the text for the applicant.
func noteSchema(t Transition) yaml.MapSlice {
	note := yaml.MapSlice{{Key: "type", Value: "string"}}
	note = append(note, labelled(msgText("note.title"))...)
	desc := "note.optional"
	if t.Note == noteRequired {
		desc = "note.required"
	}
	note = append(note, described(msgText(desc))...)
	note = append(note,
		yaml.MapItem{Key: "x-widget", Value: "textarea"},
		yaml.MapItem{Key: "maxLength", Value: maxNote},
	)
	s := yaml.MapSlice{{Key: "type", Value: "object"}}
	if t.Note == noteRequired {
		note = append(note, yaml.MapItem{Key: "minLength", Value: 1})
		s = append(s, yaml.MapItem{Key: "required", Value: []any{"note"}})
	}
	return append(s,
		yaml.MapItem{Key: "properties", Value: yaml.MapSlice{{Key: "note", Value: note}}},
		yaml.MapItem{Key: "examples", Value: []any{yaml.MapSlice{{Key: "note", Value: msg.Get("it", "note.example")}}}},
	)
}

// maxNote keeps a note within what the host stores with a status change.
const maxNote = 4000

// configSchema is what a town sets when it enables the service: the
// office, a copy by e-mail, the days it promises, the application window
// and the fee, as the definition asks for them.
func configSchema(d *Definition, info *formInfo) yaml.MapSlice {
	prop := func(typ string, title, desc Text, extra ...yaml.MapItem) yaml.MapSlice {
		p := yaml.MapSlice{{Key: "type", Value: typ}}
		p = append(p, labelled(title)...)
		if desc != nil {
			p = append(p, described(desc)...)
		}
		return append(p, extra...)
	}
	props := yaml.MapSlice{
		{Key: "office", Value: prop("string", msgText("config.office"), msgText("config.office_help", d.Office),
			yaml.MapItem{Key: "pattern", Value: officeRe.String()})},
		{Key: "office_email", Value: prop("string", msgText("config.office_email"), msgText("config.office_email_help"),
			yaml.MapItem{Key: "format", Value: "email"})},
		{Key: "processing_days", Value: prop("integer", msgText("config.processing_days"),
			msgText("config.processing_days_help", d.ProcessingDays),
			yaml.MapItem{Key: "minimum", Value: 1}, yaml.MapItem{Key: "maximum", Value: d.ProcessingDays})},
	}
	if d.Window != nil {
		help := "config.window_help"
		if d.Window.Required {
			help = "config.window_required_help"
		}
		props = append(props,
			yaml.MapItem{Key: "opens", Value: prop("string", msgText("config.opens"), msgText(help),
				yaml.MapItem{Key: "format", Value: "date"})},
			yaml.MapItem{Key: "closes", Value: prop("string", msgText("config.closes"), msgText(help),
				yaml.MapItem{Key: "format", Value: "date"})},
		)
	}
	if f := d.Fee; f != nil {
		props = append(props, yaml.MapItem{Key: "currency", Value: prop("string", msgText("config.currency"),
			msgText("config.currency_help", currencyOf(f)),
			yaml.MapItem{Key: "enum", Value: []any{"EUR", "CHF"}},
			yaml.MapItem{Key: "x-enum-titles", Value: yaml.MapSlice{
				{Key: "it", Value: []any{"Euro (EUR)", "Franco svizzero (CHF)"}},
				{Key: "de", Value: []any{"Euro (EUR)", "Schweizer Franken (CHF)"}},
				{Key: "en", Value: []any{"Euro (EUR)", "Swiss franc (CHF)"}},
			}})})
		money := yaml.MapItem{Key: "maximum", Value: maxAmount}
		if f.Amount != nil {
			props = append(props, yaml.MapItem{Key: "fee_amount", Value: prop("number",
				msgText("config.fee_amount", currencyOf(f)), msgText("config.fee_amount_help", euro(*f.Amount)),
				yaml.MapItem{Key: "minimum", Value: 0}, money)})
		} else {
			options := yaml.MapSlice{}
			field := info.fields[f.By.Field]
			titles := field.titles
			for i, o := range field.enum {
				title := Text{}
				for _, lang := range sdk.Languages {
					if i < len(titles[lang]) {
						title[lang] = titles[lang][i]
					} else {
						title[lang] = fmt.Sprint(o)
					}
				}
				options = append(options, yaml.MapItem{Key: fmt.Sprint(o), Value: prop("number", title,
					msgText("config.fee_default", euro(f.By.Amounts[fmt.Sprint(o)])),
					yaml.MapItem{Key: "minimum", Value: 0}, money)})
			}
			props = append(props, yaml.MapItem{Key: "fee_amounts", Value: prop("object",
				msgText("config.fee_amounts", currencyOf(f)), msgText("config.fee_amounts_help"),
				yaml.MapItem{Key: "properties", Value: options})})
		}
	}
	example := d.ConfigExample
	if example == nil {
		example = map[string]any{"office": d.Office}
	}
	return yaml.MapSlice{
		{Key: "type", Value: "object"},
		{Key: "properties", Value: props},
		{Key: "examples", Value: []any{example}},
	}
}

func currencyOf(f *Fee) string {
	if f.Currency != "" {
		return f.Currency
	}
	return "EUR"
}

// euro writes an amount for a help text: 16.00.
func euro(v float64) string { return fmt.Sprintf("%.2f", v) }
