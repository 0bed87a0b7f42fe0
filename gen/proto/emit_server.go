package proto

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// server emits, per service X: the XServer interface, UnimplementedXServer,
// RegisterXServer with its grpc.ServiceDesc and handlers (as
// protoc-gen-go-grpc writes them, interceptors honoured), the typed XClient,
// and NewXRESTHandler, so that one implementation serves gRPC and REST.
func (e *emitter) server() {
	for _, s := range e.n.services {
		for _, r := range s.RPCs {
			e.pinImports(r.m.Input, r.m.Output)
		}
		e.fullMethodNames(s)
		e.serverInterface(s)
		e.unimplemented(s)
		e.register(s)
		e.typedClient(s)
		e.restHandler(s)
	}
}

func (e *emitter) fullMethodNames(s *svcNames) {
	e.f.Line().Comment(fmt.Sprintf("The full gRPC method names of service %s, as interceptors see them.", s.FullName))
	e.f.Const().DefsFunc(func(g *jen.Group) {
		for _, r := range s.RPCs {
			g.Id(r.FullMethodConst).Op("=").Lit(r.FullMethod)
		}
	})
}

// signature is (ctx context.Context, in *In) (*Out, error), with names when
// named.
func (e *emitter) signature(r *rpcNames, named bool) (params, results []jen.Code) {
	ctx, in := jen.Qual("context", "Context"), jen.Op("*").Add(e.ident(r.m.Input.GoIdent))
	if named {
		ctx, in = jen.Id("ctx").Add(ctx), jen.Id("in").Add(in)
	}
	return []jen.Code{ctx, in}, []jen.Code{jen.Op("*").Add(e.ident(r.m.Output.GoIdent)), jen.Error()}
}

func (e *emitter) serverInterface(s *svcNames) {
	e.f.Line().Commentf("%s is the server API of service %s.", s.Server, s.FullName)
	e.f.Commentf("Serve an implementation over gRPC with %s and over", s.Register)
	e.f.Commentf("HTTP with %s.", s.RESTHandler)
	if c := comment(s.svc.Desc); c != "" {
		e.f.Comment("")
		docComment(e.f.Group, c)
	}
	commented := false
	for _, r := range s.RPCs {
		commented = commented || comment(r.m.Desc) != ""
	}
	e.f.Type().Id(s.Server).InterfaceFunc(func(g *jen.Group) {
		for i, r := range s.RPCs {
			if i > 0 && commented {
				g.Line()
			}
			if c := comment(r.m.Desc); c != "" {
				docComment(g, c)
			}
			params, results := e.signature(r, false)
			g.Id(r.m.GoName).Params(params...).Params(results...)
		}
	})
}

func (e *emitter) unimplemented(s *svcNames) {
	e.f.Line().Commentf("%s answers every rpc with codes.Unimplemented:", s.Unimplemented)
	e.f.Comment("embed it in an implementation that does not implement every rpc (yet).")
	e.f.Type().Id(s.Unimplemented).Struct()
	for _, r := range s.RPCs {
		params, results := e.signature(r, false)
		e.f.Line().Func().Params(jen.Id(s.Unimplemented)).Id(r.m.GoName).Params(params...).Params(results...).Block(
			jen.Return(jen.Nil(), jen.Qual(statusPath, "Error").Call(jen.Qual(codesPath, "Unimplemented"), jen.Lit(fmt.Sprintf("method %s not implemented", r.m.Desc.Name())))),
		)
	}
}

func (e *emitter) register(s *svcNames) {
	e.f.Line().Commentf("%s registers srv with the gRPC server s.", s.Register)
	e.f.Func().Id(s.Register).Params(jen.Id("s").Qual(grpcPath, "ServiceRegistrar"), jen.Id("srv").Id(s.Server)).Block(
		jen.Id("s").Dot("RegisterService").Call(jen.Op("&").Id(s.Desc), jen.Id("srv")),
	)
	for _, r := range s.RPCs {
		in := e.ident(r.m.Input.GoIdent)
		call := func(req jen.Code) *jen.Statement {
			return jen.Id("srv").Assert(jen.Id(s.Server)).Dot(r.m.GoName).Call(jen.Id("ctx"), req)
		}
		e.f.Line().Func().Id(r.Handler).Params(
			jen.Id("srv").Any(), jen.Id("ctx").Qual("context", "Context"), jen.Id("dec").Func().Params(jen.Any()).Error(),
			jen.Id("interceptor").Qual(grpcPath, "UnaryServerInterceptor"),
		).Params(jen.Any(), jen.Error()).Block(
			jen.Id("in").Op(":=").New(in.Clone()),
			jen.If(jen.Err().Op(":=").Id("dec").Call(jen.Id("in")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.If(jen.Id("interceptor").Op("==").Nil()).Block(jen.Return(call(jen.Id("in")))),
			jen.Id("info").Op(":=").Op("&").Qual(grpcPath, "UnaryServerInfo").Values(jen.Dict{
				jen.Id("Server"):     jen.Id("srv"),
				jen.Id("FullMethod"): jen.Id(r.FullMethodConst),
			}),
			jen.Id("handler").Op(":=").Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("req").Any()).Params(jen.Any(), jen.Error()).Block(
				jen.Return(call(jen.Id("req").Assert(jen.Op("*").Add(in.Clone())))),
			),
			jen.Return(jen.Id("interceptor").Call(jen.Id("ctx"), jen.Id("in"), jen.Id("info"), jen.Id("handler"))),
		)
	}
	e.f.Line().Commentf("%s describes service %s to grpc.ServiceRegistrar.", s.Desc, s.FullName)
	e.f.Var().Id(s.Desc).Op("=").Qual(grpcPath, "ServiceDesc").Values(jen.Dict{
		jen.Id("ServiceName"): jen.Lit(s.FullName),
		jen.Id("HandlerType"): jen.Parens(jen.Op("*").Id(s.Server)).Call(jen.Nil()),
		jen.Id("Methods"): jen.Index().Qual(grpcPath, "MethodDesc").ValuesFunc(func(g *jen.Group) {
			for _, r := range s.RPCs {
				g.Values(jen.Dict{
					jen.Id("MethodName"): jen.Lit(string(r.m.Desc.Name())),
					jen.Id("Handler"):    jen.Id(r.Handler),
				})
			}
		}),
		jen.Id("Streams"):  jen.Index().Qual(grpcPath, "StreamDesc").Values(),
		jen.Id("Metadata"): jen.Lit(e.p.file.Desc.Path()),
	})
}

func (e *emitter) typedClient(s *svcNames) {
	e.f.Line().Commentf("%s calls service %s over gRPC.", s.Client, s.FullName)
	e.f.Type().Id(s.Client).InterfaceFunc(func(g *jen.Group) {
		for _, r := range s.RPCs {
			params, results := e.signature(r, false)
			g.Id(r.m.GoName).Params(append(params, jen.Op("...").Qual(grpcPath, "CallOption"))...).Params(results...)
		}
	})
	e.f.Line().Type().Id(s.ClientImpl).Struct(jen.Id("cc").Qual(grpcPath, "ClientConnInterface"))
	e.f.Line().Commentf("%s returns a %s that calls over cc.", s.NewClient, s.Client)
	e.f.Func().Id(s.NewClient).Params(jen.Id("cc").Qual(grpcPath, "ClientConnInterface")).Id(s.Client).Block(
		jen.Return(jen.Op("&").Id(s.ClientImpl).Values(jen.Id("cc"))),
	)
	for _, r := range s.RPCs {
		params, results := e.signature(r, true)
		e.f.Line().Func().Params(jen.Id("c").Op("*").Id(s.ClientImpl)).Id(r.m.GoName).Params(
			append(params, jen.Id("opts").Op("...").Qual(grpcPath, "CallOption"))...,
		).Params(results...).Block(
			jen.Id("out").Op(":=").New(e.ident(r.m.Output.GoIdent)),
			jen.If(
				jen.Err().Op(":=").Id("c").Dot("cc").Dot("Invoke").Call(jen.Id("ctx"), jen.Id(r.FullMethodConst), jen.Id("in"), jen.Id("out"), jen.Id("opts").Op("...")),
				jen.Err().Op("!=").Nil(),
			).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Return(jen.Id("out"), jen.Nil()),
		)
	}
}

func (e *emitter) restHandler(s *svcNames) {
	e.f.Line().Commentf("%s serves srv over HTTP with JSON bodies, transcoded", s.RESTHandler)
	e.f.Comment("as the engine's REST client calls the service: each rpc at its")
	e.f.Comment("google.api.http rule (additional bindings included), else at POST /<rpc>.")
	e.f.Func().Id(s.RESTHandler).Params(jen.Id("srv").Id(s.Server)).Params(jen.Qual("net/http", "Handler"), jen.Error()).Block(
		jen.Id("methods").Op(":=").Id(e.p.file.GoDescriptorIdent.GoName).Dot("Services").Call().Dot("ByName").Call(jen.Lit(string(s.svc.Desc.Name()))).Dot("Methods").Call(),
		jen.Return(jen.Qual(svcPath, "NewRESTHandler").CallFunc(func(g *jen.Group) {
			for _, r := range s.RPCs {
				in := e.ident(r.m.Input.GoIdent)
				g.Qual(svcPath, "RESTMethod").Values(jen.Dict{
					jen.Id("Desc"): jen.Id("methods").Dot("ByName").Call(jen.Lit(string(r.m.Desc.Name()))),
					jen.Id("New"):  jen.Func().Params().Qual(protoPath, "Message").Block(jen.Return(jen.New(in.Clone()))),
					jen.Id("Call"): jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("req").Qual(protoPath, "Message")).Params(jen.Qual(protoPath, "Message"), jen.Error()).Block(
						jen.Return(jen.Id("srv").Dot(r.m.GoName).Call(jen.Id("ctx"), jen.Id("req").Assert(jen.Op("*").Add(in.Clone())))),
					),
				})
			}
		})),
	)
}
