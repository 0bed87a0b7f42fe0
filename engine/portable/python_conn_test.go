package portable_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

type pyLine struct {
	N    int64 `json:"n"`
	Pid  int   `json:"pid"`
	Seen int64 `json:"seen"`
}

func readPyLines(t testing.TB, file string) []pyLine { return readJSONLines[pyLine](t, file) }

// The Python plugin's source and sink in rules over MQTT: the ticker's
// rows go through a topic into the jsonl file the plugin writes, with a
// Python function's state on each. Killed mid-stream, the plugin comes
// back with its source and sink provisioned again and its function's
// state intact.
func TestPythonSourceAndSinkInRules(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "plugins", "portable", "pytally")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"pytally.py", "pytally.json"} {
		data, err := os.ReadFile(filepath.Join("../../examples/portable/python/pytally", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sourceConf(t, root, "ticker", "default:\n  interval: 20\n")
	e := openBrokerEngine(t, root, pythonConf("  restartBackoff: 1s\n  healthInterval: 100ms\n"))
	for _, s := range []string{
		`CREATE STREAM ticks (n BIGINT) WITH (DATASOURCE="ticks", TYPE="ticker")`,
		`CREATE STREAM ns (n BIGINT) WITH (DATASOURCE="py/n", TYPE="mqtt", FORMAT="json")`,
	} {
		if _, err := e.CreateStream(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.CreateRule([]byte(`{"id":"book","sql":"SELECT n, pid() AS pid, tally('rows') AS seen FROM ns","actions":[{"jsonl":{"path":"data/rows.jsonl"}}]}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the mqtt source to connect", func() bool {
		st, _ := e.RuleStatus("book")
		return len(st.Sources) == 1 && st.Sources[0].Connection == string(sdk.StatusConnected)
	})
	if _, err := e.CreateRule([]byte(`{"id":"tick","sql":"SELECT n FROM ticks","actions":[{"mqtt":{"topic":"py/n"}}]}`)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "data", "rows.jsonl")
	waitFor(t, "3 lines", func() bool { return len(readPyLines(t, file)) >= 3 })
	before := readPyLines(t, file)
	p, _ := e.Portable().Plugin("pytally")
	pid := p.Pid()
	for i, l := range before {
		if l.N != int64(i+1) || l.Seen != int64(i+1) || l.Pid != pid {
			t.Fatalf("line %d = %+v (plugin pid %d); lines %+v", i+1, l, pid, before)
		}
	}

	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "lines from the restarted plugin", func() bool {
		lines := readPyLines(t, file)
		return len(lines) >= 3 && lines[len(lines)-1].Pid != pid && lines[len(lines)-3].Pid != pid
	})
	lines := readPyLines(t, file)
	var after []pyLine
	for _, l := range lines {
		if l.Pid != pid {
			after = append(after, l)
		}
	}
	// The ticker starts again in the new process; tally's count goes on
	// from the engine's state.
	last := lines[len(lines)-len(after)-1]
	if after[0].Seen <= last.Seen {
		t.Fatalf("first line after the restart %+v; last before %+v", after[0], last)
	}
	for i := 1; i < len(after); i++ {
		if after[i].N != after[i-1].N+1 || after[i].Seen != after[i-1].Seen+1 {
			t.Fatalf("lines after the restart: %+v", after)
		}
	}
	for _, id := range []string{"tick", "book"} {
		st, _ := e.RuleStatus(id)
		if st.Status != "running" || st.Sources[0].Connection != string(sdk.StatusConnected) {
			t.Errorf("rule %s after the restart: %+v", id, st)
		}
	}
}
