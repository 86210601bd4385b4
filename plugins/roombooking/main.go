// Command roombooking books the town's rooms and halls on the core booking
// engine: one or several consecutive slots of a room, held until paid,
// approved by the room's office where the town wants it, and wedding
// rooms for a ceremony on a date.
package main

import (
	_ "embed"

	"github.com/sportello/sportello/plugins/sdk"
)

//go:embed manifest.yaml
var manifest []byte

func main() { sdk.Serve(manifest, &service{}) }
