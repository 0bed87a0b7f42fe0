package sql

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

// anyFunc is the plugin behind every unknown name in the fuzz Env: it
// accepts anything and returns its first argument.
type anyFunc struct{ agg bool }

func (anyFunc) Validate([]sdk.Arg) error { return nil }
func (anyFunc) Exec(_ sdk.FunctionContext, args []any) (any, bool) {
	if len(args) == 0 {
		return nil, true
	}
	return args[0], true
}
func (f anyFunc) IsAggregate() bool { return f.agg }

var permissiveEnv = Env{
	Function: func(name string) (sdk.Function, error) { return anyFunc{agg: len(name)%2 == 0}, nil },
}

// fuzzRows are evaluated by every program the fuzzer compiles.
var fuzzRows = []map[string]any{
	nil,
	{},
	testRow(),
	{"self": []byte("payload")},
	{"a": int64(-1), "b": -0.0, "c": "", "d": []any{}, "e": map[string]any{}, "i": "7"},
}

func FuzzParse(f *testing.F) {
	for _, tt := range exprTests {
		f.Add("SELECT " + tt.src + " FROM demo AS d")
	}
	for _, tt := range evalTests {
		f.Add("SELECT " + tt.expr + " AS v FROM demo WHERE " + tt.expr)
	}
	for _, tt := range funcTests {
		f.Add("SELECT " + tt.expr + " FROM demo")
	}
	for _, tt := range parseErrorTests {
		f.Add(tt.src)
	}
	for _, tt := range clauseTests {
		f.Add(tt.src)
	}
	f.Add(`CREATE STREAM demo (a BIGINT, s STRUCT(x ARRAY(FLOAT))) WITH (DATASOURCE="t/#", TYPE='mqtt')`)
	f.Fuzz(func(t *testing.T, src string) {
		st, err := Parse(src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q): error %T is not *Error: %v", src, err, err)
			}
			return
		}
		text := st.String()
		again, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) succeeded, but its String() %q fails: %v", src, text, err)
		}
		if got := again.String(); got != text {
			t.Fatalf("round trip of %q:\n first %s\nsecond %s", src, text, got)
		}
		sel, ok := st.(*Select)
		if !ok {
			if !reflect.DeepEqual(st, again) {
				t.Fatalf("round trip of %q changed the statement:\n%#v\n%#v", src, st, again)
			}
			return
		}
		// Same tree, positions aside.
		if a, b := selectShape(sel), selectShape(again.(*Select)); a != b {
			t.Fatalf("round trip of %q changed the tree:\n%s\n%s", src, a, b)
		}
		prog, err := Compile(sel, permissiveEnv)
		prog2, err2 := Compile(again.(*Select), permissiveEnv)
		if stripPos(err) != stripPos(err2) {
			t.Fatalf("%q compiles with %v, its String() %q with %v", src, err, text, err2)
		}
		if err != nil {
			return
		}
		volatile := strings.Contains(strings.ToLower(text), "now(") || strings.Contains(strings.ToLower(text), "newuuid(")
		for _, row := range fuzzRows {
			ok, err := prog.Match(row)
			out, perr := prog.Project(row)
			ok2, err2 := prog2.Match(row)
			out2, perr2 := prog2.Project(row)
			if volatile {
				continue
			}
			a := fmt.Sprint(ok, stripPos(err), out, stripPos(perr))
			b := fmt.Sprint(ok2, stripPos(err2), out2, stripPos(perr2))
			if a != b {
				t.Fatalf("%q and its String() %q evaluate differently on %v:\n%s\n%s", src, text, row, a, b)
			}
		}
	})
}

// selectShape renders a SELECT without positions.
func selectShape(s *Select) string {
	var b strings.Builder
	for _, f := range s.Fields {
		fmt.Fprintf(&b, "%s AS %q (%q), ", sexpr(f.Expr), f.Alias, f.Name)
	}
	fmt.Fprintf(&b, "FROM %q AS %q WHERE %s; %s", s.From, s.Alias, sexpr(s.Where), clauseShape(s))
	return b.String()
}

var posPrefix = regexp.MustCompile(`^\d+:\d+: `)

// stripPos is an error's text without its position, which moves when the
// text is reformatted.
func stripPos(err error) string {
	if err == nil {
		return "<nil>"
	}
	return posPrefix.ReplaceAllString(err.Error(), "")
}
