package notify_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/notify"
	"github.com/sportello/sportello/core/notify/mailcatcher"
	"github.com/sportello/sportello/core/store/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Run(m, &pg) }

var ctx = context.Background()

func tenant(t *testing.T, db *pgtest.DB, slug, name string) int64 {
	t.Helper()
	var id int64
	if err := db.App.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES (?, ?, '{it}') RETURNING id", slug, name).
		Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func queue(t *testing.T, db *pgtest.DB, tenantID int64, m notify.Message) (int64, error) {
	t.Helper()
	var id int64
	err := db.App.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		id, err = notify.Queue(ctx, tx, tenantID, m)
		return err
	})
	return id, err
}

func smtpTo(t *testing.T, addr string) notify.SMTP {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return notify.SMTP{Host: host, Port: p, TLS: "none", Timeout: 5 * time.Second}
}

func TestOutboxIsDeliveredOverSMTP(t *testing.T) {
	db := pg.NewDB(t)
	lugano, trezzo := tenant(t, db, "lugano", "Città di Lugano"), tenant(t, db, "trezzo", "Comune di Trezzo sull'Adda")
	catcher, err := mailcatcher.Start("127.0.0.1:0", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer catcher.Close()
	ics := []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
	if _, err := queue(t, db, lugano, notify.Message{Channel: notify.Email, To: "anna@example.org", Subject: "Il tuo appuntamento",
		Body: "Ti aspettiamo allo sportello.", Source: "core",
		Attachments: []notify.Attachment{{Name: "appuntamento.ics", ContentType: "text/calendar", Content: ics}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := queue(t, db, trezzo, notify.Message{Channel: notify.Email, To: "bruno@example.org", Subject: "Pratica 2026-000001",
		Body: "Risposta dell'ufficio.", Source: "cemetery"}); err != nil {
		t.Fatal(err)
	}
	d := notify.NewDeliverer(db.App, notify.Options{Mail: smtpTo(t, catcher.Addr()), From: "noreply@sportello.test"})
	sent, failed, err := d.Deliver(ctx, 100)
	if err != nil || sent != 2 || failed != 0 {
		t.Fatalf("delivered %d, failed %d, %v", sent, failed, err)
	}
	m, ok := catcher.WaitFor(5*time.Second, func(m notify_mail) bool { return m.Subject == "Il tuo appuntamento" })
	if !ok {
		t.Fatalf("no mail; caught %d", len(catcher.Mails()))
	}
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	if from, err := new(mail.AddressParser).Parse(msg.Header.Get("From")); err != nil || from.Name != "Città di Lugano" ||
		from.Address != "noreply@sportello.test" {
		t.Errorf("from %q (%v): the town's name at the deployment's address", msg.Header.Get("From"), err)
	}
	data := string(m.Data)
	for _, want := range []string{"anna@example.org", "text/calendar", "appuntamento.ics"} {
		if !strings.Contains(data, want) {
			t.Errorf("the mail lacks %q:\n%s", want, data)
		}
	}
	// Sent once: a second round finds nothing due.
	if sent, _, _ := d.Deliver(ctx, 100); sent != 0 {
		t.Fatalf("a second round sent %d again", sent)
	}
	if n := len(catcher.Mails()); n != 2 {
		t.Fatalf("caught %d mails, want 2", n)
	}
}

type notify_mail = mailcatcher.Mail

func TestUndeliverableMailIsRetriedThenGivenUp(t *testing.T) {
	db := pg.NewDB(t)
	tid := tenant(t, db, "lugano", "Città di Lugano")
	id, err := queue(t, db, tid, notify.Message{Channel: notify.Email, To: "anna@example.org", Subject: "x", Body: "y", Source: "core"})
	if err != nil {
		t.Fatal(err)
	}
	// A port where nothing listens.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	d := notify.NewDeliverer(db.App, notify.Options{Mail: smtpTo(t, dead), MaxAttempts: 2,
		Log: slog.New(slog.DiscardHandler)})
	state := func() (string, int, string) {
		var st, last string
		var n int
		if err := db.Owner.NewRaw("SELECT status, attempts, last_error FROM notifications WHERE id = ?", id).
			Scan(ctx, &st, &n, &last); err != nil {
			t.Fatal(err)
		}
		return st, n, last
	}
	if _, failed, err := d.Deliver(ctx, 10); err != nil || failed != 0 {
		t.Fatalf("first attempt: failed %d, %v", failed, err)
	}
	if st, n, last := state(); st != "queued" || n != 1 || last == "" {
		t.Fatalf("after one failure: %s, %d attempts, %q", st, n, last)
	}
	if sent, _, _ := d.Deliver(ctx, 10); sent != 0 {
		t.Fatal("retried before its pause was over")
	}
	if _, err := db.Owner.ExecContext(ctx, "UPDATE notifications SET next_attempt_at = now() WHERE id = ?", id); err != nil {
		t.Fatal(err)
	}
	if _, failed, _ := d.Deliver(ctx, 10); failed != 1 {
		t.Fatal("not given up after the last attempt")
	}
	if st, n, _ := state(); st != "failed" || n != 2 {
		t.Fatalf("given up: %s, %d attempts", st, n)
	}
}

func TestBadMessagesAreNotQueued(t *testing.T) {
	db := pg.NewDB(t)
	tid := tenant(t, db, "lugano", "Città di Lugano")
	good := notify.Message{Channel: notify.Email, To: "anna@example.org", Subject: "Oggetto", Body: "Testo", Source: "core"}
	for _, tc := range []struct {
		name string
		edit func(*notify.Message)
	}{
		{"unknown channel", func(m *notify.Message) { m.Channel = "fax" }},
		{"not an address", func(m *notify.Message) { m.To = "anna" }},
		{"a name with the address", func(m *notify.Message) { m.To = "Anna <anna@example.org>" }},
		{"header injection", func(m *notify.Message) { m.Subject = "ciao\r\nBcc: all@example.org" }},
		{"empty body", func(m *notify.Message) { m.Body = "  " }},
		{"sms to a non-number", func(m *notify.Message) { m.Channel, m.To = notify.SMS, "3331234567" }},
		{"attachment with a path", func(m *notify.Message) {
			m.Attachments = []notify.Attachment{{Name: "../x.ics", ContentType: "text/calendar", Content: []byte("x")}}
		}},
		{"no source", func(m *notify.Message) { m.Source = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := good
			tc.edit(&m)
			if _, err := queue(t, db, tid, m); !errors.Is(err, notify.ErrInvalid) {
				t.Fatalf("queued: %v", err)
			}
		})
	}
	if _, err := queue(t, db, tid, good); err != nil {
		t.Fatal(err)
	}
}

func TestParseSMTP(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want notify.SMTP
		ok   bool
	}{
		{"smtp://mail.example.org", notify.SMTP{Host: "mail.example.org", Port: 587, TLS: "mandatory"}, true},
		{"smtp://u:p%40ss@relay:25?tls=none", notify.SMTP{Host: "relay", Port: 25, Username: "u", Password: "p@ss", TLS: "none"}, true},
		{"http://mail.example.org", notify.SMTP{}, false},
		{"smtp://relay?tls=maybe", notify.SMTP{}, false},
		{"smtp://relay:port", notify.SMTP{}, false},
	} {
		got, err := notify.ParseSMTP(tc.url)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("%s: %+v, %v", tc.url, got, err)
		}
	}
}
