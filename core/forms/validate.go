package forms

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	errkind "github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/sportello/sportello/core/i18n"
)

// Validate checks doc against the schema and returns, in lang, one error per
// field that fails (the most telling one when several do), keyed by the
// field's posted name; "" holds errors about the whole form. It returns nil
// when doc is valid. doc is a decoded document (Decode's, or any value that
// encoding/json would write as JSON).
func (f *Form) Validate(doc any, lang string) FieldErrors {
	err := f.schema.Validate(jsonValue(doc))
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return FieldErrors{"": f.cat.T(lang, "forms.invalid", nil)}
	}
	type found struct {
		rank int
		msg  string
	}
	best := map[string]found{}
	add := func(name string, rank int, msg string) {
		name = f.errorKey(name)
		if b, ok := best[name]; !ok || rank < b.rank || (rank == b.rank && msg < b.msg) {
			best[name] = found{rank, msg}
		}
	}
	for _, leaf := range leaves(verr, nil) {
		loc := leaf.InstanceLocation
		switch k := leaf.ErrorKind.(type) {
		case *errkind.Required:
			for _, p := range k.Missing {
				name := f.fieldAt(append(loc[:len(loc):len(loc)], p))
				add(name, rankOf(k), f.requiredMessage(name, lang))
			}
		case *errkind.DependentRequired:
			for _, p := range k.Missing {
				name := f.fieldAt(append(loc[:len(loc):len(loc)], p))
				add(name, rankOf(&errkind.Required{}), f.requiredMessage(name, lang))
			}
		case *errkind.Dependency:
			for _, p := range k.Missing {
				name := f.fieldAt(append(loc[:len(loc):len(loc)], p))
				add(name, rankOf(&errkind.Required{}), f.requiredMessage(name, lang))
			}
		case *errkind.AdditionalProperties:
			// Decode never posts such keys: they come from elsewhere, and
			// no field can show them.
			add("", rankOf(k), f.message("", k, lang))
		default:
			name := f.fieldAt(loc)
			add(name, rankOf(k), f.message(name, k, lang))
		}
	}
	errs := FieldErrors{}
	for name, b := range best {
		errs[name] = b.msg
	}
	return errs
}

// errorKey is where the error of field name shows: on the field, or on
// the form when the field is hidden (nobody could see it there).
func (f *Form) errorKey(name string) string {
	if fd := f.byName[name]; fd == nil || fd.widget == "hidden" {
		return ""
	}
	return name
}

// leaves collects the errors that say what is wrong, under the groups
// (allOf, the schema itself, …) that only say where.
func leaves(e *jsonschema.ValidationError, out []*jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return append(out, e)
	}
	for _, c := range e.Causes {
		out = leaves(c, out)
	}
	return out
}

// fieldAt maps an instance location to the field it concerns: the nested
// field of a fieldset, the checkbox group of an item; "" for the form.
func (f *Form) fieldAt(loc []string) string {
	if len(loc) == 0 {
		return ""
	}
	fd, ok := f.byName[loc[0]]
	if !ok {
		return ""
	}
	if fd.kind == kindObject && len(loc) > 1 {
		if c, ok := f.byName[loc[0]+"."+loc[1]]; ok {
			return c.name
		}
	}
	return fd.name
}

// rankOf orders the kinds of error from the most telling: a wrong type or a
// missing value says more than the limits that follow from them.
func rankOf(k jsonschema.ErrorKind) int {
	switch k.(type) {
	case *errkind.Type, *errkind.InvalidJsonValue:
		return 0
	case *errkind.Required:
		return 1
	case *errkind.Const, *errkind.Enum:
		return 2
	case *errkind.Format:
		return 3
	case *errkind.Pattern:
		return 4
	case *errkind.MinLength, *errkind.MaxLength, *errkind.Minimum, *errkind.Maximum,
		*errkind.ExclusiveMinimum, *errkind.ExclusiveMaximum, *errkind.MinItems, *errkind.MaxItems:
		return 5
	case *errkind.MultipleOf, *errkind.UniqueItems:
		return 6
	case *errkind.AdditionalProperties:
		return 7
	}
	return 9
}

func (f *Form) requiredMessage(name, lang string) string {
	fd := f.byName[name]
	switch {
	case fd == nil:
		return f.cat.T(lang, "forms.required", nil)
	case fd.mustAccept:
		return f.cat.T(lang, "forms.accept", nil)
	case fd.file != nil:
		return f.cat.T(lang, "forms.file.required", nil)
	case fd.kind == kindChoices:
		return f.cat.T(lang, "forms.required_choices", nil)
	case len(fd.options) > 0:
		return f.cat.T(lang, "forms.required_choice", nil)
	}
	return f.cat.T(lang, "forms.required", nil)
}

// message translates one error about field name ("" for the form).
func (f *Form) message(name string, k jsonschema.ErrorKind, lang string) string {
	fd := f.byName[name]
	t := func(id string, args map[string]any) string { return f.cat.T(lang, id, args) }
	switch k := k.(type) {
	case *errkind.Type:
		switch {
		case fd == nil:
		case fd.kind == kindInteger:
			return t("forms.integer", nil)
		case fd.kind == kindNumber:
			return t("forms.number", nil)
		}
	case *errkind.Const:
		if fd != nil && fd.mustAccept {
			return t("forms.accept", nil)
		}
	case *errkind.Enum:
		return t("forms.enum", nil)
	case *errkind.Format:
		return f.formatMessage(k.Want, lang)
	case *errkind.Pattern:
		if fd != nil {
			if hint := strings.TrimRight(textIn(fd.desc, lang), ". "); hint != "" {
				return t("forms.pattern_hint", map[string]any{"Hint": hint})
			}
		}
		return t("forms.pattern", nil)
	case *errkind.MinLength:
		return t("forms.min_length", map[string]any{"Count": k.Want})
	case *errkind.MaxLength:
		return t("forms.max_length", map[string]any{"Count": k.Want})
	case *errkind.Minimum:
		return t("forms.minimum", map[string]any{"Min": formatRat(lang, k.Want)})
	case *errkind.Maximum:
		return t("forms.maximum", map[string]any{"Max": formatRat(lang, k.Want)})
	case *errkind.ExclusiveMinimum:
		return t("forms.exclusive_minimum", map[string]any{"Min": formatRat(lang, k.Want)})
	case *errkind.ExclusiveMaximum:
		return t("forms.exclusive_maximum", map[string]any{"Max": formatRat(lang, k.Want)})
	case *errkind.MultipleOf:
		return t("forms.multiple_of", map[string]any{"Step": formatRat(lang, k.Want)})
	case *errkind.MinItems:
		return t("forms.min_items", map[string]any{"Count": k.Want})
	case *errkind.MaxItems:
		return t("forms.max_items", map[string]any{"Count": k.Want})
	case *errkind.UniqueItems:
		return t("forms.unique", nil)
	case *errkind.AdditionalProperties:
		return t("forms.additional", map[string]any{"Fields": strings.Join(k.Properties, ", ")})
	}
	return t("forms.invalid", nil)
}

func (f *Form) formatMessage(format, lang string) string {
	var id string
	switch format {
	case "date":
		id = "forms.format.date"
	case "time":
		id = "forms.format.time"
	case "date-time":
		id = "forms.format.date_time"
	case "email":
		id = "forms.format.email"
	case "uri", "iri":
		id = "forms.format.uri"
	case "tel":
		id = "forms.format.tel"
	default:
		id = "forms.format"
	}
	return f.cat.T(lang, id, nil)
}

// formatRat writes a limit the way lang writes numbers, without grouping
// (a year, 2025, must not read "2.025").
func formatRat(lang string, r *big.Rat) string {
	s := attrNumber(r)
	switch strings.ToLower(lang)[:min(2, len(lang))] {
	case "en":
		return s
	}
	return strings.Replace(s, ".", ",", 1)
}

// textIn is a translated text in lang, falling back to Italian.
func textIn(m map[string]string, lang string) string {
	if s := m[lang]; s != "" {
		return s
	}
	return m[i18n.Default]
}

// jsonValue makes doc a value the validator knows (maps of any, []any,
// json numbers …), through encoding/json when it holds other Go types
// ([]string, structs); a value JSON cannot hold stays as it is and fails.
func jsonValue(doc any) any {
	if plainJSON(doc) {
		return doc
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return doc
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	if err != nil {
		return doc
	}
	return v
}

func plainJSON(v any) bool {
	switch v := v.(type) {
	case nil, bool, string, json.Number, int, int64, float64:
		return true
	case []any:
		for _, e := range v {
			if !plainJSON(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range v {
			if !plainJSON(e) {
				return false
			}
		}
		return true
	}
	return false
}
