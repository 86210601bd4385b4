package server

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/web"
)

// infoRoutes are the pages every town's footer links to, as the Modello
// Comuni asks: privacy notice, legal notes, accessibility statement, FAQ,
// and reporting a problem (into the helpdesk where the town has it).
func (s *Server) infoRoutes(r fiber.Router) {
	r.Get("/privacy", s.requireTenant, s.infoPage("privacy", 3))
	r.Get("/note-legali", s.requireTenant, s.infoPage("legal", 2))
	r.Get("/accessibilita", s.requireTenant, s.infoPage("accessibility", 2))
	r.Get("/faq", s.requireTenant, s.infoPage("faq", 1))
	r.Get("/segnala", s.requireTenant, s.reportPage)
}

// faqQuestions is how many questions the FAQ's messages hold.
const faqQuestions = 4

// infoPage draws page key's paragraphs (messages info.{key}.p1 … pN).
func (s *Server) infoPage(key string, paragraphs int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		rs := state(c)
		town := map[string]any{"Town": rs.tenant.Name}
		d := &web.InfoPage{}
		for i := 1; i <= paragraphs; i++ {
			d.Paragraphs = append(d.Paragraphs, s.i18n.T(rs.lang, fmt.Sprintf("info.%s.p%d", key, i), town))
		}
		if key == "faq" {
			for i := 1; i <= faqQuestions; i++ {
				d.Questions = append(d.Questions, web.Question{Q: s.i18n.T(rs.lang, fmt.Sprintf("info.faq.q%d", i), nil),
					A: s.i18n.T(rs.lang, fmt.Sprintf("info.faq.a%d", i), nil)})
			}
		}
		p := s.page(c, "info", s.i18n.T(rs.lang, "info."+key+".title", nil))
		p.Data = d
		return s.render(c, p)
	}
}

// reportPage sends a report to the town's helpdesk when it publishes one;
// otherwise it says whom to tell.
func (s *Server) reportPage(c *fiber.Ctx) error {
	rs := state(c)
	ctx := c.UserContext()
	if ts, err := s.Catalog.TenantService(ctx, rs.tenant.ID, "helpdesk"); err == nil && ts.State == catalog.StatePublished {
		if _, err := s.Catalog.Get(ctx, "helpdesk"); err == nil {
			return c.Redirect(rs.base+"/services/helpdesk", fiber.StatusSeeOther)
		}
	}
	p := s.page(c, "info", s.i18n.T(rs.lang, "info.report.title", nil))
	p.Data = &web.InfoPage{Paragraphs: []string{s.i18n.T(rs.lang, "info.report.p1", map[string]any{"Town": rs.tenant.Name})}}
	return s.render(c, p)
}
