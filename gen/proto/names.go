package proto

import (
	"fmt"

	"google.golang.org/protobuf/compiler/protogen"

	"github.com/kgen-dev/kgen/sdk"
)

// svcNames are the identifiers generated for one proto service X.
type svcNames struct {
	svc      *protogen.Service
	FullName string // "pkg.X", the gRPC service name

	Server        string // XServer: the interface an implementation satisfies
	Unimplemented string // UnimplementedXServer
	Register      string // RegisterXServer
	Desc          string // X_ServiceDesc
	Client        string // XClient: the typed client interface
	ClientImpl    string // kgenXClient
	NewClient     string // NewXClient
	RESTHandler   string // NewXRESTHandler

	RPCs []*rpcNames
}

// rpcNames are the identifiers generated for one rpc Y of service X.
type rpcNames struct {
	m          *protogen.Method
	svc        *svcNames
	FullMethod string // "/pkg.X/Y"

	FullMethodConst string // X_Y_FullMethodName
	Handler         string // _X_Y_Handler

	// The function plugin of a generated client.
	Function string // the function name: Y with a lower-case first letter
	Ctor     string // its exported constructor: sdk.SymbolName(Function)
	Impl     string // kgenFunctionY: the sdk.Function
}

// names are every identifier a stub file declares, computed once.
type names struct {
	services []*svcNames
	// declared maps each package-level identifier of the stub file to what
	// it is for, to report collisions with the .pb.go files.
	declared map[string]string
}

// The client file declares one helper: the svc.GRPCClient its functions
// share, made with a timeout of clientTimeoutSeconds per call.
const (
	clientVar            = "kgenClient"
	clientTimeoutSeconds = 10
)

func newNames(o *options, p *goPackage, kind Kind) (*names, error) {
	n := &names{declared: map[string]string{}}
	declare := func(id, what string) error {
		if prev, ok := n.declared[id]; ok {
			return fmt.Errorf("generated identifier %s is both %s and %s", id, prev, what)
		}
		n.declared[id] = what
		return nil
	}
	if kind == KindClient {
		if err := declare(clientVar, "the gRPC client of the generated functions"); err != nil {
			return nil, err
		}
	}
	for _, svc := range p.file.Services {
		x := svc.GoName
		s := &svcNames{
			svc:           svc,
			FullName:      string(svc.Desc.FullName()),
			Server:        x + "Server",
			Unimplemented: "Unimplemented" + x + "Server",
			Register:      "Register" + x + "Server",
			Desc:          x + "_ServiceDesc",
			Client:        x + "Client",
			ClientImpl:    "kgen" + x + "Client",
			NewClient:     "New" + x + "Client",
			RESTHandler:   "New" + x + "RESTHandler",
		}
		if kind == KindServer {
			what := fmt.Sprintf("generated for service %s", s.FullName)
			for _, id := range []string{s.Server, s.Unimplemented, s.Register, s.Desc, s.Client, s.ClientImpl, s.NewClient, s.RESTHandler} {
				if err := declare(id, what); err != nil {
					return nil, err
				}
			}
		}
		for _, m := range svc.Methods {
			fn := sdk.NameFromSymbol(string(m.Desc.Name()))
			r := &rpcNames{
				m:               m,
				svc:             s,
				FullMethod:      fmt.Sprintf("/%s/%s", s.FullName, m.Desc.Name()),
				FullMethodConst: x + "_" + m.GoName + "_FullMethodName",
				Handler:         "_" + x + "_" + m.GoName + "_Handler",
				Function:        fn,
				Ctor:            sdk.SymbolName(fn),
				Impl:            "kgenFunction" + sdk.SymbolName(fn),
			}
			what := fmt.Sprintf("generated for rpc %s", m.Desc.FullName())
			switch kind {
			case KindServer:
				for _, id := range []string{r.FullMethodConst, r.Handler} {
					if err := declare(id, what); err != nil {
						return nil, err
					}
				}
			case KindClient:
				if err := sdk.ValidateName(fn); err != nil {
					return nil, fmt.Errorf("%s: rpc %s: function name: %w", o.pos(m.Desc), m.Desc.FullName(), err)
				}
				for _, id := range []string{r.Ctor, r.Impl} {
					if err := declare(id, what); err != nil {
						return nil, err
					}
				}
			}
			s.RPCs = append(s.RPCs, r)
		}
		n.services = append(n.services, s)
	}
	return n, nil
}
