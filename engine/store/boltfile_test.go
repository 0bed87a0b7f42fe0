package store

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// boltFixture writes a store with a few buckets, thousands of keys and some
// values longer than a page, and returns its bytes and contents.
func boltFixture(t *testing.T) ([]byte, map[string]map[string]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kgen.db")
	b, err := OpenBolt(path)
	check(t, err)
	want := map[string]map[string]string{}
	for bi, bucket := range []string{"streams", "rules", "state"} {
		want[bucket] = map[string]string{}
		p := map[string][]byte{}
		for i := range 2000 * (bi + 1) {
			v := fmt.Sprintf("%s value %d", bucket, i)
			if i%500 == 0 {
				v = strings.Repeat(v, 1000) // overflow pages
			}
			p[fmt.Sprintf("key/%05d", i)] = []byte(v)
			want[bucket][fmt.Sprintf("key/%05d", i)] = v
		}
		check(t, b.Apply(bucket, p))
	}
	// Free some pages, so the file has a freelist and unused pages.
	check(t, b.DeletePrefix("state", "key/01"))
	for k := range want["state"] {
		if strings.HasPrefix(k, "key/01") {
			delete(want["state"], k)
		}
	}
	check(t, b.Close())
	data, err := os.ReadFile(path)
	check(t, err)
	return data, want
}

// readAll reads every bucket of want from kv through Keys, Scan, and Get
// for some keys.
func readAll(kv KV, want map[string]map[string]string) (map[string]map[string]string, error) {
	got := map[string]map[string]string{}
	for bucket := range want {
		got[bucket] = map[string]string{}
		keys, err := kv.Keys(bucket)
		if err != nil {
			return nil, err
		}
		err = kv.Scan(bucket, "", func(k string, v []byte) error {
			got[bucket][k] = string(v)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(keys) != len(got[bucket]) {
			return nil, fmt.Errorf("bucket %s: %d keys, scan saw %d", bucket, len(keys), len(got[bucket]))
		}
		for i := 0; i < len(keys); i += 97 {
			v, _, err := kv.Get(bucket, keys[i])
			if err != nil {
				return nil, err
			}
			if string(v) != got[bucket][keys[i]] {
				return nil, fmt.Errorf("get %s/%s differs from scan", bucket, keys[i])
			}
		}
	}
	return got, nil
}

// openDamaged writes data to a fresh file and opens it. It wants either
// an error wrapping ErrCorrupt that names the file, or a store whose reads
// all work; with intact, also that they return what was stored.
func openDamaged(t *testing.T, data []byte, want map[string]map[string]string, intact bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kgen.db")
	check(t, os.WriteFile(path, data, 0o600))
	b, err := OpenBolt(path)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) || !strings.HasPrefix(err.Error(), fmt.Sprintf("open store %q: damaged store file", path)) {
			t.Fatalf("open: err = %v, want a damaged store file error naming the file", err)
		}
		// The failed open let go of the file: it can be replaced and opened.
		check(t, os.Remove(path))
		b, err := OpenBolt(path)
		check(t, err)
		b.Close()
		return
	}
	defer b.Close()
	got, err := readAll(b, want)
	if err != nil {
		t.Fatalf("opened, but reading fails: %v", err)
	}
	if intact && !maps.EqualFunc(got, want, maps.Equal) {
		t.Fatal("opened, but reads differ from what was stored")
	}
	// Writes work too.
	check(t, b.Put("streams", "new", []byte("v")))
	_, err = b.Commit(Write{Adds: adds{"state": {"n": 1}}})
	check(t, err)
}

func TestBoltTruncated(t *testing.T) {
	data, want := boltFixture(t)
	const page = 4096
	meta, ok := readMeta(bytes.NewReader(data), 0)
	if m1, ok1 := readMeta(bytes.NewReader(data), page); ok1 && (!ok || m1.txid > meta.txid) {
		meta = m1
	}
	used := int(meta.pgid) * page
	if used < 20*page || len(data) < used {
		t.Fatalf("fixture: %d bytes, %d used; want a bigger store", len(data), used)
	}
	sizes := []int{1, 15, 100, page - 1, page, page + 80, 2 * page, 2*page + 1, 2*page + 100, 3 * page,
		used / 3, used/2 + 123, used - page, used - 1, used, used + 1, len(data) - 1}
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			// Cut short of the used pages it must fail; beyond, only free
			// pages are lost and everything reads back.
			openDamaged(t, data[:n], want, n >= used)
		})
	}

	t.Run("message", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kgen.db")
		check(t, os.WriteFile(path, data[:2*page+100], 0o600))
		_, err := OpenBolt(path)
		want := fmt.Sprintf("open store %q: damaged store file: truncated to %d bytes, its meta page counts %d pages of 4096 bytes",
			path, 2*page+100, meta.pgid)
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v\nwant %s", err, want)
		}
	})
}

func TestBoltGarbled(t *testing.T) {
	data, want := boltFixture(t)
	const page = 4096
	pages := len(data) / page
	rng := rand.New(rand.NewPCG(7, 7))
	garble := func(data []byte, pg, off, n int) []byte {
		d := bytes.Clone(data)
		for i := range n {
			d[pg*page+off+i] = byte(rng.Uint32())
		}
		return d
	}
	for pg := 2; pg < pages; pg += max(1, pages/25) {
		t.Run(fmt.Sprintf("page%d", pg), func(t *testing.T) {
			openDamaged(t, garble(data, pg, 0, page), want, false)
		})
		t.Run(fmt.Sprintf("page%d-header", pg), func(t *testing.T) {
			openDamaged(t, garble(data, pg, 0, 16), want, false)
		})
		t.Run(fmt.Sprintf("page%d-elements", pg), func(t *testing.T) {
			openDamaged(t, garble(data, pg, 16, 64), want, false)
		})
	}
	t.Run("both-metas", func(t *testing.T) {
		openDamaged(t, garble(garble(data, 0, 0, page), 1, 0, page), want, false)
	})
	t.Run("one-meta", func(t *testing.T) {
		// bbolt falls back to the other meta, one transaction older.
		openDamaged(t, garble(data, 0, 16, 64), want, false)
	})
	t.Run("text", func(t *testing.T) {
		openDamaged(t, []byte(strings.Repeat("not a database\n", 1000)), want, false)
	})
}

func TestBoltEmptyFileIsFresh(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kgen.db")
	check(t, os.WriteFile(path, nil, 0o600))
	b, err := OpenBolt(path)
	check(t, err)
	defer b.Close()
	check(t, b.Put("b", "k", []byte("v")))
	if v, _ := mustGet(t, b, "b", "k"); v != "v" {
		t.Fatalf("k = %q", v)
	}
}

// TestBoltTruncatedWhileOpen cuts the file under an open store: the pages
// past the new end fault when read, and calls must fail, not crash.
func TestBoltTruncatedWhileOpen(t *testing.T) {
	data, want := boltFixture(t)
	path := filepath.Join(t.TempDir(), "kgen.db")
	check(t, os.WriteFile(path, data, 0o600))
	b, err := OpenBolt(path)
	check(t, err)
	defer b.Close()
	check(t, os.Truncate(path, 3*4096))
	_, err = readAll(b, want)
	t.Log(err)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), fmt.Sprintf("damaged store file %q: ", path)) {
		t.Fatalf("read of a file cut short = %v, want a damaged store file error", err)
	}
}

func TestBoltScanPanics(t *testing.T) {
	b, err := OpenBolt(filepath.Join(t.TempDir(), "kgen.db"))
	check(t, err)
	defer b.Close()
	check(t, b.Put("streams", "s1", []byte("v")))
	// A caller's own panic in Scan is not taken for damage.
	defer func() {
		if r := recover(); r != "mine" {
			t.Fatalf("recovered %v, want the caller's panic", r)
		}
	}()
	b.Scan("streams", "", func(string, []byte) error { panic("mine") })
}
