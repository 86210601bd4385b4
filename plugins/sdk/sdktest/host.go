// Package sdktest is an in-memory Host API for the unit tests of a plugin.
//
// It keeps what a plugin stores — dossiers with their status history,
// reservations, settings, notifications, payments, audit entries — per
// tenant, numbers dossiers per tenant and year, refuses overlapping
// reservations, and refuses the values the real host refuses, with the
// same kinds of error (test them with errors.Is against sdk.ErrNotFound,
// sdk.ErrConflict, ...). It also builds the Request the host would send,
// validating the values against the action's form as the host does
// before it calls a plugin.
//
// It is for unit tests only: it has no processes, no call tokens, no
// database. The host's real behaviour is tested in core/hostapi and
// core/pluginhost, against PostgreSQL and real plugin processes.
//
//	h := sdktest.New(t, manifest)
//	res, err := h.Handle(ctx, &service{}, sdktest.Call{Action: "submit", Values: values})
//	got := h.Tenant(1) // what the plugin left in tenant 1
package sdktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// Host is the fake host of one plugin, holding the state of every tenant.
// It is safe for concurrent use.
type Host struct {
	t        testing.TB
	manifest *pb.Manifest
	forms    map[string]*jsonschema.Schema
	config   *jsonschema.Schema

	// Now is the host's clock: dossier dates and numbers, holds and their
	// expiry. Set it before the first call to test time-dependent rules.
	Now func() time.Time

	mu      sync.Mutex
	tenants map[int64]*tenant
	lastID  int64 // ids are unique across tenants, as identity columns are
	fail    map[string]error
	reqs    int
}

// New is an empty host for the plugin of manifest; a manifest that does
// not parse fails the test.
func New(t testing.TB, manifest []byte) *Host {
	t.Helper()
	m, err := sdk.ParseManifest(manifest)
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	h := &Host{t: t, manifest: m, forms: map[string]*jsonschema.Schema{}, Now: time.Now,
		tenants: map[int64]*tenant{}, fail: map[string]error{}}
	for _, f := range m.GetForms() {
		if h.forms[f.GetId()], err = sdk.CompileSchema(f.GetSchemaJson()); err != nil {
			t.Fatalf("sdktest: form %s: %v", f.GetId(), err)
		}
	}
	if len(m.GetConfigSchemaJson()) > 0 {
		if h.config, err = sdk.CompileSchema(m.GetConfigSchemaJson()); err != nil {
			t.Fatalf("sdktest: config schema: %v", err)
		}
	}
	return h
}

// Manifest is the parsed manifest.
func (h *Host) Manifest() *pb.Manifest { return h.manifest }

// Citizen is a logged-in citizen of the tenant.
func Citizen(id int64) sdk.Actor {
	return sdk.Actor{Kind: "citizen", ID: id, Name: fmt.Sprintf("Citizen %d", id)}
}

// Staff is a member of the tenant's staff with roles.
func Staff(id int64, roles ...string) sdk.Actor {
	return sdk.Actor{Kind: "staff", ID: id, Name: fmt.Sprintf("Staff %d", id), Roles: roles}
}

// Anonymous is a visitor who has not logged in.
func Anonymous() sdk.Actor { return sdk.Actor{Kind: "anonymous"} }

// System is the host acting on its own, as it calls an event's action
// (sdk.ActionPayment): it may do what staff may, and nobody else takes
// those actions.
func System() sdk.Actor { return sdk.Actor{Kind: sdk.ActorSystem} }

// Call is one request as a test describes it; Request fills in the rest.
type Call struct {
	Tenant int64     // default 1
	Actor  sdk.Actor // default Citizen(1)
	Lang   string    // default "it"
	Action string
	// Values is the submitted form: anything that marshals to JSON, or
	// JSON itself (json.RawMessage, []byte, string).
	Values any
	// Config is the tenant's configuration of the service, likewise. It
	// must validate against the config schema, as what a town's admin
	// saves does. nil is a town that enabled the service and has not
	// configured it yet: the plugin gets {}, unchecked, as from the host.
	Config any
	// DossierID is the dossier an action of scope "dossier" is about; it
	// must be one the actor may read, as the host checks.
	DossierID int64
	// Files are uploads with the form. As the host does, Request stores
	// each one, sniffing its type, and sets its field's value to the
	// attachment id.
	Files []Upload
}

// Upload is a file a test sends with a form.
type Upload struct {
	Field   string // JSON pointer of a top-level field, e.g. "/documents"
	Name    string
	Content []byte
}

// Request is the request the host would send for c, its Host bound to
// c's tenant and actor. Like the host, it never hands a plugin values that
// do not validate against the action's form, nor a saved configuration
// that does not validate against the config schema: it fails the test
// instead.
func (h *Host) Request(c Call) *sdk.Request {
	h.t.Helper()
	if c.Tenant == 0 {
		c.Tenant = 1
	}
	if c.Actor.Kind == "" {
		c.Actor = Citizen(1)
	}
	if c.Lang == "" {
		c.Lang = "it"
	}
	if err := validActor(c.Actor); err != nil {
		h.t.Fatalf("sdktest: %v", err)
	}
	if !contains(sdk.Languages, c.Lang) {
		h.t.Fatalf("sdktest: language %q: the host speaks %v", c.Lang, sdk.Languages)
	}
	action := h.action(c.Action)
	if action == nil {
		h.t.Fatalf("sdktest: action %q is not in the manifest", c.Action)
	}
	h.checkSystem(c, action)
	h.checkDossier(c, action)
	values := h.json("values", c.Values)
	values, files := h.upload(c, values)
	if f := action.GetFormId(); f != "" {
		if err := validate(h.forms[f], values); err != nil {
			h.t.Fatalf("sdktest: values for form %s would not reach the plugin: %v", f, err)
		}
	}
	config := h.json("config", c.Config)
	if h.config != nil && c.Config != nil {
		if err := validate(h.config, config); err != nil {
			h.t.Fatalf("sdktest: config would not be accepted by the host: %v", err)
		}
	}
	h.mu.Lock()
	h.reqs++
	n := h.reqs
	h.mu.Unlock()
	return &sdk.Request{
		TenantID:   c.Tenant,
		TenantSlug: fmt.Sprintf("tenant-%d", c.Tenant),
		Lang:       c.Lang,
		RequestID:  fmt.Sprintf("test-%d", n),
		Actor:      c.Actor,
		Action:     c.Action,
		Values:     values,
		Config:     config,
		DossierID:  c.DossierID,
		Files:      files,
		Host:       &bound{h: h, tenant: c.Tenant, actor: c.Actor, about: c.DossierID},
	}
}

// Handle runs c through svc as the host would, and checks the response
// the way the host reads it: a known outcome, and field errors that point
// at fields of the action's form.
func (h *Host) Handle(ctx context.Context, svc sdk.Service, c Call) (*sdk.Response, error) {
	h.t.Helper()
	req := h.Request(c)
	res, err := svc.Handle(ctx, req)
	if err != nil {
		return res, err
	}
	if res == nil {
		h.t.Errorf("sdktest: %s: nil response without error", c.Action)
		return res, nil
	}
	switch res.Outcome {
	case "", sdk.OutcomeOK:
	case sdk.OutcomeRefused:
		if res.Message == "" {
			h.t.Errorf("sdktest: %s: refused without a message", c.Action)
		}
	case sdk.OutcomeInvalid:
		if len(res.Errors) == 0 {
			h.t.Errorf("sdktest: %s: invalid without field errors", c.Action)
		}
	default:
		h.t.Errorf("sdktest: %s: unknown outcome %q", c.Action, res.Outcome)
	}
	form := h.form(h.action(c.Action).GetFormId())
	for _, fe := range res.Errors {
		if fe.Message == "" {
			h.t.Errorf("sdktest: %s: field error on %s without a message", c.Action, fe.Field)
		}
		if form == nil || !hasField(form.GetSchemaJson(), fe.Field) {
			h.t.Errorf("sdktest: %s: field error on %q, which is no field of the action's form", c.Action, fe.Field)
		}
	}
	return res, nil
}

// FailOn makes every later call of the Host method named method ("Notify",
// "Reserve", ...) return err, until FailOn(method, nil): to test how a
// plugin copes with a host that refuses or is gone.
func (h *Host) FailOn(method string, err error) {
	h.t.Helper()
	if !contains(methods, method) {
		h.t.Fatalf("sdktest: FailOn: no Host method %q", method)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		delete(h.fail, method)
	} else {
		h.fail[method] = err
	}
}

var methods = []string{"CreateDossier", "GetDossier", "ListDossiers", "SetDossierStatus", "SetDossierDue", "AssignDossier",
	"AddDossierMessage", "IssueDocument", "Reserve", "CancelReservation", "GetReservation", "ConfirmReservation", "GetSetting",
	"PutSetting", "Notify", "CreatePayment", "GetPayment", "Audit", "DefineResources", "BookingDays", "BookingSlots",
	"Book", "GetBooking", "ApproveBooking", "DeclineBooking", "CancelBooking", "Enqueue"}

// For is the Host API bound to tenant and actor, as the host binds it for
// one request. Request uses it; a test may call it to set state up.
func (h *Host) For(tenantID int64, actor sdk.Actor) sdk.Host {
	return &bound{h: h, tenant: tenantID, actor: actor}
}

func (h *Host) action(id string) *pb.Action {
	for _, a := range h.manifest.GetActions() {
		if a.GetId() == id {
			return a
		}
	}
	return nil
}

func (h *Host) form(id string) *pb.Form {
	for _, f := range h.manifest.GetForms() {
		if f.GetId() == id {
			return f
		}
	}
	return nil
}

// json turns what a test passed into JSON; nil is {}.
func (h *Host) json(what string, v any) json.RawMessage {
	h.t.Helper()
	switch t := v.(type) {
	case nil:
		return json.RawMessage(`{}`)
	case json.RawMessage:
		return t
	case []byte:
		return t
	case string:
		return json.RawMessage(t)
	}
	b, err := json.Marshal(v)
	if err != nil {
		h.t.Fatalf("sdktest: %s: %v", what, err)
	}
	if string(b) == "null" { // a typed nil, say a nil map
		return json.RawMessage(`{}`)
	}
	return b
}

func validate(s *jsonschema.Schema, doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// hasField reports whether the JSON pointer names a property of the form
// (or of one of its nested objects).
func hasField(schema []byte, pointer string) bool {
	var s map[string]any
	if json.Unmarshal(schema, &s) != nil || !strings.HasPrefix(pointer, "/") {
		return false
	}
	for _, tok := range strings.Split(pointer[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		props, _ := s["properties"].(map[string]any)
		next, ok := props[tok].(map[string]any)
		if !ok {
			return false
		}
		s = next
	}
	return true
}

func validActor(a sdk.Actor) error {
	switch a.Kind {
	case "citizen", "staff":
		if a.ID <= 0 {
			return fmt.Errorf("%s actor without an id", a.Kind)
		}
	case "anonymous", sdk.ActorSystem:
		if a.ID != 0 {
			return fmt.Errorf("%s actor with id %d", a.Kind, a.ID)
		}
	default:
		return fmt.Errorf("actor kind %q: want citizen, staff, anonymous or system", a.Kind)
	}
	return nil
}

// checkSystem fails the test when c pairs an event's action and an actor
// the way the host never does: it calls events, and only events, as the
// system, with the values of the event.
func (h *Host) checkSystem(c Call, action *pb.Action) {
	h.t.Helper()
	event := action.GetAudience() == sdk.AudienceSystem
	switch {
	case event && c.Actor.Kind != sdk.ActorSystem:
		h.t.Fatalf("sdktest: action %q is an event: only the host calls it, as sdktest.System()", c.Action)
	case !event && c.Actor.Kind == sdk.ActorSystem:
		h.t.Fatalf("sdktest: the host calls only events (audience system) as the system, not %q", c.Action)
	case event && c.Action == sdk.ActionPayment:
		var ev sdk.PaymentEvent
		raw := h.json("values", c.Values)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ev); err != nil || ev.PaymentID <= 0 || !contains(sdk.PaymentOutcomes, ev.Status) {
			h.t.Fatalf("sdktest: the host sends a payment event as an sdk.PaymentEvent with a payment id and one of %v, not %s (%v)",
				sdk.PaymentOutcomes, raw, err)
		}
	}
}

// privileged reports whether the actor may do what staff may: a member
// of staff, or the host itself on an event.
func (b *bound) privileged() bool {
	return b.actor.Kind == "staff" || b.actor.Kind == sdk.ActorSystem
}

// The state of one tenant.

type tenant struct {
	dossiers      []*pb.Dossier
	events        []Event
	messages      []Message
	attachments   []*attachment
	reservations  []*reservation
	settings      map[string]json.RawMessage
	notifications []Notification
	payments      []*pb.Payment
	payers        map[int64]int64 // payment id → the citizen asked to pay
	audit         []AuditEntry
	counters      map[int]int64 // last dossier number by year
	assignees     map[int64]string
	operators     map[string]int64 // address → the id the fake gave that operator
	resources     map[string]*fakeResource
	bookings      []*fakeBooking
	paidBookings  map[int64]int64 // payment id → the booking it pays for
	queue         []*QueueEntry
}

type reservation struct {
	*pb.Reservation
	citizenID int64
}

// Tenant is what a plugin has left in one tenant, in the order it was
// made; a copy, which the test may keep and change.
type Tenant struct {
	Dossiers      []*pb.Dossier
	Events        []Event // every dossier's status history
	Messages      []Message
	Attachments   []Attachment
	Reservations  []*pb.Reservation
	Settings      map[string]json.RawMessage
	Notifications []Notification
	Payments      []*pb.Payment
	Audit         []AuditEntry
	Bookings      []*pb.Booking         // of the booking engine, as the host keeps them
	Resources     []*pb.BookingResource // declared, by slug
	// Assignees is the member of staff each dossier is assigned to, by
	// dossier id, as CreateDossier or later AssignDossier named them: the
	// address the plugin named, in lower case as the host matches it, or
	// "staff:<id>" for the acting operator (Assignment.ToActor).
	// Dossiers assigned to nobody are not in it.
	Assignees map[int64]string
	// Queue is every citizen the plugin queued at a live desk.
	Queue []QueueEntry
}

// Event is one status of a dossier, as the host's history keeps it.
type Event struct {
	DossierID int64
	Status    string
	Note      string
	Actor     string // "plugin:<id>/<kind>:<id>", as the host records it
	At        time.Time
}

// Notification is a queued message. To is the recipient the plugin named,
// or the request's actor ("citizen:7") when it named none: the real host
// sends to that person's address.
type Notification struct {
	ID      int64
	Channel string
	To      string
	Subject string
	Body    string
}

// AuditEntry is one line of the tenant's audit log.
type AuditEntry struct {
	Actor   string
	Action  string
	Object  string
	Details json.RawMessage
}

// Tenant is a copy of what the plugin stored in tenant id.
func (h *Host) Tenant(id int64) Tenant {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out Tenant
	st, ok := h.tenants[id]
	if !ok {
		return out
	}
	for _, d := range st.dossiers {
		out.Dossiers = append(out.Dossiers, proto.Clone(d).(*pb.Dossier))
	}
	if len(st.assignees) > 0 {
		out.Assignees = map[int64]string{}
		for id, a := range st.assignees {
			out.Assignees[id] = a
		}
	}
	out.Events = append(out.Events, st.events...)
	out.Messages = append(out.Messages, st.messages...)
	for _, a := range st.attachments {
		c := a.Attachment
		c.Content = append([]byte(nil), a.Content...)
		out.Attachments = append(out.Attachments, c)
	}
	for _, r := range st.reservations {
		out.Reservations = append(out.Reservations, proto.Clone(r.Reservation).(*pb.Reservation))
	}
	if len(st.settings) > 0 {
		out.Settings = map[string]json.RawMessage{}
		for k, v := range st.settings {
			out.Settings[k] = append(json.RawMessage(nil), v...)
		}
	}
	out.Notifications = append(out.Notifications, st.notifications...)
	for _, p := range st.payments {
		out.Payments = append(out.Payments, proto.Clone(p).(*pb.Payment))
	}
	out.Audit = append(out.Audit, st.audit...)
	for _, q := range st.queue {
		out.Queue = append(out.Queue, *q)
	}
	out.Bookings = st.bookingCopies()
	for _, slug := range sortedKeys(st.resources) {
		out.Resources = append(out.Resources, proto.Clone(st.resources[slug].BookingResource).(*pb.BookingResource))
	}
	return out
}

// Dossier finds a dossier of tenant id by its number; nil if there is none.
func (t Tenant) Dossier(number string) *pb.Dossier {
	for _, d := range t.Dossiers {
		if d.GetNumber() == number {
			return d
		}
	}
	return nil
}

// bound is the Host API of one request: one tenant, one actor.
type bound struct {
	h      *Host
	tenant int64
	actor  sdk.Actor
	// about is the dossier of the request's dossier-scoped action: a
	// citizen's follow-up may move it, as the host allows.
	about int64
}

var _ sdk.Host = (*bound)(nil)

// begin checks the context and the failures a test asked for, then locks
// the host and returns the tenant's state; the caller unlocks.
func (b *bound) begin(ctx context.Context, method string) (*tenant, error) {
	if err := ctx.Err(); err != nil {
		code := codes.Canceled
		if err == context.DeadlineExceeded {
			code = codes.DeadlineExceeded
		}
		return nil, &sdk.HostError{Code: code, Msg: err.Error()}
	}
	b.h.mu.Lock()
	if err := b.h.fail[method]; err != nil {
		b.h.mu.Unlock()
		return nil, err
	}
	st, ok := b.h.tenants[b.tenant]
	if !ok {
		st = &tenant{settings: map[string]json.RawMessage{}, counters: map[int]int64{}}
		b.h.tenants[b.tenant] = st
	}
	return st, nil
}

func (b *bound) end() { b.h.mu.Unlock() }

func (b *bound) nextID() int64 {
	b.h.lastID++
	return b.h.lastID
}

func (b *bound) actorRef() string {
	return fmt.Sprintf("plugin:%s/%s:%d", b.h.manifest.GetId(), b.actor.Kind, b.actor.ID)
}

func (b *bound) citizenID() int64 {
	if b.actor.Kind == "citizen" {
		return b.actor.ID
	}
	return 0
}

func hostErr(code codes.Code, format string, args ...any) error {
	return &sdk.HostError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// The host's limits (core/hostapi), so that a plugin that passes here is
// not refused there.
const (
	maxTitle       = 300
	maxNote        = 4000
	maxDossierData = 256 << 10
	maxSettingSize = 64 << 10
	maxAuditDetail = 16 << 10
	maxSubject     = 200
	maxEmailBody   = 64 << 10
	maxSMSBody     = 1600
	maxReason      = 140
	maxObject      = 200
	maxHold        = 60
	maxListLimit   = 200
	maxAmountCents = 99_999_999_99
)

var (
	statusRe      = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	settingKeyRe  = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)
	resourceRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$`)
	auditActionRe = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)
	currencyRe    = regexp.MustCompile(`^[A-Z]{3}$`)
	phoneRe       = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	emailRe       = regexp.MustCompile(`^[^@\s<>,;"\\]+@[^@\s<>,;"\\]+\.[^@\s<>,;"\\]+$`)
	channels      = []string{"web", "phone", "counter", "consultation"}
	priorities    = []string{"low", "normal", "high", "urgent"}
	officeRe      = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`) // as tenant manifests' slugs
)

func text(field, v string, required bool, max int) error {
	if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return hostErr(codes.InvalidArgument, "%s: not valid UTF-8 text", field)
	}
	if required && strings.TrimSpace(v) == "" {
		return hostErr(codes.InvalidArgument, "%s is required", field)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return hostErr(codes.InvalidArgument, "%s: %d characters, at most %d", field, n, max)
	}
	return nil
}

// object marshals v and insists on a JSON object of at most max bytes, as
// the host stores dossier data and audit details; nil is {}.
func object(what string, v any, max int) (json.RawMessage, error) {
	var raw []byte
	switch t := v.(type) {
	case nil:
	case json.RawMessage:
		raw = t
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return nil, hostErr(codes.InvalidArgument, "%s: %v", what, err)
		}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage(`{}`), nil
	}
	if len(raw) > max {
		return nil, hostErr(codes.InvalidArgument, "%s: %d bytes, at most %d", what, len(raw), max)
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, hostErr(codes.InvalidArgument, "%s must be a JSON object", what)
	}
	return raw, nil
}

// dossier finds dossier id as the actor may see it: staff any of the
// service, a citizen their own, a visitor none.
func (b *bound) dossier(st *tenant, id int64) (*pb.Dossier, error) {
	if b.actor.Kind == "anonymous" {
		return nil, hostErr(codes.PermissionDenied, "an anonymous visitor has no dossiers to read")
	}
	if id <= 0 {
		return nil, hostErr(codes.InvalidArgument, "id must be positive")
	}
	for _, d := range st.dossiers {
		if d.GetId() == id && (b.privileged() || d.GetCitizenId() == b.actor.ID) {
			return d, nil
		}
	}
	return nil, hostErr(codes.NotFound, "dossier %d not found", id)
}

func (b *bound) CreateDossier(ctx context.Context, nd sdk.NewDossier) (*pb.Dossier, error) {
	st, err := b.begin(ctx, "CreateDossier")
	if err != nil {
		return nil, err
	}
	defer b.end()
	title := strings.TrimSpace(nd.Title)
	if err := text("title", title, true, maxTitle); err != nil {
		return nil, err
	}
	if nd.Status == "" {
		nd.Status = "submitted"
	}
	if !statusRe.MatchString(nd.Status) {
		return nil, hostErr(codes.InvalidArgument, "status %q: lower-case letters, digits and _, at most 32", nd.Status)
	}
	if nd.Channel == "" {
		nd.Channel = "web"
	}
	if !contains(channels, nd.Channel) {
		return nil, hostErr(codes.InvalidArgument, "channel %q: one of %v", nd.Channel, channels)
	}
	data, err := object("dossier data", nd.Data, maxDossierData)
	if err != nil {
		return nil, err
	}
	if nd.Priority == "" {
		nd.Priority = "normal"
	}
	if !contains(priorities, nd.Priority) {
		return nil, hostErr(codes.InvalidArgument, "priority %q: one of %v", nd.Priority, priorities)
	}
	if nd.Office != "" && !officeRe.MatchString(nd.Office) {
		return nil, hostErr(codes.InvalidArgument, "office %q: not an office slug", nd.Office)
	}
	// Any well-formed address is taken for a member of staff: the fake
	// knows nobody. A test of how a plugin copes with an unknown one wraps
	// the Host and refuses it as the host does (ErrInvalid, the message
	// starting "assignee_email").
	assignee := strings.ToLower(nd.Assignee)
	if nd.Assignee != "" && (len(assignee) > 254 || !emailRe.MatchString(assignee)) {
		return nil, hostErr(codes.InvalidArgument, "assignee_email %q: not an e-mail address", nd.Assignee)
	}
	pending, err := b.pending(st, nd.AttachmentIDs)
	if err != nil {
		return nil, err
	}
	now := b.h.Now()
	// As the host numbers them: by the calendar year in the towns.
	year := now.In(sdk.Zone).Year()
	st.counters[year]++
	d := &pb.Dossier{
		Id:          b.nextID(),
		Number:      fmt.Sprintf("%04d-%06d", year, st.counters[year]),
		ServiceId:   b.h.manifest.GetId(),
		Status:      nd.Status,
		Title:       title,
		DataJson:    data,
		CitizenId:   b.citizenID(),
		Channel:     nd.Channel,
		CreatedUnix: now.Unix(),
		Office:      nd.Office,
		Priority:    nd.Priority,
		Version:     1,
	}
	if !nd.Due.IsZero() {
		d.DueUnix = nd.Due.Unix()
	}
	for _, a := range pending {
		a.DossierID = d.Id
	}
	if assignee != "" {
		id, name := st.operator(assignee)
		st.assign(d, assignee, id, name)
	}
	st.dossiers = append(st.dossiers, d)
	st.events = append(st.events, Event{DossierID: d.Id, Status: d.Status, Actor: b.actorRef(), At: now})
	return proto.Clone(d).(*pb.Dossier), nil
}

func (b *bound) GetDossier(ctx context.Context, id int64) (*pb.Dossier, error) {
	st, err := b.begin(ctx, "GetDossier")
	if err != nil {
		return nil, err
	}
	defer b.end()
	d, err := b.dossier(st, id)
	if err != nil {
		return nil, err
	}
	return proto.Clone(d).(*pb.Dossier), nil
}

func (b *bound) ListDossiers(ctx context.Context, q sdk.DossierQuery) ([]*pb.Dossier, error) {
	status, limit := q.Status, q.Limit
	st, err := b.begin(ctx, "ListDossiers")
	if err != nil {
		return nil, err
	}
	defer b.end()
	switch {
	case b.actor.Kind == "anonymous":
		return nil, hostErr(codes.PermissionDenied, "an anonymous visitor has no dossiers to read")
	case limit < 0:
		return nil, hostErr(codes.InvalidArgument, "limit must not be negative")
	case q.BeforeID < 0:
		return nil, hostErr(codes.InvalidArgument, "before_id must not be negative")
	case status != "" && !statusRe.MatchString(status):
		return nil, hostErr(codes.InvalidArgument, "status %q: lower-case letters, digits and _, at most 32", status)
	case limit == 0:
		limit = 50
	}
	limit = min(limit, maxListLimit)
	var out []*pb.Dossier
	for i := len(st.dossiers) - 1; i >= 0 && len(out) < limit; i-- {
		d := st.dossiers[i]
		if (b.privileged() || d.GetCitizenId() == b.actor.ID) && (status == "" || d.GetStatus() == status) &&
			(q.BeforeID == 0 || d.GetId() < q.BeforeID) {
			out = append(out, proto.Clone(d).(*pb.Dossier))
		}
	}
	return out, nil
}

func (b *bound) SetDossierStatus(ctx context.Context, id int64, status, note string) (*pb.Dossier, error) {
	st, err := b.begin(ctx, "SetDossierStatus")
	if err != nil {
		return nil, err
	}
	defer b.end()
	own := b.actor.Kind == "citizen" && b.about > 0 && id == b.about
	if !b.privileged() && !own {
		return nil, hostErr(codes.PermissionDenied, "only staff change a dossier's status, and a citizen the one their action is about")
	}
	if !statusRe.MatchString(status) {
		return nil, hostErr(codes.InvalidArgument, "status %q: lower-case letters, digits and _, at most 32", status)
	}
	if err := text("note", note, false, maxNote); err != nil {
		return nil, err
	}
	d, err := b.dossier(st, id)
	if err != nil {
		return nil, err
	}
	d.Status = status
	d.Version++
	st.events = append(st.events, Event{DossierID: id, Status: status, Note: note, Actor: b.actorRef(), At: b.h.Now()})
	return proto.Clone(d).(*pb.Dossier), nil
}

func (b *bound) SetDossierDue(ctx context.Context, id int64, due time.Time) (*pb.Dossier, error) {
	st, err := b.begin(ctx, "SetDossierDue")
	if err != nil {
		return nil, err
	}
	defer b.end()
	if !b.privileged() {
		return nil, hostErr(codes.PermissionDenied, "only staff move a dossier's deadline")
	}
	if !due.IsZero() && (due.Year() < 2000 || due.Year() > 9999) {
		return nil, hostErr(codes.InvalidArgument, "due %s: not a date between the years 2000 and 9999", due)
	}
	d, err := b.dossier(st, id)
	if err != nil {
		return nil, err
	}
	d.DueUnix = 0
	if !due.IsZero() {
		d.DueUnix = due.Unix()
	}
	d.Version++
	return proto.Clone(d).(*pb.Dossier), nil
}

func (b *bound) AssignDossier(ctx context.Context, id int64, a sdk.Assignment) (*pb.Dossier, error) {
	st, err := b.begin(ctx, "AssignDossier")
	if err != nil {
		return nil, err
	}
	defer b.end()
	email := strings.ToLower(a.Email)
	switch {
	case !b.privileged():
		return nil, hostErr(codes.PermissionDenied, "only staff assign a dossier")
	case a.ToActor && a.Email != "":
		return nil, hostErr(codes.InvalidArgument, "to_actor and assignee_email: name one operator, not both")
	case a.ToActor && b.actor.Kind != "staff":
		return nil, hostErr(codes.InvalidArgument, "to_actor: the host acting on an event is no operator; name one by assignee_email")
	case !a.ToActor && a.Email == "" && a.Office == "":
		return nil, hostErr(codes.InvalidArgument, "nothing to assign: set to_actor, assignee_email or office")
	case a.Email != "" && (len(email) > 254 || !emailRe.MatchString(email)):
		return nil, hostErr(codes.InvalidArgument, "assignee_email %q: not an e-mail address", a.Email)
	case a.Office != "" && !officeRe.MatchString(a.Office):
		return nil, hostErr(codes.InvalidArgument, "office %q: not an office slug", a.Office)
	}
	d, err := b.dossier(st, id)
	if err != nil {
		return nil, err
	}
	before := proto.Clone(d)
	switch {
	case a.ToActor:
		st.assign(d, fmt.Sprintf("staff:%d", b.actor.ID), b.actor.ID, b.actor.Name)
	case email != "":
		opID, name := st.operator(email)
		st.assign(d, email, opID, name)
	}
	if a.Office != "" {
		d.Office = a.Office
	}
	// As the host: an assignment that changes nothing is no change.
	if !proto.Equal(before, d) {
		d.Version++
	}
	return proto.Clone(d).(*pb.Dossier), nil
}

// operatorIDs is where the ids the fake gives operators named by address
// start. It knows nobody's real id, and a test's Staff(id) does not reach
// these, so a plugin that compares a dossier's assignee with its actor
// is not fooled.
const operatorIDs = 1_000_000_000

// operator is the id and name the fake gives the member of staff with
// address addr (in lower case): the same id each time in a tenant, and
// the address for a name.
func (st *tenant) operator(addr string) (int64, string) {
	if st.operators == nil {
		st.operators = map[string]int64{}
	}
	id, ok := st.operators[addr]
	if !ok {
		id = operatorIDs + int64(len(st.operators)) + 1
		st.operators[addr] = id
	}
	return id, addr
}

// assign gives d to the operator id, named name; ref is how
// Tenant.Assignees shows them.
func (st *tenant) assign(d *pb.Dossier, ref string, id int64, name string) {
	if st.assignees == nil {
		st.assignees = map[int64]string{}
	}
	st.assignees[d.GetId()] = ref
	d.AssigneeId, d.AssigneeName = id, name
}

// live is whether r still takes its resource at now: an expired hold
// does not.
func live(r *reservation, now time.Time) bool {
	switch r.GetStatus() {
	case "confirmed":
		return true
	case "held":
		return now.Unix() < r.GetExpiresUnix()
	}
	return false
}

func (b *bound) Reserve(ctx context.Context, nr sdk.NewReservation) (*pb.Reservation, error) {
	st, err := b.begin(ctx, "Reserve")
	if err != nil {
		return nil, err
	}
	defer b.end()
	now := b.h.Now()
	start, end := nr.Start.Unix(), nr.End.Unix()
	switch {
	case b.actor.Kind == "anonymous":
		return nil, hostErr(codes.PermissionDenied, "an anonymous visitor cannot reserve; the citizen must log in")
	case !resourceRe.MatchString(nr.Resource):
		return nil, hostErr(codes.InvalidArgument, "resource %q: 1-128 letters, digits and _ . : / -, starting with a letter or digit", nr.Resource)
	case start >= end:
		return nil, hostErr(codes.InvalidArgument, "start must be before end")
	case start < now.Unix():
		return nil, hostErr(codes.InvalidArgument, "start is in the past")
	case end > now.AddDate(1, 0, 0).Unix():
		return nil, hostErr(codes.InvalidArgument, "a reservation must end within one year")
	case nr.HoldMinutes < 0 || nr.HoldMinutes > maxHold:
		return nil, hostErr(codes.InvalidArgument, "hold_minutes must be 0 (confirm at once) to %d", maxHold)
	}
	citizen := b.citizenID()
	if nr.DossierID != 0 {
		d, err := b.dossier(st, nr.DossierID)
		if err != nil {
			return nil, err
		}
		if citizen == 0 {
			citizen = d.GetCitizenId() // staff booking for a citizen's dossier
		}
	}
	for _, r := range st.reservations {
		if r.GetResource() != nr.Resource || start >= r.GetEndUnix() || r.GetStartUnix() >= end {
			continue
		}
		if live(r, now) {
			return nil, hostErr(codes.AlreadyExists, "%s is already reserved for part of that period", nr.Resource)
		}
		// As the host does: an expired hold in the way is released.
		if r.GetStatus() == "held" {
			r.Status = "cancelled"
		}
	}
	id := b.nextID()
	r := &reservation{Reservation: &pb.Reservation{Id: id, Resource: nr.Resource, StartUnix: start, EndUnix: end,
		Status: "confirmed", Code: code(id)}, citizenID: citizen}
	if nr.HoldMinutes > 0 {
		r.Status = "held"
		r.ExpiresUnix = now.Add(time.Duration(nr.HoldMinutes) * time.Minute).Unix()
	}
	st.reservations = append(st.reservations, r)
	return proto.Clone(r.Reservation).(*pb.Reservation), nil
}

func (b *bound) CancelReservation(ctx context.Context, id int64) (*pb.Reservation, error) {
	st, err := b.begin(ctx, "CancelReservation")
	if err != nil {
		return nil, err
	}
	defer b.end()
	switch {
	case b.actor.Kind == "anonymous":
		return nil, hostErr(codes.PermissionDenied, "an anonymous visitor has no reservations")
	case id <= 0:
		return nil, hostErr(codes.InvalidArgument, "id must be positive")
	}
	for _, r := range st.reservations {
		if r.GetId() == id && (b.privileged() || r.citizenID == b.actor.ID) {
			r.Status = "cancelled"
			return proto.Clone(r.Reservation).(*pb.Reservation), nil
		}
	}
	return nil, hostErr(codes.NotFound, "reservation %d not found", id)
}

// codeAlphabet leaves out 0/O and 1/I: codes are read out on the phone.
const codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// code is a reservation's human code. The host draws it at random; here it
// is derived from the id, so that test runs repeat.
func code(id int64) string {
	x := uint64(id)*0x9E3779B97F4A7C15 + 0x5851F42D4C957F2D
	var b [8]byte
	for i := range b {
		b[i] = codeAlphabet[x%32]
		x /= 32
	}
	return string(b[:])
}

func (b *bound) GetSetting(ctx context.Context, key string, v any) (bool, error) {
	st, err := b.begin(ctx, "GetSetting")
	if err != nil {
		return false, err
	}
	defer b.end()
	if !settingKeyRe.MatchString(key) {
		return false, hostErr(codes.InvalidArgument, "key %q: 1-64 of a-z 0-9 _ . -", key)
	}
	raw, ok := st.settings[key]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

func (b *bound) PutSetting(ctx context.Context, key string, v any) error {
	st, err := b.begin(ctx, "PutSetting")
	if err != nil {
		return err
	}
	defer b.end()
	if !settingKeyRe.MatchString(key) {
		return hostErr(codes.InvalidArgument, "key %q: 1-64 of a-z 0-9 _ . -", key)
	}
	raw := []byte("null") // as the SDK sends nil
	if r, ok := v.(json.RawMessage); ok {
		raw = r
	} else if v != nil {
		if raw, err = json.Marshal(v); err != nil {
			return err
		}
	}
	switch {
	case len(raw) == 0:
		return hostErr(codes.InvalidArgument, "value_json is empty (store null to clear)")
	case len(raw) > maxSettingSize:
		return hostErr(codes.InvalidArgument, "value_json: %d bytes, at most %d", len(raw), maxSettingSize)
	case !json.Valid(raw):
		return hostErr(codes.InvalidArgument, "value_json: not valid JSON")
	}
	st.settings[key] = append(json.RawMessage(nil), raw...)
	return nil
}

func (b *bound) Notify(ctx context.Context, n sdk.Notification) (int64, error) {
	st, err := b.begin(ctx, "Notify")
	if err != nil {
		return 0, err
	}
	defer b.end()
	maxBody := maxEmailBody
	switch n.Channel {
	case "email":
	case "sms":
		maxBody = maxSMSBody
	default:
		return 0, hostErr(codes.InvalidArgument, "channel %q: email or sms", n.Channel)
	}
	if err := text("subject", n.Subject, false, maxSubject); err != nil {
		return 0, err
	}
	if strings.ContainsAny(n.Subject, "\r\n\u2028\u2029") {
		return 0, hostErr(codes.InvalidArgument, "subject: one line")
	}
	if err := text("body", n.Body, true, maxBody); err != nil {
		return 0, err
	}
	switch {
	case n.To == "" && (n.Channel != "email" || b.actor.Kind == "anonymous" || b.actor.Kind == sdk.ActorSystem):
		return 0, hostErr(codes.InvalidArgument, "to is required: the actor has no known %s address", n.Channel)
	case n.To == "":
		n.To = fmt.Sprintf("%s:%d", b.actor.Kind, b.actor.ID)
	case n.Channel == "email" && !emailRe.MatchString(n.To):
		return 0, hostErr(codes.InvalidArgument, "to %q: not an e-mail address", n.To)
	case n.Channel == "sms" && !phoneRe.MatchString(n.To):
		return 0, hostErr(codes.InvalidArgument, "to %q: not a phone number in international form (+39…)", n.To)
	}
	out := Notification{ID: b.nextID(), Channel: n.Channel, To: n.To, Subject: n.Subject, Body: n.Body}
	st.notifications = append(st.notifications, out)
	return out.ID, nil
}

func (b *bound) CreatePayment(ctx context.Context, p sdk.NewPayment) (*pb.Payment, error) {
	st, err := b.begin(ctx, "CreatePayment")
	if err != nil {
		return nil, err
	}
	defer b.end()
	if p.Currency == "" {
		p.Currency = "EUR"
	}
	switch {
	case b.actor.Kind == "anonymous":
		return nil, hostErr(codes.PermissionDenied, "an anonymous visitor cannot be asked to pay; the citizen must log in")
	case p.AmountCents <= 0 || p.AmountCents > maxAmountCents:
		return nil, hostErr(codes.InvalidArgument, "amount_cents must be 1 to %d", int64(maxAmountCents))
	case !currencyRe.MatchString(p.Currency):
		return nil, hostErr(codes.InvalidArgument, "currency %q: three upper-case letters (ISO 4217)", p.Currency)
	}
	if err := text("reason", p.Reason, true, maxReason); err != nil {
		return nil, err
	}
	if p.DossierID != 0 {
		if _, err := b.dossier(st, p.DossierID); err != nil {
			return nil, err
		}
	}
	if p.ReservationID != 0 {
		r, err := b.reservation(st, p.ReservationID, "")
		if err != nil {
			return nil, err
		}
		if r.GetStatus() != "held" || !live(r, b.h.Now()) {
			return nil, hostErr(codes.FailedPrecondition, "reservation %d is not a live hold", p.ReservationID)
		}
	}
	var paid *fakeBooking
	switch {
	case p.BookingID < 0:
		return nil, hostErr(codes.InvalidArgument, "booking_id must not be negative")
	case p.BookingID > 0 && p.ReservationID > 0:
		return nil, hostErr(codes.InvalidArgument, "a payment is for a reservation or a booking, not both")
	case p.BookingID > 0:
		if paid, err = b.bookingPayable(st, p.BookingID); err != nil {
			return nil, err
		}
	}
	id := b.nextID()
	iuv := fmt.Sprintf("%017d", id)
	pay := &pb.Payment{Id: id, AmountCents: p.AmountCents, Currency: p.Currency, Status: "creation_pending",
		Iuv: iuv, NoticeCode: "3" + iuv, DossierId: p.DossierID}
	st.payments = append(st.payments, pay)
	if st.payers == nil {
		st.payers = map[int64]int64{}
	}
	st.payers[id] = b.citizenID()
	if st.payers[id] == 0 && p.DossierID != 0 {
		d, _ := b.dossier(st, p.DossierID)
		st.payers[id] = d.GetCitizenId() // staff asking a dossier's citizen to pay
	}
	if paid != nil {
		if st.paidBookings == nil {
			st.paidBookings = map[int64]int64{}
		}
		st.paidBookings[id] = paid.Id
		if st.payers[id] == 0 {
			st.payers[id] = paid.CitizenId
		}
	}
	return proto.Clone(pay).(*pb.Payment), nil
}

func (b *bound) Audit(ctx context.Context, action, obj string, details any) error {
	st, err := b.begin(ctx, "Audit")
	if err != nil {
		return err
	}
	defer b.end()
	if !auditActionRe.MatchString(action) {
		return hostErr(codes.InvalidArgument, "action %q: 1-64 of a-z 0-9 _ . -, starting with a letter", action)
	}
	if err := text("object", obj, false, maxObject); err != nil {
		return err
	}
	raw, err := object("audit details", details, maxAuditDetail)
	if err != nil {
		return err
	}
	st.audit = append(st.audit, AuditEntry{Actor: b.actorRef(), Action: action, Object: obj, Details: raw})
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

// sortedKeys is m's keys in order, for messages that read the same on
// every run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
