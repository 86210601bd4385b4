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

// The office's actions on one booking's dossier (scope dossier): approve
// it (and ask for the payment when the town charges after approval),
// decline it, cancel a booking already made. The dossier follows the
// booking's payment by itself (payment.go). Replies to the booker are
// written in the booker's language, answers to the office in the office's.

// booked is a staff action's dossier with its booking.
type booked struct {
	d   *pb.Dossier
	rec record
	b   *pb.Booking
}

// bookedFor reads the dossier of a staff action and its booking, or the
// response to give instead.
func bookedFor(ctx context.Context, req *sdk.Request) (*booked, *sdk.Response, error) {
	if req.Actor.Kind != "staff" {
		return nil, sdk.Refused(msg.Get(req.Lang, "staff_only")), nil
	}
	return bookedOf(ctx, req)
}

// bookedOf reads the request's dossier and its booking, or the response
// to give instead.
func bookedOf(ctx context.Context, req *sdk.Request) (*booked, *sdk.Response, error) {
	if req.DossierID <= 0 {
		return nil, nil, fmt.Errorf("%s: no dossier in the request", req.Action)
	}
	d, err := req.Host.GetDossier(ctx, req.DossierID)
	if err != nil {
		return nil, nil, fmt.Errorf("read dossier %d: %w", req.DossierID, err)
	}
	var rec record
	if err := json.Unmarshal(d.GetDataJson(), &rec); err != nil || rec.Code == "" {
		return nil, sdk.Refused(msg.Get(req.Lang, "no_booking_here")), nil
	}
	b, err := req.Host.GetBooking(ctx, rec.Code)
	if err != nil {
		return nil, nil, fmt.Errorf("read booking %s of %s: %w", rec.Code, d.GetNumber(), err)
	}
	return &booked{d: d, rec: rec, b: b}, nil, nil
}

// stateOf is where the booking is, for the dossier: the engine's state,
// except that a booking approved and not yet paid for is still waiting
// for its payment.
func stateOf(ctx context.Context, req *sdk.Request, k *booked) (status, label string, err error) {
	switch k.b.GetStatus() {
	case bookingHeld:
		return statusAwaitingPayment, "state.held", nil
	case bookingPending:
		return statusPendingApproval, "state.pending", nil
	case bookingCancelled:
		if k.d.GetStatus() == statusDeclined {
			return statusDeclined, "state.cancelled", nil
		}
		return statusCancelled, "state.cancelled", nil
	case bookingExpired:
		return statusCancelled, "state.expired", nil
	}
	if k.rec.PayAt == payAfterApproval {
		// Not yet asked for (an approval cut short) is unpaid too:
		// approving again asks for it.
		p, err := paymentOf(ctx, req, k.d.GetId())
		if err != nil {
			return "", "", err
		}
		if p == nil || p.GetStatus() != "complete" {
			return statusAwaitingPayment, "state.approved_unpaid", nil
		}
	}
	return statusConfirmed, "state.confirmed", nil
}

// follow moves the dossier to where its booking is, with a note.
func follow(ctx context.Context, req *sdk.Request, k *booked) (label string, err error) {
	status, label, err := stateOf(ctx, req, k)
	if err != nil {
		return "", err
	}
	if status != k.d.GetStatus() {
		note := msg.Get(req.Lang, "status_note", k.rec.Code, msg.Get(req.Lang, label))
		if k.b.GetCancelReason() != "" && (status == statusCancelled || status == statusDeclined) {
			note += " " + k.b.GetCancelReason()
		}
		if _, err := req.Host.SetDossierStatus(ctx, k.d.GetId(), status, note); err != nil {
			return "", fmt.Errorf("set %s %s: %w", k.d.GetNumber(), status, err)
		}
	}
	return label, nil
}

// paymentOf is the payment asked for the dossier, nil if none was.
func paymentOf(ctx context.Context, req *sdk.Request, dossierID int64) (*pb.Payment, error) {
	var id int64
	found, err := req.Host.GetSetting(ctx, paymentKey(dossierID), &id)
	if err != nil {
		return nil, fmt.Errorf("read payment of dossier %d: %w", dossierID, err)
	}
	if !found || id == 0 {
		return nil, nil
	}
	p, err := req.Host.GetPayment(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read payment %d: %w", id, err)
	}
	return p, nil
}

type decisionForm struct {
	Note   string `json:"note"`
	Reason string `json:"reason"`
}

// approve confirms a booking waiting for approval. Where the town charges
// after approval, the booker is asked to pay; the engine cancels the
// booking if that is not paid by the cancellation deadline. Approving
// again after a failure in between goes on from where it stopped.
func (s *service) approve(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	lang := req.Lang
	k, refused, err := bookedFor(ctx, req)
	if refused != nil || err != nil {
		return refused, err
	}
	var v decisionForm
	if err := req.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	switch k.b.GetStatus() {
	case bookingHeld:
		return sdk.Refused(msg.Get(lang, "not_paid_yet", k.rec.Code)), nil
	case bookingCancelled, bookingExpired:
		label, err := follow(ctx, req, k)
		if err != nil {
			return nil, err
		}
		return sdk.Refused(msg.Get(lang, "gone", k.rec.Code, msg.Get(lang, label))), nil
	case bookingConfirmed:
		// Approved already; a dossier the approval did not reach (the
		// host gone in between) is approved again below.
		done := k.d.GetStatus() == statusConfirmed || k.d.GetStatus() == statusAwaitingPayment
		if done && k.rec.PayAt == payAfterApproval {
			p, err := paymentOf(ctx, req, k.d.GetId())
			if err != nil {
				return nil, err
			}
			done = p != nil
		}
		if done {
			label, err := follow(ctx, req, k)
			if err != nil {
				return nil, err
			}
			return sdk.Refused(msg.Get(lang, "already_approved", k.rec.Code, msg.Get(lang, label))), nil
		}
	case bookingPending:
		b, err := req.Host.ApproveBooking(ctx, k.rec.Code)
		if text, ok := sdk.BookingRefusalText(lang, err); ok {
			return sdk.Refused(text), nil
		}
		if err != nil {
			return nil, fmt.Errorf("approve %s: %w", k.rec.Code, err)
		}
		k.b = b
	}
	to := k.rec.Lang
	note := strings.TrimSpace(v.Note)
	res := &sdk.Response{Outcome: sdk.OutcomeOK, DossierID: k.d.GetId(), DossierNumber: k.d.GetNumber()}
	when := sdk.DateTime(to, time.Unix(k.b.GetStartUnix(), 0))
	if k.rec.PayAt == payAfterApproval && k.rec.PriceCents > 0 {
		p, err := paymentOf(ctx, req, k.d.GetId())
		if err != nil {
			return nil, err
		}
		if p == nil {
			// Staff ask the booker to pay: the host makes the booking's
			// citizen the debtor.
			p, err = req.Host.CreatePayment(ctx, sdk.NewPayment{AmountCents: k.rec.PriceCents, Currency: k.rec.Currency,
				Reason: reason(to, k.rec.RoomName, time.Unix(k.b.GetStartUnix(), 0), k.rec.Code), DossierID: k.d.GetId(), BookingID: k.b.GetId()})
			if err != nil {
				return nil, fmt.Errorf("create payment for %s: %w", k.d.GetNumber(), err)
			}
			if err := req.Host.PutSetting(ctx, paymentKey(k.d.GetId()), p.GetId()); err != nil {
				return nil, fmt.Errorf("remember payment of %s: %w", k.d.GetNumber(), err)
			}
		}
		due := payBy(k.b, s.clock())
		reply := msg.Get(to, "reply_approved_pay", k.rec.Code, k.rec.RoomName, when, sdk.Money(to, k.rec.PriceCents, k.rec.Currency),
			sdk.DateTime(to, due), p.GetNoticeCode(), note)
		// The reply before the status: cut short in between, the dossier
		// still waits, and approving again sends what is missing.
		if _, err := req.Host.AddDossierMessage(ctx, k.d.GetId(), strings.TrimSpace(reply), false); err != nil {
			return nil, fmt.Errorf("reply on %s: %w", k.d.GetNumber(), err)
		}
		amount := sdk.Money(lang, k.rec.PriceCents, k.rec.Currency)
		if _, err := req.Host.SetDossierStatus(ctx, k.d.GetId(), statusAwaitingPayment,
			strings.TrimSpace(msg.Get(lang, "status_note", k.rec.Code, msg.Get(lang, "state.approved_unpaid"))+" "+note)); err != nil {
			return nil, fmt.Errorf("set %s awaiting payment: %w", k.d.GetNumber(), err)
		}
		res.Message = msg.Get(lang, "approved_pay", k.rec.Code, amount, sdk.DateTime(lang, due))
	} else {
		reply := msg.Get(to, "reply_approved", k.rec.Code, k.rec.RoomName, when, note)
		if _, err := req.Host.AddDossierMessage(ctx, k.d.GetId(), strings.TrimSpace(reply), false); err != nil {
			return nil, fmt.Errorf("reply on %s: %w", k.d.GetNumber(), err)
		}
		if _, err := req.Host.SetDossierStatus(ctx, k.d.GetId(), statusConfirmed,
			strings.TrimSpace(msg.Get(lang, "status_note", k.rec.Code, msg.Get(lang, "state.confirmed"))+" "+note)); err != nil {
			return nil, fmt.Errorf("confirm %s: %w", k.d.GetNumber(), err)
		}
		res.Message = msg.Get(lang, "approved", k.rec.Code)
	}
	if err := req.Host.Audit(ctx, "roombooking.approve", "dossier:"+k.d.GetNumber(), map[string]any{"booking": k.rec.Code}); err != nil {
		slog.Error("audit not written", "request_id", req.RequestID, "dossier", k.d.GetNumber(), "err", err)
	}
	return res, nil
}

// payBy is when a payment asked after approval falls due: the booking's
// cancellation deadline, or its start once that has passed.
func payBy(b *pb.Booking, now time.Time) time.Time {
	if deadline := time.Unix(b.GetCancelDeadlineUnix(), 0); deadline.After(now) {
		return deadline
	}
	return time.Unix(b.GetStartUnix(), 0)
}

// decide declines a booking waiting for approval or (revoke) cancels one
// already made, with the reason the booker reads.
func (s *service) decide(ctx context.Context, req *sdk.Request, revoke bool) (*sdk.Response, error) {
	lang := req.Lang
	k, refused, err := bookedFor(ctx, req)
	if refused != nil || err != nil {
		return refused, err
	}
	var v decisionForm
	if err := req.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	why := strings.TrimSpace(v.Reason)
	before := k.b.GetStatus()
	if before == bookingCancelled || before == bookingExpired {
		label, err := follow(ctx, req, k)
		if err != nil {
			return nil, err
		}
		return sdk.Refused(msg.Get(lang, "gone", k.rec.Code, msg.Get(lang, label))), nil
	}
	paid, err := wasPaid(ctx, req, k)
	if err != nil {
		return nil, err
	}
	var b *pb.Booking
	if before == bookingPending && !revoke {
		b, err = req.Host.DeclineBooking(ctx, k.rec.Code, why)
	} else {
		// A hold not yet paid, or a booking already confirmed: staff
		// may cancel either at any time.
		b, err = req.Host.CancelBooking(ctx, k.rec.Code, why)
	}
	if text, ok := sdk.BookingRefusalText(lang, err); ok {
		return sdk.Refused(text), nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Action, k.rec.Code, err)
	}
	k.b = b
	to := k.rec.Lang
	when := sdk.DateTime(to, time.Unix(b.GetStartUnix(), 0))
	status, key, replyKey := statusDeclined, "declined", "reply_declined"
	if revoke {
		status, key, replyKey = statusCancelled, "revoked", "reply_revoked"
	}
	reply := msg.Get(to, replyKey, k.rec.Code, k.rec.RoomName, when, why)
	if paid {
		reply += " " + msg.Get(to, "reply_refund")
	}
	if _, err := req.Host.AddDossierMessage(ctx, k.d.GetId(), reply, false); err != nil {
		return nil, fmt.Errorf("reply on %s: %w", k.d.GetNumber(), err)
	}
	if _, err := req.Host.SetDossierStatus(ctx, k.d.GetId(), status,
		msg.Get(lang, "status_note", k.rec.Code, msg.Get(lang, "state.cancelled"))+" "+why); err != nil {
		return nil, fmt.Errorf("set %s %s: %w", k.d.GetNumber(), status, err)
	}
	text := msg.Get(lang, key, k.rec.Code)
	if paid {
		text += " " + msg.Get(lang, "refund_due", sdk.Money(lang, k.rec.PriceCents, k.rec.Currency))
	}
	if err := req.Host.Audit(ctx, "roombooking."+req.Action, "dossier:"+k.d.GetNumber(),
		map[string]any{"booking": k.rec.Code, "paid": paid}); err != nil {
		slog.Error("audit not written", "request_id", req.RequestID, "dossier", k.d.GetNumber(), "err", err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: text, DossierID: k.d.GetId(), DossierNumber: k.d.GetNumber()}, nil
}

// wasPaid reports whether the booker has paid for the booking: a hold
// leaves "held" only when paid; a payment asked after approval says so
// itself.
func wasPaid(ctx context.Context, req *sdk.Request, k *booked) (bool, error) {
	switch k.rec.PayAt {
	case payAtBooking:
		return k.b.GetStatus() != bookingHeld, nil
	case payAfterApproval:
		p, err := paymentOf(ctx, req, k.d.GetId())
		if err != nil {
			return false, err
		}
		return p != nil && p.GetStatus() == "complete", nil
	}
	return false, nil
}
