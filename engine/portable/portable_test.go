package portable_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
)

// bin holds the executables built once for the tests, by package path.
var bin = map[string]string{}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kgen-portable-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		for name, pkg := range map[string]string{
			"greet":  "github.com/kgen-dev/kgen/examples/portable/greet",
			"greet2": "./testdata/greet2",
			"tally":  "github.com/kgen-dev/kgen/examples/portable/tally",
			"gauge":  "./testdata/gauge",
			"hang":   "./testdata/hang",
			"nap":    "./testdata/nap",
			"named":  "./testdata/named",
		} {
			out := filepath.Join(dir, name)
			if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, b)
				return 1
			}
			bin[name] = out
		}
		return m.Run()
	}()
	os.RemoveAll(dir)
	os.Exit(code)
}

// install copies the executable built as exe into <root>/plugins/portable/<name>/
// with a manifest listing functions.
func install(t testing.TB, root, name, exe string, functions ...string) {
	t.Helper()
	dir := filepath.Join(root, "plugins", "portable", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin[exe])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf(`{"name":%q,"version":"1.0.0","language":"go","executable":%q,"functions":["%s"]}`,
		name, name, strings.Join(functions, `","`))
	if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
}

// openEngine opens an engine on root with the portable settings given as
// YAML lines.
func openEngine(t testing.TB, root, portable string) *engine.Engine {
	t.Helper()
	return openEngineWith(t, root, portable, engine.Options{})
}

// openEngineWith is openEngine with more options than the root.
func openEngineWith(t testing.TB, root, portable string, opts engine.Options) *engine.Engine {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := "rest:\n  listen: 127.0.0.1:0\nportable:\n" + portable
	if err := os.WriteFile(filepath.Join(root, "etc", "kgen.yaml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	opts.Root = root
	e, err := engine.Open(opts)
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func publish(t testing.TB, e *engine.Engine, topic string, rows ...map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, r := range rows {
		if err := e.MemoryHub().Publish(ctx, topic, r); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
}

func receive(t testing.TB, ch <-chan map[string]any, n int) []map[string]any {
	t.Helper()
	var out []map[string]any
	timeout := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case r := <-ch:
			out = append(out, r)
		case <-timeout:
			t.Fatalf("received %d of %d rows: %v", len(out), n, out)
		}
	}
	return out
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A Go portable function in a rule: the plugin is started when the rule is
// planned and its functions give the rows, stateless and stateful.
func TestFunctionInRule(t *testing.T) {
	root := t.TempDir()
	install(t, root, "greet", "greet", "greet", "seen", "pid")
	e := openEngine(t, root, "  initTimeout: 20s\n")
	if _, err := e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	out, cancel := e.MemoryHub().Subscribe("out/g", 16)
	defer cancel()
	if _, err := e.CreateRule([]byte(`{"id":"r1","sql":"SELECT greet(name) AS g, seen(name) AS n FROM people","actions":[{"memory":{"topic":"out/g"}}]}`)); err != nil {
		t.Fatal(err)
	}
	publish(t, e, "in/people", map[string]any{"name": "ann"}, map[string]any{"name": "bob"}, map[string]any{"name": "ann"})
	got := fmt.Sprint(receive(t, out, 3))
	if want := "[map[g:hello, ann n:1] map[g:hello, bob n:1] map[g:hello, ann n:2]]"; got != want {
		t.Fatalf("rows = %s\nwant   %s", got, want)
	}
	// Validate runs in the plugin; its error reaches rule creation.
	_, err := e.CreateRule([]byte(`{"id":"bad","sql":"SELECT greet(name, name) AS g FROM people","actions":[{"log":{}}]}`))
	if err == nil || !strings.Contains(err.Error(), `function "greet": greet: want 1 argument, got 2`) {
		t.Fatalf("bad arity: err = %v", err)
	}
}

// The plugin killed mid-stream: the rule keeps running, rows during the
// outage are exceptions, and after the back-off the plugin is restarted
// with its state intact, since state lives in the engine.
func TestKilledPluginRestartsWithItsState(t *testing.T) {
	root := t.TempDir()
	install(t, root, "greet", "greet", "greet", "seen", "pid")
	e := openEngine(t, root, "  initTimeout: 20s\n  restartBackoff: 2s\n")
	checkKillKeepsState(t, e, "greet", "seen")
	if st, _ := e.RuleStatus("r"); st.Status != "running" || st.Exceptions != 1 {
		t.Fatalf("status after the restart = %+v", st)
	}
}

// checkKillKeepsState runs rule r with the plugin's counting function fn
// and pid(), kills the plugin's process, and checks that a row during the
// outage is an exception and that, after the restart back-off of 2 s, the
// new process counts on from the state the engine kept.
func checkKillKeepsState(t *testing.T, e *engine.Engine, plugin, fn string) {
	t.Helper()
	if _, err := e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	out, cancel := e.MemoryHub().Subscribe("out/s", 16)
	defer cancel()
	if _, err := e.CreateRule([]byte(`{"id":"r","sql":"SELECT ` + fn + `(name) AS n, pid() AS pid FROM people","actions":[{"memory":{"topic":"out/s"}}]}`)); err != nil {
		t.Fatal(err)
	}
	publish(t, e, "in/people", map[string]any{"name": "ann"}, map[string]any{"name": "ann"})
	rows := receive(t, out, 2)
	if rows[1]["n"] != int64(2) {
		t.Fatalf("rows before the kill = %v", rows)
	}
	pid := int(rows[1]["pid"].(int64))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the plugin to exit", func() bool { return syscall.Kill(pid, 0) != nil })
	killed := time.Now()

	publish(t, e, "in/people", map[string]any{"name": "ann"})
	waitFor(t, "the row during the outage to be an exception", func() bool {
		st, _ := e.RuleStatus("r")
		return st.Exceptions == 1
	})
	st, _ := e.RuleStatus("r")
	if st.Status != "running" || !strings.Contains(st.LastError, `portable plugin "`+plugin+`" is down`) {
		t.Fatalf("status during the outage = %+v", st)
	}
	if time.Since(killed) >= 2*time.Second {
		t.Skip("the machine is too slow to see the outage within the back-off")
	}

	time.Sleep(time.Until(killed.Add(2100 * time.Millisecond)))
	publish(t, e, "in/people", map[string]any{"name": "ann"})
	rows = receive(t, out, 1)
	// The row during the outage did not count: the state says 3.
	if rows[0]["n"] != int64(3) || rows[0]["pid"] == int64(pid) {
		t.Fatalf("row after the restart = %v (killed pid %d)", rows, pid)
	}
}

// A plugin that hangs at init is killed after the init timeout and the rule
// that would use it is refused with an error naming it.
func TestHangingPluginTimesOut(t *testing.T) {
	root := t.TempDir()
	install(t, root, "stuck", "hang", "slow")
	e := openEngine(t, root, "  initTimeout: 500ms\n")
	if _, err := e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := e.CreateRule([]byte(`{"id":"r","sql":"SELECT slow(name) AS s FROM people","actions":[{"log":{}}]}`))
	want := `1:8: function "slow": portable plugin "stuck": start: no handshake within the init timeout of 500ms`
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("err = %v\nwant suffix %s", err, want)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the start took %v", d)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "data", "portable"))
	for _, en := range entries {
		left, _ := os.ReadDir(filepath.Join(root, "data", "portable", en.Name()))
		if len(left) > 0 {
			t.Errorf("sockets left behind: %v", left)
		}
	}
}

// A call the plugin does not answer within portable.callTimeout fails: its
// row is an exception and the rule goes on; the plugin, only slow, is not
// restarted and answers the next call. (With batching, a call that times
// out fails every row of its batch: functionBatchSize 1 keeps the two rows
// apart.)
func TestSlowCallTimesOut(t *testing.T) {
	root := t.TempDir()
	install(t, root, "slow", "nap", "nap")
	e := openEngine(t, root, "  callTimeout: 300ms\n")
	if _, err := e.CreateStream(`CREATE STREAM naps (ms BIGINT) WITH (DATASOURCE="in/naps", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	out, cancel := e.MemoryHub().Subscribe("out/naps", 16)
	defer cancel()
	if _, err := e.CreateRule([]byte(`{"id":"r","sql":"SELECT nap(ms) AS ms FROM naps","actions":[{"memory":{"topic":"out/naps"}}],"options":{"functionBatchSize":1}}`)); err != nil {
		t.Fatal(err)
	}
	publish(t, e, "in/naps", map[string]any{"ms": 3000}, map[string]any{"ms": 1})
	rows := receive(t, out, 1)
	if rows[0]["ms"] != int64(1) {
		t.Fatalf("row after the slow one = %v, want ms=1", rows)
	}
	st, _ := e.RuleStatus("r")
	want := `portable plugin "slow": function "nap": no answer within 300ms`
	if st.Status != "running" || st.Exceptions != 1 || !strings.Contains(st.LastError, want) {
		t.Fatalf("status = %+v\nwant 1 exception: %s", st, want)
	}
}

// Without a window, a portable function gets the rows that queued in
// batches, two batches in flight at once; the plugin runs them in order,
// so a stateful function sees the rows in the order they came: seen counts
// 1, 2, 3, … for one name.
func TestOverlappedBatchesKeepTheirOrder(t *testing.T) {
	root := t.TempDir()
	install(t, root, "greet", "greet", "greet", "seen", "pid")
	e := openEngine(t, root, "  initTimeout: 20s\n")
	checkBatchesInOrder(t, e, "seen", 2000, 16)
}

// checkBatchesInOrder runs the plugin's counting function fn over rows
// rows in batches of up to batch, and checks that it counted them in the
// order they came.
func checkBatchesInOrder(t *testing.T, e *engine.Engine, fn string, rows, batch int) {
	t.Helper()
	if _, err := e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	out, cancel := e.MemoryHub().Subscribe("out/seen", rows)
	defer cancel()
	rule := fmt.Sprintf(`{"id":"r","sql":"SELECT %s(name) AS n FROM people","actions":[{"memory":{"topic":"out/seen"}}],"options":{"functionBatchSize":%d}}`, fn, batch)
	if _, err := e.CreateRule([]byte(rule)); err != nil {
		t.Fatal(err)
	}
	for range rows {
		publish(t, e, "in/people", map[string]any{"name": "ann"})
	}
	for i, r := range receive(t, out, rows) {
		if r["n"] != int64(i+1) {
			t.Fatalf("row %d: n = %v, want %d (batches ran out of order)", i, r["n"], i+1)
		}
	}
}
