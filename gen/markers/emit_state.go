package markers

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// state emits the accessor of a //kgen:state struct: a value type over an
// sdk.Context with a getter, a setter and (for integers) an adder per
// field, and Load, Save and Reset over all of them. Getters read through
// sdk.StateAs, so their type errors read as the sdk's do.
func (e *emitter) state(st *State) {
	sn := e.names.states[st]
	s := st.Struct
	for _, id := range []string{sn.Type, sn.Ctor} {
		if prev, ok := e.declared[id]; ok {
			e.errs = append(e.errs, errorAt(st.Pos, "state %s: %s is also the %s", s.Name, id, prev))
		}
		e.declared[id] = fmt.Sprintf("state accessor kgen generates for %s", s.Name)
	}
	recv := func() *jen.Statement { return jen.Id("s").Id(sn.Type) }
	ctx := func() *jen.Statement { return jen.Id("s").Dot("ctx") }

	e.f.Line().Commentf("%s reads and writes the fields of %s in the key-value state of an", sn.Type, s.Name)
	e.f.Comment("extension instance, one key per field.")
	e.f.Type().Id(sn.Type).Struct(jen.Id("ctx").Qual(sdkPath, "Context"))
	e.f.Line().Commentf("%s returns the %s over ctx's state.", sn.Ctor, sn.Type)
	e.f.Func().Id(sn.Ctor).Params(ctxParam()).Id(sn.Type).Block(
		jen.Return(jen.Id(sn.Type).Values(jen.Dict{jen.Id("ctx"): jen.Id("ctx")})),
	)
	for _, f := range s.Fields {
		key := st.Key(f)
		e.f.Line().Commentf("%s returns the state %q; the zero value when there is none.", sn.Get[f], key)
		e.f.Func().Params(recv()).Id(sn.Get[f]).Params().Params(e.goType(f.Type), jen.Error()).Block(
			jen.List(jen.Id("v"), jen.Id("_"), jen.Err()).Op(":=").Qual(sdkPath, "StateAs").Types(e.goType(f.Type)).Call(ctx(), jen.Lit(key)),
			jen.Return(jen.Id("v"), jen.Err()),
		)
		e.f.Line().Commentf("%s stores v as the state %q.", sn.Set[f], key)
		e.f.Func().Params(recv()).Id(sn.Set[f]).Params(jen.Id("v").Add(e.goType(f.Type))).Error().Block(
			jen.Return(ctx().Dot("PutState").Call(jen.Lit(key), jen.Id("v"))),
		)
		if add := sn.Add[f]; add != "" {
			e.f.Line().Commentf("%s adds n to the counter %q; a missing one starts from an int 0.", add, key)
			e.f.Func().Params(recv()).Id(add).Params(jen.Id("n").Int()).Error().Block(
				jen.Return(ctx().Dot("IncrCounter").Call(jen.Lit(key), jen.Id("n"))),
			)
		}
	}

	e.f.Line().Commentf("%s reads every field; one without state keeps its zero value.", stateLoad)
	e.f.Func().Params(recv()).Id(stateLoad).Params().Params(jen.Id(s.Name), jen.Error()).BlockFunc(func(g *jen.Group) {
		if len(s.Fields) == 0 {
			g.Return(jen.Id(s.Name).Values(), jen.Nil())
			return
		}
		g.Var().Id("out").Id(s.Name)
		g.Var().Err().Error()
		for _, f := range s.Fields {
			g.If(jen.List(jen.Id("out").Dot(f.GoName), jen.Err()).Op("=").Id("s").Dot(sn.Get[f]).Call(), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Id(s.Name).Values(), jen.Err()),
			)
		}
		g.Return(jen.Id("out"), jen.Nil())
	})
	e.f.Line().Commentf("%s stores every field of v, in field order. The fields are separate keys:", stateSave)
	e.f.Comment("when one fails, those before it are stored.")
	e.f.Func().Params(recv()).Id(stateSave).Params(jen.Id("v").Id(s.Name)).Error().BlockFunc(func(g *jen.Group) {
		for _, f := range s.Fields {
			g.If(jen.Err().Op(":=").Id("s").Dot(sn.Set[f]).Call(jen.Id("v").Dot(f.GoName)), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Err()),
			)
		}
		g.Return(jen.Nil())
	})
	e.f.Line().Commentf("%s deletes the state of every field.", stateReset)
	e.f.Func().Params(recv()).Id(stateReset).Params().Error().BlockFunc(func(g *jen.Group) {
		keys := make([]jen.Code, len(s.Fields))
		for i, f := range s.Fields {
			keys[i] = jen.Lit(st.Key(f))
		}
		list := jen.Options{Open: "{", Close: "}", Separator: ",", Multi: true}
		g.For(jen.List(jen.Id("_"), jen.Id("key")).Op(":=").Range().Index(jen.Op("...")).String().Custom(list, keys...)).Block(
			jen.If(jen.Err().Op(":=").Add(ctx()).Dot("DeleteState").Call(jen.Id("key")), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Err()),
			),
		)
		g.Return(jen.Nil())
	})
}
