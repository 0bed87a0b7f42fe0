package svcgen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// client emits one native function plugin per rpc: its registration, its
// exported constructor (the symbol a Go plugin build exports) and an
// sdk.Function that fills the request with service.FillRequest, calls the
// rpc over a shared gRPC connection and returns service.ToSQL of the
// response; then the helpers they share.
func (e *emitter) client() {
	var rpcs []*rpcNames
	for _, s := range e.n.services {
		for _, r := range s.RPCs {
			e.pinImports(r.m.Input, r.m.Output)
			rpcs = append(rpcs, r)
		}
	}
	e.f.Line().Const().Defs(
		jen.Comment(fmt.Sprintf("%s names the service description that may set the address", clientServiceConst)),
		jen.Comment(fmt.Sprintf("at run time: <root>/data/services/%s.json.", e.o.Name)),
		jen.Id(clientServiceConst).Op("=").Lit(e.o.Name),
		jen.Comment(fmt.Sprintf("%s is the gRPC address to call when that description does not exist.", clientAddressConst)),
		jen.Id(clientAddressConst).Op("=").Lit(e.o.Address),
		jen.Comment(fmt.Sprintf("%s bounds one call unless the description sets options.timeout.", clientTimeoutConst)),
		jen.Id(clientTimeoutConst).Op("=").Lit(10).Op("*").Qual("time", "Second"),
	)
	e.f.Line().Func().Id("init").Params().BlockFunc(func(g *jen.Group) {
		for _, r := range rpcs {
			g.Qual(sdkPath, "RegisterFunction").Call(jen.Lit(r.Function), jen.Id(r.Ctor))
		}
	})
	for _, r := range rpcs {
		e.function(r)
	}
	e.clientHelpers()
}

func (e *emitter) function(r *rpcNames) {
	in, out := e.ident(r.m.Input.GoIdent), e.ident(r.m.Output.GoIdent)
	fn := jen.Lit(r.Function)
	e.f.Line().Commentf("%s returns a new instance of the function %q, which calls", r.Ctor, r.Function)
	e.f.Commentf("rpc %s. It is the registered constructor", r.m.Desc.FullName())
	e.f.Comment("and the symbol the engine looks up in a Go plugin build.")
	if c := comment(r.m.Desc); c != "" {
		e.f.Comment("")
		docComment(e.f.Group, c)
	}
	e.f.Func().Id(r.Ctor).Params().Qual(sdkPath, "Function").Block(jen.Return(jen.Id(r.Impl).Values()))

	e.f.Line().Commentf("%s calls rpc %s.", r.Impl, r.m.Desc.FullName())
	e.f.Type().Id(r.Impl).Struct()
	recv := jen.Id(r.Impl)
	e.f.Line().Func().Params(recv.Clone()).Id("Validate").Params(jen.Id("args").Index().Qual(sdkPath, "Arg")).Error().Block(
		jen.Return(jen.Id(clientValidateFunc).Call(fn.Clone(), jen.New(in.Clone()), jen.Id("args"))),
	)
	e.f.Line().Func().Params(recv.Clone()).Id("Exec").Params(
		jen.Id("ctx").Qual(sdkPath, "FunctionContext"), jen.Id("args").Index().Any(),
	).Params(jen.Any(), jen.Bool()).Block(
		jen.Id("req").Op(":=").New(in.Clone()),
		jen.If(jen.Err().Op(":=").Qual(svcPath, "FillRequest").Call(fn.Clone(), jen.Id("req").Dot("ProtoReflect").Call(), jen.Id("args")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Err(), jen.False()),
		),
		jen.Id("resp").Op(":=").New(out),
		jen.If(jen.Err().Op(":=").Id(clientInvokeFunc).Call(jen.Id("ctx"), fn.Clone(), jen.Lit(r.FullMethod), jen.Id("req"), jen.Id("resp")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Err(), jen.False()),
		),
		jen.Return(jen.Qual(svcPath, "ToSQL").Call(jen.Id("resp")), jen.True()),
	)
	e.f.Line().Func().Params(recv.Clone()).Id("IsAggregate").Params().Bool().Block(jen.Return(jen.False()))
}

// clientHelpers emits the code the functions share: validation, the
// address (read once), the connections (one per address) and the call.
func (e *emitter) clientHelpers() {
	st := func() *jen.Statement { return jen.Id(clientStateVar) }
	errf := func(format string, args ...jen.Code) *jen.Statement {
		return jen.Qual("fmt", "Errorf").Call(append([]jen.Code{jen.Lit(format)}, args...)...)
	}

	e.f.Line().Commentf("%s checks the argument count and literal arguments as the call", clientValidateFunc)
	e.f.Comment("will. A lone non-literal argument may be a row or map that fills the request")
	e.f.Comment("by field names: that is only known per row.")
	e.f.Func().Id(clientValidateFunc).Params(jen.Id("fn").String(), jen.Id("req").Qual(protoPath, "Message"), jen.Id("args").Index().Qual(sdkPath, "Arg")).Error().Block(
		jen.Id("m").Op(":=").Id("req").Dot("ProtoReflect").Call(),
		jen.If(jen.Len(jen.Id("args")).Op("==").Lit(1).Op("&&").Id("args").Index(jen.Lit(0)).Dot("Kind").Op("!=").Qual(sdkPath, "ArgLiteral").Op("&&").Id("m").Dot("Descriptor").Call().Dot("Fields").Call().Dot("Len").Call().Op(">").Lit(0)).Block(
			jen.Return(jen.Nil()),
		),
		jen.Id("vals").Op(":=").Make(jen.Index().Any(), jen.Len(jen.Id("args"))),
		jen.For(jen.List(jen.Id("i"), jen.Id("a")).Op(":=").Range().Id("args")).Block(
			jen.If(jen.Id("a").Dot("Kind").Op("==").Qual(sdkPath, "ArgLiteral")).Block(
				jen.Id("vals").Index(jen.Id("i")).Op("=").Id("a").Dot("Value"),
			),
		),
		jen.Return(jen.Qual(svcPath, "FillRequest").Call(jen.Id("fn"), jen.Id("m"), jen.Id("vals"))),
	)

	e.f.Line().Commentf("%s is the state the functions share.", clientStateVar)
	e.f.Var().Id(clientStateVar).Struct(
		jen.Id("once").Qual("sync", "Once"),
		jen.Id("address").String(),
		jen.Id("timeout").Qual("time", "Duration"),
		jen.Id("err").Error(),
		jen.Line(),
		jen.Id("mu").Qual("sync", "Mutex"),
		jen.Id("conns").Map(jen.String()).Op("*").Qual(grpcPath, "ClientConn"),
	)

	e.f.Line().Commentf("%s calls method with req, filling resp. The first call fixes the", clientInvokeFunc)
	e.f.Commentf("address and timeout (see %s).", clientResolveFunc)
	e.f.Func().Id(clientInvokeFunc).Params(
		jen.Id("ctx").Qual(sdkPath, "FunctionContext"), jen.List(jen.Id("fn"), jen.Id("method")).String(), jen.List(jen.Id("req"), jen.Id("resp")).Qual(protoPath, "Message"),
	).Error().Block(
		jen.Var().Id("parent").Qual("context", "Context").Op("=").Qual("context", "Background").Call(),
		jen.Id("root").Op(":=").Lit(""),
		jen.If(jen.Id("ctx").Op("!=").Nil()).Block(
			jen.List(jen.Id("parent"), jen.Id("root")).Op("=").List(jen.Id("ctx"), jen.Id("ctx").Dot("GetRootPath").Call()),
		),
		st().Dot("once").Dot("Do").Call(jen.Func().Params().Block(
			jen.List(st().Dot("address"), st().Dot("timeout"), st().Dot("err")).Op("=").Id(clientResolveFunc).Call(jen.Id("root")),
		)),
		jen.If(st().Dot("err").Op("!=").Nil()).Block(
			jen.Return(errf("function %q: %w", jen.Id("fn"), st().Dot("err"))),
		),
		jen.List(jen.Id("conn"), jen.Err()).Op(":=").Id(clientConnFunc).Call(st().Dot("address")),
		jen.If(jen.Err().Op("!=").Nil()).Block(
			jen.Return(errf("function %q: %w", jen.Id("fn"), jen.Err())),
		),
		jen.List(jen.Id("cctx"), jen.Id("cancel")).Op(":=").Qual("context", "WithTimeout").Call(jen.Id("parent"), st().Dot("timeout")),
		jen.Defer().Id("cancel").Call(),
		jen.If(jen.Err().Op(":=").Id("conn").Dot("Invoke").Call(jen.Id("cctx"), jen.Id("method"), jen.Id("req"), jen.Id("resp")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(errf("function %q: call %s at %s: %w", jen.Id("fn"), jen.Id("method"), st().Dot("address"), jen.Err())),
		),
		jen.Return(jen.Nil()),
	)

	e.f.Line().Commentf("%s returns the gRPC address to call and the call timeout: those", clientResolveFunc)
	e.f.Comment("of the first grpc interface (in name order) of the service description")
	e.f.Commentf("<root>/data/services/%s.json when it exists, else the defaults.", e.o.Name)
	e.f.Func().Id(clientResolveFunc).Params(jen.Id("root").String()).Params(jen.String(), jen.Qual("time", "Duration"), jen.Error()).Block(
		jen.List(jen.Id("address"), jen.Id("timeout")).Op(":=").List(jen.Id(clientAddressConst), jen.Id(clientTimeoutConst)),
		jen.If(jen.Id("root").Op("!=").Lit("")).Block(
			jen.Id("path").Op(":=").Qual("path/filepath", "Join").Call(jen.Id("root"), jen.Lit("data"), jen.Lit("services"), jen.Id(clientServiceConst).Op("+").Lit(".json")),
			jen.List(jen.Id("data"), jen.Err()).Op(":=").Qual("os", "ReadFile").Call(jen.Id("path")),
			jen.Switch().Block(
				jen.Case(jen.Qual("errors", "Is").Call(jen.Err(), jen.Qual("io/fs", "ErrNotExist"))),
				jen.Case(jen.Err().Op("!=").Nil()).Block(
					jen.Return(jen.Lit(""), jen.Lit(0), jen.Err()),
				),
				jen.Default().Block(
					jen.List(jen.Id("desc"), jen.Err()).Op(":=").Qual(svcPath, "ParseDescription").Call(jen.Id("data")),
					jen.If(jen.Err().Op("!=").Nil()).Block(
						jen.Return(jen.Lit(""), jen.Lit(0), errf("service description %s: %w", jen.Id("path"), jen.Err())),
					),
					jen.For(jen.Id("_").Op(",").Id("name").Op(":=").Range().Qual("slices", "Sorted").Call(jen.Qual("maps", "Keys").Call(jen.Id("desc").Dot("Interfaces")))).Block(
						jen.Id("iface").Op(":=").Id("desc").Dot("Interfaces").Index(jen.Id("name")),
						jen.If(jen.Id("iface").Op("==").Nil().Op("||").Id("iface").Dot("Protocol").Op("!=").Qual(svcPath, "ProtocolGRPC")).Block(
							jen.Continue(),
						),
						jen.Id("address").Op("=").Id("iface").Dot("Address"),
						jen.If(jen.Id("o").Op(":=").Id("iface").Dot("Options"), jen.Id("o").Op("!=").Nil().Op("&&").Id("o").Dot("Timeout").Op(">").Lit(0)).Block(
							jen.Id("timeout").Op("=").Qual("time", "Duration").Call(jen.Id("o").Dot("Timeout")),
						),
						jen.Break(),
					),
				),
			),
		),
		jen.Comment("Descriptions may say tcp://host:port; gRPC dials host:port."),
		jen.If(jen.List(jen.Id("_"), jen.Id("rest"), jen.Id("ok")).Op(":=").Qual("strings", "Cut").Call(jen.Id("address"), jen.Lit("://")), jen.Id("ok")).Block(
			jen.Id("address").Op("=").Id("rest"),
		),
		jen.Return(jen.Qual("strings", "TrimSuffix").Call(jen.Id("address"), jen.Lit("/")), jen.Id("timeout"), jen.Nil()),
	)

	e.f.Line().Commentf("%s returns the connection to address that the functions share; it", clientConnFunc)
	e.f.Comment("connects on first use, without TLS.")
	e.f.Func().Id(clientConnFunc).Params(jen.Id("address").String()).Params(jen.Op("*").Qual(grpcPath, "ClientConn"), jen.Error()).Block(
		st().Dot("mu").Dot("Lock").Call(),
		jen.Defer().Add(st()).Dot("mu").Dot("Unlock").Call(),
		jen.If(jen.List(jen.Id("c"), jen.Id("ok")).Op(":=").Add(st()).Dot("conns").Index(jen.Id("address")), jen.Id("ok")).Block(
			jen.Return(jen.Id("c"), jen.Nil()),
		),
		jen.List(jen.Id("c"), jen.Err()).Op(":=").Qual(grpcPath, "NewClient").Call(jen.Id("address"), jen.Qual(grpcPath, "WithTransportCredentials").Call(jen.Qual(insecurePath, "NewCredentials").Call())),
		jen.If(jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), errf("connect %s: %w", jen.Id("address"), jen.Err())),
		),
		jen.If(st().Dot("conns").Op("==").Nil()).Block(
			st().Dot("conns").Op("=").Map(jen.String()).Op("*").Qual(grpcPath, "ClientConn").Values(),
		),
		st().Dot("conns").Index(jen.Id("address")).Op("=").Id("c"),
		jen.Return(jen.Id("c"), jen.Nil()),
	)
}
