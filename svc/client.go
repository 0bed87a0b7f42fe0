package svc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/kgen-dev/kgen/internal/layout"
	"github.com/kgen-dev/kgen/sdk"
)

// GRPCClient calls the rpcs of one external service over gRPC. The
// function plugins that kgen generates from a .proto file (kgen gen
// client) share one per generated package.
//
// The first call fixes where calls go: when the engine root of its context
// holds the service's description, data/services/<service>.json, the
// address and options.timeout of its first grpc interface in name order;
// otherwise, or for what the description leaves out, the defaults the
// client was made with. An address may carry a scheme (tcp://host:port, as
// descriptions write it) and a trailing "/": gRPC dials host:port. All calls
// share one connection, without TLS, dialled on first use.
//
// A GRPCClient is safe for concurrent use.
type GRPCClient struct {
	service        string
	defaultAddress string
	defaultTimeout time.Duration

	once    sync.Once // resolves address, timeout and err
	address string
	timeout time.Duration
	err     error

	mu   sync.Mutex
	conn *grpc.ClientConn
}

// NewGRPCClient returns a client of the service named service (the base
// name of its description), that calls address with a timeout per call
// unless the service description says otherwise. It connects on first use.
func NewGRPCClient(service, address string, timeout time.Duration) *GRPCClient {
	return &GRPCClient{service: service, defaultAddress: address, defaultTimeout: timeout}
}

// Invoke calls method (a full gRPC method name, "/pkg.Service/Rpc") with
// req and fills resp, for the SQL function fn, which every error names.
// ctx bounds the call, along with the timeout; a nil ctx is a background
// context without an engine root.
func (c *GRPCClient) Invoke(ctx sdk.FunctionContext, fn, method string, req, resp proto.Message) error {
	var parent context.Context = context.Background()
	root := ""
	if ctx != nil {
		parent, root = ctx, ctx.GetRootPath()
	}
	c.once.Do(func() { c.address, c.timeout, c.err = c.resolve(root) })
	if c.err != nil {
		return fmt.Errorf("function %q: %w", fn, c.err)
	}
	conn, err := c.connection()
	if err != nil {
		return fmt.Errorf("function %q: %w", fn, err)
	}
	cctx, cancel := context.WithTimeout(parent, c.timeout)
	defer cancel()
	if err := conn.Invoke(cctx, method, req, resp); err != nil {
		return fmt.Errorf("function %q: call %s at %s: %w", fn, method, c.address, err)
	}
	return nil
}

// Close closes the connection, if there is one; a later call connects
// again.
func (c *GRPCClient) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

// resolve returns the address to dial and the call timeout: those of the
// service description under root when it exists, else the defaults.
func (c *GRPCClient) resolve(root string) (string, time.Duration, error) {
	address, timeout := c.defaultAddress, c.defaultTimeout
	if root != "" {
		path := layout.Root(root).ServiceFile(c.service)
		data, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return "", 0, err
		default:
			desc, err := ParseDescription(data)
			if err != nil {
				return "", 0, fmt.Errorf("service description %s: %w", path, err)
			}
			for _, name := range slices.Sorted(maps.Keys(desc.Interfaces)) {
				iface := desc.Interfaces[name]
				if iface == nil || iface.Protocol != ProtocolGRPC {
					continue
				}
				address = iface.Address
				if o := iface.Options; o != nil && o.Timeout > 0 {
					timeout = time.Duration(o.Timeout)
				}
				break
			}
		}
	}
	// Descriptions may say tcp://host:port; gRPC dials host:port.
	if _, rest, ok := strings.Cut(address, "://"); ok {
		address = rest
	}
	return strings.TrimSuffix(address, "/"), timeout, nil
}

// connection returns the connection the calls share, connecting on first
// use.
func (c *GRPCClient) connection() (*grpc.ClientConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		return c.conn, nil
	}
	conn, err := grpc.NewClient(c.address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", c.address, err)
	}
	c.conn = conn
	return conn, nil
}

// ValidateArgs checks the arguments of a call of the function fn when a
// rule is created, as FillRequest will map them into req, a new message of
// the rpc's input type: their count, and the value of every literal. A
// lone argument that is not a literal may be a row or map that fills the
// request by field names, which is only known per row: it passes when the
// request has fields. req may be left partly set.
func ValidateArgs(fn string, req proto.Message, args []sdk.Arg) error {
	m := req.ProtoReflect()
	if len(args) == 1 && args[0].Kind != sdk.ArgLiteral && m.Descriptor().Fields().Len() > 0 {
		return nil
	}
	vals := make([]any, len(args))
	for i, a := range args {
		if a.Kind == sdk.ArgLiteral {
			vals[i] = a.Value
		}
	}
	return FillRequest(fn, m, vals)
}
