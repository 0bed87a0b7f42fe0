package store

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
)

type (
	puts = map[string]map[string][]byte
	adds = map[string]map[string]int64
)

func mustCommit(t *testing.T, kv KV, w Write) map[string]map[string]int64 {
	t.Helper()
	got, err := kv.Commit(w)
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	return got
}

func TestCommit(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		check(t, kv.Put("state", "gone", []byte("x")))
		check(t, kv.Put("counts", "seen", []byte("40")))
		got := mustCommit(t, kv, Write{
			Puts: puts{
				"state":  {"r1/a": []byte("A"), "r1/b": {}, "gone": nil, "missing": nil},
				"offset": {"r1": []byte("17")},
			},
			Adds: adds{
				"counts": {"seen": 2, "new": -5, "zero": 0},
				"offset": {"r1": 3}, // after the put of 17
			},
		})
		want := map[string]map[string]int64{
			"counts": {"seen": 42, "new": -5, "zero": 0},
			"offset": {"r1": 20},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("totals = %v, want %v", got, want)
		}
		if keys := mustKeys(t, kv, "state"); !slices.Equal(keys, []string{"r1/a", "r1/b"}) {
			t.Fatalf("state keys = %q", keys)
		}
		for _, c := range []struct{ bucket, key, want string }{
			{"state", "r1/a", "A"}, {"state", "r1/b", ""},
			{"counts", "seen", "42"}, {"counts", "new", "-5"}, {"counts", "zero", "0"},
			{"offset", "r1", "20"},
		} {
			if v, ok := mustGet(t, kv, c.bucket, c.key); !ok || v != c.want {
				t.Errorf("%s/%s = %q, %v; want %q", c.bucket, c.key, v, ok, c.want)
			}
		}

		// An add after a delete in the same commit starts from 0.
		got = mustCommit(t, kv, Write{Puts: puts{"counts": {"seen": nil}}, Adds: adds{"counts": {"seen": 1}}})
		if got["counts"]["seen"] != 1 {
			t.Fatalf("add after delete = %v", got)
		}
		if got := mustCommit(t, kv, Write{}); got != nil {
			t.Fatalf("empty commit = %v", got)
		}
		if got := mustCommit(t, kv, Write{Puts: puts{"p": {"k": []byte("v")}}}); got != nil {
			t.Fatalf("commit without adds = %v", got)
		}
	})
}

func TestCommitFailsWhole(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		check(t, kv.Put("b", "text", []byte("hello")))
		check(t, kv.Put("b", "max", []byte(strconv.FormatInt(math.MaxInt64, 10))))
		check(t, kv.Put("b", "n", []byte("1")))
		tests := []struct {
			w    Write
			want string
		}{{
			Write{Puts: puts{"a": {"x": []byte("new")}, "b": {"n": nil}}, Adds: adds{"b": {"text": 1, "n": 1}}},
			`add 1 to "text" in bucket "b": value is not an integer`,
		}, {
			Write{Puts: puts{"a": {"x": []byte("new")}}, Adds: adds{"a": {"y": 1}, "b": {"max": 1}}},
			`add 1 to "max" in bucket "b": total overflows int64`,
		}, {
			// The put makes the add fail, and is undone with it.
			Write{Puts: puts{"b": {"n": []byte("one")}}, Adds: adds{"b": {"n": 1}}},
			`add 1 to "n" in bucket "b": value is not an integer`,
		}, {
			// Of two failing adds, the first in bucket then key order is named.
			Write{Adds: adds{"c": {"z": 1}, "b": {"text": 1, "max": 1}}},
			`add 1 to "max" in bucket "b": total overflows int64`,
		}, {
			Write{Puts: puts{"": {"x": nil}}},
			`commit to bucket "": empty bucket name`,
		}, {
			Write{Adds: adds{"b": {"": 1}}},
			`commit "" in bucket "b": empty key`,
		}}
		for _, tt := range tests {
			_, err := kv.Commit(tt.w)
			if err == nil || err.Error() != tt.want {
				t.Errorf("commit %v: err = %v, want %s", tt.w, err, tt.want)
			}
		}
		// Nothing of any failed commit was written.
		if keys := mustKeys(t, kv, "a"); len(keys) != 0 {
			t.Fatalf("failed commits wrote bucket a: %q", keys)
		}
		if keys := mustKeys(t, kv, "b"); !slices.Equal(keys, []string{"max", "n", "text"}) {
			t.Fatalf("failed commits changed bucket b's keys: %q", keys)
		}
		if v, _ := mustGet(t, kv, "b", "n"); v != "1" {
			t.Fatalf("failed commits changed n: %q", v)
		}
	})
}

// TestCommitCounters checks which values count as integers, and sums
// near the int64 limits, where a float would round.
func TestCommitCounters(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		for _, v := range []string{"", "+1", "01", "-0", "00", " 1", "1 ", "1.0", "1e3", "0x10", "-", "--1", "abc",
			"9223372036854775808", "-9223372036854775809", "99999999999999999999", "1\x00"} {
			check(t, kv.Put("bad", "k", []byte(v)))
			if _, err := kv.Commit(Write{Adds: adds{"bad": {"k": 1}}}); !errors.Is(err, errNotInt) {
				t.Errorf("add to %q: err = %v, want not an integer", v, err)
			}
		}
		for _, v := range []string{"0", "7", "-7", "1000000000", "-999999999",
			"9223372036854775807", "-9223372036854775808"} {
			check(t, kv.Put("good", "k", []byte(v)))
			got, err := kv.Commit(Write{Adds: adds{"good": {"k": 0}}})
			if err != nil || strconv.FormatInt(got["good"]["k"], 10) != v {
				t.Errorf("add 0 to %q = %v, %v", v, got, err)
			}
		}

		limits := []int64{0, 1, -1, 2, -2, 999_999_999, 1_000_000_000, -1_000_000_000, 1 << 53, 1<<53 + 1,
			math.MaxInt64, math.MaxInt64 - 1, math.MinInt64, math.MinInt64 + 1, 9_223_372_036_000_000_000, -9_223_372_036_000_000_001}
		rng := rand.New(rand.NewPCG(1, 2))
		var pairs [][2]int64
		for _, a := range limits {
			for _, b := range limits {
				pairs = append(pairs, [2]int64{a, b})
			}
		}
		for range 100 {
			pairs = append(pairs, [2]int64{int64(rng.Uint64()), int64(rng.Uint64())})
		}
		if _, isBolt := kv.(*Bolt); isBolt {
			pairs = pairs[:len(limits)*3] // each commit syncs the file
		}
		for _, p := range pairs {
			base, n := p[0], p[1]
			check(t, kv.Put("sum", "k", []byte(strconv.FormatInt(base, 10))))
			got, err := kv.Commit(Write{Adds: adds{"sum": {"k": n}}})
			sum := base + n
			if overflows := (n > 0 && sum < base) || (n < 0 && sum > base); overflows {
				if !errors.Is(err, errOverflow) {
					t.Errorf("%d + %d = %v, %v; want overflow", base, n, got, err)
				}
				continue
			}
			if err != nil || got["sum"]["k"] != sum {
				t.Errorf("%d + %d = %v, %v; want %d", base, n, got, err, sum)
				continue
			}
			if v, _ := mustGet(t, kv, "sum", "k"); v != strconv.FormatInt(sum, 10) {
				t.Errorf("%d + %d stored %q", base, n, v)
			}
		}
	})
}

func TestCommitBinary(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		vals := map[string][]byte{
			"nul":         {0, 0, 0},
			"k\x00\xffey": []byte("a\x00b\xff\xfe\xc3("),
			"\xc3(":       {0xff, 0xfe, 0xfd, 0x00, '\n', '\r', '\'', '"', ']', '\\'},
			"big":         slices.Repeat([]byte("\x00\x80\xff"), 100_000),
		}
		p := puts{"bin": {}}
		maps.Copy(p["bin"], vals)
		mustCommit(t, kv, Write{Puts: p, Adds: adds{"bin": {"n\x00": 3}}})
		vals["n\x00"] = []byte("3")
		for k, want := range vals {
			v, ok, err := kv.Get("bin", k)
			if err != nil || !ok || string(v) != string(want) {
				t.Errorf("get %q = %q, %v, %v; want %q", k, v, ok, err, want)
			}
		}
		got := map[string][]byte{}
		check(t, kv.Scan("bin", "", func(k string, v []byte) error {
			got[k] = append([]byte{}, v...)
			return nil
		}))
		if !reflect.DeepEqual(got, vals) {
			t.Errorf("scan differs from what was put: %d entries, want %d", len(got), len(vals))
		}
	})
}

func TestCommitConcurrent(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		const workers, rounds = 8, 25
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range rounds {
					_, err := kv.Commit(Write{
						Puts: puts{"log": {fmt.Sprintf("w%d/%02d", w, i): []byte("x")}},
						Adds: adds{"counts": {"total": 1, fmt.Sprintf("w%d", w): 1}, "other": {"total": 2}},
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if v, _ := mustGet(t, kv, "counts", "total"); v != strconv.Itoa(workers*rounds) {
			t.Fatalf("total = %s, want %d", v, workers*rounds)
		}
		if v, _ := mustGet(t, kv, "other", "total"); v != strconv.Itoa(2*workers*rounds) {
			t.Fatalf("other total = %s, want %d", v, 2*workers*rounds)
		}
		if n := len(mustKeys(t, kv, "log")); n != workers*rounds {
			t.Fatalf("%d log entries, want %d", n, workers*rounds)
		}
	})
}

// TestCommitLarge commits thousands of puts, deletes and adds to one bucket
// at once, beyond what one Redis command in the script takes.
func TestCommitLarge(t *testing.T) {
	kvs(t, func(t *testing.T, kv KV) {
		old := map[string][]byte{}
		for i := range 1500 {
			old[fmt.Sprintf("old%04d", i)] = []byte("x")
		}
		check(t, kv.Apply("b", old))
		w := Write{Puts: puts{"b": {}}, Adds: adds{"b": {}}}
		for i := range 1500 {
			w.Puts["b"][fmt.Sprintf("old%04d", i)] = nil
			w.Puts["b"][fmt.Sprintf("new%04d", i)] = []byte(strconv.Itoa(i))
			if i%2 == 0 {
				w.Adds["b"][fmt.Sprintf("new%04d", i)] = 1 // after the put
				w.Adds["b"][fmt.Sprintf("n%04d", i)] = int64(i)
			}
		}
		got := mustCommit(t, kv, w)
		if len(got["b"]) != 1500 || got["b"]["new0010"] != 11 || got["b"]["n0010"] != 10 {
			t.Fatalf("%d totals; new0010 = %d, n0010 = %d", len(got["b"]), got["b"]["new0010"], got["b"]["n0010"])
		}
		keys := mustKeys(t, kv, "b")
		if len(keys) != 1500+750 || keys[0] != "n0000" || keys[len(keys)-1] != "new1499" {
			t.Fatalf("%d keys, from %q to %q", len(keys), keys[0], keys[len(keys)-1])
		}
		for _, k := range []string{"new0000", "new0001", "new1498", "new1499"} {
			i, _ := strconv.Atoi(k[3:])
			want := strconv.Itoa(i + 1 - i%2)
			if v, _ := mustGet(t, kv, "b", k); v != want {
				t.Errorf("%s = %q, want %q", k, v, want)
			}
		}
	})
}
