package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

// ScopeDossier is the scope of an action taken on one dossier of the
// service: staff in the back office, a citizen in "my requests".
const ScopeDossier = "dossier"

// Languages a manifest's texts may be written in; Italian is required.
var Languages = []string{"it", "de", "en"}

// Categories of the catalogue, as the portal's Servizi page groups
// services: the service categories of the Designers Italia "Modello
// Comuni", whose names the portal shows (and automated checks look for),
// and "altro" for a service that fits none of them.
var Categories = []string{
	"anagrafe-e-stato-civile", "cultura-e-tempo-libero", "vita-lavorativa", "imprese-e-commercio",
	"appalti-pubblici", "catasto-e-urbanistica", "turismo", "mobilita-e-trasporti",
	"educazione-e-formazione", "giustizia-e-sicurezza-pubblica", "tributi-finanze-e-contravvenzioni",
	"ambiente", "salute-benessere-e-assistenza", "autorizzazioni", "agricoltura-e-pesca", "altro",
}

var (
	idRe      = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,39}$`)
	versionRe = regexp.MustCompile(`^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$`)
	actionRe  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	// As dossiers.status in the database.
	statusRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
)

// manifestFile is the YAML a plugin author writes.
type manifestFile struct {
	ID           string               `yaml:"id"`
	Version      string               `yaml:"version"`
	Category     string               `yaml:"category"`
	Texts        map[string]textsFile `yaml:"texts"`
	Forms        []formFile           `yaml:"forms"`
	Actions      []actionFile         `yaml:"actions"`
	ConfigSchema yaml.MapSlice        `yaml:"config_schema"`
	Permissions  []permissionFile     `yaml:"permissions"`
	Statuses     []statusFile         `yaml:"statuses"`
}

type statusFile struct {
	ID    string            `yaml:"id"`
	Label map[string]string `yaml:"label"`
	Final bool              `yaml:"final"`
}

type textsFile struct {
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

type formFile struct {
	ID     string            `yaml:"id"`
	Title  map[string]string `yaml:"title"`
	Schema yaml.MapSlice     `yaml:"schema"`
}

type actionFile struct {
	ID       string            `yaml:"id"`
	Label    map[string]string `yaml:"label"`
	Form     string            `yaml:"form"`
	Audience string            `yaml:"audience"`
	Scope    string            `yaml:"scope"`
}

type permissionFile struct {
	Role   string `yaml:"role"`
	Object string `yaml:"object"`
	Action string `yaml:"action"`
}

// ParseManifest reads a manifest written in YAML, checks it (every form
// and the config schema must compile as JSON Schema) and returns it as the
// contract's message. Property order in the schemas is kept as written,
// in "x-order", so that forms show fields in the author's order.
func ParseManifest(data []byte) (*pb.Manifest, error) {
	var f manifestFile
	if err := yaml.UnmarshalWithOptions(data, &f, yaml.UseOrderedMap(), yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("manifest: %s", yaml.FormatError(err, false, true))
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if !idRe.MatchString(f.ID) {
		bad("id %q: lower-case letters, digits, - and _, 2 to 40 characters", f.ID)
	}
	if !versionRe.MatchString(f.Version) {
		bad("version %q: want semantic versioning like 1.2.0", f.Version)
	}
	if !contains(Categories, f.Category) {
		bad("category %q: want one of %s", f.Category, strings.Join(Categories, ", "))
	}
	m := &pb.Manifest{Id: f.ID, Version: f.Version, Category: f.Category, Texts: map[string]*pb.ServiceTexts{}, Protocol: ProtocolVersion}
	if t, ok := f.Texts["it"]; !ok || t.Name == "" || t.Summary == "" {
		bad("texts.it: name and summary are required in Italian")
	}
	// Sorted, so that a manifest's errors read the same on every run.
	langs := make([]string, 0, len(f.Texts))
	for lang := range f.Texts {
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		t := f.Texts[lang]
		if !contains(Languages, lang) {
			bad("texts.%s: language not offered (want %s)", lang, strings.Join(Languages, ", "))
			continue
		}
		m.Texts[lang] = &pb.ServiceTexts{Name: t.Name, Summary: t.Summary, Audience: t.Audience, HowTo: t.HowTo,
			WhatYouNeed: t.WhatYouNeed, WhatYouGet: t.WhatYouGet, TimesAndDeadlines: t.TimesAndDeadlines,
			Costs: t.Costs, Conditions: t.Conditions, Contacts: t.Contacts}
	}
	forms := map[string]bool{}
	for i, fm := range f.Forms {
		if !actionRe.MatchString(fm.ID) || forms[fm.ID] {
			bad("forms[%d].id %q: missing, malformed or repeated", i, fm.ID)
		}
		forms[fm.ID] = true
		if fm.Title["it"] == "" {
			bad("forms[%d].title.it: required", i)
		}
		schema, err := schemaJSON(fm.Schema)
		if err != nil {
			bad("forms[%d].schema: %v", i, err)
		}
		m.Forms = append(m.Forms, &pb.Form{Id: fm.ID, Title: fm.Title, SchemaJson: schema})
	}
	actions := map[string]bool{}
	for i, a := range f.Actions {
		if !actionRe.MatchString(a.ID) || actions[a.ID] {
			bad("actions[%d].id %q: missing, malformed or repeated", i, a.ID)
		}
		actions[a.ID] = true
		if a.Label["it"] == "" {
			bad("actions[%d].label.it: required", i)
		}
		if a.Form != "" && !forms[a.Form] {
			bad("actions[%d].form %q: no such form", i, a.Form)
		}
		if !contains([]string{AudienceCitizen, AudienceStaff, AudienceAnonymous, AudienceSystem}, a.Audience) {
			bad("actions[%d].audience %q: want citizen, staff, anonymous or system", i, a.Audience)
		}
		if a.Scope != "" && a.Scope != ScopeDossier {
			bad("actions[%d].scope %q: want empty (the service page) or %q", i, a.Scope, ScopeDossier)
		}
		if a.Scope == ScopeDossier && a.Audience == AudienceAnonymous {
			bad("actions[%d]: an action on a dossier needs a citizen or staff audience", i)
		}
		if a.Audience == AudienceSystem {
			// The host calls these on an event, with values of its own:
			// only the events it knows, each as it sends it.
			switch {
			case a.ID != ActionPayment:
				bad("actions[%d]: audience system is for the host's events (%s), not %q", i, ActionPayment, a.ID)
			case a.Scope != ScopeDossier:
				bad("actions[%d]: the %s event is about a dossier: want scope %q", i, a.ID, ScopeDossier)
			}
			if a.Form != "" {
				bad("actions[%d].form: an event has no form; the host sends its own values", i)
			}
		}
		m.Actions = append(m.Actions, &pb.Action{Id: a.ID, Label: a.Label, FormId: a.Form, Audience: a.Audience, Scope: a.Scope})
	}
	statuses := map[string]bool{}
	for i, st := range f.Statuses {
		if !statusRe.MatchString(st.ID) || statuses[st.ID] {
			bad("statuses[%d].id %q: missing, malformed or repeated", i, st.ID)
		}
		statuses[st.ID] = true
		if st.Label["it"] == "" {
			bad("statuses[%d].label.it: required", i)
		}
		m.Statuses = append(m.Statuses, &pb.Status{Id: st.ID, Label: st.Label, Final: st.Final})
	}
	if len(f.ConfigSchema) > 0 {
		schema, err := schemaJSON(f.ConfigSchema)
		if err != nil {
			bad("config_schema: %v", err)
		}
		m.ConfigSchemaJson = schema
	}
	for i, p := range f.Permissions {
		if p.Role == "" || p.Object == "" || (p.Action != "read" && p.Action != "write") {
			bad("permissions[%d]: role, object and action (read or write) are required", i)
		}
		m.Permissions = append(m.Permissions, &pb.Permission{Role: p.Role, Object: p.Object, Action: p.Action})
	}
	if len(errs) > 0 {
		return nil, errors.New("manifest: " + strings.Join(errs, "; "))
	}
	return m, nil
}

// schemaJSON turns a schema written in YAML into JSON, adding "x-order"
// to every object schema, and checks that it compiles.
func schemaJSON(s yaml.MapSlice) ([]byte, error) {
	if len(s) == 0 {
		return nil, errors.New("empty schema")
	}
	// The host renders forms and configuration pages from an object's
	// properties: any other top-level schema would be a page with nothing on it.
	var typ any
	var props bool
	for _, item := range s {
		switch fmt.Sprint(item.Key) {
		case "type":
			typ = item.Value
		case "properties":
			_, props = item.Value.(yaml.MapSlice)
		}
	}
	if typ != "object" || !props {
		return nil, errors.New(`want "type: object" with "properties"`)
	}
	var buf bytes.Buffer
	if err := writeOrdered(&buf, s); err != nil {
		return nil, err
	}
	if _, err := CompileSchema(buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CompileSchema compiles a JSON Schema document (draft 2020-12 unless it
// says otherwise). Host and SDK use it alike.
func CompileSchema(schema []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for _, f := range formats {
		c.RegisterFormat(f)
	}
	// A schema is self-contained: no loader, so a "$ref" to a file or a
	// URL can make the host read nothing beyond the schema itself.
	c.UseLoader(jsonschema.SchemeURLLoader{})
	if err := c.AddResource("schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("schema.json")
}

// writeOrdered writes v as JSON, keeping the order of YAML mappings; an
// object with "properties" gets "x-order" listing them as written.
func writeOrdered(buf *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case yaml.MapSlice:
		buf.WriteByte('{')
		hasOrder := false
		var props []string
		for _, item := range t {
			k := fmt.Sprint(item.Key)
			if k == "x-order" {
				hasOrder = true
			}
			if k == "properties" {
				if ps, ok := item.Value.(yaml.MapSlice); ok {
					for _, p := range ps {
						props = append(props, fmt.Sprint(p.Key))
					}
				}
			}
		}
		for i, item := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			k, _ := json.Marshal(fmt.Sprint(item.Key))
			buf.Write(k)
			buf.WriteByte(':')
			if err := writeOrdered(buf, item.Value); err != nil {
				return err
			}
		}
		if !hasOrder && len(props) > 0 {
			order, _ := json.Marshal(props)
			buf.WriteString(`,"x-order":`)
			buf.Write(order)
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeOrdered(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
