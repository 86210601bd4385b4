package server

import (
	"fmt"
	"testing"

	"github.com/sportello/sportello/core/forms"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/web"
)

func TestFormCache(t *testing.T) {
	cat, err := i18n.New(web.LocalesFS())
	if err != nil {
		t.Fatal(err)
	}
	schema := func(title string) []byte {
		return []byte(fmt.Sprintf(`{"type": "object", "x-order": ["name"],
			"properties": {"name": {"type": "string", "title": %q}}}`, title))
	}
	fc := newFormCache(forms.WithCatalog(cat))
	first, err := fc.parse(schema("Nome"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		schema []byte
		same   bool // the first form itself comes back
		bad    bool
	}{
		{name: "the same bytes", schema: schema("Nome"), same: true},
		{name: "another schema", schema: schema("Cognome")},
		{name: "a schema that does not parse", schema: []byte(`{"type": "array"`), bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(fc.forms)
			f, err := fc.parse(tc.schema)
			switch {
			case tc.bad:
				if err == nil || f != nil || len(fc.forms) != before {
					t.Fatalf("form %v, error %v, %d kept (was %d)", f, err, len(fc.forms), before)
				}
			case err != nil:
				t.Fatal(err)
			case (f == first) != tc.same:
				t.Fatalf("same form: %v, want %v", f == first, tc.same)
			}
		})
	}
	// Bounded: past the limit it starts afresh rather than grow.
	for i := range maxCachedForms + 10 {
		if _, err := fc.parse(schema(fmt.Sprint("campo ", i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(fc.forms); n > maxCachedForms {
		t.Fatalf("%d forms kept, limit %d", n, maxCachedForms)
	}
}
