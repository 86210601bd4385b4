package server

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/web"
)

// The queue: an operator's dossiers, filtered by the query string, a page
// at a time or all of them as CSV.

// queueQuery is the filter of the queue as the query string gives it.
type queueQuery struct {
	filter  dossier.Filter
	offices []int64 // the operator's offices, for their queue; nil: any
	view    web.QueueFilter
	errs    web.FieldErrors
	none    bool // the filter can match nothing (a citizen without an account)
}

// queueScopes are the views of the queue: the operator's offices (and
// dossiers not routed yet), what they took, what nobody took, everything.
var queueScopes = []string{"office", "mine", "unassigned", "all"}

func (s *Server) parseQueue(c *fiber.Ctx, dk *desk) (*queueQuery, error) {
	rs := state(c)
	q := &queueQuery{errs: web.FieldErrors{}}
	get := func(k string) string { return strings.Clone(strings.TrimSpace(c.Query(k))) }
	v := web.QueueFilter{Scope: get("scope"), Citizen: get("citizen"), Number: get("number"), Status: get("status"),
		Service: get("service"), Office: get("office"), Channel: get("channel"), From: get("from"), To: get("to"), Query: get("q")}
	def := "all"
	if len(dk.myOffices) > 0 {
		def = "office"
	}
	if v.Scope == "" {
		v.Scope = def
	}
	f := &q.filter
	switch v.Scope {
	case "office":
		q.offices = dk.myOffices
	case "mine":
		f.Assignee = dk.me.ID
	case "unassigned":
		f.Unassigned = true
		q.offices = dk.myOffices
	case "all":
	default:
		q.errs["scope"] = s.i18n.T(rs.lang, "backoffice.filter.invalid", nil)
	}
	if v.Office != "" {
		if o, ok := dk.officeBySlug(v.Office); ok {
			f.Office, q.offices = o.id, nil
		} else {
			q.errs["office"] = s.i18n.T(rs.lang, "backoffice.filter.invalid", nil)
		}
	}
	if v.Citizen != "" {
		id, err := s.Dossiers.CitizenByFiscalCode(c.UserContext(), rs.tenant.ID, v.Citizen)
		switch {
		case err != nil:
			return nil, err
		case id == 0 && !fiscalCodeLike(v.Citizen):
			q.errs["citizen"] = s.i18n.T(rs.lang, "backoffice.filter.citizen_invalid", nil)
		case id == 0:
			q.none = true
		default:
			f.Citizen = id
		}
	}
	f.Number, f.Status, f.Service, f.Channel, f.Query = v.Number, v.Status, v.Service, v.Channel, v.Query
	day := func(name, val string, next bool) time.Time {
		if val == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation("2006-01-02", val, sdk.Zone)
		if err != nil || t.Year() < 2000 || t.Year() > 9999 {
			q.errs[name] = s.i18n.T(rs.lang, "backoffice.filter.date", nil)
			return time.Time{}
		}
		if next {
			t = t.AddDate(0, 0, 1)
		}
		return t
	}
	f.From, f.To = day("from", v.From, false), day("to", v.To, true)
	f.Cursor = strings.Clone(c.Query("cursor"))
	v.Active = v.Scope != def || v.Citizen != "" || v.Number != "" || v.Status != "" || v.Service != "" || v.Office != "" ||
		v.Channel != "" || v.From != "" || v.To != "" || v.Query != ""
	q.view = v
	return q, nil
}

// fiscalCodeLike: 16 letters and digits, as an operator types a codice
// fiscale; CitizenByFiscalCode checks the rest.
func fiscalCodeLike(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	if len(s) != 16 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// filterParam is the query parameter of a dossier.Filter field.
func filterParam(field string) string {
	switch field {
	case "number", "status", "service", "channel", "from", "to", "office", "citizen":
		return field
	case "query":
		return "q"
	}
	return ""
}

// listQueue runs q, a page at a time (limit 0: the default page).
func (s *Server) listQueue(c *fiber.Ctx, q *queueQuery, limit int) (*dossier.Page, error) {
	if q.none {
		return &dossier.Page{}, nil
	}
	f := q.filter
	f.Limit = limit
	return s.Dossiers.ListQueue(c.UserContext(), state(c).tenant.ID, q.offices, f)
}

// backoffice is the operator's queue: their offices' dossiers by default,
// filtered by the query string, a page at a time; ?format=csv downloads the
// whole filtered list.
func (s *Server) backoffice(c *fiber.Ctx) error {
	rs := state(c)
	dk, err := s.openDesk(c)
	if err != nil {
		return err
	}
	q, err := s.parseQueue(c, dk)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	var page *dossier.Page
	if len(q.errs) == 0 {
		if c.Query("format") == "csv" {
			return s.queueCSV(c, q)
		}
		page, err = s.listQueue(c, q, 0)
		var fe *dossier.FieldError
		switch {
		case errors.As(err, &fe):
			q.errs[filterParam(fe.Field)] = s.i18n.T(rs.lang, s.fieldErrorID(fe), s.fieldErrorArgs(rs.lang, fe))
		case err != nil:
			return err
		}
	}
	if len(q.errs) > 0 {
		status, page = fiber.StatusUnprocessableEntity, &dossier.Page{}
	}
	base := rs.base + "/backoffice"
	d := &web.BackofficeData{Filter: q.view, Errors: q.errs, NewURL: base + "/new"}
	for _, id := range dk.myOffices {
		if o, ok := dk.officeByID(id); ok {
			d.Offices = append(d.Offices, o.name)
		}
	}
	for i := range page.Dossiers {
		d.Queue = append(d.Queue, s.queueItem(dk, dk.services, rs.lang, &page.Dossiers[i], base+"/requests"))
	}
	params := queueParams(q.view)
	if page.Next != "" {
		next := cloneValues(params)
		next.Set("cursor", page.Next)
		d.NextURL = base + "?" + next.Encode()
	}
	if q.filter.Cursor != "" {
		d.FirstURL = base + "?" + params.Encode()
	}
	csv := cloneValues(params)
	csv.Set("format", "csv")
	d.CSVURL = base + "?" + csv.Encode()
	s.queueChoices(rs.lang, dk, d)
	if wantsJSON(c) {
		if len(q.errs) > 0 {
			return c.Status(status).JSON(fiber.Map{"error": s.i18n.T(rs.lang, "error.invalid_input", nil), "fields": q.errs, "status": status})
		}
		return c.JSON(web.MyRequestsData{Requests: orEmpty(d.Queue), FirstURL: d.FirstURL, NextURL: d.NextURL})
	}
	p := s.page(c, "backoffice", s.i18n.T(rs.lang, "backoffice.title", nil))
	p.Data = d
	if c.Query("done") == "discarded" {
		p.Flash = s.i18n.T(rs.lang, "backoffice.done.discard", nil)
	}
	return s.renderStatus(c, status, p)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// queueParams is the filter as a query string, without the page.
func queueParams(v web.QueueFilter) url.Values {
	out := url.Values{}
	for k, val := range map[string]string{"scope": v.Scope, "citizen": v.Citizen, "number": v.Number, "status": v.Status,
		"service": v.Service, "office": v.Office, "channel": v.Channel, "from": v.From, "to": v.To, "q": v.Query} {
		if val != "" {
			out.Set(k, val)
		}
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// queueChoices fills the filter form's selects.
func (s *Server) queueChoices(lang string, dk *desk, d *web.BackofficeData) {
	v := d.Filter
	for _, sc := range queueScopes {
		d.Scopes = append(d.Scopes, web.Option{Value: sc, Label: s.i18n.T(lang, "backoffice.scope."+sc, nil), Selected: sc == v.Scope})
	}
	// The states of every service the town has, the core's first.
	seen := map[string]bool{}
	addStatus := func(rec *catalog.Record, id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		label, _ := s.statusLabel(rec, lang, id)
		d.Statuses = append(d.Statuses, web.Option{Value: id, Label: label, Selected: id == v.Status})
	}
	addStatus(nil, dossier.StatusDraft)
	for _, cs := range coreStatuses {
		addStatus(nil, cs.id)
	}
	services := append([]string{genericService}, dk.enabled...)
	for _, id := range services {
		rec := dk.services[id]
		d.Services = append(d.Services, web.Option{Value: id, Label: s.serviceLabel(dk.services, lang, id), Selected: id == v.Service})
		if rec != nil && rec.Manifest != nil && (v.Service == "" || v.Service == id) {
			for _, st := range rec.Manifest.GetStatuses() {
				addStatus(rec, st.GetId())
			}
		}
	}
	for _, o := range dk.offices {
		d.Units = append(d.Units, web.Option{Value: o.slug, Label: o.name, Selected: o.slug == v.Office})
	}
	for _, ch := range dossier.Channels() {
		d.Channels = append(d.Channels, web.Option{Value: ch, Label: s.channelLabel(lang, ch), Selected: ch == v.Channel})
	}
}

// queueCSV sends the whole filtered list as a spreadsheet.
func (s *Server) queueCSV(c *fiber.Ctx, q *queueQuery) error {
	rs := state(c)
	q.filter.Cursor = ""
	var rows []dossier.Dossier
	for len(rows) < csvMaxRows {
		page, err := s.listQueue(c, q, dossier.MaxLimit)
		if err != nil {
			return err
		}
		rows = append(rows, page.Dossiers...)
		if page.Next == "" {
			break
		}
		q.filter.Cursor = page.Next
	}
	var buf bytes.Buffer
	if err := dossier.WriteCSV(&buf, rows, rs.lang, s.i18n, sdk.Zone); err != nil {
		return fmt.Errorf("export dossiers: %w", err)
	}
	name := fmt.Sprintf("%s-%s-%s.csv", rs.tenant.Slug, s.i18n.T(rs.lang, "backoffice.csv.name", nil), time.Now().In(sdk.Zone).Format("2006-01-02"))
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(buf.Bytes())
}
