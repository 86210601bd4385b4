package hostapi_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

func (e *env) office(tenant int64, slug string) int64 {
	return e.insert(tenant, `INSERT INTO offices (tenant_id, slug, name) VALUES (?, ?, '{"it": "x"}') RETURNING id`, tenant, slug)
}

// The dossier fields a plugin sets: office (by slug, or the service's
// configured one), priority, due date; and what it reads back.
func TestCreateDossierFields(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	op := e.user(tid, "op@alpha.example")
	e.office(tid, "anagrafe")
	e.office(tid, "tributi")
	e.insert(tid, `INSERT INTO tenant_services (tenant_id, service_id, config) VALUES (?, 'helpdesk', '{"office": "tributi"}') RETURNING 1`, tid)
	ctx, api := e.as("helpdesk", tid, staff(op))
	due := time.Date(2026, 9, 30, 12, 0, 0, 0, time.UTC)

	d := must(api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "Routed", Office: "anagrafe", Priority: "urgent", DueUnix: due.Unix()}))(t)
	if d.Office != "anagrafe" || d.Priority != "urgent" || d.DueUnix != due.Unix() || d.Version != 1 {
		t.Fatalf("created %+v", d)
	}
	def := must(api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "Default"}))(t)
	if def.Office != "tributi" || def.Priority != "normal" || def.DueUnix != 0 {
		t.Fatalf("default office and priority: %+v", def)
	}
	otherCtx, otherAPI := e.as("cemetery", tid, staff(op))
	if d := must(otherAPI.CreateDossier(otherCtx, &pb.CreateDossierRequest{Title: "No office"}))(t); d.Office != "" {
		t.Fatalf("a service with no configured office got %q", d.Office)
	}
	got := must(api.GetDossier(ctx, &pb.GetDossierRequest{Id: d.Id}))(t)
	if got.Office != "anagrafe" || got.Priority != "urgent" || got.DueUnix != due.Unix() {
		t.Fatalf("read back %+v", got)
	}
	list := must(api.ListDossiers(ctx, &pb.ListDossiersRequest{Limit: 1}))(t)
	if len(list.Dossiers) != 1 || list.Dossiers[0].Id != def.Id || list.Dossiers[0].Office != "tributi" || list.Dossiers[0].Priority != "normal" {
		t.Fatalf("list %+v", list.Dossiers)
	}
	older := must(api.ListDossiers(ctx, &pb.ListDossiersRequest{BeforeId: def.Id}))(t)
	if len(older.Dossiers) != 1 || older.Dossiers[0].Id != d.Id {
		t.Fatalf("before_id: %+v", older.Dossiers)
	}
	moved := must(api.SetDossierStatus(ctx, &pb.SetDossierStatusRequest{Id: d.Id, Status: "in_progress"}))(t)
	if moved.Version != d.Version+1 {
		t.Fatalf("version after a change: %d", moved.Version)
	}

	before := e.rows()
	for _, c := range []struct {
		name string
		req  *pb.CreateDossierRequest
	}{
		{"unknown office", &pb.CreateDossierRequest{Title: "x", Office: "nowhere"}},
		{"bad priority", &pb.CreateDossierRequest{Title: "x", Priority: "asap"}},
		{"negative due date", &pb.CreateDossierRequest{Title: "x", DueUnix: -1}},
		{"unknown attachment", &pb.CreateDossierRequest{Title: "x", AttachmentIds: []int64{424242}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := api.CreateDossier(ctx, c.req)
			wantCode(t, c.name, err, codes.InvalidArgument)
		})
	}
	e.sameRows(before)
}

// A request's uploads are kept on the dossier the plugin files, but only
// the caller's own, still pending, uploads of this tenant.
func TestCreateDossierLinksUploads(t *testing.T) {
	e := newEnv(t)
	a, b := e.tenant("alpha"), e.tenant("beta")
	anna, bruno := e.citizen(a, "anna", "anna@example.org"), e.citizen(a, "bruno", "bruno@example.org")
	annaB := e.citizen(b, "anna", "anna@beta.example")
	files, err := dossier.NewFiles(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	store := dossier.New(e.db.App, files, time.Now)
	upload := func(tenant int64, by dossier.Actor, request string) int64 {
		t.Helper()
		att, err := store.Upload(context.Background(), tenant, by, request, dossier.NewFile{Name: "id.pdf",
			Content: strings.NewReader("%PDF-1.4\n" + by.String() + request + "\n%%EOF\n")})
		if err != nil {
			t.Fatal(err)
		}
		return att.ID
	}
	// The host uploads with the request id it then begins the call with.
	annas := upload(a, dossier.Citizen(anna, ""), "test")
	annasOld := upload(a, dossier.Citizen(anna, ""), "an earlier request")
	brunos := upload(a, dossier.Citizen(bruno, ""), "test")
	annaBs := upload(b, dossier.Citizen(annaB, ""), "test")

	ctx, api := e.as("helpdesk", a, citizen(anna))
	before := e.rows()
	for _, c := range []struct {
		name string
		ids  []int64
	}{
		{"another citizen's", []int64{brunos}},
		{"mine and another's", []int64{annas, brunos}},
		{"of another request", []int64{annasOld}},
		{"of another tenant", []int64{annaBs}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "x", AttachmentIds: c.ids})
			wantCode(t, c.name, err, codes.InvalidArgument)
		})
	}
	e.sameRows(before)

	d := must(api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "With my ID", AttachmentIds: []int64{annas}}))(t)
	list, err := store.Attachments(context.Background(), a, d.Id, true)
	if err != nil || len(list) != 1 || list[0].ID != annas {
		t.Fatalf("attachments %+v %v", list, err)
	}
	_, err = api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "again", AttachmentIds: []int64{annas}})
	wantCode(t, "an upload already filed", err, codes.InvalidArgument)
}

func TestAddDossierMessage(t *testing.T) {
	e := newEnv(t)
	a, b := e.tenant("alpha"), e.tenant("beta")
	op, opB := e.user(a, "op@alpha.example"), e.user(b, "op@beta.example")
	anna, bruno := e.citizen(a, "anna", "anna@example.org"), e.citizen(a, "bruno", "bruno@example.org")

	annaCtx, annaAPI := e.as("helpdesk", a, citizen(anna))
	mine := must(annaAPI.CreateDossier(annaCtx, &pb.CreateDossierRequest{Title: "Pothole"}))(t)
	opCtx, opAPI := e.as("helpdesk", a, staff(op))
	cemCtx, cemAPI := e.as("cemetery", a, staff(op))
	otherService := must(cemAPI.CreateDossier(cemCtx, &pb.CreateDossierRequest{Title: "Grave"}))(t)
	bCtx, bAPI := e.as("helpdesk", b, staff(opB))
	otherTenant := must(bAPI.CreateDossier(bCtx, &pb.CreateDossierRequest{Title: "B's"}))(t)

	reply := must(opAPI.AddDossierMessage(opCtx, &pb.AddDossierMessageRequest{DossierId: mine.Id, Body: "We will fix it this week."}))(t)
	if reply.Internal || reply.DossierId != mine.Id || reply.Body != "We will fix it this week." || reply.CreatedUnix == 0 {
		t.Fatalf("reply %+v", reply)
	}
	note := must(opAPI.AddDossierMessage(opCtx, &pb.AddDossierMessageRequest{DossierId: mine.Id, Body: "crew B", Internal: true}))(t)
	if !note.Internal {
		t.Fatalf("note %+v", note)
	}
	follow := must(annaAPI.AddDossierMessage(annaCtx, &pb.AddDossierMessageRequest{DossierId: mine.Id, Body: "Thanks!"}))(t)
	if follow.Internal {
		t.Fatalf("follow-up %+v", follow)
	}
	var mails []string
	if err := e.db.Owner.NewRaw("SELECT recipient || ' ' || plugin_id || ' ' || body FROM notifications ORDER BY id").Scan(context.Background(), &mails); err != nil {
		t.Fatal(err)
	}
	if len(mails) != 1 || mails[0] != "anna@example.org helpdesk We will fix it this week." {
		t.Fatalf("notifications %q: want the staff reply e-mailed to anna, nothing else", mails)
	}
	var authors []string
	if err := e.db.Owner.NewRaw("SELECT author_kind || ':' || author_name || ':' || plugin_id || ':' || internal FROM dossier_messages ORDER BY id").
		Scan(context.Background(), &authors); err != nil {
		t.Fatal(err)
	}
	want := []string{"staff:op@alpha.example:helpdesk:false", "staff:op@alpha.example:helpdesk:true", "citizen:anna:helpdesk:false"}
	if !slices.Equal(authors, want) {
		t.Fatalf("authors %q, want %q", authors, want)
	}

	before := e.rows()
	brunoCtx, brunoAPI := e.as("helpdesk", a, citizen(bruno))
	anonCtx, anonAPI := e.as("helpdesk", a, anonymous())
	aOnB, _ := e.as("helpdesk", a, staff(op))
	refused := []struct {
		name string
		ctx  context.Context
		api  pb.HostAPIClient
		req  *pb.AddDossierMessageRequest
		want codes.Code
	}{
		{"a citizen's internal note", annaCtx, annaAPI, &pb.AddDossierMessageRequest{DossierId: mine.Id, Body: "x", Internal: true}, codes.PermissionDenied},
		{"an anonymous visitor", anonCtx, anonAPI, &pb.AddDossierMessageRequest{DossierId: mine.Id, Body: "x"}, codes.PermissionDenied},
		{"another citizen's dossier", brunoCtx, brunoAPI, &pb.AddDossierMessageRequest{DossierId: mine.Id, Body: "x"}, codes.NotFound},
		{"another service's dossier", opCtx, opAPI, &pb.AddDossierMessageRequest{DossierId: otherService.Id, Body: "x"}, codes.NotFound},
		{"another service's dossier, internal", opCtx, opAPI, &pb.AddDossierMessageRequest{DossierId: otherService.Id, Body: "x", Internal: true}, codes.NotFound},
		{"another tenant's dossier", aOnB, opAPI, &pb.AddDossierMessageRequest{DossierId: otherTenant.Id, Body: "x"}, codes.NotFound},
		{"a missing dossier", opCtx, opAPI, &pb.AddDossierMessageRequest{DossierId: 424242, Body: "x"}, codes.NotFound},
		{"no dossier id", opCtx, opAPI, &pb.AddDossierMessageRequest{Body: "x"}, codes.InvalidArgument},
		{"empty body", opCtx, opAPI, &pb.AddDossierMessageRequest{DossierId: mine.Id, Body: "  "}, codes.InvalidArgument},
		{"body too long", opCtx, opAPI, &pb.AddDossierMessageRequest{DossierId: mine.Id, Body: strings.Repeat("x", dossier.MaxMessage+1)}, codes.InvalidArgument},
		{"invalid text", opCtx, opAPI, &pb.AddDossierMessageRequest{DossierId: mine.Id, Body: "a\x00b"}, codes.InvalidArgument},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.api.AddDossierMessage(c.ctx, c.req)
			wantCode(t, c.name, err, c.want)
		})
	}
	e.sameRows(before)
}

// A citizen never sees a draft an operator is still entering for them.
func TestDraftsHiddenFromCitizens(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	op, anna := e.user(tid, "op@alpha.example"), e.citizen(tid, "anna", "anna@example.org")
	store := dossier.New(e.db.App, nil, time.Now)
	d, err := store.Open(context.Background(), tid, dossier.Staff(op, "Op"), dossier.NewDossier{ServiceID: "helpdesk", Title: "By phone",
		Draft: true, Channel: dossier.ChannelPhone, CitizenID: anna})
	if err != nil {
		t.Fatal(err)
	}
	ctx, api := e.as("helpdesk", tid, citizen(anna))
	_, err = api.GetDossier(ctx, &pb.GetDossierRequest{Id: d.ID})
	wantCode(t, "GetDossier", err, codes.NotFound)
	if list := must(api.ListDossiers(ctx, &pb.ListDossiersRequest{}))(t); len(list.Dossiers) != 0 {
		t.Fatalf("anna lists %v", list.Dossiers)
	}
	_, err = api.AddDossierMessage(ctx, &pb.AddDossierMessageRequest{DossierId: d.ID, Body: "hello"})
	wantCode(t, "AddDossierMessage", err, codes.NotFound)
	opCtx, opAPI := e.as("helpdesk", tid, staff(op))
	if got := must(opAPI.GetDossier(opCtx, &pb.GetDossierRequest{Id: d.ID}))(t); got.Status != dossier.StatusDraft {
		t.Fatalf("staff read %+v", got)
	}
	_, err = opAPI.SetDossierStatus(opCtx, &pb.SetDossierStatusRequest{Id: d.ID, Status: "closed"})
	wantCode(t, "SetDossierStatus on a draft", err, codes.InvalidArgument)
}

// A plugin moves a dossier's deadline when the law suspends the term:
// staff only, on its own service's dossiers in its tenant, recorded in the
// history; a date out of range changes nothing.
func TestSetDossierDue(t *testing.T) {
	e := newEnv(t)
	tid, other := e.tenant("alpha"), e.tenant("beta")
	op := e.user(tid, "op@alpha.example")
	ctx, api := e.as("recordsaccess", tid, staff(op))
	due := time.Date(2026, 9, 30, 21, 59, 59, 0, time.UTC)
	d := must(api.CreateDossier(ctx, &pb.CreateDossierRequest{Title: "Accesso generalizzato", DueUnix: due.Unix()}))(t)

	later := due.AddDate(0, 0, 10)
	moved := must(api.SetDossierDue(ctx, &pb.SetDossierDueRequest{Id: d.Id, DueUnix: later.Unix()}))(t)
	if moved.DueUnix != later.Unix() || moved.Version != d.Version+1 {
		t.Fatalf("moved: due %d (want %d), version %d", moved.DueUnix, later.Unix(), moved.Version)
	}
	var entries int
	if err := e.db.Owner.NewRaw("SELECT count(*) FROM dossier_events WHERE tenant_id = ? AND dossier_id = ? AND kind = ?",
		tid, d.Id, string(dossier.EntryDue)).Scan(context.Background(), &entries); err != nil || entries != 1 {
		t.Fatalf("history entries for the deadline: %d, %v", entries, err)
	}

	citizenCtx, citizenAPI := e.as("recordsaccess", tid, citizen(e.citizen(tid, "mario", "mario@alpha.example")))
	otherCtx, otherAPI := e.as("cemetery", tid, staff(op))
	betaCtx, betaAPI := e.as("recordsaccess", other, staff(e.user(other, "op@beta.example")))
	for _, c := range []struct {
		name string
		ctx  context.Context
		call func(context.Context, *pb.SetDossierDueRequest, ...grpc.CallOption) (*pb.Dossier, error)
		req  *pb.SetDossierDueRequest
		want codes.Code
	}{
		{"a citizen", citizenCtx, citizenAPI.SetDossierDue, &pb.SetDossierDueRequest{Id: d.Id, DueUnix: due.Unix()}, codes.PermissionDenied},
		{"another service", otherCtx, otherAPI.SetDossierDue, &pb.SetDossierDueRequest{Id: d.Id, DueUnix: due.Unix()}, codes.NotFound},
		{"another tenant", betaCtx, betaAPI.SetDossierDue, &pb.SetDossierDueRequest{Id: d.Id, DueUnix: due.Unix()}, codes.NotFound},
		{"the year 1900", ctx, api.SetDossierDue, &pb.SetDossierDueRequest{Id: d.Id, DueUnix: -2208988800}, codes.InvalidArgument},
		{"no such dossier", ctx, api.SetDossierDue, &pb.SetDossierDueRequest{Id: 424242, DueUnix: due.Unix()}, codes.NotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.call(c.ctx, c.req)
			wantCode(t, c.name, err, c.want)
		})
	}
	got := must(api.GetDossier(ctx, &pb.GetDossierRequest{Id: d.Id}))(t)
	if got.DueUnix != later.Unix() {
		t.Fatalf("after the refused calls the deadline is %d, want %d", got.DueUnix, later.Unix())
	}
	cleared := must(api.SetDossierDue(ctx, &pb.SetDossierDueRequest{Id: d.Id}))(t)
	if cleared.DueUnix != 0 {
		t.Fatalf("due 0 left %d", cleared.DueUnix)
	}
}

// A citizen's follow-up on a dossier (reopening a ticket, answering the
// office) may move that dossier's status, and only that one: not another
// of theirs, not someone else's, not outside a dossier action.
func TestCitizenMovesTheDossierOfTheirAction(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	mario := e.citizen(tid, "mario", "mario@alpha.example")
	giulia := e.citizen(tid, "giulia", "giulia@alpha.example")
	mine, api := e.as("helpdesk", tid, citizen(mario))
	first := must(api.CreateDossier(mine, &pb.CreateDossierRequest{Title: "Buca in via Roma"}))(t)
	second := must(api.CreateDossier(mine, &pb.CreateDossierRequest{Title: "Lampione spento"}))(t)
	giuliaCtx, _ := e.as("helpdesk", tid, citizen(giulia))
	hers := must(api.CreateDossier(giuliaCtx, &pb.CreateDossierRequest{Title: "Cestino pieno"}))(t)

	begin := func(actor hostapi.Actor, dossier int64) context.Context {
		token, end := e.srv.Begin(hostapi.Call{TenantID: tid, PluginID: "helpdesk", Actor: actor, RequestID: "follow-up", DossierID: dossier})
		t.Cleanup(end)
		return withToken(token)
	}
	about := begin(citizen(mario), first.Id)
	moved := must(api.SetDossierStatus(about, &pb.SetDossierStatusRequest{Id: first.Id, Status: "reopened", Note: "Ancora rotta"}))(t)
	if moved.Status != "reopened" {
		t.Fatalf("status %q", moved.Status)
	}
	for _, c := range []struct {
		name string
		ctx  context.Context
		id   int64
		want codes.Code
	}{
		{"another dossier of theirs", about, second.Id, codes.PermissionDenied},
		{"outside a dossier action", mine, first.Id, codes.PermissionDenied},
		{"someone else's, named as the action's", begin(citizen(mario), hers.Id), hers.Id, codes.NotFound},
		{"a visitor", begin(hostapi.Actor{Kind: hostapi.ActorAnonymous}, first.Id), first.Id, codes.PermissionDenied},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := api.SetDossierStatus(c.ctx, &pb.SetDossierStatusRequest{Id: c.id, Status: "closed"})
			wantCode(t, c.name, err, c.want)
		})
	}
	for _, id := range []int64{second.Id, hers.Id} {
		var status string
		if err := e.db.Owner.NewRaw("SELECT status FROM dossiers WHERE id = ?", id).Scan(context.Background(), &status); err != nil || status != "submitted" {
			t.Errorf("dossier %d moved to %q (%v)", id, status, err)
		}
	}
}
