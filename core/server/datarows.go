package server

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/web"
)

// fieldDoc is what a service's forms say about one answer: how to label
// it and how to show its value.
type fieldDoc struct {
	order      int
	title      map[string]string // "it" is the title keyword
	enum       []string
	enumTitles map[string][]string
	format     string
	file       bool
	list       bool                 // an array: props are its items' fields
	props      map[string]*fieldDoc // a fieldset's fields, or an array's items'
}

func (f *fieldDoc) label(lang, key string) string {
	if t := f.title[lang]; t != "" {
		return t
	}
	if t := f.title["it"]; t != "" {
		return t
	}
	return humanKey(key)
}

// schemaDoc is the JSON Schema subset fieldDocs reads.
type schemaDoc struct {
	Type       any                   `json:"type"`
	Title      string                `json:"title"`
	XTitle     map[string]string     `json:"x-title"`
	Enum       []any                 `json:"enum"`
	EnumTitles map[string][]string   `json:"x-enum-titles"`
	Format     string                `json:"format"`
	Widget     string                `json:"x-widget"`
	Properties map[string]*schemaDoc `json:"properties"`
	Order      []string              `json:"x-order"`
	Items      *schemaDoc            `json:"items"`
}

func docOf(s *schemaDoc, order int) *fieldDoc {
	f := &fieldDoc{order: order, title: map[string]string{"it": s.Title}, enumTitles: s.EnumTitles, format: s.Format,
		file: s.Widget == "file"}
	for l, t := range s.XTitle {
		f.title[l] = t
	}
	for _, e := range s.Enum {
		f.enum = append(f.enum, displayScalar(e))
	}
	switch {
	case len(s.Properties) > 0:
		f.props = propDocs(s)
	case s.Items != nil:
		f.list = true
		it := docOf(s.Items, 0)
		if len(it.enum) > 0 {
			f.enum, f.enumTitles = it.enum, it.enumTitles
		}
		f.props = it.props
	}
	return f
}

// propDocs are an object schema's fields in the form's order.
func propDocs(s *schemaDoc) map[string]*fieldDoc {
	out := map[string]*fieldDoc{}
	names := append([]string(nil), s.Order...)
	rest := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		rest = append(rest, name)
	}
	sort.Strings(rest)
	names = append(names, rest...)
	for _, name := range names {
		p, ok := s.Properties[name]
		if _, seen := out[name]; ok && !seen && p != nil {
			out[name] = docOf(p, len(out))
		}
	}
	return out
}

// formDocs merges the fields of every form of the service: a dossier's
// data does not say which form filed it.
func formDocs(rec *catalog.Record) map[string]*fieldDoc {
	out := map[string]*fieldDoc{}
	if rec == nil || rec.Manifest == nil {
		return out
	}
	for i, f := range rec.Manifest.GetForms() {
		var s schemaDoc
		if json.Unmarshal(f.GetSchemaJson(), &s) != nil {
			continue
		}
		for name, d := range propDocs(&s) {
			if _, seen := out[name]; !seen {
				d.order += i * 10000 // the first form's fields first
				out[name] = d
			}
		}
	}
	return out
}

// dataRows shows a dossier's data as label and value pairs, labelled and
// worded as the service's forms word them: enum values by their titles,
// dates in the reader's language, a fieldset's fields under its legend.
// An object no form names whose keys are form fields (a procedure keeps
// the answers under "answers") is shown as those fields. Keys no form
// names are the plugin's own bookkeeping (a fee in cents, the language):
// staff see them, humanised, after the answers; a citizen (answersOnly)
// sees only what they answered. Upload ids are left out: the files are
// listed apart.
func dataRows(rec *catalog.Record, lang string, raw json.RawMessage, answersOnly bool) []web.DataRow {
	var data map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &data) != nil || len(data) == 0 {
		return nil
	}
	docs := formDocs(rec)
	// A fieldset a plugin stores flat (a map's lat, lon and address kept
	// beside the other answers) is still the person's answer: its fields
	// are shown under its legend.
	flat := map[string]string{}
	claimed := map[string]int{}
	for name, d := range docs {
		if _, kept := data[name]; kept || len(d.props) == 0 || d.list {
			continue
		}
		for sub := range d.props {
			if _, own := docs[sub]; !own {
				flat[sub] = name
				claimed[sub]++
			}
		}
	}
	for sub, n := range claimed {
		if n > 1 { // two fieldsets have it: whose it is cannot be told
			delete(flat, sub)
		}
	}
	var known, other []web.DataRow
	type row struct {
		order int
		row   web.DataRow
	}
	var ordered []row
	var add func(prefix string, m map[string]any)
	add = func(prefix string, m map[string]any) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := m[k]
			d, ok := docs[k]
			if parent, isFlat := flat[k]; !ok && isFlat && prefix == "" {
				pd := docs[parent]
				sd := pd.props[k]
				if !sd.file {
					ordered = append(ordered, row{pd.order*100 + sd.order, web.DataRow{Label: pd.label(lang, parent) + " – " + sd.label(lang, k),
						Value: formatAnswer(sd, lang, v)}})
				}
				continue
			}
			if !ok {
				if sub, isObj := v.(map[string]any); isObj && namesFields(sub, docs) {
					add(prefix, sub)
					continue
				}
				if !answersOnly && k != "lang" {
					other = append(other, web.DataRow{Label: prefix + humanKey(k), Value: displayValue(v)})
				}
				continue
			}
			if d.file {
				continue
			}
			label := prefix + d.label(lang, k)
			if sub, isObj := v.(map[string]any); isObj && len(d.props) > 0 {
				for _, r := range fieldsetRows(d, lang, sub) {
					ordered = append(ordered, row{d.order * 100, web.DataRow{Label: label + " – " + r.Label, Value: r.Value}})
				}
				continue
			}
			ordered = append(ordered, row{d.order * 100, web.DataRow{Label: label, Value: formatAnswer(d, lang, v)}})
		}
	}
	add("", data)
	sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].order < ordered[j].order })
	for _, r := range ordered {
		known = append(known, r.row)
	}
	return append(known, other...)
}

// namesFields is whether most of m's keys are form fields.
func namesFields(m map[string]any, docs map[string]*fieldDoc) bool {
	n := 0
	for k := range m {
		if _, ok := docs[k]; ok {
			n++
		}
	}
	return n > 0 && 2*n >= len(m)
}

// fieldsetRows are a fieldset's answers in its order.
func fieldsetRows(d *fieldDoc, lang string, m map[string]any) []web.DataRow {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.SliceStable(keys, func(i, j int) bool {
		di, dj := d.props[keys[i]], d.props[keys[j]]
		switch {
		case di != nil && dj != nil:
			return di.order < dj.order
		case (di != nil) != (dj != nil):
			return di != nil
		}
		return keys[i] < keys[j]
	})
	var out []web.DataRow
	for _, k := range keys {
		sd := d.props[k]
		if sd == nil {
			sd = &fieldDoc{}
		}
		if sd.file {
			continue
		}
		out = append(out, web.DataRow{Label: sd.label(lang, k), Value: formatAnswer(sd, lang, m[k])})
	}
	return out
}

// formatAnswer words one answer as its field does.
func formatAnswer(d *fieldDoc, lang string, v any) string {
	switch v := v.(type) {
	case []any:
		parts := make([]string, 0, len(v))
		for _, e := range v {
			if m, ok := e.(map[string]any); ok && len(d.props) > 0 {
				var sub []string
				for _, r := range fieldsetRows(d, lang, m) {
					sub = append(sub, r.Label+": "+r.Value)
				}
				parts = append(parts, strings.Join(sub, "; "))
				continue
			}
			parts = append(parts, formatAnswer(&fieldDoc{enum: d.enum, enumTitles: d.enumTitles}, lang, e))
		}
		sep := ", "
		if len(d.props) > 0 {
			sep = " · "
		}
		return strings.Join(parts, sep)
	case string:
		if t := enumTitle(d, lang, v); t != "" {
			return t
		}
		if d.format == "date" {
			if t, err := time.Parse(time.DateOnly, v); err == nil {
				return i18n.FormatDate(lang, t)
			}
		}
		return v
	case float64, bool:
		if t := enumTitle(d, lang, displayScalar(v)); t != "" {
			return t
		}
	}
	return displayValue(v)
}

func enumTitle(d *fieldDoc, lang, v string) string {
	for i, e := range d.enum {
		if e != v {
			continue
		}
		for _, l := range []string{lang, "it"} {
			if ts := d.enumTitles[l]; i < len(ts) && ts[i] != "" {
				return ts[i]
			}
		}
	}
	return ""
}

func displayScalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func humanKey(k string) string { return strings.ReplaceAll(k, "_", " ") }

func displayValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		if v {
			return "✓"
		}
		return "—"
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = displayValue(e)
		}
		return strings.Join(parts, ", ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}
