// Command recordsaccess takes requests for access to the town's records in
// the three forms Italian law knows (civic, generalised civic, documentary),
// with their legal deadlines, the office that holds the records, the
// office's decision and the register of requests.
package main

import (
	_ "embed"

	"github.com/sportello/sportello/plugins/sdk"
)

//go:embed manifest.yaml
var manifest []byte

func main() { sdk.Serve(manifest, &service{}) }
