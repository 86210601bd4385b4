package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// The steps of a ticket (actions of scope dossier). An operator takes it
// in hand, which makes it theirs; the office (anybody in it, not only that
// operator: they share the work) asks the citizen, resolves it with an
// answer, closes and reopens it; the citizen answers a question and
// reopens a resolved ticket within the town's days. Replies are written in
// the reporter's language, answers to the office in the office's.

// step is one transition: the states it starts from and the one it leads to.
type step struct {
	from []string
	to   string
}

var steps = map[string]step{
	"take":           {from: []string{statusOpen, statusWaiting, statusReopened}, to: statusProgress},
	"ask":            {from: []string{statusOpen, statusProgress, statusWaiting, statusReopened}, to: statusWaiting},
	"resolve":        {from: []string{statusOpen, statusProgress, statusWaiting, statusReopened}, to: statusResolved},
	"close":          {from: []string{statusOpen, statusProgress, statusWaiting, statusResolved, statusReopened}, to: statusClosed},
	"reopen":         {from: []string{statusResolved, statusClosed}, to: statusReopened},
	"reopen_request": {from: []string{statusResolved}, to: statusReopened},
	"answer":         {from: []string{statusWaiting}, to: statusProgress},
}

// resolvedKey is the setting that remembers when a ticket was resolved:
// the host keeps no date per status a plugin could read.
func resolvedKey(dossierID int64) string { return "resolved." + strconv.FormatInt(dossierID, 10) }

// ticketFor reads the dossier of a step and checks its state; otherwise
// the response to give instead.
func ticketFor(ctx context.Context, req *sdk.Request, kind string) (*pb.Dossier, ticket, *sdk.Response, error) {
	lang := req.Lang
	if req.Actor.Kind != kind {
		return nil, ticket{}, sdk.Refused(msg.Get(lang, kind+"_only")), nil
	}
	if req.DossierID <= 0 {
		return nil, ticket{}, nil, fmt.Errorf("%s: no dossier in the request", req.Action)
	}
	d, err := req.Host.GetDossier(ctx, req.DossierID)
	if err != nil {
		return nil, ticket{}, nil, fmt.Errorf("read dossier %d: %w", req.DossierID, err)
	}
	st := steps[req.Action]
	if !contains(st.from, current(d)) {
		var from []string
		for _, f := range st.from {
			from = append(from, "«"+msg.Get(lang, "status."+f)+"»")
		}
		return nil, ticket{}, sdk.Refused(msg.Get(lang, "wrong_status", d.GetNumber(), statusLabel(lang, d.GetStatus()),
			list(lang, from))), nil
	}
	t, err := ticketOf(d)
	return d, t, nil, err
}

// current is the dossier's state in the ticket's terms: a ticket filed
// before the workflow existed is open.
func current(d *pb.Dossier) string {
	if d.GetStatus() == statusSubmitted {
		return statusOpen
	}
	return d.GetStatus()
}

func statusLabel(lang, status string) string {
	if label := msg.Get(lang, "status."+status); label != "status."+status {
		return label
	}
	return status
}

// list joins items as a sentence does: "a, b o c".
func list(lang string, items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + msg.Get(lang, "or") + " " + items[len(items)-1]
}

// staffStep is one of the office's steps.
func (s *service) staffStep(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	d, t, refused, err := ticketFor(ctx, req, "staff")
	if refused != nil || err != nil {
		return refused, err
	}
	var form struct {
		Question string `json:"question"`
		Answer   string `json:"answer"`
		Message  string `json:"message"`
		Reason   string `json:"reason"`
	}
	if err := req.Decode(&form); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	lang, to, n := req.Lang, t.Lang, d.GetNumber()
	cfg, err := setupOf(req.Config)
	if err != nil {
		slog.Warn("helpdesk configuration not usable", "tenant", req.TenantSlug, "err", err)
		cfg = &setup{ReopenDays: defaultReopenDays}
	}
	var reply, note, done string
	switch req.Action {
	case "take":
		note, done = msg.Get(lang, "note_taken"), msg.Get(lang, "taken", n)
	case "ask":
		question := strings.TrimSpace(form.Question)
		reply = msg.Get(to, "reply_ask", n, question)
		note, done = msg.Get(lang, "note_asked", question), msg.Get(lang, "asked", n)
	case "resolve":
		answer := strings.TrimSpace(form.Answer)
		reply = msg.Get(to, "reply_resolved", n, answer)
		if cfg.ReopenDays > 0 && d.GetCitizenId() != 0 {
			reply += "\n\n" + msg.Get(to, "reopen_hint", cfg.ReopenDays)
		}
		note, done = msg.Get(lang, "note_resolved"), msg.Get(lang, "resolved", n)
	case "close":
		message := strings.TrimSpace(form.Message)
		if message != "" {
			reply = msg.Get(to, "reply_closed", n, message)
		}
		note, done = strings.TrimSpace(msg.Get(lang, "note_closed")+" "+message), msg.Get(lang, "closed", n)
	case "reopen":
		reason := strings.TrimSpace(form.Reason)
		reply = msg.Get(to, "reply_reopened", n, reason)
		note, done = msg.Get(lang, "note_reopened", reason), msg.Get(lang, "reopened", n)
	}
	// The reply goes first: if it fails nothing has changed and the
	// office can try again; if the status change then fails, trying again
	// repeats the reply, which is better than a step the citizen never
	// hears of.
	if reply != "" {
		if err := s.tell(ctx, req, d, t, reply); err != nil {
			return nil, err
		}
	}
	if req.Action == "take" {
		// As the back office's own "take": the ticket is the operator's
		// who pressed it. First, so that a failure leaves it as it was;
		// pressing again gives it to them once more, which is no change.
		if _, err := req.Host.AssignDossier(ctx, d.GetId(), sdk.Assignment{ToActor: true}); err != nil {
			return nil, fmt.Errorf("assign %s: %w", n, err)
		}
	}
	next := steps[req.Action].to
	if _, err := req.Host.SetDossierStatus(ctx, d.GetId(), next, note); err != nil {
		return nil, fmt.Errorf("set %s %s: %w", n, next, err)
	}
	if next == statusResolved {
		// Without the date a citizen may still reopen the ticket, so a
		// lost date is logged, not reported: the answer is already sent.
		if err := req.Host.PutSetting(ctx, resolvedKey(d.GetId()), s.clock().Unix()); err != nil {
			slog.Warn("resolution date not kept", "request_id", req.RequestID, "dossier", n, "err", err)
		}
	}
	audit(ctx, req, "helpdesk."+req.Action, d, map[string]any{"from": d.GetStatus(), "to": next})
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: done, DossierID: d.GetId(), DossierNumber: n}, nil
}

// tell sends the reporter a public reply on the dossier. A citizen reads
// it in "my requests" and gets it by e-mail from the host; somebody who
// reported without an account has only the address they left.
func (s *service) tell(ctx context.Context, req *sdk.Request, d *pb.Dossier, t ticket, body string) error {
	if _, err := req.Host.AddDossierMessage(ctx, d.GetId(), body, false); err != nil {
		return fmt.Errorf("reply on %s: %w", d.GetNumber(), err)
	}
	if d.GetCitizenId() != 0 || t.ContactEmail == "" {
		return nil
	}
	if _, err := req.Host.Notify(ctx, sdk.Notification{Channel: "email", To: t.ContactEmail,
		Subject: msg.Get(t.Lang, "mail_subject", t.Title, d.GetNumber()), Body: body + "\n\n" + msg.Get(t.Lang, "answer_by_contact")}); err != nil {
		slog.Warn("notification not queued", "request_id", req.RequestID, "dossier", d.GetNumber(), "err", err)
	}
	return nil
}

// citizenStep is the citizen's: reopening a resolved ticket, or answering
// the office's question. The citizen's words go on the dossier as their
// message; the state then moves on.
func (s *service) citizenStep(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	d, _, refused, err := ticketFor(ctx, req, "citizen")
	if refused != nil || err != nil {
		return refused, err
	}
	var form struct {
		Reason string `json:"reason"`
		Answer string `json:"answer"`
	}
	if err := req.Decode(&form); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	lang, n := req.Lang, d.GetNumber()
	var message, note, done, asked string
	switch req.Action {
	case "reopen_request":
		cfg, err := setupOf(req.Config)
		if err != nil {
			slog.Warn("helpdesk configuration not usable", "tenant", req.TenantSlug, "err", err)
			cfg = &setup{ReopenDays: defaultReopenDays}
		}
		if cfg.ReopenDays == 0 {
			return sdk.Refused(msg.Get(lang, "reopen_never")), nil
		}
		var at int64
		found, err := req.Host.GetSetting(ctx, resolvedKey(d.GetId()), &at)
		if err != nil {
			return nil, fmt.Errorf("read when %s was resolved: %w", n, err)
		}
		// A ticket resolved without the plugin (the back office's own
		// status change) has no date: the citizen is given the benefit of
		// the doubt.
		if found {
			resolved := time.Unix(at, 0)
			if s.clock().After(resolved.AddDate(0, 0, cfg.ReopenDays)) {
				return sdk.Refused(msg.Get(lang, "reopen_too_late", n, sdk.Date(lang, resolved), cfg.ReopenDays)), nil
			}
		}
		message = msg.Get(lang, "citizen_reopen", strings.TrimSpace(form.Reason))
		note, done, asked = msg.Get(lang, "note_citizen_reopened"), msg.Get(lang, "reopen_done", n), msg.Get(lang, "reopen_asked", n)
	case "answer":
		message = strings.TrimSpace(form.Answer)
		note, done, asked = msg.Get(lang, "note_citizen_answered"), msg.Get(lang, "answer_done", n), msg.Get(lang, "answer_sent", n)
	}
	if _, err := req.Host.AddDossierMessage(ctx, d.GetId(), message, false); err != nil {
		return nil, fmt.Errorf("message on %s: %w", n, err)
	}
	next := steps[req.Action].to
	_, err = req.Host.SetDossierStatus(ctx, d.GetId(), next, note)
	switch {
	case errors.Is(err, sdk.ErrPermissionDenied):
		// The Host API lets only staff move a dossier on. The citizen's
		// message is on the dossier for the office, which moves it on.
		done = asked
	case err != nil:
		return nil, fmt.Errorf("set %s %s: %w", n, next, err)
	}
	audit(ctx, req, "helpdesk."+req.Action, d, map[string]any{"from": d.GetStatus(), "to": next, "moved": err == nil})
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: done, DossierID: d.GetId(), DossierNumber: n}, nil
}
