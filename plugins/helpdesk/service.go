package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// The life of a ticket, as the manifest's statuses list it: open →
// in progress (→ waiting for the citizen → in progress) → resolved →
// closed, and reopened from resolved or closed.
const (
	statusOpen      = "open"
	statusProgress  = "in_progress"
	statusWaiting   = "waiting_citizen"
	statusResolved  = "resolved"
	statusClosed    = "closed"
	statusReopened  = "reopened"
	statusSubmitted = "submitted" // the host's default, of tickets filed before the workflow existed
)

type service struct {
	// now is the clock of the service's rules (deadlines, the days to
	// reopen); nil is time.Now.
	now func() time.Time
}

var _ sdk.Service = (*service)(nil)

func (s *service) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

func (s *service) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	switch req.Action {
	case "report":
		return s.report(ctx, req)
	case "services":
		return s.services(req)
	case "take", "ask", "resolve", "close", "reopen":
		return s.staffStep(ctx, req)
	case "reopen_request", "answer":
		return s.citizenStep(ctx, req)
	}
	return nil, fmt.Errorf("unknown action %q", req.Action)
}

// ticket is what a dossier keeps of a report. The Open311 API reads
// category, description, lat, lon, address, contact_* and channel from it:
// those names are a contract.
type ticket struct {
	Category     string   `json:"category"`
	Kind         string   `json:"kind"`
	Title        string   `json:"title"`
	Description  string   `json:"description"`
	Lat          *float64 `json:"lat,omitempty"`
	Lon          *float64 `json:"lon,omitempty"`
	Address      string   `json:"address,omitempty"`
	Area         string   `json:"area,omitempty"`
	ContactName  string   `json:"contact_name,omitempty"`
	ContactEmail string   `json:"contact_email,omitempty"`
	ContactPhone string   `json:"contact_phone,omitempty"`
	Channel      string   `json:"channel"`
	// Rule is the assignment rule that chose the office, 0 for none.
	Rule int `json:"rule,omitempty"`
	// Suggested are the knowledge base's questions the citizen was
	// shown, so that the office knows what they have already read.
	Suggested   []string `json:"suggested,omitempty"`
	Attachments []int64  `json:"attachments,omitempty"`
	// Lang is the reporter's: replies are written in it.
	Lang string `json:"lang"`
}

func ticketOf(d *pb.Dossier) (ticket, error) {
	var t ticket
	if err := json.Unmarshal(d.GetDataJson(), &t); err != nil {
		return t, fmt.Errorf("data of dossier %s: %w", d.GetNumber(), err)
	}
	if t.Lang == "" {
		t.Lang = "it"
	}
	return t, nil
}

// audit records a step that is done. The dossier's history has it too, so
// a failure here is logged, not reported: the step would be taken again.
func audit(ctx context.Context, req *sdk.Request, action string, d *pb.Dossier, details any) {
	if err := req.Host.Audit(ctx, action, "dossier:"+d.GetNumber(), details); err != nil {
		slog.Warn("audit entry not written", "request_id", req.RequestID, "action", action, "dossier", d.GetNumber(), "err", err)
	}
}

// base is the language of a tag: "de-CH" is "de".
func base(lang string) string {
	l, _, _ := strings.Cut(strings.ToLower(lang), "-")
	return l
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sentence is s trimmed, ending with a full stop if it ends with none.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 0 && !strings.ContainsRune(".!?…", r[len(r)-1]) {
		s += "."
	}
	return s
}
