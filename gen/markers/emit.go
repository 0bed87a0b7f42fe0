package markers

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
	"golang.org/x/tools/go/ast/astutil"

	"github.com/kgen-dev/kgen/gen"
)

// emitter builds the Go file of one package.
type emitter struct {
	p     *Package
	f     *jen.File
	names *names
	lib   []string // library declarations used
	// structs whose decoder or encoder is needed, and those emitted.
	decode, encodeS map[*Struct]bool
	emitted         map[*Struct][2]bool
	// declared lists the package-level identifiers the file declares, with
	// what they are for collision errors.
	declared map[string]string
	errs     ErrorList // problems only emitting finds
}

func (e *emitter) useLib(name string) {
	if !slices.Contains(e.lib, name) {
		e.lib = append(e.lib, name)
	}
}

func (e *emitter) useStruct(s *Struct, decode, encode bool) {
	if decode {
		e.decode[s] = true
	}
	if encode {
		e.encodeS[s] = true
	}
}

func (e *emitter) declare(name, what string) {
	if _, ok := e.declared[name]; !ok {
		e.declared[name] = what
	}
}

func emitGo(p *Package) ([]byte, error) {
	e := &emitter{
		p: p, f: jen.NewFilePathName(p.Path, p.Name), names: newNames(p),
		decode: map[*Struct]bool{}, encodeS: map[*Struct]bool{}, emitted: map[*Struct][2]bool{},
		declared: map[string]string{},
	}
	e.f.NoFormat = true
	e.f.HeaderComment(gen.Header)
	e.f.ImportName(sdkPath, "sdk")
	for _, std := range []string{"errors", "fmt", "io", "math", "time"} {
		e.f.ImportName(std, std)
	}
	e.f.Line().Comment("The build fails here when the sdk is older than the contract this file was generated for.")
	e.f.Const().Id("_").Op("=").Qual(sdkPath, "SupportsGeneratedV1")
	e.registrations()
	for _, fn := range sortedBy(p.Functions, func(f *Function) string { return f.Name }) {
		e.function(fn)
	}
	for _, s := range sortedBy(p.Sources, func(s *Source) string { return s.Name }) {
		e.source(s)
	}
	for _, s := range sortedBy(p.Sinks, func(s *Sink) string { return s.Name }) {
		e.sink(s)
	}
	for _, s := range sortedBy(p.States, func(s *State) string { return s.Struct.Name }) {
		e.state(s)
	}
	if err := e.errs.err(); err != nil {
		return nil, err
	}
	// Struct codecs may need more codecs (nested structs): repeat until none
	// is missing, each round in name order.
	for {
		var todo []*Struct
		for _, s := range p.Structs {
			done := e.emitted[s]
			if (e.decode[s] && !done[0]) || (e.encodeS[s] && !done[1]) {
				todo = append(todo, s)
			}
		}
		if len(todo) == 0 {
			break
		}
		for _, s := range todo {
			done := e.emitted[s]
			e.structDecls(s, e.decode[s] && !done[0], e.encodeS[s] && !done[1])
			e.emitted[s] = [2]bool{done[0] || e.decode[s], done[1] || e.encodeS[s]}
		}
	}
	var buf bytes.Buffer
	if err := e.f.Render(&buf); err != nil {
		return nil, fmt.Errorf("render %s: %w", GoFileName, err)
	}
	decls, imports, err := libraryClosure(e.lib)
	if err != nil {
		return nil, err
	}
	for _, d := range decls {
		buf.WriteString("\n")
		buf.WriteString(d.text)
	}
	src, err := formatWithImports(buf.Bytes(), imports)
	if err != nil {
		return nil, err
	}
	if err := e.checkCollisions(src, decls); err != nil {
		return nil, err
	}
	return src, nil
}

// formatWithImports formats the file and adds the library's imports; a
// failure shows the source with line numbers.
func formatWithImports(src []byte, imports []string) ([]byte, error) {
	src, err := gen.FormatGo(GoFileName, src)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, GoFileName, src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse formatted %s: %w", GoFileName, err)
	}
	for _, p := range imports {
		astutil.AddNamedImport(fset, f, "", p)
	}
	var out bytes.Buffer
	if err := format.Node(&out, fset, f); err != nil {
		return nil, fmt.Errorf("format generated %s: %w", GoFileName, err)
	}
	return out.Bytes(), nil
}

var paramLocal = regexp.MustCompile(`^a[0-9]+$`)

// checkCollisions reports user declarations that clash with what the file
// declares or imports, and user identifiers the generated bodies refer to
// that a local of those bodies would shadow.
func (e *emitter) checkCollisions(src []byte, decls []*libDecl) error {
	f, err := parser.ParseFile(token.NewFileSet(), GoFileName, src, parser.ImportsOnly)
	if err != nil {
		return err
	}
	imported := map[string]bool{}
	for _, s := range f.Imports {
		p, _ := strconv.Unquote(s.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if s.Name != nil {
			name = s.Name.Name
		}
		imported[name] = true
	}
	for _, d := range decls {
		lf, err := parser.ParseFile(token.NewFileSet(), "", "package x\n"+d.text, 0)
		if err != nil {
			return err
		}
		for _, decl := range lf.Decls {
			switch decl := decl.(type) {
			case *ast.FuncDecl:
				if decl.Recv == nil {
					e.declare(decl.Name.Name, "helper func kgen generates")
				}
			case *ast.GenDecl:
				for _, s := range decl.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						e.declare(ts.Name.Name, "helper type kgen generates")
					}
				}
			}
		}
	}
	var errs ErrorList
	for _, u := range e.p.scope {
		switch {
		case imported[u.name]:
			errs = append(errs, errorAt(u.pos, "%s %q collides with an import of the generated %s", u.kind, u.name, GoFileName))
		case e.declared[u.name] != "":
			errs = append(errs, errorAt(u.pos, "%s %q collides with the %s", u.kind, u.name, e.declared[u.name]))
		}
	}
	check := func(name string, pos token.Position, what string) {
		if localNames[name] || paramLocal.MatchString(name) {
			errs = append(errs, errorAt(pos, "%s %q: the generated code uses %q as a local name; rename the Go declaration", what, name, name))
		}
	}
	for _, fn := range e.p.Functions {
		check(fn.GoName, fn.Pos, "function")
	}
	for _, s := range e.p.Structs {
		check(s.Name, s.Pos, "type")
	}
	return errs.err()
}

// registrations emits the init func registering every plugin, if any.
func (e *emitter) registrations() {
	if len(e.p.plugins()) == 0 {
		return
	}
	e.f.Line().Func().Id("init").Params().BlockFunc(func(g *jen.Group) {
		for _, fn := range sortedBy(e.p.Functions, func(f *Function) string { return f.Name }) {
			g.Qual(sdkPath, "RegisterFunction").Call(jen.Lit(fn.Name), jen.Id(e.names.plugins[fn].Ctor))
		}
		for _, s := range sortedBy(e.p.Sources, func(s *Source) string { return s.Name }) {
			g.Qual(sdkPath, "RegisterSource").Call(jen.Lit(s.Name), jen.Id(e.names.plugins[s].Ctor))
		}
		for _, s := range sortedBy(e.p.Sinks, func(s *Sink) string { return s.Name }) {
			g.Qual(sdkPath, "RegisterSink").Call(jen.Lit(s.Name), jen.Id(e.names.plugins[s].Ctor))
		}
	})
}

// constructor emits the exported constructor of a plugin and declares its
// names.
func (e *emitter) constructor(kind, name string, pn pluginNames, iface string, value jen.Code) {
	e.declared[pn.Ctor] = fmt.Sprintf("symbol kgen exports for %s %q", kind, name)
	e.declared[pn.Impl] = fmt.Sprintf("adapter type kgen generates for %s %q", kind, name)
	e.f.Line().Commentf("%s returns a new instance of the %s %q: the registered", pn.Ctor, kind, name)
	e.f.Comment("constructor, and the symbol the engine looks up in a Go plugin build.")
	e.f.Func().Id(pn.Ctor).Params().Qual(sdkPath, iface).Block(jen.Return(value))
}

func sortedBy[T any](xs []T, key func(T) string) []T {
	out := slices.Clone(xs)
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return out
}
