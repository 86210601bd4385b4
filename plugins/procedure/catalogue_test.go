package procedure

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

// catalogueNow is the day the catalogue's examples are written for.
var catalogueNow = time.Date(2026, 3, 2, 10, 0, 0, 0, sdk.Zone)

// The services of the catalogue written as definitions.
var catalogue = []string{"tari", "noisyworks", "socialtransport", "homecare", "hobbyist", "events", "landoccupation",
	"library", "summercamp", "kindergarten", "courses", "certificates"}

// Every plugins/*/definition.yaml loads, makes a manifest complete in
// it, de and en, and is a plugin whose main serves it.
func TestCatalogueDefinitions(t *testing.T) {
	paths, err := filepath.Glob("../*/definition.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, path := range paths {
		id := filepath.Base(filepath.Dir(path))
		ids = append(ids, id)
		t.Run(id, func(t *testing.T) {
			p := loadFile(t, path)
			if p.ID() != id {
				t.Errorf("id %q in plugins/%s: the binary is named after the folder", p.ID(), id)
			}
			m := sdktest.CheckManifest(t, p.Manifest())
			// A service that charges hears how its payments end; one
			// that does not has nothing to hear.
			event := slices.ContainsFunc(m.GetActions(), func(a *pb.Action) bool {
				return a.GetId() == sdk.ActionPayment && a.GetAudience() == sdk.AudienceSystem
			})
			if event != (p.def.Fee != nil) {
				t.Errorf("payment event declared %v, fee %v", event, p.def.Fee != nil)
			}
			for _, lang := range sdk.Languages {
				if m.GetTexts()[lang].GetName() == "" {
					t.Errorf("no name in %s", lang)
				}
			}
			main, err := os.ReadFile(filepath.Join(filepath.Dir(path), "main.go"))
			if err != nil || !strings.Contains(string(main), "//go:embed definition.yaml") ||
				!strings.Contains(string(main), "procedure.Serve(definition)") {
				t.Errorf("plugins/%s/main.go does not serve its definition: %v", id, err)
			}
		})
	}
	for _, id := range catalogue {
		if !slices.Contains(ids, id) {
			t.Errorf("plugins/%s/definition.yaml is missing", id)
		}
	}
}

// Every service takes its own example application, and every step of its
// workflow works from a dossier in the state it starts from.
func TestCatalogueWorkflows(t *testing.T) {
	paths, err := filepath.Glob("../*/definition.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		id := filepath.Base(filepath.Dir(path))
		p := loadFile(t, path)
		t.Run(id+"/submit", func(t *testing.T) {
			for _, lang := range sdk.Languages {
				h := catalogueHost(t, p)
				res := submitExample(t, p, h, lang, firstActor(p))
				if !strings.Contains(res.Message, res.DossierNumber) {
					t.Errorf("%s: the confirmation does not give the case number: %q", lang, res.Message)
				}
				d := h.Tenant(1).Dossier(res.DossierNumber)
				if !strings.HasPrefix(d.GetTitle(), p.def.Texts[lang].Name) || d.GetDueUnix() == 0 || d.GetStatus() != p.def.Statuses[0].ID {
					t.Errorf("%s: dossier %v", lang, d)
				}
			}
		})
		if p.def.Who.Staff {
			t.Run(id+"/on-behalf", func(t *testing.T) {
				h := catalogueHost(t, p)
				res := submitExample(t, p, h, "it", sdktest.Staff(3, "operator"))
				got := h.Tenant(1)
				if d := got.Dossier(res.DossierNumber); d.GetChannel() != "counter" || d.GetCitizenId() != 0 {
					t.Errorf("dossier %v", d)
				}
				// The applicant hears of it at the form's address, if given.
				to, _ := lookup(mustValues(t, h), p.def.Form.EmailField).(string)
				if to != "" && !slices.ContainsFunc(got.Notifications, func(n sdktest.Notification) bool {
					return n.To == to && strings.Contains(n.Body, res.DossierNumber)
				}) {
					t.Errorf("no confirmation to the applicant: %+v", got.Notifications)
				}
			})
		}
		if p.def.Who.Anonymous {
			t.Run(id+"/anonymous", func(t *testing.T) {
				h := catalogueHost(t, p)
				res := submitExample(t, p, h, "en", sdktest.Anonymous())
				got := h.Tenant(1)
				if len(got.Notifications) == 0 || !strings.Contains(got.Notifications[0].To, "@") || !strings.Contains(got.Notifications[0].Body, res.DossierNumber) {
					t.Errorf("no confirmation to the visitor's address: %+v", got.Notifications)
				}
			})
		}
		for _, tr := range p.def.Transitions {
			t.Run(id+"/"+tr.ID, func(t *testing.T) {
				h := catalogueHost(t, p)
				res := submitExample(t, p, h, "it", firstActor(p))
				path := p.pathTo(tr.From[0])
				if path == nil {
					t.Fatalf("no way from %s to %s", p.def.Statuses[0].ID, tr.From[0])
				}
				for _, step := range append(path, &tr) {
					take(t, p, h, res.DossierID, step)
				}
				if got := h.Tenant(1).Dossier(res.DossierNumber).GetStatus(); got != tr.To {
					t.Fatalf("status %s after %s, want %s", got, tr.ID, tr.To)
				}
			})
		}
	}
}

func loadFile(t *testing.T, path string) *Procedure {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	p.now = func() time.Time { return catalogueNow }
	p.log = slog.New(slog.DiscardHandler)
	return p
}

func catalogueHost(t *testing.T, p *Procedure) *sdktest.Host {
	h := sdktest.New(t, p.Manifest())
	h.Now = p.now
	return h
}

// config is the definition's example configuration, with the application
// window, if any, around the catalogue's day.
func catalogueConfig(h *sdktest.Host, p *Procedure) map[string]any {
	cfg := h.ConfigExample()
	if p.def.Window != nil {
		cfg["opens"], cfg["closes"] = "2026-02-01", "2026-04-30"
	}
	return cfg
}

// mustValues is the form's example as the procedure reads it.
func mustValues(t *testing.T, h *sdktest.Host) map[string]any {
	t.Helper()
	v, err := decodeValues(mustJSON(h.Example("application")))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// firstActor is a citizen, or staff where citizens may not apply online.
func firstActor(p *Procedure) sdk.Actor {
	if p.def.Who.Citizens {
		return sdktest.Citizen(7)
	}
	return sdktest.Staff(3, "operator")
}

// submitExample sends the form's example as actor, with a sample file in
// each file field it fills.
func submitExample(t *testing.T, p *Procedure, h *sdktest.Host, lang string, actor sdk.Actor) *sdk.Response {
	t.Helper()
	values := h.Example("application")
	var files []sdktest.Upload
	for _, f := range p.form.files {
		if _, ok := values[strings.TrimPrefix(f.pointer, "/")]; !ok {
			continue
		}
		content, name := pdf, "documento.pdf"
		if !accepts(f.accept, "application/pdf") {
			content, name = png, "foto.png"
		}
		files = append(files, sdktest.Upload{Field: f.pointer, Name: name, Content: content})
	}
	res, err := h.Handle(context.Background(), p, sdktest.Call{Action: "submit", Actor: actor, Lang: lang, Values: values,
		Config: catalogueConfig(h, p), Files: files})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != sdk.OutcomeOK {
		t.Fatalf("the example is refused in %s: %s %+v", lang, res.Message, res.Errors)
	}
	return res
}

// take runs one transition on the dossier, as a member of staff; a step
// that waits for the payment finds it paid.
func take(t *testing.T, p *Procedure, h *sdktest.Host, dossierID int64, tr *Transition) {
	t.Helper()
	if tr.RequiresPayment {
		for _, pay := range h.Tenant(1).Payments {
			h.SetPaymentStatus(1, pay.GetId(), paid)
		}
	}
	var values any
	if tr.Note == noteOptional || tr.Note == noteRequired {
		values = map[string]any{"note": "Nota di prova per il richiedente."}
	}
	res, err := h.Handle(context.Background(), p, sdktest.Call{Action: tr.ID, Actor: sdktest.Staff(3, "operator"),
		DossierID: dossierID, Values: values, Config: catalogueConfig(h, p)})
	if err != nil {
		t.Fatalf("%s: %v", tr.ID, err)
	}
	if res.Outcome != sdk.OutcomeOK {
		t.Fatalf("%s: %s %+v", tr.ID, res.Message, res.Errors)
	}
}

// pathTo is a shortest run of transitions from the first state to state.
func (p *Procedure) pathTo(state string) []*Transition {
	type step struct {
		tr   *Transition
		from string
	}
	start := p.def.Statuses[0].ID
	came := map[string]step{start: {}}
	queue := []string{start}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == state {
			path := []*Transition{}
			for s := state; s != start; s = came[s].from {
				path = append([]*Transition{came[s].tr}, path...)
			}
			return path
		}
		for i := range p.def.Transitions {
			tr := &p.def.Transitions[i]
			if _, seen := came[tr.To]; !seen && slices.Contains(tr.From, cur) {
				came[tr.To] = step{tr, cur}
				queue = append(queue, tr.To)
			}
		}
	}
	return nil
}

// A requirement that hangs on a multiple choice holds when any choice
// ticked matches, in the schema the host checks as in the procedure.
func TestRequiredWhenOnAChoice(t *testing.T) {
	p := loadFile(t, "../events/definition.yaml")
	h := catalogueHost(t, p)
	tests := []struct {
		structures []any
		want       []string
	}{
		{[]any{"tents", "stage"}, []string{"/safety_plan"}},
		{[]any{"tents"}, nil},
		{nil, nil},
	}
	for _, tc := range tests {
		values := h.Example("application")
		delete(values, "safety_plan")
		values["structures"] = tc.structures
		if tc.structures == nil {
			delete(values, "structures")
		}
		var fields []string
		for _, e := range p.schemaErrors("it", mustJSON(values)) {
			fields = append(fields, e.Field)
		}
		if !slices.Equal(fields, tc.want) {
			t.Errorf("structures %v: errors on %v, want %v", tc.structures, fields, tc.want)
		}
	}
}

// A choice in the dossier's title reads as its label, in the applicant's
// language.
func TestTitleFieldLabel(t *testing.T) {
	p := loadFile(t, "../courses/definition.yaml")
	h := catalogueHost(t, p)
	res := submitExample(t, p, h, "de", sdktest.Citizen(7))
	want := "Anmeldung zu den Kursen der Gemeinde – Englisch Anfänger A1: Dienstag 18.30, 20 Stunden"
	if got := h.Tenant(1).Dossier(res.DossierNumber).GetTitle(); got != want {
		t.Fatalf("title %q, want %q", got, want)
	}
	// And the course is paid at once.
	if pays := h.Tenant(1).Payments; len(pays) != 1 || pays[0].GetAmountCents() != 12000 {
		t.Fatalf("payments %+v", pays)
	}
}
