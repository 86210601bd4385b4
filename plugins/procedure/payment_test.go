package procedure

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

// told is the host telling the procedure how payment pay of a dossier
// ended.
func told(t *testing.T, p *Procedure, h *sdktest.Host, dossierID int64, pay *pb.Payment, status string) *sdk.Response {
	t.Helper()
	res, err := h.Handle(context.Background(), p, sdktest.Call{Action: sdk.ActionPayment, Actor: sdktest.System(), DossierID: dossierID,
		Values: sdk.PaymentEvent{PaymentID: pay.GetId(), Status: status, AmountCents: pay.GetAmountCents(), Reason: "Centro estivo"}})
	if err != nil {
		t.Fatalf("payment %s: %v", status, err)
	}
	return res
}

// The applicant hears of the payment in their language: a failed attempt
// and what to do, then the payment received; each once. The workflow
// waits for the office.
func TestPaymentEvent(t *testing.T) {
	ctx := context.Background()
	p, h := newCamp(t, campNow)
	id := apply(t, p, h, "de")
	if res, err := h.Handle(ctx, p, sdktest.Call{Action: "admit", Actor: sdktest.Staff(3), DossierID: id, Config: h.ConfigExample(),
		Values: map[string]any{}}); err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("admit: %+v %v", res, err)
	}
	pay := h.Tenant(1).Payments[0]
	replies := func() []string {
		var out []string
		for _, m := range h.Tenant(1).Messages {
			out = append(out, m.Body)
		}
		return out
	}

	if r := told(t, p, h, id, pay, sdk.PaymentFailed); r.Outcome != sdk.OutcomeOK {
		t.Fatalf("failed: %+v", r)
	}
	if r := replies(); len(r) != 2 || !strings.Contains(r[1], "fehlgeschlagen") || !strings.Contains(r[1], pay.GetNoticeCode()) {
		t.Fatalf("replies %q", r)
	}
	if r := told(t, p, h, id, pay, sdk.PaymentComplete); r.Outcome != sdk.OutcomeOK {
		t.Fatalf("complete: %+v", r)
	}
	got := h.Tenant(1)
	if r := replies(); len(r) != 3 || !strings.Contains(r[2], "Wir haben Ihre Zahlung von € 180,00 für den Vorgang Nr. "+got.Dossiers[0].GetNumber()) {
		t.Fatalf("replies %q", r)
	}
	if st := got.Dossiers[0].GetStatus(); st != "admitted" {
		t.Errorf("the payment moved the dossier to %s; the office moves it", st)
	}
	if m := got.Messages[2]; m.Internal || m.Actor != "plugin:testcamp/system:0" {
		t.Errorf("reply %+v", m)
	}
	// Told again, or a late failure: nothing more.
	told(t, p, h, id, pay, sdk.PaymentComplete)
	told(t, p, h, id, pay, sdk.PaymentFailed)
	if r := replies(); len(r) != 3 {
		t.Errorf("replies after repeats %q", r)
	}
	// Another payment than the dossier's moves nothing.
	other := &pb.Payment{Id: pay.GetId() + 100, AmountCents: 100}
	if r := told(t, p, h, id, other, sdk.PaymentExpired); r.Outcome != sdk.OutcomeRefused || len(replies()) != 3 {
		t.Errorf("another payment: %+v", r)
	}
}

// A transition that requires the payment goes ahead once the host has
// told the procedure it arrived, without asking the host again.
func TestPaymentEventOpensRequiresPayment(t *testing.T) {
	ctx := context.Background()
	p, h := newCamp(t, campNow, "  on: admit\n", "  on: submit\n", "    to: enrolled\n", "    to: enrolled\n    requires_payment: true\n")
	id := apply(t, p, h, "it")
	staff := sdktest.Staff(3)
	if res, err := h.Handle(ctx, p, sdktest.Call{Action: "admit", Actor: staff, DossierID: id, Config: h.ConfigExample(),
		Values: map[string]any{}}); err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("admit: %+v %v", res, err)
	}
	pay := h.Tenant(1).Payments[0]
	told(t, p, h, id, pay, sdk.PaymentFailed)
	if res, _ := h.Handle(ctx, p, sdktest.Call{Action: "confirm", Actor: staff, DossierID: id}); res.Outcome != sdk.OutcomeRefused {
		t.Fatalf("confirm after a failed attempt: %+v", res)
	}
	if r := h.Tenant(1).Messages; len(r) != 2 || !strings.Contains(r[1].Body, "non è andato a buon fine") {
		t.Fatalf("replies %+v", r)
	}
	told(t, p, h, id, pay, sdk.PaymentComplete)
	// The host is not asked: were it, it would still say the payment is
	// only being created.
	h.FailOn("GetPayment", &sdk.HostError{Code: 14, Msg: "unavailable"})
	res, err := h.Handle(ctx, p, sdktest.Call{Action: "confirm", Actor: staff, DossierID: id})
	if err != nil || res.Outcome != sdk.OutcomeOK || h.Tenant(1).Dossiers[0].GetStatus() != "enrolled" {
		t.Fatalf("confirm once told paid: %+v %v", res, err)
	}
}
