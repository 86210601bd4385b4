package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// On a phone the portal's menu sits behind the hamburger button: a citizen
// opens it, reaches the services, and closes it again, with the app's own
// Bootstrap Italia and nothing loaded from elsewhere.
func TestPortalMenuOnAPhone(t *testing.T) {
	s := newSite(t)
	ctx := brStart(t, brChromium(t))
	var seen brLog
	if err := chromedp.Listen(ctx, seen.record); err != nil {
		t.Fatal(err)
	}
	brDo(t, ctx, chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(s.url+"/t/lugano/"), chromedp.WaitVisible(chromedp.CSS("button.custom-navbar-toggler")))
	services := `#main-menu a[href="/t/lugano/servizi"]`
	visible := `(() => { const e = document.querySelector('` + services + `'); if (!e) return false;
		const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== "hidden"; })()`
	if shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](visible)); err != nil || shown {
		t.Fatalf("before the button is pressed the menu shows: %v (%v)", shown, err)
	}
	// Bootstrap Italia ignores a close while the opening slides in: wait
	// for its "shown" event, as a person waits for the menu to settle.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { window.menuShown = false;
		document.querySelector("#main-menu").addEventListener("shown.bs.navbarcollapsible", () => { window.menuShown = true; });
		return true; })()`)); err != nil {
		t.Fatal(err)
	}
	brDo(t, ctx, chromedp.Click(chromedp.CSS("button.custom-navbar-toggler")))
	brPoll(t, ctx, visible)
	brPoll(t, ctx, "window.menuShown")
	if expanded, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.querySelector("button.custom-navbar-toggler").getAttribute("aria-expanded")`)); err != nil || expanded != "true" {
		t.Errorf("with the menu open the button says aria-expanded=%q (%v)", expanded, err)
	}
	brDo(t, ctx, chromedp.Click(chromedp.CSS("#main-menu .close-menu")))
	brPoll(t, ctx, "!"+visible)

	for _, u := range seen.get() {
		if !strings.HasPrefix(u, s.url) && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page asked for %s", u)
		}
	}
	for _, e := range seen.errors() {
		t.Errorf("the browser logged an error: %s", e)
	}
}
