package sql

import (
	"reflect"
	"regexp"
	"slices"
	"testing"
	"time"
)

// funcTests evaluate built-ins like evalTests.
var funcTests = []struct {
	expr    string
	want    any
	err     string
	compile bool
}{
	{expr: "meta(topic)", want: nil}, // the test rows carry no metadata
	{expr: "meta(1)", err: `1:13: function "meta": want a metadata key or *, got 1`, compile: true},
	{expr: "meta(a, b)", err: `1:8: function "meta": want 1 argument, got 2`, compile: true},
	{expr: "abs(j)", want: int64(2)},
	{expr: "abs(-2.5)", want: 2.5},
	{expr: "abs(n)", want: nil},
	{expr: "abs(s)", err: `1:8: function "abs": argument 1: want number, got string`},
	{expr: "abs('x')", err: `1:8: function "abs": argument 1: want number, got string`, compile: true},
	{expr: "abs(1, 2)", err: `1:8: function "abs": want 1 argument, got 2`, compile: true},
	{expr: "abs()", err: `1:8: function "abs": want 1 argument, got 0`, compile: true},
	{expr: "abs(-9223372036854775808)", err: `1:8: function "abs": integer overflow: abs(-9223372036854775808)`, compile: true},

	{expr: "round(f)", want: 3.0},
	{expr: "round(-f)", want: -3.0},
	{expr: "round(3.14159, 2)", want: 3.14},
	{expr: "round(1234.5678, -2)", want: 1200.0},
	{expr: "round(i)", want: int64(7)},
	{expr: "round(1250, -2)", want: int64(1300)},
	{expr: "round(-1250, -2)", want: int64(-1300)},
	{expr: "round(1249, -2)", want: int64(1200)},
	{expr: "round(i, -30)", want: int64(0)},
	{expr: "round(f, 400)", want: 2.5},
	{expr: "round(1.5, 1.5)", err: `1:8: function "round": argument 2: want integer, got float64`, compile: true},
	{expr: "round(f, f)", err: `1:8: function "round": argument 2: want integer, got float64`},
	{expr: "round()", err: `1:8: function "round": want at least 1 argument, got 0`, compile: true},
	{expr: "round(1, 2, 3)", err: `1:8: function "round": want at most 2 arguments, got 3`, compile: true},

	{expr: "floor(f)", want: 2.0},
	{expr: "floor(-f)", want: -3.0},
	{expr: "floor(i)", want: int64(7)},
	{expr: "ceil(f)", want: 3.0},
	{expr: "ceil(i)", want: int64(7)},
	{expr: "ceil(b)", err: `1:8: function "ceil": argument 1: want number, got bool`},

	{expr: "power(2, 10)", want: 1024.0},
	{expr: "power(f, 2)", want: 6.25},
	{expr: "power(0, -1)", err: `1:8: function "power": result +Inf is not a finite number`, compile: true},
	{expr: "power(i)", err: `1:8: function "power": want 2 arguments, got 1`, compile: true},

	{expr: "sqrt(16)", want: 4.0},
	{expr: "sqrt(f * 10)", want: 5.0},
	{expr: "sqrt(-4)", err: `1:8: function "sqrt": argument 1: want a non-negative number, got -4`, compile: true},
	{expr: "sqrt(s)", err: `1:8: function "sqrt": argument 1: want number, got string`},

	{expr: "mod(i, 4)", want: int64(3)},
	{expr: "mod(f, 1)", want: 0.5},
	{expr: "mod(i, 0)", err: `1:8: function "mod": division by zero`},

	{expr: "concat(s, ' ', i, ' ', f, ' ', b, n)", want: "hello 7 2.5 true"},
	{expr: "concat(by, t)", want: "xyz2024-01-02T03:04:05Z"},
	{expr: "concat(m->l, l[2])", want: `[1,2]{"k":1.5}`},
	{expr: "concat(1e21, ' ', 0.000001, ' ', 1e-7, ' ', 100000000.0)", want: "1e+21 0.000001 1e-7 100000000"},
	{expr: "concat(n)", want: ""},
	{expr: "concat()", err: `1:8: function "concat": want at least 1 argument, got 0`, compile: true},

	{expr: "upper(s)", want: "HELLO"},
	{expr: "lower('ÀBC')", want: "àbc"},
	{expr: "trim('  x \t\n')", want: "x"},
	{expr: "upper(n)", want: nil},
	{expr: "upper(i)", err: `1:8: function "upper": argument 1: want string, got int64`},
	{expr: "lower(1)", err: `1:8: function "lower": argument 1: want string, got int64`, compile: true},

	{expr: "length(s)", want: int64(5)},
	{expr: "length('日本')", want: int64(2)},
	{expr: "length(l)", want: int64(3)},
	{expr: "length(m)", want: int64(3)},
	{expr: "length(by)", want: int64(3)},
	{expr: "length(n)", want: nil},
	{expr: "length(i)", err: `1:8: function "length": argument 1: want string, list or map, got int64`},

	{expr: "substring(s, 1)", want: "ello"},
	{expr: "substring(s, 1, 3)", want: "el"},
	{expr: "substring(s, 0, 0)", want: ""},
	{expr: "substring(s, 5)", want: ""},
	{expr: "substring(s, 10)", want: ""},
	{expr: "substring(s, 2, 100)", want: "llo"},
	{expr: "substring('日本語', 1, 2)", want: "本"},
	{expr: "substring(n, 1)", want: nil},
	{expr: "substring(s, -1)", err: `1:8: function "substring": argument 2: want a non-negative index, got -1`},
	{expr: "substring('abc', -1)", err: `1:8: function "substring": argument 2: want a non-negative index, got -1`, compile: true},
	{expr: "substring(s, 3, 1)", err: `1:8: function "substring": argument 3: want an index not before start 3, got 1`},
	{expr: "substring(s, '1')", err: `1:8: function "substring": argument 2: want integer, got string`, compile: true},

	{expr: "split_value('/a/b/c', '/', 0)", want: ""},
	{expr: "split_value('/a/b/c', '/', 2)", want: "b"},
	{expr: "split_value('/a/b/c', '/', -1)", want: "c"},
	{expr: "split_value(s, 'l', 1)", want: ""},
	{expr: "split_value('a', '/', 5)", want: nil},
	{expr: "split_value('a', '', 0)", err: `1:8: function "split_value": argument 2: want a non-empty separator`, compile: true},
	{expr: "split_value(s, '/')", err: `1:8: function "split_value": want 3 arguments, got 2`, compile: true},

	{expr: "regexp_matches(s, '^h.*o$')", want: true},
	{expr: "regexp_matches(s, '\\d+')", want: false},
	{expr: "regexp_matches('a1', '\\d')", want: true},
	{expr: "regexp_matches(s, s)", want: true},
	{expr: "regexp_matches(s, concat('^', 'x'))", want: false},
	{expr: "regexp_matches(n, 'x')", want: nil},
	{expr: "regexp_matches(s, n)", want: nil},
	{expr: "regexp_matches(s, '(')", err: "1:8: function \"regexp_matches\": argument 2: error parsing regexp: missing closing ): `(`", compile: true},
	{expr: "regexp_matches(s, concat('(', s))", err: "1:8: function \"regexp_matches\": argument 2: error parsing regexp: missing closing ): `(hello`"},
	{expr: "regexp_matches(i, 'x')", err: `1:8: function "regexp_matches": argument 1: want string, got int64`},
	{expr: "regexp_matches(i, s)", err: `1:8: function "regexp_matches": argument 1: want string, got int64`},
	{expr: "regexp_matches(s, i)", err: `1:8: function "regexp_matches": argument 2: want string, got int64`},
	{expr: "regexp_matches(s, 1)", err: `1:8: function "regexp_matches": argument 2: want string, got int64`, compile: true},

	{expr: "cast('12', 'bigint')", want: int64(12)},
	{expr: "cast(' 12.7 ', 'BIGINT')", want: int64(12)},
	{expr: "cast(f, 'bigint')", want: int64(2)},
	{expr: "cast(-f, 'bigint')", want: int64(-2)},
	{expr: "cast(TRUE, 'bigint')", want: int64(1)},
	{expr: "cast(t, 'bigint')", want: int64(1704164645000)},
	{expr: "cast(i, 'float')", want: 7.0},
	{expr: "cast('2.5', 'float')", want: 2.5},
	{expr: "cast(FALSE, 'float')", want: 0.0},
	{expr: "cast(i, 'string')", want: "7"},
	{expr: "cast(f, 'string')", want: "2.5"},
	{expr: "cast(by, 'string')", want: "xyz"},
	{expr: "cast(m->l, 'string')", want: "[1,2]"},
	{expr: "cast('true', 'boolean')", want: true},
	{expr: "cast('0', 'boolean')", want: false},
	{expr: "cast(0, 'boolean')", want: false},
	{expr: "cast(f, 'boolean')", want: true},
	{expr: "cast('2024-01-02T03:04:05Z', 'datetime')", want: t0},
	{expr: "cast('2024-01-02 03:04:05', 'datetime')", want: t0},
	{expr: "cast('2024-01-02', 'datetime')", want: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
	{expr: "cast(1704164645000, 'datetime')", want: t0},
	{expr: "cast(1704164645000.5, 'datetime')", want: t0.Add(500 * time.Microsecond)},
	{expr: "cast(t, 'datetime')", want: t0},
	{expr: "cast(1e16, 'datetime')", err: `1:8: function "cast": cannot cast float64 "10000000000000000" to datetime: out of range`, compile: true},
	{expr: "cast(s, 'bytea')", want: []byte("hello")},
	{expr: "cast(by, 'bytea')", want: []byte("xyz")},
	{expr: "cast(n, 'bigint')", want: nil},
	{expr: "cast(s, 'bigint')", err: `1:8: function "cast": cannot cast string "hello" to bigint: not a number`},
	{expr: "cast(s, 'boolean')", err: `1:8: function "cast": cannot cast string "hello" to boolean: not a boolean`},
	{expr: "cast(s, 'datetime')", err: `1:8: function "cast": cannot cast string "hello" to datetime: not a time`},
	{expr: "cast(1e300, 'bigint')", err: `1:8: function "cast": cannot cast float64 "1e+300" to bigint: out of range`, compile: true},
	{expr: "cast(l, 'float')", err: `1:8: function "cast": cannot cast []any "[10,\"x\",{\"k\":1.5}]" to float: no conversion`},
	{expr: "cast(i, 'bytea')", err: `1:8: function "cast": cannot cast int64 "7" to bytea: no conversion`},
	{expr: "cast(i, 'int')", err: `1:8: function "cast": argument 2: unknown type "int": want "bigint", "float", "string", "boolean", "datetime" or "bytea"`, compile: true},
	{expr: "cast(i, s)", err: `1:8: function "cast": argument 2: want a string constant naming a type ("bigint", "float", "string", "boolean", "datetime" or "bytea")`, compile: true},
	{expr: "cast(i, 1)", err: `1:8: function "cast": argument 2: want string, got int64`, compile: true},

	{expr: "to_json(m)", want: `{"a":1,"b":{"c":"deep"},"l":[1,2]}`},
	{expr: "to_json(n)", want: "null"},
	{expr: "to_json('<a&b>')", want: `"<a&b>"`},
	{expr: "to_json(t)", want: `"2024-01-02T03:04:05Z"`},
	{expr: "to_json(f)", want: "2.5"},

	{expr: "parse_json('{\"a\": 1, \"b\": [1.5, 2, \"x\", null, true]}')", want: map[string]any{"a": int64(1), "b": []any{1.5, int64(2), "x", nil, true}}},
	{expr: "parse_json('1')", want: int64(1)},
	{expr: "parse_json('1.0')", want: 1.0},
	{expr: "parse_json('1e2')", want: 100.0},
	{expr: "parse_json('123456789012345678901234567890')", want: 1.2345678901234568e+29},
	{expr: "parse_json(' \"x\" ')", want: "x"},
	{expr: "parse_json(cast(' [1] ', 'bytea'))", want: []any{int64(1)}},
	{expr: "parse_json(to_json(m)) = m", want: true},
	{expr: "parse_json(n)", want: nil},
	{expr: "parse_json('{')", err: `1:8: function "parse_json": invalid JSON: unexpected EOF`, compile: true},
	{expr: "parse_json('1 2')", err: `1:8: function "parse_json": invalid JSON: data after the value`, compile: true},
	{expr: "parse_json('[1] }')", err: `1:8: function "parse_json": invalid JSON: data after the value`, compile: true},
	{expr: "parse_json(i)", err: `1:8: function "parse_json": argument 1: want string or []byte, got int64`},

	{expr: "isnull(n)", want: true},
	{expr: "isnull(missing)", want: true},
	{expr: "isnull(i)", want: false},
	{expr: "ISNULL(m->nope)", want: true},

	{expr: "coalesce(n, missing, i, i / 0)", want: int64(7)},
	{expr: "coalesce(n, m->a)", want: int64(1)},
	{expr: "coalesce(n)", want: nil},
	{expr: "coalesce(n, i / 0)", err: "1:22: division by zero"},
	{expr: "coalesce()", err: `1:8: function "coalesce": want at least 1 argument, got 0`, compile: true},

	{expr: "newuuid(1)", err: `1:8: function "newuuid": want 0 arguments, got 1`, compile: true},
	{expr: "now(1)", err: `1:8: function "now": want 0 arguments, got 1`, compile: true},
}

func TestFunctions(t *testing.T) { runEvalTests(t, funcTests) }

func TestVolatileFunctions(t *testing.T) {
	prog, err := Compile(mustSelect(t, "SELECT newuuid() AS u, now() AS t FROM demo"), Env{})
	if err != nil {
		t.Fatal(err)
	}
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	before := time.Now()
	a, _ := prog.Project(nil)
	b, _ := prog.Project(nil)
	after := time.Now()
	if u, _ := a["u"].(string); !uuidRE.MatchString(u) || a["u"] == b["u"] {
		t.Errorf("newuuid() gave %v then %v, want two distinct v4 UUIDs", a["u"], b["u"])
	}
	if tm, ok := a["t"].(time.Time); !ok || tm.Before(before) || tm.After(after) {
		t.Errorf("now() = %v, want a time between %v and %v", a["t"], before, after)
	}
}

func TestBuiltins(t *testing.T) {
	want := []string{"abs", "cast", "ceil", "coalesce", "concat", "floor", "isnull", "length", "lower", "meta", "mod", "newuuid", "now",
		"parse_json", "power", "regexp_matches", "round", "split_value", "sqrt", "substring", "to_json", "trim", "upper"}
	// The aggregates and window bounds are tested in aggregates_test.go.
	grouped := []string{"avg", "collect", "count", "deduplicate", "last_value", "max", "median", "merge_agg", "min",
		"percentile", "percentile_cont", "percentile_disc", "stddev", "stddevs", "sum", "var", "vars", "window_end", "window_start"}
	if got := Builtins(); !reflect.DeepEqual(got, slices.Sorted(slices.Values(append(slices.Clone(want), grouped...)))) {
		t.Errorf("Builtins() = %q, want %q", got, want)
	}
	for _, n := range []string{"abs", "ABS", "Regexp_Matches", "now", "count", "Window_Start", "META"} {
		if !IsBuiltin(n) {
			t.Errorf("IsBuiltin(%q) = false", n)
		}
	}
	for _, n := range []string{"", "wordCount", "abs2"} {
		if IsBuiltin(n) {
			t.Errorf("IsBuiltin(%q) = true", n)
		}
	}
	// Every built-in is exercised by funcTests or evalTests.
	for _, name := range want {
		used := slices.ContainsFunc(funcTests, func(tt struct {
			expr    string
			want    any
			err     string
			compile bool
		}) bool {
			return regexp.MustCompile(`(?i)\b` + name + `\(`).MatchString(tt.expr)
		})
		if !used {
			t.Errorf("built-in %s has no test", name)
		}
	}
}

func TestLike(t *testing.T) {
	tests := []struct {
		pattern string
		kind    likeKind
		match   []string
		noMatch []string
	}{
		{"", likeExact, []string{""}, []string{"a"}},
		{"abc", likeExact, []string{"abc"}, []string{"ab", "abcd", "ABC"}},
		{"ab%", likePrefix, []string{"ab", "abc"}, []string{"a", "xab"}},
		{"%ab", likeSuffix, []string{"ab", "xxab"}, []string{"abx"}},
		{"%ab%", likeContains, []string{"ab", "xaby"}, []string{"a_b"}},
		{"%%a%%", likeContains, []string{"a", "bab"}, []string{"b"}},
		{"%", likeSuffix, []string{"", "anything"}, nil},
		{"a_c", likeGeneral, []string{"abc", "a_c", "a本c"}, []string{"ac", "abbc"}},
		{"a%b%c", likeGeneral, []string{"abc", "aXbYc", "abbc", "acbc"}, []string{"acb", "ab"}},
		{"%a_b", likeGeneral, []string{"axb", "aaxb", "axaxb"}, []string{"ab", "axbx"}},
		{`a\%`, likeExact, []string{"a%"}, []string{"ab", `a\%`}},
		{`\_%`, likePrefix, []string{"_", "_x"}, []string{"x"}},
		{`a\\`, likeExact, []string{`a\`}, []string{`a\\`}},
		{`a\`, likeExact, []string{`a\`}, []string{"a"}},
		{"_", likeGeneral, []string{"本", "x"}, []string{"", "ab"}},
	}
	for _, tt := range tests {
		p := compileLike(tt.pattern)
		if p.kind != tt.kind {
			t.Errorf("%q: kind %d, want %d", tt.pattern, p.kind, tt.kind)
		}
		for _, s := range tt.match {
			if !p.match(s) || !p.matchGeneral(s) {
				t.Errorf("%q LIKE %q = false", s, tt.pattern)
			}
		}
		for _, s := range tt.noMatch {
			if p.match(s) || p.matchGeneral(s) {
				t.Errorf("%q LIKE %q = true", s, tt.pattern)
			}
		}
	}
}
