package timeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/store/pgtest"
	"github.com/sportello/sportello/core/timeline"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

// seed runs statements in a tenant as the owner, each returning an id.
type seed struct {
	t      *testing.T
	db     *pgtest.DB
	tenant int64
}

func (s seed) id(query string, args ...any) int64 {
	s.t.Helper()
	var id int64
	err := s.db.Owner.InTenant(context.Background(), s.tenant, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, query, args...).Scan(&id)
	})
	if err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
	return id
}

// town makes a tenant where citizen "Anna" filed a request (filed, taken,
// answered, with an internal note), booked an appointment, waited for a
// call and was asked to pay; it returns the tenant and Anna's id.
func town(t *testing.T, db *pgtest.DB, slug, marker string) (int64, int64) {
	t.Helper()
	var tenant int64
	if err := db.Owner.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it,de}') RETURNING id", slug, slug).
		Scan(context.Background(), &tenant); err != nil {
		t.Fatal(err)
	}
	s := seed{t, db, tenant}
	anna := s.id(`INSERT INTO citizens (tenant_id, issuer, subject, name, email, fiscal_code, created_at)
		VALUES (?, 'dev', ?, ?, ?, 'RSSNNA80A41F205X', '2026-01-10 09:00+00') RETURNING id`, tenant, "anna-"+slug, "Anna "+marker, "anna@"+slug+".example")
	s.id(`INSERT INTO citizens (tenant_id, issuer, subject, name) VALUES (?, 'dev', ?, 'Bruno Neri') RETURNING id`, tenant, "bruno-"+slug)
	d := s.id(`INSERT INTO dossiers (tenant_id, number, service_id, citizen_id, status, title, channel, created_at)
		VALUES (?, '2026-000001', 'helpdesk', ?, 'submitted', ?, 'web', '2026-03-01 10:00+00') RETURNING id`, tenant, anna, "Buca "+marker)
	for _, ev := range []struct{ status, at, note string }{
		{"submitted", "2026-03-01 10:00+00", ""}, {"in_progress", "2026-03-02 08:00+00", "Preso in carico"}, {"resolved", "2026-03-05 12:00+00", "Riparata"},
	} {
		s.id(`INSERT INTO dossier_events (tenant_id, dossier_id, at, actor, status, note) VALUES (?, ?, ?, 'user:1', ?, ?) RETURNING id`,
			tenant, d, ev.at, ev.status, ev.note)
	}
	s.id(`INSERT INTO dossier_messages (tenant_id, dossier_id, internal, author_kind, body, at)
		VALUES (?, ?, false, 'citizen', 'È ancora lì', '2026-03-03 18:00+00') RETURNING id`, tenant, d)
	s.id(`INSERT INTO dossier_messages (tenant_id, dossier_id, internal, author_kind, body, at)
		VALUES (?, ?, true, 'staff', 'Squadra mandata', '2026-03-04 07:00+00') RETURNING id`, tenant, d)
	desk := s.id(`INSERT INTO booking_resources (tenant_id, kind, slug, name) VALUES (?, 'desk', 'anagrafe', '{"it": "Sportello anagrafe"}') RETURNING id`, tenant)
	topic := s.id(`INSERT INTO appointment_topics (tenant_id, slug, name) VALUES (?, 'cie', '{"it": "Carta d''identità", "de": "Identitätskarte"}') RETURNING id`, tenant)
	b := s.id(`INSERT INTO bookings (tenant_id, resource_id, seat, period, status, code, citizen_id)
		VALUES (?, ?, 1, '[2026-04-01 09:00+00, 2026-04-01 09:15+00)', 'confirmed', 'ABCD2345', ?) RETURNING id`, tenant, desk, anna)
	s.id(`INSERT INTO appointments (tenant_id, booking_id, topic_id, channel) VALUES (?, ?, ?, 'phone') RETURNING booking_id`, tenant, b, topic)
	s.id(`INSERT INTO bookings (tenant_id, resource_id, seat, period, status, code, contact_name, contact_email)
		VALUES (?, ?, 1, '[2026-04-02 09:00+00, 2026-04-02 09:15+00)', 'confirmed', 'ZZZZ2345', 'Carla', 'carla@example.org') RETURNING id`, tenant, desk)
	call := s.id(`INSERT INTO dossiers (tenant_id, number, service_id, citizen_id, status, title, channel, created_at)
		VALUES (?, '2026-000002', 'consultation', ?, 'completed', 'Consulenza', 'consultation', '2026-05-01 10:00+00') RETURNING id`, tenant, anna)
	s.id(`INSERT INTO consultation_entries (tenant_id, desk, dossier_id, citizen_id, mode, topic, status, queued_at, joined_at, taken_at, ended_at, operator_name)
		VALUES (?, 'urp', ?, ?, 'voice', 'Residenza', 'ended', '2026-05-01 10:00+00', '2026-05-01 10:00+00', '2026-05-01 10:05+00', '2026-05-01 10:20+00', 'Marco')
		RETURNING id`, tenant, call, anna)
	s.id(`INSERT INTO payments (tenant_id, service_id, dossier_id, citizen_id, amount_cents, reason, status, iuv, notice_code, created_at)
		VALUES (?, 'helpdesk', ?, ?, 1650, 'Diritti di segreteria', 'payment_pending', '12345678901234567', '312345678901234567', '2026-03-06 09:00+00')
		RETURNING id`, tenant, d, anna)
	s.id(`INSERT INTO notify_prefs (tenant_id, citizen_id, email, email_changed_at, sms, sms_changed_at, phone)
		VALUES (?, ?, true, '2026-02-01 10:00+00', false, '2026-02-02 10:00+00', '+41791234567') RETURNING citizen_id`, tenant, anna)
	return tenant, anna
}

func TestTimeline(t *testing.T) {
	db := pg.NewDB(t)
	ctx := context.Background()
	a, anna := town(t, db, "alfa", "Alfa")
	b, annaB := town(t, db, "beta", "Beta")

	tl, err := timeline.Of(ctx, db.App, a, anna, "de", 100)
	if err != nil {
		t.Fatal(err)
	}
	if tl.Citizen.Name != "Anna Alfa" || tl.Citizen.FiscalCode != "RSSNNA80A41F205X" || tl.More {
		t.Fatalf("citizen %+v more %v", tl.Citizen, tl.More)
	}
	if k := tl.Consents; !k.Known || !k.Email || k.SMS || k.Phone != "+41791234567" || k.EmailAt.UTC().Format("01-02") != "02-01" {
		t.Errorf("consents %+v", k)
	}
	var got []string
	for _, e := range tl.Entries {
		got = append(got, fmt.Sprintf("%s %s %s %s %s %s", e.At.UTC().Format("01-02T15:04"), e.Kind, e.Number, e.Title, e.Status, e.Text))
	}
	// Newest first; the filing is one entry, not also a change of state;
	// the booking is named in the reader's language; someone else's
	// booking at the same desk is not there.
	want := []string{
		"05-01T10:00 filed 2026-000002 Consulenza completed ",
		"05-01T10:00 consultation 2026-000002 urp ended Residenza",
		"04-01T09:00 appointment  Identitätskarte confirmed ABCD2345",
		"03-06T09:00 payment 2026-000001 Diritti di segreteria payment_pending ",
		"03-05T12:00 status 2026-000001 Buca Alfa resolved Riparata",
		"03-04T07:00 message 2026-000001 Buca Alfa  Squadra mandata",
		"03-03T18:00 message 2026-000001 Buca Alfa  È ancora lì",
		"03-02T08:00 status 2026-000001 Buca Alfa in_progress Preso in carico",
		"03-01T10:00 filed 2026-000001 Buca Alfa submitted ",
	}
	// Entries at the same instant may come in either order.
	if strings.Join(sortedSame(got), "\n") != strings.Join(sortedSame(want), "\n") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range tl.Entries {
		switch {
		case e.Kind == timeline.KindMessage && e.Text == "Squadra mandata" && !e.Internal:
			t.Error("the staff's note is not marked internal")
		case e.Kind == timeline.KindAppointment && e.Channel != "phone":
			t.Errorf("the appointment's channel is %q", e.Channel)
		case e.Kind == timeline.KindPayment && (e.AmountCents != 1650 || e.Currency != "EUR"):
			t.Errorf("payment %+v", e)
		case e.Kind == timeline.KindConsultation && (e.Author != "Marco" || e.Channel != "voice" || e.Until.IsZero()):
			t.Errorf("call %+v", e)
		}
	}

	// A limit keeps the newest and says more exist.
	short, err := timeline.Of(ctx, db.App, a, anna, "it", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(short.Entries) != 3 || !short.More || short.Entries[2].Kind != timeline.KindAppointment || short.Entries[2].Title != "Carta d'identità" {
		t.Errorf("limited to 3: %+v more %v", short.Entries, short.More)
	}

	// Another town's citizen is not found through this town, even by id.
	if _, err := timeline.Of(ctx, db.App, a, annaB, "it", 10); !errors.Is(err, timeline.ErrNotFound) {
		t.Errorf("another town's citizen: %v", err)
	}
	bruno := seed{t, db, a}.id(`SELECT id FROM citizens WHERE tenant_id = ? AND name = 'Bruno Neri'`, a)
	if tlBruno, err := timeline.Of(ctx, db.App, a, bruno, "it", 10); err != nil || tlBruno.Consents.Known || len(tlBruno.Entries) != 0 {
		t.Errorf("a citizen with no consents set and nothing done: %+v %v", tlBruno, err)
	}
	if tlB, err := timeline.Of(ctx, db.App, b, annaB, "it", 100); err != nil || len(tlB.Entries) != len(want) || !strings.Contains(tlB.Entries[len(want)-1].Title, "Beta") {
		t.Errorf("the other town's own timeline: %v %v", tlB, err)
	}
}

func TestSearch(t *testing.T) {
	db := pg.NewDB(t)
	ctx := context.Background()
	a, anna := town(t, db, "alfa", "Alfa")
	town(t, db, "beta", "Beta")
	tests := []struct {
		query string
		want  []string
	}{
		{"anna", []string{"Anna Alfa"}},
		{"ALFA.EXAMPLE", []string{"Anna Alfa"}},
		{"rssnna80a41f205x", []string{"Anna Alfa"}},
		{"RSSNNA", nil}, // a fiscal code is matched whole
		{"neri", []string{"Bruno Neri"}},
		{"%", nil}, // wildcards are plain characters
		{"_", nil},
		{"  ", nil},
		{"Beta", nil}, // the other town's Anna
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			found, err := timeline.Search(ctx, db.App, a, tt.query, 20)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, m := range found {
				names = append(names, m.Name)
				if m.ID == anna && m.Requests != 2 {
					t.Errorf("Anna has %d requests, want 2", m.Requests)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Errorf("found %q, want %q", names, tt.want)
			}
		})
	}
}

// sortedSame sorts lines that share their timestamp, leaving the order
// of times as it is.
func sortedSame(lines []string) []string {
	out := append([]string(nil), lines...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j][:11] == out[j-1][:11] && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
