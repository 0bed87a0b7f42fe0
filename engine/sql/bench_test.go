package sql

import "testing"

func BenchmarkProject(b *testing.B) {
	sel, err := ParseSelect("SELECT temperature * 2 AS t, humidity FROM demo WHERE temperature > 50")
	if err != nil {
		b.Fatal(err)
	}
	prog, err := Compile(sel, Env{Schema: demoSchema})
	if err != nil {
		b.Fatal(err)
	}
	row := map[string]any{"temperature": 72.5, "humidity": int64(40)}
	b.ReportAllocs()
	for b.Loop() {
		ok, err := prog.Match(row)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
		out, err := prog.Project(row)
		if err != nil || len(out) != 2 {
			b.Fatal(out, err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	src := "SELECT temperature * 2 AS t, humidity, CASE WHEN a->b[0] IN (1, 2, 3) THEN 'x' ELSE concat(s, 'y') END FROM demo WHERE temperature > 50 AND s LIKE 'abc%'"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSelect(src); err != nil {
			b.Fatal(err)
		}
	}
}
