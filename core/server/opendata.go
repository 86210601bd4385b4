package server

import (
	"bytes"
	"errors"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/opendata"
)

// opendataRoutes are the town's open data: an index page and each
// dataset as CSV and as JSON, public like the portal.
func (s *Server) opendataRoutes(r fiber.Router) {
	r.Get("/opendata", s.requireTenant, s.opendataIndex)
	r.Get("/opendata/:file", s.requireTenant, s.opendataFile)
}

func (s *Server) opendataIndex(c *fiber.Ctx) error {
	rs := state(c)
	p := s.page(c, "opendata", s.i18n.T(rs.lang, "opendata.title", nil))
	list := make([]opendata.Entry, 0, len(opendata.IDs))
	for _, id := range opendata.IDs {
		list = append(list, opendata.Entry{ID: id, Title: s.i18n.T(rs.lang, "opendata."+id+".title", nil),
			Description: s.i18n.T(rs.lang, "opendata."+id+".description", nil)})
	}
	p.Data = list
	return s.render(c, p)
}

// opendataFile serves "{id}.csv" or "{id}.json"; anything else is not
// found.
func (s *Server) opendataFile(c *fiber.Ctx) error {
	rs := state(c)
	name := c.Params("file")
	dot := strings.LastIndexByte(name, '.')
	if dot <= 0 {
		return errNotFound
	}
	id, format := name[:dot], name[dot+1:]
	if !opendata.Known(id) || (format != "csv" && format != "json") {
		return errNotFound
	}
	ctx := c.UserContext()
	closed, err := s.closedStatuses(ctx)
	if err != nil {
		return err
	}
	d, err := opendata.New(s.DB).Build(ctx, rs.tenant.ID, id, rs.lang, opendata.Closed(closed))
	if errors.Is(err, opendata.ErrUnknown) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	file := rs.tenant.Slug + "-" + id + "." + format
	var body []byte
	if format == "csv" {
		var buf bytes.Buffer
		if err := d.WriteCSV(&buf); err != nil {
			return err
		}
		body = buf.Bytes()
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	} else {
		if body, err = d.JSON(rs.tenant.Slug); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	}
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("inline", map[string]string{"filename": file}))
	// The same for everybody: statistics, no person's data. Office names
	// follow the language.
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	c.Set(fiber.HeaderVary, "Accept-Language, Cookie")
	c.Set("Access-Control-Allow-Origin", "*")
	c.Set("Link", `<`+opendata.LicenceURL+`>; rel="license"`)
	return c.Send(body)
}
