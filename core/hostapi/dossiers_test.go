package hostapi_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

func TestDossierAccess(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	anna, bruno := e.citizen(tid, "anna", "anna@example.org"), e.citizen(tid, "bruno", "")
	op := e.user(tid, "op@alpha.example")

	ctx, api := e.as("helpdesk", tid, citizen(anna))
	mine := must(api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "Broken street light", DataJson: []byte(`{"street":"Via Roma"}`)}))(t)
	if mine.CitizenId != anna || mine.ServiceId != "helpdesk" || mine.Status != "submitted" || mine.Channel != "web" {
		t.Fatalf("created %+v: want anna's, of helpdesk, submitted, web", mine)
	}
	if string(mine.DataJson) != `{"street": "Via Roma"}` || mine.CreatedUnix == 0 || mine.Number == "" {
		t.Fatalf("created %+v", mine)
	}
	if got := must(api.GetDossier(ctx, &pb.GetDossierRequest{Id: mine.Id}))(t); got.Number != mine.Number {
		t.Fatalf("anna reads her dossier as %+v", got)
	}

	opCtx, opAPI := e.as("helpdesk", tid, staff(op))
	byStaff := must(opAPI.CreateDossier(opCtx, &pb.CreateDossierRequest{Title: "Phone call", Channel: "phone", Status: "open"}))(t)
	if byStaff.CitizenId != 0 || byStaff.Channel != "phone" || byStaff.Status != "open" {
		t.Fatalf("staff-created dossier %+v", byStaff)
	}
	otherCtx, otherAPI := e.as("cemetery", tid, staff(op))
	otherService := must(otherAPI.CreateDossier(otherCtx, &pb.CreateDossierRequest{Title: "Grave concession"}))(t)

	t.Run("a citizen cannot read another citizen's dossier", func(t *testing.T) {
		ctx, api := e.as("helpdesk", tid, citizen(bruno))
		_, err := api.GetDossier(ctx, &pb.GetDossierRequest{Id: mine.Id})
		wantCode(t, "GetDossier", err, codes.NotFound)
		list := must(api.ListDossiers(ctx, &pb.ListDossiersRequest{}))(t)
		if len(list.Dossiers) != 0 {
			t.Fatalf("bruno lists %d dossiers, want none", len(list.Dossiers))
		}
	})
	t.Run("a citizen lists only their own", func(t *testing.T) {
		list := must(api.ListDossiers(ctx, &pb.ListDossiersRequest{}))(t)
		if len(list.Dossiers) != 1 || list.Dossiers[0].Id != mine.Id {
			t.Fatalf("anna lists %v", list.Dossiers)
		}
	})
	t.Run("staff read every dossier of their plugin's service, no other", func(t *testing.T) {
		must(opAPI.GetDossier(opCtx, &pb.GetDossierRequest{Id: mine.Id}))(t)
		list := must(opAPI.ListDossiers(opCtx, &pb.ListDossiersRequest{}))(t)
		if len(list.Dossiers) != 2 || list.Dossiers[0].Id != byStaff.Id {
			t.Fatalf("staff list %v, want both helpdesk dossiers, newest first", list.Dossiers)
		}
		_, err := opAPI.GetDossier(opCtx, &pb.GetDossierRequest{Id: otherService.Id})
		wantCode(t, "another service's dossier", err, codes.NotFound)
		_, err = otherAPI.GetDossier(otherCtx, &pb.GetDossierRequest{Id: mine.Id})
		wantCode(t, "another service's dossier", err, codes.NotFound)
		_, err = otherAPI.SetDossierStatus(otherCtx, &pb.SetDossierStatusRequest{Id: mine.Id, Status: "closed"})
		wantCode(t, "status of another service's dossier", err, codes.NotFound)
		open := must(opAPI.ListDossiers(opCtx, &pb.ListDossiersRequest{Status: "open"}))(t)
		if len(open.Dossiers) != 1 || open.Dossiers[0].Id != byStaff.Id {
			t.Fatalf("status filter: %v", open.Dossiers)
		}
		one := must(opAPI.ListDossiers(opCtx, &pb.ListDossiersRequest{Limit: 1}))(t)
		if len(one.Dossiers) != 1 {
			t.Fatalf("limit 1: %d dossiers", len(one.Dossiers))
		}
	})
	t.Run("an anonymous visitor reads none", func(t *testing.T) {
		ctx, api := e.as("helpdesk", tid, anonymous())
		_, err := api.GetDossier(ctx, &pb.GetDossierRequest{Id: mine.Id})
		wantCode(t, "GetDossier", err, codes.PermissionDenied)
		_, err = api.ListDossiers(ctx, &pb.ListDossiersRequest{})
		wantCode(t, "ListDossiers", err, codes.PermissionDenied)
	})
	t.Run("only staff change the status, with a history entry", func(t *testing.T) {
		before := e.rows()
		_, err := api.SetDossierStatus(ctx, &pb.SetDossierStatusRequest{Id: mine.Id, Status: "closed"})
		wantCode(t, "citizen", err, codes.PermissionDenied)
		anonCtx, anonAPI := e.as("helpdesk", tid, anonymous())
		_, err = anonAPI.SetDossierStatus(anonCtx, &pb.SetDossierStatusRequest{Id: mine.Id, Status: "closed"})
		wantCode(t, "anonymous", err, codes.PermissionDenied)
		e.sameRows(before)

		d := must(opAPI.SetDossierStatus(opCtx, &pb.SetDossierStatusRequest{Id: mine.Id, Status: "in_progress", Note: "taken"}))(t)
		if d.Status != "in_progress" {
			t.Fatalf("status %q", d.Status)
		}
		var history []string
		err = e.db.Owner.NewRaw("SELECT actor || ' ' || status || ' ' || note FROM dossier_events WHERE dossier_id = ? ORDER BY id", mine.Id).
			Scan(context.Background(), &history)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			fmt.Sprintf("plugin:helpdesk/citizen:%d submitted ", anna),
			fmt.Sprintf("plugin:helpdesk/staff:%d in_progress taken", op),
		}
		if fmt.Sprint(history) != fmt.Sprint(want) {
			t.Fatalf("history %q, want %q", history, want)
		}
	})
	t.Run("an anonymous visitor may open a dossier that belongs to nobody", func(t *testing.T) {
		ctx, api := e.as("helpdesk", tid, anonymous())
		d := must(api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "Anonymous report"}))(t)
		if d.CitizenId != 0 {
			t.Fatalf("citizen %d", d.CitizenId)
		}
	})
}

// Protocol numbers run 1, 2, 3… per tenant and year, without gaps or
// duplicates, however many requests open dossiers at once.
func TestProtocolNumbersAreSequentialPerTenantAndYear(t *testing.T) {
	e := newEnv(t)
	a, b := e.tenant("alpha"), e.tenant("beta")
	var year int
	if err := e.db.Owner.NewRaw("SELECT extract(year FROM now() AT TIME ZONE 'Europe/Rome')::int").Scan(context.Background(), &year); err != nil {
		t.Fatal(err)
	}
	const perTenant = 20
	numbers := map[int64][]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, tid := range []int64{a, b} {
		ctx, api := e.as("helpdesk", tid, staff(e.user(tid, fmt.Sprintf("op%d@example.org", tid))))
		for i := range perTenant {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: fmt.Sprintf("request %d", i)})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				numbers[tid] = append(numbers[tid], d.Number)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	for _, tid := range []int64{a, b} {
		got := numbers[tid]
		sort.Strings(got)
		if len(got) != perTenant {
			t.Fatalf("tenant %d: %d dossiers", tid, len(got))
		}
		for i, n := range got {
			if want := fmt.Sprintf("%d-%06d", year, i+1); n != want {
				t.Fatalf("tenant %d: numbers %v, want %d-000001 … %d-%06d", tid, got, year, year, perTenant)
			}
		}
	}
}
