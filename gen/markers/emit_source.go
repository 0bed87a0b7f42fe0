package markers

import (
	"github.com/dave/jennifer/jen"
)

// ctxParam is the (ctx sdk.Context) parameter of the adapters' methods.
func ctxParam() jen.Code { return jen.Id("ctx").Qual(sdkPath, "Context") }

// provision emits Provision: reset the author's struct and fill it from
// the properties.
func (e *emitter) provision(impl, field string, props *Struct, label string) {
	e.useStruct(props, true, false)
	e.f.Line().Func().Params(jen.Id("s").Op("*").Id(impl)).Id("Provision").Params(
		ctxParam(), jen.Id("props").Map(jen.String()).Any(),
	).Error().Block(
		jen.Id("s").Dot(field).Op("=").Id(props.Name).Values(),
		jen.If(jen.Err().Op(":=").Id(decodeName(props)).Call(jen.Id("props"), jen.Op("&").Id("s").Dot(field), jen.Lit("property")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(label+": %w"), jen.Err())),
		),
		jen.Return(jen.Nil()),
	)
}

// lifecycle emits Connect or Close: the author's method when there is one.
func (e *emitter) lifecycle(impl, field, method string, has bool) {
	e.f.Line().Func().Params(jen.Id("s").Op("*").Id(impl)).Id(method).Params(ctxParam()).Error().BlockFunc(func(g *jen.Group) {
		if has {
			g.Return(jen.Id("s").Dot(field).Dot(method).Call(jen.Id("ctx")))
		} else {
			g.Return(jen.Nil())
		}
	})
}

// source emits a source adapter: sdk.PullSource and sdk.Bounded for a
// typed Pull, sdk.PushSource for a typed Subscribe.
func (e *emitter) source(s *Source) {
	pn := e.names.plugins[s]
	label := s.Name + " source"
	e.constructor("source", s.Name, pn, "Source", jen.Op("&").Id(pn.Impl).Values())
	e.f.Line().Commentf("%s adapts %s to sdk.Source.", pn.Impl, s.Props.Name)
	e.f.Type().Id(pn.Impl).StructFunc(func(g *jen.Group) {
		g.Id("src").Id(s.Props.Name)
		if s.Pull {
			g.Id("eof").Qual(sdkPath, "EOFIngest")
			g.Id("done").Bool().Comment("the author's Pull returned io.EOF")
		}
	})
	e.provision(pn.Impl, "src", s.Props, label)
	e.lifecycle(pn.Impl, "src", "Connect", s.Connect)
	e.lifecycle(pn.Impl, "src", "Close", s.Close)
	recv := jen.Id("s").Op("*").Id(pn.Impl)
	if !s.Pull {
		e.f.Line().Func().Params(recv).Id("Subscribe").Params(
			ctxParam(), jen.Id("ingest").Qual(sdkPath, "Ingest"), jen.Id("_").Qual(sdkPath, "ErrorIngest"),
		).Error().Block(
			jen.Return(jen.Id("s").Dot("src").Dot("Subscribe").Call(jen.Id("ctx"), jen.Func().Params(jen.Id("row").Id(s.Row.Struct.Name)).Block(
				jen.Id("ingest").Call(jen.Id("ctx"), e.encode(s.Row, jen.Id("row")), jen.Nil(), jen.Qual("time", "Time").Values()),
			))),
		)
		return
	}
	e.f.Line().Func().Params(recv.Clone()).Id("SetEOFIngest").Params(jen.Id("eof").Qual(sdkPath, "EOFIngest")).Block(
		jen.Id("s").Dot("eof").Op("=").Id("eof"),
	)
	e.f.Line().Func().Params(recv.Clone()).Id("Pull").Params(
		ctxParam(), jen.Id("_").Qual("time", "Time"), jen.Id("ingest").Qual(sdkPath, "Ingest"), jen.Id("ingestErr").Qual(sdkPath, "ErrorIngest"),
	).BlockFunc(func(g *jen.Group) {
		g.If(jen.Id("s").Dot("done")).Block(jen.Return())
		if s.PullOne {
			g.List(jen.Id("row"), jen.Err()).Op(":=").Id("s").Dot("src").Dot("Pull").Call(jen.Id("ctx"))
			g.If(jen.Err().Op("==").Nil()).Block(
				jen.Id("ingest").Call(jen.Id("ctx"), e.encode(s.Row, jen.Id("row")), jen.Nil(), jen.Qual("time", "Time").Values()),
			)
		} else {
			g.List(jen.Id("rows"), jen.Err()).Op(":=").Id("s").Dot("src").Dot("Pull").Call(jen.Id("ctx"))
			g.If(jen.Len(jen.Id("rows")).Op(">").Lit(0)).Block(
				jen.Id("out").Op(":=").Make(jen.Index().Map(jen.String()).Any(), jen.Len(jen.Id("rows"))),
				jen.For(jen.List(jen.Id("i"), jen.Id("row")).Op(":=").Range().Id("rows")).Block(
					jen.Id("out").Index(jen.Id("i")).Op("=").Add(e.encode(s.Row, jen.Id("row"))),
				),
				jen.Id("ingest").Call(jen.Id("ctx"), jen.Id("out"), jen.Nil(), jen.Qual("time", "Time").Values()),
			)
		}
		g.Switch().Block(
			jen.Case(jen.Qual("errors", "Is").Call(jen.Err(), jen.Qual("io", "EOF"))).Block(
				jen.Id("s").Dot("done").Op("=").True(),
				jen.If(jen.Id("s").Dot("eof").Op("!=").Nil()).Block(
					jen.Id("s").Dot("eof").Call(jen.Id("ctx"), jen.Err().Dot("Error").Call()),
				),
			),
			jen.Case(jen.Err().Op("!=").Nil()).Block(
				jen.Id("ingestErr").Call(jen.Id("ctx"), jen.Err()),
			),
		)
	})
}
