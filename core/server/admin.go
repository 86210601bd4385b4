package server

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/web"
)

func (s *Server) adminRoutes(r fiber.Router) {
	r.Get("/admin", s.requireTenant, s.require("admin/home", "read"), s.adminHome)
	r.Get("/admin/settings", s.requireTenant, s.require("admin/settings", "read"), s.adminSettings)
	r.Post("/admin/settings", s.requireTenant, s.require("admin/settings", "write"), s.saveSettings)
}

// adminHome is the administration's entry: without it an admin would
// have to know each page's address.
func (s *Server) adminHome(c *fiber.Ctx) error {
	rs := state(c)
	d := &web.AdminHomeData{}
	for _, l := range []struct{ key, path, icon string }{
		{"services", "/admin/services", "it-settings"},
		{"analytics", "/admin/analytics", "it-chart-line"},
		{"settings", "/admin/settings", "it-pa"},
		{"policies", "/admin/policies", "it-locked"},
		{"privacy", "/admin/privacy", "it-user"},
	} {
		d.Links = append(d.Links, web.AdminLink{Title: s.i18n.T(rs.lang, "admin."+l.key, nil),
			Text: s.i18n.T(rs.lang, "admin."+l.key+".text", nil), URL: rs.base + l.path, Icon: l.icon})
	}
	p := s.page(c, "admin_home", s.i18n.T(rs.lang, "admin.title", nil))
	p.Data = d
	return s.render(c, p)
}

func (s *Server) adminSettings(c *fiber.Ctx) error {
	rs := state(c)
	return s.renderSettings(c, fiber.StatusOK, rs.tenant.Languages, nil, c.Query("saved") == "1")
}

// saveSettings changes the portal's languages: the main one first, the
// others in the settings' order. A portal keeps at least one.
func (s *Server) saveSettings(c *fiber.Ctx) error {
	rs := state(c)
	var chosen []string
	for _, v := range c.Request().PostArgs().PeekMulti("languages") {
		chosen = append(chosen, string(v))
	}
	main := c.FormValue("default")
	errs := web.FieldErrors{}
	for _, l := range chosen {
		if !slices.Contains(sdk.Languages, l) {
			errs["languages"] = s.i18n.T(rs.lang, "settings.error.unknown", nil)
		}
	}
	switch {
	case len(errs) > 0:
	case len(chosen) == 0:
		errs["languages"] = s.i18n.T(rs.lang, "settings.error.languages", nil)
	case !slices.Contains(chosen, main):
		errs["default"] = s.i18n.T(rs.lang, "settings.error.default", nil)
	}
	if len(errs) > 0 {
		// The form comes back as sent, with the main language first.
		shown := []string{main}
		for _, l := range chosen {
			if l != main && slices.Contains(sdk.Languages, l) {
				shown = append(shown, l)
			}
		}
		return s.renderSettings(c, fiber.StatusUnprocessableEntity, shown, errs, false)
	}
	langs := []string{main}
	for _, l := range sdk.Languages {
		if l != main && slices.Contains(chosen, l) {
			langs = append(langs, l)
		}
	}
	if _, err := s.DB.NewRaw("UPDATE tenants SET languages = ?, updated_at = now() WHERE id = ?", bunArray(&langs), rs.tenant.ID).
		Exec(c.UserContext()); err != nil {
		return err
	}
	s.audit(c, "write", "admin/settings")
	if err := s.Tenants.Reload(c.UserContext()); err != nil {
		return err
	}
	return c.Redirect(rs.base+"/admin/settings?saved=1", fiber.StatusSeeOther)
}

// renderSettings draws the form with langs checked, the first as main.
func (s *Server) renderSettings(c *fiber.Ctx, status int, langs []string, errs web.FieldErrors, saved bool) error {
	rs := state(c)
	d := &web.SettingsData{Errors: errs, Saved: saved}
	if len(langs) > 0 {
		d.Default = langs[0]
	}
	for _, l := range sdk.Languages {
		d.Languages = append(d.Languages, web.Option{Value: l, Label: s.i18n.T(rs.lang, "settings.lang."+l, nil), Selected: slices.Contains(langs, l)})
	}
	p := s.page(c, "admin_settings", s.i18n.T(rs.lang, "settings.title", nil))
	p.Data = d
	return s.renderStatus(c, status, p)
}
