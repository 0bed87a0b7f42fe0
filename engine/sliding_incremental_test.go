package engine_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/kgen-dev/kgen/engine/sql"
)

// slidingWant computes the result sets of a sliding window without delay
// in which every row triggers, the slow way: ProjectGroups over the rows
// within length ms before each row (those WHERE keeps).
func slidingWant(t *testing.T, query string, rows []map[string]any, length int64) []string {
	t.Helper()
	sel, err := sql.ParseSelect(query)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := sql.Compile(sel, sql.Env{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i, tr := range rows {
		if ok, _ := prog.Match(tr); !ok {
			continue
		}
		end := tr["ts"].(int64)
		var in []map[string]any
		for _, r := range rows[:i+1] {
			if ok, _ := prog.Match(r); ok && r["ts"].(int64) >= end-length {
				in = append(in, r)
			}
		}
		out, err := prog.ProjectGroups(in, end-length, end)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) > 0 {
			b, _ := json.Marshal(out)
			want = append(want, string(b))
		}
	}
	return want
}

func slidingRows(seed uint64, n int) []map[string]any {
	r := rand.New(rand.NewPCG(seed, 1))
	colors := []string{"red", "blue", "yellow"}
	ts := int64(1541152486000)
	rows := make([]map[string]any, n)
	for i := range rows {
		ts += 100 + r.Int64N(600)
		rows[i] = map[string]any{"color": colors[r.IntN(3)], "size": r.Int64N(10), "ts": ts}
	}
	return rows
}

// A sliding window whose every row triggers is evaluated incrementally
// (sql.Incremental): its result sets are those ProjectGroups gives over
// each window's rows, in processing time with WHERE.
func TestSlidingIncrementalProcessingTime(t *testing.T) {
	const query = "SELECT color, count(*) AS c, avg(size) AS a, max(size) AS m, min(size) AS lo, window_end() AS we FROM demo WHERE size > 2 GROUP BY SLIDINGWINDOW(ss, 2), color"
	rows := slidingRows(1, 60)
	want := slidingWant(t, query, rows, 2000)
	e, fake := windowEngine(t, "slideinc", 1541152486000, "")
	mustRule(t, e, fmt.Sprintf(`{"id": "slideinc", "sql": %q, "actions": [{"testSets": {}}]}`, query))
	feed(t, e, fake, "slideinc", true, rows...)
	eventually(t, "every window", func() bool { return len(setsOf("slideinc")) >= len(want) })
	wantSets(t, "slideinc", want...)
}

// The same in event time, with HAVING, ORDER BY and LIMIT: the last row
// stays behind the watermark.
func TestSlidingIncrementalEventTime(t *testing.T) {
	const query = "SELECT color, size, count(*) AS c, sum(size) AS s, max(size) AS m FROM demo GROUP BY SLIDINGWINDOW(ss, 3), color HAVING c > 1 ORDER BY s DESC LIMIT 2"
	rows := slidingRows(2, 60)
	want := slidingWant(t, query, rows[:len(rows)-1], 3000)
	e, fake := windowEngine(t, "slideev", 1541152480000, `, TIMESTAMP="ts"`)
	mustRule(t, e, fmt.Sprintf(`{"id": "slideev", "sql": %q, "actions": [{"testSets": {}}], "options": {"isEventTime": true, "lateTolerance": 1}}`, query))
	feed(t, e, fake, "slideev", false, rows...)
	eventually(t, "every window", func() bool { return len(setsOf("slideev")) >= len(want) })
	wantSets(t, "slideev", want...)
}
