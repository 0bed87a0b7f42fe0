package window

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestFirstSequence checks Emission.First: numbers name the same row in
// every emission that holds it, rows are numbered in the order they are
// stored (a row numbered k+1 is never older than k), and across
// emissions First and First+len(Rows) never decrease, for every kind in
// processing and event time, sliding windows with and without a delay or
// a trigger included, Flush too.
func TestFirstSequence(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	specs := append([]Spec{
		{Kind: Sliding, Length: 500 * time.Millisecond},
		{Kind: Sliding, Length: time.Second, Interval: 300 * time.Millisecond},
		{Kind: Sliding, Length: time.Second, Trigger: func(r any) bool { return r.(row).ts%2 == 0 }},
		{Kind: Count, Count: 5},
	}, propertySpecs...)
	for _, spec := range specs {
		for _, eventTime := range []bool{false, true} {
			for round := range 10 {
				name := fmt.Sprintf("%v %v/%v event=%v round %d", spec.Kind, spec.Length, spec.Interval, eventTime, round)
				rows := randomRows(r, 300, 30000)
				s := spec
				s.EventTime = eventTime
				if eventTime {
					s.LateTolerance = 500 * time.Millisecond
					rows = shuffle(r, rows, 500)
				}
				w := mustNew(t, s)
				byNum := map[uint64]row{}
				var prevFirst, prevEnd uint64
				n := 0
				check := func(es []Emission) {
					for _, e := range es {
						end := e.First + uint64(len(e.Rows))
						if e.First < prevFirst || end < prevEnd {
							t.Fatalf("%s: emission [%d, %d) after [%d, %d)", name, e.First, end, prevFirst, prevEnd)
						}
						prevFirst, prevEnd = e.First, end
						for i, x := range e.Rows {
							k := e.First + uint64(i)
							if old, ok := byNum[k]; ok && old != x.(row) {
								t.Fatalf("%s: number %d is %v and %v", name, k, old, x)
							}
							byNum[k] = x.(row)
							if prev, ok := byNum[k-1]; ok && k > 0 && prev.ts > x.(row).ts {
								t.Fatalf("%s: number %d (%v) older than %d (%v)", name, k, x, k-1, prev)
							}
						}
						n++
					}
				}
				if !eventTime {
					check(w.Advance(at(0)))
				}
				for _, x := range rows {
					if !eventTime {
						for {
							due, ok := w.Next()
							if !ok || msOf(due) > x.ts {
								break
							}
							check(w.Advance(due))
						}
					}
					es, _, err := w.Add(at(x.ts), x)
					if err != nil {
						t.Fatal(err)
					}
					check(es)
				}
				check(w.Flush())
				if n == 0 {
					t.Fatalf("%s: no emissions", name)
				}
			}
		}
	}
}
