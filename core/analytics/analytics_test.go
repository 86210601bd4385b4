package analytics

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/store/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

// finals are the test's final statuses, as a manifest would name them.
func finals(service, status string) bool {
	return status == "closed" || status == "rejected" || (service == "helpdesk" && status == "resolved")
}

// Seed fills a town through the application role, statement by statement
// as the application writes: dossiers opened with their first event in one
// statement, then moved, reassigned, given due dates and closed; live
// consultations joined, taken and ended; ratings and citizens. scale
// varies the amounts so that two towns differ.
func seed(t *testing.T, db *store.DB, tenantID int64, scale int, now time.Time) {
	t.Helper()
	ctx := context.Background()
	err := db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		steps := []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO offices (tenant_id, slug, name) SELECT ?0, 'o' || k, jsonb_build_object('it', 'Ufficio ' || k, 'de', 'Amt ' || k)
				FROM generate_series(1, 3) k`, nil},
			{`INSERT INTO citizens (tenant_id, issuer, subject, created_at)
				SELECT ?0, 'test', 'c' || k, ?2::timestamptz - k * interval '7 hours' FROM generate_series(1, 40 * ?1) k`, nil},
			// Opened like core/dossier does: the row and its first event in
			// one statement, some as drafts.
			{`WITH g AS (SELECT k, ?2::timestamptz - k * interval '5 hours 17 minutes' AS at FROM generate_series(1, 60 * ?1) k),
				ins AS (INSERT INTO dossiers (tenant_id, number, service_id, status, title, channel, office_id, submitted_at, created_at, updated_at)
					SELECT ?0, CASE WHEN k % 11 = 0 THEN 'D-' || k ELSE '2026-' || lpad(k::text, 6, '0') END,
						(ARRAY['helpdesk', 'registry', 'taxes'])[1 + k % 3],
						CASE WHEN k % 11 = 0 THEN 'draft' ELSE 'submitted' END, 'T' || k,
						(ARRAY['web', 'phone', 'counter', 'web'])[1 + k % 4],
						CASE WHEN k % 5 = 0 THEN NULL ELSE (SELECT id FROM offices WHERE tenant_id = ?0 ORDER BY id LIMIT 1 OFFSET k % 3) END,
						CASE WHEN k % 11 = 0 THEN NULL ELSE at END, at, at
					FROM g RETURNING id, status, created_at)
				INSERT INTO dossier_events (tenant_id, dossier_id, at, actor, kind, status)
				SELECT ?0, id, created_at, 'test', 'opened', status FROM ins`, nil},
			// Work on them, one statement per step, in time order.
			{`INSERT INTO dossier_events (tenant_id, dossier_id, at, actor, kind, status)
				SELECT tenant_id, id, created_at + interval '3 hours', 'test', 'status', 'in_progress' FROM dossiers
				WHERE status <> 'draft' AND id % 2 = 0`, nil},
			{`UPDATE dossiers SET status = 'in_progress' WHERE status <> 'draft' AND id % 2 = 0`, nil},
			// A note in the same status enters nothing.
			{`INSERT INTO dossier_events (tenant_id, dossier_id, at, actor, kind, status)
				SELECT tenant_id, id, created_at + interval '4 hours', 'test', 'status', 'in_progress' FROM dossiers WHERE status = 'in_progress' AND id % 3 = 0`, nil},
			{`INSERT INTO dossier_events (tenant_id, dossier_id, at, actor, kind, status)
				SELECT tenant_id, id, created_at + interval '5 hours' + (id % 50) * interval '1 day 1 hour 7 seconds', 'test', 'status',
					CASE WHEN id % 3 = 0 THEN 'closed' WHEN id % 3 = 1 THEN 'rejected' ELSE 'resolved' END
				FROM dossiers WHERE status <> 'draft' AND id % 4 < 2`, nil},
			{`UPDATE dossiers SET status = CASE WHEN id % 3 = 0 THEN 'closed' WHEN id % 3 = 1 THEN 'rejected' ELSE 'resolved' END
				WHERE status <> 'draft' AND id % 4 < 2`, nil},
			// Some reopened and closed again, later than their first closing:
			// the application writes its events in time order.
			{`INSERT INTO dossier_events (tenant_id, dossier_id, at, actor, kind, status)
				SELECT tenant_id, id, ?2::timestamptz + interval '1 minute', 'test', 'status', 'in_progress' FROM dossiers WHERE status = 'closed' AND id % 7 = 0
				AND created_at + interval '5 hours' + (id % 50) * interval '1 day 1 hour 7 seconds' < ?2::timestamptz`, nil},
			{`INSERT INTO dossier_events (tenant_id, dossier_id, at, actor, kind, status)
				SELECT tenant_id, id, ?2::timestamptz + interval '2 minutes', 'test', 'status', 'closed' FROM dossiers WHERE status = 'closed' AND id % 7 = 0
				AND created_at + interval '5 hours' + (id % 50) * interval '1 day 1 hour 7 seconds' < ?2::timestamptz`, nil},
			{`UPDATE dossiers SET office_id = (SELECT max(id) FROM offices WHERE tenant_id = ?0) WHERE id % 6 = 1`, nil},
			{`UPDATE dossiers SET due_at = created_at + (id % 40) * interval '1 day' WHERE id % 3 <> 2`, nil},
			{`UPDATE dossiers SET due_at = ?2::timestamptz - interval '1 hour' WHERE id % 13 = 0 AND status <> 'draft'`, nil},
			// A draft filed and another discarded.
			{`UPDATE dossiers SET status = 'submitted', submitted_at = created_at + interval '1 day', number = '2025-' || lpad(id::text, 6, '0')
				WHERE status = 'draft' AND id % 2 = 0`, nil},
			{`DELETE FROM dossiers WHERE status = 'draft'`, nil},
			{`INSERT INTO consultation_entries (tenant_id, desk, dossier_id, citizen_id, mode, queued_at, joined_at)
				SELECT ?0, (ARRAY['registry', 'taxes'])[1 + k % 2], (SELECT min(id) FROM dossiers), (SELECT min(id) + k FROM citizens),
					'video', ?2::timestamptz - k * interval '13 hours', ?2::timestamptz - k * interval '13 hours'
				FROM generate_series(1, 10 * ?1) k`, nil},
			{`UPDATE consultation_entries SET status = 'in_call', taken_at = joined_at + (id % 9) * interval '61 seconds' WHERE id % 4 <> 0`, nil},
			{`UPDATE consultation_entries SET status = 'ended', ended_at = taken_at + (id % 5) * interval '3 minutes 1 second' WHERE id % 4 = 1`, nil},
			{`UPDATE consultation_entries SET status = 'left', ended_at = joined_at + interval '2 minutes' WHERE id % 4 = 0`, nil},
			{`INSERT INTO page_ratings (tenant_id, path, stars, answer, lang, created_at)
				SELECT ?0, (ARRAY['/', '/services/helpdesk', '/faq'])[1 + k % 3], 1 + k % 5,
					CASE WHEN 1 + k % 5 >= 4 THEN 'clear' ELSE 'unclear' END, 'it', ?2::timestamptz - k * interval '9 hours'
				FROM generate_series(1, 30 * ?1) k`, nil},
		}
		for i, s := range steps {
			if _, err := tx.ExecContext(ctx, s.sql, tenantID, scale, now); err != nil {
				return errors.Join(errors.New("step "+string(rune('A'+i))), err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func newTown(t *testing.T, db *pgtest.DB, slug string) int64 {
	t.Helper()
	var id int64
	if err := db.Owner.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it,de,en}') RETURNING id", slug, slug).
		Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestFiguresEqualRawRows(t *testing.T) {
	db := pg.NewDB(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	a, b := newTown(t, db, "alpha"), newTown(t, db, "beta")
	seed(t, db.App, a, 3, now)
	seed(t, db.App, b, 1, now)
	s := New(db.App)
	for _, c := range []struct{ from, to string }{
		{"2026-10-01", "2026-11-30"}, // by day
		{"2026-01-01", "2026-11-20"}, // by week
		{"2026-11-20", "2026-11-20"},
	} {
		p, err := ParsePeriod(c.from, c.to, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, town := range []int64{a, b} {
			got, err := s.Figures(ctx, town, p, finals)
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.RawFigures(ctx, town, p, finals)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("town %d, %s..%s: totals differ from raw rows:\n got %+v\nwant %+v", town, c.from, c.to, got, want)
			}
		}
	}

	// Rebuilding the totals from the raw rows (after a bulk load, or the
	// migration's first fill) gives the same figures as the triggers kept.
	p, _ := ParsePeriod("2026-01-01", "2026-12-31", now)
	before, err := s.Figures(ctx, a, p, finals)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Owner.ExecContext(ctx, "SELECT analytics_rebuild()"); err != nil {
		t.Fatal(err)
	}
	after, err := s.Figures(ctx, a, p, finals)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("rebuilt totals differ from the triggers':\n got %+v\nwant %+v", after, before)
	}

	// The figures count what was seeded, not just agree with each other.
	p, _ = ParsePeriod("2020-01-01", "2027-12-31", now)
	for town, scale := range map[int64]int64{a: 3, b: 1} {
		f, err := s.Figures(ctx, town, p, finals)
		if err != nil {
			t.Fatal(err)
		}
		if rf, err := s.RawFigures(ctx, town, p, finals); err != nil || !reflect.DeepEqual(f, rf) {
			t.Errorf("town %d: the whole span's totals differ from the raw rows (%v):\n got %+v\nwant %+v", town, err, f.Resolutions, rf.Resolutions)
		}
		var requests, heat, closings, ratings, entries int64
		for _, sr := range f.ByService {
			requests += sr.Total
		}
		for _, row := range f.Heat {
			for _, n := range row {
				heat += n
			}
		}
		for _, r := range f.Resolutions {
			closings += r.N
		}
		for _, r := range f.Ratings {
			ratings += r.N
		}
		for _, d := range f.Desks {
			entries += d.Entries
		}
		var filed, closed, reclosed int64
		if err := db.Owner.NewRaw("SELECT count(*) FROM dossiers WHERE tenant_id = ? AND status <> 'draft'", town).Scan(ctx, &filed); err != nil {
			t.Fatal(err)
		}
		if err := db.Owner.NewRaw("SELECT count(*) FROM dossiers WHERE tenant_id = ? AND (status IN ('closed', 'rejected') OR (service_id = 'helpdesk' AND status = 'resolved'))", town).Scan(ctx, &closed); err != nil {
			t.Fatal(err)
		}
		if err := db.Owner.NewRaw(`SELECT count(*) FROM dossiers WHERE tenant_id = ? AND status = 'closed' AND id % 7 = 0
			AND created_at + interval '5 hours' + (id % 50) * interval '1 day 1 hour 7 seconds' < ?`, town, now).Scan(ctx, &reclosed); err != nil {
			t.Fatal(err)
		}
		if requests != filed || heat != filed || filed == 0 {
			t.Errorf("town %d: %d requests and %d in the heat map, %d filed", town, requests, heat, filed)
		}
		if closings != closed+reclosed || closed == 0 || (town == a && reclosed == 0) {
			t.Errorf("town %d: %d closings, want %d closed and %d closed twice", town, closings, closed, reclosed)
		}
		if ratings != 30*scale || entries != 10*scale || f.CitizensTotal != 40*scale || f.Citizens.Total != 40*scale {
			t.Errorf("town %d: %d ratings, %d consultations, %d citizens (%d in period); want %d, %d, %d",
				town, ratings, entries, f.CitizensTotal, f.Citizens.Total, 30*scale, 10*scale, 40*scale)
		}
		if len(f.Overdue) == 0 || len(f.ByOffice) < 2 || len(f.ByChannel) != 3 {
			t.Errorf("town %d: overdue %v, %d offices, %d channels", town, f.Overdue, len(f.ByOffice), len(f.ByChannel))
		}
	}
}

// A town removed takes its totals along, though the cascade also moves
// its dossiers off its removed offices.
func TestTownRemoved(t *testing.T) {
	db := pg.NewDB(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	a, b := newTown(t, db, "alpha"), newTown(t, db, "beta")
	seed(t, db.App, a, 1, now)
	seed(t, db.App, b, 1, now)
	if _, err := db.Owner.ExecContext(ctx, "DELETE FROM tenants WHERE id = ?", b); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"analytics_requests", "analytics_hours", "analytics_transitions", "analytics_due",
		"analytics_consultations", "analytics_ratings", "analytics_citizens"} {
		var left, kept int64
		if err := db.Owner.NewRaw("SELECT count(*) FILTER (WHERE tenant_id = ?), count(*) FILTER (WHERE tenant_id = ?) FROM "+table, b, a).
			Scan(ctx, &left, &kept); err != nil {
			t.Fatal(err)
		}
		if left != 0 || kept == 0 {
			t.Errorf("%s: %d rows of the removed town, %d of the other", table, left, kept)
		}
	}
}

func TestPeriods(t *testing.T) {
	now := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC) // already 2 March in Rome
	p, err := ParsePeriod("", "", now)
	if err != nil || p.To.Format(time.DateOnly) != "2026-03-02" || p.Days() != 90 || p.Weekly() {
		t.Errorf("default period %v..%v (%d days), %v", p.From, p.To, p.Days(), err)
	}
	for _, c := range []struct {
		from, to string
		err      error
	}{
		{"2026-13-01", "", ErrPeriodFormat},
		{"1/2/2026", "", ErrPeriodFormat},
		{"2026-02-01", "2026-01-31", ErrPeriodOrder},
		{"2000-01-01", "2026-01-01", ErrPeriodLength},
	} {
		if _, err := ParsePeriod(c.from, c.to, now); !errors.Is(err, c.err) {
			t.Errorf("ParsePeriod(%q, %q) = %v, want %v", c.from, c.to, err, c.err)
		}
	}
	w, _ := ParsePeriod("2026-01-01", "2026-12-31", now)
	bs := buckets(w)
	if !w.Weekly() || bs[0].Weekday() != time.Monday || bs[0].After(w.From) || len(bs) != 53 {
		t.Errorf("weekly buckets from %v, %d of them", bs[0], len(bs))
	}
}
