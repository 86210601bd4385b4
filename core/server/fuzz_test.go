package server

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/open311"
	"github.com/sportello/sportello/core/tenancy"
	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/web"
)

// open311Params are the parameters an Open311 error may name: the
// specification's, and "" for the request as a whole.
var open311Params = map[string]bool{"": true, "service_code": true, "description": true, "lat": true, "long": true,
	"address_string": true, "first_name": true, "last_name": true, "email": true, "phone": true, "media_url": true,
	"device_id": true, "account_id": true, "address_id": true, "attribute": true, "api_key": true, "jurisdiction_id": true}

// FuzzOpen311Report posts arbitrary bodies, as any content type, to the
// parsing and checking of an Open311 report (POST requests.json) against
// the helpdesk's own report form. It must never panic; what it refuses is
// an *open311.InputError, which the interface answers 400 with every
// problem named by its Open311 parameter in the request's language; what
// it takes is a report the helpdesk's form accepts, placed on the map or
// at an address.
func FuzzOpen311Report(f *testing.F) {
	cat, err := i18n.New(web.LocalesFS())
	if err != nil {
		f.Fatal(err)
	}
	data, err := os.ReadFile("../../plugins/helpdesk/manifest.yaml")
	if err != nil {
		f.Fatal(err)
	}
	m, err := sdk.ParseManifest(data)
	if err != nil {
		f.Fatal(err)
	}
	// Parsing needs no database: only the messages and the manifest.
	a := &open311API{s: &Server{i18n: cat, log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	h := &helpdesk{helpdeskSpec: newHelpdeskSpec(m)}
	if _, err := h.reportForm(cat); err != nil {
		f.Fatal(err)
	}
	app := fiber.New()
	types := []string{fiber.MIMEApplicationForm, "multipart/form-data; boundary=XyZ", "", "application/json",
		"application/x-www-form-urlencoded; charset=ISO-8859-1", "multipart/form-data", "text/plain; ==="}
	langs := []string{"it", "de", "en"}

	good := url.Values{"api_key": {"o311_x"}, "jurisdiction_id": {"venezia"}, "service_code": {"street_lighting"},
		"lat": {"45.4372"}, "long": {"12.3326"}, "address_string": {"Campo San Luca"},
		"description": {"Il lampione davanti al civico 12 è spento da una settimana."},
		"first_name":  {"Anna"}, "last_name": {"Verdi"}, "email": {"anna.verdi@example.org"}, "phone": {"+39 041 555 0101"},
		"media_url": {"https://example.org/foto.jpg"}}
	f.Add(uint8(0), []byte(good.Encode()), uint8(0))
	for _, change := range []func(url.Values){
		func(v url.Values) { v.Del("service_code") },
		func(v url.Values) { v.Set("lat", "200") },
		func(v url.Values) { v.Set("long", "-181") },
		func(v url.Values) { v.Set("lat", "NaN") },
		func(v url.Values) { v.Set("lat", "1e400"); v.Set("long", "-0x1p-2") },
		func(v url.Values) { v.Del("long"); v.Del("address_string") },
		func(v url.Values) { v.Del("lat"); v.Del("long"); v.Del("address_string") },
		func(v url.Values) { v.Set("description", strings.Repeat("buca ", 1000)) },
		func(v url.Values) { v.Set("description", "caff\xe8 rotto") },
		func(v url.Values) { v.Set("first_name", "a\x00b") },
		func(v url.Values) { v.Set("email", "anna at home") },
		func(v url.Values) { v.Set("media_url", "javascript:alert(1)") },
		func(v url.Values) { v.Add("service_code", "roads"); v.Set("attribute[size]", "big") },
	} {
		v := url.Values{}
		for k, vs := range good {
			v[k] = append([]string(nil), vs...)
		}
		change(v)
		f.Add(uint8(0), []byte(v.Encode()), uint8(1))
	}
	f.Add(uint8(0), []byte(good.Encode()+"&description=%zz"), uint8(2))
	f.Add(uint8(3), []byte(`{"service_code": "roads"}`), uint8(0))
	f.Add(uint8(1), []byte("--XyZ\r\nContent-Disposition: form-data; name=\"service_code\"\r\n\r\nroads\r\n"+
		"--XyZ\r\nContent-Disposition: form-data; name=\"address_string\"\r\n\r\nVia Roma 1\r\n"+
		"--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n"+
		"--XyZ--\r\n"), uint8(2))

	post := func(ct uint8, body []byte, l uint8) (map[string]any, string, error) {
		fctx := &fasthttp.RequestCtx{}
		fctx.Request.Header.SetMethod(fiber.MethodPost)
		fctx.Request.SetRequestURI("/t/venezia/open311/v2/requests.json")
		fctx.Request.Header.SetContentType(types[int(ct)%len(types)])
		fctx.Request.SetBody(body)
		c := app.AcquireCtx(fctx)
		defer app.ReleaseCtx(c)
		rs := state(c)
		rs.lang = langs[int(l)%len(langs)]
		rs.tenant = &tenancy.Tenant{ID: 1, Slug: "venezia", Languages: langs}
		c.Locals(open311HelpdeskKey, h)
		vals, err := a.posted(c, rs.lang)
		if err != nil {
			return nil, rs.lang, err
		}
		doc, err := a.reportDocument(c, vals)
		return doc, rs.lang, err
	}
	if _, _, err := post(0, []byte(good.Encode()), 0); err != nil {
		f.Fatalf("a good report is refused: %v", err)
	}

	f.Fuzz(func(t *testing.T, ct uint8, body []byte, l uint8) {
		doc, lang, err := post(ct, body, l)
		if err != nil {
			var ie *open311.InputError
			if !errors.As(err, &ie) || len(ie.Problems) == 0 {
				t.Fatalf("refused with %T %v: want an InputError naming a problem", err, err)
			}
			if status, _ := errorStatus(err); status != fiber.StatusBadRequest {
				t.Fatalf("%v answers %d, want 400", err, status)
			}
			for _, p := range ie.Problems {
				if !open311Params[p.Param] {
					t.Fatalf("problem %+v names no Open311 parameter", p)
				}
				if p.Text == "" || strings.HasPrefix(p.Text, "open311.") || strings.HasPrefix(p.Text, "forms.") || strings.Contains(p.Text, "{{") {
					t.Fatalf("problem %+v is no translated message", p)
				}
			}
			return
		}
		rf, _ := h.reportForm(cat)
		if errs := rf.form.Validate(doc, lang); len(errs) > 0 {
			t.Fatalf("a report taken is invalid for the helpdesk: %v", errs)
		}
		if code, _ := doc["category"].(string); code == "" {
			t.Fatalf("a report taken without a service_code: %v", doc)
		}
		loc, _ := doc["location"].(map[string]any)
		lat, hasLat := loc["lat"].(float64)
		lon, hasLon := loc["lon"].(float64)
		addr, _ := loc["address"].(string)
		if hasLat != hasLon || !hasLat && addr == "" {
			t.Fatalf("a report taken with no place: %v", loc)
		}
		if hasLat && (math.IsNaN(lat) || math.IsInf(lat, 0) || lat < -90 || lat > 90 || math.IsNaN(lon) || lon < -180 || lon > 180) {
			t.Fatalf("a report taken off the globe: %v", loc)
		}
	})
}
