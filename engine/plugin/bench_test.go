package plugin

import (
	"path/filepath"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

// wordsSrc is the function the benchmark calls three ways. The .so fixture
// and the compiled-in copy below are the same text.
const wordsSrc = `
type words struct{}

func (words) Validate([]sdk.Arg) error { return nil }
func (words) Exec(_ sdk.FunctionContext, args []any) (any, bool) {
	s, _ := args[0].(string)
	return countWords(s), true
}
func (words) IsAggregate() bool { return false }

func countWords(s string) int64 {
	n, in := int64(0), false
	for i := 0; i < len(s); i++ {
		sp := s[i] == ' '
		if !sp && !in {
			n++
		}
		in = !sp
	}
	return n
}
`

type words struct{}

func (words) Validate([]sdk.Arg) error { return nil }
func (words) Exec(_ sdk.FunctionContext, args []any) (any, bool) {
	s, _ := args[0].(string)
	return countWords(s), true
}
func (words) IsAggregate() bool { return false }

func countWords(s string) int64 {
	n, in := int64(0), false
	for i := 0; i < len(s); i++ {
		sp := s[i] == ' '
		if !sp && !in {
			n++
		}
		in = !sp
	}
	return n
}

var sink any

// BenchmarkPluginCall is the per-call cost of one function loaded from a
// .so (through the Manager, checked first), compiled in (the same code
// behind sdk.Function) and called directly. The .so is built against this
// test binary, so it loads into the benchmark process.
func BenchmarkPluginCall(b *testing.B) {
	root := b.TempDir()
	buildFixture(b, "kgenfixture/bench", "package main\n\nimport \"github.com/kgen-dev/kgen/sdk\"\n"+wordsSrc+
		"\nfunc BenchWords() sdk.Function { return words{} }\n\nfunc main() {}\n",
		filepath.Join(root, "plugins", "functions", "BenchWords.so"))
	m := NewManager(root, selfInfo(b), nil)
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
