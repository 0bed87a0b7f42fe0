package sql

import (
	"math"
	"reflect"
	"testing"
	"time"
)

// rowsOf are maps standing for the rows of a group, for deduplicate.
var rowsOf = []any{
	map[string]any{"id": int64(1)},
	map[string]any{"id": int64(2)},
	map[string]any{"id": int64(3)},
	map[string]any{"id": int64(4)},
}

// same repeats v once per row, as a constant argument arrives.
func same(v any, n int) []any {
	col := make([]any, n)
	for i := range col {
		col[i] = v
	}
	return col
}

// aggTests call the built-in aggregates directly: one column per
// argument, one element per row.
var aggTests = []struct {
	name string
	args [][]any
	want any
	err  string
}{
	{name: "count", args: [][]any{{int64(1), nil, "x"}}, want: int64(2)},
	{name: "count", args: [][]any{{nil}}, want: int64(0)},
	{name: "count", args: [][]any{{}}, want: nil},

	{name: "sum", args: [][]any{{int64(1), nil, int64(2), int64(3)}}, want: int64(6)},
	{name: "sum", args: [][]any{{1.5, 2.5}}, want: 4.0},
	{name: "sum", args: [][]any{{2.0, int64(1)}}, want: 3.0},
	{name: "sum", args: [][]any{{int64(1), 2.5}}, want: 3.5}, // eKuiper fails here
	{name: "sum", args: [][]any{{1, int32(2), uint8(3)}}, want: int64(6)},
	{name: "sum", args: [][]any{{nil, nil}}, want: nil},
	{name: "sum", args: [][]any{{}}, want: nil},
	{name: "sum", args: [][]any{{int64(1), "red"}}, err: `want number, got string "red"`},
	{name: "sum", args: [][]any{{int64(math.MaxInt64), int64(1)}}, err: "integer overflow: 9223372036854775807 + 1"},
	{name: "sum", args: [][]any{{math.MaxFloat64, math.MaxFloat64}}, err: "result is not a finite number: +Inf"},
	{name: "sum", args: [][]any{{0.1, 0.2, 0.3}}, want: 0.6},                        // exactly rounded: 0.1 + 0.2 + 0.3 is 0.6000000000000001
	{name: "sum", args: [][]any{{1e100, int64(1), -1e100}}, want: 1.0},              // order does not matter
	{name: "sum", args: [][]any{{1e308, 1e308, -1e308}}, want: 1e308},               // no intermediate overflow
	{name: "sum", args: [][]any{{int64(1<<53 + 1), 0.5}}, want: float64(1<<53 + 2)}, // integers added exactly
	{name: "sum", args: [][]any{{math.Inf(1), 1.0}}, err: "result is not a finite number: +Inf"},
	{name: "sum", args: [][]any{{math.Inf(1), math.Inf(-1)}}, err: "result is not a finite number: NaN"},

	{name: "avg", args: [][]any{{int64(1), int64(2)}}, want: int64(1)}, // integer division, as eKuiper
	{name: "avg", args: [][]any{{int64(-3), nil, int64(-4)}}, want: int64(-3)},
	{name: "avg", args: [][]any{{1.0, 2.0}}, want: 1.5},
	{name: "avg", args: [][]any{{int64(1), 2.0}}, want: 1.5},
	{name: "avg", args: [][]any{{1e100, int64(1), -1e100, 2.0}}, want: 0.75},
	{name: "avg", args: [][]any{{nil}}, want: nil},
	{name: "avg", args: [][]any{{}}, want: nil},
	{name: "avg", args: [][]any{{true}}, err: `want number, got bool "true"`},

	{name: "min", args: [][]any{{int64(3), nil, int64(1), int64(2)}}, want: int64(1)},
	{name: "max", args: [][]any{{int64(3), nil, int64(1), int64(2)}}, want: int64(3)},
	{name: "min", args: [][]any{{nil, int64(2), 1.5}}, want: 1.5},
	{name: "max", args: [][]any{{int64(3), 2.5}}, want: 3.0}, // a float makes it float64
	{name: "max", args: [][]any{{int32(3), 2}}, want: int64(3)},
	{name: "min", args: [][]any{{"b", "a", "c"}}, want: "a"},
	{name: "max", args: [][]any{{"b", "a", "c"}}, want: "c"},
	{name: "max", args: [][]any{{t0, t0.Add(time.Hour), t0.Add(-time.Hour)}}, want: t0.Add(time.Hour)},
	{name: "min", args: [][]any{{nil}}, want: nil},
	{name: "max", args: [][]any{{}}, want: nil},
	{name: "min", args: [][]any{{"a", int64(1)}}, err: `want string like the first value, got int64 "1"`},
	{name: "max", args: [][]any{{int64(1), "a"}}, err: `want int64 like the first value, got string "a"`},
	{name: "max", args: [][]any{{true}}, err: `want number, string or datetime, got bool "true"`},

	{name: "collect", args: [][]any{{int64(1), nil, "x"}}, want: []any{int64(1), nil, "x"}},
	{name: "collect", args: [][]any{rowsOf[:2]}, want: rowsOf[:2]},
	{name: "collect", args: [][]any{{}}, want: []any{}},
	{name: "collect", args: [][]any{nil}, want: []any{}},

	{name: "merge_agg", args: [][]any{{map[string]any{"a": int64(1), "b": int64(1)}, nil, map[string]any{"b": int64(2)}}},
		want: map[string]any{"a": int64(1), "b": int64(2)}},
	{name: "merge_agg", args: [][]any{{map[string]any{}}}, want: map[string]any{}},
	{name: "merge_agg", args: [][]any{{nil}}, want: nil},
	{name: "merge_agg", args: [][]any{{}}, want: nil},
	{name: "merge_agg", args: [][]any{{map[string]any{}, "x"}}, err: `want map, got string "x"`}, // eKuiper skips it

	// deduplicate gets the rows, the column and all.
	{name: "deduplicate", args: [][]any{rowsOf, {int64(1), int64(2), 1.0, int64(3)}, same(true, 4)},
		want: []any{rowsOf[0], rowsOf[1], rowsOf[3]}},
	{name: "deduplicate", args: [][]any{rowsOf, {int64(1), "1", nil, nil}, same(true, 4)},
		want: []any{rowsOf[0], rowsOf[1], rowsOf[2]}},
	{name: "deduplicate", args: [][]any{rowsOf, {int64(1), int64(2), int64(1), int64(3)}, same(false, 4)}, want: rowsOf[3]},
	{name: "deduplicate", args: [][]any{rowsOf, {int64(1), int64(2), int64(3), 2.0}, same(false, 4)}, want: map[string]any{}},
	{name: "deduplicate", args: [][]any{{}, {}, {}}, want: nil},
	{name: "deduplicate", args: [][]any{rowsOf[:1], {int64(1)}, {"yes"}}, err: `argument 2: want bool, got string "yes"`},

	{name: "stddev", args: [][]any{{int64(2), int64(4), int64(4), int64(4), int64(5), int64(5), int64(7), int64(9), nil}}, want: 2.0},
	{name: "var", args: [][]any{{int64(2), int64(4), int64(4), int64(4), int64(5), int64(5), int64(7), int64(9)}}, want: 4.0},
	{name: "vars", args: [][]any{{1.0, 2.0, 3.0, 4.0}}, want: 5.0 / 3},
	{name: "stddevs", args: [][]any{{1.0, 3.0}}, want: math.Sqrt2},
	{name: "stddev", args: [][]any{{int64(5)}}, want: 0.0},
	{name: "stddevs", args: [][]any{{int64(5), nil}}, want: nil}, // eKuiper: NaN
	{name: "var", args: [][]any{{nil}}, want: nil},
	{name: "vars", args: [][]any{{}}, want: nil},
	{name: "var", args: [][]any{{int64(1), "x"}}, err: `want number, got string "x"`},

	{name: "median", args: [][]any{{int64(3), int64(1), nil, int64(2)}}, want: int64(2)},
	{name: "median", args: [][]any{{int64(4), int64(1), int64(3), int64(2)}}, want: int64(2)}, // 2.5 in integers
	{name: "median", args: [][]any{{int64(-1), int64(2)}}, want: int64(0)},
	{name: "median", args: [][]any{{int64(-3), int64(-4)}}, want: int64(-3)},
	{name: "median", args: [][]any{{int64(math.MaxInt64), int64(math.MaxInt64 - 1)}}, want: int64(math.MaxInt64 - 1)},
	{name: "median", args: [][]any{{1.0, int64(2), int64(3), int64(4)}}, want: 2.5},
	{name: "median", args: [][]any{{2.5}}, want: 2.5},
	{name: "median", args: [][]any{{nil}}, want: nil},
	{name: "median", args: [][]any{{"a"}}, err: `want number, got string "a"`},

	{name: "percentile_cont", args: [][]any{{int64(4), int64(2), int64(3), int64(1)}, same(0.5, 4)}, want: 2.5},
	{name: "percentile_cont", args: [][]any{{int64(4), int64(2), int64(3), int64(1)}, same(0.25, 4)}, want: 1.75},
	{name: "percentile_cont", args: [][]any{{int64(4), int64(2), int64(3), int64(1)}, same(int64(0), 4)}, want: 1.0},
	{name: "percentile", args: [][]any{{int64(4), int64(2), int64(3), int64(1)}, same(int64(1), 4)}, want: 4.0},
	{name: "percentile_cont", args: [][]any{{int64(7), nil}, {nil, 0.5}}, want: 7.0},
	{name: "percentile_cont", args: [][]any{{nil}, {0.5}}, want: nil},
	{name: "percentile_cont", args: [][]any{{}, {}}, want: nil},
	{name: "percentile_cont", args: [][]any{{int64(1)}, {1.5}}, err: `argument 2: want a number between 0 and 1, got float64 "1.5"`},
	{name: "percentile_cont", args: [][]any{{int64(1)}, {nil}}, err: `argument 2: want a number between 0 and 1, got null`},

	{name: "percentile_disc", args: [][]any{{int64(4), int64(2), int64(3), int64(1)}, same(0.5, 4)}, want: int64(2)},
	{name: "percentile_disc", args: [][]any{{int64(4), int64(2), int64(3), int64(1)}, same(0.51, 4)}, want: int64(3)},
	{name: "percentile_disc", args: [][]any{{int64(4), int64(2), int64(3), int64(1)}, same(0.0, 4)}, want: int64(1)},
	{name: "percentile_disc", args: [][]any{{int64(4), 2.5, int64(3), int64(1)}, same(1.0, 4)}, want: int64(4)},
	{name: "percentile_disc", args: [][]any{{int64(4), 2.5, int64(3), int64(1)}, same(0.5, 4)}, want: 2.5},
	{name: "percentile_disc", args: [][]any{{}, {}}, want: nil},
	{name: "percentile_disc", args: [][]any{{int64(1)}, {"x"}}, err: `argument 2: want a number between 0 and 1, got string "x"`},

	{name: "last_value", args: [][]any{{int64(1), nil}, same(false, 2)}, want: nil},
	{name: "last_value", args: [][]any{{int64(1), nil}, same(true, 2)}, want: int64(1)},
	{name: "last_value", args: [][]any{{int64(1), int64(2)}, same(true, 2)}, want: int64(2)},
	{name: "last_value", args: [][]any{{nil, nil}, same(true, 2)}, want: nil},
	{name: "last_value", args: [][]any{{}, {}}, want: nil},
	{name: "last_value", args: [][]any{{int64(1)}, {int64(1)}}, err: `argument 2: want bool, got int64 "1"`},
}

func TestAggregates(t *testing.T) {
	tested := map[string]bool{}
	for _, tt := range aggTests {
		tested[tt.name] = true
		got, err := builtins[tt.name].agg(tt.args)
		switch {
		case tt.err != "":
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s%v: error %v, want %s", tt.name, tt.args, err, tt.err)
			}
		case err != nil:
			t.Errorf("%s%v: %v", tt.name, tt.args, err)
		case !reflect.DeepEqual(got, tt.want):
			t.Errorf("%s%v = %#v, want %#v", tt.name, tt.args, got, tt.want)
		}
	}
	for name := range aggregateFuncs {
		if !tested[name] {
			t.Errorf("aggregate %s has no test", name)
		}
	}
}

// Aggregates in SQL: constant arguments checked at compile time, the
// position of run-time errors, NULL for a NULL-only group.
func TestAggregateCalls(t *testing.T) {
	rows := []map[string]any{
		{"color": "red", "size": int64(3), "w": 0.5},
		{"color": "blue", "size": int64(6), "w": 0.5},
		{"color": "blue", "size": int64(2), "n": nil},
	}
	tests := []struct {
		expr string
		want any
		err  string
	}{
		{expr: "count(*)", want: int64(3)},
		{expr: "COUNT(n)", want: int64(0)},
		{expr: "count(1)", want: int64(3)},
		{expr: "sum(size) * 2 + count(*)", want: int64(25)},
		{expr: "avg(size)", want: int64(3)},
		{expr: "avg(cast(size, 'float'))", want: 11.0 / 3},
		{expr: "CASE WHEN max(size) > 5 THEN 'big' ELSE 'small' END", want: "big"},
		{expr: "collect(color)", want: []any{"red", "blue", "blue"}},
		{expr: "collect(* EXCEPT(w, n))[1]", want: map[string]any{"color": "blue", "size": int64(6)}},
		{expr: "merge_agg(*)", want: map[string]any{"color": "blue", "size": int64(2), "w": 0.5, "n": nil}},
		{expr: "deduplicate(color, true)", want: []any{rows[0], rows[1]}},
		{expr: "deduplicate(color, false)", want: map[string]any{}},
		{expr: "percentile_cont(size, 0.5)", want: 3.0},
		{expr: "percentile_disc(size, w)", want: int64(3)},
		{expr: "last_value(n, true)", want: nil},
		{expr: "last_value(color, false)", want: "blue"},
		{expr: "median(size) + stddev(size) * 0", want: 3.0},
		{expr: "sum(n)", want: nil},
		{expr: "min(color)", want: "blue"},

		{expr: "sum(color)", err: `1:8: function "sum": want number, got string "red"`},
		{expr: "1 + max(w) + sum(color)", err: `1:21: function "sum": want number, got string "red"`},
		{expr: "percentile_cont(size, 1.5)", err: `1:8: function "percentile_cont": argument 2: want a number between 0 and 1, got float64 "1.5"`},
		{expr: "percentile(size, -1)", err: `1:8: function "percentile": argument 2: want a number between 0 and 1, got int64 "-1"`},
		{expr: "percentile_disc(size, 'x')", err: `1:8: function "percentile_disc": argument 2: want number, got string`},
		{expr: "percentile_disc(size, size)", err: `1:8: function "percentile_disc": argument 2: want a number between 0 and 1, got int64 "3"`},
		{expr: "last_value(size, 1)", err: `1:8: function "last_value": argument 2: want bool, got int64`},
		{expr: "deduplicate(size, 'all')", err: `1:8: function "deduplicate": argument 2: want bool, got string`},
		{expr: "deduplicate(size)", err: `1:8: function "deduplicate": want 2 arguments, got 1`},
		{expr: "count()", err: `1:8: function "count": want 1 argument, got 0`},
		{expr: "count(a, b)", err: `1:8: function "count": want 1 argument, got 2`},
		{expr: "sum(*)", err: `1:8: function "sum": argument 1: * is not allowed`},
		{expr: "last_value(size, *)", err: `1:8: function "last_value": argument 2: * is not allowed`},
		{expr: "sum(count(*))", err: `1:12: aggregate function "count" is not allowed inside aggregate function "sum"`},
		{expr: "max(1 + abs(avg(size)))", err: `1:20: aggregate function "avg" is not allowed inside aggregate function "max"`},
	}
	for _, tt := range tests {
		prog, err := Compile(mustSelect(t, "SELECT "+tt.expr+" AS v FROM demo"), Env{})
		var out []map[string]any
		if err == nil {
			out, err = prog.ProjectGroups(rows, 0, 0)
		}
		switch {
		case tt.err != "":
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: error %v, want %s", tt.expr, err, tt.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.expr, err)
		case len(out) != 1 || !reflect.DeepEqual(out[0]["v"], tt.want):
			t.Errorf("%s = %#v, want %#v", tt.expr, out, tt.want)
		}
	}
}
