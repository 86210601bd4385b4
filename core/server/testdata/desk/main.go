// Command desk is a test plugin of the back office's tests: a form with
// files, a workflow of its own, staff actions on one dossier (one of them
// answering a download) and a citizen's follow-up.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"strings"

	"github.com/sportello/sportello/plugins/sdk"
)

//go:embed manifest.yaml
var manifest []byte

type service struct{}

var _ sdk.Service = (*service)(nil)

func (s *service) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	switch req.Action {
	case "submit":
		var v struct {
			Subject string `json:"subject"`
		}
		if err := req.Decode(&v); err != nil {
			return nil, err
		}
		if v.Subject == "rifiuta" {
			return sdk.Invalid("/subject", "Oggetto non accettato dal servizio."), nil
		}
		var ids []int64
		var names []string
		for _, f := range req.Files {
			ids = append(ids, f.AttachmentID)
			names = append(names, fmt.Sprintf("%s=%s (%s, %d)", f.Field, f.Name, f.ContentType, f.Size))
		}
		d, err := req.Host.CreateDossier(ctx, sdk.NewDossier{Title: "Domanda: " + v.Subject, Data: map[string]any{"subject": v.Subject},
			AttachmentIDs: ids})
		if err != nil {
			return nil, err
		}
		return &sdk.Response{Outcome: sdk.OutcomeOK, DossierID: d.GetId(), DossierNumber: d.GetNumber(),
			Message: "Ricevuta " + d.GetNumber() + " dal " + req.Actor.Kind + "; file: " + strings.Join(names, ", ")}, nil
	case "stamp":
		var v struct {
			Remark string `json:"remark"`
		}
		if err := req.Decode(&v); err != nil {
			return nil, err
		}
		if v.Remark == "no" {
			return sdk.Invalid("/remark", "Osservazione rifiutata dal servizio."), nil
		}
		d, err := req.Host.SetDossierStatus(ctx, req.DossierID, "checking", v.Remark)
		if err != nil {
			return nil, err
		}
		return sdk.OK("Timbrata la pratica " + d.GetNumber()), nil
	case "export":
		return &sdk.Response{Outcome: sdk.OutcomeOK, File: &sdk.Download{Name: fmt.Sprintf("scheda-%d.csv", req.DossierID),
			ContentType: "text/csv", Content: []byte(fmt.Sprintf("dossier;%d\n", req.DossierID))}}, nil
	case "remind":
		d, err := req.Host.GetDossier(ctx, req.DossierID)
		if err != nil {
			return nil, err
		}
		return sdk.OK("Sollecito registrato per " + d.GetNumber()), nil
	}
	return nil, fmt.Errorf("unknown action %q", req.Action)
}

func main() { sdk.Serve(manifest, &service{}) }
