package server

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/analytics"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/web"
)

// analyticsRoutes are the tenant admins' analytics: the page, and each of
// its figures as CSV for the same period.
func (s *Server) analyticsRoutes(r fiber.Router) {
	r.Get("/admin/analytics", s.requireTenant, s.require("admin/analytics", "read"), s.analyticsPage)
	r.Get("/admin/analytics/:figure.csv", s.requireTenant, s.require("admin/analytics", "read"), s.analyticsCSV)
}

// figure is one table of the page with raw values: the page formats them
// in the reader's language, the CSV writes them plainly.
type figure struct {
	id, title, note string
	chart           string // "line" or "bar" to draw it, "" for a table only
	total           bool   // the last column sums the others (not charted)
	head            []string
	rows            [][]any // string, time.Time (a day), int64 or float64
}

// analyticsFigureIDs are the figures in the page's order.
var analyticsFigureIDs = []string{"by-service", "by-channel", "by-office", "heat", "resolution", "overdue", "consultations", "ratings", "citizens"}

// analyticsPeriod reads ?from= and ?to=; a refused period is an HTTP
// status with a message in lang.
func (s *Server) analyticsPeriod(c *fiber.Ctx, lang string) (analytics.Period, int, string) {
	p, err := analytics.ParsePeriod(c.Query("from"), c.Query("to"), time.Now())
	switch {
	case errors.Is(err, analytics.ErrPeriodFormat):
		return p, fiber.StatusBadRequest, s.i18n.T(lang, "analytics.error.format", nil)
	case errors.Is(err, analytics.ErrPeriodOrder):
		return p, fiber.StatusUnprocessableEntity, s.i18n.T(lang, "analytics.error.order", nil)
	case err != nil:
		return p, fiber.StatusUnprocessableEntity, s.i18n.T(lang, "analytics.error.length", nil)
	}
	return p, 0, ""
}

func (s *Server) analyticsPage(c *fiber.Ctx) error {
	rs := state(c)
	d := &web.AnalyticsData{From: c.Query("from"), To: c.Query("to"), ChartsJSON: "{}"}
	p, status, msg := s.analyticsPeriod(c, rs.lang)
	page := s.page(c, "admin_analytics", s.i18n.T(rs.lang, "analytics.title", nil))
	page.Data = d
	if status != 0 {
		d.Error = msg
		return s.renderStatus(c, status, page)
	}
	d.From, d.To, d.Weekly = p.From.Format(time.DateOnly), p.To.Format(time.DateOnly), p.Weekly()
	figs, err := s.analyticsFigures(c, p)
	if err != nil {
		return err
	}
	query := "?from=" + d.From + "&to=" + d.To
	charts := map[string]any{}
	for _, f := range figs {
		csvURL := rs.base + "/admin/analytics/" + f.id + ".csv" + query
		if f.id == "heat" {
			d.Heat = s.heatTable(rs.lang, f, csvURL)
			continue
		}
		t := web.AnalyticsTable{ID: f.id, Title: f.title, Note: f.note, CSV: csvURL, Chart: f.chart != "", Head: f.head}
		for _, row := range f.rows {
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = formatCell(rs.lang, v)
			}
			t.Rows = append(t.Rows, cells)
		}
		if f.chart != "" && len(f.rows) > 0 {
			charts[f.id] = chartSpec(rs.lang, f)
		}
		d.Tables = append(d.Tables, t)
	}
	b, err := json.Marshal(charts)
	if err != nil {
		return err
	}
	d.ChartsJSON = string(b)
	return s.render(c, page)
}

func (s *Server) analyticsCSV(c *fiber.Ctx) error {
	rs := state(c)
	id := c.Params("figure")
	known := false
	for _, f := range analyticsFigureIDs {
		known = known || f == id
	}
	if !known {
		return errNotFound
	}
	p, status, msg := s.analyticsPeriod(c, rs.lang)
	if status != 0 {
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(status).SendString(msg)
	}
	figs, err := s.analyticsFigures(c, p)
	if err != nil {
		return err
	}
	for _, f := range figs {
		if f.id != id {
			continue
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s-%s.csv"`,
			f.id, p.From.Format(time.DateOnly), p.To.Format(time.DateOnly)))
		w := csv.NewWriter(c.Response().BodyWriter())
		if err := w.Write(f.head); err != nil {
			return err
		}
		for _, row := range f.rows {
			rec := make([]string, len(row))
			for i, v := range row {
				rec[i] = plainCell(v)
			}
			if err := w.Write(rec); err != nil {
				return err
			}
		}
		w.Flush()
		return w.Error()
	}
	return errNotFound
}

// analyticsFigures reads the period's figures and lays them out as the
// page's tables, labelled in the request's language.
func (s *Server) analyticsFigures(c *fiber.Ctx, p analytics.Period) ([]figure, error) {
	rs := state(c)
	lang := rs.lang
	ctx := c.UserContext()
	services, err := s.catalogByID(c)
	if err != nil {
		return nil, err
	}
	finals := func(service, status string) bool {
		_, final := s.statusLabel(services[service], lang, status)
		return final
	}
	store := analytics.New(s.DB)
	f, err := store.Figures(ctx, rs.tenant.ID, p, finals)
	if err != nil {
		return nil, err
	}
	offices, err := store.OfficeNames(ctx, rs.tenant.ID, lang)
	if err != nil {
		return nil, err
	}
	t := func(id string) string { return s.i18n.T(lang, id, nil) }
	serviceName := func(id string) string { return s.serviceLabel(services, lang, id) }
	channelName := func(id string) string {
		if l := s.i18n.T(lang, "analytics.channel."+id, nil); l != "analytics.channel."+id {
			return l
		}
		return id
	}
	officeName := func(id string) string {
		if n, ok := offices[id]; ok {
			return n
		}
		return t("analytics.office.none")
	}
	series := func(id, title string, ss []analytics.Series, label func(string) string) figure {
		fg := figure{id: id, title: t(title), chart: "line", total: true, head: []string{t("analytics.col.period")}}
		for _, sr := range ss {
			fg.head = append(fg.head, label(sr.Key))
		}
		fg.head = append(fg.head, t("analytics.col.total"))
		if len(ss) == 0 {
			return fg
		}
		for i, b := range f.Buckets {
			row := []any{b}
			var sum int64
			for _, sr := range ss {
				row = append(row, sr.Counts[i])
				sum += sr.Counts[i]
			}
			fg.rows = append(fg.rows, append(row, sum))
		}
		return fg
	}
	out := []figure{
		series("by-service", "analytics.by_service", f.ByService, serviceName),
		series("by-channel", "analytics.by_channel", f.ByChannel, channelName),
		series("by-office", "analytics.by_office", f.ByOffice, officeName),
	}

	heat := figure{id: "heat", title: t("analytics.heat.title"), head: []string{t("analytics.weekday")}}
	for h := range 24 {
		heat.head = append(heat.head, strconv.Itoa(h))
	}
	for d := range 7 {
		row := []any{t("analytics.day." + strconv.Itoa(d+1))}
		for h := range 24 {
			row = append(row, f.Heat[d][h])
		}
		heat.rows = append(heat.rows, row)
	}
	out = append(out, heat)

	res := figure{id: "resolution", title: t("analytics.resolution.title"), note: t("analytics.resolution.note"), chart: "bar",
		head: []string{t("analytics.col.service"), t("analytics.col.closed"), t("analytics.col.avg_days")}}
	for _, r := range f.Resolutions {
		res.rows = append(res.rows, []any{serviceName(r.Service), r.N, ratio(r.Secs, r.N*86400)})
	}
	over := figure{id: "overdue", title: t("analytics.overdue.title"), note: t("analytics.overdue.note"), chart: "bar",
		head: []string{t("analytics.col.service"), t("analytics.col.overdue")}}
	for _, o := range f.Overdue {
		over.rows = append(over.rows, []any{serviceName(o.Service), o.N})
	}
	desks := figure{id: "consultations", title: t("analytics.consultations.title"), note: t("analytics.consultations.note"),
		head: []string{t("analytics.col.desk"), t("analytics.col.entries"), t("analytics.col.taken"), t("analytics.col.wait"),
			t("analytics.col.calls"), t("analytics.col.length")}}
	for _, d := range f.Desks {
		desks.rows = append(desks.rows, []any{d.Desk, d.Entries, d.Taken, ratio(d.WaitSecs, d.Taken*60), d.Calls, ratio(d.CallSecs, d.Calls*60)})
	}
	ratings := figure{id: "ratings", title: t("analytics.ratings.title"), note: t("analytics.ratings.note"),
		head: []string{t("analytics.col.page"), t("analytics.col.ratings"), t("analytics.col.stars")}}
	for _, r := range f.Ratings {
		ratings.rows = append(ratings.rows, []any{r.Path, r.N, ratio(r.Stars, r.N)})
	}
	citizens := figure{id: "citizens", title: t("analytics.citizens.title"), chart: "bar",
		note: s.i18n.T(lang, "analytics.citizens.note", map[string]any{"Total": i18n.FormatNumber(lang, float64(f.CitizensTotal), 0)}),
		head: []string{t("analytics.col.period"), t("analytics.col.registered")}}
	if f.CitizensTotal > 0 {
		for i, b := range f.Buckets {
			citizens.rows = append(citizens.rows, []any{b, f.Citizens.Counts[i]})
		}
	}
	return append(out, res, over, desks, ratings, citizens), nil
}

// ratio is a/b, 0 when b is.
func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func formatCell(lang string, v any) string {
	switch v := v.(type) {
	case time.Time:
		return i18n.FormatDate(lang, v)
	case int64:
		return i18n.FormatNumber(lang, float64(v), 0)
	case float64:
		return i18n.FormatNumber(lang, v, 1)
	}
	return fmt.Sprint(v)
}

func plainCell(v any) string {
	switch v := v.(type) {
	case time.Time:
		return v.Format(time.DateOnly)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return fmt.Sprint(v)
}

// chartSpec is f as analytics.js draws it: series tables by bucket, one
// dataset per column but the total; the others by row, their first number
// column.
func chartSpec(lang string, f figure) map[string]any {
	type dataset struct {
		Label string  `json:"label"`
		Data  []int64 `json:"data"`
	}
	var labels []string
	var sets []dataset
	if len(f.rows) > 0 {
		if _, byTime := f.rows[0][0].(time.Time); byTime {
			last := len(f.head) - 1
			if f.total {
				last--
			}
			for col := 1; col <= last; col++ {
				sets = append(sets, dataset{Label: f.head[col]})
			}
			for _, row := range f.rows {
				labels = append(labels, formatCell(lang, row[0]))
				for col := 1; col <= last; col++ {
					n, _ := row[col].(int64)
					sets[col-1].Data = append(sets[col-1].Data, n)
				}
			}
		} else {
			sets = append(sets, dataset{Label: f.head[1]})
			for _, row := range f.rows {
				labels = append(labels, formatCell(lang, row[0]))
				n, _ := row[1].(int64)
				sets[0].Data = append(sets[0].Data, n)
			}
		}
	}
	return map[string]any{"kind": f.chart, "labels": labels, "datasets": sets}
}

// heatTable is the heat figure as the page's shaded table.
func (s *Server) heatTable(lang string, f figure, csvURL string) *web.AnalyticsHeat {
	h := &web.AnalyticsHeat{Title: f.title, CSV: csvURL, Hours: f.head[1:]}
	var top int64
	for _, row := range f.rows {
		for _, v := range row[1:] {
			top = max(top, v.(int64))
		}
	}
	for _, row := range f.rows {
		h.Days = append(h.Days, row[0].(string))
		var cells []web.HeatCell
		for _, v := range row[1:] {
			n := v.(int64)
			level := 0
			if n > 0 && top > 0 {
				level = 1 + int(3*n/top) // 1..4, 4 only for the largest
			}
			cells = append(cells, web.HeatCell{N: i18n.FormatNumber(lang, float64(n), 0), Level: min(level, 4)})
		}
		h.Cells = append(h.Cells, cells)
	}
	return h
}
