package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/core/notify"
	"github.com/sportello/sportello/core/notify/mailcatcher"
	"github.com/sportello/sportello/core/notify/smscatcher"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/web"
)

// Where the demo's mail catcher listens: SMTP, and a page showing what
// was sent.
const (
	defaultDevSMTPAddr = "127.0.0.1:1025"
	defaultDevMailAddr = "127.0.0.1:8025"
)

// startMail starts delivering the outbox: to the mail server of
// SPORTELLO_SMTP_URL, or with --demo to a mail catcher started here (there
// is no mail relay on a developer's machine). It returns the catcher's
// page ("" without one). Without either, messages wait in the outbox.
func startMail(ctx context.Context, db *store.DB, demo bool, log *slog.Logger) (string, func(), error) {
	opts := notify.Options{From: os.Getenv("SPORTELLO_MAIL_FROM"), SMS: notify.LogSMS{Log: log}, Log: log}
	stop, view := func() {}, ""
	switch raw := os.Getenv("SPORTELLO_SMTP_URL"); {
	case raw != "":
		s, err := notify.ParseSMTP(raw)
		if err != nil {
			return "", nil, err
		}
		opts.Mail = s
	case demo:
		smtpAddr, viewAddr := envOr("SPORTELLO_DEV_SMTP_ADDR", defaultDevSMTPAddr), envOr("SPORTELLO_DEV_MAIL_ADDR", defaultDevMailAddr)
		c, err := mailcatcher.Start(smtpAddr, 500)
		if err != nil {
			return "", nil, fmt.Errorf("%w (set SPORTELLO_DEV_SMTP_ADDR to use another address)", err)
		}
		host, port, _ := net.SplitHostPort(c.Addr())
		p, _ := strconv.Atoi(port)
		opts.Mail = notify.SMTP{Host: host, Port: p, TLS: "none", Timeout: 10 * time.Second}
		hs := &http.Server{Addr: viewAddr, Handler: c.Handler(), ReadHeaderTimeout: 5 * time.Second}
		ln, err := net.Listen("tcp", viewAddr)
		if err != nil {
			c.Close()
			return "", nil, fmt.Errorf("mail catcher page on %s: %w (set SPORTELLO_DEV_MAIL_ADDR to use another address)", viewAddr, err)
		}
		go func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("mail catcher page", "err", err)
			}
		}()
		view = "http://" + ln.Addr().String()
		stop = func() { _ = hs.Close(); _ = c.Close() }
		log.Info("development mail catcher", "smtp", c.Addr(), "page", view)
	default:
		log.Warn("no mail server (SPORTELLO_SMTP_URL): e-mails wait in the outbox")
	}
	stopSMS, smsPage, err := startSMS(demo, &opts, log)
	if err != nil {
		stop()
		return "", nil, err
	}
	if smsPage != "" && view != "" {
		view += ", and the texts (SMS) at " + smsPage
	}
	stopMail := stop
	stop = func() { stopSMS(); stopMail() }
	messages, err := i18n.New(web.LocalesFS())
	if err != nil {
		stop()
		return "", nil, err
	}
	go notify.NewDeliverer(db, opts).Run(ctx, 2*time.Second)
	// Reminders are of tomorrow or of weeks ahead: a few minutes' delay is
	// nothing, and every town is looked at each round.
	go notify.NewReminders(db, notify.ReminderOptions{Catalog: messages, Log: log}).Run(ctx, 5*time.Minute)
	return view, stop, nil
}

// Where the demo's SMS catcher listens: the gateway's POST and its page.
const defaultDevSMSAddr = "127.0.0.1:8026"

// startSMS picks the SMS gateway: SPORTELLO_SMS_URL (with the bearer token
// SPORTELLO_SMS_TOKEN), or with --demo an SMS catcher started here and
// reached over HTTP like a real gateway; otherwise SMS are only logged.
func startSMS(demo bool, opts *notify.Options, log *slog.Logger) (stop func(), page string, err error) {
	if raw := os.Getenv("SPORTELLO_SMS_URL"); raw != "" {
		g, err := notify.ParseSMSURL(raw, os.Getenv("SPORTELLO_SMS_TOKEN"))
		if err != nil {
			return nil, "", err
		}
		opts.SMS = g
		return func() {}, "", nil
	}
	if !demo {
		return func() {}, "", nil // LogSMS, as set by startMail
	}
	token := rand.Text()
	c, err := smscatcher.Start(envOr("SPORTELLO_DEV_SMS_ADDR", defaultDevSMSAddr), token, 500)
	if err != nil {
		return nil, "", fmt.Errorf("SMS catcher: %w (set SPORTELLO_DEV_SMS_ADDR to use another address)", err)
	}
	opts.SMS = notify.HTTPSMS{URL: c.URL(), Token: token, Client: &http.Client{Timeout: 10 * time.Second}}
	log.Info("development SMS catcher", "page", c.Page())
	return func() { _ = c.Close() }, c.Page(), nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
