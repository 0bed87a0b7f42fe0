package markers_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/gen"
	"github.com/kgen-dev/kgen/gen/markers"
)

// update rewrites the goldens instead of comparing them: KGEN_UPDATE=1
// go test ./gen/markers.
var update = os.Getenv("KGEN_UPDATE") != ""

// goldenDirs are the fixture packages: their sources, and beside them the
// files kgen generates for them (the goldens), which compile and run in
// engine_test.go.
var goldenDirs = []string{"function", "aggregate", "source", "pushsource", "sink", "state"}

func TestGolden(t *testing.T) {
	for _, name := range goldenDirs {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", name)
			pkgs, err := markers.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			mem := gen.MemOutput{}
			if err := markers.Generate(pkgs, mem); err != nil {
				t.Fatal(err)
			}
			if update {
				res, err := markers.Run(markers.Options{Dir: dir})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("updated %v, removed %v", res.Written, res.Removed)
				return
			}
			for path, data := range mem {
				old, err := os.ReadFile(path)
				if err != nil {
					t.Errorf("%v (run KGEN_UPDATE=1 go test ./gen/markers)", err)
					continue
				}
				if !bytes.Equal(old, data) {
					t.Errorf("%s is stale (run KGEN_UPDATE=1 go test ./gen/markers); generated:\n%s", path, data)
				}
			}
			entries, _ := os.ReadDir(dir)
			abs, _ := filepath.Abs(dir)
			for _, e := range entries {
				path := filepath.Join(abs, e.Name())
				data, _ := os.ReadFile(path)
				if _, ok := mem[path]; !ok && gen.IsGenerated(path, data) {
					t.Errorf("%s carries the header but is no longer generated", path)
				}
			}
		})
	}
}

// The same input generates the same bytes.
func TestDeterministic(t *testing.T) {
	run := func() gen.MemOutput {
		pkgs, err := markers.Load("testdata", "./function", "./sink", "./source", "./state")
		if err != nil {
			t.Fatal(err)
		}
		mem := gen.MemOutput{}
		if err := markers.Generate(pkgs, mem); err != nil {
			t.Fatal(err)
		}
		return mem
	}
	a, b := run(), run()
	if len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for p := range a {
		if !bytes.Equal(a[p], b[p]) {
			t.Errorf("%s differs between two runs", p)
		}
	}
}

func TestErrors(t *testing.T) {
	cases := map[string]string{}
	entries, err := os.ReadDir(filepath.Join("testdata", "errors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		cases[e.Name()] = ""
	}
	for name, want := range errorCases {
		if _, ok := cases[name]; !ok {
			t.Errorf("no testdata/errors/%s", name)
		}
		cases[name] = want
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "errors", name)
			_, err := markers.Run(markers.Options{Dir: dir})
			got := "<nil>"
			if err != nil {
				got = err.Error()
			}
			if got != cases[name] {
				t.Errorf("error:\n%s\nwant:\n%s", got, cases[name])
			}
			files, _ := os.ReadDir(dir)
			for _, f := range files {
				if !strings.HasSuffix(f.Name(), ".go") || f.Name() == markers.GoFileName {
					if f.Name() != "a.go" && f.Name() != "b.go" {
						t.Errorf("a failed run wrote %s", f.Name())
					}
				}
			}
		})
	}
}

var errorCases = map[string]string{
	"aggregate_not_slice":    `a.go:4:37: function "total": parameter 2 (factor): an aggregate function's parameters must be slices (one element per row), got int64`,
	"bad_default":            `a.go:7:2: struct alert: field Level: default=300: not a valid int8 (value out of range)`,
	"bad_name":               `a.go:3:1: //kgen:function: invalid plugin name "Word-Count": must be a Go identifier (bad character '-' at offset 4)`,
	"bad_results":            `a.go:4:29: function "wordCount": want results T or (T, error), got (int64, string)`,
	"bad_tag":                `a.go:7:2: struct alert: field Topic: unknown tag option "requried" (known: default=<value>, required, oneof=<a>|<b>)`,
	"collision":              `a.go:4:6: type "WordCount" collides with the symbol kgen exports for function "wordCount"`,
	"duplicate_name":         `b.go:5:1: function name "wordCount" is also used at a.go:3:1`,
	"helper_collision":       `a.go:6:6: func "kgenToString" collides with the helper func kgen generates`,
	"marker_on_var":          `a.go:3:1: //kgen:source must be on a struct type or a top-level func`,
	"not_attached":           `a.go:3:1: //kgen:function is not attached to a declaration`,
	"sink_no_collect":        `a.go:4:6: sink "alert": want Collect(ctx sdk.Context, row T) error (and optionally CollectList(ctx sdk.Context, rows []T) error), with T a struct type of this package`,
	"source_both":            `a.go:6:6: source "both": has both Pull and Subscribe; want Pull(ctx sdk.Context) ([]T, error), Pull(ctx sdk.Context) (T, error) or Subscribe(ctx sdk.Context, emit func(T)) error, with T a struct type of this package`,
	"state_collision":        `a.go:8:6: func "newStatsState" collides with the state accessor kgen generates for stats`,
	"state_symbol_collision": `a.go:3:1: state Stats: StatsState is also the symbol kgen exports for function "statsState"`,
	"state_duplicate_key":    `a.go:6:2: struct stats: field Sum: key "total" is also used by field Total`,
	"state_method_collision": "a.go:6:2: state stats: field SetTotal: method statsState.SetTotal is also generated as the setter of field Total\n" +
		"a.go:7:2: state stats: field Reset: method statsState.Reset is also generated to reset all fields",
	"state_not_struct": `a.go:3:1: //kgen:state must be on a struct type`,
	"state_tag_option": `a.go:5:2: state stats: field Total: tag options default=, required and oneof= are for properties, not state`,
	"state_unsupported_type": "a.go:7:8: state stats: field Every: unsupported type time.Duration (state holds bool, integers, floats, string, []byte, time.Time, map[string]any and []any)\n" +
		"a.go:8:8: state stats: field Tags: unsupported type []string (state holds bool, integers, floats, string, []byte, time.Time, map[string]any and []any)\n" +
		"a.go:9:8: struct stats: field Ch: unsupported type chan int",
	"type_error":       `a.go:4:21: function "wordCount": parameter 1 (text): the type does not type-check: undefined: Missing`,
	"unknown_key":      `a.go:3:1: //kgen:function: unknown key "nmae" (known: name, aggregate)`,
	"unknown_marker":   `a.go:3:1: unknown marker //kgen:fucntion (known: //kgen:function, //kgen:sink, //kgen:source, //kgen:state)`,
	"unsupported_type": `a.go:4:33: function "wordCount": parameter 2 (sep): unsupported type chan int`,
}
