package server

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/authz"
	"github.com/sportello/sportello/core/tenancy"
	"github.com/sportello/sportello/web"
)

var languageNames = map[string]string{"it": "Italiano", "de": "Deutsch", "en": "English"}

// page starts a web.Page with what every page shows: the tenant's branding,
// the language switch, the CSRF token and who is signed in.
func (s *Server) page(c *fiber.Ctx, name, title string) *web.Page {
	rs := state(c)
	p := &web.Page{Name: name, Lang: rs.lang, Base: rs.base, CSRF: s.csrfToken(c), Title: title, RequestID: rs.requestID}
	offered := s.i18n.Languages()
	if rs.tenant != nil {
		offered = rs.tenant.Languages
		p.Tenant = s.brand(rs.tenant, rs.lang)
	}
	if len(offered) > 1 {
		q := c.Request().URI().QueryArgs()
		for _, l := range offered {
			args := url.Values{}
			q.VisitAll(func(k, v []byte) { args.Set(string(k), string(v)) })
			args.Set("lang", l)
			p.Languages = append(p.Languages, web.LangLink{Code: l, Label: languageNames[l],
				URL: c.Path() + "?" + args.Encode(), Active: l == rs.lang})
		}
	}
	if u := s.currentUser(c); u != nil {
		p.User = u
	}
	s.pageRating(c, p)
	return p
}

// brand is the tenant's look in lang.
func (s *Server) brand(t *tenancy.Tenant, lang string) *web.Tenant {
	b := t.Branding
	wt := &web.Tenant{Slug: t.Slug, Name: t.Name, PrimaryColor: b.PrimaryColor,
		Contacts: web.Contacts{Address: b.Contacts.Address, Phone: b.Contacts.Phone, Email: b.Contacts.Email, PEC: b.Contacts.PEC}}
	if t.HasLogo {
		wt.LogoURL = "logo?v=" + strconv.FormatInt(t.UpdatedAt.Unix(), 36)
	}
	for _, l := range b.Social {
		wt.Social = append(wt.Social, web.Link{Label: l.Label.In(lang), URL: l.URL})
	}
	for _, l := range b.FooterLinks {
		wt.FooterLinks = append(wt.FooterLinks, web.Link{Label: l.Label.In(lang), URL: l.URL})
	}
	return wt
}

func (s *Server) render(c *fiber.Ctx, p *web.Page) error {
	return s.renderStatus(c, fiber.StatusOK, p)
}

func (s *Server) renderStatus(c *fiber.Ctx, status int, p *web.Page) error {
	var buf bytes.Buffer
	if err := s.Render.Render(&buf, p); err != nil {
		return fmt.Errorf("render %s: %w", p.Name, err)
	}
	return s.sendPage(c, status, p.Lang, buf.Bytes())
}

func (s *Server) sendPage(c *fiber.Ctx, status int, lang string, body []byte) error {
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderContentLanguage, lang)
	// Pages differ by person and language: no shared cache may keep them.
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Set(fiber.HeaderVary, "Cookie, Accept-Language")
	return c.Send(body)
}

// home is a tenant's portal, or on the platform's own host a list of the
// portals it serves.
func (s *Server) home(c *fiber.Ctx) error {
	rs := state(c)
	if rs.tenant == nil {
		return s.landing(c)
	}
	// Anonymous visitors with at most a language choice share one rendering.
	// Only a language the town offers counts as a choice: any other ?lang=
	// would make an entry of its own, and a client asking for ?lang=1, 2,
	// 3… would fill the cache with copies of the same page.
	var key *pageKey
	if rs.subject == "" && (len(c.Request().URI().QueryString()) == 0 || c.Query("lang") == rs.lang && c.Request().URI().QueryArgs().Len() == 1) {
		key = &pageKey{tenantID: rs.tenant.ID, version: rs.tenant.UpdatedAt.UnixNano(), lang: rs.lang,
			path: c.Path(), query: c.Query("lang")}
		if body, ok := s.pages.get(*key, func() string { return s.csrfToken(c) }); ok {
			return s.sendPage(c, fiber.StatusOK, rs.lang, body)
		}
	}
	portal, err := s.Portals.Get(c.UserContext(), rs.tenant)
	if err != nil {
		return err
	}
	p := s.page(c, "home", rs.tenant.Name)
	services, err := s.publishedServices(c)
	if err != nil {
		return err
	}
	for _, sv := range services {
		p.Tenant.Services = append(p.Tenant.Services, sv.Service)
	}
	if rs.session != nil && rs.session.Subject.CitizenID != 0 {
		personal, err := s.personalHome(c, services)
		if err != nil {
			return err
		}
		p.Data = &web.HomeData{Personal: personal}
	}
	for _, o := range portal.Offices {
		p.Tenant.Offices = append(p.Tenant.Offices, s.officeView(rs.lang, o))
	}
	if key == nil {
		return s.render(c, p)
	}
	p.CSRF = csrfPlaceholder
	var buf bytes.Buffer
	if err := s.Render.Render(&buf, p); err != nil {
		return fmt.Errorf("render %s: %w", p.Name, err)
	}
	body := buf.Bytes()
	s.pages.put(*key, bytes.Clone(body))
	return s.sendPage(c, fiber.StatusOK, rs.lang, withCSRF(body, func() string { return s.csrfToken(c) }))
}

var weekdayOrder = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// formatHours writes "Lunedì, Mercoledì 14:00–16:30"; consecutive runs of
// three days or more become "Lunedì–Venerdì".
func (s *Server) formatHours(lang string, h tenancy.Hours) string {
	on := map[string]bool{}
	for _, d := range h.Days {
		on[d] = true
	}
	var parts []string
	for i := 0; i < len(weekdayOrder); {
		if !on[weekdayOrder[i]] {
			i++
			continue
		}
		j := i
		for j+1 < len(weekdayOrder) && on[weekdayOrder[j+1]] {
			j++
		}
		first := s.i18n.T(lang, "day."+weekdayOrder[i], nil)
		switch {
		case j-i >= 2:
			parts = append(parts, first+"–"+s.i18n.T(lang, "day."+weekdayOrder[j], nil))
		case j > i:
			parts = append(parts, first, s.i18n.T(lang, "day."+weekdayOrder[j], nil))
		default:
			parts = append(parts, first)
		}
		i = j + 1
	}
	return strings.Join(parts, ", ") + " " + h.Open + "–" + h.Close
}

func (s *Server) landing(c *fiber.Ctx) error {
	rs := state(c)
	p := s.page(c, "platform_home", s.i18n.T(rs.lang, "platform.portals", nil))
	p.Data = s.tenantList(c)
	return s.render(c, p)
}

// tenantsPerPage bounds the platform's list: a platform holds every
// Italian town (7,904), which no page should list at once.
const tenantsPerPage = 50

// tenantList is one page of the tenants whose name or slug contains the
// query ?q=, page ?page= (from 1).
func (s *Server) tenantList(c *fiber.Ctx) web.PlatformData {
	all := s.Tenants.List()
	d := web.PlatformData{Count: len(all), Query: strings.TrimSpace(c.Query("q")), Page: c.QueryInt("page", 1)}
	if len([]rune(d.Query)) > 100 {
		d.Query = string([]rune(d.Query)[:100])
	}
	q := strings.ToLower(d.Query)
	var found []*tenancy.Tenant
	for _, t := range all {
		if q == "" || strings.Contains(strings.ToLower(t.Name), q) || strings.Contains(t.Slug, q) {
			found = append(found, t)
		}
	}
	d.Matches = len(found)
	d.Pages = max(1, (len(found)+tenantsPerPage-1)/tenantsPerPage)
	d.Page = min(max(d.Page, 1), d.Pages)
	pageURL := func(n int) string {
		v := url.Values{}
		if d.Query != "" {
			v.Set("q", d.Query)
		}
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return c.Path()
		}
		return c.Path() + "?" + v.Encode()
	}
	if d.Page > 1 {
		d.PrevURL = pageURL(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.NextURL = pageURL(d.Page + 1)
	}
	for _, t := range found[min((d.Page-1)*tenantsPerPage, len(found)):min(d.Page*tenantsPerPage, len(found))] {
		d.Tenants = append(d.Tenants, web.TenantSummary{Slug: t.Slug, Name: t.Name, Domains: t.Domains,
			Languages: t.Languages, URL: "/t/" + t.Slug + "/"})
	}
	return d
}

func (s *Server) logo(c *fiber.Ctx) error {
	rs := state(c)
	if !rs.tenant.HasLogo {
		return errNotFound
	}
	data, typ, err := tenancy.Logo(c.UserContext(), s.DB, rs.tenant.ID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, typ)
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	// An SVG logo is shown as an image; opened directly it must not run.
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	return c.Send(data)
}

func (s *Server) profile(c *fiber.Ctx) error {
	rs := state(c)
	p := s.page(c, "profile", s.i18n.T(rs.lang, "profile.title", nil))
	if err := s.addNotifyPrefs(c, p); err != nil {
		return err
	}
	return s.render(c, p)
}

// Tenant admin: the tenant's own authorization rules.

func (s *Server) policies(c *fiber.Ctx) error {
	return s.renderPolicies(c, fiber.StatusOK, web.PolicyForm{}, nil)
}

func (s *Server) renderPolicies(c *fiber.Ctx, status int, form web.PolicyForm, errs web.FieldErrors) error {
	rs := state(c)
	rules, err := s.Authz.Policies(c.UserContext(), rs.tenant.ID)
	if err != nil {
		return err
	}
	d := web.PoliciesData{Form: form, Errors: errs, Actions: authz.Actions()}
	for _, r := range rules {
		d.Rules = append(d.Rules, web.PolicyRule{ID: r.ID, Role: r.Role, Object: r.Object, Action: r.Action})
	}
	p := s.page(c, "admin_policies", s.i18n.T(rs.lang, "admin.policies.title", nil))
	p.Data = d
	if f := c.Query("done"); f != "" {
		p.Flash = s.i18n.T(rs.lang, "admin.policies."+map[string]string{"added": "added", "removed": "removed"}[f], nil)
	}
	return s.renderStatus(c, status, p)
}

func (s *Server) addPolicy(c *fiber.Ctx) error {
	rs := state(c)
	form := web.PolicyForm{Role: strings.TrimSpace(c.FormValue("role")), Object: strings.TrimSpace(c.FormValue("object")),
		Action: strings.TrimSpace(c.FormValue("action"))}
	err := s.Authz.AddPolicy(c.UserContext(), rs.tenant.ID, form.Role, form.Object, form.Action)
	var ie *authz.RuleError
	switch {
	case errors.As(err, &ie):
		return s.renderPolicies(c, fiber.StatusUnprocessableEntity, form,
			web.FieldErrors{ie.Field: s.i18n.T(rs.lang, "admin.policies.invalid_"+ie.Field, nil)})
	case err != nil:
		return err
	}
	s.audit(c, "policy.add", form.Role+" "+form.Object+" "+form.Action)
	return c.Redirect(rs.base+"/admin/policies?done=added", fiber.StatusSeeOther)
}

func (s *Server) removePolicy(c *fiber.Ctx) error {
	rs := state(c)
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return errNotFound
	}
	if err := s.Authz.RemovePolicy(c.UserContext(), rs.tenant.ID, id); err != nil {
		return err
	}
	s.audit(c, "policy.remove", strconv.FormatInt(id, 10))
	return c.Redirect(rs.base+"/admin/policies?done=removed", fiber.StatusSeeOther)
}

// Platform console.

func (s *Server) platformHome(c *fiber.Ctx) error {
	if state(c).platform == nil {
		return c.Redirect("/platform/login", fiber.StatusSeeOther)
	}
	return s.renderPlatformHome(c, fiber.StatusOK, "")
}

func (s *Server) renderPlatformHome(c *fiber.Ctx, status int, errID string) error {
	rs := state(c)
	p := s.page(c, "platform_home", s.i18n.T(rs.lang, "platform.title", nil))
	d := s.tenantList(c)
	if err := s.platformConsole(c, &d); err != nil {
		return err
	}
	p.Data = d
	switch {
	case errID != "":
		p.Flash = s.i18n.T(rs.lang, errID, nil)
	case c.Query("done") == "decided":
		p.Flash = s.i18n.T(rs.lang, "platform.decided", nil)
	case c.Query("done") == "restarted":
		p.Flash = s.i18n.T(rs.lang, "platform.restarted", nil)
	case c.Query("done") == "restart_failed":
		p.Flash = s.i18n.T(rs.lang, "platform.restart_failed", nil)
	case c.Query("done") == "onboarded":
		p.Flash = s.i18n.T(rs.lang, "onboard.done", nil)
	}
	return s.renderStatus(c, status, p)
}
