package markers

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// function emits the constructor, adapter type and methods of a function:
//
//	Validate checks the argument count and the type of literal arguments;
//	Exec converts each argument, calls the author's func and encodes the
//	result; IsAggregate says whether arguments are per-row slices.
func (e *emitter) function(fn *Function) {
	pn := e.names.plugins[fn]
	e.constructor("function", fn.Name, pn, "Function", jen.Id(pn.Impl).Values())
	e.f.Line().Commentf("%s adapts %s to sdk.Function.", pn.Impl, fn.GoName)
	e.f.Type().Id(pn.Impl).Struct()
	recv := jen.Id(pn.Impl)
	fixed := len(fn.Params)
	if fn.Variadic {
		fixed--
	}
	maxArgs := fixed
	if fn.Variadic {
		maxArgs = -1
	}

	// Validate.
	e.f.Line().Func().Params(recv.Clone()).Id("Validate").Params(jen.Id("args").Index().Qual(sdkPath, "Arg")).Error().BlockFunc(func(g *jen.Group) {
		g.If(jen.Err().Op(":=").Qual(sdkPath, "CheckArgCount").Call(jen.Lit(fn.Name), jen.Id("args"), jen.Lit(fixed), jen.Lit(maxArgs)), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Err()),
		)
		for i, p := range fn.Params {
			lt := literalType(fn, p)
			if lt.Kind == Any {
				continue
			}
			if fn.Variadic && i == len(fn.Params)-1 {
				g.For(jen.List(jen.Id("i"), jen.Id("a")).Op(":=").Range().Id("args").Index(jen.Lit(fixed).Op(":"))).Block(
					jen.If(jen.Id("a").Dot("Kind").Op("==").Qual(sdkPath, "ArgLiteral")).Block(
						jen.If(jen.List(jen.Id("_"), jen.Err()).Op(":=").Add(e.convCall(lt, jen.Id("a").Dot("Value"))), jen.Err().Op("!=").Nil()).Block(
							jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(fmt.Sprintf("%s: argument %%d (%s): %%w", fn.Name, p.Name)), jen.Id("i").Op("+").Lit(p.Index), jen.Err())),
						),
					),
				)
				continue
			}
			g.If(jen.Id("a").Op(":=").Id("args").Index(jen.Lit(i)), jen.Id("a").Dot("Kind").Op("==").Qual(sdkPath, "ArgLiteral")).Block(
				jen.If(jen.List(jen.Id("_"), jen.Err()).Op(":=").Add(e.convCall(lt, jen.Id("a").Dot("Value"))), jen.Err().Op("!=").Nil()).Block(
					jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(argPrefix(fn, p)+"%w"), jen.Err())),
				),
			)
		}
		g.Return(jen.Nil())
	})

	// Exec.
	e.f.Line().Func().Params(recv.Clone()).Id("Exec").Params(
		jen.Id("ctx").Qual(sdkPath, "FunctionContext"), jen.Id("args").Index().Any(),
	).Params(jen.Any(), jen.Bool()).BlockFunc(func(g *jen.Group) {
		if fn.Variadic {
			g.If(jen.Len(jen.Id("args")).Op("<").Lit(fixed)).Block(
				jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(fmt.Sprintf("%s: want at least %d argument%s, got %%d", fn.Name, fixed, plural(fixed))), jen.Len(jen.Id("args"))), jen.False()),
			)
		} else {
			g.If(jen.Len(jen.Id("args")).Op("!=").Lit(fixed)).Block(
				jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(fmt.Sprintf("%s: want %d argument%s, got %%d", fn.Name, fixed, plural(fixed))), jen.Len(jen.Id("args"))), jen.False()),
			)
		}
		var call []jen.Code
		if fn.HasCtx {
			call = append(call, jen.Id("ctx"))
		}
		for i, p := range fn.Params {
			local := fmt.Sprintf("a%d", p.Index)
			if fn.Variadic && i == len(fn.Params)-1 {
				g.Id(local).Op(":=").Make(jen.Index().Add(e.goType(p.Type)), jen.Len(jen.Id("args")).Op("-").Lit(fixed))
				g.For(jen.List(jen.Id("i"), jen.Id("v")).Op(":=").Range().Id("args").Index(jen.Lit(fixed).Op(":"))).Block(
					jen.List(jen.Id("x"), jen.Err()).Op(":=").Add(e.convCall(p.Type, jen.Id("v"))),
					jen.If(jen.Err().Op("!=").Nil()).Block(
						jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(fmt.Sprintf("%s: argument %%d (%s): %%w", fn.Name, p.Name)), jen.Id("i").Op("+").Lit(p.Index), jen.Err()), jen.False()),
					),
					jen.Id(local).Index(jen.Id("i")).Op("=").Id("x"),
				)
				call = append(call, jen.Id(local).Op("..."))
				continue
			}
			if p.Type.Kind == Any {
				g.Id(local).Op(":=").Id("args").Index(jen.Lit(i))
			} else {
				g.List(jen.Id(local), jen.Err()).Op(":=").Add(e.convCall(p.Type, jen.Id("args").Index(jen.Lit(i))))
				g.If(jen.Err().Op("!=").Nil()).Block(
					jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(argPrefix(fn, p)+"%w"), jen.Err()), jen.False()),
				)
			}
			call = append(call, jen.Id(local))
		}
		if fn.HasError {
			g.List(jen.Id("res"), jen.Err()).Op(":=").Id(fn.GoName).Call(call...)
			g.If(jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(fn.Name+": %w"), jen.Err()), jen.False()),
			)
		} else {
			g.Id("res").Op(":=").Id(fn.GoName).Call(call...)
		}
		g.Return(e.encode(fn.Result, jen.Id("res")), jen.True())
	})

	e.f.Line().Func().Params(recv.Clone()).Id("IsAggregate").Params().Bool().Block(jen.Return(jen.Lit(fn.Aggregate)))
}

// literalType is the type a literal argument must convert to: the
// parameter's, or its element type for an aggregate (a literal is the same
// on every row).
func literalType(fn *Function, p *Param) *Type {
	if fn.Aggregate {
		return p.Type.Elem
	}
	return p.Type
}

func argPrefix(fn *Function, p *Param) string {
	return fmt.Sprintf("%s: argument %d (%s): ", fn.Name, p.Index, p.Name)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
