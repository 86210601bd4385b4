// Command benchplugin is the plugin the plugin benchmark starts.
package main

import (
	"github.com/sportello/sportello/bench/plugin/handler"
	"github.com/sportello/sportello/plugins/sdk"
)

func main() { sdk.Serve([]byte(handler.Manifest), handler.Service{}) }
