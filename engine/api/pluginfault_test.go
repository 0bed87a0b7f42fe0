package api_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/internal/testutil"
	"github.com/kgen-dev/kgen/sdk"
)

// boomSink is a sink plugin whose package init panics, as one that cannot
// find a library it needs would.
const boomSink = `package main

import "github.com/kgen-dev/kgen/sdk"

func init() { panic("boom: libfoo.so.1 not found") }

func Boom() sdk.Sink { return nil }

func main() {}
`

// snareSink is a sink plugin whose Connect panics.
const snareSink = `package main

import "github.com/kgen-dev/kgen/sdk"

type snare struct{}

func (snare) Provision(sdk.Context, map[string]any) error           { return nil }
func (snare) Connect(sdk.Context) error                             { panic("snare: connect exploded") }
func (snare) Collect(sdk.Context, map[string]any) error             { return nil }
func (snare) CollectList(sdk.Context, []map[string]any) error       { return nil }
func (snare) Close(sdk.Context) error                               { return nil }

func Snare() sdk.Sink { return snare{} }

func main() {}
`

// trapSource is a source plugin whose Provision panics.
const trapSource = `package main

import "github.com/kgen-dev/kgen/sdk"

type trap struct{}

func (trap) Provision(sdk.Context, map[string]any) error { panic("trap: provision exploded") }
func (trap) Connect(sdk.Context) error                   { return nil }
func (trap) Close(sdk.Context) error                     { return nil }
func (trap) Subscribe(sdk.Context, sdk.Ingest, sdk.ErrorIngest) error { return nil }

func Trap() sdk.Source { return trap{} }

func main() {}
`

// buildZip builds a plugin from src as a module unique to the run and
// returns a zip of it with extra name/body pairs.
func buildZip(t *testing.T, so, src string, extra ...string) (zipPath, soBytes string) {
	t.Helper()
	module := fmt.Sprintf("kgenfixture/%s%d", strings.ToLower(strings.TrimSuffix(so, ".so")), time.Now().UnixNano())
	file := filepath.Join(t.TempDir(), so)
	testutil.BuildPlugin(t, module, src, file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return writeZip(t, append([]string{so, string(data)}, extra...)...), string(data)
}

// runningRule starts a rule from the memory topic in to out and returns a
// check that it still delivers.
func runningRule(t *testing.T, s *testServer) func() {
	t.Helper()
	ctx := t.Context()
	if _, err := s.cl.CreateStream(ctx, demoSQL); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cl.CreateRule(ctx, []byte(`{"id":"bystander","sql":"SELECT temp FROM demo","actions":[{"memory":{"topic":"out"}}]}`)); err != nil {
		t.Fatal(err)
	}
	out, cancel := s.e.MemoryHub().Subscribe("out", 16)
	t.Cleanup(cancel)
	n := 0.0
	return func() {
		t.Helper()
		n++
		pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
		defer pcancel()
		if err := s.e.MemoryHub().Publish(pctx, "in", map[string]any{"temp": n}); err != nil {
			t.Fatal(err)
		}
		select {
		case row := <-out:
			if row["temp"] != n {
				t.Errorf("bystander rule sent %v, want temp %v", row, n)
			}
		case <-pctx.Done():
			t.Fatal("the bystander rule stopped delivering")
		}
		st, err := s.cl.RuleStatus(ctx, "bystander")
		if err != nil || st.Status != "running" {
			t.Errorf("bystander rule: %+v, %v", st, err)
		}
	}
}

// A plugin whose init panics is refused over REST with the panic message,
// its files rolled back; the loader is free for the next install, and
// panics in a source's Provision and a sink's Connect refuse their rules
// only: a rule already running goes on.
func TestPluginPanicsAreContained(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go plugins")
	}
	boom, _ := buildZip(t, "Boom.so", boomSink, "boom.json", "{}")
	snare, _ := buildZip(t, "Snare.so", snareSink)
	trap, _ := buildZip(t, "Trap.so", trapSource, "trap.yaml", "default: {}\n")
	s := newServer(t)
	root := s.e.Root()
	stillRuns := runningRule(t, s)
	before := files(t, root)
	boomFile := filepath.Join(root, "plugins/sinks/Boom.so")
	boomErr := `install sinks plugin "boom": load: plugin "boom" (` + boomFile + `): its init panicked while it was opened: boom: libfoo.so.1 not found; the plugin was not loaded`
	s.check(t, []exchange{
		{"POST", "/plugins/sinks", `{"name":"boom","file":"` + boom + `"}`, 400, boomErr},
		{"GET", "/plugins/sinks", "", 200, "[]\n"},
		// The same zip again: refused the same way, without running its
		// init a second time.
		{"POST", "/plugins/sinks", `{"name":"boom","file":"` + boom + `"}`, 400, boomErr},
	})
	if after := files(t, root); !slices.Equal(before, after) {
		t.Errorf("files after the refused install:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
	stillRuns()
	s.check(t, []exchange{
		// The loader's locks were released: other installs go on.
		{"POST", "/plugins/sinks", `{"name":"snare","file":"` + snare + `"}`, 201, "sinks plugin snare is created"},
		{"POST", "/plugins/sources", `{"name":"trap","file":"` + trap + `"}`, 201, "sources plugin trap is created"},
		// The rule is stored, and its start fails with the panic.
		{"POST", "/rules", `{"id":"r1","sql":"SELECT * FROM demo","actions":[{"snare":{}}]}`, 201, "*"},
		{"POST", "/streams", `{"sql":"CREATE STREAM trapped () WITH (DATASOURCE=\"x\", TYPE=\"trap\")"}`, 201, "Stream trapped is created."},
		{"POST", "/rules", `{"id":"r2","sql":"SELECT * FROM trapped","actions":[{"log":{}}]}`, 400, `rule "r2": stream "trapped": source "trap": panic: trap: provision exploded`},
		{"GET", "/rules", "", 200, "*"},
	})
	if st, err := s.cl.RuleStatus(t.Context(), "r1"); err != nil || st.Status == "running" || !strings.Contains(st.Message, `panic: snare: connect exploded`) {
		t.Errorf("rule r1: %+v, %v; want it stopped with the panic of Connect", st, err)
	}
	stillRuns()
	if names, err := s.cl.Plugins(t.Context(), sdk.KindSink); err != nil || !slices.Equal(names, []string{"snare"}) {
		t.Errorf("sink plugins = %q, %v", names, err)
	}
}

// An engine whose plugins/ holds a .so whose init panics starts: the file
// is quarantined with its metadata, reported by GET /plugins, and the
// plugin can be deleted from the list and installed again.
func TestPluginQuarantinedAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go plugins")
	}
	zipPath, so := buildZip(t, "Boom.so", boomSink, "boom.json", "{}")
	root := t.TempDir()
	testutil.WriteTree(t, root, map[string]string{
		"plugins/sinks/Boom.so":   so,
		"etc/sinks/boom.json":     "{}",
		"etc/sinks/boom/conf.txt": "the user's",
		// A .so that is not ELF is quarantined as well.
		"plugins/functions/Junk.so": "not an ELF file",
	})
	s := newServerAt(t, root)
	stillRuns := runningRule(t, s)
	ctx := t.Context()
	info, err := s.cl.Plugin(ctx, sdk.KindSink, "boom")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "plugins/sinks/Boom.so")
	if !strings.HasPrefix(info.Quarantined, "plugins/.quarantine/sinks/boom-") {
		t.Errorf("quarantined = %q", info.Quarantined)
	}
	wantErr := `plugin "boom" (` + file + `): its init panicked while it was opened: boom: libfoo.so.1 not found; the plugin was not loaded; quarantined to ` +
		info.Quarantined + ` (reason.txt): fix or rebuild the plugin, then install it again`
	if info.Error != wantErr {
		t.Errorf("error = %q\nwant    %q", info.Error, wantErr)
	}
	q := filepath.Join(root, filepath.FromSlash(info.Quarantined))
	for _, p := range []string{"plugins/sinks/Boom.so", "etc/sinks/boom.json", "reason.txt"} {
		if _, err := os.Stat(filepath.Join(q, p)); err != nil {
			t.Errorf("quarantine folder: %v", err)
		}
	}
	if reason, _ := os.ReadFile(filepath.Join(q, "reason.txt")); !strings.Contains(string(reason), "boom: libfoo.so.1 not found") {
		t.Errorf("reason.txt = %q", reason)
	}
	got := files(t, root)
	for _, p := range []string{"plugins/sinks/Boom.so", "etc/sinks/boom.json", "plugins/functions/Junk.so"} {
		if slices.Contains(got, p) {
			t.Errorf("%s was not moved aside", p)
		}
	}
	if !slices.Contains(got, "etc/sinks/boom/conf.txt") {
		t.Error("the plugin's configuration was moved")
	}
	junk, err := s.cl.Plugin(ctx, sdk.KindFunction, "junk")
	if err != nil || !strings.Contains(junk.Error, "not a Go plugin") || !strings.HasPrefix(junk.Quarantined, "plugins/.quarantine/functions/junk-") {
		t.Errorf("junk = %+v, %v", junk, err)
	}
	stillRuns()
	s.check(t, []exchange{
		{"GET", "/plugins/sinks", "", 200, "[\n  \"boom\"\n]\n"},
		// Its code ran in this process: a second open would hang in Go.
		{"POST", "/plugins/sinks", `{"name":"boom","file":"` + zipPath + `"}`, 400, `install sinks plugin "boom": load: plugin "boom" (` + file + `): its init panicked while it was opened: *`},
		// Delete removes the quarantined copy too.
		{"DELETE", "/plugins/sinks/boom", "", 200, "sinks plugin boom is deleted; rules already using it keep it until they stop, as Go cannot unload a plugin"},
		{"GET", "/plugins/sinks", "", 200, "[]\n"},
	})
	if _, err := os.Stat(q); err == nil {
		t.Errorf("%s left after the delete", info.Quarantined)
	}
	stillRuns()
	// The next start finds nothing to quarantine, and the junk function
	// plugin quarantined by the first start is still reported.
	s.srv.Close()
	if err := s.e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(engine.Options{Root: root, NoRestore: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if infos := e.Plugins().List(sdk.KindSink); len(infos) != 0 {
		t.Errorf("after a restart: sink plugins %+v", infos)
	}
	if infos := e.Plugins().List(sdk.KindFunction); len(infos) != 1 || infos[0].Quarantined != junk.Quarantined || !strings.Contains(infos[0].Err, "not a Go plugin") {
		t.Errorf("after a restart: function plugins %+v", infos)
	}
}

// install.sh is refused unless etc/kgen.yaml allows it; allowed, it runs
// under plugins.installScriptTimeout.
func TestPluginInstallScriptSettings(t *testing.T) {
	off := newServer(t)
	z := writeZip(t, "Hook.so", "not an ELF file", "install.sh", "echo ran > \"$KGEN_ROOT/data/ran.txt\"\n")
	off.check(t, []exchange{
		{"POST", "/plugins/sinks", `{"name":"hook","file":"` + z + `"}`, 400,
			`install sinks plugin "hook": the zip has an install.sh, and install scripts are off: running it would run the zip's code as the engine's user; ` +
				`to allow it, set plugins.allowInstallScripts: true in etc/kgen.yaml and restart the engine, or remove install.sh from the zip`},
	})
	if _, err := os.Stat(filepath.Join(off.e.Root(), "data", "ran.txt")); err == nil {
		t.Error("install.sh ran while scripts are off")
	}

	root := t.TempDir()
	testutil.WriteTree(t, root, map[string]string{"etc/kgen.yaml": "plugins:\n  allowInstallScripts: true\n  installScriptTimeout: 2s\n"})
	on := newServerAt(t, root)
	slow := writeZip(t, "Hook.so", "not an ELF file", "install.sh", "sleep 60\n")
	on.check(t, []exchange{
		// The script runs; the loader then refuses the .so, and the error
		// says the script's own effects stay.
		{"POST", "/plugins/sinks", `{"name":"hook","file":"` + z + `"}`, 400, `install sinks plugin "hook": load: plugin "hook" (*`},
		{"POST", "/plugins/sinks", `{"name":"hook","file":"` + slow + `"}`, 400, `install sinks plugin "hook": install.sh: did not finish within 2s (plugins.installScriptTimeout)`},
	})
	_, body := on.call(t, "POST", "/plugins/sinks", `{"name":"hook","file":"`+z+`"}`)
	if !strings.Contains(body, "install.sh had run: the files of this install were removed, but changes the script made outside its folder are not undone") {
		t.Errorf("refused install after the script: %s", body)
	}
	if data, err := os.ReadFile(filepath.Join(root, "data", "ran.txt")); string(data) != "ran\n" {
		t.Errorf("data/ran.txt = %q, %v; want the script's output", data, err)
	}
	if got := files(t, root); slices.ContainsFunc(got, func(p string) bool { return strings.Contains(strings.ToLower(p), "hook") }) {
		t.Errorf("left after refused installs: %q", got)
	}

	bad := t.TempDir()
	testutil.WriteTree(t, bad, map[string]string{"etc/kgen.yaml": "plugins:\n  installScriptTimeout: -1s\n"})
	_, err := engine.Open(engine.Options{Root: bad, NoRestore: true})
	if want := filepath.Join(bad, "etc", "kgen.yaml") + ": plugins.installScriptTimeout -1s: want a positive duration such as 2m"; err == nil || err.Error() != want {
		t.Errorf("engine.Open: %v\nwant %s", err, want)
	}
}
