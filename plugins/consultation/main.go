// Command consultation puts citizens in the queue of the town's online
// front desk (video, voice or chat); the conversation is the host's.
package main

import (
	_ "embed"

	"github.com/sportello/sportello/plugins/sdk"
)

//go:embed manifest.yaml
var manifest []byte

func main() { sdk.Serve(manifest, &service{}) }
