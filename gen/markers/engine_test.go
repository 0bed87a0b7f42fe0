package markers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/gen/markers/testdata/aggregate"
	"github.com/kgen-dev/kgen/gen/markers/testdata/function"
	_ "github.com/kgen-dev/kgen/gen/markers/testdata/pushsource"
	"github.com/kgen-dev/kgen/gen/markers/testdata/sink"
	_ "github.com/kgen-dev/kgen/gen/markers/testdata/source"
	_ "github.com/kgen-dev/kgen/gen/markers/testdata/state"
	"github.com/kgen-dev/kgen/sdk"
)

// The goldens run in real rules: their kgen.gen.go registered them.

func openEngine(t *testing.T, root string) *engine.Engine {
	t.Helper()
	e, err := engine.Open(engine.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func receiveRows(t *testing.T, ch <-chan map[string]any, n int) []string {
	t.Helper()
	var out []string
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case r := <-ch:
			out = append(out, fmt.Sprint(r))
		case <-timeout:
			t.Fatalf("received %d of %d rows: %v", len(out), n, out)
		}
	}
	return out
}

func publishRows(t *testing.T, e *engine.Engine, topic string, rows ...map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, r := range rows {
		if err := e.MemoryHub().Publish(ctx, topic, r); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFunctionsInARule(t *testing.T) {
	e := openEngine(t, t.TempDir())
	if _, err := e.CreateStream(`CREATE STREAM s () WITH (DATASOURCE="in/fn", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	out, cancel := e.MemoryHub().Subscribe("out/fn", 16)
	defer cancel()
	sql := `SELECT wordCount(text, " ") AS words, clamp(n, -5, 5) AS c, joinAll("-", text, "x", "y") AS j, ` +
		`shift(p, 1.5) AS p2, spread(v, 2) AS sp FROM s`
	if _, err := e.CreateRule([]byte(`{"id":"fn","sql":` + quote(sql) + `,"actions":[{"memory":{"topic":"out/fn"}}]}`)); err != nil {
		t.Fatal(err)
	}
	publishRows(t, e, "in/fn",
		map[string]any{"text": "a b  c", "n": int64(100), "v": 2.5, "p": map[string]any{"x": 1.0, "y": int64(2), "label": "p", "tags": []any{"t"}}},
		map[string]any{"text": "one", "n": int64(300), "v": 1.0, "p": map[string]any{}},
		map[string]any{"text": "two words", "n": int64(-3), "v": 1.0, "p": map[string]any{"tags": []any{"a"}}},
	)
	got := receiveRows(t, out, 2)
	want := []string{
		"map[c:5 j:a b  c-x-y p2:map[label:p tags:[t] x:2.5 y:2] sp:0 words:3]",
		"map[c:-3 j:two words-x-y p2:map[label: tags:[a] x:1.5 y:0] sp:0 words:2]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	eventually(t, func() bool { st, _ := e.RuleStatus("fn"); return st.Exceptions == 1 })
	if st, _ := e.RuleStatus("fn"); !strings.HasSuffix(st.LastError, "clamp: argument 1 (n): 300 overflows int8") {
		t.Errorf("last error = %q", st.LastError)
	}
	// Validate runs at rule creation.
	_, err := e.CreateRule([]byte(`{"id":"bad","sql":"SELECT wordCount(text, 1) FROM s","actions":[{"nop":{}}]}`))
	wantErr := `rule "bad": sql: 1:8: function "wordCount": wordCount: argument 2 (sep): want string, got int64`
	if err == nil || err.Error() != wantErr {
		t.Errorf("CreateRule = %v\nwant %s", err, wantErr)
	}
}

func TestFunctionErrors(t *testing.T) {
	fn := function.WordCount()
	cases := []struct {
		args []any
		want string
	}{
		{[]any{"a b", int64(1)}, "wordCount: argument 2 (sep): want string, got int64"},
		{[]any{nil, " "}, "wordCount: argument 1 (text): want string, got null"},
		{[]any{"a"}, "wordCount: want 2 arguments, got 1"},
		{[]any{"a", ""}, "wordCount: empty separator"},
	}
	for _, c := range cases {
		res, ok := fn.Exec(nil, c.args)
		if err, isErr := res.(error); ok || !isErr || err.Error() != c.want {
			t.Errorf("Exec(%v) = %v, %v; want %q", c.args, res, ok, c.want)
		}
	}
	clamp, _ := sdk.LookupFunction("clamp")
	for args, want := range map[[3]any]string{
		{int64(300), int64(0), int64(1)}:   "clamp: argument 1 (n): 300 overflows int8",
		{2.5, int64(0), int64(1)}:          "clamp: argument 1 (n): want int8, got float64",
		{int64(1), "0", int64(1)}:          "clamp: argument 2 (lo): want int16, got string",
		{int64(1), int64(0), int64(70000)}: "clamp: argument 3 (hi): 70000 overflows int16",
	} {
		res, _ := clamp().Exec(nil, args[:])
		if err, _ := res.(error); err == nil || err.Error() != want {
			t.Errorf("clamp%v = %v, want %q", args, res, want)
		}
	}
	shift, _ := sdk.LookupFunction("shift")
	res, _ := shift().Exec(nil, []any{map[string]any{"tags": []any{"a", int64(7)}}, 1.0})
	if err, _ := res.(error); err == nil || err.Error() != `shift: argument 1 (p): field "tags": element 1: want string, got int64` {
		t.Errorf("shift = %v", res)
	}
	join, _ := sdk.LookupFunction("joinAll")
	if err := join().Validate([]sdk.Arg{{Kind: sdk.ArgLiteral, Value: "-"}, {Kind: sdk.ArgField}, {Kind: sdk.ArgLiteral, Value: true}}); err == nil ||
		err.Error() != "joinAll: argument 3 (parts): want string, got bool" {
		t.Errorf("joinAll Validate = %v", err)
	}
	if err := join().Validate(nil); err == nil || err.Error() != "joinAll: want at least 1 argument, got 0" {
		t.Errorf("joinAll Validate = %v", err)
	}
	// An aggregate gets one element per row.
	agg := aggregate.Spread()
	if !agg.IsAggregate() {
		t.Fatal("spread is not an aggregate")
	}
	if res, ok := agg.Exec(nil, []any{[]any{1.0, int64(4), 2.5}, []any{int64(2), int64(2), int64(2)}}); !ok || res != 6.0 {
		t.Errorf("spread = %v, %v", res, ok)
	}
	if err := agg.Validate([]sdk.Arg{{Kind: sdk.ArgField}, {Kind: sdk.ArgLiteral, Value: "x"}}); err == nil ||
		err.Error() != "spread: argument 2 (factor): want int64, got string" {
		t.Errorf("spread Validate = %v", err)
	}
}

func TestSourcesInARule(t *testing.T) {
	root := t.TempDir()
	// The generated YAML is the configuration, plus the required prefix.
	for name, extra := range map[string]string{"counter": "  prefix: r\n", "ticker": "  words: [alpha, be, c]\n"} {
		data, err := os.ReadFile(filepath.Join("testdata", map[string]string{"counter": "source", "ticker": "pushsource"}[name], name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, extra...)
		os.MkdirAll(filepath.Join(root, "etc", "sources"), 0o755)
		if err := os.WriteFile(filepath.Join(root, "etc", "sources", name+".yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := openEngine(t, root)
	for _, s := range []string{
		`CREATE STREAM counted () WITH (TYPE="counter")`,
		`CREATE STREAM ticks () WITH (TYPE="ticker")`,
	} {
		if _, err := e.CreateStream(s); err != nil {
			t.Fatal(err)
		}
	}
	out1, cancel1 := e.MemoryHub().Subscribe("out/counted", 16)
	defer cancel1()
	out2, cancel2 := e.MemoryHub().Subscribe("out/ticks", 16)
	defer cancel2()
	for _, r := range []string{
		`{"id":"counted","sql":"SELECT * FROM counted","actions":[{"memory":{"topic":"out/counted"}}]}`,
		`{"id":"ticks","sql":"SELECT n, word, level, meta FROM ticks","actions":[{"memory":{"topic":"out/ticks"}}]}`,
	} {
		if _, err := e.CreateRule([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	got := receiveRows(t, out1, 3)
	want := "map[id:r1 odd:true ratio:0.5 value:1]\nmap[id:r2 odd:false ratio:1 value:2]\nmap[id:r3 odd:true ratio:1.5 value:3]"
	if strings.Join(got, "\n") != want {
		t.Errorf("counter rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	eventually(t, func() bool { st, _ := e.RuleStatus("counted"); return st.Status != "running" })
	got = receiveRows(t, out2, 3)
	want = "map[level:2 meta:map[length:5] n:0 word:alpha]\nmap[level:2 meta:map[length:2] n:1 word:be]\nmap[level:2 meta:map[length:1] n:2 word:c]"
	if strings.Join(got, "\n") != want {
		t.Errorf("ticker rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	// Property errors name the property.
	_, err := e.CreateStream(`CREATE STREAM bad () WITH (TYPE="counter", CONF_KEY="nosuch")`)
	if err == nil {
		t.Fatal("unknown CONF_KEY accepted")
	}
	src, _ := sdk.LookupSource("counter")
	for props, want := range map[string]string{
		`{"prefix":"p","mode":"sideways"}`: `counter source: property "mode": want one of "up", "down", got "sideways"`,
		`{}`:                               `counter source: property "prefix" is required`,
		`{"prefix":"p","count":"x"}`:       `counter source: property "count": want int, got string "x"`,
		`{"prefix":"p","interval":"soon"}`: `counter source: property "interval": want time.Duration, got string "soon" (not a duration like "1s")`,
	} {
		err := src().Provision(nil, mustJSON(t, props))
		if err == nil || err.Error() != want {
			t.Errorf("Provision(%s) = %v\nwant %s", props, err, want)
		}
	}
}

func TestSinkInARule(t *testing.T) {
	e := openEngine(t, t.TempDir())
	if _, err := e.CreateStream(`CREATE STREAM alerts () WITH (DATASOURCE="in/alerts", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateRule([]byte(`{"id":"alerts","sql":"SELECT * FROM alerts","actions":[{"alert":{"topic":"t1","minLevel":2}}]}`)); err != nil {
		t.Fatal(err)
	}
	publishRows(t, e, "in/alerts",
		map[string]any{"level": int64(3), "message": "disk", "tags": []any{"a"}, "score": 0.5, "source": map[string]any{"host": "h", "port": int64(80)}},
		map[string]any{"level": int64(1), "message": "low"},
		map[string]any{"level": "x", "message": "bad"},
		map[string]any{"level": int64(2), "source": map[string]any{"port": int64(70000)}},
	)
	eventually(t, func() bool { st, _ := e.RuleStatus("alerts"); return st.Sinks[0].Exceptions == 2 })
	got := fmt.Sprint(sink.Collected("t1"))
	if got != "[{3 disk [a] 0.5 {h 80}}]" {
		t.Errorf("collected %s", got)
	}
	st, _ := e.RuleStatus("alerts")
	if want := `alert sink: field "source": field "port": 70000 overflows uint16`; st.Sinks[0].LastError != want {
		t.Errorf("last sink error = %q, want %q", st.Sinks[0].LastError, want)
	}
	snk, _ := sdk.LookupSink("alert")
	s := snk()
	if err := s.Provision(nil, map[string]any{"topic": "t2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Collect(nil, map[string]any{"level": "x"}); err == nil || err.Error() != `alert sink: field "level": want int64, got string "x"` {
		t.Errorf("Collect = %v", err)
	}
	if _, err := e.CreateRule([]byte(`{"id":"nt","sql":"SELECT * FROM alerts","actions":[{"alert":{}}]}`)); err == nil ||
		!strings.Contains(err.Error(), `alert sink: property "topic" is required`) {
		t.Errorf("CreateRule without topic = %v", err)
	}
}

// A function keeps a running tally in state through the generated
// accessor; the state outlives the engine.
func TestStateInARule(t *testing.T) {
	root := t.TempDir()
	e := openEngine(t, root)
	if _, err := e.CreateStream(`CREATE STREAM words () WITH (DATASOURCE="in/state", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	out, cancel := e.MemoryHub().Subscribe("out/state", 16)
	defer cancel()
	if _, err := e.CreateRule([]byte(`{"id":"tally","sql":"SELECT tallyWord(word, n) AS t FROM words","actions":[{"memory":{"topic":"out/state"}}]}`)); err != nil {
		t.Fatal(err)
	}
	publishRows(t, e, "in/state",
		map[string]any{"word": "a", "n": int64(2)},
		map[string]any{"word": "b", "n": int64(5)},
		map[string]any{"word": "a", "n": int64(1)},
	)
	want := []string{
		"map[t:map[calls:1 last:a max:2 recent:[a] total:2 words:map[a:1]]]",
		"map[t:map[calls:2 last:b max:5 recent:[a b] total:7 words:map[a:1 b:1]]]",
		"map[t:map[calls:3 last:a max:5 recent:[b a] total:8 words:map[a:2 b:1]]]",
	}
	if got := receiveRows(t, out, 3); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	cancel()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// The reopened engine restarts the rule with the tally it kept.
	e = openEngine(t, root)
	out, cancel = e.MemoryHub().Subscribe("out/state", 16)
	defer cancel()
	eventually(t, func() bool { st, _ := e.RuleStatus("tally"); return st.Status == "running" })
	publishRows(t, e, "in/state",
		map[string]any{"word": "c", "n": int64(4)},
		map[string]any{"word": "reset", "n": int64(0)},
		map[string]any{"word": "d", "n": int64(3)},
	)
	want = []string{
		"map[t:map[calls:4 last:c max:5 recent:[a c] total:12 words:map[a:2 b:1 c:1]]]",
		"map[t:map[]]",
		"map[t:map[calls:1 last:d max:3 recent:[d] total:3 words:map[d:1]]]",
	}
	if got := receiveRows(t, out, 3); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows after reopening:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
