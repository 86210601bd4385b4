package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/forms"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
	"github.com/sportello/sportello/web"
)

// The back office: an operator's queue of dossiers, one dossier's page
// with the forms that work it, and requests taken by phone or at the
// counter (backoffice_intake.go). Every change names the version of the
// dossier the operator saw; a change made meanwhile by somebody else is
// never overwritten: the page comes back (409) with the dossier as it is
// now and what the operator typed.

// objDossiers is the casbin object of the back office's dossiers:
// operators read and write backoffice/requests/*.
const objDossiers = "backoffice/requests/dossiers"

// genericService is the service id of a request no catalogue service
// handles (a phone call about anything).
const genericService = "general"

// csvMaxRows bounds one CSV export.
const csvMaxRows = 20000

func (s *Server) backofficeRoutes(r fiber.Router) {
	read, write := s.require(objDossiers, "read"), s.require(objDossiers, "write")
	// The queue itself is "/backoffice", routed in server.go.
	r.Get("/backoffice/new", s.requireTenant, write, s.intakePage)
	r.Post("/backoffice/new", s.requireTenant, write, s.intakePost)
	r.Get("/backoffice/requests/:id", s.requireTenant, read, s.dossierPage)
	r.Get("/backoffice/requests/:id/attachments/:file", s.requireTenant, read, s.staffDownload)
	r.Post("/backoffice/requests/:id/actions/:action", s.requireTenant, write, s.staffDossierAction)
	r.Post("/backoffice/requests/:id/:step", s.requireTenant, write, s.dossierStep)
}

// office and staffMember are the tenant's offices and staff, for the
// filters and the assignment form.
type office struct {
	id   int64
	slug string
	name string
}

type staffMember struct {
	id   int64
	name string
}

// desk is what every back office page needs: who works, where, and the
// services whose dossiers they see.
type desk struct {
	me        dossier.Actor
	myOffices []int64
	offices   []office
	staff     []staffMember
	services  map[string]*catalog.Record // the catalogue, by id
	enabled   []string                   // ids of the services the tenant has (any state), sorted
}

// openDesk loads the desk of the signed-in operator; anybody else is
// refused, whatever the tenant's rules grant.
func (s *Server) openDesk(c *fiber.Ctx) (*desk, error) {
	rs := state(c)
	if rs.session == nil || rs.session.Subject.UserID == 0 {
		return nil, errForbidden
	}
	d := &desk{services: map[string]*catalog.Record{}}
	userID := rs.session.Subject.UserID
	var name string
	err := s.DB.InTenant(c.UserContext(), rs.tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw("SELECT name FROM users WHERE tenant_id = ? AND id = ?", rs.tenant.ID, userID).Scan(ctx, &name); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT o.id, o.slug, coalesce(nullif(o.name->>?, ''), o.name->>'it', o.slug),
				EXISTS (SELECT 1 FROM user_offices uo WHERE uo.tenant_id = o.tenant_id AND uo.office_id = o.id AND uo.user_id = ?)
			FROM offices o WHERE o.tenant_id = ? ORDER BY o.id`, rs.lang, userID, rs.tenant.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var o office
			var mine bool
			if err := rows.Scan(&o.id, &o.slug, &o.name, &mine); err != nil {
				rows.Close()
				return err
			}
			d.offices = append(d.offices, o)
			if mine {
				d.myOffices = append(d.myOffices, o.id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT u.id, u.name FROM users u
			WHERE u.tenant_id = ? AND EXISTS (SELECT 1 FROM user_roles r WHERE r.tenant_id = u.tenant_id AND r.user_id = u.id)
			ORDER BY u.name, u.id`, rs.tenant.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m staffMember
			if err := rows.Scan(&m.id, &m.name); err != nil {
				return err
			}
			d.staff = append(d.staff, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("back office of user %d: %w", userID, err)
	}
	d.me = dossier.Staff(userID, name)
	recs, err := s.Catalog.List(c.UserContext())
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		d.services[rec.ID] = rec
	}
	mine, err := s.Catalog.TenantServices(c.UserContext(), rs.tenant.ID)
	if err != nil {
		return nil, err
	}
	for _, ts := range mine {
		d.enabled = append(d.enabled, ts.ServiceID)
	}
	sort.Strings(d.enabled)
	return d, nil
}

func (d *desk) officeByID(id int64) (office, bool) {
	for _, o := range d.offices {
		if o.id == id {
			return o, true
		}
	}
	return office{}, false
}

func (d *desk) officeBySlug(slug string) (office, bool) {
	for _, o := range d.offices {
		if o.slug == slug {
			return o, true
		}
	}
	return office{}, false
}

// dossierActor is who is signed in, as a dossier records them.
func (s *Server) dossierActor(c *fiber.Ctx) dossier.Actor {
	rs := state(c)
	switch {
	case rs.session == nil:
		return dossier.Actor{Kind: dossier.ActorAnonymous}
	case rs.session.Subject.UserID != 0:
		a := dossier.Staff(rs.session.Subject.UserID, "")
		if u := s.currentUser(c); u != nil {
			a.Name = u.Name
		}
		return a
	}
	a := dossier.Citizen(rs.session.Subject.CitizenID, "")
	if u := s.currentUser(c); u != nil {
		a.Name = u.Name
	}
	return a
}

// Labels of services and statuses, in the page's language.

// coreStatuses are the states every dossier may take besides its
// service's own; final ones close it.
var coreStatuses = []struct {
	id    string
	final bool
}{
	{dossier.StatusSubmitted, false},
	{"in_progress", false},
	{"waiting", false},
	{"completed", true},
	{"rejected", true},
	{"cancelled", true},
}

func (s *Server) serviceLabel(services map[string]*catalog.Record, lang, id string) string {
	if id == genericService {
		return s.i18n.T(lang, "backoffice.generic", nil)
	}
	if rec := services[id]; rec != nil {
		return serviceView(rec, lang).Name
	}
	return id
}

// statusLabel names status of a dossier of service, as the service's
// manifest does or else as the core does, and says whether it is final.
func (s *Server) statusLabel(rec *catalog.Record, lang, status string) (string, bool) {
	if rec != nil && rec.Manifest != nil {
		for _, st := range rec.Manifest.GetStatuses() {
			if st.GetId() == status {
				if l := textIn(st.GetLabel(), lang); l != "" {
					return l, st.GetFinal()
				}
				break
			}
		}
	}
	switch status {
	case dossier.StatusDraft, dossier.StatusSubmitted:
		return s.i18n.T(lang, "dossier.status."+status, nil), false
	}
	for _, cs := range coreStatuses {
		if cs.id == status {
			return s.i18n.T(lang, "backoffice.status."+status, nil), cs.final
		}
	}
	return strings.ReplaceAll(status, "_", " "), false
}

// statusChoices are the states a dossier of rec may be moved to: the
// service's own, in its order, then the core's it does not redefine.
func (s *Server) statusChoices(rec *catalog.Record, lang, current string) []web.Option {
	var out []web.Option
	seen := map[string]bool{}
	add := func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		label, _ := s.statusLabel(rec, lang, id)
		out = append(out, web.Option{Value: id, Label: label, Selected: id == current})
	}
	if rec != nil && rec.Manifest != nil {
		for _, st := range rec.Manifest.GetStatuses() {
			add(st.GetId())
		}
	}
	for _, cs := range coreStatuses {
		add(cs.id)
	}
	return out
}

func (s *Server) channelLabel(lang, channel string) string {
	return s.i18n.T(lang, "dossier.channel."+channel, nil)
}

func (s *Server) priorityLabel(lang string, p dossier.Priority) string {
	if p == "" {
		p = dossier.PriorityNormal
	}
	return s.i18n.T(lang, "dossier.priority."+string(p), nil)
}

// queueItem is d as a row of a list; base is the URL of dossier pages.
func (s *Server) queueItem(dk *desk, services map[string]*catalog.Record, lang string, d *dossier.Dossier, base string) web.QueueItem {
	rec := services[d.ServiceID]
	status, final := s.statusLabel(rec, lang, d.Status)
	it := web.QueueItem{ID: d.ID, Ref: d.Number, Title: d.Title, ServiceID: d.ServiceID,
		Service: s.serviceLabel(services, lang, d.ServiceID), StatusID: d.Status, Status: status, Final: final,
		Channel: s.channelLabel(lang, d.Channel), Received: local(d.CreatedAt), Due: local(d.DueAt), Draft: d.Draft(),
		URL: base + "/" + strconv.FormatInt(d.ID, 10)}
	if dk != nil {
		it.Priority = s.priorityLabel(lang, d.Priority)
		it.Urgent = d.Priority == dossier.PriorityHigh || d.Priority == dossier.PriorityUrgent
		it.Assignee, it.Applicant = d.AssigneeName, d.Applicant.Name
		if o, ok := dk.officeByID(d.OfficeID); ok {
			it.Office = o.name
		}
	}
	return it
}

// One dossier.

// dossierState is what a page drawn after a post shows besides the
// dossier: what was typed, the errors, why it was refused.
type dossierState struct {
	status int
	form   web.DossierForm
	errs   web.FieldErrors
	stale  string
	flash  string
	// The plugin action whose form comes back, with its values and errors.
	action     string
	actionDoc  map[string]any
	actionErrs web.FieldErrors
	// The draft's form, when it comes back.
	draft *web.IntakeData
}

func pathID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound
	}
	return id, nil
}

func (s *Server) dossierPage(c *fiber.Ctx) error {
	rs := state(c)
	dk, err := s.openDesk(c)
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.Dossiers.Get(c.UserContext(), rs.tenant.ID, id)
	if err != nil {
		return err
	}
	st := dossierState{status: fiber.StatusOK}
	if done := c.Query("done"); done != "" && slices.Contains(dossierSteps, done) {
		st.flash = s.i18n.T(rs.lang, "backoffice.done."+done, nil)
	}
	return s.renderDossier(c, dk, d, st)
}

// dossierSteps are the forms of the dossier page, each posting to its
// name under the dossier's URL.
var dossierSteps = []string{"take", "assign", "status", "priority", "note", "reply", "attach", "save", "submit", "discard"}

func (s *Server) dossierURL(c *fiber.Ctx, id int64) string {
	return state(c).base + "/backoffice/requests/" + strconv.FormatInt(id, 10)
}

// renderDossier draws dossier d for staff.
func (s *Server) renderDossier(c *fiber.Ctx, dk *desk, d *dossier.Dossier, st dossierState) error {
	rs := state(c)
	ctx := c.UserContext()
	rec := dk.services[d.ServiceID]
	base := s.dossierURL(c, d.ID)
	history, err := s.Dossiers.History(ctx, rs.tenant.ID, d.ID, false)
	if err != nil {
		return err
	}
	files, err := s.Dossiers.Attachments(ctx, rs.tenant.ID, d.ID, false)
	if err != nil {
		return err
	}
	pd := &web.DossierPageData{Dossier: s.dossierView(dk, rec, rs.lang, d), Version: d.Version, URL: base,
		BackURL: rs.base + "/backoffice", Form: st.form, Errors: st.errs, Stale: st.stale}
	pd.Timeline = s.timeline(dk, rec, rs.lang, history, base)
	if d.CitizenID != 0 {
		pd.Dossier.Applicant.TimelineURL = rs.base + "/backoffice/citizens/" + strconv.FormatInt(d.CitizenID, 10)
	}
	for i := range files {
		pd.Attachments = append(pd.Attachments, s.attachmentView(rs.lang, &files[i], base))
	}
	pd.Data = dataRows(rec, rs.lang, d.Data, false)
	status := d.Status
	if st.form.Status != "" {
		status = st.form.Status
	}
	pd.Statuses = s.statusChoices(rec, rs.lang, status)
	officeSlug := d.OfficeSlug
	if st.form.Office != "" {
		officeSlug = st.form.Office
	}
	for _, o := range dk.offices {
		pd.Units = append(pd.Units, web.Option{Value: o.slug, Label: o.name, Selected: o.slug == officeSlug})
	}
	operator := strconv.FormatInt(d.AssigneeID, 10)
	if st.form.Operator != "" {
		operator = st.form.Operator
	}
	for _, m := range dk.staff {
		v := strconv.FormatInt(m.id, 10)
		pd.Operators = append(pd.Operators, web.Option{Value: v, Label: m.name, Selected: v == operator})
	}
	priority := string(d.Priority)
	if st.form.Priority != "" {
		priority = st.form.Priority
	}
	for _, p := range dossier.Priorities() {
		pd.Priorities = append(pd.Priorities, web.Option{Value: string(p), Label: s.priorityLabel(rs.lang, p), Selected: string(p) == priority})
	}
	if d.Draft() {
		pd.Draft = st.draft
		if pd.Draft == nil {
			if pd.Draft, err = s.draftForm(c, dk, d); err != nil {
				return err
			}
		}
	} else if rec != nil && rec.Manifest != nil {
		pd.Actions, err = s.dossierActions(c, rec, "staff", base+"/actions/", st.action, st.actionDoc, st.actionErrs)
		if err != nil {
			return err
		}
	}
	if wantsJSON(c) {
		if st.status >= 400 {
			msg := st.stale
			if msg == "" {
				msg = s.i18n.T(rs.lang, "error.invalid_input", nil)
			}
			return c.Status(st.status).JSON(fiber.Map{"error": msg, "fields": st.errs, "status": st.status, "dossier": pd.Dossier})
		}
		return c.JSON(fiber.Map{"dossier": pd.Dossier, "timeline": orEmpty(pd.Timeline), "attachments": orEmpty(pd.Attachments), "data": orEmpty(pd.Data)})
	}
	p := s.page(c, "backoffice_dossier", d.Number+" · "+d.Title)
	p.Data = pd
	p.Flash = st.flash
	return s.renderStatus(c, st.status, p)
}

// dossierView is d in lang; dk nil is the citizen's view (no internal
// details).
func (s *Server) dossierView(dk *desk, rec *catalog.Record, lang string, d *dossier.Dossier) web.DossierView {
	status, final := s.statusLabel(rec, lang, d.Status)
	services := map[string]*catalog.Record{}
	if rec != nil {
		services[rec.ID] = rec
	}
	v := web.DossierView{ID: d.ID, Number: d.Number, Title: d.Title, ServiceID: d.ServiceID,
		Service: s.serviceLabel(services, lang, d.ServiceID), StatusID: d.Status, Status: status, Final: final,
		Channel: s.channelLabel(lang, d.Channel), Draft: d.Draft(), Created: local(d.CreatedAt), Updated: local(d.UpdatedAt),
		Due: local(d.DueAt), Version: d.Version}
	if dk != nil {
		v.PriorityID, v.Priority = string(d.Priority), s.priorityLabel(lang, d.Priority)
		v.Assignee = d.AssigneeName
		if o, ok := dk.officeByID(d.OfficeID); ok {
			v.Office = o.name
		}
		v.Applicant = web.ApplicantView{Name: d.Applicant.Name, Email: d.Applicant.Email, FiscalCode: d.Applicant.FiscalCode,
			Phone: d.Applicant.Phone, Account: d.CitizenID != 0}
	}
	return v
}

// timeline writes a dossier's history in lang; base is the dossier's URL,
// for file links.
func (s *Server) timeline(dk *desk, rec *catalog.Record, lang string, entries []dossier.Entry, base string) []web.TimelineEntry {
	out := make([]web.TimelineEntry, 0, len(entries))
	for _, e := range entries {
		te := web.TimelineEntry{At: local(e.At), Kind: e.Kind, Actor: e.Actor, Internal: e.Internal,
			Text: s.i18n.T(lang, "dossier.entry."+e.Kind, nil)}
		if te.Actor == "" && e.ActorKind == dossier.ActorSystem && rec != nil {
			// The host acting on its own (a payment's outcome told to
			// the plugin) is no person: the entry is the service's.
			te.Actor = serviceView(rec, lang).Name
		}
		switch e.Kind {
		case dossier.EntryOpened, dossier.EntrySubmitted, dossier.EntryStatus:
			label, _ := s.statusLabel(rec, lang, e.Status)
			te.Text += ": " + label
			te.Body = e.Note
		case dossier.EntryAssigned:
			var parts []string
			if dk != nil {
				if o, ok := dk.officeBySlug(e.Office); ok {
					parts = append(parts, o.name)
				} else if e.Office != "" {
					parts = append(parts, e.Office)
				}
			}
			if e.Assignee != "" {
				parts = append(parts, e.Assignee)
			}
			if len(parts) == 0 {
				parts = append(parts, s.i18n.T(lang, "backoffice.nobody", nil))
			}
			te.Text += ": " + strings.Join(parts, ", ")
		case dossier.EntryPriority:
			te.Text += ": " + s.priorityLabel(lang, e.Priority)
		case dossier.EntryDue:
			if !e.DueAt.IsZero() {
				te.Text += ": " + i18nDate(lang, e.DueAt)
			}
		case dossier.EntryNote, dossier.EntryReply:
			if e.Message != nil {
				te.Body = e.Message.Body
			}
		case dossier.EntryAttached:
			if e.Attachment != nil {
				a := s.attachmentView(lang, e.Attachment, base)
				te.Attachment = &a
				te.Text += ": " + a.Name
			}
		}
		out = append(out, te)
	}
	return out
}

func (s *Server) attachmentView(lang string, a *dossier.Attachment, base string) web.AttachmentView {
	return web.AttachmentView{ID: a.ID, Name: a.Name, Type: a.ContentType, Size: forms.FormatBytes(lang, a.Size),
		Internal: a.Internal, By: a.UploadedBy.Name, At: local(a.CreatedAt),
		URL: base + "/attachments/" + strconv.FormatInt(a.ID, 10)}
}

// dossierActions are the actions of rec's plugin on one dossier for
// audience, with their forms; failed (its id) comes back with doc and
// errs.
func (s *Server) dossierActions(c *fiber.Ctx, rec *catalog.Record, audience, urlPrefix, failed string, doc map[string]any,
	errs web.FieldErrors) ([]web.ServiceAction, error) {
	rs := state(c)
	var out []web.ServiceAction
	for _, a := range rec.Manifest.GetActions() {
		if a.GetScope() != sdk.ScopeDossier || a.GetAudience() != audience {
			continue
		}
		sa := web.ServiceAction{ID: a.GetId(), Label: textIn(a.GetLabel(), rs.lang), URL: urlPrefix + url.PathEscape(a.GetId())}
		sa.Title = sa.Label
		var values map[string]any
		if a.GetId() == failed {
			values, sa.Errors = doc, errs
		}
		if form := formOf(rec.Manifest, a.GetFormId()); form != nil {
			sa.Title = textIn(form.GetTitle(), rs.lang)
			f, err := s.forms.parse(form.GetSchemaJson())
			if err != nil {
				return nil, fmt.Errorf("form %s of %s: %w", form.GetId(), rec.ID, err)
			}
			sa.Fields = f.Fields(rs.lang, values, sa.Errors)
			sa.Multipart = len(f.FileFields()) > 0
			markUploads(c, sa.Fields)
		}
		out = append(out, sa)
	}
	return out, nil
}

// dossierAction finds the action id of rec's plugin on a dossier for
// audience.
func dossierAction(rec *catalog.Record, audience, id string) *pb.Action {
	if rec == nil || rec.Manifest == nil {
		return nil
	}
	for _, a := range rec.Manifest.GetActions() {
		if a.GetId() == id && a.GetScope() == sdk.ScopeDossier && a.GetAudience() == audience {
			return a
		}
	}
	return nil
}

// Steps on a dossier.

func (s *Server) postedVersion(c *fiber.Ctx) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(c.FormValue("version")), 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("version %q: %w", c.FormValue("version"), errBadInput)
	}
	return v, nil
}

func formValue(c *fiber.Ctx, key string) string { return strings.Clone(c.FormValue(key)) }

// dossierStep makes one change of the dossier page.
func (s *Server) dossierStep(c *fiber.Ctx) error {
	rs := state(c)
	ctx := c.UserContext()
	dk, err := s.openDesk(c)
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	step := c.Params("step")
	if !slices.Contains(dossierSteps, step) {
		return errNotFound
	}
	version, err := s.postedVersion(c)
	if err != nil {
		// An id of nothing in this town is not found, whatever the form.
		if _, gerr := s.Dossiers.Get(ctx, rs.tenant.ID, id); gerr != nil {
			return gerr
		}
		return err
	}
	form := web.DossierForm{Status: formValue(c, "status"), StatusNote: formValue(c, "status_note"), Office: formValue(c, "office"),
		Operator: formValue(c, "operator"), Priority: formValue(c, "priority"), Note: formValue(c, "note"), Reply: formValue(c, "reply")}
	tid, me := rs.tenant.ID, dk.me
	switch step {
	case "take":
		_, err = s.Dossiers.Take(ctx, tid, id, version, me)
	case "assign":
		var a dossier.Assignment
		if form.Office != "" {
			o, ok := dk.officeBySlug(form.Office)
			if !ok {
				err = &dossier.FieldError{Field: "office", Code: "unknown"}
				break
			}
			a.OfficeID = o.id
		}
		if form.Operator != "" && form.Operator != "0" {
			if a.AssigneeID, err = strconv.ParseInt(form.Operator, 10, 64); err != nil || a.AssigneeID <= 0 {
				err = &dossier.FieldError{Field: "assignee", Code: "unknown"}
				break
			}
		}
		_, err = s.Dossiers.Assign(ctx, tid, id, version, me, a)
	case "status":
		var d *dossier.Dossier
		if d, err = s.Dossiers.Get(ctx, tid, id); err != nil {
			break
		}
		if !slices.ContainsFunc(s.statusChoices(dk.services[d.ServiceID], rs.lang, ""), func(o web.Option) bool { return o.Value == form.Status }) {
			err = &dossier.FieldError{Field: "status", Code: "invalid"}
			break
		}
		_, err = s.Dossiers.SetStatus(ctx, tid, id, version, me, form.Status, form.StatusNote)
	case "priority":
		var p dossier.Priority
		if p, err = dossier.ParsePriority(form.Priority); err == nil {
			_, err = s.Dossiers.SetPriority(ctx, tid, id, version, me, p)
		}
	case "note":
		_, err = s.Dossiers.AddNote(ctx, tid, id, version, me, form.Note)
	case "reply":
		_, err = s.Dossiers.Reply(ctx, tid, id, version, me, form.Reply)
	case "attach":
		err = s.attachFile(c, id, version, me)
	case "save", "submit":
		return s.completeDraft(c, dk, id, version, step == "submit")
	case "discard":
		if err = s.Dossiers.Discard(ctx, tid, id, version, me); err == nil {
			return c.Redirect(rs.base+"/backoffice?done=discarded", fiber.StatusSeeOther)
		}
	}
	if err != nil {
		return s.stepRefused(c, dk, id, dossierState{form: form}, step, err)
	}
	return c.Redirect(s.dossierURL(c, id)+"?done="+step, fiber.StatusSeeOther)
}

// stepRefused draws the dossier page again after a refused step: a stale
// version (409) shows who changed it and the dossier as it is now; an
// invalid value (422) its reason beside the form. Either way, what the
// operator typed is there again.
func (s *Server) stepRefused(c *fiber.Ctx, dk *desk, id int64, st dossierState, step string, cause error) error {
	rs := state(c)
	var stale *dossier.StaleError
	var fe *dossier.FieldError
	switch {
	case errors.As(cause, &stale):
		st.status, st.stale = fiber.StatusConflict, s.staleMessage(rs.lang, stale)
	case errors.As(cause, &fe):
		st.status = fiber.StatusUnprocessableEntity
		if st.errs == nil {
			st.errs = web.FieldErrors{}
		}
		st.errs[step] = s.i18n.T(rs.lang, s.fieldErrorID(fe), s.fieldErrorArgs(rs.lang, fe))
	case errors.Is(cause, dossier.ErrTooLarge), errors.Is(cause, dossier.ErrFileType):
		st.status = fiber.StatusUnprocessableEntity
		if st.errs == nil {
			st.errs = web.FieldErrors{}
		}
		_, id := errorStatus(cause)
		st.errs[step] = s.i18n.T(rs.lang, id, nil)
	default:
		return cause
	}
	d, err := s.Dossiers.Get(c.UserContext(), rs.tenant.ID, id)
	if err != nil {
		return err
	}
	return s.renderDossier(c, dk, d, st)
}

// staleMessage says who changed the dossier, and when, in lang.
func (s *Server) staleMessage(lang string, e *dossier.StaleError) string {
	at := i18nDateTime(lang, e.ChangedAt)
	if e.ChangedBy != "" {
		return s.i18n.T(lang, "dossier.error.stale_by", map[string]any{"By": e.ChangedBy, "At": at})
	}
	return s.i18n.T(lang, "dossier.error.stale_anonymous", map[string]any{"At": at})
}

// attachFile stores the posted file on the dossier.
func (s *Server) attachFile(c *fiber.Ctx, id, version int64, me dossier.Actor) error {
	rs := state(c)
	if s.cfg.FilesDir == "" {
		return &dossier.FieldError{Field: "file", Code: "invalid"}
	}
	fh, err := c.FormFile("file")
	if err != nil || fh.Filename == "" {
		return &dossier.FieldError{Field: "file", Code: "required"}
	}
	if fh.Size > dossier.DefaultMaxFileSize {
		return fmt.Errorf("%s: %w", fh.Filename, dossier.ErrTooLarge)
	}
	f, err := fh.Open()
	if err != nil {
		return &dossier.FieldError{Field: "file", Code: "invalid"}
	}
	defer f.Close()
	_, err = s.Dossiers.Attach(c.UserContext(), rs.tenant.ID, id, version, me,
		dossier.NewFile{Name: strings.Clone(fh.Filename), Internal: c.FormValue("internal") != "", Content: f})
	return err
}

// staffDownload sends a file of a dossier to staff.
func (s *Server) staffDownload(c *fiber.Ctx) error {
	if _, err := s.openDesk(c); err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	fileID, err := pathID(c, "file")
	if err != nil {
		return err
	}
	return s.sendAttachment(c, id, fileID, false)
}

// sendAttachment streams a dossier's file as a download, never to be shown
// inline: a file is the citizen's, not a page of ours.
func (s *Server) sendAttachment(c *fiber.Ctx, dossierID, fileID int64, publicOnly bool) error {
	a, rc, err := s.Dossiers.OpenAttachment(c.UserContext(), state(c).tenant.ID, dossierID, fileID, publicOnly)
	if err != nil {
		return err
	}
	setDownload(c, a.Name, a.ContentType)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.SendStream(rc, int(a.Size))
}

func setDownload(c *fiber.Ctx, name, contentType string) {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	c.Set("Content-Security-Policy", "default-src 'none'; sandbox")
}

// sendFile sends a plugin's download.
func sendFile(c *fiber.Ctx, f *pb.File) error {
	name := f.GetName()
	if name == "" || strings.ContainsAny(name, "/\\\x00") {
		name = "download"
	}
	setDownload(c, name, f.GetContentType())
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(f.GetContent())
}

// Plugin actions on a dossier.

// staffDossierAction runs a staff action of the dossier's service.
func (s *Server) staffDossierAction(c *fiber.Ctx) error {
	rs := state(c)
	dk, err := s.openDesk(c)
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.Dossiers.Get(c.UserContext(), rs.tenant.ID, id)
	if err != nil {
		return err
	}
	rec := dk.services[d.ServiceID]
	action := dossierAction(rec, "staff", c.Params("action"))
	if action == nil || d.Draft() {
		return errNotFound
	}
	version, err := s.postedVersion(c)
	if err != nil {
		return err
	}
	out, err := s.runDossierAction(c, rec, action, d, dk.me, version)
	if err != nil {
		return err
	}
	if out.file != nil {
		return sendFile(c, out.file)
	}
	st := dossierState{status: out.status, action: action.GetId(), actionDoc: out.doc, actionErrs: out.errs}
	if out.stale {
		cur := &dossier.StaleError{Number: d.Number, Saw: version, Current: d.Version, ChangedAt: d.UpdatedAt}
		// Who moved it on is the last entry of its history, as a refused
		// step of the page names them.
		history, err := s.Dossiers.History(c.UserContext(), rs.tenant.ID, id, false)
		if err != nil {
			return err
		}
		if len(history) > 0 {
			cur.ChangedBy = history[len(history)-1].Actor
		}
		st.stale = s.staleMessage(rs.lang, cur)
	}
	if st.status == fiber.StatusOK {
		st.flash = out.message
		if d, err = s.Dossiers.Get(c.UserContext(), rs.tenant.ID, id); err != nil {
			return err
		}
		st.action, st.actionDoc, st.actionErrs = "", nil, nil
	}
	return s.renderDossier(c, dk, d, st)
}

// actionOutcome is what a dossier action of a plugin came to.
type actionOutcome struct {
	status  int
	doc     map[string]any
	errs    web.FieldErrors
	message string
	file    *pb.File
	stale   bool
}

// runDossierAction validates the action's form, with its files, and hands
// it to the plugin with the dossier's id. A post made on version of the
// dossier (dossier.AnyVersion: unchecked) when that is no longer current
// never reaches the plugin.
func (s *Server) runDossierAction(c *fiber.Ctx, rec *catalog.Record, action *pb.Action, d *dossier.Dossier, by dossier.Actor,
	version int64) (*actionOutcome, error) {
	rs := state(c)
	out := &actionOutcome{status: fiber.StatusOK, doc: map[string]any{}}
	var files []*pb.FileRef
	if form := formOf(rec.Manifest, action.GetFormId()); form != nil {
		f, err := s.forms.parse(form.GetSchemaJson())
		if err != nil {
			return nil, err
		}
		sub, err := s.submitForm(c, f, by)
		if err != nil {
			return nil, err
		}
		out.doc, files = sub.doc, sub.files
		if len(sub.errs) > 0 {
			out.status, out.errs = fiber.StatusUnprocessableEntity, sub.errs
			return out, nil
		}
	}
	if version != dossier.AnyVersion && version != d.Version {
		out.status, out.stale = fiber.StatusConflict, true
		return out, nil
	}
	ts, err := s.Catalog.TenantService(c.UserContext(), rs.tenant.ID, rec.ID)
	if err != nil {
		return nil, err
	}
	values, err := json.Marshal(out.doc)
	if err != nil {
		return nil, err
	}
	req := pluginhost.Request{TenantID: rs.tenant.ID, TenantSlug: rs.tenant.Slug, Lang: rs.lang, RequestID: rs.requestID,
		Actor: pluginhost.Actor{Actor: hostapi.Actor{Kind: by.Kind, ID: by.ID}, Name: by.Name}, Action: action.GetId(),
		Values: values, Config: ts.Config, DossierID: d.ID, Files: files}
	if by.Kind == dossier.ActorStaff {
		if u := s.currentUser(c); u != nil {
			req.Actor.Roles = u.Roles
		}
	}
	res, err := s.dispatch(c, rec.ID, req)
	if err != nil {
		if (errors.Is(err, pluginhost.ErrUnavailable) || errors.Is(err, pluginhost.ErrFailed)) && !wantsJSON(c) {
			out.status, out.errs = fiber.StatusServiceUnavailable, web.FieldErrors{"": s.i18n.T(rs.lang, "service.unavailable", nil)}
			return out, nil
		}
		return nil, err
	}
	switch res.GetOutcome() {
	case sdk.OutcomeInvalid:
		out.status, out.errs = fiber.StatusUnprocessableEntity, web.FieldErrors{}
		for _, fe := range res.GetErrors() {
			out.errs[fieldName(fe.GetField())] = fe.GetMessage()
		}
		if res.GetMessage() != "" {
			out.errs[""] = res.GetMessage()
		}
	case sdk.OutcomeRefused:
		out.status, out.errs = fiber.StatusConflict, web.FieldErrors{"": res.GetMessage()}
	default:
		out.message, out.file = res.GetMessage(), res.GetFile()
		if out.message == "" {
			out.message = s.i18n.T(rs.lang, "backoffice.done.action", nil)
		}
	}
	return out, nil
}

// local is t on the towns' wall clock, as pages show it.
func local(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(sdk.Zone)
}

// Dates in lang, for texts composed here.
func i18nDate(lang string, t time.Time) string     { return i18n.FormatDate(lang, t.In(sdk.Zone)) }
func i18nDateTime(lang string, t time.Time) string { return i18n.FormatDateTime(lang, t.In(sdk.Zone)) }
