package engine_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/internal/clock"
	"github.com/kgen-dev/kgen/internal/testutil/enginetest"
)

// comparison is what interleaved rounds of two pipelines measured.
type comparison struct {
	rate, allocs [2]float64 // means over the rounds: messages per second, allocations per message
	ratios       []float64  // the first pipeline's rate over the second's, per round, sorted
}

// compareRounds runs first and then second over n messages each, rounds
// times, so that both see the same noise of a shared machine.
func compareRounds(rounds, n int, first, second func(int)) comparison {
	var c comparison
	for range rounds {
		r0, a0 := measure(first, n)
		r1, a1 := measure(second, n)
		c.ratios = append(c.ratios, r0/r1)
		c.rate[0], c.rate[1] = c.rate[0]+r0/float64(rounds), c.rate[1]+r1/float64(rounds)
		c.allocs[0], c.allocs[1] = c.allocs[0]+a0/float64(rounds), c.allocs[1]+a1/float64(rounds)
	}
	slices.Sort(c.ratios)
	return c
}

// report reports both rates, the ratio's min, median and max, and
// allocations per message, naming the pipelines first and second.
func (c comparison) report(b *testing.B, first, second string) {
	b.ReportMetric(c.rate[0], first+"-msgs/s")
	b.ReportMetric(c.rate[1], second+"-msgs/s")
	b.ReportMetric(c.ratios[0], "ratio-min")
	b.ReportMetric(c.ratios[len(c.ratios)/2], "ratio-median")
	b.ReportMetric(c.ratios[len(c.ratios)-1], "ratio-max")
	b.ReportMetric(c.allocs[0], first+"-allocs/msg")
	b.ReportMetric(c.allocs[1], second+"-allocs/msg")
}

// windowDevices is how many groups the windowed benchmarks' rule keeps.
const windowDevices = 1000

// windowPayloads are messages of a stream (deviceId STRING, temperature
// FLOAT, humidity BIGINT), ten per device.
func windowPayloads() [][]byte {
	out := make([][]byte, 10*windowDevices)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"deviceId": "d-%d", "temperature": %d.5, "humidity": %d}`, i%windowDevices, 20+i%30, 40+i%20)
	}
	return out
}

// windowRound feeds n payloads to the windowed rule id over topic, then
// moves the fake clock a second on, so that the window fires in this
// goroutine, and waits until the rule's sink has written the rows it fired.
func windowRound(b *testing.B, e *engine.Engine, fake *clock.Fake, id, topic string, payloads [][]byte, n int) {
	enginetest.Pump(b, e, id, topic, payloads, n)
	st, _ := e.RuleStatus(id)
	fake.Add(time.Second)
	for {
		now, _ := e.RuleStatus(id)
		if now.RecordsOut > st.RecordsOut && now.Sinks[0].RecordsOut == now.RecordsOut {
			if now.Exceptions != 0 {
				b.Fatalf("exceptions: %s", now.LastError)
			}
			return
		}
		time.Sleep(50 * time.Microsecond)
	}
}
