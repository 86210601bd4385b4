package hostapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// A plugin gives a dossier to an operator (the acting one, or one named
// by address) and/or moves it to an office, as the back office assigns
// one: in its history alike, staff only, the town's own people and
// offices only. What the request leaves out stays as it was.
func TestAssignDossier(t *testing.T) {
	e := newEnv(t)
	alpha, beta := e.tenant("alpha"), e.tenant("beta")
	mario := e.user(alpha, "mario.rossi@alpha.example")
	luca := e.user(alpha, "luca.bianchi@alpha.example")
	anna := e.user(alpha, "anna.verdi@alpha.example")
	betaOp := e.user(beta, "paolo.neri@beta.example")
	e.office(alpha, "urp")
	e.office(alpha, "manutenzione")
	e.office(beta, "tecnico")
	giulia := e.citizen(alpha, "giulia", "giulia@example.org")

	tests := []struct {
		name    string
		plugin  string // "" is helpdesk, whose dossier it is
		tenant  int64  // 0 is alpha
		actor   hostapi.Actor
		req     *pb.AssignDossierRequest // Id is the dossier's
		code    codes.Code
		prefix  string // of the refusal's message
		want    int64  // the operator after it
		office  string // the office after it
		changed bool   // a new version and a line in the history
	}{
		{name: "to the actor", actor: staff(mario), req: &pb.AssignDossierRequest{ToActor: true},
			want: mario, office: "urp", changed: true},
		{name: "by address, in another case", actor: staff(mario), req: &pb.AssignDossierRequest{AssigneeEmail: "Anna.Verdi@ALPHA.example"},
			want: anna, office: "urp", changed: true},
		{name: "to an office, keeping the operator", actor: staff(mario), req: &pb.AssignDossierRequest{Office: "manutenzione"},
			want: luca, office: "manutenzione", changed: true},
		{name: "to the actor and an office", actor: staff(mario), req: &pb.AssignDossierRequest{ToActor: true, Office: "manutenzione"},
			want: mario, office: "manutenzione", changed: true},
		{name: "by the host on an event, by address", actor: system(), req: &pb.AssignDossierRequest{AssigneeEmail: "anna.verdi@alpha.example"},
			want: anna, office: "urp", changed: true},
		{name: "to whom it has already", actor: staff(mario), req: &pb.AssignDossierRequest{AssigneeEmail: "luca.bianchi@alpha.example", Office: "urp"},
			want: luca, office: "urp"},

		{name: "an unknown address", actor: staff(mario), req: &pb.AssignDossierRequest{AssigneeEmail: "nobody@alpha.example"},
			code: codes.InvalidArgument, prefix: "assignee_email"},
		{name: "another town's operator", actor: staff(mario), req: &pb.AssignDossierRequest{AssigneeEmail: "paolo.neri@beta.example"},
			code: codes.InvalidArgument, prefix: "assignee_email"},
		{name: "not an address", actor: staff(mario), req: &pb.AssignDossierRequest{AssigneeEmail: "anna.verdi"},
			code: codes.InvalidArgument, prefix: "assignee_email"},
		{name: "an unknown office", actor: staff(mario), req: &pb.AssignDossierRequest{ToActor: true, Office: "anagrafe"},
			code: codes.InvalidArgument, prefix: "office"},
		{name: "another town's office", actor: staff(mario), req: &pb.AssignDossierRequest{Office: "tecnico"},
			code: codes.InvalidArgument, prefix: "office"},
		{name: "the actor and an address", actor: staff(mario), req: &pb.AssignDossierRequest{ToActor: true, AssigneeEmail: "anna.verdi@alpha.example"},
			code: codes.InvalidArgument, prefix: "to_actor"},
		{name: "nothing", actor: staff(mario), req: &pb.AssignDossierRequest{},
			code: codes.InvalidArgument, prefix: "nothing to assign"},
		{name: "the host as an operator", actor: system(), req: &pb.AssignDossierRequest{ToActor: true},
			code: codes.InvalidArgument, prefix: "to_actor"},
		{name: "the dossier's own citizen", actor: citizen(giulia), req: &pb.AssignDossierRequest{AssigneeEmail: "anna.verdi@alpha.example"},
			code: codes.PermissionDenied},
		{name: "a visitor", actor: anonymous(), req: &pb.AssignDossierRequest{Office: "manutenzione"},
			code: codes.PermissionDenied},
		{name: "another service's plugin", plugin: "cemetery", actor: staff(mario), req: &pb.AssignDossierRequest{ToActor: true},
			code: codes.NotFound},
		{name: "another town's operator, by id", tenant: beta, actor: staff(betaOp), req: &pb.AssignDossierRequest{ToActor: true},
			code: codes.NotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Giulia's report, which the plugin routed to Luca at the
			// public relations office.
			gctx, gapi := e.as("helpdesk", alpha, citizen(giulia))
			d := must(gapi.CreateDossier(gctx, &pb.CreateDossierRequest{Title: "Buca in via Roma", Office: "urp",
				AssigneeEmail: "luca.bianchi@alpha.example"}))(t)
			if d.AssigneeId != luca || d.AssigneeName != "luca.bianchi@alpha.example" {
				t.Fatalf("filed for %d (%s), want luca", d.AssigneeId, d.AssigneeName)
			}
			plugin, tenant := tc.plugin, tc.tenant
			if plugin == "" {
				plugin = "helpdesk"
			}
			if tenant == 0 {
				tenant = alpha
			}
			ctx, api := e.as(plugin, tenant, tc.actor)
			tc.req.Id = d.Id
			before := e.rows()
			got, err := api.AssignDossier(ctx, tc.req)
			if tc.code != codes.OK {
				wantCode(t, tc.name, err, tc.code)
				if msg := status.Convert(err).Message(); !strings.HasPrefix(msg, tc.prefix) {
					t.Errorf("message %q: want it to start with %q", msg, tc.prefix)
				}
				e.sameRows(before)
				if now := e.dossier(alpha, d.Id); now.assignee != luca || now.office != "urp" || now.version != d.Version {
					t.Errorf("refused, yet %+v", now)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.AssigneeId != tc.want || got.Office != tc.office {
				t.Errorf("answered operator %d, office %q; want %d, %q", got.AssigneeId, got.Office, tc.want, tc.office)
			}
			if wantName := map[int64]string{mario: "mario.rossi@alpha.example", luca: "luca.bianchi@alpha.example",
				anna: "anna.verdi@alpha.example"}[tc.want]; got.AssigneeName != wantName {
				t.Errorf("operator's name %q, want %q", got.AssigneeName, wantName)
			}
			now := e.dossier(alpha, d.Id)
			if now.assignee != tc.want || now.office != tc.office {
				t.Errorf("stored %+v, want operator %d, office %q", now, tc.want, tc.office)
			}
			events := e.assignments(alpha, d.Id)
			if !tc.changed {
				if now.version != d.Version || got.Version != d.Version || len(events) != 0 {
					t.Errorf("nothing to change, yet version %d (was %d), history %q", now.version, d.Version, events)
				}
				return
			}
			if now.version != d.Version+1 || got.Version != now.version {
				t.Errorf("version %d (answered %d), was %d", now.version, got.Version, d.Version)
			}
			who := fmt.Sprintf("plugin:helpdesk/%s:%d", tc.actor.Kind, tc.actor.ID)
			if want := fmt.Sprintf("%s %s %d", who, tc.office, tc.want); len(events) != 1 || events[0] != want {
				t.Errorf("history %q, want [%s]", events, want)
			}
		})
	}

	t.Run("GetDossier and ListDossiers say who has it", func(t *testing.T) {
		ctx, api := e.as("helpdesk", alpha, staff(mario))
		d := must(api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "Lampione spento"}))(t)
		if d.AssigneeId != 0 || d.AssigneeName != "" {
			t.Fatalf("filed for nobody, yet %d (%s)", d.AssigneeId, d.AssigneeName)
		}
		must(api.AssignDossier(ctx, &pb.AssignDossierRequest{Id: d.Id, ToActor: true}))(t)
		if got := must(api.GetDossier(ctx, &pb.GetDossierRequest{Id: d.Id}))(t); got.AssigneeId != mario ||
			got.AssigneeName != "mario.rossi@alpha.example" {
			t.Errorf("GetDossier: %d (%s)", got.AssigneeId, got.AssigneeName)
		}
		list := must(api.ListDossiers(ctx, &pb.ListDossiersRequest{Limit: 1}))(t).Dossiers
		if len(list) != 1 || list[0].Id != d.Id || list[0].AssigneeId != mario || list[0].AssigneeName != "mario.rossi@alpha.example" {
			t.Errorf("ListDossiers: %v", list)
		}
	})
}

// stored is what the database holds of a dossier's assignment.
type stored struct {
	assignee, version int64
	office            string
}

func (e *env) dossier(tenant, id int64) stored {
	e.t.Helper()
	var s stored
	err := e.db.Owner.QueryRowContext(context.Background(), `SELECT coalesce(d.assignee_id, 0), coalesce(o.slug, ''), d.version
		FROM dossiers d LEFT JOIN offices o ON o.tenant_id = d.tenant_id AND o.id = d.office_id
		WHERE d.tenant_id = ? AND d.id = ?`, tenant, id).Scan(&s.assignee, &s.office, &s.version)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// assignments are the dossier's assignments in its history, as "actor
// office assignee_id".
func (e *env) assignments(tenant, id int64) []string {
	e.t.Helper()
	var out []string
	rows, err := e.db.Owner.QueryContext(context.Background(), `SELECT actor || ' ' || (details->>'office') || ' ' || (details->>'assignee_id')
		FROM dossier_events WHERE tenant_id = ? AND dossier_id = ? AND kind = 'assigned' ORDER BY id`, tenant, id)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, line)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}
