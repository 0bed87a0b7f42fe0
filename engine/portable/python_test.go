package portable_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

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
// shortRoot is a temporary engine root with a short path: socket paths
// have a length limit (see socketsFit), and t.TempDir's are long.
func shortRoot(t *testing.T) string {
	t.Helper()
	root, err := os.MkdirTemp("", "kp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	return root
}

func pythonConf(extra string) string {
	return fmt.Sprintf("  pythonBin: %s\n  initTimeout: 20s\n", testPython()) + extra
}

// A Python portable function in a rule over MQTT (the embedded broker):
// its state calls reach the engine over the State service; its Validate
// refuses a bad call; the plugin's sockets live under the engine root.
func TestPythonFunctionInRule(t *testing.T) {
	root := shortRoot(t)
	installPython(t, root, "pytally", pytally, "tally", "pid")
	e := openBrokerEngine(t, root, pythonConf(""))
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
	checkKillKeepsState(t, e, "pytally", "tally")
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
	root := shortRoot(t)
	installPython(t, root, "pytally", pytally, "tally", "pid")
	e := openEngine(t, root, pythonConf(""))
	checkBatchesInOrder(t, e, "tally", 600, 8)
}
