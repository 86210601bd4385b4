package procedure

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/sdktest"
)

// apply files the example application (in lang) and returns its dossier id.
func apply(t *testing.T, p *Procedure, h *sdktest.Host, lang string) int64 {
	t.Helper()
	res, err := h.Handle(context.Background(), p, sdktest.Call{Action: "submit", Actor: sdktest.Citizen(7), Lang: lang,
		Values: h.Example("application"), Config: h.ConfigExample()})
	if err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("apply: %+v %v", res, err)
	}
	return res.DossierID
}

func TestTransitions(t *testing.T) {
	ctx := context.Background()
	p, h := newCamp(t, campNow)
	id := apply(t, p, h, "de")
	staff := sdktest.Staff(3, "operator")

	// Admission asks for the fee (no ISEE: 90 a week, two weeks) and tells
	// the applicant in German, whatever the operator reads.
	res, err := h.Handle(ctx, p, sdktest.Call{Action: "admit", Actor: staff, DossierID: id, Config: h.ConfigExample(),
		Values: map[string]any{"note": "Gruppo dei Delfini, ritrovo alle 8:30."}})
	if err != nil || res.Outcome != sdk.OutcomeOK || !strings.Contains(res.Message, "ora è «Ammessa»") {
		t.Fatalf("admit: %+v %v", res, err)
	}
	got := h.Tenant(1)
	if d := got.Dossiers[0]; d.GetStatus() != "admitted" {
		t.Fatalf("status %s", d.GetStatus())
	}
	if len(got.Payments) != 1 || got.Payments[0].GetAmountCents() != 18000 || got.Payments[0].GetDossierId() != id {
		t.Fatalf("payments %+v", got.Payments)
	}
	last := got.Events[len(got.Events)-1]
	if last.Status != "admitted" || last.Note != "Gruppo dei Delfini, ritrovo alle 8:30." {
		t.Fatalf("history %+v", last)
	}
	if len(got.Messages) != 1 || got.Messages[0].Internal {
		t.Fatalf("messages %+v", got.Messages)
	}
	reply := got.Messages[0].Body
	for _, want := range []string{"Ihr Kind ist zugelassen.", "€ 180,00", got.Payments[0].GetNoticeCode(), "Gruppo dei Delfini"} {
		if !strings.Contains(reply, want) {
			t.Errorf("reply %q lacks %q", reply, want)
		}
	}

	// Twice is refused, saying where the dossier is.
	res, err = h.Handle(ctx, p, sdktest.Call{Action: "admit", Actor: staff, DossierID: id, Config: h.ConfigExample(), Values: map[string]any{}})
	if err != nil || res.Outcome != sdk.OutcomeRefused || !strings.Contains(res.Message, "«Ammessa»") {
		t.Fatalf("admit twice: %+v %v", res, err)
	}
	if n := len(h.Tenant(1).Payments); n != 1 {
		t.Fatalf("%d payments after a refused step", n)
	}

	// A rejection needs its reason: blanks are none.
	res, err = h.Handle(ctx, p, sdktest.Call{Action: "reject", Actor: staff, DossierID: id, Values: map[string]any{"note": "   "}})
	if err != nil || res.Outcome != sdk.OutcomeInvalid || res.Errors[0].Field != "/note" {
		t.Fatalf("reject without a reason: %+v %v", res, err)
	}
	// No note, no message: the confirmation has neither.
	res, err = h.Handle(ctx, p, sdktest.Call{Action: "confirm", Actor: staff, DossierID: id})
	if err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("confirm: %+v %v", res, err)
	}
	got = h.Tenant(1)
	if got.Dossiers[0].GetStatus() != "enrolled" || len(got.Messages) != 1 {
		t.Fatalf("after confirm: %s, %d messages", got.Dossiers[0].GetStatus(), len(got.Messages))
	}
	// A closed dossier stays closed.
	res, err = h.Handle(ctx, p, sdktest.Call{Action: "reject", Actor: staff, DossierID: id, Values: map[string]any{"note": "Rinuncia."}})
	if err != nil || res.Outcome != sdk.OutcomeRefused {
		t.Fatalf("reject after enrolment: %+v %v", res, err)
	}
	var actions []string
	for _, a := range h.Tenant(1).Audit {
		actions = append(actions, a.Action)
	}
	if strings.Join(actions, ",") != "testcamp.submit,testcamp.admit,testcamp.confirm" {
		t.Fatalf("audit %v", actions)
	}
}

// Only staff move dossiers on; a citizen who tries is refused.
func TestTransitionByCitizen(t *testing.T) {
	p, h := newCamp(t, campNow)
	id := apply(t, p, h, "it")
	res, err := h.Handle(context.Background(), p, sdktest.Call{Action: "confirm", Actor: sdktest.Citizen(7), DossierID: id})
	if err != nil || res.Outcome != sdk.OutcomeRefused || h.Tenant(1).Dossiers[0].GetStatus() != "submitted" {
		t.Fatalf("%+v %v", res, err)
	}
}

// With the fee paid on submission, enrolment waits for the payment.
func TestTransitionRequiresPayment(t *testing.T) {
	ctx := context.Background()
	p, h := newCamp(t, campNow, "  on: admit\n", "  on: submit\n", "    to: enrolled\n", "    to: enrolled\n    requires_payment: true\n")
	id := apply(t, p, h, "it")
	staff := sdktest.Staff(3)
	if res, err := h.Handle(ctx, p, sdktest.Call{Action: "admit", Actor: staff, DossierID: id, Config: h.ConfigExample(),
		Values: map[string]any{}}); err != nil || res.Outcome != sdk.OutcomeOK {
		t.Fatalf("admit: %+v %v", res, err)
	}
	pay := h.Tenant(1).Payments[0]
	res, err := h.Handle(ctx, p, sdktest.Call{Action: "confirm", Actor: staff, DossierID: id})
	if err != nil || res.Outcome != sdk.OutcomeRefused || !strings.Contains(res.Message, pay.GetNoticeCode()) {
		t.Fatalf("confirm unpaid: %+v %v", res, err)
	}
	h.SetPaymentStatus(1, pay.GetId(), "complete")
	res, err = h.Handle(ctx, p, sdktest.Call{Action: "confirm", Actor: staff, DossierID: id})
	if err != nil || res.Outcome != sdk.OutcomeOK || h.Tenant(1).Dossiers[0].GetStatus() != "enrolled" {
		t.Fatalf("confirm paid: %+v %v", res, err)
	}
}

// A host failure before the status moves fails the step and changes
// nothing; a lost reply after it does not undo it.
func TestTransitionHostFailure(t *testing.T) {
	ctx := context.Background()
	p, h := newCamp(t, campNow)
	id := apply(t, p, h, "it")
	boom := &sdk.HostError{Code: 14, Msg: "unavailable"}
	h.FailOn("CreatePayment", boom)
	_, err := h.Handle(ctx, p, sdktest.Call{Action: "admit", Actor: sdktest.Staff(3), DossierID: id, Config: h.ConfigExample(), Values: map[string]any{}})
	if !errors.Is(err, boom) || h.Tenant(1).Dossiers[0].GetStatus() != "submitted" {
		t.Fatalf("admit with pagoPA down: %v, status %s", err, h.Tenant(1).Dossiers[0].GetStatus())
	}
	h.FailOn("CreatePayment", nil)
	h.FailOn("AddDossierMessage", boom)
	res, err := h.Handle(ctx, p, sdktest.Call{Action: "admit", Actor: sdktest.Staff(3), DossierID: id, Config: h.ConfigExample(), Values: map[string]any{}})
	if err != nil || res.Outcome != sdk.OutcomeOK || h.Tenant(1).Dossiers[0].GetStatus() != "admitted" {
		t.Fatalf("admit with replies down: %+v %v", res, err)
	}
}
