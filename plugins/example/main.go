// Command example is the smallest useful Sportello service, written to be
// copied: a citizen's written request for information. See plugins/README.md.
package main

import (
	_ "embed"

	"github.com/sportello/sportello/plugins/sdk"
)

//go:embed manifest.yaml
var manifest []byte

func main() { sdk.Serve(manifest, &service{}) }
