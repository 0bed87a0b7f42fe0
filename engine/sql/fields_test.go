package sql

import (
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/engine/schema"
)

// fieldsText renders StreamFields as "stream: a b; other: *", streams in
// Select.Streams order, "-" for a stream of which no field is read.
func fieldsText(sel *Select, fields map[string]Fields) string {
	var parts []string
	for _, name := range sel.Streams() {
		f, ok := fields[name]
		text := strings.Join(f.Names, " ")
		switch {
		case !ok:
			text = "missing"
		case f.All:
			text = "*"
		case len(f.Names) == 0:
			text = "-"
		}
		parts = append(parts, name+": "+text)
	}
	if len(fields) != len(parts) {
		parts = append(parts, "extra streams")
	}
	return strings.Join(parts, "; ")
}

func TestStreamFields(t *testing.T) {
	var p plugins
	env := p.env()
	// Schemaless streams: every name is a field.
	env.Streams = map[string]schema.Schema{"b": nil, "c": nil}
	tests := []struct{ src, want string }{
		// SELECT
		{"SELECT a, b + 1 AS x FROM demo", "demo: a b"},
		{"SELECT a AS b, a FROM demo", "demo: a"},
		{"SELECT 1, 'x' FROM demo", "demo: -"},
		{"SELECT upper(name), abs(n - m) FROM demo", "demo: m n name"},
		{"SELECT CASE k WHEN 1 THEN v ELSE w END FROM demo", "demo: k v w"},
		{"SELECT CASE WHEN p THEN q END FROM demo", "demo: p q"},
		{"SELECT x IN (y, 3), z BETWEEN lo AND hi, s LIKE pat, u IS NULL, NOT v, -w FROM demo",
			"demo: hi lo pat s u v w x y z"},
		// Nested paths read their top-level field.
		{"SELECT a->b, c.d, e[0], f[g], h->i->j, k[0]->l FROM demo", "demo: a c e f g h k"},
		{"SELECT demo.a, demo.b->c FROM demo", "demo: a b"},
		{"SELECT d.a FROM demo AS d", "demo: a"},
		// WHERE, GROUP BY, HAVING, ORDER BY, window FILTER and OVER.
		{"SELECT a FROM demo WHERE b > 1 AND c = 'x'", "demo: a b c"},
		{"SELECT count(*) FROM demo GROUP BY g, TUMBLINGWINDOW(ss, 10)", "demo: g"},
		{"SELECT count(*) FROM demo GROUP BY TUMBLINGWINDOW(ss, 10) FILTER (WHERE f > 0)", "demo: f"},
		{"SELECT count(*) FROM demo GROUP BY SLIDINGWINDOW(ss, 10) OVER (WHEN w = 1)", "demo: w"},
		{"SELECT g, avg(v) AS m FROM demo GROUP BY g HAVING max(h) > 1 ORDER BY o DESC", "demo: g h o v"},
		// An alias in HAVING and ORDER BY is also read as a field: harmless.
		{"SELECT g, avg(v) AS m FROM demo GROUP BY g HAVING m > 1 ORDER BY m", "demo: g m v"},
		// Aggregates and window bounds.
		{"SELECT count(*) FROM demo", "demo: -"},
		{"SELECT count(a), sum(b), collect(c), last_value(d, true), window_start() FROM demo GROUP BY TUMBLINGWINDOW(ss, 1)", "demo: a b c d"},
		// meta() reads metadata, not fields; its argument is a key.
		{"SELECT meta(topic) AS t, meta(a.b) AS ab, meta(*) AS m FROM demo", "demo: -"},
		{"SELECT meta(topic), x FROM demo WHERE meta(qos) = 1", "demo: x"},
		{"SELECT upper(meta(topic)) FROM demo", "demo: -"},
		// Extension functions: their arguments.
		{"SELECT echo(a, b->c) FROM demo", "demo: a b"},
		{"SELECT agg(v) FROM demo GROUP BY TUMBLINGWINDOW(ss, 1)", "demo: v"},

		// Whole rows.
		{"SELECT * FROM demo", "demo: *"},
		{"SELECT *, a FROM demo", "demo: *"},
		{"SELECT * EXCEPT(a) FROM demo", "demo: *"},
		{"SELECT demo.* FROM demo", "demo: *"},
		{"SELECT self FROM demo", "demo: *"},
		{"SELECT a FROM demo WHERE self IS NOT NULL", "demo: *"},
		{"SELECT echo(*) FROM demo", "demo: *"},
		{"SELECT collect(*) FROM demo GROUP BY TUMBLINGWINDOW(ss, 1)", "demo: *"},
		{"SELECT merge_agg(*) FROM demo GROUP BY TUMBLINGWINDOW(ss, 1)", "demo: *"},
		{"SELECT deduplicate(a, true) FROM demo GROUP BY TUMBLINGWINDOW(ss, 1)", "demo: *"},

		// JOIN: qualified fields by stream or alias, unqualified ones from
		// any stream.
		{"SELECT demo.a, b.x FROM demo INNER JOIN b ON demo.id = b.id GROUP BY TUMBLINGWINDOW(ss, 10)",
			"demo: a id; b: id x"},
		{"SELECT d.a, e.x FROM demo AS d LEFT JOIN b AS e ON d.id = e.id GROUP BY TUMBLINGWINDOW(ss, 10)",
			"demo: a id; b: id x"},
		{"SELECT a, b.x FROM demo JOIN b ON demo.id = b.id GROUP BY TUMBLINGWINDOW(ss, 10)",
			"demo: a id; b: a id x"},
		{"SELECT count(*) FROM demo JOIN b ON demo.k = b.k CROSS JOIN c GROUP BY TUMBLINGWINDOW(ss, 10)",
			"demo: k; b: k; c: -"},
		{"SELECT demo.a FROM demo JOIN b ON demo.k = b.k WHERE b.w > 1 GROUP BY TUMBLINGWINDOW(ss, 10) HAVING count(c.z) > 0 ORDER BY b.o",
			"demo: a c k; b: c k o w"}, // c is not a stream here: c.z is c->z
		{"SELECT b.*, demo.a FROM demo JOIN b ON demo.k = b.k GROUP BY TUMBLINGWINDOW(ss, 10)",
			"demo: a k; b: *"},
		{"SELECT * FROM demo JOIN b ON demo.k = b.k GROUP BY TUMBLINGWINDOW(ss, 10)", "demo: *; b: *"},
		{"SELECT self FROM demo JOIN b ON demo.k = b.k GROUP BY TUMBLINGWINDOW(ss, 10)", "demo: *; b: *"},
		{"SELECT echo(*) FROM demo JOIN b ON demo.k = b.k GROUP BY TUMBLINGWINDOW(ss, 10)", "demo: *; b: *"},
		{"SELECT meta(b.topic), demo.a FROM demo JOIN b ON demo.k = b.k GROUP BY TUMBLINGWINDOW(ss, 10)",
			"demo: a k; b: k"},
		// A stream joined with itself: both sides' fields.
		{"SELECT l.a, r.b FROM demo AS l JOIN demo AS r ON l.k = r.j GROUP BY TUMBLINGWINDOW(ss, 10)",
			"demo: a b j k"},
		{"SELECT l.*, r.b FROM demo AS l JOIN demo AS r ON l.k = r.j GROUP BY TUMBLINGWINDOW(ss, 10)",
			"demo: *"},
	}
	for _, tt := range tests {
		sel := mustSelect(t, tt.src)
		prog, err := Compile(sel, env)
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if got := fieldsText(sel, prog.StreamFields()); got != tt.want {
			t.Errorf("%s\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

// TestStreamFieldsWithSchema: with a schema, the fields named are columns
// (compiling checks them), and an unqualified field of a join may still
// come from any stream.
func TestStreamFieldsWithSchema(t *testing.T) {
	tests := []struct{ src, want string }{
		{"SELECT color FROM demo WHERE size > 2", "demo: color size"},
		{"SELECT color, temp FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 10)",
			"demo: color temp ts; demo1: color temp ts"},
	}
	for _, tt := range tests {
		sel := mustSelect(t, tt.src)
		prog, err := Compile(sel, joinEnv)
		if err != nil {
			t.Fatalf("%s: %v", tt.src, err)
		}
		if got := fieldsText(sel, prog.StreamFields()); got != tt.want {
			t.Errorf("%s\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

// TestStreamFieldsCopy: the caller may change what it gets.
func TestStreamFieldsCopy(t *testing.T) {
	prog, err := Compile(mustSelect(t, "SELECT a, b FROM demo"), Env{})
	if err != nil {
		t.Fatal(err)
	}
	prog.StreamFields()["demo"].Names[0] = "z"
	if got := prog.StreamFields()["demo"].Names; got[0] != "a" {
		t.Fatalf("names = %q after the caller changed its copy", got)
	}
}
