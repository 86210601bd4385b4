package server

import (
	"sync"
	"testing"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

// helpdeskManifest is a manifest of the helpdesk whose report form has
// the fields named in extra besides its own.
func helpdeskManifest(extra string, statuses ...*pb.Status) *pb.Manifest {
	schema := `{"type": "object", "required": ["category", "description"], "properties": {
		"category": {"type": "string", "title": "Categoria"},
		"description": {"type": "string", "title": "Descrizione", "maxLength": 4000}` + extra + `}}`
	return &pb.Manifest{Id: "helpdesk", Statuses: statuses,
		Forms: []*pb.Form{{Id: "report", SchemaJson: []byte(schema)}},
		Actions: []*pb.Action{{Id: "services", Audience: "anonymous"},
			{Id: "report", Audience: "anonymous", FormId: "report"}}}
}

// The report form is parsed once per manifest and shared by concurrent
// reports; a new manifest (a restarted plugin) gets its own.
func TestHelpdeskSpecPerManifest(t *testing.T) {
	a := &open311API{}
	first := helpdeskManifest(`,
		"media_url": {"type": "string", "title": "Foto", "format": "uri"},
		"channel": {"type": "string", "title": "Canale", "enum": ["web", "app"], "x-widget": "hidden"},
		"consent": {"type": "boolean", "title": "Consenso"}`,
		&pb.Status{Id: "open"}, &pb.Status{Id: "done", Final: true})

	sp := a.specFor(first)
	if !sp.speaks || len(sp.finals) != 1 || sp.finals[0] != "done" {
		t.Fatalf("spec %+v", sp)
	}
	forms := make([]*reportForm, 16)
	var wg sync.WaitGroup
	for i := range forms {
		wg.Go(func() {
			rf, err := a.specFor(first).reportForm(nil)
			if err != nil {
				t.Error(err)
			}
			forms[i] = rf
		})
	}
	wg.Wait()
	for _, rf := range forms {
		if rf == nil || rf != forms[0] {
			t.Fatalf("the form was parsed more than once for one manifest: %p, %p", rf, forms[0])
		}
	}
	if rf := forms[0]; !rf.mediaURL || !rf.channel || !rf.consent {
		t.Fatalf("report form %+v", rf)
	}
	if errs := forms[0].form.Validate(map[string]any{"category": "x", "description": "y", "channel": "app", "consent": true}, "it"); len(errs) != 0 {
		t.Fatalf("a valid report refused: %v", errs)
	}

	second := helpdeskManifest(`, "channel": {"type": "string", "title": "Canale", "enum": ["web"], "x-widget": "hidden"}`)
	next := a.specFor(second)
	if next == sp || len(next.finals) != 2 {
		t.Fatalf("a new manifest kept the old spec, or its statuses: %+v", next)
	}
	rf, err := next.reportForm(nil)
	if err != nil {
		t.Fatal(err)
	}
	if rf == forms[0] || rf.mediaURL || rf.channel || rf.consent {
		t.Fatalf("the new manifest's form %+v", rf)
	}

	noReport := &pb.Manifest{Id: "helpdesk", Actions: []*pb.Action{{Id: "services"}}}
	if a.specFor(noReport).speaks {
		t.Fatal("a helpdesk without a report action speaks Open311")
	}
	broken := helpdeskManifest(`, "bad": {"type": "nonsense"}`)
	if _, err := a.specFor(broken).reportForm(nil); err == nil {
		t.Fatal("a form that cannot be parsed was taken")
	}
}
