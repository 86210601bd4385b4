// Package sdk is the contract between the Sportello host and its catalogue
// service plugins: the handshake, the go-plugin wiring of the gRPC services
// in pb, and the helpers a plugin author uses. Both sides import it; a
// plugin imports nothing else of Sportello.
//
// A plugin is one binary:
//
//	//go:embed manifest.yaml
//	var manifest []byte
//
//	func main() { sdk.Serve(manifest, &service{}) }
//
// where service implements Service. See plugins/README.md.
package sdk

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/sportello/sportello/plugins/sdk/pb"
)

// ProtocolVersion is the contract's version, negotiated in the handshake.
// It rises only when a change would break plugins built against the
// previous one; proto fields are otherwise only ever appended.
const ProtocolVersion = 1

// PluginName is the one plugin each binary dispenses.
const PluginName = "service"

// CallTokenKey is the gRPC metadata key carrying the call token on Host
// API calls.
const CallTokenKey = "sportello-call"

// Handshake keeps a plugin binary from being started by hand or by another
// host by mistake; it is not a security measure (the host pins binaries by
// SHA-256 for that).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "SPORTELLO_PLUGIN",
	MagicCookieValue: "f3b1c2a4-sportello-catalogue-service",
}

// VersionedPlugins is what host and plugin agree on, by protocol version.
func VersionedPlugins(impl pb.PluginServer) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &grpcPlugin{impl: impl}},
	}
}

// Conn is the host's handle on a started plugin: its Plugin service and
// the broker over which the host serves the Host API to it.
type Conn struct {
	Plugin pb.PluginClient
	Broker *plugin.GRPCBroker
}

// grpcPlugin is the go-plugin adapter: gRPC only, net/rpc switched off.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl pb.PluginServer // nil on the host side
}

var _ plugin.GRPCPlugin = (*grpcPlugin)(nil)

func (p *grpcPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	if b, ok := p.impl.(interface{ setBroker(*plugin.GRPCBroker) }); ok {
		b.setBroker(broker)
	}
	pb.RegisterPluginServer(s, p.impl)
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Conn{Plugin: pb.NewPluginClient(c), Broker: broker}, nil
}
