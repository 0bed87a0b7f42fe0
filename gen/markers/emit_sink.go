package markers

import (
	"github.com/dave/jennifer/jen"
)

// sink emits a sink adapter: rows are decoded into the author's row type,
// naming the field on a type error.
func (e *emitter) sink(s *Sink) {
	pn := e.names.plugins[s]
	label := s.Name + " sink"
	row := s.Row.Struct
	e.useStruct(row, true, false)
	e.constructor("sink", s.Name, pn, "Sink", jen.Op("&").Id(pn.Impl).Values())
	e.f.Line().Commentf("%s adapts %s to sdk.Sink.", pn.Impl, s.Props.Name)
	e.f.Type().Id(pn.Impl).Struct(jen.Id("sink").Id(s.Props.Name))
	e.provision(pn.Impl, "sink", s.Props, label)
	e.lifecycle(pn.Impl, "sink", "Connect", s.Connect)
	e.lifecycle(pn.Impl, "sink", "Close", s.Close)
	recv := func() jen.Code { return jen.Id("s").Op("*").Id(pn.Impl) }
	e.f.Line().Func().Params(recv()).Id("Collect").Params(ctxParam(), jen.Id("row").Map(jen.String()).Any()).Error().Block(
		jen.Var().Id("r").Id(row.Name),
		jen.If(jen.Err().Op(":=").Id(decodeName(row)).Call(jen.Id("row"), jen.Op("&").Id("r"), jen.Lit("field")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(label+": %w"), jen.Err())),
		),
		jen.Return(jen.Id("s").Dot("sink").Dot("Collect").Call(jen.Id("ctx"), jen.Id("r"))),
	)
	e.f.Line().Func().Params(recv()).Id("CollectList").Params(ctxParam(), jen.Id("rows").Index().Map(jen.String()).Any()).Error().BlockFunc(func(g *jen.Group) {
		if !s.CollectList {
			g.For(jen.List(jen.Id("_"), jen.Id("row")).Op(":=").Range().Id("rows")).Block(
				jen.If(jen.Err().Op(":=").Id("s").Dot("Collect").Call(jen.Id("ctx"), jen.Id("row")), jen.Err().Op("!=").Nil()).Block(
					jen.Return(jen.Err()),
				),
			)
			g.Return(jen.Nil())
			return
		}
		g.Id("list").Op(":=").Make(jen.Index().Id(row.Name), jen.Len(jen.Id("rows")))
		g.For(jen.List(jen.Id("i"), jen.Id("row")).Op(":=").Range().Id("rows")).Block(
			jen.If(jen.Err().Op(":=").Id(decodeName(row)).Call(jen.Id("row"), jen.Op("&").Id("list").Index(jen.Id("i")), jen.Lit("field")), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(label+": row %d: %w"), jen.Id("i"), jen.Err())),
			),
		)
		g.Return(jen.Id("s").Dot("sink").Dot("CollectList").Call(jen.Id("ctx"), jen.Id("list")))
	})
}
