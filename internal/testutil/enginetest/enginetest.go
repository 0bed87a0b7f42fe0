// Package enginetest drives an in-process engine for benchmarks: it feeds
// a rule and waits until the rule has handled what it was fed.
package enginetest

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
)

// Pump publishes n payloads (cycling through payloads) to topic on e's
// memory hub, then waits until rule id has taken in all of them and its
// first sink has written every row the rule put out, nothing left in
// flight. An exception fails t.
func Pump(t testing.TB, e *engine.Engine, id, topic string, payloads [][]byte, n int) {
	t.Helper()
	before, err := e.RuleStatus(id)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range n {
		if err := e.MemoryHub().PublishPayload(ctx, topic, payloads[i%len(payloads)]); err != nil {
			t.Fatal(err)
		}
	}
	want := before.RecordsIn + int64(n)
	// Polling costs CPU that the rule would otherwise have: poll rarely
	// while a long run goes on, at most 1/20 of the time so far apart, so
	// the wait adds at most 5 % and the polling next to nothing.
	start := time.Now()
	for {
		st, _ := e.RuleStatus(id)
		if st.RecordsIn == want && st.InFlight == 0 && st.Sinks[0].RecordsOut == st.RecordsOut {
			if st.Exceptions != 0 {
				t.Fatalf("rule %q: exceptions: %s", id, st.LastError)
			}
			return
		}
		time.Sleep(min(max(time.Since(start)/20, 50*time.Microsecond), time.Millisecond))
	}
}

// Measure runs f over n messages and returns messages per second and
// allocations per message.
func Measure(f func(int), n int) (perSec, allocs float64) {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	start := time.Now()
	f(n)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&m1)
	return float64(n) / elapsed.Seconds(), float64(m1.Mallocs-m0.Mallocs) / float64(n)
}

// Comparison is what interleaved rounds of two pipelines measured.
type Comparison struct {
	Rate, Allocs [2]float64 // means over the rounds: messages per second, allocations per message
	Ratios       []float64  // the first pipeline's rate over the second's, per round, sorted
}

// CompareRounds runs first and then second over n messages each, rounds
// times, so that both see the same noise of a shared machine.
func CompareRounds(rounds, n int, first, second func(int)) Comparison {
	var c Comparison
	for range rounds {
		r0, a0 := Measure(first, n)
		r1, a1 := Measure(second, n)
		c.Ratios = append(c.Ratios, r0/r1)
		c.Rate[0], c.Rate[1] = c.Rate[0]+r0/float64(rounds), c.Rate[1]+r1/float64(rounds)
		c.Allocs[0], c.Allocs[1] = c.Allocs[0]+a0/float64(rounds), c.Allocs[1]+a1/float64(rounds)
	}
	slices.Sort(c.Ratios)
	return c
}

// Report reports both rates, the ratio's min, median and max, and
// allocations per message, naming the pipelines first and second.
func (c Comparison) Report(b *testing.B, first, second string) {
	b.ReportMetric(c.Rate[0], first+"-msgs/s")
	b.ReportMetric(c.Rate[1], second+"-msgs/s")
	b.ReportMetric(c.Ratios[0], "ratio-min")
	b.ReportMetric(c.Ratios[len(c.Ratios)/2], "ratio-median")
	b.ReportMetric(c.Ratios[len(c.Ratios)-1], "ratio-max")
	b.ReportMetric(c.Allocs[0], first+"-allocs/msg")
	b.ReportMetric(c.Allocs[1], second+"-allocs/msg")
}
