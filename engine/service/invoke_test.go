package service

import (
	"context"
	"errors"
	"testing"
	"time"

	_ "google.golang.org/genproto/googleapis/api/annotations"
	_ "google.golang.org/protobuf/types/known/emptypb"
	_ "google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/kgen-dev/kgen/svc"
)

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
