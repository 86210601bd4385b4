package forms

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const fileSchema = `{
  "type": "object",
  "required": ["subject", "document"],
  "x-order": ["subject", "document", "photo", "extra"],
  "properties": {
    "subject": {"type": "string", "title": "Oggetto"},
    "document": {"type": "string", "title": "Documento", "x-title": {"de": "Ausweis"}, "x-widget": "file",
                 "description": "Fronte e retro.", "x-accept": ["application/pdf"], "x-max-bytes": 2621440},
    "photo": {"type": "string", "title": "Foto", "x-widget": "file", "x-accept": ["image/*"]},
    "extra": {"type": "object", "title": "Altro", "properties": {
      "scan": {"type": "string", "title": "Scansione", "x-widget": "file"}
    }}
  }
}`

func TestFileFields(t *testing.T) {
	f, err := Parse([]byte(fileSchema), WithCatalog(newCatalog(t)))
	if err != nil {
		t.Fatal(err)
	}
	got := f.FileFields()
	want := []FileField{
		{Name: "document", Accept: []string{"application/pdf"}, MaxBytes: 2621440, Required: true},
		{Name: "photo", Accept: []string{"image/*"}},
		{Name: "extra.scan"},
	}
	if len(got) != len(want) {
		t.Fatalf("FileFields() = %+v", got)
	}
	for i := range want {
		if got[i].Name != want[i].Name || !slices.Equal(got[i].Accept, want[i].Accept) || got[i].MaxBytes != want[i].MaxBytes ||
			got[i].Required != want[i].Required {
			t.Errorf("FileFields()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}

	accepts := []struct {
		field FileField
		typ   string
		want  bool
	}{
		{want[0], "application/pdf", true},
		{want[0], "APPLICATION/PDF; charset=binary", true},
		{want[0], "image/png", false},
		{want[0], "text/html; charset=utf-8", false},
		{want[1], "image/png", true},
		{want[1], "image/jpeg", true},
		{want[1], "imagex/png", false},
		{want[1], "application/pdf", false},
		{want[2], "application/octet-stream", true},
	}
	for _, tc := range accepts {
		if got := tc.field.Accepts(tc.typ); got != tc.want {
			t.Errorf("%s accepts %q: %v, want %v", tc.field.Name, tc.typ, got, tc.want)
		}
	}

	t.Run("drawn as an upload, with what it takes", func(t *testing.T) {
		fields := f.Fields("it", nil, nil)
		doc := fieldByName(fields, "document")
		if doc.Widget != "file" || doc.Accept != "application/pdf" || doc.InputType != "" ||
			doc.Help != "Fronte e retro. Formati accettati: PDF. Dimensione massima: 2,5 MB." || doc.HelpID == "" {
			t.Errorf("document: %+v", doc)
		}
		de := fieldByName(f.Fields("de", nil, nil), "document")
		if de.Label != "Ausweis" || !strings.Contains(de.Help, "Erlaubte Formate: PDF") {
			t.Errorf("document in German: %+v", de)
		}
		if scan := fieldByName(fields, "extra.scan"); scan.Widget != "file" || scan.Accept != "" || scan.Help != "" {
			t.Errorf("extra.scan: %+v", scan)
		}
	})

	t.Run("a file's value is its upload's id; a missing one asks for it", func(t *testing.T) {
		doc, errs := f.Submit(url.Values{"subject": {"Rinnovo"}}, "it")
		if errs["document"] != "Allega il file richiesto." || errs["photo"] != "" {
			t.Fatalf("errors %v", errs)
		}
		doc, errs = f.Submit(url.Values{"subject": {"Rinnovo"}, "document": {"42"}}, "en")
		if len(errs) != 0 || doc["document"] != "42" {
			t.Fatalf("document %v, errors %v", doc, errs)
		}
		fields := f.Fields("it", doc, nil)
		if v := fieldByName(fields, "document"); v.Value != "42" {
			t.Errorf("kept file: %+v", v)
		}
	})

	t.Run("drawn through the web renderer", func(t *testing.T) {
		doc, errs := f.Submit(url.Values{"subject": {"Rinnovo"}, "photo": {"7"}}, "it")
		fields := f.Fields("it", doc, errs)
		fieldByName(fields, "photo").FileName = "io.png"
		out := renderFields(t, "it", fields)
		checkForm(t, out, fields, errs)
		for _, want := range []string{`type="file" class="upload is-invalid" id="field-document" name="document" accept="application/pdf" required`,
			`<input type="hidden" name="photo" value="7">`, "io.png", `accept="image/*"`, "Allega il file richiesto."} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		// A kept file makes a required input optional: it is there already.
		if strings.Contains(out, `name="photo" accept="image/*" required`) {
			t.Error("a kept file is required again")
		}
	})
}

func TestFileSchemaRefused(t *testing.T) {
	cases := []struct{ name, prop string }{
		{"a number as a file", `{"type": "integer", "title": "N", "x-widget": "file"}`},
		{"a choice as a file", `{"type": "string", "title": "C", "enum": ["a"], "x-widget": "file"}`},
		{"x-accept without the widget", `{"type": "string", "title": "T", "x-accept": ["application/pdf"]}`},
		{"x-max-bytes without the widget", `{"type": "string", "title": "T", "x-max-bytes": 10}`},
		{"an empty x-accept", `{"type": "string", "title": "T", "x-widget": "file", "x-accept": []}`},
		{"no MIME type", `{"type": "string", "title": "T", "x-widget": "file", "x-accept": ["pdf"]}`},
		{"any type at all", `{"type": "string", "title": "T", "x-widget": "file", "x-accept": ["*/*"]}`},
		{"a size of nothing", `{"type": "string", "title": "T", "x-widget": "file", "x-max-bytes": 0}`},
		{"a size that is no number", `{"type": "string", "title": "T", "x-widget": "file", "x-max-bytes": "1MB"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(`{"type": "object", "properties": {"f": `+tc.prop+`}}`), WithCatalog(newCatalog(t)))
			var se *SchemaError
			if !errors.As(err, &se) || se.Field != "f" {
				t.Fatalf("Parse: %v, want a SchemaError on f", err)
			}
		})
	}
}

func TestFormatBytes(t *testing.T) {
	cases := []struct {
		lang string
		n    int64
		want string
	}{
		{"it", 300, "300 B"},
		{"it", 20000, "20 KB"},
		{"en", 1 << 20, "1 MB"},
		{"it", 2621440, "2,5 MB"},
		{"en", 2621440, "2.5 MB"},
		{"de", 10 << 20, "10 MB"},
	}
	for _, tc := range cases {
		if got := FormatBytes(tc.lang, tc.n); got != tc.want {
			t.Errorf("FormatBytes(%s, %d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
}
