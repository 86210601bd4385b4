package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// The office's actions on one dossier (scope dossier): approve it (the
// citizen is asked to pay), reject it with a reason, and, once paid, issue
// the concession as a signed deed. Replies to the citizen are written in
// the citizen's language, answers to the office in the office's.

// dossierFor reads the dossier of a staff action and checks its status is
// one of want; otherwise the response to give instead.
func dossierFor(ctx context.Context, req *sdk.Request, want ...string) (*pb.Dossier, concession, *sdk.Response, error) {
	if req.Actor.Kind != "staff" {
		return nil, concession{}, sdk.Refused(msg.Get(req.Lang, "staff_only")), nil
	}
	if req.DossierID <= 0 {
		return nil, concession{}, nil, fmt.Errorf("%s: no dossier in the request", req.Action)
	}
	d, err := req.Host.GetDossier(ctx, req.DossierID)
	if err != nil {
		return nil, concession{}, nil, fmt.Errorf("read dossier %d: %w", req.DossierID, err)
	}
	if !contains(want, d.GetStatus()) {
		return nil, concession{}, sdk.Refused(msg.Get(req.Lang, "wrong_status", d.GetNumber(), msg.Get(req.Lang, "status."+d.GetStatus()))), nil
	}
	c, err := concessionOf(d)
	return d, c, nil, err
}

// paymentKey is the setting that remembers a dossier's payment.
func paymentKey(dossierID int64) string { return "payment." + strconv.FormatInt(dossierID, 10) }

// paymentOf is the payment asked for the dossier, nil if none was.
func paymentOf(ctx context.Context, req *sdk.Request, d *pb.Dossier) (*pb.Payment, error) {
	var id int64
	found, err := req.Host.GetSetting(ctx, paymentKey(d.GetId()), &id)
	if err != nil {
		return nil, fmt.Errorf("read payment of %s: %w", d.GetNumber(), err)
	}
	if !found {
		return nil, nil
	}
	p, err := req.Host.GetPayment(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read payment %d of %s: %w", id, d.GetNumber(), err)
	}
	return p, nil
}

// approve accepts the request: the dossier moves to approved, the
// citizen is asked to pay the fee they were shown (awaiting_payment), or
// to paid when there is nothing to pay, and receives a reply. An approval
// cut short (the host gone between two steps) can be given again: it
// goes on from where it stopped, and asks for one payment only.
func (s *service) approve(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	d, c, refused, err := dossierFor(ctx, req, statusSubmitted, statusApproved)
	if refused != nil || err != nil {
		return refused, err
	}
	var form struct {
		Note string `json:"note"`
	}
	if err := req.Decode(&form); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	note := sentence(form.Note)
	lang, to := req.Lang, c.Lang
	if d.GetStatus() == statusSubmitted {
		if _, err := req.Host.SetDossierStatus(ctx, d.GetId(), statusApproved, strings.TrimSpace(msg.Get(lang, "approved_note", note))); err != nil {
			return nil, fmt.Errorf("approve %s: %w", d.GetNumber(), err)
		}
	}
	res := &sdk.Response{Outcome: sdk.OutcomeOK, DossierID: d.GetId(), DossierNumber: d.GetNumber()}
	if c.FeeCents == 0 {
		reply := msg.Get(to, "reply_free", d.GetNumber(), note)
		if _, err := req.Host.AddDossierMessage(ctx, d.GetId(), strings.TrimSpace(reply), false); err != nil {
			return nil, fmt.Errorf("reply on %s: %w", d.GetNumber(), err)
		}
		if _, err := req.Host.SetDossierStatus(ctx, d.GetId(), statusPaid, msg.Get(lang, "nothing_due")); err != nil {
			return nil, fmt.Errorf("set %s paid: %w", d.GetNumber(), err)
		}
		res.Message = msg.Get(lang, "approved_free", d.GetNumber())
	} else {
		p, err := paymentOf(ctx, req, d)
		if err != nil {
			return nil, err
		}
		if p == nil {
			place := msg.Get(to, "place."+c.Place)
			if p, err = req.Host.CreatePayment(ctx, sdk.NewPayment{AmountCents: c.FeeCents, Currency: c.Currency, DossierID: d.GetId(),
				Reason: msg.Get(to, "reason", place, c.Years, d.GetNumber())}); err != nil {
				return nil, fmt.Errorf("create payment for %s: %w", d.GetNumber(), err)
			}
			if err := req.Host.PutSetting(ctx, paymentKey(d.GetId()), p.GetId()); err != nil {
				return nil, fmt.Errorf("remember payment of %s: %w", d.GetNumber(), err)
			}
		}
		// The reply before the status: cut short in between, the dossier
		// is still approved, and approving it again sends what is missing.
		reply := msg.Get(to, "reply_pay", d.GetNumber(), sdk.Money(to, c.FeeCents, c.Currency), p.GetNoticeCode(), note)
		if _, err := req.Host.AddDossierMessage(ctx, d.GetId(), strings.TrimSpace(reply), false); err != nil {
			return nil, fmt.Errorf("reply on %s: %w", d.GetNumber(), err)
		}
		amount := sdk.Money(lang, c.FeeCents, c.Currency)
		if _, err := req.Host.SetDossierStatus(ctx, d.GetId(), statusAwaiting,
			msg.Get(lang, "payment_note", p.GetNoticeCode(), amount)); err != nil {
			return nil, fmt.Errorf("set %s awaiting payment: %w", d.GetNumber(), err)
		}
		res.Message = msg.Get(lang, "approved_pay", d.GetNumber(), amount, p.GetNoticeCode())
	}
	audit(ctx, req, "cemetery.approve", d, map[string]any{"fee_cents": c.FeeCents})
	return res, nil
}

// reject turns the request down with a reason the citizen receives.
func (s *service) reject(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	d, c, refused, err := dossierFor(ctx, req, statusSubmitted)
	if refused != nil || err != nil {
		return refused, err
	}
	var form struct {
		Reason string `json:"reason"`
	}
	if err := req.Decode(&form); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	reason := sentence(form.Reason)
	// The reply goes first: if it fails nothing has changed and the
	// office can try again; if the status change then fails, trying again
	// repeats the reply, which is better than a decision the citizen
	// never hears of.
	if _, err := req.Host.AddDossierMessage(ctx, d.GetId(), msg.Get(c.Lang, "reply_rejected", d.GetNumber(), reason), false); err != nil {
		return nil, fmt.Errorf("reply on %s: %w", d.GetNumber(), err)
	}
	if _, err := req.Host.SetDossierStatus(ctx, d.GetId(), statusRejected, reason); err != nil {
		return nil, fmt.Errorf("reject %s: %w", d.GetNumber(), err)
	}
	audit(ctx, req, "cemetery.reject", d, nil)
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: msg.Get(req.Lang, "rejected", d.GetNumber()),
		DossierID: d.GetId(), DossierNumber: d.GetNumber()}, nil
}

// issue grants the concession once it is paid: the deed, in the citizen's
// language, is made here and signed by the host with the town's
// certificate, then kept on the dossier for the citizen to download.
func (s *service) issue(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	d, c, refused, err := dossierFor(ctx, req, statusAwaiting, statusPaid)
	if refused != nil || err != nil {
		return refused, err
	}
	var form struct {
		AssignedPlace string `json:"assigned_place"`
		StartDate     string `json:"start_date"`
	}
	if err := req.Decode(&form); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	lang := req.Lang
	start := s.today()
	if form.StartDate != "" {
		start, _ = time.ParseInLocation(time.DateOnly, form.StartDate, sdk.Zone)
	}
	if submitted, err := time.ParseInLocation(time.DateOnly, c.Submitted, sdk.Zone); err == nil && start.Before(submitted) {
		return sdk.Invalid("/start_date", msg.Get(lang, "start_before", sdk.Date(lang, submitted))), nil
	}

	var p *pb.Payment
	if c.FeeCents > 0 {
		if p, err = paymentOf(ctx, req, d); err != nil {
			return nil, err
		}
		switch {
		case p == nil:
			return sdk.Refused(msg.Get(lang, "no_payment", d.GetNumber())), nil
		case p.GetStatus() != "complete":
			return sdk.Refused(msg.Get(lang, "not_paid", d.GetNumber(), p.GetStatus())), nil
		}
	}
	if d.GetStatus() == statusAwaiting {
		if _, err := req.Host.SetDossierStatus(ctx, d.GetId(), statusPaid, msg.Get(lang, "paid_note", p.GetNoticeCode())); err != nil {
			return nil, fmt.Errorf("set %s paid: %w", d.GetNumber(), err)
		}
	}

	cfg, err := decodeConfig(req)
	if err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	// The last day is the day before the anniversary: 30 years from
	// 7 June 2026 end on 6 June 2056.
	end := start.AddDate(c.Years, 0, -1)
	assigned := strings.TrimSpace(form.AssignedPlace)
	pdf, err := deed(deedData{concession: c, Number: d.GetNumber(), Heading: cfg.DeedHeading, Assigned: assigned,
		Start: start, End: end, Issued: s.clock(), Payment: p})
	if err != nil {
		return nil, fmt.Errorf("deed of %s: %w", d.GetNumber(), err)
	}
	name := msg.Get(c.Lang, "deed.file", d.GetNumber())
	if _, err := req.Host.IssueDocument(ctx, sdk.NewDocument{DossierID: d.GetId(), Name: name, PDF: pdf, Sign: true}); err != nil {
		return nil, fmt.Errorf("issue the deed of %s: %w", d.GetNumber(), err)
	}
	if _, err := req.Host.SetDossierStatus(ctx, d.GetId(), statusIssued,
		msg.Get(lang, "issued_note", assigned, sdk.Date(lang, start), sdk.Date(lang, end))); err != nil {
		return nil, fmt.Errorf("set %s issued: %w", d.GetNumber(), err)
	}
	to := c.Lang
	reply := msg.Get(to, "reply_issued", d.GetNumber(), c.Cemetery, assigned, sdk.Date(to, start), sdk.Date(to, end))
	if _, err := req.Host.AddDossierMessage(ctx, d.GetId(), reply, false); err != nil {
		return nil, fmt.Errorf("reply on %s: %w", d.GetNumber(), err)
	}
	audit(ctx, req, "cemetery.issue", d,
		map[string]any{"assigned_place": assigned, "start": start.Format(time.DateOnly), "end": end.Format(time.DateOnly)})
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: msg.Get(lang, "issued", d.GetNumber(), name),
		DossierID: d.GetId(), DossierNumber: d.GetNumber()}, nil
}

// audit records a step that is done. The dossier's history has it too, so
// a failure here is logged, not reported: the office would take the step
// again and, say, reply twice.
func audit(ctx context.Context, req *sdk.Request, action string, d *pb.Dossier, details any) {
	if err := req.Host.Audit(ctx, action, "dossier:"+d.GetNumber(), details); err != nil {
		slog.Warn("audit entry not written", "request_id", req.RequestID, "action", action, "dossier", d.GetNumber(), "err", err)
	}
}

// sentence is s trimmed, ending with a full stop if it ends with none, to
// sit inside a message followed by another sentence.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !strings.ContainsRune(".!?…", []rune(s)[len([]rune(s))-1]) {
		s += "."
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
