package markers

import (
	"cmp"
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/kgen-dev/kgen/internal/kgenmod"
	"github.com/kgen-dev/kgen/sdk"
)

// GoFileName is the name of the Go file kgen generates in each package.
const GoFileName = "kgen.gen.go"

const sdkPath = kgenmod.SDK

// Load lists the packages matching patterns (relative to dir; "." when
// none), type-checks them and builds their model. The packages need not
// compile: an existing kgen.gen.go is masked, and type errors are only
// reported when a marked declaration depends on them. File names in errors
// are relative to dir.
func Load(dir string, patterns ...string) ([]*Package, error) {
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// First pass: only file lists, to find generated files to mask.
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles, Dir: dir}
	listed, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, fmt.Errorf("load packages: %w", err)
	}
	overlay := map[string][]byte{}
	generated := map[string]bool{}
	for _, p := range listed {
		for _, f := range p.GoFiles {
			if filepath.Base(f) == GoFileName {
				overlay[f] = []byte("package " + p.Name + "\n")
				generated[p.PkgPath] = true
			}
		}
	}
	cfg = &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax |
			packages.NeedTypes | packages.NeedTypesInfo,
		Dir:     dir,
		Overlay: overlay,
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, fmt.Errorf("load packages: %w", err)
	}
	slices.SortFunc(pkgs, func(a, b *packages.Package) int { return strings.Compare(a.PkgPath, b.PkgPath) })
	var out []*Package
	var errs ErrorList
	for _, p := range pkgs {
		if err := loadErrors(p); err != nil {
			return nil, err
		}
		if len(p.GoFiles) == 0 {
			continue
		}
		b := &builder{dir: dir, pkg: p, structs: map[*types.TypeName]*Struct{}, rows: map[*types.TypeName]*Type{}, genDoc: map[*ast.TypeSpec]*ast.CommentGroup{}}
		m := b.build()
		m.HasGenerated = generated[p.PkgPath]
		out = append(out, m)
		errs = append(errs, b.errs...)
	}
	errs = append(errs, checkNames(out)...)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// loadErrors fails on errors that leave no usable syntax; type errors (and
// the go command's compile errors) are kept for the types that depend on
// them.
func loadErrors(p *packages.Package) error {
	var errs []error
	for _, e := range p.Errors {
		if e.Kind == packages.ParseError || (e.Kind == packages.ListError && len(p.Syntax) == 0 && len(p.GoFiles) > 0) {
			errs = append(errs, errors.New(e.Error()))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("package %s: %w", p.PkgPath, errors.Join(errs...))
	}
	return nil
}

// builder builds the model of one package.
type builder struct {
	dir     string
	pkg     *packages.Package
	model   *Package
	structs map[*types.TypeName]*Struct
	rows    map[*types.TypeName]*Type
	genDoc  map[*ast.TypeSpec]*ast.CommentGroup // a single-spec type decl's doc
	errs    ErrorList
}

func (b *builder) position(pos token.Pos) token.Position {
	p := b.pkg.Fset.Position(pos)
	if rel, err := filepath.Rel(b.dir, p.Filename); err == nil && !strings.HasPrefix(rel, "..") {
		p.Filename = rel
	}
	return p
}

func (b *builder) errorf(pos token.Pos, format string, args ...any) {
	b.errs = append(b.errs, errorAt(b.position(pos), format, args...))
}

func (b *builder) build() *Package {
	p := b.pkg
	b.model = &Package{Name: p.Name, Path: p.PkgPath}
	if len(p.GoFiles) > 0 {
		b.model.Dir = filepath.Dir(p.GoFiles[0])
	}
	for _, f := range p.Syntax {
		if filepath.Base(p.Fset.Position(f.Package).Filename) == GoFileName {
			continue
		}
		b.file(f)
	}
	scope := p.Types.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		kind := "var"
		switch obj.(type) {
		case *types.TypeName:
			kind = "type"
		case *types.Func:
			kind = "func"
		case *types.Const:
			kind = "const"
		}
		b.model.scope = append(b.model.scope, userDecl{name: name, kind: kind, pos: b.position(obj.Pos())})
	}
	for _, s := range b.structs {
		b.model.Structs = append(b.model.Structs, s)
	}
	slices.SortFunc(b.model.Structs, func(x, y *Struct) int { return strings.Compare(x.Name, y.Name) })
	return b.model
}

// file finds the markers of one file and checks each is attached.
func (b *builder) file(f *ast.File) {
	attached := map[*ast.CommentGroup]bool{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			attached[d.Doc] = true
			if m := b.markerOf(d.Doc); m != nil {
				b.function(d, m)
			}
		case *ast.GenDecl:
			attached[d.Doc] = true
			docMarker := b.markerOf(d.Doc)
			for _, s := range d.Specs {
				ts, isType := s.(*ast.TypeSpec)
				if isType {
					attached[ts.Doc] = true
					if len(d.Specs) == 1 {
						b.genDoc[ts] = d.Doc
					}
				}
				m := docMarker
				if isType && ts.Doc != nil {
					if tm := b.markerOf(ts.Doc); tm != nil {
						m = tm
					}
				}
				if m == nil {
					continue
				}
				if !isType || d.Tok != token.TYPE || (m == docMarker && len(d.Specs) > 1) {
					b.errs = append(b.errs, errorAt(m.pos, "//kgen:%s must be on a struct type or a top-level func", m.kind))
					docMarker = nil
					continue
				}
				b.typeDecl(ts, m)
			}
		}
	}
	for _, g := range f.Comments {
		if attached[g] {
			continue
		}
		for _, c := range g.List {
			if strings.HasPrefix(c.Text, markerPrefix) {
				b.errorf(c.Slash, "%s is not attached to a declaration", strings.Fields(c.Text)[0])
			}
		}
	}
}

// markerOf parses the marker of a doc comment: nil when there is none or
// it is malformed (the error is recorded).
func (b *builder) markerOf(doc *ast.CommentGroup) *marker {
	if doc == nil {
		return nil
	}
	var found *marker
	for _, c := range doc.List {
		if !strings.HasPrefix(c.Text, markerPrefix) {
			continue
		}
		m, err := parseMarker(c.Text, b.position(c.Slash))
		if err != nil {
			b.errs = append(b.errs, err)
			continue
		}
		if found != nil {
			b.errs = append(b.errs, errorAt(m.pos, "//kgen:%s: the declaration already has //kgen:%s", m.kind, found.kind))
			continue
		}
		found = m
	}
	return found
}

// docText is a doc comment without its markers and directives.
func docText(g *ast.CommentGroup) string {
	return strings.TrimSpace(g.Text())
}

// pluginName is the marker's name= or the Go identifier, validated.
func (b *builder) pluginName(m *marker, goName string) (string, bool) {
	name := cmp.Or(m.name, goName)
	if err := sdk.ValidateName(name); err != nil {
		b.errs = append(b.errs, errorAt(m.pos, "//kgen:%s: %v", m.kind, err))
		return "", false
	}
	return name, true
}

func (b *builder) function(d *ast.FuncDecl, m *marker) {
	if m.kind != "function" {
		b.errs = append(b.errs, errorAt(m.pos, "//kgen:%s must be on a struct type, not a func", m.kind))
		return
	}
	if d.Recv != nil {
		b.errs = append(b.errs, errorAt(m.pos, "//kgen:function must be on a top-level func, not a method"))
		return
	}
	name, ok := b.pluginName(m, d.Name.Name)
	if !ok {
		return
	}
	if d.Type.TypeParams != nil {
		b.errorf(d.Name.Pos(), "function %q: generic functions are not supported", name)
		return
	}
	fn := &Function{Name: name, GoName: d.Name.Name, Doc: docText(d.Doc), Aggregate: m.aggregate, Pos: m.pos}
	obj, _ := b.pkg.TypesInfo.Defs[d.Name].(*types.Func)
	if obj == nil {
		b.errorf(d.Name.Pos(), "function %q: no type information", name)
		return
	}
	sig := obj.Signature()
	fn.Variadic = sig.Variadic()
	// Flatten the AST parameters so each has its type expression's position.
	var exprs []ast.Expr
	for _, f := range d.Type.Params.List {
		n := max(len(f.Names), 1)
		for range n {
			exprs = append(exprs, f.Type)
		}
	}
	params := sig.Params()
	first := 0
	if params.Len() > 0 && isSDKNamed(params.At(0).Type(), "FunctionContext", "Context") {
		fn.HasCtx, first = true, 1
	}
	ok = true
	for i := first; i < params.Len(); i++ {
		v := params.At(i)
		p := &Param{Name: v.Name(), Index: i - first + 1}
		if p.Name == "" || p.Name == "_" {
			p.Name = fmt.Sprintf("arg%d", p.Index)
		}
		t := v.Type()
		if fn.Variadic && i == params.Len()-1 {
			t = t.(*types.Slice).Elem()
		}
		what := fmt.Sprintf("function %q: parameter %d (%s)", name, p.Index, p.Name)
		pt := b.typeOf(t, exprs[i].Pos(), what)
		if pt == nil {
			ok = false
			continue
		}
		if fn.Aggregate && pt.Kind != Slice && !(fn.Variadic && i == params.Len()-1) {
			b.errorf(exprs[i].Pos(), "%s: an aggregate function's parameters must be slices (one element per row), got %s", what, pt.GoString())
			ok = false
			continue
		}
		p.Type = pt
		fn.Params = append(fn.Params, p)
	}
	if fn.Aggregate && fn.Variadic {
		b.errorf(d.Name.Pos(), "function %q: an aggregate function cannot be variadic", name)
		return
	}
	res := sig.Results()
	resPos := d.Name.Pos()
	if d.Type.Results != nil {
		resPos = d.Type.Results.Pos()
	}
	switch {
	case res.Len() == 1 && !isError(res.At(0).Type()):
	case res.Len() == 2 && isError(res.At(1).Type()):
		fn.HasError = true
	default:
		b.errorf(resPos, "function %q: want results T or (T, error), got %s", name, types.TypeString(types.NewTuple(tupleVars(res)...), b.qualifier))
		return
	}
	fn.Result = b.typeOf(res.At(0).Type(), resPos, fmt.Sprintf("function %q: result", name))
	if !ok || fn.Result == nil {
		return
	}
	b.model.Functions = append(b.model.Functions, fn)
}

func tupleVars(t *types.Tuple) []*types.Var {
	vs := make([]*types.Var, t.Len())
	for i := range vs {
		vs[i] = t.At(i)
	}
	return vs
}

func (b *builder) qualifier(p *types.Package) string {
	if p == b.pkg.Types {
		return ""
	}
	return p.Name()
}

func isError(t types.Type) bool { return types.Identical(t, types.Universe.Lookup("error").Type()) }

// isSDKNamed reports whether t is one of the sdk's named types.
func isSDKNamed(t types.Type, names ...string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.Obj().Pkg().Path() != sdkPath {
		return false
	}
	return slices.Contains(names, n.Obj().Name())
}

// typeOf maps a Go type to a supported Type, or records an error at pos
// and returns nil.
func (b *builder) typeOf(t types.Type, pos token.Pos, what string) *Type {
	if tt, err := b.mapType(t); err != "" {
		b.errorf(pos, "%s: %s", what, err)
		return nil
	} else {
		return tt
	}
}

// mapType maps a Go type; the string is why it is unsupported.
func (b *builder) mapType(t types.Type) (*Type, string) {
	t = types.Unalias(t)
	switch t := t.(type) {
	case *types.Basic:
		switch {
		case t.Kind() == types.Invalid:
			return nil, "the type does not type-check: " + b.typeErrors()
		case t.Kind() == types.Bool:
			return &Type{Kind: Bool, Basic: t.Name()}, ""
		case t.Kind() == types.String:
			return &Type{Kind: String, Basic: t.Name()}, ""
		case t.Kind() >= types.Int && t.Kind() <= types.Int64:
			return &Type{Kind: Int, Basic: t.Name()}, ""
		case t.Kind() >= types.Uint && t.Kind() <= types.Uint64:
			return &Type{Kind: Uint, Basic: t.Name()}, ""
		case t.Kind() == types.Float32 || t.Kind() == types.Float64:
			return &Type{Kind: Float, Basic: t.Name()}, ""
		}
	case *types.Named:
		obj := t.Obj()
		if obj.Pkg() != nil && obj.Pkg().Path() == "time" {
			switch obj.Name() {
			case "Time":
				return &Type{Kind: Time}, ""
			case "Duration":
				return &Type{Kind: Duration}, ""
			}
		}
		if _, isStruct := t.Underlying().(*types.Struct); isStruct && obj.Pkg() == b.pkg.Types && t.TypeArgs().Len() == 0 {
			s, err := b.structOf(obj)
			if err != "" {
				return nil, err
			}
			return &Type{Kind: StructKind, Struct: s}, ""
		}
	case *types.Slice:
		if e, ok := t.Elem().(*types.Basic); ok && e.Kind() == types.Byte {
			return &Type{Kind: Bytes}, ""
		}
		elem, err := b.mapType(t.Elem())
		if err != "" {
			return nil, err
		}
		return &Type{Kind: Slice, Elem: elem}, ""
	case *types.Map:
		if k, ok := t.Key().(*types.Basic); ok && k.Kind() == types.String && isEmptyInterface(t.Elem()) {
			return &Type{Kind: Map}, ""
		}
	case *types.Interface:
		if t.Empty() {
			return &Type{Kind: Any}, ""
		}
	}
	return nil, "unsupported type " + types.TypeString(t, b.qualifier)
}

func isEmptyInterface(t types.Type) bool {
	i, ok := types.Unalias(t).(*types.Interface)
	return ok && i.Empty()
}

// typeErrors lists the package's type errors.
func (b *builder) typeErrors() string {
	var msgs []string
	for _, e := range b.pkg.Errors {
		if e.Kind == packages.TypeError {
			msgs = append(msgs, e.Msg)
		}
		if len(msgs) == 3 {
			msgs = append(msgs, "…")
			break
		}
	}
	return strings.Join(msgs, "; ")
}

// structOf builds (once) the model of a struct type of the package from
// its declaration.
func (b *builder) structOf(obj *types.TypeName) (*Struct, string) {
	if s, ok := b.structs[obj]; ok {
		return s, ""
	}
	spec := b.typeSpec(obj)
	st, _ := spec.Type.(*ast.StructType)
	if st == nil {
		return nil, "unsupported type " + obj.Name() + " (want a struct declared as struct{...})"
	}
	s := &Struct{Name: obj.Name(), Pos: b.position(spec.Name.Pos())}
	b.structs[obj] = s // before the fields: a struct may refer to itself
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 {
			b.errorf(f.Type.Pos(), "struct %s: embedded fields are not supported", s.Name)
			continue
		}
		var tag string
		if f.Tag != nil {
			tag, _ = strconv.Unquote(f.Tag.Value)
		}
		doc := cmp.Or(docText(f.Doc), docText(f.Comment))
		for _, n := range f.Names {
			if !n.IsExported() {
				continue
			}
			pos := b.position(n.Pos())
			ft, err := parseFieldTag(tag, pos, fmt.Sprintf("struct %s: field %s", s.Name, n.Name))
			if err != nil {
				b.errs = append(b.errs, err)
				continue
			}
			if ft.skip {
				continue
			}
			v, _ := b.pkg.TypesInfo.Defs[n].(*types.Var)
			if v == nil {
				continue
			}
			typ := b.typeOf(v.Type(), f.Type.Pos(), fmt.Sprintf("struct %s: field %s", s.Name, n.Name))
			if typ == nil {
				continue
			}
			fld := &Field{GoName: n.Name, Key: cmp.Or(ft.key, lowerFirst(n.Name)), Type: typ, Doc: doc, Default: ft.def, HasDef: ft.hasDef,
				Required: ft.required, OneOf: ft.oneOf, Pos: pos, TypePos: b.position(f.Type.Pos())}
			if err := checkFieldOptions(fld); err != "" {
				b.errs = append(b.errs, errorAt(pos, "struct %s: field %s: %s", s.Name, n.Name, err))
				continue
			}
			s.Fields = append(s.Fields, fld)
		}
	}
	seen := map[string]*Field{}
	for _, f := range s.Fields {
		if g := seen[f.Key]; g != nil {
			b.errs = append(b.errs, errorAt(f.Pos, "struct %s: field %s: key %q is also used by field %s", s.Name, f.GoName, f.Key, g.GoName))
		}
		seen[f.Key] = f
	}
	return s, ""
}

func (b *builder) typeSpec(obj *types.TypeName) *ast.TypeSpec {
	for _, f := range b.pkg.Syntax {
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok {
				for _, s := range g.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok && b.pkg.TypesInfo.Defs[ts.Name] == obj {
						return ts
					}
				}
			}
		}
	}
	return &ast.TypeSpec{Name: &ast.Ident{Name: obj.Name()}}
}
