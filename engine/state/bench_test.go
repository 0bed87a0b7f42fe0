package state_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine/state"
	"github.com/kgen-dev/kgen/engine/store"
	"github.com/kgen-dev/kgen/internal/testutil/redistest"
)

// countingKV is a real store that tallies what reaches its Commit: how many
// writes, how long they took and how many bytes they carried. The Manager
// writes only through Commit, so its flushes and checkpoints are these.
type countingKV struct {
	store.KV
	commits atomic.Int64
	nanos   atomic.Int64
	bytes   atomic.Int64
}

func (c *countingKV) Commit(w store.Write) (map[string]map[string]int64, error) {
	start := time.Now()
	totals, err := c.KV.Commit(w)
	c.nanos.Add(int64(time.Since(start)))
	c.commits.Add(1)
	c.bytes.Add(writeSize(w))
	return totals, err
}

func (c *countingKV) reset() {
	c.commits.Store(0)
	c.nanos.Store(0)
	c.bytes.Store(0)
}

// writeSize is the payload of a Write: each put's key and value, and each
// add's key and its amount as 8 bytes.
func writeSize(w store.Write) int64 {
	var n int
	for _, kv := range w.Puts {
		for k, v := range kv {
			n += len(k) + len(v)
		}
	}
	for _, kv := range w.Adds {
		for k := range kv {
			n += len(k) + 8
		}
	}
	return int64(n)
}

// benchStores open each backend of the state store, empty, for a benchmark.
var benchStores = []struct {
	name string
	open func(b *testing.B) store.KV
}{
	{"mem", func(*testing.B) store.KV { return store.NewMem() }},
	{"bolt", func(b *testing.B) store.KV {
		kv, err := store.OpenBolt(filepath.Join(b.TempDir(), "state.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { kv.Close() })
		return kv
	}},
	{"redis", func(b *testing.B) store.KV {
		kv, err := store.OpenRedis(store.RedisOptions{Addr: redistest.Start(b).Addr()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { kv.Close() })
		return kv
	}},
}

// scopeSeq names a fresh scope for every run of a benchmark on one store.
var scopeSeq atomic.Int64

// BenchmarkStateOps measures the state methods of a scope whose Manager
// flushes every 10ms to a real store, so each figure includes its share of
// the flushes: IncrCounter over 64 keys and on one hot key, GetState and
// PutState (a short string) over 64 keys, from 1 goroutine and from 8 (on
// however many cores there are). It reports the flushes that happened and
// their mean duration.
func BenchmarkStateOps(b *testing.B) {
	const nkeys = 64
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("key%02d", i)
	}
	var value any = "a small value" // boxed once: the cost of the scope, not of the conversion
	ops := []struct {
		name string
		fill bool // the keys hold values before the benchmark
		op   func(s *state.Scope, i int) error
	}{
		{"IncrCounter/64keys", false, func(s *state.Scope, i int) error { return s.IncrCounter(keys[i%nkeys], 1) }},
		{"IncrCounter/hotkey", false, func(s *state.Scope, _ int) error { return s.IncrCounter("hot", 1) }},
		{"GetState/64keys", true, func(s *state.Scope, i int) error { _, err := s.GetState(keys[i%nkeys]); return err }},
		{"PutState/64keys", false, func(s *state.Scope, i int) error { return s.PutState(keys[i%nkeys], value) }},
	}
	for _, be := range benchStores {
		b.Run(be.name, func(b *testing.B) {
			kv := be.open(b)
			for _, op := range ops {
				for _, g := range []int{1, 8} {
					b.Run(fmt.Sprintf("%s/g%d", op.name, g), func(b *testing.B) {
						ckv := &countingKV{KV: kv}
						m := state.NewManager(ckv, 10*time.Millisecond, nil)
						defer m.Close()
						s := m.Scope(fmt.Sprintf("bench%d/f", scopeSeq.Add(1)))
						if op.fill {
							for _, k := range keys {
								if err := s.PutState(k, value); err != nil {
									b.Fatal(err)
								}
							}
						}
						if err := s.Load(); err != nil {
							b.Fatal(err)
						}
						if err := m.Flush(); err != nil {
							b.Fatal(err)
						}
						ckv.reset()
						b.ReportAllocs()
						b.ResetTimer()
						if g == 1 {
							for i := 0; i < b.N; i++ {
								if err := op.op(s, i); err != nil {
									b.Fatal(err)
								}
							}
						} else {
							procs := runtime.GOMAXPROCS(0)
							b.SetParallelism((g + procs - 1) / procs)
							var seq atomic.Int64
							b.RunParallel(func(pb *testing.PB) {
								i := int(seq.Add(1)) * (nkeys / 8) // goroutines start apart
								for pb.Next() {
									if err := op.op(s, i); err != nil {
										b.Error(err)
										return
									}
									i++
								}
							})
						}
						b.StopTimer()
						flushes := ckv.commits.Load()
						b.ReportMetric(float64(flushes), "flushes")
						if flushes > 0 {
							b.ReportMetric(float64(ckv.nanos.Load())/float64(flushes)/1e3, "us/flush")
						}
					})
				}
			}
		})
	}
}

// BenchmarkCheckpoint100k measures one checkpoint of a scope with 100,000
// changed keys, half counters (IncrCounter) and half strings (PutState):
// Capture, then Commit with a checkpoint record of 300 bytes, as a rule at
// qos 1 does. The keys are changed again between checkpoints, outside the
// timer. It reports milliseconds per checkpoint, of which the store's
// Commit, and the bytes each checkpoint writes.
func BenchmarkCheckpoint100k(b *testing.B) {
	const nkeys = 100_000
	keys := make([]string, nkeys)
	values := [2][]any{make([]any, nkeys), make([]any, nkeys)}
	for i := range keys {
		keys[i] = fmt.Sprintf("key%06d", i)
		values[0][i] = fmt.Sprintf("value-a-%06d", i)
		values[1][i] = fmt.Sprintf("value-b-%06d", i)
	}
	record := bytes.Repeat([]byte{'r'}, 300)
	extra := store.Write{Puts: map[string]map[string][]byte{"checkpoints": {"bench\x00local": record}}}
	for _, be := range benchStores {
		b.Run(be.name, func(b *testing.B) {
			ckv := &countingKV{KV: be.open(b)}
			// No background flush: as for a rule at qos 1, the
			// checkpoints alone write the scope.
			m := state.NewManager(ckv, 0, nil)
			defer m.Close()
			s := m.Scope(fmt.Sprintf("bench%d/f", scopeSeq.Add(1)))
			change := func(round int) {
				for i, k := range keys {
					var err error
					if i%2 == 0 {
						err = s.IncrCounter(k, 1)
					} else {
						err = s.PutState(k, values[round%2][i])
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			checkpoint := func() {
				if err := m.Commit([]state.Changes{s.Capture()}, extra); err != nil {
					b.Fatal(err)
				}
			}
			change(0) // the first checkpoint creates the keys; measure the ones after
			checkpoint()
			ckv.reset()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				change(i + 1)
				b.StartTimer()
				checkpoint()
			}
			b.StopTimer()
			n := float64(b.N)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n/1e6, "ms/checkpoint")
			b.ReportMetric(float64(ckv.nanos.Load())/n/1e6, "store-ms/checkpoint")
			b.ReportMetric(float64(ckv.bytes.Load())/n, "B/checkpoint")
		})
	}
}
