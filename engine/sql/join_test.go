package sql

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/kgen-dev/kgen/engine/schema"
)

var demo1Schema = schema.Schema{
	{Name: "temp", Type: schema.Type{Kind: schema.Float}},
	{Name: "hum", Type: schema.Type{Kind: schema.Bigint}},
	{Name: "ts", Type: schema.Type{Kind: schema.Bigint}},
}

// joinEnv has demo (color, size, ts) in FROM, demo1 (temp, hum, ts) and
// the schemaless demo2 to join.
var joinEnv = Env{
	Schema:  groupSchema,
	Streams: map[string]schema.Schema{"demo1": demo1Schema, "demo2": nil},
}

// joinInputs is one window's rows, in arrival order: d0 d1 d2 of demo, e0
// e1 e2 of demo1 and f0 f1 of demo2, interleaved. Matching ts: d0–e0–f0,
// d2–e1; d1, e2 and f1 match nothing by ts.
func joinInputs(sel *Select) []JoinInput {
	streams := sel.Streams()
	in := func(stream string, row map[string]any) JoinInput {
		return JoinInput{Stream: slices.Index(streams, stream), Row: row}
	}
	all := []JoinInput{
		in("demo", map[string]any{"color": "red", "size": int64(3), "ts": int64(1)}),
		in("demo1", map[string]any{"temp": 25.5, "hum": int64(65), "ts": int64(1)}),
		in("demo2", map[string]any{"ts": int64(1), "note": "a"}),
		in("demo", map[string]any{"color": "blue", "size": int64(6), "ts": int64(2)}),
		in("demo1", map[string]any{"temp": 27.5, "hum": int64(59), "ts": int64(3)}),
		in("demo", map[string]any{"color": "blue", "size": int64(2), "ts": int64(3)}),
		in("demo1", map[string]any{"temp": 28.1, "hum": int64(75), "ts": int64(4)}),
		in("demo2", map[string]any{"ts": int64(4), "note": "b"}),
	}
	var out []JoinInput
	for _, r := range all {
		if r.Stream >= 0 {
			out = append(out, r)
		}
	}
	return out
}

// runJoin compiles src against env and runs one window through it as the
// engine does: Join, WHERE on each joined row, then ProjectGroups.
func runJoin(t testing.TB, src string, env Env) ([]map[string]any, error) {
	t.Helper()
	sel := mustSelect(t, src)
	prog, err := Compile(sel, env)
	if err != nil {
		return nil, err
	}
	joined, err := prog.Join(joinInputs(sel))
	if err != nil {
		return nil, err
	}
	var kept []map[string]any
	for _, row := range joined {
		ok, err := prog.Match(row)
		if err != nil {
			return nil, err
		}
		if ok {
			kept = append(kept, row)
		}
	}
	return prog.ProjectGroups(kept, 0, 10)
}

var joinTests = []struct {
	src  string
	want []map[string]any
}{
	// The kinds, on ts: d1 has no demo1 row, e2 no demo row.
	{
		src:  "SELECT demo.color, demo1.hum FROM demo INNER JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{{"color": "red", "hum": int64(65)}, {"color": "blue", "hum": int64(59)}},
	},
	{
		src: "SELECT demo.color, demo1.hum FROM demo LEFT JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{
			{"color": "red", "hum": int64(65)}, {"color": "blue", "hum": nil}, {"color": "blue", "hum": int64(59)},
		},
	},
	{ // RIGHT JOIN goes by the right rows.
		src: "SELECT demo.color, demo1.hum FROM demo RIGHT JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{
			{"color": "red", "hum": int64(65)}, {"color": "blue", "hum": int64(59)}, {"color": nil, "hum": int64(75)},
		},
	},
	{ // FULL JOIN: LEFT JOIN's rows, then the right rows without a match.
		src: "SELECT demo.color, demo1.hum FROM demo FULL JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{
			{"color": "red", "hum": int64(65)}, {"color": "blue", "hum": nil}, {"color": "blue", "hum": int64(59)},
			{"color": nil, "hum": int64(75)},
		},
	},
	{
		src:  "SELECT count(*) AS n FROM demo CROSS JOIN demo1 GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{{"n": int64(9)}},
	},
	{ // WHERE runs on the joined rows.
		src:  "SELECT demo.size * demo1.hum AS p FROM demo CROSS JOIN demo1 WHERE demo.size = 2 GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{{"p": int64(130)}, {"p": int64(118)}, {"p": int64(150)}},
	},
	{ // After an outer join, WHERE sees the NULL side: the rows without a match.
		src:  "SELECT demo.color, demo.size FROM demo LEFT JOIN demo1 ON demo.ts = demo1.ts WHERE demo1.hum IS NULL GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{{"color": "blue", "size": int64(6)}},
	},
	{ // Unqualified columns resolve to the one stream that has them.
		src:  "SELECT color, hum, temp FROM demo JOIN demo1 ON color = 'red' AND hum > 60 GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{{"color": "red", "hum": int64(65), "temp": 25.5}, {"color": "red", "hum": int64(75), "temp": 28.1}},
	},
	{ // ON NULL joins nothing.
		src:  "SELECT color, hum FROM demo LEFT JOIN demo1 ON NULL WHERE size > 2 GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{{"color": "red", "hum": nil}, {"color": "blue", "hum": nil}},
	},
	{ // Aliases, and a stream's name for its aliased side.
		src:  "SELECT a.color, b.hum, demo1.temp FROM demo AS a JOIN demo1 AS b ON a.ts = b.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{{"color": "red", "hum": int64(65), "temp": 25.5}, {"color": "blue", "hum": int64(59), "temp": 27.5}},
	},
	{ // Qualified columns keep their names; other expressions are numbered.
		src:  "SELECT demo.color, demo1.hum, demo.size * demo1.hum, demo1.temp > 26, count(*) FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1), demo.ts",
		want: []map[string]any{{"color": "red", "hum": int64(65), "kuiper_field_0": int64(195), "kuiper_field_1": false, "count": int64(1)}, {"color": "blue", "hum": int64(59), "kuiper_field_0": int64(118), "kuiper_field_1": true, "count": int64(1)}},
	},
	{ // A stream joined with itself: its rows are on both sides.
		src:  "SELECT a.size, b.size AS bigger FROM demo AS a JOIN demo AS b ON a.color = b.color AND a.size < b.size GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{{"size": int64(2), "bigger": int64(6)}},
	},
	// * merges the sides, later ones winning (ts is demo1's); s.* is one side.
	{
		src: "SELECT * FROM demo JOIN demo1 ON demo.ts + 1 = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{
			{"color": "blue", "size": int64(6), "ts": int64(3), "temp": 27.5, "hum": int64(59)},
			{"color": "blue", "size": int64(2), "ts": int64(4), "temp": 28.1, "hum": int64(75)},
		},
	},
	{
		src: "SELECT demo.*, demo1.hum FROM demo LEFT JOIN demo1 ON demo.ts + 1 = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{
			{"color": "red", "size": int64(3), "ts": int64(1), "hum": nil},
			{"color": "blue", "size": int64(6), "ts": int64(2), "hum": int64(59)},
			{"color": "blue", "size": int64(2), "ts": int64(3), "hum": int64(75)},
		},
	},
	{ // A missing side adds nothing to *; EXCEPT applies to every side.
		src: "SELECT * EXCEPT(ts, size), demo.ts AS t FROM demo LEFT JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{
			{"color": "red", "temp": 25.5, "hum": int64(65), "t": int64(1)},
			{"color": "blue", "t": int64(2)},
			{"color": "blue", "temp": 27.5, "hum": int64(59), "t": int64(3)},
		},
	},
	{ // demo1.* and demo.* both, and * as an argument.
		src: "SELECT demo1.*, demo.* EXCEPT(ts), to_json(*) AS j FROM demo JOIN demo1 ON demo.ts = demo1.ts WHERE demo.size = 3 GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{{"temp": 25.5, "hum": int64(65), "ts": int64(1), "color": "red", "size": int64(3),
			"j": `{"color":"red","hum":65,"size":3,"temp":25.5,"ts":1}`}},
	},
	// Aggregates, GROUP BY, HAVING and ORDER BY over the joined rows.
	{
		src: "SELECT demo.color, count(*) AS c, count(demo1.hum) AS m, sum(hum) AS h FROM demo LEFT JOIN demo1 ON demo.ts = demo1.ts " +
			"GROUP BY TUMBLINGWINDOW(ss, 1), demo.color ORDER BY demo.color",
		want: []map[string]any{
			{"color": "blue", "c": int64(2), "m": int64(1), "h": int64(59)},
			{"color": "red", "c": int64(1), "m": int64(1), "h": int64(65)},
		},
	},
	{
		src:  "SELECT demo.color, collect(demo1.hum) AS hums FROM demo FULL JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1), demo.color HAVING count(*) > 1",
		want: []map[string]any{{"color": "blue", "hums": []any{nil, int64(59)}}},
	},
	{
		src:  "SELECT merge_agg(*) AS m, window_end() AS we FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{{"m": map[string]any{"color": "blue", "size": int64(2), "ts": int64(3), "temp": 27.5, "hum": int64(59)}, "we": int64(10)}},
	},
	// Chained joins run left to right; demo2 is schemaless, so note is
	// looked up at run time.
	{
		src: "SELECT demo.color, hum, note FROM demo LEFT JOIN demo1 ON demo.ts = demo1.ts LEFT JOIN demo2 ON demo2.ts = demo.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{
			{"color": "red", "hum": int64(65), "note": "a"},
			{"color": "blue", "hum": nil, "note": nil},
			{"color": "blue", "hum": int64(59), "note": nil},
		},
	},
	{
		src:  "SELECT color, note FROM demo JOIN demo1 ON demo.ts = demo1.ts RIGHT JOIN demo2 ON demo2.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
		want: []map[string]any{{"color": "red", "note": "a"}, {"color": nil, "note": "b"}},
	},
}

func TestJoin(t *testing.T) {
	for _, tt := range joinTests {
		got, err := runJoin(t, tt.src, joinEnv)
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s\n got %v\nwant %v", tt.src, got, tt.want)
		}
	}
}

// The joined rows themselves: each side's row under its name, nil for the
// side an outer join found no match for.
func TestJoinRows(t *testing.T) {
	sel := mustSelect(t, "SELECT * FROM demo AS d RIGHT JOIN demo1 ON d.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)")
	prog, err := Compile(sel, joinEnv)
	if err != nil {
		t.Fatal(err)
	}
	in := joinInputs(sel)
	got, err := prog.Join(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"d": in[0].Row, "demo1": in[1].Row},
		{"d": in[4].Row, "demo1": in[3].Row},
		{"d": nil, "demo1": in[5].Row},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Join:\n got %v\nwant %v", got, want)
	}
	if got, want := prog.Columns(), []string{"color", "size", "ts", "temp", "hum"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Columns() = %q, want %q", got, want)
	}
	if got, want := sel.Streams(), []string{"demo", "demo1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Streams() = %q, want %q", got, want)
	}

	// Without JOIN, Join hands the rows on.
	plain, err := Compile(mustSelect(t, "SELECT color FROM demo"), Env{})
	if err != nil {
		t.Fatal(err)
	}
	row := map[string]any{"color": "red"}
	if got, err := plain.Join([]JoinInput{{Row: row}}); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], row) {
		t.Errorf("Join without JOIN = %v, %v", got, err)
	}
}

// meta(s.key) reads one side's metadata; meta(key) the first side that
// has the key.
func TestJoinMeta(t *testing.T) {
	sel := mustSelect(t, "SELECT meta(topic) AS t, meta(demo1.topic) AS t1, meta(qos) AS q FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)")
	prog, err := Compile(sel, joinEnv)
	if err != nil {
		t.Fatal(err)
	}
	joined, err := prog.Join([]JoinInput{
		{Stream: 0, Row: map[string]any{"ts": int64(1), MetaKey: map[string]any{"topic": "in/demo"}}},
		{Stream: 1, Row: map[string]any{"ts": int64(1), MetaKey: map[string]any{"topic": "in/demo1", "qos": int64(1)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := prog.ProjectGroups(joined, 0, 0)
	want := []map[string]any{{"t": "in/demo", "t1": "in/demo1", "q": int64(1)}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
}

func TestJoinErrors(t *testing.T) {
	compileErrs := []struct{ src, err string }{
		{"SELECT demo.color FROM demo JOIN demo1 ON demo.ts = demo1.ts",
			`1:29: JOIN needs a window: streams are joined per window, as in GROUP BY TUMBLINGWINDOW(ss, 10)`},
		{"SELECT ts FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:8: ambiguous field "ts": streams "demo" and "demo1" have it; qualify it, as in demo.ts`},
		{"SELECT color FROM demo AS a LEFT JOIN demo1 AS b ON ts = 1 GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:53: ambiguous field "ts": streams "a" and "b" have it; qualify it, as in a.ts`},
		{"SELECT demo1.color FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:8: unknown field "color" in stream "demo1"`},
		{"SELECT nope FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:8: unknown field "nope" in streams "demo" and "demo1"`},
		{"SELECT color FROM demo JOIN demo3 ON demo.ts = demo3.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:24: JOIN: unknown stream "demo3"`},
		{"SELECT color FROM demo JOIN demo1 ON demo2.ts = demo.ts JOIN demo2 ON TRUE GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:38: stream "demo2" is joined after this ON, which sees only the streams joined so far`},
		{"SELECT color FROM demo JOIN demo1 ON note = 'a' JOIN demo2 ON TRUE GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:38: unknown field "note" in streams "demo" and "demo1"`},
		{"SELECT demo.size FROM demo AS a JOIN demo AS b ON a.ts = b.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:8: stream "demo" is joined more than once: qualify with its alias`},
		{"SELECT color FROM demo JOIN demo1 ON count(*) > 1 GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:38: aggregate function "count" is not allowed in ON`},
		{"SELECT color FROM demo JOIN demo1 ON 1 GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:38: ON: want bool, got int64`},
		{"SELECT color FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1) FILTER (WHERE size > 1)",
			`1:102: FILTER (WHERE ...) is not supported with JOIN: it would see one stream's rows; use WHERE`},
		{"SELECT color FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY SLIDINGWINDOW(ss, 1) OVER (WHEN size > 1)",
			`1:98: OVER (WHEN ...) is not supported with JOIN`},
		{"SELECT demo.*, demo.* FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:16: duplicate output column "demo.*"`},
		{"SELECT *, * FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:11: duplicate output column "*"`},
		{"SELECT demo.ts, demo1.ts FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:17: duplicate output column "ts"`},
		{"SELECT * EXCEPT(nope) FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:8: unknown field "nope" in streams "demo" and "demo1"`},
		{"SELECT demo1.* EXCEPT(color) FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)",
			`1:8: unknown field "color" in stream "demo1"`},
	}
	for _, tt := range compileErrs {
		_, err := Compile(mustSelect(t, tt.src), joinEnv)
		if err == nil || err.Error() != tt.err {
			t.Errorf("%s:\n got %v\nwant %s", tt.src, err, tt.err)
		}
	}

	runErrs := []struct{ src, err string }{
		{"SELECT color FROM demo JOIN demo1 ON demo.size GROUP BY TUMBLINGWINDOW(ss, 1)", `1:38: ON: want bool, got int64`},
		{"SELECT color FROM demo JOIN demo1 ON demo.color < demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)", `1:49: cannot apply "<" to string and int64`},
	}
	for _, tt := range runErrs {
		_, err := runJoin(t, tt.src, joinEnv)
		if err == nil || err.Error() != tt.err {
			t.Errorf("%s:\n got %v\nwant %s", tt.src, err, tt.err)
		}
	}

	// More joined rows than MaxJoinRows fail the result set.
	env := joinEnv
	env.MaxJoinRows = 8
	_, err := runJoin(t, "SELECT color FROM demo CROSS JOIN demo1 GROUP BY TUMBLINGWINDOW(ss, 1)", env)
	if !errors.Is(err, ErrTooManyRows) || err.Error() != "1:24: JOIN: more than 8 joined rows" {
		t.Errorf("CROSS JOIN of 3 by 3 rows, MaxJoinRows 8: %v", err)
	}
}
