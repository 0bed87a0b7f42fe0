package portable_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine/portable"
	"github.com/kgen-dev/kgen/examples/portable/greet/greetfn"
	"github.com/kgen-dev/kgen/internal/testutil/enginetest"
	"github.com/kgen-dev/kgen/sdk"
)

func init() {
	// The greet function of the greet portable plugin, compiled in under
	// another name, for BenchmarkPortableFunction to compare against.
	sdk.RegisterFunction("greetCompiled", func() sdk.Function { return greetfn.Greet{} })
}

// BenchmarkPortableFunction runs `SELECT greet(name) AS g FROM s` in four
// rules of one engine: the function compiled in; greet from the greet
// portable plugin with options.functionBatchSize 1 and 64 (the default:
// two numbered batches in flight); and batch 64 with options.concurrency
// 1, one call at a time. Rounds interleave the rules (compiled, batch 1,
// batch 64, …) so that they see the same noise; each portable figure is
// reported as a ratio of the compiled-in rows/s of the same round
// (min/median/max), with its overhead per row in µs and allocations per
// row.
func BenchmarkPortableFunction(b *testing.B) {
	root := b.TempDir()
	install(b, root, "greet", "greet", "greet", "seen", "pid")
	e := openEngine(b, root, "  initTimeout: 20s\n")
	rules := []struct {
		id, fn string
		batch  int
		n      int // rows per round
	}{
		{"compiled", "greetCompiled", 1, 20000},
		{"batch1", "greet", 1, 1000},
		{"batch64", "greet", 64, 20000},
		{"batch64serial", "greet", 64, 20000}, // options.concurrency 1: one call at a time
	}
	for _, r := range rules {
		if _, err := e.CreateStream(fmt.Sprintf(`CREATE STREAM s_%s (name STRING) WITH (DATASOURCE="in/%s", TYPE="memory")`, r.id, r.id)); err != nil {
			b.Fatal(err)
		}
		rule := fmt.Sprintf(`{"id":%q,"sql":"SELECT %s(name) AS g FROM s_%s","actions":[{"nop":{}}],"options":{"functionBatchSize":%d%s}}`, r.id, r.fn, r.id, r.batch, conc(r.id))
		if _, err := e.CreateRule([]byte(rule)); err != nil {
			b.Fatal(err)
		}
	}
	payloads := make([][]byte, 64)
	for i := range payloads {
		payloads[i] = fmt.Appendf(nil, `{"name":"name%d"}`, i)
	}
	round := func(id string) func(int) {
		return func(n int) { enginetest.Pump(b, e, id, "in/"+id, payloads, n) }
	}
	for _, r := range rules { // warm up: plugin started, goroutines running
		round(r.id)(r.n / 10)
	}
	rounds := max(b.N, 5)
	rate := make([][]float64, len(rules))
	allocs := make([]float64, len(rules))
	ratios := make([][]float64, len(rules))
	b.ResetTimer()
	for range rounds {
		for i, r := range rules {
			perSec, a := enginetest.Measure(round(r.id), r.n)
			rate[i] = append(rate[i], perSec)
			allocs[i] += a / float64(rounds)
			ratios[i] = append(ratios[i], perSec/rate[0][len(rate[0])-1])
		}
	}
	b.StopTimer()
	for i, r := range rules {
		slices.Sort(rate[i])
		b.ReportMetric(rate[i][len(rate[i])/2], r.id+"-rows/s")
		b.ReportMetric(allocs[i], r.id+"-allocs/row")
		if i == 0 {
			continue
		}
		slices.Sort(ratios[i])
		b.ReportMetric(ratios[i][0], r.id+"-ratio-min")
		b.ReportMetric(ratios[i][len(ratios[i])/2], r.id+"-ratio-median")
		b.ReportMetric(ratios[i][len(ratios[i])-1], r.id+"-ratio-max")
		b.ReportMetric((1/rate[i][len(rate[i])/2]-1/rate[0][len(rate[0])/2])*1e6, r.id+"-µs/row-overhead")
	}
	if st, _ := e.RuleStatus("batch64"); st.Exceptions != 0 {
		b.Fatalf("batch64: %+v", st)
	}
}

// conc is the concurrency option of the benchmark's rule id, if any.
func conc(id string) string {
	if id == "batch64serial" {
		return `,"concurrency":1`
	}
	return ""
}

// BenchmarkPythonFunction calls echo of a Python plugin in batches of 1
// and 64 rows: the rows/s and the cost per row in µs of the Python SDK.
func BenchmarkPythonFunction(b *testing.B) {
	root := b.TempDir()
	installPython(b, root, "pyecho", "testdata/pyecho/pyecho.py", "echo")
	m := portable.NewManager(portable.Options{Root: root, PythonBin: testPython(), InitTimeout: 20 * time.Second})
	defer m.Close()
	if errs := m.Scan(); len(errs) > 0 {
		b.Fatal(errs)
	}
	fn, _ := m.Function("echo")
	if err := fn.Validate(nil); err == nil {
		b.Fatal("echo() validated")
	}
	for _, size := range []int{1, 64} {
		rows := make([][]any, size)
		for i := range rows {
			rows[i] = []any{fmt.Sprint("name", i)}
		}
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			n := 0
			for b.Loop() {
				res, errs := fn.ExecBatch(nil, rows)
				if errs[0] != nil || res[0] != "name0" {
					b.Fatalf("ExecBatch = %v, %v", res[0], errs[0])
				}
				n += size
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(n)
			b.ReportMetric(1e9/ns, "rows/s")
			b.ReportMetric(ns/1e3, "µs/row")
		})
	}
}
