// Package procedure turns a declarative definition — the form, who may
// apply, the workflow's states, the office in charge, the texts in every
// language — into a catalogue service. A service made this way is a plugin
// of two files:
//
//	//go:embed definition.yaml
//	var definition []byte
//
//	func main() { procedure.Serve(definition) }
//
// The definition is checked strictly when the plugin starts: a mistake
// stops it with every problem and its YAML path. See plugins/README.md,
// "Declarative procedures".
package procedure

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Procedure is the service a definition describes.
type Procedure struct {
	def      *Definition
	form     *formInfo
	manifest []byte
	parsed   *pb.Manifest
	schema   *jsonschema.Schema // the application form, as the host checks it
	statuses map[string]*Status
	trans    map[string]*Transition
	now      func() time.Time
	log      *slog.Logger
}

var _ sdk.Service = (*Procedure)(nil)

// Load reads a definition, checks it, and builds its service.
func Load(definition []byte) (*Procedure, error) {
	if len(bytes.TrimSpace(definition)) == 0 {
		return nil, errNoDefinition
	}
	d, info, err := parse(definition)
	if err != nil {
		return nil, err
	}
	manifest, err := manifestYAML(d, info)
	if err != nil {
		return nil, err
	}
	m, err := sdk.ParseManifest(manifest)
	if err != nil {
		// The parts the procedure writes itself always parse: what fails
		// is the analyst's form schema.
		return nil, &DefinitionError{Problems: []string{"$.form.schema: " + err.Error()}}
	}
	p := &Procedure{def: d, form: info, manifest: manifest, parsed: m, now: time.Now, log: slog.Default(),
		statuses: map[string]*Status{}, trans: map[string]*Transition{}}
	for i := range d.Statuses {
		p.statuses[d.Statuses[i].ID] = &d.Statuses[i]
	}
	for i := range d.Transitions {
		p.trans[d.Transitions[i].ID] = &d.Transitions[i]
	}
	if p.schema, err = sdk.CompileSchema(m.GetForms()[0].GetSchemaJson()); err != nil {
		return nil, &DefinitionError{Problems: []string{"$.form.schema: " + err.Error()}}
	}
	if err := p.checkExamples(m); err != nil {
		return nil, err
	}
	return p, nil
}

// checkExamples validates the form's examples and the configuration
// example against what the host will check them with.
func (p *Procedure) checkExamples(m *pb.Manifest) error {
	var problems []string
	check := func(path string, schemaJSON []byte) {
		s, err := sdk.CompileSchema(schemaJSON)
		if err != nil {
			problems = append(problems, path+": "+err.Error())
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
		if err != nil {
			problems = append(problems, path+": "+err.Error())
			return
		}
		examples, _ := doc.(map[string]any)["examples"].([]any)
		for i, ex := range examples {
			if err := s.Validate(ex); err != nil {
				problems = append(problems, fmt.Sprintf("%s.examples[%d]: %v", path, i, err))
			}
		}
	}
	check("$.form.schema", m.GetForms()[0].GetSchemaJson())
	check("$.config_example", m.GetConfigSchemaJson())
	if len(problems) > 0 {
		return &DefinitionError{Problems: problems}
	}
	return nil
}

// Manifest is the plugin manifest the definition makes, in YAML.
func (p *Procedure) Manifest() []byte { return p.manifest }

// ID is the service's catalogue id.
func (p *Procedure) ID() string { return p.def.ID }

// Handle runs the application, a staff transition, or the host's word on
// a payment.
func (p *Procedure) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	switch req.Action {
	case actionSubmit:
		return p.submit(ctx, req)
	case sdk.ActionPayment:
		return p.payment(ctx, req)
	}
	if t := p.trans[req.Action]; t != nil {
		return p.transition(ctx, req, t)
	}
	return nil, fmt.Errorf("%s: unknown action %q", p.def.ID, req.Action)
}

// Serve runs the service of definition as a plugin. A definition with
// mistakes stops the plugin at once, with every mistake and where it is.
func Serve(definition []byte) {
	p, err := Load(definition)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sdk.Serve(p.manifest, p)
}
