package sdktest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

const manifest = `
id: sample
version: 0.1.0
category: altro
texts:
  it: {name: Esempio, summary: Prova.}
forms:
  - id: ask
    title: {it: Domanda}
    schema:
      type: object
      required: [text]
      properties:
        text: {type: string, minLength: 2, title: Testo}
        document: {type: string, title: Documento, x-widget: file}
        where:
          type: object
          title: Dove
          properties:
            street: {type: string, title: Via}
actions:
  - {id: ask, label: {it: Chiedi}, form: ask, audience: citizen}
  - {id: close, label: {it: Chiudi}, audience: staff, scope: dossier}
  - {id: payment, label: {it: Esito del pagamento}, audience: system, scope: dossier}
config_schema:
  type: object
  required: [office]
  properties:
    office: {type: string, format: email, title: Ufficio}
`

var ctx = context.Background()

func newHost(t *testing.T) *sdktest.Host {
	h := sdktest.New(t, []byte(manifest))
	now := time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)
	h.Now = func() time.Time { return now }
	return h
}

func TestDossiersPerTenant(t *testing.T) {
	h := newHost(t)
	a := h.For(1, sdktest.Citizen(1))
	b := h.For(2, sdktest.Citizen(1))
	d1, err := a.CreateDossier(ctx, sdk.NewDossier{Title: "  Uno  ", Data: map[string]int{"n": 1}})
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := a.CreateDossier(ctx, sdk.NewDossier{Title: "Due", Status: "queued", Channel: "consultation"})
	d3, _ := b.CreateDossier(ctx, sdk.NewDossier{Title: "Altrove"})
	// 23:00 UTC on 31 December is already the new year in the towns.
	if d1.GetNumber() != "2027-000001" || d2.GetNumber() != "2027-000002" || d3.GetNumber() != "2027-000001" {
		t.Errorf("numbers %s %s %s: per tenant and year", d1.GetNumber(), d2.GetNumber(), d3.GetNumber())
	}
	if d1.GetId() == d3.GetId() || d1.GetTitle() != "Uno" || d1.GetStatus() != "submitted" || d1.GetChannel() != "web" ||
		d1.GetServiceId() != "sample" || d1.GetCitizenId() != 1 {
		t.Errorf("dossier %v", d1)
	}
	if _, err := b.GetDossier(ctx, d1.GetId()); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("another tenant's dossier: %v", err)
	}
	if list, _ := a.ListDossiers(ctx, sdk.DossierQuery{}); len(list) != 2 || list[0].GetId() != d2.GetId() {
		t.Errorf("list, newest first: %v", list)
	}
	if list, _ := a.ListDossiers(ctx, sdk.DossierQuery{Limit: 1, BeforeID: d2.GetId()}); len(list) != 1 || list[0].GetId() != d1.GetId() {
		t.Fatalf("page before %d: %v", d2.GetId(), list)
	}
	if list, _ := a.ListDossiers(ctx, sdk.DossierQuery{Status: "queued"}); len(list) != 1 {
		t.Errorf("list of one status: %v", list)
	}
	for name, nd := range map[string]sdk.NewDossier{
		"blank title":    {Title: " "},
		"bad status":     {Title: "x", Status: "In corso"},
		"bad channel":    {Title: "x", Channel: "fax"},
		"data not a map": {Title: "x", Data: []int{1}},
	} {
		if _, err := a.CreateDossier(ctx, nd); !errors.Is(err, sdk.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestDossiersByActor(t *testing.T) {
	h := newHost(t)
	mine, _ := h.For(1, sdktest.Citizen(1)).CreateDossier(ctx, sdk.NewDossier{Title: "Mia"})
	other := h.For(1, sdktest.Citizen(2))
	staff := h.For(1, sdktest.Staff(9, "operator"))
	anon := h.For(1, sdktest.Anonymous())
	if _, err := other.GetDossier(ctx, mine.GetId()); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("another citizen's dossier: %v", err)
	}
	if list, _ := other.ListDossiers(ctx, sdk.DossierQuery{}); len(list) != 0 {
		t.Errorf("another citizen lists %v", list)
	}
	if _, err := anon.ListDossiers(ctx, sdk.DossierQuery{}); !errors.Is(err, sdk.ErrPermissionDenied) {
		t.Errorf("a visitor lists: %v", err)
	}
	if _, err := h.For(1, sdktest.Citizen(1)).SetDossierStatus(ctx, mine.GetId(), "withdrawn", ""); !errors.Is(err, sdk.ErrPermissionDenied) {
		t.Errorf("a citizen sets a status: %v", err)
	}
	d, err := staff.SetDossierStatus(ctx, mine.GetId(), "in_progress", "Presa in carico")
	if err != nil || d.GetStatus() != "in_progress" {
		t.Fatalf("staff sets a status: %v, %v", d, err)
	}
	ev := h.Tenant(1).Events
	if len(ev) != 2 || ev[1].Note != "Presa in carico" || ev[1].Actor != "plugin:sample/staff:9" {
		t.Errorf("history %+v", ev)
	}
	// A dossier opened by a visitor belongs to nobody.
	if d, err := anon.CreateDossier(ctx, sdk.NewDossier{Title: "Anonima"}); err != nil || d.GetCitizenId() != 0 {
		t.Errorf("anonymous dossier: %v, %v", d, err)
	}
}

// The host acting on an event may do what staff may, on any dossier of
// the service, and is recorded as the system.
func TestSystemActor(t *testing.T) {
	h := newHost(t)
	mine, _ := h.For(1, sdktest.Citizen(1)).CreateDossier(ctx, sdk.NewDossier{Title: "Mia"})
	sys := h.For(1, sdktest.System())
	if d, err := sys.GetDossier(ctx, mine.GetId()); err != nil || d.GetId() != mine.GetId() {
		t.Fatalf("the system reads a citizen's dossier: %v, %v", d, err)
	}
	if list, err := sys.ListDossiers(ctx, sdk.DossierQuery{}); err != nil || len(list) != 1 {
		t.Errorf("the system lists %v, %v", list, err)
	}
	if _, err := sys.SetDossierStatus(ctx, mine.GetId(), "paid", "Pagamento ricevuto"); err != nil {
		t.Fatalf("the system sets a status: %v", err)
	}
	if _, err := sys.AddDossierMessage(ctx, mine.GetId(), "Solo per l'ufficio.", true); err != nil {
		t.Errorf("the system writes an internal note: %v", err)
	}
	if _, err := sys.Notify(ctx, sdk.Notification{Channel: "email", Body: "Ciao"}); !errors.Is(err, sdk.ErrInvalid) {
		t.Errorf("the system has no address of its own: %v", err)
	}
	ev := h.Tenant(1).Events
	if len(ev) != 2 || ev[1].Status != "paid" || ev[1].Actor != "plugin:sample/system:0" {
		t.Errorf("history %+v", ev)
	}
	event := sdk.PaymentEvent{PaymentID: 7, Status: sdk.PaymentComplete, AmountCents: 1500, Reason: "Diritti"}
	req := h.Request(sdktest.Call{Action: sdk.ActionPayment, Actor: sdktest.System(), DossierID: mine.GetId(), Values: event})
	if req.Actor.Kind != sdk.ActorSystem || req.Actor.ID != 0 || req.DossierID != mine.GetId() {
		t.Errorf("event request %+v", req)
	}
	var got sdk.PaymentEvent
	if err := req.Decode(&got); err != nil || got != event {
		t.Errorf("event values %+v, %v", got, err)
	}
}

func TestReservations(t *testing.T) {
	h := newHost(t)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, sdk.Zone)
	h.Now = func() time.Time { return now }
	a, b := h.For(1, sdktest.Citizen(1)), h.For(1, sdktest.Citizen(2))
	slot := func(from, to int) sdk.NewReservation {
		day := time.Date(2026, 3, 5, 0, 0, 0, 0, sdk.Zone)
		return sdk.NewReservation{Resource: "room:a", Start: day.Add(time.Duration(from) * time.Hour), End: day.Add(time.Duration(to) * time.Hour)}
	}
	held := slot(9, 11)
	held.HoldMinutes = 15
	r1, err := a.Reserve(ctx, held)
	if err != nil || r1.GetStatus() != "held" || len(r1.GetCode()) != 8 || r1.GetExpiresUnix() != now.Add(15*time.Minute).Unix() {
		t.Fatalf("hold: %v, %v", r1, err)
	}
	if _, err := b.Reserve(ctx, slot(10, 12)); !errors.Is(err, sdk.ErrConflict) {
		t.Errorf("overlap: %v, want ErrConflict", err)
	}
	if r, err := b.Reserve(ctx, slot(11, 12)); err != nil || r.GetStatus() != "confirmed" {
		t.Errorf("right after: %v, %v", r, err)
	}
	other := slot(10, 12)
	other.Resource = "room:b"
	if _, err := b.Reserve(ctx, other); err != nil {
		t.Errorf("another resource: %v", err)
	}
	if _, err := h.For(2, sdktest.Citizen(1)).Reserve(ctx, slot(10, 12)); err != nil {
		t.Errorf("another tenant: %v", err)
	}
	if _, err := b.CancelReservation(ctx, r1.GetId()); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("cancel another citizen's: %v", err)
	}
	now = now.Add(16 * time.Minute)
	if _, err := b.Reserve(ctx, slot(9, 10)); err != nil {
		t.Errorf("after the hold expired: %v", err)
	}
	if rs := h.Tenant(1).Reservations; rs[0].GetStatus() != "cancelled" {
		t.Errorf("the expired hold in the way: %v", rs[0])
	}
	for name, nr := range map[string]sdk.NewReservation{
		"past":        {Resource: "room:a", Start: now.Add(-time.Hour), End: now},
		"backwards":   {Resource: "room:a", Start: now.Add(2 * time.Hour), End: now.Add(time.Hour)},
		"long hold":   {Resource: "room:a", Start: now.Add(time.Hour), End: now.Add(2 * time.Hour), HoldMinutes: 61},
		"bad name":    {Resource: "-room", Start: now.Add(time.Hour), End: now.Add(2 * time.Hour)},
		"next year+1": {Resource: "room:a", Start: now.AddDate(1, 0, 1), End: now.AddDate(1, 0, 2)},
	} {
		if _, err := a.Reserve(ctx, nr); !errors.Is(err, sdk.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := h.For(1, sdktest.Anonymous()).Reserve(ctx, slot(20, 21)); !errors.Is(err, sdk.ErrPermissionDenied) {
		t.Errorf("a visitor reserves: %v", err)
	}
}

func TestSettings(t *testing.T) {
	h := newHost(t)
	a := h.For(1, sdktest.Citizen(1))
	if err := a.PutSetting(ctx, "round.2026", map[string]int{"n": 3}); err != nil {
		t.Fatal(err)
	}
	var v struct{ N int }
	if ok, err := h.For(1, sdktest.Staff(2)).GetSetting(ctx, "round.2026", &v); !ok || err != nil || v.N != 3 {
		t.Errorf("read by another actor of the tenant: %v %v %v", ok, err, v)
	}
	if ok, _ := h.For(2, sdktest.Citizen(1)).GetSetting(ctx, "round.2026", &v); ok {
		t.Error("read from another tenant")
	}
	if err := a.PutSetting(ctx, "round.2026", nil); err != nil || string(h.Tenant(1).Settings["round.2026"]) != "null" {
		t.Errorf("nil: %v, %s", err, h.Tenant(1).Settings["round.2026"])
	}
	if err := a.PutSetting(ctx, "Round/2026", 1); !errors.Is(err, sdk.ErrInvalid) {
		t.Errorf("bad key: %v", err)
	}
}

func TestNotificationsAndPayments(t *testing.T) {
	h := newHost(t)
	a := h.For(1, sdktest.Citizen(4))
	if _, err := a.Notify(ctx, sdk.Notification{Channel: "email", Subject: "Oggetto", Body: "Testo"}); err != nil {
		t.Fatal(err)
	}
	if n := h.Tenant(1).Notifications; len(n) != 1 || n[0].To != "citizen:4" {
		t.Errorf("to the actor: %+v", n)
	}
	for name, n := range map[string]sdk.Notification{
		"sms to the actor":   {Channel: "sms", Body: "x"},
		"sms to a bad phone": {Channel: "sms", To: "02 123", Body: "x"},
		"bad e-mail":         {Channel: "email", To: "nobody", Body: "x"},
		"no body":            {Channel: "email", Body: " "},
		"two-line subject":   {Channel: "email", Subject: "a\nb", Body: "x"},
		"fax":                {Channel: "fax", Body: "x"},
	} {
		if _, err := a.Notify(ctx, n); !errors.Is(err, sdk.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	d, _ := a.CreateDossier(ctx, sdk.NewDossier{Title: "Con pagamento"})
	p, err := a.CreatePayment(ctx, sdk.NewPayment{AmountCents: 1500, Reason: "Diritti", DossierID: d.GetId()})
	if err != nil || p.GetCurrency() != "EUR" || p.GetStatus() != "creation_pending" || len(p.GetIuv()) != 17 || len(p.GetNoticeCode()) != 18 {
		t.Fatalf("payment %v, %v", p, err)
	}
	if _, err := h.For(1, sdktest.Citizen(5)).CreatePayment(ctx, sdk.NewPayment{AmountCents: 1, Reason: "x", DossierID: d.GetId()}); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("on another citizen's dossier: %v", err)
	}
	if _, err := a.CreatePayment(ctx, sdk.NewPayment{AmountCents: 1, Reason: strings.Repeat("x", 141)}); !errors.Is(err, sdk.ErrInvalid) {
		t.Errorf("reason over pagoPA's 140: %v", err)
	}
	if err := a.Audit(ctx, "Sample Submit", "", nil); !errors.Is(err, sdk.ErrInvalid) {
		t.Errorf("bad audit action: %v", err)
	}
}

func TestFailOnAndContext(t *testing.T) {
	h := newHost(t)
	a := h.For(1, sdktest.Citizen(1))
	boom := errors.New("boom")
	h.FailOn("Notify", boom)
	if _, err := a.Notify(ctx, sdk.Notification{Channel: "email", Body: "x"}); err != boom {
		t.Errorf("FailOn: %v", err)
	}
	h.FailOn("Notify", nil)
	if _, err := a.Notify(ctx, sdk.Notification{Channel: "email", Body: "x"}); err != nil {
		t.Errorf("after FailOn(nil): %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	var he *sdk.HostError
	if _, err := a.CreateDossier(cancelled, sdk.NewDossier{Title: "x"}); !errors.As(err, &he) || he.Code.String() != "Canceled" {
		t.Errorf("cancelled context: %v", err)
	}
}

// recorder is a testing.TB that keeps what a helper reports, and stops
// the goroutine on Fatal as testing does.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// run calls f as a test body on rec and returns what it reported.
func run(rec *recorder, f func()) string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return strings.Join(rec.msgs, "\n")
}

func TestRequestRefusesWhatTheHostWouldNotSend(t *testing.T) {
	config := map[string]any{"office": "urp@comune.example"}
	tests := []struct {
		name string
		call sdktest.Call
		want string
	}{
		{"unknown action", sdktest.Call{Action: "delete", Config: config}, `action "delete"`},
		{"values against the form", sdktest.Call{Action: "ask", Values: map[string]any{"text": "x"}, Config: config}, "form ask"},
		{"config against its schema", sdktest.Call{Action: "ask", Values: map[string]any{"text": "ok"},
			Config: map[string]any{"office": "nobody"}}, "config"},
		{"language", sdktest.Call{Action: "ask", Lang: "fr", Values: map[string]any{"text": "ok"}, Config: config}, `"fr"`},
		{"actor", sdktest.Call{Action: "ask", Actor: sdk.Actor{Kind: "citizen"}, Values: map[string]any{"text": "ok"}, Config: config}, "without an id"},
		{"system with an id", sdktest.Call{Action: "payment", Actor: sdk.Actor{Kind: "system", ID: 3}, Config: config}, "system actor with id 3"},
		{"an event taken by a person", sdktest.Call{Action: "payment", Actor: sdktest.Staff(1), Config: config}, "only the host calls it"},
		{"the system taking a person's action", sdktest.Call{Action: "ask", Actor: sdktest.System(), Values: map[string]any{"text": "ok"},
			Config: config}, "the host calls only events"},
		{"an event without its values", sdktest.Call{Action: "payment", Actor: sdktest.System(), Values: map[string]any{"status": "paid"},
			Config: config}, "sdk.PaymentEvent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			h := sdktest.New(rec, []byte(manifest))
			if got := run(rec, func() { h.Request(tc.call) }); !strings.Contains(got, tc.want) {
				t.Errorf("reported %q, want %q in it", got, tc.want)
			}
		})
	}
	h := sdktest.New(t, []byte(manifest))
	req := h.Request(sdktest.Call{Tenant: 3, Action: "ask", Values: map[string]any{"text": "ok"}, Config: config})
	if req.TenantID != 3 || req.Lang != "it" || req.Actor.Kind != "citizen" || string(req.Values) != `{"text":"ok"}` {
		t.Errorf("request %+v", req)
	}
	// A town that has not configured the service yet: {} reaches the plugin.
	if req := h.Request(sdktest.Call{Action: "ask", Values: map[string]any{"text": "ok"}}); string(req.Config) != "{}" {
		t.Errorf("config of an unconfigured service: %s", req.Config)
	}
}

type respond sdk.Response

func (r *respond) Handle(context.Context, *sdk.Request) (*sdk.Response, error) {
	res := sdk.Response(*r)
	return &res, nil
}

func TestHandleChecksTheResponse(t *testing.T) {
	config := map[string]any{"office": "urp@comune.example"}
	tests := []struct {
		name string
		res  sdk.Response
		want string // "" for none
	}{
		{"ok", sdk.Response{Outcome: sdk.OutcomeOK}, ""},
		{"field of a nested object", *sdk.Invalid("/where/street", "Manca la via."), ""},
		{"no such field", *sdk.Invalid("/txt", "Errore."), `"/txt"`},
		{"not a pointer", *sdk.Invalid("text", "Errore."), `"text"`},
		{"error without a message", *sdk.Invalid("/text", ""), "without a message"},
		{"refused in silence", sdk.Response{Outcome: sdk.OutcomeRefused}, "without a message"},
		{"unknown outcome", sdk.Response{Outcome: "nope"}, "unknown outcome"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			h := sdktest.New(rec, []byte(manifest))
			got := run(rec, func() {
				res := respond(tc.res)
				_, _ = h.Handle(ctx, &res, sdktest.Call{Action: "ask", Values: map[string]any{"text": "ok"}, Config: config})
			})
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("reported %q, want %q", got, tc.want)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	bad := strings.NewReplacer(
		"text: {type: string, minLength: 2, title: Testo}",
		"text: {type: string, minLength: 2, title: Testo, x-title: {de: Text, Zeile, en: Text}, x-widget: radio}",
		"        where:",
		"        colour: {type: string, title: Colore, x-title: {de: Farbe, en: Colour}, enum: [red, green], x-enum-titles: {it: [Rosso]}}\n        where:",
	).Replace(manifest)
	m, err := sdk.ParseManifest([]byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(sdktest.Problems(m), "\n")
	for _, want := range []string{
		"texts.de.name: missing",
		"texts.it.audience: missing",
		"forms[ask].title.de: missing",
		"actions[ask].label.en: missing",
		`x-title: "Zeile" is not a language`,
		"x-widget radio: for a choice",
		"colour.x-enum-titles.it: want 2 titles",
		"colour.x-enum-titles.de: want 2 titles",
		"properties.where.properties.street.x-title.de: missing",
		"forms[ask].schema.examples: give at least one example",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

func TestProblemsWithExamples(t *testing.T) {
	withExamples := strings.Replace(manifest, "      required: [text]\n",
		"      required: [text]\n      examples: [{text: ok}, {text: x}]\n", 1)
	m, err := sdk.ParseManifest([]byte(withExamples))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(sdktest.Problems(m), "\n")
	if !strings.Contains(got, "forms[ask].schema.examples[1]") || strings.Contains(got, "examples[0]") ||
		strings.Contains(got, "give at least one example") {
		t.Errorf("problems:\n%s", got)
	}
	h := sdktest.New(t, []byte(withExamples))
	if ex := h.Example("ask"); ex["text"] != "ok" {
		t.Errorf("Example: %v", ex)
	}
}

func TestUploadsDossierActionsAndDocuments(t *testing.T) {
	h := newHost(t)
	pdf := []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
	req := h.Request(sdktest.Call{Action: "ask", Values: map[string]any{"text": "ciao"},
		Files: []sdktest.Upload{{Field: "/document", Name: "id.pdf", Content: pdf}}})
	if len(req.Files) != 1 || req.Files[0].ContentType != "application/pdf" || req.Files[0].Size != int64(len(pdf)) {
		t.Fatalf("files %+v", req.Files)
	}
	var values map[string]string
	if err := req.Decode(&values); err != nil || values["document"] != fmt.Sprint(req.Files[0].AttachmentID) {
		t.Fatalf("values %v (%v): the field must hold the attachment id", values, err)
	}
	// Another actor cannot keep this citizen's upload.
	if _, err := h.For(1, sdktest.Citizen(2)).CreateDossier(ctx, sdk.NewDossier{Title: "x",
		AttachmentIDs: []int64{req.Files[0].AttachmentID}}); !errors.Is(err, sdk.ErrInvalid) {
		t.Fatalf("someone else's upload kept: %v", err)
	}
	d, err := req.Host.CreateDossier(ctx, sdk.NewDossier{Title: "Domanda", Office: "anagrafe", Priority: "high",
		Due: h.Now().AddDate(0, 0, 30), AttachmentIDs: []int64{req.Files[0].AttachmentID}})
	if err != nil {
		t.Fatal(err)
	}
	if d.GetOffice() != "anagrafe" || d.GetPriority() != "high" || d.GetDueUnix() == 0 || d.GetVersion() != 1 {
		t.Fatalf("dossier %v", d)
	}
	if _, err := req.Host.CreateDossier(ctx, sdk.NewDossier{Title: "x", Priority: "soon"}); !errors.Is(err, sdk.ErrInvalid) {
		t.Fatalf("unknown priority: %v", err)
	}
	staff := h.For(1, sdktest.Staff(9))
	if _, err := staff.AddDossierMessage(ctx, d.GetId(), "Pratica accolta.", false); err != nil {
		t.Fatal(err)
	}
	if _, err := req.Host.AddDossierMessage(ctx, d.GetId(), "nota", true); !errors.Is(err, sdk.ErrPermissionDenied) {
		t.Fatalf("citizen wrote an internal note: %v", err)
	}
	if _, err := staff.IssueDocument(ctx, sdk.NewDocument{DossierID: d.GetId(), Name: "x.pdf", PDF: []byte("hello")}); !errors.Is(err, sdk.ErrInvalid) {
		t.Fatalf("not a PDF issued: %v", err)
	}
	if _, err := staff.IssueDocument(ctx, sdk.NewDocument{DossierID: d.GetId(), Name: "concessione.pdf", PDF: pdf, Sign: true}); err != nil {
		t.Fatal(err)
	}
	got := h.Tenant(1)
	if len(got.Messages) != 1 || len(got.Attachments) != 2 || got.Attachments[0].DossierID != d.GetId() ||
		!got.Attachments[1].Signed {
		t.Fatalf("tenant %+v", got)
	}
	if r := h.Request(sdktest.Call{Action: "close", Actor: sdktest.Staff(9), DossierID: d.GetId()}); r.DossierID != d.GetId() {
		t.Fatalf("dossier id %d", r.DossierID)
	}
}

// The fake records whom a dossier is assigned to, and refuses what is no
// address as the host does.
func TestDossierAssignee(t *testing.T) {
	h := newHost(t)
	c := h.For(1, sdktest.Citizen(1))
	tests := []struct {
		name, assignee string
		want           string // recorded; "" for nobody
		invalid        bool
	}{
		{name: "nobody"},
		{name: "an operator", assignee: "mario.rossi@trezzo.example", want: "mario.rossi@trezzo.example"},
		{name: "in capitals, as the host matches", assignee: "Mario.Rossi@Trezzo.example", want: "mario.rossi@trezzo.example"},
		{name: "no domain", assignee: "mario.rossi", invalid: true},
		{name: "a display name", assignee: "Mario <mario@trezzo.example>", invalid: true},
		{name: "blank", assignee: " ", invalid: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.Tenant(1).Dossiers)
			d, err := c.CreateDossier(ctx, sdk.NewDossier{Title: "Segnalazione", Assignee: tc.assignee})
			if tc.invalid {
				if !errors.Is(err, sdk.ErrInvalid) || !strings.Contains(err.Error(), "assignee_email") {
					t.Fatalf("%v, want ErrInvalid about assignee_email", err)
				}
				if len(h.Tenant(1).Dossiers) != before {
					t.Fatal("a refused dossier was stored")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := h.Tenant(1).Assignees[d.GetId()]
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("assignee %q (recorded: %v), want %q", got, ok, tc.want)
			}
		})
	}
}

// AssignDossier: staff and the system only, as the host; what it is
// given is recorded, what it is not kept.
func TestAssignDossier(t *testing.T) {
	h := newHost(t)
	op := sdktest.Staff(3)
	d, err := h.For(1, sdktest.Citizen(1)).CreateDossier(ctx, sdk.NewDossier{Title: "Segnalazione", Office: "urp"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		actor    sdk.Actor
		tenant   int64
		a        sdk.Assignment
		err      error  // nil: done
		assignee string // recorded after it
		office   string
	}{
		{name: "a citizen", actor: sdktest.Citizen(1), a: sdk.Assignment{ToActor: true}, err: sdk.ErrPermissionDenied, office: "urp"},
		{name: "nothing asked", actor: op, a: sdk.Assignment{}, err: sdk.ErrInvalid, office: "urp"},
		{name: "both", actor: op, a: sdk.Assignment{ToActor: true, Email: "anna@trezzo.example"}, err: sdk.ErrInvalid, office: "urp"},
		{name: "the system as an operator", actor: sdktest.System(), a: sdk.Assignment{ToActor: true}, err: sdk.ErrInvalid, office: "urp"},
		{name: "no address", actor: op, a: sdk.Assignment{Email: "anna"}, err: sdk.ErrInvalid, office: "urp"},
		{name: "no slug", actor: op, a: sdk.Assignment{Office: "Ufficio tecnico"}, err: sdk.ErrInvalid, office: "urp"},
		{name: "another tenant's", actor: op, tenant: 2, a: sdk.Assignment{ToActor: true}, err: sdk.ErrNotFound, office: "urp"},
		{name: "to the actor", actor: op, a: sdk.Assignment{ToActor: true}, assignee: "staff:3", office: "urp"},
		{name: "by address, to an office", actor: op, a: sdk.Assignment{Email: "Anna@Trezzo.example", Office: "tecnico"},
			assignee: "anna@trezzo.example", office: "tecnico"},
		{name: "the system, by address", actor: sdktest.System(), a: sdk.Assignment{Email: "luca@trezzo.example"},
			assignee: "luca@trezzo.example", office: "tecnico"},
		{name: "an office only keeps the operator", actor: op, a: sdk.Assignment{Office: "urp"}, assignee: "luca@trezzo.example", office: "urp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.tenant == 0 {
				tc.tenant = 1
			}
			before := h.Tenant(1).Dossiers[0].GetVersion()
			got, err := h.For(tc.tenant, tc.actor).AssignDossier(ctx, d.GetId(), tc.a)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("%v, want %v", err, tc.err)
				}
			} else if err != nil || got.GetOffice() != tc.office || got.GetVersion() != before+1 {
				t.Fatalf("%v, %v; want office %s, version %d", got, err, tc.office, before+1)
			}
			st := h.Tenant(1)
			if st.Assignees[d.GetId()] != tc.assignee || st.Dossiers[0].GetOffice() != tc.office {
				t.Fatalf("assignee %q, office %q; want %q, %q", st.Assignees[d.GetId()], st.Dossiers[0].GetOffice(), tc.assignee, tc.office)
			}
		})
	}
	// The dossier names its operator: the actor, or one the fake made up
	// for an address, the same each time.
	mine, err := h.For(1, op).AssignDossier(ctx, d.GetId(), sdk.Assignment{ToActor: true})
	if err != nil || mine.GetAssigneeId() != 3 || mine.GetAssigneeName() != op.Name {
		t.Fatalf("%v, %v", mine, err)
	}
	anna, err := h.For(1, op).AssignDossier(ctx, d.GetId(), sdk.Assignment{Email: "anna@trezzo.example"})
	if err != nil || anna.GetAssigneeId() == 0 || anna.GetAssigneeId() == 3 || anna.GetAssigneeName() != "anna@trezzo.example" {
		t.Fatalf("%v, %v", anna, err)
	}
	again, err := h.For(1, op).AssignDossier(ctx, d.GetId(), sdk.Assignment{Email: "ANNA@trezzo.example"})
	if err != nil || again.GetAssigneeId() != anna.GetAssigneeId() || again.GetVersion() != anna.GetVersion() {
		t.Fatalf("the same operator again: %v, %v (before %v)", again, err, anna)
	}
}

func TestReservationsAndPayments(t *testing.T) {
	h := newHost(t)
	c := h.For(1, sdktest.Citizen(1))
	start := h.Now().Add(24 * time.Hour)
	r, err := c.Reserve(ctx, sdk.NewReservation{Resource: "room-1", Start: start, End: start.Add(time.Hour), HoldMinutes: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetReservation(ctx, 0, r.GetCode()); err != nil || got.GetId() != r.GetId() {
		t.Fatalf("by code: %v %v", got, err)
	}
	if _, err := h.For(1, sdktest.Citizen(2)).GetReservation(ctx, r.GetId(), ""); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("another citizen's reservation: %v", err)
	}
	if got, err := c.ConfirmReservation(ctx, r.GetId()); err != nil || got.GetStatus() != "confirmed" {
		t.Fatalf("confirm: %v %v", got, err)
	}
	p, err := c.CreatePayment(ctx, sdk.NewPayment{AmountCents: 1500, Reason: "Sala"})
	if err != nil {
		t.Fatal(err)
	}
	h.SetPaymentStatus(1, p.GetId(), "complete")
	if got, err := c.GetPayment(ctx, p.GetId()); err != nil || got.GetStatus() != "complete" {
		t.Fatalf("payment: %v %v", got, err)
	}
	if _, err := h.For(2, sdktest.Staff(1)).GetPayment(ctx, p.GetId()); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("another tenant's payment: %v", err)
	}
}
