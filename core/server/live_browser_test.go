package server_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/core/live"
)

// TestLiveCallInABrowser holds a video consultation between two real
// (headless) Chromium pages, as a citizen and an operator hold one: the
// citizen queues by the service's form and waits on their page, the
// operator becomes available and takes them from the console, both pages
// get the other side's camera through the relay, a chat line goes across,
// and the operator's end closes both pages. Neither page logs an error.
func TestLiveCallInABrowser(t *testing.T) {
	s := newSite(t)
	withLive(t, s, live.Config{})
	base := s.url + "/t/" + liveTown

	// The camera and microphone are Chromium's own test patterns, granted
	// without asking; the relay's candidates are on the loopback interface,
	// which Chromium leaves out unless told; the remote video plays with
	// no click.
	citizen := brStart(t, brChromium(t),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
	// The operator's page, in the same browser with cookies of its own.
	operator, cancel := chromedp.NewContext(citizen, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(operator); err != nil {
		t.Fatalf("open the operator's page: %v", err)
	}
	var citizenLog, operatorLog brLog
	for _, side := range []struct {
		ctx context.Context
		log *brLog
	}{{citizen, &citizenLog}, {operator, &operatorLog}} {
		if err := chromedp.Listen(side.ctx, side.log.record); err != nil {
			t.Fatal(err)
		}
	}

	// The citizen, signed in by the development provider through the HTTP
	// client, carries on in Chromium with the same session.
	town := base + "/"
	u, _ := url.Parse(town)
	signedIn, httpOnly := false, true
	for _, c := range s.citizen(liveTown, "mario.rossi").c.Jar.Cookies(u) {
		if c.Name != "sportello_session" {
			continue
		}
		if _, err := chromedp.Call(citizen, network.SetCookie, network.SetCookieParams{Name: c.Name, Value: c.Value, URL: town,
			Path: "/t/" + liveTown, HTTPOnly: &httpOnly}); err != nil {
			t.Fatal(err)
		}
		signedIn = true
	}
	if !signedIn {
		t.Fatal("the citizen has no session cookie")
	}

	// The citizen queues by the service's form and lands on their wait.
	svc := base + "/services/consultation"
	brDo(t, citizen, chromedp.Navigate(svc), chromedp.WaitVisible(chromedp.CSS(`form[action$="/services/consultation/join"]`)))
	// Bootstrap Italia draws its own radios and check boxes over the
	// inputs: the page's script sees the same change as from a click.
	if ok, err := chromedp.Run(citizen, chromedp.Evaluate[bool](`(() => {
		const f = document.querySelector('form[action$="/services/consultation/join"]');
		const mode = f.querySelector('input[name="mode"][value="video"]');
		const consent = f.querySelector('input[name="consent"][type="checkbox"]');
		if (!mode || !consent) return false;
		mode.checked = true;
		mode.dispatchEvent(new Event('change', { bubbles: true }));
		consent.checked = true;
		consent.dispatchEvent(new Event('change', { bubbles: true }));
		return true;
	})()`)); err != nil || !ok {
		t.Fatalf("the join form has no video choice or consent box (%v)", err)
	}
	topic := "Documenti per il cambio di residenza"
	brDo(t, citizen, chromedp.SendKeys(chromedp.CSS(`form[action$="/services/consultation/join"] [name="topic"]`), topic))
	res, err := chromedp.RunResponse(citizen,
		chromedp.Click(chromedp.CSS(`form[action$="/services/consultation/join"] button[type="submit"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusOK || !strings.Contains(res.URL, "/t/"+liveTown+"/live/") {
		t.Fatalf("joining the queue ended on %s (%d)", res.URL, res.Status)
	}
	brDo(t, citizen, chromedp.WaitVisible(chromedp.CSS(`#live-root[data-live="call"]`)))
	brPoll(t, citizen, `document.body.dataset.liveState === "waiting"`)

	// The operator signs in with the town's form and opens the console.
	brDo(t, operator, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#login-email")),
		chromedp.SendKeys(chromedp.CSS("#login-email"), "sportello@lugano.example"),
		chromedp.SendKeys(chromedp.CSS("#login-password"), "demo-lugano"))
	if res, err := chromedp.RunResponse(operator, chromedp.Click(chromedp.CSS(`form:has(#login-password) button[type="submit"]`))); err != nil {
		t.Fatal(err)
	} else if res.Status != http.StatusOK || strings.HasSuffix(res.URL, "/login") {
		t.Fatalf("signing in ended on %s (%d)", res.URL, res.Status)
	}
	brDo(t, operator, chromedp.Navigate(base+"/backoffice/live"),
		chromedp.WaitVisible(chromedp.CSS(`#live-root[data-live="console"]`)))
	brPoll(t, operator, `document.body.dataset.liveState === "idle"`)

	brDo(t, operator, chromedp.Click(chromedp.CSS("#live-status-available")))
	brPoll(t, operator, `document.querySelectorAll("#live-queue-body tr[data-entry]").length === 1`)
	// With an operator available the citizen is next.
	brPoll(t, citizen, `document.querySelector("#live-position").dataset.position === "1"`)
	brDo(t, operator, chromedp.WaitEnabled(chromedp.CSS("#live-take-next")), chromedp.Click(chromedp.CSS("#live-take-next")))

	// Connected: ICE through and the other side's camera arriving, which
	// a video only shows with a size once frames are decoded.
	brPollFor(t, citizen, `document.body.dataset.liveState === "connected"`, 20*time.Second)
	brPollFor(t, operator, `document.body.dataset.liveState === "connected"`, 20*time.Second)
	for _, side := range []context.Context{citizen, operator} {
		brPollFor(t, side, `document.querySelector("#live-remote").videoWidth > 0`, 20*time.Second)
	}
	if got := brText(t, operator, "#live-topic"); got != topic {
		t.Errorf("the operator reads the topic %q, want %q", got, topic)
	}
	dir := os.Getenv("SPORTELLO_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, side := range map[string]context.Context{"live-call-citizen.png": citizen, "live-call-operator.png": operator} {
		shot, err := chromedp.Run(side, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", filepath.Join(dir, name))
	}

	// A line the citizen writes reaches the operator's log.
	line := "Buongiorno, mi vede?"
	brDo(t, citizen, chromedp.SendKeys(chromedp.CSS("#live-chat-text"), line),
		chromedp.Click(chromedp.CSS("#live-chat-send")))
	brPoll(t, operator, `[...document.querySelectorAll("#live-chat-log li")].some((li) => li.textContent.includes("`+line+`"))`)
	brPoll(t, citizen, `[...document.querySelectorAll("#live-chat-log li")].some((li) => li.textContent.includes("`+line+`"))`)

	// The operator ends the call: both pages say so.
	brDo(t, operator, chromedp.Click(chromedp.CSS("#live-end")))
	for _, side := range []context.Context{operator, citizen} {
		brPoll(t, side, `document.body.dataset.liveState === "ended"`)
		brPoll(t, side, `!document.querySelector("#live-ended").hidden`)
	}

	for _, side := range []struct {
		name string
		log  *brLog
	}{{"citizen", &citizenLog}, {"operator", &operatorLog}} {
		for _, e := range side.log.errors() {
			t.Errorf("the %s's browser logged an error: %s", side.name, e)
		}
		for _, r := range side.log.get() {
			if !strings.HasPrefix(r, s.url+"/") && !strings.HasPrefix(r, "data:") {
				t.Errorf("the %s's browser asked %s, no test server", side.name, r)
			}
		}
	}
}

// brPollFor waits until expr is true in the page, for longer than a step
// where the wait is for something slower, such as media.
func brPollFor(t *testing.T, ctx context.Context, expr string, wait time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(wait))); err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
	}
}
