package engine_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/rule"
	"github.com/kgen-dev/kgen/engine/window"
	"github.com/kgen-dev/kgen/internal/clock"
	"github.com/kgen-dev/kgen/internal/testutil/enginetest"
)

// BenchmarkQosPipeline measures what checkpoints cost: a rule at qos 1
// against the same rule at qos 0, in one engine, in interleaved rounds.
//
//   - stateful: SELECT temperature, testCount(1) AS total FROM demo, a
//     function that adds to a counter in its state for every row, with
//     checkpoints every 100ms and every second (the default);
//   - window: BenchmarkWindowPipeline's rule, 1,000 groups in a tumbling
//     window that a fake clock fires at the end of every round, with
//     checkpoints every 100ms.
//
// Checkpoints run on wall time, fake clock or not. A round at qos 1 lasts
// about a checkpoint interval, so that checkpoints fall into the rounds
// rather than between them; a window round holds at most half the
// window's row limit, and there are more rounds instead. b.N is the
// messages fed to each rule. The benchmark fails if the rule at qos 1 took
// no checkpoint. It reports both rates, the ratio qos 1 / qos 0 (min,
// median, max; target ≥ 0.8), allocations per message, and the
// checkpoints: all of the rule's, those taken while a round at qos 1 ran,
// and the longest duration and largest record among the last checkpoints
// seen at the end of those rounds.
func BenchmarkQosPipeline(b *testing.B) {
	stateful := qosCase{
		columns:  "temperature FLOAT, humidity BIGINT",
		sql:      "SELECT temperature, testCount(1) AS total FROM %s",
		payloads: benchPayloads(1000),
	}
	windowed := qosCase{
		columns:  "deviceId STRING, temperature FLOAT, humidity BIGINT",
		sql:      "SELECT deviceId, avg(temperature), max(humidity) FROM %s GROUP BY deviceId, TUMBLINGWINDOW(ss, 1)",
		payloads: windowPayloads(),
		window:   true,
	}
	b.Run("stateful/100ms", func(b *testing.B) { benchQos(b, stateful, `,"checkpointInterval":"100ms"`) })
	b.Run("stateful/1s", func(b *testing.B) { benchQos(b, stateful, "") }) // the default interval
	b.Run("window/100ms", func(b *testing.B) { benchQos(b, windowed, `,"checkpointInterval":"100ms"`) })
}

// qosCase is a rule of BenchmarkQosPipeline; sql has %s for its stream.
type qosCase struct {
	columns  string
	sql      string
	payloads [][]byte
	window   bool // fired by a fake clock at the end of every round
}

func benchQos(b *testing.B, c qosCase, option string) {
	var fake *clock.Fake
	opts := engine.Options{Root: b.TempDir()}
	if c.window {
		fake = clock.NewFake(time.UnixMilli(1700000000000))
		opts.Clock = fake
	}
	e, err := engine.Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	var round [2]func(n int)
	for qos := range 2 {
		id, topic, stream := fmt.Sprintf("qos%d", qos), fmt.Sprintf("bench/qos%d", qos), fmt.Sprintf("demo%d", qos)
		if _, err := e.CreateStream(fmt.Sprintf(`CREATE STREAM %s (%s) WITH (DATASOURCE=%q, TYPE="memory")`, stream, c.columns, topic)); err != nil {
			b.Fatal(err)
		}
		sql := fmt.Sprintf(c.sql, stream)
		opt := ""
		if qos > 0 {
			opt = option
		}
		def := fmt.Sprintf(`{"id":%q,"sql":%q,"actions":[{"nop":{}}],"options":{"qos":%d%s}}`, id, sql, qos, opt)
		if _, err := e.CreateRule([]byte(def)); err != nil {
			b.Fatal(err)
		}
		round[qos] = func(n int) { enginetest.Pump(b, e, id, topic, c.payloads, n) }
		if c.window {
			round[qos] = func(n int) { windowRound(b, e, fake, id, topic, c.payloads, n) }
		}
	}
	checkpoints := func() *rule.CheckpointStatus {
		st, _ := e.RuleStatus("qos1")
		return st.Checkpoints
	}
	var during int64             // checkpoints taken while a round at qos 1 ran
	var longest, largest float64 // of the last checkpoints seen at the end of those rounds
	qos1 := func(n int) {
		before := checkpoints().Count
		round[1](n)
		after := checkpoints()
		during += after.Count - before
		longest, largest = max(longest, after.LastMs), max(largest, float64(after.LastBytes))
	}

	const warm = 10 * windowDevices
	round[0](warm)
	round[1](warm)
	r0, _ := enginetest.Measure(round[0], warm)
	r1, _ := enginetest.Measure(round[1], warm)
	rate := max(r0, r1) // a short run underestimates more often than not
	interval := time.Duration(checkpoints().IntervalMs) * time.Millisecond
	rounds := 9
	n := max(b.N/rounds, int(rate*interval.Seconds()), windowDevices)
	if c.window && n > window.DefaultMaxRows/2 {
		// A round's rows stay in the window until it fires: more
		// rounds instead of longer ones.
		n = window.DefaultMaxRows / 2
		rounds = max(rounds, (b.N+n-1)/n)
	}
	b.ResetTimer()
	got := enginetest.CompareRounds(rounds, n, qos1, round[0])
	b.StopTimer()

	st := checkpoints()
	if st.Count == 0 {
		b.Fatalf("rule qos1 took no checkpoint in %d rounds of %d messages (interval %v)", rounds, n, interval)
	}
	if st.LastError != "" {
		b.Fatalf("checkpoint: %s", st.LastError)
	}
	got.Report(b, "qos1", "qos0")
	b.ReportMetric(float64(rounds), "rounds")
	b.ReportMetric(float64(n), "msgs/round")
	b.ReportMetric(float64(st.Count), "checkpoints")
	b.ReportMetric(float64(during), "checkpoints-in-qos1-rounds")
	b.ReportMetric(longest, "max-checkpoint-ms")
	b.ReportMetric(largest, "max-record-B")
}
