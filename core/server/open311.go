package server

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/forms"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/open311"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// The Open311 GeoReport v2 interface of a town's helpdesk, so that the
// apps and dashboards written for the standard work unchanged. The
// jurisdiction is the town: its slug is the jurisdiction_id, and the town
// is also in the path (or the host).
//
//	GET  {base}/open311/v2/services.{json|xml}           the handled categories
//	GET  {base}/open311/v2/services/{code}.{json|xml}    one category's definition (no extra attributes)
//	POST {base}/open311/v2/requests.{json|xml}           file a report (api_key required)
//	GET  {base}/open311/v2/requests.{json|xml}           reports: service_request_id, service_code,
//	                                                     start_date, end_date, status (open|closed)
//	GET  {base}/open311/v2/requests/{id}.{json|xml}      one report
//	GET  {base}/open311/v2/dataset.csv                   the open dataset (same filters, no personal data)
//
// Reading is public and answers any origin (CORS), so a dashboard on
// another site can show the town's reports. Filing needs a key the town
// issued (`sportello open311 api-key create`), sent as api_key in the body
// (or the query string). As the specification asks, a missing or wrong
// key is a 403, and so is a key of another town, with a description
// saying which. Every error is an Open311 error list in the request's
// format (JSON unless the path ends in .xml), with the status the
// specification gives: 404 for what does not exist, 403 for the key, 400
// for any other wrong request; 413 for a body over 64 KiB and 503 when
// the helpdesk is down, so that a client knows to try again later.
//
// What a report becomes is the helpdesk's business: the host checks the
// request against the helpdesk's "report" form, as it checks a form
// posted on the portal, and hands it to the plugin's "report" action as
// an anonymous visitor; nothing is stored unless all of it is valid.
// media_url is kept only when the form has a media_url field; attribute[…]
// values are ignored, since no category defines attributes.

// helpdeskID is the catalogue id of the service behind the interface.
const helpdeskID = "helpdesk"

// Actions of the helpdesk the interface uses.
const (
	helpdeskServicesAction = "services"
	helpdeskReportAction   = "report"
)

// maxWindow is the longest span of a request list, and its default: the
// most recent 90 days (GeoReport v2, GET Service Requests).
const maxWindow = 90 * 24 * time.Hour

// maxTitle is the longest title made from a report's description.
const maxTitle = 80

const open311HelpdeskKey = "sportello.open311.helpdesk"

type open311API struct {
	s    *Server
	keys *open311.Keys
	// spec is what the interface reads of the helpdesk's manifest, worked
	// out once for the manifest the plugin host holds: a restarted plugin
	// (a binary registered again, among others) answers with a manifest
	// of its own, and so gets a spec of its own.
	spec atomic.Pointer[helpdeskSpec]
}

func (s *Server) open311Routes(app *fiber.App, limit fiber.Handler) {
	api := &open311API{s: s, keys: open311.NewKeys(s.DB)}
	chain := func(h fiber.Handler) []fiber.Handler {
		return []fiber.Handler{api.cors, s.resolveTenant, s.requireTenant, s.language, limit, api.offered, s.idempotent, h}
	}
	for _, prefix := range []string{"/t/:tenant/open311/v2", "/open311/v2"} {
		app.Get(prefix+"/services/:code", chain(api.definition)...)
		app.Get(prefix+"/requests/:id", chain(api.request)...)
		app.Get(prefix+"/:resource", chain(api.read)...)
		app.Post(prefix+"/:resource", chain(api.create)...)
	}
}

// isOpen311 reports whether the request is the interface's, whose errors
// are Open311 error lists.
func isOpen311(c *fiber.Ctx) bool {
	return strings.Contains(c.Path(), "/open311/v2/")
}

// open311Format is the format the path asks for: its extension.
func open311Format(c *fiber.Ctx) string {
	p := c.Path()
	_, format := splitFormat(p[strings.LastIndexByte(p, '/')+1:])
	return format
}

// splitFormat splits "services.json" into "services" and "json".
func splitFormat(name string) (string, string) {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[:i], strings.ToLower(name[i+1:])
	}
	return name, ""
}

// cors lets any site read the public lists; nothing else crosses
// origins (a key is not for browsers).
func (a *open311API) cors(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	}
	return c.Next()
}

// helpdesk is the town's helpdesk as the interface uses it.
type helpdesk struct {
	*helpdeskSpec
	config json.RawMessage // the town's configuration of it
}

func helpdeskOf(c *fiber.Ctx) *helpdesk {
	h, _ := c.Locals(open311HelpdeskKey).(*helpdesk)
	return h
}

// helpdeskSpec is what the interface needs of one manifest of the
// helpdesk. A manifest is not changed once read, and neither is this but
// for its report form, parsed for the first report filed.
type helpdeskSpec struct {
	manifest *pb.Manifest
	speaks   bool     // it has the actions the interface calls
	finals   []string // the statuses reported as closed

	reportOnce sync.Once
	report     *reportForm
	reportErr  error
}

// reportForm is the helpdesk's report form, and what reportDocument
// fills in on the app's behalf because the form has it.
type reportForm struct {
	form     *forms.Form
	mediaURL bool // a media_url field
	channel  bool // a channel that may be "app"
	consent  bool // a boolean consent
}

func newHelpdeskSpec(m *pb.Manifest) *helpdeskSpec {
	sp := &helpdeskSpec{manifest: m,
		speaks: actionOf(m, helpdeskServicesAction) != nil && actionOf(m, helpdeskReportAction) != nil}
	for _, st := range m.GetStatuses() {
		if st.GetFinal() {
			sp.finals = append(sp.finals, st.GetId())
		}
	}
	if len(sp.finals) == 0 {
		sp.finals = []string{"resolved", "closed"}
	}
	return sp
}

// reportForm is the report form, parsed the first time it is asked for
// (safe for concurrent use, as a *forms.Form is).
func (sp *helpdeskSpec) reportForm(cat *i18n.Catalog) (*reportForm, error) {
	sp.reportOnce.Do(func() { sp.report, sp.reportErr = parseReportForm(sp.manifest, cat) })
	return sp.report, sp.reportErr
}

func parseReportForm(m *pb.Manifest, cat *i18n.Catalog) (*reportForm, error) {
	form := formOf(m, actionOf(m, helpdeskReportAction).GetFormId())
	if form == nil {
		return nil, fmt.Errorf("helpdesk report: no form: %w", pluginhost.ErrFailed)
	}
	f, err := forms.Parse(form.GetSchemaJson(), forms.WithCatalog(cat))
	if err != nil {
		return nil, fmt.Errorf("helpdesk report form: %w", err)
	}
	var schema struct {
		Properties map[string]struct {
			Type string   `json:"type"`
			Enum []string `json:"enum"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(form.GetSchemaJson(), &schema); err != nil {
		return nil, fmt.Errorf("helpdesk report form: %w", err)
	}
	_, media := schema.Properties["media_url"]
	channel, consent := schema.Properties["channel"], schema.Properties["consent"]
	return &reportForm{form: f, mediaURL: media, channel: slices.Contains(channel.Enum, "app"),
		consent: consent.Type == "boolean"}, nil
}

// helpdeskSpec is the spec of the helpdesk's manifest: the one the plugin
// host holds (what the running plugin said of itself), or else the
// catalogue's; nil when there is none yet.
func (a *open311API) helpdeskSpec(ctx context.Context) (*helpdeskSpec, error) {
	var m *pb.Manifest
	ok := false
	if a.s.Plugins != nil {
		m, ok = a.s.Plugins.Manifest(helpdeskID)
	}
	if !ok {
		// Not supervised here (no plugin host, or registered since it
		// started): the catalogue's record, as the portal reads it.
		rec, err := a.s.Catalog.Get(ctx, helpdeskID)
		if err != nil {
			return nil, err
		}
		if m = rec.Manifest; m == nil {
			return nil, nil
		}
	}
	return a.specFor(m), nil
}

// specFor is m's spec: the one kept, if it is m's, or a new one kept from
// now on. Two requests that find a new manifest at once may each work one
// out; either will do, and the other is dropped.
func (a *open311API) specFor(m *pb.Manifest) *helpdeskSpec {
	if sp := a.spec.Load(); sp != nil && sp.manifest == m {
		return sp
	}
	sp := newHelpdeskSpec(m)
	a.spec.Store(sp)
	return sp
}

// townState is the state and configuration of the town's helpdesk ("" if
// the town never asked for it), read afresh for every request in one
// round trip, not a transaction: publishing or unpublishing the helpdesk
// takes effect with the next request.
func (a *open311API) townState(ctx context.Context, tenantID int64) (state string, config json.RawMessage, err error) {
	row, err := a.s.DB.QueryRowInTenant(ctx, tenantID,
		"SELECT state, config::text FROM tenant_services WHERE tenant_id = ? AND service_id = ?", tenantID, helpdeskID)
	if err != nil {
		return "", nil, fmt.Errorf("helpdesk of tenant %d: %w", tenantID, err)
	}
	var cfg string
	switch err := row.Scan(&state, &cfg); {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil, nil
	case err != nil:
		return "", nil, fmt.Errorf("helpdesk of tenant %d: %w", tenantID, err)
	}
	return state, json.RawMessage(cfg), nil
}

// offered admits the request when the town publishes a helpdesk that
// speaks Open311, and checks the jurisdiction it names, if any.
func (a *open311API) offered(c *fiber.Ctx) error {
	rs := state(c)
	if j := c.Query("jurisdiction_id"); j != "" && j != rs.tenant.Slug {
		return open311.ErrJurisdiction
	}
	sp, err := a.helpdeskSpec(c.UserContext())
	if errors.Is(err, catalog.ErrNotFound) {
		return open311.ErrNotOffered
	}
	if err != nil {
		return err
	}
	st, config, err := a.townState(c.UserContext(), rs.tenant.ID)
	if err != nil {
		return err
	}
	if sp == nil || !sp.speaks || st != catalog.StatePublished {
		return open311.ErrNotOffered
	}
	c.Locals(open311HelpdeskKey, &helpdesk{helpdeskSpec: sp, config: config})
	return c.Next()
}

func actionOf(m *pb.Manifest, id string) *pb.Action {
	for _, a := range m.GetActions() {
		if a.GetId() == id && a.GetScope() != sdk.ScopeDossier {
			return a
		}
	}
	return nil
}

// Output. The JSON is the XML's mapping, as the specification has it:
// a list of objects; absent values are null in JSON and left out in XML.

const xmlHeader = `<?xml version="1.0" encoding="utf-8"?>` + "\n"

// reply writes v as JSON, or x as XML.
func reply(c *fiber.Ctx, status int, format string, v, x any) error {
	var body []byte
	var err error
	if format == "xml" {
		c.Set(fiber.HeaderContentType, "text/xml; charset=utf-8")
		if body, err = xml.Marshal(x); err != nil {
			return fmt.Errorf("open311: write XML: %w", err)
		}
		body = append([]byte(xmlHeader), body...)
	} else {
		c.Set(fiber.HeaderContentType, "application/json; charset=utf-8")
		if body, err = json.Marshal(v); err != nil {
			return fmt.Errorf("open311: write JSON: %w", err)
		}
	}
	return c.Status(status).Send(body)
}

type o311Error struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

type o311Errors struct {
	XMLName xml.Name    `xml:"errors"`
	Errors  []o311Error `xml:"error"`
}

// open311Status is status in the specification's terms: 400 for every
// wrong request that is neither missing (404) nor refused for its key
// (403); what the server cannot do now (5xx), a body too large (413) and
// a method the resource lacks (405) keep their own.
func open311Status(status int) int {
	switch status {
	case fiber.StatusNotFound, fiber.StatusForbidden, fiber.StatusMethodNotAllowed, fiber.StatusRequestEntityTooLarge,
		fiber.StatusTooManyRequests:
		return status
	}
	if status >= 500 {
		return status
	}
	return fiber.StatusBadRequest
}

// open311Fail answers an error of the interface (handleError's part):
// each problem of an *open311.InputError, or msg.
func (s *Server) open311Fail(c *fiber.Ctx, status int, msg string, err error) error {
	// A retry's Idempotency-Key refused keeps its status: it is about the
	// HTTP exchange, not the report, and a client retrying must tell
	// "in progress" (409) from "another request" (422).
	if !errors.Is(err, errIdempotencyBusy) && !errors.Is(err, errIdempotencyMismatch) {
		status = open311Status(status)
	}
	var list []o311Error
	var ie *open311.InputError
	if errors.As(err, &ie) {
		for _, p := range ie.Problems {
			d := p.Text
			if p.Param != "" {
				d = p.Param + ": " + p.Text
			}
			list = append(list, o311Error{Code: status, Description: d})
		}
	}
	if len(list) == 0 {
		list = []o311Error{{Code: status, Description: msg}}
	}
	format := open311Format(c)
	if format != "xml" {
		format = "json"
	}
	return reply(c, status, format, list, o311Errors{Errors: list})
}

// The helpdesk's categories, from its "services" action.

type helpdeskCategory struct {
	Code        string   `json:"code"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Group       string   `json:"group"`
	Keywords    []string `json:"keywords"`
	Handled     bool     `json:"handled"`
	Redirect    string   `json:"redirect"`
}

func (a *open311API) anonymous(c *fiber.Ctx, action string, values []byte) pluginhost.Request {
	rs := state(c)
	return pluginhost.Request{TenantID: rs.tenant.ID, TenantSlug: rs.tenant.Slug, Lang: rs.lang, RequestID: rs.requestID,
		Actor: pluginhost.Actor{Actor: hostapi.Actor{Kind: hostapi.ActorAnonymous}}, Action: action, Values: values,
		Config: helpdeskOf(c).config}
}

// categories asks the helpdesk for its categories in the request's
// language.
func (a *open311API) categories(c *fiber.Ctx) ([]helpdeskCategory, error) {
	res, err := a.s.dispatch(c, helpdeskID, a.anonymous(c, helpdeskServicesAction, []byte("{}")))
	if err != nil {
		return nil, err
	}
	if res.GetOutcome() != sdk.OutcomeOK {
		return nil, fmt.Errorf("helpdesk services: outcome %q: %w", res.GetOutcome(), pluginhost.ErrFailed)
	}
	var data struct {
		Services []helpdeskCategory `json:"services"`
	}
	if err := json.Unmarshal(res.GetDataJson(), &data); err != nil {
		return nil, fmt.Errorf("helpdesk services: %v: %w", err, pluginhost.ErrFailed)
	}
	out := data.Services[:0]
	for _, cat := range data.Services {
		if cat.Code != "" {
			out = append(out, cat)
		}
	}
	return out, nil
}

type o311Service struct {
	XMLName     xml.Name `json:"-" xml:"service"`
	Code        string   `json:"service_code" xml:"service_code"`
	Name        string   `json:"service_name" xml:"service_name"`
	Description string   `json:"description" xml:"description"`
	Metadata    bool     `json:"metadata" xml:"metadata"`
	Type        string   `json:"type" xml:"type"`
	Keywords    string   `json:"keywords" xml:"keywords"`
	Group       string   `json:"group" xml:"group"`
}

type o311Services struct {
	XMLName  xml.Name      `xml:"services"`
	Services []o311Service `xml:"service"`
}

// read answers the GETs of a resource with a format: services,
// requests and the dataset.
func (a *open311API) read(c *fiber.Ctx) error {
	name, format := splitFormat(c.Params("resource"))
	switch {
	case name == "dataset" && format == "csv":
		return a.dataset(c)
	case name != "services" && name != "requests":
		return errNotFound
	case format != "json" && format != "xml":
		return open311.ErrFormat
	case name == "services":
		return a.services(c, format)
	}
	return a.requests(c, format)
}

// services lists the categories the helpdesk handles; those it sends
// elsewhere are left out, as nobody can file them here.
func (a *open311API) services(c *fiber.Ctx, format string) error {
	cats, err := a.categories(c)
	if err != nil {
		return err
	}
	list := []o311Service{}
	for _, cat := range cats {
		if !cat.Handled {
			continue
		}
		list = append(list, o311Service{Code: cat.Code, Name: cat.Name, Description: cat.Description, Type: "realtime",
			Keywords: strings.Join(cat.Keywords, ", "), Group: cat.Group})
	}
	return reply(c, fiber.StatusOK, format, list, o311Services{Services: list})
}

type o311Definition struct {
	Code       string `json:"service_code"`
	Attributes []any  `json:"attributes"`
}

type o311DefinitionXML struct {
	XMLName    xml.Name `xml:"service_definition"`
	Code       string   `xml:"service_code"`
	Attributes struct{} `xml:"attributes"`
}

// definition describes one handled category: no attributes beyond the
// standard fields, which is what "metadata": false says too.
func (a *open311API) definition(c *fiber.Ctx) error {
	code, format := splitFormat(c.Params("code"))
	if format != "json" && format != "xml" {
		return open311.ErrFormat
	}
	cats, err := a.categories(c)
	if err != nil {
		return err
	}
	for _, cat := range cats {
		if cat.Code == code && cat.Handled {
			return reply(c, fiber.StatusOK, format, o311Definition{Code: cat.Code, Attributes: []any{}},
				o311DefinitionXML{Code: cat.Code})
		}
	}
	return open311.ErrUnknownService
}

// Reading the reports.

type o311Request struct {
	XMLName           xml.Name `json:"-" xml:"request"`
	ID                string   `json:"service_request_id" xml:"service_request_id"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       *string  `json:"status_notes" xml:"status_notes,omitempty"`
	ServiceName       string   `json:"service_name" xml:"service_name"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	Description       *string  `json:"description" xml:"description,omitempty"`
	AgencyResponsible *string  `json:"agency_responsible" xml:"agency_responsible,omitempty"`
	ServiceNotice     *string  `json:"service_notice" xml:"service_notice,omitempty"`
	Requested         string   `json:"requested_datetime" xml:"requested_datetime"`
	Updated           string   `json:"updated_datetime" xml:"updated_datetime"`
	Expected          *string  `json:"expected_datetime" xml:"expected_datetime,omitempty"`
	Address           *string  `json:"address" xml:"address,omitempty"`
	Lat               *float64 `json:"lat" xml:"lat,omitempty"`
	Long              *float64 `json:"long" xml:"long,omitempty"`
	MediaURL          *string  `json:"media_url" xml:"media_url,omitempty"`
}

type o311Requests struct {
	XMLName  xml.Name      `xml:"service_requests"`
	Requests []o311Request `xml:"request"`
}

// reportData is what the interface reads of a helpdesk dossier's data:
// never its contact_* keys.
type reportData struct {
	Category    string   `json:"category"`
	Description string   `json:"description"`
	Lat         *float64 `json:"lat"`
	Lon         *float64 `json:"lon"`
	Address     string   `json:"address"`
	MediaURL    string   `json:"media_url"`
}

func readReportData(r *dossier.Report) reportData {
	var d reportData
	// A dossier whose data has other types (written by hand, an older
	// helpdesk) shows what could be read rather than failing the list.
	_ = json.Unmarshal(r.Data, &d)
	if d.Lat != nil && (math.IsNaN(*d.Lat) || *d.Lat < -90 || *d.Lat > 90) {
		d.Lat = nil
	}
	if d.Lon != nil && (math.IsNaN(*d.Lon) || *d.Lon < -180 || *d.Lon > 180) {
		d.Lon = nil
	}
	if d.Lat == nil || d.Lon == nil {
		d.Lat, d.Lon = nil, nil
	}
	return d
}

// w3 is the date-time format of the specification (W3C's profile of ISO
// 8601, with the zone).
const w3 = "2006-01-02T15:04:05Z07:00"

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (h *helpdesk) closed(status string) bool { return slices.Contains(h.finals, status) }

func (a *open311API) requestOf(h *helpdesk, r *dossier.Report, names map[string]string) o311Request {
	d := readReportData(r)
	out := o311Request{ID: r.Number, Status: "open", StatusNotes: optional(r.Reply), ServiceCode: d.Category,
		ServiceName: names[d.Category], Description: optional(d.Description), AgencyResponsible: optional(r.OfficeName),
		Requested: r.CreatedAt.UTC().Format(w3), Updated: r.UpdatedAt.UTC().Format(w3), Address: optional(d.Address),
		Lat: d.Lat, Long: d.Lon, MediaURL: optional(d.MediaURL)}
	if out.ServiceName == "" {
		out.ServiceName = d.Category
	}
	if h.closed(r.Status) {
		// "For requests with status=closed, this will be the date the
		// request was closed."
		out.Status, out.Updated = "closed", r.StatusSince.UTC().Format(w3)
	}
	if !r.DueAt.IsZero() {
		out.Expected = optional(r.DueAt.UTC().Format(w3))
	}
	return out
}

// names are the categories' names; none when the helpdesk does not
// answer, since the reports themselves are the town's and still readable.
func (a *open311API) names(c *fiber.Ctx) map[string]string {
	out := map[string]string{}
	cats, err := a.categories(c)
	if err != nil {
		a.s.log.Warn("open311: no category names", append(logAttrs(state(c)), "err", err)...)
		return out
	}
	for _, cat := range cats {
		out[cat.Code] = cat.Name
	}
	return out
}

func (a *open311API) requests(c *fiber.Ctx, format string) error {
	h := helpdeskOf(c)
	f, err := a.filter(c, h, true)
	if err != nil {
		return err
	}
	page, err := a.s.Dossiers.Reports(c.UserContext(), state(c).tenant.ID, f)
	if err != nil {
		return err
	}
	names := a.names(c)
	list := make([]o311Request, 0, len(page.Reports))
	for i := range page.Reports {
		list = append(list, a.requestOf(h, &page.Reports[i], names))
	}
	return reply(c, fiber.StatusOK, format, list, o311Requests{Requests: list})
}

// request shows one report, as a list of one (the specification's shape).
func (a *open311API) request(c *fiber.Ctx) error {
	id, format := splitFormat(c.Params("id"))
	if format != "json" && format != "xml" {
		return open311.ErrFormat
	}
	if !requestIDRe.MatchString(id) {
		return open311.ErrUnknownRequest
	}
	h := helpdeskOf(c)
	page, err := a.s.Dossiers.Reports(c.UserContext(), state(c).tenant.ID,
		dossier.ReportFilter{Service: helpdeskID, Numbers: []string{id}, Limit: 1, Lang: state(c).lang})
	if err != nil {
		return err
	}
	if len(page.Reports) == 0 {
		return open311.ErrUnknownRequest
	}
	list := []o311Request{a.requestOf(h, &page.Reports[0], a.names(c))}
	return reply(c, fiber.StatusOK, format, list, o311Requests{Requests: list})
}

// A service_request_id: a dossier's protocol number.
var requestIDRe = regexp.MustCompile(`^[0-9]{4}-[0-9]{6,}$`)

// queryList is a parameter given several times, or comma-delimited, or both.
func queryList(c *fiber.Ctx, key string) []string {
	var out []string
	for _, v := range c.Context().QueryArgs().PeekMulti(key) {
		for _, part := range strings.Split(string(v), ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// parseW3 reads a date-time as the specification writes them, or a bare
// date (the day's start in UTC, dayOnly true). A "+" of the zone that
// came unescaped in a query string arrives as a space and is read back.
func parseW3(v string) (t time.Time, dayOnly bool, ok bool) {
	v = strings.TrimSpace(v)
	if len(v) > 19 && strings.Count(v, " ") == 1 {
		v = strings.Replace(v, " ", "+", 1)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, false, true
		}
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, true, true
	}
	return time.Time{}, false, false
}

// filter reads the list's parameters. window applies the specification's
// span: the most recent 90 days unless dates are given, and never more
// than 90 days.
func (a *open311API) filter(c *fiber.Ctx, h *helpdesk, window bool) (dossier.ReportFilter, error) {
	rs := state(c)
	t := func(id string, args map[string]any) string { return a.s.i18n.T(rs.lang, id, args) }
	f := dossier.ReportFilter{Service: helpdeskID, Lang: rs.lang}
	if window {
		f.Limit = dossier.MaxReports
	}
	var problems []open311.Problem
	bad := func(param, id string, args map[string]any) {
		problems = append(problems, open311.Problem{Param: param, Text: t(id, args)})
	}
	if ids := queryList(c, "service_request_id"); len(ids) > 0 {
		// "This overrides all other arguments."
		if len(ids) > dossier.MaxReports {
			bad("service_request_id", "open311.error.too_many_ids", map[string]any{"Max": dossier.MaxReports})
		}
		for _, id := range ids {
			if !requestIDRe.MatchString(id) {
				bad("service_request_id", "open311.error.request_id", map[string]any{"Value": id})
				break
			}
		}
		if len(problems) > 0 {
			return f, &open311.InputError{Problems: problems}
		}
		f.Numbers = ids
		return f, nil
	}
	if codes := queryList(c, "service_code"); len(codes) > 0 {
		f.DataKey, f.DataValues = "category", codes
		for _, code := range codes {
			if utf8.RuneCountInString(code) > 100 || !utf8.ValidString(code) || strings.ContainsRune(code, 0) {
				bad("service_code", "open311.error.service_code_value", nil)
				break
			}
		}
	}
	open, closed := false, false
	for _, st := range queryList(c, "status") {
		switch strings.ToLower(st) {
		case "open":
			open = true
		case "closed":
			closed = true
		default:
			bad("status", "open311.error.status", map[string]any{"Value": st})
		}
	}
	switch {
	case open && !closed:
		f.ExceptStatuses = h.finals
	case closed && !open:
		f.Statuses = h.finals
	}
	var start, end time.Time
	var endDay bool
	if v := c.Query("start_date"); v != "" {
		var ok bool
		if start, _, ok = parseW3(v); !ok {
			bad("start_date", "open311.error.date", map[string]any{"Value": v})
		}
	}
	if v := c.Query("end_date"); v != "" {
		var ok bool
		if end, endDay, ok = parseW3(v); !ok {
			bad("end_date", "open311.error.date", map[string]any{"Value": v})
		}
	}
	if len(problems) > 0 {
		return f, &open311.InputError{Problems: problems}
	}
	// end_date is the latest instant included; a bare date, its whole day.
	if !end.IsZero() {
		if endDay {
			end = end.AddDate(0, 0, 1)
		} else {
			end = end.Add(time.Microsecond)
		}
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		return f, open311.Invalid("end_date", t("open311.error.date_order", nil))
	}
	if window {
		switch {
		case start.IsZero() && end.IsZero():
			start = time.Now().Add(-maxWindow)
		case start.IsZero():
			start = end.Add(-maxWindow)
		case end.IsZero():
			end = start.Add(maxWindow)
		case end.Sub(start) > maxWindow+24*time.Hour:
			return f, open311.Invalid("end_date", t("open311.error.span", map[string]any{"Days": int(maxWindow.Hours() / 24)}))
		}
	}
	f.From, f.To = start, end
	return f, nil
}

// dataset is the open data of the town's reports as CSV: which category,
// where to within about a hundred metres, when, how far the town got and
// which office; no description and no address, which may name people, and
// nothing of who reported. Same filters as the requests list, with no
// limit on the span.
func (a *open311API) dataset(c *fiber.Ctx) error {
	rs := state(c)
	h := helpdeskOf(c)
	f, err := a.filter(c, h, false)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"number", "category", "status", "office", "created", "updated", "closed", "lat", "lon"})
	stamp := func(t time.Time) string { return t.UTC().Format(w3) }
	coord := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(math.Round(*v*1000)/1000, 'f', 3, 64)
	}
	for {
		page, err := a.s.Dossiers.Reports(c.UserContext(), rs.tenant.ID, f)
		if err != nil {
			return err
		}
		for i := range page.Reports {
			r := &page.Reports[i]
			d := readReportData(r)
			status, closedAt := "open", ""
			if h.closed(r.Status) {
				status, closedAt = "closed", stamp(r.StatusSince)
			}
			_ = w.Write([]string{r.Number, cellSafe(d.Category), status, cellSafe(r.OfficeName), stamp(r.CreatedAt),
				stamp(r.UpdatedAt), closedAt, coord(d.Lat), coord(d.Lon)})
		}
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("open311: write the dataset: %w", err)
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("inline", map[string]string{"filename": rs.tenant.Slug + "-helpdesk.csv"}))
	return c.Send(buf.Bytes())
}

// cellSafe keeps a spreadsheet from running a cell as a formula (CSV
// injection): a leading apostrophe makes it text.
func cellSafe(v string) string {
	t := strings.TrimLeft(v, " ")
	if t != "" && strings.ContainsRune("=+-@\t\r", rune(t[0])) {
		return "'" + v
	}
	return v
}

// Filing a report.

type o311Created struct {
	XMLName   xml.Name `json:"-" xml:"request"`
	ID        string   `json:"service_request_id" xml:"service_request_id"`
	Notice    *string  `json:"service_notice" xml:"service_notice,omitempty"`
	AccountID *string  `json:"account_id" xml:"account_id"`
}

type o311CreatedXML struct {
	XMLName  xml.Name      `xml:"service_requests"`
	Requests []o311Created `xml:"request"`
}

// formParams names the report form's fields as Open311 parameters, for
// the errors.
var formParams = map[string]string{
	"category":         "service_code",
	"title":            "description",
	"description":      "description",
	"location":         "",
	"location.lat":     "lat",
	"location.lon":     "long",
	"location.address": "address_string",
	"contact_name":     "first_name",
	"contact_email":    "email",
	"contact_phone":    "phone",
	"media_url":        "media_url",
}

func paramOf(field string) string {
	if p, ok := formParams[field]; ok {
		return p
	}
	return field
}

// posted reads the posted parameters: the specification's
// form-urlencoded body, or a multipart one (whose files are ignored).
func (a *open311API) posted(c *fiber.Ctx, lang string) (url.Values, error) {
	malformed := func() error {
		return open311.Invalid("", a.s.i18n.T(lang, "open311.error.body", nil))
	}
	ct, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil && len(c.Body()) > 0 {
		return nil, malformed()
	}
	switch ct {
	case "", fiber.MIMEApplicationForm:
		vals, err := url.ParseQuery(string(c.Body()))
		if err != nil {
			return nil, malformed()
		}
		return vals, nil
	case fiber.MIMEMultipartForm:
		mf, err := c.MultipartForm()
		if err != nil {
			return nil, malformed()
		}
		return url.Values(mf.Value), nil
	}
	return nil, malformed()
}

// cleanText trims a posted text and makes its line ends "\n", as the
// portal's forms do; a text that is no UTF-8, or holds a NUL, is refused.
func cleanText(v string) (string, bool) {
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return "", false
	}
	v = strings.ReplaceAll(v, "\r\n", "\n")
	v = strings.ReplaceAll(v, "\r", "\n")
	return strings.TrimSpace(v), true
}

// titleOf is a report's title: the first words of its description, at
// most maxTitle characters.
func titleOf(description string) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.FieldsFunc(description, unicode.IsSpace) {
		wn := utf8.RuneCountInString(w)
		switch {
		case n == 0 && wn > maxTitle:
			return string([]rune(w)[:maxTitle-1]) + "…"
		case n > 0 && n+1+wn > maxTitle:
			return b.String()
		case n > 0:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += wn
	}
	return b.String()
}

// create files a report: the key, then every parameter, then the
// helpdesk's form; the helpdesk gets it only when all of it is valid.
func (a *open311API) create(c *fiber.Ctx) error {
	rs := state(c)
	name, format := splitFormat(c.Params("resource"))
	switch {
	case name == "services" || name == "dataset":
		c.Set(fiber.HeaderAllow, "GET, HEAD")
		return fiber.ErrMethodNotAllowed
	case name != "requests":
		return errNotFound
	case format != "json" && format != "xml":
		return open311.ErrFormat
	}
	if len(c.Body()) > open311.MaxBody {
		return open311.ErrTooLarge
	}
	vals, err := a.posted(c, rs.lang)
	if err != nil {
		return err
	}
	param := func(key string) string {
		if v := vals.Get(key); v != "" {
			return v
		}
		return c.Query(key)
	}
	if j := param("jurisdiction_id"); j != "" && j != rs.tenant.Slug {
		return open311.ErrJurisdiction
	}
	if err := a.keys.Check(c.UserContext(), rs.tenant.ID, param("api_key")); err != nil {
		return err
	}
	doc, err := a.reportDocument(c, vals)
	if err != nil {
		return err
	}
	values, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	res, err := a.s.dispatch(c, helpdeskID, a.anonymous(c, helpdeskReportAction, values))
	if err != nil {
		return err
	}
	switch res.GetOutcome() {
	case sdk.OutcomeInvalid:
		var problems []open311.Problem
		for _, fe := range res.GetErrors() {
			problems = append(problems, open311.Problem{Param: paramOf(fieldName(fe.GetField())), Text: fe.GetMessage()})
		}
		if res.GetMessage() != "" || len(problems) == 0 {
			problems = append(problems, open311.Problem{Text: orDefault(res.GetMessage(), a.s.i18n.T(rs.lang, "error.invalid_input", nil))})
		}
		return &open311.InputError{Problems: problems}
	case sdk.OutcomeRefused:
		return open311.Invalid("", orDefault(res.GetMessage(), a.s.i18n.T(rs.lang, "error.invalid_input", nil)))
	}
	if res.GetDossierNumber() == "" {
		return fmt.Errorf("helpdesk report: no dossier number: %w", pluginhost.ErrFailed)
	}
	created := []o311Created{{ID: res.GetDossierNumber(), Notice: optional(res.GetMessage())}}
	return reply(c, fiber.StatusOK, format, created, o311CreatedXML{Requests: created})
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// reportDocument turns the posted parameters into the values of the
// helpdesk's report form and checks them: first what Open311 itself
// asks (a category, a place that exists), then the form's schema.
func (a *open311API) reportDocument(c *fiber.Ctx, vals url.Values) (map[string]any, error) {
	rs := state(c)
	t := func(id string, args map[string]any) string { return a.s.i18n.T(rs.lang, id, args) }
	var problems []open311.Problem
	bad := func(param, text string) {
		for _, p := range problems {
			if p.Param == param {
				return // one problem per parameter is enough
			}
		}
		problems = append(problems, open311.Problem{Param: param, Text: text})
	}
	text := func(key string) string {
		v, ok := cleanText(vals.Get(key))
		if !ok {
			bad(key, t("open311.error.text", nil))
		}
		return v
	}
	code, description, address := text("service_code"), text("description"), text("address_string")
	first, last, email, phone, media := text("first_name"), text("last_name"), text("email"), text("phone"), text("media_url")
	if code == "" {
		bad("service_code", t("open311.error.service_code_missing", nil))
	}
	location := map[string]any{}
	rawLat, rawLon := strings.TrimSpace(vals.Get("lat")), strings.TrimSpace(vals.Get("long"))
	hasPoint := false
	switch {
	case rawLat == "" && rawLon == "":
	case rawLat == "" || rawLon == "":
		bad("lat", t("open311.error.lat_long_pair", nil))
	default:
		lat, err1 := strconv.ParseFloat(rawLat, 64)
		lon, err2 := strconv.ParseFloat(rawLon, 64)
		switch {
		case err1 != nil || math.IsNaN(lat) || lat < -90 || lat > 90:
			bad("lat", t("open311.error.lat", map[string]any{"Value": rawLat}))
		case err2 != nil || math.IsNaN(lon) || lon < -180 || lon > 180:
			bad("long", t("open311.error.long", map[string]any{"Value": rawLon}))
		default:
			location["lat"], location["lon"], hasPoint = lat, lon, true
		}
	}
	if address != "" {
		location["address"] = address
	}
	if !hasPoint && address == "" && rawLat == "" && rawLon == "" {
		bad("", t("open311.error.location", nil))
	}
	if len(problems) > 0 {
		return nil, &open311.InputError{Problems: problems}
	}
	rf, err := helpdeskOf(c).reportForm(a.s.i18n)
	if err != nil {
		return nil, err
	}
	doc := map[string]any{"category": code, "location": location}
	put := func(key, v string) {
		if v != "" {
			doc[key] = v
		}
	}
	put("title", titleOf(description))
	put("description", description)
	put("contact_name", strings.TrimSpace(first+" "+last))
	put("contact_email", email)
	put("contact_phone", phone)
	if rf.mediaURL && media != "" {
		doc["media_url"] = media
	}
	if rf.channel {
		doc["channel"] = "app"
	}
	if rf.consent {
		// Open311 has no such parameter: an app holding the town's key
		// shows the town's privacy notice itself, as its key is issued
		// on that condition.
		doc["consent"] = true
	}
	errs := rf.form.Validate(doc, rs.lang)
	if len(errs) == 0 {
		return doc, nil
	}
	fields := make([]string, 0, len(errs))
	for field := range errs {
		fields = append(fields, field)
	}
	// The whole form's errors last, the others in a stable order.
	slices.SortFunc(fields, func(x, y string) int {
		if (x == "") != (y == "") {
			if x == "" {
				return 1
			}
			return -1
		}
		return strings.Compare(x, y)
	})
	for _, field := range fields {
		bad(paramOf(field), errs[field])
	}
	return nil, &open311.InputError{Problems: problems}
}
