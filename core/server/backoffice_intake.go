package server

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
	"github.com/sportello/sportello/web"
)

// Requests taken by phone or at the counter. The operator fills in who
// the request is for and either a catalogue service's own form, which goes
// to the service as if the person had sent it (the operator acting for
// them), or a generic request. Saved as a draft, it waits unsubmitted, out
// of the citizen's sight, until somebody completes and submits it; a
// service's draft is then filed by the service and the draft discarded.
//
// The intake's own fields are posted with names starting with "_", which
// no service form field can have.

// intakeChannels are the channels an operator takes requests through.
var intakeChannels = []string{dossier.ChannelPhone, dossier.ChannelCounter}

// serviceDraft is the data of a catalogue service's draft: the action and
// what was filled in so far.
type serviceDraft struct {
	Action string         `json:"action"`
	Values map[string]any `json:"values"`
}

// intakeChoice is a service action an operator can take for somebody:
// value "service/action".
type intakeChoice struct {
	rec    *catalog.Record
	action *pb.Action
}

// intakeChoices are the service-page actions with a form of the services
// the town publishes that a citizen takes.
func (s *Server) intakeChoices(c *fiber.Ctx, dk *desk) (map[string]intakeChoice, []web.Option, error) {
	rs := state(c)
	mine, err := s.Catalog.TenantServices(c.UserContext(), rs.tenant.ID)
	if err != nil {
		return nil, nil, err
	}
	choices := map[string]intakeChoice{}
	var opts []web.Option
	for _, ts := range mine {
		rec := dk.services[ts.ServiceID]
		if ts.State != catalog.StatePublished || rec == nil || rec.Manifest == nil {
			continue
		}
		var acts []*pb.Action
		for _, a := range rec.Manifest.GetActions() {
			// A citizen's request, entered for them: the staff's own
			// tools (an export, a register) are no intake.
			if a.GetScope() == sdk.ScopeDossier || a.GetFormId() == "" || a.GetAudience() != "citizen" {
				continue
			}
			acts = append(acts, a)
		}
		name := serviceView(rec, rs.lang).Name
		for _, a := range acts {
			key := rec.ID + "/" + a.GetId()
			choices[key] = intakeChoice{rec: rec, action: a}
			label := name
			if len(acts) > 1 {
				label += " — " + textIn(a.GetLabel(), rs.lang)
			}
			opts = append(opts, web.Option{Value: key, Label: label})
		}
	}
	return choices, opts, nil
}

// intakeForm reads the intake's fields as posted.
func intakeForm(c *fiber.Ctx) web.IntakeForm {
	return web.IntakeForm{Channel: formValue(c, "_channel"), Name: strings.TrimSpace(formValue(c, "_name")),
		Email: strings.TrimSpace(formValue(c, "_email")), FiscalCode: strings.TrimSpace(formValue(c, "_fiscal_code")),
		Phone: strings.TrimSpace(formValue(c, "_phone"))}
}

// checkIntake checks the intake, and links it to the citizen account of
// its fiscal code, if there is one; errors go to errs under the fields'
// posted names.
func (s *Server) checkIntake(c *fiber.Ctx, f web.IntakeForm, errs web.FieldErrors) (dossier.Intake, error) {
	rs := state(c)
	in := dossier.Intake{Channel: f.Channel, Applicant: dossier.Applicant{Name: f.Name, Email: f.Email, FiscalCode: f.FiscalCode, Phone: f.Phone}}
	found := false
	for _, ch := range intakeChannels {
		found = found || ch == f.Channel
	}
	if !found {
		errs["_channel"] = s.i18n.T(rs.lang, "backoffice.intake.channel_required", nil)
	}
	if f.Name == "" {
		errs["_name"] = s.i18n.T(rs.lang, "dossier.error.required", map[string]any{"Field": s.i18n.T(rs.lang, "dossier.field.applicant.name", nil)})
	}
	in, err := in.Check()
	var fe *dossier.FieldError
	switch {
	case errors.As(err, &fe):
		errs["_"+strings.TrimPrefix(fe.Field, "applicant.")] = s.i18n.T(rs.lang, s.fieldErrorID(fe), s.fieldErrorArgs(rs.lang, fe))
		return in, nil
	case err != nil:
		return in, err
	}
	if in.Applicant.FiscalCode != "" {
		if in.CitizenID, err = s.Dossiers.CitizenByFiscalCode(c.UserContext(), rs.tenant.ID, in.Applicant.FiscalCode); err != nil {
			return in, err
		}
	}
	return in, nil
}

// intakeData is the intake form of "backoffice_new" or of a draft.
func (s *Server) intakeData(c *fiber.Ctx, opts []web.Option, chosen string, f web.IntakeForm) *web.IntakeData {
	rs := state(c)
	d := &web.IntakeData{PostURL: rs.base + "/backoffice/new", ChooseURL: rs.base + "/backoffice/new", Intake: f}
	if d.Intake.Channel == "" {
		d.Intake.Channel = dossier.ChannelPhone
	}
	for _, ch := range intakeChannels {
		d.Channels = append(d.Channels, web.Option{Value: ch, Label: s.channelLabel(rs.lang, ch), Selected: ch == d.Intake.Channel})
	}
	d.Services = append(d.Services, web.Option{Value: "", Label: s.i18n.T(rs.lang, "backoffice.generic", nil), Selected: chosen == ""})
	for _, o := range opts {
		o.Selected = o.Value == chosen
		d.Services = append(d.Services, o)
	}
	return d
}

// withServiceForm puts the chosen service's form on d, showing values and
// errs.
func (s *Server) withServiceForm(c *fiber.Ctx, d *web.IntakeData, ch intakeChoice, values map[string]any, errs web.FieldErrors) error {
	rs := state(c)
	form := formOf(ch.rec.Manifest, ch.action.GetFormId())
	if form == nil {
		return errNotFound
	}
	f, err := s.forms.parse(form.GetSchemaJson())
	if err != nil {
		return err
	}
	d.Service = serviceView(ch.rec, rs.lang).Name
	d.Action = ch.rec.ID + "/" + ch.action.GetId()
	d.Fields = f.Fields(rs.lang, values, errs)
	d.Multipart = len(f.FileFields()) > 0
	markUploads(c, d.Fields)
	return nil
}

func (s *Server) intakePage(c *fiber.Ctx) error {
	dk, err := s.openDesk(c)
	if err != nil {
		return err
	}
	choices, opts, err := s.intakeChoices(c, dk)
	if err != nil {
		return err
	}
	chosen := strings.Clone(c.Query("service"))
	ch, ok := choices[chosen]
	if chosen != "" && !ok {
		return errNotFound
	}
	d := s.intakeData(c, opts, chosen, web.IntakeForm{Channel: c.Query("channel")})
	if ok {
		if err := s.withServiceForm(c, d, ch, nil, nil); err != nil {
			return err
		}
	}
	return s.renderIntake(c, fiber.StatusOK, d)
}

func (s *Server) renderIntake(c *fiber.Ctx, status int, d *web.IntakeData) error {
	rs := state(c)
	p := s.page(c, "backoffice_new", s.i18n.T(rs.lang, "backoffice.new.title", nil))
	p.Data = d
	return s.renderStatus(c, status, p)
}

// intakePost files (or saves as a draft) a request taken for somebody.
func (s *Server) intakePost(c *fiber.Ctx) error {
	rs := state(c)
	ctx := c.UserContext()
	dk, err := s.openDesk(c)
	if err != nil {
		return err
	}
	choices, opts, err := s.intakeChoices(c, dk)
	if err != nil {
		return err
	}
	chosen := formValue(c, "_service")
	ch, isService := choices[chosen]
	if chosen != "" && !isService {
		return errNotFound
	}
	draft := c.FormValue("_draft") != ""
	errs := web.FieldErrors{}
	f := intakeForm(c)
	in, err := s.checkIntake(c, f, errs)
	if err != nil {
		return err
	}
	d := s.intakeData(c, opts, chosen, f)
	if !isService {
		d.Title, d.Description = strings.TrimSpace(formValue(c, "_title")), strings.TrimSpace(formValue(c, "_description"))
		if len(errs) > 0 {
			d.Errors = errs
			return s.renderIntake(c, fiber.StatusUnprocessableEntity, d)
		}
		data, err := json.Marshal(map[string]string{"description": d.Description})
		if err != nil {
			return err
		}
		n := dossier.NewDossier{ServiceID: genericService, Title: d.Title, Data: data, Draft: draft, Channel: in.Channel,
			Applicant: in.Applicant, CitizenID: in.CitizenID}
		if len(dk.myOffices) > 0 {
			n.OfficeID = dk.myOffices[0]
		}
		opened, err := s.Dossiers.Open(ctx, rs.tenant.ID, dk.me, n)
		var fe *dossier.FieldError
		if errors.As(err, &fe) {
			d.Errors = web.FieldErrors{"_" + fe.Field: s.i18n.T(rs.lang, s.fieldErrorID(fe), s.fieldErrorArgs(rs.lang, fe))}
			return s.renderIntake(c, fiber.StatusUnprocessableEntity, d)
		}
		if err != nil {
			return err
		}
		return c.Redirect(s.dossierURL(c, opened.ID)+"?done="+doneOf(draft), fiber.StatusSeeOther)
	}
	sub, err := s.serviceSubmission(c, ch, dk.me)
	if err != nil {
		return err
	}
	if draft {
		if len(errs) > 0 {
			// Who the request is for must be right even in a draft: it is
			// what finds the draft again.
			d.Errors = errs
			if err := s.withServiceForm(c, d, ch, sub.doc, nil); err != nil {
				return err
			}
			return s.renderIntake(c, fiber.StatusUnprocessableEntity, d)
		}
		data, err := json.Marshal(serviceDraft{Action: ch.action.GetId(), Values: sub.doc})
		if err != nil {
			return err
		}
		n := dossier.NewDossier{ServiceID: ch.rec.ID, Title: draftTitle(serviceView(ch.rec, rs.lang).Name, in), Data: data,
			Draft: true, Channel: in.Channel, Applicant: in.Applicant, CitizenID: in.CitizenID}
		if len(dk.myOffices) > 0 {
			n.OfficeID = dk.myOffices[0]
		}
		opened, err := s.Dossiers.Open(ctx, rs.tenant.ID, dk.me, n)
		if err != nil {
			return err
		}
		return c.Redirect(s.dossierURL(c, opened.ID)+"?done=save", fiber.StatusSeeOther)
	}
	for k, v := range sub.errs {
		errs[k] = v
	}
	if len(errs) > 0 {
		d.Errors = errs
		if err := s.withServiceForm(c, d, ch, sub.doc, errs); err != nil {
			return err
		}
		return s.renderIntake(c, fiber.StatusUnprocessableEntity, d)
	}
	id, status, msgs, err := s.fileForSomebody(c, ch, sub, in, dk.me)
	if err != nil {
		return err
	}
	if status != fiber.StatusOK || id == 0 {
		d.Errors = msgs
		if err := s.withServiceForm(c, d, ch, sub.doc, msgs); err != nil {
			return err
		}
		return s.renderIntake(c, status, d)
	}
	return c.Redirect(s.dossierURL(c, id)+"?done=submit", fiber.StatusSeeOther)
}

func doneOf(draft bool) string {
	if draft {
		return "save"
	}
	return "submit"
}

func draftTitle(service string, in dossier.Intake) string {
	if in.Applicant.Name == "" {
		return service
	}
	return service + " — " + in.Applicant.Name
}

// serviceSubmission reads the chosen service's form, with its files.
func (s *Server) serviceSubmission(c *fiber.Ctx, ch intakeChoice, by dossier.Actor) (*submission, error) {
	form := formOf(ch.rec.Manifest, ch.action.GetFormId())
	if form == nil {
		return nil, errNotFound
	}
	f, err := s.forms.parse(form.GetSchemaJson())
	if err != nil {
		return nil, err
	}
	return s.submitForm(c, f, by)
}

// fileForSomebody hands a valid form to the service as staff acting for
// the applicant, then records how the request came in on the dossier the
// service opened. It returns that dossier's id, or (with no dossier) the
// status and messages of the service's answer.
func (s *Server) fileForSomebody(c *fiber.Ctx, ch intakeChoice, sub *submission, in dossier.Intake, me dossier.Actor) (int64, int, web.FieldErrors, error) {
	rs := state(c)
	ctx := c.UserContext()
	ts, err := s.Catalog.TenantService(ctx, rs.tenant.ID, ch.rec.ID)
	if err != nil {
		return 0, 0, nil, err
	}
	values, err := json.Marshal(sub.doc)
	if err != nil {
		return 0, 0, nil, err
	}
	req := pluginhost.Request{TenantID: rs.tenant.ID, TenantSlug: rs.tenant.Slug, Lang: rs.lang, RequestID: rs.requestID,
		Actor:  pluginhost.Actor{Actor: hostapi.Actor{Kind: dossier.ActorStaff, ID: me.ID}, Name: me.Name},
		Action: ch.action.GetId(), Values: values, Config: ts.Config, Files: sub.files}
	if u := s.currentUser(c); u != nil {
		req.Actor.Roles = u.Roles
	}
	res, err := s.dispatch(c, ch.rec.ID, req)
	if err != nil {
		if errors.Is(err, pluginhost.ErrUnavailable) || errors.Is(err, pluginhost.ErrFailed) {
			return 0, fiber.StatusServiceUnavailable, web.FieldErrors{"": s.i18n.T(rs.lang, "service.unavailable", nil)}, nil
		}
		return 0, 0, nil, err
	}
	switch res.GetOutcome() {
	case sdk.OutcomeInvalid:
		errs := web.FieldErrors{}
		for _, fe := range res.GetErrors() {
			errs[fieldName(fe.GetField())] = fe.GetMessage()
		}
		if res.GetMessage() != "" {
			errs[""] = res.GetMessage()
		}
		return 0, fiber.StatusUnprocessableEntity, errs, nil
	case sdk.OutcomeRefused:
		return 0, fiber.StatusConflict, web.FieldErrors{"": res.GetMessage()}, nil
	}
	if res.GetDossierId() == 0 {
		// The service answered without filing anything: say what it said.
		return 0, fiber.StatusOK, web.FieldErrors{"": res.GetMessage()}, nil
	}
	_, err = s.Dossiers.SetIntake(ctx, rs.tenant.ID, res.GetDossierId(), dossier.AnyVersion, me, in)
	if err != nil {
		// The request is filed; only its intake details are missing.
		s.log.Warn("intake of a request taken for somebody", "dossier", res.GetDossierId(), "err", err)
	}
	return res.GetDossierId(), fiber.StatusOK, nil, nil
}

// draftForm is the form completing draft d, as it was saved.
func (s *Server) draftForm(c *fiber.Ctx, dk *desk, d *dossier.Dossier) (*web.IntakeData, error) {
	f := web.IntakeForm{Channel: d.Channel, Name: d.Applicant.Name, Email: d.Applicant.Email, FiscalCode: d.Applicant.FiscalCode,
		Phone: d.Applicant.Phone}
	if d.ServiceID == genericService {
		out := s.intakeData(c, nil, "", f)
		out.Services = nil
		out.Title = d.Title
		var data struct {
			Description string `json:"description"`
		}
		_ = json.Unmarshal(d.Data, &data)
		out.Description = data.Description
		out.PostURL, out.ChooseURL, out.Version = s.dossierURL(c, d.ID), "", d.Version
		return out, nil
	}
	var sd serviceDraft
	_ = json.Unmarshal(d.Data, &sd)
	ch := intakeChoice{rec: dk.services[d.ServiceID], action: dossierServiceAction(dk.services[d.ServiceID], sd.Action)}
	out := s.intakeData(c, nil, "", f)
	out.Services = nil
	out.PostURL, out.ChooseURL, out.Version = s.dossierURL(c, d.ID), "", d.Version
	if ch.rec == nil || ch.action == nil {
		// The service is gone from the catalogue: the draft can only be
		// discarded.
		return out, nil
	}
	if err := s.keepDraftUploads(c, ch, sd.Values, dk.me); err != nil {
		return nil, err
	}
	if err := s.withServiceForm(c, out, ch, sd.Values, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// dossierServiceAction is the service-page action id of rec.
func dossierServiceAction(rec *catalog.Record, id string) *pb.Action {
	if rec == nil || rec.Manifest == nil {
		return nil
	}
	for _, a := range rec.Manifest.GetActions() {
		if a.GetId() == id && a.GetScope() != sdk.ScopeDossier && a.GetFormId() != "" && a.GetAudience() != sdk.AudienceSystem {
			return a
		}
	}
	return nil
}

// keepDraftUploads names the files a draft holds by id, so its form shows
// them; only their uploader's.
func (s *Server) keepDraftUploads(c *fiber.Ctx, ch intakeChoice, values map[string]any, by dossier.Actor) error {
	rs := state(c)
	form := formOf(ch.rec.Manifest, ch.action.GetFormId())
	if form == nil {
		return nil
	}
	f, err := s.forms.parse(form.GetSchemaJson())
	if err != nil {
		return err
	}
	kept, _ := c.Locals(uploadsKey).(map[string]string)
	if kept == nil {
		kept = map[string]string{}
	}
	for _, ff := range f.FileFields() {
		v, _ := lookupValue(values, ff.Name).(string)
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			continue
		}
		a, err := s.Dossiers.PendingUpload(c.UserContext(), rs.tenant.ID, by, "", id)
		if errors.Is(err, dossier.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		kept[v] = a.Name
	}
	c.Locals(uploadsKey, kept)
	return nil
}

func lookupValue(values map[string]any, name string) any {
	if v, ok := values[name]; ok {
		return v
	}
	if parent, child, ok := strings.Cut(name, "."); ok {
		if m, ok := values[parent].(map[string]any); ok {
			return m[child]
		}
	}
	return nil
}

// completeDraft saves a draft again or submits it: a generic one becomes
// a submitted dossier; a service's goes to the service, which files it,
// and the draft is discarded.
func (s *Server) completeDraft(c *fiber.Ctx, dk *desk, id, version int64, submit bool) error {
	rs := state(c)
	ctx := c.UserContext()
	d, err := s.Dossiers.Get(ctx, rs.tenant.ID, id)
	if err != nil {
		return err
	}
	step := "save"
	if submit {
		step = "submit"
	}
	if !d.Draft() {
		return s.stepRefused(c, dk, id, dossierState{}, step, &dossier.FieldError{Field: "status", Code: "invalid"})
	}
	errs := web.FieldErrors{}
	f := intakeForm(c)
	in, err := s.checkIntake(c, f, errs)
	if err != nil {
		return err
	}
	form := s.intakeData(c, nil, "", f)
	form.Services = nil
	form.PostURL, form.ChooseURL, form.Version = s.dossierURL(c, d.ID), "", version
	refused := func(status int, cause error) error {
		form.Errors = errs
		st := dossierState{status: status, draft: form, errs: errs}
		if cause != nil {
			return s.stepRefused(c, dk, id, st, step, cause)
		}
		return s.renderDossier(c, dk, d, st)
	}
	if d.ServiceID == genericService {
		form.Title, form.Description = strings.TrimSpace(formValue(c, "_title")), strings.TrimSpace(formValue(c, "_description"))
		if len(errs) > 0 {
			return refused(fiber.StatusUnprocessableEntity, nil)
		}
		data, err := json.Marshal(map[string]string{"description": form.Description})
		if err != nil {
			return err
		}
		saved, err := s.Dossiers.EditDraft(ctx, rs.tenant.ID, id, version, dk.me, dossier.DraftEdit{Title: form.Title, Data: data, Intake: in})
		if err == nil && submit {
			_, err = s.Dossiers.Submit(ctx, rs.tenant.ID, id, saved.Version, dk.me)
		}
		if err != nil {
			return s.draftRefused(c, dk, id, form, errs, step, err)
		}
		return c.Redirect(s.dossierURL(c, id)+"?done="+step, fiber.StatusSeeOther)
	}
	var sd serviceDraft
	_ = json.Unmarshal(d.Data, &sd)
	ch := intakeChoice{rec: dk.services[d.ServiceID], action: dossierServiceAction(dk.services[d.ServiceID], sd.Action)}
	if ch.rec == nil || ch.action == nil {
		return errNotFound
	}
	sub, err := s.serviceSubmission(c, ch, dk.me)
	if err != nil {
		return err
	}
	if !submit {
		if len(errs) > 0 {
			if err := s.withServiceForm(c, form, ch, sub.doc, nil); err != nil {
				return err
			}
			return refused(fiber.StatusUnprocessableEntity, nil)
		}
		data, err := json.Marshal(serviceDraft{Action: sd.Action, Values: sub.doc})
		if err != nil {
			return err
		}
		_, err = s.Dossiers.EditDraft(ctx, rs.tenant.ID, id, version, dk.me,
			dossier.DraftEdit{Title: draftTitle(serviceView(ch.rec, rs.lang).Name, in), Data: data, Intake: in})
		if err != nil {
			if err2 := s.withServiceForm(c, form, ch, sub.doc, nil); err2 != nil {
				return err2
			}
			return s.draftRefused(c, dk, id, form, errs, step, err)
		}
		return c.Redirect(s.dossierURL(c, id)+"?done=save", fiber.StatusSeeOther)
	}
	for k, v := range sub.errs {
		errs[k] = v
	}
	if len(errs) == 0 && version != d.Version {
		if err := s.withServiceForm(c, form, ch, sub.doc, nil); err != nil {
			return err
		}
		return s.draftRefused(c, dk, id, form, errs, step,
			&dossier.StaleError{Number: d.Number, Saw: version, Current: d.Version, ChangedAt: d.UpdatedAt})
	}
	if len(errs) > 0 {
		if err := s.withServiceForm(c, form, ch, sub.doc, errs); err != nil {
			return err
		}
		return refused(fiber.StatusUnprocessableEntity, nil)
	}
	newID, status, msgs, err := s.fileForSomebody(c, ch, sub, in, dk.me)
	if err != nil {
		return err
	}
	if status != fiber.StatusOK || newID == 0 {
		for k, v := range msgs {
			errs[k] = v
		}
		if err := s.withServiceForm(c, form, ch, sub.doc, msgs); err != nil {
			return err
		}
		return refused(status, nil)
	}
	if err := s.Dossiers.Discard(ctx, rs.tenant.ID, id, version, dk.me); err != nil {
		// The service filed the request; the draft stays for somebody to
		// discard by hand.
		s.log.Warn("draft left after its request was filed", "draft", id, "dossier", newID, "err", err)
	}
	return c.Redirect(s.dossierURL(c, newID)+"?done=submit", fiber.StatusSeeOther)
}

// draftRefused draws the draft again after a refused save or submit,
// keeping the form as typed.
func (s *Server) draftRefused(c *fiber.Ctx, dk *desk, id int64, form *web.IntakeData, errs web.FieldErrors, step string, cause error) error {
	rs := state(c)
	var fe *dossier.FieldError
	if errors.As(cause, &fe) && fe.Field != "status" {
		errs["_"+strings.TrimPrefix(fe.Field, "applicant.")] = s.i18n.T(rs.lang, s.fieldErrorID(fe), s.fieldErrorArgs(rs.lang, fe))
		form.Errors = errs
		d, err := s.Dossiers.Get(c.UserContext(), rs.tenant.ID, id)
		if err != nil {
			return err
		}
		return s.renderDossier(c, dk, d, dossierState{status: fiber.StatusUnprocessableEntity, draft: form, errs: errs})
	}
	form.Errors = errs
	st := dossierState{draft: form, errs: errs}
	var stale *dossier.StaleError
	if errors.As(cause, &stale) {
		// The draft's version moves on: the operator resubmits on it.
		if d, err := s.Dossiers.Get(c.UserContext(), rs.tenant.ID, id); err == nil {
			form.Version = d.Version
		}
	}
	return s.stepRefused(c, dk, id, st, step, cause)
}
