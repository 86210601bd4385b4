// Command certificates is the booking of a registry certificate, to
// collect at the counter or to receive by post or e-mail.
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
