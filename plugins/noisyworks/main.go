// Command noisyworks is the authorisation to exceed the noise limits for
// temporary works (a building site, roadworks).
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
