// Command roombooking books the town's rooms and halls by the hour, holding
// a slot until it is paid.
package main

import (
	_ "embed"

	"github.com/sportello/sportello/plugins/sdk"
)

//go:embed manifest.yaml
var manifest []byte

func main() { sdk.Serve(manifest, &service{}) }
