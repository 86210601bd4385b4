package notify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/notify"
	"github.com/sportello/sportello/core/notify/mailcatcher"
	"github.com/sportello/sportello/core/notify/smscatcher"
	"github.com/sportello/sportello/core/store/pgtest"
	"github.com/sportello/sportello/web"
)

func catalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.New(web.LocalesFS())
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// in runs fn in tenant tid, failing the test on error.
func in(t *testing.T, db *pgtest.DB, tid int64, fn func(ctx context.Context, tx bun.Tx) error) {
	t.Helper()
	if err := db.App.InTenant(ctx, tid, fn); err != nil {
		t.Fatal(err)
	}
}

func scalar(t *testing.T, tx bun.Tx, dest any, query string, args ...any) {
	t.Helper()
	if err := tx.QueryRowContext(ctx, query, args...).Scan(dest); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func town(t *testing.T, db *pgtest.DB, slug, name string, langs string) int64 {
	t.Helper()
	var id int64
	if err := db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, ?::text[]) RETURNING id", slug, name, langs).
		Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func citizen(t *testing.T, db *pgtest.DB, tid int64, name, email, fc string) int64 {
	t.Helper()
	var id int64
	in(t, db, tid, func(ctx context.Context, tx bun.Tx) error {
		scalar(t, tx, &id, `INSERT INTO citizens (tenant_id, issuer, subject, name, email, fiscal_code) VALUES (?, 'dev', ?, ?, ?, ?)
			RETURNING id`, tid, strings.ToLower(fc), name, email, fc)
		return nil
	})
	return id
}

func consent(t *testing.T, db *pgtest.DB, tid, cid int64, email, sms bool, phone, lang string) {
	t.Helper()
	in(t, db, tid, func(ctx context.Context, tx bun.Tx) error {
		_, err := notify.SavePrefs(ctx, tx, tid, cid, email, sms, phone, lang)
		return err
	})
}

// desk is an office that takes appointments, with one topic.
type desk struct{ topic, resource int64 }

func newDesk(t *testing.T, db *pgtest.DB, tid int64) desk {
	t.Helper()
	var d desk
	in(t, db, tid, func(ctx context.Context, tx bun.Tx) error {
		var office int64
		scalar(t, tx, &office, `INSERT INTO offices (tenant_id, slug, name, address) VALUES (?, 'anagrafe',
			'{"it": "Anagrafe", "de": "Einwohnerkontrolle"}', 'Piazza Municipio 1') RETURNING id`, tid)
		scalar(t, tx, &d.topic, `INSERT INTO appointment_topics (tenant_id, slug, name) VALUES (?, 'cie',
			'{"it": "Carta d''identità", "de": "Identitätskarte"}') RETURNING id`, tid)
		scalar(t, tx, &d.resource, `INSERT INTO booking_resources (tenant_id, kind, slug, name, office_id, capacity)
			VALUES (?, 'desk', 'anagrafe-sportelli', '{"it": "Sportelli"}', ?, 5) RETURNING id`, tid, office)
		_, err := tx.ExecContext(ctx, `INSERT INTO appointment_offices (tenant_id, office_id, resource_id) VALUES (?, ?, ?)`,
			tid, office, d.resource)
		return err
	})
	return d
}

// bookingCode is the n-th code of the form bookings take.
func bookingCode(n int) string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := []byte("REMD")
	for range 4 {
		b = append(b, alphabet[n%len(alphabet)])
		n /= len(alphabet)
	}
	return string(b)
}

var booked = 0

func appointment(t *testing.T, db *pgtest.DB, tid int64, d desk, cid int64, seat int, start time.Time) string {
	t.Helper()
	booked++
	code := bookingCode(booked)
	in(t, db, tid, func(ctx context.Context, tx bun.Tx) error {
		var booking int64
		scalar(t, tx, &booking, `INSERT INTO bookings (tenant_id, resource_id, seat, period, status, code, citizen_id)
			VALUES (?, ?, ?, tstzrange(?, ?), 'confirmed', ?, ?) RETURNING id`,
			tid, d.resource, seat, start, start.Add(30*time.Minute), code, cid)
		_, err := tx.ExecContext(ctx, `INSERT INTO appointments (tenant_id, booking_id, topic_id) VALUES (?, ?, ?)`, tid, booking, d.topic)
		return err
	})
	return code
}

var numbers = 0

func dossier(t *testing.T, db *pgtest.DB, tid, cid int64, status, title string, submitted, statusAt time.Time) {
	t.Helper()
	numbers++
	in(t, db, tid, func(ctx context.Context, tx bun.Tx) error {
		var id int64
		scalar(t, tx, &id, `INSERT INTO dossiers (tenant_id, number, service_id, citizen_id, status, title, submitted_at, created_at)
			VALUES (?, ?, 'courses', ?, ?, ?, ?, ?) RETURNING id`,
			tid, fmt.Sprintf("2026-%06d", numbers), cid, status, title, submitted, submitted)
		_, err := tx.ExecContext(ctx, `INSERT INTO dossier_events (tenant_id, dossier_id, at, actor, kind, status)
			VALUES (?, ?, ?, 'system', 'status', ?)`, tid, id, statusAt, status)
		return err
	})
}

// Reminders go to each citizen by the channels they consented to, in
// their language, with the town's own texts where it has them; each is
// queued once however often (and however concurrently) the job runs, and
// the outbox then reaches a real SMTP server and a real HTTP SMS gateway.
func TestRemindersAreQueuedOnceByConsentedChannels(t *testing.T) {
	db := pg.NewDB(t)
	cat := catalog(t)
	numbers = 0
	lugano := town(t, db, "lugano", "Città di Lugano", "{it,de}")
	trezzo := town(t, db, "trezzo", "Comune di Trezzo", "{it}")

	anna := citizen(t, db, lugano, "Anna Keller", "anna@example.org", "RSSMRA85T10A562S")
	bruno := citizen(t, db, lugano, "Bruno Sala", "bruno@example.org", "MRTMTT25D09F205Z")
	carla := citizen(t, db, lugano, "Carla Neri", "carla@example.org", "RSSMRA80A01H501U")
	dora := citizen(t, db, trezzo, "Dora Villa", "dora@example.org", "BNCGLI85M41F205B")
	consent(t, db, lugano, anna, true, true, "+41 79 123 45 67", "de")
	// Carla gave a number but chose e-mail only: it must never be texted.
	consent(t, db, lugano, carla, true, false, "+39 333 765 4321", "it")
	consent(t, db, trezzo, dora, true, false, "", "it")
	// Bruno never chose anything: he gets no reminder at all.

	now := time.Now()
	rome, _ := time.LoadLocation("Europe/Rome")
	day := now.In(rome).AddDate(0, 0, 1)
	tomorrow := time.Date(day.Year(), day.Month(), day.Day(), 9, 30, 0, 0, rome)
	dl, dt := newDesk(t, db, lugano), newDesk(t, db, trezzo)
	annaCode := appointment(t, db, lugano, dl, anna, 1, tomorrow)
	appointment(t, db, lugano, dl, bruno, 2, tomorrow)
	appointment(t, db, lugano, dl, carla, 3, tomorrow)
	appointment(t, db, lugano, dl, anna, 1, tomorrow.AddDate(0, 0, 1)) // the day after: not yet
	appointment(t, db, trezzo, dt, dora, 1, tomorrow)

	cards := "fiscal_code,expires_on,email\n" +
		"RSSMRA85T10A562S," + now.AddDate(0, 0, 30).Format(time.DateOnly) + ",\n" +
		"RSSMRA80A01H501U," + now.AddDate(0, 0, 20).Format(time.DateOnly) + ",\n" +
		"MRTMTT25D09F205Z," + now.AddDate(0, 0, 10).Format(time.DateOnly) + ",bruno@example.org\n" +
		"VRDNNA72T55L736I," + now.AddDate(0, 0, 10).Format(time.DateOnly) + ",nobody@example.org\n"
	parsed, err := notify.ParseIDCards(strings.NewReader(cards))
	if err != nil {
		t.Fatal(err)
	}
	in(t, db, lugano, func(ctx context.Context, tx bun.Tx) error {
		_, err := notify.ImportIDCards(ctx, tx, lugano, parsed)
		return err
	})

	dossier(t, db, lugano, anna, "submitted", "Corso di inglese A1", now.Add(-time.Hour), now.Add(-time.Hour))
	dossier(t, db, lugano, anna, "enrolled", "Corso di ceramica", now.AddDate(0, 0, -5), now.Add(-2*time.Hour))
	dossier(t, db, lugano, anna, "submitted", "Richiesta vecchia", now.AddDate(0, 0, -10), now.AddDate(0, 0, -10))
	dossier(t, db, lugano, bruno, "submitted", "Corso di yoga", now.Add(-time.Hour), now.Add(-time.Hour))
	dossier(t, db, lugano, carla, "enrolled", "Centro estivo", now.AddDate(0, 0, -3), now.Add(-time.Hour))

	// The town words its appointment reminder in German; Trezzo has its
	// own Italian one, which Lugano's Italian speakers must not get.
	in(t, db, lugano, func(ctx context.Context, tx bun.Tx) error {
		return notify.SetTemplate(ctx, tx, lugano, notify.Override{Kind: notify.KindAppointmentTomorrow, Lang: "de",
			Texts: notify.Texts{Subject: "Morgen: {{.Topic}} um {{.When}}", Body: "Hallo {{.Name}}, bis morgen. {{.Town}}",
				SMS: "Termin morgen, Code {{.Code}}"}})
	})
	in(t, db, trezzo, func(ctx context.Context, tx bun.Tx) error {
		return notify.SetTemplate(ctx, tx, trezzo, notify.Override{Kind: notify.KindAppointmentTomorrow, Lang: "it",
			Texts: notify.Texts{Subject: "Trezzo ti aspetta domani", Body: "Ciao {{.Name}}, a domani ({{.When}})."}})
	})

	r := notify.NewReminders(db.App, notify.ReminderOptions{Catalog: cat, Now: func() time.Time { return now }})
	// Two instances at once: every reminder is claimed by exactly one.
	var wg sync.WaitGroup
	counts := make([]int, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { counts[i], errs[i] = r.RunOnce(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// Anna: appointment, card, request received, enrolment; Carla:
	// appointment, card; Dora: appointment.
	if got := counts[0] + counts[1]; got != 7 {
		t.Fatalf("queued %d + %d reminders, want 7", counts[0], counts[1])
	}
	if n, err := r.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("a second run queued %d (%v)", n, err)
	}

	type sent struct{ channel, to, subject, body string }
	outbox := func(tid int64) []sent {
		var out []sent
		in(t, db, tid, func(ctx context.Context, tx bun.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT channel, recipient, subject, body FROM notifications ORDER BY id`)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var s sent
				if err := rows.Scan(&s.channel, &s.to, &s.subject, &s.body); err != nil {
					return err
				}
				out = append(out, s)
			}
			return rows.Err()
		})
		return out
	}
	count := func(list []sent, match func(sent) bool) int {
		n := 0
		for _, s := range list {
			if match(s) {
				n++
			}
		}
		return n
	}
	lb := outbox(lugano)
	if n := len(lb); n != 8 {
		t.Errorf("Lugano's outbox has %d messages, want 8: %+v", n, lb)
	}
	if n := count(lb, func(s sent) bool { return s.channel == notify.SMS }); n != 4 {
		t.Errorf("%d SMS, want Anna's 4: %+v", n, lb)
	}
	if n := count(lb, func(s sent) bool { return s.channel == notify.SMS && s.to != "+41791234567" }); n != 0 {
		t.Errorf("an SMS to someone who did not consent: %+v", lb)
	}
	if n := count(lb, func(s sent) bool { return strings.Contains(s.to, "bruno") }); n != 0 {
		t.Errorf("Bruno consented to nothing and got: %+v", lb)
	}
	if n := count(lb, func(s sent) bool { return s.to == "anna@example.org" }); n != 2 {
		t.Errorf("Anna got %d e-mails, want 2 (appointment, card; the request's receipt and the enrolment went from their services): %+v", n, lb)
	}
	want := []func(sent) bool{
		func(s sent) bool {
			return s.to == "anna@example.org" && strings.HasPrefix(s.subject, "Morgen: Identitätskarte um ") && s.body == "Hallo Anna Keller, bis morgen. Città di Lugano"
		},
		func(s sent) bool { return s.channel == notify.SMS && s.body == "Termin morgen, Code "+annaCode },
		func(s sent) bool {
			return s.to == "anna@example.org" && strings.HasPrefix(s.subject, "Ihre Identitätskarte läuft am ")
		},
		func(s sent) bool {
			return s.channel == notify.SMS && strings.Contains(s.body, "Gesuch 2026-000001 (Corso di inglese A1)")
		},
		func(s sent) bool {
			return s.channel == notify.SMS && strings.Contains(s.body, "Anmeldung bestätigt (Corso di ceramica")
		},
		func(s sent) bool {
			return s.to == "carla@example.org" && strings.HasPrefix(s.subject, "Promemoria: appuntamento domani") &&
				strings.Contains(s.body, "Carta d'identità") && strings.Contains(s.body, "Anagrafe, Piazza Municipio 1")
		},
		func(s sent) bool {
			return s.to == "carla@example.org" && strings.HasPrefix(s.subject, "La tua carta d'identità scade il ")
		},
	}
	for i, w := range want {
		if count(lb, w) != 1 {
			t.Errorf("message %d missing from Lugano's outbox: %+v", i, lb)
		}
	}
	tb := outbox(trezzo)
	if len(tb) != 1 || tb[0].subject != "Trezzo ti aspetta domani" || !strings.HasPrefix(tb[0].body, "Ciao Dora Villa, a domani (") {
		t.Errorf("Trezzo's outbox: %+v", tb)
	}

	// Anna withdraws SMS consent: her next request gets no SMS, and stays
	// unclaimed should she consent again while it is recent.
	consent(t, db, lugano, anna, true, false, "+41791234567", "de")
	dossier(t, db, lugano, anna, "submitted", "Corso di yoga", now.Add(-time.Minute), now.Add(-time.Minute))
	if n, err := r.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("after withdrawal: %d queued (%v)", n, err)
	}
	if n := len(outbox(lugano)); n != 8 {
		t.Fatalf("after withdrawal Lugano's outbox has %d messages", n)
	}

	// Delivery: over SMTP to the mail catcher, over HTTP to the SMS one.
	mails, err := mailcatcher.Start("127.0.0.1:0", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer mails.Close()
	texts, err := smscatcher.Start("127.0.0.1:0", "s3cret", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer texts.Close()
	d := notify.NewDeliverer(db.App, notify.Options{Mail: smtpTo(t, mails.Addr()),
		SMS: notify.HTTPSMS{URL: texts.URL(), Token: "s3cret"}, From: "noreply@sportello.test"})
	if sent, failed, err := d.Deliver(ctx, 100); err != nil || sent != 9 || failed != 0 {
		t.Fatalf("delivered %d, failed %d, %v", sent, failed, err)
	}
	if _, ok := mails.WaitFor(5*time.Second, func(m mailcatcher.Mail) bool {
		return strings.HasPrefix(m.Subject, "Morgen: Identitätskarte") && m.To[0] == "anna@example.org"
	}); !ok {
		t.Errorf("Anna's reminder not caught; caught %d mails", len(mails.Mails()))
	}
	if n := len(mails.Mails()); n != 5 {
		t.Errorf("caught %d mails, want 5", n)
	}
	got := texts.Messages()
	if len(got) != 4 {
		t.Fatalf("caught %d SMS, want 4: %+v", len(got), got)
	}
	for _, m := range got {
		if m.To != "+41791234567" || m.From != "Città di Lugano" {
			t.Errorf("SMS %+v: to Anna's number, from the town", m)
		}
	}
}

// A gateway that refuses the token leaves the SMS queued for another try,
// with the gateway's answer recorded.
func TestRefusedSMSIsRetried(t *testing.T) {
	db := pg.NewDB(t)
	tid := tenant(t, db, "lugano", "Città di Lugano")
	texts, err := smscatcher.Start("127.0.0.1:0", "right", 10)
	if err != nil {
		t.Fatal(err)
	}
	defer texts.Close()
	id, err := queue(t, db, tid, notify.Message{Channel: notify.SMS, To: "+41791234567", Body: "Ciao", Source: "core"})
	if err != nil {
		t.Fatal(err)
	}
	d := notify.NewDeliverer(db.App, notify.Options{SMS: notify.HTTPSMS{URL: texts.URL(), Token: "wrong"}})
	if sent, _, err := d.Deliver(ctx, 10); err != nil || sent != 0 {
		t.Fatalf("sent %d, %v", sent, err)
	}
	var status, last string
	if err := db.Owner.NewRaw("SELECT status, last_error FROM notifications WHERE id = ?", id).Scan(ctx, &status, &last); err != nil {
		t.Fatal(err)
	}
	if status != "queued" || !strings.Contains(last, "401") || len(texts.Messages()) != 0 {
		t.Fatalf("after a refusal: %s %q, %d caught", status, last, len(texts.Messages()))
	}
	if _, err := notify.ParseSMSURL("https://user:pw@sms.example/send", ""); err == nil {
		t.Error("a token inside the URL was accepted")
	}
	if _, err := notify.ParseSMSURL("ftp://sms.example/send", "t"); err == nil {
		t.Error("an ftp gateway was accepted")
	}
}

// A citizen's number is kept in international form; a number without
// its country code, or with letters, is refused, and so is SMS without a
// number. Consent dates move only when consent changes.
func TestPrefsValidateAndDateConsent(t *testing.T) {
	for raw, want := range map[string]string{
		"+39 333 123 4567": "+393331234567", "0041 79 123 45 67": "+41791234567", "+39 (0)2 1234-5678": "+39212345678",
		"+49.170.1234567": "+491701234567", "": "",
	} {
		if got, err := notify.NormalizePhone(raw); err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{"333 123 4567", "+39 333 ABC", "+0 333 1234567", "+39 12", "+39 333 1234567 890123", "3331234567"} {
		if got, err := notify.NormalizePhone(raw); err == nil {
			t.Errorf("NormalizePhone(%q) = %q, want an error", raw, got)
		}
	}
	db := pg.NewDB(t)
	tid := tenant(t, db, "lugano", "Città di Lugano")
	cid := citizen(t, db, tid, "Anna", "anna@example.org", "RSSMRA85T10A562S")
	save := func(email, sms bool, phone string) (notify.Prefs, error) {
		var p notify.Prefs
		err := db.App.InTenant(ctx, tid, func(ctx context.Context, tx bun.Tx) error {
			var err error
			p, err = notify.SavePrefs(ctx, tx, tid, cid, email, sms, phone, "it")
			return err
		})
		return p, err
	}
	var pe *notify.PrefsError
	if _, err := save(false, true, ""); !errors.As(err, &pe) || pe.Field != "phone" || pe.Code != "required" {
		t.Fatalf("SMS without a number: %v", err)
	}
	if _, err := save(true, false, "333 1234567"); !errors.As(err, &pe) || pe.Code != "invalid" {
		t.Fatalf("a number without country code: %v", err)
	}
	first, err := save(true, true, "+39 333 1234567")
	if err != nil || first.Phone != "+393331234567" || !first.Email || !first.SMS {
		t.Fatalf("saved %+v, %v", first, err)
	}
	// Clock between the two saves: now() of a new transaction moves on.
	time.Sleep(10 * time.Millisecond)
	second, err := save(true, false, "+39 333 1234567")
	if err != nil {
		t.Fatal(err)
	}
	if !second.EmailChangedAt.Equal(first.EmailChangedAt) || !second.SMSChangedAt.After(first.SMSChangedAt) || second.SMS {
		t.Errorf("e-mail kept (%v → %v), SMS withdrawn (%v → %v)", first.EmailChangedAt, second.EmailChangedAt,
			first.SMSChangedAt, second.SMSChangedAt)
	}
}

// A town's text with a placeholder its kind lacks, a subject on two
// lines or an unknown kind is refused when stored; a reset brings the
// default back.
func TestTemplateOverridesAreCheckedAndReset(t *testing.T) {
	db := pg.NewDB(t)
	cat := catalog(t)
	tid := tenant(t, db, "lugano", "Città di Lugano")
	bad := []notify.Override{
		{Kind: notify.KindIDCardExpiring, Lang: "it", Texts: notify.Texts{Subject: "Scade {{.When}}", Body: "x"}},
		{Kind: notify.KindIDCardExpiring, Lang: "it", Texts: notify.Texts{Subject: "Scade {{if}}", Body: "x"}},
		{Kind: notify.KindIDCardExpiring, Lang: "ita", Texts: notify.Texts{Subject: "Scade", Body: "x"}},
		{Kind: "birthday", Lang: "it", Texts: notify.Texts{Subject: "Auguri", Body: "x"}},
		{Kind: notify.KindIDCardExpiring, Lang: "it", Texts: notify.Texts{Subject: "Scade\n{{.Expiry}}", Body: "x"}},
		{Kind: notify.KindIDCardExpiring, Lang: "it", Texts: notify.Texts{Subject: "Scade", Body: " "}},
	}
	for _, o := range bad {
		err := db.App.InTenant(ctx, tid, func(ctx context.Context, tx bun.Tx) error { return notify.SetTemplate(ctx, tx, tid, o) })
		var te *notify.TemplateError
		if !errors.As(err, &te) {
			t.Errorf("%+v: stored (%v)", o, err)
		}
	}
	data := map[string]any{"Name": "Anna", "Town": "Lugano", "Expiry": "31 gennaio 2027"}
	render := func(lang string) notify.Texts {
		var out notify.Texts
		in(t, db, tid, func(ctx context.Context, tx bun.Tx) error {
			var err error
			out, err = notify.Render(ctx, tx, cat, tid, notify.KindIDCardExpiring, lang, data)
			return err
		})
		return out
	}
	in(t, db, tid, func(ctx context.Context, tx bun.Tx) error {
		return notify.SetTemplate(ctx, tx, tid, notify.Override{Kind: notify.KindIDCardExpiring, Lang: "it",
			Texts: notify.Texts{Subject: "{{.Town}}: carta in scadenza ({{.Expiry}})", Body: "Cara {{.Name}}, rinnova."}})
	})
	if got := render("it"); got.Subject != "Lugano: carta in scadenza (31 gennaio 2027)" || got.Body != "Cara Anna, rinnova." ||
		got.SMS != "Lugano: la tua carta d'identità scade il 31 gennaio 2027. Prenota il rinnovo sul portale del comune." {
		t.Errorf("overridden in Italian: %+v", got)
	}
	if got := render("en"); got.Subject != "Your identity card expires on 31 gennaio 2027" {
		t.Errorf("English keeps the default: %+v", got)
	}
	in(t, db, tid, func(ctx context.Context, tx bun.Tx) error {
		_, err := notify.ResetTemplate(ctx, tx, tid, notify.KindIDCardExpiring, "it")
		return err
	})
	if got := render("it"); got.Subject != "La tua carta d'identità scade il 31 gennaio 2027" {
		t.Errorf("after reset: %+v", got)
	}
}

// An import reports every bad line and imports nothing then; a good file
// imported twice changes nothing the second time; a renewed card's new
// date replaces the old.
func TestIDCardImport(t *testing.T) {
	_, err := notify.ParseIDCards(strings.NewReader("fiscal_code,expires_on,email,phone\n" +
		"RSSMRA85T10A562X,2027-01-31,,\n" +
		"RSSMRA80A01H501U,31.01.2027,,\n" +
		"MRTMTT25D09F205Z,2027-01-31,not-an-address,\n" +
		"BNCGLI85M41F205B,2027-01-31,,333 1234\n" +
		"RSSMRA80A01H501U,2027-01-31,,\n"))
	var rows notify.RowErrors
	if !errors.As(err, &rows) || len(rows) != 5 {
		t.Fatalf("want 5 bad lines, got %v", err)
	}
	for i, want := range []struct {
		line  int
		field string
	}{{2, "fiscal_code"}, {3, "expires_on"}, {4, "email"}, {5, "phone"}, {6, "fiscal_code"}} {
		if rows[i].Line != want.line || rows[i].Field != want.field {
			t.Errorf("error %d: %+v, want line %d %s", i, rows[i], want.line, want.field)
		}
	}
	if _, err := notify.ParseIDCards(strings.NewReader("codice,scadenza\nX,Y\n")); !errors.As(err, &rows) {
		t.Errorf("unknown columns: %v", err)
	}

	db := pg.NewDB(t)
	tid := tenant(t, db, "lugano", "Città di Lugano")
	load := func(file string) notify.ImportResult {
		cards, err := notify.ParseIDCards(strings.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		var res notify.ImportResult
		in(t, db, tid, func(ctx context.Context, tx bun.Tx) error {
			res, err = notify.ImportIDCards(ctx, tx, tid, cards)
			return err
		})
		return res
	}
	// A spreadsheet saved with semicolons and Italian dates.
	file := "fiscal_code;expires_on;phone\nrssmra85t10a562s;31/01/2027;+41 79 123 45 67\n756.1234.5678.97;2027-03-01;\n"
	if res := load(file); res != (notify.ImportResult{Added: 2}) {
		t.Errorf("first import: %+v", res)
	}
	if res := load(file); res != (notify.ImportResult{Unchanged: 2}) {
		t.Errorf("second import: %+v", res)
	}
	if res := load("fiscal_code,expires_on\nRSSMRA85T10A562S,2037-01-31\n"); res != (notify.ImportResult{Updated: 1}) {
		t.Errorf("renewal: %+v", res)
	}
	var expires, phone string
	in(t, db, tid, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT to_char(expires_on, 'YYYY-MM-DD'), phone FROM id_card_expiries WHERE fiscal_code = 'RSSMRA85T10A562S'`).
			Scan(&expires, &phone)
	})
	if expires != "2037-01-31" || phone != "" {
		t.Errorf("after renewal: %s %q", expires, phone)
	}
}
