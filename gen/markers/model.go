package markers

import (
	"go/token"
	"strings"
)

// Package is one Go package with its plugins, ready to emit.
type Package struct {
	Name      string // Go package name
	Path      string // import path
	Dir       string // absolute folder
	Functions []*Function
	Sources   []*Source
	Sinks     []*Sink
	States    []*State
	// Structs are the struct types that need a generated decoder or
	// encoder, sorted by name.
	Structs []*Struct
	// HasGenerated reports whether Dir holds a kgen.gen.go already.
	HasGenerated bool

	scope []userDecl // package-level declarations of the author, sorted by name
}

// userDecl is a package-level declaration of the author's code.
type userDecl struct {
	name, kind string // kind: "type", "func", "var" or "const"
	pos        token.Position
}

// Empty reports whether the package has nothing to generate: no plugins
// and no state accessors.
func (p *Package) Empty() bool {
	return len(p.Functions) == 0 && len(p.Sources) == 0 && len(p.Sinks) == 0 && len(p.States) == 0
}

// Function is a //kgen:function.
type Function struct {
	Name      string // plugin name
	GoName    string // the author's func
	Doc       string
	Aggregate bool
	HasCtx    bool
	Params    []*Param
	Variadic  bool // the last param is ...T; its Type is T
	Result    *Type
	HasError  bool
	Pos       token.Position
}

// Param is a function parameter.
type Param struct {
	Name  string // as written, or "argN" when unnamed
	Index int    // 1-based SQL argument position
	Type  *Type
}

// Source is a //kgen:source: a struct of properties with typed methods.
type Source struct {
	Name  string
	Props *Struct
	Row   *Type // a struct type
	// Pull is true for Pull(ctx) ([]Row, error); PullOne for (Row, error);
	// otherwise the source has Subscribe(ctx, emit func(Row)) error.
	Pull, PullOne bool
	Connect       bool
	Close         bool
	PtrRecv       bool // some method has a pointer receiver
	Pos           token.Position
}

// Sink is a //kgen:sink.
type Sink struct {
	Name        string
	Props       *Struct
	Row         *Type
	CollectList bool
	Connect     bool
	Close       bool
	Pos         token.Position
}

// State is a //kgen:state: a struct whose fields are kept in extension
// state, one key per field, through a generated accessor.
type State struct {
	Struct *Struct // its fields' keys are without Prefix
	Prefix string  // prepended to every field key
	Pos    token.Position
}

// Key is the state key of a field.
func (s *State) Key(f *Field) string { return s.Prefix + f.Key }

// Kind is a category of supported Go type.
type Kind int

const (
	Bool  Kind = iota
	Int        // int, int8 … int64
	Uint       // uint, uint8 … uint64
	Float      // float32, float64
	String
	Bytes    // []byte
	Time     // time.Time
	Duration // time.Duration
	Map      // map[string]any
	Any      // any
	Slice    // []Elem
	StructKind
)

// Type is a supported Go type.
type Type struct {
	Kind   Kind
	Basic  string  // the Go spelling for Bool…Float and String: "int8"
	Elem   *Type   // Slice
	Struct *Struct // StructKind
}

// GoString spells the type as in Go source, for messages.
func (t *Type) GoString() string {
	switch t.Kind {
	case Bytes:
		return "[]byte"
	case Time:
		return "time.Time"
	case Duration:
		return "time.Duration"
	case Map:
		return "map[string]any"
	case Any:
		return "any"
	case Slice:
		return "[]" + t.Elem.GoString()
	case StructKind:
		return t.Struct.Name
	}
	return t.Basic
}

// want is how generated errors name the type ("want string").
func (t *Type) want() string {
	if t.Kind == StructKind {
		return "object"
	}
	return t.GoString()
}

// mangle is the type's part in generated helper names: "Int8",
// "SliceString", "Reading".
func (t *Type) mangle() string {
	switch t.Kind {
	case Slice:
		return "Slice" + t.Elem.mangle()
	case Bytes:
		return "Bytes"
	case Time:
		return "Time"
	case Duration:
		return "Duration"
	case Map:
		return "Map"
	case Any:
		return "Any"
	case StructKind:
		return "Struct" + upperFirst(t.Struct.Name)
	}
	return upperFirst(t.Basic)
}

// Struct is a struct type of the package: a row or a set of properties.
type Struct struct {
	Name   string
	doc    string // the type's doc comment, without markers
	Fields []*Field
	Pos    token.Position
}

// Field is an exported struct field.
type Field struct {
	GoName   string
	Key      string // row or property key
	Type     *Type
	Doc      string
	Default  string // as written in the tag; "" when HasDefault is false
	HasDef   bool
	Required bool
	OneOf    []string
	Pos      token.Position // of the name
	TypePos  token.Position // of the type expression
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
