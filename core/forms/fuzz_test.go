package forms

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sportello/sportello/plugins/sdk"
)

// FuzzDecode posts arbitrary values to testSchema's form: decoding,
// validating and drawing them again must never panic, nor let a key that
// is no field into the document, nor leave a message untranslated.
func FuzzDecode(f *testing.F) {
	f.Add(validPost().Encode(), uint8(0))
	for _, q := range []string{
		"age=12a&amount=1e999&newsletter=maybe",
		"age=%2B42&amount=12%2C5&privacy=on&services=water&services=water&services=gas",
		"name=%00%FF&notes=a%0D%0Ab&address.zip=x&address.evil=1&_csrf=t",
		"when=2025-01-01T10%3A00&slot=25%3A00&birth_date=2025-02-30&email=anna&phone=call+me&website=www",
		"amount=NaN&amount=Inf&age=-0&age=99999999999999999999",
		"address=1&address.street=&token=t-9&colour=blue&size=xl",
		"",
	} {
		f.Add(q, uint8(1))
	}
	form := testForm(f)
	langs := []string{"it", "de", "en", "fr", ""}
	f.Fuzz(func(t *testing.T, query string, l uint8) {
		values, _ := url.ParseQuery(query) // what parsed before an error is posted all the same
		lang := langs[int(l)%len(langs)]
		doc, errs := form.Submit(values, lang)
		for k, v := range doc {
			fd := form.byName[k]
			if fd == nil || strings.Contains(k, ".") {
				t.Fatalf("doc has %q, which is no field", k)
			}
			if sub, ok := v.(map[string]any); ok {
				for c := range sub {
					if form.byName[k+"."+c] == nil {
						t.Fatalf("doc has %s.%s, which is no field", k, c)
					}
				}
			}
		}
		for name, msg := range errs {
			if name != "" && form.byName[name] == nil {
				t.Fatalf("error for %q, which is no field", name)
			}
			if msg == "" || strings.Contains(msg, "{{") || strings.HasPrefix(msg, "forms.") {
				t.Fatalf("error %q for %q is no translated message", msg, name)
			}
		}
		if len(errs) == 0 {
			if again := form.Validate(doc, lang); again != nil {
				t.Fatalf("Submit found no error but Validate does: %v", again)
			}
		}
		form.Fields(lang, doc, errs)
	})
}

// FuzzParse compiles arbitrary bytes as a form schema, the part of a
// plugin's manifest the host draws pages from. Parsing must never panic;
// a schema it refuses is a *SchemaError; a form it accepts can be drawn,
// validated and posted empty in every language without panicking, and
// names in its errors only fields it has.
func FuzzParse(f *testing.F) {
	f.Add([]byte(testSchema))
	manifests, _ := filepath.Glob("../../plugins/*/manifest.yaml")
	for _, p := range manifests {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		m, err := sdk.ParseManifest(data)
		if err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		for _, fm := range m.GetForms() {
			f.Add(fm.GetSchemaJson())
		}
	}
	for _, s := range []string{
		"", "null", "[]", `{"type": "object"}`,
		`{"type": "object", "properties": {"a": {"$ref": "#/$defs/x"}}, "$defs": {"x": {"$ref": "#/$defs/x"}}}`,
		`{"type": "object", "properties": {"a": {"$ref": "file:///etc/passwd"}}}`,
		`{"type": "object", "properties": {"a": {"type": "string", "x-widget": "file", "x-max-bytes": -1, "x-accept": [1]}}}`,
		`{"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "object", "properties": {"c": {"type": "string"}}}}}}}`,
		`{"type": "object", "properties": {"a": {"type": "string", "enum": ["x", "x"], "x-enum-titles": {"it": []}}}}`,
		`{"type": "object", "properties": {"a": {"type": "number", "minimum": 1e999, "multipleOf": 0}}}`,
		`{"type": "object", "properties": {"a.b": {"type": "string"}, "": {"type": "string"}}}`,
	} {
		f.Add([]byte(s))
	}
	cat := newCatalog(f)
	langs := []string{"it", "de", "en", "fr", ""}
	f.Fuzz(func(t *testing.T, schema []byte) {
		form, err := Parse(schema, WithCatalog(cat))
		if err != nil {
			var se *SchemaError
			if form != nil || !errors.As(err, &se) {
				t.Fatalf("refused with %T %v: want a *SchemaError and no form", err, err)
			}
			return
		}
		for _, lang := range langs {
			form.Fields(lang, nil, nil)
			errs := form.Validate(map[string]any{}, lang)
			doc, serrs := form.Submit(url.Values{}, lang)
			form.Fields(lang, doc, serrs)
			for _, es := range []FieldErrors{errs, serrs} {
				for name := range es {
					if name != "" && form.byName[name] == nil {
						t.Fatalf("error for %q, which is no field", name)
					}
				}
			}
		}
		for _, ff := range form.FileFields() {
			if form.byName[ff.Name] == nil {
				t.Fatalf("file field %q is no field", ff.Name)
			}
			ff.Accepts("application/pdf")
			ff.TypeNames()
		}
	})
}
