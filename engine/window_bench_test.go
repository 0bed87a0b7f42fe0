package engine_test

import (
	"fmt"
	"runtime"
	"slices"
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
	const devices = 1000
	flatPayloads := benchPayloads(1000)
	winPayloads := make([][]byte, 10*devices)
	for i := range winPayloads {
		winPayloads[i] = fmt.Appendf(nil, `{"deviceId": "d-%d", "temperature": %d.5, "humidity": %d}`, i%devices, 20+i%30, 40+i%20)
	}

	flat := func(n int) { enginetest.Pump(b, e, "flat", "bench/flat", flatPayloads, n) }
	window := func(n int) {
		enginetest.Pump(b, e, "win", "bench/win", winPayloads, n)
		st, _ := e.RuleStatus("win")
		fake.Add(time.Second) // the window fires here, in this goroutine
		for {
			now, _ := e.RuleStatus("win")
			if now.RecordsOut > st.RecordsOut && now.Sinks[0].RecordsOut == now.RecordsOut {
				if now.Exceptions != 0 {
					b.Fatalf("exceptions: %s", now.LastError)
				}
				return
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
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
	var ratios []float64
	var winRate, flatRate, winAllocs, flatAllocs float64
	b.ResetTimer()
	for range rounds {
		wr, wa := measure(window, n)
		fr, fa := measure(flat, n)
		ratios = append(ratios, wr/fr)
		winRate, flatRate, winAllocs, flatAllocs = winRate+wr/rounds, flatRate+fr/rounds, winAllocs+wa/rounds, flatAllocs+fa/rounds
	}
	b.StopTimer()
	slices.Sort(ratios)
	b.ReportMetric(winRate, "window-msgs/s")
	b.ReportMetric(flatRate, "stateless-msgs/s")
	b.ReportMetric(ratios[0], "ratio-min")
	b.ReportMetric(ratios[rounds/2], "ratio-median")
	b.ReportMetric(ratios[rounds-1], "ratio-max")
	b.ReportMetric(winAllocs, "window-allocs/msg")
	b.ReportMetric(flatAllocs, "stateless-allocs/msg")
	b.ReportMetric(held, "held-B/group")
}
