package sql

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine/schema"
)

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// testRow is the row the evaluation tests run on; "n" is present and nil.
func testRow() map[string]any {
	return map[string]any{
		"i":   int64(7),
		"j":   int64(-2),
		"f":   2.5,
		"s":   "hello",
		"b":   true,
		"n":   nil,
		"t":   t0,
		"by":  []byte("xyz"),
		"big": int64(math.MaxInt64),
		"m": map[string]any{
			"a": int64(1),
			"b": map[string]any{"c": "deep"},
			"l": []any{int64(1), int64(2)},
		},
		"l": []any{int64(10), "x", map[string]any{"k": 1.5}},
	}
}

// evalTests evaluate `SELECT <expr> AS v FROM demo` on testRow. err is the
// exact error; compile says whether Compile (rather than Project) gives it.
var evalTests = []struct {
	expr    string
	want    any
	err     string
	compile bool
}{
	// Literals and fields.
	{expr: "1", want: int64(1)},
	{expr: "-9223372036854775808", want: int64(math.MinInt64)},
	{expr: "1.5", want: 1.5},
	{expr: "'x'", want: "x"},
	{expr: "TRUE", want: true},
	{expr: "NULL", want: nil},
	{expr: "i", want: int64(7)},
	{expr: "missing", want: nil},
	{expr: "demo.s", want: "hello"},
	{expr: "`s`", want: "hello"},

	// Arithmetic.
	{expr: "i + 1", want: int64(8)},
	{expr: "i - 10", want: int64(-3)},
	{expr: "i * j", want: int64(-14)},
	{expr: "i / 2", want: int64(3)},
	{expr: "-i / 2", want: int64(-3)},
	{expr: "i % 4", want: int64(3)},
	{expr: "7 % -3", want: int64(1)},
	{expr: "i / 2.0", want: 3.5},
	{expr: "i + f", want: 9.5},
	{expr: "f * 2", want: 5.0},
	{expr: "f - f", want: 0.0},
	{expr: "f % 1", want: 0.5},
	{expr: "-f", want: -2.5},
	{expr: "- -i", want: int64(7)},
	{expr: "1 + 2 * 3 - 4 / 2", want: int64(5)},
	{expr: "n + 1", want: nil},
	{expr: "1 - missing", want: nil},
	{expr: "-n", want: nil},
	{expr: "i / 0", err: "1:10: division by zero"},
	{expr: "i % 0", err: "1:10: division by zero"},
	{expr: "f / 0", err: "1:10: division by zero"},
	{expr: "f % 0.0", err: "1:10: division by zero"},
	{expr: "1 / 0", err: "1:10: division by zero", compile: true},
	{expr: "s + 1", err: `1:10: cannot apply "+" to string and int64`},
	{expr: "s + s", err: `1:10: cannot apply "+" to string and string`},
	{expr: "s * 2", err: `1:10: cannot apply "*" to string and int64`},
	{expr: "2 * s", err: `1:10: cannot apply "*" to int64 and string`},
	{expr: "b - 1", err: `1:10: cannot apply "-" to bool and int64`},
	{expr: "t + 1", err: `1:10: cannot apply "+" to time.Time and int64`},
	{expr: "'a' * 2", err: `1:12: cannot apply "*" to string and int64`, compile: true},
	{expr: "-s", err: `1:8: cannot apply "-" to string`},
	{expr: "big + 1", err: "1:12: integer overflow: 9223372036854775807 + 1"},
	{expr: "-big - 2", err: "1:13: integer overflow: -9223372036854775807 - 2"},
	{expr: "big * 2", err: "1:12: integer overflow: 9223372036854775807 * 2"},
	{expr: "-9223372036854775808 / -1", err: "1:29: integer overflow: -9223372036854775808 / -1", compile: true},
	{expr: "-(-9223372036854775808)", err: "1:8: integer overflow: -(-9223372036854775808)", compile: true},
	{expr: "big * -1", want: int64(-math.MaxInt64)},

	// Comparison.
	{expr: "i = 7", want: true},
	{expr: "i = 7.0", want: true},
	{expr: "i != 7", want: false},
	{expr: "i <> 8", want: true},
	{expr: "i < 7.5", want: true},
	{expr: "i <= 7", want: true},
	{expr: "i > j", want: true},
	{expr: "f >= 2.5", want: true},
	{expr: "9007199254740993 > 9007199254740992.0", want: true},
	{expr: "big = 9223372036854775807.0", want: false},
	{expr: "big < 9223372036854775807.0", want: true},
	{expr: "-1 > -1.5", want: true},
	{expr: "s = 'hello'", want: true},
	{expr: "s < 'world'", want: true},
	{expr: "'B' < 'a'", want: true},
	{expr: "b = TRUE", want: true},
	{expr: "b != FALSE", want: true},
	{expr: "t = cast(1704164645000, 'datetime')", want: true},
	{expr: "t < cast('2025-01-01', 'datetime')", want: true},
	{expr: "by = cast('xyz', 'bytea')", want: true},
	{expr: "by < cast('xz', 'bytea')", want: true},
	{expr: "m->l = parse_json('[1, 2.0]')", want: true},
	{expr: "m = parse_json('{\"a\": 1, \"b\": {\"c\": \"deep\"}, \"l\": [1, 2]}')", want: true},
	{expr: "m = parse_json('{\"a\": 1}')", want: false},
	{expr: "l = m->l", want: false},
	{expr: "s = 1", want: false},
	{expr: "s != 1", want: true},
	{expr: "n = NULL", want: false},
	{expr: "n != NULL", want: false},
	{expr: "missing = 1", want: false},
	{expr: "missing != 1", want: false},
	{expr: "missing < 1", want: false},
	{expr: "s < 1", err: `1:10: cannot apply "<" to string and int64`},
	{expr: "b < TRUE", err: `1:10: cannot apply "<" to bool and bool`},
	{expr: "m >= m", err: `1:10: cannot apply ">=" to map[string]any and map[string]any`},
	{expr: "1 < 'a'", err: `1:10: cannot apply "<" to int64 and string`, compile: true},

	// Logic, three-valued.
	{expr: "b AND i > 1", want: true},
	{expr: "b AND n", want: nil},
	{expr: "n AND FALSE", want: false},
	{expr: "FALSE AND n", want: false},
	{expr: "n OR TRUE", want: true},
	{expr: "n OR FALSE", want: nil},
	{expr: "FALSE OR b", want: true},
	{expr: "NOT b", want: false},
	{expr: "NOT n", want: nil},
	{expr: "NOT NOT b", want: true},
	{expr: "FALSE AND i / 0 = 1", want: false},
	{expr: "b OR s + 1", want: true},
	{expr: "i AND TRUE", err: `1:10: cannot apply "AND" to int64`},
	{expr: "b AND s", err: `1:10: cannot apply "AND" to string`},
	{expr: "FALSE OR 1", err: `1:14: cannot apply "OR" to int64`, compile: true},
	{expr: "NOT i", err: `1:8: cannot apply "NOT" to int64`},

	// IN, BETWEEN, LIKE, IS NULL.
	{expr: "i IN (1, 7)", want: true},
	{expr: "i IN (1, 2)", want: false},
	{expr: "i NOT IN (1, 2)", want: true},
	{expr: "i NOT IN (7)", want: false},
	{expr: "i IN ('7', 7.0)", want: true},
	{expr: "s IN ('a', s)", want: true},
	{expr: "n IN (NULL, 1)", want: false},
	{expr: "n NOT IN (1)", want: false},
	{expr: "i IN (1, i / 0)", err: "1:19: division by zero"},
	{expr: "i BETWEEN 1 AND 7", want: true},
	{expr: "i BETWEEN 8 AND 9", want: false},
	{expr: "f BETWEEN 2.5 AND 3", want: true},
	{expr: "i NOT BETWEEN 1 AND 5", want: true},
	{expr: "s BETWEEN 'a' AND 'z'", want: true},
	{expr: "t BETWEEN cast(0, 'datetime') AND now()", want: true},
	{expr: "n BETWEEN 1 AND 2", want: false},
	{expr: "n NOT BETWEEN 1 AND 2", want: false},
	{expr: "i BETWEEN n AND 2", want: false},
	{expr: "s BETWEEN 1 AND 2", err: `1:10: cannot apply "BETWEEN" to string and int64`},
	{expr: "i BETWEEN 1 AND 'z'", err: `1:10: cannot apply "BETWEEN" to int64 and string`},
	{expr: "s LIKE 'h%'", want: true},
	{expr: "s LIKE 'H%'", want: false},
	{expr: "s LIKE '%llo'", want: true},
	{expr: "s LIKE '%ll%'", want: true},
	{expr: "s LIKE 'hello'", want: true},
	{expr: "s LIKE 'hell'", want: false},
	{expr: "s LIKE 'h_llo'", want: true},
	{expr: "s LIKE 'h_lo'", want: false},
	{expr: "s LIKE '%'", want: true},
	{expr: "'' LIKE '%'", want: true},
	{expr: "'' LIKE '_'", want: false},
	{expr: "s NOT LIKE 'x%'", want: true},
	{expr: "'50%' LIKE '50\\%'", want: true},
	{expr: "'50x' LIKE '50\\%'", want: false},
	{expr: "'a_c' LIKE 'a\\_c'", want: true},
	{expr: "'abc' LIKE 'a\\_c'", want: false},
	{expr: "'a\\b' LIKE 'a\\b'", want: false}, // the pattern is a\b: \ escapes b
	{expr: "'a\\b' LIKE 'a\\\\\\\\b'", want: true},
	{expr: "'日本語' LIKE '_本_'", want: true},
	{expr: "'aXbXc' LIKE 'a%b%c'", want: true},
	{expr: "'abcbxd' LIKE '%b_d'", want: true},
	{expr: "'abcbxe' LIKE '%b_d'", want: false},
	{expr: "s LIKE s", want: true},
	{expr: "s LIKE concat(substring(s, 0, 2), '%')", want: true},
	{expr: "n LIKE 'a'", want: false},
	{expr: "n NOT LIKE 'a'", want: false},
	{expr: "i LIKE 'a'", err: `1:10: cannot apply "LIKE" to int64 and string`},
	{expr: "s LIKE i", err: `1:10: cannot apply "LIKE" to string and int64`},
	{expr: "n IS NULL", want: true},
	{expr: "missing IS NULL", want: true},
	{expr: "i IS NULL", want: false},
	{expr: "i IS NOT NULL", want: true},

	// Nested access.
	{expr: "m->a", want: int64(1)},
	{expr: "m.a", want: int64(1)},
	{expr: "m->b->c", want: "deep"},
	{expr: "m->b.c", want: "deep"},
	{expr: "m['b']['c']", want: "deep"},
	{expr: "m->x->y", want: nil},
	{expr: "m->l[1]", want: int64(2)},
	{expr: "m->l[-1]", want: int64(2)},
	{expr: "m->l[-2]", want: int64(1)},
	{expr: "m->l[2]", want: nil},
	{expr: "m->l[-3]", want: nil},
	{expr: "l[2]->k", want: 1.5},
	{expr: "l[i - 6]", want: "x"},
	{expr: "l[n]", want: nil},
	{expr: "missing->a", want: nil},
	{expr: "missing[0]", want: nil},
	{expr: "self->s", want: "hello"},
	{expr: "i->a", err: `1:9: cannot apply "->" to int64`},
	{expr: "i.a", err: `1:9: cannot apply "." to int64`},
	{expr: "s[0]", err: `1:9: cannot apply "[]" to string`},
	{expr: "l['x']", err: `1:9: cannot apply "[]" to []any and string`},
	{expr: "l[1.0]", err: `1:9: cannot apply "[]" to []any and float64`},
	{expr: "m[0]", err: `1:9: cannot apply "[]" to map[string]any and int64`},

	// CASE.
	{expr: "CASE WHEN i > 5 THEN 'big' ELSE 'small' END", want: "big"},
	{expr: "CASE WHEN i > 50 THEN 'big' WHEN i > 5 THEN 'mid' END", want: "mid"},
	{expr: "CASE WHEN i > 50 THEN 'big' END", want: nil},
	{expr: "CASE WHEN n THEN 1 ELSE 2 END", want: int64(2)},
	{expr: "CASE WHEN TRUE THEN 1 ELSE i / 0 END", want: int64(1)},
	{expr: "CASE WHEN i THEN 1 END", err: "1:18: CASE WHEN: want bool, got int64"},
	{expr: "CASE i WHEN 1 THEN 'one' WHEN 7 THEN 'seven' END", want: "seven"},
	{expr: "CASE i WHEN 7.0 THEN 'seven' END", want: "seven"},
	{expr: "CASE n WHEN NULL THEN 1 ELSE 2 END", want: int64(2)},
	{expr: "CASE s WHEN 1 THEN 1 ELSE 0 END", want: int64(0)},
	{expr: "CASE 1 WHEN 1 THEN 'folded' END", want: "folded"},

	// Functions are covered in functions_test.go; here the lookup.
	{expr: "foo(i)", err: `1:8: unknown function "foo"`, compile: true},
	{expr: "ABS(j)", want: int64(2)},
	{expr: "Abs(j) + abs(j)", want: int64(4)},
}

// compileExpr compiles SELECT <expr> AS v FROM demo.
func compileExpr(t testing.TB, expr string, env Env) (*Program, error) {
	t.Helper()
	sel, err := ParseSelect("SELECT " + expr + " AS v FROM demo")
	if err != nil {
		t.Fatalf("parse %q: %v", expr, err)
	}
	return Compile(sel, env)
}

// sameValue compares with types: int64(1) is not 1.0.
func sameValue(got, want any) bool {
	if w, ok := want.(time.Time); ok {
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	}
	return reflect.DeepEqual(got, want)
}

func runEvalTests(t *testing.T, tests []struct {
	expr    string
	want    any
	err     string
	compile bool
}) {
	t.Helper()
	for _, tt := range tests {
		prog, err := compileExpr(t, tt.expr, Env{})
		var got any
		if err == nil {
			var out map[string]any
			out, err = prog.Project(testRow())
			if err == nil && tt.compile {
				t.Errorf("%s: compiled, want compile error %s", tt.expr, tt.err)
				continue
			}
			got = out["v"]
		} else if !tt.compile {
			t.Errorf("%s: compile error %v, want run time", tt.expr, err)
			continue
		}
		switch {
		case tt.err != "":
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: error %v, want %s", tt.expr, err, tt.err)
			} else if e := (*Error)(nil); !errors.As(err, &e) {
				t.Errorf("%s: error is %T, want *Error", tt.expr, err)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.expr, err)
		case !sameValue(got, tt.want):
			t.Errorf("%s = %#v (%T), want %#v (%T)", tt.expr, got, got, tt.want, tt.want)
		}
	}
}

func TestEval(t *testing.T) { runEvalTests(t, evalTests) }

// Constant subexpressions are folded: the program holds a constant, and
// errors that would happen on every row are compile errors.
func TestConstantFolding(t *testing.T) {
	c := &compiler{funcIDs: map[*Call]int{}, siteKeys: map[*Call]string{}}
	for src, want := range map[string]any{
		"1 + 2 * 3":                  int64(7),
		"upper('a') = 'A' AND 2 > 1": true,
		"CASE WHEN 1 > 2 THEN 'x' ELSE concat('y', 1) END": "y1",
		"-(5)": int64(-5),
	} {
		code, err := c.expr(mustSelect(t, "SELECT "+src+" FROM demo").Fields[0].Expr)
		if err != nil || !code.konst || !sameValue(code.val, want) {
			t.Errorf("%s: konst=%v val=%#v err=%v, want folded %#v", src, code.konst, code.val, err, want)
		}
	}
	for _, src := range []string{"i + 1", "now()", "newuuid()", "parse_json('[1]')", "coalesce(i, 1)"} {
		code, err := c.expr(mustSelect(t, "SELECT "+src+" FROM demo").Fields[0].Expr)
		if err != nil || code.konst {
			t.Errorf("%s: konst=%v err=%v, want not folded", src, code.konst, err)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		where string
		want  bool
		err   string
	}{
		{"", true, ""},
		{"i > 5", true, ""},
		{"i > 50", false, ""},
		{"n", false, ""},
		{"missing > 1", false, ""},
		{"NOT (missing > 1)", true, ""},
		{"b AND n", false, ""},
		{"i", false, "1:26: WHERE: want bool, got int64"},
		{"m->a + 1", false, "1:26: WHERE: want bool, got int64"},
		{"s * 2 > 1", false, `1:28: cannot apply "*" to string and int64`},
	}
	for _, tt := range tests {
		src := "SELECT i FROM demo"
		if tt.where != "" {
			src += " WHERE " + tt.where
		}
		prog, err := Compile(mustSelect(t, src), Env{})
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		got, err := prog.Match(testRow())
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: error %v, want %s", src, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: Match = %v, %v, want %v", src, got, err, tt.want)
		}
	}
}

func TestProject(t *testing.T) {
	row := map[string]any{"a": int64(1), "b": "x", "c": nil}
	tests := []struct {
		src  string
		row  map[string]any
		want map[string]any
	}{
		{"SELECT * FROM demo", row, map[string]any{"a": int64(1), "b": "x", "c": nil}},
		{"SELECT demo.* FROM demo", row, map[string]any{"a": int64(1), "b": "x", "c": nil}},
		{"SELECT * EXCEPT(a, c) FROM demo", row, map[string]any{"b": "x"}},
		{"SELECT a * 10 AS a, * FROM demo", row, map[string]any{"a": int64(10), "b": "x", "c": nil}},
		{"SELECT *, a * 10 AS a FROM demo", row, map[string]any{"a": int64(10), "b": "x", "c": nil}},
		{"SELECT a, missing, a + 1, b AS bb FROM demo", row, map[string]any{"a": int64(1), "missing": nil, "kuiper_field_0": int64(2), "bb": "x"}},
		{"SELECT self FROM demo", row, map[string]any{"self": row}},
		{"SELECT self FROM demo", map[string]any{"self": []byte("raw")}, map[string]any{"self": []byte("raw")}},
		{"SELECT self, length(self) AS n FROM demo", map[string]any{"self": []byte("raw"), "x": 1}, map[string]any{"self": map[string]any{"self": []byte("raw"), "x": 1}, "n": int64(2)}},
		{"SELECT to_json(*) AS j, to_json(* EXCEPT(b)) AS k FROM demo", row, map[string]any{"j": `{"a":1,"b":"x","c":null}`, "k": `{"a":1,"c":null}`}},
		{"SELECT * FROM demo", map[string]any{}, map[string]any{}},
		{"SELECT a FROM demo", nil, map[string]any{"a": nil}},
	}
	for _, tt := range tests {
		prog, err := Compile(mustSelect(t, tt.src), Env{})
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		got, err := prog.Project(tt.row)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %#v, %v\nwant %#v", tt.src, got, err, tt.want)
		}
	}
	// The output is a fresh map: changing it leaves the row alone.
	prog, _ := Compile(mustSelect(t, "SELECT * FROM demo"), Env{})
	out, _ := prog.Project(row)
	out["a"] = "changed"
	if row["a"] != int64(1) {
		t.Errorf("Project shares its output with the row")
	}
}

var demoSchema = schema.Schema{
	{Name: "temperature", Type: schema.Type{Kind: schema.Float}},
	{Name: "humidity", Type: schema.Type{Kind: schema.Bigint}},
	{Name: "info", Type: schema.Type{Kind: schema.Struct, Fields: []schema.Field{
		{Name: "loc", Type: schema.Type{Kind: schema.String}},
		{Name: "tags", Type: schema.Type{Kind: schema.Array, Elem: &schema.Type{Kind: schema.String}}},
		{Name: "extra", Type: schema.Type{Kind: schema.Any}},
	}}},
	{Name: "raw", Type: schema.Type{Kind: schema.Array, Elem: &schema.Type{Kind: schema.Struct, Fields: []schema.Field{
		{Name: "v", Type: schema.Type{Kind: schema.Bigint}},
	}}}},
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		src string
		env Env
		err string
	}{
		{"SELECT x FROM demo", Env{Schema: demoSchema}, `1:8: unknown field "x" in stream "demo"`},
		{"SELECT x FROM demo", Env{Schema: demoSchema, Stream: "sensors"}, `1:8: unknown field "x" in stream "sensors"`},
		{"SELECT temperature FROM demo WHERE humidty > 1", Env{Schema: demoSchema}, `1:36: unknown field "humidty" in stream "demo"`},
		{"SELECT * EXCEPT(temperature, nope) FROM demo", Env{Schema: demoSchema}, `1:8: unknown field "nope" in stream "demo"`},
		{"SELECT abs(temprature) FROM demo", Env{Schema: demoSchema}, `1:12: unknown field "temprature" in stream "demo"`},
		{"SELECT info->nope FROM demo", Env{Schema: demoSchema}, `1:12: unknown field "nope" in "info"`},
		{"SELECT info.tags.x FROM demo", Env{Schema: demoSchema}, `1:17: cannot apply "." to ARRAY column "info.tags"`},
		{"SELECT raw[0]->w FROM demo", Env{Schema: demoSchema}, `1:14: unknown field "w" in "raw[0]"`},
		{"SELECT temperature->x FROM demo", Env{Schema: demoSchema}, `1:19: cannot apply "->" to FLOAT column "temperature"`},
		{"SELECT humidity[0] FROM demo", Env{Schema: demoSchema}, `1:16: cannot apply "[]" to BIGINT column "humidity"`},
		{"SELECT a AS t, b AS t FROM demo", Env{}, `1:16: duplicate output column "t"`},
		{"SELECT a, m.a FROM demo", Env{}, `1:11: duplicate output column "a"`},
		{"SELECT 1 AS kuiper_field_0, 2 FROM demo", Env{}, `1:29: duplicate output column "kuiper_field_0"`},
		{"SELECT f(x), f(y) FROM demo", Env{}, `1:8: unknown function "f"`},
		{"SELECT abs(x), abs(y) FROM demo", Env{}, `1:16: duplicate output column "abs"`},
		{"SELECT *, * FROM demo", Env{}, `1:11: duplicate output column "*"`},
		{"SELECT a FROM demo WHERE 1", Env{}, `1:26: WHERE: want bool, got int64`},
		{"SELECT a FROM demo WHERE 'a' < 1", Env{}, `1:30: cannot apply "<" to string and int64`},
	}
	for _, tt := range tests {
		_, err := Compile(mustSelect(t, tt.src), tt.env)
		if err == nil || err.Error() != tt.err {
			t.Errorf("%s:\n got %v\nwant %s", tt.src, err, tt.err)
		}
	}
	// With a schema, known paths compile; ANY and nested unknowns do not fail.
	ok := "SELECT temperature, info->loc, info.tags[0], raw[0]->v, info->extra->anything, demo.humidity FROM demo"
	if _, err := Compile(mustSelect(t, ok), Env{Schema: demoSchema}); err != nil {
		t.Errorf("%s: %v", ok, err)
	}
	join := mustSelect(t, "SELECT a FROM demo")
	join.Joins = []Join{{node: at(Pos{1, 20}), Kind: InnerJoin, Stream: "demo1"}}
	if _, err := Compile(join, Env{}); err == nil || err.Error() != "1:20: JOIN needs a window: streams are joined per window, as in GROUP BY TUMBLINGWINDOW(ss, 10)" {
		t.Errorf("Compile with a join: %v", err)
	}
}

func TestColumns(t *testing.T) {
	tests := []struct {
		src  string
		env  Env
		want []string
	}{
		{"SELECT temperature * 2 AS t, humidity FROM demo", Env{}, []string{"t", "humidity"}},
		{"SELECT * FROM demo", Env{}, nil},
		{"SELECT *, 1 FROM demo", Env{}, []string{"kuiper_field_0"}},
		{"SELECT a, b->c, 1 + 1, count(*), d[0] FROM demo", Env{}, []string{"a", "kuiper_field_0", "kuiper_field_1", "count", "kuiper_field_2"}},
		{"SELECT * FROM demo", Env{Schema: demoSchema}, []string{"temperature", "humidity", "info", "raw"}},
		{"SELECT humidity AS x, * EXCEPT(info), temperature * 2 AS temperature FROM demo", Env{Schema: demoSchema}, []string{"x", "humidity", "raw", "temperature"}},
	}
	for _, tt := range tests {
		prog, err := Compile(mustSelect(t, tt.src), tt.env)
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if got := prog.Columns(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Columns() = %q, want %q", tt.src, got, tt.want)
		}
	}
}

// Values of other Go number types, as a hand-built row or a plugin may
// hold, work like int64 and float64.
func TestOtherNumberTypes(t *testing.T) {
	prog, err := Compile(mustSelect(t, "SELECT a + b AS x, a * c AS y, d + 1 AS z, a = 3 AS eq FROM demo WHERE c < a"), Env{})
	if err != nil {
		t.Fatal(err)
	}
	row := map[string]any{"a": 3, "b": int32(4), "c": float32(0.5), "d": uint64(math.MaxUint64)}
	if ok, err := prog.Match(row); !ok || err != nil {
		t.Fatalf("Match = %v, %v", ok, err)
	}
	got, err := prog.Project(row)
	want := map[string]any{"x": int64(7), "y": 1.5, "z": float64(math.MaxUint64) + 1, "eq": true}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Project = %#v, %v, want %#v", got, err, want)
	}
}

func TestErrorType(t *testing.T) {
	_, err := Parse("SELECT )")
	var e *Error
	if !errors.As(err, &e) || e.Line != 1 || e.Col != 8 || e.Msg != `unexpected ")"` {
		t.Errorf("Parse error = %#v", err)
	}
	if !strings.HasPrefix(err.Error(), "1:8: ") {
		t.Errorf("Error() = %q", err)
	}
}

// A Program is shared by goroutines; run with -race.
func TestConcurrentProject(t *testing.T) {
	prog, err := Compile(mustSelect(t, "SELECT regexp_matches(s, p) AS r, s LIKE p AS l, upper(s) AS u FROM demo WHERE length(s) > 0"), Env{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for g := range 4 {
		go func() {
			for k := range 200 {
				row := map[string]any{"s": "abc", "p": []string{"a.c", "^b", "a%"}[(g+k)%3]}
				if _, err := prog.Match(row); err != nil {
					done <- err
					return
				}
				if _, err := prog.Project(row); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
