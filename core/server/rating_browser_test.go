package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// With JavaScript the rating goes in the model's steps: the stars, then
// only the question that goes with them, then the details; it is sent
// without leaving the page and the thanks take the form's place.
func TestRatingStepsInABrowser(t *testing.T) {
	s := newSite(t)
	ctx := brStart(t, brChromium(t))
	var seen brLog
	if err := chromedp.Listen(ctx, seen.record); err != nil {
		t.Fatal(err)
	}
	hidden := func(sel string) string { return `document.querySelector('` + sel + `').hidden` }
	brDo(t, ctx, chromedp.Navigate(s.url+"/t/lugano/appointments"), chromedp.WaitReady(chromedp.CSS("[data-rating-form]")))
	// The script has run once the band notes, only for the plain form, hide.
	brPoll(t, ctx, hidden("[data-rating-band]"))
	brPoll(t, ctx, hidden(`[data-rating-step="2"]`)+" && "+hidden(`[data-rating-step="3"]`))

	brDo(t, ctx, chromedp.Click(chromedp.CSS(`label[for="rating-star-2"]`)))
	brPoll(t, ctx, "!"+hidden(`[data-rating-step="2"]`)+" && "+hidden(`[data-rating-group="positive"]`)+
		" && !"+hidden(`[data-rating-group="negative"]`))

	// Going on without an answer asks for one.
	brDo(t, ctx, chromedp.Click(chromedp.CSS("[data-rating-next]")))
	brPoll(t, ctx, "!"+hidden("#rating-error"))
	if msg := brText(t, ctx, "#rating-error"); !strings.Contains(msg, "Scegli una risposta") {
		t.Errorf("error %q", msg)
	}

	brDo(t, ctx, chromedp.Click(chromedp.CSS(`label[for="rating-answer-lost"]`)),
		chromedp.Click(chromedp.CSS("[data-rating-next]")))
	brPoll(t, ctx, hidden(`[data-rating-step="2"]`)+" && !"+hidden(`[data-rating-step="3"]`)+
		` && document.activeElement.id === "rating-comment"`)
	brDo(t, ctx, chromedp.SendKeys(chromedp.CSS("#rating-comment"), "Non trovo gli orari."),
		chromedp.Click(chromedp.CSS(`[data-rating-form] button[type="submit"]`)))
	brPoll(t, ctx, `!document.querySelector("[data-rating-form]") && document.activeElement.id === "rating-title"`)
	if thanks := brText(t, ctx, "#rating-title"); thanks != "Grazie, il tuo parere ci aiuterà a migliorare il servizio!" {
		t.Errorf("thanks %q", thanks)
	}
	if path, err := chromedp.Run(ctx, chromedp.Evaluate[string]("location.pathname + location.search")); err != nil || path != "/t/lugano/appointments" {
		t.Errorf("the page changed to %q (%v)", path, err)
	}

	rows := allRatings(t, s)
	if len(rows) != 1 || rows[0].Stars != 2 || rows[0].Answer != "lost" || rows[0].Comment != "Non trovo gli orari." || rows[0].Path != "/appointments" {
		t.Fatalf("stored %+v", rows)
	}
	for _, e := range seen.errors() {
		t.Errorf("the browser logged an error: %s", e)
	}
}
