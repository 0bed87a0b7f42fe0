package proto

import (
	"github.com/dave/jennifer/jen"
)

// client emits one native function plugin per rpc: its registration, its
// exported constructor (the symbol a Go plugin build exports) and an
// sdk.Function that fills the request with svc.FillRequest, calls the rpc
// through the file's svc.GRPCClient and returns svc.ToSQL of the response.
func (e *emitter) client() {
	var rpcs []*rpcNames
	for _, s := range e.n.services {
		for _, r := range s.RPCs {
			e.pinImports(r.m.Input, r.m.Output)
			rpcs = append(rpcs, r)
		}
	}
	e.f.Line().Commentf("%s calls service %q for the functions of this file, at", clientVar, e.o.Name)
	e.f.Commentf("%s with a timeout of %ds per call unless the service", e.o.Address, clientTimeoutSeconds)
	e.f.Commentf("description <root>/data/services/%s.json says otherwise.", e.o.Name)
	e.f.Var().Id(clientVar).Op("=").Qual(svcPath, "NewGRPCClient").Call(
		jen.Lit(e.o.Name), jen.Lit(e.o.Address), jen.Lit(clientTimeoutSeconds).Op("*").Qual("time", "Second"),
	)
	e.f.Line().Func().Id("init").Params().BlockFunc(func(g *jen.Group) {
		for _, r := range rpcs {
			g.Qual(sdkPath, "RegisterFunction").Call(jen.Lit(r.Function), jen.Id(r.Ctor))
		}
	})
	for _, r := range rpcs {
		e.function(r)
	}
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
		jen.Return(jen.Qual(svcPath, "ValidateArgs").Call(fn.Clone(), jen.New(in.Clone()), jen.Id("args"))),
	)
	e.f.Line().Func().Params(recv.Clone()).Id("Exec").Params(
		jen.Id("ctx").Qual(sdkPath, "FunctionContext"), jen.Id("args").Index().Any(),
	).Params(jen.Any(), jen.Bool()).Block(
		jen.Id("req").Op(":=").New(in.Clone()),
		jen.If(jen.Err().Op(":=").Qual(svcPath, "FillRequest").Call(fn.Clone(), jen.Id("req").Dot("ProtoReflect").Call(), jen.Id("args")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Err(), jen.False()),
		),
		jen.Id("resp").Op(":=").New(out),
		jen.If(jen.Err().Op(":=").Id(clientVar).Dot("Invoke").Call(jen.Id("ctx"), fn.Clone(), jen.Lit(r.FullMethod), jen.Id("req"), jen.Id("resp")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Err(), jen.False()),
		),
		jen.Return(jen.Qual(svcPath, "ToSQL").Call(jen.Id("resp")), jen.True()),
	)
	e.f.Line().Func().Params(recv.Clone()).Id("IsAggregate").Params().Bool().Block(jen.Return(jen.False()))
}
