// Package forms draws, decodes and validates the forms that services
// describe as JSON Schema (draft 2020-12), so that every service looks and
// behaves the same and stays accessible: a plugin returns a schema, the host
// draws it with Bootstrap Italia, checks what comes back and shows each
// error beside its field in the request's language.
//
// The flow of one form:
//
//	f, err := forms.Parse(schemaJSON, forms.WithCatalog(renderer.Catalog()))
//	...
//	fields := f.Fields(lang, nil, nil)                 // first display: the defaults
//	doc, errs := f.Submit(posted, lang)                // posted url.Values: Decode, then Validate
//	if len(errs) > 0 {
//		fields = f.Fields(lang, doc, errs)             // what was typed, with the errors
//	}
//
// and the page draws fields with {{template "form_fields" .Data.Fields}} (and,
// at the top of the form, {{template "form_error_summary" .Data.Fields}}).
// A Form is immutable and safe for concurrent use: parse a schema once.
//
// # Writing a form schema
//
// The root is an object schema ("type": "object") whose "properties" are the
// fields. Texts are written in Italian, the reference language, and
// translated in x- annotations; a language missing there falls back to
// Italian.
//
//	title, x-title          the label (required but for hidden fields):
//	                        "title": "Cognome", "x-title": {"de": "Nachname", "en": "Surname"}
//	description,            help text under the label, translated the same
//	x-description           way; for a field with a pattern it also explains
//	                        the error ("Il formato non è valido: 16 caratteri.")
//	x-order                 the order of the properties (the SDK writes it from
//	                        the manifest's order); properties it leaves out
//	                        follow in alphabetical order
//	x-widget                how to draw the field, see below
//	x-enum-titles           the labels of an enum's values, per language, in
//	                        the order of "enum":
//	                        {"it": ["Sì", "No"], "de": ["Ja", "Nein"], "en": ["Yes", "No"]};
//	                        without it the values themselves are shown
//	x-autocomplete          the HTML autocomplete token of a field asking for
//	                        the person's own data ("given-name", "email",
//	                        "tel", "street-address", …), which WCAG 1.3.5 asks for
//	default                 the value shown before anything was posted
//	required                (on the object) the properties that must be filled
//
// Property names are ASCII letters, digits, "_" and "-", starting with a
// letter: a field inside a fieldset is posted as "parent.child", and names
// starting with "_" are the host's ("_csrf").
//
// Field types and their widgets ("x-widget"; the first is the default):
//
//	string          "input" (type by format: email, uri → url, tel, date,
//	                time, date-time → datetime-local; text otherwise),
//	                "textarea", "hidden"; minLength, maxLength, pattern
//	                (Go regexp syntax, which the browser is also given)
//	string + enum   "select", "radio", "hidden"
//	string, file    "file": an upload; "x-accept" lists the MIME types it
//	                takes ("image/*" for a family), "x-max-bytes" its largest
//	                size. The host checks and stores the file (FileFields says
//	                what to check) and puts the upload's id in the field.
//	integer, number "input" (type number), "hidden"; with enum: "select",
//	                "radio"; minimum, maximum, exclusiveMinimum,
//	                exclusiveMaximum, multipleOf
//	boolean         "checkbox", "hidden"; a box that must be ticked (terms,
//	                consent) says "const": true
//	array           "checkboxes": "items" is {"type": "string", "enum": [...]}
//	                (with x-enum-titles on the items), usually with
//	                "uniqueItems": true; minItems, maxItems
//	object          "fieldset": a fieldset whose legend is the title, holding
//	                fields of the types above (one level of nesting only);
//	                "map": a place, see below
//
// A place is an object with "x-widget": "map" whose properties are "lat"
// (a number the schema bounds to -90..90: "minimum": -90, "maximum": 90, or
// within them), "lon" (likewise -180..180) and optionally "address" (a
// string, input or textarea), and nothing else; Parse refuses less, so that
// the schema itself refuses a point off the globe. It is drawn as a fieldset
// of the labelled lat, lon and address inputs, which post the answer and
// work without JavaScript or map tiles, and, when JavaScript runs, a map
// (Leaflet, served by the app; the tiles of the deployment's tile server,
// or a plain background) on which a click, a tap or a drag of the marker
// fills lat and lon in, and a "use my position" button that fills them from
// the device's position. Two keywords of the object say where the map
// starts, say on the town's centre:
//
//	x-center        [latitude, longitude]: [45.5, 9.4]
//	x-zoom          the zoom there, 1 (the world) to 19 (a building); 15
//	                when left out
//
// Without x-center the map starts at the inputs' point, or on Italy.
//
// Formats are checked as plugins/sdk checks them (the schema is compiled
// with sdk.CompileSchema, so a service and the host agree): date
// (YYYY-MM-DD), time (HH:MM or HH:MM:SS, the town's wall-clock time as
// browsers post it, or RFC 3339 with an offset), date-time
// (YYYY-MM-DDTHH:MM[:SS], likewise, or RFC 3339), email, uri (absolute) and
// tel (loosely: digits with spaces, dots, dashes, slashes or brackets, an
// optional leading +, 6 to 15 digits). Other formats are checked as the JSON
// Schema library knows them and drawn as text.
//
// Other keywords (allOf, if/then, dependentRequired, …) are validated, and
// their errors shown on the fields they concern, but they do not change how a
// form is drawn; "$ref" inside a property is not followed by the renderer and
// is refused, and so is any reference to another document.
//
// # What the host posts and decodes
//
// Strings are trimmed and line ends made "\n"; an empty optional field is
// left out of the document. Integers and numbers are parsed (a number may use
// a decimal comma); what does not parse stays in the document as the typed
// string, with an error, so that it is shown again. An unticked checkbox is
// false, never missing: "required" adds nothing to a boolean, "const": true
// does. A fieldset nobody filled in is left out unless it is required.
// Posted keys that are no field ("_csrf", …) are ignored.
//
// Errors are keyed by the field's posted name; errors about the whole form
// (properties the form does not know, a failing rule at the root, a hidden
// field's value, which nobody could correct) by "".
package forms
