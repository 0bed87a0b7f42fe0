package engine_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/internal/testutil/enginetest"
)

// benchPayloads are JSON messages of the demo stream; half pass the WHERE.
func benchPayloads(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"temperature": %d.5, "humidity": %d, "device": "s-%d", "ts": %d}`, 25+i%50, 40+i%20, i%100, 1700000000000+i)
	}
	return out
}

// BenchmarkPipeline runs JSON payloads through memory source → SELECT
// temperature * 2 AS t, humidity FROM demo WHERE temperature > 50 → nop sink,
// and in the same run decodes the same payloads with bare json.Unmarshal into
// a map: the limit the pipeline is measured against. It reports messages per
// second of both, their ratio (target ≥ 0.5) and allocations per message.
func BenchmarkPipeline(b *testing.B) {
	e, err := engine.Open(engine.Options{Root: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if _, err := e.CreateStream(`CREATE STREAM demo (temperature FLOAT, humidity BIGINT) WITH (DATASOURCE="bench/demo", TYPE="memory")`); err != nil {
		b.Fatal(err)
	}
	if _, err := e.CreateRule([]byte(`{"id":"bench","sql":"SELECT temperature * 2 AS t, humidity FROM demo WHERE temperature > 50","actions":[{"nop":{}}]}`)); err != nil {
		b.Fatal(err)
	}
	payloads := benchPayloads(1000)

	// Done when every message was processed and every passing row written.
	pipeline := func(n int) { enginetest.Pump(b, e, "bench", "bench/demo", payloads, n) }
	decode := func(n int) {
		for i := range n {
			var m map[string]any
			if err := json.Unmarshal(payloads[i%len(payloads)], &m); err != nil {
				b.Fatal(err)
			}
		}
	}
	pipeline(2000) // warm up

	b.ResetTimer()
	pipeRate, pipeAllocs := enginetest.Measure(pipeline, b.N)
	b.StopTimer()
	decRate, decAllocs := enginetest.Measure(decode, b.N)
	b.ReportMetric(pipeRate, "pipeline-msgs/s")
	b.ReportMetric(decRate, "decode-msgs/s")
	b.ReportMetric(pipeRate/decRate, "ratio")
	b.ReportMetric(pipeAllocs, "pipeline-allocs/msg")
	b.ReportMetric(decAllocs, "decode-allocs/msg")
}
