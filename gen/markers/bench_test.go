package markers_test

import (
	"encoding/json"
	"testing"

	"github.com/kgen-dev/kgen/gen/markers/testdata/function"
	"github.com/kgen-dev/kgen/gen/markers/testdata/sink"
	"github.com/kgen-dev/kgen/sdk"
)

var sinkResult any

// BenchmarkFunction compares the generated wrapper (Exec with []any
// arguments, boxing the result) with a direct call of the typed func.
// Target: wrapper <= 1.5 x direct, plus the allocation boxing the result.
func BenchmarkFunction(b *testing.B) {
	const text = "the quick brown fox jumps over the lazy dog near the river bank"
	var direct, wrapped float64
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		var sum int64
		for b.Loop() {
			n, err := function.CountWords(text, " ")
			if err != nil {
				b.Fatal(err)
			}
			sum += n
		}
		sinkResult = sum
		direct = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("generated", func(b *testing.B) {
		fn := function.WordCount()
		args := []any{text, " "}
		b.ReportAllocs()
		for b.Loop() {
			res, ok := fn.Exec(nil, args)
			if !ok {
				b.Fatal(res)
			}
			sinkResult = res
		}
		wrapped = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	if direct > 0 && wrapped > 0 {
		b.Logf("generated/direct = %.2f", wrapped/direct)
	}
}

// BenchmarkSinkDecode compares the generated row decoding (through a sink
// that drops the row) with a JSON round trip into the same struct.
// Target: generated >= 5 x faster.
func BenchmarkSinkDecode(b *testing.B) {
	row := map[string]any{
		"level": int64(3), "message": "disk almost full", "tags": []any{"disk", "prod"}, "score": 0.75,
		"source": map[string]any{"host": "edge-1", "port": int64(8080)},
	}
	var gen, js float64
	b.Run("generated", func(b *testing.B) {
		ctor, _ := sdk.LookupSink("discard")
		s := ctor()
		if err := s.Provision(nil, nil); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Collect(nil, row); err != nil {
				b.Fatal(err)
			}
		}
		gen = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, err := json.Marshal(row)
			if err != nil {
				b.Fatal(err)
			}
			var a sink.AlertRow
			if err := json.Unmarshal(data, &a); err != nil {
				b.Fatal(err)
			}
			sinkResult = a
		}
		js = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	if gen > 0 && js > 0 {
		b.Logf("json/generated = %.1f", js/gen)
	}
}
