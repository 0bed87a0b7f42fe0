package openapi

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/kgen-dev/kgen/gen"
)

// Import paths of generated code.
const (
	sdkPath      = gen.SDKPath
	svcPath      = gen.SVCPath
	openapiPath  = "github.com/kgen-dev/kgen/svc/openapi"
	filterPath   = "github.com/getkin/kin-openapi/openapi3filter"
	routersPath  = "github.com/getkin/kin-openapi/routers"
	openapi3Path = "github.com/getkin/kin-openapi/openapi3"
)

// emitter builds one Go file.
type emitter struct {
	m *Model
	n *names
	f *jen.File
}

// generateGo returns the Go file of a server or client.
func generateGo(m *Model) (map[string][]byte, error) {
	e := &emitter{m: m, n: m.names, f: jen.NewFile(m.opts.Package)}
	e.f.NoFormat = true
	e.f.HeaderComment(gen.HeaderText)
	for ip, name := range map[string]string{
		"context": "context", "encoding/json": "json", "net/http": "http", "time": "time", "errors": "errors",
		"fmt": "fmt", "strconv": "strconv", "strings": "strings", "sync": "sync", "os": "os",
		"path/filepath": "filepath", "io/fs": "fs", "io": "io", "slices": "slices", "maps": "maps",
		sdkPath: "sdk", svcPath: "svc", openapiPath: "openapi", filterPath: "openapi3filter", routersPath: "routers", openapi3Path: "openapi3",
	} {
		e.f.ImportName(ip, name)
	}
	name := GoFileName(m.opts.Kind, m.opts.base)
	gen.Handshake(e.f, m.opts.Kind)
	if m.opts.Kind == KindServer {
		e.server()
	} else {
		e.client()
	}
	e.document()
	src, err := render(e.f, name)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{name: src}, nil
}

// document embeds the document, one string literal per line, and the
// function that loads it once with svc/openapi.
func (e *emitter) document() {
	e.f.Line().Commentf("%s is %s, the OpenAPI document this file was generated from.", e.n.document, e.m.schema)
	lines := strings.SplitAfter(string(e.m.src), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	c := e.f.Const().Id(e.n.document).Op("=").Line()
	for i, l := range lines {
		c.Lit(l)
		if i < len(lines)-1 {
			c.Op("+").Line()
		}
	}
	e.f.Line().Commentf("%s parses %s once.", e.n.loadDocument, e.n.document)
	e.f.Var().Id(e.n.loadDocument).Op("=").Qual("sync", "OnceValues").Call(
		jen.Func().Params().Params(jen.Op("*").Qual(openapiPath, "Document"), jen.Error()).Block(
			jen.Return(jen.Qual(openapiPath, "Load").Call(jen.Index().Byte().Parens(jen.Id(e.n.document)), jen.Lit(e.m.schema))),
		),
	)
}

// typeRef is a reference to t where a value of it is held.
func (e *emitter) typeRef(t *goType) *jen.Statement {
	if t.name != "" {
		return jen.Id(t.name)
	}
	switch t.kind {
	case kindScalar:
		switch t.scalar {
		case "[]byte":
			return jen.Index().Byte()
		case "time.Time":
			return jen.Qual("time", "Time")
		}
		return jen.Id(t.scalar)
	case kindSlice:
		return jen.Index().Add(e.typeRef(t.elem))
	case kindMap:
		return jen.Map(jen.String()).Add(e.typeRef(t.elem))
	}
	return jen.Any()
}

// optionalRef is the type of an optional value of t: a pointer when absent
// and zero must differ.
func (e *emitter) optionalRef(t *goType) *jen.Statement {
	if t.pointer() {
		return jen.Op("*").Add(e.typeRef(t))
	}
	return e.typeRef(t)
}

// types declares every named type, in the order they were met.
func (e *emitter) types() {
	for _, t := range e.m.types.named {
		e.f.Line()
		what := fmt.Sprintf("%s is schema %s.", t.name, t.where)
		docComment(e.f.Group, what, t.doc)
		switch t.kind {
		case kindAlias:
			e.f.Type().Id(t.name).Add(e.typeRef(t.elem))
		case kindEnum:
			e.f.Type().Id(t.name).String()
			e.f.Line().Commentf("The values of %s.", t.name)
			e.f.Const().DefsFunc(func(g *jen.Group) {
				for i, v := range t.values {
					g.Id(t.consts[i]).Id(t.name).Op("=").Lit(v)
				}
			})
		case kindStruct:
			e.f.Type().Id(t.name).StructFunc(func(g *jen.Group) {
				for _, f := range t.fields {
					if f.doc != "" {
						docComment(g, f.doc)
					}
					typ, tag := e.typeRef(f.t), f.json
					switch {
					case f.required && f.nullable:
						typ = jen.Op("*").Add(typ)
					case !f.required:
						typ, tag = e.optionalRef(f.t), tag+",omitempty"
					}
					g.Id(f.name).Add(typ).Tag(map[string]string{"json": tag})
				}
			})
		}
	}
}

// docComment adds the paragraphs as // comment lines, a blank comment line
// between them.
func docComment(g *jen.Group, paragraphs ...string) {
	first := true
	for _, p := range paragraphs {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !first {
			g.Comment("")
		}
		first = false
		for _, l := range strings.Split(p, "\n") {
			g.Comment(strings.TrimRight(l, " \t"))
		}
	}
}

// render formats the file; a failure shows the source with line numbers.
func render(f *jen.File, name string) ([]byte, error) {
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return gen.FormatGo(name, buf.Bytes())
}
