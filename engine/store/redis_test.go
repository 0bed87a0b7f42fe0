package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kgen-dev/kgen/internal/testutil/redistest"
)

// TestRedisLayout checks the documented layout: a hash "<prefix>:<bucket>"
// with a field per key.
func TestRedisLayout(t *testing.T) {
	srv := redistest.Start(t)
	kv := openRedis(t, srv.Addr(), "")
	check(t, kv.Put("streams", "s1", []byte("CREATE STREAM s1 ()")))
	mustCommit(t, kv, Write{Adds: adds{"counts": {"n": 5}}})

	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	ctx := context.Background()
	if v, err := c.HGet(ctx, "kgen:streams", "s1").Result(); err != nil || v != "CREATE STREAM s1 ()" {
		t.Fatalf("HGET kgen:streams s1 = %q, %v", v, err)
	}
	if v, err := c.HGet(ctx, "kgen:counts", "n").Result(); err != nil || v != "5" {
		t.Fatalf("HGET kgen:counts n = %q, %v", v, err)
	}
	// A counter another client keeps with HINCRBY reads the same.
	check(t, c.HIncrBy(ctx, "kgen:counts", "n", 10).Err())
	if got := mustCommit(t, kv, Write{Adds: adds{"counts": {"n": 1}}}); got["counts"]["n"] != 16 {
		t.Fatalf("add after HINCRBY = %v", got)
	}
}

func TestRedisPrefixesSeparate(t *testing.T) {
	srv := redistest.Start(t)
	a, b := openRedis(t, srv.Addr(), "a"), openRedis(t, srv.Addr(), "b")
	check(t, a.Put("x", "k", []byte("a")))
	if _, ok := mustGet(t, b, "x", "k"); ok {
		t.Fatal("prefix b sees prefix a's key")
	}
}

// TestRedisGlobPrefix scans and deletes by prefixes that hold HSCAN's glob
// characters, which must match only themselves.
func TestRedisGlobPrefix(t *testing.T) {
	kv := openRedis(t, redistest.Start(t).Addr(), "")
	keys := []string{"a*b", "a*bc", "axb", "a?", "ab", "[a]1", "a1", `a\b`, `a\\b`, "a]", "a^"}
	for _, k := range keys {
		check(t, kv.Put("b", k, []byte(k)))
	}
	for _, prefix := range []string{"a*", "a?", "[a]", "a]", `a\`, `a\\`, "a^", "*", "?", "a"} {
		var want, got []string
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		slices.Sort(want)
		check(t, kv.Scan("b", prefix, func(k string, v []byte) error {
			got = append(got, k)
			return nil
		}))
		if !slices.Equal(got, want) {
			t.Errorf("scan %q = %q, want %q", prefix, got, want)
		}
	}
	check(t, kv.DeletePrefix("b", "a*"))
	check(t, kv.DeletePrefix("b", `a\`))
	check(t, kv.DeletePrefix("b", "[a]"))
	want := []string{"a1", "a?", "a]", "a^", "ab", "axb"}
	if got := mustKeys(t, kv, "b"); !slices.Equal(got, want) {
		t.Fatalf("after deleting prefixes: keys = %q, want %q", got, want)
	}
}

// TestRedisScanLarge scans a hash big enough for HSCAN to take many steps.
func TestRedisScanLarge(t *testing.T) {
	kv := openRedis(t, redistest.Start(t).Addr(), "")
	const n = 5000
	p := map[string][]byte{}
	for i := range n {
		p[fmt.Sprintf("r%d/%05d", i%2, i)] = []byte(strconv.Itoa(i))
	}
	check(t, kv.Apply("b", p))
	var got []string
	check(t, kv.Scan("b", "r1/", func(k string, v []byte) error {
		got = append(got, k)
		return nil
	}))
	if len(got) != n/2 || !slices.IsSorted(got) || got[0] != "r1/00001" {
		t.Fatalf("scan r1/ gave %d keys (sorted: %v), want %d", len(got), slices.IsSorted(got), n/2)
	}
	check(t, kv.DeletePrefix("b", "r0/"))
	if keys := mustKeys(t, kv, "b"); len(keys) != n/2 || keys[0] != "r1/00001" {
		t.Fatalf("after deleting r0/: %d keys", len(keys))
	}
}

// TestRedisTwoClients adds to one counter from two engines' clients at once.
func TestRedisTwoClients(t *testing.T) {
	srv := redistest.Start(t)
	clients := []*Redis{openRedis(t, srv.Addr(), "shared"), openRedis(t, srv.Addr(), "shared")}
	const perWorker = 100
	var wg sync.WaitGroup
	for w := range 8 {
		kv := clients[w%2]
		wg.Go(func() {
			for range perWorker {
				if _, err := kv.Commit(Write{Adds: adds{"counts": {"n": 3}}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	want := strconv.Itoa(8 * perWorker * 3)
	for i, kv := range clients {
		if v, _ := mustGet(t, kv, "counts", "n"); v != want {
			t.Fatalf("client %d reads n = %s, want %s", i, v, want)
		}
	}
}

// TestRedisNotAHash: a commit touching a key that is not a hash writes
// nothing, though Redis does not roll scripts back.
func TestRedisNotAHash(t *testing.T) {
	srv := redistest.Start(t)
	kv := openRedis(t, srv.Addr(), "")
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	check(t, c.Set(context.Background(), "kgen:str", "x", 0).Err())
	_, err := kv.Commit(Write{Puts: puts{"a": {"k": []byte("v")}, "str": {"k": []byte("v")}}})
	want := `commit: bucket "str": key "kgen:str" holds a string, not a hash`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
	if keys := mustKeys(t, kv, "a"); len(keys) != 0 {
		t.Fatalf("failed commit wrote %q", keys)
	}
}

func TestRedisBadAddress(t *testing.T) {
	// A port nothing listens on: refused at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	_, err = OpenRedis(RedisOptions{Addr: addr, DialTimeout: 500 * time.Millisecond})
	if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("open redis store %q: ", addr)) {
		t.Fatalf("err = %v, want one naming %s", err, addr)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("refused open took %v", d)
	}

	// A listener that never answers: the dial timeout bounds the open.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	defer ln.Close()
	start = time.Now()
	_, err = OpenRedis(RedisOptions{Addr: ln.Addr().String(), DialTimeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("err = %v, want one naming %s", err, ln.Addr())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("open of a silent server took %v, want about the 300ms dial timeout", d)
	}
}

// TestRedisRestart: calls fail, and do not hang, while the server is down,
// and work again once it is back.
func TestRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	kv := openRedis(t, srv.Addr(), "")
	check(t, kv.Put("b", "k", []byte("v")))
	srv.Kill()
	err := kv.Put("b", "k", []byte("v"))
	if err == nil || !strings.HasPrefix(err.Error(), `put "k" in bucket "b": `) {
		t.Fatalf("put with the server down = %v", err)
	}
	srv.Start()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err = kv.Put("b", "k", []byte("again"))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	check(t, err)
	if v, _ := mustGet(t, kv, "b", "k"); v != "again" {
		t.Fatalf("after restart k = %q", v)
	}
}

func TestRedisCloseRacesCalls(t *testing.T) {
	kv := openRedis(t, redistest.Start(t).Addr(), "")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				err := kv.Put("b", strconv.Itoa(i), []byte("v"))
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("put racing close = %v, want ErrClosed", err)
					}
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	check(t, kv.Close())
	wg.Wait()
}
