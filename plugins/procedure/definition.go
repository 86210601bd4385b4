package procedure

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/sportello/sportello/plugins/sdk"
)

// Definition is a procedure as a municipality's analyst writes it in
// definition.yaml. See plugins/README.md, "Declarative procedures".
type Definition struct {
	// The manifest's own fields.
	ID       string           `yaml:"id"`
	Version  string           `yaml:"version"`
	Category string           `yaml:"category"`
	Texts    map[string]Texts `yaml:"texts"`

	// Office is the slug of the office that handles applications; a town
	// may name another one in its configuration.
	Office string `yaml:"office"`
	// ProcessingDays is the legal (or promised) time to conclude, in
	// calendar days from the application: the dossier's due date.
	ProcessingDays int `yaml:"processing_days"`

	Who          Who            `yaml:"who"`
	Form         Form           `yaml:"form"`
	RequiredWhen []RequiredWhen `yaml:"required_when"`
	Rules        []Rule         `yaml:"rules"`
	Eligibility  []Condition    `yaml:"eligibility"`
	Window       *Window        `yaml:"window"`
	Unique       *Unique        `yaml:"unique"`
	Fee          *Fee           `yaml:"fee"`

	Statuses    []Status     `yaml:"statuses"`
	Transitions []Transition `yaml:"transitions"`

	// Permissions are added to the generated operator grant.
	Permissions []Permission `yaml:"permissions"`
	// ConfigExample is a town's configuration, for tests and the
	// catalogue; by default the default office alone.
	ConfigExample map[string]any `yaml:"config_example"`
}

// Texts are the service page's sections in one language (Modello Comuni).
type Texts struct {
	Name              string `yaml:"name"`
	Summary           string `yaml:"summary"`
	Audience          string `yaml:"audience"`
	HowTo             string `yaml:"how_to"`
	WhatYouNeed       string `yaml:"what_you_need"`
	WhatYouGet        string `yaml:"what_you_get"`
	TimesAndDeadlines string `yaml:"times_and_deadlines"`
	Costs             string `yaml:"costs"`
	Conditions        string `yaml:"conditions"`
	Contacts          string `yaml:"contacts"`
}

// Text is one short text by language: it, de, en.
type Text map[string]string

// In is the text in lang, or the Italian one.
func (t Text) In(lang string) string {
	l, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if s := t[l]; s != "" {
		return s
	}
	return t["it"]
}

// Who may apply.
type Who struct {
	Citizens  bool `yaml:"citizens"`  // logged-in citizens (SPID, CIE)
	Anonymous bool `yaml:"anonymous"` // visitors who have not logged in
	Staff     bool `yaml:"staff"`     // staff on a person's behalf (counter, phone)
}

// Form is the application form.
type Form struct {
	Title  Text          `yaml:"title"`
	Action Text          `yaml:"action"` // the label of the action that sends it
	Schema yaml.MapSlice `yaml:"schema"` // JSON Schema written in YAML, as in a manifest
	// TitleField is a field whose answer completes the dossier's title
	// ("Iscrizione TARI – Via Roma 5"), for the back office's lists.
	TitleField string `yaml:"title_field"`
	// EmailField is an e-mail field of the form: the confirmation goes
	// there when the person has no address on file (a visitor, or staff
	// applying on someone's behalf).
	EmailField string `yaml:"email_field"`
}

// Match is a test on one answer: equal to a value, or one of several.
type Match struct {
	Field  string `yaml:"field"`
	Equals any    `yaml:"equals"`
	In     []any  `yaml:"in"`
}

// RequiredWhen makes a field required when another answer matches.
type RequiredWhen struct {
	Field string `yaml:"field"`
	When  Match  `yaml:"when"`
}

// Rule is a check of one answer that JSON Schema cannot express.
type Rule struct {
	Field string `yaml:"field"`
	// FiscalCode checks an Italian codice fiscale's check character.
	FiscalCode bool `yaml:"fiscal_code"`
	// MinDaysFromToday and MaxDaysFromToday bound a date: 30 is at least
	// (at most) thirty days from today, -365 a year ago.
	MinDaysFromToday *int `yaml:"min_days_from_today"`
	MaxDaysFromToday *int `yaml:"max_days_from_today"`
	// NotBefore is another date field this one may not precede.
	NotBefore string `yaml:"not_before"`
}

// Condition is a requirement to apply, checked against the answers: a
// value (a resident, a box ticked), a number within bounds, or an age from
// a date of birth. When
// set, the condition applies only to the answers it matches.
type Condition struct {
	Field  string `yaml:"field"`
	Equals any    `yaml:"equals"`
	In     []any  `yaml:"in"`
	// Min and Max bound a number answer, both included.
	Min     *float64 `yaml:"min"`
	Max     *float64 `yaml:"max"`
	Age     *Age     `yaml:"age"`
	When    *Match   `yaml:"when"`
	Message Text     `yaml:"message"`
}

// Age bounds the age, in whole years, reached on a day: today, or the
// 31st of December of this year (school and nursery years count so).
type Age struct {
	Min *int   `yaml:"min"`
	Max *int   `yaml:"max"`
	On  string `yaml:"on"` // "today" (default) or "year_end"
}

// Window is an application period the town sets in its configuration
// (opens, closes). Required: without the dates, nobody can apply.
type Window struct {
	Required bool `yaml:"required"`
}

// Unique allows one application per value of a field (a child's fiscal
// code) per period: the town's window, the calendar year, or ever.
type Unique struct {
	Field string `yaml:"field"`
	Per   string `yaml:"per"` // "window", "year" or "ever"
}

// Fee is what the applicant pays, through pagoPA: a fixed amount or one by
// the answer to a choice, times the answers to Times (a number, or the
// count of choices ticked). The town may change the amounts.
type Fee struct {
	On     string   `yaml:"on"` // "submit" or the id of a transition
	Amount *float64 `yaml:"amount"`
	By     *FeeBy   `yaml:"by"`
	Times  []string `yaml:"times"`
	// DaysBetween multiplies by the days from one date answer to another,
	// both included: an occupation from the 25th to the 26th is two days.
	DaysBetween []string `yaml:"days_between"`
	Currency    string   `yaml:"currency"`
	Reason      Text     `yaml:"reason"` // pagoPA's causale; the dossier number follows
}

// FeeBy prices each answer of a choice.
type FeeBy struct {
	Field   string             `yaml:"field"`
	Amounts map[string]float64 `yaml:"amounts"`
}

// Status is a workflow state of the dossiers; the first is where they start.
type Status struct {
	ID    string `yaml:"id"`
	Label Text   `yaml:"label"`
	Final bool   `yaml:"final"`
}

// Transition is a staff action that moves a dossier from one of From to To.
type Transition struct {
	ID    string   `yaml:"id"`
	Label Text     `yaml:"label"`
	From  []string `yaml:"from"`
	To    string   `yaml:"to"`
	// Note is "none" (default), "optional" or "required": a text the
	// member of staff writes, sent to the applicant as a public reply.
	Note string `yaml:"note"`
	// Message is the standard reply to the applicant, before the note.
	Message Text `yaml:"message"`
	// RequiresPayment refuses the transition until the fee asked on
	// submission or by an earlier step is paid.
	RequiresPayment bool `yaml:"requires_payment"`
}

// Permission is a casbin grant, as in a manifest.
type Permission struct {
	Role   string `yaml:"role"`
	Object string `yaml:"object"`
	Action string `yaml:"action"`
}

const (
	noteNone     = "none"
	noteOptional = "optional"
	noteRequired = "required"

	onSubmit = "submit"

	// maxProcessingDays is a year and a half: no municipal procedure takes
	// longer by law, and a typo (3000) is caught.
	maxProcessingDays = 540
	// maxFileBytes is the largest file a form may ask for.
	maxFileBytes = 50 << 20
	// maxAmount is pagoPA's ceiling, in euro.
	maxAmount = 99_999_999.99
)

var (
	idRe         = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,39}$`)
	actionIDRe   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,29}$`)
	statusIDRe   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	officeRe     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	pointerRe    = regexp.MustCompile(`^(/[A-Za-z][A-Za-z0-9_-]*){1,2}$`)
	mimeRe       = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]*/([a-z0-9][a-z0-9.+-]*|\*)$`)
	reservedIDs  = []string{onSubmit, sdk.ActionPayment}
	fieldsInForm = "is no field of the form"
)

// DefinitionError lists everything wrong with a definition, each problem
// with its YAML path ($.transitions[2].to).
type DefinitionError struct {
	Problems []string
}

func (e *DefinitionError) Error() string {
	return "procedure definition: " + strings.Join(e.Problems, "; ")
}

// parse reads and checks a definition.
func parse(data []byte) (*Definition, *formInfo, error) {
	var d Definition
	if err := yaml.UnmarshalWithOptions(data, &d, yaml.UseOrderedMap(), yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
		return nil, nil, fmt.Errorf("procedure definition: %s", yaml.FormatError(err, false, true))
	}
	c := &checker{d: &d}
	info := c.check()
	if len(c.problems) > 0 {
		return nil, nil, &DefinitionError{Problems: c.problems}
	}
	return &d, info, nil
}

type checker struct {
	d        *Definition
	problems []string
	form     *formInfo
}

func (c *checker) bad(path, format string, args ...any) {
	c.problems = append(c.problems, path+": "+fmt.Sprintf(format, args...))
}

// text checks a short text in every language.
func (c *checker) text(path string, t Text, required bool) {
	if len(t) == 0 {
		if required {
			c.bad(path, "required, in it, de and en")
		}
		return
	}
	for _, k := range sortedKeys(t) {
		if !slices.Contains(sdk.Languages, k) {
			c.bad(path+"."+k, "not a language (want %s; quote texts with commas)", strings.Join(sdk.Languages, ", "))
		}
	}
	for _, lang := range sdk.Languages {
		if strings.TrimSpace(t[lang]) == "" {
			c.bad(path+"."+lang, "missing")
		}
	}
}

func (c *checker) check() *formInfo {
	d := c.d
	if !idRe.MatchString(d.ID) {
		c.bad("$.id", "%q: lower-case letters, digits, - and _, 2 to 40 characters, starting with a letter", d.ID)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(d.Version) {
		c.bad("$.version", "%q: want a version like 1.0.0", d.Version)
	}
	if !slices.Contains(sdk.Categories, d.Category) {
		c.bad("$.category", "%q: want one of %s", d.Category, strings.Join(sdk.Categories, ", "))
	}
	for _, k := range sortedKeys(d.Texts) {
		if !slices.Contains(sdk.Languages, k) {
			c.bad("$.texts."+k, "not a language (want %s)", strings.Join(sdk.Languages, ", "))
		}
	}
	for _, lang := range sdk.Languages {
		t, ok := d.Texts[lang]
		if !ok {
			c.bad("$.texts."+lang, "missing: the service page is written in it, de and en")
			continue
		}
		for _, s := range []struct{ name, text string }{
			{"name", t.Name}, {"summary", t.Summary}, {"audience", t.Audience}, {"how_to", t.HowTo},
			{"what_you_need", t.WhatYouNeed}, {"what_you_get", t.WhatYouGet},
			{"times_and_deadlines", t.TimesAndDeadlines}, {"costs", t.Costs}, {"conditions", t.Conditions},
			{"contacts", t.Contacts},
		} {
			if strings.TrimSpace(s.text) == "" {
				c.bad("$.texts."+lang+"."+s.name, "missing")
			}
		}
	}
	if !officeRe.MatchString(d.Office) {
		c.bad("$.office", "%q: the slug of the office that handles applications (lower-case letters, digits and -)", d.Office)
	}
	if d.ProcessingDays < 1 || d.ProcessingDays > maxProcessingDays {
		c.bad("$.processing_days", "%d: the days to conclude, 1 to %d", d.ProcessingDays, maxProcessingDays)
	}
	if !d.Who.Citizens && !d.Who.Anonymous && !d.Who.Staff {
		c.bad("$.who", "nobody may apply: set citizens, anonymous or staff")
	}
	if d.Who.Anonymous && !d.Who.Citizens {
		c.bad("$.who.anonymous", "visitors may apply but logged-in citizens may not: set citizens too")
	}

	c.text("$.form.title", d.Form.Title, true)
	c.text("$.form.action", d.Form.Action, true)
	c.form = c.checkSchema()
	if d.Form.TitleField != "" {
		c.field("$.form.title_field", d.Form.TitleField, "string", "integer", "number")
	}
	if d.Form.EmailField != "" {
		if f := c.field("$.form.email_field", d.Form.EmailField, "string"); f != nil && f.format != "email" {
			c.bad("$.form.email_field", "%s: want a field with format email", d.Form.EmailField)
		}
	}
	for i, r := range d.RequiredWhen {
		p := fmt.Sprintf("$.required_when[%d]", i)
		if f := c.field(p+".field", r.Field); f != nil && f.required {
			c.bad(p+".field", "%s is always required already", r.Field)
		}
		c.match(p+".when", &r.When)
	}
	c.checkRules()
	c.checkEligibility()
	if u := d.Unique; u != nil {
		c.field("$.unique.field", u.Field, "string")
		switch u.Per {
		case "window":
			if d.Window == nil {
				c.bad("$.unique.per", "window: the procedure has no application window")
			}
		case "year", "ever":
		default:
			c.bad("$.unique.per", "%q: want window, year or ever", u.Per)
		}
	}
	c.checkWorkflow()
	c.checkFee()
	for i, p := range d.Permissions {
		if p.Role == "" || p.Object == "" || (p.Action != "read" && p.Action != "write") {
			c.bad(fmt.Sprintf("$.permissions[%d]", i), "role, object and action (read or write) are required")
		}
	}
	return c.form
}

// formInfo is what the checks need to know of the form's fields.
type formInfo struct {
	fields map[string]*fieldInfo // by JSON pointer
	files  []*fieldInfo          // file fields, in the form's order
	order  []string              // pointers in the form's order
}

type fieldInfo struct {
	pointer  string
	title    Text
	typ      string
	format   string
	enum     []any
	titles   map[string][]string // x-enum-titles of enum, by language
	items    []any               // an array's choices
	required bool                // by the form itself (its parent is required too, for a nested field)
	widget   string
	accept   []string
	maxBytes int64
}

// checkSchema reads the form's fields; the schema as JSON Schema is
// checked later by sdk.ParseManifest, with the rest of the manifest.
func (c *checker) checkSchema() *formInfo {
	info := &formInfo{fields: map[string]*fieldInfo{}}
	s := c.d.Form.Schema
	if len(s) == 0 {
		c.bad("$.form.schema", "required: the form as JSON Schema, written in YAML")
		return info
	}
	root := mapOf(s)
	if root["type"] != "object" {
		c.bad("$.form.schema.type", `want "object"`)
	}
	if _, ok := root["examples"].([]any); !ok {
		c.bad("$.form.schema.examples", "give at least one example of filled-in values")
	}
	c.readProps("$.form.schema", "", root, true, info)
	if len(info.fields) == 0 {
		c.bad("$.form.schema.properties", "the form has no fields")
	}
	return info
}

func (c *checker) readProps(path, parent string, obj map[string]any, parentRequired bool, info *formInfo) {
	props, _ := obj["properties"].(yaml.MapSlice)
	required := map[string]bool{}
	if list, ok := obj["required"].([]any); ok {
		for _, r := range list {
			required[fmt.Sprint(r)] = true
		}
	}
	for _, item := range props {
		name := fmt.Sprint(item.Key)
		p := path + ".properties." + name
		ptr := parent + "/" + name
		sch, ok := item.Value.(yaml.MapSlice)
		if !ok {
			c.bad(p, "not a schema")
			continue
		}
		m := mapOf(sch)
		f := &fieldInfo{pointer: ptr, required: parentRequired && required[name]}
		f.typ, _ = m["type"].(string)
		f.title = Text{}
		f.title["it"], _ = m["title"].(string)
		if xt, ok := m["x-title"].(yaml.MapSlice); ok {
			for _, t := range xt {
				f.title[fmt.Sprint(t.Key)] = fmt.Sprint(t.Value)
			}
		}
		f.format, _ = m["format"].(string)
		f.widget, _ = m["x-widget"].(string)
		f.enum, _ = m["enum"].([]any)
		if f.enum != nil {
			f.titles = enumTitlesOf(m)
		}
		if items, ok := m["items"].(yaml.MapSlice); ok {
			f.items, _ = mapOf(items)["enum"].([]any)
		}
		c.labels(p, m, f)
		if !pointerRe.MatchString(ptr) {
			c.bad(p, "a field name is letters, digits, _ and -, starting with a letter")
		}
		info.fields[ptr] = f
		info.order = append(info.order, ptr)
		if f.widget == "file" {
			c.fileField(p, f, m)
			info.files = append(info.files, f)
		}
		if f.typ == "object" && parent == "" {
			c.readProps(p, ptr, m, f.required, info)
		}
	}
}

// labels checks what a person reads of a field in every language: its
// label, and one title per choice. A YAML flow list cut at a comma
// ([Up to €10,000, Over]) shows here as a count that does not match.
func (c *checker) labels(path string, m map[string]any, f *fieldInfo) {
	if f.widget != "hidden" {
		for _, lang := range sdk.Languages {
			if strings.TrimSpace(f.title[lang]) == "" {
				if lang == "it" {
					c.bad(path+".title", "missing: the field's label in Italian")
				} else {
					c.bad(path+".x-title."+lang, "missing")
				}
			}
		}
	}
	choices, where := m, path
	if items, ok := m["items"].(yaml.MapSlice); ok {
		choices, where = mapOf(items), path+".items"
	}
	enum, ok := choices["enum"].([]any)
	if !ok {
		return
	}
	titles, _ := choices["x-enum-titles"].(yaml.MapSlice)
	byLang := mapOf(titles)
	for _, lang := range sdk.Languages {
		list, _ := byLang[lang].([]any)
		if len(list) != len(enum) {
			c.bad(where+".x-enum-titles."+lang, "%d titles for %d choices (quote titles with commas)", len(list), len(enum))
		}
	}
}

// fileField checks an upload's keywords: the host checks files against
// them, and so does the procedure.
func (c *checker) fileField(path string, f *fieldInfo, m map[string]any) {
	if f.typ != "string" || f.enum != nil {
		c.bad(path, `"x-widget": "file" is a string without enum (the stored file's id)`)
	}
	accept, ok := m["x-accept"].([]any)
	if !ok || len(accept) == 0 {
		c.bad(path+".x-accept", "list the file types the office accepts, such as [application/pdf, image/jpeg]")
	}
	for i, a := range accept {
		s, _ := a.(string)
		if !mimeRe.MatchString(s) {
			c.bad(fmt.Sprintf("%s.x-accept[%d]", path, i), "%v is no MIME type", a)
		}
		f.accept = append(f.accept, s)
	}
	n, ok := toInt(m["x-max-bytes"])
	if !ok || n <= 0 || n > maxFileBytes {
		c.bad(path+".x-max-bytes", "the largest file in bytes, 1 to %d", maxFileBytes)
	}
	f.maxBytes = n
}

// field finds the field at pointer and checks its type; nil if wrong.
func (c *checker) field(path, pointer string, types ...string) *fieldInfo {
	if c.form == nil {
		return nil
	}
	f := c.form.fields[pointer]
	if f == nil {
		c.bad(path, "%q %s", pointer, fieldsInForm)
		return nil
	}
	if len(types) > 0 && !slices.Contains(types, f.typ) {
		c.bad(path, "%s is of type %s; want %s", pointer, f.typ, strings.Join(types, " or "))
		return nil
	}
	return f
}

func (c *checker) dateField(path, pointer string) *fieldInfo {
	f := c.field(path, pointer, "string")
	if f != nil && f.format != "date" {
		c.bad(path, "%s is no date (format: date)", pointer)
		return nil
	}
	return f
}

// match checks that a test names a field and a value it can take.
func (c *checker) match(path string, m *Match) {
	f := c.field(path+".field", m.Field)
	if f == nil {
		return
	}
	values := m.In
	switch {
	case m.Equals != nil && m.In != nil:
		c.bad(path, "give equals or in, not both")
	case m.Equals != nil:
		values = []any{m.Equals}
	case len(m.In) == 0:
		c.bad(path, "give equals (a value) or in (a list of values)")
	}
	for _, v := range values {
		c.value(path, f, v)
	}
}

// value checks that v is something field f can hold.
func (c *checker) value(path string, f *fieldInfo, v any) {
	options := f.enum
	if f.typ == "array" {
		options = f.items
	}
	if options != nil {
		if !slices.ContainsFunc(options, func(o any) bool { return sameValue(o, v) }) {
			c.bad(path, "%v is not among the choices of %s", v, f.pointer)
		}
		return
	}
	ok := false
	switch v.(type) {
	case bool:
		ok = f.typ == "boolean"
	case string:
		ok = f.typ == "string"
	case int, int64, uint64, float64:
		ok = f.typ == "integer" || f.typ == "number"
	}
	if !ok {
		c.bad(path, "%v cannot be an answer to %s (type %s)", v, f.pointer, f.typ)
	}
}

func (c *checker) checkRules() {
	for i, r := range c.d.Rules {
		p := fmt.Sprintf("$.rules[%d]", i)
		n := 0
		if r.FiscalCode {
			n++
			c.field(p+".field", r.Field, "string")
		}
		if r.MinDaysFromToday != nil || r.MaxDaysFromToday != nil {
			n++
			c.dateField(p+".field", r.Field)
			if r.MinDaysFromToday != nil && r.MaxDaysFromToday != nil && *r.MinDaysFromToday > *r.MaxDaysFromToday {
				c.bad(p, "min_days_from_today is after max_days_from_today: no date would do")
			}
		}
		if r.NotBefore != "" {
			n++
			c.dateField(p+".field", r.Field)
			c.dateField(p+".not_before", r.NotBefore)
			if r.NotBefore == r.Field {
				c.bad(p+".not_before", "a date compared with itself")
			}
		}
		if n == 0 {
			c.bad(p, "say what to check: fiscal_code, min_days_from_today, max_days_from_today or not_before")
		}
		if r.Field == "" {
			c.bad(p+".field", "required")
		}
	}
}

func (c *checker) checkEligibility() {
	for i, e := range c.d.Eligibility {
		p := fmt.Sprintf("$.eligibility[%d]", i)
		c.text(p+".message", e.Message, true)
		if e.When != nil {
			c.match(p+".when", e.When)
		}
		if e.Age != nil {
			if e.Equals != nil || e.In != nil || e.Min != nil || e.Max != nil {
				c.bad(p, "an age condition takes no equals, in, min or max")
			}
			c.dateField(p+".field", e.Field)
			a := e.Age
			if a.Min == nil && a.Max == nil {
				c.bad(p+".age", "give min, max or both (whole years)")
			}
			if (a.Min != nil && (*a.Min < 0 || *a.Min > 120)) || (a.Max != nil && (*a.Max < 0 || *a.Max > 120)) {
				c.bad(p+".age", "years are 0 to 120")
			}
			if a.Min != nil && a.Max != nil && *a.Min > *a.Max {
				c.bad(p+".age", "min %d is above max %d", *a.Min, *a.Max)
			}
			if a.On != "" && a.On != "today" && a.On != "year_end" {
				c.bad(p+".age.on", "%q: want today or year_end", a.On)
			}
			continue
		}
		if e.Min != nil || e.Max != nil {
			if e.Equals != nil || e.In != nil {
				c.bad(p, "a bound takes no equals or in")
			}
			c.field(p+".field", e.Field, "integer", "number")
			if e.Min != nil && e.Max != nil && *e.Min > *e.Max {
				c.bad(p, "min %v is above max %v", *e.Min, *e.Max)
			}
			continue
		}
		c.match(p, &Match{Field: e.Field, Equals: e.Equals, In: e.In})
	}
}

func (c *checker) checkWorkflow() {
	d := c.d
	if len(d.Statuses) < 2 {
		c.bad("$.statuses", "list the states of a dossier, the first where it starts and at least one final")
	}
	statuses := map[string]*Status{}
	anyFinal := false
	for i := range d.Statuses {
		s := &d.Statuses[i]
		p := fmt.Sprintf("$.statuses[%d]", i)
		switch {
		case !statusIDRe.MatchString(s.ID):
			c.bad(p+".id", "%q: lower-case letters, digits and _, at most 32, starting with a letter", s.ID)
		case statuses[s.ID] != nil:
			c.bad(p+".id", "%q is listed twice", s.ID)
		}
		statuses[s.ID] = s
		c.text(p+".label", s.Label, true)
		anyFinal = anyFinal || s.Final
	}
	if len(d.Statuses) > 0 && d.Statuses[0].Final {
		c.bad("$.statuses[0].final", "the first state is where a dossier starts: it cannot be final")
	}
	if len(d.Statuses) > 0 && !anyFinal {
		c.bad("$.statuses", "no final state: a dossier could never be closed")
	}
	leaves := map[string]bool{}
	ids := map[string]bool{}
	for i := range d.Transitions {
		t := &d.Transitions[i]
		p := fmt.Sprintf("$.transitions[%d]", i)
		switch {
		case !actionIDRe.MatchString(t.ID):
			c.bad(p+".id", "%q: lower-case letters, digits and _, at most 30, starting with a letter", t.ID)
		case slices.Contains(reservedIDs, t.ID):
			c.bad(p+".id", "%q is an action the procedure keeps for itself (the application, the payment's outcome)", t.ID)
		case ids[t.ID]:
			c.bad(p+".id", "%q is listed twice", t.ID)
		}
		ids[t.ID] = true
		c.text(p+".label", t.Label, true)
		c.text(p+".message", t.Message, false)
		if len(t.From) == 0 {
			c.bad(p+".from", "list the states it starts from")
		}
		for j, f := range t.From {
			switch s := statuses[f]; {
			case s == nil:
				c.bad(fmt.Sprintf("%s.from[%d]", p, j), "%q is not among $.statuses", f)
			case s.Final:
				c.bad(fmt.Sprintf("%s.from[%d]", p, j), "%q is final: a closed dossier does not move", f)
			}
			leaves[f] = true
			if f == t.To {
				c.bad(p+".to", "%q is also in from: the transition would change nothing", t.To)
			}
		}
		if statuses[t.To] == nil {
			c.bad(p+".to", "%q is not among $.statuses", t.To)
		}
		switch t.Note {
		case "", noteNone, noteOptional, noteRequired:
		default:
			c.bad(p+".note", "%q: want none, optional or required", t.Note)
		}
		switch {
		case !t.RequiresPayment:
		case d.Fee == nil:
			c.bad(p+".requires_payment", "the procedure has no fee")
		case d.Fee.On == t.ID:
			c.bad(p+".requires_payment", "%s is the step that asks for the fee: it cannot wait for it", t.ID)
		}
	}
	// A state nobody can leave is a dead end for the office.
	for i, s := range d.Statuses {
		if !s.Final && s.ID != "" && !leaves[s.ID] {
			c.bad(fmt.Sprintf("$.statuses[%d]", i), "%q is not final and no transition leaves it", s.ID)
		}
	}
	// And one nobody can reach is a label that misleads.
	reached := map[string]bool{}
	if len(d.Statuses) > 0 {
		reached[d.Statuses[0].ID] = true
	}
	for changed := true; changed; {
		changed = false
		for _, t := range d.Transitions {
			if reached[t.To] {
				continue
			}
			if slices.ContainsFunc(t.From, func(f string) bool { return reached[f] }) {
				reached[t.To], changed = true, true
			}
		}
	}
	for i, s := range d.Statuses {
		if s.ID != "" && !reached[s.ID] {
			c.bad(fmt.Sprintf("$.statuses[%d]", i), "%q cannot be reached from %q", s.ID, d.Statuses[0].ID)
		}
	}
}

func (c *checker) checkFee() {
	f := c.d.Fee
	if f == nil {
		return
	}
	switch {
	case f.On == onSubmit:
		if c.d.Who.Anonymous {
			c.bad("$.fee.on", "a fee at submission needs a logged-in applicant: set who.anonymous to false")
		}
	case slices.ContainsFunc(c.d.Transitions, func(t Transition) bool { return t.ID == f.On }):
	default:
		c.bad("$.fee.on", "%q: want submit or the id of a transition", f.On)
	}
	amount := func(path string, v float64) {
		if v < 0 || v > maxAmount || math.Abs(v*100-math.Round(v*100)) > 1e-6 {
			c.bad(path, "%v: an amount in euro with at most two decimals, 0 to %.2f", v, maxAmount)
		}
	}
	switch {
	case (f.Amount == nil) == (f.By == nil):
		c.bad("$.fee", "give amount (a fixed fee) or by (a fee per answer), not both")
	case f.Amount != nil:
		amount("$.fee.amount", *f.Amount)
	default:
		fi := c.field("$.fee.by.field", f.By.Field, "string")
		if fi != nil && fi.enum == nil {
			c.bad("$.fee.by.field", "%s is no choice (enum)", f.By.Field)
		}
		if fi != nil {
			for _, o := range fi.enum {
				if _, ok := f.By.Amounts[fmt.Sprint(o)]; !ok {
					c.bad("$.fee.by.amounts", "no amount for %v", o)
				}
			}
			for _, k := range sortedKeys(f.By.Amounts) {
				if !slices.ContainsFunc(fi.enum, func(o any) bool { return fmt.Sprint(o) == k }) {
					c.bad("$.fee.by.amounts."+k, "not a choice of %s", f.By.Field)
				}
				amount("$.fee.by.amounts."+k, f.By.Amounts[k])
			}
		}
	}
	for i, t := range f.Times {
		fi := c.field(fmt.Sprintf("$.fee.times[%d]", i), t, "integer", "number", "array")
		if fi != nil && !fi.required && f.On == onSubmit {
			c.bad(fmt.Sprintf("$.fee.times[%d]", i), "%s multiplies the fee: make it required", t)
		}
	}
	if len(f.DaysBetween) > 0 {
		if len(f.DaysBetween) != 2 {
			c.bad("$.fee.days_between", "want two date fields, the first day and the last")
		} else {
			for i, ptr := range f.DaysBetween {
				p := fmt.Sprintf("$.fee.days_between[%d]", i)
				if fi := c.dateField(p, ptr); fi != nil && !fi.required && f.On == onSubmit {
					c.bad(p, "%s multiplies the fee: make it required", ptr)
				}
			}
		}
	}
	if f.Currency != "" && f.Currency != "EUR" && f.Currency != "CHF" {
		c.bad("$.fee.currency", "%q: EUR or CHF", f.Currency)
	}
	c.text("$.fee.reason", f.Reason, true)
	for _, lang := range sdk.Languages {
		if n := len([]rune(f.Reason[lang])); n > 100 {
			c.bad("$.fee.reason."+lang, "%d characters: at most 100, the dossier number follows", n)
		}
	}
}

// enumTitlesOf reads a choice's x-enum-titles.
func enumTitlesOf(m map[string]any) map[string][]string {
	out := map[string][]string{}
	titles, _ := m["x-enum-titles"].(yaml.MapSlice)
	for _, item := range titles {
		list, _ := item.Value.([]any)
		for _, v := range list {
			out[fmt.Sprint(item.Key)] = append(out[fmt.Sprint(item.Key)], fmt.Sprint(v))
		}
	}
	return out
}

// label is how a person reads the answer v: a choice's title in lang, or
// the answer itself.
func (f *fieldInfo) label(lang string, v any) string {
	for i, o := range f.enum {
		if sameValue(o, v) {
			if t := f.titles[langOf(lang)]; i < len(t) {
				return t[i]
			}
		}
	}
	return fmt.Sprint(v)
}

// mapOf indexes a mapping's top-level keys.
func mapOf(s yaml.MapSlice) map[string]any {
	m := make(map[string]any, len(s))
	for _, item := range s {
		m[fmt.Sprint(item.Key)] = item.Value
	}
	return m
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		if n > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	case float64:
		if n == math.Trunc(n) {
			return int64(n), true
		}
	}
	return 0, false
}

// sameValue compares a value from YAML with one from JSON: numbers by
// value, whatever their Go type.
func sameValue(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	if errA != nil || errB != nil {
		return false
	}
	var x, y any
	if json.Unmarshal(ja, &x) != nil || json.Unmarshal(jb, &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y) && fmt.Sprintf("%T", x) == fmt.Sprintf("%T", y)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var errNoDefinition = errors.New("procedure: empty definition")
