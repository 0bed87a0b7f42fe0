package portable

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	portablev1 "github.com/kgen-dev/kgen/portable/proto/kgen/portable/v1"
)

// Handshake is go-plugin's handshake between the engine and a portable
// plugin. ProtocolVersion follows portablev1.ProtocolVersion.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  uint(portablev1.ProtocolVersion_PROTOCOL_VERSION_1),
	MagicCookieKey:   "KGEN_PORTABLE_PLUGIN",
	MagicCookieValue: "kgen.portable.v1",
}

// PluginKey is the name the one go-plugin plugin is dispensed under.
const PluginKey = "kgen"

// GRPCPlugin is the go-plugin plugin of both sides: the plugin process
// serves Impl; the engine gets a *Conn.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl makes the plugin's server from the broker it calls State over;
	// nil on the engine side.
	Impl func(*plugin.GRPCBroker) portablev1.PluginServer
}

// GRPCServer registers the plugin's Plugin service.
func (p *GRPCPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	portablev1.RegisterPluginServer(s, p.Impl(broker))
	return nil
}

// GRPCClient returns the engine's view of the plugin.
func (p *GRPCPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return &Conn{Plugin: portablev1.NewPluginClient(cc), Broker: broker}, nil
}

// Conn is the engine's connection to a running plugin: its Plugin service
// and the broker the engine serves State over.
type Conn struct {
	Plugin *portablev1.PluginClient
	Broker *plugin.GRPCBroker
}
