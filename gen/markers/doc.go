// Package markers is the marker generator: it turns marker-annotated,
// ordinary typed Go into everything the kgen engine needs around it:
// sdk.Function, sdk.Source and sdk.Sink adapters with generated (not
// reflective) conversions, static registrations, the exported constructor
// each Go plugin must export, plugin metadata JSON, source configuration
// YAML, and typed accessors to the key-value state plugins keep.
//
// The pipeline is load → model → emit → write, and the file names follow it:
//
//   - Load (load.go, load_plugins.go, load_state.go) lists and type-checks packages with
//     go/packages. The generated file is masked by an overlay, so discovery
//     works before the package compiles and never sees stale output.
//     Markers and field tags (markers.go) are parsed strictly; problems are
//     collected, with their positions, into an ErrorList (errors.go).
//   - The model (model.go) holds the plugins with every Go type mapped to a
//     supported Type; names.go computes each generated identifier once.
//   - Generate (generate.go) emits one kgen.gen.go per package with jennifer
//     (emit.go and emit_*.go; emit_convert.go spells every conversion once)
//     and the metadata files (emit_metadata.go), and writes them through a
//     gen.Output. The scalar converters are real, tested Go in
//     internal/helpers; emit_library.go splices the declarations a file
//     uses into it, with their imports.
//   - Run (run.go) ties it together for `kgen gen` and cmd/kgen-gen: write
//     changed files through a gen.DirOutput, -check for stale ones, -clean
//     to remove generated ones.
//
// A package runs it with go generate through cmd/kgen-gen, which links
// this package and not the engine, so that the first go generate of a
// project compiles a few packages rather than all of kgen:
//
//	//go:generate go run github.com/kgen-dev/kgen/cmd/kgen-gen
//
// `kgen gen` (and `go tool kgen gen` with a tool directive) does the same.
//
// # Markers
//
// A marker is a line comment in the doc comment of a top-level declaration:
//
//	//kgen:function [name=<name>] [aggregate]   on a func
//	//kgen:source   [name=<name>]               on a struct type
//	//kgen:sink     [name=<name>]               on a struct type
//	//kgen:state    [prefix=<prefix>]           on a struct type
//
// Keys are separated by spaces; name and prefix take a value, aggregate
// does not. The plugin name defaults to the Go identifier and must pass
// sdk.ValidateName; the generated constructor is sdk.SymbolName(name).
//
// A function's parameters may be bool, any int, uint or float kind, string,
// []byte, time.Time, time.Duration, map[string]any, any, []T of those, a
// struct type of the same package (decoded from a map) and a trailing
// variadic ...T. An optional first parameter of type sdk.FunctionContext (or
// sdk.Context) receives the call's context. Results are T or (T, error).
// With aggregate, every parameter is a slice with one element per row.
//
// A source or sink struct's exported fields are its properties, keyed by the
// `kgen:"key"` tag, else the `json:"key"` tag, else the field name with a
// lower-case first letter. Tag options: default=<value>, required,
// oneof=<a>|<b>. Doc comments become metadata hints. A source has either
//
//	Pull(ctx sdk.Context) ([]Row, error)   (or (Row, error)); an error
//	                                       wrapping io.EOF ends the data
//	Subscribe(ctx sdk.Context, emit func(Row)) error
//
// and a sink has Collect(ctx sdk.Context, row Row) error and optionally
// CollectList(ctx sdk.Context, rows []Row) error. Both may have
// Connect(ctx sdk.Context) error and Close(ctx sdk.Context) error. Row is a
// struct type of the same package, encoded to and decoded from engine rows
// with the same key rules as properties.
//
// # State
//
// A //kgen:state struct is not a plugin: it gets a typed accessor over the
// key-value state of an sdk.Context, for a plugin to keep its state in. Each
// exported field is one state key, found by the same rules as a property
// key, with the marker's prefix put in front. For
//
//	//kgen:state prefix=stats.
//	type Stats struct {
//		Total int64 `kgen:"total"` // key "stats.total"
//		Last  string              // key "stats.last"
//	}
//
// kgen generates type StatsState struct{ ... } and NewStatsState(ctx
// sdk.Context) StatsState (newStatsState for an unexported struct), with
// the methods
//
//	Total() (int64, error)     the value; the zero value when there is none
//	SetTotal(v int64) error    PutState
//	AddTotal(n int) error      IncrCounter, for int and uint fields only
//	Load() (Stats, error)      every field
//	Save(s Stats) error        every field, one key after the other
//	Reset() error              DeleteState of every field's key
//
// Fields may be bool, any int, uint or float kind, string, []byte,
// time.Time, map[string]any and []any: the types the state keeps as they
// are. Getters read through sdk.StateAs, so a counter IncrCounter started
// (an int) reads as any integer field it fits, and a mismatch is an error
// like `state "stats.total": want int64, got string`. The property tag
// options (default=, required, oneof=) are not allowed, nor are two fields
// with one key or a field whose methods would have the name of another
// generated method (a field Load, or fields X and SetX).
//
// # Conversions
//
// Engine values become parameter and field types as follows: ints from int64,
// int and integral float64, range-checked ("300 overflows int8"); floats from
// float64, int64 and int; string only from string; []byte from []byte or
// string; time.Time from time.Time, an RFC 3339 string or int64 Unix
// milliseconds; time.Duration from int64 milliseconds or a duration string;
// []T element by element from []any (errors count elements from 0:
// "element 1: want string, got int64"); structs from map[string]any. A null
// argument for a non-nullable type is an error ("want string, got null"); a
// null or missing row field or property leaves the zero value (or the
// default). Results go back as int64, float64, string, bool, []byte,
// time.Time, map[string]any and []any; a time.Duration as int64 milliseconds.
//
// # Files
//
// Per package: kgen.gen.go (which alone holds the state accessors); per
// function, source and sink: <name>.json in eKuiper's plugin-metadata shape
// (a function's file lists that one function); per source: <name>.yaml with
// a default: key built from the field defaults.
// Every file carries gen.HeaderText, "Code generated by kgen. DO NOT EDIT."
// (a comment, or the "generated" key of the JSON), which is what --clean and
// orphan removal look for (gen.IsGenerated).
package markers
