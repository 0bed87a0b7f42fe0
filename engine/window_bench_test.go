package engine_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/internal/clock"
	"github.com/kgen-dev/kgen/internal/testutil/enginetest"
)

// BenchmarkWindowPipeline measures SELECT deviceId, avg(temperature),
// max(humidity) FROM demo GROUP BY deviceId, TUMBLINGWINDOW(ss, 1) over
// 1,000 device ids against the stateless pipeline (BenchmarkPipeline's
// rule) in the same run, in interleaved rounds: each windowed round feeds
// its messages and then moves the fake clock past the window's end, so the
// figure includes grouping, aggregating and handing the 1,000 result rows
// to the sink. It reports both rates, the ratio's min, median and max
// (target ≥ 0.6), allocations per message, and the bytes the open window
// holds per group.
func BenchmarkWindowPipeline(b *testing.B) {
	fake := clock.NewFake(time.UnixMilli(1700000000000))
	e, err := engine.Open(engine.Options{Root: b.TempDir(), Clock: fake})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	for _, s := range []string{
		`CREATE STREAM flat (temperature FLOAT, humidity BIGINT) WITH (DATASOURCE="bench/flat", TYPE="memory")`,
		`CREATE STREAM demo (deviceId STRING, temperature FLOAT, humidity BIGINT) WITH (DATASOURCE="bench/win", TYPE="memory")`,
	} {
		if _, err := e.CreateStream(s); err != nil {
			b.Fatal(err)
		}
	}
	for _, r := range []string{
		`{"id":"flat","sql":"SELECT temperature * 2 AS t, humidity FROM flat WHERE temperature > 50","actions":[{"nop":{}}]}`,
		`{"id":"win","sql":"SELECT deviceId, avg(temperature), max(humidity) FROM demo GROUP BY deviceId, TUMBLINGWINDOW(ss, 1)","actions":[{"nop":{}}]}`,
	} {
		if _, err := e.CreateRule([]byte(r)); err != nil {
			b.Fatal(err)
		}
	}
	const devices = windowDevices
	flatPayloads := benchPayloads(1000)
	winPayloads := windowPayloads()

	flat := func(n int) { enginetest.Pump(b, e, "flat", "bench/flat", flatPayloads, n) }
	window := func(n int) { windowRound(b, e, fake, "win", "bench/win", winPayloads, n) }
	window(2 * devices) // warm up
	flat(2000)

	// Bytes the open window holds per group: the heap grown by feeding a
	// window 10 messages per device, before it fires.
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	enginetest.Pump(b, e, "win", "bench/win", winPayloads, 10*devices)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	held := float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / devices
	fake.Add(time.Second)

	const rounds = 5
	n := max(b.N/rounds, devices)
	b.ResetTimer()
	c := enginetest.CompareRounds(rounds, n, window, flat)
	b.StopTimer()
	c.Report(b, "window", "stateless")
	b.ReportMetric(held, "held-B/group")
}
