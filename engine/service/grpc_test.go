package service

import (
	"context"
	"net"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/kgen-dev/kgen/internal/testutil/prototest"
	"github.com/kgen-dev/kgen/svc"
)

// grpcTestServer serves the Greeter of transport.proto with dynamic
// messages, counting calls; it can fail the next calls with a code.
type grpcTestServer struct {
	addr     string
	srv      *grpc.Server
	calls    atomic.Int64
	fail     atomic.Int64
	failCode codes.Code

	mu sync.Mutex
	md metadata.MD
}

func startGRPCTestServer(t *testing.T, addr string) *grpcTestServer {
	t.Helper()
	svc := prototest.Transport(t).Services().ByName("Greeter")
	var lis net.Listener
	var err error
	for i := 0; i < 50; i++ { // a just-closed port may take a moment to free
		if lis, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s := &grpcTestServer{addr: lis.Addr().String(), failCode: codes.Unavailable}
	s.srv = grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		full, _ := grpc.MethodFromServerStream(stream)
		m := svc.Methods().ByName(protoreflect.Name(full[strings.LastIndexByte(full, '/')+1:]))
		if m == nil {
			return status.Errorf(codes.Unimplemented, "no method %s", full)
		}
		in := dynamicpb.NewMessage(m.Input())
		if err := stream.RecvMsg(in); err != nil {
			return err
		}
		s.calls.Add(1)
		md, _ := metadata.FromIncomingContext(stream.Context())
		s.mu.Lock()
		s.md = md
		s.mu.Unlock()
		if s.fail.Load() > 0 {
			s.fail.Add(-1)
			return status.Error(s.failCode, "not now")
		}
		out := dynamicpb.NewMessage(m.Output())
		field := func(msg protoreflect.Message, name string) protoreflect.FieldDescriptor {
			return msg.Descriptor().Fields().ByName(protoreflect.Name(name))
		}
		switch m.Name() {
		case "Slow":
			select {
			case <-stream.Context().Done():
				return stream.Context().Err()
			case <-time.After(5 * time.Second):
			}
			fallthrough
		case "SayHello":
			out.Set(field(out, "message"), protoreflect.ValueOfString("hello "+in.Get(field(in, "name")).String()))
			out.Set(field(out, "count"), protoreflect.ValueOfInt64(in.Get(field(in, "big")).Int()+1))
		case "Upper":
			out.Set(field(out, "value"), protoreflect.ValueOfString(strings.ToUpper(in.Get(field(in, "value")).String())))
		}
		return stream.SendMsg(out)
	}))
	go s.srv.Serve(lis)
	t.Cleanup(s.srv.Stop)
	return s
}

func (s *grpcTestServer) metadata() metadata.MD {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.md
}

func helloRequest(t *testing.T, name string, big int64) (protoreflect.MethodDescriptor, proto.Message) {
	m := prototest.TransportMethod(t, "SayHello")
	req := dynamicpb.NewMessage(m.Input())
	req.Set(m.Input().Fields().ByName("name"), protoreflect.ValueOfString(name))
	req.Set(m.Input().Fields().ByName("big"), protoreflect.ValueOfInt64(big))
	return m, req
}

func newTestGRPCInvoker(t *testing.T, addr string, o *svc.Options) Invoker {
	t.Helper()
	inv, err := NewInvoker(&svc.Interface{Address: addr, Protocol: svc.ProtocolGRPC, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inv.Close() })
	return inv
}

func wantHello(t *testing.T, resp proto.Message, err error, msg string, count int64) {
	t.Helper()
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	r := resp.ProtoReflect()
	f := r.Descriptor().Fields()
	if got := r.Get(f.ByName("message")).String(); got != msg {
		t.Errorf("message = %q, want %q", got, msg)
	}
	if got := r.Get(f.ByName("count")).Int(); got != count {
		t.Errorf("count = %d, want %d", got, count)
	}
}

func TestGRPCRoundTripAndHeaders(t *testing.T) {
	s := startGRPCTestServer(t, "127.0.0.1:0")
	inv := newTestGRPCInvoker(t, "tcp://"+s.addr, &svc.Options{Headers: map[string]string{"X-Tenant": "acme"}})
	m, req := helloRequest(t, "world", 41)
	resp, err := inv.Invoke(context.Background(), m, req)
	wantHello(t, resp, err, "hello world", 42)
	if got := s.metadata().Get("x-tenant"); len(got) != 1 || got[0] != "acme" {
		t.Errorf("metadata x-tenant = %v, want [acme]", got)
	}

	up := prototest.TransportMethod(t, "Upper")
	in := dynamicpb.NewMessage(up.Input())
	in.Set(up.Input().Fields().ByName("value"), protoreflect.ValueOfString("abc"))
	out, err := inv.Invoke(context.Background(), up, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.ProtoReflect().Get(up.Output().Fields().ByName("value")).String(); got != "ABC" {
		t.Errorf("Upper = %q", got)
	}
}

// TestGRPCInvokeSQL: a gRPC reply maps every field, those left at their
// zero value too: binary protobuf does not say which were sent.
func TestGRPCInvokeSQL(t *testing.T) {
	s := startGRPCTestServer(t, "127.0.0.1:0")
	inv := newTestGRPCInvoker(t, "tcp://"+s.addr, nil)
	m, req := helloRequest(t, "w", -1)
	got, err := inv.InvokeSQL(context.Background(), m, req)
	if want := map[string]any{"message": "hello w", "count": int64(0), "reply_text": ""}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, %v\nwant %#v", got, err, want)
	}
}

func TestGRPCServerDownThenRestarted(t *testing.T) {
	s := startGRPCTestServer(t, "127.0.0.1:0")
	inv := newTestGRPCInvoker(t, s.addr, &svc.Options{Timeout: svc.Duration(2 * time.Second)})
	m, req := helloRequest(t, "a", 0)
	resp, err := inv.Invoke(context.Background(), m, req)
	wantHello(t, resp, err, "hello a", 1)

	s.srv.Stop()
	start := time.Now()
	_, err = inv.Invoke(context.Background(), m, req)
	if err == nil {
		t.Fatal("call to a stopped server: no error")
	}
	prefix := `grpc call /transport.test.Greeter/SayHello at "` + s.addr + `": rpc error: code = Unavailable`
	if !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("error = %v\nwant prefix %s", err, prefix)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("down call took %v", d)
	}
	// a second failed call leaves the conn in TRANSIENT_FAILURE with backoff
	start = time.Now()
	if _, err = inv.Invoke(context.Background(), m, req); err == nil {
		t.Fatal("second call to a stopped server: no error")
	}
	if d := time.Since(start); d > grpcReconnectWait+time.Second {
		t.Errorf("second down call took %v: %v", d, err)
	}

	// Exercise the TRANSIENT_FAILURE path: grpc-go would otherwise fail
	// the next call fast until its backoff ends.
	conn := inv.(*grpcInvoker).pc.conn
	for deadline := time.Now().Add(3 * time.Second); conn.GetState() != connectivity.TransientFailure; {
		if time.Now().After(deadline) {
			t.Fatalf("conn state %v, want TRANSIENT_FAILURE", conn.GetState())
		}
		conn.Connect()
		time.Sleep(10 * time.Millisecond)
	}
	startGRPCTestServer(t, s.addr)
	start = time.Now()
	resp, err = inv.Invoke(context.Background(), m, req)
	if d := time.Since(start); d > grpcReconnectWait+time.Second {
		t.Errorf("call after restart took %v", d)
	}
	wantHello(t, resp, err, "hello a", 1)
}

func TestGRPCTimeout(t *testing.T) {
	s := startGRPCTestServer(t, "127.0.0.1:0")
	inv := newTestGRPCInvoker(t, s.addr, &svc.Options{Timeout: svc.Duration(200 * time.Millisecond)})
	m := prototest.TransportMethod(t, "Slow")
	start := time.Now()
	_, err := inv.Invoke(context.Background(), m, dynamicpb.NewMessage(m.Input()))
	d := time.Since(start)
	want := `grpc call /transport.test.Greeter/Slow at "` + s.addr + `": timed out after 200ms`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	if d > 200*time.Millisecond+time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func TestGRPCRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		code      codes.Code
		fail      int64
		retries   int
		wantCalls int64
		wantErr   bool
	}{
		{"unavailable then ok", codes.Unavailable, 2, 3, 3, false},
		{"resource exhausted then ok", codes.ResourceExhausted, 1, 1, 2, false},
		{"aborted then ok", codes.Aborted, 1, 1, 2, false},
		{"unavailable past retries", codes.Unavailable, 10, 2, 3, true},
		{"invalid argument not retried", codes.InvalidArgument, 10, 3, 1, true},
		{"not found not retried", codes.NotFound, 10, 3, 1, true},
		{"no retries", codes.Unavailable, 10, 0, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startGRPCTestServer(t, "127.0.0.1:0")
			s.failCode = tc.code
			s.fail.Store(tc.fail)
			inv := newTestGRPCInvoker(t, s.addr, &svc.Options{RetryCount: tc.retries, RetryInterval: svc.Duration(10 * time.Millisecond)})
			m, req := helloRequest(t, "r", 0)
			_, err := inv.Invoke(context.Background(), m, req)
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil && status.Code(errorsUnwrapAll(err)) != tc.code {
				t.Errorf("err = %v, want code %v", err, tc.code)
			}
			if got := s.calls.Load(); got != tc.wantCalls {
				t.Errorf("server saw %d calls, want %d", got, tc.wantCalls)
			}
		})
	}
}

// errorsUnwrapAll returns the innermost error, where the gRPC status is.
func errorsUnwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestGRPCPoolSharesAndReleases(t *testing.T) {
	before := runtime.NumGoroutine()
	s := startGRPCTestServer(t, "127.0.0.1:0")
	key := grpcConnKey{target: s.addr}
	a, err := NewInvoker(&svc.Interface{Address: "tcp://" + s.addr, Protocol: svc.ProtocolGRPC})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewInvoker(&svc.Interface{Address: s.addr, Protocol: svc.ProtocolGRPC})
	if err != nil {
		t.Fatal(err)
	}
	if n := grpcConns.refs(key); n != 2 {
		t.Fatalf("refs = %d, want 2", n)
	}
	ga, gb := a.(*grpcInvoker), b.(*grpcInvoker)
	if ga.pc != gb.pc {
		t.Fatal("two invokers of one address do not share a conn")
	}
	conn := ga.pc.conn
	m, req := helloRequest(t, "p", 0)
	for _, inv := range []Invoker{a, b} {
		resp, err := inv.Invoke(context.Background(), m, req)
		wantHello(t, resp, err, "hello p", 1)
	}
	a.Close()
	a.Close() // twice is harmless
	if n := grpcConns.refs(key); n != 1 || conn.GetState() == connectivity.Shutdown {
		t.Fatalf("after one Close: refs = %d, state %v", n, conn.GetState())
	}
	if _, err := a.Invoke(context.Background(), m, req); err == nil || !strings.HasSuffix(err.Error(), "invoker closed") {
		t.Errorf("invoke after Close = %v", err)
	}
	b.Close()
	if n := grpcConns.refs(key); n != 0 || conn.GetState() != connectivity.Shutdown {
		t.Fatalf("after both Close: refs = %d, state %v", n, conn.GetState())
	}
	s.srv.Stop()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
