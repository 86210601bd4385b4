// Command scrutineer collects citizens' availability to work at a polling
// station, as scrutineer or as president, for the town's open election round.
package main

import (
	_ "embed"

	"github.com/sportello/sportello/plugins/sdk"
)

//go:embed manifest.yaml
var manifest []byte

func main() { sdk.Serve(manifest, &service{}) }
