package sdk_test

import (
	"errors"
	"testing"

	"github.com/sportello/sportello/plugins/sdk"
)

func TestPaymentEvent(t *testing.T) {
	system := sdk.Actor{Kind: sdk.ActorSystem}
	for _, tc := range []struct {
		name    string
		req     sdk.Request
		wantErr bool
		notEv   bool
	}{
		{"the host's event", sdk.Request{Actor: system, DossierID: 4, Values: []byte(`{"payment_id": 7, "status": "complete", "amount_cents": 1600}`)}, false, false},
		{"sent by a person", sdk.Request{Actor: sdk.Actor{Kind: sdk.ActorStaff, ID: 3}, DossierID: 4, Values: []byte(`{"payment_id": 7, "status": "complete"}`)}, true, true},
		{"an outcome no payment has", sdk.Request{Actor: system, DossierID: 4, Values: []byte(`{"payment_id": 7, "status": "payment_started"}`)}, true, false},
		{"no dossier", sdk.Request{Actor: system, Values: []byte(`{"payment_id": 7, "status": "expired"}`)}, true, false},
		{"not JSON", sdk.Request{Actor: system, DossierID: 4, Values: []byte(`{`)}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := tc.req.PaymentEvent()
			if (err != nil) != tc.wantErr || errors.Is(err, sdk.ErrNotEvent) != tc.notEv {
				t.Fatalf("PaymentEvent() = %+v, %v", ev, err)
			}
			if err == nil && (ev.PaymentID != 7 || ev.Status != sdk.PaymentComplete || ev.AmountCents != 1600) {
				t.Errorf("decoded %+v", ev)
			}
		})
	}
}
