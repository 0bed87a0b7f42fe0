package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/rule"
	"github.com/kgen-dev/kgen/engine/store"
	"github.com/kgen-dev/kgen/internal/testutil/redistest"
	"github.com/kgen-dev/kgen/sdk"
	"github.com/redis/go-redis/v9"
)

func totals(rows []map[string]any, key string) []any {
	var out []any
	for _, r := range rows {
		out = append(out, r[key])
	}
	return out
}

// countOne sends one row to the rule that reads in/<id> and returns the
// total it sends to out/<id>.
func countOne(t *testing.T, e *engine.Engine, id string) any {
	t.Helper()
	out, cancel := e.MemoryHub().Subscribe("out/"+id, 16)
	defer cancel()
	publish(t, e, "in/"+id, map[string]any{"n": 1})
	return receive(t, out, 1)[0]["total"]
}

func scopeOps(t *testing.T, e *engine.Engine, id string) map[string]any {
	t.Helper()
	scopes, err := e.RuleState(id)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]any{}
	for _, s := range scopes {
		for _, k := range s.Keys {
			ops[s.Op+" "+k.Key] = k.Value
		}
	}
	return ops
}

// A rule at qos 1 stopped with the engine takes a last checkpoint: its
// counter continues after a restart, and its status shows the checkpoints.
func TestCheckpointOnStopAndStatus(t *testing.T) {
	root := t.TempDir()
	e := open(t, root)
	mustStream(t, e, `CREATE STREAM q (n BIGINT) WITH (DATASOURCE="in/q", TYPE="memory", FORMAT="json")`)
	mustRule(t, e, `{"id":"q","sql":"SELECT testCount(1) AS total FROM q","actions":[{"memory":{"topic":"out/q"}}],"options":{"qos":1,"checkpointInterval":"20ms"}}`)
	out, cancel := e.MemoryHub().Subscribe("out/q", 16)
	publish(t, e, "in/q", map[string]any{"n": 1}, map[string]any{"n": 2}, map[string]any{"n": 3})
	receive(t, out, 3)
	cancel()
	eventually(t, "a checkpoint", func() bool {
		st, _ := e.RuleStatus("q")
		return st.Checkpoints != nil && st.Checkpoints.Count > 0
	})
	st, _ := e.RuleStatus("q")
	if st.Qos != 1 || st.Checkpoints.IntervalMs != 20 || st.Checkpoints.LastBytes == 0 || st.StateError != "" {
		t.Fatalf("status %+v, checkpoints %+v", st, st.Checkpoints)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = open(t, root)
	defer e.Close()
	if got := countOne(t, e, "q"); got != int64(4) {
		t.Fatalf("after a restart the total is %v, want 4", got)
	}
}

// An update keeps the state of the call sites that are still in the rule,
// matched by their text, and drops the others'.
func TestRuleUpdateKeepsCallSiteState(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM u (n BIGINT) WITH (DATASOURCE="in/u", TYPE="memory", FORMAT="json")`)
	mustRule(t, e, `{"id":"u","sql":"SELECT testCount(1) AS a, testCount(n) AS gone FROM u","actions":[{"memory":{"topic":"out/u"}}],"options":{"qos":1}}`)
	out, cancel := e.MemoryHub().Subscribe("out/u", 16)
	defer cancel()
	publish(t, e, "in/u", map[string]any{"n": 5}, map[string]any{"n": 5})
	receive(t, out, 2)
	err := e.UpdateRule("u", []byte(`{"id":"u","sql":"SELECT n, testCount(2) AS b, testCount(1) AS a FROM u WHERE n > 0","actions":[{"memory":{"topic":"out/u"}}],"options":{"qos":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	ops := scopeOps(t, e, "u")
	if ops["func:testCount(1) total"] != 2 || ops["func:testCount(n) total"] != nil {
		t.Fatalf("state after the update: %v", ops)
	}
	publish(t, e, "in/u", map[string]any{"n": 1})
	got := receive(t, out, 1)[0]
	if got["a"] != int64(3) || got["b"] != int64(2) {
		t.Fatalf("after the update got %v, want a=3 (kept) and b=2 (new)", got)
	}
}

// A damaged state file does not stop the engine: it is moved aside, the
// rules say on their status that their state was not restored, and they
// run.
func TestDamagedStateStore(t *testing.T) {
	root := t.TempDir()
	e := open(t, root)
	mustStream(t, e, `CREATE STREAM d (n BIGINT) WITH (DATASOURCE="in/d", TYPE="memory", FORMAT="json")`)
	mustRule(t, e, `{"id":"d","sql":"SELECT testCount(1) AS total FROM d","actions":[{"memory":{"topic":"out/d"}}],"options":{"qos":1}}`)
	out, cancel := e.MemoryHub().Subscribe("out/d", 16)
	publish(t, e, "in/d", map[string]any{"n": 1}, map[string]any{"n": 1})
	receive(t, out, 2)
	cancel()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "data", "state.db")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	e = open(t, root)
	defer e.Close()
	st, err := e.RuleStatus("d")
	if err != nil || st.Status != "running" || !strings.Contains(st.StateError, "damaged") || !strings.Contains(st.StateError, "state.db.damaged-") {
		t.Fatalf("status %+v, %v", st, err)
	}
	matches, _ := filepath.Glob(path + ".damaged-*")
	if len(matches) != 1 {
		t.Fatalf("damaged file kept as %v", matches)
	}
	if got := countOne(t, e, "d"); got != int64(1) {
		t.Fatalf("total %v after starting without state, want 1", got)
	}
}

// A checkpoint record that cannot be read is named on the rule's status;
// the rule runs, and its next checkpoint replaces the record.
func TestCorruptCheckpointRecord(t *testing.T) {
	root := t.TempDir()
	e := open(t, root)
	mustStream(t, e, `CREATE STREAM c (n BIGINT) WITH (DATASOURCE="in/c", TYPE="memory", FORMAT="json")`)
	mustRule(t, e, `{"id":"c","sql":"SELECT count(*) AS n FROM c GROUP BY TUMBLINGWINDOW(ss, 10)","actions":[{"memory":{"topic":"out/c"}}],"options":{"qos":1,"checkpointInterval":"20ms"}}`)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	kv, err := store.OpenBolt(filepath.Join(root, "data", "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Put(rule.CheckpointBucket, rule.CheckpointKey("c", "local"), []byte("garbage")); err != nil {
		t.Fatal(err)
	}
	kv.Close()
	e = open(t, root)
	defer e.Close()
	st, _ := e.RuleStatus("c")
	if st.Status != "running" || !strings.Contains(st.StateError, "checkpoint record") {
		t.Fatalf("status %+v", st)
	}
	eventually(t, "a new checkpoint", func() bool {
		st, _ := e.RuleStatus("c")
		return st.Checkpoints.Count > 0
	})
}

// An open window survives an update that keeps it and a restart of the
// engine; an update that changes it starts it empty.
func TestWindowKeptAcrossUpdateAndRestart(t *testing.T) {
	root := t.TempDir()
	e := open(t, root)
	mustStream(t, e, `CREATE STREAM w (n BIGINT) WITH (DATASOURCE="in/w", TYPE="memory", FORMAT="json")`)
	rule := func(sql string) []byte {
		return []byte(`{"id":"w","sql":"` + sql + `","actions":[{"memory":{"topic":"out/w"}}],"options":{"qos":1}}`)
	}
	mustRule(t, e, string(rule("SELECT count(*) AS c, sum(n) AS s FROM w GROUP BY COUNTWINDOW(3)")))
	publish(t, e, "in/w", map[string]any{"n": 1}, map[string]any{"n": 2})
	// The update stops the rule: rows still on their way through the
	// memory topic would not be in the window it keeps.
	eventually(t, "the window holding n=1 and n=2", func() bool {
		st, _ := e.RuleStatus("w")
		return st.RecordsIn == 2
	})
	if err := e.UpdateRule("w", rule("SELECT sum(n) AS s, count(*) AS c FROM w GROUP BY COUNTWINDOW(3)")); err != nil {
		t.Fatal(err)
	}
	out, cancel := e.MemoryHub().Subscribe("out/w", 16)
	publish(t, e, "in/w", map[string]any{"n": 3}, map[string]any{"n": 4})
	if got := receive(t, out, 1)[0]; got["c"] != int64(3) || got["s"] != int64(6) {
		t.Fatalf("after an update that kept the window: %v, want c=3 s=6", got)
	}
	cancel()
	eventually(t, "the window holding n=4", func() bool {
		st, _ := e.RuleStatus("w")
		return st.RecordsIn == 2 // since the update: n=3 and n=4
	})
	if err := e.Close(); err != nil { // n=4 waits in the window
		t.Fatal(err)
	}
	e = open(t, root)
	defer e.Close()
	out, cancel = e.MemoryHub().Subscribe("out/w", 16)
	defer cancel()
	// A memory topic keeps nothing for a source that has not subscribed yet.
	eventually(t, "the restarted rule's source", func() bool {
		st, _ := e.RuleStatus("w")
		return len(st.Sources) == 1 && st.Sources[0].Connection == "connected"
	})
	publish(t, e, "in/w", map[string]any{"n": 5}, map[string]any{"n": 6})
	if got := receive(t, out, 1)[0]; got["c"] != int64(3) || got["s"] != int64(15) {
		t.Fatalf("after a restart: %v, want c=3 s=15 (4 from before it)", got)
	}
	publish(t, e, "in/w", map[string]any{"n": 7})
	eventually(t, "the window holding n=7", func() bool {
		st, _ := e.RuleStatus("w")
		return st.RecordsIn == 3
	})
	if err := e.UpdateRule("w", rule("SELECT count(*) AS c, sum(n) AS s FROM w GROUP BY COUNTWINDOW(2)")); err != nil {
		t.Fatal(err)
	}
	publish(t, e, "in/w", map[string]any{"n": 8}, map[string]any{"n": 9})
	if got := receive(t, out, 1)[0]; got["c"] != int64(2) || got["s"] != int64(17) {
		t.Fatalf("after an update that changed the window: %v, want c=2 s=17 (7 dropped)", got)
	}
	if st, _ := e.RuleStatus("w"); st.StateError != "" {
		t.Fatalf("a changed window is not an error: %q", st.StateError)
	}
}

func init() {
	sdk.RegisterSink("testStuck", func() sdk.Sink {
		return &scriptedSink{fail: func(int) error { return sdk.Retryable(errors.New("server down")) }}
	})
}

// A sink that never writes holds the checkpoints that cover its rows back,
// and stopping the rule still ends, without writing them.
func TestCheckpointWaitsForStuckSink(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM k (n BIGINT) WITH (DATASOURCE="in/k", TYPE="memory", FORMAT="json")`)
	mustRule(t, e, `{"id":"k","sql":"SELECT testCount(1) AS total FROM k","actions":[{"testStuck":{}}],"options":{"qos":1,"checkpointInterval":"10ms"}}`)
	eventually(t, "a first checkpoint", func() bool {
		st, _ := e.RuleStatus("k")
		return st.Checkpoints.Count > 0
	})
	publish(t, e, "in/k", map[string]any{"n": 1})
	eventually(t, "the row at the sink", func() bool {
		st, _ := e.RuleStatus("k")
		return st.Sinks[0].Retries > 0
	})
	st, _ := e.RuleStatus("k")
	before := st.Checkpoints.Count
	time.Sleep(50 * time.Millisecond) // five intervals
	if st, _ := e.RuleStatus("k"); st.Checkpoints.Count > before+1 {
		t.Fatalf("%d checkpoints completed past a sink that writes nothing", st.Checkpoints.Count-before)
	}
	done := make(chan error, 1)
	go func() { done <- e.StopRule("k") }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("stopping a rule with a stuck sink hangs")
	}
	if ops := scopeOps(t, e, "k"); ops["func:testCount(1) total"] != 1 {
		t.Fatalf("in memory the count is kept: %v", ops)
	}
}

// While the state store is down, checkpoints fail and say so on the
// status, the rule goes on, and the next checkpoint after the store is
// back writes what the failed ones could not.
func TestCheckpointsResumeAfterStoreOutage(t *testing.T) {
	srv := redistest.Start(t)
	root := engineRoot(t, "", "", fmt.Sprintf("  type: redis\n  redis:\n    addr: %s\n    dialTimeout: 200ms\n", srv.Addr()))
	e := open(t, root)
	defer e.Close()
	mustStream(t, e, `CREATE STREAM o (n BIGINT) WITH (DATASOURCE="in/o", TYPE="memory", FORMAT="json")`)
	mustRule(t, e, `{"id":"o","sql":"SELECT testCount(1) AS total FROM o","actions":[{"memory":{"topic":"out/o"}}],"options":{"qos":1,"checkpointInterval":"20ms"}}`)
	out, cancel := e.MemoryHub().Subscribe("out/o", 16)
	defer cancel()
	srv.Kill()
	publish(t, e, "in/o", map[string]any{"n": 1}, map[string]any{"n": 1})
	receive(t, out, 2)
	eventually(t, "a failed checkpoint on the status", func() bool {
		st, _ := e.RuleStatus("o")
		return st.Checkpoints.LastError != ""
	})
	srv.Start() // empty: nothing of before survives in it
	publish(t, e, "in/o", map[string]any{"n": 1})
	if got := receive(t, out, 1)[0]["total"]; got != int64(3) {
		t.Fatalf("total %v while the store was down and back, want 3", got)
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	eventually(t, "the count in the store", func() bool {
		v, _ := rdb.HGet(context.Background(), "kgen:counters", "o/func:testCount(1)\x00total").Result()
		return v == "3"
	})
}

// An update that fails to plan leaves the running rule's state handling as
// it was: a qos 0 rule's state is still flushed.
func TestFailedUpdateKeepsFlushing(t *testing.T) {
	root := t.TempDir()
	e := open(t, root)
	mustStream(t, e, `CREATE STREAM z (n BIGINT) WITH (DATASOURCE="in/z", TYPE="memory", FORMAT="json")`)
	mustRule(t, e, `{"id":"z","sql":"SELECT testCount(1) AS total FROM z","actions":[{"memory":{"topic":"out/z"}}]}`)
	out, cancel := e.MemoryHub().Subscribe("out/z", 16)
	publish(t, e, "in/z", map[string]any{"n": 1}, map[string]any{"n": 1})
	receive(t, out, 2)
	cancel()
	if err := e.UpdateRule("z", []byte(`{"id":"z","sql":"SELECT nosuch(1) FROM z","actions":[{"memory":{"topic":"out/z"}}],"options":{"qos":1}}`)); err == nil {
		t.Fatal("an update calling an unknown function worked")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = open(t, root)
	defer e.Close()
	if got := countOne(t, e, "z"); got != int64(3) {
		t.Fatalf("total %v after a failed update and a restart, want 3", got)
	}
}

// A window's rows are written in chunks as they come, and a checkpoint
// deletes the chunks whose rows the window dropped; the rows come back
// whole after a restart.
func TestWindowRowsInChunks(t *testing.T) {
	root := t.TempDir()
	e := open(t, root)
	mustStream(t, e, `CREATE STREAM c (n BIGINT) WITH (DATASOURCE="in/c", TYPE="memory", FORMAT="json")`)
	mustRule(t, e, `{"id":"cw","sql":"SELECT count(*) AS c, sum(n) AS s FROM c GROUP BY COUNTWINDOW(1000)","actions":[{"memory":{"topic":"out/c"}}],"options":{"qos":1,"checkpointInterval":"10ms"}}`)
	next := 1
	feed := func(e *engine.Engine, n int) {
		t.Helper()
		st, _ := e.RuleStatus("cw")
		in := st.RecordsIn
		for range n {
			publish(t, e, "in/c", map[string]any{"n": next})
			next++
		}
		var count int64
		eventually(t, "the rows in", func() bool {
			st, _ := e.RuleStatus("cw")
			count = st.Checkpoints.Count
			return st.RecordsIn == in+int64(n)
		})
		eventually(t, "a checkpoint after them", func() bool {
			st, _ := e.RuleStatus("cw")
			return st.Checkpoints.Count >= count+2
		})
	}
	// chunks lists the stored chunks by number: chunk c holds the
	// window's rows numbered 256c to 256c+255, from 0.
	chunks := func() string {
		t.Helper()
		kv, err := store.OpenBolt(filepath.Join(root, "data", "state.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer kv.Close()
		var got []string
		prefix := rule.CheckpointKey("cw", "local") + "\x00w"
		err = kv.Scan(rule.CheckpointBucket, prefix, func(k string, _ []byte) error {
			n, err := strconv.ParseUint(strings.TrimPrefix(k, prefix), 16, 64)
			got = append(got, strconv.FormatUint(n, 10))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(got, " ")
	}
	feed(e, 300)
	feed(e, 300)
	feed(e, 100)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if got := chunks(); got != "0 1 2" {
		t.Fatalf("700 rows in chunks %q, want 0 1 2", got)
	}
	e = open(t, root)
	defer func() { e.Close() }()
	out, cancel := e.MemoryHub().Subscribe("out/c", 4)
	defer cancel()
	feed(e, 300)
	if got := receive(t, out, 1)[0]; got["c"] != int64(1000) || got["s"] != int64(500500) {
		t.Fatalf("after a restart: %v, want c=1000 s=500500", got)
	}
	if st, _ := e.RuleStatus("cw"); st.StateError != "" {
		t.Fatal(st.StateError)
	}
	// The window keeps the last 999 rows for the next count: rows 1001 to
	// 1999 after 2000, in chunks 3 to 7.
	feed(e, 1000)
	if got := receive(t, out, 1)[0]; got["c"] != int64(1000) || got["s"] != int64(1500500) {
		t.Fatalf("second window: %v, want c=1000 s=1500500", got)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if got := chunks(); got != "3 4 5 6 7" {
		t.Fatalf("rows 1001 to 1999 in chunks %q, want 3 4 5 6 7", got)
	}
	// A chunk gone missing is named on the status; the rule runs with an
	// empty window.
	kv, err := store.OpenBolt(filepath.Join(root, "data", "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	err = kv.Delete(rule.CheckpointBucket, rule.CheckpointKey("cw", "local")+"\x00w0000000000000005")
	if cerr := kv.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	e = open(t, root)
	st, _ := e.RuleStatus("cw")
	if !strings.Contains(st.StateError, "window rows, chunk 5: missing") || st.Status != "running" {
		t.Fatalf("status %q, state error %q; want running, naming chunk 5", st.Status, st.StateError)
	}
}
