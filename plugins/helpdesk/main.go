// Command helpdesk takes citizens' reports of problems in town and their
// questions, each as a dossier for the office in charge.
package main

import (
	_ "embed"

	"github.com/sportello/sportello/plugins/sdk"
)

//go:embed manifest.yaml
var manifest []byte

func main() { sdk.Serve(manifest, &service{}) }
