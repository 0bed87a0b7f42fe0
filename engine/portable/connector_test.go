package portable_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/portable"
	"github.com/kgen-dev/kgen/sdk"
)

// installConn installs the executable built as exe as the portable plugin
// name, serving sources and sinks.
func installConn(t testing.TB, root, name, exe string, sources, sinks []string) {
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
	man, _ := json.Marshal(map[string]any{"name": name, "version": "1.0.0", "language": "go", "executable": name,
		"sources": sources, "sinks": sinks})
	if err := os.WriteFile(filepath.Join(dir, name+".json"), man, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sourceConf writes <root>/etc/sources/<typ>.yaml.
func sourceConf(t testing.TB, root, typ, yaml string) {
	t.Helper()
	dir := filepath.Join(root, "etc", "sources")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, typ+".yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
}

// openBrokerEngine is openEngine with the embedded MQTT broker on a free
// loopback port.
func openBrokerEngine(t testing.TB, root, portable string) *engine.Engine {
	t.Helper()
	return openEngineWith(t, root, portable, engine.Options{Broker: true, BrokerAddr: "127.0.0.1:0"})
}

type ledgerLine struct {
	Seq int   `json:"seq"`
	N   int64 `json:"n"`
	Pid int   `json:"pid"`
}

func readLedger(t testing.TB, file string) []ledgerLine { return readJSONLines[ledgerLine](t, file) }

// readJSONLines reads a file of JSON lines; none when it is not there yet.
func readJSONLines[T any](t testing.TB, file string) []T {
	t.Helper()
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []T
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l T
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %q: %v", file, sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

// tallyRules makes the counter → MQTT → ledger pipeline: rule "book" reads
// the topic into the ledger sink, rule "count" the counter source into the
// topic.
func tallyRules(t testing.TB, e *engine.Engine) {
	t.Helper()
	for _, s := range []string{
		`CREATE STREAM counts (n BIGINT) WITH (DATASOURCE="counts", TYPE="counter")`,
		`CREATE STREAM ns (n BIGINT) WITH (DATASOURCE="tally/n", TYPE="mqtt", FORMAT="json")`,
	} {
		if _, err := e.CreateStream(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.CreateRule([]byte(`{"id":"book","sql":"SELECT n FROM ns","actions":[{"ledger":{"file":"data/ledger.txt"}}]}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the mqtt source to connect", func() bool {
		st, _ := e.RuleStatus("book")
		return len(st.Sources) == 1 && st.Sources[0].Connection == string(sdk.StatusConnected)
	})
	if _, err := e.CreateRule([]byte(`{"id":"count","sql":"SELECT n FROM counts","actions":[{"mqtt":{"topic":"tally/n"}}]}`)); err != nil {
		t.Fatal(err)
	}
}

// checkLedger checks that the lines are numbered one by one from 1 and
// carry the counts one by one.
func checkLedger(t testing.TB, lines []ledgerLine) {
	t.Helper()
	for i, l := range lines {
		if l.Seq != i+1 || l.N != lines[0].N+int64(i) {
			t.Fatalf("ledger line %d = %+v; lines %+v", i+1, l, lines)
		}
	}
}

// A Go portable source and sink in rules over MQTT: the counter's rows go
// through a topic into the ledger file, written by the plugin process.
func TestSourceAndSinkThroughMQTT(t *testing.T) {
	root := t.TempDir()
	installConn(t, root, "tally", "tally", []string{"counter"}, []string{"ledger"})
	sourceConf(t, root, "counter", "default:\n  interval: 20\n")
	e := openBrokerEngine(t, root, "  initTimeout: 20s\n")
	tallyRules(t, e)
	ledger := filepath.Join(root, "data", "ledger.txt")
	waitFor(t, "5 ledger lines", func() bool { return len(readLedger(t, ledger)) >= 5 })
	lines := readLedger(t, ledger)
	checkLedger(t, lines)
	if lines[0].N != 1 {
		t.Errorf("the first count is %d, want 1", lines[0].N)
	}
	p, _ := e.Portable().Plugin("tally")
	if pid := p.Pid(); pid == 0 || lines[0].Pid != pid {
		t.Errorf("ledger written by pid %d; the plugin runs as %d", lines[0].Pid, pid)
	}
	for _, id := range []string{"count", "book"} {
		st, _ := e.RuleStatus(id)
		if st.Status != "running" || st.Exceptions != 0 || st.Sources[0].Connection != string(sdk.StatusConnected) {
			t.Errorf("rule %s: %+v", id, st)
		}
	}
	if err := e.StopRule("count"); err != nil {
		t.Fatal(err)
	}
	if err := e.StopRule("book"); err != nil {
		t.Fatal(err)
	}
}

// The plugin killed mid-stream: both rules keep running; the source
// reports the plugin down meanwhile; after the back-off the restarted
// process gets the source and the sink provisioned again, the counts
// resume where the state left them and the ledger numbering goes on.
func TestSourceAndSinkSurviveAKill(t *testing.T) {
	root := t.TempDir()
	installConn(t, root, "tally", "tally", []string{"counter"}, []string{"ledger"})
	sourceConf(t, root, "counter", "default:\n  interval: 20\n")
	e := openBrokerEngine(t, root, "  initTimeout: 20s\n  restartBackoff: 1s\n  healthInterval: 100ms\n")
	tallyRules(t, e)
	ledger := filepath.Join(root, "data", "ledger.txt")
	waitFor(t, "3 ledger lines", func() bool { return len(readLedger(t, ledger)) >= 3 })

	p, _ := e.Portable().Plugin("tally")
	pid := p.Pid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the plugin to exit", func() bool { return syscall.Kill(pid, 0) != nil })
	waitFor(t, "the source to report the plugin down", func() bool {
		st, _ := e.RuleStatus("count")
		return st.Sources[0].Connection == string(sdk.StatusDisconnected) &&
			strings.Contains(st.Sources[0].Message, `portable plugin "tally"`)
	})
	st, _ := e.RuleStatus("count")
	if st.Status != "running" || st.Exceptions == 0 || !strings.Contains(st.LastError, `source "counter": portable plugin "tally" is down`) {
		t.Fatalf("rule count during the outage: %+v", st)
	}
	before := readLedger(t, ledger)
	last := before[len(before)-1]

	waitFor(t, "ledger lines from the restarted plugin", func() bool {
		lines := readLedger(t, ledger)
		return len(lines) >= len(before)+3 && lines[len(lines)-1].Pid != pid
	})
	lines := readLedger(t, ledger)
	var after []ledgerLine
	for _, l := range lines[len(before):] {
		if l.Pid != pid {
			after = append(after, l)
		}
	}
	// Counts and numbering go on from the engine's state; a row in flight
	// at the kill may be lost, not counted again.
	if after[0].N <= last.N || after[0].Seq <= last.Seq {
		t.Fatalf("first line after the restart %+v; last before %+v", after[0], last)
	}
	for i := 1; i < len(after); i++ {
		if after[i].Seq != after[i-1].Seq+1 || after[i].N != after[i-1].N+1 {
			t.Fatalf("lines after the restart: %+v", after)
		}
	}
	if newPid := p.Pid(); newPid == pid || newPid == 0 || after[0].Pid != newPid {
		t.Fatalf("pid %d after the restart (killed %d); ledger by %d", newPid, pid, after[0].Pid)
	}
	for _, id := range []string{"count", "book"} {
		st, _ := e.RuleStatus(id)
		if st.Status != "running" || st.Sources[0].Connection != string(sdk.StatusConnected) {
			t.Errorf("rule %s after the restart: %+v", id, st)
		}
	}
}

// Provision errors name the plugin and the extension, and come from the
// plugin's own checks of its properties.
func TestProvisionErrorNamesPluginAndExtension(t *testing.T) {
	root := t.TempDir()
	installConn(t, root, "tally", "tally", []string{"counter"}, []string{"ledger"})
	sourceConf(t, root, "counter", "default:\n  interval: soon\n")
	e := openEngine(t, root, "  initTimeout: 20s\n")
	if _, err := e.CreateStream(`CREATE STREAM counts (n BIGINT) WITH (DATASOURCE="counts", TYPE="counter")`); err != nil {
		t.Fatal(err)
	}
	_, err := e.CreateRule([]byte(`{"id":"r1","sql":"SELECT n FROM counts","actions":[{"log":{}}]}`))
	want := `rule "r1": stream "counts": portable plugin "tally": source "counter": provision: counter source: property "interval": want int, got string "soon"`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant       %s", err, want)
	}
	if _, err := e.CreateStream(`CREATE STREAM nums (n BIGINT) WITH (DATASOURCE="in/n", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	_, err = e.CreateRule([]byte(`{"id":"r2","sql":"SELECT n FROM nums","actions":[{"ledger":{}}]}`))
	want = `rule "r2": actions[0] (ledger): portable plugin "tally": sink "ledger": provision: ledger sink: property "file" is required`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant       %s", err, want)
	}
	// A sink that is not in the manifest is unknown, and the known list
	// has the plugin's.
	_, err = e.CreateRule([]byte(`{"id":"r3","sql":"SELECT n FROM nums","actions":[{"abacus":{}}]}`))
	if err == nil || !strings.Contains(err.Error(), `unknown sink type "abacus"`) || !strings.Contains(err.Error(), "ledger") {
		t.Fatalf("err = %v", err)
	}
}

// The health check finds the plugin of an idle sink dead and starts it
// again with the sink provisioned, before any row needs it; a row during
// the outage is an exception.
func TestHealthCheckNoticesADeadPlugin(t *testing.T) {
	root := t.TempDir()
	installConn(t, root, "tally", "tally", []string{"counter"}, []string{"ledger"})
	e := openEngine(t, root, "  initTimeout: 20s\n  restartBackoff: 1s\n  healthInterval: 100ms\n")
	if _, err := e.CreateStream(`CREATE STREAM nums (n BIGINT) WITH (DATASOURCE="in/n", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateRule([]byte(`{"id":"r","sql":"SELECT n FROM nums","actions":[{"ledger":{"file":"data/l.txt"}}]}`)); err != nil {
		t.Fatal(err)
	}
	ledger := filepath.Join(root, "data", "l.txt")
	publish(t, e, "in/n", map[string]any{"n": 1})
	waitFor(t, "the first line", func() bool { return len(readLedger(t, ledger)) == 1 })
	p, _ := e.Portable().Plugin("tally")
	pid := p.Pid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the plugin to exit", func() bool { return syscall.Kill(pid, 0) != nil })
	publish(t, e, "in/n", map[string]any{"n": 2})
	waitFor(t, "the row during the outage to be an exception", func() bool {
		st, _ := e.RuleStatus("r")
		return st.Exceptions == 1
	})
	if st, _ := e.RuleStatus("r"); st.Status != "running" || !strings.Contains(st.LastError, `sink "ledger": portable plugin "tally"`) {
		t.Fatalf("status during the outage: %+v", st)
	}
	// No rows, no calls: only the health check brings it back.
	waitFor(t, "the health check to restart the plugin", func() bool {
		n := p.Pid()
		return n != 0 && n != pid
	})
	waitFor(t, "the sink to be connected again", func() bool {
		st, _ := e.RuleStatus("r")
		return st.Sinks[0].Connection == string(sdk.StatusConnected)
	})
	publish(t, e, "in/n", map[string]any{"n": 3})
	waitFor(t, "the line after the restart", func() bool { return len(readLedger(t, ledger)) == 2 })
	lines := readLedger(t, ledger)
	// The failed row did not count: the numbering from the state goes on
	// at 2.
	if got := fmt.Sprint(lines[1].Seq, lines[1].N, lines[1].Pid == p.Pid()); got != "2 3 true" {
		t.Fatalf("line after the restart %+v (plugin pid %d)", lines[1], p.Pid())
	}
}

// A pull source: the engine polls it every interval; rows come as decoded
// rows and as raw bytes decoded by the stream's format, with their meta.
func TestPullSource(t *testing.T) {
	root := t.TempDir()
	installConn(t, root, "gauge", "gauge", []string{"gauge"}, []string{"picky"})
	sourceConf(t, root, "gauge", "default:\n  interval: 20\n  start: 10\n")
	e := openEngine(t, root, "  initTimeout: 20s\n")
	if _, err := e.CreateStream(`CREATE STREAM g (v BIGINT) WITH (DATASOURCE="g", TYPE="gauge", FORMAT="json")`); err != nil {
		t.Fatal(err)
	}
	out, cancel := e.MemoryHub().Subscribe("out/g", 16)
	defer cancel()
	if _, err := e.CreateRule([]byte(`{"id":"r","sql":"SELECT v, meta(unit) AS unit FROM g","actions":[{"memory":{"topic":"out/g"}}]}`)); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(receive(t, out, 4))
	if want := "[map[unit:C v:10] map[unit:C v:11] map[unit:C v:12] map[unit:C v:13]]"; got != want {
		t.Fatalf("rows = %s\nwant   %s", got, want)
	}
	st, _ := e.RuleStatus("r")
	if st.Sources[0].Connection != string(sdk.StatusConnected) || st.Sources[0].Message != "gauge ready" || st.Exceptions != 0 {
		t.Fatalf("status = %+v", st)
	}
}

// A sink's failure on a row is that row's exception; the other rows go
// through.
func TestSinkRowErrors(t *testing.T) {
	root := t.TempDir()
	installConn(t, root, "gauge", "gauge", []string{"gauge"}, []string{"picky"})
	e := openEngine(t, root, "  initTimeout: 20s\n")
	if _, err := e.CreateStream(`CREATE STREAM nums (v BIGINT) WITH (DATASOURCE="in/v", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateRule([]byte(`{"id":"r","sql":"SELECT v FROM nums","actions":[{"picky":{}}]}`)); err != nil {
		t.Fatal(err)
	}
	publish(t, e, "in/v", map[string]any{"v": 1}, map[string]any{"v": -2}, map[string]any{"v": 3})
	waitFor(t, "the rows to reach the sink", func() bool {
		st, _ := e.RuleStatus("r")
		return st.Sinks[0].RecordsOut+st.Sinks[0].Exceptions == 3
	})
	st, _ := e.RuleStatus("r")
	if st.Sinks[0].RecordsOut != 2 || st.Exceptions != 1 || !strings.Contains(st.LastError, `sink "picky": picky: v -2 is negative`) {
		t.Fatalf("status = %+v", st)
	}
}

// A plugin that stops answering (here: stopped with SIGSTOP) fails its
// health check within the call timeout, is killed, and started again with
// its sink, which then writes again.
func TestHealthCheckRestartsAHungPlugin(t *testing.T) {
	root := t.TempDir()
	installConn(t, root, "tally", "tally", []string{"counter"}, []string{"ledger"})
	e := openEngine(t, root, "  initTimeout: 20s\n  callTimeout: 500ms\n  restartBackoff: 100ms\n  healthInterval: 100ms\n")
	if _, err := e.CreateStream(`CREATE STREAM nums (n BIGINT) WITH (DATASOURCE="in/n", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateRule([]byte(`{"id":"r","sql":"SELECT n FROM nums","actions":[{"ledger":{"file":"data/l.txt"}}]}`)); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Portable().Plugin("tally")
	pid := p.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	waitFor(t, "the health check to replace the hung plugin", func() bool {
		n := p.Pid()
		return n != 0 && n != pid
	})
	ledger := filepath.Join(root, "data", "l.txt")
	publish(t, e, "in/n", map[string]any{"n": 5})
	waitFor(t, "a line from the new plugin", func() bool { return len(readLedger(t, ledger)) == 1 })
	if l := readLedger(t, ledger)[0]; l.N != 5 || l.Pid == pid {
		t.Fatalf("line %+v (hung pid %d)", l, pid)
	}
}

// Sources and sinks in manifests: names are checked, and one that another
// plugin already has, or that the executable does not serve, is refused
// with the plugin named.
func TestManifestSourcesAndSinks(t *testing.T) {
	root := t.TempDir()
	installConn(t, root, "tally", "tally", []string{"counter"}, []string{"ledger"})
	installConn(t, root, "tally2", "tally", []string{"counter"}, nil)
	installConn(t, root, "tally3", "tally", nil, []string{"ledger", "ledger"})
	installConn(t, root, "tally4", "tally", []string{"no such"}, nil)
	installConn(t, root, "tally5", "tally", []string{"abacus"}, nil)
	m := portable.NewManager(portable.Options{Root: root, InitTimeout: 20 * time.Second})
	defer m.Close()
	var got []string
	for _, err := range m.Scan() {
		got = append(got, strings.ReplaceAll(err.Error(), root, "<root>"))
	}
	want := []string{
		`portable plugin "tally2": source "counter" is also in portable plugin "tally"`,
		`portable plugin "tally3": <root>/plugins/portable/tally3/tally3.json: sinks/1: "ledger" is listed twice`,
		`portable plugin "tally4": <root>/plugins/portable/tally4/tally4.json: sources/0: "no such": `,
	}
	if len(got) != len(want) {
		t.Fatalf("scan errors:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("scan error %d:\n%s\nwant prefix\n%s", i, got[i], want[i])
		}
	}
	if s := fmt.Sprint(m.Sources(), m.Sinks()); s != "[abacus counter] [ledger]" {
		t.Fatalf("sources and sinks = %s", s)
	}
	ctor, _ := m.Source("abacus")
	err := ctor().Provision(nil, nil)
	if want := `portable plugin "tally5": start: describe: source "abacus" of the manifest is not served by the executable`; err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
}
