package portable_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/broker"
	"github.com/kgen-dev/kgen/internal/testutil"
	"github.com/kgen-dev/kgen/sdk"
)

// testPython is the interpreter of the Python tests: Debian's, which has
// grpc (python3 first on PATH may be a pyenv shim without it); KGEN_PYTHON
// overrides it.
func testPython() string {
	if p := os.Getenv("KGEN_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}

// installPython copies the Python script src into
// <root>/plugins/portable/<name>/<name>.py with a manifest listing
// functions.
func installPython(t testing.TB, root, name, src string, functions ...string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf(`{"name":%q,"version":"1.0.0","language":"python","executable":%q,"functions":["%s"]}`,
		name, name+".py", strings.Join(functions, `","`))
	testutil.WriteTree(t, filepath.Join(root, "plugins", "portable", name), map[string]string{
		name + ".py":   string(data),
		name + ".json": manifest,
	})
}

const pytally = "../../examples/portable/python/pytally/pytally.py"

// pythonConf is the portable settings of the Python tests, plus extra
// YAML lines.
func pythonConf(extra string) string {
	return fmt.Sprintf("  pythonBin: %s\n  initTimeout: 20s\n", testPython()) + extra
}

// A Python portable function in a rule over MQTT (the embedded broker):
// its state calls reach the engine over the State service; its Validate
// refuses a bad call; the plugin's sockets live under the engine root.
func TestPythonFunctionInRule(t *testing.T) {
	// A short root: socket paths have a length limit (see socketsFit).
	root, err := os.MkdirTemp("", "kp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	installPython(t, root, "pytally", pytally, "tally", "pid")
	testutil.WriteTree(t, root, map[string]string{"etc/kgen.yaml": "rest:\n  listen: 127.0.0.1:0\nportable:\n" + pythonConf("")})
	e, err := engine.Open(engine.Options{Root: root, Broker: true, BrokerAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var mu sync.Mutex
	var got []map[string]any
	unsub, err := e.Broker().Subscribe("out/tally", 0, func(m broker.Message) {
		var row map[string]any
		if err := json.Unmarshal(m.Payload, &row); err != nil {
			t.Errorf("out/tally: %v: %s", err, m.Payload)
		}
		mu.Lock()
		got = append(got, row)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	if _, err := e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="mqtt", FORMAT="json")`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateRule([]byte(`{"id":"r1","sql":"SELECT name, tally(name) AS n FROM people","actions":[{"mqtt":{"topic":"out/tally"}}]}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the mqtt source to connect", func() bool {
		st, _ := e.RuleStatus("r1")
		return len(st.Sources) == 1 && st.Sources[0].Connection == string(sdk.StatusConnected)
	})
	for _, name := range []string{"ann", "bob", "ann"} {
		if err := e.Broker().Publish("in/people", fmt.Appendf(nil, `{"name":%q}`, name), false, 0); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "3 rows on out/tally", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 3
	})
	mu.Lock()
	rows := fmt.Sprint(got)
	mu.Unlock()
	if want := "[map[n:1 name:ann] map[n:1 name:bob] map[n:2 name:ann]]"; rows != want {
		t.Fatalf("rows = %s\nwant   %s", rows, want)
	}
	// Both ends' sockets are in go-plugin's folder under data/portable.
	socks, _ := filepath.Glob(filepath.Join(root, "data", "portable", "plugin-dir*", "plugin*"))
	if len(socks) < 2 {
		t.Errorf("sockets under data/portable: %v, want the plugin's and the engine's", socks)
	}
	// Validate runs in the plugin: the SDK checks the arity of tally.
	_, err = e.CreateRule([]byte(`{"id":"bad","sql":"SELECT tally(name, name) AS n FROM people","actions":[{"log":{}}]}`))
	if err == nil || !strings.Contains(err.Error(), `function "tally": tally: want 1 argument, got 2`) {
		t.Fatalf("bad arity: err = %v", err)
	}
}

// The Python plugin killed with SIGKILL mid-stream: the rule goes on, the
// row during the outage is an exception, and after the back-off a new
// process counts on from the state the engine kept.
func TestPythonKilledPluginKeepsState(t *testing.T) {
	root := t.TempDir()
	installPython(t, root, "pytally", pytally, "tally", "pid")
	e := openEngine(t, root, pythonConf("  restartBackoff: 2s\n"))
	if _, err := e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	out, cancel := e.MemoryHub().Subscribe("out/t", 16)
	defer cancel()
	if _, err := e.CreateRule([]byte(`{"id":"r","sql":"SELECT tally(name) AS n, pid() AS pid FROM people","actions":[{"memory":{"topic":"out/t"}}]}`)); err != nil {
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
	if st.Status != "running" || !strings.Contains(st.LastError, `portable plugin "pytally" is down`) {
		t.Fatalf("status during the outage = %+v", st)
	}
	if time.Since(killed) >= 2*time.Second {
		t.Skip("the machine is too slow to see the outage within the back-off")
	}
	time.Sleep(time.Until(killed.Add(2100 * time.Millisecond)))
	publish(t, e, "in/people", map[string]any{"name": "ann"})
	rows = receive(t, out, 1)
	if rows[0]["n"] != int64(3) || rows[0]["pid"] == int64(pid) {
		t.Fatalf("row after the restart = %v (killed pid %d)", rows, pid)
	}
}

// A Python plugin that hangs before its handshake is killed at the init
// timeout and the rule is refused with an error naming it.
func TestPythonHangingPluginTimesOut(t *testing.T) {
	root := t.TempDir()
	installPython(t, root, "pyhang", "testdata/pyhang/pyhang.py", "slow")
	e := openEngine(t, root, fmt.Sprintf("  pythonBin: %s\n  initTimeout: 1s\n", testPython()))
	if _, err := e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	_, err := e.CreateRule([]byte(`{"id":"r","sql":"SELECT slow(name) AS s FROM people","actions":[{"log":{}}]}`))
	want := `1:8: function "slow": portable plugin "pyhang": start: no handshake within the init timeout of 1s`
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("err = %v\nwant suffix %s", err, want)
	}
}

// A Python plugin that fails before its handshake, or an interpreter that
// is not there: the error says why.
func TestPythonStartErrors(t *testing.T) {
	root := t.TempDir()
	installPython(t, root, "pyboom", "testdata/pyboom/pyboom.py", "boom")
	e := openEngine(t, root, pythonConf(""))
	if _, err := e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	_, err := e.CreateRule([]byte(`{"id":"r","sql":"SELECT boom(name) AS s FROM people","actions":[{"log":{}}]}`))
	// go-plugin sees the closed stdout or the exit first: either way the
	// plugin's last words follow.
	want := `; its last words: RuntimeError: boom at import`
	if err == nil || !strings.Contains(err.Error(), `portable plugin "pyboom": start: `) || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("err = %v\nwant suffix %s", err, want)
	}

	root = t.TempDir()
	installPython(t, root, "pytally", pytally, "tally", "pid")
	e = openEngine(t, root, "  pythonBin: /nonexistent/python3\n")
	if _, err := e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	_, err = e.CreateRule([]byte(`{"id":"r","sql":"SELECT pid() AS p FROM people","actions":[{"log":{}}]}`))
	want = `portable plugin "pytally": start: python interpreter "/nonexistent/python3" (portable.pythonBin): exec: "/nonexistent/python3": stat /nonexistent/python3: no such file or directory`
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("err = %v\nwant suffix %s", err, want)
	}
}

// A Python plugin runs overlapped batches in order too: tally counts 1, 2,
// 3, … for one name.
func TestPythonOverlappedBatchesKeepTheirOrder(t *testing.T) {
	root, err := os.MkdirTemp("", "kp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	installPython(t, root, "pytally", pytally, "tally", "pid")
	testutil.WriteTree(t, root, map[string]string{"etc/kgen.yaml": "rest:\n  listen: 127.0.0.1:0\nportable:\n" + pythonConf("")})
	e, err := engine.Open(engine.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	const rows = 600
	out, cancel := e.MemoryHub().Subscribe("out/tally", rows)
	defer cancel()
	if _, err := e.CreateRule([]byte(`{"id":"r","sql":"SELECT tally(name) AS n FROM people","actions":[{"memory":{"topic":"out/tally"}}],"options":{"functionBatchSize":8}}`)); err != nil {
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
