package forms

import (
	"net/url"
	"strings"
	"testing"
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
