package markers

import (
	"go/token"

	"github.com/kgen-dev/kgen/sdk"
)

// Names of the library declarations the emitters call directly.
const (
	libToSlice     = "kgenToSlice"
	libEncodeSlice = "kgenEncodeSlice"
	libFieldError  = "kgenFieldError"
	libWantError   = "kgenWantError"
)

// pluginNames are the identifiers generated for one plugin.
type pluginNames struct {
	Ctor string // the exported constructor: sdk.SymbolName(name)
	Impl string // the unexported adapter type
}

// stateNames are the identifiers generated for one //kgen:state struct.
type stateNames struct {
	Type string // the accessor type: <Struct>State
	Ctor string // New<Struct>State; new<Struct>State for an unexported struct
	// The methods by field: getter, setter and, for integer fields, adder.
	Get, Set, Add map[*Field]string
}

// The accessor methods over all fields.
const (
	stateLoad  = "Load"
	stateSave  = "Save"
	stateReset = "Reset"
)

func newStateNames(s *State) stateNames {
	name := s.Struct.Name
	sn := stateNames{Type: name + "State", Ctor: "New" + upperFirst(name) + "State",
		Get: map[*Field]string{}, Set: map[*Field]string{}, Add: map[*Field]string{}}
	if !token.IsExported(name) {
		sn.Ctor = "new" + upperFirst(name) + "State"
	}
	for _, f := range s.Struct.Fields {
		sn.Get[f], sn.Set[f] = f.GoName, "Set"+f.GoName
		if f.Type.Kind == Int || f.Type.Kind == Uint {
			sn.Add[f] = "Add" + f.GoName
		}
	}
	return sn
}

// names holds every identifier generated for a package, computed once.
type names struct {
	plugins map[any]pluginNames // by *Function, *Source or *Sink
	states  map[*State]stateNames
}

func newNames(p *Package) *names {
	n := &names{plugins: map[any]pluginNames{}, states: map[*State]stateNames{}}
	for _, s := range p.States {
		n.states[s] = newStateNames(s)
	}
	for _, f := range p.Functions {
		n.plugins[f] = pluginNames{Ctor: sdk.SymbolName(f.Name), Impl: "kgenFunction" + sdk.SymbolName(f.Name)}
	}
	for _, s := range p.Sources {
		n.plugins[s] = pluginNames{Ctor: sdk.SymbolName(s.Name), Impl: "kgenSource" + sdk.SymbolName(s.Name)}
	}
	for _, s := range p.Sinks {
		n.plugins[s] = pluginNames{Ctor: sdk.SymbolName(s.Name), Impl: "kgenSink" + sdk.SymbolName(s.Name)}
	}
	return n
}

// conv is the converter from an engine value to t (not for slices, which
// use libToSlice).
func convName(t *Type) string { return "kgenTo" + t.mangle() }

// decodeName is the function filling a struct from a map.
func decodeName(s *Struct) string { return "kgenDecode" + upperFirst(s.Name) }

// encodeName is the function turning a struct into a map.
func encodeName(s *Struct) string { return "kgenEncode" + upperFirst(s.Name) }

// localNames are the identifiers generated method bodies declare; a user
// identifier the bodies refer to must not be one of them.
var localNames = map[string]bool{
	"ctx": true, "args": true, "props": true, "row": true, "rows": true, "list": true, "err": true,
	"res": true, "s": true, "v": true, "m": true, "x": true, "i": true, "a": true, "dst": true, "ok": true,
	"out": true, "eof": true, "r": true, "what": true, "ingest": true, "ingestErr": true,
}
