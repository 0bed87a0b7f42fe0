package portable

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	portablev1 "github.com/kgen-dev/kgen/portable/proto/kgen/portable/v1"
	"github.com/kgen-dev/kgen/sdk"
)

// SDKName names this SDK in the handshake.
const SDKName = "go/" + sdk.Version

// Serve serves every source, sink and function registered in this
// executable (sdk.RegisterSource, sdk.RegisterSink, sdk.RegisterFunction,
// or the registrations kgen generates from //kgen: markers) until the
// engine stops the plugin. It must be the last
// call of main. Registration errors are printed and exit the process.
func Serve() {
	if errs := sdk.RegistrationErrors(); len(errs) > 0 {
		fmt.Fprintln(os.Stderr, errors.Join(errs...))
		os.Exit(1)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins: plugin.PluginSet{PluginKey: &GRPCPlugin{Impl: func(b *plugin.GRPCBroker) portablev1.PluginServer {
			return newServer(b)
		}}},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}

// server serves the registered extensions: one sdk.Function per function
// instance (SQL call site), made on its first call, and one source or sink
// per instance the engine provisions (connector.go).
type server struct {
	portablev1.UnimplementedPluginServer
	broker *plugin.GRPCBroker
	logger *slog.Logger

	mu        sync.Mutex
	state     *portablev1.StateClient
	root      string
	instances map[uint64]*instance
	conns     map[uint64]*connInstance
}

func newServer(b *plugin.GRPCBroker) *server {
	return &server{
		broker:    b,
		logger:    slog.New(slog.NewTextHandler(os.Stderr, nil)),
		instances: map[uint64]*instance{},
		conns:     map[uint64]*connInstance{},
	}
}

func (s *server) Handshake(_ context.Context, req *portablev1.HandshakeRequest) (*portablev1.HandshakeResponse, error) {
	if v := req.GetProtocolVersion(); v != portablev1.ProtocolVersion_PROTOCOL_VERSION_1 {
		return nil, fmt.Errorf("protocol version %d is not supported; this plugin speaks %d", v, portablev1.ProtocolVersion_PROTOCOL_VERSION_1)
	}
	cc, err := s.broker.DialWithOptions(req.GetStateBrokerId(), grpc.WithDefaultCallOptions())
	if err != nil {
		return nil, fmt.Errorf("dial the engine's state service: %w", err)
	}
	s.mu.Lock()
	s.state = portablev1.NewStateClient(cc)
	s.root = req.GetRootPath()
	s.mu.Unlock()
	return &portablev1.HandshakeResponse{ProtocolVersion: portablev1.ProtocolVersion_PROTOCOL_VERSION_1, Sdk: SDKName}, nil
}

func (s *server) Describe(context.Context, *portablev1.DescribeRequest) (*portablev1.DescribeResponse, error) {
	resp := &portablev1.DescribeResponse{}
	for _, name := range sdk.Registered(sdk.KindFunction) {
		ctor, _ := sdk.LookupFunction(name)
		agg, err := callSafe(func() (bool, error) { return ctor().IsAggregate(), nil })
		if err != nil {
			return nil, fmt.Errorf("function %q: %w", name, err)
		}
		resp.Extensions = append(resp.Extensions, &portablev1.Extension{Kind: portablev1.Kind_KIND_FUNCTION, Name: name, Aggregate: agg})
	}
	for _, name := range sdk.Registered(sdk.KindSource) {
		x, err := describeSource(name)
		if err != nil {
			return nil, err
		}
		resp.Extensions = append(resp.Extensions, x)
	}
	for _, name := range sdk.Registered(sdk.KindSink) {
		resp.Extensions = append(resp.Extensions, &portablev1.Extension{Kind: portablev1.Kind_KIND_SINK, Name: name})
	}
	return resp, nil
}

func (s *server) ValidateFunction(_ context.Context, req *portablev1.ValidateFunctionRequest) (*portablev1.ValidateFunctionResponse, error) {
	ctor, ok := sdk.LookupFunction(req.GetFunction())
	if !ok {
		return nil, fmt.Errorf("unknown function %q", req.GetFunction())
	}
	args := make([]sdk.Arg, len(req.GetArgs()))
	for i, a := range req.GetArgs() {
		args[i] = sdk.Arg{Kind: sdk.ArgKind(a.GetKind()), Value: portablev1.FromValue(a.GetValue()), Name: a.GetName(), Text: a.GetText()}
	}
	_, err := callSafe(func() (struct{}, error) { return struct{}{}, ctor().Validate(args) })
	if err != nil {
		return &portablev1.ValidateFunctionResponse{Error: err.Error()}, nil
	}
	return &portablev1.ValidateFunctionResponse{}, nil
}

func (s *server) CallFunction(ctx context.Context, req *portablev1.CallFunctionRequest) (*portablev1.CallFunctionResponse, error) {
	inst := req.GetInstance()
	fn, err := s.instance(req.GetFunction(), inst.GetId())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	fctx := &funcContext{Context: ctx, state: s.state, root: s.root, inst: inst}
	s.mu.Unlock()
	fctx.logger = s.logger.With("rule", inst.GetRuleId(), "op", inst.GetOpId())
	if seq := req.GetSeq(); seq > 0 {
		done, err := fn.turn(ctx, seq)
		if err != nil {
			return nil, fmt.Errorf("function %q: batch %d: %w", req.GetFunction(), seq, err)
		}
		defer done()
	}
	resp := &portablev1.CallFunctionResponse{Results: make([]*portablev1.Result, len(req.GetRows()))}
	args := make([]any, 0, 8)
	for i, row := range req.GetRows() {
		args = args[:0]
		for _, a := range row.GetArgs() {
			args = append(args, portablev1.FromValue(a))
		}
		resp.Results[i] = exec(fn.Function, fctx, args)
	}
	return resp, nil
}

// exec runs one row, turning a failure or a panic into the row's error.
func exec(fn sdk.Function, ctx sdk.FunctionContext, args []any) *portablev1.Result {
	v, err := callSafe(func() (any, error) {
		res, ok := fn.Exec(ctx, args)
		if ok {
			return res, nil
		}
		if err, isErr := res.(error); isErr {
			return nil, err
		}
		return nil, fmt.Errorf("%v", res)
	})
	if err == nil {
		var pv *portablev1.Value
		if pv, err = portablev1.ToValue(v); err == nil {
			return &portablev1.Result{Outcome: &portablev1.Result_Value{Value: pv}}
		}
		err = fmt.Errorf("result: %w", err)
	}
	return &portablev1.Result{Outcome: &portablev1.Result_Error{Error: err.Error()}}
}

func (s *server) instance(name string, id uint64) (*instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fn, ok := s.instances[id]; ok {
		return fn, nil
	}
	ctor, ok := sdk.LookupFunction(name)
	if !ok {
		return nil, fmt.Errorf("unknown function %q", name)
	}
	fn, err := callSafe(func() (sdk.Function, error) { return ctor(), nil })
	if err == nil && fn == nil {
		err = errors.New("constructor returned nil")
	}
	if err != nil {
		return nil, fmt.Errorf("function %q: %w", name, err)
	}
	inst := &instance{Function: fn, run: make(chan struct{}, 1), next: 1, advanced: make(chan struct{})}
	s.instances[id] = inst
	return inst, nil
}

// orderWait bounds the wait of a numbered batch for the batch before it,
// which may never come: the engine gave up on it before sending it, or
// sent it to the process before a restart.
const orderWait = time.Second

// instance is a function instance: one SQL call site's sdk.Function, and
// the order of its numbered batches.
type instance struct {
	sdk.Function
	run      chan struct{} // holds a token while a numbered batch runs
	mu       sync.Mutex
	next     uint64        // the batch to run next, from 1
	advanced chan struct{} // closed when next moves
}

// turn waits until numbered batch seq may run: the batches before it have
// run (or orderWait passed, or ctx ended), and no other numbered batch
// runs. done ends its turn.
func (in *instance) turn(ctx context.Context, seq uint64) (done func(), err error) {
	timer := time.NewTimer(orderWait)
	defer timer.Stop()
wait:
	for {
		in.mu.Lock()
		if seq <= in.next {
			in.mu.Unlock()
			break
		}
		ch := in.advanced
		in.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			break wait // a batch before it is late: go on without it
		case <-ctx.Done():
			in.advance(seq)
			return nil, ctx.Err()
		}
	}
	select {
	case in.run <- struct{}{}:
	case <-ctx.Done():
		in.advance(seq)
		return nil, ctx.Err()
	}
	return func() {
		in.advance(seq)
		<-in.run
	}, nil
}

// advance records that batch seq has run (or was given up).
func (in *instance) advance(seq uint64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if seq >= in.next {
		in.next = seq + 1
		close(in.advanced)
		in.advanced = make(chan struct{})
	}
}

// callSafe runs f, turning a panic into an error.
func callSafe[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}
