package state

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine/store"
	"github.com/kgen-dev/kgen/sdk"
)

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}

func newManager(t *testing.T) (*Manager, *store.Mem) {
	kv := store.NewMem()
	m := NewManager(kv, 0, nil)
	t.Cleanup(func() { m.Close() })
	return m, kv
}

func TestScopeIdentity(t *testing.T) {
	m, _ := newManager(t)
	a := m.Scope("rule1/op/fn:3")
	if m.Scope("rule1/op/fn:3") != a {
		t.Fatal("same id, different scopes")
	}
	if m.Scope("rule1/op/fn:4") == a {
		t.Fatal("different ids, same scope")
	}
	if a.ID() != "rule1/op/fn:3" {
		t.Fatalf("ID = %q", a.ID())
	}
	check(t, a.PutState("k", "a"))
	if v, _ := m.Scope("rule1/op/fn:4").GetState("k"); v != nil {
		t.Fatalf("scopes share keys: %v", v)
	}
}

func TestPutGetDelete(t *testing.T) {
	m, _ := newManager(t)
	s := m.Scope("r/op")
	if v, err := s.GetState("k"); v != nil || err != nil {
		t.Fatalf("missing = %v, %v", v, err)
	}
	check(t, s.PutState("k", "v1"))
	check(t, s.PutState("k", 2.5))
	if v, err := s.GetState("k"); v != 2.5 || err != nil {
		t.Fatalf("get = %#v, %v", v, err)
	}
	check(t, s.DeleteState("k"))
	check(t, s.DeleteState("k"))
	check(t, s.DeleteState("never"))
	if v, err := s.GetState("k"); v != nil || err != nil {
		t.Fatalf("deleted = %v, %v", v, err)
	}
	if n, err := s.GetCounter("k"); n != 0 || err != nil {
		t.Fatalf("deleted counter = %v, %v", n, err)
	}
	check(t, s.PutState("k", "back"))
	if v, _ := s.GetState("k"); v != "back" {
		t.Fatalf("after re-put = %#v", v)
	}
}

func TestCounters(t *testing.T) {
	m, _ := newManager(t)
	s := m.Scope("r/op")
	if n, err := s.GetCounter("c"); n != 0 || err != nil {
		t.Fatalf("missing counter = %v, %v", n, err)
	}
	check(t, s.IncrCounter("c", 5))
	check(t, s.IncrCounter("c", -7))
	if n, err := s.GetCounter("c"); n != -2 || err != nil {
		t.Fatalf("counter = %v, %v", n, err)
	}
	if v, _ := s.GetState("c"); v != -2 {
		t.Fatalf("GetState of counter = %#v, want int -2", v)
	}

	// Any integer kind counts, and keeps its kind.
	check(t, s.PutState("i64", int64(40)))
	check(t, s.IncrCounter("i64", 2))
	if v, _ := s.GetState("i64"); v != int64(42) {
		t.Fatalf("int64 counter = %#v", v)
	}
	check(t, s.PutState("u8", uint8(250)))
	check(t, s.IncrCounter("u8", 5))
	if n, _ := s.GetCounter("u8"); n != 255 {
		t.Fatalf("uint8 counter = %v", n)
	}
	wantErr(t, s.IncrCounter("u8", 1), `state "u8": adding 1 overflows uint8 counter 255`)
	check(t, s.IncrCounter("u8", -255))
	wantErr(t, s.IncrCounter("u8", -1), `state "u8": adding -1 overflows uint8 counter 0`)

	check(t, s.PutState("max", math.MaxInt))
	wantErr(t, s.IncrCounter("max", 1), fmt.Sprintf(`state "max": adding 1 overflows int counter %d`, math.MaxInt))
	check(t, s.PutState("min", int64(math.MinInt64)))
	wantErr(t, s.IncrCounter("min", -1), `state "min": adding -1 overflows int64 counter -9223372036854775808`)
	check(t, s.PutState("i8", int8(-128)))
	wantErr(t, s.IncrCounter("i8", math.MinInt), fmt.Sprintf(`state "i8": adding %d overflows int8 counter -128`, math.MinInt))

	check(t, s.PutState("big", uint64(math.MaxUint64)))
	_, err := s.GetCounter("big")
	wantErr(t, err, `state "big": counter 18446744073709551615 overflows int`)
	check(t, s.IncrCounter("big", math.MinInt))
	if n, _ := s.GetCounter("big"); n != math.MaxInt {
		t.Fatalf("uint64 counter = %v", n)
	}

	// Counting on a deleted key starts over.
	check(t, s.DeleteState("c"))
	check(t, s.IncrCounter("c", 1))
	if n, _ := s.GetCounter("c"); n != 1 {
		t.Fatalf("counter after delete = %v", n)
	}
}

func TestNotACounter(t *testing.T) {
	m, _ := newManager(t)
	s := m.Scope("r/op")
	tests := []struct {
		v    any
		name string
	}{
		{"x", "string"},
		{1.0, "float64"},
		{float32(1), "float32"},
		{true, "bool"},
		{nil, "nil"},
		{[]byte("x"), "[]byte"},
		{[]any{1}, "[]any"},
		{map[string]any{}, "map[string]any"},
		{time.Unix(0, 0), "time.Time"},
	}
	for _, tt := range tests {
		check(t, s.PutState("k", tt.v))
		want := fmt.Sprintf(`state "k": holds %s, not a counter`, tt.name)
		wantErr(t, s.IncrCounter("k", 1), want)
		_, err := s.GetCounter("k")
		wantErr(t, err, want)
		if v, _ := s.GetState("k"); !reflect.DeepEqual(v, tt.v) {
			t.Fatalf("failed IncrCounter changed %#v to %#v", tt.v, v)
		}
	}
}

type point struct{ X, Y int }

func TestUnsupported(t *testing.T) {
	m, _ := newManager(t)
	s := m.Scope("r/op")
	check(t, s.PutState("k", "kept"))
	tests := []struct {
		v    any
		want string
	}{
		{make(chan int), `state "k": cannot store chan int`},
		{func() {}, `state "k": cannot store func()`},
		{point{}, `state "k": cannot store state.point`},
		{&point{}, `state "k": cannot store *state.point`},
		{time.Second, `state "k": cannot store time.Duration`},
		{[]string{"a"}, `state "k": cannot store []string`},
		{map[string]int{}, `state "k": cannot store map[string]int`},
		{complex(1, 2), `state "k": cannot store complex128`},
		{[]any{1, map[string]any{"a": []any{0, 0, make(chan int)}}}, `state "k": cannot store chan int at [1]["a"][2]`},
	}
	for _, tt := range tests {
		wantErr(t, s.PutState("k", tt.v), tt.want)
	}
	if v, _ := s.GetState("k"); v != "kept" {
		t.Fatalf("refused put changed the value to %#v", v)
	}
}

func TestCopies(t *testing.T) {
	m, _ := newManager(t)
	s := m.Scope("r/op")
	in := map[string]any{"list": []any{1, "a"}, "b": []byte("xy")}
	check(t, s.PutState("k", in))
	in["list"].([]any)[0] = 99
	in["b"].([]byte)[0] = 'Z'
	in["new"] = true

	out, _ := s.GetState("k")
	want := map[string]any{"list": []any{1, "a"}, "b": []byte("xy")}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("stored value changed through the caller's map: %#v", out)
	}
	out.(map[string]any)["list"].([]any)[1] = "changed"
	if again, _ := s.GetState("k"); !reflect.DeepEqual(again, want) {
		t.Fatalf("stored value changed through a returned map: %#v", again)
	}
}

// values holds one value of every supported type, for round trips.
func values() map[string]any {
	loc := time.FixedZone("", 2*3600+30*60)
	return map[string]any{
		"int":     int(-7),
		"int8":    int8(-8),
		"int16":   int16(16),
		"int32":   int32(-32),
		"int64":   int64(1) << 62,
		"uint":    uint(7),
		"uint8":   uint8(255),
		"uint16":  uint16(16),
		"uint32":  uint32(32),
		"uint64":  uint64(math.MaxUint64),
		"uintptr": uintptr(9),
		"float32": float32(1.5),
		"float64": 63.5,
		"nan":     math.Inf(-1),
		"string":  "s-17 ✓",
		"empty":   "",
		"bytes":   []byte{0, 1, 255},
		"true":    true,
		"false":   false,
		"nil":     nil,
		"time":    time.Date(2024, 2, 29, 23, 59, 58, 123456789, loc),
		"utc":     time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC),
		"list":    []any{int64(1), 2.5, "x", nil, []any{}, map[string]any{"deep": []byte("d")}},
		"map": map[string]any{
			"a": int8(1),
			"b": map[string]any{"c": []any{time.Unix(1700000000, 0).UTC(), uint16(3)}},
			"":  "empty key",
		},
		"emptymap": map[string]any{},
	}
}

func sameValue(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		_, oa := ta.Zone()
		_, ob := tb.Zone()
		return ok && ta.Equal(tb) && oa == ob
	}
	if la, ok := a.([]any); ok {
		lb, ok := b.([]any)
		return ok && slices.EqualFunc(la, lb, sameValue)
	}
	if ma, ok := a.(map[string]any); ok {
		mb, ok := b.(map[string]any)
		if !ok || len(ma) != len(mb) {
			return false
		}
		for k, x := range ma {
			if y, ok := mb[k]; !ok || !sameValue(x, y) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestEncodeRoundTrip(t *testing.T) {
	for name, v := range values() {
		k, n, isInt := intOf(v)
		if !isInt {
			k = kValue
		}
		b, err := encode(nil, k, n, v)
		check(t, err)
		k2, n2, v2, err := decode(b)
		check(t, err)
		got := v2
		if k2.isInt() {
			got = intValue(k2, n2)
		}
		if !sameValue(got, v) || reflect.TypeOf(got) != reflect.TypeOf(v) {
			t.Errorf("%s: %#v came back as %#v", name, v, got)
		}
	}
}

func TestDecodeCorrupt(t *testing.T) {
	good, err := encode(nil, kValue, 0, map[string]any{"a": []any{"xyz", int8(1)}})
	check(t, err)
	for i := range good {
		if _, _, _, err := decode(good[:i]); err == nil {
			t.Errorf("decoding %d of %d bytes succeeded", i, len(good))
		}
	}
	tests := []struct {
		in   []byte
		want string
	}{
		{nil, "unknown value format"},
		{[]byte{9, tagNil}, "unknown value format"},
		{[]byte{formatV1, 99}, "unknown type tag 99"},
		{[]byte{formatV1, tagNil, 0}, "trailing bytes"},
		{[]byte{formatV1, tagInt8, 0x80, 0x02}, "int8 out of range"},
		{[]byte{formatV1, tagList, 0xff, 0xff, 0xff, 0xff, 0x0f}, "truncated value"},
	}
	for _, tt := range tests {
		_, _, _, err := decode(tt.in)
		wantErr(t, err, tt.want)
	}
}

func TestDurability(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kgen.db")
	kv, err := store.OpenBolt(path)
	check(t, err)
	m := NewManager(kv, time.Hour, nil)
	s := m.Scope("rule1/op/fn:3")
	for k, v := range values() {
		check(t, s.PutState(k, v))
	}
	check(t, s.IncrCounter("count", 41))
	check(t, s.IncrCounter("count", 1))
	check(t, s.PutState("gone", "x"))
	check(t, m.Flush())
	check(t, s.DeleteState("gone")) // deleted on disk by Close's flush
	check(t, m.Close())
	check(t, kv.Close())

	kv, err = store.OpenBolt(path)
	check(t, err)
	defer kv.Close()
	m = NewManager(kv, time.Hour, nil)
	defer m.Close()
	s = m.Scope("rule1/op/fn:3")
	for k, want := range values() {
		got, err := s.GetState(k)
		check(t, err)
		if !sameValue(got, want) || reflect.TypeOf(got) != reflect.TypeOf(want) {
			t.Errorf("%s: stored %#v, got back %#v", k, want, got)
		}
	}
	if v, _ := s.GetState("count"); v != 42 {
		t.Errorf("counter came back as %#v, want int 42", v)
	}
	check(t, s.IncrCounter("int64", 1))
	if v, _ := s.GetState("int64"); v != int64(1)<<62+1 {
		t.Errorf("int64 counter after reload = %#v", v)
	}
	if v, _ := s.GetState("gone"); v != nil {
		t.Errorf("deleted key came back: %#v", v)
	}
	keys, err := kv.Keys(Bucket)
	check(t, err)
	if slices.Contains(keys, "rule1/op/fn:3\x00gone") {
		t.Error("deleted key still on disk")
	}
}

func TestPeriodicFlush(t *testing.T) {
	kv := store.NewMem()
	m := NewManager(kv, 10*time.Millisecond, nil)
	defer m.Close()
	check(t, m.Scope("r/op").IncrCounter("n", 3))
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, ok, err := kv.Get(CounterBucket, "r/op\x00n")
		check(t, err)
		if ok {
			if string(v) != "3" {
				t.Fatalf("flushed %q, want 3", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no flush within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Only changed keys are written again.
	check(t, kv.Put(Bucket, "r/op\x00n", []byte("sentinel")))
	check(t, m.Scope("r/op").PutState("other", 1))
	check(t, m.Flush())
	if v, _, _ := kv.Get(Bucket, "r/op\x00n"); string(v) != "sentinel" {
		t.Fatal("an unchanged key was rewritten")
	}
}

func TestNoFlushWithoutInterval(t *testing.T) {
	m, kv := newManager(t)
	check(t, m.Scope("r/op").PutState("k", 1))
	if keys, _ := kv.Keys(Bucket); len(keys) != 0 {
		t.Fatalf("written before Flush: %q", keys)
	}
	check(t, m.Flush())
	if keys, _ := kv.Keys(Bucket); len(keys) != 1 {
		t.Fatalf("after Flush: %q", keys)
	}
}

func TestDeleteScopes(t *testing.T) {
	m, kv := newManager(t)
	ids := []string{"rule1/a", "rule1/b", "rule10/a", "rule2/a"}
	for _, id := range ids {
		check(t, m.Scope(id).PutState("k", id))
	}
	check(t, m.Flush())
	old := m.Scope("rule1/a")
	check(t, m.Scope("rule1/b").PutState("unflushed", 1))
	check(t, m.DeleteScopes("rule1/"))
	check(t, m.Flush())

	keys, err := kv.Keys(Bucket)
	check(t, err)
	want := []string{"rule10/a\x00k", "rule2/a\x00k"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys on disk = %q, want %q", keys, want)
	}
	fresh := m.Scope("rule1/a")
	if fresh == old {
		t.Fatal("Scope returned a deleted scope")
	}
	if v, _ := fresh.GetState("k"); v != nil {
		t.Fatalf("state of a deleted scope came back: %#v", v)
	}
	// A stale holder still works, in memory only.
	check(t, old.PutState("k", "stale"))
	check(t, m.Flush())
	if keys, _ := kv.Keys(Bucket); len(keys) != 2 {
		t.Fatalf("stale scope was persisted: %q", keys)
	}
	if v, _ := m.Scope("rule10/a").GetState("k"); v != "rule10/a" {
		t.Fatalf("rule10/a = %#v", v)
	}
}

// failingKV fails Apply (and optionally Scan) on demand.
type failingKV struct {
	store.KV
	mu        sync.Mutex
	failApply bool
	failScan  bool
}

var errDisk = errors.New("disk full")

func (f *failingKV) Commit(w store.Write) (map[string]map[string]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failApply {
		return nil, errDisk
	}
	return f.KV.Commit(w)
}

func (f *failingKV) Scan(bucket, prefix string, fn func(string, []byte) error) error {
	f.mu.Lock()
	fail := f.failScan
	f.mu.Unlock()
	if fail {
		return errDisk
	}
	return f.KV.Scan(bucket, prefix, fn)
}

func TestFailedFlushRetries(t *testing.T) {
	kv := &failingKV{KV: store.NewMem()}
	m := NewManager(kv, 0, nil)
	s := m.Scope("r/op")
	check(t, s.PutState("a", "x"))
	check(t, s.PutState("b", "y"))
	check(t, m.Flush())
	check(t, s.DeleteState("b"))
	check(t, s.IncrCounter("c", 1))
	kv.failApply = true
	wantErr(t, m.Flush(), "flush state: disk full")
	kv.failApply = false
	check(t, m.Close())
	keys, _ := kv.Keys(Bucket)
	if want := []string{"r/op\x00a", "r/op\x00c"}; !slices.Equal(keys, want) {
		t.Fatalf("keys = %q, want %q", keys, want)
	}
}

func TestLoadError(t *testing.T) {
	kv := &failingKV{KV: store.NewMem(), failScan: true}
	m := NewManager(kv, 0, nil)
	s := m.Scope("r/op")
	wantErr(t, s.PutState("k", 1), `load state "r/op": disk full`)
	_, err := s.GetCounter("k")
	wantErr(t, err, `load state "r/op": disk full`)
	kv.failScan = false
	check(t, s.PutState("k", 1)) // retried

	check(t, kv.Put(Bucket, "bad/op\x00k", []byte{formatV1, 99}))
	_, err = m.Scope("bad/op").GetState("x")
	wantErr(t, err, `load state "bad/op": key "k": unknown type tag 99`)
}

func TestConcurrentIncr(t *testing.T) {
	kv := store.NewMem()
	m := NewManager(kv, time.Millisecond, nil) // flush while counting
	const goroutines, each = 16, 2000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := m.Scope("r/op")
			for i := range each {
				if err := s.IncrCounter("n", 1); err != nil {
					t.Error(err)
					return
				}
				if i%100 == 0 {
					s.PutState(fmt.Sprint("g", g), i)
					s.GetState("n")
				}
			}
		}()
	}
	// Unrelated scopes come and go meanwhile.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 200 {
			m.Scope(fmt.Sprint("tmp/", i)).IncrCounter("x", 1)
			if err := m.DeleteScopes("tmp/"); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	check(t, m.Close())

	if n, _ := m.Scope("r/op").GetCounter("n"); n != goroutines*each {
		t.Fatalf("counter = %d, want %d", n, goroutines*each)
	}
	fresh := NewManager(kv, 0, nil)
	if n, _ := fresh.Scope("r/op").GetCounter("n"); n != goroutines*each {
		t.Fatalf("persisted counter = %d, want %d", n, goroutines*each)
	}
	keys, _ := kv.Keys(Bucket)
	for _, k := range keys {
		if strings.HasPrefix(k, "tmp/") {
			t.Fatalf("deleted scope persisted: %q", k)
		}
	}
}

func BenchmarkIncrCounter(b *testing.B) {
	m := NewManager(store.NewMem(), 0, nil)
	s := m.Scope("rule1/op/fn:3")
	if err := s.IncrCounter("n", 1); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.IncrCounter("n", 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetCounter(b *testing.B) {
	m := NewManager(store.NewMem(), 0, nil)
	s := m.Scope("rule1/op/fn:3")
	if err := s.IncrCounter("n", 1000); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.GetCounter("n"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIncrCounterParallel(b *testing.B) {
	m := NewManager(store.NewMem(), 0, nil)
	s := m.Scope("rule1/op/fn:3")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.IncrCounter("n", 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestMatchesSDK keeps Scope's methods in step with the state methods of
// sdk.Context, which the runtime's contexts forward to a Scope.
func TestMatchesSDK(t *testing.T) {
	ctx := reflect.TypeFor[sdk.Context]()
	scope := reflect.TypeFor[*Scope]()
	for _, name := range []string{"PutState", "GetState", "IncrCounter", "GetCounter", "DeleteState"} {
		want, ok := ctx.MethodByName(name)
		if !ok {
			t.Fatalf("sdk.Context has no %s", name)
		}
		got, ok := scope.MethodByName(name)
		if !ok {
			t.Fatalf("Scope has no %s", name)
		}
		// Drop the receiver from the method's func type.
		in := make([]reflect.Type, 0, got.Type.NumIn()-1)
		for i := 1; i < got.Type.NumIn(); i++ {
			in = append(in, got.Type.In(i))
		}
		out := make([]reflect.Type, 0, got.Type.NumOut())
		for i := range got.Type.NumOut() {
			out = append(out, got.Type.Out(i))
		}
		if ft := reflect.FuncOf(in, out, false); ft != want.Type {
			t.Errorf("Scope.%s is %v, sdk.Context.%s is %v", name, ft, name, want.Type)
		}
	}
}
