package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
)

// payment hears, from the host, the outcome of a booking's payment, and
// brings the dossier in line with the booking as the engine left it: paid
// and confirmed, paid and waiting for the office's approval, or released
// because it was not paid in time. The booker is told what it means for
// them; a payment the office cancelled is the office's to explain.
func (s *service) payment(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	ev, err := req.PaymentEvent()
	if errors.Is(err, sdk.ErrNotEvent) {
		return sdk.Refused(msg.Get(req.Lang, "staff_only")), nil
	}
	if err != nil {
		return nil, err
	}

	k, refused, err := bookedOf(ctx, req)
	if refused != nil || err != nil {
		return refused, err
	}
	// The host sends only this service's payments of this dossier; one
	// the dossier no longer waits for (asked again) moves nothing. A
	// booking whose link to its payment was lost still follows it.
	p, err := paymentOf(ctx, req, k.d.GetId())
	if err != nil {
		return nil, err
	}
	if p != nil && p.GetId() != ev.PaymentID {
		return sdk.Refused(msg.Get(req.Lang, "not_this_payment", ev.PaymentID, k.d.GetNumber())), nil
	}
	before := k.d.GetStatus()
	status, _, err := stateOf(ctx, req, k)
	if err != nil {
		return nil, err
	}
	label, err := follow(ctx, req, k)
	if err != nil {
		return nil, err
	}

	to := k.rec.Lang
	if to == "" {
		to = "it"
	}
	start := time.Unix(k.b.GetStartUnix(), 0)
	when := sdk.DateTime(to, start)
	var reply string
	switch ev.Status {
	case sdk.PaymentComplete:
		// Told once the dossier has moved on (the office was quicker)
		// there is nothing new to say.
		if before != statusAwaitingPayment {
			break
		}
		amount := sdk.Money(to, ev.AmountCents, k.rec.Currency)
		switch status {
		case statusConfirmed:
			reply = msg.Get(to, "reply_paid_confirmed", amount, k.rec.Code, k.rec.RoomName, when)
		case statusPendingApproval:
			reply = msg.Get(to, "reply_paid_pending", amount, k.rec.Code, k.rec.RoomName, when)
		}
	case sdk.PaymentFailed:
		if status == statusAwaitingPayment {
			due := payBy(k.b, s.clock())
			if k.b.GetStatus() == bookingHeld && k.b.GetExpiresUnix() > 0 {
				due = time.Unix(k.b.GetExpiresUnix(), 0)
			}
			notice := ""
			if p != nil {
				notice = p.GetNoticeCode()
			}
			reply = msg.Get(to, "reply_payment_failed", k.rec.Code, notice, sdk.DateTime(to, due))
		}
	case sdk.PaymentExpired:
		if before != status && status == statusCancelled {
			reply = msg.Get(to, "reply_payment_expired", k.rec.Code, k.rec.RoomName, when)
		}
	}
	if reply != "" {
		if _, err := req.Host.AddDossierMessage(ctx, k.d.GetId(), reply, false); err != nil {
			return nil, fmt.Errorf("reply on %s: %w", k.d.GetNumber(), err)
		}
	}
	if err := req.Host.Audit(ctx, "roombooking.payment", "dossier:"+k.d.GetNumber(),
		map[string]any{"booking": k.rec.Code, "payment_id": ev.PaymentID, "payment_status": ev.Status, "status": status}); err != nil {
		slog.Error("audit not written", "request_id", req.RequestID, "dossier", k.d.GetNumber(), "err", err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, DossierID: k.d.GetId(), DossierNumber: k.d.GetNumber(),
		Message: msg.Get(req.Lang, "payment_followed", k.rec.Code, msg.Get(req.Lang, label))}, nil
}
