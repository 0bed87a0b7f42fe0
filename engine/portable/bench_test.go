package portable_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine/portable"
	"github.com/kgen-dev/kgen/examples/portable/greet/greetfn"
)

// BenchmarkPortableFunction calls greet through the portable plugin in
// batches of 1 and 64 rows and, in the same run, the same function
// compiled in, reporting the plugin's rows/s as a ratio of the compiled-in
// rows/s and its overhead per row in µs.
func BenchmarkPortableFunction(b *testing.B) {
	root := b.TempDir()
	install(b, root, "greet", "greet", "greet", "seen", "pid")
	m := portable.NewManager(portable.Options{Root: root})
	defer m.Close()
	if errs := m.Scan(); len(errs) > 0 {
		b.Fatal(errs)
	}
	fn, _ := m.Function("greet")
	if err := fn.Validate(nil); err == nil {
		b.Fatal("greet() validated")
	}
	compiled := greetfn.Greet{}
	for _, size := range []int{1, 64} {
		rows := make([][]any, size)
		for i := range rows {
			rows[i] = []any{fmt.Sprint("name", i)}
		}
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			n := 0
			for b.Loop() {
				res, errs := fn.ExecBatch(nil, rows)
				if errs[0] != nil || res[0] != "hello, name0" {
					b.Fatalf("ExecBatch = %v, %v", res[0], errs[0])
				}
				n += size
			}
			portableNs := float64(b.Elapsed().Nanoseconds()) / float64(n)
			start := time.Now()
			for i := range n {
				if _, ok := compiled.Exec(nil, rows[i%size]); !ok {
					b.Fatal("compiled greet failed")
				}
			}
			compiledNs := float64(time.Since(start).Nanoseconds()) / float64(n)
			b.ReportMetric(1e9/portableNs, "rows/s")
			b.ReportMetric(compiledNs/portableNs, "ratio")
			b.ReportMetric((portableNs-compiledNs)/1e3, "µs/row-overhead")
		})
	}
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
