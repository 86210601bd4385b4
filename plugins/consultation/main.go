// Command consultation is the town's online front desk: citizens join a
// desk's queue (video, voice or chat), and the plugin relays the calls'
// audio and video between them and the operators.
package main

import (
	_ "embed"

	"github.com/sportello/sportello/plugins/consultation/relay"
	"github.com/sportello/sportello/plugins/sdk"
)

//go:embed manifest.yaml
var manifest []byte

func main() { sdk.Serve(manifest, &service{relay: relay.New(nil)}) }
