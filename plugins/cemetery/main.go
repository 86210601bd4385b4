// Command cemetery takes requests for cemetery concessions and asks for the
// fee from the town's tariff table.
package main

import (
	_ "embed"

	"github.com/sportello/sportello/plugins/sdk"
)

//go:embed manifest.yaml
var manifest []byte

func main() { sdk.Serve(manifest, &service{}) }
