package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sportello/sportello/core/server"
)

// The place a report is about: the "map" field of testdata/mapdesk, whose
// schema centres the map on Lugano.
const (
	luganoLat, luganoLon = 46.0037, 8.9511
	// Where the emulated device says it is.
	deviceLat, deviceLon = 46.0101, 8.9604
)

// TestMapFieldInABrowser uses a form's map in a real (headless) Chromium as
// a citizen would: a click on the map fills latitude and longitude in and
// the form posts them to the service; "use my position" fills them from the
// device's position; a deployment's tile server draws the map under the
// page's Content-Security-Policy. Throughout, the browser asks nothing of
// any other server and logs no error (a policy violation would be one).
func TestMapFieldInABrowser(t *testing.T) {
	s := newSite(t)
	withPlugins(t, s, testPlugin{ID: "mapdesk", Pkg: "./testdata/mapdesk", Publish: map[string]string{"lugano": "{}"}})
	citizen := s.citizen("lugano", "mario.rossi")

	var tileHits atomic.Int64
	tile := brTile(t)
	tiles := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tileHits.Add(1)
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(tile)
	}))
	t.Cleanup(tiles.Close)
	tiled := brServeWithTiles(t, s, tiles.URL+"/{z}/{x}/{y}.png", "© Mappe di prova")

	page := "/t/lugano/services/mapdesk"

	// Without a browser: the form posts the place, the schema checks it, and
	// the policy lets images come from the tile server, where there is one.
	t.Run("a point off the globe comes back beside its input", func(t *testing.T) {
		r := citizen.form(s.url+page, s.url+page+"/report", url.Values{"subject": {"Lampione spento"},
			"location.lat": {"200"}, "location.lon": {"8.95"}, "location.address": {"Via Nassa 1"}})
		expect(t, r, 422, `id="field-location.lat-error"`, `name="location.lat" value="200"`,
			`name="location.lon" value="8.95"`, `value="Via Nassa 1"`, `value="Lampione spento"`)
		for _, srv := range []struct{ url, img string }{{s.url, "img-src 'self' data:;"}, {tiled, "img-src 'self' data: " + tiles.URL + ";"}} {
			if got := citizen.get(srv.url + page).header.Get("Content-Security-Policy"); !strings.Contains(got, srv.img) {
				t.Errorf("policy of %s: %s, want %s", srv.url, got, srv.img)
			}
		}
	})

	ctx := brStart(t, brChromium(t))
	var seen brLog
	if err := chromedp.Listen(ctx, seen.record); err != nil {
		t.Fatal(err)
	}
	// The citizen's session, signed in by the HTTP client, for the town's
	// pages; cookies do not tell ports apart, so it holds on the tiled
	// server too.
	town := s.url + "/t/lugano/"
	u, _ := url.Parse(town)
	signedIn, httpOnly := false, true
	for _, c := range citizen.c.Jar.Cookies(u) {
		if c.Name != "sportello_session" {
			continue
		}
		if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: c.Name, Value: c.Value, URL: town,
			Path: "/t/lugano", HTTPOnly: &httpOnly}); err != nil {
			t.Fatal(err)
		}
		signedIn = true
	}
	if !signedIn {
		t.Fatal("the citizen has no session cookie")
	}
	lat, lon := `input[name="location.lat"]`, `input[name="location.lon"]`

	t.Run("a click on the map fills the place in, the form posts it", func(t *testing.T) {
		brDo(t, ctx, chromedp.Navigate(s.url+page), chromedp.WaitVisible(chromedp.CSS("#field-location-map.leaflet-container")))
		if v := brValue(t, ctx, lat); v != "" {
			t.Fatalf("latitude %q before any click", v)
		}
		// The map starts on the schema's centre: its middle is Lugano.
		brDo(t, ctx, chromedp.Click(chromedp.CSS("#field-location-map")))
		brPoll(t, ctx, `document.querySelector('input[name="location.lat"]').value !== ""`)
		brPoll(t, ctx, `document.querySelectorAll("#field-location-map .leaflet-marker-icon").length === 1`)
		gotLat, gotLon := brNumber(t, brValue(t, ctx, lat)), brNumber(t, brValue(t, ctx, lon))
		if math.Abs(gotLat-luganoLat) > 0.001 || math.Abs(gotLon-luganoLon) > 0.001 {
			t.Fatalf("clicked at %v, %v; want about %v, %v", gotLat, gotLon, luganoLat, luganoLon)
		}
		if st := brText(t, ctx, "[data-map-status]"); st == "" || strings.HasPrefix(st, "map.") {
			t.Errorf("status after the click: %q", st)
		}
		brDo(t, ctx, chromedp.SendKeys(chromedp.CSS(`input[name="subject"]`), "Lampione spento"),
			chromedp.SendKeys(chromedp.CSS(`input[name="location.address"]`), "Piazza della Riforma"))
		res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`form[action$="/services/mapdesk/report"] button[type="submit"]`)))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != http.StatusOK {
			t.Fatalf("the form's post answered %d", res.Status)
		}
		// What the service said it received, and what it filed.
		want := fmt.Sprintf("lat=%v lon=%v", gotLat, gotLon)
		if got := brText(t, ctx, "#service-result"); !strings.Contains(got, want) {
			t.Errorf("the service answered %q, want it to have received %q", got, want)
		}
		var raw []byte
		if err := s.db.Owner.NewRaw("SELECT data FROM dossiers WHERE service_id = 'mapdesk'").Scan(context.Background(), &raw); err != nil {
			t.Fatal(err)
		}
		var data struct {
			Location struct {
				Lat, Lon float64
				Address  string
			}
		}
		if err := json.Unmarshal(raw, &data); err != nil {
			t.Fatal(err)
		}
		if data.Location.Lat != gotLat || data.Location.Lon != gotLon || data.Location.Address != "Piazza della Riforma" {
			t.Errorf("dossier %s, want the place %v, %v, Piazza della Riforma", raw, gotLat, gotLon)
		}
	})

	t.Run("use my position fills in the device's position", func(t *testing.T) {
		if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "geolocation"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: s.url}); err != nil {
			t.Fatal(err)
		}
		a, o, acc := deviceLat, deviceLon, 5.0
		if _, err := chromedp.Call(ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{
			Latitude: &a, Longitude: &o, Accuracy: &acc}); err != nil {
			t.Fatal(err)
		}
		brDo(t, ctx, chromedp.Navigate(s.url+page), chromedp.WaitVisible(chromedp.CSS("[data-map-locate]")),
			chromedp.Click(chromedp.CSS("[data-map-locate]")))
		brPoll(t, ctx, `document.querySelector('input[name="location.lat"]').value !== ""`)
		if gotLat, gotLon := brNumber(t, brValue(t, ctx, lat)), brNumber(t, brValue(t, ctx, lon)); gotLat != deviceLat || gotLon != deviceLon {
			t.Errorf("position %v, %v; want the device's %v, %v", gotLat, gotLon, deviceLat, deviceLon)
		}
		brPoll(t, ctx, `document.querySelectorAll("#field-location-map .leaflet-marker-icon").length === 1`)
	})

	t.Run("the deployment's tiles draw under the policy", func(t *testing.T) {
		brDo(t, ctx, chromedp.Navigate(tiled+page), chromedp.WaitVisible(chromedp.CSS("#field-location-map.leaflet-container")))
		brPoll(t, ctx, `document.querySelectorAll("#field-location-map img.leaflet-tile-loaded").length > 0`)
		if tileHits.Load() == 0 {
			t.Error("no tile was asked of the tile server")
		}
		if got := brText(t, ctx, "#field-location-map .leaflet-control-attribution"); !strings.Contains(got, "© Mappe di prova") {
			t.Errorf("attribution %q", got)
		}
		brDo(t, ctx, chromedp.Click(chromedp.CSS("#field-location-map")))
		brPoll(t, ctx, `document.querySelector('input[name="location.lon"]').value !== ""`)
	})

	requests := seen.get()
	for _, want := range []string{s.url + "/static/vendor/leaflet/leaflet.js?v=", s.url + "/static/js/map.js?v=",
		s.url + "/static/vendor/leaflet/leaflet.css?v=", tiles.URL + "/"} {
		if !slices.ContainsFunc(requests, func(r string) bool { return strings.HasPrefix(r, want) }) {
			t.Errorf("the browser never asked for %s…", want)
		}
	}
	allowed := []string{s.url + "/", tiled + "/", tiles.URL + "/"}
	for _, r := range requests {
		if !slices.ContainsFunc(allowed, func(p string) bool { return strings.HasPrefix(r, p) }) && !strings.HasPrefix(r, "data:") {
			t.Errorf("the browser asked %s, no test server", r)
		}
	}
	for _, e := range seen.errors() {
		t.Errorf("the browser logged an error: %s", e)
	}
}

// brChromium finds the browser the test drives; without it the test fails,
// saying how to install it: a map nobody clicked is no proof.
func brChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: install it (Debian: apt-get install chromium; .ci/run does)")
	return ""
}

// brStart starts a headless Chromium that reaches out to nothing of
// its own accord, closed at the test's end; extra adds to its options.
func brStart(t *testing.T, bin string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.WindowSize(1280, 1000),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium's sandbox refuses to run as root
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Starting the browser binds it to ctx; each step below has a deadline
	// of its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	return ctx
}

// brLog keeps what the browser asked for and the errors it logged:
// console errors, uncaught exceptions, and log entries such as policy
// violations and failed loads.
type brLog struct {
	mu       sync.Mutex
	requests []string
	errs     []string
}

func (l *brLog) record(ev any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		l.requests = append(l.requests, ev.Request.URL)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			l.errs = append(l.errs, "console: "+strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		l.errs = append(l.errs, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
	case *cdplog.EventEntryAdded:
		// Bootstrap Italia's bundle, on every page, sets inline styles the
		// policy blocks (it works without them): a known fault of the
		// vendored script, not of what this test checks.
		if ev.Entry.Source == cdplog.EntrySourceSecurity && strings.Contains(ev.Entry.URL, "/vendor/bootstrap-italia/") &&
			strings.HasPrefix(ev.Entry.Text, "Applying inline style violates") {
			return
		}
		if ev.Entry.Level == cdplog.EntryLevelError {
			l.errs = append(l.errs, fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	}
}

func (l *brLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.requests)
}

func (l *brLog) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs)
}

// brStep bounds one step in the browser: generous, since a loaded
// machine is slow, yet short enough to end a stuck test.
const brStep = 15 * time.Second

// brPressing activates sel, a link or a form's button, from the keyboard:
// focused, then Enter, as a keyboard user does. A mouse click aims where
// the element was drawn, and a page still settling (fonts, scripts laying
// out their parts, a loaded machine) can move it from under the pointer;
// a focused element takes the key wherever it is. Run it in
// chromedp.RunResponse to wait for the page it leads to.
func brPressing(sel string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{chromedp.Focus(chromedp.CSS(sel)), chromedp.KeyEvent(kb.Enter)}
}

// brTick checks the check box or picks the radio button sel from the
// keyboard (focus, then Space), which works with or without scripts, and
// waits until the browser has it checked.
func brTick(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	brDo(t, ctx, chromedp.Focus(chromedp.CSS(sel)), chromedp.KeyEvent(" "), chromedp.WaitReady(chromedp.CSS(sel+":checked")))
}

func brDo(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, brStep)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// brPoll waits until expr is true in the page.
func brPoll(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(brStep))); err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
	}
}

func brValue(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func brText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(v)
}

func brNumber(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q is no number: %v", s, err)
	}
	return f
}

// brTile is a plain 256-pixel tile.
func brTile(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for i := range img.Pix {
		img.Pix[i] = []uint8{0xe8, 0xf0, 0xe0, 0xff}[i%4]
	}
	img.Set(0, 0, color.Black)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// brServeWithTiles serves the site a second time, with the plugins it runs,
// as a deployment with a tile server serves it; it returns its URL.
func brServeWithTiles(t *testing.T, s *site, tiles, attribution string) string {
	t.Helper()
	return serveWith(t, s, server.Config{PaymentProvider: "local", MapTiles: tiles, MapAttribution: attribution})
}
