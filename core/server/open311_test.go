package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/open311"
)

// The Open311 GeoReport v2 interface of the helpdesk, end to end: the real
// helpdesk plugin as a process, real PostgreSQL, real HTTP.

// open311Site is a site running the helpdesk, which the demo towns
// publish with their own configuration: Venice and Trezzo take reports
// from anybody, Lugano only from people who have logged in, so an app
// cannot file there.
func open311Site(t *testing.T) *site {
	t.Helper()
	s := newSite(t)
	withPlugins(t, s, testPlugin{ID: "helpdesk", Pkg: "../../plugins/helpdesk"})
	return s
}

func o311URL(s *site, slug, path string) string { return s.url + "/t/" + slug + "/open311/v2/" + path }

// issueKey issues an Open311 key of the town.
func issueKey(t *testing.T, s *site, slug string) (string, int64) {
	t.Helper()
	key, id, err := open311.NewKeys(s.db.App).Issue(context.Background(), mustTenant(t, s, slug).ID, "test app")
	if err != nil {
		t.Fatal(err)
	}
	return key, id
}

// helpdeskDossiers counts the helpdesk's dossiers of every town.
func helpdeskDossiers(t *testing.T, s *site) int {
	t.Helper()
	var n int
	if err := s.db.Owner.NewRaw("SELECT count(*) FROM dossiers WHERE service_id = 'helpdesk'").Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

type o311Err struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

// o311Errors reads an Open311 error list in either format, failing the
// test on anything else.
func o311Errors(t *testing.T, r response) []o311Err {
	t.Helper()
	var list []o311Err
	switch ct := r.header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "text/xml"):
		var body struct {
			XMLName xml.Name  `xml:"errors"`
			Errors  []o311Err `xml:"error"`
		}
		if err := xml.Unmarshal([]byte(r.body), &body); err != nil {
			t.Fatalf("not an XML error list (%d): %v %.500s", r.status, err, r.body)
		}
		list = body.Errors
	case strings.HasPrefix(ct, "application/json"):
		if err := json.Unmarshal([]byte(r.body), &list); err != nil {
			t.Fatalf("not a JSON error list (%d): %v %.500s", r.status, err, r.body)
		}
	default:
		t.Fatalf("error of type %q (%d): %.500s", ct, r.status, r.body)
	}
	if len(list) == 0 {
		t.Fatalf("an empty error list (%d)", r.status)
	}
	for _, e := range list {
		if e.Code != r.status || e.Description == "" {
			t.Fatalf("error %+v in a %d answer", e, r.status)
		}
	}
	return list
}

// expectO311Error checks an answer is an Open311 error of status whose
// descriptions, together, mention each of words.
func expectO311Error(t *testing.T, r response, status int, words ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %.800s", r.status, status, r.body)
	}
	var all []string
	for _, e := range o311Errors(t, r) {
		all = append(all, e.Description)
	}
	text := strings.Join(all, " | ")
	for _, w := range words {
		if !strings.Contains(text, w) {
			t.Fatalf("errors %q do not mention %q", text, w)
		}
	}
}

type o311Service struct {
	Code        string `json:"service_code" xml:"service_code"`
	Name        string `json:"service_name" xml:"service_name"`
	Description string `json:"description" xml:"description"`
	Metadata    bool   `json:"metadata" xml:"metadata"`
	Type        string `json:"type" xml:"type"`
	Keywords    string `json:"keywords" xml:"keywords"`
	Group       string `json:"group" xml:"group"`
}

type o311Request struct {
	ID                string   `json:"service_request_id" xml:"service_request_id"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       *string  `json:"status_notes" xml:"status_notes"`
	ServiceName       string   `json:"service_name" xml:"service_name"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	Description       *string  `json:"description" xml:"description"`
	AgencyResponsible *string  `json:"agency_responsible" xml:"agency_responsible"`
	Requested         string   `json:"requested_datetime" xml:"requested_datetime"`
	Updated           string   `json:"updated_datetime" xml:"updated_datetime"`
	Expected          *string  `json:"expected_datetime" xml:"expected_datetime"`
	Address           *string  `json:"address" xml:"address"`
	Lat               *float64 `json:"lat" xml:"lat"`
	Long              *float64 `json:"long" xml:"long"`
}

func decodeServices(t *testing.T, r response, format string) []o311Service {
	t.Helper()
	var list []o311Service
	if format == "xml" {
		var body struct {
			XMLName  xml.Name      `xml:"services"`
			Services []o311Service `xml:"service"`
		}
		if err := xml.Unmarshal([]byte(r.body), &body); err != nil {
			t.Fatalf("services.xml: %v %.500s", err, r.body)
		}
		return body.Services
	}
	if err := json.Unmarshal([]byte(r.body), &list); err != nil {
		t.Fatalf("services.json: %v %.500s", err, r.body)
	}
	return list
}

func decodeRequests(t *testing.T, r response, format string) []o311Request {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("requests: %d %.800s", r.status, r.body)
	}
	var list []o311Request
	if format == "xml" {
		var body struct {
			XMLName  xml.Name      `xml:"service_requests"`
			Requests []o311Request `xml:"request"`
		}
		if err := xml.Unmarshal([]byte(r.body), &body); err != nil {
			t.Fatalf("requests.xml: %v %.500s", err, r.body)
		}
		return body.Requests
	}
	if err := json.Unmarshal([]byte(r.body), &list); err != nil {
		t.Fatalf("requests.json: %v %.500s", err, r.body)
	}
	return list
}

func requestIDs(list []o311Request) []string {
	out := []string{}
	for _, r := range list {
		out = append(out, r.ID)
	}
	slices.Sort(out)
	return out
}

// handledCodes are the codes the town's Open311 service list offers.
func handledCodes(t *testing.T, s *site, slug string) []string {
	t.Helper()
	r := s.browser().get(o311URL(s, slug, "services.json"))
	expect(t, r, 200)
	var codes []string
	for _, sv := range decodeServices(t, r, "json") {
		codes = append(codes, sv.Code)
	}
	if len(codes) < 2 {
		t.Fatalf("%s handles %v: the tests need two categories", slug, codes)
	}
	return codes
}

// unhandledCode is a category the helpdesk's form knows but the town
// does not handle, "" if it handles them all.
func unhandledCode(t *testing.T, s *site, handled []string) string {
	t.Helper()
	rec, err := s.srv.Catalog.Get(context.Background(), "helpdesk")
	if err != nil || rec.Manifest == nil {
		t.Fatalf("helpdesk in the catalogue: %v", err)
	}
	for _, f := range rec.Manifest.GetForms() {
		if f.GetId() != "report" {
			continue
		}
		var schema struct {
			Properties struct {
				Category struct {
					Enum []string `json:"enum"`
				} `json:"category"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(f.GetSchemaJson(), &schema); err != nil {
			t.Fatal(err)
		}
		for _, code := range schema.Properties.Category.Enum {
			if !slices.Contains(handled, code) {
				return code
			}
		}
	}
	return ""
}

// report is a valid report of category code in Venice, or in another
// demo town.
func report(key, code, slug string) url.Values {
	lat, long, place := "45.4372", "12.3326", "Campo San Luca"
	switch slug {
	case "lugano":
		lat, long, place = "46.0037", "8.9511", "Piazza della Riforma"
	case "trezzo-sull-adda":
		lat, long, place = "45.6100", "9.5150", "Piazza Libertà"
	}
	return url.Values{"api_key": {key}, "jurisdiction_id": {slug}, "service_code": {code}, "lat": {lat}, "long": {long},
		"address_string": {place}, "description": {"Il lampione davanti al civico 12 è spento da una settimana."},
		"first_name": {"Anna"}, "last_name": {"Verdi"}, "email": {"anna.verdi@example.org"}, "phone": {"+39 041 555 0101"}}
}

type o311Created struct {
	ID     string  `json:"service_request_id" xml:"service_request_id"`
	Notice *string `json:"service_notice" xml:"service_notice"`
}

// file posts a report and returns its service_request_id.
func file(t *testing.T, s *site, slug, format string, form url.Values) string {
	t.Helper()
	r := s.browser().do(http.MethodPost, o311URL(s, slug, "requests."+format), form)
	if r.status != 200 {
		t.Fatalf("create: %d %.800s", r.status, r.body)
	}
	var list []o311Created
	if format == "xml" {
		var body struct {
			XMLName  xml.Name      `xml:"service_requests"`
			Requests []o311Created `xml:"request"`
		}
		if err := xml.Unmarshal([]byte(r.body), &body); err != nil {
			t.Fatalf("create: %v %.500s", err, r.body)
		}
		list = body.Requests
	} else if err := json.Unmarshal([]byte(r.body), &list); err != nil {
		t.Fatalf("create: %v %.500s", err, r.body)
	}
	if len(list) != 1 || list[0].ID == "" {
		t.Fatalf("create answered %.500s", r.body)
	}
	return list[0].ID
}

// rawPost posts body as is, with contentType.
func rawPost(t *testing.T, u, contentType, body string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(data), header: res.Header}
}

func TestOpen311ServicesAndDefinitions(t *testing.T) {
	s := open311Site(t)
	b := s.browser()
	handled := handledCodes(t, s, "venezia")
	unhandled := unhandledCode(t, s, handled)
	for _, format := range []string{"json", "xml"} {
		t.Run("services."+format, func(t *testing.T) {
			r := b.get(o311URL(s, "venezia", "services."+format) + "?jurisdiction_id=venezia")
			expect(t, r, 200)
			if r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Error("the service list does not answer other origins")
			}
			want := map[string]string{"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}[format]
			if ct := r.header.Get("Content-Type"); ct != want {
				t.Errorf("content type %q, want %q", ct, want)
			}
			if format == "xml" && !strings.HasPrefix(r.body, `<?xml version="1.0" encoding="utf-8"?>`) {
				t.Errorf("no XML declaration: %.100s", r.body)
			}
			list := decodeServices(t, r, format)
			var codes []string
			for _, sv := range list {
				codes = append(codes, sv.Code)
				if sv.Name == "" || sv.Type != "realtime" || sv.Metadata || sv.Group == "" {
					t.Errorf("service %+v", sv)
				}
			}
			if !slices.Equal(codes, handled) || slices.Contains(codes, unhandled) {
				t.Errorf("codes %v, want the handled %v", codes, handled)
			}
		})
		t.Run("definition."+format, func(t *testing.T) {
			r := b.get(o311URL(s, "venezia", "services/"+handled[0]+"."+format))
			expect(t, r, 200)
			if format == "xml" {
				var def struct {
					XMLName    xml.Name `xml:"service_definition"`
					Code       string   `xml:"service_code"`
					Attributes *struct {
						Attribute []struct{} `xml:"attribute"`
					} `xml:"attributes"`
				}
				if err := xml.Unmarshal([]byte(r.body), &def); err != nil || def.Code != handled[0] || def.Attributes == nil || len(def.Attributes.Attribute) != 0 {
					t.Fatalf("definition %v %+v: %s", err, def, r.body)
				}
			} else {
				var def struct {
					Code       string `json:"service_code"`
					Attributes []any  `json:"attributes"`
				}
				if err := json.Unmarshal([]byte(r.body), &def); err != nil || def.Code != handled[0] || def.Attributes == nil || len(def.Attributes) != 0 {
					t.Fatalf("definition %v %+v: %s", err, def, r.body)
				}
			}
		})
	}

	lang := s.browser()
	r := lang.get(o311URL(s, "venezia", "services.json"), "Accept-Language", "en")
	expect(t, r, 200)
	en := decodeServices(t, r, "json")
	it := decodeServices(t, b.get(o311URL(s, "venezia", "services.json")+"?lang=it"), "json")
	if len(en) == 0 || len(en) != len(it) || en[0].Name == it[0].Name {
		t.Errorf("names are not in the request's language: %+v / %+v", en, it)
	}

	refusals := []struct {
		name, path string
		status     int
		words      []string
	}{
		{"an unknown code", "services/no_such_thing.json", 404, []string{"service_code"}},
		{"an unknown code in XML", "services/no_such_thing.xml", 404, []string{"service_code"}},
		{"a wrong format", "services.html", 400, []string{"json", "xml"}},
		{"a definition in a wrong format", "services/" + handled[0] + ".yaml", 400, []string{"json"}},
		{"another jurisdiction", "services.json?jurisdiction_id=lugano", 404, []string{"jurisdiction_id"}},
		{"no such resource", "tokens/1.json", 404, nil},
	}
	if unhandled != "" {
		refusals = append(refusals, struct {
			name, path string
			status     int
			words      []string
		}{"a code the town does not handle", "services/" + unhandled + ".json", 404, []string{"service_code"}})
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			expectO311Error(t, b.get(o311URL(s, "venezia", tc.path)), tc.status, tc.words...)
		})
	}
	t.Run("an unknown town", func(t *testing.T) {
		expectO311Error(t, b.get(s.url+"/t/atlantide/open311/v2/services.xml"), 404)
	})

	// A town that stops publishing the helpdesk answers 404 everywhere.
	ctx := context.Background()
	key, _ := issueKey(t, s, "venezia")
	venezia := mustTenant(t, s, "venezia").ID
	if err := s.db.App.InTenant(ctx, venezia, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE tenant_services SET state = 'disabled' WHERE tenant_id = ? AND service_id = 'helpdesk'", venezia)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"services.json", "services/" + handled[0] + ".xml", "requests.json", "requests/2026-000001.json", "dataset.csv"} {
		expectO311Error(t, b.get(o311URL(s, "venezia", path)), 404, "Open311")
	}
	before := helpdeskDossiers(t, s)
	expectO311Error(t, b.do(http.MethodPost, o311URL(s, "venezia", "requests.json"), report(key, handled[0], "venezia")), 404, "Open311")
	if helpdeskDossiers(t, s) != before {
		t.Error("a report was stored while the helpdesk is not published")
	}
}

func TestOpen311CreateRequest(t *testing.T) {
	s := open311Site(t)
	ctx := context.Background()
	handled := handledCodes(t, s, "venezia")
	key, _ := issueKey(t, s, "venezia")
	venezia := mustTenant(t, s, "venezia").ID
	for _, format := range []string{"json", "xml"} {
		t.Run(format, func(t *testing.T) {
			form := report(key, handled[0], "venezia")
			form.Set("description", "Il lampione davanti al civico 12 è spento da una settimana.\r\nLa sera la calle è buia.")
			id := file(t, s, "venezia", format, form)
			d, err := s.srv.Dossiers.GetByNumber(ctx, venezia, id)
			if err != nil {
				t.Fatal(err)
			}
			var data map[string]any
			if err := json.Unmarshal(d.Data, &data); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"category": handled[0], "lat": 45.4372, "lon": 12.3326, "address": "Campo San Luca",
				"description":  "Il lampione davanti al civico 12 è spento da una settimana.\nLa sera la calle è buia.",
				"contact_name": "Anna Verdi", "contact_email": "anna.verdi@example.org", "contact_phone": "+39 041 555 0101",
				"channel": "app"}
			for k, v := range want {
				if data[k] != v {
					t.Errorf("data %s = %#v, want %#v (data %s)", k, data[k], v, d.Data)
				}
			}
			if d.ServiceID != "helpdesk" || d.OfficeID == 0 || d.CitizenID != 0 {
				t.Errorf("dossier %+v: want the helpdesk's, at an office, of no citizen account", d)
			}
			if !strings.Contains(d.Title, "Il lampione davanti") {
				t.Errorf("title %q", d.Title)
			}
		})
	}
	t.Run("an address without coordinates, multipart", func(t *testing.T) {
		form := report(key, handled[1], "venezia")
		form.Del("lat")
		form.Del("long")
		form.Del("phone")
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		for k, vs := range form {
			_ = w.WriteField(k, vs[0])
		}
		_ = w.Close()
		r := rawPost(t, o311URL(s, "venezia", "requests.json"), w.FormDataContentType(), body.String())
		var created []o311Created
		if err := json.Unmarshal([]byte(r.body), &created); r.status != 200 || err != nil || len(created) != 1 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		d, err := s.srv.Dossiers.GetByNumber(ctx, venezia, created[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		var data map[string]any
		_ = json.Unmarshal(d.Data, &data)
		if data["address"] != "Campo San Luca" || data["lat"] != nil || data["category"] != handled[1] {
			t.Errorf("data %s", d.Data)
		}
	})
}

func TestOpen311RefusesBadInput(t *testing.T) {
	s := open311Site(t)
	handled := handledCodes(t, s, "venezia")
	unhandled := unhandledCode(t, s, handled)
	key, _ := issueKey(t, s, "venezia")
	revoked, revokedID := issueKey(t, s, "venezia")
	if err := open311.NewKeys(s.db.App).Revoke(context.Background(), mustTenant(t, s, "venezia").ID, revokedID); err != nil {
		t.Fatal(err)
	}
	luganoKey, _ := issueKey(t, s, "lugano")
	b := s.browser()
	b.header.Set("Accept-Language", "en")
	with := func(change func(url.Values)) url.Values {
		f := report(key, handled[0], "venezia")
		change(f)
		return f
	}
	cases := []struct {
		name   string
		format string
		form   url.Values
		status int
		words  []string
	}{
		{"no key", "json", with(func(f url.Values) { f.Del("api_key") }), 403, []string{"api_key"}},
		{"no key, in XML", "xml", with(func(f url.Values) { f.Del("api_key") }), 403, []string{"api_key"}},
		{"a wrong key", "json", with(func(f url.Values) { f.Set("api_key", "o311_"+strings.Repeat("x", 43)) }), 403, []string{"api_key", "unknown"}},
		{"not a key at all", "json", with(func(f url.Values) { f.Set("api_key", "letmein") }), 403, []string{"api_key"}},
		{"a revoked key", "json", with(func(f url.Values) { f.Set("api_key", revoked) }), 403, []string{"revoked"}},
		{"another town's key", "json", with(func(f url.Values) { f.Set("api_key", luganoKey) }), 403, []string{"another town"}},
		{"another jurisdiction", "json", with(func(f url.Values) { f.Set("jurisdiction_id", "lugano") }), 404, []string{"jurisdiction_id"}},
		{"no service_code", "json", with(func(f url.Values) { f.Del("service_code") }), 400, []string{"service_code"}},
		{"an unknown code", "json", with(func(f url.Values) { f.Set("service_code", "no_such_thing") }), 400, []string{"service_code"}},
		{"lat 200", "json", with(func(f url.Values) { f.Set("lat", "200") }), 400, []string{"lat", "200"}},
		{"long -181", "xml", with(func(f url.Values) { f.Set("long", "-181") }), 400, []string{"long"}},
		{"lat not a number", "json", with(func(f url.Values) { f.Set("lat", "north") }), 400, []string{"lat"}},
		{"lat without long", "json", with(func(f url.Values) { f.Del("long"); f.Del("address_string") }), 400, []string{"long"}},
		{"no location", "json", with(func(f url.Values) { f.Del("lat"); f.Del("long"); f.Del("address_string") }), 400, []string{"address_string"}},
		{"a description too long", "json", with(func(f url.Values) { f.Set("description", strings.Repeat("buca ", 1000)) }), 400, []string{"description"}},
		{"no description", "json", with(func(f url.Values) { f.Del("description") }), 400, []string{"description"}},
		{"an e-mail that is none", "json", with(func(f url.Values) { f.Set("email", "anna at home") }), 400, []string{"email"}},
		{"text that is no UTF-8", "json", with(func(f url.Values) { f.Set("description", "caff\xe8 rotto davanti al bar") }), 400, []string{"description"}},
	}
	if unhandled != "" {
		cases = append(cases, struct {
			name   string
			format string
			form   url.Values
			status int
			words  []string
		}{"a code the town does not handle", "json", with(func(f url.Values) { f.Set("service_code", unhandled) }), 400, nil})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := helpdeskDossiers(t, s)
			r := b.do(http.MethodPost, o311URL(s, "venezia", "requests."+tc.format), tc.form)
			expectO311Error(t, r, tc.status, tc.words...)
			if tc.format == "xml" && !strings.HasPrefix(r.header.Get("Content-Type"), "text/xml") {
				t.Errorf("an XML request answered %s", r.header.Get("Content-Type"))
			}
			if n := helpdeskDossiers(t, s); n != before {
				t.Errorf("%d dossiers stored", n-before)
			}
		})
	}

	valid := report(key, handled[0], "venezia").Encode()
	raw := []struct {
		name, path, contentType, body string
		status                        int
		words                         []string
	}{
		{"a malformed body", "requests.json", "application/x-www-form-urlencoded", valid + "&description=%zz", 400, []string{"x-www-form-urlencoded"}},
		{"a JSON body", "requests.json", "application/json", `{"service_code": "` + handled[0] + `"}`, 400, []string{"x-www-form-urlencoded"}},
		{"a body over 64 KiB", "requests.json", "application/x-www-form-urlencoded", valid + "&media_url=" + strings.Repeat("a", 70<<10), 413, []string{"64 KiB"}},
		{"a wrong format", "requests.html", "application/x-www-form-urlencoded", valid, 400, []string{"json", "xml"}},
		{"no format", "requests", "application/x-www-form-urlencoded", valid, 400, []string{"json"}},
		{"posting to the service list", "services.json", "application/x-www-form-urlencoded", valid, 405, nil},
	}
	for _, tc := range raw {
		t.Run(tc.name, func(t *testing.T) {
			before := helpdeskDossiers(t, s)
			expectO311Error(t, rawPost(t, o311URL(s, "venezia", tc.path)+"?lang=en", tc.contentType, tc.body), tc.status, tc.words...)
			if n := helpdeskDossiers(t, s); n != before {
				t.Errorf("%d dossiers stored", n-before)
			}
		})
	}
	t.Run("errors in German", func(t *testing.T) {
		r := b.do(http.MethodPost, o311URL(s, "lugano", "requests.json"), url.Values{"service_code": {handled[0]}}, "Accept-Language", "de")
		expectO311Error(t, r, 403, "Schlüssel")
	})
	t.Run("a town that takes no anonymous reports", func(t *testing.T) {
		before := helpdeskDossiers(t, s)
		r := b.do(http.MethodPost, o311URL(s, "lugano", "requests.json"), report(luganoKey, handledCodes(t, s, "lugano")[0], "lugano"))
		expectO311Error(t, r, 400, "SPID")
		if n := helpdeskDossiers(t, s); n != before {
			t.Errorf("%d dossiers stored", n-before)
		}
	})
}

func TestOpen311RequestsListAndDetail(t *testing.T) {
	s := open311Site(t)
	ctx := context.Background()
	handled := handledCodes(t, s, "venezia")
	key, _ := issueKey(t, s, "venezia")
	venezia := mustTenant(t, s, "venezia").ID
	b := s.browser()

	first := file(t, s, "venezia", "json", report(key, handled[0], "venezia"))
	second := file(t, s, "venezia", "xml", report(key, handled[1], "venezia"))
	third := file(t, s, "venezia", "json", report(key, handled[0], "venezia"))

	// In the back office, the operator notes something internally on the
	// second and resolves it with the helpdesk's own step, which answers
	// the reporter publicly.
	d, err := s.srv.Dossiers.GetByNumber(ctx, venezia, second)
	if err != nil {
		t.Fatal(err)
	}
	op := s.staff("venezia", "urp@venezia.example", "demo-venezia")
	page := dossierURL(s, "venezia", d.ID)
	expect(t, op.step(page, "note", url.Values{"note": {"Segnalante già noto, insistente."}}), 303)
	r := op.get(page)
	version := versionField.FindStringSubmatch(r.body)
	if version == nil {
		t.Fatalf("dossier page %d", r.status)
	}
	expect(t, op.form(page, page+"/actions/resolve", url.Values{"version": {version[1]}, "answer": {"Abbiamo sostituito la lampada."}}), 200)
	if d, _ = s.srv.Dossiers.Get(ctx, venezia, d.ID); d.Status != "resolved" {
		t.Fatalf("status after resolving: %s", d.Status)
	}

	for _, format := range []string{"json", "xml"} {
		t.Run("list."+format, func(t *testing.T) {
			r := b.get(o311URL(s, "venezia", "requests."+format))
			if r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Error("the list does not answer other origins")
			}
			list := decodeRequests(t, r, format)
			if got, want := requestIDs(list), []string{first, second, third}; !slices.Equal(got, want) {
				t.Fatalf("listed %v, want %v", got, want)
			}
			if list[0].ID != third {
				t.Errorf("not newest first: %v", list)
			}
			for _, req := range list {
				if req.Requested == "" || req.Updated == "" || req.Lat == nil || *req.Lat != 45.4372 || req.Long == nil ||
					req.Address == nil || *req.Address != "Campo San Luca" || req.Description == nil || req.ServiceName == "" ||
					req.AgencyResponsible == nil || *req.AgencyResponsible == "" {
					t.Errorf("request %+v", req)
				}
				want := "open"
				if req.ID == second {
					want = "closed"
					if req.StatusNotes == nil || !strings.Contains(*req.StatusNotes, "Abbiamo sostituito la lampada.") {
						t.Errorf("status notes %v, want the public reply", req.StatusNotes)
					}
				} else if req.StatusNotes != nil {
					t.Errorf("status notes %q without a reply", *req.StatusNotes)
				}
				if req.Status != want {
					t.Errorf("%s is %s, want %s", req.ID, req.Status, want)
				}
			}
			for _, private := range []string{"Anna", "Verdi", "anna.verdi@example.org", "555 0101", "insistente"} {
				if strings.Contains(r.body, private) {
					t.Errorf("the list shows %q", private)
				}
			}
		})
	}

	filters := []struct {
		name, query string
		want        []string
	}{
		{"open", "status=open", []string{first, third}},
		{"closed", "status=closed", []string{second}},
		{"open or closed", "status=open,closed", []string{first, second, third}},
		{"a category", "service_code=" + handled[1], []string{second}},
		{"categories given twice", "service_code=" + handled[0] + "&service_code=" + handled[1], []string{first, second, third}},
		{"ids, overriding the rest", "service_request_id=" + first + "," + second + "&status=closed", []string{first, second}},
		{"a window of the past", "start_date=2020-01-01T00:00:00Z&end_date=2020-03-01T00:00:00Z", []string{}},
		{"a window around now", "start_date=" + d.CreatedAt.AddDate(0, 0, -1).UTC().Format("2006-01-02") +
			"&end_date=" + d.CreatedAt.AddDate(0, 0, 1).UTC().Format("2006-01-02"), []string{first, second, third}},
		{"from a day in the future", "start_date=" + d.CreatedAt.AddDate(0, 0, 2).Format("2006-01-02T15:04:05-07:00"), []string{}},
		{"its own jurisdiction_id", "jurisdiction_id=venezia&status=open", []string{first, third}},
	}
	for _, tc := range filters {
		t.Run(tc.name, func(t *testing.T) {
			got := requestIDs(decodeRequests(t, b.get(o311URL(s, "venezia", "requests.json")+"?"+tc.query), "json"))
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("listed %v, want %v", got, want)
			}
		})
	}

	bad := []struct {
		name, query string
		words       []string
	}{
		{"a status that is none", "status=pending", []string{"status", "pending"}},
		{"a date that is none", "start_date=yesterday", []string{"start_date"}},
		{"a span over 90 days", "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", []string{"90"}},
		{"dates the wrong way round", "start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", []string{"end_date"}},
		{"an id that is none", "service_request_id=42", []string{"service_request_id"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			expectO311Error(t, b.get(o311URL(s, "venezia", "requests.xml")+"?"+tc.query), 400, tc.words...)
		})
	}

	for _, format := range []string{"json", "xml"} {
		t.Run("detail."+format, func(t *testing.T) {
			list := decodeRequests(t, b.get(o311URL(s, "venezia", "requests/"+second+"."+format)), format)
			if len(list) != 1 || list[0].ID != second || list[0].Status != "closed" || list[0].ServiceCode != handled[1] {
				t.Fatalf("detail %+v", list)
			}
		})
	}
	expectO311Error(t, b.get(o311URL(s, "venezia", "requests/2020-999999.json")), 404, "service_request_id")
	expectO311Error(t, b.get(o311URL(s, "venezia", "requests/"+second+".txt")), 400, "json")
}

func TestOpen311DatasetHasNoPersonalData(t *testing.T) {
	s := open311Site(t)
	ctx := context.Background()
	handled := handledCodes(t, s, "venezia")
	key, _ := issueKey(t, s, "venezia")
	venezia := mustTenant(t, s, "venezia").ID
	form := report(key, handled[0], "venezia")
	form.Set("description", "Buca enorme davanti a casa di Giovanni Bianchi, codice fiscale BNCGNN80A01L736X.")
	form.Set("address_string", "Calle dei Fabbri 4611")
	open := file(t, s, "venezia", "json", form)
	closed := file(t, s, "venezia", "json", report(key, handled[1], "venezia"))
	d, err := s.srv.Dossiers.GetByNumber(ctx, venezia, closed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.srv.Dossiers.SetStatus(ctx, venezia, d.ID, dossier.AnyVersion, systemActor, "closed", "Doppione."); err != nil {
		t.Fatal(err)
	}

	r := s.browser().get(o311URL(s, "venezia", "dataset.csv"))
	expect(t, r, 200)
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("content type %q, CORS %q", ct, r.header.Get("Access-Control-Allow-Origin"))
	}
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := []string{"number", "category", "status", "office", "created", "updated", "closed", "lat", "lon"}
	if len(rows) != 3 || !slices.Equal(rows[0], header) {
		t.Fatalf("dataset %q", rows)
	}
	byNumber := map[string][]string{}
	for _, row := range rows[1:] {
		byNumber[row[0]] = row
	}
	if row := byNumber[open]; row == nil || row[1] != handled[0] || row[2] != "open" || row[3] == "" || row[6] != "" ||
		row[7] != "45.437" || row[8] != "12.333" {
		t.Errorf("open report %q", row)
	}
	if row := byNumber[closed]; row == nil || row[2] != "closed" || row[6] == "" {
		t.Errorf("closed report %q", row)
	}
	for _, private := range []string{"Anna", "Verdi", "anna.verdi@example.org", "555", "Bianchi", "BNCGNN80A01L736X", "Buca", "Fabbri",
		"Campo San Luca", "Doppione", "45.4372"} {
		if strings.Contains(r.body, private) {
			t.Errorf("the dataset holds %q", private)
		}
	}

	closedOnly, err := csv.NewReader(strings.NewReader(s.browser().get(o311URL(s, "venezia", "dataset.csv") + "?status=closed").body)).ReadAll()
	if err != nil || len(closedOnly) != 2 || closedOnly[1][0] != closed {
		t.Errorf("the closed ones: %q %v", closedOnly, err)
	}
	expectO311Error(t, s.browser().get(o311URL(s, "venezia", "dataset.csv")+"?status=maybe"), 400, "status")
	expectO311Error(t, s.browser().get(o311URL(s, "venezia", "dataset.json")), 404)
}

func TestOpen311KeepsTownsApart(t *testing.T) {
	s := open311Site(t)
	const trezzo = "trezzo-sull-adda"
	veneziaCodes := handledCodes(t, s, "venezia")
	trezzoCodes := handledCodes(t, s, trezzo)
	veneziaKey, _ := issueKey(t, s, "venezia")
	trezzoKey, _ := issueKey(t, s, trezzo)
	b := s.browser()
	b.header.Set("Accept-Language", "en")

	// Numbers run per town: Venice's first report and Trezzo's have the
	// same one, which must never show the other town's.
	veneziaFirst := file(t, s, "venezia", "json", report(veneziaKey, veneziaCodes[0], "venezia"))
	veneziaSecond := file(t, s, "venezia", "json", report(veneziaKey, veneziaCodes[1], "venezia"))
	inTrezzo := file(t, s, trezzo, "json", report(trezzoKey, trezzoCodes[0], trezzo))

	before := helpdeskDossiers(t, s)
	expectO311Error(t, b.do(http.MethodPost, o311URL(s, "venezia", "requests.json"), report(trezzoKey, veneziaCodes[0], "venezia")), 403, "another town")
	expectO311Error(t, b.do(http.MethodPost, o311URL(s, trezzo, "requests.xml"), report(veneziaKey, trezzoCodes[0], trezzo)), 403)
	if helpdeskDossiers(t, s) != before {
		t.Error("a key of another town stored a report")
	}

	venezia := decodeRequests(t, b.get(o311URL(s, "venezia", "requests.json")), "json")
	if got := requestIDs(venezia); !slices.Equal(got, []string{veneziaFirst, veneziaSecond}) {
		t.Errorf("Venice lists %v", got)
	}
	for _, req := range venezia {
		if req.Address == nil || *req.Address != "Campo San Luca" {
			t.Errorf("Venice lists %+v", req)
		}
	}
	inT := decodeRequests(t, b.get(o311URL(s, trezzo, "requests.json")), "json")
	if got := requestIDs(inT); !slices.Equal(got, []string{inTrezzo}) || *inT[0].Address != "Piazza Libertà" {
		t.Errorf("Trezzo lists %+v", inT)
	}
	same := decodeRequests(t, b.get(o311URL(s, "venezia", "requests/"+inTrezzo+".json")), "json")
	if len(same) != 1 || *same[0].Address != "Campo San Luca" {
		t.Errorf("Venice's %s is %+v", inTrezzo, same)
	}
	for slug, other := range map[string]string{"venezia": "45.610", trezzo: "45.437"} {
		if dataset := b.get(o311URL(s, slug, "dataset.csv")).body; strings.Contains(dataset, other) || !strings.Contains(dataset, "number,") {
			t.Errorf("%s's dataset: %s", slug, dataset)
		}
	}
}
