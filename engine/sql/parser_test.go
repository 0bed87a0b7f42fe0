package sql

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/engine/schema"
)

// sexpr renders an expression fully parenthesised, to check the tree's
// shape independently of the printer: (op args...).
func sexpr(e Expr) string {
	switch e := e.(type) {
	case nil:
		return "<nil>"
	case *Literal:
		return formatLiteral(e.Value)
	case *FieldRef:
		if e.Stream != "" {
			return "$" + e.Stream + "." + e.Name
		}
		return "$" + e.Name
	case *Member:
		op := "."
		if e.Arrow {
			op = "->"
		}
		return fmt.Sprintf("(%s %s %s)", op, sexpr(e.X), e.Name)
	case *Index:
		return fmt.Sprintf("([] %s %s)", sexpr(e.X), sexpr(e.Index))
	case *Unary:
		return fmt.Sprintf("(%s %s)", e.Op, sexpr(e.X))
	case *Binary:
		return fmt.Sprintf("(%s %s %s)", e.Op, sexpr(e.L), sexpr(e.R))
	case *In:
		var items []string
		for _, x := range e.List {
			items = append(items, sexpr(x))
		}
		return fmt.Sprintf("(%sIN %s [%s])", notPrefix(e.Not), sexpr(e.X), strings.Join(items, " "))
	case *Between:
		return fmt.Sprintf("(%sBETWEEN %s %s %s)", notPrefix(e.Not), sexpr(e.X), sexpr(e.Lo), sexpr(e.Hi))
	case *Like:
		return fmt.Sprintf("(%sLIKE %s %s)", notPrefix(e.Not), sexpr(e.X), sexpr(e.Pattern))
	case *IsNull:
		return fmt.Sprintf("(IS%s NULL %s)", strings.TrimSuffix(" "+notPrefix(e.Not), " "), sexpr(e.X))
	case *Case:
		s := "(CASE"
		if e.Operand != nil {
			s += " " + sexpr(e.Operand)
		}
		for _, w := range e.Whens {
			s += fmt.Sprintf(" [%s %s]", sexpr(w.Cond), sexpr(w.Result))
		}
		if e.Else != nil {
			s += " ELSE " + sexpr(e.Else)
		}
		return s + ")"
	case *Call:
		s := "(" + e.Name + "()"
		for _, a := range e.Args {
			s += " " + sexpr(a)
		}
		return s + ")"
	case *Star:
		return e.String()
	case *Self:
		return "SELF"
	}
	return fmt.Sprintf("?%T", e)
}

func notPrefix(b bool) string {
	if b {
		return "NOT "
	}
	return ""
}

func mustSelect(t testing.TB, src string) *Select {
	t.Helper()
	sel, err := ParseSelect(src)
	if err != nil {
		t.Fatalf("ParseSelect(%q): %v", src, err)
	}
	return sel
}

// exprTests are expressions, each parsed as SELECT <expr> FROM demo; want
// is the tree and canon the canonical text ("" when the same as src).
var exprTests = []struct {
	src, want, canon string
}{
	{"1", "1", ""},
	{"-1", "-1", ""},
	{"-9223372036854775808", "-9223372036854775808", ""},
	{"- 5", "-5", "-5"},
	{"-(5)", "(- 5)", ""},
	{"- -5", "(- -5)", "-(-5)"},
	{"-a", "(- $a)", ""},
	{"-5[0]", "(- ([] 5 0))", "-(5[0])"},
	{"1.5", "1.5", ""},
	{"1e3", "1000.0", "1000.0"},
	{".5", "0.5", "0.5"},
	{"2.5e-10", "2.5e-10", ""},
	{"'x'", `"x"`, `"x"`},
	{`"a\"b"`, `"a\"b"`, ""},
	{`"tab\there"`, `"tab\there"`, ""},
	{"TRUE", "TRUE", ""},
	{"false", "FALSE", "FALSE"},
	{"null", "NULL", "NULL"},
	{"a", "$a", ""},
	{"`a b`", "$a b", ""},
	{"`select`", "$select", ""},
	{"`a``b`", "$a`b", ""},
	{"group", "$group", ""},
	{"demo.a", "$demo.a", ""},
	{"d.a", "$d.a", ""},
	{"x.a", "(. $x a)", ""},
	{"demo.a.b", "(. $demo.a b)", ""},
	{"demo->a", "(-> $demo a)", ""},
	{"a->b->c", "(-> (-> $a b) c)", ""},
	{"a->`x y`", "(-> $a x y)", ""},
	{"a->end", "(-> $a end)", "a->`end`"},
	{"a[0]", "([] $a 0)", ""},
	{"a[-1]->b[1 + 1]", "([] (-> ([] $a -1) b) (+ 1 1))", ""},
	{"a['k']", `([] $a "k")`, `a["k"]`},
	{"f(x)->y", "(-> (f() $x) y)", ""},
	{"self", "SELF", ""},
	{"SELF->a", "(-> SELF a)", "self->a"},
	{"1 + 2 * 3", "(+ 1 (* 2 3))", ""},
	{"(1 + 2) * 3", "(* (+ 1 2) 3)", ""},
	{"1 - 2 - 3", "(- (- 1 2) 3)", ""},
	{"1 - (2 - 3)", "(- 1 (- 2 3))", ""},
	{"a / b % c * d", "(* (% (/ $a $b) $c) $d)", ""},
	{"-a * -b", "(* (- $a) (- $b))", ""},
	{"-(a + b)", "(- (+ $a $b))", ""},
	{"a = b", "(= $a $b)", ""},
	{"a <> b", "(!= $a $b)", "a != b"},
	{"a != b AND c < d OR e <= f AND g > h OR i >= j", "(OR (OR (AND (!= $a $b) (< $c $d)) (AND (<= $e $f) (> $g $h))) (>= $i $j))", ""},
	{"a OR b AND c", "(OR $a (AND $b $c))", ""},
	{"(a OR b) AND c", "(AND (OR $a $b) $c)", ""},
	{"NOT a AND b", "(AND (NOT $a) $b)", ""},
	{"NOT (a AND b)", "(NOT (AND $a $b))", ""},
	{"NOT NOT a", "(NOT (NOT $a))", ""},
	{"NOT a = b", "(NOT (= $a $b))", ""},
	{"a + 1 > b * 2", "(> (+ $a 1) (* $b 2))", ""},
	{"a = b = c", "(= (= $a $b) $c)", ""},
	{"a = (b = c)", "(= $a (= $b $c))", ""},
	{"a IN (1, 'x', b)", `(IN $a [1 "x" $b])`, `a IN (1, "x", b)`},
	{"a NOT IN (1)", "(NOT IN $a [1])", ""},
	{"a + 1 IN (2) AND b", "(AND (IN (+ $a 1) [2]) $b)", ""},
	{"a BETWEEN 1 AND 2", "(BETWEEN $a 1 2)", ""},
	{"a NOT BETWEEN b - 1 AND b + 1 AND c", "(AND (NOT BETWEEN $a (- $b 1) (+ $b 1)) $c)", ""},
	{"a BETWEEN (1 AND 2) AND 3", "(BETWEEN $a (AND 1 2) 3)", ""},
	{"a LIKE 'x%'", `(LIKE $a "x%")`, `a LIKE "x%"`},
	{"a NOT LIKE b + c", "(NOT LIKE $a (+ $b $c))", ""},
	{"a IS NULL", "(IS NULL $a)", ""},
	{"a IS NOT NULL OR b", "(OR (IS NOT NULL $a) $b)", ""},
	{"a = 1 IS NULL", "(IS NULL (= $a 1))", ""},
	{"CASE WHEN a > 1 THEN 'x' WHEN a > 0 THEN 'y' ELSE 'z' END", `(CASE [(> $a 1) "x"] [(> $a 0) "y"] ELSE "z")`, `CASE WHEN a > 1 THEN "x" WHEN a > 0 THEN "y" ELSE "z" END`},
	{"CASE a WHEN 1 THEN 2 END", "(CASE $a [1 2])", ""},
	{"CASE WHEN a THEN CASE WHEN b THEN 1 END END + 1", "(+ (CASE [$a (CASE [$b 1])]) 1)", ""},
	{"f()", "(f())", ""},
	{"f(a, 1, g(b))", "(f() $a 1 (g() $b))", ""},
	{"count(*)", "(count() *)", ""},
	{"f(* except(a, `b c`))", "(f() * EXCEPT(a, `b c`))", "f(* EXCEPT(a, `b c`))"},
	{"f(self, self->a)", "(f() SELF (-> SELF a))", ""},
	{"ABS(-1)", "(ABS() -1)", ""},
	{"(((a)))", "$a", "a"},
	{"a /* c */ + -- c\n b", "(+ $a $b)", "a + b"},
}

func TestParseExpr(t *testing.T) {
	for _, tt := range exprTests {
		src := "SELECT " + tt.src + " FROM demo AS d"
		sel, err := ParseSelect(src)
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if got := sexpr(sel.Fields[0].Expr); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.src, got, tt.want)
		}
		canon := tt.canon
		if canon == "" {
			canon = tt.src
		}
		if got := sel.Fields[0].Expr.String(); got != canon {
			t.Errorf("%s: String() = %s, want %s", tt.src, got, canon)
		}
		// The canonical text parses back to the same tree.
		again := mustSelect(t, sel.String())
		if got := sexpr(again.Fields[0].Expr); got != tt.want {
			t.Errorf("%s: reparsed %s as %s, want %s", tt.src, sel.String(), got, tt.want)
		}
	}
}

func TestParsePositions(t *testing.T) {
	sel := mustSelect(t, "SELECT a->b,\n  x + f(y)[2] FROM demo WHERE NOT z IN (1)")
	var got []string
	for _, e := range []Expr{sel.Fields[0].Expr, sel.Fields[1].Expr, sel.Where} {
		walk(e, func(e Expr) bool {
			got = append(got, fmt.Sprintf("%s@%s", sexpr(e), e.Pos()))
			return true
		})
	}
	want := []string{
		"(-> $a b)@1:9", "$a@1:8",
		"(+ $x ([] (f() $y) 2))@2:5", "$x@2:3", "([] (f() $y) 2)@2:11", "(f() $y)@2:7", "$y@2:9", "2@2:12",
		"(NOT (IN $z [1]))@2:31", "(IN $z [1])@2:37", "$z@2:35", "1@2:41",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("positions\n got %q\nwant %q", got, want)
	}
}

func TestParseSelect(t *testing.T) {
	tests := []struct {
		src   string
		canon string
		from  string
		alias string
		names []string
	}{
		{"SELECT * FROM demo", "", "demo", "", []string{""}},
		{"select * from demo;", "SELECT * FROM demo", "demo", "", []string{""}},
		{"SELECT * EXCEPT(a, b), c FROM demo", "", "demo", "", []string{"", "c"}},
		{"SELECT demo.* FROM demo", "", "demo", "", []string{""}},
		{"SELECT d.* EXCEPT(x) FROM demo AS d", "", "demo", "d", []string{""}},
		{"SELECT temperature * 2 AS t, humidity FROM demo WHERE temperature > 50", "", "demo", "", []string{"t", "humidity"}},
		{"SELECT a, a->b, a.b, demo.c, a[0], f(x), F(x)->y, g(x)[1], self, 1, a + 1, -a, CASE WHEN a THEN 1 END FROM demo",
			"", "demo", "", []string{"a", "kuiper_field_0", "b", "c", "kuiper_field_1", "f", "kuiper_field_2", "kuiper_field_3", "self", "kuiper_field_4", "kuiper_field_5", "kuiper_field_6", "kuiper_field_7"}},
		// eKuiper's counter skips named fields and stars: only unaliased
		// expressions that are neither a column nor a call take a number.
		{"SELECT a, b->c, 1 + 1, count(*), d[0], *, \"x\" AS e, f(g)->h, CASE a WHEN 1 THEN 2 END FROM demo",
			"", "demo", "", []string{"a", "kuiper_field_0", "kuiper_field_1", "count", "kuiper_field_2", "", "e", "kuiper_field_3", "kuiper_field_4"}},
		{"SELECT 1 AS a, 2, demo.b, x->y, -1 FROM demo", "", "demo", "", []string{"a", "kuiper_field_0", "b", "kuiper_field_1", "kuiper_field_2"}},
		{"SELECT a AS `x y`, b AS `from` FROM `my stream` AS `s 1` WHERE `s 1`.a > 0", "", "my stream", "s 1", []string{"x y", "from"}},
		{"SELECT a\nFROM demo -- trailing comment\n", "SELECT a FROM demo", "demo", "", []string{"a"}},
		{"SELECT a FROM demo WHERE a ; ", "SELECT a FROM demo WHERE a", "demo", "", []string{"a"}},
	}
	for _, tt := range tests {
		sel := mustSelect(t, tt.src)
		canon := tt.canon
		if canon == "" {
			canon = tt.src
		}
		if got := sel.String(); got != canon {
			t.Errorf("%q: String() = %q, want %q", tt.src, got, canon)
		}
		if sel.From != tt.from || sel.Alias != tt.alias {
			t.Errorf("%q: From, Alias = %q, %q, want %q, %q", tt.src, sel.From, sel.Alias, tt.from, tt.alias)
		}
		var names []string
		for _, f := range sel.Fields {
			names = append(names, f.Name)
		}
		if !reflect.DeepEqual(names, tt.names) {
			t.Errorf("%q: names %q, want %q", tt.src, names, tt.names)
		}
		if sel.GroupBy != nil || sel.Window != nil || sel.Having != nil {
			t.Errorf("%q: window fields set", tt.src)
		}
	}
}

func TestParseStarFields(t *testing.T) {
	sel := mustSelect(t, "SELECT d.* EXCEPT(x, `y z`) FROM demo AS d")
	want := &Star{Stream: "d", Except: []string{"x", "y z"}}
	got := sel.Fields[0].Expr.(*Star)
	got.node = node{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

func TestParseCreateStream(t *testing.T) {
	tests := []struct {
		src   string
		want  CreateStream
		canon string
	}{
		{
			src: `CREATE STREAM demo (temperature FLOAT, humidity BIGINT) WITH (DATASOURCE="sensors/+/data", TYPE="mqtt", FORMAT="JSON", CONF_KEY="default")`,
			want: CreateStream{Name: "demo",
				Schema:  schema.Schema{{Name: "temperature", Type: schema.Type{Kind: schema.Float}}, {Name: "humidity", Type: schema.Type{Kind: schema.Bigint}}},
				Options: map[string]string{"DATASOURCE": "sensors/+/data", "TYPE": "mqtt", "FORMAT": "JSON", "CONF_KEY": "default"}},
			canon: `CREATE STREAM demo (temperature FLOAT, humidity BIGINT) WITH (CONF_KEY="default", DATASOURCE="sensors/+/data", FORMAT="JSON", TYPE="mqtt")`,
		},
		{
			src:   `create stream demo () with (datasource='x', Format = "binary");`,
			want:  CreateStream{Name: "demo", Options: map[string]string{"DATASOURCE": "x", "FORMAT": "binary"}},
			canon: `CREATE STREAM demo () WITH (DATASOURCE="x", FORMAT="binary")`,
		},
		{
			src:   "CREATE STREAM s ()",
			want:  CreateStream{Name: "s", Options: map[string]string{}},
			canon: "CREATE STREAM s ()",
		},
		{
			src: "CREATE STREAM `my s` (a string, b datetime, c boolean, d bytea, `e f` Array(bigint), g STRUCT(x FLOAT, y ARRAY(STRUCT(z STRING))), `end` BIGINT, select BIGINT) WITH (KEY=\"a\\\"b\", SHARED='true')",
			want: CreateStream{Name: "my s", Schema: schema.Schema{
				{Name: "a", Type: schema.Type{Kind: schema.String}},
				{Name: "b", Type: schema.Type{Kind: schema.Datetime}},
				{Name: "c", Type: schema.Type{Kind: schema.Boolean}},
				{Name: "d", Type: schema.Type{Kind: schema.Bytea}},
				{Name: "e f", Type: schema.Type{Kind: schema.Array, Elem: &schema.Type{Kind: schema.Bigint}}},
				{Name: "g", Type: schema.Type{Kind: schema.Struct, Fields: []schema.Field{
					{Name: "x", Type: schema.Type{Kind: schema.Float}},
					{Name: "y", Type: schema.Type{Kind: schema.Array, Elem: &schema.Type{Kind: schema.Struct, Fields: []schema.Field{
						{Name: "z", Type: schema.Type{Kind: schema.String}}}}}},
				}}},
				{Name: "end", Type: schema.Type{Kind: schema.Bigint}},
				{Name: "select", Type: schema.Type{Kind: schema.Bigint}},
			}, Options: map[string]string{"KEY": `a"b`, "SHARED": "true"}},
			canon: "CREATE STREAM `my s` (a STRING, b DATETIME, c BOOLEAN, d BYTEA, `e f` ARRAY(BIGINT), g STRUCT(x FLOAT, y ARRAY(STRUCT(z STRING))), `end` BIGINT, `select` BIGINT) WITH (KEY=\"a\\\"b\", SHARED=\"true\")",
		},
	}
	for _, tt := range tests {
		cs, err := ParseCreateStream(tt.src)
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		if !reflect.DeepEqual(*cs, tt.want) {
			t.Errorf("%q:\n got %#v\nwant %#v", tt.src, *cs, tt.want)
		}
		if got := cs.String(); got != tt.canon {
			t.Errorf("%q: String()\n got %s\nwant %s", tt.src, got, tt.canon)
		}
		again, err := ParseCreateStream(cs.String())
		if err != nil || !reflect.DeepEqual(again, cs) {
			t.Errorf("%q: round trip gave %#v, %v", tt.src, again, err)
		}
		if st, err := Parse(tt.src); err != nil || !reflect.DeepEqual(st, cs) {
			t.Errorf("%q: Parse gave %#v, %v", tt.src, st, err)
		}
	}
}

// parseErrorTests are bad statements and the exact errors they give.
var parseErrorTests = []struct {
	src, err string
}{
	{"", `1:1: expected SELECT or CREATE STREAM, got end of input`},
	{"UPDATE demo", `1:1: expected SELECT or CREATE STREAM, got "UPDATE"`},
	{"SELECT", `1:7: unexpected end of input`},
	{"SELECT a", `1:9: expected FROM, got end of input`},
	{"SELECT a b FROM demo", `1:10: expected FROM, got "b"`},
	{"SELECT a, FROM demo", `1:11: unexpected "FROM"`},
	{"SELECT a FROM", `1:14: expected stream name, got end of input`},
	{"SELECT a FROM 'demo'", `1:15: expected stream name, got string "demo"`},
	{"SELECT a FROM demo AS", `1:22: expected alias, got end of input`},
	{"SELECT a FROM demo d", `1:20: unexpected "d"`},
	{"SELECT a FROM demo WHERE", `1:25: unexpected end of input`},
	// Joins.
	{"SELECT a FROM demo JOIN", `1:24: expected stream name, got end of input`},
	{"SELECT a FROM demo INNER demo1 ON x", `1:26: expected JOIN, got "demo1"`},
	{"SELECT a FROM demo LEFT OUTER demo1 ON x", `1:31: expected JOIN, got "demo1"`},
	{"SELECT a FROM demo CROSS OUTER JOIN t", `1:26: expected JOIN, got "OUTER"`},
	{"SELECT a FROM demo INNER OUTER JOIN t ON x", `1:26: expected JOIN, got "OUTER"`},
	{"SELECT a FROM demo JOIN t", `1:26: expected ON, got end of input`},
	{"SELECT a FROM demo LEFT JOIN t WHERE a", `1:32: expected ON, got "WHERE"`},
	{"SELECT a FROM demo JOIN t ON", `1:29: unexpected end of input`},
	{"SELECT a FROM demo JOIN t AS ON x", `1:33: expected ON, got "x"`},
	{"SELECT a FROM demo CROSS JOIN t ON a = b", `1:33: CROSS JOIN takes no ON; write INNER JOIN for a join condition`},
	{"SELECT a FROM demo JOIN demo ON a", `1:25: duplicate stream "demo" in FROM, want an alias with AS`},
	{"SELECT a FROM demo AS d JOIN t AS d ON a", `1:35: duplicate alias "d" in FROM, want a distinct one`},
	{"SELECT a FROM s AS t JOIN t ON a", `1:27: duplicate stream "t" in FROM, want an alias with AS`},
	{"SELECT a FROM demo AS d JOIN b ON x WHERE y JOIN c ON z", `1:45: unexpected "JOIN"`},
	{"SELECT x.* FROM demo JOIN t ON a", `1:8: unknown stream "x"`},
	// GROUP BY, HAVING, ORDER BY, LIMIT.
	{"SELECT a FROM demo GROUP a", `1:26: expected BY, got "a"`},
	{"SELECT a FROM demo GROUP BY", `1:28: unexpected end of input`},
	{"SELECT a FROM demo GROUP BY a,", `1:31: unexpected end of input`},
	{"SELECT a FROM demo GROUP BY a b", `1:31: unexpected "b"`},
	{"SELECT a FROM demo HAVING", `1:26: unexpected end of input`},
	{"SELECT a FROM demo HAVING a WHERE b", `1:29: unexpected "WHERE"`},
	{"SELECT a FROM demo ORDER a", `1:26: expected BY, got "a"`},
	{"SELECT a FROM demo ORDER BY a DESC b", `1:36: unexpected "b"`},
	{"SELECT a FROM demo ORDER BY a ASC DESC", `1:35: unexpected "DESC"`},
	{"SELECT a FROM demo ORDER BY a GROUP BY b", `1:31: unexpected "GROUP"`},
	{"SELECT a FROM demo LIMIT", `1:25: unexpected end of input`},
	{"SELECT a FROM demo LIMIT -1", `1:26: LIMIT: want a non-negative integer, got "-1"`},
	{"SELECT a FROM demo LIMIT 1.5", `1:26: LIMIT: want a non-negative integer, got "1.5"`},
	{"SELECT a FROM demo LIMIT '5'", `1:26: LIMIT: want a non-negative integer, got string "5"`},
	{"SELECT a FROM demo LIMIT n", `1:26: LIMIT: want a non-negative integer, got "n"`},
	{"SELECT a FROM demo LIMIT 1 + 1", `1:26: LIMIT: want a non-negative integer, got "1 + 1"`},
	{"SELECT a FROM demo LIMIT 99999999999999999999", `1:26: integer 99999999999999999999 out of range`},
	{"SELECT a FROM demo LIMIT 1 WHERE a", `1:28: unexpected "WHERE"`},
	{"SELECT a FROM demo LIMIT 1, 2", `1:27: unexpected ","`},
	// Windows.
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 10, 5)", `1:52: TUMBLINGWINDOW: want 2 arguments (unit, length), got 3`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss)", `1:46: TUMBLINGWINDOW: want 2 arguments (unit, length), got 1`},
	{"SELECT a FROM demo GROUP BY tumblingwindow()", `1:44: TUMBLINGWINDOW: want 2 arguments (unit, length), got 0`},
	{"SELECT a FROM demo GROUP BY HOPPINGWINDOW(ss, 10)", `1:49: HOPPINGWINDOW: want 3 arguments (unit, length, hop), got 2`},
	{"SELECT a FROM demo GROUP BY color, ab, HOPPINGWINDOW(sec, 10, 5)", `1:54: HOPPINGWINDOW: unknown time unit "sec", want ms, ss, mi, hh or dd`},
	{"SELECT a FROM demo GROUP BY SLIDINGWINDOW(ss, 10, 1, 2)", `1:54: SLIDINGWINDOW: want 2 or 3 arguments (unit, length[, delay]), got 4`},
	{"SELECT a FROM demo GROUP BY SLIDINGWINDOW(ss)", `1:45: SLIDINGWINDOW: want 2 or 3 arguments (unit, length[, delay]), got 1`},
	{"SELECT a FROM demo GROUP BY SESSIONWINDOW(mi, 2)", `1:48: SESSIONWINDOW: want 3 arguments (unit, maxDuration, timeout), got 2`},
	{"SELECT a FROM demo GROUP BY COUNTWINDOW()", `1:41: COUNTWINDOW: want 1 or 2 arguments (n[, hop]), got 0`},
	{"SELECT a FROM demo GROUP BY COUNTWINDOW(5, 2, 1)", `1:47: COUNTWINDOW: want 1 or 2 arguments (n[, hop]), got 3`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW('ss', 10)", `1:44: TUMBLINGWINDOW: argument 1 (unit): want a time unit (ms, ss, mi, hh or dd), got string "ss"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(`ss`, 10)", "1:44: TUMBLINGWINDOW: argument 1 (unit): want a time unit (ms, ss, mi, hh or dd), got \"`ss`\""},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(10, ss)", `1:44: TUMBLINGWINDOW: argument 1 (unit): want a time unit (ms, ss, mi, hh or dd), got "10"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(s.s, 10)", `1:44: TUMBLINGWINDOW: argument 1 (unit): want a time unit (ms, ss, mi, hh or dd), got "s.s"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(SEC, 10)", `1:44: TUMBLINGWINDOW: unknown time unit "SEC", want ms, ss, mi, hh or dd`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 0)", `1:48: TUMBLINGWINDOW: argument 2 (length): want a positive integer, got "0"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, -5)", `1:48: TUMBLINGWINDOW: argument 2 (length): want a positive integer, got "-5"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 1.5)", `1:48: TUMBLINGWINDOW: argument 2 (length): want a positive integer, got "1.5"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, '10')", `1:48: TUMBLINGWINDOW: argument 2 (length): want a positive integer, got string "10"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, a + 1)", `1:48: TUMBLINGWINDOW: argument 2 (length): want a positive integer, got "a + 1"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, (-10))", `1:48: TUMBLINGWINDOW: argument 2 (length): want a positive integer, got "-10"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 99999999999999999999)", `1:48: integer 99999999999999999999 out of range`},
	{"SELECT a FROM demo GROUP BY HOPPINGWINDOW(ss, 10, 0)", `1:51: HOPPINGWINDOW: argument 3 (hop): want a positive integer, got "0"`},
	{"SELECT a FROM demo GROUP BY SLIDINGWINDOW(ss, 10, -1)", `1:51: SLIDINGWINDOW: argument 3 (delay): want a positive integer, got "-1"`},
	{"SELECT a FROM demo GROUP BY SESSIONWINDOW(ss, 10, x)", `1:51: SESSIONWINDOW: argument 3 (timeout): want a positive integer, got "x"`},
	{"SELECT a FROM demo GROUP BY COUNTWINDOW(ss, 5)", `1:41: COUNTWINDOW: argument 1 (n): want a positive integer, got "ss"`},
	{"SELECT a FROM demo GROUP BY COUNTWINDOW(0)", `1:41: COUNTWINDOW: argument 1 (n): want a positive integer, got "0"`},
	{"SELECT a FROM demo GROUP BY COUNTWINDOW(5, 0)", `1:44: COUNTWINDOW: argument 2 (hop): want a positive integer, got "0"`},
	{"SELECT a FROM demo GROUP BY COUNTWINDOW(5, 7)", `1:44: COUNTWINDOW: argument 2 (hop): want at most 5 (n), got "7"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 10", `1:50: expected "," or ")", got end of input`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss 10)", `1:47: expected "," or ")", got "10"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, )", `1:48: unexpected ")"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 10) OVER (WHEN a)", `1:52: TUMBLINGWINDOW: OVER (WHEN ...) is for SLIDINGWINDOW only`},
	{"SELECT a FROM demo GROUP BY COUNTWINDOW(5) FILTER (WHERE a) OVER (WHEN b)", `1:61: COUNTWINDOW: OVER (WHEN ...) is for SLIDINGWINDOW only`},
	{"SELECT a FROM demo GROUP BY SLIDINGWINDOW(ss, 10) OVER (WHEN a) FILTER (WHERE b)", `1:65: SLIDINGWINDOW: FILTER after OVER, want FILTER (WHERE ...) before OVER (WHEN ...)`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 10) FILTER WHERE a", `1:59: expected "(", got "WHERE"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 10) FILTER (a)", `1:60: expected WHERE, got "a"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 10) FILTER (WHERE a", `1:67: expected ")", got end of input`},
	{"SELECT a FROM demo GROUP BY SLIDINGWINDOW(ss, 10) OVER (WHERE a)", `1:57: expected WHEN, got "WHERE"`},
	{"SELECT a FROM demo GROUP BY SLIDINGWINDOW(ss, 10) OVER (WHEN a) OVER (WHEN b)", `1:65: unexpected "OVER"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 10) + 1", `1:52: unexpected "+"`},
	{"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 10), a, countWindow(5)", `1:56: COUNTWINDOW: GROUP BY already has a window (TUMBLINGWINDOW at 1:29), want one at most`},
	{"SELECT a FROM demo GROUP BY STATEWINDOW(a > 1)", `1:29: STATEWINDOW is not supported, want TUMBLINGWINDOW, HOPPINGWINDOW, SLIDINGWINDOW, SESSIONWINDOW or COUNTWINDOW`},
	{"SELECT statewindow(a) FROM demo", `1:8: STATEWINDOW is not supported, want TUMBLINGWINDOW, HOPPINGWINDOW, SLIDINGWINDOW, SESSIONWINDOW or COUNTWINDOW`},
	{"SELECT TUMBLINGWINDOW(ss, 10) FROM demo", `1:8: TUMBLINGWINDOW: window call in SELECT, want it as a GROUP BY item`},
	{"SELECT a FROM demo WHERE countwindow(5) > 1", `1:26: COUNTWINDOW: window call in WHERE, want it as a GROUP BY item`},
	{"SELECT a FROM demo JOIN t ON SlidingWindow(ss, 1)", `1:30: SLIDINGWINDOW: window call in ON, want it as a GROUP BY item`},
	{"SELECT a FROM demo GROUP BY a + TUMBLINGWINDOW(ss, 1)", `1:33: TUMBLINGWINDOW: window call in a GROUP BY expression, want it as a GROUP BY item`},
	{"SELECT a FROM demo GROUP BY (TUMBLINGWINDOW(ss, 1))", `1:30: TUMBLINGWINDOW: window call in a GROUP BY expression, want it as a GROUP BY item`},
	{"SELECT a FROM demo GROUP BY COUNTWINDOW(COUNTWINDOW(1))", `1:41: COUNTWINDOW: window call in a window argument, want it as a GROUP BY item`},
	{"SELECT a FROM demo GROUP BY COUNTWINDOW(5) FILTER (WHERE countwindow(1))", `1:58: COUNTWINDOW: window call in FILTER, want it as a GROUP BY item`},
	{"SELECT a FROM demo GROUP BY SLIDINGWINDOW(ss, 1) OVER (WHEN f(HOPPINGWINDOW(ss, 2, 1)))", `1:63: HOPPINGWINDOW: window call in OVER, want it as a GROUP BY item`},
	{"SELECT a FROM demo GROUP BY COUNTWINDOW(5) HAVING sessionwindow(ss, 1, 1)", `1:51: SESSIONWINDOW: window call in HAVING, want it as a GROUP BY item`},
	{"SELECT a FROM demo ORDER BY COUNTWINDOW(5)", `1:29: COUNTWINDOW: window call in ORDER BY, want it as a GROUP BY item`},
	{"SELECT a FROM demo LIMIT COUNTWINDOW(5)", `1:26: COUNTWINDOW: window call in LIMIT, want it as a GROUP BY item`},
	{"SELECT a\nFROM demo\nGROUP BY a,\n  TUMBLINGWINDOW(ss, 10, 1)", `4:26: TUMBLINGWINDOW: want 2 arguments (unit, length), got 3`},
	{"SELECT a FROM demo WHERE a JOIN b", `1:28: unexpected "JOIN"`},
	{"SELECT a FROM demo; x", `1:21: unexpected "x"`},
	{"SELECT f(a FROM demo", `1:12: expected "," or ")", got "FROM"`},
	{"SELECT (a FROM demo", `1:11: expected ")", got "FROM"`},
	{"SELECT a) FROM demo", `1:9: expected FROM, got ")"`},
	{"SELECT a FROM demo WHERE (a = 1))", `1:33: unexpected ")"`},
	{"SELECT a + FROM demo", `1:12: unexpected "FROM"`},
	{"SELECT * AS x FROM demo", `1:10: expected FROM, got "AS"`},
	{"SELECT * EXCEPT a FROM demo", `1:17: expected "(", got "a"`},
	{"SELECT * EXCEPT() FROM demo", `1:17: expected column name, got ")"`},
	{"SELECT x.* FROM demo", `1:8: unknown stream "x"`},
	{"SELECT a.* FROM demo AS d", `1:8: unknown stream "a"`},
	{"SELECT a->1 FROM demo", `1:11: expected field name, got "1"`},
	{"SELECT a[1 FROM demo", `1:12: expected "]", got "FROM"`},
	{"SELECT a IN 1 FROM demo", `1:13: expected "(", got "1"`},
	{"SELECT a IN () FROM demo", `1:14: unexpected ")"`},
	{"SELECT a NOT 1 FROM demo", `1:14: expected IN, BETWEEN or LIKE, got "1"`},
	{"SELECT a BETWEEN 1 FROM demo", `1:20: expected AND, got "FROM"`},
	{"SELECT a IS 1 FROM demo", `1:13: expected NULL, got "1"`},
	{"SELECT a = NOT b FROM demo", `1:12: unexpected "NOT"`},
	{"SELECT CASE END FROM demo", `1:13: unexpected "END"`},
	{"SELECT CASE WHEN a 1 END FROM demo", `1:20: expected THEN, got "1"`},
	{"SELECT CASE a ELSE 1 END FROM demo", `1:15: expected WHEN, got "ELSE"`},
	{"SELECT CASE WHEN a THEN 1 FROM demo", `1:27: expected END, got "FROM"`},
	{"SELECT * + 1 FROM demo", `1:10: expected FROM, got "+"`},
	{"SELECT 1 + * FROM demo", `1:12: unexpected "*"`},
	{"SELECT 'abc FROM demo", `1:8: unterminated string literal`},
	{"SELECT a FROM demo WHERE b = \"x", `1:30: unterminated string literal`},
	{"SELECT `a FROM demo", `1:8: unterminated quoted identifier`},
	{"SELECT a # b FROM demo", `1:10: unexpected character '#'`},
	{"SELECT a /* FROM demo", `1:10: unterminated comment`},
	{"SELECT 1e+ FROM demo", `1:8: malformed number "1e+"`},
	{"SELECT 99999999999999999999 FROM demo", `1:8: integer 99999999999999999999 out of range`},
	{"SELECT -9223372036854775809 FROM demo", `1:8: integer -9223372036854775809 out of range`},
	{"SELECT 1e999 FROM demo", `1:8: number 1e999 out of range`},
	{"SELECT a\nFROM demo\nWHERE )", `3:7: unexpected ")"`},
	{"SELECT " + strings.Repeat("(", 600) + "1" + strings.Repeat(")", 600) + " FROM demo", `1:508: expression nested too deeply`},
	{"SELECT " + strings.Repeat("- ", 600) + "a FROM demo", `1:1006: expression nested too deeply`},
	{"SELECT " + strings.Repeat("NOT ", 600) + "a FROM demo", `1:2004: expression nested too deeply`},
	{"CREATE STREAM demo (a " + strings.Repeat("ARRAY(", 40) + "BIGINT" + strings.Repeat(")", 40) + ")", `1:215: column type nested too deeply: ARRAY and STRUCT nest at most 32 deep`},
	{"CREATE STREAM demo (a " + strings.Repeat("STRUCT(b ", 40) + "BIGINT" + strings.Repeat(")", 41), `1:311: column type nested too deeply: ARRAY and STRUCT nest at most 32 deep`},
	{"SELECT a FROM demo WHERE a = '" + strings.Repeat("x", 1<<20) + "'", `1:1: the statement is 1048607 bytes, longer than the limit of 1048576`},
	{"CREATE", `1:7: expected STREAM, got end of input`},
	{"CREATE TABLE t ()", `1:8: expected STREAM, got "TABLE"`},
	{"CREATE STREAM", `1:14: expected stream name, got end of input`},
	{"CREATE STREAM demo", `1:19: expected "(", got end of input`},
	{"CREATE STREAM demo (a)", `1:22: expected column type, got ")"`},
	{"CREATE STREAM demo (a BIGINT b FLOAT)", `1:30: expected "," or ")", got "b"`},
	{"CREATE STREAM demo (\n  a BIGINT,\n  b INTEGR\n)", `3:5: unknown type "INTEGR"`},
	{"CREATE STREAM demo (a ANY)", `1:23: unknown type "ANY"`},
	{"CREATE STREAM demo (a ARRAY)", `1:28: expected "(", got ")"`},
	{"CREATE STREAM demo (a ARRAY(BIGINT, FLOAT))", `1:35: expected ")", got ","`},
	{"CREATE STREAM demo (a STRUCT())", `1:30: expected column name, got ")"`},
	{"CREATE STREAM demo (a BIGINT, b FLOAT, a STRING)", `1:40: duplicate column "a"`},
	{"CREATE STREAM demo (s STRUCT(x BIGINT, x BIGINT))", `1:40: duplicate column "x"`},
	{"CREATE STREAM demo (a 'BIGINT')", `1:23: expected column type, got string "BIGINT"`},
	{"CREATE STREAM demo () WITH", `1:27: expected "(", got end of input`},
	{"CREATE STREAM demo () WITH ()", `1:29: expected option name, got ")"`},
	{"CREATE STREAM demo () WITH (TYPE)", `1:33: expected "=", got ")"`},
	{"CREATE STREAM demo () WITH (TYPE=mqtt)", `1:34: expected string, got "mqtt"`},
	{"CREATE STREAM demo () WITH (TYPE=\"a\", type=\"b\")", `1:39: duplicate option "TYPE"`},
	{"CREATE STREAM demo () WITH (TYPE=\"a\" FORMAT=\"b\")", `1:38: expected "," or ")", got "FORMAT"`},
	{"CREATE STREAM demo () extra", `1:23: unexpected "extra"`},
	{"CREATE STREAM demo (a BIGINT) WITH (TYPE=\"x);", `1:42: unterminated string literal`},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range parseErrorTests {
		_, err := Parse(tt.src)
		if err == nil {
			t.Errorf("%q: no error, want %s", tt.src, tt.err)
			continue
		}
		if err.Error() != tt.err {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, err, tt.err)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: error is %T, want *Error", tt.src, err)
		}
	}
}

func TestParseWrongStatement(t *testing.T) {
	if _, err := ParseSelect("CREATE STREAM s ()"); err == nil || err.Error() != `1:1: expected SELECT, got "CREATE"` {
		t.Errorf("ParseSelect(CREATE): %v", err)
	}
	if _, err := ParseCreateStream("SELECT a FROM s"); err == nil || err.Error() != `1:1: expected CREATE STREAM, got "SELECT"` {
		t.Errorf("ParseCreateStream(SELECT): %v", err)
	}
	if st, err := Parse("SELECT a FROM s"); err != nil {
		t.Errorf("Parse(SELECT): %v", err)
	} else if _, ok := st.(*Select); !ok {
		t.Errorf("Parse(SELECT) = %T", st)
	}
}

// The printer parenthesises hand-built trees that the parser would not
// produce in that shape.
func TestStringHandBuilt(t *testing.T) {
	lit := func(v any) Expr { return &Literal{Value: v} }
	ref := func(n string) Expr { return &FieldRef{Name: n} }
	tests := []struct {
		e    Expr
		want string
	}{
		{&Index{X: lit(int64(-5)), Index: lit(int64(0))}, "(-5)[0]"},
		{&Unary{Op: OpNeg, X: lit(int64(0))}, "-(0)"},
		{&Unary{Op: OpNeg, X: lit(0.5)}, "-(0.5)"},
		{&Unary{Op: OpNeg, X: &Unary{Op: OpNeg, X: ref("a")}}, "-(-a)"},
		{&Binary{Op: OpEq, L: ref("a"), R: &Unary{Op: OpNot, X: ref("b")}}, "a = (NOT b)"},
		{&Binary{Op: OpMul, L: &Binary{Op: OpAdd, L: ref("a"), R: ref("b")}, R: ref("c")}, "(a + b) * c"},
		{&Member{X: &Binary{Op: OpAdd, L: ref("a"), R: ref("b")}, Name: "c", Arrow: true}, "(a + b)->c"},
		{&Between{X: ref("a"), Lo: &Binary{Op: OpAnd, L: ref("b"), R: ref("c")}, Hi: ref("d")}, "a BETWEEN (b AND c) AND d"},
		{&Like{X: &Unary{Op: OpNot, X: ref("a")}, Pattern: lit("x")}, `(NOT a) LIKE "x"`},
		{&FieldRef{Stream: "my s", Name: "a b"}, "`my s`.`a b`"},
		{lit(2.0), "2.0"},
		{lit(1e21), "1e+21"},
		{lit("a\\b\n\"c\x00"), `"a\\b\n\"c\0"`},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("String() = %s, want %s", got, tt.want)
		}
	}
}

// clauseShape renders what follows FROM's stream: joins, window, GROUP BY,
// HAVING, ORDER BY and LIMIT, without positions, parts that are absent
// left out.
func clauseShape(s *Select) string {
	var parts []string
	for _, j := range s.Joins {
		p := fmt.Sprintf("%s JOIN %s", j.Kind, j.Stream)
		if j.Alias != "" {
			p += " AS " + j.Alias
		}
		if j.On != nil {
			p += " ON " + sexpr(j.On)
		}
		parts = append(parts, p)
	}
	if w := s.Window; w != nil {
		p := fmt.Sprintf("%s{%q %d %d}", w.Kind, w.Unit, w.Length, w.Interval)
		if w.Filter != nil {
			p += " FILTER " + sexpr(w.Filter)
		}
		if w.Trigger != nil {
			p += " OVER " + sexpr(w.Trigger)
		}
		parts = append(parts, p)
	}
	if s.GroupBy != nil {
		var items []string
		for _, e := range s.GroupBy {
			items = append(items, sexpr(e))
		}
		parts = append(parts, "GROUP ["+strings.Join(items, " ")+"]")
	}
	if s.Having != nil {
		parts = append(parts, "HAVING "+sexpr(s.Having))
	}
	if s.OrderBy != nil {
		var items []string
		for _, o := range s.OrderBy {
			d := " ASC"
			if o.Desc {
				d = " DESC"
			}
			items = append(items, sexpr(o.Expr)+d)
		}
		parts = append(parts, "ORDER ["+strings.Join(items, ", ")+"]")
	}
	if s.Limit != -1 {
		parts = append(parts, fmt.Sprintf("LIMIT %d", s.Limit))
	}
	return strings.Join(parts, "; ")
}

// clauseTests are SELECTs with joins, windows and the clauses after WHERE:
// want is clauseShape of the tree, canon the canonical text ("" when the
// same as src). Most come from eKuiper's documentation and tests.
var clauseTests = []struct {
	src, want, canon string
}{
	// Windows.
	{"SELECT * FROM demo GROUP BY TUMBLINGWINDOW(ss, 10)", `TUMBLINGWINDOW{"ss" 10 0}`, ""},
	{"SELECT color, ts FROM demo where size > 2 GROUP BY tumblingwindow(ss, 1)", `TUMBLINGWINDOW{"ss" 1 0}`,
		"SELECT color, ts FROM demo WHERE size > 2 GROUP BY TUMBLINGWINDOW(ss, 1)"},
	{"SELECT *, event_time() as et FROM demo GROUP BY HOPPINGWINDOW(ss, 2, 1)", `HOPPINGWINDOW{"ss" 2 1}`,
		"SELECT *, event_time() AS et FROM demo GROUP BY HOPPINGWINDOW(ss, 2, 1)"},
	{"SELECT color, window_start(), window_end() FROM demo GROUP BY HOPPINGWINDOW(ss, 2, 1) FILTER( WHERE size > 2)",
		`HOPPINGWINDOW{"ss" 2 1} FILTER (> $size 2)`,
		"SELECT color, window_start(), window_end() FROM demo GROUP BY HOPPINGWINDOW(ss, 2, 1) FILTER (WHERE size > 2)"},
	{"SELECT color, count(*) as c FROM demo GROUP BY SlidingWindow(ss, 2) OVER(WHEN ts - last_hit_time() > 1000), color ORDER BY color",
		`SLIDINGWINDOW{"ss" 2 0} OVER (> (- $ts (last_hit_time())) 1000); GROUP [$color]; ORDER [$color ASC]`,
		"SELECT color, count(*) AS c FROM demo GROUP BY SLIDINGWINDOW(ss, 2) OVER (WHEN ts - last_hit_time() > 1000), color ORDER BY color"},
	{"SELECT size,color FROM demo GROUP BY SlidingWindow(ss, 5, 1) Over (when size = 2)", `SLIDINGWINDOW{"ss" 5 1} OVER (= $size 2)`,
		"SELECT size, color FROM demo GROUP BY SLIDINGWINDOW(ss, 5, 1) OVER (WHEN size = 2)"},
	{"SELECT a FROM demo GROUP BY SLIDINGWINDOW(MS, 500, 100) FILTER (WHERE a > 0) OVER (WHEN b)", `SLIDINGWINDOW{"ms" 500 100} FILTER (> $a 0) OVER $b`,
		"SELECT a FROM demo GROUP BY SLIDINGWINDOW(ms, 500, 100) FILTER (WHERE a > 0) OVER (WHEN b)"},
	{"SELECT count(temp) FROM sessionDemo GROUP BY SessionWindow(Mi, 2, 1)", `SESSIONWINDOW{"mi" 2 1}`,
		"SELECT count(temp) FROM sessionDemo GROUP BY SESSIONWINDOW(mi, 2, 1)"},
	{"SELECT * FROM demo GROUP BY TUMBLINGWINDOW(hh, 1), TUMBLINGWINDOW_x", `TUMBLINGWINDOW{"hh" 1 0}; GROUP [$TUMBLINGWINDOW_x]`, ""},
	{"SELECT * FROM demo GROUP BY TUMBLINGWINDOW(DD, (7))", `TUMBLINGWINDOW{"dd" 7 0}`, "SELECT * FROM demo GROUP BY TUMBLINGWINDOW(dd, 7)"},
	{"SELECT collect(*)[0]->color as c FROM demo GROUP BY COUNTWINDOW(3)", `COUNTWINDOW{"" 3 3}`,
		"SELECT collect(*)[0]->color AS c FROM demo GROUP BY COUNTWINDOW(3)"},
	{"SELECT * FROM demo GROUP BY COUNTWINDOW(5, 2)", `COUNTWINDOW{"" 5 2}`, ""},
	{"SELECT * FROM demo GROUP BY COUNTWINDOW(5, 5)", `COUNTWINDOW{"" 5 5}`, "SELECT * FROM demo GROUP BY COUNTWINDOW(5)"},
	{"SELECT * FROM demo GROUP BY COUNTWINDOW(5) FILTER (WHERE a IS NOT NULL)", `COUNTWINDOW{"" 5 5} FILTER (IS NOT NULL $a)`, ""},
	// Windows among other GROUP BY items; the window prints first.
	{"SELECT ID, count(*) FROM demo GROUP BY ID, TUMBLINGWINDOW(ss,10)", `TUMBLINGWINDOW{"ss" 10 0}; GROUP [$ID]`,
		"SELECT ID, count(*) FROM demo GROUP BY TUMBLINGWINDOW(ss, 10), ID"},
	{"SELECT a FROM demo GROUP BY a->b, c + 1, TUMBLINGWINDOW(ss, 10) FILTER (WHERE x), lower(d)",
		`TUMBLINGWINDOW{"ss" 10 0} FILTER $x; GROUP [(-> $a b) (+ $c 1) (lower() $d)]`,
		"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 10) FILTER (WHERE x), a->b, c + 1, lower(d)"},
	{"SELECT a, count(*) FROM demo GROUP BY a", "GROUP [$a]", ""},
	// HAVING, ORDER BY, LIMIT.
	{"SELECT color, count(*) as c FROM demo where size > 2 GROUP BY tumblingwindow(ss, 1) having c > 1",
		`TUMBLINGWINDOW{"ss" 1 0}; HAVING (> $c 1)`,
		"SELECT color, count(*) AS c FROM demo WHERE size > 2 GROUP BY TUMBLINGWINDOW(ss, 1) HAVING c > 1"},
	{"SELECT count(*) FROM demo HAVING count(*) > 1", "HAVING (> (count() *) 1)", ""},
	{"SELECT a FROM demo ORDER BY a ASC, b DESC, c", "ORDER [$a ASC, $b DESC, $c ASC]", "SELECT a FROM demo ORDER BY a, b DESC, c"},
	{"SELECT a FROM demo ORDER BY a + 1 desc, f(b)->c", "ORDER [(+ $a 1) DESC, (-> (f() $b) c) ASC]", "SELECT a FROM demo ORDER BY a + 1 DESC, f(b)->c"},
	{"SELECT a FROM demo LIMIT 10", "LIMIT 10", ""},
	{"SELECT a FROM demo LIMIT 0", "LIMIT 0", ""},
	{"SELECT a FROM demo LIMIT (3)", "LIMIT 3", "SELECT a FROM demo LIMIT 3"},
	{"SELECT a, count(*) AS n FROM demo WHERE a > 0 GROUP BY a, COUNTWINDOW(10) HAVING n > 1 ORDER BY n DESC LIMIT 3;",
		`COUNTWINDOW{"" 10 10}; GROUP [$a]; HAVING (> $n 1); ORDER [$n DESC]; LIMIT 3`,
		"SELECT a, count(*) AS n FROM demo WHERE a > 0 GROUP BY COUNTWINDOW(10), a HAVING n > 1 ORDER BY n DESC LIMIT 3"},
	// Joins: every stream's name and alias qualifies a column.
	{"SELECT demo.ts, demo1.temp FROM demo INNER JOIN demo1 ON demo.ts = demo1.ts GROUP BY SlidingWindow(ss,1)",
		`INNER JOIN demo1 ON (= $demo.ts $demo1.ts); SLIDINGWINDOW{"ss" 1 0}`,
		"SELECT demo.ts, demo1.temp FROM demo INNER JOIN demo1 ON demo.ts = demo1.ts GROUP BY SLIDINGWINDOW(ss, 1)"},
	{"SELECT * FROM demo JOIN t ON demo.a = t.a", "INNER JOIN t ON (= $demo.a $t.a)", "SELECT * FROM demo INNER JOIN t ON demo.a = t.a"},
	{"SELECT d.a, t.b, x.c FROM demo AS d LEFT OUTER JOIN table1 AS t ON d.id = t.id right join r ON r.k = d.k AND r.m > 1 FULL OUTER JOIN f ON TRUE CROSS JOIN c Left Join l ON l.x = c.x",
		"LEFT JOIN table1 AS t ON (= $d.id $t.id); RIGHT JOIN r ON (AND (= $r.k $d.k) (> $r.m 1)); FULL JOIN f ON TRUE; CROSS JOIN c; LEFT JOIN l ON (= $l.x $c.x)",
		"SELECT d.a, t.b, x.c FROM demo AS d LEFT JOIN table1 AS t ON d.id = t.id RIGHT JOIN r ON r.k = d.k AND r.m > 1 FULL JOIN f ON TRUE CROSS JOIN c LEFT JOIN l ON l.x = c.x"},
	{"SELECT t.* EXCEPT(k), table1.v FROM demo AS d JOIN table1 AS t ON d.k = t.k WHERE t.v > 0 AND x.y GROUP BY t.g, TUMBLINGWINDOW(ss, 10) FILTER (WHERE t.f) HAVING table1.h ORDER BY t.o LIMIT 1",
		`INNER JOIN table1 AS t ON (= $d.k $t.k); TUMBLINGWINDOW{"ss" 10 0} FILTER $t.f; GROUP [$t.g]; HAVING $table1.h; ORDER [$t.o ASC]; LIMIT 1`,
		"SELECT t.* EXCEPT(k), table1.v FROM demo AS d INNER JOIN table1 AS t ON d.k = t.k WHERE t.v > 0 AND x.y GROUP BY TUMBLINGWINDOW(ss, 10) FILTER (WHERE t.f), t.g HAVING table1.h ORDER BY t.o LIMIT 1"},
	{"SELECT a FROM s1 AS s2 JOIN s2 AS s1 ON s1.a = s2.a", "INNER JOIN s2 AS s1 ON (= $s1.a $s2.a)", "SELECT a FROM s1 AS s2 INNER JOIN s2 AS s1 ON s1.a = s2.a"},
	// The clause words stay usable as names.
	{"SELECT group, order, by, having, limit, join, inner, left, right, full, outer, cross, on, filter, over, asc, desc FROM demo",
		"", ""},
	{"SELECT a FROM limit AS left JOIN join AS on ON on.a = left.a WHERE group > 1 GROUP BY group, over HAVING having ORDER BY desc DESC, asc LIMIT 1",
		"INNER JOIN join AS on ON (= $on.a $left.a); GROUP [$group $over]; HAVING $having; ORDER [$desc DESC, $asc ASC]; LIMIT 1",
		"SELECT a FROM limit AS left INNER JOIN join AS on ON on.a = left.a WHERE group > 1 GROUP BY group, over HAVING having ORDER BY desc DESC, asc LIMIT 1"},
	{"SELECT countwindow FROM demo GROUP BY countwindow, TUMBLINGWINDOW(ss, 1) FILTER (WHERE filter), over",
		`TUMBLINGWINDOW{"ss" 1 0} FILTER $filter; GROUP [$countwindow $over]`,
		"SELECT countwindow FROM demo GROUP BY TUMBLINGWINDOW(ss, 1) FILTER (WHERE filter), countwindow, over"},
}

func TestParseClauses(t *testing.T) {
	for _, tt := range clauseTests {
		sel, err := ParseSelect(tt.src)
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if got := clauseShape(sel); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.src, got, tt.want)
		}
		canon := tt.canon
		if canon == "" {
			canon = tt.src
		}
		text := sel.String()
		if text != canon {
			t.Errorf("%s: String()\n got %s\nwant %s", tt.src, text, canon)
		}
		again, err := ParseSelect(text)
		if err != nil {
			t.Errorf("%s: reparsing %s: %v", tt.src, text, err)
			continue
		}
		if a, b := selectShape(sel), selectShape(again); a != b {
			t.Errorf("%s: round trip changed the tree:\n%s\n%s", tt.src, a, b)
		}
		if got := again.String(); got != text {
			t.Errorf("%s: String() of the reparsed tree\n got %s\nwant %s", tt.src, got, text)
		}
	}
}

func TestParseJoinQualifiers(t *testing.T) {
	sel := mustSelect(t, "SELECT d.a, demo.b, t.c, table1.d, x.e, t->f, t.* FROM demo AS d JOIN table1 AS t ON t.k = x.k WHERE t.a.b > 0")
	var got []string
	for _, f := range sel.Fields {
		got = append(got, sexpr(f.Expr)+" "+f.Name)
	}
	got = append(got, sexpr(sel.Joins[0].On), sexpr(sel.Where))
	want := []string{"$d.a a", "$demo.b b", "$t.c c", "$table1.d d", "(. $x e) e", "(-> $t f) kuiper_field_0", "t.* ",
		"(= $t.k (. $x k))", "(> (. $t.a b) 0)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

func TestParseClausePositions(t *testing.T) {
	sel := mustSelect(t, "SELECT a FROM s\n  LEFT OUTER JOIN t ON t.a = s.a\n  JOIN u ON TRUE\nGROUP BY\n  x, tumblingWindow(ss, 1) FILTER (WHERE y)\nHAVING z ORDER BY w DESC")
	got := []string{sel.Joins[0].Pos().String(), sel.Joins[1].Pos().String(), sel.Window.Pos().String(),
		sel.GroupBy[0].Pos().String(), sel.Window.Filter.Pos().String(), sel.Having.Pos().String(), sel.OrderBy[0].Expr.Pos().String()}
	want := []string{"2:3", "3:3", "5:6", "5:3", "5:42", "6:8", "6:19"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("positions\n got %q\nwant %q", got, want)
	}
}

// Hand-built windows and joins print as canonical SQL too.
func TestStringClausesHandBuilt(t *testing.T) {
	ref := func(n string) Expr { return &FieldRef{Name: n} }
	tests := []struct {
		got, want string
	}{
		{(&Window{Kind: TumblingWindow, Unit: "ss", Length: 10}).String(), "TUMBLINGWINDOW(ss, 10)"},
		{(&Window{Kind: SlidingWindow, Unit: "mi", Length: 5, Interval: 1, Filter: ref("a"), Trigger: ref("b")}).String(),
			"SLIDINGWINDOW(mi, 5, 1) FILTER (WHERE a) OVER (WHEN b)"},
		{(&Window{Kind: CountWindow, Length: 5, Interval: 5}).String(), "COUNTWINDOW(5)"},
		{(&Window{Kind: CountWindow, Length: 5, Interval: 2}).String(), "COUNTWINDOW(5, 2)"},
		{WindowKind(0).String(), "WindowKind(0)"},
		{JoinKind(9).String(), "JoinKind(9)"},
		{(&Select{Fields: []Field{{Expr: &Star{}}}, From: "s", Limit: -1,
			Joins:   []Join{{Kind: FullJoin, Stream: "t", On: ref("c")}, {Kind: CrossJoin, Stream: "my u", Alias: "u"}},
			Window:  &Window{Kind: HoppingWindow, Unit: "ss", Length: 10, Interval: 5},
			GroupBy: []Expr{ref("g")}, Having: ref("h"), OrderBy: []OrderItem{{Expr: ref("o"), Desc: true}}}).String(),
			"SELECT * FROM s FULL JOIN t ON c CROSS JOIN `my u` AS u GROUP BY HOPPINGWINDOW(ss, 10, 5), g HAVING h ORDER BY o DESC"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %s, want %s", tt.got, tt.want)
		}
	}
}

// Whatever parses within the nesting bound prints as text that parses too,
// though the printer adds a "(" to every nested negation.
func TestParseDeepRoundTrip(t *testing.T) {
	for _, expr := range []string{
		strings.Repeat("- ", 498) + "a",
		strings.Repeat("- ", 497) + "1",
		strings.Repeat("-(", 498) + "a" + strings.Repeat(")", 498),
	} {
		sel := mustSelect(t, "SELECT "+expr+" FROM demo")
		again, err := ParseSelect(sel.String())
		if err != nil {
			t.Errorf("%.20s...: String() does not parse: %v", expr, err)
			continue
		}
		if a, b := selectShape(sel), selectShape(again); a != b {
			t.Errorf("%.20s...: round trip changed the tree", expr)
		}
	}
}
