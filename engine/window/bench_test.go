package window

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkSlidingAdd adds one row per millisecond to a sliding window
// holding the last held rows: the cost per Add must not depend on held.
// "every row" emits a window per Add (a sub-slice, not a copy); "no
// trigger" only stores and evicts; "event time" also goes through the
// reorder heap, with rows up to 5 ms out of order. Its windows come in
// bursts, as the watermark releases rows five at a time, so its
// allocations per Add are below one and print as 0.
func BenchmarkSlidingAdd(b *testing.B) {
	never := func(any) bool { return false }
	for _, mode := range []struct {
		name    string
		trigger func(any) bool
		event   bool
	}{{"every row", nil, false}, {"no trigger", never, false}, {"event time", nil, true}} {
		for _, held := range []int{1000, 10000, 100000} {
			b.Run(fmt.Sprintf("%s/held=%d", mode.name, held), func(b *testing.B) {
				w, err := New(Spec{Kind: Sliding, Length: time.Duration(held-1) * time.Millisecond,
					Trigger: mode.trigger, EventTime: mode.event, LateTolerance: 10 * time.Millisecond,
					MaxRows: 2 * held, Location: time.UTC})
				if err != nil {
					b.Fatal(err)
				}
				var row any = "row"
				i := int64(0)
				add := func() int {
					// Each block of five rows comes after the next five.
					ts := i
					if mode.event && i%10 < 5 {
						ts += 5
					} else if mode.event {
						ts -= 5
					}
					i++
					out, late, err := w.Add(time.Unix(0, ts*int64(time.Millisecond)), row)
					if err != nil || late {
						b.Fatal(err, late)
					}
					return len(out)
				}
				for w.Held() < held {
					add()
				}
				b.ReportAllocs()
				for b.Loop() {
					add()
				}
				if h := w.Held(); h < held || h > held+20 {
					b.Fatalf("held %d rows, want about %d", h, held)
				}
			})
		}
	}
}
