package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
)

// notifyCounterparties records that the office told counter-interested
// parties of a request: their time to object and, for generalised access,
// the suspended deadline. The applicant is told both.
func (s *service) notifyCounterparties(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	lang := req.Lang
	var form struct {
		SentOn     string `json:"sent_on"`
		ReceivedOn string `json:"received_on"`
		Count      int    `json:"count"`
		Note       string `json:"note"`
	}
	if err := req.Decode(&form); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	d, rd, refused, err := staffDossier(ctx, req)
	if refused != nil || err != nil {
		return refused, err
	}
	k := kinds[rd.Type]
	if !k.counterparties {
		return sdk.Refused(msg.Get(lang, "no_counterparties", msg.Get(lang, "kind."+rd.Type))), nil
	}
	if d.GetStatus() == statusCounterparts {
		return sdk.Refused(msg.Get(lang, "already_notified", d.GetNumber())), nil
	}
	today := endOfDay(s.clock())
	submitted := time.Unix(d.GetCreatedUnix(), 0)
	sent, err1 := time.ParseInLocation(time.DateOnly, form.SentOn, sdk.Zone)
	received := sent
	var err2 error
	if form.ReceivedOn != "" {
		received, err2 = time.ParseInLocation(time.DateOnly, form.ReceivedOn, sdk.Zone)
	}
	var errs []sdk.FieldError
	switch {
	case err1 != nil:
		errs = append(errs, sdk.FieldError{Field: "/sent_on", Message: msg.Get(lang, "date.bad")})
	case sent.After(today):
		errs = append(errs, sdk.FieldError{Field: "/sent_on", Message: msg.Get(lang, "date.future")})
	case days(submitted, sent) < 0:
		errs = append(errs, sdk.FieldError{Field: "/sent_on", Message: msg.Get(lang, "date.before_request", on(lang, submitted))})
	}
	switch {
	case err2 != nil:
		errs = append(errs, sdk.FieldError{Field: "/received_on", Message: msg.Get(lang, "date.bad")})
	case received.After(today):
		errs = append(errs, sdk.FieldError{Field: "/received_on", Message: msg.Get(lang, "date.future")})
	case err1 == nil && received.Before(sent):
		errs = append(errs, sdk.FieldError{Field: "/received_on", Message: msg.Get(lang, "date.before_sent")})
	}
	if len(errs) > 0 {
		return &sdk.Response{Outcome: sdk.OutcomeInvalid, Errors: errs}, nil
	}

	cs, err := readCase(ctx, req.Host, d.GetId())
	if err != nil {
		return nil, err
	}
	due := time.Unix(rd.Due, 0)
	if rd.Due == 0 {
		due = deadline(submitted, k)
	}
	opposition := received.AddDate(0, 0, oppositionDays)
	cs.Counterparties, cs.SentOn, cs.ReceivedOn = form.Count, sent.Format(time.DateOnly), received.Format(time.DateOnly)
	cs.OppositionEnds = opposition.Format(time.DateOnly)
	to := rd.Lang
	reply := msg.Get(to, "counterparties.runs", d.GetNumber(), on(to, opposition), on(to, due))
	if k.suspends {
		latest := suspended(due, sent, received)
		cs.LatestDue = latest.Unix()
		reply = msg.Get(to, "counterparties.suspends", d.GetNumber(), on(to, opposition), on(to, latest))
	}

	if _, err := req.Host.AddDossierMessage(ctx, d.GetId(), reply, false); err != nil {
		return nil, fmt.Errorf("reply on %s: %w", d.GetNumber(), err)
	}
	if note := strings.TrimSpace(form.Note); note != "" {
		if _, err := req.Host.AddDossierMessage(ctx, d.GetId(), note, true); err != nil {
			return nil, fmt.Errorf("note on %s: %w", d.GetNumber(), err)
		}
	}
	history := msg.Get(lang, "counterparties.history", form.Count, on(lang, sent), on(lang, opposition))
	if _, err := req.Host.SetDossierStatus(ctx, d.GetId(), statusCounterparts, history); err != nil {
		return nil, fmt.Errorf("set %s %s: %w", d.GetNumber(), statusCounterparts, err)
	}
	if err := req.Host.PutSetting(ctx, caseKey(d.GetId()), cs); err != nil {
		return nil, fmt.Errorf("record the notice on %s: %w", d.GetNumber(), err)
	}
	if cs.LatestDue != 0 {
		// The office's queue sorts and warns by the dossier's deadline.
		if _, err := req.Host.SetDossierDue(ctx, d.GetId(), time.Unix(cs.LatestDue, 0)); err != nil {
			return nil, fmt.Errorf("move the deadline of %s: %w", d.GetNumber(), err)
		}
	}
	if err := req.Host.Audit(ctx, "recordsaccess.counterparties", "dossier:"+d.GetNumber(),
		map[string]any{"count": form.Count, "sent_on": cs.SentOn, "received_on": cs.ReceivedOn}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	latest := due
	if cs.LatestDue != 0 {
		latest = time.Unix(cs.LatestDue, 0)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, DossierID: d.GetId(), DossierNumber: d.GetNumber(),
		Message: msg.Get(lang, "counterparties.done", d.GetNumber(), on(lang, opposition), on(lang, latest))}, nil
}

// decide records the office's decision and sends it to the applicant, with
// the reasons the law wants for anything less than a full grant and the
// remedies against it.
func (s *service) decide(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	lang := req.Lang
	var form struct {
		Outcome        string   `json:"outcome"`
		Reasons        string   `json:"reasons"`
		Grounds        []string `json:"grounds"`
		RegisterObject string   `json:"register_object"`
	}
	if err := req.Decode(&form); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	d, rd, refused, err := staffDossier(ctx, req)
	if refused != nil || err != nil {
		return refused, err
	}
	reasons := strings.TrimSpace(form.Reasons)
	if form.Outcome != statusGranted && reasons == "" {
		return sdk.Invalid("/reasons", msg.Get(lang, "need.reasons")), nil
	}
	if form.Outcome == statusGranted {
		form.Grounds = nil // nothing was refused
	}
	cs, err := readCase(ctx, req.Host, d.GetId())
	if err != nil {
		return nil, err
	}
	now := s.clock()
	cs.Outcome, cs.DecidedUnix, cs.Grounds = form.Outcome, now.Unix(), form.Grounds
	if o := strings.TrimSpace(form.RegisterObject); o != "" {
		cs.RegisterObject = o
	}

	reply := outcomeMessage(rd, d.GetNumber(), form.Outcome, reasons)
	if _, err := req.Host.AddDossierMessage(ctx, d.GetId(), reply, false); err != nil {
		return nil, fmt.Errorf("reply on %s: %w", d.GetNumber(), err)
	}
	if _, err := req.Host.SetDossierStatus(ctx, d.GetId(), form.Outcome, reasons); err != nil {
		return nil, fmt.Errorf("set %s %s: %w", d.GetNumber(), form.Outcome, err)
	}
	if err := req.Host.PutSetting(ctx, caseKey(d.GetId()), cs); err != nil {
		return nil, fmt.Errorf("record the decision on %s: %w", d.GetNumber(), err)
	}
	// The host tells the citizen of the reply; the e-mail carries the
	// decision itself to the address the applicant gave for it.
	if rd.Email != "" {
		_, err = req.Host.Notify(ctx, sdk.Notification{Channel: "email", To: rd.Email,
			Subject: msg.Get(rd.Lang, "outcome_subject", d.GetNumber()), Body: reply})
		logNotified(req, err)
	}
	if err := req.Host.Audit(ctx, "recordsaccess.decide", "dossier:"+d.GetNumber(),
		map[string]any{"outcome": form.Outcome, "grounds": form.Grounds}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, DossierID: d.GetId(), DossierNumber: d.GetNumber(),
		Message: msg.Get(lang, "decided", d.GetNumber(), msg.Get(lang, "status."+form.Outcome))}, nil
}

// outcomeMessage is the decision as the applicant reads it, in their
// language: the outcome, the reasons, how to have the records, and what
// to do against anything less than a full grant.
func outcomeMessage(rd requestData, number, outcome, reasons string) string {
	to := rd.Lang
	parts := []string{msg.Get(to, "outcome."+outcome, msg.Get(to, "kind."+rd.Type), number)}
	if reasons != "" {
		key := "outcome.reasons"
		if outcome == statusGranted {
			key = "outcome.directions"
		}
		parts = append(parts, msg.Get(to, key, sentence(reasons)))
	}
	if outcome != statusRefused {
		parts = append(parts, msg.Get(to, "delivery."+rd.Delivery, rd.Email, rd.OfficeName))
	}
	if outcome != statusGranted {
		remedy := "remedy.civic"
		if rd.Type == "documentary" {
			remedy = "remedy.documentary"
		}
		parts = append(parts, msg.Get(to, remedy))
	}
	return strings.Join(parts, " ")
}

// withdraw records that the applicant gave the request up, as they may at
// any time before the decision; the register keeps it, closed.
func (s *service) withdraw(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	d, rd, refused, err := staffDossier(ctx, req)
	if refused != nil || err != nil {
		return refused, err
	}
	cs, err := readCase(ctx, req.Host, d.GetId())
	if err != nil {
		return nil, err
	}
	cs.Outcome, cs.DecidedUnix = statusWithdrawn, s.clock().Unix()
	if _, err := req.Host.AddDossierMessage(ctx, d.GetId(), msg.Get(rd.Lang, "withdrawn", d.GetNumber()), false); err != nil {
		return nil, fmt.Errorf("reply on %s: %w", d.GetNumber(), err)
	}
	if _, err := req.Host.SetDossierStatus(ctx, d.GetId(), statusWithdrawn, ""); err != nil {
		return nil, fmt.Errorf("set %s %s: %w", d.GetNumber(), statusWithdrawn, err)
	}
	if err := req.Host.PutSetting(ctx, caseKey(d.GetId()), cs); err != nil {
		return nil, fmt.Errorf("record the withdrawal of %s: %w", d.GetNumber(), err)
	}
	if err := req.Host.Audit(ctx, "recordsaccess.withdraw", "dossier:"+d.GetNumber(), nil); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, DossierID: d.GetId(), DossierNumber: d.GetNumber(),
		Message: msg.Get(req.Lang, "decided", d.GetNumber(), msg.Get(req.Lang, "status."+statusWithdrawn))}, nil
}
