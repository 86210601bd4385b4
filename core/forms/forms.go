package forms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/web"
)

// FieldErrors maps a field's posted name ("email", "address.zip") to its
// translated error; "" holds an error about the whole form.
type FieldErrors = web.FieldErrors

// SchemaError is why Parse refused a schema: the renderer could not draw it.
type SchemaError struct {
	Field  string // posted name of the field at fault; "" for the schema as a whole
	Reason string
}

func (e *SchemaError) Error() string {
	if e.Field == "" {
		return "forms: schema: " + e.Reason
	}
	return fmt.Sprintf("forms: field %q: %s", e.Field, e.Reason)
}

// Form is a parsed form schema. It is immutable and safe for concurrent use.
type Form struct {
	schema *jsonschema.Schema
	fields []*field
	byName map[string]*field // by posted name, nested fields included
	cat    *i18n.Catalog
}

// Option configures Parse.
type Option func(*options)

type options struct {
	cat *i18n.Catalog
}

// WithCatalog makes the form translate with cat, which must hold the
// "forms." messages of web.LocalesFS (the renderer's catalog does). Without
// it Parse loads its own copy of those messages, once per form.
func WithCatalog(cat *i18n.Catalog) Option {
	return func(o *options) { o.cat = cat }
}

// kind is the type of a field as the renderer sees it.
type kind int

const (
	kindString kind = iota
	kindInteger
	kindNumber
	kindBoolean
	kindChoices // an array of enum strings
	kindObject
)

// field is one property of the schema, read once for drawing and decoding.
type field struct {
	name   string // posted name
	kind   kind
	widget string // as web.Field.Widget
	format string

	title, desc map[string]string // by language; "it" from title, description

	// options of select, radio and checkboxes; values canonical as posted
	options    []option
	required   bool
	mustAccept bool // a boolean with "const": true

	minLength, maxLength int // 0 for none
	pattern              string
	min, max, step       string // HTML attribute values, "" for none
	autocomplete         string

	def      any // the schema's default as JSON gives it; nil for none
	children []*field
	file     *fileSpec // a file upload ("x-widget": "file"); nil otherwise
	mapView  *mapSpec  // an object drawn as a map ("x-widget": "map"); nil otherwise
}

type option struct {
	value  string            // as posted
	labels map[string]string // by language
}

// Parse compiles a form schema and reads its fields. It fails, with a
// *SchemaError naming the field, on a schema the renderer cannot draw.
func Parse(schemaJSON []byte, opts ...Option) (*Form, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, &SchemaError{Reason: "not JSON: " + err.Error()}
	}
	// The compiler would load what a reference names, files included: a
	// service's schema may only refer within itself.
	if ref, ok := outsideRef(doc); ok {
		return nil, &SchemaError{Reason: fmt.Sprintf("%q refers outside the schema: only references within it (\"#/$defs/…\") are allowed", ref)}
	}
	// Compiled as the SDK compiles it, so that a service and the host agree
	// on what is valid (formats "time", "date-time" and "tel" included).
	sch, err := sdk.CompileSchema(schemaJSON)
	if err != nil {
		return nil, &SchemaError{Reason: err.Error()}
	}
	root, ok := doc.(map[string]any)
	if !ok || root["type"] != "object" {
		return nil, &SchemaError{Reason: `the root must be an object schema ("type": "object")`}
	}
	f := &Form{schema: sch, byName: map[string]*field{}, cat: o.cat}
	f.fields, err = readFields(root, "", f.byName)
	if err != nil {
		return nil, err
	}
	if len(f.fields) == 0 {
		return nil, &SchemaError{Reason: "no properties: the form has no fields"}
	}
	if f.cat == nil {
		f.cat, err = i18n.New(web.LocalesFS())
		if err != nil {
			return nil, fmt.Errorf("forms: %w", err)
		}
	}
	return f, nil
}

// readFields reads the properties of an object schema in x-order; parent is
// the posted name of the object ("" at the root).
func readFields(obj map[string]any, parent string, byName map[string]*field) ([]*field, error) {
	bad := func(reason string, args ...any) error {
		return &SchemaError{Field: parent, Reason: fmt.Sprintf(reason, args...)}
	}
	props, _ := obj["properties"].(map[string]any)
	if _, ok := obj["properties"]; ok && props == nil {
		return nil, bad(`"properties" must be an object`)
	}
	var order []string
	if raw, ok := obj["x-order"]; ok {
		list, ok := stringList(raw)
		if !ok {
			return nil, bad(`"x-order" must be a list of property names`)
		}
		for _, name := range list {
			if _, ok := props[name]; !ok {
				return nil, bad("x-order names %q, which is no property", name)
			}
			if slices.Contains(order, name) {
				return nil, bad("x-order names %q twice", name)
			}
			order = append(order, name)
		}
	}
	var rest []string
	for name := range props {
		if !slices.Contains(order, name) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	order = append(order, rest...)

	required := map[string]bool{}
	if raw, ok := obj["required"]; ok {
		list, ok := stringList(raw)
		if !ok {
			return nil, bad(`"required" must be a list of property names`)
		}
		for _, name := range list {
			if _, ok := props[name]; !ok {
				// No field could show that it is missing.
				return nil, bad("required names %q, which is no property", name)
			}
			required[name] = true
		}
	}
	var fields []*field
	for _, name := range order {
		full := name
		if parent != "" {
			full = parent + "." + name
		}
		if !validName(name) {
			return nil, &SchemaError{Field: full, Reason: "a property name is ASCII letters, digits, _ and -, starting with a letter"}
		}
		sch, ok := props[name].(map[string]any)
		if !ok {
			return nil, &SchemaError{Field: full, Reason: "the property's schema must be an object"}
		}
		fd, err := readField(sch, full, required[name], parent != "", byName)
		if err != nil {
			return nil, err
		}
		byName[full] = fd
		fields = append(fields, fd)
	}
	return fields, nil
}

// readField reads one property's schema.
func readField(sch map[string]any, name string, required, nested bool, byName map[string]*field) (*field, error) {
	bad := func(reason string, args ...any) error {
		return &SchemaError{Field: name, Reason: fmt.Sprintf(reason, args...)}
	}
	if _, ok := sch["$ref"]; ok {
		return nil, bad(`"$ref" is not followed by the form renderer: write the field's schema in place`)
	}
	fd := &field{name: name, required: required}
	var err error
	if fd.title, err = texts(sch, "title", "x-title"); err != nil {
		return nil, bad("%v", err)
	}
	if fd.desc, err = texts(sch, "description", "x-description"); err != nil {
		return nil, bad("%v", err)
	}
	widget, _ := sch["x-widget"].(string)
	if _, ok := sch["x-widget"]; ok && widget == "" {
		return nil, bad(`"x-widget" must be a string`)
	}
	if ac, ok := sch["x-autocomplete"]; ok {
		if fd.autocomplete, ok = ac.(string); !ok {
			return nil, bad(`"x-autocomplete" must be a string`)
		}
	}
	typ, ok := sch["type"].(string)
	if !ok {
		return nil, bad(`"type" must be one of string, integer, number, boolean, array, object`)
	}
	if widget == mapWidget && typ != "object" {
		return nil, bad(`"x-widget": "map" draws an object holding the numbers "lat" and "lon" and optionally the string "address"`)
	}
	_, hasEnum := sch["enum"]
	switch typ {
	case "string", "integer", "number":
		fd.kind = map[string]kind{"string": kindString, "integer": kindInteger, "number": kindNumber}[typ]
		if hasEnum {
			if fd.options, err = readOptions(sch, sch, fd.kind); err != nil {
				return nil, bad("%v", err)
			}
		}
		if err := fd.readFile(sch, widget, hasEnum); err != nil {
			return nil, bad("%v", err)
		}
		if fd.file != nil {
			fd.widget = fileWidget
			break
		}
		fd.widget, err = pickWidget(widget, hasEnum, fd.kind)
		if err != nil {
			return nil, bad("%v", err)
		}
		if err := fd.readConstraints(sch); err != nil {
			return nil, bad("%v", err)
		}
	case "boolean":
		fd.kind = kindBoolean
		switch widget {
		case "", "checkbox":
			fd.widget = "checkbox"
		case "hidden":
			fd.widget = "hidden"
		default:
			return nil, bad("x-widget %q does not draw a boolean: use checkbox or hidden", widget)
		}
		if c, ok := sch["const"]; ok {
			if c != true {
				return nil, bad(`a boolean's "const" can only be true (the box must be ticked)`)
			}
			fd.mustAccept = true
		}
	case "array":
		fd.kind = kindChoices
		if widget != "" && widget != "checkboxes" {
			return nil, bad("x-widget %q does not draw an array: use checkboxes", widget)
		}
		fd.widget = "checkboxes"
		items, ok := sch["items"].(map[string]any)
		if !ok || items["type"] != "string" || items["enum"] == nil {
			return nil, bad(`an array is drawn as checkboxes: "items" must be {"type": "string", "enum": [...]}`)
		}
		if fd.options, err = readOptions(items, sch, kindString); err != nil {
			return nil, bad("%v", err)
		}
	case "object":
		if nested {
			return nil, bad("a fieldset cannot hold another object: one level of nesting only")
		}
		if widget != "" && widget != "fieldset" && widget != mapWidget {
			return nil, bad("x-widget %q does not draw an object: use fieldset or map", widget)
		}
		fd.kind, fd.widget = kindObject, "fieldset"
		if widget == mapWidget {
			fd.widget = mapWidget
		}
		if fd.children, err = readFields(sch, name, byName); err != nil {
			return nil, err
		}
		if len(fd.children) == 0 {
			return nil, bad("an object needs properties to draw as a fieldset")
		}
	default:
		return nil, bad("type %q cannot be drawn: use string, integer, number, boolean, array or object", typ)
	}
	if err := fd.readMap(sch, widget); err != nil {
		return nil, err
	}
	if fd.widget != "hidden" && fd.title["it"] == "" {
		return nil, bad(`"title" is required: it is the field's label`)
	}
	if d, ok := sch["default"]; ok && fd.kind != kindObject {
		fd.def = d
	}
	return fd, nil
}

// pickWidget checks x-widget against a scalar field and fills in the default.
func pickWidget(widget string, hasEnum bool, k kind) (string, error) {
	switch {
	case widget == "hidden":
		return widget, nil
	case hasEnum && (widget == "" || widget == "select"):
		return "select", nil
	case hasEnum && widget == "radio":
		return widget, nil
	case !hasEnum && (widget == "" || widget == "input"):
		return "input", nil
	case !hasEnum && k == kindString && widget == "textarea":
		return widget, nil
	case widget == "select" || widget == "radio":
		return "", fmt.Errorf("x-widget %q needs an enum", widget)
	}
	return "", fmt.Errorf("x-widget %q cannot draw this field", widget)
}

// readConstraints copies the keywords the browser can check too.
func (fd *field) readConstraints(sch map[string]any) error {
	if f, ok := sch["format"].(string); ok {
		fd.format = f
	}
	for _, kw := range []struct {
		key string
		dst *int
	}{{"minLength", &fd.minLength}, {"maxLength", &fd.maxLength}} {
		if raw, ok := sch[kw.key]; ok {
			n, ok := intOf(raw)
			if !ok {
				return fmt.Errorf("%q must be a whole number", kw.key)
			}
			*kw.dst = n
		}
	}
	if p, ok := sch["pattern"].(string); ok {
		fd.pattern = p
	}
	if fd.kind != kindInteger && fd.kind != kindNumber {
		return nil
	}
	lo, hi := ratOf(sch["minimum"]), ratOf(sch["maximum"])
	if x := ratOf(sch["exclusiveMinimum"]); x != nil && fd.kind == kindInteger && x.IsInt() {
		x.Add(x, big.NewRat(1, 1))
		if lo == nil || x.Cmp(lo) > 0 {
			lo = x
		}
	}
	if x := ratOf(sch["exclusiveMaximum"]); x != nil && fd.kind == kindInteger && x.IsInt() {
		x.Sub(x, big.NewRat(1, 1))
		if hi == nil || x.Cmp(hi) < 0 {
			hi = x
		}
	}
	fd.min, fd.max = attrNumber(lo), attrNumber(hi)
	fd.step = "1"
	if fd.kind == kindNumber {
		fd.step = "any"
	}
	// The browser counts steps from min, the schema from zero: give the
	// step only where both agree.
	if m := ratOf(sch["multipleOf"]); m != nil && m.Sign() > 0 {
		if lo == nil || new(big.Rat).Quo(lo, m).IsInt() {
			fd.step = attrNumber(m)
		}
	}
	return nil
}

// readOptions reads the enum of sch and the labels of its values, which sit
// on labelsFrom (the array's schema for checkboxes, the field's otherwise).
func readOptions(sch, labelsFrom map[string]any, k kind) ([]option, error) {
	values, ok := sch["enum"].([]any)
	if !ok || len(values) == 0 {
		return nil, errors.New(`"enum" must be a non-empty list`)
	}
	titles := map[string][]string{}
	if raw, ok := labelsFrom["x-enum-titles"]; ok {
		byLang, ok := raw.(map[string]any)
		if !ok {
			return nil, errors.New(`"x-enum-titles" must map languages to lists of labels`)
		}
		for lang, list := range byLang {
			l, ok := stringList(list)
			if !ok || len(l) != len(values) {
				return nil, fmt.Errorf(`"x-enum-titles".%s must list %d labels, one per enum value`, lang, len(values))
			}
			titles[lang] = l
		}
	}
	opts := make([]option, len(values))
	for i, v := range values {
		s, ok := postedValue(v, k)
		if !ok {
			return nil, fmt.Errorf("enum value %v does not fit the field's type", v)
		}
		labels := map[string]string{}
		for lang, l := range titles {
			labels[lang] = l[i]
		}
		opts[i] = option{value: s, labels: labels}
	}
	return opts, nil
}

// postedValue writes an enum value as a browser would post it back.
func postedValue(v any, k kind) (string, bool) {
	switch k {
	case kindString:
		s, ok := v.(string)
		return s, ok
	case kindInteger, kindNumber:
		r := ratOf(v)
		if r == nil || (k == kindInteger && !r.IsInt()) {
			return "", false
		}
		return attrNumber(r), true
	}
	return "", false
}

// texts reads a translated text: key in Italian, xkey a map of the others.
func texts(sch map[string]any, key, xkey string) (map[string]string, error) {
	out := map[string]string{}
	if raw, ok := sch[key]; ok {
		s, ok := raw.(string)
		if !ok {
			return nil, fmt.Errorf("%q must be a string", key)
		}
		out[i18n.Default] = s
	}
	if raw, ok := sch[xkey]; ok {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q must map languages to texts", xkey)
		}
		for lang, v := range m {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%q.%s must be a string", xkey, lang)
			}
			if lang != i18n.Default || out[lang] == "" {
				out[lang] = s
			}
		}
	}
	return out, nil
}

// validName keeps property names usable as posted names ("parent.child")
// and ids, and clear of the host's own fields ("_csrf").
func validName(s string) bool {
	for i, c := range s {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return s != ""
}

// stringList reads a JSON list of strings.
func stringList(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(list))
	for i, e := range list {
		if out[i], ok = e.(string); !ok {
			return nil, false
		}
	}
	return out, true
}

// ratOf reads a JSON number exactly; nil when v is none.
func ratOf(v any) *big.Rat {
	var s string
	switch n := v.(type) {
	case json.Number:
		s = string(n)
	case float64:
		s = strconv.FormatFloat(n, 'g', -1, 64)
	case int64:
		s = strconv.FormatInt(n, 10)
	case int:
		s = strconv.Itoa(n)
	default:
		return nil
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil
	}
	return r
}

func intOf(v any) (int, bool) {
	r := ratOf(v)
	if r == nil || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return int(r.Num().Int64()), true
}

// attrNumber writes r as an HTML attribute or a posted number does:
// "10", "0.5", "-3.25"; "" for nil.
func attrNumber(r *big.Rat) string {
	if r == nil {
		return ""
	}
	if r.IsInt() {
		return r.Num().String()
	}
	// A JSON number is a finite decimal: find its number of decimals.
	pow, ten, rem := big.NewInt(10), big.NewInt(10), new(big.Int)
	n := 1
	for ; n < 40 && rem.Rem(pow, r.Denom()).Sign() != 0; n++ {
		pow.Mul(pow, ten)
	}
	return r.FloatString(n)
}

// outsideRef finds a reference to another document ("$ref" or
// "$dynamicRef" not starting with "#", a "$schema" that is not one of
// json-schema.org's, which the compiler knows without loading).
func outsideRef(v any) (string, bool) {
	switch v := v.(type) {
	case map[string]any:
		for key, e := range v {
			s, isString := e.(string)
			switch {
			case !isString:
			case key == "$ref" || key == "$dynamicRef":
				if !strings.HasPrefix(s, "#") {
					return s, true
				}
			case key == "$schema":
				if !strings.HasPrefix(s, "https://json-schema.org/") && !strings.HasPrefix(s, "http://json-schema.org/") {
					return s, true
				}
			}
			if ref, ok := outsideRef(e); ok {
				return ref, true
			}
		}
	case []any:
		for _, e := range v {
			if ref, ok := outsideRef(e); ok {
				return ref, true
			}
		}
	}
	return "", false
}
