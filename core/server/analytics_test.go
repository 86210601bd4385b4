package server_test

import (
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
)

// seedAnalytics files n dossiers of service in town on February days of
// 2026, a third of them closed three days later, and one page rating.
func seedAnalytics(t *testing.T, s *site, town, service string, n int) {
	t.Helper()
	ctx := context.Background()
	var id int64
	if err := s.db.Owner.NewRaw("SELECT id FROM tenants WHERE slug = ?", town).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`WITH ins AS (INSERT INTO dossiers (tenant_id, number, service_id, status, title, channel, submitted_at, created_at, updated_at)
			SELECT ?0, '2026-' || lpad((900000 + k)::text, 6, '0'), ?1, 'submitted', 'Analytics ' || k,
				CASE WHEN k % 2 = 0 THEN 'web' ELSE 'phone' END,
				timestamptz '2026-02-02 09:00+01' + k * interval '1 day 1 hour', timestamptz '2026-02-02 09:00+01' + k * interval '1 day 1 hour',
				timestamptz '2026-02-02 09:00+01' + k * interval '1 day 1 hour'
			FROM generate_series(1, ?2) k RETURNING id, status, created_at)
		INSERT INTO dossier_events (tenant_id, dossier_id, at, actor, kind, status) SELECT ?0, id, created_at, 'test', 'opened', status FROM ins`,
		`INSERT INTO dossier_events (tenant_id, dossier_id, at, actor, kind, status)
			SELECT tenant_id, id, created_at + interval '3 days', 'test', 'status', 'completed' FROM dossiers
			WHERE tenant_id = ?0 AND service_id = ?1 AND id % 3 = 0`,
		`UPDATE dossiers SET status = 'completed' WHERE tenant_id = ?0 AND service_id = ?1 AND id % 3 = 0`,
		`INSERT INTO page_ratings (tenant_id, path, stars, answer, lang, created_at)
			VALUES (?0, '/analytics-' || ?1, 4, 'clear', 'it', timestamptz '2026-02-10 12:00+01')`,
	} {
		if _, err := s.db.Owner.ExecContext(ctx, q, id, service, n); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAnalytics(t *testing.T) {
	s := newSite(t)
	seedAnalytics(t, s, "lugano", "lugano_svc", 20)
	seedAnalytics(t, s, "venezia", "venezia_svc", 35)
	admin := s.staff("lugano", "admin@lugano.example", "demo-lugano")
	base := s.url + "/t/lugano/admin/analytics"
	period := "?from=2026-02-01&to=2026-03-31"

	t.Run("page", func(t *testing.T) {
		r := admin.get(base + period + "&lang=it")
		expect(t, r, 200, "Statistiche", `id="by-service"`, "lugano_svc", "data-charts=", "chart.umd.min.js", "js/analytics.js",
			"/t/lugano/admin/analytics/by-service.csv?from=2026-02-01&amp;to=2026-03-31", "/analytics-lugano_svc", `id="heat"`)
		if strings.Contains(r.body, "venezia_svc") {
			t.Error("lugano's page shows venezia's figures")
		}
		if strings.Contains(r.body, "<script>") || strings.Contains(r.body, "<script type") {
			t.Error("the page has an inline script")
		}
	})

	t.Run("csv", func(t *testing.T) {
		read := func(figure string) [][]string {
			t.Helper()
			r := admin.get(base + "/" + figure + ".csv" + period + "&lang=de")
			expect(t, r, 200)
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
				t.Fatalf("Content-Type %q", ct)
			}
			if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, figure+"-2026-02-01-2026-03-31.csv") {
				t.Fatalf("Content-Disposition %q", cd)
			}
			recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			return recs
		}
		// By service: a header naming the series and the total, one row
		// per day of the period, the days' counts adding up to what was
		// filed.
		recs := read("by-service")
		if len(recs) != 1+59 || recs[0][0] != "Zeitraum ab" || recs[0][len(recs[0])-1] != "Gesamt" {
			t.Fatalf("by-service.csv: %d records, header %v", len(recs), recs[0])
		}
		col := -1
		for i, h := range recs[0] {
			if h == "lugano_svc" {
				col = i
			}
			if h == "venezia_svc" {
				t.Errorf("venezia's service in lugano's CSV")
			}
		}
		if col < 0 {
			t.Fatalf("no lugano_svc column in %v", recs[0])
		}
		sum := 0
		for _, rec := range recs[1:] {
			n, err := strconv.Atoi(rec[col])
			if err != nil {
				t.Fatal(err)
			}
			sum += n
		}
		if sum != 20 || recs[1][0] != "2026-02-01" || recs[len(recs)-1][0] != "2026-03-31" {
			t.Errorf("by-service.csv: %d filed from %s to %s, want 20 from 2026-02-01 to 2026-03-31", sum, recs[1][0], recs[len(recs)-1][0])
		}
		// Resolution: the third closed, each three days after filing.
		found := false
		for _, rec := range read("resolution")[1:] {
			if rec[0] == "lugano_svc" {
				found = true
				if rec[1] != strconv.Itoa(20/3) || rec[2] != "3.00" {
					t.Errorf("resolution of lugano_svc: %v, want %d closed in 3.00 days", rec, 20/3)
				}
			}
		}
		if !found {
			t.Error("resolution.csv has no lugano_svc row")
		}
		channels := map[string]bool{}
		for _, h := range read("by-channel")[0] {
			channels[h] = true
		}
		if !channels["Online"] || !channels["Telefon"] {
			t.Errorf("by-channel.csv header %v", channels)
		}
		heat := read("heat")
		if len(heat) != 8 || len(heat[0]) != 25 || heat[1][0] != "Montag" {
			t.Errorf("heat.csv: %d rows of %d", len(heat), len(heat[0]))
		}
		expect(t, admin.get(base+"/nonsense.csv"+period), 404)
	})

	t.Run("bad periods", func(t *testing.T) {
		for _, c := range []struct {
			query, lang string
			status      int
			says        string
		}{
			{"?from=2026-02-30", "it", 400, "anno-mese-giorno"},
			{"?from=31.01.2026", "de", 400, "Jahr-Monat-Tag"},
			{"?from=2026-03-01&to=2026-02-01", "it", 422, "precede"},
			{"?from=2026-03-01&to=2026-02-01", "de", 422, "Tauschen"},
			{"?from=2000-01-01&to=2026-02-01", "it", 422, "dieci anni"},
		} {
			r := admin.get(base + c.query + "&lang=" + c.lang)
			expect(t, r, c.status, c.says, `aria-invalid="true"`)
			r = admin.get(base + "/by-service.csv" + c.query + "&lang=" + c.lang)
			expect(t, r, c.status, c.says)
		}
	})

	t.Run("who may see it", func(t *testing.T) {
		op := s.staff("lugano", "sportello@lugano.example", "demo-lugano")
		expect(t, op.get(base+period), 403)
		expect(t, op.get(base+"/by-service.csv"+period), 403)
		anon := s.browser()
		r := anon.get(base + period)
		if r.status != 303 || !strings.Contains(r.header.Get("Location"), "/login") {
			t.Errorf("anonymous: %d to %q, want 303 to the login", r.status, r.header.Get("Location"))
		}
		// Venezia's admin sees venezia's figures only.
		vadmin := s.staff("venezia", "admin@venezia.example", "demo-venezia")
		r = vadmin.get(s.url + "/t/venezia/admin/analytics" + period)
		expect(t, r, 200, "venezia_svc")
		if strings.Contains(r.body, "lugano_svc") {
			t.Error("venezia's page shows lugano's figures")
		}
		// Lugano's session is no key to venezia's page.
		r = admin.get(s.url + "/t/venezia/admin/analytics" + period)
		if r.status == 200 {
			t.Errorf("lugano's admin got venezia's analytics")
		}
	})
}
