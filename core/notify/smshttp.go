package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// HTTPSMS sends SMS through a gateway that takes one JSON POST per
// message:
//
//	POST {URL}
//	Authorization: Bearer {Token}
//	{"from": "Comune di Lugano", "to": "+41791234567", "text": "…"}
//
// Any 2xx answer is a message accepted; anything else is an error the
// Deliverer retries. Most SMS gateways take this shape directly or behind a
// small adapter, which is why no vendor's own protocol is built in.
type HTTPSMS struct {
	URL    string
	Token  string
	Client *http.Client // nil: a client with a 30-second timeout
}

var _ SMSProvider = HTTPSMS{}

// SMSRequest is the body HTTPSMS posts.
type SMSRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
	Text string `json:"text"`
}

// ParseSMSURL checks a gateway's address: http(s), with a host. Plain
// http is for a gateway on the same host (the development catcher).
func ParseSMSURL(raw, token string) (HTTPSMS, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return HTTPSMS{}, fmt.Errorf("SMS gateway %q: want https://host/path", raw)
	}
	if u.User != nil {
		return HTTPSMS{}, fmt.Errorf("SMS gateway %q: give the token apart (SPORTELLO_SMS_TOKEN), not in the URL", u.Redacted())
	}
	return HTTPSMS{URL: raw, Token: token}, nil
}

func (h HTTPSMS) SendSMS(ctx context.Context, from Sender, to, body string) error {
	payload, err := json.Marshal(SMSRequest{From: from.Name, To: to, Text: body})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("SMS gateway request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	client := h.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("SMS gateway: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("SMS gateway answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
