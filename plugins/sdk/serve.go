package sdk

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Serve runs a plugin: it parses the manifest, serves the Plugin service
// to the host that started the process, and returns only when the host is
// gone. A broken manifest stops the plugin at once with a message, before
// the host could see it.
func Serve(manifest []byte, svc Service) {
	m, err := ParseManifest(manifest)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go exitWithParent(os.Getppid())
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: VersionedPlugins(NewServer(m, svc)),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, serverOptions...)...)
		},
	})
}

// Fixed flow-control windows turn off gRPC's bandwidth estimation, whose
// PING frames cost a round of wake-ups on small, frequent calls over a
// local socket; the host sets the same on its side.
var (
	serverOptions = []grpc.ServerOption{
		grpc.InitialWindowSize(1 << 20),
		grpc.InitialConnWindowSize(1 << 20),
		grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))),
	}
	dialOptions = []grpc.DialOption{
		grpc.WithInitialWindowSize(1 << 20),
		grpc.WithInitialConnWindowSize(1 << 20),
	}
)

// exitWithParent ends the plugin when the host that started it is gone,
// even if the host was killed (SIGKILL) and could not stop it: the host
// also asks the kernel to signal its children, and this covers the case
// where that request is lost.
func exitWithParent(parent int) {
	for range time.Tick(500 * time.Millisecond) {
		if os.Getppid() != parent {
			os.Exit(0)
		}
	}
}
