package forms

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/web"
)

// testSchema has a field of every kind the renderer draws.
const testSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["name", "email", "age", "colour", "size", "services", "privacy", "address"],
  "x-order": ["name", "fiscal_code", "email", "phone", "website", "birth_date", "slot", "when",
              "age", "amount", "notes", "colour", "size", "services", "privacy", "newsletter", "address", "token"],
  "properties": {
    "name": {"type": "string", "title": "Nome", "x-title": {"de": "Vorname", "en": "First name"},
             "minLength": 2, "maxLength": 40, "x-autocomplete": "given-name"},
    "fiscal_code": {"type": "string", "title": "Codice fiscale", "x-title": {"de": "Steuernummer", "en": "Tax code"},
             "description": "16 caratteri, lettere e cifre.",
             "x-description": {"de": "16 Zeichen, Buchstaben und Ziffern.", "en": "16 characters, letters and digits."},
             "pattern": "^[A-Z0-9]{16}$"},
    "email": {"type": "string", "format": "email", "title": "E-mail", "x-autocomplete": "email"},
    "phone": {"type": "string", "format": "tel", "title": "Telefono"},
    "website": {"type": "string", "format": "uri", "title": "Sito web"},
    "birth_date": {"type": "string", "format": "date", "title": "Data di nascita"},
    "slot": {"type": "string", "format": "time", "title": "Orario preferito"},
    "when": {"type": "string", "format": "date-time", "title": "Data e ora"},
    "age": {"type": "integer", "title": "Età", "minimum": 18, "maximum": 120},
    "amount": {"type": "number", "title": "Importo", "exclusiveMinimum": 0, "maximum": 1000.5, "multipleOf": 0.5},
    "notes": {"type": "string", "title": "Note", "x-widget": "textarea", "maxLength": 500},
    "colour": {"type": "string", "title": "Colore", "enum": ["red", "green"],
               "x-enum-titles": {"it": ["Rosso", "Verde"], "de": ["Rot", "Grün"], "en": ["Red", "Green"]}},
    "size": {"type": "string", "title": "Taglia", "x-widget": "radio", "enum": ["s", "m", "l"],
             "x-enum-titles": {"it": ["Piccola", "Media", "Grande"]}},
    "services": {"type": "array", "title": "Servizi", "uniqueItems": true, "maxItems": 2,
                 "items": {"type": "string", "enum": ["water", "waste", "light"]},
                 "x-enum-titles": {"it": ["Acqua", "Rifiuti", "Illuminazione"], "en": ["Water", "Waste", "Lighting"]}},
    "privacy": {"type": "boolean", "title": "Ho letto l'informativa sulla privacy", "const": true},
    "newsletter": {"type": "boolean", "title": "Newsletter", "default": true},
    "address": {"type": "object", "title": "Indirizzo", "description": "Dove abiti.",
                "required": ["street", "zip"], "x-order": ["street", "zip", "city"],
                "properties": {
                  "street": {"type": "string", "title": "Via"},
                  "zip": {"type": "string", "title": "CAP", "pattern": "^[0-9]{4,5}$"},
                  "city": {"type": "string", "title": "Comune"}
                }},
    "token": {"type": "string", "x-widget": "hidden", "default": "t-1", "enum": ["t-1", "t-2"]}
  }
}`

func newCatalog(t testing.TB) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.New(web.LocalesFS())
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func testForm(t testing.TB) *Form {
	t.Helper()
	f, err := Parse([]byte(testSchema), WithCatalog(newCatalog(t)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// validPost is what a person filling in testSchema correctly posts.
func validPost() url.Values {
	return url.Values{
		"_csrf":          {"csrf-token"},
		"name":           {"Anna"},
		"email":          {"anna@example.org"},
		"age":            {"30"},
		"colour":         {"red"},
		"size":           {"m"},
		"services":       {"water"},
		"privacy":        {"true"},
		"address.street": {"Via Roma 1"},
		"address.zip":    {"6900"},
		"token":          {"t-1"},
	}
}

func TestParseReadsFieldsInOrder(t *testing.T) {
	f := testForm(t)
	var names, widgets []string
	for _, fd := range f.fields {
		names = append(names, fd.name)
		widgets = append(widgets, fd.widget)
	}
	wantNames := []string{"name", "fiscal_code", "email", "phone", "website", "birth_date", "slot", "when",
		"age", "amount", "notes", "colour", "size", "services", "privacy", "newsletter", "address", "token"}
	wantWidgets := []string{"input", "input", "input", "input", "input", "input", "input", "input",
		"input", "input", "textarea", "select", "radio", "checkboxes", "checkbox", "checkbox", "fieldset", "hidden"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("fields %v, want %v", names, wantNames)
	}
	if !reflect.DeepEqual(widgets, wantWidgets) {
		t.Errorf("widgets %v, want %v", widgets, wantWidgets)
	}
	if got := f.byName["address.zip"]; got == nil || !got.required {
		t.Errorf("address.zip: %+v, want a required nested field", got)
	}
}

func TestParseWithoutXOrderSortsNames(t *testing.T) {
	f, err := Parse([]byte(`{"type": "object", "properties": {"b": {"type": "string", "title": "B"}, "a": {"type": "string", "title": "A"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.fields[0].name != "a" || f.fields[1].name != "b" {
		t.Errorf("order %s, %s; want a, b", f.fields[0].name, f.fields[1].name)
	}
}

func TestParseRefusesWhatItCannotDraw(t *testing.T) {
	obj := func(props string) string { return `{"type": "object", "properties": {` + props + `}}` }
	tests := []struct {
		name, schema, field, reason string
	}{
		{"not JSON", `{`, "", "not JSON"},
		{"root not object", `{"type": "string"}`, "", "root must be an object"},
		{"no properties", `{"type": "object"}`, "", "no fields"},
		{"does not compile", `{"type": "object", "properties": {"a": {"type": "string", "title": "A", "minLength": "x"}}}`, "", ""},
		{"null type", obj(`"n": {"type": "null", "title": "N"}`), "n", "cannot be drawn"},
		{"type list", obj(`"n": {"type": ["string", "null"], "title": "N"}`), "n", `"type" must be one of`},
		{"no title", obj(`"n": {"type": "string"}`), "n", "title"},
		{"bad name", obj(`"a.b": {"type": "string", "title": "A"}`), "a.b", "property name"},
		{"reserved name", obj(`"_csrf": {"type": "string", "title": "A"}`), "_csrf", "property name"},
		{"radio without enum", obj(`"n": {"type": "string", "title": "N", "x-widget": "radio"}`), "n", "needs an enum"},
		{"textarea number", obj(`"n": {"type": "integer", "title": "N", "x-widget": "textarea"}`), "n", "cannot draw"},
		{"array of numbers", obj(`"n": {"type": "array", "title": "N", "items": {"type": "integer"}}`), "n", "checkboxes"},
		{"enum titles length", obj(`"n": {"type": "string", "title": "N", "enum": ["a", "b"], "x-enum-titles": {"it": ["A"]}}`), "n", "x-enum-titles"},
		{"enum type", obj(`"n": {"type": "integer", "title": "N", "enum": [1, "b"]}`), "n", "does not fit"},
		{"deep object", obj(`"o": {"type": "object", "title": "O", "properties": {"p": {"type": "object", "title": "P", "properties": {"q": {"type": "string", "title": "Q"}}}}}`), "o.p", "one level"},
		{"empty object", obj(`"o": {"type": "object", "title": "O"}`), "o", "needs properties"},
		{"required unknown", `{"type": "object", "required": ["z"], "properties": {"a": {"type": "string", "title": "A"}}}`, "", `"z"`},
		{"x-order unknown", `{"type": "object", "x-order": ["z"], "properties": {"a": {"type": "string", "title": "A"}}}`, "", `"z"`},
		{"ref in field", `{"type": "object", "$defs": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/s", "title": "A"}}}`, "a", "$ref"},
		{"ref outside", obj(`"a": {"$ref": "/etc/passwd"}`), "", "refers outside"},
		{"const false", obj(`"a": {"type": "boolean", "title": "A", "const": false}`), "a", "const"},
		{"bad x-title", obj(`"a": {"type": "string", "title": "A", "x-title": "B"}`), "a", "x-title"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.schema))
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SchemaError", err)
			}
			if se.Field != tt.field || !strings.Contains(se.Reason, tt.reason) {
				t.Errorf("err = %v, want field %q and a reason with %q", err, tt.field, tt.reason)
			}
			if tt.field != "" && !strings.Contains(err.Error(), `"`+tt.field+`"`) {
				t.Errorf("err = %v does not name the field", err)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	f := testForm(t)
	tests := []struct {
		name   string
		edit   func(url.Values)
		want   map[string]any // keys checked; nil value means "absent"
		errors FieldErrors
	}{
		{"valid", nil, map[string]any{
			"name": "Anna", "age": int64(30), "services": []any{"water"}, "privacy": true, "newsletter": false,
			"address": map[string]any{"street": "Via Roma 1", "zip": "6900"}, "token": "t-1",
			"_csrf": nil, "notes": nil, "amount": nil, "fiscal_code": nil,
		}, nil},
		{"strings trimmed, CRLF made LF", func(v url.Values) {
			v.Set("name", "  Anna  ")
			v.Set("notes", "one\r\ntwo\r\n")
		}, map[string]any{"name": "Anna", "notes": "one\ntwo"}, nil},
		{"whitespace only is empty", func(v url.Values) { v.Set("name", "   ") }, map[string]any{"name": nil}, nil},
		{"integer", func(v url.Values) { v.Set("age", "-5") }, map[string]any{"age": int64(-5)}, nil},
		{"integer with plus", func(v url.Values) { v.Set("age", "+42") }, map[string]any{"age": int64(42)}, nil},
		{"integer typed wrong, kept", func(v url.Values) { v.Set("age", "12a") }, map[string]any{"age": "12a"},
			FieldErrors{"age": "Inserisci un numero intero, senza decimali."}},
		{"integer with decimals", func(v url.Values) { v.Set("age", "30.5") }, map[string]any{"age": "30.5"},
			FieldErrors{"age": "Inserisci un numero intero, senza decimali."}},
		{"integer too large", func(v url.Values) { v.Set("age", "99999999999999999999") }, map[string]any{"age": "99999999999999999999"},
			FieldErrors{"age": "Inserisci un numero intero, senza decimali."}},
		{"number with point", func(v url.Values) { v.Set("amount", "12.5") }, map[string]any{"amount": 12.5}, nil},
		{"number with comma", func(v url.Values) { v.Set("amount", "12,5") }, map[string]any{"amount": 12.5}, nil},
		{"number with exponent", func(v url.Values) { v.Set("amount", "1e2") }, map[string]any{"amount": 100.0}, nil},
		{"number NaN refused", func(v url.Values) { v.Set("amount", "NaN") }, map[string]any{"amount": "NaN"},
			FieldErrors{"amount": "Inserisci un numero, ad esempio 12,5."}},
		{"number Inf refused", func(v url.Values) { v.Set("amount", "1e999") }, map[string]any{"amount": "1e999"},
			FieldErrors{"amount": "Inserisci un numero, ad esempio 12,5."}},
		{"number hex refused", func(v url.Values) { v.Set("amount", "0x10") }, map[string]any{"amount": "0x10"},
			FieldErrors{"amount": "Inserisci un numero, ad esempio 12,5."}},
		{"checkbox on", func(v url.Values) { v.Set("newsletter", "on") }, map[string]any{"newsletter": true}, nil},
		{"checkbox absent is false", func(v url.Values) { v.Del("privacy") }, map[string]any{"privacy": false}, nil},
		{"checkbox garbage kept", func(v url.Values) { v.Set("newsletter", "maybe") }, map[string]any{"newsletter": "maybe"},
			FieldErrors{"newsletter": "Il valore inserito non è valido."}},
		{"checkboxes repeated", func(v url.Values) { v["services"] = []string{"water", "", "light"} },
			map[string]any{"services": []any{"water", "light"}}, nil},
		{"checkboxes none", func(v url.Values) { v.Del("services") }, map[string]any{"services": nil}, nil},
		{"required fieldset left empty is kept", func(v url.Values) { v.Del("address.street"); v.Del("address.zip") },
			map[string]any{"address": map[string]any{}}, nil},
		{"unknown keys ignored", func(v url.Values) { v.Set("evil", "x"); v.Set("address.evil", "y") },
			map[string]any{"evil": nil, "address": map[string]any{"street": "Via Roma 1", "zip": "6900"}}, nil},
		{"invalid UTF-8 and NUL cleaned", func(v url.Values) { v.Set("name", "An\x00na\xff") },
			map[string]any{"name": "Anna\uFFFD"}, nil},
		{"hidden field error goes to the form", func(v url.Values) { v.Set("token", "") }, map[string]any{"token": nil}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := validPost()
			if tt.edit != nil {
				tt.edit(v)
			}
			doc, errs := f.Decode(v, "it")
			for k, want := range tt.want {
				got, ok := doc[k]
				if want == nil {
					if ok {
						t.Errorf("doc[%q] = %#v, want it absent", k, got)
					}
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("doc[%q] = %#v, want %#v", k, got, want)
				}
			}
			if !reflect.DeepEqual(errs, tt.errors) {
				t.Errorf("errs = %v, want %v", errs, tt.errors)
			}
		})
	}
}

func TestDecodeOptionalFieldsetLeftOut(t *testing.T) {
	f, err := Parse([]byte(`{"type": "object", "properties": {
		"a": {"type": "string", "title": "A"},
		"o": {"type": "object", "title": "O", "required": ["x"], "properties": {
			"x": {"type": "string", "title": "X"}, "ok": {"type": "boolean", "title": "OK"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	doc, errs := f.Submit(url.Values{"a": {"1"}}, "en")
	if _, ok := doc["o"]; ok || errs != nil {
		t.Errorf("untouched optional fieldset: doc %v, errs %v; want it left out, no errors", doc, errs)
	}
	doc, errs = f.Submit(url.Values{"o.ok": {"true"}}, "en")
	if o, _ := doc["o"].(map[string]any); o["ok"] != true || errs["o.x"] != "This field is required." {
		t.Errorf("half-filled fieldset: doc %v, errs %v; want it kept and o.x required", doc, errs)
	}
}

// TestValidateMessages checks the message of every kind of error, in each
// language, on the field it concerns.
func TestValidateMessages(t *testing.T) {
	f := testForm(t)
	set := func(k string, vs ...string) func(url.Values) { return func(v url.Values) { v[k] = vs } }
	del := func(k string) func(url.Values) { return func(v url.Values) { v.Del(k) } }
	tests := []struct {
		name       string
		edit       func(url.Values)
		field      string
		it, de, en string
	}{
		{"required", del("name"), "name",
			"Questo campo è obbligatorio.", "Dieses Feld ist ein Pflichtfeld.", "This field is required."},
		{"required select", del("colour"), "colour",
			"Scegli un'opzione.", "Wählen Sie eine Option.", "Choose an option."},
		{"required radio", del("size"), "size",
			"Scegli un'opzione.", "Wählen Sie eine Option.", "Choose an option."},
		{"required checkboxes", del("services"), "services",
			"Scegli almeno un'opzione.", "Wählen Sie mindestens eine Option.", "Choose at least one option."},
		{"required nested", del("address.zip"), "address.zip",
			"Questo campo è obbligatorio.", "Dieses Feld ist ein Pflichtfeld.", "This field is required."},
		{"must accept", del("privacy"), "privacy",
			"Per proseguire devi selezionare questa casella.", "Kreuzen Sie dieses Feld an, um fortzufahren.", "Tick this box to continue."},
		{"integer", set("age", "12a"), "age",
			"Inserisci un numero intero, senza decimali.", "Geben Sie eine ganze Zahl ohne Nachkommastellen ein.", "Enter a whole number, without decimals."},
		{"number", set("amount", "abc"), "amount",
			"Inserisci un numero, ad esempio 12,5.", "Geben Sie eine Zahl ein, zum Beispiel 12,5.", "Enter a number, for example 12.5."},
		{"minLength", set("name", "A"), "name",
			"Inserisci almeno 2 caratteri.", "Geben Sie mindestens 2 Zeichen ein.", "Enter at least 2 characters."},
		{"maxLength", set("name", strings.Repeat("é", 41)), "name",
			"Inserisci al massimo 40 caratteri.", "Geben Sie höchstens 40 Zeichen ein.", "Enter at most 40 characters."},
		{"minimum", set("age", "17"), "age",
			"Inserisci un valore uguale o superiore a 18.", "Geben Sie einen Wert von mindestens 18 ein.", "Enter a value of 18 or more."},
		{"maximum", set("age", "121"), "age",
			"Inserisci un valore uguale o inferiore a 120.", "Geben Sie einen Wert von höchstens 120 ein.", "Enter a value of 120 or less."},
		{"maximum decimal", set("amount", "2000"), "amount",
			"Inserisci un valore uguale o inferiore a 1000,5.", "Geben Sie einen Wert von höchstens 1000,5 ein.", "Enter a value of 1000.5 or less."},
		{"exclusiveMinimum", set("amount", "0"), "amount",
			"Inserisci un valore superiore a 0.", "Geben Sie einen Wert grösser als 0 ein.", "Enter a value greater than 0."},
		{"multipleOf", set("amount", "0.3"), "amount",
			"Inserisci un multiplo di 0,5.", "Geben Sie ein Vielfaches von 0,5 ein.", "Enter a multiple of 0.5."},
		{"pattern with description", set("fiscal_code", "abc"), "fiscal_code",
			"Il formato non è valido: 16 caratteri, lettere e cifre.", "Das Format ist ungültig: 16 Zeichen, Buchstaben und Ziffern.",
			"The format is not valid: 16 characters, letters and digits."},
		{"pattern", set("address.zip", "12"), "address.zip",
			"Il formato non è valido.", "Das Format ist ungültig.", "The format is not valid."},
		{"format email", set("email", "anna"), "email",
			"Inserisci un indirizzo e-mail valido, ad esempio nome@esempio.it.",
			"Geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@beispiel.ch.",
			"Enter a valid e-mail address, for example name@example.com."},
		{"format date", set("birth_date", "2025-02-30"), "birth_date",
			"Inserisci una data valida.", "Geben Sie ein gültiges Datum ein.", "Enter a valid date."},
		{"format time", set("slot", "25:00"), "slot",
			"Inserisci un orario valido, ad esempio 14:30.", "Geben Sie eine gültige Uhrzeit ein, zum Beispiel 14:30.", "Enter a valid time, for example 14:30."},
		{"format date-time", set("when", "2025-01-01"), "when",
			"Inserisci una data e un orario validi.", "Geben Sie ein gültiges Datum und eine gültige Uhrzeit ein.", "Enter a valid date and time."},
		{"format uri", set("website", "www.example.org"), "website",
			"Inserisci un indirizzo web completo, ad esempio https://www.esempio.it.",
			"Geben Sie eine vollständige Webadresse ein, zum Beispiel https://www.beispiel.ch.",
			"Enter a full web address, for example https://www.example.com."},
		{"format tel", set("phone", "call me"), "phone",
			"Inserisci un numero di telefono valido, ad esempio +39 02 1234567.",
			"Geben Sie eine gültige Telefonnummer ein, zum Beispiel +41 58 123 45 67.",
			"Enter a valid phone number, for example +39 02 1234567."},
		{"enum", set("colour", "blue"), "colour",
			"Scegli una delle opzioni proposte.", "Wählen Sie eine der angebotenen Optionen.", "Choose one of the options offered."},
		{"enum in checkboxes", set("services", "water", "gas"), "services",
			"Scegli una delle opzioni proposte.", "Wählen Sie eine der angebotenen Optionen.", "Choose one of the options offered."},
		{"uniqueItems", set("services", "water", "water"), "services",
			"Hai scelto la stessa opzione più di una volta.", "Sie haben dieselbe Option mehrmals gewählt.", "The same option was chosen more than once."},
		{"maxItems", set("services", "water", "waste", "light"), "services",
			"Scegli al massimo 2 opzioni.", "Wählen Sie höchstens 2 Optionen.", "Choose at most 2 options."},
		{"hidden field", set("token", "t-9"), "",
			"Scegli una delle opzioni proposte.", "Wählen Sie eine der angebotenen Optionen.", "Choose one of the options offered."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for lang, want := range map[string]string{"it": tt.it, "de": tt.de, "en": tt.en} {
				v := validPost()
				tt.edit(v)
				_, errs := f.Submit(v, lang)
				if len(errs) != 1 || errs[tt.field] != want {
					t.Errorf("%s: errs = %q, want {%q: %q}", lang, errs, tt.field, want)
				}
			}
		})
	}
	if _, errs := f.Submit(validPost(), "it"); errs != nil {
		t.Errorf("valid post: errs = %v", errs)
	}
}

func TestValidateDocuments(t *testing.T) {
	f := testForm(t)
	valid := func() map[string]any {
		doc, errs := f.Decode(validPost(), "it")
		if errs != nil {
			t.Fatal(errs)
		}
		return doc
	}
	tests := []struct {
		name string
		doc  any
		lang string
		want FieldErrors
	}{
		{"additional property", func() any { d := valid(); d["extra"] = 1; return d }(), "en",
			FieldErrors{"": "The form holds unexpected data: extra."}},
		{"wrong type", func() any { d := valid(); d["age"] = "old"; return d }(), "de",
			FieldErrors{"age": "Geben Sie eine ganze Zahl ohne Nachkommastellen ein."}},
		{"number for integer", func() any { d := valid(); d["age"] = 30.5; return d }(), "it",
			FieldErrors{"age": "Inserisci un numero intero, senza decimali."}},
		{"missing fieldset", func() any { d := valid(); delete(d, "address"); return d }(), "it",
			FieldErrors{"address": "Questo campo è obbligatorio."}},
		{"not an object", "hello", "it", FieldErrors{"": "Il valore inserito non è valido."}},
		{"Go types are converted", func() any {
			d := valid()
			d["services"] = []string{"water"}
			d["age"] = 30
			return d
		}(), "it", nil},
		{"browser times pass", func() any {
			d := valid()
			d["when"] = "2025-03-01T10:30"
			d["slot"] = "14:30"
			d["phone"] = "+41 (0)58 866 11 11"
			return d
		}(), "it", nil},
		{"RFC 3339 times pass", func() any {
			d := valid()
			d["when"] = "2025-03-01T10:00:00+01:00"
			d["slot"] = "10:00:00Z"
			return d
		}(), "it", nil},
		{"unknown language falls back to Italian", func() any { d := valid(); delete(d, "name"); return d }(), "fr",
			FieldErrors{"name": "Questo campo è obbligatorio."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f.Validate(tt.doc, tt.lang); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPluralMessages checks the counted messages in both forms.
func TestPluralMessages(t *testing.T) {
	f, err := Parse([]byte(`{"type": "object", "properties": {
		"a": {"type": "string", "title": "A", "minLength": 1, "maxLength": 1},
		"c": {"type": "array", "title": "C", "minItems": 1, "items": {"type": "string", "enum": ["x", "y"]}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang string
		a    string
		want FieldErrors
	}{
		{"it", "ab", FieldErrors{"a": "Inserisci al massimo 1 carattere."}},
		{"en", "ab", FieldErrors{"a": "Enter at most 1 character."}},
		{"de", "ab", FieldErrors{"a": "Geben Sie höchstens 1 Zeichen ein."}},
	}
	for _, tt := range tests {
		_, errs := f.Submit(url.Values{"a": {tt.a}}, tt.lang)
		if !reflect.DeepEqual(errs, tt.want) {
			t.Errorf("%s: errs = %q, want %q", tt.lang, errs, tt.want)
		}
	}
	doc := map[string]any{"c": []any{}}
	for lang, want := range map[string]string{"it": "Scegli almeno 1 opzione.", "de": "Wählen Sie mindestens 1 Option.", "en": "Choose at least 1 option."} {
		if got := f.Validate(doc, lang)["c"]; got != want {
			t.Errorf("%s: minItems message %q, want %q", lang, got, want)
		}
	}
}
