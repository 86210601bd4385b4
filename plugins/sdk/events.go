package sdk

import (
	"errors"
	"fmt"
	"slices"
)

// Audiences of an action: who may take it.
const (
	AudienceCitizen   = "citizen"
	AudienceStaff     = "staff"
	AudienceAnonymous = "anonymous"
	// AudienceSystem is an event's action: the host calls it on its own,
	// with an ActorSystem actor, when something the plugin asked for has
	// happened. It is never shown to anyone nor reachable over HTTP.
	AudienceSystem = "system"
)

// Actor kinds of Request.Actor.
const (
	ActorCitizen   = "citizen"
	ActorStaff     = "staff"
	ActorAnonymous = "anonymous"
	// ActorSystem is the host acting on its own, with id 0, for an event.
	// The Host API lets it do what staff may do; the dossier's history
	// records the change as the service's, not a person's.
	ActorSystem = "system"
)

// ActionPayment is the event of a payment the plugin asked for
// (CreatePayment with a DossierID) reaching an outcome. A plugin that wants
// it declares an action with this id, audience AudienceSystem and scope
// ScopeDossier, without a form; Request.DossierID is the payment's dossier
// and Request.Values a PaymentEvent. The host calls it once per outcome,
// after the payment's change is stored; an answer other than OutcomeOK, or
// an error, is logged and changes nothing of the payment.
const ActionPayment = "payment"

// The outcomes of a payment a PaymentEvent reports.
const (
	// PaymentComplete: the citizen has paid.
	PaymentComplete = "complete"
	// PaymentFailed: an attempt to pay failed; the citizen may try again
	// until the payment expires.
	PaymentFailed = "payment_failed"
	// PaymentExpired: not paid by its due time; a hold it was for is
	// released.
	PaymentExpired = "expired"
	// PaymentCanceled: staff cancelled the payment.
	PaymentCanceled = "canceled"
)

// PaymentOutcomes are the statuses a PaymentEvent may carry.
var PaymentOutcomes = []string{PaymentComplete, PaymentFailed, PaymentExpired, PaymentCanceled}

// PaymentEvent is the values of an ActionPayment request.
type PaymentEvent struct {
	PaymentID   int64  `json:"payment_id"`
	Status      string `json:"status"` // one of PaymentOutcomes
	AmountCents int64  `json:"amount_cents"`
	Reason      string `json:"reason"` // the causale the payment was asked with
}

// ErrNotEvent is PaymentEvent's answer to a request a person sent: an
// event's action is the host's alone to call.
var ErrNotEvent = errors.New("not an event of the host")

// PaymentEvent reads the event of an ActionPayment request: ErrNotEvent
// when the actor is not the system, an error when the values or the
// dossier are missing or malformed.
func (r *Request) PaymentEvent() (PaymentEvent, error) {
	var ev PaymentEvent
	if r.Actor.Kind != ActorSystem {
		return ev, ErrNotEvent
	}
	if err := r.Decode(&ev); err != nil {
		return ev, fmt.Errorf("decode the payment event: %w", err)
	}
	if !slices.Contains(PaymentOutcomes, ev.Status) {
		return ev, fmt.Errorf("payment %d: unknown outcome %q", ev.PaymentID, ev.Status)
	}
	if r.DossierID <= 0 {
		return ev, fmt.Errorf("payment %d: no dossier in the event", ev.PaymentID)
	}
	return ev, nil
}
