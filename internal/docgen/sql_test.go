package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/engine/sql"
)

const sqlPage = "docs/sql.md"

// signature is a documented function: name(a, b[, c]) or name(a, ...).
type signature struct {
	name     string
	min, max int // max < 0: no limit
}

var signatureRE = regexp.MustCompile(`^([a-z_]+)\((.*)\)$`)

func parseSignature(s string) (signature, error) {
	m := signatureRE.FindStringSubmatch(s)
	if m == nil {
		return signature{}, fmt.Errorf("%q: want name(args)", s)
	}
	sig := signature{name: m[1]}
	required, optional, _ := strings.Cut(m[2], "[")
	count := func(list string) int {
		n := 0
		for a := range strings.SplitSeq(list, ",") {
			if a = strings.Trim(strings.TrimSpace(a), "]"); a != "" && a != "..." {
				n++
			}
		}
		return n
	}
	sig.min = count(required)
	sig.max = sig.min + count(optional)
	if strings.Contains(m[2], "...") {
		sig.max = -1
	}
	return sig, nil
}

// functionRows reads the function tables of docs/sql.md: each row's first
// cell is a signature.
func functionRows(t *testing.T, page string) []signature {
	t.Helper()
	var sigs []signature
	for _, tb := range tables(page) {
		if len(tb.header) == 0 || tb.header[0] != "function" {
			continue
		}
		for _, row := range tb.rows {
			sig, err := parseSignature(code(row[0]))
			if err != nil {
				t.Errorf("%s: table under %q: %v", sqlPage, tb.heading, err)
				continue
			}
			sigs = append(sigs, sig)
		}
	}
	return sigs
}

// arityError is the compiler's message for a wrong number of arguments.
var arityError = regexp.MustCompile(`want (at least |at most )?\d+ arguments?, got \d+$`)

// TestSQLFunctions checks that docs/sql.md lists every built-in function
// once, and that each accepts exactly the argument counts its signature
// shows, by compiling calls of it.
func TestSQLFunctions(t *testing.T) {
	sigs := functionRows(t, readRepo(t, sqlPage))
	var documented []string
	for _, s := range sigs {
		if slices.Contains(documented, s.name) {
			t.Errorf("%s: %s is listed twice", sqlPage, s.name)
		}
		documented = append(documented, s.name)
	}
	builtins := sql.Builtins()
	for _, name := range builtins {
		if !slices.Contains(documented, name) {
			t.Errorf("%s: built-in function %s is missing", sqlPage, name)
		}
	}
	for _, name := range documented {
		if !slices.Contains(builtins, name) {
			t.Errorf("%s: %s is not a built-in function", sqlPage, name)
		}
	}

	cs, err := sql.ParseCreateStream("CREATE STREAM demo (a FLOAT, b FLOAT, c FLOAT, d FLOAT)")
	if err != nil {
		t.Fatal(err)
	}
	env := sql.Env{Schema: cs.Schema, Stream: cs.Name}
	cols := []string{"a", "b", "c", "d"}
	for _, s := range sigs {
		limit := s.max + 1
		if s.max < 0 {
			limit = s.min + 3
		}
		for n := 0; n <= limit; n++ {
			args := make([]string, n)
			for i := range args {
				args[i] = cols[i%len(cols)]
			}
			q := fmt.Sprintf("SELECT %s(%s) AS x FROM demo GROUP BY TUMBLINGWINDOW(ss, 1)", s.name, strings.Join(args, ", "))
			sel, err := sql.ParseSelect(q)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			_, err = sql.Compile(sel, env)
			refused := err != nil && arityError.MatchString(err.Error())
			if want := n >= s.min && (s.max < 0 || n <= s.max); refused == want {
				t.Errorf("%s: %s with %d arguments: compile error %v, want it %s", sqlPage, s.name, n, err, map[bool]string{true: "accepted", false: "refused"}[want])
			}
		}
	}
}

func TestParseSignature(t *testing.T) {
	for _, tc := range []struct {
		in       string
		min, max int
	}{
		{"abs(x)", 1, 1},
		{"now()", 0, 0},
		{"round(x[, digits])", 1, 2},
		{"substring(s, start[, end])", 2, 3},
		{"concat(x, ...)", 1, -1},
	} {
		sig, err := parseSignature(tc.in)
		if err != nil || sig.min != tc.min || sig.max != tc.max {
			t.Errorf("parseSignature(%q) = %+v, %v; want %d..%d", tc.in, sig, err, tc.min, tc.max)
		}
	}
	if _, err := parseSignature("Abs x"); err == nil || err.Error() != `"Abs x": want name(args)` {
		t.Errorf("parseSignature of a bad signature: %v", err)
	}
}

// TestSQLBlocks parses every sql block of docs/sql.md, and checks that
// the windows section names every window kind.
func TestSQLBlocks(t *testing.T) {
	page := readRepo(t, sqlPage)
	blocks := 0
	for _, part := range strings.Split(page, "```sql\n")[1:] {
		stmt, _, ok := strings.Cut(part, "```")
		if !ok {
			t.Fatalf("%s: an sql block is not closed", sqlPage)
		}
		blocks++
		if _, err := sql.Parse(stmt); err != nil {
			t.Errorf("%s: %v in\n%s", sqlPage, err, stmt)
		}
	}
	if blocks < 4 {
		t.Errorf("%s: %d sql blocks, want the stream, query, window, naming and meta examples", sqlPage, blocks)
	}
	// The windows table shows each kind once, in a form that parses.
	var kinds []sql.WindowKind
	for _, tb := range tables(page) {
		if len(tb.header) == 0 || tb.header[0] != "window" {
			continue
		}
		for _, row := range tb.rows {
			form := code(row[0])
			call := strings.NewReplacer("[", "", "]", "", "unit", "ss", "length", "10", "maxDuration", "10", "timeout", "2", "delay", "1", "hop", "5", "n", "10").Replace(form)
			sel, err := sql.ParseSelect("SELECT count(*) FROM demo GROUP BY " + call)
			if err != nil {
				t.Errorf("%s: window %s (as %s): %v", sqlPage, form, call, err)
				continue
			}
			if sel.Window == nil {
				t.Errorf("%s: window %s (as %s) is not a window", sqlPage, form, call)
				continue
			}
			kinds = append(kinds, sel.Window.Kind)
		}
	}
	slices.Sort(kinds)
	if want := []sql.WindowKind{sql.TumblingWindow, sql.HoppingWindow, sql.SlidingWindow, sql.SessionWindow, sql.CountWindow}; !slices.Equal(kinds, want) {
		t.Errorf("%s: the windows table gives the kinds %v, want %v", sqlPage, kinds, want)
	}
}

// TestSQLColumnNaming compiles the naming example and compares the columns
// with the ones the page says it gives.
func TestSQLColumnNaming(t *testing.T) {
	page := readRepo(t, sqlPage)
	_, section, _ := strings.Cut(page, "\n## Column naming\n")
	_, block, _ := strings.Cut(section, "```sql\n")
	stmt, after, _ := strings.Cut(block, "```")
	claim, _, _ := strings.Cut(after, ".\n")
	var want []string
	for _, m := range codeSpan.FindAllStringSubmatch(claim, -1) {
		want = append(want, m[1])
	}
	sel, err := sql.ParseSelect(stmt)
	if err != nil {
		t.Fatalf("%s: naming example: %v", sqlPage, err)
	}
	prog, err := sql.Compile(sel, sql.Env{Stream: "demo"})
	if err != nil {
		t.Fatalf("%s: naming example: %v", sqlPage, err)
	}
	if got := prog.Columns(); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("%s: the naming example gives the columns %q; the page says %q", sqlPage, got, want)
	}
}
