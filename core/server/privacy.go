package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/privacy"
	"github.com/sportello/sportello/web"
)

// privacyRoutes are a citizen's rights over their data (a copy of it,
// erasure) and the town admin's side of them (carrying erasures out,
// retention of each service's closed dossiers).
func (s *Server) privacyRoutes(r fiber.Router) {
	r.Get("/profile/data.json", s.requireTenant, s.require("profile", "read"), s.profileData)
	r.Post("/profile/erasure", s.requireTenant, s.require("profile", "write"), s.requestErasure)
	r.Get("/admin/privacy", s.requireTenant, s.require("admin/privacy", "read"), s.adminPrivacy)
	r.Post("/admin/privacy/requests/:id", s.requireTenant, s.require("admin/privacy", "write"), s.carryOutErasure)
	r.Post("/admin/privacy/retention", s.requireTenant, s.require("admin/privacy", "write"), s.setRetention)
}

// closedStatuses folds each service's statuses into closed or not, as
// the catalogue's manifests say.
func (s *Server) closedStatuses(ctx context.Context) (privacy.Closed, error) {
	recs, err := s.Catalog.List(ctx)
	if err != nil {
		return nil, err
	}
	return privacy.FinalStatuses(recs), nil
}

// citizenOf is the signed-in citizen's account; staff have none here.
func citizenOf(rs *reqState) (int64, error) {
	if rs.session == nil || rs.session.Subject.CitizenID == 0 {
		return 0, errNotFound
	}
	return rs.session.Subject.CitizenID, nil
}

// profileData is everything the town keeps about the signed-in citizen,
// as a JSON file to save.
func (s *Server) profileData(c *fiber.Ctx) error {
	rs := state(c)
	id, err := citizenOf(rs)
	if err != nil {
		return err
	}
	x, err := privacy.New(s.DB).Export(c.UserContext(), rs.tenant.ID, id, rs.tenant.Slug)
	if errors.Is(err, privacy.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	body, err := json.MarshalIndent(x, "", " ")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment",
		map[string]string{"filename": rs.tenant.Slug + "-my-data.json"}))
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(body)
}

// requestErasure records the citizen's request to be forgotten and says
// what will happen.
func (s *Server) requestErasure(c *fiber.Ctx) error {
	rs := state(c)
	id, err := citizenOf(rs)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return fmt.Errorf("%w: erasure not confirmed", errBadInput)
	}
	if _, err := privacy.New(s.DB).RequestErasure(c.UserContext(), rs.tenant.ID, id); err != nil {
		if errors.Is(err, privacy.ErrNotFound) {
			return errNotFound
		}
		return err
	}
	town := map[string]any{"Town": rs.tenant.Name}
	p := s.page(c, "info", s.i18n.T(rs.lang, "privacy.erasure.requested.title", nil))
	p.Data = &web.InfoPage{Paragraphs: []string{
		s.i18n.T(rs.lang, "privacy.erasure.requested.p1", town),
		s.i18n.T(rs.lang, "privacy.erasure.requested.p2", town),
		s.i18n.T(rs.lang, "privacy.erasure.requested.p3", town),
	}}
	return s.render(c, p)
}

func (s *Server) adminPrivacy(c *fiber.Ctx) error {
	return s.renderAdminPrivacy(c, fiber.StatusOK, privacy.AdminView{})
}

func (s *Server) renderAdminPrivacy(c *fiber.Ctx, status int, v privacy.AdminView) error {
	rs := state(c)
	ctx := c.UserContext()
	ps := privacy.New(s.DB)
	var err error
	if v.Pending, err = ps.Pending(ctx, rs.tenant.ID); err != nil {
		return err
	}
	if v.Done, err = ps.Recent(ctx, rs.tenant.ID, 20); err != nil {
		return err
	}
	days, err := ps.Retentions(ctx, rs.tenant.ID)
	if err != nil {
		return err
	}
	services, err := s.Catalog.TenantServices(ctx, rs.tenant.ID)
	if err != nil {
		return err
	}
	recs, err := s.Catalog.List(ctx)
	if err != nil {
		return err
	}
	byID := map[string]*catalog.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	seen := map[string]bool{}
	add := func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		v.Services = append(v.Services, privacy.ServiceRetention{ID: id, Name: s.serviceLabel(byID, rs.lang, id), Days: days[id]})
	}
	for _, ts := range services {
		add(ts.ServiceID)
	}
	add(genericService)
	for id := range days { // a retention of a service no longer listed still acts
		add(id)
	}
	p := s.page(c, "admin_privacy", s.i18n.T(rs.lang, "privacy.admin.title", nil))
	p.Data = v
	switch c.Query("done") {
	case "erased":
		p.Flash = s.i18n.T(rs.lang, "privacy.admin.erased", nil)
	case "retention":
		p.Flash = s.i18n.T(rs.lang, "privacy.admin.retention.saved", nil)
	}
	return s.renderStatus(c, status, p)
}

func (s *Server) carryOutErasure(c *fiber.Ctx) error {
	rs := state(c)
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return errNotFound
	}
	ctx := c.UserContext()
	closed, err := s.closedStatuses(ctx)
	if err != nil {
		return err
	}
	var admin int64
	if rs.session != nil {
		admin = rs.session.Subject.UserID
	}
	_, err = privacy.New(s.DB).CarryOut(ctx, rs.tenant.ID, id, admin, closed)
	switch {
	case errors.Is(err, privacy.ErrNotFound):
		return errNotFound
	case errors.Is(err, privacy.ErrDone):
		return fiber.NewError(fiber.StatusConflict, "already carried out")
	case err != nil:
		return err
	}
	s.log.Info("privacy: erasure carried out", append(logAttrs(rs), "request", id)...)
	return c.Redirect(rs.base+"/admin/privacy?done=erased", fiber.StatusSeeOther)
}

// setRetention sets one service's retention in days; empty or 0 keeps its
// dossiers for good.
func (s *Server) setRetention(c *fiber.Ctx) error {
	rs := state(c)
	service := strings.TrimSpace(c.FormValue("service"))
	raw := strings.TrimSpace(c.FormValue("days"))
	days := 0
	var err error
	if raw != "" {
		days, err = strconv.Atoi(raw)
	}
	if err != nil || days < 0 || days > privacy.MaxRetentionDays {
		return s.renderAdminPrivacy(c, fiber.StatusUnprocessableEntity, privacy.AdminView{ErrorService: service, ErrorValue: raw,
			Error: s.i18n.T(rs.lang, "privacy.admin.retention.invalid", map[string]any{"Max": privacy.MaxRetentionDays})})
	}
	err = privacy.New(s.DB).SetRetention(c.UserContext(), rs.tenant.ID, service, days)
	if errors.Is(err, privacy.ErrInvalid) {
		return fmt.Errorf("%w: service %q", errBadInput, service)
	}
	if err != nil {
		return err
	}
	return c.Redirect(rs.base+"/admin/privacy?done=retention", fiber.StatusSeeOther)
}
