package store

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// benchKVs runs a benchmark against every KV implementation.
func benchKVs(b *testing.B, bench func(b *testing.B, kv KV)) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { bench(b, be.open(b)) })
	}
}

func BenchmarkCommit(b *testing.B) {
	b.Run("add", func(b *testing.B) {
		benchKVs(b, func(b *testing.B, kv KV) {
			w := Write{Adds: adds{"counts": {"n": 1}}}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := kv.Commit(w); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("puts100", func(b *testing.B) {
		benchKVs(b, func(b *testing.B, kv KV) {
			p := map[string][]byte{}
			for i := range 100 {
				p[fmt.Sprintf("rule1/op%03d", i)] = make([]byte, 100)
			}
			w := Write{Puts: puts{"state": p}}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := kv.Commit(w); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkCommitParallel has 8 goroutines add to one counter.
func BenchmarkCommitParallel(b *testing.B) {
	benchKVs(b, func(b *testing.B, kv KV) {
		b.SetParallelism((8 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		w := Write{Adds: adds{"counts": {"n": 1}}}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := kv.Commit(w); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkOpenBolt opens a store of 100k keys: "checked" is OpenBolt, with
// its file check and full read; "bbolt" is bbolt's own open, for the cost
// of those.
func BenchmarkOpenBolt(b *testing.B) {
	path := filepath.Join(b.TempDir(), "kgen.db")
	kv, err := OpenBolt(path)
	if err != nil {
		b.Fatal(err)
	}
	for bucket := range 4 {
		for batch := range 5 {
			p := map[string][]byte{}
			for i := range 5000 {
				p[fmt.Sprintf("rule%d/op%06d", batch, i)] = make([]byte, 100)
			}
			if err := kv.Apply(fmt.Sprintf("b%d", bucket), p); err != nil {
				b.Fatal(err)
			}
		}
	}
	kv.Close()
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("checked", func(b *testing.B) {
		for b.Loop() {
			kv, err := OpenBolt(path)
			if err != nil {
				b.Fatal(err)
			}
			kv.Close()
		}
		b.ReportMetric(float64(st.Size())/1e6, "file-MB")
	})
	b.Run("bbolt", func(b *testing.B) {
		for b.Loop() {
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				b.Fatal(err)
			}
			db.Close()
		}
	})
}
