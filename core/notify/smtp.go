package notify

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTP sends e-mail through a mail server.
type SMTP struct {
	Host     string
	Port     int
	Username string // "" for no authentication
	Password string
	// TLS is "mandatory" (STARTTLS required, the default), "opportunistic"
	// or "none" (a relay on the same host or network).
	TLS     string
	Timeout time.Duration
}

var _ Mailer = SMTP{}

// ParseSMTP reads a mail server from a URL:
// smtp://user:password@host:587?tls=mandatory.
func ParseSMTP(raw string) (SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return SMTP{}, fmt.Errorf("mail server %q: want smtp://[user:password@]host[:port][?tls=mandatory|opportunistic|none]", raw)
	}
	s := SMTP{Host: u.Hostname(), Port: 587, TLS: u.Query().Get("tls")}
	if p := u.Port(); p != "" {
		if s.Port, err = strconv.Atoi(p); err != nil {
			return SMTP{}, fmt.Errorf("mail server port %q: %w", p, err)
		}
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	switch s.TLS {
	case "":
		s.TLS = "mandatory"
	case "mandatory", "opportunistic", "none":
	default:
		return SMTP{}, fmt.Errorf("mail server tls=%q: want mandatory, opportunistic or none", s.TLS)
	}
	return s, nil
}

// Compose builds the e-mail m from from, as SMTP sends it.
func Compose(from Sender, m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.FromFormat(from.Name, from.Address); err != nil {
		return nil, fmt.Errorf("from %q: %w", from.Address, err)
	}
	if from.ReplyTo != "" {
		if err := msg.ReplyTo(from.ReplyTo); err != nil {
			return nil, fmt.Errorf("reply-to %q: %w", from.ReplyTo, err)
		}
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("to %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	for _, a := range m.Attachments {
		msg.AttachReadSeeker(a.Name, bytes.NewReader(a.Content), gomail.WithFileContentType(gomail.ContentType(a.ContentType)))
	}
	return msg, nil
}

func (s SMTP) SendMail(ctx context.Context, from Sender, m Message) error {
	msg, err := Compose(from, m)
	if err != nil {
		return err
	}
	policy := map[string]gomail.TLSPolicy{"mandatory": gomail.TLSMandatory, "opportunistic": gomail.TLSOpportunistic,
		"none": gomail.NoTLS}[s.TLS]
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithPort(s.Port), gomail.WithTLSPolicy(policy), gomail.WithTimeout(timeout)}
	if s.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(s.Username),
			gomail.WithPassword(s.Password))
	}
	client, err := gomail.NewClient(s.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail client for %s: %w", s.Host, err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send mail via %s:%d: %w", s.Host, s.Port, err)
	}
	return nil
}

// LogSMS is the SMS provider of development: it writes each SMS to the log
// instead of a phone network.
type LogSMS struct{ Log *slog.Logger }

var _ SMSProvider = LogSMS{}

func (l LogSMS) SendSMS(_ context.Context, from Sender, to, body string) error {
	l.Log.Info("sms", "from", from.Name, "to", to, "body", body)
	return nil
}

func ignoreNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}
