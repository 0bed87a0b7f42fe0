package sql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

// testFunc is a plugin function whose behaviour depends on its name.
type testFunc struct {
	name string
	agg  bool
	// Recorded calls.
	validated [][]sdk.Arg
	execCtx   []sdk.FunctionContext
	execArgs  [][]any
}

var errBoom = errors.New("boom")

func (f *testFunc) Validate(args []sdk.Arg) error {
	f.validated = append(f.validated, args)
	switch f.name {
	case "badValidate":
		return sdk.CheckArgCount(f.name, args, 1, 1)
	case "panicValidate":
		panic("validate exploded")
	}
	return nil
}

func (f *testFunc) Exec(ctx sdk.FunctionContext, args []any) (any, bool) {
	f.execCtx = append(f.execCtx, ctx)
	f.execArgs = append(f.execArgs, args)
	switch f.name {
	case "fail", "failAgg":
		return errBoom, false
	case "failText":
		return "bad input", false
	case "boom":
		var m map[string]int
		m["x"] = 1 // panics: assignment to entry in nil map
	case "retInt":
		return 5, true
	case "first":
		return args[0], true
	}
	return args, true
}

func (f *testFunc) IsAggregate() bool { return f.agg }

// testFuncCtx is a FunctionContext that knows only its call site.
type testFuncCtx struct {
	context.Context
	id   int
	name string
}

func (testFuncCtx) GetLogger() *slog.Logger        { return slog.Default() }
func (testFuncCtx) GetRuleId() string              { return "rule1" }
func (c testFuncCtx) GetOpId() string              { return c.name }
func (testFuncCtx) GetInstanceId() int             { return 0 }
func (testFuncCtx) GetRootPath() string            { return "/" }
func (testFuncCtx) PutState(string, any) error     { return nil }
func (testFuncCtx) GetState(string) (any, error)   { return nil, nil }
func (testFuncCtx) IncrCounter(string, int) error  { return nil }
func (testFuncCtx) GetCounter(string) (int, error) { return 0, nil }
func (testFuncCtx) DeleteState(string) error       { return nil }
func (c testFuncCtx) GetFuncId() int               { return c.id }

// plugins is an Env whose functions are testFuncs, recorded per call site.
type plugins struct {
	mu        sync.Mutex
	instances []*testFunc
	contexts  []string
	keys      []string
}

func (p *plugins) env() Env {
	return Env{
		Function: func(name string) (sdk.Function, error) {
			switch name {
			case "notLoaded":
				return nil, errors.New("plugin not loaded")
			case "nope":
				return nil, fmt.Errorf("%w: %s", ErrUnknownFunction, name)
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			f := &testFunc{name: name, agg: strings.EqualFold(name, "agg") || name == "failAgg"}
			p.instances = append(p.instances, f)
			return f, nil
		},
		FuncContext: func(site CallSite) sdk.FunctionContext {
			p.contexts = append(p.contexts, fmt.Sprintf("%d:%s", site.ID, site.Name))
			p.keys = append(p.keys, site.Key)
			return testFuncCtx{Context: context.Background(), id: site.ID, name: site.Name}
		},
	}
}

func TestPluginValidateArgs(t *testing.T) {
	var p plugins
	src := "SELECT echo(1, 'x', 2.5, TRUE, NULL, a, a->b, a + 1, *, * EXCEPT(a), self, -3, demo.c, lower(a)) FROM demo"
	if _, err := Compile(mustSelect(t, src), p.env()); err != nil {
		t.Fatal(err)
	}
	want := []sdk.Arg{
		{Kind: sdk.ArgLiteral, Value: int64(1), Text: "1"},
		{Kind: sdk.ArgLiteral, Value: "x", Text: `"x"`},
		{Kind: sdk.ArgLiteral, Value: 2.5, Text: "2.5"},
		{Kind: sdk.ArgLiteral, Value: true, Text: "TRUE"},
		{Kind: sdk.ArgLiteral, Value: nil, Text: "NULL"},
		{Kind: sdk.ArgField, Name: "a", Text: "a"},
		{Kind: sdk.ArgExpr, Text: "a->b"},
		{Kind: sdk.ArgExpr, Text: "a + 1"},
		{Kind: sdk.ArgWildcard, Text: "*"},
		{Kind: sdk.ArgWildcard, Text: "* EXCEPT(a)"},
		{Kind: sdk.ArgWildcard, Text: "self"},
		{Kind: sdk.ArgLiteral, Value: int64(-3), Text: "-3"},
		{Kind: sdk.ArgField, Name: "c", Text: "demo.c"},
		{Kind: sdk.ArgExpr, Text: "lower(a)"},
	}
	if len(p.instances) != 1 || len(p.instances[0].validated) != 1 {
		t.Fatalf("want one instance validated once, got %d instances", len(p.instances))
	}
	if got := p.instances[0].validated[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("Validate args\n got %#v\nwant %#v", got, want)
	}
}

func TestPluginExec(t *testing.T) {
	var p plugins
	src := "SELECT first(i) AS a, echo(*) AS b, echo(* EXCEPT(i)) AS c, echo(self) AS d, retInt() AS e, Echo(s) AS f FROM demo"
	prog, err := Compile(mustSelect(t, src), p.env())
	if err != nil {
		t.Fatal(err)
	}
	if prog.IsAggregate() {
		t.Error("IsAggregate() = true without an aggregate")
	}
	row := map[string]any{"i": int64(7), "s": "x"}
	out, err := prog.Project(row)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": int64(7),
		"b": []any{row},
		"c": []any{map[string]any{"s": "x"}},
		"d": []any{row},
		"e": int64(5), // int from the plugin, normalised
		"f": []any{"x"},
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("Project\n got %#v\nwant %#v", out, want)
	}
	// A binary payload: self is the bytes.
	out, err = prog.Project(map[string]any{"self": []byte("raw")})
	if err != nil || !reflect.DeepEqual(out["d"], []any{[]byte("raw")}) {
		t.Errorf("self of a binary row = %#v, %v", out["d"], err)
	}
	// Names are exact for plugins: "Echo" and "echo" are separate lookups.
	var names []string
	for _, f := range p.instances {
		names = append(names, f.name)
	}
	if want := []string{"first", "echo", "echo", "echo", "retInt", "Echo"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Env.Function calls %q, want %q", names, want)
	}
}

// Each call site gets a fresh instance and its own funcId, numbered in
// source order over all calls, built-ins included.
func TestPluginCallSites(t *testing.T) {
	var p plugins
	src := "SELECT echo(abs(i)) AS a, echo(i) AS b FROM demo WHERE first(b) AND upper(s) = first('X')"
	prog, err := Compile(mustSelect(t, src), p.env())
	if err != nil {
		t.Fatal(err)
	}
	wantCtx := []string{"0:echo", "2:echo", "3:first", "5:first"}
	if !reflect.DeepEqual(p.contexts, wantCtx) {
		t.Errorf("FuncContext calls %q, want %q", p.contexts, wantCtx)
	}
	if len(p.instances) != 4 {
		t.Fatalf("%d instances, want 4", len(p.instances))
	}
	row := map[string]any{"i": int64(-1), "b": true, "s": "x"}
	if ok, err := prog.Match(row); !ok || err != nil {
		t.Fatalf("Match = %v, %v", ok, err)
	}
	if _, err := prog.Project(row); err != nil {
		t.Fatal(err)
	}
	for i, f := range p.instances {
		wantID := []int{0, 2, 3, 5}[i]
		if len(f.execCtx) != 1 || f.execCtx[0].GetFuncId() != wantID {
			t.Errorf("instance %d (%s): Exec contexts %v, want one with id %d", i, f.name, f.execCtx, wantID)
		}
	}
	if got := p.instances[0].execArgs[0]; !reflect.DeepEqual(got, []any{int64(1)}) {
		t.Errorf("echo(abs(i)) got %#v", got)
	}
}

// A call site's key is its text, numbered when repeated, and stays the
// same when other parts of the statement change.
func TestPluginCallSiteKeys(t *testing.T) {
	keys := func(src string) []string {
		var p plugins
		if _, err := Compile(mustSelect(t, src), p.env()); err != nil {
			t.Fatal(err)
		}
		return p.keys
	}
	got := keys("SELECT echo(i) AS a, echo(i) AS b, echo(abs(i)) FROM demo WHERE first(b)")
	want := []string{"echo(i)", "echo(i) #2", "echo(abs(i))", "first(b)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("keys %q, want %q", got, want)
	}
	edited := keys("SELECT upper(s), echo(i) AS a, lower(s) AS x, echo(i) AS b, echo(abs(i)) FROM demo WHERE first(b) AND i > 2")
	if !reflect.DeepEqual(edited, want) {
		t.Errorf("after an edit, keys %q, want %q", edited, want)
	}
}

func TestPluginAggregate(t *testing.T) {
	var p plugins
	prog, err := Compile(mustSelect(t, "SELECT agg(i, s, 1) AS a FROM demo"), p.env())
	if err != nil {
		t.Fatal(err)
	}
	if !prog.IsAggregate() {
		t.Error("IsAggregate() = false")
	}
	out, err := prog.Project(map[string]any{"i": int64(7), "s": "x"})
	want := []any{[]any{int64(7)}, []any{"x"}, []any{int64(1)}}
	if err != nil || !reflect.DeepEqual(out["a"], want) {
		t.Errorf("aggregate args %#v, %v, want %#v", out["a"], err, want)
	}
}

// In a grouped SELECT an aggregate plugin gets one []any per argument with
// one element per row of the group, literals included; an unaliased call
// is named in lower case. A scalar plugin runs on the group row.
func TestPluginAggregateGrouped(t *testing.T) {
	var p plugins
	src := "SELECT color, AGG(size, 1), first(count(*)) AS c FROM demo WHERE first(TRUE) GROUP BY color HAVING echo(count(*)) IS NOT NULL ORDER BY agg(ts) DESC"
	prog, err := Compile(groupedSelect(t, src), p.env())
	if err != nil {
		t.Fatal(err)
	}
	if !prog.IsAggregate() || !prog.Grouped() {
		t.Errorf("IsAggregate() = %v, Grouped() = %v", prog.IsAggregate(), prog.Grouped())
	}
	// Call sites are numbered in source order over all clauses.
	if want := []string{"0:AGG", "1:first", "3:first", "4:echo", "6:agg"}; !reflect.DeepEqual(p.contexts, want) {
		t.Errorf("FuncContext calls %q, want %q", p.contexts, want)
	}
	rows := demoRows()[:3]
	got, err := prog.ProjectGroups(rows, 0, 0)
	want := []map[string]any{
		{"color": "red", "agg": []any{[]any{int64(3)}, []any{int64(1)}}, "c": int64(1)},
		{"color": "blue", "agg": []any{[]any{int64(6), int64(2)}, []any{int64(1), int64(1)}}, "c": int64(2)},
	}
	// ORDER BY agg(ts) DESC compares []any values: an error.
	if err == nil || !strings.Contains(err.Error(), "ORDER BY: cannot compare []any and []any") {
		t.Errorf("ORDER BY a list: %v", err)
	}
	prog, err = Compile(groupedSelect(t, "SELECT color, AGG(size, 1), first(count(*)) AS c FROM demo GROUP BY color"), p.env())
	if err != nil {
		t.Fatal(err)
	}
	got, err = prog.ProjectGroups(rows, 0, 0)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ProjectGroups\n got %v, %v\nwant %v", got, err, want)
	}

	for _, tt := range []struct{ src, err string }{
		{"SELECT a FROM demo WHERE agg(a)", `1:26: aggregate function "agg" is not allowed in WHERE`},
		{"SELECT agg(count(*)) FROM demo", `1:12: aggregate function "count" is not allowed inside aggregate function "agg"`},
		{"SELECT count(agg(a)) FROM demo", `1:14: aggregate function "agg" is not allowed inside aggregate function "count"`},
	} {
		if _, err := Compile(groupedSelect(t, tt.src), p.env()); err == nil || err.Error() != tt.err {
			t.Errorf("%s:\n got %v\nwant %s", tt.src, err, tt.err)
		}
	}
	prog, err = Compile(groupedSelect(t, "SELECT color, 1 + failAgg(size) AS f FROM demo GROUP BY color"), p.env())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prog.ProjectGroups(rows, 0, 0); err == nil || err.Error() != `1:19: function "failAgg": boom` || !errors.Is(err, errBoom) {
		t.Errorf("failing aggregate plugin: %v", err)
	}
}

func TestPluginErrors(t *testing.T) {
	var p plugins
	compileErrs := []struct{ src, err string }{
		{"SELECT nope(humidity) FROM demo", `1:8: unknown function "nope"`},
		{"SELECT humidity FROM demo WHERE notLoaded(humidity)", `1:33: function "notLoaded": plugin not loaded`},
		{"SELECT badValidate(humidity, 2) FROM demo", `1:8: function "badValidate": badValidate: want 1 argument, got 2`},
		{"SELECT panicValidate() FROM demo", `1:8: function "panicValidate": panic: validate exploded`},
		{"SELECT echo(x) FROM demo", `1:13: unknown field "x" in stream "demo"`},
	}
	for _, tt := range compileErrs {
		env := p.env()
		env.Schema = demoSchema
		_, err := Compile(mustSelect(t, tt.src), env)
		if err == nil || err.Error() != tt.err {
			t.Errorf("%s:\n got %v\nwant %s", tt.src, err, tt.err)
		}
	}
	_, err := Compile(mustSelect(t, "SELECT nope(i) FROM demo"), p.env())
	if !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("unknown function error %v does not wrap ErrUnknownFunction", err)
	}
	_, err = Compile(mustSelect(t, "SELECT wordCount(i) FROM demo"), Env{})
	if err == nil || err.Error() != `1:8: unknown function "wordCount"` || !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("nil Env.Function: %v", err)
	}

	runErrs := []struct{ src, err string }{
		{"SELECT fail(i) FROM demo", `1:8: function "fail": boom`},
		{"SELECT failText(i) FROM demo", `1:8: function "failText": bad input`},
		{"SELECT 1 + boom(i) FROM demo", `1:12: function "boom": panic: assignment to entry in nil map`},
	}
	for _, tt := range runErrs {
		prog, err := Compile(mustSelect(t, tt.src), p.env())
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		// The program survives a failure and fails the same way again.
		for range 2 {
			if _, err := prog.Project(map[string]any{"i": int64(1)}); err == nil || err.Error() != tt.err {
				t.Errorf("%s:\n got %v\nwant %s", tt.src, err, tt.err)
			}
		}
	}
	prog, _ := Compile(mustSelect(t, "SELECT fail(i) FROM demo"), p.env())
	if _, err := prog.Project(nil); !errors.Is(err, errBoom) {
		t.Errorf("plugin error %v does not wrap the plugin's error", err)
	}
}

// A built-in wins over a plugin of the same name in any case.
func TestBuiltinShadowsPlugin(t *testing.T) {
	var p plugins
	prog, err := Compile(mustSelect(t, "SELECT Upper(s) AS u FROM demo"), p.env())
	if err != nil {
		t.Fatal(err)
	}
	out, _ := prog.Project(map[string]any{"s": "x"})
	if out["u"] != "X" || len(p.instances) != 0 {
		t.Errorf("Upper(s) = %v with %d plugin lookups, want the built-in", out["u"], len(p.instances))
	}
}
