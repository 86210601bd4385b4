package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sportello/sportello/plugins/sdk"
)

// payment hears, from the host, the outcome of the fee the approval asked
// for. Paid: the dossier moves on to paid, ready for the deed, and the
// citizen is told what comes next; a failed attempt or an expired notice:
// the citizen is told what to do. Nobody in the office has to look. A
// payment cancelled by the office is the office's to explain.
func (s *service) payment(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	ev, err := req.PaymentEvent()
	if errors.Is(err, sdk.ErrNotEvent) {
		return sdk.Refused(msg.Get(req.Lang, "staff_only")), nil
	}
	if err != nil {
		return nil, err
	}

	d, err := req.Host.GetDossier(ctx, req.DossierID)
	if err != nil {
		return nil, fmt.Errorf("read dossier %d: %w", req.DossierID, err)
	}
	c, err := concessionOf(d)
	if err != nil {
		return nil, err
	}
	// Only the fee this dossier is waiting for moves it: an older
	// payment of the dossier, or one it no longer waits for, does not.
	p, err := paymentOf(ctx, req, d)
	if err != nil {
		return nil, err
	}
	if p == nil || p.GetId() != ev.PaymentID {
		return sdk.Refused(msg.Get(req.Lang, "not_this_payment", ev.PaymentID, d.GetNumber())), nil
	}
	res := &sdk.Response{Outcome: sdk.OutcomeOK, DossierID: d.GetId(), DossierNumber: d.GetNumber()}
	waiting := d.GetStatus() == statusAwaiting || d.GetStatus() == statusApproved
	if !waiting {
		// Already paid (the office issued the deed first, say), or
		// rejected meanwhile: nothing to move, nothing to tell.
		res.Message = msg.Get(req.Lang, "payment_noted", ev.PaymentID, d.GetNumber())
		return res, nil
	}
	to := c.Lang
	var reply string
	switch ev.Status {
	case sdk.PaymentComplete:
		// The status first: it is what the office works from, and the
		// citizen's page shows it at once.
		if _, err := req.Host.SetDossierStatus(ctx, d.GetId(), statusPaid, msg.Get(req.Lang, "paid_note", p.GetNoticeCode())); err != nil {
			return nil, fmt.Errorf("set %s paid: %w", d.GetNumber(), err)
		}
		reply = msg.Get(to, "reply_paid", d.GetNumber(), sdk.Money(to, ev.AmountCents, c.Currency))
		audit(ctx, req, "cemetery.paid", d, map[string]any{"payment_id": ev.PaymentID, "amount_cents": ev.AmountCents})
	case sdk.PaymentFailed:
		reply = msg.Get(to, "reply_payment_failed", d.GetNumber(), p.GetNoticeCode())
	case sdk.PaymentExpired:
		reply = msg.Get(to, "reply_payment_expired", d.GetNumber(), p.GetNoticeCode())
	default:
		res.Message = msg.Get(req.Lang, "payment_noted", ev.PaymentID, d.GetNumber())
		return res, nil
	}
	if _, err := req.Host.AddDossierMessage(ctx, d.GetId(), strings.TrimSpace(reply), false); err != nil {
		return nil, fmt.Errorf("reply on %s: %w", d.GetNumber(), err)
	}
	res.Message = msg.Get(req.Lang, "payment_noted", ev.PaymentID, d.GetNumber())
	return res, nil
}
