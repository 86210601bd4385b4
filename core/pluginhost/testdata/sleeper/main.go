// Command sleeper is a test plugin whose action "sleep" never answers and
// ignores cancellation; other actions answer at once.
package main

import (
	"context"
	"os"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
)

const manifest = `
id: sleeper
version: 0.1.0
category: altro
texts:
  it: {name: Sleeper, summary: Non risponde mai}
actions:
  - {id: sleep, label: {it: Dormi}, audience: citizen}
`

type service struct{}

var _ sdk.Service = service{}

func (service) Handle(_ context.Context, r *sdk.Request) (*sdk.Response, error) {
	if r.Action == "sleep" {
		time.Sleep(time.Hour)
	}
	return &sdk.Response{Data: map[string]any{"pid": os.Getpid()}}, nil
}

func main() { sdk.Serve([]byte(manifest), service{}) }
