package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/internal/testutil/redistest"
)

// backends opens a fresh, empty store of each kind for a test.
var backends = []struct {
	name string
	open func(t testing.TB) KV
}{
	{"bolt", func(t testing.TB) KV {
		b, err := OpenBolt(filepath.Join(t.TempDir(), "data", "kgen.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}},
	{"mem", func(testing.TB) KV { return NewMem() }},
	{"redis", func(t testing.TB) KV {
		return openRedis(t, redistest.Start(t).Addr(), "kgen-"+t.Name())
	}},
}

// kvs runs a test against every KV implementation.
func kvs(t *testing.T, test func(t *testing.T, kv KV)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.open(t)) })
	}
}

// openRedis opens a Redis store on addr under prefix, closed when the test ends.
func openRedis(t testing.TB, addr, prefix string) *Redis {
	t.Helper()
	r, err := OpenRedis(RedisOptions{Addr: addr, Prefix: prefix, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func mustGet(t *testing.T, kv KV, bucket, key string) (string, bool) {
	t.Helper()
	v, ok, err := kv.Get(bucket, key)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	return string(v), ok
}

func mustKeys(t *testing.T, kv KV, bucket string) []string {
	t.Helper()
	keys, err := kv.Keys(bucket)
	if err != nil {
		t.Fatalf("keys %s: %v", bucket, err)
	}
	return keys
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestCRUD(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		if v, ok := mustGet(t, kv, "streams", "s1"); ok || v != "" {
			t.Fatalf("get in missing bucket = %q, %v", v, ok)
		}
		check(t, kv.Delete("streams", "s1")) // missing bucket: fine
		check(t, kv.Put("streams", "s1", []byte("one")))
		if v, ok := mustGet(t, kv, "streams", "s1"); !ok || v != "one" {
			t.Fatalf("get = %q, %v", v, ok)
		}
		check(t, kv.Put("streams", "s1", []byte("uno")))
		if v, _ := mustGet(t, kv, "streams", "s1"); v != "uno" {
			t.Fatalf("get after overwrite = %q", v)
		}
		if _, ok := mustGet(t, kv, "rules", "s1"); ok {
			t.Fatal("buckets share keys")
		}
		check(t, kv.Delete("streams", "s1"))
		check(t, kv.Delete("streams", "s1")) // missing key: fine
		if _, ok := mustGet(t, kv, "streams", "s1"); ok {
			t.Fatal("deleted key still there")
		}
	})
}

func TestEmptyValue(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		check(t, kv.Put("b", "nil", nil))
		check(t, kv.Put("b", "empty", []byte{}))
		for _, k := range []string{"nil", "empty"} {
			v, ok, err := kv.Get("b", k)
			if err != nil || !ok || v == nil || len(v) != 0 {
				t.Errorf("get %q = %#v, %v, %v; want empty, found", k, v, ok, err)
			}
		}
	})
}

func TestValuesAreCopied(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		in := []byte("abc")
		check(t, kv.Put("b", "k", in))
		in[0] = 'X'
		out, _, _ := kv.Get("b", "k")
		out[1] = 'Y'
		if v, _ := mustGet(t, kv, "b", "k"); v != "abc" {
			t.Fatalf("stored value changed through a caller's slice: %q", v)
		}
	})
}

func TestKeysSorted(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		if keys := mustKeys(t, kv, "none"); len(keys) != 0 {
			t.Fatalf("keys of missing bucket = %q", keys)
		}
		for _, k := range []string{"b", "a/2", "c", "a", "a/10", "B"} {
			check(t, kv.Put("b", k, []byte(k)))
		}
		want := []string{"B", "a", "a/10", "a/2", "b", "c"}
		if keys := mustKeys(t, kv, "b"); !slices.Equal(keys, want) {
			t.Fatalf("keys = %q, want %q", keys, want)
		}
	})
}

func TestScan(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		for _, k := range []string{"r1/a", "r1/b", "r10/a", "r2/a", "r1"} {
			check(t, kv.Put("b", k, []byte("v-"+k)))
		}
		var got []string
		check(t, kv.Scan("b", "r1/", func(k string, v []byte) error {
			got = append(got, k+"="+string(v))
			return nil
		}))
		want := []string{"r1/a=v-r1/a", "r1/b=v-r1/b"}
		if !slices.Equal(got, want) {
			t.Fatalf("scan = %q, want %q", got, want)
		}

		stop := errors.New("stop")
		n := 0
		err := kv.Scan("b", "", func(string, []byte) error { n++; return stop })
		if err != stop || n != 1 {
			t.Fatalf("scan with failing fn = %v after %d calls, want stop after 1", err, n)
		}
		check(t, kv.Scan("none", "", func(string, []byte) error {
			t.Fatal("called for missing bucket")
			return nil
		}))
	})
}

func TestApply(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		check(t, kv.Put("b", "gone", []byte("x")))
		check(t, kv.Put("b", "kept", []byte("x")))
		check(t, kv.Apply("b", map[string][]byte{
			"gone":    nil,
			"new":     []byte("n"),
			"kept":    []byte("k"),
			"empty":   {},
			"missing": nil,
		}))
		want := []string{"empty", "kept", "new"}
		if keys := mustKeys(t, kv, "b"); !slices.Equal(keys, want) {
			t.Fatalf("keys = %q, want %q", keys, want)
		}
		if v, _ := mustGet(t, kv, "b", "kept"); v != "k" {
			t.Fatalf("kept = %q", v)
		}
		check(t, kv.Apply("fresh", nil))
	})
}

func TestApplyIsAtomic(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		// Readers must see all of a batch or none of it.
		const rounds = 200
		batch := func(i int) map[string][]byte {
			v := []byte(fmt.Sprint(i))
			return map[string][]byte{"a": v, "b": v, "c": v}
		}
		check(t, kv.Apply("b", batch(0)))
		var wg sync.WaitGroup
		done := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= rounds; i++ {
				if err := kv.Apply("b", batch(i)); err != nil {
					t.Error(err)
					break
				}
			}
			close(done)
		}()
		for {
			select {
			case <-done:
				wg.Wait()
				return
			default:
			}
			var vals []string
			err := kv.Scan("b", "", func(_ string, v []byte) error {
				vals = append(vals, string(v))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(vals) != 3 || vals[0] != vals[1] || vals[1] != vals[2] {
				t.Fatalf("saw a half-applied batch: %q", vals)
			}
		}
	})
}

func TestApplyFailsWhole(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		check(t, kv.Put("b", "a", []byte("old")))
		err := kv.Apply("b", map[string][]byte{"a": []byte("new"), "": []byte("x")})
		if err == nil || err.Error() != `apply to bucket "b": empty key` {
			t.Fatalf("err = %v", err)
		}
		if v, _ := mustGet(t, kv, "b", "a"); v != "old" {
			t.Fatalf("failed apply wrote a = %q", v)
		}
	})
}

func TestDeletePrefix(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		var keys []string
		for i := range 50 {
			keys = append(keys, fmt.Sprintf("rule1/op%02d", i))
		}
		keys = append(keys, "rule1", "rule10/op", "rule2/op", "a")
		for _, k := range keys {
			check(t, kv.Put("b", k, []byte("x")))
		}
		check(t, kv.DeletePrefix("b", "rule1/"))
		want := []string{"a", "rule1", "rule10/op", "rule2/op"}
		if got := mustKeys(t, kv, "b"); !slices.Equal(got, want) {
			t.Fatalf("keys = %q, want %q", got, want)
		}
		check(t, kv.DeletePrefix("none", "x"))
		check(t, kv.DeletePrefix("b", ""))
		if got := mustKeys(t, kv, "b"); len(got) != 0 {
			t.Fatalf("keys after deleting all = %q", got)
		}
	})
}

func TestBadNames(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		noop := func(string, []byte) error { return nil }
		tests := []struct {
			err  error
			want string
		}{
			{kv.Put("", "k", nil), `put "k" in bucket "": empty bucket name`},
			{kv.Put("b", "", nil), `put "" in bucket "b": empty key`},
			{kv.Delete("b", ""), `delete "" in bucket "b": empty key`},
			{func() error { _, _, err := kv.Get("b", ""); return err }(), `get "" in bucket "b": empty key`},
			{func() error { _, err := kv.Keys(""); return err }(), `list keys of bucket "": empty bucket name`},
			{kv.Scan("", "p", noop), `scan bucket "": empty bucket name`},
			{kv.Apply("", nil), `apply to bucket "": empty bucket name`},
			{kv.DeletePrefix("", "p"), `delete prefix "p" from bucket "": empty bucket name`},
		}
		for _, tt := range tests {
			if tt.err == nil || tt.err.Error() != tt.want {
				t.Errorf("err = %v, want %s", tt.err, tt.want)
			}
		}
	})
}

func TestClosed(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		check(t, kv.Put("b", "k", []byte("v")))
		check(t, kv.Close())
		check(t, kv.Close())
		err := kv.Put("b", "k", []byte("v"))
		if !errors.Is(err, ErrClosed) || err.Error() != `put "k" in bucket "b": store closed` {
			t.Fatalf("put after close = %v", err)
		}
		if _, _, err := kv.Get("b", "k"); !errors.Is(err, ErrClosed) {
			t.Fatalf("get after close = %v", err)
		}
		if _, err := kv.Keys("b"); !errors.Is(err, ErrClosed) {
			t.Fatalf("keys after close = %v", err)
		}
		noop := func(string, []byte) error { return nil }
		if err := kv.Scan("b", "", noop); !errors.Is(err, ErrClosed) {
			t.Fatalf("scan after close = %v", err)
		}
		if err := kv.Delete("b", "k"); !errors.Is(err, ErrClosed) {
			t.Fatalf("delete after close = %v", err)
		}
		if err := kv.DeletePrefix("b", "k"); !errors.Is(err, ErrClosed) {
			t.Fatalf("delete prefix after close = %v", err)
		}
		err = kv.Apply("b", map[string][]byte{"k": nil})
		if !errors.Is(err, ErrClosed) || err.Error() != `apply to bucket "b": store closed` {
			t.Fatalf("apply after close = %v", err)
		}
		for _, w := range []Write{{}, {Adds: map[string]map[string]int64{"b": {"n": 1}}}} {
			_, err = kv.Commit(w)
			if !errors.Is(err, ErrClosed) || err.Error() != "commit: store closed" {
				t.Fatalf("commit %v after close = %v", w, err)
			}
		}
	})
}

func TestBoltReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kgen.db")
	b, err := OpenBolt(path)
	check(t, err)
	check(t, b.Put("streams", "s1", []byte("CREATE STREAM s1 ()")))
	check(t, b.Apply("rules", map[string][]byte{"r1": []byte("a"), "r2": []byte("b")}))
	check(t, b.Close())

	b, err = OpenBolt(path)
	check(t, err)
	defer b.Close()
	if v, ok := mustGet(t, b, "streams", "s1"); !ok || v != "CREATE STREAM s1 ()" {
		t.Fatalf("after reopen s1 = %q, %v", v, ok)
	}
	if keys := mustKeys(t, b, "rules"); !slices.Equal(keys, []string{"r1", "r2"}) {
		t.Fatalf("after reopen rules = %q", keys)
	}
}

func TestBoltLocked(t *testing.T) {
	defer func(d time.Duration) { lockTimeout = d }(lockTimeout)
	lockTimeout = 100 * time.Millisecond

	path := filepath.Join(t.TempDir(), "kgen.db")
	b, err := OpenBolt(path)
	check(t, err)
	defer b.Close()

	// bbolt uses flock, which also excludes a second open in the same
	// process, so this stands in for a second engine.
	start := time.Now()
	b2, err := OpenBolt(path)
	if err == nil {
		b2.Close()
		t.Fatal("second open succeeded")
	}
	want := fmt.Sprintf("open store %q: locked by another process", path)
	if err.Error() != want || !errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want %s", err, want)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("locked open took %v", d)
	}
}

func TestBoltOpenErrors(t *testing.T) {
	dir := t.TempDir()
	// The parent "folder" is a file.
	file := filepath.Join(dir, "file")
	b, err := OpenBolt(file)
	check(t, err)
	b.Close()
	_, err = OpenBolt(filepath.Join(file, "kgen.db"))
	want := fmt.Sprintf("open store %q: mkdir %s: not a directory", filepath.Join(file, "kgen.db"), file)
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}
