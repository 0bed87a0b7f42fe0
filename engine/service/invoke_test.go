package service

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	_ "google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	_ "google.golang.org/protobuf/types/known/emptypb"
	_ "google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/kgen-dev/kgen/svc"
)

var (
	transportProtoOnce sync.Once
	transportProto     protoreflect.FileDescriptor
	transportProtoErr  error
)

// transportFile compiles svc's testdata/transport/transport.proto; imports
// outside testdata come from the linked-in registry.
func transportFile(t testing.TB) protoreflect.FileDescriptor {
	t.Helper()
	transportProtoOnce.Do(func() {
		dir := filepath.Join("..", "..", "svc", "testdata", "transport")
		c := protocompile.Compiler{Resolver: protocompile.CompositeResolver{
			&protocompile.SourceResolver{Accessor: func(path string) (_ io.ReadCloser, err error) {
				return os.Open(filepath.Join(dir, path))
			}},
			protocompile.ResolverFunc(func(path string) (protocompile.SearchResult, error) {
				fd, err := protoregistry.GlobalFiles.FindFileByPath(path)
				if err != nil {
					return protocompile.SearchResult{}, err
				}
				return protocompile.SearchResult{Desc: fd}, nil
			}),
		}}
		files, err := c.Compile(context.Background(), "transport.proto")
		if err != nil {
			transportProtoErr = err
			return
		}
		transportProto = files[0]
	})
	if transportProtoErr != nil {
		t.Fatalf("compile transport.proto: %v", transportProtoErr)
	}
	return transportProto
}

// transportMethod finds an rpc of the Greeter service.
func transportMethod(t testing.TB, name string) protoreflect.MethodDescriptor {
	t.Helper()
	m := transportFile(t).Services().ByName("Greeter").Methods().ByName(protoreflect.Name(name))
	if m == nil {
		t.Fatalf("no rpc %q", name)
	}
	return m
}

func TestNewInvokerErrors(t *testing.T) {
	for _, tc := range []struct {
		iface *svc.Interface
		want  string
	}{
		{&svc.Interface{Address: "tcp://h:1", Protocol: "msgpack"}, `interface at "tcp://h:1": unknown protocol "msgpack", want "grpc" or "rest"`},
		{&svc.Interface{Address: "localhost", Protocol: "grpc"}, `grpc address "localhost": want tcp://host:port or host:port`},
		{&svc.Interface{Address: "ftp://h:1", Protocol: "grpc"}, `grpc address "ftp://h:1": want tcp://host:port or host:port`},
		{&svc.Interface{Address: "tcp://h:1", Protocol: "rest"}, `rest address "tcp://h:1": want http(s)://host:port[/base]`},
	} {
		_, err := NewInvoker(tc.iface)
		if err == nil || err.Error() != tc.want {
			t.Errorf("NewInvoker(%+v) = %v, want %q", tc.iface, err, tc.want)
		}
	}
	_, err := NewSchemalessInvoker(&svc.Interface{Address: "h:1", Protocol: "grpc"})
	if want := `interface at "h:1": schemaless needs protocol "rest", got "grpc"`; err == nil || err.Error() != want {
		t.Errorf("NewSchemalessInvoker = %v, want %q", err, want)
	}
}

func TestWithRetriesStopsOnContext(t *testing.T) {
	p := callPolicy{retries: 100, retryInterval: time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	calls := 0
	start := time.Now()
	err := p.withRetries(ctx, func(context.Context) error { calls++; return markRetryable(errors.New("down")) })
	if err == nil || calls != 1 || time.Since(start) > 2*time.Second {
		t.Fatalf("err=%v calls=%d after %v", err, calls, time.Since(start))
	}
}
