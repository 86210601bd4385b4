// Command landoccupation is the permit to occupy public land for an
// event: a stand, a gazebo, a stage.
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
