package sql

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/engine/schema"
)

// groupedSelect parses a SELECT with grouped clauses. Where ParseSelect
// does not read them yet, it parses the text before the first of GROUP
// BY, HAVING, ORDER BY and LIMIT with ParseSelect and the clauses here,
// each expression at its own column, so that positions are those of the
// full text. For tests: one line, no clause keyword inside a string.
func groupedSelect(t testing.TB, src string) *Select {
	t.Helper()
	sel, err := ParseSelect(src)
	if err == nil {
		return sel
	}
	if !strings.Contains(err.Error(), "not supported yet") {
		t.Fatalf("ParseSelect(%q): %v", src, err)
	}
	locs := regexp.MustCompile(`(?i)\b(GROUP BY|HAVING|ORDER BY|LIMIT)\b`).FindAllStringIndex(src, -1)
	if len(locs) == 0 {
		t.Fatalf("ParseSelect(%q): %v", src, err)
	}
	sel = mustSelect(t, src[:locs[0][0]])
	// exprAt parses the expression at src[off:end].
	exprAt := func(off, end int) Expr {
		for off < end && src[off] == ' ' {
			off++
		}
		text := "SELECT " + strings.Repeat(" ", off-7) + src[off:end] + " FROM " + sel.From
		e, err := ParseSelect(text)
		if err != nil {
			t.Fatalf("%q: %v", src[off:end], err)
		}
		return e.Fields[0].Expr
	}
	for i, loc := range locs {
		end := len(src)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		switch body := strings.TrimSpace(src[loc[1]:end]); strings.ToUpper(src[loc[0]:loc[1]]) {
		case "GROUP BY":
			for _, item := range splitTop(src, loc[1], end) {
				if w := windowAt(t, src, item[0], item[1], exprAt); w != nil {
					sel.Window = w
				} else {
					sel.GroupBy = append(sel.GroupBy, exprAt(item[0], item[1]))
				}
			}
		case "HAVING":
			sel.Having = exprAt(loc[1], end)
		case "ORDER BY":
			for _, item := range splitTop(src, loc[1], end) {
				text := strings.TrimRight(src[item[0]:item[1]], " ")
				o := OrderItem{}
				if u := strings.ToUpper(text); strings.HasSuffix(u, " DESC") || strings.HasSuffix(u, " ASC") {
					o.Desc = strings.HasSuffix(u, " DESC")
					text = text[:strings.LastIndexByte(text, ' ')]
				}
				o.Expr = exprAt(item[0], item[0]+len(text))
				sel.OrderBy = append(sel.OrderBy, o)
			}
		case "LIMIT":
			if sel.Limit, err = strconv.ParseInt(body, 10, 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	return sel
}

// splitTop cuts src[off:end] at the commas outside parentheses.
func splitTop(src string, off, end int) [][2]int {
	var items [][2]int
	depth, start := 0, off
	for i := off; i < end; i++ {
		switch src[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				items = append(items, [2]int{start, i})
				start = i + 1
			}
		}
	}
	return append(items, [2]int{start, end})
}

// windowAt reads `KIND(args) [FILTER (WHERE cond)] [OVER (WHEN cond)]` at
// src[off:end]; nil when it is not a window.
func windowAt(t testing.TB, src string, off, end int, exprAt func(off, end int) Expr) *Window {
	t.Helper()
	text := src[off:end]
	m := regexp.MustCompile(`(?i)^(\s*)(\w+)\s*\(([^)]*)\)`).FindStringSubmatchIndex(text)
	if m == nil {
		return nil
	}
	kind, ok := windowKinds[strings.ToUpper(text[m[4]:m[5]])]
	if !ok {
		return nil
	}
	w := &Window{node: at(Pos{1, off + m[3] + 1}), Kind: kind}
	var nums []int64
	for i, a := range strings.Split(text[m[6]:m[7]], ",") {
		a = strings.TrimSpace(a)
		if i == 0 && kind != CountWindow {
			w.Unit = strings.ToLower(a)
			continue
		}
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			t.Fatalf("window %q: %v", text, err)
		}
		nums = append(nums, n)
	}
	w.Length = nums[0]
	if len(nums) > 1 {
		w.Interval = nums[1]
	} else if kind == CountWindow {
		w.Interval = nums[0]
	}
	// cond finds `word (keyword cond)` after the call.
	cond := func(word, keyword string) Expr {
		rest := off + m[1]
		i := strings.Index(strings.ToUpper(src[rest:end]), word)
		if i < 0 {
			return nil
		}
		open := rest + i + strings.IndexByte(src[rest+i:end], '(')
		depth := 0
		for j := open; j < end; j++ {
			switch src[j] {
			case '(':
				depth++
			case ')':
				if depth--; depth == 0 {
					k := open + 1 + strings.Index(strings.ToUpper(src[open+1:j]), keyword) + len(keyword)
					return exprAt(k, j)
				}
			}
		}
		t.Fatalf("window %q: unbalanced %s", text, word)
		return nil
	}
	w.Filter = cond("FILTER", "WHERE")
	w.Trigger = cond("OVER", "WHEN")
	return w
}

// demoRows are eKuiper's demo stream rows (topotest mock data).
func demoRows() []map[string]any {
	return []map[string]any{
		{"color": "red", "size": int64(3), "ts": int64(1541152486013)},
		{"color": "blue", "size": int64(6), "ts": int64(1541152486822)},
		{"color": "blue", "size": int64(2), "ts": int64(1541152487632)},
		{"color": "yellow", "size": int64(4), "ts": int64(1541152488442)},
		{"color": "red", "size": int64(1), "ts": int64(1541152489252)},
	}
}

// runGrouped compiles src and runs rows through it as the engine would:
// WHERE and FILTER per row, then ProjectGroups.
func runGrouped(t testing.TB, src string, env Env, rows []map[string]any, start, end int64) ([]map[string]any, error) {
	t.Helper()
	prog, err := Compile(groupedSelect(t, src), env)
	if err != nil {
		return nil, err
	}
	if !prog.Grouped() {
		t.Errorf("%s: Grouped() = false", src)
	}
	var in []map[string]any
	for _, r := range rows {
		ok, err := prog.Match(r)
		if err != nil {
			return nil, err
		}
		keep, err := prog.Filter(r)
		if err != nil {
			return nil, err
		}
		if ok && keep {
			in = append(in, r)
		}
	}
	return prog.ProjectGroups(in, start, end)
}

const (
	ws = int64(1541152486000)
	we = int64(1541152487000)
)

var groupTests = []struct {
	src  string
	rows []int // indexes into demoRows; nil: all
	want []map[string]any
}{
	{
		src: "SELECT color, count(*) AS c, sum(size) AS s, avg(size), max(size) FROM demo GROUP BY color",
		want: []map[string]any{
			{"color": "red", "c": int64(2), "s": int64(4), "avg": int64(2), "max": int64(3)},
			{"color": "blue", "c": int64(2), "s": int64(8), "avg": int64(4), "max": int64(6)},
			{"color": "yellow", "c": int64(1), "s": int64(4), "avg": int64(4), "max": int64(4)},
		},
	},
	{
		src: "SELECT color, size > 2 AS big, count(*) AS c FROM demo GROUP BY color, size > 2",
		want: []map[string]any{
			{"color": "red", "big": true, "c": int64(1)},
			{"color": "blue", "big": true, "c": int64(1)},
			{"color": "blue", "big": false, "c": int64(1)},
			{"color": "yellow", "big": true, "c": int64(1)},
			{"color": "red", "big": false, "c": int64(1)},
		},
	},
	{ // HAVING reads a SELECT alias.
		src:  "SELECT color, count(*) AS c FROM demo GROUP BY color HAVING c > 1",
		want: []map[string]any{{"color": "red", "c": int64(2)}, {"color": "blue", "c": int64(2)}},
	},
	{ // An alias wins over the column of the same name.
		src:  "SELECT color, count(*) AS size FROM demo GROUP BY color HAVING size > 1 ORDER BY size DESC, color",
		want: []map[string]any{{"color": "blue", "size": int64(2)}, {"color": "red", "size": int64(2)}},
	},
	{ // Aggregates only in HAVING and ORDER BY.
		src:  "SELECT color FROM demo GROUP BY color HAVING sum(size) >= 4 ORDER BY max(size) DESC",
		want: []map[string]any{{"color": "blue"}, {"color": "yellow"}, {"color": "red"}},
	},
	{ // Plain columns beside aggregates take the group's first row.
		src: "SELECT color, size, ts, min(size) AS m FROM demo GROUP BY color",
		want: []map[string]any{
			{"color": "red", "size": int64(3), "ts": int64(1541152486013), "m": int64(1)},
			{"color": "blue", "size": int64(6), "ts": int64(1541152486822), "m": int64(2)},
			{"color": "yellow", "size": int64(4), "ts": int64(1541152488442), "m": int64(4)},
		},
	},
	{ // Without aggregates a window's rows are projected one by one, then sorted.
		src: "SELECT color, size FROM demo GROUP BY TUMBLINGWINDOW(ss, 10) ORDER BY color DESC, size",
		want: []map[string]any{
			{"color": "yellow", "size": int64(4)}, {"color": "red", "size": int64(1)}, {"color": "red", "size": int64(3)},
			{"color": "blue", "size": int64(2)}, {"color": "blue", "size": int64(6)},
		},
	},
	{
		src:  "SELECT color, size FROM demo GROUP BY TUMBLINGWINDOW(ss, 10) ORDER BY color ASC, size DESC LIMIT 3",
		want: []map[string]any{{"color": "blue", "size": int64(6)}, {"color": "blue", "size": int64(2)}, {"color": "red", "size": int64(3)}},
	},
	{ // ORDER BY a column that is not selected (TestWindowRule12).
		src:  "SELECT size FROM demo GROUP BY TUMBLINGWINDOW(ss, 10) ORDER BY color, ts DESC LIMIT 2",
		want: []map[string]any{{"size": int64(2)}, {"size": int64(6)}},
	},
	{
		src:  "SELECT color, count(*) AS c FROM demo GROUP BY color ORDER BY c DESC, color LIMIT 2",
		want: []map[string]any{{"color": "blue", "c": int64(2)}, {"color": "red", "c": int64(2)}},
	},
	{ // LIMIT without ORDER BY stops at the first groups.
		src:  "SELECT color FROM demo GROUP BY color LIMIT 2",
		want: []map[string]any{{"color": "red"}, {"color": "blue"}},
	},
	{src: "SELECT color, count(*) AS c FROM demo GROUP BY color LIMIT 0", want: []map[string]any{}},
	{src: "SELECT color FROM demo GROUP BY color HAVING color = 'green'", want: []map[string]any{}},
	{ // TestWindowRule8.
		src:  "SELECT color, window_end(), ts, count(*) AS c, window_start() FROM demo WHERE size > 2 GROUP BY TUMBLINGWINDOW(ss, 1) HAVING c > 1",
		rows: []int{0, 1},
		want: []map[string]any{{"color": "red", "window_end": we, "ts": int64(1541152486013), "c": int64(2), "window_start": ws}},
	},
	{ // TestWindowRule2: WHERE below the window, rows one by one.
		src:  "SELECT color, ts FROM demo WHERE size > 2 GROUP BY TUMBLINGWINDOW(ss, 1)",
		rows: []int{0, 1},
		want: []map[string]any{{"color": "red", "ts": int64(1541152486013)}, {"color": "blue", "ts": int64(1541152486822)}},
	},
	{ // TestWindowRule9: FILTER keeps rows out of the window.
		src:  "SELECT color, window_start(), window_end() FROM demo GROUP BY HOPPINGWINDOW(ss, 2, 1) FILTER (WHERE size > 2)",
		rows: []int{0, 1, 2},
		want: []map[string]any{{"color": "red", "window_start": ws, "window_end": we}, {"color": "blue", "window_start": ws, "window_end": we}},
	},
	{ // TestWindowRule4: a window and a key.
		src:  "SELECT color, count(*) AS c FROM demo GROUP BY SLIDINGWINDOW(ss, 2) OVER (WHEN ts - 1541152486000 > 1000), color ORDER BY color",
		rows: []int{0, 1, 2},
		want: []map[string]any{{"color": "blue", "c": int64(2)}, {"color": "red", "c": int64(1)}},
	},
	{ // TestCountWindowRule1.
		src:  "SELECT collect(*)[0]->color AS c, window_end() AS we FROM demo GROUP BY COUNTWINDOW(3)",
		rows: []int{0, 1, 2},
		want: []map[string]any{{"c": "red", "we": we}},
	},
	{ // Unaliased calls are named after the function, in lower case; an
		// index or a path after a call is an expression, numbered.
		src:  "SELECT count(*), AVG(size), Window_Start(), window_end(), collect(size)[1], deduplicate(color, false), collect(*)[0]->color FROM demo GROUP BY TUMBLINGWINDOW(ss, 10)",
		want: []map[string]any{{"count": int64(5), "avg": int64(3), "window_start": ws, "window_end": we, "kuiper_field_0": int64(6), "deduplicate": map[string]any{}, "kuiper_field_1": "red"}},
	},
	{ // * and self show the first row without the hidden keys.
		src: "SELECT *, count(*) AS c, self AS me, to_json(* EXCEPT(ts)) AS j FROM demo GROUP BY color HAVING c = 1",
		want: []map[string]any{{"color": "yellow", "size": int64(4), "ts": int64(1541152488442), "c": int64(1),
			"me": map[string]any{"color": "yellow", "size": int64(4), "ts": int64(1541152488442)}, "j": `{"color":"yellow","size":4}`}},
	},
	{ // Aggregates without keys: one group.
		src:  "SELECT count(*) AS c, min(ts) AS first, last_value(color, true) AS last FROM demo",
		want: []map[string]any{{"c": int64(5), "first": int64(1541152486013), "last": "red"}},
	},
	{src: "SELECT count(*) AS c FROM demo", rows: []int{}, want: []map[string]any{}},
	{src: "SELECT color, count(*) AS c FROM demo GROUP BY color", rows: []int{}, want: []map[string]any{}},
}

func TestProjectGroups(t *testing.T) {
	for _, tt := range groupTests {
		rows := demoRows()
		if tt.rows != nil {
			var picked []map[string]any
			for _, i := range tt.rows {
				picked = append(picked, rows[i])
			}
			rows = picked
		}
		got, err := runGrouped(t, tt.src, Env{}, rows, ws, we)
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s\n got %v\nwant %v", tt.src, got, tt.want)
		}
	}
}

// Group keys compare by SQL =: 1 and 1.0 are one group; NULL is a group
// of its own; maps and lists group by content. ORDER BY puts NULLs first
// in either direction.
func TestGroupKeys(t *testing.T) {
	rows := []map[string]any{
		{"k": int64(1), "v": "a"},
		{"k": nil, "v": "b"},
		{"k": 1.0, "v": "c"},
		{"v": "d"},
		{"k": "1", "v": "e"},
		{"k": map[string]any{"x": []any{int64(1)}}, "v": "f"},
		{"k": map[string]any{"x": []any{1.0}}, "v": "g"},
		{"k": -0.0, "v": "h"},
		{"k": int64(0), "v": "i"},
		{"k": true, "v": "j"},
	}
	got, err := runGrouped(t, "SELECT k, collect(v) AS vs FROM demo GROUP BY k", Env{}, rows, 0, 0)
	want := []map[string]any{
		{"k": int64(1), "vs": []any{"a", "c"}},
		{"k": nil, "vs": []any{"b", "d"}},
		{"k": "1", "vs": []any{"e"}},
		{"k": map[string]any{"x": []any{int64(1)}}, "vs": []any{"f", "g"}},
		{"k": -0.0, "vs": []any{"h", "i"}},
		{"k": true, "vs": []any{"j"}},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("GROUP BY k\n got %v, %v\nwant %v", got, err, want)
	}

	rows = []map[string]any{{"k": int64(2)}, {"k": nil}, {"k": 1.5}, {"k": int64(3)}}
	for _, tt := range []struct {
		order string
		want  []any
	}{
		{"k", []any{nil, 1.5, int64(2), int64(3)}},
		{"k DESC", []any{nil, int64(3), int64(2), 1.5}},
	} {
		got, err := runGrouped(t, "SELECT k FROM demo GROUP BY TUMBLINGWINDOW(ss, 1) ORDER BY "+tt.order, Env{}, rows, 0, 0)
		var ks []any
		for _, r := range got {
			ks = append(ks, r["k"])
		}
		if err != nil || !reflect.DeepEqual(ks, tt.want) {
			t.Errorf("ORDER BY %s = %v, %v, want %v", tt.order, ks, err, tt.want)
		}
	}
	rows = []map[string]any{{"b": true}, {"b": false}, {"b": true}}
	got, err = runGrouped(t, "SELECT b FROM demo GROUP BY TUMBLINGWINDOW(ss, 1) ORDER BY b", Env{}, rows, 0, 0)
	if err != nil || !reflect.DeepEqual(got, []map[string]any{{"b": false}, {"b": true}, {"b": true}}) {
		t.Errorf("ORDER BY bool = %v, %v", got, err)
	}
}

func TestMaxGroups(t *testing.T) {
	src := "SELECT color, count(*) FROM demo GROUP BY color"
	if _, err := runGrouped(t, src, Env{MaxGroups: 3}, demoRows(), 0, 0); err != nil {
		t.Errorf("3 groups with MaxGroups 3: %v", err)
	}
	_, err := runGrouped(t, src, Env{MaxGroups: 2}, demoRows(), 0, 0)
	if err == nil || err.Error() != "1:43: GROUP BY: more than 2 groups" || !errors.Is(err, ErrTooManyGroups) {
		t.Errorf("MaxGroups 2: %v", err)
	}
	rows := make([]map[string]any, DefaultMaxGroups+1)
	for i := range rows {
		rows[i] = map[string]any{"color": fmt.Sprint(i)}
	}
	if _, err := runGrouped(t, src, Env{}, rows, 0, 0); !errors.Is(err, ErrTooManyGroups) {
		t.Errorf("%d groups by default: %v", len(rows), err)
	}
}

var groupSchema = schema.Schema{
	{Name: "color", Type: schema.Type{Kind: schema.String}},
	{Name: "size", Type: schema.Type{Kind: schema.Bigint}},
	{Name: "ts", Type: schema.Type{Kind: schema.Bigint}},
}

func TestGroupErrors(t *testing.T) {
	compileErrs := []struct{ src, err string }{
		{"SELECT color FROM demo WHERE count(*) > 1", `1:30: aggregate function "count" is not allowed in WHERE`},
		{"SELECT color FROM demo GROUP BY color, count(*)", `1:40: aggregate function "count" is not allowed in GROUP BY`},
		{"SELECT color FROM demo GROUP BY TUMBLINGWINDOW(ss, 1) FILTER (WHERE max(size) > 1)", `1:69: aggregate function "max" is not allowed in FILTER`},
		{"SELECT color FROM demo GROUP BY SLIDINGWINDOW(ss, 1) OVER (WHEN count(*) > 1)", `1:65: aggregate function "count" is not allowed in OVER`},
		{"SELECT sum(count(*)) FROM demo", `1:12: aggregate function "count" is not allowed inside aggregate function "sum"`},
		{"SELECT window_start() FROM demo", `1:8: function "window_start": only allowed in a windowed SELECT`},
		{"SELECT count(*) FROM demo GROUP BY color HAVING window_end() > 0", `1:49: function "window_end": only allowed in a windowed SELECT`},
		{"SELECT window_end(1) FROM demo GROUP BY TUMBLINGWINDOW(ss, 1)", `1:8: function "window_end": want 0 arguments, got 1`},
		{"SELECT color FROM demo WHERE window_end() > 0 GROUP BY TUMBLINGWINDOW(ss, 1)", `1:30: function "window_end" is not allowed in WHERE`},
		{"SELECT collect(window_start()) FROM demo GROUP BY TUMBLINGWINDOW(ss, 1)", `1:16: function "window_start" is not allowed inside aggregate function "collect"`},
		{"SELECT count(*), count(size) FROM demo", `1:18: duplicate output column "count"`},
		{"SELECT color FROM demo GROUP BY color HAVING 1", `1:46: HAVING: want bool, got int64`},
		{"SELECT color, count(*) AS c FROM demo GROUP BY color HAVING c > 1 AND nope > 1", `1:71: unknown field "nope" in stream "demo"`},
		{"SELECT color FROM demo GROUP BY color ORDER BY count(nope)", `1:54: unknown field "nope" in stream "demo"`},
		// GROUP BY cannot use aliases, nor can aggregate arguments.
		{"SELECT size * 2 AS d FROM demo GROUP BY d", `1:41: unknown field "d" in stream "demo"`},
		{"SELECT size * 2 AS d FROM demo GROUP BY color HAVING sum(d) > 1", `1:58: unknown field "d" in stream "demo"`},
	}
	for _, tt := range compileErrs {
		_, err := Compile(groupedSelect(t, tt.src), Env{Schema: groupSchema})
		if err == nil || err.Error() != tt.err {
			t.Errorf("%s:\n got %v\nwant %s", tt.src, err, tt.err)
		}
	}
	sel := mustSelect(t, "SELECT color FROM demo")
	sel.Limit = -2
	if _, err := Compile(sel, Env{}); err == nil || err.Error() != "LIMIT -2: want a count of at least 0" {
		t.Errorf("LIMIT -2: %v", err)
	}

	runErrs := []struct{ src, err string }{
		{"SELECT color FROM demo GROUP BY color HAVING size", `1:46: HAVING: want bool, got int64`},
		{"SELECT color, sum(color) AS s FROM demo GROUP BY color", `1:15: function "sum": want number, got string "red"`},
		{"SELECT color FROM demo GROUP BY color ORDER BY CASE WHEN color = 'red' THEN 1 ELSE 'x' END", `1:48: ORDER BY: cannot compare `},
		{"SELECT color FROM demo GROUP BY TUMBLINGWINDOW(ss, 1) FILTER (WHERE size)", `1:69: FILTER: want bool, got int64`},
		{"SELECT color FROM demo GROUP BY size / 0", `1:38: division by zero`},
	}
	for _, tt := range runErrs {
		_, err := runGrouped(t, tt.src, Env{}, demoRows(), 0, 0)
		if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
			t.Errorf("%s:\n got %v\nwant %s", tt.src, err, tt.err)
		}
	}
}

// Filter, Trigger and Window serve the window operator; they are neutral
// without a window.
func TestWindowAccessors(t *testing.T) {
	prog, err := Compile(groupedSelect(t, "SELECT count(*) FROM demo GROUP BY SLIDINGWINDOW(ss, 2, 1) FILTER (WHERE size > 2) OVER (WHEN color = 'red')"), Env{})
	if err != nil {
		t.Fatal(err)
	}
	w := prog.Window()
	if w == nil || w.Kind != SlidingWindow || w.Unit != "ss" || w.Length != 2 || w.Interval != 1 {
		t.Errorf("Window() = %+v", w)
	}
	w.Length = 99
	if prog.Window().Length != 2 {
		t.Error("Window() shares the program's window")
	}
	for _, tt := range []struct {
		row             map[string]any
		filter, trigger bool
	}{
		{map[string]any{"size": int64(3), "color": "red"}, true, true},
		{map[string]any{"size": int64(1), "color": "blue"}, false, false},
		{map[string]any{"size": nil, "color": nil}, false, false},
	} {
		f, err1 := prog.Filter(tt.row)
		tr, err2 := prog.Trigger(tt.row)
		if f != tt.filter || tr != tt.trigger || err1 != nil || err2 != nil {
			t.Errorf("%v: Filter = %v, %v; Trigger = %v, %v", tt.row, f, err1, tr, err2)
		}
	}
	prog, err = Compile(groupedSelect(t, "SELECT a FROM demo GROUP BY SLIDINGWINDOW(ss, 2) OVER (WHEN a)"), Env{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := prog.Trigger(map[string]any{"a": int64(1)}); ok || err != nil {
		t.Errorf("Trigger on a non-bool = %v, %v, want false", ok, err)
	}

	for _, src := range []string{"SELECT a FROM demo", "SELECT count(*) FROM demo GROUP BY a"} {
		prog, err := Compile(groupedSelect(t, src), Env{})
		if err != nil {
			t.Fatal(err)
		}
		f, err1 := prog.Filter(nil)
		tr, err2 := prog.Trigger(nil)
		if prog.Window() != nil || !f || !tr || err1 != nil || err2 != nil {
			t.Errorf("%s: Window() = %v, Filter = %v, %v, Trigger = %v, %v", src, prog.Window(), f, err1, tr, err2)
		}
	}
}

// Project runs a grouped program on the row as a result set of its own;
// an ungrouped program runs ProjectGroups row by row.
func TestGroupedProject(t *testing.T) {
	for _, tt := range []struct {
		src     string
		grouped bool
		want    map[string]any
	}{
		{"SELECT color, size FROM demo", false, map[string]any{"color": "red", "size": int64(3)}},
		{"SELECT color, count(*) AS c, collect(size) AS l FROM demo", true, map[string]any{"color": "red", "c": int64(1), "l": []any{int64(3)}}},
		{"SELECT color FROM demo GROUP BY color HAVING count(*) > 1", true, nil},
		{"SELECT color FROM demo LIMIT 0", true, nil},
		{"SELECT color FROM demo ORDER BY size", true, map[string]any{"color": "red"}},
	} {
		prog, err := Compile(groupedSelect(t, tt.src), Env{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := prog.Project(demoRows()[0])
		if prog.Grouped() != tt.grouped || err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Grouped() = %v, Project = %v, %v, want %v", tt.src, prog.Grouped(), got, err, tt.want)
		}
	}
	prog, _ := Compile(mustSelect(t, "SELECT size * 2 AS d FROM demo"), Env{})
	got, err := prog.ProjectGroups(demoRows()[:2], 0, 0)
	if err != nil || !reflect.DeepEqual(got, []map[string]any{{"d": int64(6)}, {"d": int64(12)}}) {
		t.Errorf("ProjectGroups of an ungrouped program = %v, %v", got, err)
	}
}

// count(*) in SELECT and HAVING is computed once.
func TestSharedAggregates(t *testing.T) {
	prog, err := Compile(groupedSelect(t, "SELECT count(*) AS c, COUNT(*) + 1 AS d FROM demo GROUP BY color HAVING count(*) > 1 ORDER BY count(size)"), Env{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(prog.group.aggs); n != 2 {
		t.Errorf("%d aggregate computations, want 2 (count(*) and count(size))", n)
	}
}

func BenchmarkProjectGroups(b *testing.B) {
	prog, err := Compile(groupedSelect(b, "SELECT k, avg(v) AS a, max(v) AS m FROM demo GROUP BY k"), Env{})
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]map[string]any, 1000)
	for i := range rows {
		rows[i] = map[string]any{"k": int64(i % 100), "v": float64(i)}
	}
	b.ReportAllocs()
	for b.Loop() {
		out, err := prog.ProjectGroups(rows, 0, 0)
		if err != nil || len(out) != 100 {
			b.Fatal(len(out), err)
		}
	}
}

// FuzzAggregates runs aggregate expressions over a fixed result set: no
// panic, errors are *Error, and a second run gives the same output.
func FuzzAggregates(f *testing.F) {
	for _, e := range []string{
		"count(*)", "sum(size) * 2 + count(*)", "avg(x)", "max(color)", "collect(*)[0]->color", "merge_agg(m)",
		"deduplicate(color, true)", "stddevs(size)", "median(x)", "percentile_cont(size, 0.5)", "percentile_disc(x, 0.1)",
		"last_value(m, true)", "min(ts) + var(size)", "CASE WHEN count(size) > 2 THEN collect(color) END",
	} {
		f.Add("SELECT " + e + " AS v, color FROM demo")
	}
	rows := append(demoRows(), map[string]any{"color": nil, "x": 2.5, "m": map[string]any{"a": int64(1)}},
		map[string]any{"size": "big", "x": int64(-3), "m": nil})
	f.Fuzz(func(t *testing.T, src string) {
		sel, err := ParseSelect(src)
		if err != nil {
			return
		}
		prog, err := Compile(sel, Env{})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Compile(%q): error %T is not *Error: %v", src, err, err)
			}
			return
		}
		if strings.Contains(strings.ToLower(src), "now(") || strings.Contains(strings.ToLower(src), "newuuid(") {
			return
		}
		out, err := prog.ProjectGroups(rows, ws, we)
		again, err2 := prog.ProjectGroups(rows, ws, we)
		if a, b := fmt.Sprint(out, err), fmt.Sprint(again, err2); a != b {
			t.Fatalf("%q gives %s, then %s", src, a, b)
		}
	})
}
