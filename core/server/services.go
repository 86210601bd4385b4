package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
	"github.com/sportello/sportello/web"
)

func (s *Server) serviceRoutes(r fiber.Router) {
	r.Get("/servizi", s.requireTenant, s.servicesIndex)
	r.Get("/services/:service", s.requireTenant, s.servicePage)
	r.Post("/services/:service/:action", s.requireTenant, s.idempotent, s.serviceAction)
}

// publishedService is a service citizens of this town may use, with the
// manifest of its plugin; anything else is a 404.
func (s *Server) publishedService(c *fiber.Ctx) (*catalog.Record, *catalog.TenantService, error) {
	rs := state(c)
	rec, err := s.Catalog.Get(c.UserContext(), c.Params("service"))
	if err != nil {
		return nil, nil, err
	}
	ts, err := s.Catalog.TenantService(c.UserContext(), rs.tenant.ID, rec.ID)
	if err != nil {
		return nil, nil, err
	}
	if ts.State != catalog.StatePublished || rec.Manifest == nil {
		return nil, nil, errNotFound
	}
	return rec, ts, nil
}

// actorKind is who the visitor is, in the terms of a manifest's audiences.
func actorKind(rs *reqState) string {
	switch {
	case rs.session == nil:
		return "anonymous"
	case rs.session.Subject.UserID != 0:
		return "staff"
	}
	return "citizen"
}

// allowed reports whether a visitor of kind may take an action meant for
// audience: staff act for citizens (phone, counter), anyone may take an
// anonymous action.
func allowed(audience, kind string) bool {
	switch audience {
	case "anonymous":
		return true
	case "citizen":
		return kind == "citizen" || kind == "staff"
	case "staff":
		return kind == "staff"
	}
	return false
}

func textIn(m map[string]string, lang string) string {
	if s := m[lang]; s != "" {
		return s
	}
	return m["it"]
}

// servicePageData builds the page; posted and errs (for the action id)
// fill the form back after a refusal.
func (s *Server) servicePageData(c *fiber.Ctx, rec *catalog.Record, actionID string, posted map[string]any, errs web.FieldErrors) (*web.ServicePageData, error) {
	rs := state(c)
	m := rec.Manifest
	d := &web.ServicePageData{Service: serviceView(rec, rs.lang)}
	t := m.GetTexts()[rs.lang]
	if t == nil {
		t = m.GetTexts()["it"]
	}
	d.Texts = web.ServiceTexts{Audience: t.GetAudience(), HowTo: t.GetHowTo(), WhatYouNeed: t.GetWhatYouNeed(),
		WhatYouGet: t.GetWhatYouGet(), TimesAndDeadlines: t.GetTimesAndDeadlines(), Costs: t.GetCosts(),
		Conditions: t.GetConditions(), Contacts: t.GetContacts()}
	if err := s.serviceSetting(c, rec, d); err != nil {
		return nil, err
	}
	kind := actorKind(rs)
	for _, a := range m.GetActions() {
		// Actions on one dossier are offered on the dossier's page; an
		// event's (audience system) nowhere: only the host calls it.
		if a.GetAudience() == "staff" && kind != "staff" || a.GetScope() == sdk.ScopeDossier || a.GetAudience() == sdk.AudienceSystem {
			continue
		}
		sa := web.ServiceAction{ID: a.GetId(), Label: textIn(a.GetLabel(), rs.lang),
			URL: rs.base + "/services/" + url.PathEscape(rec.ID) + "/" + url.PathEscape(a.GetId())}
		sa.Title = sa.Label
		if !allowed(a.GetAudience(), kind) {
			sa.LoginURL = rs.base + "/login?next=" + url.QueryEscape(rs.base+"/services/"+rec.ID)
			d.Actions = append(d.Actions, sa)
			continue
		}
		if form := formOf(m, a.GetFormId()); form != nil {
			sa.Title = textIn(form.GetTitle(), rs.lang)
			f, err := s.forms.parse(form.GetSchemaJson())
			if err != nil {
				return nil, fmt.Errorf("form %s of %s: %w", form.GetId(), rec.ID, err)
			}
			var values map[string]any
			if a.GetId() == actionID {
				values, sa.Errors = posted, errs
			}
			sa.Fields = f.Fields(rs.lang, values, sa.Errors)
			sa.Multipart = len(f.FileFields()) > 0
			markUploads(c, sa.Fields)
		}
		d.Actions = append(d.Actions, sa)
	}
	return d, nil
}

func formOf(m *pb.Manifest, id string) *pb.Form {
	for _, f := range m.GetForms() {
		if f.GetId() == id && id != "" {
			return f
		}
	}
	return nil
}

func (s *Server) servicePage(c *fiber.Ctx) error {
	rec, _, err := s.publishedService(c)
	if err != nil {
		return err
	}
	d, err := s.servicePageData(c, rec, "", nil, nil)
	if err != nil {
		return err
	}
	p := s.page(c, "service", d.Service.Name)
	p.Data = d
	return s.render(c, p)
}

// serviceAction validates a posted form against its schema, hands it to
// the plugin, and shows the outcome. A form that does not validate never
// reaches the plugin; a plugin that is down answers 503 and nothing is lost
// of what the person typed (the form comes back filled). A plugin's file
// (an export, a register) is sent as a download; an API client gets JSON
// instead: the message, the dossier number and the plugin's data.
func (s *Server) serviceAction(c *fiber.Ctx) error {
	rs := state(c)
	rec, ts, err := s.publishedService(c)
	if err != nil {
		return err
	}
	var action *pb.Action
	for _, a := range rec.Manifest.GetActions() {
		// An event is the host's to call, never a page's: as absent as
		// an action the plugin does not have.
		if a.GetId() == c.Params("action") && a.GetScope() != sdk.ScopeDossier && a.GetAudience() != sdk.AudienceSystem {
			action = a
		}
	}
	if action == nil {
		return errNotFound
	}
	kind := actorKind(rs)
	if !allowed(action.GetAudience(), kind) {
		// Logging in helps only who is not logged in: a citizen taking a
		// staff action is refused.
		if kind == "anonymous" {
			return errLoginRequired
		}
		return errForbidden
	}
	if kind != "anonymous" {
		ok, err := s.Authz.Enforce(c.UserContext(), rs.tenant.ID, rs.subject, "services/"+rec.ID, "write")
		if err != nil {
			return err
		}
		if !ok {
			return errForbidden
		}
	}
	doc := map[string]any{}
	var files []*pb.FileRef
	if form := formOf(rec.Manifest, action.GetFormId()); form != nil {
		f, err := s.forms.parse(form.GetSchemaJson())
		if err != nil {
			return err
		}
		sub, err := s.submitForm(c, f, s.dossierActor(c))
		if err != nil {
			return err
		}
		doc, files = sub.doc, sub.files
		if len(sub.errs) > 0 {
			return s.renderServiceResult(c, fiber.StatusUnprocessableEntity, rec, action.GetId(), doc, sub.errs, nil, "")
		}
	}
	valuesJSON, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	req := pluginhost.Request{TenantID: rs.tenant.ID, TenantSlug: rs.tenant.Slug, Lang: rs.lang, RequestID: rs.requestID,
		Actor: pluginhost.Actor{Actor: hostapi.Actor{Kind: kind}}, Action: action.GetId(), Values: valuesJSON, Config: ts.Config,
		Files: files}
	if rs.session != nil {
		if kind == "staff" {
			req.Actor.ID = rs.session.Subject.UserID
		} else {
			req.Actor.ID = rs.session.Subject.CitizenID
		}
		if u := s.currentUser(c); u != nil {
			req.Actor.Name, req.Actor.Roles = u.Name, u.Roles
		}
	}
	res, err := s.dispatch(c, rec.ID, req)
	if err != nil {
		if (errors.Is(err, pluginhost.ErrUnavailable) || errors.Is(err, pluginhost.ErrFailed)) && !wantsJSON(c) {
			// Keep what was typed: the page comes back with the form
			// filled and a 503, rather than an error page.
			return s.renderServiceResult(c, fiber.StatusServiceUnavailable, rec, action.GetId(), doc,
				web.FieldErrors{"": s.i18n.T(rs.lang, "service.unavailable", nil)}, nil, "")
		}
		return err
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
		return s.renderServiceResult(c, fiber.StatusUnprocessableEntity, rec, action.GetId(), doc, errs, nil, "")
	case sdk.OutcomeRefused:
		return s.renderServiceResult(c, fiber.StatusConflict, rec, action.GetId(), doc, nil, nil, res.GetMessage())
	}
	if wantsJSON(c) {
		out := fiber.Map{"message": res.GetMessage(), "dossier_number": res.GetDossierNumber()}
		if data := res.GetDataJson(); len(data) > 0 {
			if !json.Valid(data) {
				return fmt.Errorf("%s/%s: the plugin's data is not JSON: %w", rec.ID, action.GetId(), pluginhost.ErrFailed)
			}
			out["data"] = json.RawMessage(data)
		}
		return c.JSON(out)
	}
	// A download (a list, a register) is the answer itself, not a page.
	if f := res.GetFile(); f != nil {
		return sendFile(c, f)
	}
	// A page of the portal's that carries on (the queue's): a path below
	// the town, never another site.
	if next := res.GetNext(); strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") {
		return c.Redirect(rs.base+next, fiber.StatusSeeOther)
	}
	return s.renderServiceResult(c, fiber.StatusOK, rec, "", nil, nil,
		&web.ServiceResult{Message: res.GetMessage(), DossierNumber: res.GetDossierNumber()}, "")
}

// fieldName turns a JSON pointer ("/a/b") into the form's field name ("a.b").
func fieldName(pointer string) string {
	out := make([]rune, 0, len(pointer))
	for i, r := range pointer {
		switch {
		case r == '/' && i == 0:
		case r == '/':
			out = append(out, '.')
		default:
			out = append(out, r)
		}
	}
	return string(out)
}

func (s *Server) renderServiceResult(c *fiber.Ctx, status int, rec *catalog.Record, actionID string, posted map[string]any,
	errs web.FieldErrors, result *web.ServiceResult, refusal string) error {
	if wantsJSON(c) && status >= 400 {
		// As the other forms answer an API client: the reason, and each
		// field's beside its name.
		msg := refusal
		if msg == "" {
			msg = errs[""]
		}
		if msg == "" {
			msg = s.i18n.T(state(c).lang, "error.invalid_input", nil)
		}
		return c.Status(status).JSON(fiber.Map{"error": msg, "fields": orEmptyMap(errs), "status": status})
	}
	d, err := s.servicePageData(c, rec, actionID, posted, errs)
	if err != nil {
		return err
	}
	d.Result, d.Refusal = result, refusal
	p := s.page(c, "service", d.Service.Name)
	p.Data = d
	return s.renderStatus(c, status, p)
}

func (s *Server) dispatch(c *fiber.Ctx, pluginID string, req pluginhost.Request) (*pb.HandleResponse, error) {
	if s.Plugins == nil {
		return nil, fmt.Errorf("no plugin host: %w", pluginhost.ErrUnavailable)
	}
	return s.Plugins.Dispatch(c.UserContext(), pluginID, req)
}

func orEmptyMap(m web.FieldErrors) web.FieldErrors {
	if m == nil {
		return web.FieldErrors{}
	}
	return m
}
