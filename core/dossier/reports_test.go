package dossier_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/sportello/sportello/core/dossier"
)

// Reports: a service's dossiers as the public sees them, narrowed and
// paged, with when each entered its status and the town's last public
// reply, never an internal note or the reporter's own message.
func TestReports(t *testing.T) {
	e := newEnv(t)
	town, other := e.tenant("town"), e.tenant("other")
	op := e.staff(town, "Anna Operatrice")
	office := e.insert(town, `INSERT INTO offices (tenant_id, slug, name) VALUES (?, 'urp', '{"it": "Ufficio relazioni", "en": "Public relations"}') RETURNING id`, town)
	cit := e.citizen(town, "Carla Cittadina", "carla@example.org")
	open := func(tenant int64, category string, n dossier.NewDossier) *dossier.Dossier {
		e.clock.Advance(time.Minute)
		n.Data, _ = json.Marshal(map[string]any{"category": category, "lat": 45.1})
		if n.Title == "" {
			n.Title = "Segnalazione " + category
		}
		by := op
		if tenant != town {
			by = e.staff(tenant, "Otto Altrove")
		}
		return e.open(tenant, by, n)
	}
	roads := open(town, "roads", dossier.NewDossier{OfficeID: office})
	waste := open(town, "waste", dossier.NewDossier{CitizenID: cit})
	lights := open(town, "lights", dossier.NewDossier{})
	open(town, "roads", dossier.NewDossier{Draft: true})
	event := open(town, "roads", dossier.NewDossier{ServiceID: "events"})
	open(other, "roads", dossier.NewDossier{})

	// waste: resolved, noted again as resolved (no new status), answered
	// by the office, noted internally, followed up by the citizen.
	resolvedAt := e.clock.Advance(time.Hour)
	if _, err := e.store.SetStatus(ctx, town, waste.ID, dossier.AnyVersion, op, "resolved", "Fatto."); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	if _, err := e.store.SetStatus(ctx, town, waste.ID, dossier.AnyVersion, op, "resolved", "Verificato."); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.store.Reply(ctx, town, waste.ID, dossier.AnyVersion, op, "Abbiamo svuotato il cassonetto."); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.store.AddNote(ctx, town, waste.ID, dossier.AnyVersion, op, "Nota interna."); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Reply(ctx, town, waste.ID, dossier.AnyVersion, dossier.Citizen(cit, "Carla"), "Grazie!"); err != nil {
		t.Fatal(err)
	}

	list := func(f dossier.ReportFilter) []string {
		t.Helper()
		if f.Service == "" {
			f.Service = "helpdesk"
		}
		page, err := e.store.Reports(ctx, town, f)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, r := range page.Reports {
			out = append(out, r.Number)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    dossier.ReportFilter
		want []string
	}{
		{"all, newest first", dossier.ReportFilter{}, []string{lights.Number, waste.Number, roads.Number}},
		{"by category", dossier.ReportFilter{DataKey: "category", DataValues: []string{"roads", "lights"}}, []string{lights.Number, roads.Number}},
		{"in a status", dossier.ReportFilter{Statuses: []string{"resolved", "closed"}}, []string{waste.Number}},
		{"in no status of these", dossier.ReportFilter{ExceptStatuses: []string{"resolved", "closed"}}, []string{lights.Number, roads.Number}},
		{"by number", dossier.ReportFilter{Numbers: []string{roads.Number, "2026-999999"}}, []string{roads.Number}},
		{"from", dossier.ReportFilter{From: waste.CreatedAt}, []string{lights.Number, waste.Number}},
		{"to", dossier.ReportFilter{To: waste.CreatedAt}, []string{roads.Number}},
		{"another service", dossier.ReportFilter{Service: "events"}, []string{event.Number}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := list(tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	page, err := e.store.Reports(ctx, town, dossier.ReportFilter{Service: "helpdesk", Limit: 2, Lang: "en"})
	if err != nil || len(page.Reports) != 2 || page.Next == "" {
		t.Fatalf("first page: %v %+v", err, page)
	}
	w := page.Reports[1]
	if w.Number != waste.Number || w.Status != "resolved" || !w.StatusSince.Equal(resolvedAt) ||
		w.Reply != "Abbiamo svuotato il cassonetto." || w.ReplyAt.IsZero() || string(w.Data) == "" {
		t.Errorf("resolved report %+v (resolved at %v)", w, resolvedAt)
	}
	if l := page.Reports[0]; l.Reply != "" || !l.StatusSince.Equal(l.CreatedAt) || l.OfficeName != "" {
		t.Errorf("untouched report %+v", l)
	}
	next, err := e.store.Reports(ctx, town, dossier.ReportFilter{Service: "helpdesk", Limit: 2, Lang: "en", Cursor: page.Next})
	if err != nil || len(next.Reports) != 1 || next.Next != "" {
		t.Fatalf("second page: %v %+v", err, next)
	}
	if r := next.Reports[0]; r.Number != roads.Number || r.OfficeSlug != "urp" || r.OfficeName != "Public relations" {
		t.Errorf("report at an office %+v", r)
	}

	for _, tc := range []struct {
		name  string
		f     dossier.ReportFilter
		field string
	}{
		{"no service", dossier.ReportFilter{}, "service"},
		{"a number that is none", dossier.ReportFilter{Service: "helpdesk", Numbers: []string{"42"}}, "number"},
		{"a status that is none", dossier.ReportFilter{Service: "helpdesk", Statuses: []string{"Open!"}}, "status"},
		{"a data key that is none", dossier.ReportFilter{Service: "helpdesk", DataKey: "a->b", DataValues: []string{"x"}}, "data"},
		{"values without a key", dossier.ReportFilter{Service: "helpdesk", DataValues: []string{"x"}}, "data"},
		{"a bad cursor", dossier.ReportFilter{Service: "helpdesk", Cursor: "nonsense"}, "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.store.Reports(ctx, town, tc.f)
			wantField(t, tc.name, err, tc.field, "invalid")
		})
	}
}
