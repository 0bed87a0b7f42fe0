package plugin

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/kgen-dev/kgen/internal/testutil"
	"github.com/kgen-dev/kgen/sdk"
)

var sink any

// BenchmarkPluginCall is the per-call cost of one function loaded from a
// .so (through the Manager, checked first), compiled in (the same code
// behind sdk.Function) and called directly. The .so is built against this
// test binary, so it loads into the benchmark process.
func BenchmarkPluginCall(b *testing.B) {
	root := b.TempDir()
	src, err := os.ReadFile("words_test.go")
	if err != nil {
		b.Fatal(err)
	}
	src = bytes.Replace(src, []byte("package plugin"), []byte("package main"), 1)
	buildFixture(b, "kgenfixture/bench", string(src)+"\nfunc BenchWords() sdk.Function { return words{} }\n\nfunc main() {}\n",
		filepath.Join(root, "plugins", "functions", "BenchWords.so"))
	m := NewManager(root, testutil.BuildInfo(b), nil)
	if errs := m.Scan(); len(errs) > 0 {
		b.Fatal(errs)
	}
	ctor, ok := m.Function("benchWords")
	if !ok {
		b.Fatal("benchWords not loaded")
	}
	args := []any{"the quick brown fox jumps over the lazy dog"}
	run := func(b *testing.B, f sdk.Function) {
		for b.Loop() {
			sink, _ = f.Exec(nil, args)
		}
	}
	b.Run("so", func(b *testing.B) { run(b, ctor()) })
	b.Run("compiled", func(b *testing.B) { run(b, sdk.Function(words{})) })
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			sink = countWords(args[0].(string))
		}
	})
}
