package svc

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/kgen-dev/kgen/internal/layout"
	"github.com/kgen-dev/kgen/sdk"
)

// fnContext is the sdk.FunctionContext of a call from a rule of the
// engine at root.
type fnContext struct {
	context.Context
	root string
}

func (c fnContext) GetLogger() *slog.Logger        { return slog.New(slog.DiscardHandler) }
func (c fnContext) GetRuleId() string              { return "rule" }
func (c fnContext) GetOpId() string                { return "op" }
func (c fnContext) GetInstanceId() int             { return 0 }
func (c fnContext) GetRootPath() string            { return c.root }
func (c fnContext) PutState(string, any) error     { return nil }
func (c fnContext) GetState(string) (any, error)   { return nil, nil }
func (c fnContext) IncrCounter(string, int) error  { return nil }
func (c fnContext) GetCounter(string) (int, error) { return 0, nil }
func (c fnContext) DeleteState(string) error       { return nil }
func (c fnContext) GetFuncId() int                 { return 0 }

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// startEchoServer serves, without a schema, /test.Echo/Upper (a
// StringValue, upper-cased) and /test.Echo/Slow (which answers after a
// second); other methods are unimplemented.
func startEchoServer(t *testing.T) (string, *countingListener) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	s := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(stream)
		in := &wrapperspb.StringValue{}
		if err := stream.RecvMsg(in); err != nil {
			return err
		}
		switch method {
		case "/test.Echo/Upper":
			return stream.SendMsg(wrapperspb.String(strings.ToUpper(in.GetValue())))
		case "/test.Echo/Slow":
			select {
			case <-stream.Context().Done():
				return stream.Context().Err()
			case <-time.After(time.Second):
			}
			return stream.SendMsg(in)
		}
		return status.Errorf(codes.Unimplemented, "method %s not implemented", method)
	}))
	go s.Serve(cl)
	t.Cleanup(s.Stop)
	return l.Addr().String(), cl
}

// writeDescription writes the description of service name into a new
// engine root and returns the root.
func writeDescription(t *testing.T, name, desc string) string {
	t.Helper()
	root := t.TempDir()
	path := layout.Root(root).ServiceFile(name)
	if err := os.MkdirAll(layout.Root(root).Services(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(desc), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func upper(t *testing.T, c *GRPCClient, ctx sdk.FunctionContext, s string) (string, error) {
	t.Helper()
	resp := &wrapperspb.StringValue{}
	err := c.Invoke(ctx, "upper", "/test.Echo/Upper", wrapperspb.String(s), resp)
	return resp.GetValue(), err
}

// The defaults apply without an engine root, or when it holds no
// description of the service; the calls share one connection.
func TestGRPCClientDefaults(t *testing.T) {
	addr, l := startEchoServer(t)
	for _, ctx := range []sdk.FunctionContext{nil, fnContext{context.Background(), ""}, fnContext{context.Background(), t.TempDir()}} {
		c := NewGRPCClient("echo", "tcp://"+addr+"/", time.Minute)
		for _, in := range []string{"a", "b"} {
			got, err := upper(t, c, ctx, in)
			if err != nil || got != strings.ToUpper(in) {
				t.Errorf("upper(%q) = %q, %v", in, got, err)
			}
		}
		if c.address != addr || c.timeout != time.Minute {
			t.Errorf("resolved %s, %v; want %s, 1m0s", c.address, c.timeout, addr)
		}
		c.Close()
	}
	if n := l.accepted.Load(); n != 3 {
		t.Errorf("%d connections for 3 clients", n)
	}
}

// The service description in the engine root names the address and
// timeout: its first grpc interface in name order.
func TestGRPCClientDescription(t *testing.T) {
	addr, _ := startEchoServer(t)
	root := writeDescription(t, "echo", `{"interfaces": {
		"a": {"address": "http://127.0.0.1:1", "protocol": "rest"},
		"b": {"address": "tcp://`+addr+`", "protocol": "grpc", "options": {"timeout": "100ms"}},
		"c": {"address": "127.0.0.1:1", "protocol": "grpc"}}}`)
	c := NewGRPCClient("echo", "127.0.0.1:1", time.Minute)
	defer c.Close()
	ctx := fnContext{context.Background(), root}
	if got, err := upper(t, c, ctx, "x"); err != nil || got != "X" {
		t.Fatalf("upper = %q, %v", got, err)
	}
	err := c.Invoke(ctx, "slow", "/test.Echo/Slow", wrapperspb.String("x"), &wrapperspb.StringValue{})
	// The description's 100ms timeout ended the call. gRPC words the
	// deadline in one of two ways depending on which side notices first
	// ("context deadline exceeded" or a stream reset), so the code is
	// checked, after the text kgen adds.
	if prefix := `function "slow": call /test.Echo/Slow at ` + addr + `: rpc error: code = DeadlineExceeded desc = `; err == nil || !strings.HasPrefix(err.Error(), prefix) || status.Code(errors.Unwrap(err)) != codes.DeadlineExceeded {
		t.Errorf("slow: %v\nwant %s...", err, prefix)
	}
	// The first call fixed the address: a later root does not change it.
	if got, err := upper(t, c, fnContext{context.Background(), t.TempDir()}, "y"); err != nil || got != "Y" {
		t.Errorf("upper after = %q, %v", got, err)
	}

	// Without a timeout in the description, the default stays.
	root = writeDescription(t, "echo", `{"interfaces": {"b": {"address": "`+addr+`", "protocol": "grpc"}}}`)
	c2 := NewGRPCClient("echo", "127.0.0.1:1", 42*time.Second)
	defer c2.Close()
	if got, err := upper(t, c2, fnContext{context.Background(), root}, "z"); err != nil || got != "Z" || c2.timeout != 42*time.Second {
		t.Errorf("upper = %q, %v; timeout %v", got, err, c2.timeout)
	}
}

func TestGRPCClientErrors(t *testing.T) {
	addr, _ := startEchoServer(t)

	// A description that does not parse fails every call.
	root := writeDescription(t, "echo", `{"interfaces": {"b": {"adress": "x"}}}`)
	c := NewGRPCClient("echo", addr, time.Minute)
	path := layout.Root(root).ServiceFile("echo")
	want := `function "upper": service description ` + path + `: json: unknown field "adress"`
	for range 2 {
		if _, err := upper(t, c, fnContext{context.Background(), root}, "x"); err == nil || err.Error() != want {
			t.Errorf("bad description: %v\nwant %s", err, want)
		}
	}

	// A description that cannot be read is reported as the file system says.
	root = t.TempDir()
	if err := os.MkdirAll(layout.Root(root).ServiceFile("echo"), 0o755); err != nil {
		t.Fatal(err)
	}
	c = NewGRPCClient("echo", addr, time.Minute)
	want = `function "upper": read ` + layout.Root(root).ServiceFile("echo") + `: is a directory`
	if _, err := upper(t, c, fnContext{context.Background(), root}, "x"); err == nil || err.Error() != want {
		t.Errorf("unreadable description: %v\nwant %s", err, want)
	}

	c = NewGRPCClient("echo", "%zz", time.Minute)
	want = `function "upper": connect %zz: parse "dns:///%zz": invalid URL escape "%zz"`
	if _, err := upper(t, c, nil, "x"); err == nil || err.Error() != want {
		t.Errorf("bad address: %v\nwant %s", err, want)
	}

	c = NewGRPCClient("echo", addr, time.Minute)
	defer c.Close()
	err := c.Invoke(nil, "nope", "/test.Echo/Nope", wrapperspb.String("x"), &wrapperspb.StringValue{})
	want = `function "nope": call /test.Echo/Nope at ` + addr + `: rpc error: code = Unimplemented desc = method /test.Echo/Nope not implemented`
	if err == nil || err.Error() != want {
		t.Errorf("unimplemented: %v\nwant %s", err, want)
	}

	// The caller's context bounds the call too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = c.Invoke(fnContext{ctx, ""}, "upper", "/test.Echo/Upper", wrapperspb.String("x"), &wrapperspb.StringValue{})
	if want := "rpc error: code = Canceled"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("cancelled: %v, want %s", err, want)
	}
}

func TestValidateArgs(t *testing.T) {
	lit := func(v any) sdk.Arg { return sdk.Arg{Kind: sdk.ArgLiteral, Value: v} }
	field := sdk.Arg{Kind: sdk.ArgField, Name: "x"}
	for _, tc := range []struct {
		req  proto.Message
		args []sdk.Arg
		want string
	}{
		{&wrapperspb.StringValue{}, []sdk.Arg{lit("a")}, ""},
		{&wrapperspb.StringValue{}, []sdk.Arg{field}, ""},
		{&wrapperspb.StringValue{}, []sdk.Arg{lit(int64(1))}, `function "f": field "value": want string, got int64 1`},
		{&wrapperspb.StringValue{}, []sdk.Arg{lit("a"), field}, `function "f": want 1 argument (value), got 2 arguments`},
		{&emptypb.Empty{}, nil, ""},
		{&emptypb.Empty{}, []sdk.Arg{field}, `function "f": want no arguments, got 1 argument`},
	} {
		err := ValidateArgs("f", tc.req, tc.args)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("ValidateArgs(%T, %v) = %s, want %s", tc.req, tc.args, got, tc.want)
		}
	}
}
