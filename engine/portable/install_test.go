package portable_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/portable"
)

// packZip builds plugin name from the executable exe (a key of bin) with
// a manifest of that version, packs it with portable.Pack and returns the
// zip's path.
func packZip(t testing.TB, name, exe, version string) string {
	t.Helper()
	return packManifest(t, name, exe, fmt.Sprintf(`{"name":%q,"version":%q,"language":"go","executable":%q,"functions":["greet","seen","pid"]}`, name, version, name))
}

// packManifest packs the executable exe (a key of bin) as plugin name with
// that manifest, and returns the zip's path.
func packManifest(t testing.TB, name, exe, manifest string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
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
	if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := portable.Pack(&buf, dir, ""); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), name+".zip")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// greetRule creates rule id calling greet and pid, and returns its output.
func greetRule(t *testing.T, e *engine.Engine, id string) <-chan map[string]any {
	t.Helper()
	out, cancel := e.MemoryHub().Subscribe("out/"+id, 16)
	t.Cleanup(cancel)
	if _, err := e.CreateRule(fmt.Appendf(nil, `{"id":%q,"sql":"SELECT greet(name) AS g, pid() AS pid FROM people","actions":[{"memory":{"topic":"out/%s"}}]}`, id, id)); err != nil {
		t.Fatal(err)
	}
	return out
}

// One row through each rule: its greeting and the pid of the plugin
// process that made it.
func greetOnce(t *testing.T, e *engine.Engine, outs ...<-chan map[string]any) (greetings []string, pids []int) {
	t.Helper()
	publish(t, e, "in/people", map[string]any{"name": "ann"})
	for _, out := range outs {
		r := receive(t, out, 1)[0]
		greetings = append(greetings, fmt.Sprint(r["g"]))
		pids = append(pids, int(r["pid"].(int64)))
	}
	return greetings, pids
}

// A reinstall while rules run: the running rule keeps calling version 1
// until it is restarted, a new rule gets version 2 at once, and the
// version 1 process is stopped when the last rule using it restarts.
func TestReinstallWhileRulesRun(t *testing.T) {
	root := t.TempDir()
	e := openEngine(t, root, "  initTimeout: 20s\n")
	m := e.Portable()
	v1, v2 := packZip(t, "greet", "greet", "1.0.0"), packZip(t, "greet", "greet2", "2.0.0")
	if _, err := m.InstallFile("greet", v1, portable.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	out1 := greetRule(t, e, "r1")
	g, pids := greetOnce(t, e, out1)
	if g[0] != "hello, ann" {
		t.Fatalf("v1 greeting = %q", g[0])
	}
	pid1 := pids[0]

	// Installing again without Replace is refused; with it, v2 is in.
	_, err := m.InstallFile("greet", v2, portable.InstallOptions{})
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), `portable plugin "greet" is already installed (version "1.0.0")`) {
		t.Fatalf("install over v1: err = %v", err)
	}
	inst, err := m.InstallFile("greet", v2, portable.InstallOptions{Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if inst.Manifest.Version != "2.0.0" || inst.Replaced == nil || inst.Replaced.Version != "1.0.0" || inst.Retired != 2 {
		t.Fatalf("installed = %+v", inst)
	}

	// r1 runs on: v1's process answers it. A new rule gets v2.
	out2 := greetRule(t, e, "r2")
	g, pids = greetOnce(t, e, out1, out2)
	if g[0] != "hello, ann" || pids[0] != pid1 {
		t.Fatalf("r1 after the reinstall: %q from pid %d, want v1's greeting from pid %d", g[0], pids[0], pid1)
	}
	if g[1] != "hello again, ann" || pids[1] == pid1 {
		t.Fatalf("r2: %q from pid %d, want v2's greeting from another process than %d", g[1], pids[1], pid1)
	}
	pid2 := pids[1]
	st, ok := m.Status("greet")
	if !ok || st.Version != "2.0.0" || st.State != "running" || st.Pid != pid2 ||
		len(st.Retired) != 1 || st.Retired[0].Version != "1.0.0" || st.Retired[0].Pid != pid1 || st.Retired[0].CallSites != 2 {
		t.Fatalf("status = %+v", st)
	}
	// v1's files wait in staging; the installed folder is v2's.
	if data, _ := os.ReadFile(filepath.Join(portable.Dir(root), "greet", "greet.json")); !strings.Contains(string(data), `"2.0.0"`) {
		t.Fatalf("installed manifest = %s", data)
	}

	// Restarted, r1 uses v2; v1, unused, is stopped and its files removed.
	if err := e.RestartRule("r1"); err != nil {
		t.Fatal(err)
	}
	g, pids = greetOnce(t, e, out1, out2)
	if g[0] != "hello again, ann" || pids[0] != pid2 || pids[1] != pid2 {
		t.Fatalf("after the restart: %q, pids %v; want v2's greeting from pid %d", g, pids, pid2)
	}
	waitFor(t, "the v1 process to stop", func() bool { return !alive(pid1) })
	waitFor(t, "v1's files to go", func() bool {
		entries, _ := os.ReadDir(filepath.Join(portable.Dir(root), ".staging"))
		return len(entries) == 0
	})
	if st, _ := m.Status("greet"); len(st.Retired) != 0 {
		t.Fatalf("retired after the restart: %+v", st.Retired)
	}
}

// A delete while a rule runs: new rules no longer find the functions, the
// running rule keeps its process until it stops.
func TestDeleteWhileRuleRuns(t *testing.T) {
	root := t.TempDir()
	e := openEngine(t, root, "  initTimeout: 20s\n")
	m := e.Portable()
	if _, err := m.InstallFile("greet", packZip(t, "greet", "greet", "1.0.0"), portable.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	out := greetRule(t, e, "r1")
	_, pids := greetOnce(t, e, out)
	n, err := m.Delete("greet")
	if err != nil || n != 2 {
		t.Fatalf("delete: %d call sites kept, err %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(portable.Dir(root), "greet")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the plugin folder stays: %v", err)
	}
	if _, err := e.CreateRule([]byte(`{"id":"r2","sql":"SELECT greet(name) AS g FROM people","actions":[{"log":{}}]}`)); err == nil || !strings.Contains(err.Error(), `unknown function "greet"`) {
		t.Fatalf("a new rule after the delete: err = %v", err)
	}
	g, again := greetOnce(t, e, out)
	if g[0] != "hello, ann" || again[0] != pids[0] {
		t.Fatalf("r1 after the delete: %q from %d", g, again)
	}
	if st, ok := m.Status("greet"); !ok || st.State != "deleted" || len(st.Retired) != 1 {
		t.Fatalf("status = %+v, %v", st, ok)
	}
	if err := e.StopRule("r1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the process to stop", func() bool { return !alive(pids[0]) })
	if _, ok := m.Status("greet"); ok {
		t.Fatal("greet is still known")
	}
	if _, err := m.Delete("greet"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("delete again: err = %v", err)
	}
}

// zipOf writes a zip of the given entries (name → mode and content).
func zipOf(t testing.TB, entries ...zipEntry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, en := range entries {
		h := &zip.FileHeader{Name: en.name, Method: zip.Deflate}
		h.SetMode(en.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(en.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "bad.zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type zipEntry struct {
	name string
	mode fs.FileMode
	data string
}

const greetManifest = `{"name":"greet","version":"1.0.0","language":"go","executable":"greet","functions":["greet"]}`

// Bad zips are refused with an error naming the zip and the entry, and
// leave the installed version as it was.
func TestInstallRefusesBadZips(t *testing.T) {
	root := t.TempDir()
	m := portable.NewManager(portable.Options{Root: root})
	t.Cleanup(func() { m.Close() })
	good := packZip(t, "greet", "greet", "1.0.0")
	if _, err := m.InstallFile("greet", good, portable.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	exe := zipEntry{"greet", 0o755, "#!/bin/sh\n"}
	for _, c := range []struct {
		name    string
		zip     string
		install string // the plugin name to install as; "greet" when empty
		want    string
	}{
		{"zip slip", zipOf(t, zipEntry{"greet.json", 0o644, greetManifest}, exe, zipEntry{"../evil", 0o644, "x"}), "",
			`: zip entry "../evil": ".." is not allowed`},
		{"absolute", zipOf(t, zipEntry{"/etc/evil", 0o644, "x"}), "",
			`: zip entry "/etc/evil": absolute paths are not allowed`},
		{"no manifest", zipOf(t, exe, zipEntry{"other.json", 0o644, "{}"}), "",
			`: zip has no greet.json (the manifest of plugin "greet") at its root; it has other.json: is the plugin name right?`},
		{"name mismatch", zipOf(t, zipEntry{"greet.json", 0o644, strings.Replace(greetManifest, `"name":"greet"`, `"name":"hello"`, 1)}, exe), "",
			`: zip entry "greet.json": name: the manifest is for plugin "hello", not "greet"`},
		{"not executable", zipOf(t, zipEntry{"greet.json", 0o644, greetManifest}, zipEntry{"greet", 0o644, "#!/bin/sh\n"}), "",
			`: zip entry "greet": the executable is not executable (mode -rw-r--r--); pack it with its x bits (kgen pack -portable does)`},
		{"no executable", zipOf(t, zipEntry{"greet.json", 0o644, greetManifest}), "",
			`: zip has no entry "greet", the executable greet.json names`},
		{"bad manifest", zipOf(t, zipEntry{"greet.json", 0o644, strings.Replace(greetManifest, `"functions":["greet"]`, `"functions":[]`, 1)}, exe), "",
			`: zip entry "greet.json": want at least one of sources, sinks or functions`},
		{"bad json", zipOf(t, zipEntry{"greet.json", 0o644, `{"name":`}, exe), "",
			`: zip entry "greet.json": unexpected end of JSON input`},
		{"not a zip", writeFile(t, "plain.zip", "hello"), "",
			`: zip: not a valid zip file`},
		{"function of another plugin", packZip(t, "other", "greet", "1.0.0"), "other",
			`install portable plugin "other": function "greet" is also in portable plugin "greet"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := c.install
			if name == "" {
				name = "greet"
			}
			_, err := m.InstallFile(name, c.zip, portable.InstallOptions{Replace: true})
			if err == nil || !strings.HasSuffix(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant suffix %s", err, c.want)
			}
			if c.install == "" && !strings.HasPrefix(err.Error(), `install portable plugin "greet": `+c.zip+": ") {
				t.Fatalf("err = %v\nwant it to name the zip %s", err, c.zip)
			}
			// The installed version is untouched, and nothing is left over.
			if st, ok := m.Status("greet"); !ok || st.Version != "1.0.0" {
				t.Fatalf("status after a failed install = %+v", st)
			}
			if _, err := portable.ReadManifest(filepath.Join(portable.Dir(root), "greet")); err != nil {
				t.Fatalf("the installed version was damaged: %v", err)
			}
			left, _ := os.ReadDir(filepath.Join(portable.Dir(root), ".staging"))
			if len(left) > 0 {
				t.Fatalf("staging left behind: %v", left)
			}
			if _, err := os.Stat(filepath.Join(root, "evil")); err == nil {
				t.Fatal("the zip slip wrote outside the plugin folder")
			}
		})
	}
}

func writeFile(t testing.TB, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Pack makes the same bytes from the same files.
func TestPackIsDeterministic(t *testing.T) {
	a, b := packZip(t, "greet", "greet", "1.0.0"), packZip(t, "greet", "greet", "1.0.0")
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if !bytes.Equal(da, db) {
		t.Fatal("two packs of the same files differ")
	}
	zr, err := zip.OpenReader(a)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var got []string
	for _, f := range zr.File {
		got = append(got, fmt.Sprintf("%s %v", f.Name, f.Mode()))
	}
	if want := "[greet -rwxr-xr-x greet.json -rw-r--r--]"; fmt.Sprint(got) != want {
		t.Fatalf("entries = %v, want %s", got, want)
	}
}

// A rule planned on version 1 that never ran a row holds no context to
// watch: when it restarts after a reinstall, its old call sites are
// garbage collected, and that ends version 1's process.
func TestRetiredVersionOfIdleRuleStops(t *testing.T) {
	root := t.TempDir()
	e := openEngine(t, root, "  initTimeout: 20s\n")
	m := e.Portable()
	if _, err := m.InstallFile("greet", packZip(t, "greet", "greet", "1.0.0"), portable.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	greetRule(t, e, "idle") // validated in the plugin, so it runs
	st, _ := m.Status("greet")
	if st.State != "running" || st.CallSites != 2 {
		t.Fatalf("status = %+v", st)
	}
	pid1 := st.Pid
	if _, err := m.InstallFile("greet", packZip(t, "greet", "greet2", "2.0.0"), portable.InstallOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.RestartRule("idle"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the v1 process to stop", func() bool {
		runtime.GC()
		return !alive(pid1)
	})
	if st, _ := m.Status("greet"); len(st.Retired) != 0 || st.CallSites != 2 {
		t.Fatalf("status = %+v", st)
	}
}

// A swap a crash interrupted (the old version moved to staging, the new
// one not in place) is rolled back at the next start, and the rest of
// staging is removed.
func TestScanRecoversInterruptedInstall(t *testing.T) {
	root := t.TempDir()
	install(t, root, "greet", "greet", "greet", "seen", "pid")
	dir := portable.Dir(root)
	old := filepath.Join(dir, ".staging", "greet-1", "old", "greet")
	if err := os.MkdirAll(filepath.Dir(old), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "greet"), old); err != nil {
		t.Fatal(err)
	}
	// An unpacked zip that never got in, too.
	if err := os.MkdirAll(filepath.Join(dir, ".staging", "other-2", "new", "other"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := portable.NewManager(portable.Options{Root: root})
	defer m.Close()
	if errs := m.Scan(); len(errs) > 0 {
		t.Fatalf("scan: %v", errs)
	}
	if got := fmt.Sprint(m.Functions()); got != "[greet pid seen]" {
		t.Fatalf("functions = %s", got)
	}
	if _, err := os.Stat(filepath.Join(dir, ".staging")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("staging stays: %v", err)
	}
}

// A reinstall while rules read a portable source and write to a portable
// sink: the running rules keep their instances on the old process, which
// the status lists as retired; restarted, they move to the new version and
// the old process stops.
func TestReinstallSourceAndSinkWhileRulesRun(t *testing.T) {
	root := t.TempDir()
	sourceConf(t, root, "counter", "default:\n  interval: 20\n")
	e := openBrokerEngine(t, root, "  initTimeout: 20s\n")
	m := e.Portable()
	tally := func(version string) string {
		return packManifest(t, "tally", "tally", fmt.Sprintf(`{"name":"tally","version":%q,"language":"go","executable":"tally","sources":["counter"],"sinks":["ledger"]}`, version))
	}
	if _, err := m.InstallFile("tally", tally("1.0.0"), portable.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	tallyRules(t, e)
	ledger := filepath.Join(root, "data", "ledger.txt")
	waitFor(t, "3 ledger lines", func() bool { return len(readLedger(t, ledger)) >= 3 })
	p, _ := m.Plugin("tally")
	pid1 := p.Pid()

	inst, err := m.InstallFile("tally", tally("2.0.0"), portable.InstallOptions{Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if inst.Retired != 2 {
		t.Fatalf("installed = %+v; want the source and the sink instance to keep version 1", inst)
	}
	// The rules go on, on v1's process.
	n := len(readLedger(t, ledger))
	waitFor(t, "3 more ledger lines", func() bool { return len(readLedger(t, ledger)) >= n+3 })
	lines := readLedger(t, ledger)
	if last := lines[len(lines)-1]; last.Pid != pid1 {
		t.Fatalf("after the reinstall the ledger is written by pid %d, want v1's %d", last.Pid, pid1)
	}
	st, _ := m.Status("tally")
	if st.Version != "2.0.0" || len(st.Retired) != 1 || st.Retired[0].Pid != pid1 || st.Retired[0].CallSites != 2 {
		t.Fatalf("status = %+v", st)
	}

	// Restarted, the rules use v2; v1's process stops.
	for _, id := range []string{"book", "count"} {
		if err := e.RestartRule(id); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the v1 process to stop", func() bool { return !alive(pid1) })
	n = len(readLedger(t, ledger))
	waitFor(t, "3 ledger lines from v2", func() bool { return len(readLedger(t, ledger)) >= n+3 })
	lines = readLedger(t, ledger)
	p, _ = m.Plugin("tally")
	if last := lines[len(lines)-1]; last.Pid == pid1 || last.Pid != p.Pid() {
		t.Fatalf("after the restarts the ledger is written by pid %d; v1 ran as %d, v2 runs as %d", last.Pid, pid1, p.Pid())
	}
	if st, _ := m.Status("tally"); len(st.Retired) != 0 || st.CallSites != 2 {
		t.Fatalf("status = %+v", st)
	}
}

// A FIFO given as the zip is refused at once instead of hanging the
// install (opening it would wait for a writer).
func TestInstallRefusesAFIFO(t *testing.T) {
	root := t.TempDir()
	m := portable.NewManager(portable.Options{Root: root})
	defer m.Close()
	fifo := filepath.Join(t.TempDir(), "greet.zip")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := m.InstallFile("greet", fifo, portable.InstallOptions{})
	if want := `install portable plugin "greet": ` + fifo + ` is not a regular file`; err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}
