package forms

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sportello/sportello/web"
)

// mapSchema is a report with a place, as a helpdesk asks for one.
const mapSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["subject", "location"],
  "x-order": ["subject", "location"],
  "properties": {
    "subject": {"type": "string", "title": "Oggetto", "minLength": 3},
    "location": {"type": "object", "title": "Luogo", "x-title": {"de": "Ort", "en": "Place"},
      "description": "Dove si trova il problema.",
      "x-widget": "map", "x-center": [45.6, 9.52], "x-zoom": 16,
      "additionalProperties": false,
      "required": ["lat", "lon"], "x-order": ["lat", "lon", "address"],
      "properties": {
        "lat": {"type": "number", "title": "Latitudine", "x-title": {"en": "Latitude"}, "minimum": -90, "maximum": 90},
        "lon": {"type": "number", "title": "Longitudine", "x-title": {"en": "Longitude"}, "minimum": -180, "maximum": 180},
        "address": {"type": "string", "title": "Indirizzo", "maxLength": 200, "x-autocomplete": "street-address"}
      }}
  }
}`

func mapForm(t *testing.T) *Form {
	t.Helper()
	f, err := Parse([]byte(mapSchema), WithCatalog(newCatalog(t)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestMapSubmit: a place is validated by the schema like any fieldset; a
// point off the globe is an error beside its input, every answer kept.
func TestMapSubmit(t *testing.T) {
	f := mapForm(t)
	tests := []struct {
		name   string
		post   url.Values
		want   map[string]any
		errors FieldErrors
	}{
		{"a point with its address",
			url.Values{"subject": {"Buca"}, "location.lat": {"45.60123"}, "location.lon": {"9.52"}, "location.address": {"Via Roma 1"}},
			map[string]any{"subject": "Buca", "location": map[string]any{"lat": 45.60123, "lon": 9.52, "address": "Via Roma 1"}}, nil},
		{"a point alone, decimal comma",
			url.Values{"subject": {"Buca"}, "location.lat": {"-33,9"}, "location.lon": {"-180"}},
			map[string]any{"subject": "Buca", "location": map[string]any{"lat": -33.9, "lon": -180.0}}, nil},
		{"latitude off the globe",
			url.Values{"subject": {"Buca"}, "location.lat": {"200"}, "location.lon": {"9.52"}, "location.address": {"Via Roma 1"}},
			map[string]any{"subject": "Buca", "location": map[string]any{"lat": 200.0, "lon": 9.52, "address": "Via Roma 1"}},
			FieldErrors{"location.lat": "Inserisci un valore uguale o inferiore a 90."}},
		{"longitude off the globe",
			url.Values{"subject": {"Buca"}, "location.lat": {"45"}, "location.lon": {"-181"}},
			map[string]any{"subject": "Buca", "location": map[string]any{"lat": 45.0, "lon": -181.0}},
			FieldErrors{"location.lon": "Inserisci un valore uguale o superiore a -180."}},
		{"no number",
			url.Values{"subject": {"Buca"}, "location.lat": {"nord"}, "location.lon": {"9.52"}},
			map[string]any{"subject": "Buca", "location": map[string]any{"lat": "nord", "lon": 9.52}},
			FieldErrors{"location.lat": "Inserisci un numero, ad esempio 12,5."}},
		{"no place",
			url.Values{"subject": {"Buca"}},
			map[string]any{"subject": "Buca", "location": map[string]any{}},
			FieldErrors{"location.lat": "Questo campo è obbligatorio.", "location.lon": "Questo campo è obbligatorio."}},
		{"an address without a point",
			url.Values{"subject": {"Buca"}, "location.address": {"Piazza Libertà"}},
			map[string]any{"subject": "Buca", "location": map[string]any{"address": "Piazza Libertà"}},
			FieldErrors{"location.lat": "Questo campo è obbligatorio.", "location.lon": "Questo campo è obbligatorio."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, errs := f.Submit(tt.post, "it")
			if !reflect.DeepEqual(doc, tt.want) {
				t.Errorf("document %#v, want %#v", doc, tt.want)
			}
			if len(errs) != len(tt.errors) || len(errs) > 0 && !reflect.DeepEqual(errs, tt.errors) {
				t.Errorf("errors %v, want %v", errs, tt.errors)
			}
			// The form comes back with what was typed and the errors beside
			// the inputs.
			fields := f.Fields("it", doc, errs)
			for name, want := range map[string]string{"subject": tt.post.Get("subject"),
				"location.lat": tt.post.Get("location.lat"), "location.address": tt.post.Get("location.address")} {
				got := fieldByName(fields, name)
				if got == nil {
					t.Fatalf("no field %s", name)
				}
				if name == "location.lat" && want == "-33,9" {
					want = "-33.9"
				}
				if got.Value != want || got.Error != errs[name] {
					t.Errorf("%s: value %q error %q, want %q and %q", name, got.Value, got.Error, want, errs[name])
				}
			}
		})
	}
}

func TestMapField(t *testing.T) {
	f := mapForm(t)
	loc := fieldByName(f.Fields("en", nil, nil), "location")
	if loc == nil {
		t.Fatal("no location field")
	}
	want := &web.FieldMap{LatID: "field-location.lat", LonID: "field-location.lon", AddressID: "field-location.address",
		Center: "45.6,9.52", Zoom: 16}
	if loc.Widget != "map" || loc.Label != "Place" || !reflect.DeepEqual(loc.Map, want) {
		t.Errorf("location: widget %q label %q map %+v, want map, Place, %+v", loc.Widget, loc.Label, loc.Map, want)
	}
	var kids []string
	for _, c := range loc.Children {
		kids = append(kids, c.Name+" "+c.InputType+" "+c.Step+" "+c.Min+".."+c.Max)
	}
	if wantKids := []string{"location.lat number any -90..90", "location.lon number any -180..180", "location.address text  .."}; !reflect.DeepEqual(kids, wantKids) {
		t.Errorf("inputs %q, want %q", kids, wantKids)
	}

	// Without x-center nor address.
	g, err := Parse([]byte(`{"type": "object", "properties": {"p": {"type": "object", "title": "Punto", "x-widget": "map",
		"properties": {"lon": {"type": "number", "title": "Lon", "exclusiveMinimum": -180, "maximum": 180},
		               "lat": {"type": "number", "title": "Lat", "minimum": 44, "maximum": 47}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	p := g.Fields("it", nil, nil)[0]
	if want := (&web.FieldMap{LatID: "field-p.lat", LonID: "field-p.lon"}); !reflect.DeepEqual(p.Map, want) {
		t.Errorf("map without center %+v, want %+v", p.Map, want)
	}
	if fs := fieldByName(f.Fields("it", nil, nil), "subject"); fs.Map != nil {
		t.Errorf("a text field has a map: %+v", fs.Map)
	}
}

func TestMapParseRefuses(t *testing.T) {
	lat := `"lat": {"type": "number", "title": "Lat", "minimum": -90, "maximum": 90}`
	lon := `"lon": {"type": "number", "title": "Lon", "minimum": -180, "maximum": 180}`
	place := func(extra, props string) string {
		return `{"type": "object", "properties": {"p": {"type": "object", "title": "Punto", "x-widget": "map"` + extra +
			`, "properties": {` + props + `}}}}`
	}
	tests := []struct {
		name, schema, field, reason string
	}{
		{"map on a string", `{"type": "object", "properties": {"p": {"type": "string", "title": "P", "x-widget": "map"}}}`, "p", `"lat" and "lon"`},
		{"no lon", place("", lat), "p", `needs the number "lon"`},
		{"another property", place("", lat+", "+lon+`, "note": {"type": "string", "title": "N"}`), "p", `"note" is none of them`},
		{"lat an integer", place("", `"lat": {"type": "integer", "title": "Lat", "minimum": -90, "maximum": 90}, `+lon), "p.lat", `"number"`},
		{"lat hidden", place("", `"lat": {"type": "number", "title": "Lat", "minimum": -90, "maximum": 90, "x-widget": "hidden"}, `+lon), "p.lat", `drawn as input`},
		{"lat unbounded", place("", `"lat": {"type": "number", "title": "Lat"}, `+lon), "p.lat", `"maximum": 90`},
		{"lat bound past the pole", place("", `"lat": {"type": "number", "title": "Lat", "minimum": -90, "maximum": 91}, `+lon), "p.lat", `off the globe`},
		{"lon bound past the date line", place("", lat+`, "lon": {"type": "number", "title": "Lon", "minimum": -190, "maximum": 180}`), "p.lon", `-180`},
		{"address a number", place("", lat+", "+lon+`, "address": {"type": "number", "title": "A"}`), "p.address", `string`},
		{"address a choice", place("", lat+", "+lon+`, "address": {"type": "string", "title": "A", "enum": ["x"]}`), "p.address", `string`},
		{"center not a pair", place(`, "x-center": [45]`, lat+", "+lon), "p", `"x-center"`},
		{"center off the globe", place(`, "x-center": [95, 9]`, lat+", "+lon), "p", `"x-center"`},
		{"zoom without center", place(`, "x-zoom": 12`, lat+", "+lon), "p", `"x-zoom"`},
		{"zoom too deep", place(`, "x-center": [45, 9], "x-zoom": 25`, lat+", "+lon), "p", `"x-zoom"`},
		{"center on a fieldset", `{"type": "object", "properties": {"p": {"type": "object", "title": "P", "x-center": [45, 9],
			"properties": {"a": {"type": "string", "title": "A"}}}}}`, "p", `belong to "x-widget": "map"`},
		{"unknown object widget", `{"type": "object", "properties": {"p": {"type": "object", "title": "P", "x-widget": "globe",
			"properties": {"a": {"type": "string", "title": "A"}}}}}`, "p", `fieldset or map`},
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
		})
	}
}

// TestRenderMap draws a place: labelled inputs that work alone, the map and
// the button hidden until the script starts them, the script loaded once
// however many maps the page has, no inline script or style.
func TestRenderMap(t *testing.T) {
	f := mapForm(t)
	for _, lang := range []string{"it", "de", "en"} {
		t.Run(lang, func(t *testing.T) {
			doc, errs := f.Submit(url.Values{"subject": {"Buca"}, "location.lat": {"200"}, "location.lon": {"9.5"}}, lang)
			fields := f.Fields(lang, doc, errs)
			// The same form twice on one page, as a service page with two
			// actions draws it.
			out := renderFields(t, lang, append(fields, f.Fields(lang, nil, nil)...))
			// Ids repeat between the two copies: check one.
			checkForm(t, renderFields(t, lang, fields), fields, errs)
			for _, want := range []string{
				`data-map-lat="field-location.lat"`, `data-map-center="45.6,9.52"`, `data-map-zoom="16"`,
				`<input type="number" class="form-control is-invalid" id="field-location.lat" name="location.lat" value="200" min="-90" max="90" step="any" required`,
				`id="field-location-map"`, `aria-describedby="field-location-map-hint"`, `<button type="button"`,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q", want)
				}
			}
			for _, script := range []string{"/static/vendor/leaflet/leaflet.js?v=", "/static/js/map.js?v=", "/static/vendor/leaflet/leaflet.css?v="} {
				if n := strings.Count(out, script); n != 1 {
					t.Errorf("%s loaded %d times, want once", script, n)
				}
			}
			if strings.Contains(out, "data-map-tiles") {
				t.Error("tiles drawn without a tile server")
			}
			nodes := parsePage(t, out)
			for _, n := range nodes {
				if _, ok := n.attr["style"]; ok || n.tag == "style" || n.tag == "script" && n.attr["src"] == "" {
					t.Errorf("inline <%s> or style: the policy forbids it", n.tag)
				}
				if _, data := n.attr["data-map-canvas"]; data {
					if _, hidden := n.attr["hidden"]; !hidden || n.attr["aria-label"] == "" || strings.Contains(n.attr["aria-label"], "map.") {
						t.Errorf("map canvas %v: want hidden until the script runs, and labelled", n.attr)
					}
				}
				if _, tools := n.attr["data-map-tools"]; tools {
					if _, hidden := n.attr["hidden"]; !hidden {
						t.Error("the position button shows without JavaScript")
					}
				}
				for k, v := range n.attr {
					if strings.HasPrefix(k, "data-map-") && strings.HasPrefix(v, "map.") {
						t.Errorf("%s is a message id: %q", k, v)
					}
				}
			}
		})
	}
}

// TestRenderMapTiles: the deployment's tile server reaches the page.
func TestRenderMapTiles(t *testing.T) {
	f := mapForm(t)
	r, err := web.NewRenderer(web.Options{Pages: fstest.MapFS{"form_test.html": {Data: []byte(testPage)}}, MapTiles: web.MapTiles{
		URL: "https://{s}.tile.example/{z}/{x}/{y}{r}.png", Attribution: `© Contributors <"Mappe">`}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := r.Render(&b, &web.Page{Name: "form_test", Lang: "it", Data: f.Fields("it", nil, nil)}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`data-map-tiles="https://{s}.tile.example/{z}/{x}/{y}{r}.png"`,
		`data-map-attribution="© Contributors &lt;&#34;Mappe&#34;&gt;"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %s", want)
		}
	}
}
