package window

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// randomRows is n rows with distinct timestamps in [0, span) ms, sorted, in
// bursts and gaps so that sessions both time out and get cut.
func randomRows(r *rand.Rand, n int, span int64) []row {
	seen := map[int64]bool{}
	var rows []row
	for len(rows) < n {
		ts := r.Int64N(span)
		if r.IntN(3) == 0 {
			ts = ts / 4000 * 4000 // bunch up near 4 s marks
			ts += r.Int64N(300)
		}
		if !seen[ts] {
			seen[ts] = true
			rows = append(rows, row{fmt.Sprint(ts), ts})
		}
	}
	slices.SortFunc(rows, func(a, b row) int { return int(a.ts - b.ts) })
	return rows
}

// shuffle moves each row at most d ms away from its place in time.
func shuffle(r *rand.Rand, rows []row, d int64) []row {
	type keyed struct {
		key int64
		row row
	}
	ks := make([]keyed, len(rows))
	for i, x := range rows {
		ks[i] = keyed{x.ts + r.Int64N(d+1), x}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return int(a.key - b.key) })
	out := make([]row, len(ks))
	for i, k := range ks {
		out[i] = k.row
	}
	return out
}

var propertySpecs = []Spec{
	{Kind: Tumbling, Length: time.Second, Unit: time.Second},
	{Kind: Hopping, Length: 3 * time.Second, Interval: time.Second, Unit: time.Second},
	{Kind: Hopping, Length: time.Second, Interval: 2 * time.Second, Unit: time.Second},
	{Kind: Sliding, Length: time.Second},
	{Kind: Sliding, Length: time.Second, Interval: 300 * time.Millisecond, Trigger: func(r any) bool { return r.(row).ts%3 == 0 }},
	{Kind: Session, Length: 2 * time.Second, Interval: 700 * time.Millisecond, Unit: time.Second},
	{Kind: Count, Count: 4, CountHop: 3},
}

// TestOutOfOrder: rows shuffled by up to d, with a tolerance of d, give the
// windows the same rows in order give with no tolerance (but for empty
// windows, which depend on how the watermark jumps), Flush included.
func TestOutOfOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const d = 800
	for _, spec := range propertySpecs {
		for round := range 20 {
			rows := randomRows(r, 200, 30000)
			name := fmt.Sprintf("%v %v/%v/round %d", spec.Kind, spec.Length, spec.Interval, round)
			run := func(rows []row, tolerance time.Duration) []got {
				s := spec
				s.EventTime, s.LateTolerance = true, tolerance
				w := mustNew(t, s)
				out, late := runEvent(t, w, rows)
				if late != nil {
					t.Fatalf("%s: late %v", name, late)
				}
				out = append(out, conv(w.Flush())...)
				return slices.DeleteFunc(out, func(g got) bool { return g.rows == "" })
			}
			want := run(rows, 0)
			if got := run(shuffle(r, rows, d), d*time.Millisecond); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s:\ngot  %v\nwant %v", name, got, want)
			}
			if len(want) == 0 {
				t.Fatalf("%s: no windows", name)
			}
		}
	}
}

// TestAgainstModel compares processing-time windows with their definitions
// computed the slow way from all the rows.
func TestAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	names := func(rows []row, keep func(row) bool) string {
		var s []string
		for _, x := range rows {
			if keep(x) {
				s = append(s, x.name)
			}
		}
		return strings.Join(s, " ")
	}
	for _, spec := range propertySpecs {
		if spec.Kind == Session {
			continue // covered by the reference cases and TestOutOfOrder
		}
		for round := range 20 {
			rows := randomRows(r, 200, 30000)
			last := rows[len(rows)-1].ts
			var want []got
			switch spec.Kind {
			case Tumbling, Hopping:
				length, hop := spec.Length.Milliseconds(), spec.Interval.Milliseconds()
				if hop == 0 {
					hop = length
				}
				for end := hop; end-length <= last; end += hop { // at(0) is aligned to all of them
					want = append(want, got{end - length, end, names(rows, func(x row) bool { return end-length <= x.ts && x.ts < end })})
				}
			case Sliding:
				length, delay := spec.Length.Milliseconds(), spec.Interval.Milliseconds()
				for _, tr := range rows {
					if spec.Trigger != nil && !spec.Trigger(tr) {
						continue
					}
					t0 := tr.ts
					in := func(x row) bool { return t0-length <= x.ts && x.ts <= t0 }
					if delay > 0 {
						in = func(x row) bool { return t0-length <= x.ts && x.ts < t0+delay }
					}
					want = append(want, got{t0 - length, t0 + delay, names(rows, in)})
				}
			case Count:
				n, hop := spec.Count, spec.CountHop
				for i := hop - 1; i < len(rows); i += hop {
					if i+1 >= n {
						want = append(want, got{rows[i+1-n].ts, rows[i].ts, names(rows[i+1-n:i+1], func(row) bool { return true })})
					}
				}
			}
			w := mustNew(t, spec)
			out := runProc(t, w, 0, rows, last, true)
			out = append(out, conv(w.Flush())...)
			if spec.Kind == Tumbling || spec.Kind == Hopping {
				out = slices.DeleteFunc(out, func(g got) bool { return g.rows == "" })
				want = slices.DeleteFunc(want, func(g got) bool { return g.rows == "" })
			}
			if !reflect.DeepEqual(out, want) {
				t.Fatalf("%v round %d:\ngot  %v\nwant %v", spec, round, out, want)
			}
		}
	}
}
