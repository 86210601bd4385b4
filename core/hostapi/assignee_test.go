package hostapi_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// A plugin may name the operator a dossier goes to, by e-mail address:
// the town's rules route a ticket to a person as well as to an office.
// Routing is the plugin's, so a citizen's or a visitor's call may name
// one too; the address must be of the call's own tenant's staff.
func TestCreateDossierAssignee(t *testing.T) {
	e := newEnv(t)
	alpha, beta := e.tenant("alpha"), e.tenant("beta")
	mario := e.user(alpha, "mario.rossi@alpha.example")
	e.user(beta, "luca.bianchi@beta.example")
	e.office(alpha, "manutenzione")
	anna := e.citizen(alpha, "anna", "anna@example.org")

	tests := []struct {
		name   string
		actor  hostapi.Actor
		office string
		email  string
		code   codes.Code
		want   int64 // the assignee stored; 0 for nobody
	}{
		{name: "nobody named", actor: staff(mario), office: "manutenzione"},
		{name: "an operator of the town", actor: staff(mario), email: "mario.rossi@alpha.example", want: mario},
		{name: "with an office as well", actor: staff(mario), office: "manutenzione", email: "mario.rossi@alpha.example", want: mario},
		{name: "in another case", actor: staff(mario), email: "Mario.Rossi@ALPHA.example", want: mario},
		{name: "a citizen's report routed by the plugin", actor: citizen(anna), email: "mario.rossi@alpha.example", want: mario},
		{name: "a visitor's report routed by the plugin", actor: anonymous(), email: "mario.rossi@alpha.example", want: mario},
		{name: "an unknown address", actor: staff(mario), email: "nobody@alpha.example", code: codes.InvalidArgument},
		{name: "another town's operator", actor: staff(mario), email: "luca.bianchi@beta.example", code: codes.InvalidArgument},
		{name: "a citizen's address", actor: citizen(anna), email: "anna@example.org", code: codes.InvalidArgument},
		{name: "not an address", actor: staff(mario), email: "mario.rossi", code: codes.InvalidArgument},
		{name: "with a display name", actor: staff(mario), email: "Mario <mario.rossi@alpha.example>", code: codes.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, api := e.as("helpdesk", alpha, tc.actor)
			before := e.rows()
			d, err := api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "Buca in via Roma", Office: tc.office, AssigneeEmail: tc.email})
			if tc.code != codes.OK {
				wantCode(t, tc.email, err, tc.code)
				if msg := status.Convert(err).Message(); !strings.HasPrefix(msg, "assignee_email") {
					t.Errorf("message %q: want it to name assignee_email", msg)
				}
				e.sameRows(before)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Office != tc.office {
				t.Errorf("office %q, want %q", d.Office, tc.office)
			}
			var assignee sql.NullInt64
			err = e.db.Owner.NewRaw("SELECT assignee_id FROM dossiers WHERE id = ?", d.Id).Scan(context.Background(), &assignee)
			if err != nil {
				t.Fatal(err)
			}
			if assignee.Int64 != tc.want {
				t.Errorf("assignee %v, want %d", assignee, tc.want)
			}
		})
	}
}
