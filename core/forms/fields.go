package forms

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/web"
)

// idPrefix keeps field ids apart from the layout's ("main-content", …).
const idPrefix = "field-"

// Fields returns the form's fields for the "form_fields" template, in lang,
// showing values and errs. values is a document (Decode's, or one a service
// returned) or what was posted, with nested fields under "parent.child";
// with nil values the fields show the schema's defaults.
func (f *Form) Fields(lang string, values map[string]any, errs FieldErrors) []web.Field {
	out := make([]web.Field, 0, len(f.fields))
	for _, fd := range f.fields {
		out = append(out, f.view(fd, lang, values, errs))
	}
	return out
}

func (f *Form) view(fd *field, lang string, values map[string]any, errs FieldErrors) web.Field {
	v := web.Field{
		Name:         fd.name,
		ID:           idPrefix + fd.name,
		Label:        textIn(fd.title, lang),
		Help:         textIn(fd.desc, lang),
		Widget:       fd.widget,
		Required:     fd.required,
		Min:          fd.min,
		Max:          fd.max,
		Step:         fd.step,
		MinLength:    fd.minLength,
		MaxLength:    fd.maxLength,
		Pattern:      browserPattern(fd.pattern),
		Autocomplete: fd.autocomplete,
		Error:        errs[fd.name],
	}
	if fd.kind == kindBoolean {
		// Only a box that must be ticked is required to the browser: an
		// unticked box is a valid "no".
		v.Required = fd.mustAccept
	}
	if v.Widget == "input" {
		v.InputType = inputType(fd)
	}
	if fd.file != nil {
		v.Accept = strings.Join(fd.file.accept, ",")
		if hint := f.fileHint(fd.file, lang); hint != "" {
			v.Help = strings.TrimSpace(v.Help + " " + hint)
		}
	}
	var ids []string
	if v.Help != "" && v.Widget != "hidden" {
		v.HelpID = v.ID + "-help"
		ids = append(ids, v.HelpID)
	}
	if v.Error != "" {
		v.ErrorID = v.ID + "-error"
		ids = append(ids, v.ErrorID)
	}
	v.DescribedBy = strings.Join(ids, " ")

	value, has := lookup(values, fd.name)
	if values == nil && fd.def != nil {
		value, has = fd.def, true
	}
	switch fd.kind {
	case kindObject:
		// A required object only means its required fields must be
		// filled: they carry the marker, not the legend.
		v.Required = false
		for _, c := range fd.children {
			v.Children = append(v.Children, f.view(c, lang, values, errs))
		}
		if m := fd.mapView; m != nil {
			v.Map = &web.FieldMap{LatID: v.ID + ".lat", LonID: v.ID + ".lon", Center: m.center}
			if m.center != "" {
				v.Map.Zoom = m.zoom
			}
			if f.byName[fd.name+".address"] != nil {
				v.Map.AddressID = v.ID + ".address"
			}
		}
		return v
	case kindBoolean:
		v.Checked = has && truthy(value)
		v.Value = "true"
		if fd.widget == "hidden" {
			v.Value = strconv.FormatBool(v.Checked)
		}
		return v
	}
	var chosen map[string]bool
	if has {
		chosen = map[string]bool{}
		for _, s := range displayAll(value) {
			chosen[s] = true
		}
		if fd.kind != kindChoices {
			v.Value = inputValue(fd, display(value))
		}
	}
	if fd.widget == "hidden" {
		return v
	}
	for i, o := range fd.options {
		opt := web.FieldOption{Value: o.value, Label: textIn(o.labels, lang), Selected: chosen[o.value]}
		if opt.Label == "" {
			opt.Label = o.value
		}
		if fd.widget == "radio" || fd.widget == "checkboxes" {
			opt.ID = v.ID + "-" + strconv.Itoa(i)
		}
		v.Options = append(v.Options, opt)
	}
	return v
}

// inputType is the type attribute of a field drawn as an input.
func inputType(fd *field) string {
	if fd.kind == kindInteger || fd.kind == kindNumber {
		return "number"
	}
	switch fd.format {
	case "email", "tel", "date", "time":
		return fd.format
	case "uri", "iri":
		return "url"
	case "date-time":
		return "datetime-local"
	}
	return "text"
}

// lookup finds a field's value in a document or in posted values.
func lookup(values map[string]any, name string) (any, bool) {
	if v, ok := values[name]; ok {
		return v, true
	}
	if parent, child, ok := strings.Cut(name, "."); ok {
		if m, ok := values[parent].(map[string]any); ok {
			v, ok := m[child]
			return v, ok
		}
	}
	return nil, false
}

// display writes a value as a browser would have posted it.
func display(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []string:
		if len(v) > 0 {
			return v[0]
		}
		return ""
	case []any:
		if len(v) > 0 {
			return display(v[0])
		}
		return ""
	case json.Number:
		if r := ratOf(v); r != nil {
			return attrNumber(r)
		}
		return string(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

// displayAll writes every value of a list (or the one value of a scalar).
func displayAll(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			out[i] = display(e)
		}
		return out
	}
	return []string{display(v)}
}

func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string, []string, []any:
		switch strings.ToLower(display(v)) {
		case "true", "on", "1":
			return true
		}
	}
	return false
}

// inputValue makes a stored time fit the browser's time and datetime-local
// inputs, which take neither offsets nor fractions: a service may return
// RFC 3339 times.
func inputValue(fd *field, s string) string {
	switch fd.format {
	case "date-time":
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			if t.Second() == 0 {
				return t.Format("2006-01-02T15:04")
			}
			return t.Format("2006-01-02T15:04:05")
		}
	case "time":
		if len(s) > 8 && s[2] == ':' && s[5] == ':' {
			return s[:8] // "14:30:00Z", "14:30:00.5+01:00"
		}
	}
	return s
}

// browserPattern turns a schema pattern (searched anywhere in the value)
// into an HTML one (matched against all of it). A pattern using syntax where
// Go and JavaScript differ is left to the server: the browser reading it
// otherwise could refuse a valid value.
func browserPattern(p string) string {
	if p == "" {
		return ""
	}
	for _, s := range []string{"[[", "[:", `\p`, `\P`, `\A`, `\z`, `\Q`, `\C`, `\x{`} {
		if strings.Contains(p, s) {
			return ""
		}
	}
	for rest := p; ; { // flags and named groups; (?: is the same in both
		i := strings.Index(rest, "(?")
		if i < 0 {
			break
		}
		if !strings.HasPrefix(rest[i:], "(?:") {
			return ""
		}
		rest = rest[i+3:]
	}
	if strings.HasPrefix(p, "^") && strings.HasSuffix(p, "$") && !strings.HasSuffix(p, `\$`) {
		return p
	}
	return ".*(?:" + p + ").*"
}
