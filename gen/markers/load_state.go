package markers

import (
	"fmt"
	"go/ast"
	"go/types"
)

// stateTypes says which field types a //kgen:state struct may have: those
// the engine's state keeps with their type.
const stateTypes = "state holds bool, integers, floats, string, []byte, time.Time, map[string]any and []any"

// state builds a //kgen:state struct.
func (b *builder) state(ts *ast.TypeSpec, obj *types.TypeName, m *marker) {
	what := "state " + ts.Name.Name
	s, err := b.structOf(obj)
	if err != "" {
		b.errorf(ts.Name.Pos(), "%s: %s", what, err)
		return
	}
	ok := true
	for _, f := range s.Fields {
		if !isStateType(f.Type) {
			b.errs = append(b.errs, errorAt(f.TypePos, "%s: field %s: unsupported type %s (%s)", what, f.GoName, f.Type.GoString(), stateTypes))
			ok = false
		}
		if f.HasDef || f.Required || len(f.OneOf) > 0 {
			b.errs = append(b.errs, errorAt(f.Pos, "%s: field %s: tag options default=, required and oneof= are for properties, not state", what, f.GoName))
			ok = false
		}
	}
	st := &State{Struct: s, Prefix: m.prefix, Pos: m.pos}
	if errs := stateMethodCollisions(st, what); len(errs) > 0 {
		b.errs = append(b.errs, errs...)
		ok = false
	}
	if ok {
		b.model.States = append(b.model.States, st)
	}
}

// isStateType reports whether the state keeps values of t as t.
func isStateType(t *Type) bool {
	switch t.Kind {
	case Bool, Int, Uint, Float, String, Bytes, Time, Map:
		return true
	case Slice:
		return t.Elem.Kind == Any
	}
	return false
}

// stateMethodCollisions reports fields whose generated methods have the
// name of another generated method: a field Load, or fields X and SetX.
func stateMethodCollisions(st *State, what string) ErrorList {
	sn := newStateNames(st)
	owner := map[string]string{stateLoad: "to load all fields", stateSave: "to save all fields", stateReset: "to reset all fields"}
	var errs ErrorList
	for _, f := range st.Struct.Fields {
		for _, m := range []struct{ name, role string }{{sn.Get[f], "getter"}, {sn.Set[f], "setter"}, {sn.Add[f], "adder"}} {
			if m.name == "" {
				continue
			}
			if o, taken := owner[m.name]; taken {
				errs = append(errs, errorAt(f.Pos, "%s: field %s: method %s.%s is also generated %s", what, f.GoName, sn.Type, m.name, o))
				continue
			}
			owner[m.name] = fmt.Sprintf("as the %s of field %s", m.role, f.GoName)
		}
	}
	return errs
}
