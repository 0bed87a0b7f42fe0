package portablev1

// The gRPC service glue for Plugin and State, hand-written against grpc's
// generic API (grpc.ServiceDesc, ClientConnInterface.Invoke):
// protoc-gen-go-grpc has no library entry point to run it from a test as
// protoc-gen-go is run for portable.pb.go.

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// PluginServer is what a plugin process serves.
type PluginServer interface {
	Handshake(context.Context, *HandshakeRequest) (*HandshakeResponse, error)
	Describe(context.Context, *DescribeRequest) (*DescribeResponse, error)
	ValidateFunction(context.Context, *ValidateFunctionRequest) (*ValidateFunctionResponse, error)
	CallFunction(context.Context, *CallFunctionRequest) (*CallFunctionResponse, error)
	Provision(context.Context, *ProvisionRequest) (*ProvisionResponse, error)
	Connect(context.Context, *ConnectRequest) (*ConnectResponse, error)
	Subscribe(*SubscribeRequest, Plugin_SubscribeServer) error
	Pull(context.Context, *PullRequest) (*SourceEvents, error)
	Collect(context.Context, *CollectRequest) (*CollectResponse, error)
	Close(context.Context, *CloseRequest) (*CloseResponse, error)
}

// Plugin_SubscribeServer is the plugin's end of a Subscribe stream.
type Plugin_SubscribeServer interface {
	Send(*SourceEvents) error
	grpc.ServerStream
}

// Plugin_SubscribeClient is the engine's end of a Subscribe stream.
type Plugin_SubscribeClient interface {
	Recv() (*SourceEvents, error)
	grpc.ClientStream
}

// UnimplementedPluginServer answers every rpc of Plugin with
// codes.Unimplemented; a plugin server embeds it for the rpcs it has no
// extensions for (a plugin of functions only has no sources or sinks).
type UnimplementedPluginServer struct{}

func unimplemented(method string) error {
	return status.Errorf(codes.Unimplemented, "%s is not served by this plugin", method)
}

func (UnimplementedPluginServer) Handshake(context.Context, *HandshakeRequest) (*HandshakeResponse, error) {
	return nil, unimplemented("Handshake")
}
func (UnimplementedPluginServer) Describe(context.Context, *DescribeRequest) (*DescribeResponse, error) {
	return nil, unimplemented("Describe")
}
func (UnimplementedPluginServer) ValidateFunction(context.Context, *ValidateFunctionRequest) (*ValidateFunctionResponse, error) {
	return nil, unimplemented("ValidateFunction")
}
func (UnimplementedPluginServer) CallFunction(context.Context, *CallFunctionRequest) (*CallFunctionResponse, error) {
	return nil, unimplemented("CallFunction")
}
func (UnimplementedPluginServer) Provision(context.Context, *ProvisionRequest) (*ProvisionResponse, error) {
	return nil, unimplemented("Provision")
}
func (UnimplementedPluginServer) Connect(context.Context, *ConnectRequest) (*ConnectResponse, error) {
	return nil, unimplemented("Connect")
}
func (UnimplementedPluginServer) Subscribe(*SubscribeRequest, Plugin_SubscribeServer) error {
	return unimplemented("Subscribe")
}
func (UnimplementedPluginServer) Pull(context.Context, *PullRequest) (*SourceEvents, error) {
	return nil, unimplemented("Pull")
}
func (UnimplementedPluginServer) Collect(context.Context, *CollectRequest) (*CollectResponse, error) {
	return nil, unimplemented("Collect")
}
func (UnimplementedPluginServer) Close(context.Context, *CloseRequest) (*CloseResponse, error) {
	return nil, unimplemented("Close")
}

// StateServer is what the engine serves to a plugin.
type StateServer interface {
	PutState(context.Context, *PutStateRequest) (*PutStateResponse, error)
	GetState(context.Context, *GetStateRequest) (*GetStateResponse, error)
	IncrCounter(context.Context, *IncrCounterRequest) (*IncrCounterResponse, error)
	GetCounter(context.Context, *GetCounterRequest) (*GetCounterResponse, error)
	DeleteState(context.Context, *DeleteStateRequest) (*DeleteStateResponse, error)
}

const (
	pluginService = "kgen.portable.v1.Plugin"
	stateService  = "kgen.portable.v1.State"
)

// unary is the grpc method handler of one rpc of S taking *Req.
func unary[S any, Req any, Resp any](service, method string, call func(S, context.Context, *Req) (*Resp, error)) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: method,
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(Req)
			if err := dec(in); err != nil {
				return nil, err
			}
			if icpt == nil {
				return call(srv.(S), ctx, in)
			}
			info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/" + service + "/" + method}
			return icpt(ctx, in, info, func(ctx context.Context, req any) (any, error) {
				return call(srv.(S), ctx, req.(*Req))
			})
		},
	}
}

var pluginDesc = grpc.ServiceDesc{
	ServiceName: pluginService,
	HandlerType: (*PluginServer)(nil),
	Methods: []grpc.MethodDesc{
		unary(pluginService, "Handshake", PluginServer.Handshake),
		unary(pluginService, "Describe", PluginServer.Describe),
		unary(pluginService, "ValidateFunction", PluginServer.ValidateFunction),
		unary(pluginService, "CallFunction", PluginServer.CallFunction),
		unary(pluginService, "Provision", PluginServer.Provision),
		unary(pluginService, "Connect", PluginServer.Connect),
		unary(pluginService, "Pull", PluginServer.Pull),
		unary(pluginService, "Collect", PluginServer.Collect),
		unary(pluginService, "Close", PluginServer.Close),
	},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Subscribe",
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			in := new(SubscribeRequest)
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			return srv.(PluginServer).Subscribe(in, &subscribeServer{stream})
		},
	}},
	Metadata: "kgen/portable/v1/portable.proto",
}

var stateDesc = grpc.ServiceDesc{
	ServiceName: stateService,
	HandlerType: (*StateServer)(nil),
	Methods: []grpc.MethodDesc{
		unary(stateService, "PutState", StateServer.PutState),
		unary(stateService, "GetState", StateServer.GetState),
		unary(stateService, "IncrCounter", StateServer.IncrCounter),
		unary(stateService, "GetCounter", StateServer.GetCounter),
		unary(stateService, "DeleteState", StateServer.DeleteState),
	},
	Metadata: "kgen/portable/v1/portable.proto",
}

type subscribeServer struct{ grpc.ServerStream }

func (s *subscribeServer) Send(m *SourceEvents) error { return s.SendMsg(m) }

type subscribeClient struct{ grpc.ClientStream }

func (c *subscribeClient) Recv() (*SourceEvents, error) {
	m := new(SourceEvents)
	if err := c.RecvMsg(m); err != nil {
		return nil, err
	}
	return m, nil
}

// RegisterPluginServer registers srv on s.
func RegisterPluginServer(s grpc.ServiceRegistrar, srv PluginServer) {
	s.RegisterService(&pluginDesc, srv)
}

// RegisterStateServer registers srv on s.
func RegisterStateServer(s grpc.ServiceRegistrar, srv StateServer) {
	s.RegisterService(&stateDesc, srv)
}

func invoke[Resp any](ctx context.Context, cc grpc.ClientConnInterface, service, method string, in any) (*Resp, error) {
	out := new(Resp)
	if err := cc.Invoke(ctx, "/"+service+"/"+method, in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// PluginClient calls a plugin's Plugin service.
type PluginClient struct{ cc grpc.ClientConnInterface }

// NewPluginClient returns a client of the Plugin service on cc.
func NewPluginClient(cc grpc.ClientConnInterface) *PluginClient { return &PluginClient{cc} }

func (c *PluginClient) Handshake(ctx context.Context, in *HandshakeRequest) (*HandshakeResponse, error) {
	return invoke[HandshakeResponse](ctx, c.cc, pluginService, "Handshake", in)
}

func (c *PluginClient) Describe(ctx context.Context, in *DescribeRequest) (*DescribeResponse, error) {
	return invoke[DescribeResponse](ctx, c.cc, pluginService, "Describe", in)
}

func (c *PluginClient) ValidateFunction(ctx context.Context, in *ValidateFunctionRequest) (*ValidateFunctionResponse, error) {
	return invoke[ValidateFunctionResponse](ctx, c.cc, pluginService, "ValidateFunction", in)
}

func (c *PluginClient) CallFunction(ctx context.Context, in *CallFunctionRequest) (*CallFunctionResponse, error) {
	return invoke[CallFunctionResponse](ctx, c.cc, pluginService, "CallFunction", in)
}

func (c *PluginClient) Provision(ctx context.Context, in *ProvisionRequest) (*ProvisionResponse, error) {
	return invoke[ProvisionResponse](ctx, c.cc, pluginService, "Provision", in)
}

func (c *PluginClient) Connect(ctx context.Context, in *ConnectRequest) (*ConnectResponse, error) {
	return invoke[ConnectResponse](ctx, c.cc, pluginService, "Connect", in)
}

// Subscribe opens a push source's stream; it ends when ctx is done.
func (c *PluginClient) Subscribe(ctx context.Context, in *SubscribeRequest) (Plugin_SubscribeClient, error) {
	stream, err := c.cc.NewStream(ctx, &pluginDesc.Streams[0], "/"+pluginService+"/Subscribe")
	if err != nil {
		return nil, err
	}
	if err := stream.SendMsg(in); err != nil {
		return nil, err
	}
	if err := stream.CloseSend(); err != nil {
		return nil, err
	}
	return &subscribeClient{stream}, nil
}

func (c *PluginClient) Pull(ctx context.Context, in *PullRequest) (*SourceEvents, error) {
	return invoke[SourceEvents](ctx, c.cc, pluginService, "Pull", in)
}

func (c *PluginClient) Collect(ctx context.Context, in *CollectRequest) (*CollectResponse, error) {
	return invoke[CollectResponse](ctx, c.cc, pluginService, "Collect", in)
}

func (c *PluginClient) Close(ctx context.Context, in *CloseRequest) (*CloseResponse, error) {
	return invoke[CloseResponse](ctx, c.cc, pluginService, "Close", in)
}

// StateClient calls the engine's State service.
type StateClient struct{ cc grpc.ClientConnInterface }

// NewStateClient returns a client of the State service on cc.
func NewStateClient(cc grpc.ClientConnInterface) *StateClient { return &StateClient{cc} }

func (c *StateClient) PutState(ctx context.Context, in *PutStateRequest) (*PutStateResponse, error) {
	return invoke[PutStateResponse](ctx, c.cc, stateService, "PutState", in)
}

func (c *StateClient) GetState(ctx context.Context, in *GetStateRequest) (*GetStateResponse, error) {
	return invoke[GetStateResponse](ctx, c.cc, stateService, "GetState", in)
}

func (c *StateClient) IncrCounter(ctx context.Context, in *IncrCounterRequest) (*IncrCounterResponse, error) {
	return invoke[IncrCounterResponse](ctx, c.cc, stateService, "IncrCounter", in)
}

func (c *StateClient) GetCounter(ctx context.Context, in *GetCounterRequest) (*GetCounterResponse, error) {
	return invoke[GetCounterResponse](ctx, c.cc, stateService, "GetCounter", in)
}

func (c *StateClient) DeleteState(ctx context.Context, in *DeleteStateRequest) (*DeleteStateResponse, error) {
	return invoke[DeleteStateResponse](ctx, c.cc, stateService, "DeleteState", in)
}
