package server_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAnalyticsCharts opens the analytics page in Chromium as the town's
// admin: Chart.js, served by the app, draws every charted figure from the
// page's data under the strict policy, with no script error.
func TestAnalyticsCharts(t *testing.T) {
	s := newSite(t)
	seedAnalytics(t, s, "lugano", "lugano_svc", 30)
	admin := s.staff("lugano", "admin@lugano.example", "demo-lugano")
	ctx := brStart(t, brChromium(t))
	var seen brLog
	if err := chromedp.Listen(ctx, seen.record); err != nil {
		t.Fatal(err)
	}
	brSession(t, ctx, admin, s.url+"/t/lugano")
	brDo(t, ctx, chromedp.Navigate(s.url+"/t/lugano/admin/analytics?from=2026-02-01&to=2026-03-31&lang=it"),
		chromedp.WaitVisible(chromedp.CSS("#by-service")))
	// Each canvas with data gets its chart; the series chart has the
	// service's line with the filed count in it.
	brPoll(t, ctx, `typeof Chart !== 'undefined' && document.querySelectorAll('canvas[data-chart]').length >= 4 &&
		[...document.querySelectorAll('canvas[data-chart]')].every(c => Chart.getChart(c) !== undefined)`)
	brPoll(t, ctx, `(() => { const c = Chart.getChart(document.querySelector('canvas[data-chart="by-service"]'));
		const d = c.data.datasets.find(d => d.label === 'lugano_svc');
		return c.config.type === 'line' && d && d.data.reduce((a, b) => a + b, 0) === 30 && c.data.labels.length === 59; })()`)
	if errs := seen.errors(); len(errs) > 0 {
		t.Errorf("the browser logged errors: %v", errs)
	}
	dir := os.Getenv("SPORTELLO_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "admin-analytics.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
}
