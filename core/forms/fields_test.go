package forms

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"

	"github.com/sportello/sportello/web"
)

func fieldByName(fields []web.Field, name string) *web.Field {
	for i := range fields {
		if fields[i].Name == name {
			return &fields[i]
		}
		if c := fieldByName(fields[i].Children, name); c != nil {
			return c
		}
	}
	return nil
}

// TestFieldsWidgets checks the view of every widget, on first display (the
// defaults) and after a post with errors.
func TestFieldsWidgets(t *testing.T) {
	f := testForm(t)
	first := f.Fields("de", nil, nil)
	v := validPost()
	v.Set("age", "12a")
	v.Set("fiscal_code", "abc")
	v.Set("colour", "green")
	v["services"] = []string{"water", "light"}
	v.Del("privacy")
	v.Set("newsletter", "on")
	v.Set("amount", "2,5")
	v.Set("address.zip", "x")
	v.Set("notes", "riga 1\r\nriga 2")
	doc, errs := f.Submit(v, "it")
	again := f.Fields("it", doc, errs)

	tests := []struct {
		name   string
		fields []web.Field
		field  string
		want   web.Field // Children and Options compared only when set
	}{
		{"text", first, "name", web.Field{Name: "name", ID: "field-name", Label: "Vorname", Widget: "input", InputType: "text",
			Required: true, MinLength: 2, MaxLength: 40, Autocomplete: "given-name"}},
		{"pattern and help", first, "fiscal_code", web.Field{Name: "fiscal_code", ID: "field-fiscal_code", Label: "Steuernummer",
			Help: "16 Zeichen, Buchstaben und Ziffern.", HelpID: "field-fiscal_code-help", Widget: "input", InputType: "text",
			Pattern: "^[A-Z0-9]{16}$", DescribedBy: "field-fiscal_code-help"}},
		{"pattern error", again, "fiscal_code", web.Field{Name: "fiscal_code", ID: "field-fiscal_code", Label: "Codice fiscale",
			Help: "16 caratteri, lettere e cifre.", HelpID: "field-fiscal_code-help", Widget: "input", InputType: "text",
			Pattern: "^[A-Z0-9]{16}$", Value: "abc", Error: "Il formato non è valido: 16 caratteri, lettere e cifre.",
			ErrorID: "field-fiscal_code-error", DescribedBy: "field-fiscal_code-help field-fiscal_code-error"}},
		{"email", first, "email", web.Field{Name: "email", ID: "field-email", Label: "E-mail", Widget: "input", InputType: "email",
			Required: true, Autocomplete: "email"}},
		{"tel", first, "phone", web.Field{Name: "phone", ID: "field-phone", Label: "Telefono", Widget: "input", InputType: "tel"}},
		{"url", first, "website", web.Field{Name: "website", ID: "field-website", Label: "Sito web", Widget: "input", InputType: "url"}},
		{"date", first, "birth_date", web.Field{Name: "birth_date", ID: "field-birth_date", Label: "Data di nascita", Widget: "input", InputType: "date"}},
		{"time", first, "slot", web.Field{Name: "slot", ID: "field-slot", Label: "Orario preferito", Widget: "input", InputType: "time"}},
		{"date-time", first, "when", web.Field{Name: "when", ID: "field-when", Label: "Data e ora", Widget: "input", InputType: "datetime-local"}},
		{"integer", first, "age", web.Field{Name: "age", ID: "field-age", Label: "Età", Widget: "input", InputType: "number",
			Required: true, Min: "18", Max: "120", Step: "1"}},
		{"integer typed wrong, shown again", again, "age", web.Field{Name: "age", ID: "field-age", Label: "Età", Widget: "input",
			InputType: "number", Required: true, Min: "18", Max: "120", Step: "1", Value: "12a",
			Error: "Inserisci un numero intero, senza decimali.", ErrorID: "field-age-error", DescribedBy: "field-age-error"}},
		{"number", again, "amount", web.Field{Name: "amount", ID: "field-amount", Label: "Importo", Widget: "input",
			InputType: "number", Max: "1000.5", Step: "0.5", Value: "2.5"}},
		{"textarea", again, "notes", web.Field{Name: "notes", ID: "field-notes", Label: "Note", Widget: "textarea",
			MaxLength: 500, Value: "riga 1\nriga 2"}},
		{"select", again, "colour", web.Field{Name: "colour", ID: "field-colour", Label: "Colore", Widget: "select", Required: true,
			Value: "green", Options: []web.FieldOption{{Value: "red", Label: "Rosso"}, {Value: "green", Label: "Verde", Selected: true}}}},
		{"select in German", first, "colour", web.Field{Name: "colour", ID: "field-colour", Label: "Colore", Widget: "select", Required: true,
			Options: []web.FieldOption{{Value: "red", Label: "Rot"}, {Value: "green", Label: "Grün"}}}},
		{"radio, labels falling back to Italian", first, "size", web.Field{Name: "size", ID: "field-size", Label: "Taglia",
			Widget: "radio", Required: true, Options: []web.FieldOption{
				{Value: "s", Label: "Piccola", ID: "field-size-0"}, {Value: "m", Label: "Media", ID: "field-size-1"},
				{Value: "l", Label: "Grande", ID: "field-size-2"}}}},
		{"checkboxes", again, "services", web.Field{Name: "services", ID: "field-services", Label: "Servizi", Widget: "checkboxes",
			Required: true, Options: []web.FieldOption{
				{Value: "water", Label: "Acqua", ID: "field-services-0", Selected: true},
				{Value: "waste", Label: "Rifiuti", ID: "field-services-1"},
				{Value: "light", Label: "Illuminazione", ID: "field-services-2", Selected: true}}}},
		{"checkbox to tick", again, "privacy", web.Field{Name: "privacy", ID: "field-privacy", Label: "Ho letto l'informativa sulla privacy",
			Widget: "checkbox", Required: true, Value: "true", Error: "Per proseguire devi selezionare questa casella.",
			ErrorID: "field-privacy-error", DescribedBy: "field-privacy-error"}},
		{"checkbox default", first, "newsletter", web.Field{Name: "newsletter", ID: "field-newsletter", Label: "Newsletter",
			Widget: "checkbox", Value: "true", Checked: true}},
		{"checkbox ticked", again, "newsletter", web.Field{Name: "newsletter", ID: "field-newsletter", Label: "Newsletter",
			Widget: "checkbox", Value: "true", Checked: true}},
		{"hidden default", first, "token", web.Field{Name: "token", ID: "field-token", Widget: "hidden", Value: "t-1"}},
		{"nested", again, "address.zip", web.Field{Name: "address.zip", ID: "field-address.zip", Label: "CAP", Widget: "input",
			InputType: "text", Required: true, Pattern: "^[0-9]{4,5}$", Value: "x", Error: "Il formato non è valido.",
			ErrorID: "field-address.zip-error", DescribedBy: "field-address.zip-error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fieldByName(tt.fields, tt.field)
			if got == nil {
				t.Fatalf("no field %q", tt.field)
			}
			g := *got
			g.Children = nil
			if tt.want.Options == nil {
				g.Options = nil
			}
			if !reflect.DeepEqual(g, tt.want) {
				gj, _ := json.MarshalIndent(g, "", " ")
				wj, _ := json.MarshalIndent(tt.want, "", " ")
				t.Errorf("got\n%s\nwant\n%s", gj, wj)
			}
		})
	}

	if opts := fieldByName(first, "token").Options; opts != nil {
		t.Errorf("hidden field has options %v: nothing draws them", opts)
	}
	addr := fieldByName(first, "address")
	if addr.Widget != "fieldset" || addr.Label != "Indirizzo" || addr.HelpID != "field-address-help" || len(addr.Children) != 3 {
		t.Errorf("fieldset: %+v", addr)
	}
	if addr.Children[0].Name != "address.street" || !addr.Children[0].Required || addr.Children[2].Required {
		t.Errorf("fieldset children: %+v", addr.Children)
	}
}

// TestFieldsFromPostedValues shows what was posted, flat, before decoding.
func TestFieldsFromPostedValues(t *testing.T) {
	f := testForm(t)
	raw := map[string]any{}
	for k, v := range (url.Values{"address.city": {"Lugano"}, "services": {"waste"}, "newsletter": {"on"}, "age": {"x"}}) {
		raw[k] = v
	}
	fields := f.Fields("it", raw, nil)
	if got := fieldByName(fields, "address.city").Value; got != "Lugano" {
		t.Errorf("address.city = %q", got)
	}
	if got := fieldByName(fields, "services").Options[1]; !got.Selected {
		t.Errorf("services waste not selected: %+v", got)
	}
	if !fieldByName(fields, "newsletter").Checked {
		t.Errorf("newsletter not checked")
	}
	if got := fieldByName(fields, "age").Value; got != "x" {
		t.Errorf("age = %q", got)
	}
	// Values given, so no defaults: an unticked box stays unticked.
	if fieldByName(fields, "newsletter").Checked != true || fieldByName(f.Fields("it", map[string]any{}, nil), "newsletter").Checked {
		t.Errorf("defaults shown over given values")
	}
}

func TestFieldsShowServiceValues(t *testing.T) {
	f := testForm(t)
	doc := map[string]any{
		"when":   "2025-03-01T10:30:00+01:00",
		"slot":   "10:30:00Z",
		"amount": json.Number("12.50"),
		"age":    float64(40),
		"colour": "red",
	}
	fields := f.Fields("it", doc, nil)
	for name, want := range map[string]string{"when": "2025-03-01T10:30", "slot": "10:30:00", "amount": "12.5", "age": "40"} {
		if got := fieldByName(fields, name).Value; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestBrowserPattern(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"^[0-9]{5}$", "^[0-9]{5}$"},
		{"[0-9]", ".*(?:[0-9]).*"},
		{"^(?:a|b)", ".*(?:^(?:a|b)).*"},
		{"(?i)abc", ""},
		{`\p{L}+`, ""},
		{"[[:alpha:]]", ""},
		{`^a\$`, `.*(?:^a\$).*`},
	}
	for _, tt := range tests {
		if got := browserPattern(tt.in); got != tt.want {
			t.Errorf("browserPattern(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAttrNumber(t *testing.T) {
	for in, want := range map[string]string{"10": "10", "0.5": "0.5", "-3.25": "-3.25", "1e3": "1000", "1.5e-3": "0.0015", "12.50": "12.5"} {
		if got := attrNumber(ratOf(json.Number(in))); got != want {
			t.Errorf("attrNumber(%s) = %q, want %q", in, got, want)
		}
	}
}
