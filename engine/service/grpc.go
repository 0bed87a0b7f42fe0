package service

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/kgen-dev/kgen/svc"
)

// grpcTarget turns an interface address (tcp://host:port or host:port) into
// a dial target.
func grpcTarget(address string) (string, error) {
	target := address
	if i := strings.Index(address, "://"); i >= 0 {
		u, err := url.Parse(address)
		if err != nil {
			return "", fmt.Errorf("grpc address %q: %v", address, err)
		}
		switch u.Scheme {
		case "tcp", "grpc", "grpcs":
		default:
			return "", fmt.Errorf("grpc address %q: want tcp://host:port or host:port", address)
		}
		target = u.Host
	}
	if target == "" || !strings.Contains(target, ":") {
		return "", fmt.Errorf("grpc address %q: want tcp://host:port or host:port", address)
	}
	return target, nil
}

// grpcConnKey identifies a pooled connection: interfaces share a conn only
// when they dial the same target with the same security.
type grpcConnKey struct {
	target             string
	tls                bool
	insecureSkipVerify bool
}

// grpcPooledConn is one shared connection and its users.
type grpcPooledConn struct {
	key  grpcConnKey
	refs int
	conn *grpc.ClientConn
}

// grpcConnPool shares one *grpc.ClientConn per target between invokers; the
// conn closes when its last invoker closes.
type grpcConnPool struct {
	mu    sync.Mutex
	conns map[grpcConnKey]*grpcPooledConn
}

var grpcConns = &grpcConnPool{conns: map[grpcConnKey]*grpcPooledConn{}}

func (p *grpcConnPool) acquire(key grpcConnKey) (*grpcPooledConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pc := p.conns[key]; pc != nil {
		pc.refs++
		return pc, nil
	}
	conn, err := dialGRPC(key)
	if err != nil {
		return nil, err
	}
	pc := &grpcPooledConn{key: key, refs: 1, conn: conn}
	p.conns[key] = pc
	return pc, nil
}

// current returns pc's live conn, re-dialling it if it was shut down.
func (p *grpcConnPool) current(pc *grpcPooledConn) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pc.refs <= 0 {
		return nil, errors.New("invoker closed")
	}
	if pc.conn.GetState() == connectivity.Shutdown {
		conn, err := dialGRPC(pc.key)
		if err != nil {
			return nil, err
		}
		pc.conn = conn
	}
	return pc.conn, nil
}

func (p *grpcConnPool) release(pc *grpcPooledConn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	pc.refs--
	if pc.refs > 0 {
		return nil
	}
	if p.conns[pc.key] == pc {
		delete(p.conns, pc.key)
	}
	return pc.conn.Close()
}

// refs reports how many invokers share the conn to key (for tests).
func (p *grpcConnPool) refs(key grpcConnKey) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pc := p.conns[key]; pc != nil {
		return pc.refs
	}
	return 0
}

func dialGRPC(key grpcConnKey) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if key.tls {
		creds = credentials.NewTLS(&tls.Config{InsecureSkipVerify: key.insecureSkipVerify})
	}
	// A short backoff cap: a restarted server is found within seconds, and a
	// call on a failed conn resets the backoff anyway.
	bo := backoff.DefaultConfig
	bo.MaxDelay = 5 * time.Second
	conn, err := grpc.NewClient(key.target,
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: 5 * time.Second}),
	)
	if err != nil {
		return nil, fmt.Errorf("dial grpc %q: %w", key.target, err)
	}
	return conn, nil
}

// grpcReconnectWait bounds how long a call on a failed conn waits for the
// reconnect it starts.
const grpcReconnectWait = 500 * time.Millisecond

type grpcInvoker struct {
	address string
	policy  callPolicy
	pool    *grpcConnPool
	pc      *grpcPooledConn

	headers []string   // policy.headers as metadata pairs
	names   sync.Map   // protoreflect.MethodDescriptor → its wire name
	mu      sync.Mutex // serialises Close
	closed  atomic.Bool
}

// grpcKeyOf is the connection iface calls through: its target and TLS
// settings.
func grpcKeyOf(iface *svc.Interface) (grpcConnKey, error) {
	target, err := grpcTarget(iface.Address)
	if err != nil {
		return grpcConnKey{}, err
	}
	key := grpcConnKey{target: target}
	if o := iface.Options; o != nil {
		key.tls = o.TLS
		key.insecureSkipVerify = o.InsecureSkipVerify
	}
	if strings.HasPrefix(iface.Address, "grpcs://") {
		key.tls = true
	}
	return key, nil
}

func newGRPCInvoker(iface *svc.Interface) (*grpcInvoker, error) {
	key, err := grpcKeyOf(iface)
	if err != nil {
		return nil, err
	}
	pc, err := grpcConns.acquire(key)
	if err != nil {
		return nil, err
	}
	g := &grpcInvoker{address: iface.Address, policy: policyOf(iface.Options), pool: grpcConns, pc: pc}
	if len(g.policy.headers) > 0 {
		g.headers = flattenHeaders(g.policy.headers)
	}
	return g, nil
}

// grpcMethodName is the wire name of m: /pkg.Service/Method.
func grpcMethodName(m protoreflect.MethodDescriptor) string {
	return "/" + string(m.Parent().FullName()) + "/" + string(m.Name())
}

// methodName is the wire name of m, computed once.
func (g *grpcInvoker) methodName(m protoreflect.MethodDescriptor) string {
	if n, ok := g.names.Load(m); ok {
		return n.(string)
	}
	name := grpcMethodName(m)
	g.names.Store(m, name)
	return name
}

func (g *grpcInvoker) Invoke(ctx context.Context, m protoreflect.MethodDescriptor, req proto.Message) (proto.Message, error) {
	name := g.methodName(m)
	if len(g.headers) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, g.headers...)
	}
	var resp *dynamicpb.Message
	err := g.policy.withRetries(ctx, func(ctx context.Context) error {
		resp = dynamicpb.NewMessage(m.Output())
		return g.invokeOnce(ctx, name, req, resp)
	})
	if err != nil {
		return nil, fmt.Errorf("grpc call %s at %q: %w", name, g.address, err)
	}
	return resp, nil
}

// InvokeSQL marshals req and calls the rpc as invokeWire does; a request
// that does not marshal goes through Invoke, for its error.
func (g *grpcInvoker) InvokeSQL(ctx context.Context, m protoreflect.MethodDescriptor, req proto.Message) (any, error) {
	wire, err := proto.Marshal(req)
	if err != nil {
		resp, err := g.Invoke(ctx, m, req)
		if err != nil {
			return nil, err
		}
		return svc.ToSQL(resp), nil
	}
	return g.invokeWire(ctx, m, wire)
}

// invokeWire calls rpc m with an encoded request and returns the reply as
// SQL, decoded straight from the wire (svc.DecodeToSQL): the gRPC call of
// an external function, with no message on either side.
func (g *grpcInvoker) invokeWire(ctx context.Context, m protoreflect.MethodDescriptor, req []byte) (any, error) {
	name := g.methodName(m)
	if len(g.headers) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, g.headers...)
	}
	call := &wireCall{req: req, out: m.Output()}
	err := g.policy.withRetries(ctx, func(ctx context.Context) error {
		call.res = nil
		return g.invokeOnce(ctx, name, call, call, wireCallOption)
	})
	if err != nil {
		return nil, fmt.Errorf("grpc call %s at %q: %w", name, g.address, err)
	}
	return call.res, nil
}

// execGRPC is function.exec for an rpc over gRPC: the arguments are
// encoded with svc.EncodeRequest (BuildRequest's coercions and errors) and
// the reply decoded to SQL, without messages.
func (f *function) execGRPC(ctx context.Context, args []any) (any, bool) {
	e := f.entry
	wire, encErr := svc.EncodeRequest(e.info.FuncName, e.method.Input(), args)
	var req proto.Message
	if encErr != nil {
		// A coercion error, or a request Marshal refuses: the latter fails
		// in the call, as it always has.
		m, err := svc.BuildRequest(e.info.FuncName, e.method.Input(), args)
		if err != nil {
			return err, false
		}
		req = m
	}
	inv, err := f.invokers.get(e.invKey, e.iface)
	if err != nil {
		return fmt.Errorf("function %q: %w", e.info.FuncName, err), false
	}
	var res any
	if g, ok := inv.(*grpcInvoker); ok && req == nil {
		res, err = g.invokeWire(ctx, e.method, wire)
	} else {
		if req == nil {
			req, _ = svc.BuildRequest(e.info.FuncName, e.method.Input(), args)
		}
		res, err = inv.InvokeSQL(ctx, e.method, req)
	}
	if err != nil {
		return fmt.Errorf("function %q: %w", e.info.FuncName, err), false
	}
	return res, true
}

// wireCall is the request and reply of one call through wireCodec.
type wireCall struct {
	req []byte
	out protoreflect.MessageDescriptor
	res any
}

// wireCodec sends a wireCall's encoded request as it is and decodes the
// reply straight to SQL. Calls choose it with wireCallOption; the conn's
// other calls keep the proto codec. Its name is "proto", so the content
// type says the bytes are protobuf, which they are.
type wireCodec struct{}

var wireCallOption = grpc.ForceCodecV2(wireCodec{})

func (wireCodec) Marshal(v any) (mem.BufferSlice, error) {
	c, ok := v.(*wireCall)
	if !ok {
		return nil, fmt.Errorf("wire codec: cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(c.req)}, nil
}

// Unmarshal decodes in place: the buffers are reused once it returns, and
// DecodeToSQL keeps no reference to them.
func (wireCodec) Unmarshal(data mem.BufferSlice, v any) error {
	c, ok := v.(*wireCall)
	if !ok {
		return fmt.Errorf("wire codec: cannot unmarshal into %T", v)
	}
	var b []byte
	if len(data) == 1 {
		b = data[0].ReadOnlyData()
	} else {
		b = data.Materialize()
	}
	res, err := svc.DecodeToSQL(c.out, b)
	if err != nil {
		return err
	}
	c.res = res
	return nil
}

func (wireCodec) Name() string { return "proto" }

func (g *grpcInvoker) invokeOnce(parent context.Context, name string, req, resp any, opts ...grpc.CallOption) error {
	if g.closed.Load() {
		return errors.New("invoker closed")
	}
	conn, err := g.pool.current(g.pc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(parent, g.policy.timeout)
	defer cancel()
	if conn.GetState() == connectivity.TransientFailure {
		// grpc-go would wait out its backoff and fail this call fast; try
		// to connect now instead, so a restarted server is used at once.
		// pick_first keeps reporting TRANSIENT_FAILURE until a connection
		// is READY, so the wait is short: a server still down fails fast.
		conn.ResetConnectBackoff()
		wctx, wcancel := context.WithTimeout(ctx, min(g.policy.timeout/2, grpcReconnectWait))
		conn.WaitForStateChange(wctx, connectivity.TransientFailure)
		wcancel()
	}
	err = safeInvoke(ctx, conn, name, req, resp, opts...)
	if err == nil {
		return nil
	}
	if parent.Err() != nil {
		return err
	}
	switch status.Code(err) {
	case codes.DeadlineExceeded:
		// The server may see the deadline pass a moment before we do.
		if dl, _ := ctx.Deadline(); ctx.Err() != nil || time.Until(dl) < 50*time.Millisecond {
			return markRetryable(fmt.Errorf("timed out after %v", g.policy.timeout))
		}
		return markRetryable(err)
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted:
		return markRetryable(err)
	}
	return err
}

// safeInvoke is conn.Invoke, with a panic in decoding the response turned
// into an error: protobuf-go (v1.36.12) panics decoding into a dynamicpb
// message a map entry whose key has the wrong wire type, which a garbage
// server can send. (svc.DecodeToSQL, which the wire codec uses, returns
// an error instead.)
func safeInvoke(ctx context.Context, conn *grpc.ClientConn, name string, req, resp any, opts ...grpc.CallOption) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = status.Errorf(codes.Internal, "decoding the response: %v", r)
		}
	}()
	return conn.Invoke(ctx, name, req, resp, opts...)
}

func (g *grpcInvoker) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed.Swap(true) {
		return nil
	}
	return g.pool.release(g.pc)
}

func flattenHeaders(h map[string]string) []string {
	kv := make([]string, 0, 2*len(h))
	for k, v := range h {
		kv = append(kv, strings.ToLower(k), v)
	}
	return kv
}
