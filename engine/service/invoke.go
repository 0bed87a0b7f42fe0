package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/kgen-dev/kgen/svc"
)

// Invoker calls the rpcs of one interface over its transport.
type Invoker interface {
	// Invoke calls one rpc with a request message (a *dynamicpb.Message of
	// m.Input()) and returns the response (of m.Output()).
	Invoke(ctx context.Context, m protoreflect.MethodDescriptor, req proto.Message) (proto.Message, error)
	// InvokeSQL calls one rpc as Invoke does and returns the response as
	// the SQL value a function call gives. Over gRPC that is svc.ToSQL of
	// it, every field present: binary protobuf does not say whether a
	// field without presence was sent. Over REST, a JSON reply keeps only
	// the keys the service sent, as in eKuiper (svc.HTTPCall.ResponseToSQL).
	InvokeSQL(ctx context.Context, m protoreflect.MethodDescriptor, req proto.Message) (any, error)
	Close() error
}

// SchemalessInvoker calls a REST interface without a schema:
// fn(method, path, args...).
type SchemalessInvoker interface {
	Call(ctx context.Context, method, path string, args []any) (any, error)
	Close() error
}

// Transport defaults, used when Options leave them zero.
const (
	defaultCallTimeout   = 5 * time.Second
	defaultRetryInterval = time.Second
)

// NewInvoker returns the invoker for iface.Protocol ("grpc" or "rest").
func NewInvoker(iface *svc.Interface) (Invoker, error) {
	if iface == nil {
		return nil, errors.New("new invoker: nil interface")
	}
	switch iface.Protocol {
	case svc.ProtocolGRPC:
		return newGRPCInvoker(iface)
	case svc.ProtocolREST:
		return newRESTInvoker(iface)
	default:
		return nil, fmt.Errorf("interface at %q: unknown protocol %q, want %q or %q",
			iface.Address, iface.Protocol, svc.ProtocolGRPC, svc.ProtocolREST)
	}
}

// NewSchemalessInvoker returns the invoker of a schemaless REST interface.
func NewSchemalessInvoker(iface *svc.Interface) (SchemalessInvoker, error) {
	if iface == nil {
		return nil, errors.New("new schemaless invoker: nil interface")
	}
	if iface.Protocol != svc.ProtocolREST {
		return nil, fmt.Errorf("interface at %q: schemaless needs protocol %q, got %q",
			iface.Address, svc.ProtocolREST, iface.Protocol)
	}
	return newSchemalessInvoker(iface)
}

// callPolicy is the timeout and retry policy from Options, defaults applied.
type callPolicy struct {
	timeout       time.Duration
	retries       int
	retryInterval time.Duration
	headers       map[string]string
}

func policyOf(o *svc.Options) callPolicy {
	p := callPolicy{timeout: defaultCallTimeout, retryInterval: defaultRetryInterval}
	if o == nil {
		return p
	}
	if o.Timeout > 0 {
		p.timeout = time.Duration(o.Timeout)
	}
	if o.RetryCount > 0 {
		p.retries = o.RetryCount
	}
	if o.RetryInterval > 0 {
		p.retryInterval = time.Duration(o.RetryInterval)
	}
	p.headers = o.Headers
	return p
}

// retryableError marks a failure that may pass on a second try.
type retryableError struct{ err error }

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

func markRetryable(err error) error { return &retryableError{err} }

func isRetryableCall(err error) bool {
	var r *retryableError
	return errors.As(err, &r)
}

// withRetries runs attempt once, then again up to p.retries times while it
// fails retryably, p.retryInterval apart; ctx bounds the whole.
func (p callPolicy) withRetries(ctx context.Context, attempt func(context.Context) error) error {
	for n := 0; ; n++ {
		err := attempt(ctx)
		if err == nil || n >= p.retries || !isRetryableCall(err) {
			return err
		}
		t := time.NewTimer(p.retryInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
