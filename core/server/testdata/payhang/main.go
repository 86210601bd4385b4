// Command payhang is a test plugin that asks its citizen for a payment on
// a dossier of its own, and takes the host's word on the payment as the
// payment's reason says: "ok" marks the dossier paid, "hang" never
// answers, "crash" ends the process.
package main

import (
	"context"
	"os"

	"github.com/sportello/sportello/plugins/sdk"
)

const manifest = `
id: payhang
version: 0.1.0
category: altro
texts:
  it: {name: Prova dei pagamenti, summary: Chiede un pagamento.}
forms:
  - id: ask
    title: {it: Chiedi}
    schema:
      type: object
      required: [mode]
      properties:
        mode: {type: string, enum: [ok, hang, crash], title: Modo}
actions:
  - {id: ask, label: {it: Chiedi}, form: ask, audience: citizen}
  - {id: payment, label: {it: Esito del pagamento}, audience: system, scope: dossier}
`

type service struct{}

func (service) Handle(ctx context.Context, r *sdk.Request) (*sdk.Response, error) {
	switch r.Action {
	case "ask":
		var v struct {
			Mode string `json:"mode"`
		}
		if err := r.Decode(&v); err != nil {
			return nil, err
		}
		d, err := r.Host.CreateDossier(ctx, sdk.NewDossier{Title: "Prova " + v.Mode})
		if err != nil {
			return nil, err
		}
		if _, err := r.Host.CreatePayment(ctx, sdk.NewPayment{AmountCents: 100, Reason: v.Mode, DossierID: d.GetId()}); err != nil {
			return nil, err
		}
		return &sdk.Response{DossierID: d.GetId(), DossierNumber: d.GetNumber(), Message: "Pratica " + d.GetNumber()}, nil
	case sdk.ActionPayment:
		var ev sdk.PaymentEvent
		if err := r.Decode(&ev); err != nil {
			return nil, err
		}
		switch ev.Reason {
		case "hang":
			select {} // never answers, whatever the host does
		case "crash":
			os.Exit(3)
		}
		if _, err := r.Host.SetDossierStatus(ctx, r.DossierID, ev.Status, ""); err != nil {
			return nil, err
		}
		return &sdk.Response{}, nil
	}
	return sdk.Refused("?"), nil
}

func main() { sdk.Serve([]byte(manifest), service{}) }
