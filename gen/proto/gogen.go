package proto

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
	"google.golang.org/protobuf/compiler/protogen"

	"github.com/kgen-dev/kgen/gen"
)

// Import paths of generated code.
const (
	sdkPath    = gen.SDKPath
	svcPath    = gen.SVCPath
	grpcPath   = "google.golang.org/grpc"
	codesPath  = "google.golang.org/grpc/codes"
	statusPath = "google.golang.org/grpc/status"
	protoPath  = "google.golang.org/protobuf/proto"
)

// generateGo returns the .pb.go files and the stub file of a server or
// client.
func generateGo(o *options, s *schema) (map[string][]byte, error) {
	p, err := buildGoPackage(o, s)
	if err != nil {
		return nil, err
	}
	n, err := newNames(o, p, o.Kind)
	if err != nil {
		return nil, err
	}
	e := &emitter{o: o, p: p, n: n}
	_, stubName := GoFileNames(o.Kind, o.base)
	e.f = jen.NewFilePathName(string(p.path), p.name)
	e.f.NoFormat = true
	e.f.HeaderComment(gen.HeaderText)
	for ip, name := range map[string]string{
		"context": "context", "net/http": "http", "time": "time",
		sdkPath: "sdk", svcPath: "svc", grpcPath: "grpc", codesPath: "codes", statusPath: "status", protoPath: "proto",
	} {
		e.f.ImportName(ip, name)
	}
	gen.Handshake(e.f, o.Kind)
	if o.Kind == KindServer {
		e.server()
	} else {
		e.client()
	}
	stub, err := render(e.f, stubName)
	if err != nil {
		return nil, err
	}
	if err := checkCollisions(stubName, stub, n, p.pbFiles); err != nil {
		return nil, err
	}
	files := map[string][]byte{stubName: stub}
	for name, b := range p.pbFiles {
		files[name] = b
	}
	return files, nil
}

// emitter builds one stub file.
type emitter struct {
	o *options
	p *goPackage
	n *names
	f *jen.File
}

// ident is a reference to a generated Go type: local, or qualified by its
// package with the name protoc-gen-go gives that package.
func (e *emitter) ident(id protogen.GoIdent) *jen.Statement {
	if id.GoImportPath == e.p.path {
		return jen.Id(id.GoName)
	}
	return jen.Qual(string(id.GoImportPath), id.GoName)
}

// pinImports names the packages of the messages an rpc uses as
// protoc-gen-go does.
func (e *emitter) pinImports(msgs ...*protogen.Message) {
	for _, m := range msgs {
		if m.GoIdent.GoImportPath == e.p.path {
			continue
		}
		if f, ok := e.p.plugin.FilesByPath[m.Desc.ParentFile().Path()]; ok {
			e.f.ImportName(string(m.GoIdent.GoImportPath), string(f.GoPackageName))
		}
	}
}

// docComment adds text as // comment lines.
func docComment(g *jen.Group, text string) {
	for _, l := range strings.Split(text, "\n") {
		g.Comment(l)
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

// checkCollisions fails when the stub file declares a package-level name
// that a .pb.go file declares too, or imports a package under a name one
// declares: two proto elements whose Go names meet.
func checkCollisions(stubName string, stub []byte, n *names, pbFiles map[string][]byte) error {
	fset := token.NewFileSet()
	sf, err := parser.ParseFile(fset, stubName, stub, parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	imports := map[string]bool{}
	for _, imp := range sf.Imports {
		ip, _ := strconv.Unquote(imp.Path.Value)
		name := path.Base(ip)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		imports[name] = true
	}
	for _, pbName := range slices.Sorted(maps.Keys(pbFiles)) {
		f, err := parser.ParseFile(fset, pbName, pbFiles[pbName], parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("generated %s does not parse: %w", pbName, err)
		}
		var errs []string
		for _, id := range topLevelNames(f) {
			if what, ok := n.declared[id]; ok {
				errs = append(errs, fmt.Sprintf("%s declares %s, which %s also declares, %s; rename one of the proto elements", pbName, id, stubName, what))
			} else if imports[id] {
				errs = append(errs, fmt.Sprintf("%s declares %s, which %s uses as a package name; rename that proto element", pbName, id, stubName))
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("%s", strings.Join(errs, "\n"))
		}
	}
	return nil
}

func topLevelNames(f *ast.File) []string {
	var out []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				out = append(out, d.Name.Name)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					out = append(out, s.Name.Name)
				case *ast.ValueSpec:
					for _, id := range s.Names {
						if id.Name != "_" {
							out = append(out, id.Name)
						}
					}
				}
			}
		}
	}
	return out
}
