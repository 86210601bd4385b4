package server

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/tenancy"
	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/web"
)

// maxSearch bounds the Servizi page's search: longer text is cut, as no
// service's name or summary is that long.
const maxSearch = 100

// servicesIndex is the Servizi page of the "Modello Comuni": the town's
// published services by category, one category on its own with
// ?categoria=, and a search over names and summaries with ?q=. It works
// as plain links and a GET form, so without JavaScript too.
func (s *Server) servicesIndex(c *fiber.Ctx) error {
	rs := state(c)
	selected := c.Query("categoria")
	if selected != "" && !slices.Contains(sdk.Categories, selected) {
		return errNotFound
	}
	query := []rune(strings.TrimSpace(c.Query("q")))
	query = query[:min(len(query), maxSearch)]
	services, err := s.publishedServices(c)
	if err != nil {
		return err
	}
	d := &web.ServiceIndexData{Selected: strings.Clone(selected), Query: string(query), Total: len(services)}
	if d.BookingURL, err = s.bookingURL(c); err != nil {
		return err
	}
	words := strings.Fields(fold(string(query)))
	for _, slug := range sdk.Categories {
		g := web.ServiceGroup{Slug: slug, Name: s.categoryName(rs.lang, slug)}
		for _, sv := range services {
			if sv.category != slug {
				continue
			}
			haystack := fold(sv.Name + " " + sv.Description)
			if !allIn(words, haystack) {
				continue
			}
			g.Services = append(g.Services, sv.Service)
		}
		if slices.ContainsFunc(services, func(sv categorised) bool { return sv.category == slug }) {
			d.Categories = append(d.Categories, web.Option{Value: slug, Label: g.Name, Selected: slug == selected})
		}
		if len(g.Services) > 0 && (selected == "" || selected == slug) {
			d.Groups = append(d.Groups, g)
		}
	}
	title := s.i18n.T(rs.lang, "services.title", nil)
	if selected != "" {
		title = s.categoryName(rs.lang, selected)
	}
	p := s.page(c, "services", title)
	p.Data = d
	return s.render(c, p)
}

// categorised is a published service with its category.
type categorised struct {
	web.Service
	category string
}

// publishedServices are the town's published services whose plugin the
// catalogue has, named in the page's language.
func (s *Server) publishedServices(c *fiber.Ctx) ([]categorised, error) {
	rs := state(c)
	portal, err := s.Portals.Get(c.UserContext(), rs.tenant)
	if err != nil {
		return nil, err
	}
	recs, err := s.Catalog.List(c.UserContext())
	if err != nil {
		return nil, err
	}
	known := make(map[string]web.CatalogService, len(recs))
	for _, rec := range recs {
		if rec.Manifest != nil {
			known[rec.ID] = serviceView(rec, rs.lang)
		}
	}
	var out []categorised
	for _, sv := range portal.Services {
		v, ok := known[sv.ID]
		if !ok {
			continue
		}
		out = append(out, categorised{Service: web.Service{ID: sv.ID, Name: v.Name, Description: v.Summary,
			URL: rs.base + "/services/" + url.PathEscape(sv.ID)}, category: v.Category})
	}
	return out, nil
}

// bookingURL is where the town's appointments are booked, "" where the
// town takes none.
func (s *Server) bookingURL(c *fiber.Ctx) (string, error) {
	if _, err := s.appointmentConfig(c); err != nil {
		if errors.Is(err, errNotFound) {
			return "", nil
		}
		return "", err
	}
	return state(c).base + "/appointments", nil
}

// serviceSetting fills in what a service page takes from the town rather
// than the manifest: its category's place on the Servizi page, the
// appointment booking, and the office in charge, which the service's
// configuration names by its code ("office", as most plugins call it).
func (s *Server) serviceSetting(c *fiber.Ctx, rec *catalog.Record, d *web.ServicePageData) error {
	rs := state(c)
	d.CategoryName = s.categoryName(rs.lang, d.Service.Category)
	d.CategoryURL = rs.base + "/servizi?categoria=" + url.QueryEscape(d.Service.Category)
	var err error
	if d.BookingURL, err = s.bookingURL(c); err != nil {
		return err
	}
	ts, err := s.Catalog.TenantService(c.UserContext(), rs.tenant.ID, rec.ID)
	if err != nil {
		return err
	}
	var cfg struct {
		Office string `json:"office"`
	}
	if len(ts.Config) == 0 || json.Unmarshal(ts.Config, &cfg) != nil || cfg.Office == "" {
		return nil
	}
	portal, err := s.Portals.Get(c.UserContext(), rs.tenant)
	if err != nil {
		return err
	}
	for _, o := range portal.Offices {
		if o.Slug == cfg.Office {
			v := s.officeView(rs.lang, o)
			d.Office = &v
		}
	}
	return nil
}

// officeView is an office as the portal shows it, its hours written out
// in lang.
func (s *Server) officeView(lang string, o tenancy.Office) web.Office {
	v := web.Office{Name: o.Name.In(lang), Address: o.Address, Phone: o.Phone, Email: o.Email}
	for _, h := range o.Hours {
		v.Hours = append(v.Hours, s.formatHours(lang, h))
	}
	return v
}

func (s *Server) categoryName(lang, slug string) string {
	if slug == "" {
		slug = "altro"
	}
	return s.i18n.T(lang, "category."+slug, nil)
}

// fold lowers s and drops its accents, so that "citta" finds "Città".
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func allIn(words []string, s string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}
