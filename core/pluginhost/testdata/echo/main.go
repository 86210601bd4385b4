// Command echo is a well-behaved test plugin: it answers with what it was
// given and uses the Host API on the request's behalf.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"

	"google.golang.org/grpc/codes"

	"github.com/sportello/sportello/plugins/sdk"
)

const manifest = `
id: echo
version: 1.2.3
category: altro
texts:
  it: {name: Eco, summary: Risponde con ciò che riceve}
actions:
  - {id: echo, label: {it: Eco}, audience: citizen}
`

type service struct{}

var _ sdk.Service = service{}

type values struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
	Title string          `json:"title"`
	ID    int64           `json:"id"`
}

func (service) Handle(ctx context.Context, r *sdk.Request) (*sdk.Response, error) {
	var v values
	if err := r.Decode(&v); err != nil {
		return nil, err
	}
	switch r.Action {
	case "echo":
		return &sdk.Response{Outcome: sdk.OutcomeOK, Data: map[string]any{
			"tenant_id": r.TenantID, "tenant_slug": r.TenantSlug, "lang": r.Lang, "request_id": r.RequestID,
			"actor_kind": r.Actor.Kind, "actor_id": r.Actor.ID, "actor_name": r.Actor.Name, "roles": r.Actor.Roles,
			"values": r.Values, "config": r.Config, "pid": os.Getpid(),
		}}, nil
	case "put_setting":
		if err := r.Host.PutSetting(ctx, v.Key, v.Value); err != nil {
			return nil, err
		}
		return sdk.OK("stored"), nil
	case "get_setting":
		var got json.RawMessage
		found, err := r.Host.GetSetting(ctx, v.Key, &got)
		if err != nil {
			return nil, err
		}
		return &sdk.Response{Data: map[string]any{"found": found, "value": got, "pid": os.Getpid()}}, nil
	case "create_dossier":
		d, err := r.Host.CreateDossier(ctx, sdk.NewDossier{Title: v.Title, Data: map[string]any{"by": "echo"}})
		if err != nil {
			return nil, err
		}
		return &sdk.Response{DossierID: d.GetId(), DossierNumber: d.GetNumber()}, nil
	case "invalid":
		return nil, &sdk.HostError{Code: codes.InvalidArgument, Msg: "no such thing"}
	case "denied":
		return nil, &sdk.HostError{Code: codes.PermissionDenied, Msg: "not yours"}
	case "broken":
		return nil, errors.New("something broke")
	case "form":
		return sdk.Invalid("/name", "required"), nil
	}
	return sdk.Refused("unknown action " + r.Action), nil
}

func main() { sdk.Serve([]byte(manifest), service{}) }
