package markers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dave/jennifer/jen"
)

// The conversion emitters: every conversion between engine values and a
// Type is spelled here, once, and used by functions, sources and sinks.

// goType spells t.
func (e *emitter) goType(t *Type) *jen.Statement {
	switch t.Kind {
	case Bytes:
		return jen.Index().Byte()
	case Time:
		return jen.Qual("time", "Time")
	case Duration:
		return jen.Qual("time", "Duration")
	case Map:
		return jen.Map(jen.String()).Any()
	case Any:
		return jen.Any()
	case Slice:
		return jen.Index().Add(e.goType(t.Elem))
	case StructKind:
		return jen.Id(t.Struct.Name)
	}
	return jen.Id(t.Basic)
}

// convCall converts the engine value v to t: an expression of type
// (T, error).
func (e *emitter) convCall(t *Type, v jen.Code) *jen.Statement {
	if t.Kind == Slice {
		e.useLib(libToSlice)
		return jen.Id(libToSlice).Call(v, jen.Lit(t.want()), e.convFunc(t.Elem))
	}
	return jen.Id(e.converter(t)).Call(v)
}

// convFunc is a func(any) (T, error) value converting to t.
func (e *emitter) convFunc(t *Type) jen.Code {
	if t.Kind == Slice {
		return jen.Func().Params(jen.Id("v").Any()).Params(e.goType(t), jen.Error()).Block(
			jen.Return(e.convCall(t, jen.Id("v"))),
		)
	}
	return jen.Id(e.converter(t))
}

// converter names the converter to a non-slice t and makes sure it is
// emitted.
func (e *emitter) converter(t *Type) string {
	name := convName(t)
	if t.Kind == StructKind {
		e.useStruct(t.Struct, true, false)
	} else {
		e.useLib(name)
	}
	return name
}

// encode converts v of type t to an engine value.
func (e *emitter) encode(t *Type, v jen.Code) jen.Code {
	switch t.Kind {
	case Int:
		if t.Basic == "int64" {
			return v
		}
		return jen.Int64().Call(v)
	case Uint:
		return jen.Int64().Call(v)
	case Float:
		if t.Basic == "float64" {
			return v
		}
		return jen.Float64().Call(v)
	case Duration:
		return jen.Add(v).Dot("Milliseconds").Call()
	case StructKind:
		e.useStruct(t.Struct, false, true)
		return jen.Id(encodeName(t.Struct)).Call(v)
	case Slice:
		e.useLib(libEncodeSlice)
		return jen.Id(libEncodeSlice).Call(v, jen.Func().Params(jen.Id("x").Add(e.goType(t.Elem))).Any().Block(
			jen.Return(e.encode(t.Elem, jen.Id("x"))),
		))
	}
	return v
}

// structDecls emits the decoder (and converter) or encoder of s.
func (e *emitter) structDecls(s *Struct, decode, encode bool) {
	if decode {
		e.declare(decodeName(s), "decoder kgen generates for "+s.Name)
		e.f.Line().Commentf("%s fills dst from the map m; what names the entries in errors (\"field\", \"property\").", decodeName(s))
		e.f.Func().Id(decodeName(s)).Params(
			jen.Id("m").Map(jen.String()).Any(), jen.Id("dst").Op("*").Id(s.Name), jen.Id("what").String(),
		).Error().BlockFunc(func(g *jen.Group) {
			for _, f := range s.Fields {
				e.decodeField(g, f)
			}
			g.Return(jen.Nil())
		})
		e.declare(convName(&Type{Kind: StructKind, Struct: s}), "converter kgen generates for "+s.Name)
		e.useLib(libWantError)
		e.f.Line().Func().Id(convName(&Type{Kind: StructKind, Struct: s})).Params(jen.Id("v").Any()).Params(jen.Id(s.Name), jen.Error()).Block(
			jen.Var().Id("out").Id(s.Name),
			jen.List(jen.Id("m"), jen.Id("ok")).Op(":=").Id("v").Assert(jen.Map(jen.String()).Any()),
			jen.If(jen.Op("!").Id("ok")).Block(
				jen.Return(jen.Id("out"), jen.Op("&").Id(libWantError).Values(jen.Dict{jen.Id("want"): jen.Lit("object"), jen.Id("got"): jen.Id("v")})),
			),
			jen.Return(jen.Id("out"), jen.Id(decodeName(s)).Call(jen.Id("m"), jen.Op("&").Id("out"), jen.Lit("field"))),
		)
	}
	if encode {
		e.declare(encodeName(s), "encoder kgen generates for "+s.Name)
		e.f.Line().Commentf("%s turns v into an engine row.", encodeName(s))
		e.f.Func().Id(encodeName(s)).Params(jen.Id("v").Id(s.Name)).Map(jen.String()).Any().Block(
			jen.Return(jen.Map(jen.String()).Any().ValuesFunc(func(g *jen.Group) {
				for _, f := range s.Fields {
					g.Line().Lit(f.Key).Op(":").Add(e.encode(f.Type, jen.Id("v").Dot(f.GoName)))
				}
				g.Line()
			})),
		)
	}
}

// decodeField fills one field: converted when present and not null, else
// its default, else an error when required.
func (e *emitter) decodeField(g *jen.Group, f *Field) {
	e.useLib(libFieldError)
	present := []jen.Code{
		jen.List(jen.Id("x"), jen.Err()).Op(":=").Add(e.convCall(f.Type, jen.Id("v"))),
		jen.If(jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Id(libFieldError).Call(jen.Id("what"), jen.Lit(f.Key), jen.Id("v"), jen.Err())),
		),
	}
	if len(f.OneOf) > 0 {
		var cases []jen.Code
		var quoted []string
		for _, o := range f.OneOf {
			if f.Type.Kind == String {
				cases = append(cases, jen.Lit(o))
				quoted = append(quoted, strconv.Quote(o))
			} else {
				cases = append(cases, jen.Id(o))
				quoted = append(quoted, o)
			}
		}
		verb := "%d"
		if f.Type.Kind == String {
			verb = "%q"
		}
		present = append(present, jen.Switch(jen.Id("x")).Block(
			jen.Case(cases...),
			jen.Default().Block(jen.Return(jen.Qual("fmt", "Errorf").Call(
				jen.Lit("%s %q: want one of "+strings.Join(quoted, ", ")+", got "+verb), jen.Id("what"), jen.Lit(f.Key), jen.Id("x")))),
		))
	}
	present = append(present, jen.Id("dst").Dot(f.GoName).Op("=").Id("x"))
	stmt := jen.If(jen.List(jen.Id("v"), jen.Id("ok")).Op(":=").Id("m").Index(jen.Lit(f.Key)), jen.Id("ok").Op("&&").Id("v").Op("!=").Nil()).Block(present...)
	switch {
	case f.HasDef:
		stmt.Else().Block(jen.Id("dst").Dot(f.GoName).Op("=").Add(defaultLit(f.Type, f.Default)))
	case f.Required:
		stmt.Else().Block(jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit("%s %q is required"), jen.Id("what"), jen.Lit(f.Key))))
	}
	g.Add(stmt)
}

// defaultLit spells a default= value (checked by parseDefault) as a Go
// constant of type t.
func defaultLit(t *Type, s string) jen.Code {
	v, _ := parseDefault(t, s)
	switch t.Kind {
	case Bool, String:
		return jen.Lit(v)
	case Int, Uint:
		return jen.Id(fmt.Sprint(v))
	case Float:
		return jen.Lit(v.(float64))
	case Bytes:
		return jen.Index().Byte().Parens(jen.Lit(s))
	case Duration:
		d, _ := time.ParseDuration(s)
		return jen.Id(strconv.FormatInt(int64(d), 10)).Comment(d.String())
	}
	return jen.Nil()
}
