// Package smscatcher is the SMS gateway of development and tests: it
// takes the JSON POSTs of notify.HTTPSMS on loopback, keeps the last
// messages in memory and lists them on a page, so that what Sportello
// would text can be read without a phone network.
package smscatcher

import (
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sportello/sportello/core/notify"
	"github.com/sportello/sportello/core/notify/inbox"
)

// SMS is one message the catcher received.
type SMS struct {
	At   time.Time
	From string
	To   string
	Text string
}

// Catcher is a running SMS catcher.
type Catcher struct {
	srv   *http.Server
	ln    net.Listener
	token string
	box   *inbox.Inbox[SMS]
}

// Start listens on addr (use a loopback address). Messages are posted to
// /sms with "Authorization: Bearer token"; / lists them. It keeps the last
// keep messages.
func Start(addr, token string, keep int) (*Catcher, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &Catcher{ln: ln, token: token, box: inbox.New[SMS](keep)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sms", c.receive)
	mux.HandleFunc("GET /{$}", c.list)
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

// URL is where notify.HTTPSMS posts.
func (c *Catcher) URL() string { return "http://" + c.ln.Addr().String() + "/sms" }

// Page is the list of messages received.
func (c *Catcher) Page() string { return "http://" + c.ln.Addr().String() + "/" }

// Close stops the catcher.
func (c *Catcher) Close() error { return c.srv.Close() }

// Messages are the SMS received, oldest first.
func (c *Catcher) Messages() []SMS { return c.box.All() }

// WaitFor returns the first SMS for which match is true, waiting up to
// timeout for it to arrive.
func (c *Catcher) WaitFor(timeout time.Duration, match func(SMS) bool) (SMS, bool) {
	return c.box.WaitFor(timeout, match)
}

// receive checks a message as a gateway would, so that a sender that
// forgets the token or the number fails here and not only in production.
func (c *Catcher) receive(w http.ResponseWriter, r *http.Request) {
	if c.token != "" && r.Header.Get("Authorization") != "Bearer "+c.token {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	var in notify.SMSRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<10)).Decode(&in); err != nil {
		http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	if n, err := notify.NormalizePhone(in.To); err != nil || n != in.To || in.To == "" || strings.TrimSpace(in.Text) == "" {
		http.Error(w, "want a number in international form and a text", http.StatusUnprocessableEntity)
		return
	}
	c.box.Add(SMS{At: time.Now(), From: in.From, To: in.To, Text: in.Text})
	w.WriteHeader(http.StatusAccepted)
}

var page = template.Must(template.New("sms").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SMS catcher</title>
<style>body{font:15px system-ui;margin:2em}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.4em .8em;text-align:left;vertical-align:top}</style></head>
<body><h1>SMS catcher</h1><p>The last SMS Sportello sent, newest first. None of them left this machine.</p>
{{if .}}<table><thead><tr><th>When</th><th>From</th><th>To</th><th>Text</th></tr></thead><tbody>
{{range .}}<tr><td>{{.At.Format "2006-01-02 15:04:05"}}</td><td>{{.From}}</td><td>{{.To}}</td><td>{{.Text}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No messages yet.</p>{{end}}</body></html>`))

// list shows the messages, newest first: HTML, or JSON when asked for.
func (c *Catcher) list(w http.ResponseWriter, r *http.Request) {
	msgs := c.Messages()
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(msgs)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := page.Execute(w, msgs); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
