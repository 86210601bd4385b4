// Command homecare is the application for home care (servizio di
// assistenza domiciliare).
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
