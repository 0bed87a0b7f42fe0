package markers

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

// typeDecl builds a //kgen:source, //kgen:sink or //kgen:state struct.
func (b *builder) typeDecl(ts *ast.TypeSpec, m *marker) {
	if m.kind == "function" {
		b.errs = append(b.errs, errorAt(m.pos, "//kgen:function must be on a top-level func, not a type"))
		return
	}
	obj, _ := b.pkg.TypesInfo.Defs[ts.Name].(*types.TypeName)
	named, _ := types.Unalias(typeOfObj(obj)).(*types.Named)
	if _, isStruct := ts.Type.(*ast.StructType); !isStruct || named == nil || ts.TypeParams != nil {
		b.errs = append(b.errs, errorAt(m.pos, "//kgen:%s must be on a struct type", m.kind))
		return
	}
	if m.kind == "state" {
		b.state(ts, obj, m)
		return
	}
	name, ok := b.pluginName(m, ts.Name.Name)
	if !ok {
		return
	}
	props, err := b.structOf(obj)
	if err != "" {
		b.errorf(ts.Name.Pos(), "%s %q: %s", m.kind, name, err)
		return
	}
	props.doc = cmp.Or(docText(ts.Doc), docText(b.genDoc[ts]))
	ms := types.NewMethodSet(types.NewPointer(named))
	method := func(n string) *types.Signature {
		if sel := ms.Lookup(b.pkg.Types, n); sel != nil {
			return sel.Obj().(*types.Func).Signature()
		}
		return nil
	}
	what := fmt.Sprintf("%s %q", m.kind, name)
	lifecycle := func(n string) bool {
		sig := method(n)
		if sig == nil {
			return false
		}
		if !sigIs(sig, []func(types.Type) bool{isSDKContext}, []func(types.Type) bool{isError}) {
			b.errorf(ts.Name.Pos(), "%s: method %s must be %s(ctx sdk.Context) error", what, n, n)
		}
		return true
	}
	switch m.kind {
	case "source":
		src := &Source{Name: name, Props: props, Pos: m.pos, Connect: lifecycle("Connect"), Close: lifecycle("Close")}
		pull, sub := method("Pull"), method("Subscribe")
		const want = "want Pull(ctx sdk.Context) ([]T, error), Pull(ctx sdk.Context) (T, error) or Subscribe(ctx sdk.Context, emit func(T)) error, with T a struct type of this package"
		switch {
		case pull != nil && sub != nil:
			b.errorf(ts.Name.Pos(), "%s: has both Pull and Subscribe; %s", what, want)
			return
		case pull != nil:
			src.Pull = true
			if pull.Params().Len() == 1 && isSDKContext(pull.Params().At(0).Type()) &&
				pull.Results().Len() == 2 && isError(pull.Results().At(1).Type()) {
				r := pull.Results().At(0).Type()
				if s, ok := types.Unalias(r).(*types.Slice); ok {
					src.Row = b.rowType(s.Elem())
				} else {
					src.Row, src.PullOne = b.rowType(r), true
				}
			}
		case sub != nil:
			if sub.Params().Len() == 2 && isSDKContext(sub.Params().At(0).Type()) &&
				sub.Results().Len() == 1 && isError(sub.Results().At(0).Type()) {
				if emit, ok := types.Unalias(sub.Params().At(1).Type()).(*types.Signature); ok &&
					emit.Params().Len() == 1 && emit.Results().Len() == 0 && !emit.Variadic() {
					src.Row = b.rowType(emit.Params().At(0).Type())
				}
			}
		}
		if src.Row == nil {
			b.errorf(ts.Name.Pos(), "%s: %s", what, want)
			return
		}
		b.model.Sources = append(b.model.Sources, src)
	case "sink":
		snk := &Sink{Name: name, Props: props, Pos: m.pos, Connect: lifecycle("Connect"), Close: lifecycle("Close")}
		const want = "want Collect(ctx sdk.Context, row T) error (and optionally CollectList(ctx sdk.Context, rows []T) error), with T a struct type of this package"
		if sig := method("Collect"); sig != nil && sig.Params().Len() == 2 && isSDKContext(sig.Params().At(0).Type()) &&
			sig.Results().Len() == 1 && isError(sig.Results().At(0).Type()) {
			snk.Row = b.rowType(sig.Params().At(1).Type())
		}
		if snk.Row == nil {
			b.errorf(ts.Name.Pos(), "%s: %s", what, want)
			return
		}
		if sig := method("CollectList"); sig != nil {
			ok := sig.Params().Len() == 2 && isSDKContext(sig.Params().At(0).Type()) &&
				sig.Results().Len() == 1 && isError(sig.Results().At(0).Type())
			if ok {
				s, isSlice := types.Unalias(sig.Params().At(1).Type()).(*types.Slice)
				ok = isSlice && b.rowType(s.Elem()) == snk.Row
			}
			if !ok {
				b.errorf(ts.Name.Pos(), "%s: method CollectList must be CollectList(ctx sdk.Context, rows []%s) error", what, snk.Row.Struct.Name)
				return
			}
			snk.CollectList = true
		}
		b.model.Sinks = append(b.model.Sinks, snk)
	}
}

func typeOfObj(obj *types.TypeName) types.Type {
	if obj == nil {
		return nil
	}
	return obj.Type()
}

func isSDKContext(t types.Type) bool { return isSDKNamed(t, "Context") }

func sigIs(sig *types.Signature, params, results []func(types.Type) bool) bool {
	if sig.Params().Len() != len(params) || sig.Results().Len() != len(results) || sig.Variadic() {
		return false
	}
	for i, p := range params {
		if !p(sig.Params().At(i).Type()) {
			return false
		}
	}
	for i, r := range results {
		if !r(sig.Results().At(i).Type()) {
			return false
		}
	}
	return true
}

// rowType is the struct type a source emits or a sink takes; nil when t is
// not a struct type of the package. Rows share one *Type per struct, so
// rowType results compare with ==.
func (b *builder) rowType(t types.Type) *Type {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() != b.pkg.Types {
		return nil
	}
	if _, isStruct := n.Underlying().(*types.Struct); !isStruct {
		return nil
	}
	if rt, ok := b.rows[n.Obj()]; ok {
		return rt
	}
	s, err := b.structOf(n.Obj())
	if err != "" {
		return nil
	}
	rt := &Type{Kind: StructKind, Struct: s}
	b.rows[n.Obj()] = rt
	return rt
}

// checkFieldOptions validates default= and oneof= against the field type.
func checkFieldOptions(f *Field) string {
	if f.HasDef {
		if _, err := parseDefault(f.Type, f.Default); err != nil {
			return fmt.Sprintf("default=%s: %v", f.Default, err)
		}
	}
	if len(f.OneOf) > 0 {
		switch f.Type.Kind {
		case String, Int, Uint:
		default:
			return fmt.Sprintf("oneof is only for string and integer fields, not %s", f.Type.GoString())
		}
		for _, v := range f.OneOf {
			if _, err := parseDefault(f.Type, v); err != nil {
				return fmt.Sprintf("oneof value %q: %v", v, err)
			}
		}
		if f.HasDef && !slices.Contains(f.OneOf, f.Default) {
			return fmt.Sprintf("default %q is not one of %s", f.Default, strings.Join(f.OneOf, "|"))
		}
	}
	return ""
}

// parseDefault parses a tag value as a value of t: the typed value the YAML
// file holds (a duration stays a string, as users write it).
func parseDefault(t *Type, s string) (v any, err error) {
	defer func() {
		if ne, ok := err.(*strconv.NumError); ok {
			err = fmt.Errorf("not a valid %s (%v)", t.GoString(), ne.Err)
		}
	}()
	switch t.Kind {
	case Bool:
		return strconv.ParseBool(s)
	case Int:
		return strconv.ParseInt(s, 10, bitSize(t.Basic))
	case Uint:
		return strconv.ParseUint(s, 10, bitSize(t.Basic))
	case Float:
		return strconv.ParseFloat(s, bitSize(t.Basic))
	case String, Bytes:
		return s, nil
	case Duration:
		if _, err := time.ParseDuration(s); err != nil {
			return nil, fmt.Errorf("not a valid time.Duration like \"1s\"")
		}
		return s, nil
	}
	return nil, fmt.Errorf("defaults are not supported for %s", t.GoString())
}

// bitSize is the size of an int, uint or float type; 64 for int and uint.
func bitSize(basic string) int {
	for _, n := range []string{"8", "16", "32", "64"} {
		if strings.HasSuffix(basic, n) {
			b, _ := strconv.Atoi(n)
			return b
		}
	}
	return 64
}

// checkNames reports two plugins of one kind with one name (anywhere in the
// loaded packages) and two plugins of one package with one exported symbol.
func checkNames(pkgs []*Package) ErrorList {
	var errs ErrorList
	type entry struct {
		kind string
		pos  token.Position
	}
	byKind := map[string]entry{}
	for _, p := range pkgs {
		bySymbol := map[string]entry{}
		for _, pl := range p.plugins() {
			key := pl.kind + "\x00" + pl.name
			if prev, ok := byKind[key]; ok {
				errs = append(errs, errorAt(pl.pos, "%s name %q is also used at %s", pl.kind, pl.name, posString(prev.pos)))
				continue
			}
			byKind[key] = entry{pl.kind, pl.pos}
			sym := sdk.SymbolName(pl.name)
			if prev, ok := bySymbol[sym]; ok {
				errs = append(errs, errorAt(pl.pos, "%s %q: exported symbol %s is also generated for the %s at %s", pl.kind, pl.name, sym, prev.kind, posString(prev.pos)))
				continue
			}
			bySymbol[sym] = entry{pl.kind, pl.pos}
		}
	}
	return errs
}

func posString(p token.Position) string { return fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Column) }

// plugin is what every kind has in common.
type plugin struct {
	kind string
	name string
	pos  token.Position
}

// plugins lists the package's plugins: functions, sources, sinks, each by
// position.
func (p *Package) plugins() []plugin {
	var out []plugin
	for _, f := range p.Functions {
		out = append(out, plugin{"function", f.Name, f.Pos})
	}
	for _, s := range p.Sources {
		out = append(out, plugin{"source", s.Name, s.Pos})
	}
	for _, s := range p.Sinks {
		out = append(out, plugin{"sink", s.Name, s.Pos})
	}
	return out
}
