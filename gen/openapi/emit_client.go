package openapi

import (
	"github.com/dave/jennifer/jen"
)

// clientTimeoutSeconds is the default timeout of a call.
const clientTimeoutSeconds = 10

// client emits one native function plugin per operation: its
// registration, its exported constructor (the symbol a Go plugin build
// exports) and an sdk.Function whose Validate is the operation's and whose
// Exec calls it with svc/openapi's Operation.Call.
func (e *emitter) client() {
	e.f.Line().Func().Id("init").Params().BlockFunc(func(g *jen.Group) {
		for _, op := range e.m.ops {
			g.Qual(sdkPath, "RegisterFunction").Call(jen.Lit(op.names.Function), jen.Id(op.names.Ctor))
		}
	})
	for _, op := range e.m.ops {
		e.function(op)
	}
	e.clientHelpers()
}

func (e *emitter) function(op *operation) {
	on := op.names
	e.f.Line().Commentf("%s returns a new instance of the function %q, which calls", on.Ctor, on.Function)
	e.f.Commentf("operation %q, %s %s. It is the registered constructor and the", op.ID, op.Method, op.Path)
	e.f.Comment("symbol the engine looks up in a Go plugin build.")
	if op.Summary != "" {
		e.f.Comment("")
		docComment(e.f.Group, op.Summary)
	}
	e.f.Func().Id(on.Ctor).Params().Qual(sdkPath, "Function").Block(jen.Return(jen.Id(on.Impl).Values()))

	e.f.Line().Commentf("%s calls operation %q.", on.Impl, op.ID)
	e.f.Type().Id(on.Impl).Struct()
	recv := jen.Id(on.Impl)
	e.f.Line().Func().Params(recv.Clone()).Id("Validate").Params(jen.Id("args").Index().Qual(sdkPath, "Arg")).Error().Block(
		jen.List(jen.Id("doc"), jen.Err()).Op(":=").Id(e.n.loadDocument).Call(),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.Return(jen.Id("doc").Dot("Operation").Call(jen.Lit(op.ID)).Dot("Validate").Call(jen.Id("args"))),
	)
	e.f.Line().Func().Params(recv.Clone()).Id("Exec").Params(
		jen.Id("ctx").Qual(sdkPath, "FunctionContext"), jen.Id("args").Index().Any(),
	).Params(jen.Any(), jen.Bool()).Block(
		jen.List(jen.Id("v"), jen.Err()).Op(":=").Id("kgenCall").Call(jen.Id("ctx"), jen.Lit(op.ID), jen.Id("args")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err(), jen.False())),
		jen.Return(jen.Id("v"), jen.True()),
	)
	e.f.Line().Func().Params(recv.Clone()).Id("IsAggregate").Params().Bool().Block(jen.Return(jen.False()))
}

func (e *emitter) clientHelpers() {
	name := e.m.opts.Name
	e.f.Line().Commentf("%s is where the functions of this file call service %q: at", e.n.client, name)
	e.f.Commentf("%s with a timeout of %ds per call, unless the service description", e.m.opts.Address, clientTimeoutSeconds)
	e.f.Commentf("<root>/data/services/%s.json exists at the first call.", name)
	e.f.Var().Id(e.n.client).Struct(
		jen.Id("once").Qual("sync", "Once"),
		jen.Id("base").String(),
		jen.Id("creds").Qual(openapiPath, "Credentials"),
		jen.Id("http").Op("*").Qual("net/http", "Client"),
		jen.Id("err").Error(),
	)

	e.f.Line().Comment("kgenCall calls operation id with the arguments of a function call.")
	e.f.Func().Id("kgenCall").Params(jen.Id("ctx").Qual(sdkPath, "FunctionContext"), jen.Id("id").String(), jen.Id("args").Index().Any()).Params(jen.Any(), jen.Error()).Block(
		jen.List(jen.Id("doc"), jen.Err()).Op(":=").Id(e.n.loadDocument).Call(),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Var().Id("parent").Qual("context", "Context").Op("=").Qual("context", "Background").Call(),
		jen.Id("root").Op(":=").Lit(""),
		jen.If(jen.Id("ctx").Op("!=").Nil()).Block(
			jen.List(jen.Id("parent"), jen.Id("root")).Op("=").List(jen.Id("ctx"), jen.Id("ctx").Dot("GetRootPath").Call()),
		),
		jen.Id("c").Op(":=").Op("&").Id(e.n.client),
		jen.Id("c").Dot("once").Dot("Do").Call(jen.Func().Params().Block(
			jen.List(jen.Id("c").Dot("base"), jen.Id("c").Dot("creds"), jen.Id("c").Dot("http"), jen.Id("c").Dot("err")).Op("=").Id("kgenResolve").Call(jen.Id("root")),
		)),
		jen.If(jen.Id("c").Dot("err").Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("function %q: %w"), jen.Id("id"), jen.Id("c").Dot("err"))),
		),
		jen.Return(jen.Id("doc").Dot("Operation").Call(jen.Id("id")).Dot("Call").Call(jen.Id("parent"), jen.Id("c").Dot("http"), jen.Id("c").Dot("base"), jen.Id("c").Dot("creds"), jen.Id("args"))),
	)

	e.f.Line().Comment("kgenResolve returns where calls go: the address, timeout and credentials")
	e.f.Commentf("(options.credentials) of the first openapi interface, in name order, of the")
	e.f.Comment("service description under root when it exists, else the defaults; an")
	e.f.Comment("interface that sets no address or timeout keeps the default one.")
	e.f.Func().Id("kgenResolve").Params(jen.Id("root").String()).Params(
		jen.String(), jen.Qual(openapiPath, "Credentials"), jen.Op("*").Qual("net/http", "Client"), jen.Error(),
	).Block(
		jen.List(jen.Id("base"), jen.Id("timeout")).Op(":=").List(jen.Lit(e.m.opts.Address), jen.Lit(clientTimeoutSeconds).Op("*").Qual("time", "Second")),
		jen.Var().Id("creds").Qual(openapiPath, "Credentials"),
		jen.If(jen.Id("root").Op("!=").Lit("")).Block(
			jen.Id("path").Op(":=").Qual("path/filepath", "Join").Call(jen.Id("root"), jen.Lit("data"), jen.Lit("services"), jen.Lit(name+".json")),
			jen.List(jen.Id("data"), jen.Err()).Op(":=").Qual("os", "ReadFile").Call(jen.Id("path")),
			jen.Switch().Block(
				jen.Case(jen.Qual("errors", "Is").Call(jen.Err(), jen.Qual("io/fs", "ErrNotExist"))),
				jen.Case(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Lit(""), jen.Nil(), jen.Nil(), jen.Err())),
				jen.Default().Block(
					jen.Var().Id("d").Struct(
						jen.Id("Interfaces").Map(jen.String()).Op("*").Struct(
							jen.Id("Address").String().Tag(map[string]string{"json": "address"}),
							jen.Id("SchemaType").String().Tag(map[string]string{"json": "schemaType"}),
							jen.Id("Options").Op("*").Struct(
								jen.Id("Timeout").Qual(svcPath, "Duration").Tag(map[string]string{"json": "timeout"}),
								jen.Id("Credentials").Qual(openapiPath, "Credentials").Tag(map[string]string{"json": "credentials"}),
							).Tag(map[string]string{"json": "options"}),
						).Tag(map[string]string{"json": "interfaces"}),
					),
					jen.If(jen.Err().Op(":=").Qual("encoding/json", "Unmarshal").Call(jen.Id("data"), jen.Op("&").Id("d")), jen.Err().Op("!=").Nil()).Block(
						jen.Return(jen.Lit(""), jen.Nil(), jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("service description %s: %w"), jen.Id("path"), jen.Err())),
					),
					jen.For(jen.List(jen.Id("_"), jen.Id("name")).Op(":=").Range().Qual("slices", "Sorted").Call(jen.Qual("maps", "Keys").Call(jen.Id("d").Dot("Interfaces")))).Block(
						jen.Id("iface").Op(":=").Id("d").Dot("Interfaces").Index(jen.Id("name")),
						jen.If(jen.Id("iface").Op("==").Nil().Op("||").Id("iface").Dot("SchemaType").Op("!=").Lit("openapi")).Block(jen.Continue()),
						jen.If(jen.Id("iface").Dot("Address").Op("!=").Lit("")).Block(
							jen.Id("base").Op("=").Id("iface").Dot("Address"),
						),
						jen.If(jen.Id("o").Op(":=").Id("iface").Dot("Options"), jen.Id("o").Op("!=").Nil()).Block(
							jen.If(jen.Id("o").Dot("Timeout").Op(">").Lit(0)).Block(
								jen.Id("timeout").Op("=").Qual("time", "Duration").Call(jen.Id("o").Dot("Timeout")),
							),
							jen.Id("creds").Op("=").Id("o").Dot("Credentials"),
						),
						jen.Break(),
					),
				),
			),
		),
		jen.Return(jen.Id("base"), jen.Id("creds"), jen.Op("&").Qual("net/http", "Client").Values(jen.Dict{jen.Id("Timeout"): jen.Id("timeout")}), jen.Nil()),
	)
}
