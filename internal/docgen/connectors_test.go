package main

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const connectorsPage = "docs/connectors.md"

// propMethods are the propReader methods that read one property; the
// first argument is the key, the rest the default and limits.
var propMethods = []string{"string", "int", "intRange", "bool", "duration", "required", "oneOf"}

// propRead is one property a connector's Provision reads.
type propRead struct {
	key    string
	method string
	args   []ast.Expr // after the key
}

// connectorSource is engine/connector's source, parsed.
type connectorSource struct {
	funcs  map[string]*ast.FuncDecl // "name" or "Type.name"
	consts map[string]ast.Expr
	// registered maps "mqtt source" to the type its constructor returns.
	registered map[string]string
}

func parseConnectors(t *testing.T) *connectorSource {
	t.Helper()
	dir := filepath.Join(repo, "engine", "connector")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := &connectorSource{funcs: map[string]*ast.FuncDecl{}, consts: map[string]ast.Expr{}, registered: map[string]string{}}
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				name := d.Name.Name
				if d.Recv != nil {
					name = typeName(d.Recv.List[0].Type) + "." + name
				}
				src.funcs[name] = d
			case *ast.GenDecl:
				if d.Tok != token.CONST {
					continue
				}
				for _, spec := range d.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							src.consts[n.Name] = vs.Values[i]
						}
					}
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "RegisterSource" && sel.Sel.Name != "RegisterSink") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			ctor, ok2 := call.Args[1].(*ast.FuncLit)
			if !ok || !ok2 || len(ctor.Body.List) != 1 {
				t.Errorf("%s: a registration kgen docgen cannot read", fset.Position(call.Pos()))
				return true
			}
			name, _ := strconv.Unquote(lit.Value)
			kind := strings.ToLower(strings.TrimPrefix(sel.Sel.Name, "Register"))
			ret := ctor.Body.List[0].(*ast.ReturnStmt).Results[0]
			if u, ok := ret.(*ast.UnaryExpr); ok {
				ret = u.X
			}
			src.registered[name+" "+kind] = typeName(ret.(*ast.CompositeLit).Type)
			return true
		})
	}
	return src
}

func typeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return typeName(e.X)
	case *ast.Ident:
		return e.Name
	}
	return fmt.Sprintf("%T", e)
}

// reads lists the properties fn reads, following calls of the package's
// functions; bind holds the string arguments fn was called with.
func (s *connectorSource) reads(fn *ast.FuncDecl, bind map[string]string, depth int) []propRead {
	var out []propRead
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		switch f := call.Fun.(type) {
		case *ast.SelectorExpr:
			if !slices.Contains(propMethods, f.Sel.Name) || len(call.Args) == 0 {
				return true
			}
			if key, ok := stringArg(call.Args[0], bind); ok {
				out = append(out, propRead{key: key, method: f.Sel.Name, args: call.Args[1:]})
			}
		case *ast.Ident:
			callee, ok := s.funcs[f.Name]
			if !ok || depth > 4 {
				return true
			}
			inner := map[string]string{}
			i := 0
			for _, field := range callee.Type.Params.List {
				for _, name := range field.Names {
					if i < len(call.Args) {
						if v, ok := stringArg(call.Args[i], bind); ok {
							inner[name.Name] = v
						}
					}
					i++
				}
			}
			out = append(out, s.reads(callee, inner, depth+1)...)
		}
		return true
	})
	return out
}

func stringArg(e ast.Expr, bind map[string]string) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.Ident:
		v, ok := bind[e.Name]
		return v, ok
	}
	return "", false
}

var durations = map[string]int64{"Nanosecond": 1, "Microsecond": 1e3, "Millisecond": 1e6, "Second": 1e9, "Minute": 60e9, "Hour": 3600e9}

// eval evaluates a constant expression of the package; ok is false for
// anything else (a call, a variable).
func (s *connectorSource) eval(e ast.Expr) (constant.Value, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		return constant.MakeFromLiteral(e.Value, e.Kind, 0), true
	case *ast.Ident:
		switch e.Name {
		case "true", "false":
			return constant.MakeBool(e.Name == "true"), true
		}
		if c, ok := s.consts[e.Name]; ok {
			return s.eval(c)
		}
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok && x.Name == "time" {
			if d, ok := durations[e.Sel.Name]; ok {
				return constant.MakeInt64(d), true
			}
		}
	case *ast.BinaryExpr:
		x, ok1 := s.eval(e.X)
		y, ok2 := s.eval(e.Y)
		if !ok1 || !ok2 {
			return nil, false
		}
		if e.Op == token.SHL || e.Op == token.SHR {
			n, _ := constant.Uint64Val(y)
			return constant.Shift(x, e.Op, uint(n)), true
		}
		return constant.BinaryOp(x, e.Op, y), true
	case *ast.ParenExpr:
		return s.eval(e.X)
	}
	return nil, false
}

// render is a constant as the page writes it.
func render(v constant.Value, duration bool) string {
	if duration {
		n, _ := constant.Int64Val(v)
		if n == 0 {
			return "0"
		}
		return time.Duration(n).String()
	}
	if v.Kind() == constant.String {
		return constant.StringVal(v)
	}
	return v.ExactString()
}

// TestConnectors checks docs/connectors.md against engine/connector: a
// section per registered source and sink, and in each a row per property
// its Provision reads, with the type and default the code gives.
func TestConnectors(t *testing.T) {
	src := parseConnectors(t)
	if len(src.registered) < 8 {
		t.Fatalf("engine/connector: found %d registrations: %v", len(src.registered), src.registered)
	}
	sections := map[string]table{}
	for _, tb := range tables(readRepo(t, connectorsPage)) {
		if len(tb.header) > 0 && tb.header[0] == "property" {
			sections[tb.heading] = tb
		}
	}
	for heading := range sections {
		if _, ok := src.registered[heading]; !ok {
			t.Errorf("%s: section %q is not a built-in source or sink", connectorsPage, heading)
		}
	}
	for name, typ := range src.registered {
		tb, ok := sections[name]
		if !ok {
			t.Errorf("%s: no property table under a heading %q", connectorsPage, name)
			continue
		}
		provision, ok := src.funcs[typ+".Provision"]
		if !ok {
			t.Errorf("engine/connector: %s has no Provision", typ)
			continue
		}
		reads := map[string]propRead{}
		for _, r := range src.reads(provision, nil, 0) {
			reads[r.key] = r
		}
		typeCol, defCol := tb.column(t, connectorsPage, "type"), tb.column(t, connectorsPage, "default")
		documented := map[string]bool{}
		for _, row := range tb.rows {
			key := code(row[0])
			documented[key] = true
			r, ok := reads[key]
			if !ok {
				t.Errorf("%s: %s: property %q is not read by %s.Provision", connectorsPage, name, key, typ)
				continue
			}
			checkProperty(t, src, name, r, row[typeCol], row[defCol])
		}
		for key := range reads {
			if !documented[key] {
				t.Errorf("%s: %s: property %q is missing (read by %s.Provision)", connectorsPage, name, key, typ)
			}
		}
	}
}

func checkProperty(t *testing.T, src *connectorSource, section string, r propRead, typeCell, defCell string) {
	t.Helper()
	where := fmt.Sprintf("%s: %s: property %q", connectorsPage, section, r.key)
	wantType := map[string]string{"string": "string", "required": "string", "int": "int", "bool": "bool", "duration": "duration"}[r.method]
	switch r.method {
	case "intRange":
		lo, ok1 := src.eval(r.args[1])
		hi, ok2 := src.eval(r.args[2])
		if !ok1 || !ok2 {
			t.Errorf("%s: cannot read its limits", where)
			return
		}
		wantType = "int " + render(lo, false) + ".." + render(hi, false)
	case "oneOf":
		for _, a := range r.args[1:] {
			if v, ok := src.eval(a); ok && !strings.Contains(typeCell, strconv.Quote(render(v, false))) {
				t.Errorf("%s: type %q lacks the value %q", where, typeCell, render(v, false))
			}
		}
	}
	if wantType != "" && typeCell != wantType {
		t.Errorf("%s: type %q, want %q", where, typeCell, wantType)
	}
	if r.method == "required" {
		if defCell != "required" {
			t.Errorf("%s: default %q, want required", where, defCell)
		}
		return
	}
	v, ok := src.eval(r.args[0])
	if !ok {
		return // computed at run time: the page says what from
	}
	if def := render(v, r.method == "duration"); def != "" && !strings.Contains(defCell, "`"+def+"`") {
		t.Errorf("%s: default %q, want it to show `%s`", where, defCell, def)
	}
}
