package forms

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/sportello/sportello/core/i18n"
)

// fileWidget draws a string field as a file upload. The browser posts the
// file; the host checks and stores it, and the field's value becomes the
// stored attachment's id, so that the document a service receives stays
// plain JSON and a form sent back with errors keeps the file by its id.
const fileWidget = "file"

// fileSpec is what a file field accepts.
type fileSpec struct {
	accept   []string // MIME types; "image/*" for a family; empty: any
	maxBytes int64    // 0: the host's own limit
}

// FileField is a field drawn as a file upload ("x-widget": "file").
type FileField struct {
	Name     string   // posted name
	Accept   []string // MIME types it takes ("image/*" for a family); empty: any
	MaxBytes int64    // 0: the host's own limit
	Required bool
}

// Accepts reports whether a file of MIME type typ (sniffed from the
// content, parameters ignored) fits the field.
func (ff FileField) Accepts(typ string) bool {
	if len(ff.Accept) == 0 {
		return true
	}
	typ, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(typ)), ";")
	typ = strings.TrimSpace(typ)
	for _, a := range ff.Accept {
		if a == typ || strings.HasSuffix(a, "/*") && strings.HasPrefix(typ, strings.TrimSuffix(a, "*")) {
			return true
		}
	}
	return false
}

// FileFields returns the form's file fields, those of fieldsets included,
// in the form's order; none means the form posts no files.
func (f *Form) FileFields() []FileField {
	var out []FileField
	var walk func(fields []*field)
	walk = func(fields []*field) {
		for _, fd := range fields {
			if fd.file != nil {
				out = append(out, FileField{Name: fd.name, Accept: fd.file.accept, MaxBytes: fd.file.maxBytes, Required: fd.required})
			}
			walk(fd.children)
		}
	}
	walk(f.fields)
	return out
}

// readFile reads a file field's keywords: "x-accept", a list of MIME types
// ("application/pdf", "image/*"), and "x-max-bytes", the largest file.
// They mean nothing on other widgets, where they are refused rather than
// silently ignored.
func (fd *field) readFile(sch map[string]any, widget string, hasEnum bool) error {
	_, hasAccept := sch["x-accept"]
	_, hasMax := sch["x-max-bytes"]
	if widget != fileWidget {
		if hasAccept || hasMax {
			return errors.New(`"x-accept" and "x-max-bytes" belong to "x-widget": "file"`)
		}
		return nil
	}
	if fd.kind != kindString || hasEnum {
		return errors.New(`"x-widget": "file" draws a string without enum (its value is the stored file's id)`)
	}
	spec := &fileSpec{}
	if hasAccept {
		list, ok := stringList(sch["x-accept"])
		if !ok || len(list) == 0 {
			return errors.New(`"x-accept" must be a non-empty list of MIME types, such as ["application/pdf", "image/*"]`)
		}
		for _, a := range list {
			a = strings.ToLower(strings.TrimSpace(a))
			typ, sub, ok := strings.Cut(a, "/")
			if !ok || typ == "" || sub == "" || typ == "*" || strings.ContainsAny(a, " ;,") {
				return fmt.Errorf(`"x-accept" lists %q, which is no MIME type`, a)
			}
			spec.accept = append(spec.accept, a)
		}
	}
	if hasMax {
		n, ok := intOf(sch["x-max-bytes"])
		if !ok || n <= 0 {
			return errors.New(`"x-max-bytes" must be a positive whole number of bytes`)
		}
		spec.maxBytes = int64(n)
	}
	fd.file = spec
	return nil
}

// mimeLabels names the usual MIME types as people know them.
var mimeLabels = map[string]string{
	"application/pdf":        "PDF",
	"image/jpeg":             "JPEG",
	"image/png":              "PNG",
	"image/gif":              "GIF",
	"image/webp":             "WebP",
	"image/tiff":             "TIFF",
	"image/*":                "JPEG, PNG",
	"text/plain":             "TXT",
	"text/csv":               "CSV",
	"application/zip":        "ZIP",
	"application/xml":        "XML",
	"application/pkcs7-mime": "P7M",
	"application/vnd.oasis.opendocument.text":                                 "ODT",
	"application/vnd.oasis.opendocument.spreadsheet":                          "ODS",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":       "XLSX",
	"application/msword":       "DOC",
	"application/vnd.ms-excel": "XLS",
}

// fileHint says, in lang, which files the field takes: shown under it
// beside the service's own help.
func (f *Form) fileHint(spec *fileSpec, lang string) string {
	var parts []string
	if len(spec.accept) > 0 {
		names := FileField{Accept: spec.accept}.TypeNames()
		parts = append(parts, f.cat.T(lang, "forms.file.types", map[string]any{"Types": names}))
	}
	if spec.maxBytes > 0 {
		parts = append(parts, f.cat.T(lang, "forms.file.max", map[string]any{"Size": FormatBytes(lang, spec.maxBytes)}))
	}
	return strings.Join(parts, " ")
}

// FormatBytes writes a size as people read it: "800 KB", "2,5 MB" (in
// lang's decimal separator).
func FormatBytes(lang string, n int64) string {
	const kb, mb = 1024, 1024 * 1024
	switch {
	case n >= mb:
		v := float64(n) / mb
		decimals := 1
		if v == math.Trunc(v) || v >= 100 {
			decimals = 0
		}
		return i18n.FormatNumber(lang, v, decimals) + " MB"
	case n >= kb:
		return i18n.FormatNumber(lang, math.Ceil(float64(n)/kb), 0) + " KB"
	}
	return i18n.FormatNumber(lang, float64(n), 0) + " B"
}

// TypeNames names the types the field takes as people know them ("PDF,
// JPEG"); "" when it takes any.
func (ff FileField) TypeNames() string {
	names := make([]string, 0, len(ff.Accept))
	for _, a := range ff.Accept {
		n := mimeLabels[a]
		if n == "" {
			n = a
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}
