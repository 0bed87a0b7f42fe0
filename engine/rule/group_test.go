package rule

import (
	"reflect"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine/sql"
	"github.com/kgen-dev/kgen/engine/window"
)

// TestIncrementalEmissions feeds the grouper's incremental path
// emissions that slide, jump over rows, go backwards and repeat: each
// result is ProjectGroups over the emission's rows.
func TestIncrementalEmissions(t *testing.T) {
	sel, err := sql.ParseSelect("SELECT k, count(*) AS c, avg(v) AS a, max(v) AS m FROM demo GROUP BY k, SLIDINGWINDOW(ss, 10)")
	if err != nil {
		t.Fatal(err)
	}
	prog, err := sql.Compile(sel, sql.Env{})
	if err != nil {
		t.Fatal(err)
	}
	g := &grouper{r: &Rule{prog: prog}}
	if g.inc, _ = prog.Incremental(); g.inc == nil {
		t.Fatal("no Incremental")
	}
	rows := make([]any, 40)
	for i := range rows {
		rows[i] = map[string]any{"k": int64(i % 3), "v": int64(i * 7 % 11)}
	}
	for i, span := range [][2]int{{0, 1}, {0, 3}, {1, 5}, {1, 5}, {4, 9}, {12, 20}, {13, 21}, {2, 6}, {3, 8}, {8, 8}, {9, 15}, {15, 40}, {39, 40}} {
		em := window.Emission{Start: time.UnixMilli(0), End: time.UnixMilli(1), Rows: rows[span[0]:span[1]], First: uint64(span[0])}
		got, err := g.incremental(&em)
		if err != nil {
			t.Fatal(err)
		}
		in := make([]map[string]any, len(em.Rows))
		for j, r := range em.Rows {
			in[j] = r.(map[string]any)
		}
		want, _ := prog.ProjectGroups(in, 0, 1)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("emission %d %v: got %v, want %v", i, span, got, want)
		}
	}
}
