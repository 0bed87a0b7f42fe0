package state

import (
	"slices"
	"sync"
	"testing"

	"github.com/kgen-dev/kgen/engine/store"
)

func counter(t *testing.T, s *Scope, key string) int {
	t.Helper()
	n, err := s.GetCounter(key)
	check(t, err)
	return n
}

// A held scope is left alone by the flush; Capture and Commit write it,
// together with extra keys, in one write.
func TestHoldCaptureCommit(t *testing.T) {
	m, kv := newManager(t)
	m.Hold("r1/")
	held, free := m.Scope("r1/f"), m.Scope("r10/f")
	check(t, held.IncrCounter("n", 2))
	check(t, held.PutState("s", "x"))
	check(t, free.IncrCounter("n", 5))
	check(t, m.Flush())
	if _, ok, _ := kv.Get(CounterBucket, "r1/f\x00n"); ok {
		t.Fatal("the flush wrote a held scope")
	}
	if v, _, _ := kv.Get(CounterBucket, "r10/f\x00n"); string(v) != "5" {
		t.Fatalf("the flush wrote %q for a scope not held, want 5", v)
	}
	c := held.Capture()
	check(t, held.IncrCounter("n", 1)) // after the capture: the next one's
	extra := store.Write{Puts: map[string]map[string][]byte{"checkpoints": {"r1": []byte("rec")}}}
	check(t, m.Commit([]Changes{c}, extra))
	if v, _, _ := kv.Get(CounterBucket, "r1/f\x00n"); string(v) != "2" {
		t.Fatalf("committed counter %q, want 2 (the value at the capture)", v)
	}
	if v, _, _ := kv.Get("checkpoints", "r1"); string(v) != "rec" {
		t.Fatal("extra puts not written")
	}
	if got := counter(t, held, "n"); got != 3 {
		t.Fatalf("counter after commit %d, want 3", got)
	}
	check(t, m.Commit([]Changes{held.Capture()}, store.Write{}))
	if v, _, _ := kv.Get(CounterBucket, "r1/f\x00n"); string(v) != "3" {
		t.Fatalf("second commit wrote %q, want 3", v)
	}
	// Released, the flush writes it again.
	check(t, held.IncrCounter("n", 1))
	m.Release("r1/")
	check(t, m.Flush())
	if v, _, _ := kv.Get(CounterBucket, "r1/f\x00n"); string(v) != "4" {
		t.Fatalf("after Release the flush wrote %q, want 4", v)
	}
}

// Changes of a failed or abandoned checkpoint are written by the next:
// increments add up, a value set since stands.
func TestAbandonedChangesComeBack(t *testing.T) {
	kv := &failingKV{KV: store.NewMem()}
	m := NewManager(kv, 0, nil)
	m.Hold("r/")
	s := m.Scope("r/f")
	check(t, s.IncrCounter("n", 2))
	check(t, s.PutState("v", "a"))
	check(t, s.IncrCounter("m", 1))
	kv.failApply = true
	if err := m.Commit([]Changes{s.Capture()}, store.Write{}); err == nil {
		t.Fatal("commit on a failing store worked")
	}
	kv.failApply = false
	check(t, s.IncrCounter("n", 3))
	check(t, s.PutState("m", 10)) // set: stands over the lost increment
	c := s.Capture()
	m.Abandon([]Changes{c})
	check(t, m.Commit([]Changes{s.Capture()}, store.Write{}))
	m2 := NewManager(kv.KV, 0, nil)
	r := m2.Scope("r/f")
	if n, m := counter(t, r, "n"), counter(t, r, "m"); n != 5 || m != 10 {
		t.Fatalf("after reload n=%d m=%d, want 5 and 10", n, m)
	}
	if v, _ := r.GetState("v"); v != "a" {
		t.Fatalf("v = %v, want a", v)
	}
}

// twoEngines gives two managers on one store, each with scope "r/f",
// after each added 1 to its counter "n" and wrote it.
func twoEngines(t *testing.T) (kv *store.Mem, a, b *Manager, sa, sb *Scope) {
	t.Helper()
	kv = store.NewMem()
	a, b = NewManager(kv, 0, nil), NewManager(kv, 0, nil)
	sa, sb = a.Scope("r/f"), b.Scope("r/f")
	check(t, sa.IncrCounter("n", 1))
	check(t, a.Flush())
	check(t, sb.IncrCounter("n", 1))
	check(t, b.Flush())
	return kv, a, b, sa, sb
}

// Two managers on one store (two engines on one Redis) add their
// increments up; each sees the other's after its own writes.
func TestSharedCounters(t *testing.T) {
	// Each engine's first increment adds to the other's.
	kv, a, b, sa, sb := twoEngines(t)
	if v, _, _ := kv.Get(CounterBucket, "r/f\x00n"); string(v) != "2" {
		t.Fatalf("two first increments give %q, want 2", v)
	}
	check(t, sa.PutState("n", 0))
	check(t, a.Flush())
	var wg sync.WaitGroup
	for _, s := range []*Scope{sa, sb} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				if err := s.IncrCounter("n", 1); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					if err := s.m.Flush(); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	check(t, a.Flush())
	check(t, b.Flush())
	if v, _, _ := kv.Get(CounterBucket, "r/f\x00n"); string(v) != "2000" {
		t.Fatalf("shared counter %q, want 2000", v)
	}
	check(t, a.Flush()) // nothing pending: reads stay as of the last write
	if got := counter(t, sb, "n"); got != 2000 {
		t.Fatalf("b, flushed last, sees %d, want 2000", got)
	}
	// A set overrides the other engine's total.
	check(t, sa.PutState("n", int64(7)))
	check(t, a.Flush())
	check(t, sb.IncrCounter("n", 1))
	check(t, b.Flush())
	if got := counter(t, sb, "n"); got != 8 {
		t.Fatalf("after a's set and b's increment b sees %d, want 8", got)
	}
	// The kind is each engine's own until it loads the scope again.
	if v, err := sb.GetState("n"); err != nil || v != 8 {
		t.Fatalf("GetState = %#v, %v; want int 8", v, err)
	}
}

// State written before counters had their own bucket loads, and the next
// write moves the number over.
func TestLegacyCounter(t *testing.T) {
	kv := store.NewMem()
	old, err := encode(nil, kInt64, 41, nil)
	check(t, err)
	check(t, kv.Put(Bucket, "r/f\x00n", old))
	m := NewManager(kv, 0, nil)
	s := m.Scope("r/f")
	check(t, s.IncrCounter("n", 1))
	check(t, m.Flush())
	if v, _, _ := kv.Get(CounterBucket, "r/f\x00n"); string(v) != "42" {
		t.Fatalf("counter %q, want 42", v)
	}
	r := NewManager(kv, 0, nil).Scope("r/f")
	if v, err := r.GetState("n"); err != nil || v != int64(42) {
		t.Fatalf("reloaded %#v, %v; want int64 42", v, err)
	}
}

// lastWriteKV keeps the last Write that reached its Commit.
type lastWriteKV struct {
	store.KV
	last store.Write
}

func (l *lastWriteKV) Commit(w store.Write) (map[string]map[string]int64, error) {
	l.last = w
	return l.KV.Commit(w)
}

// A write puts an integer's kind, or deletes its counter, only when the
// key's kind changes: a checkpoint of counters carries their increments and
// nothing else.
func TestCommitWritesKindChangesOnly(t *testing.T) {
	kv := &lastWriteKV{KV: store.NewMem()}
	m := NewManager(kv, 0, nil)
	s := m.Scope("r/f")
	puts := func(bucket string) []string {
		var keys []string
		for k := range kv.last.Puts[bucket] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return keys
	}
	step := func(what string, wantState, wantCounters []string) {
		t.Helper()
		check(t, m.Flush())
		if got := puts(Bucket); !slices.Equal(got, wantState) {
			t.Errorf("%s: state puts %q, want %q", what, got, wantState)
		}
		if got := puts(CounterBucket); !slices.Equal(got, wantCounters) {
			t.Errorf("%s: counter puts %q, want %q", what, got, wantCounters)
		}
	}
	check(t, s.IncrCounter("n", 1))
	check(t, s.PutState("v", "x"))
	step("first write", []string{"r/f\x00n", "r/f\x00v"}, nil)
	check(t, s.IncrCounter("n", 1))
	check(t, s.PutState("v", "y"))
	step("same kinds", []string{"r/f\x00v"}, nil)
	if got := kv.last.Adds[CounterBucket]["r/f\x00n"]; got != 1 {
		t.Errorf("the increment added %d, want 1", got)
	}
	check(t, s.PutState("n", "now a string"))
	check(t, s.PutState("v", int64(3)))
	step("kinds swapped", []string{"r/f\x00n", "r/f\x00v"}, []string{"r/f\x00n", "r/f\x00v"})
	check(t, s.PutState("v", int64(4)))
	step("int64 set again", nil, []string{"r/f\x00v"})

	// A failed write leaves the kinds the store holds as they were.
	f := &failingKV{KV: store.NewMem()}
	fm := NewManager(f, 0, nil)
	fs := fm.Scope("r/f")
	check(t, fs.PutState("k", "s"))
	check(t, fm.Flush())
	check(t, fs.IncrCounter("k2", 1))
	check(t, fs.DeleteState("k"))
	check(t, fs.IncrCounter("k", 5))
	f.failApply = true
	if err := fm.Flush(); err == nil {
		t.Fatal("the failing store took the write")
	}
	f.failApply = false
	check(t, fm.Flush())
	r := NewManager(f, 0, nil).Scope("r/f")
	if v, err := r.GetState("k"); err != nil || v != 5 {
		t.Fatalf("after a failed and a good write k = %#v, %v; want int 5", v, err)
	}
}

// A counter another engine added to after this one deleted its key loads
// as an int.
func TestCounterWithoutKind(t *testing.T) {
	kv, a, b, sa, sb := twoEngines(t)
	check(t, sa.DeleteState("n"))
	check(t, a.Flush())
	check(t, sb.IncrCounter("n", 3))
	check(t, b.Flush())
	c := NewManager(kv, 0, nil)
	sc := c.Scope("r/f")
	if got := counter(t, sc, "n"); got != 3 {
		t.Fatalf("reloaded %d, want 3 (what b added after a's delete)", got)
	}
	check(t, sc.IncrCounter("n", 1))
	check(t, c.Flush())
	if v, _, _ := kv.Get(Bucket, "r/f\x00n"); len(v) == 0 {
		t.Fatal("the reloading engine's next write did not put the kind back")
	}
	if got := counter(t, NewManager(kv, 0, nil).Scope("r/f"), "n"); got != 4 {
		t.Fatalf("reloaded %d, want 4", got)
	}
}
