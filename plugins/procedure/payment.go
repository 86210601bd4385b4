package procedure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sportello/sportello/plugins/sdk"
)

// payment hears from the host how the fee the procedure asked for ended.
// The outcome is recorded with the dossier's payment, where a transition
// that requires the payment finds it, and the applicant is told: paid, or
// what to do when an attempt failed or the notice expired. A payment the
// office cancelled is the office's to explain. The workflow itself moves
// only by the office's transitions.
func (p *Procedure) payment(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	ev, err := req.PaymentEvent()
	if errors.Is(err, sdk.ErrNotEvent) {
		return sdk.Refused(msg.Get(req.Lang, "transition.staff_only")), nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.def.ID, err)
	}

	d, err := req.Host.GetDossier(ctx, req.DossierID)
	if err != nil {
		return nil, fmt.Errorf("read dossier %d: %w", req.DossierID, err)
	}
	var ref paymentRef
	found, err := req.Host.GetSetting(ctx, paymentKey(d.GetId()), &ref)
	if err != nil {
		return nil, fmt.Errorf("read payment of %s: %w", d.GetNumber(), err)
	}
	if !found || ref.ID != ev.PaymentID {
		return sdk.Refused(msg.Get(req.Lang, "payment.not_this", ev.PaymentID, d.GetNumber())), nil
	}
	res := &sdk.Response{Outcome: sdk.OutcomeOK, DossierID: d.GetId(), DossierNumber: d.GetNumber(),
		Message: msg.Get(req.Lang, "payment.noted", d.GetNumber(), ev.Status)}
	// Told twice, or told a failure after the payment went through (the
	// host tells each once, in order; a paid dossier stays paid): once.
	if ref.Status == ev.Status || ref.Status == paid {
		return res, nil
	}
	ref.Status = ev.Status
	if err := req.Host.PutSetting(ctx, paymentKey(d.GetId()), ref); err != nil {
		return nil, fmt.Errorf("record the payment of %s: %w", d.GetNumber(), err)
	}
	var data dossierData
	if len(d.GetDataJson()) > 0 {
		if err := json.Unmarshal(d.GetDataJson(), &data); err != nil {
			return nil, fmt.Errorf("dossier %s: data: %w", d.GetNumber(), err)
		}
	}
	to := langOf(data.Lang)
	currency := data.Currency
	if currency == "" {
		currency = "EUR"
	}
	var reply string
	switch ev.Status {
	case sdk.PaymentComplete:
		reply = msg.Get(to, "payment.received", sdk.Money(to, ev.AmountCents, currency), d.GetNumber())
	case sdk.PaymentFailed:
		reply = msg.Get(to, "payment.failed", d.GetNumber(), ref.Notice)
	case sdk.PaymentExpired:
		reply = msg.Get(to, "payment.expired", d.GetNumber(), ref.Notice)
	}
	if reply != "" {
		p.note(ctx, req, d.GetId(), reply, false)
	}
	if err := req.Host.Audit(ctx, p.def.ID+".payment", "dossier:"+d.GetNumber(),
		map[string]any{"payment_id": ev.PaymentID, "status": ev.Status}); err != nil {
		p.log.Warn("audit entry not written", "service", p.def.ID, "dossier", d.GetNumber(), "request_id", req.RequestID, "err", err)
	}
	return res, nil
}
