package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/forms"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/plugins/sdk/pb"
	"github.com/sportello/sportello/web"
)

func (s *Server) catalogRoutes(r fiber.Router) {
	read, write := s.require("admin/services", "read"), s.require("admin/services", "write")
	r.Get("/admin/services", s.requireTenant, read, s.adminServices)
	r.Get("/admin/services/:service", s.requireTenant, read, s.adminService)
	r.Post("/admin/services/:service/request", s.requireTenant, write, s.requestService)
	r.Post("/admin/services/:service/config", s.requireTenant, write, s.configureService)
	r.Post("/admin/services/:service/publish", s.requireTenant, write, s.publishService)
	r.Post("/admin/services/:service/disable", s.requireTenant, write, s.disableService)
}

// serviceView names a catalogue service in lang, from the manifest the
// plugin gave when it last started.
func serviceView(rec *catalog.Record, lang string) web.CatalogService {
	v := web.CatalogService{ID: rec.ID, Name: rec.ID, Version: rec.Version}
	if m := rec.Manifest; m != nil {
		v.Category = m.GetCategory()
		t := m.GetTexts()[lang]
		if t == nil || t.GetName() == "" {
			t = m.GetTexts()["it"]
		}
		if t != nil {
			v.Name, v.Summary = t.GetName(), t.GetSummary()
		}
	}
	return v
}

func (s *Server) adminServices(c *fiber.Ctx) error {
	rs := state(c)
	recs, err := s.Catalog.List(c.UserContext())
	if err != nil {
		return err
	}
	mine, err := s.Catalog.TenantServices(c.UserContext(), rs.tenant.ID)
	if err != nil {
		return err
	}
	states := map[string]string{}
	for _, ts := range mine {
		states[ts.ServiceID] = ts.State
	}
	var d web.ServicesData
	for _, rec := range recs {
		v := serviceView(rec, rs.lang)
		v.State = states[rec.ID]
		v.URL = rs.base + "/admin/services/" + rec.ID
		d.Services = append(d.Services, v)
	}
	p := s.page(c, "admin_services", s.i18n.T(rs.lang, "catalog.title", nil))
	p.Data = d
	return s.render(c, p)
}

// serviceAdmin gathers one service's page: the record, the town's state,
// and the configuration form drawn from the plugin's schema.
func (s *Server) serviceAdmin(c *fiber.Ctx) (*catalog.Record, *web.ServiceAdminData, *forms.Form, error) {
	rs := state(c)
	id := c.Params("service")
	rec, err := s.Catalog.Get(c.UserContext(), id)
	if err != nil {
		return nil, nil, nil, err
	}
	d := &web.ServiceAdminData{Service: serviceView(rec, rs.lang)}
	ts, err := s.Catalog.TenantService(c.UserContext(), rs.tenant.ID, rec.ID)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return nil, nil, nil, err
	}
	var config map[string]any
	if ts != nil {
		d.Service.State = ts.State
		if ts.Pending != nil {
			d.PendingMessage, d.PendingSince = ts.Pending.Message, ts.Pending.CreatedAt
		}
		_ = json.Unmarshal(ts.Config, &config)
	}
	switch d.Service.State {
	case "", catalog.StateRejected:
		d.CanRequest = true
	case catalog.StateApproved, catalog.StateDisabled:
		d.CanConfigure, d.CanPublish = true, true
	case catalog.StatePublished:
		d.CanConfigure, d.CanDisable = true, true
	}
	form, err := s.configForm(rec.Manifest)
	if err != nil {
		return nil, nil, nil, err
	}
	if form != nil && d.CanConfigure {
		d.Config = form.Fields(rs.lang, config, nil)
	}
	return rec, d, form, nil
}

func (s *Server) configForm(m *pb.Manifest) (*forms.Form, error) {
	if m == nil || len(m.GetConfigSchemaJson()) == 0 {
		return nil, nil
	}
	f, err := s.forms.parse(m.GetConfigSchemaJson())
	if err != nil {
		return nil, fmt.Errorf("config schema of %s: %w", m.GetId(), err)
	}
	return f, nil
}

func (s *Server) renderServiceAdmin(c *fiber.Ctx, status int, d *web.ServiceAdminData) error {
	p := s.page(c, "admin_service", d.Service.Name)
	if f := c.Query("done"); f != "" {
		p.Flash = s.i18n.T(state(c).lang, map[string]string{"requested": "catalog.request.sent", "configured": "catalog.config.saved",
			"published": "catalog.published", "disabled": "catalog.disabled"}[f], nil)
	}
	p.Data = d
	return s.renderStatus(c, status, p)
}

func (s *Server) adminService(c *fiber.Ctx) error {
	_, d, _, err := s.serviceAdmin(c)
	if err != nil {
		return err
	}
	return s.renderServiceAdmin(c, fiber.StatusOK, d)
}

func (s *Server) serviceDone(c *fiber.Ctx, id, what string) error {
	return c.Redirect(state(c).base+"/admin/services/"+url.PathEscape(id)+"?done="+what, fiber.StatusSeeOther)
}

// lifecycleError shows a refused step on the service's page with the right
// status; other errors go to the error page.
func (s *Server) lifecycleError(c *fiber.Ctx, d *web.ServiceAdminData, err error, field, msgID string) error {
	rs := state(c)
	switch {
	case errors.Is(err, catalog.ErrWrongState):
		d.Errors = web.FieldErrors{"": s.i18n.T(rs.lang, "catalog.error.state", nil)}
		return s.renderServiceAdmin(c, fiber.StatusConflict, d)
	case errors.Is(err, catalog.ErrInvalid):
		d.Errors = web.FieldErrors{field: s.i18n.T(rs.lang, msgID, nil)}
		return s.renderServiceAdmin(c, fiber.StatusUnprocessableEntity, d)
	}
	return err
}

func (s *Server) requestService(c *fiber.Ctx) error {
	rs := state(c)
	rec, d, _, err := s.serviceAdmin(c)
	if err != nil {
		return err
	}
	msg := c.FormValue("message")
	_, err = s.Catalog.RequestService(c.UserContext(), rs.tenant.ID, rs.session.Subject.UserID, rec.ID, msg)
	if err != nil {
		d.Message = strings.Clone(msg)
		return s.lifecycleError(c, d, err, "message", "catalog.error.message")
	}
	return s.serviceDone(c, rec.ID, "requested")
}

func (s *Server) configureService(c *fiber.Ctx) error {
	rs := state(c)
	rec, d, form, err := s.serviceAdmin(c)
	if err != nil {
		return err
	}
	if !d.CanConfigure {
		return s.lifecycleError(c, d, catalog.ErrWrongState, "", "")
	}
	doc := map[string]any{}
	if form != nil {
		values, err := postedValues(c)
		if err != nil {
			return err
		}
		var errs web.FieldErrors
		doc, errs = form.Submit(values, rs.lang)
		if len(errs) > 0 {
			d.Config = form.Fields(rs.lang, doc, errs)
			return s.renderServiceAdmin(c, fiber.StatusUnprocessableEntity, d)
		}
	}
	cfg, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if err := s.Catalog.Configure(c.UserContext(), rs.tenant.ID, catalog.Actor(rs.subject), rec.ID, cfg); err != nil {
		return s.lifecycleError(c, d, err, "", "catalog.error.config")
	}
	return s.serviceDone(c, rec.ID, "configured")
}

func (s *Server) publishService(c *fiber.Ctx) error {
	rs := state(c)
	rec, d, form, err := s.serviceAdmin(c)
	if err != nil {
		return err
	}
	check := func(cfg json.RawMessage) error {
		if form == nil {
			return nil
		}
		var doc any = map[string]any{}
		if len(cfg) > 0 {
			if err := json.Unmarshal(cfg, &doc); err != nil {
				return err
			}
		}
		if errs := form.Validate(doc, rs.lang); len(errs) > 0 {
			d.Config = form.Fields(rs.lang, asMap(doc), errs)
			return errors.New("configuration does not satisfy the schema")
		}
		return nil
	}
	if err := s.Catalog.Publish(c.UserContext(), rs.tenant.ID, catalog.Actor(rs.subject), rec.ID, check); err != nil {
		return s.lifecycleError(c, d, err, "", "catalog.error.config")
	}
	// The grants the plugin declares become the town's own rules, which
	// its admin sees and may remove on the rules page.
	for _, p := range rec.Manifest.GetPermissions() {
		if err := s.Authz.AddPolicy(c.UserContext(), rs.tenant.ID, p.GetRole(), p.GetObject(), p.GetAction()); err != nil {
			s.log.Warn("plugin permission not granted", "plugin", rec.ID, "role", p.GetRole(), "object", p.GetObject(), "err", err)
		}
	}
	s.Portals.Forget(rs.tenant.ID)
	return s.serviceDone(c, rec.ID, "published")
}

func (s *Server) disableService(c *fiber.Ctx) error {
	rs := state(c)
	rec, d, _, err := s.serviceAdmin(c)
	if err != nil {
		return err
	}
	if err := s.Catalog.Disable(c.UserContext(), rs.tenant.ID, catalog.Actor(rs.subject), rec.ID); err != nil {
		return s.lifecycleError(c, d, err, "", "")
	}
	s.Portals.Forget(rs.tenant.ID)
	return s.serviceDone(c, rec.ID, "disabled")
}

// postedValues copies the posted form out of fiber's reused memory.
func postedValues(c *fiber.Ctx) (url.Values, error) {
	values := url.Values{}
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		values.Add(string(k), string(v))
	})
	if mf, err := c.MultipartForm(); err == nil {
		for k, vs := range mf.Value {
			for _, v := range vs {
				values.Add(strings.Clone(k), strings.Clone(v))
			}
		}
	}
	delete(values, "_csrf")
	return values, nil
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// Platform console: requests from the towns.

func (s *Server) requirePlatform(c *fiber.Ctx) error {
	if state(c).platform == nil {
		return errLoginRequired
	}
	return c.Next()
}

func (s *Server) decideRequest(c *fiber.Ctx) error {
	rs := state(c)
	tenantID, err1 := strconv.ParseInt(c.Params("tenant"), 10, 64)
	reqID, err2 := strconv.ParseInt(c.Params("request"), 10, 64)
	if err1 != nil || err2 != nil || tenantID <= 0 || reqID <= 0 {
		return errNotFound
	}
	if _, ok := s.Tenants.ByID(tenantID); !ok {
		return errNotFound
	}
	approve := c.Params("verdict") == "approve"
	if !approve && c.Params("verdict") != "reject" {
		return errNotFound
	}
	err := s.Catalog.Decide(c.UserContext(), tenantID, reqID, rs.platform.UserID, approve, c.FormValue("reason"))
	switch {
	case errors.Is(err, catalog.ErrInvalid):
		return s.renderPlatformHome(c, fiber.StatusUnprocessableEntity, "platform.error.reason")
	case err != nil:
		return err
	}
	if t, ok := s.Tenants.ByID(tenantID); ok {
		s.Portals.Forget(t.ID)
	}
	return c.Redirect("/platform?done=decided", fiber.StatusSeeOther)
}

// platformConsole fills the console's requests and plugins.
func (s *Server) platformConsole(c *fiber.Ctx, d *web.PlatformData) error {
	rs := state(c)
	d.Console = true
	recs, err := s.Catalog.List(c.UserContext())
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, rec := range recs {
		names[rec.ID] = serviceView(rec, rs.lang).Name
		d.Plugins = append(d.Plugins, web.PluginRow{ID: rec.ID, Version: rec.Version, SHA256: rec.SHA256,
			Status: rec.Status, Reason: rec.StatusReason, PID: rec.PID, Updated: rec.UpdatedAt})
	}
	reqs, err := s.Catalog.PendingRequests(c.UserContext())
	if err != nil {
		return err
	}
	for _, r := range reqs {
		row := web.ServiceRequestRow{TenantID: r.TenantID, RequestID: r.ID, ServiceID: r.ServiceID,
			Service: names[r.ServiceID], Message: r.Message, Created: r.CreatedAt}
		if t, ok := s.Tenants.ByID(r.TenantID); ok {
			row.TenantName = t.Name
		}
		d.Requests = append(d.Requests, row)
	}
	return nil
}

// restartPlugin starts a plugin afresh from the console: after a fix of
// what made it fail, or after its binary was registered again.
func (s *Server) restartPlugin(c *fiber.Ctx) error {
	if s.Plugins == nil {
		return fmt.Errorf("no plugin host: %w", pluginhost.ErrUnavailable)
	}
	id := c.Params("plugin")
	if _, err := s.Catalog.Get(c.UserContext(), id); err != nil {
		return err
	}
	err := s.Plugins.Restart(c.UserContext(), id)
	if errors.Is(err, pluginhost.ErrFailed) || errors.Is(err, pluginhost.ErrUnavailable) {
		// The console shows the new reason on the plugin's row.
		s.log.Warn("plugin restart failed", "plugin", id, "err", err)
		return c.Redirect("/platform?done=restart_failed", fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/platform?done=restarted", fiber.StatusSeeOther)
}
