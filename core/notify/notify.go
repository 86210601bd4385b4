// Package notify delivers the outbox: e-mail over SMTP and SMS through a
// provider. Requests only queue messages (Queue, or the Host API's
// Notify), in their own transaction, so that a message exists exactly when
// what it announces does, and a slow mail server never holds up a page.
// The Sender then delivers every due message, retrying with growing pauses
// and giving up after MaxAttempts.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/store"
)

// Channels a message goes by.
const (
	Email = "email"
	SMS   = "sms"
)

// Message is one message to one person.
type Message struct {
	Channel string // Email or SMS
	To      string // an e-mail address, or a phone number in international form
	Subject string
	Body    string // plain text
	// Source is who queued it: a plugin's id, or "core".
	Source      string
	Attachments []Attachment // e-mail only
}

// Attachment is a file sent with an e-mail.
type Attachment struct {
	Name        string // "appuntamento.ics"
	ContentType string // "text/calendar"
	Content     []byte
}

// ErrInvalid is a message that cannot be queued as it is.
var ErrInvalid = errors.New("invalid notification")

var (
	phoneRe       = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	contentTypeRe = regexp.MustCompile(`^[a-z]+/[a-z0-9.+-]+$`)
	sourceRe      = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,39}$`)
)

// Limits of a queued message, as the outbox's columns hold them.
const (
	maxAttachments    = 10
	maxAttachmentSize = 1 << 20
	maxSubject        = 200
)

func (m Message) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
	}
	switch m.Channel {
	case Email:
		if a, err := mail.ParseAddress(m.To); err != nil || a.Address != m.To {
			return bad("to %q: not an e-mail address", m.To)
		}
	case SMS:
		if !phoneRe.MatchString(m.To) {
			return bad("to %q: not a phone number in international form", m.To)
		}
		if len(m.Attachments) > 0 {
			return bad("an SMS has no attachments")
		}
	default:
		return bad("channel %q", m.Channel)
	}
	if strings.ContainsAny(m.Subject, "\r\n") || len([]rune(m.Subject)) > maxSubject {
		return bad("subject: one line of at most %d characters", maxSubject)
	}
	if strings.TrimSpace(m.Body) == "" {
		return bad("the body is empty")
	}
	if !sourceRe.MatchString(m.Source) {
		return bad("source %q", m.Source)
	}
	if len(m.Attachments) > maxAttachments {
		return bad("%d attachments, at most %d", len(m.Attachments), maxAttachments)
	}
	for _, a := range m.Attachments {
		if a.Name == "" || len(a.Name) > 100 || strings.ContainsAny(a.Name, "/\\\r\n") {
			return bad("attachment name %q", a.Name)
		}
		if !contentTypeRe.MatchString(a.ContentType) || len(a.Content) > maxAttachmentSize {
			return bad("attachment %s: type %q, %d bytes", a.Name, a.ContentType, len(a.Content))
		}
	}
	return nil
}

// Queue puts m in the outbox of the tenant tx is bound to (store.InTenant),
// so that it is sent if and only if tx commits.
func Queue(ctx context.Context, tx bun.Tx, tenantID int64, m Message) (int64, error) {
	if err := m.validate(); err != nil {
		return 0, err
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO notifications (tenant_id, plugin_id, channel, recipient, subject, body)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, tenantID, m.Source, m.Channel, m.To, m.Subject, m.Body).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("queue notification: %w", err)
	}
	for i, a := range m.Attachments {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notification_attachments
			(tenant_id, notification_id, position, name, content_type, content) VALUES (?, ?, ?, ?, ?, ?)`,
			tenantID, id, i, a.Name, a.ContentType, a.Content); err != nil {
			return 0, fmt.Errorf("queue notification %d attachment %s: %w", id, a.Name, err)
		}
	}
	return id, nil
}

// Mailer sends one e-mail.
type Mailer interface {
	SendMail(ctx context.Context, from Sender, m Message) error
}

// SMSProvider sends one SMS.
type SMSProvider interface {
	SendSMS(ctx context.Context, from Sender, to, body string) error
}

// Sender is who a message is from: the town.
type Sender struct {
	Name    string // "Comune di Lugano"
	Address string // the deployment's sending address
	ReplyTo string // the town's own address, if it has one
}

// Options configure a Deliverer.
type Options struct {
	Mail Mailer      // nil: e-mails wait in the outbox
	SMS  SMSProvider // nil: SMS wait in the outbox
	// From is the deployment's sending address ("noreply@example.org");
	// each town sends under its own name from it.
	From string
	// MaxAttempts before a message is marked failed; 8 when zero.
	MaxAttempts int
	Now         func() time.Time
	Log         *slog.Logger
}

// Deliverer sends the outbox of every tenant.
type Deliverer struct {
	db *store.DB
	o  Options
}

// NewDeliverer is the outbox's deliverer on db.
func NewDeliverer(db *store.DB, o Options) *Deliverer {
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 8
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.From == "" {
		o.From = "noreply@localhost"
	}
	return &Deliverer{db: db, o: o}
}

// backoff is the pause before attempt n+1: a minute, doubling, at most six
// hours, so that eight attempts span about a day of a mail server's outage.
func backoff(n int) time.Duration {
	d := time.Minute << min(n, 16)
	return min(d, 6*time.Hour)
}

// Deliver sends up to max due messages and reports how many went out and
// how many were given up.
func (d *Deliverer) Deliver(ctx context.Context, max int) (sent, failed int, err error) {
	rows, err := d.db.QueryContext(ctx, `SELECT tenant_id, id FROM notifications_due(?)`, max)
	if err != nil {
		return 0, 0, fmt.Errorf("notifications due: %w", err)
	}
	type ref struct{ tenant, id int64 }
	var due []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.tenant, &r.id); err != nil {
			rows.Close()
			return 0, 0, err
		}
		due = append(due, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	for _, r := range due {
		outcome, err := d.deliverOne(ctx, r.tenant, r.id)
		if err != nil {
			return sent, failed, err
		}
		switch outcome {
		case "sent":
			sent++
		case "failed":
			failed++
		}
	}
	return sent, failed, nil
}

// deliverOne sends one message inside its tenant. The row stays locked
// while it is sent, so that two instances never send it twice; a message
// another instance holds is skipped.
func (d *Deliverer) deliverOne(ctx context.Context, tenantID, id int64) (string, error) {
	outcome := ""
	err := d.db.InTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var m Message
		var attempts int
		var from Sender
		err := tx.QueryRowContext(ctx, `SELECT n.channel, n.recipient, n.subject, n.body, n.plugin_id, n.attempts, t.name
			FROM notifications n JOIN tenants t ON t.id = n.tenant_id
			WHERE n.tenant_id = ? AND n.id = ? AND n.status = 'queued' AND n.next_attempt_at <= now()
			FOR UPDATE OF n SKIP LOCKED`, tenantID, id).
			Scan(&m.Channel, &m.To, &m.Subject, &m.Body, &m.Source, &attempts, &from.Name)
		if err != nil {
			return ignoreNoRows(err)
		}
		from.Address = d.o.From
		rows, err := tx.QueryContext(ctx, `SELECT name, content_type, content FROM notification_attachments
			WHERE tenant_id = ? AND notification_id = ? ORDER BY position`, tenantID, id)
		if err != nil {
			return fmt.Errorf("notification %d attachments: %w", id, err)
		}
		for rows.Next() {
			var a Attachment
			if err := rows.Scan(&a.Name, &a.ContentType, &a.Content); err != nil {
				rows.Close()
				return err
			}
			m.Attachments = append(m.Attachments, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var sendErr error
		switch {
		case m.Channel == Email && d.o.Mail != nil:
			sendErr = d.o.Mail.SendMail(ctx, from, m)
		case m.Channel == SMS && d.o.SMS != nil:
			sendErr = d.o.SMS.SendSMS(ctx, from, m.To, m.Body)
		default:
			return nil // nothing configured to send it by: it waits
		}
		if sendErr == nil {
			outcome = "sent"
			_, err := tx.ExecContext(ctx, `UPDATE notifications SET status = 'sent', sent_at = now(), attempts = attempts + 1,
				last_error = '' WHERE tenant_id = ? AND id = ?`, tenantID, id)
			return err
		}
		attempts++
		d.o.Log.Warn("notification not delivered", "tenant", tenantID, "notification", id, "attempt", attempts, "err", sendErr)
		status := "queued"
		if attempts >= d.o.MaxAttempts {
			status, outcome = "failed", "failed"
		}
		msg := sendErr.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		_, err = tx.ExecContext(ctx, `UPDATE notifications SET status = ?, attempts = ?, last_error = ?,
			next_attempt_at = ? WHERE tenant_id = ? AND id = ?`,
			status, attempts, msg, d.o.Now().Add(backoff(attempts)), tenantID, id)
		return err
	})
	return outcome, err
}

// Run delivers every interval until ctx ends.
func (d *Deliverer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, _, err := d.Deliver(ctx, 200); err != nil && ctx.Err() == nil {
			d.o.Log.Warn("outbox delivery", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
