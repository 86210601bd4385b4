// Package mailcatcher is the SMTP server of development and tests: it
// accepts every message on loopback, keeps the last ones in memory and
// shows them over HTTP, so that what Sportello sends can be read without
// a mail relay (there is none on a developer's machine).
package mailcatcher

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sportello/sportello/core/notify/inbox"
)

// Mail is one message the catcher received.
type Mail struct {
	At      time.Time
	From    string
	To      []string
	Subject string // decoded
	Data    []byte // the message as sent, headers and body
}

// Catcher is a running SMTP catcher.
type Catcher struct {
	srv *smtp.Server
	ln  net.Listener
	box *inbox.Inbox[Mail]
}

// Start listens for SMTP on addr (use a loopback address) and keeps the
// last keep messages.
func Start(addr string, keep int) (*Catcher, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mail catcher on %s: %w", addr, err)
	}
	c := &Catcher{ln: ln, box: inbox.New[Mail](keep)}
	c.srv = smtp.NewServer(c)
	c.srv.Domain = "localhost"
	c.srv.AllowInsecureAuth = true
	c.srv.MaxMessageBytes = 20 << 20
	c.srv.ReadTimeout = time.Minute
	c.srv.WriteTimeout = time.Minute
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

// Addr is where the catcher listens, host:port.
func (c *Catcher) Addr() string { return c.ln.Addr().String() }

// Close stops the catcher.
func (c *Catcher) Close() error { return c.srv.Close() }

// Mails are the messages received, oldest first.
func (c *Catcher) Mails() []Mail { return c.box.All() }

// WaitFor returns the first message for which match is true, waiting up
// to timeout for it to arrive.
func (c *Catcher) WaitFor(timeout time.Duration, match func(Mail) bool) (Mail, bool) {
	return c.box.WaitFor(timeout, match)
}

func (c *Catcher) add(m Mail) { c.box.Add(m) }

// NewSession is go-smtp's Backend.
func (c *Catcher) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{c: c}, nil }

type session struct {
	c    *Catcher
	from string
	to   []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = append(s.to, to); return nil }
func (s *session) Reset()                                      { s.from, s.to = "", nil }
func (s *session) Logout() error                               { return nil }

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Mail{At: time.Now(), From: s.from, To: append([]string(nil), s.to...), Data: data}
	if msg, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
		dec := new(mime.WordDecoder)
		if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
			m.Subject = subj
		}
	}
	s.c.add(m)
	return nil
}

var page = template.Must(template.New("mail").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mail catcher</title>
<style>body{font:15px system-ui;margin:2em}pre{background:#f4f4f4;padding:1em;white-space:pre-wrap}</style></head>
<body><h1>Mail catcher</h1><p>The last messages Sportello sent, newest first. Nothing here left this machine.</p>
{{range .}}<details><summary>{{.At.Format "2006-01-02 15:04:05"}} — {{.Subject}} — to {{range .To}}{{.}} {{end}}</summary>
<pre>{{printf "%s" .Data}}</pre></details>{{else}}<p>No messages yet.</p>{{end}}</body></html>`))

// Handler shows the messages: HTML, or JSON when asked for.
func (c *Catcher) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mails := c.Mails()
		for i, j := 0, len(mails)-1; i < j; i, j = i+1, j-1 {
			mails[i], mails[j] = mails[j], mails[i]
		}
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(mails)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.Execute(w, mails); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}
