// Command mapdesk is a test plugin of the forms' "map" field: it files a
// dossier with the place it received and says what it received.
package main

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/sportello/sportello/plugins/sdk"
)

//go:embed manifest.yaml
var manifest []byte

type service struct{}

var _ sdk.Service = (*service)(nil)

func (s *service) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	if req.Action != "report" {
		return nil, fmt.Errorf("unknown action %q", req.Action)
	}
	var v struct {
		Subject  string `json:"subject"`
		Location struct {
			Lat     float64 `json:"lat"`
			Lon     float64 `json:"lon"`
			Address string  `json:"address"`
		} `json:"location"`
	}
	if err := req.Decode(&v); err != nil {
		return nil, err
	}
	d, err := req.Host.CreateDossier(ctx, sdk.NewDossier{Title: "Segnalazione: " + v.Subject,
		Data: map[string]any{"subject": v.Subject, "location": map[string]any{"lat": v.Location.Lat, "lon": v.Location.Lon, "address": v.Location.Address}}})
	if err != nil {
		return nil, err
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, DossierID: d.GetId(), DossierNumber: d.GetNumber(),
		Message: fmt.Sprintf("Ricevuta %s: lat=%v lon=%v", d.GetNumber(), v.Location.Lat, v.Location.Lon)}, nil
}

func main() { sdk.Serve(manifest, &service{}) }
