package sql

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// incrementalSelects are SELECTs Incremental must support, each checked
// against ProjectGroups by TestIncrementalProperty.
var incrementalSelects = []string{
	"SELECT k, count(*) AS n, sum(i) AS s, avg(i) AS a, min(i) AS lo, max(i) AS hi FROM demo GROUP BY k, SLIDINGWINDOW(ss, 10)",
	"SELECT k, count(*) AS n FROM demo GROUP BY k, SLIDINGWINDOW(ss, 10) HAVING n > 2",
	"SELECT k, sum(i) AS s, count(i) AS c FROM demo GROUP BY k, SLIDINGWINDOW(ss, 10) ORDER BY s DESC LIMIT 2",
	"SELECT count(*), avg(i), max(i), window_start() AS ws, window_end() AS we FROM demo GROUP BY SLIDINGWINDOW(ss, 10)",
	"SELECT k, min(f) AS lo, max(f) AS hi, avg(f) AS a, sum(f) AS s FROM demo GROUP BY k, SLIDINGWINDOW(ss, 10)",
	"SELECT k, min(x) AS lo, max(x) AS hi, sum(x) AS s, avg(x) AS a FROM demo GROUP BY k, SLIDINGWINDOW(ss, 10)",
	"SELECT id, k, i, f, count(*) AS n FROM demo GROUP BY k, SLIDINGWINDOW(ss, 10)",
	"SELECT *, max(i) AS m FROM demo GROUP BY k, SLIDINGWINDOW(ss, 10) HAVING max(i) > 0 ORDER BY k LIMIT 3",
	"SELECT k, i FROM demo GROUP BY k, SLIDINGWINDOW(ss, 10)",
	"SELECT k, count(*) AS n FROM demo GROUP BY k, SLIDINGWINDOW(ss, 10) LIMIT 2",
	"SELECT k, sum(big) AS s, avg(big) AS a FROM demo GROUP BY k, SLIDINGWINDOW(ss, 10)",
	"SELECT k, sum(g) AS s, avg(g) AS a, count(g) AS n FROM demo GROUP BY k, SLIDINGWINDOW(ss, 10)",
	"SELECT sum(h) AS s, avg(h) AS a, max(h) AS m FROM demo GROUP BY SLIDINGWINDOW(ss, 10)",
	"SELECT k, max(m) AS m, sum(m) AS s FROM demo GROUP BY k, SLIDINGWINDOW(ss, 10)",
	"SELECT count(*) AS n, sum(i) + 1 AS s1, max(i) - min(i) AS spread FROM demo GROUP BY k % 2, SLIDINGWINDOW(ss, 10) ORDER BY n",
	"SELECT k, count(*) AS n FROM demo GROUP BY 10 / i, k, SLIDINGWINDOW(ss, 10)",
	"SELECT k, count(*) AS n FROM demo GROUP BY k, SLIDINGWINDOW(ss, 10) HAVING 10 / min(i) > 1",
}

// randomRow draws a row: keys that collide across int64 and float64 (1
// and 1.0) and NULL, ints, floats, NULLs, a column mixing both, rare huge
// ints (overflow), rare strings (type errors) and zeros (division errors);
// g is floats whose sums round, of spread magnitudes, with rare huge ones
// (sums past MaxFloat64) and infinities, h mixes g with huge ints.
func randomRow(r *rand.Rand, id int) map[string]any {
	pick := func(p float64, v any) any {
		if r.Float64() < p {
			return nil
		}
		return v
	}
	keys := []any{"a", "b", "c", int64(1), float64(1), nil}
	row := map[string]any{
		"id": int64(id),
		"k":  keys[r.IntN(len(keys))],
		"i":  pick(0.2, r.Int64N(21)-10),
		"f":  pick(0.2, math.Round(r.NormFloat64()*100)/8),
	}
	if r.IntN(60) == 0 {
		row["f"] = math.NaN()
	}
	if r.IntN(2) == 0 {
		row["x"] = pick(0.1, r.Int64N(5))
	} else {
		row["x"] = pick(0.1, float64(r.IntN(5)))
	}
	row["big"] = r.Int64N(100)
	if r.IntN(15) == 0 {
		row["big"] = int64(math.MaxInt64 - r.Int64N(3))
	}
	if r.IntN(15) == 0 {
		row["big"] = int64(math.MinInt64 + r.Int64N(3))
	}
	row["m"] = pick(0.1, r.Int64N(100))
	if r.IntN(30) == 0 {
		row["m"] = "s"
	}
	if r.IntN(40) == 0 {
		row["k"] = map[string]any{"k": int64(1)} // k % 2 fails
	}
	g := math.Ldexp(r.NormFloat64(), r.IntN(120)-60)
	switch r.IntN(40) {
	case 0:
		g = 1e308 * float64(1-2*r.IntN(2))
	case 1:
		g = math.Inf(1 - 2*r.IntN(2))
	case 2:
		g = 0.1
	}
	row["g"] = pick(0.1, g)
	if r.IntN(2) == 0 {
		row["h"] = g
	} else {
		row["h"] = pick(0.1, r.Int64N(1<<62)*(1-2*r.Int64N(2)))
	}
	return row
}

func TestIncrementalProperty(t *testing.T) {
	for qi, src := range incrementalSelects {
		prog, err := Compile(groupedSelect(t, src), Env{MaxGroups: 5})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		r := rand.New(rand.NewPCG(uint64(qi), 7))
		for round := range 20 {
			in, ok := prog.Incremental()
			if !ok {
				t.Fatalf("%s: no Incremental", src)
			}
			var cur []map[string]any
			id := 0
			maxLen := 1 + r.IntN(40)
			for step := range 300 {
				if len(cur) > 0 && (len(cur) >= maxLen || r.IntN(3) == 0) {
					for n := 1 + r.IntN(min(3, len(cur))); n > 0; n-- {
						if err := in.Remove(cur[0]); err != nil {
							t.Fatal(err)
						}
						cur = cur[1:]
					}
				} else {
					for n := 1 + r.IntN(3); n > 0; n-- {
						row := randomRow(r, id)
						id++
						if err := in.Add(row); err != nil {
							t.Fatal(err)
						}
						cur = append(cur, row)
					}
				}
				start, end := int64(step), int64(step+10)
				want, wantErr := prog.ProjectGroups(cur, start, end)
				got, gotErr := in.Result(start, end)
				if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(nanFree(got), nanFree(want)) {
					t.Fatalf("%s\nround %d step %d, rows %v\ngot  %v, %v\nwant %v, %v", src, round, step, cur, got, gotErr, want, wantErr)
				}
			}
		}
	}
}

// nanFree replaces NaN values, which DeepEqual finds unequal to
// themselves, with a string, in a copy.
func nanFree(rows []map[string]any) []map[string]any {
	if rows == nil {
		return nil
	}
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		out[i] = make(map[string]any, len(r))
		for k, v := range r {
			if f, ok := v.(float64); ok && math.IsNaN(f) {
				v = "NaN float64"
			}
			out[i][k] = v
		}
	}
	return out
}

func TestIncrementalUnsupported(t *testing.T) {
	for _, src := range []string{
		"SELECT * FROM demo",
		"SELECT k, collect(i) FROM demo GROUP BY k",
		"SELECT k, median(i) FROM demo GROUP BY k",
		"SELECT i FROM demo GROUP BY SLIDINGWINDOW(ss, 10)",
		"SELECT i FROM demo ORDER BY i",
	} {
		prog, err := Compile(groupedSelect(t, src), Env{})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if _, ok := prog.Incremental(); ok {
			t.Errorf("%s: Incremental supported", src)
		}
	}
}

func TestIncrementalRemoveOrder(t *testing.T) {
	prog, err := Compile(groupedSelect(t, "SELECT count(*) FROM demo GROUP BY SLIDINGWINDOW(ss, 1)"), Env{})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := prog.Incremental()
	a, b := map[string]any{"a": 1}, map[string]any{"a": 1}
	if err := in.Remove(a); err == nil {
		t.Error("Remove from empty: no error")
	}
	in.Add(a)
	in.Add(b)
	if err := in.Remove(b); err == nil {
		t.Error("Remove of the newest: no error")
	}
	if err := in.Remove(a); err != nil || in.Len() != 1 {
		t.Error(err, in.Len())
	}
}

// BenchmarkSlidingAggregates is a sliding window over one group in which
// every row triggers: per op one row enters (and, the window being full,
// the oldest leaves) and the window's result is computed, incrementally
// or by ProjectGroups over the rows held. The values are int64, or under
// float/ float64 values whose sums round (kept exactly by fsum).
func BenchmarkSlidingAggregates(b *testing.B) {
	const src = "SELECT avg(v) AS a, max(v) AS m, count(*) AS n FROM demo GROUP BY SLIDINGWINDOW(ss, 10)"
	prog, err := Compile(groupedSelect(b, src), Env{})
	if err != nil {
		b.Fatal(err)
	}
	variants := []struct {
		prefix string
		value  func(i int) any
	}{
		{"", func(i int) any { return int64(i*7919%1000 - 500) }},
		{"float/", func(i int) any { return float64(i*7919%1000-500) / 7 }},
	}
	for _, vr := range variants {
		pool := func(n int) []map[string]any {
			rows := make([]map[string]any, n+1024)
			for i := range rows {
				rows[i] = map[string]any{"v": vr.value(i)}
			}
			return rows
		}
		for _, n := range []int{1000, 10000, 100000} {
			b.Run(fmt.Sprintf("%sincremental/%d", vr.prefix, n), func(b *testing.B) {
				rows := pool(n)
				in, _ := prog.Incremental()
				for i := range n {
					in.Add(rows[i])
				}
				b.ReportAllocs()
				i := n
				for b.Loop() {
					if err := in.Remove(rows[(i-n)%len(rows)]); err != nil {
						b.Fatal(err)
					}
					in.Add(rows[i%len(rows)])
					i++
					if out, err := in.Result(0, 1); err != nil || out[0]["n"] != int64(n) {
						b.Fatal(out, err)
					}
				}
			})
		}
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("%srecompute/%d", vr.prefix, n), func(b *testing.B) {
				rows := pool(n)
				win := make([]map[string]any, 0, 2*n)
				win = append(win, rows[:n]...)
				b.ReportAllocs()
				i := n
				for b.Loop() {
					win = append(win[1:], rows[i%len(rows)])
					if len(win) == cap(win) {
						win = append(make([]map[string]any, 0, 2*n), win...)
					}
					i++
					if out, err := prog.ProjectGroups(win, 0, 1); err != nil || out[0]["n"] != int64(n) {
						b.Fatal(out, err)
					}
				}
			})
		}
	}
}
