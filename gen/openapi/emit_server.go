package openapi

import (
	"fmt"
	"net/http"

	"github.com/dave/jennifer/jen"
)

// parser parses one parameter value of a scalar Go type.
type parser struct {
	scalar string // the goType scalar
	fn     string // the generated function
	body   func() []jen.Code
}

// parsers are the generated functions that parse parameter values, one
// per scalar type.
var parsers = []parser{
	{"string", "kgenParseString", func() []jen.Code { return []jen.Code{jen.Return(jen.Id("s"), jen.Nil())} }},
	{"int64", "kgenParseInt64", func() []jen.Code {
		return []jen.Code{jen.Return(jen.Qual("strconv", "ParseInt").Call(jen.Id("s"), jen.Lit(10), jen.Lit(64)))}
	}},
	{"int32", "kgenParseInt32", func() []jen.Code {
		return []jen.Code{
			jen.List(jen.Id("v"), jen.Err()).Op(":=").Qual("strconv", "ParseInt").Call(jen.Id("s"), jen.Lit(10), jen.Lit(32)),
			jen.Return(jen.Int32().Call(jen.Id("v")), jen.Err()),
		}
	}},
	{"float64", "kgenParseFloat64", func() []jen.Code {
		return []jen.Code{jen.Return(jen.Qual("strconv", "ParseFloat").Call(jen.Id("s"), jen.Lit(64)))}
	}},
	{"float32", "kgenParseFloat32", func() []jen.Code {
		return []jen.Code{
			jen.List(jen.Id("v"), jen.Err()).Op(":=").Qual("strconv", "ParseFloat").Call(jen.Id("s"), jen.Lit(32)),
			jen.Return(jen.Float32().Call(jen.Id("v")), jen.Err()),
		}
	}},
	{"bool", "kgenParseBool", func() []jen.Code {
		return []jen.Code{jen.Return(jen.Qual("strconv", "ParseBool").Call(jen.Id("s")))}
	}},
	{"time.Time", "kgenParseTime", func() []jen.Code {
		return []jen.Code{jen.Return(jen.Qual("time", "Parse").Call(jen.Qual("time", "RFC3339"), jen.Id("s")))}
	}},
}

func parserOf(scalar string) parser {
	for _, p := range parsers {
		if p.scalar == scalar {
			return p
		}
	}
	panic(fmt.Sprintf("no parser for %q", scalar)) // checkParamType admits only these
}

// server emits the types, the Handler interface, the Params structs,
// HTTPError, Authenticator and NewHandler with its routes.
func (e *emitter) server() {
	e.types()
	e.handlerInterface()
	for _, op := range e.m.ops {
		e.paramsStruct(op)
	}
	e.httpError()
	e.newHandler()
	for _, op := range e.m.ops {
		e.serveFunc(op)
	}
	e.serverHelpers()
}

// signature is (ctx context.Context[, params *XParams]) ([R, ]error).
func (e *emitter) signature(op *operation, named bool) (params, results []jen.Code) {
	ctx := jen.Qual("context", "Context")
	if named {
		ctx = jen.Id("ctx").Add(ctx)
	}
	params = []jen.Code{ctx}
	if op.hasParams() {
		p := jen.Op("*").Id(op.names.Params)
		if named {
			p = jen.Id("params").Add(p)
		}
		params = append(params, p)
	}
	if op.result != nil {
		results = append(results, e.resultRef(op.result))
	}
	return params, append(results, jen.Error())
}

// resultRef is the type a Handler method returns: a pointer to a struct,
// else the value.
func (e *emitter) resultRef(t *goType) *jen.Statement {
	if t.kind == kindStruct {
		return jen.Op("*").Add(e.typeRef(t))
	}
	return e.typeRef(t)
}

func (e *emitter) handlerInterface() {
	info := e.m.doc.Spec.Info
	e.f.Line().Commentf("%s is the server API of %q %s: one method per operation.", e.n.Handler, info.Title, info.Version)
	e.f.Commentf("Serve an implementation with %s. A method answers with a status other", e.n.NewHandler)
	e.f.Commentf("than its operation's success status by returning an *%s.", e.n.HTTPError)
	e.f.Type().Id(e.n.Handler).InterfaceFunc(func(g *jen.Group) {
		for i, op := range e.m.ops {
			if i > 0 {
				g.Line()
			}
			docComment(g, fmt.Sprintf("%s is operation %q, %s %s.", op.names.Method, op.ID, op.Method, op.Path), op.Summary)
			params, results := e.signature(op, false)
			g.Id(op.names.Method).Params(params...).Params(results...)
		}
	})
}

func (e *emitter) paramsStruct(op *operation) {
	if !op.hasParams() {
		return
	}
	e.f.Line().Commentf("%s are the parameters of operation %q, with pointers", op.names.Params, op.ID)
	e.f.Comment("(or nil slices) for the optional ones that were not sent.")
	e.f.Type().Id(op.names.Params).StructFunc(func(g *jen.Group) {
		for _, p := range op.params {
			what := fmt.Sprintf("%s is %s parameter %q.", p.field, p.In, p.Name)
			if p.In == "body" {
				what = fmt.Sprintf("%s is the request body.", p.field)
			}
			desc := ""
			if p.Spec != nil {
				desc = p.Spec.Description
			}
			docComment(g, what, desc)
			typ := e.typeRef(p.t)
			if !p.Required {
				typ = e.optionalRef(p.t)
			}
			g.Id(p.field).Add(typ)
		}
	})
}

func (e *emitter) httpError() {
	e.f.Line().Commentf("%s is an error a %s method returns to answer with Status and,", e.n.HTTPError, e.n.Handler)
	e.f.Comment("unless it is nil, Body encoded as JSON: an error response the document declares.")
	e.f.Comment("Other errors answer 500 with {\"error\": <message>}.")
	e.f.Type().Id(e.n.HTTPError).Struct(
		jen.Id("Status").Int(),
		jen.Id("Body").Any(),
	)
	e.f.Line().Func().Params(jen.Id("e").Op("*").Id(e.n.HTTPError)).Id("Error").Params().String().Block(
		jen.Return(jen.Qual("fmt", "Sprintf").Call(jen.Lit("http status %d"), jen.Id("e").Dot("Status"))),
	)
	e.f.Line().Commentf("%s is implemented by a %s that checks credentials: for an", e.n.Authenticator, e.n.Handler)
	e.f.Comment("operation with security requirements, Authenticate is called per scheme of a")
	e.f.Comment("requirement (components.securitySchemes name, and the scopes) until a")
	e.f.Comment("requirement is met; when none is, the request gets 401. A Handler that is not")
	e.f.Comment("an Authenticator accepts every request.")
	e.f.Type().Id(e.n.Authenticator).Interface(
		jen.Id("Authenticate").Params(jen.Id("r").Op("*").Qual("net/http", "Request"), jen.Id("scheme").String(), jen.Id("scopes").Index().String()).Error(),
	)
}

func (e *emitter) newHandler() {
	http := func(id string) *jen.Statement { return jen.Qual("net/http", id) }
	e.f.Line().Commentf("%s is where an operation is served.", routeType)
	e.f.Type().Id(routeType).Struct(
		jen.Id("id").String().Comment("the operationId"),
		jen.Id("pattern").String().Comment("the net/http.ServeMux pattern"),
		jen.Id("path").Map(jen.String()).String().Comment("path parameter → pattern wildcard"),
		jen.Id("status").Int().Comment("the success status"),
		jen.Id("noContent").Bool().Comment("the operation returns no JSON"),
		jen.Id("serve").Func().Params(jen.Id(e.n.Handler), jen.Op("*").Add(http("Request"))).Params(jen.Any(), jen.Error()),
	)
	e.f.Line().Var().Id(e.n.routes).Op("=").Index().Id(routeType).ValuesFunc(func(g *jen.Group) {
		for _, op := range e.m.ops {
			r, _ := routeOf(op) // checked by Load
			d := jen.Dict{
				jen.Id("id"):      jen.Lit(op.ID),
				jen.Id("pattern"): jen.Lit(r.pattern),
				jen.Id("status"):  jen.Lit(op.status),
				jen.Id("serve"):   jen.Id(op.names.serve),
			}
			if len(r.wildcards) > 0 {
				d[jen.Id("path")] = jen.Map(jen.String()).String().Values(jen.DictFunc(func(d jen.Dict) {
					for name, w := range r.wildcards {
						d[jen.Lit(name)] = jen.Lit(w)
					}
				}))
			}
			if op.result == nil {
				d[jen.Id("noContent")] = jen.True()
			}
			g.Values(d)
		}
	})

	e.f.Line().Commentf("%s returns an http.Handler that serves h at the document's paths", e.n.NewHandler)
	e.f.Comment("(mount it under the server URL's path with http.StripPrefix). Each")
	e.f.Comment("request is first validated against the document with kin-openapi's")
	e.f.Comment("openapi3filter: parameters (required, types, enums, ...), the body and")
	e.f.Comment("the security requirements; an invalid request gets 400 (401 for security)")
	e.f.Comment("and {\"error\": <what is wrong, naming the parameter>}. The result of a")
	e.f.Comment("method is encoded as JSON with the operation's success status.")
	e.f.Func().Id(e.n.NewHandler).Params(jen.Id("h").Id(e.n.Handler)).Params(http("Handler"), jen.Error()).Block(
		jen.List(jen.Id("doc"), jen.Err()).Op(":=").Id(e.n.loadDocument).Call(),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Id("auth").Op(":=").Func().Params(jen.Id("_").Qual("context", "Context"), jen.Id("in").Op("*").Qual(filterPath, "AuthenticationInput")).Error().Block(
			jen.If(jen.List(jen.Id("a"), jen.Id("ok")).Op(":=").Id("h").Assert(jen.Id(e.n.Authenticator)), jen.Id("ok")).Block(
				jen.Return(jen.Id("a").Dot("Authenticate").Call(jen.Id("in").Dot("RequestValidationInput").Dot("Request"), jen.Id("in").Dot("SecuritySchemeName"), jen.Id("in").Dot("Scopes"))),
			),
			jen.Return(jen.Nil()),
		),
		jen.Id("opts").Op(":=").Op("&").Qual(filterPath, "Options").Values(jen.Dict{jen.Id("AuthenticationFunc"): jen.Id("auth")}),
		jen.Id("opts").Dot("WithCustomSchemaErrorFunc").Call(jen.Func().Params(jen.Id("err").Op("*").Qual("github.com/getkin/kin-openapi/openapi3", "SchemaError")).String().Block(
			jen.Id("at").Op(":=").Qual("strings", "Join").Call(jen.Id("err").Dot("JSONPointer").Call(), jen.Lit("/")),
			jen.If(jen.Id("at").Op("==").Lit("")).Block(jen.Return(jen.Id("err").Dot("Reason"))),
			jen.Return(jen.Lit("/").Op("+").Id("at").Op("+").Lit(": ").Op("+").Id("err").Dot("Reason")),
		)),
		jen.Id("mux").Op(":=").Qual("net/http", "NewServeMux").Call(),
		jen.For(jen.List(jen.Id("_"), jen.Id("rt")).Op(":=").Range().Id(e.n.routes)).Block(
			jen.Id("op").Op(":=").Id("doc").Dot("Operation").Call(jen.Id("rt").Dot("id")),
			jen.If(jen.Id("op").Op("==").Nil()).Block(
				jen.Return(jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("operation %q: not in the document"), jen.Id("rt").Dot("id"))),
			),
			jen.Id("route").Op(":=").Op("&").Qual(routersPath, "Route").Values(jen.Dict{
				jen.Id("Spec"):      jen.Id("doc").Dot("Spec"),
				jen.Id("Path"):      jen.Id("op").Dot("Path"),
				jen.Id("PathItem"):  jen.Id("doc").Dot("Spec").Dot("Paths").Dot("Value").Call(jen.Id("op").Dot("Path")),
				jen.Id("Method"):    jen.Id("op").Dot("Method"),
				jen.Id("Operation"): jen.Id("op").Dot("Spec"),
			}),
			jen.Id("mux").Dot("HandleFunc").Call(jen.Id("rt").Dot("pattern"), jen.Func().Params(jen.Id("w").Qual("net/http", "ResponseWriter"), jen.Id("r").Op("*").Qual("net/http", "Request")).Block(
				jen.Id("path").Op(":=").Make(jen.Map(jen.String()).String(), jen.Len(jen.Id("rt").Dot("path"))),
				jen.For(jen.List(jen.Id("name"), jen.Id("wildcard")).Op(":=").Range().Id("rt").Dot("path")).Block(
					jen.Id("path").Index(jen.Id("name")).Op("=").Id("r").Dot("PathValue").Call(jen.Id("wildcard")),
				),
				jen.Id("in").Op(":=").Op("&").Qual(filterPath, "RequestValidationInput").Values(jen.Dict{
					jen.Id("Request"): jen.Id("r"), jen.Id("PathParams"): jen.Id("path"), jen.Id("Route"): jen.Id("route"), jen.Id("Options"): jen.Id("opts"),
				}),
				jen.If(jen.Err().Op(":=").Qual(filterPath, "ValidateRequest").Call(jen.Id("r").Dot("Context").Call(), jen.Id("in")), jen.Err().Op("!=").Nil()).Block(
					jen.Id("status").Op(":=").Qual("net/http", "StatusBadRequest"),
					jen.Var().Id("sec").Op("*").Qual(filterPath, "SecurityRequirementsError"),
					jen.If(jen.Qual("errors", "As").Call(jen.Err(), jen.Op("&").Id("sec"))).Block(
						jen.Id("status").Op("=").Qual("net/http", "StatusUnauthorized"),
					),
					jen.Id("kgenWriteJSON").Call(jen.Id("w"), jen.Id("status"), jen.Map(jen.String()).String().Values(jen.Dict{jen.Lit("error"): jen.Err().Dot("Error").Call()})),
					jen.Return(),
				),
				jen.List(jen.Id("result"), jen.Err()).Op(":=").Id("rt").Dot("serve").Call(jen.Id("h"), jen.Id("r")),
				jen.Switch().Block(
					jen.Case(jen.Err().Op("!=").Nil()).Block(jen.Id("kgenWriteError").Call(jen.Id("w"), jen.Err())),
					jen.Case(jen.Id("rt").Dot("noContent")).Block(jen.Id("w").Dot("WriteHeader").Call(jen.Id("rt").Dot("status"))),
					jen.Default().Block(jen.Id("kgenWriteJSON").Call(jen.Id("w"), jen.Id("rt").Dot("status"), jen.Id("result"))),
				),
			)),
		),
		jen.Return(jen.Id("mux"), jen.Nil()),
	)
}

// serveFunc emits kgenServe<Method>: it decodes the validated request into
// the Params struct and calls the Handler method.
func (e *emitter) serveFunc(op *operation) {
	e.f.Line().Commentf("%s decodes a request of operation %q and calls %s.%s.", op.names.serve, op.ID, e.n.Handler, op.names.Method)
	e.f.Func().Id(op.names.serve).Params(jen.Id("h").Id(e.n.Handler), jen.Id("r").Op("*").Qual("net/http", "Request")).Params(jen.Any(), jen.Error()).BlockFunc(func(g *jen.Group) {
		args := []jen.Code{jen.Id("r").Dot("Context").Call()}
		if op.hasParams() {
			g.Id("params").Op(":=").New(jen.Id(op.names.Params))
			args = append(args, jen.Id("params"))
			var query bool
			for _, p := range op.params {
				query = query || p.In == "query"
			}
			if query {
				g.Id("query").Op(":=").Id("r").Dot("URL").Dot("Query").Call()
			}
			for _, p := range op.params {
				e.decodeParam(g, op, p)
			}
		}
		call := jen.Id("h").Dot(op.names.Method).Call(args...)
		if op.result == nil {
			g.Return(jen.Nil(), call)
		} else {
			g.Return(call)
		}
	})
}

// decodeParam fills params.<field> from the request.
func (e *emitter) decodeParam(g *jen.Group, op *operation, p *param) {
	dst := jen.Id("params").Dot(p.field)
	if p.In == "body" {
		g.If(
			jen.Err().Op(":=").Qual("encoding/json", "NewDecoder").Call(jen.Id("r").Dot("Body")).Dot("Decode").Call(jen.Op("&").Add(dst)),
			jen.Err().Op("!=").Nil().Op("&&").Op("!").Qual("errors", "Is").Call(jen.Err(), jen.Qual("io", "EOF")),
		).Block(
			jen.Return(jen.Nil(), jen.Op("&").Id(e.n.HTTPError).Values(jen.Dict{
				jen.Id("Status"): jen.Qual("net/http", "StatusBadRequest"),
				jen.Id("Body"):   jen.Map(jen.String()).String().Values(jen.Dict{jen.Lit("error"): jen.Lit("request body: ").Op("+").Err().Dot("Error").Call()}),
			})),
		)
		return
	}
	var values *jen.Statement
	split := true
	switch p.In {
	case "path":
		r, _ := routeOf(op)
		values = jen.Index().String().Values(jen.Id("r").Dot("PathValue").Call(jen.Lit(r.wildcards[p.Name])))
	case "query":
		values = jen.Id("query").Index(jen.Lit(p.Name))
		split = p.Spec.Explode != nil && !*p.Spec.Explode
	case "header":
		values = jen.Id("r").Dot("Header").Dot("Values").Call(jen.Lit(http.CanonicalHeaderKey(p.Name)))
	}
	t := p.t
	for t.kind == kindAlias {
		t = t.elem
	}
	var helper string
	var parse *jen.Statement
	var splitArg []jen.Code
	if t.kind == kindSlice {
		helper, parse = "kgenArray", e.parseFunc(t.elem)
		splitArg = []jen.Code{jen.Lit(split)}
	} else {
		helper, parse = "kgenScalar", e.parseFunc(t)
	}
	call := jen.Id(helper).Call(append([]jen.Code{jen.Lit(p.In), jen.Lit(p.Name), values}, append(splitArg, parse)...)...)
	v := jen.Id("v")
	assign := dst.Clone().Op("=").Add(v.Clone())
	if t.kind != kindSlice && p.Required {
		assign = jen.If(v.Clone().Op("!=").Nil()).Block(dst.Clone().Op("=").Op("*").Add(v.Clone()))
	}
	if p.t.kind == kindAlias {
		conv := jen.Id(p.t.name).Call(v.Clone())
		if t.kind != kindSlice {
			conv = jen.Id(p.t.name).Call(jen.Op("*").Add(v.Clone()))
			if p.Required {
				assign = jen.If(v.Clone().Op("!=").Nil()).Block(dst.Clone().Op("=").Add(conv))
			} else {
				assign = jen.If(v.Clone().Op("!=").Nil()).Block(jen.Id("c").Op(":=").Add(conv), dst.Clone().Op("=").Op("&").Id("c"))
			}
		} else {
			assign = dst.Clone().Op("=").Add(conv)
		}
	}
	g.Block(
		jen.List(v.Clone(), jen.Err()).Op(":=").Add(call),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		assign,
	)
}

// parseFunc is the function that parses one value of scalar or enum type
// t.
func (e *emitter) parseFunc(t *goType) *jen.Statement {
	for t.kind == kindAlias {
		t = t.elem
	}
	if t.kind == kindEnum {
		return jen.Func().Params(jen.Id("s").String()).Params(jen.Id(t.name), jen.Error()).Block(
			jen.Return(jen.Id(t.name).Call(jen.Id("s")), jen.Nil()),
		)
	}
	return jen.Id(parserOf(t.scalar).fn)
}

// serverHelpers emits the functions the routes share.
func (e *emitter) serverHelpers() {
	w := jen.Id("w").Qual("net/http", "ResponseWriter")
	e.f.Line().Comment("kgenWriteJSON answers with status and v encoded as JSON.")
	e.f.Func().Id("kgenWriteJSON").Params(w.Clone(), jen.Id("status").Int(), jen.Id("v").Any()).Block(
		jen.List(jen.Id("data"), jen.Err()).Op(":=").Qual("encoding/json", "Marshal").Call(jen.Id("v")),
		jen.If(jen.Err().Op("!=").Nil()).Block(
			jen.Id("status").Op("=").Qual("net/http", "StatusInternalServerError"),
			jen.List(jen.Id("data"), jen.Id("_")).Op("=").Qual("encoding/json", "Marshal").Call(jen.Map(jen.String()).String().Values(jen.Dict{
				jen.Lit("error"): jen.Lit("encode response: ").Op("+").Err().Dot("Error").Call(),
			})),
		),
		jen.Id("w").Dot("Header").Call().Dot("Set").Call(jen.Lit("Content-Type"), jen.Lit("application/json")),
		jen.Id("w").Dot("WriteHeader").Call(jen.Id("status")),
		jen.Id("w").Dot("Write").Call(jen.Append(jen.Id("data"), jen.LitRune('\n'))),
	)
	e.f.Line().Commentf("kgenWriteError answers an *%s with its status and body, another error", e.n.HTTPError)
	e.f.Comment("with 500.")
	e.f.Func().Id("kgenWriteError").Params(w.Clone(), jen.Err().Error()).Block(
		jen.Var().Id("he").Op("*").Id(e.n.HTTPError),
		jen.If(jen.Op("!").Qual("errors", "As").Call(jen.Err(), jen.Op("&").Id("he"))).Block(
			jen.Id("kgenWriteJSON").Call(jen.Id("w"), jen.Qual("net/http", "StatusInternalServerError"), jen.Map(jen.String()).String().Values(jen.Dict{jen.Lit("error"): jen.Err().Dot("Error").Call()})),
			jen.Return(),
		),
		jen.If(jen.Id("he").Dot("Body").Op("==").Nil()).Block(
			jen.Id("w").Dot("WriteHeader").Call(jen.Id("he").Dot("Status")),
			jen.Return(),
		),
		jen.Id("kgenWriteJSON").Call(jen.Id("w"), jen.Id("he").Dot("Status"), jen.Id("he").Dot("Body")),
	)
	T := jen.Id("T")
	e.f.Line().Comment("kgenScalar parses the first of a parameter's values; nil when there is none.")
	e.f.Func().Id("kgenScalar").Types(T.Clone().Any()).Params(
		jen.List(jen.Id("in"), jen.Id("name")).String(), jen.Id("values").Index().String(), jen.Id("parse").Func().Params(jen.String()).Params(T.Clone(), jen.Error()),
	).Params(jen.Op("*").Add(T.Clone()), jen.Error()).Block(
		jen.If(jen.Len(jen.Id("values")).Op("==").Lit(0)).Block(jen.Return(jen.Nil(), jen.Nil())),
		jen.List(jen.Id("v"), jen.Err()).Op(":=").Id("parse").Call(jen.Id("values").Index(jen.Lit(0))),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id("kgenParamError").Call(jen.Id("in"), jen.Id("name"), jen.Err()))),
		jen.Return(jen.Op("&").Id("v"), jen.Nil()),
	)
	e.f.Line().Comment("kgenArray parses every value of a parameter, each split at commas when split.")
	e.f.Func().Id("kgenArray").Types(T.Clone().Any()).Params(
		jen.List(jen.Id("in"), jen.Id("name")).String(), jen.Id("values").Index().String(), jen.Id("split").Bool(), jen.Id("parse").Func().Params(jen.String()).Params(T.Clone(), jen.Error()),
	).Params(jen.Index().Add(T.Clone()), jen.Error()).Block(
		jen.Var().Id("out").Index().Add(T.Clone()),
		jen.For(jen.List(jen.Id("_"), jen.Id("value")).Op(":=").Range().Id("values")).Block(
			jen.Id("parts").Op(":=").Index().String().Values(jen.Id("value")),
			jen.If(jen.Id("split")).Block(jen.Id("parts").Op("=").Qual("strings", "Split").Call(jen.Id("value"), jen.Lit(","))),
			jen.For(jen.List(jen.Id("_"), jen.Id("s")).Op(":=").Range().Id("parts")).Block(
				jen.List(jen.Id("v"), jen.Err()).Op(":=").Id("parse").Call(jen.Id("s")),
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id("kgenParamError").Call(jen.Id("in"), jen.Id("name"), jen.Err()))),
				jen.Id("out").Op("=").Append(jen.Id("out"), jen.Id("v")),
			),
		),
		jen.Return(jen.Id("out"), jen.Nil()),
	)
	e.f.Line().Comment("kgenParamError is a 400 answer naming the parameter.")
	e.f.Func().Id("kgenParamError").Params(jen.List(jen.Id("in"), jen.Id("name")).String(), jen.Err().Error()).Error().Block(
		jen.Return(jen.Op("&").Id(e.n.HTTPError).Values(jen.Dict{
			jen.Id("Status"): jen.Qual("net/http", "StatusBadRequest"),
			jen.Id("Body"): jen.Map(jen.String()).String().Values(jen.Dict{
				jen.Lit("error"): jen.Qual("fmt", "Sprintf").Call(jen.Lit("parameter %q in %s: %v"), jen.Id("name"), jen.Id("in"), jen.Err()),
			}),
		})),
	)
	for _, p := range parsers {
		e.f.Line().Func().Id(p.fn).Params(jen.Id("s").String()).Params(e.typeRef(&goType{kind: kindScalar, scalar: p.scalar}), jen.Error()).Block(p.body()...)
	}
}
