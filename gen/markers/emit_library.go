package markers

import (
	_ "embed"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// helperSource is the conversion library spliced into generated files.
//
//go:embed internal/helpers/helpers.go
var helperSource string

// libDecl is a top-level declaration of the library with its methods.
type libDecl struct {
	order   int
	text    string   // source text with doc comments
	deps    []string // other library declarations it uses
	imports []string // import paths it uses
}

var library = sync.OnceValues(func() (map[string]*libDecl, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "helpers.go", helperSource, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("embedded helper library: %w", err)
	}
	imports := map[string]string{} // name → path
	for _, s := range f.Imports {
		p, _ := strconv.Unquote(s.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if s.Name != nil {
			name = s.Name.Name
		}
		imports[name] = p
	}
	lib := map[string]*libDecl{}
	var keys []string
	nameOf := func(d ast.Decl) string {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil {
				t := d.Recv.List[0].Type
				if s, ok := t.(*ast.StarExpr); ok {
					t = s.X
				}
				return t.(*ast.Ident).Name
			}
			return d.Name.Name
		case *ast.GenDecl:
			if len(d.Specs) == 1 {
				if ts, ok := d.Specs[0].(*ast.TypeSpec); ok {
					return ts.Name.Name
				}
			}
		}
		return ""
	}
	for _, d := range f.Decls {
		name := nameOf(d)
		if name == "" {
			continue
		}
		start := d.Pos()
		if doc := docOf(d); doc != nil {
			start = doc.Pos()
		}
		text := helperSource[fset.Position(start).Offset:fset.Position(d.End()).Offset]
		ld := lib[name]
		if ld == nil {
			ld = &libDecl{order: len(keys)}
			lib[name] = ld
			keys = append(keys, name)
		}
		ld.text += text + "\n\n"
		ast.Inspect(d, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && imports[id.Name] != "" && !slices.Contains(ld.imports, imports[id.Name]) {
					ld.imports = append(ld.imports, imports[id.Name])
				}
			case *ast.Ident:
				if strings.HasPrefix(n.Name, "kgen") && n.Name != name && !slices.Contains(ld.deps, n.Name) {
					ld.deps = append(ld.deps, n.Name)
				}
			}
			return true
		})
	}
	return lib, nil
})

func docOf(d ast.Decl) *ast.CommentGroup {
	switch d := d.(type) {
	case *ast.FuncDecl:
		return d.Doc
	case *ast.GenDecl:
		return d.Doc
	}
	return nil
}

// libraryClosure returns the declarations names need, with everything they
// use, in library order, and the import paths they use, sorted.
func libraryClosure(names []string) (decls []*libDecl, imports []string, err error) {
	lib, err := library()
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		d, ok := lib[n]
		if !ok || seen[n] {
			return
		}
		seen[n] = true
		decls = append(decls, d)
		for _, p := range d.imports {
			if !slices.Contains(imports, p) {
				imports = append(imports, p)
			}
		}
		for _, dep := range d.deps {
			visit(dep)
		}
	}
	for _, n := range names {
		if _, ok := lib[n]; !ok {
			return nil, nil, fmt.Errorf("embedded helper library: no declaration %s", n)
		}
		visit(n)
	}
	slices.SortFunc(decls, func(a, b *libDecl) int { return a.order - b.order })
	slices.Sort(imports)
	return decls, imports, nil
}
