// Command crasher is a test plugin that exits in the middle of action
// "crash" and otherwise works.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
)

const manifest = `
id: crasher
version: 0.1.0
category: altro
texts:
  it: {name: Crasher, summary: Termina di colpo a richiesta}
actions:
  - {id: crash, label: {it: Crash}, audience: citizen}
`

type service struct{}

var _ sdk.Service = service{}

func (service) Handle(ctx context.Context, r *sdk.Request) (*sdk.Response, error) {
	switch r.Action {
	case "crash":
		fmt.Fprintln(os.Stderr, "crashing on purpose")
		os.Exit(3)
	case "wait": // in flight when another call crashes the process
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
		}
		return sdk.OK("waited"), nil
	}
	return &sdk.Response{Data: map[string]any{"pid": os.Getpid()}}, nil
}

func main() { sdk.Serve([]byte(manifest), service{}) }
