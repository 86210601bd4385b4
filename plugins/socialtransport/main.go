// Command socialtransport is the application for the town's social
// transport to medical visits, therapies and day centres.
//
// The service is all in definition.yaml (plugins/README.md, "Declarative
// procedures").
package main

import (
	_ "embed"

	"github.com/sportello/sportello/plugins/procedure"
)

//go:embed definition.yaml
var definition []byte

func main() { procedure.Serve(definition) }
