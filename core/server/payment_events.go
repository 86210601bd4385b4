package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/core/hostapi"
	"github.com/sportello/sportello/core/payments"
	"github.com/sportello/sportello/core/pluginhost"
	"github.com/sportello/sportello/core/tenancy"
	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// paymentOutcomes is payments.Options.OnOutcome: it tells the plugin that
// asked for a payment of the payment's outcome, by calling its payment
// event (sdk.ActionPayment, audience system) on the payment's dossier as
// the system. A payment of no plugin (the core's appointments), of a
// plugin that does not declare the event, or without a dossier is nobody's
// to tell. nil without plugins.
//
// The call is synchronous, so that the page the citizen sees after paying
// already shows what the plugin made of it. It is bounded by the
// supervisor: a plugin that is not running fails at once, one that does not
// answer within its call timeout is given up on, a crash ends the call.
// What fails is returned, and logged by the payments: the payment stands.
func paymentOutcomes(plugins *pluginhost.Supervisor, tenants *tenancy.Registry, cat *catalog.Catalog,
	log *slog.Logger) func(context.Context, payments.Payment) error {
	if plugins == nil {
		return nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, p payments.Payment) error {
		if p.DossierID == 0 {
			return nil
		}
		m, ok := plugins.Manifest(p.ServiceID)
		if !ok || !declaresEvent(m, sdk.ActionPayment) {
			return nil
		}
		t, ok := tenants.ByID(p.TenantID)
		if !ok {
			return fmt.Errorf("payment %d: tenant %d is not loaded", p.ID, p.TenantID)
		}
		// A town that has since disabled the service still has the
		// dossier: the plugin is told all the same, with no configuration.
		var config []byte
		ts, err := cat.TenantService(ctx, p.TenantID, p.ServiceID)
		switch {
		case err == nil:
			config = ts.Config
		case !errors.Is(err, catalog.ErrNotFound):
			return fmt.Errorf("payment %d: configuration of %s: %w", p.ID, p.ServiceID, err)
		}
		values, err := json.Marshal(sdk.PaymentEvent{PaymentID: p.ID, Status: string(p.Status), AmountCents: p.AmountCents,
			Reason: p.Reason})
		if err != nil {
			return err
		}
		// The staff-facing notes the plugin writes (a status change's) are
		// in the town's first language; replies to the citizen it writes
		// in the citizen's, which it keeps on the dossier.
		lang := "it"
		if len(t.Languages) > 0 {
			lang = t.Languages[0]
		}
		res, err := plugins.Dispatch(ctx, p.ServiceID, pluginhost.Request{
			TenantID:   t.ID,
			TenantSlug: t.Slug,
			Lang:       lang,
			RequestID:  fmt.Sprintf("payment-%d-%s", p.ID, p.Status),
			Actor:      pluginhost.Actor{Actor: hostapi.Actor{Kind: hostapi.ActorSystem}},
			Action:     sdk.ActionPayment,
			Values:     values,
			Config:     config,
			DossierID:  p.DossierID,
		})
		if err != nil {
			return fmt.Errorf("tell %s of payment %d (%s): %w", p.ServiceID, p.ID, p.Status, err)
		}
		if res.GetOutcome() != sdk.OutcomeOK {
			log.Warn("plugin declined a payment's outcome", "plugin", p.ServiceID, "tenant", t.Slug, "payment", p.ID,
				"status", p.Status, "dossier_id", p.DossierID, "outcome", res.GetOutcome(), "message", res.GetMessage())
		}
		return nil
	}
}

// declaresEvent reports whether m has the event id as the host calls it:
// audience system, on a dossier.
func declaresEvent(m *pb.Manifest, id string) bool {
	for _, a := range m.GetActions() {
		if a.GetId() == id && a.GetAudience() == sdk.AudienceSystem && a.GetScope() == sdk.ScopeDossier {
			return true
		}
	}
	return false
}
