// Package handler is the request handler the plugin benchmark measures,
// shared by the benchmark plugin and the in-process reference so that both
// run the same logic.
package handler

import (
	"context"

	"github.com/sportello/sportello/plugins/sdk"
)

// Manifest is the benchmark plugin's manifest.
const Manifest = `
id: bench
version: 1.0.0
category: altro
texts:
  it: {name: Benchmark, summary: Legge un'impostazione e risponde}
actions:
  - {id: greet, label: {it: Saluta}, audience: citizen}
`

// SettingKey is the setting each call reads.
const SettingKey = "greeting"

// Service reads one setting through the Host API and answers with it: a
// request's cheapest round trip through the host's state.
type Service struct{}

var _ sdk.Service = Service{}

func (Service) Handle(ctx context.Context, r *sdk.Request) (*sdk.Response, error) {
	var greeting string
	found, err := r.Host.GetSetting(ctx, SettingKey, &greeting)
	if err != nil {
		return nil, err
	}
	if !found {
		return sdk.Refused("no greeting configured"), nil
	}
	return sdk.OK(greeting + ", " + r.Actor.Name), nil
}
