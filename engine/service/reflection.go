package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jhump/protoreflect/v2/grpcreflect"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/kgen-dev/kgen/svc"
)

// Schema types of an interface.
const (
	schemaTypeProtobuf = "protobuf"
	// schemaTypeReflection interfaces carry no schema file: their rpcs are
	// asked of the gRPC server itself, through server reflection, each time
	// the service is built (added, updated, loaded).
	schemaTypeReflection = "reflection"
)

// reflectedRPCs returns the rpcs of interface ifName of service, a
// reflection interface: those of the services its server lists (or of
// iface.Services), by name, and what it learned, to keep (see
// reflection_cache.go). At load (loading), a server that cannot be asked
// gives the rpcs learned at registration, and nothing new to keep.
func (r *Registry) reflectedRPCs(service, ifName string, iface *svc.Interface, loading bool) (map[string]protoreflect.MethodDescriptor, []byte, error) {
	if iface.Protocol != svc.ProtocolGRPC {
		return nil, nil, fmt.Errorf("schemaType %q needs protocol %q", schemaTypeReflection, svc.ProtocolGRPC)
	}
	if iface.SchemaFile != "" {
		return nil, nil, fmt.Errorf("schemaType %q takes no schemaFile", schemaTypeReflection)
	}
	var learned []byte
	svcs, err := ReflectServices(context.Background(), iface)
	switch {
	case err == nil:
		if learned, err = learnedSet(svcs); err != nil {
			return nil, nil, fmt.Errorf("reflection from %q: keep what was learned: %w", iface.Address, err)
		}
	case loading:
		if svcs, err = r.learnedFallback(service, ifName, err); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, err
	}
	rpcs, err := collectRPCs(iface, svcs, fmt.Sprintf("server %q", iface.Address))
	return rpcs, learned, err
}

// ignoredServices are the services a server lists that are not its own
// rpcs: reflection itself and health checking.
var ignoredServices = []string{"grpc.reflection.", "grpc.health."}

// ReflectServices asks the gRPC server at iface.Address, through server
// reflection (v1, else v1alpha), for its services, and returns them sorted
// by full name, less the reflection and health services. Their files are
// built as LoadSchema builds a schema: the well-known types and google/api
// are the linked-in files, and options decode into their Go types.
// iface.Options give the TLS settings, the headers and the timeout (default
// 5s) that bounds the whole exchange.
func ReflectServices(ctx context.Context, iface *svc.Interface) ([]protoreflect.ServiceDescriptor, error) {
	addr := iface.Address
	fail := func(err error) error { return fmt.Errorf("reflection from %q: %w", addr, err) }
	key, err := grpcKeyOf(iface)
	if err != nil {
		return nil, err
	}
	conn, err := dialGRPC(key)
	if err != nil {
		return nil, fail(err)
	}
	defer conn.Close()
	policy := policyOf(iface.Options)
	ctx, cancel := context.WithTimeout(ctx, policy.timeout)
	defer cancel()
	if len(policy.headers) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, flattenHeaders(policy.headers)...)
	}
	client := grpcreflect.NewClientAuto(ctx, conn)
	defer client.Reset()
	// explain turns the client's errors into what went wrong, in words.
	explain := func(err error) error {
		switch {
		case ctx.Err() != nil:
			return fail(fmt.Errorf("no answer within %v", policy.timeout))
		case status.Code(err) == codes.Unimplemented:
			return fmt.Errorf("%q does not serve gRPC server reflection (grpc.reflection.v1.ServerReflection)", addr)
		case status.Code(err) == codes.Unavailable:
			return fail(fmt.Errorf("server unavailable: %s", status.Convert(err).Message()))
		}
		return fail(err)
	}
	names, err := client.ListServices()
	if err != nil {
		return nil, explain(err)
	}
	names = slices.DeleteFunc(names, func(n protoreflect.FullName) bool {
		return slices.ContainsFunc(ignoredServices, func(p string) bool { return strings.HasPrefix(string(n), p) })
	})
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) == 0 {
		return nil, fail(errors.New("the server lists no service but reflection and health"))
	}
	local := new(protoregistry.Files) // shared, so files common to services are built once
	svcs := make([]protoreflect.ServiceDescriptor, 0, len(names))
	for _, n := range names {
		fd, err := client.FileContainingSymbol(n)
		if err != nil {
			return nil, explain(fmt.Errorf("service %s: %w", n, err))
		}
		if fd, err = canonicalIn(local, fd); err != nil {
			return nil, fail(fmt.Errorf("service %s: %w", n, err))
		}
		sd := fileService(fd, n)
		if sd == nil {
			return nil, fail(fmt.Errorf("service %s: not in its file %s", n, fd.Path()))
		}
		svcs = append(svcs, sd)
	}
	return svcs, nil
}

// fileService is the service full name of fd, nil if fd has none.
func fileService(fd protoreflect.FileDescriptor, name protoreflect.FullName) protoreflect.ServiceDescriptor {
	if fd.Package() != name.Parent() {
		return nil
	}
	return fd.Services().ByName(name.Name())
}

// fileServices lists the services of fd, in declaration order.
func fileServices(fd protoreflect.FileDescriptor) []protoreflect.ServiceDescriptor {
	out := make([]protoreflect.ServiceDescriptor, fd.Services().Len())
	for i := range out {
		out[i] = fd.Services().Get(i)
	}
	return out
}

// collectRPCs returns the rpcs of svcs by name: of every service, or of
// those iface.Services names (by name or full name). where names the schema
// in errors. A named service that is missing, two rpcs of one name, a
// streaming rpc, a function mapping of no rpc, and no rpc at all are errors.
func collectRPCs(iface *svc.Interface, svcs []protoreflect.ServiceDescriptor, where string) (map[string]protoreflect.MethodDescriptor, error) {
	want := map[protoreflect.FullName]bool{} // the Services named, by full name
	for _, sn := range iface.Services {
		found := false
		for _, sd := range svcs {
			if string(sd.Name()) == sn || string(sd.FullName()) == sn {
				want[sd.FullName()] = true
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("services: no service %q in %s", sn, where)
		}
	}
	rpcs := map[string]protoreflect.MethodDescriptor{}
	for _, sd := range svcs {
		if len(want) > 0 && !want[sd.FullName()] {
			continue
		}
		ms := sd.Methods()
		for j := 0; j < ms.Len(); j++ {
			m := ms.Get(j)
			if prev, dup := rpcs[string(m.Name())]; dup {
				return nil, fmt.Errorf("rpc %q is defined by services %s and %s of %s", m.Name(), prev.Parent().FullName(), sd.FullName(), where)
			}
			if m.IsStreamingClient() || m.IsStreamingServer() {
				return nil, fmt.Errorf("rpc %s: streaming rpcs are not supported", m.FullName())
			}
			rpcs[string(m.Name())] = m
		}
	}
	for _, fm := range iface.Functions {
		if _, ok := rpcs[fm.ServiceName]; !ok {
			return nil, fmt.Errorf("function %q: no rpc %q in %s", fm.Name, fm.ServiceName, where)
		}
	}
	if len(rpcs) == 0 {
		return nil, fmt.Errorf("%s defines no rpc", where)
	}
	return rpcs, nil
}
