package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/internal/testutil"
	"github.com/kgen-dev/kgen/sdk"
)

// writeZip writes a zip of name → body pairs and returns its path.
func writeZip(t *testing.T, pairs ...string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(pairs); i += 2 {
		w, err := zw.Create(pairs[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(pairs[i+1]))
	}
	zw.Close()
	p := filepath.Join(t.TempDir(), "plugin.zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// files lists the files under the engine root's plugins/ and etc/.
func files(t *testing.T, root string) []string {
	var out []string
	for _, d := range []string{"plugins", "etc"} {
		filepath.WalkDir(filepath.Join(root, d), func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				rel, _ := filepath.Rel(root, p)
				out = append(out, filepath.ToSlash(rel))
			}
			return nil
		})
	}
	return out
}

func TestPluginInstallRefused(t *testing.T) {
	s := newServer(t)
	root := s.e.Root()
	before := files(t, root)
	// A .so that is not a Go plugin: the loader refuses it after the files
	// were moved into place, and the install is rolled back.
	fake := writeZip(t, "Random.so", "not an ELF file", "random.yaml", "default: {}\n", "random.json", "{}", "etc/words.txt", "a b")
	slip := writeZip(t, "Random.so", "x", "random.yaml", "", "../../escape.txt", "evil")
	s.check(t, []exchange{
		{"POST", "/plugins/sources", `{"name":"random","file":"file://` + fake + `"}`, 400, `install sources plugin "random": load: *`},
		{"POST", "/plugins/sources", `{"name":"random","file":"` + slip + `"}`, 400, `install sources plugin "random": zip entry "../../escape.txt": ".." is not allowed`},
		{"POST", "/plugins/sources", `{"name":"random","file":"` + fake + `","shellParas":["-y"]}`, 400, `install sources plugin "random": shell parameters ["-y"] given, but the zip has no install.sh`},
		{"POST", "/plugins/sinks", `{"name":"random","file":"` + fake + `"}`, 400, `install sinks plugin "random": load: plugin "random" (` + filepath.Join(root, "plugins/sinks/Random.so") + `): not a Go plugin: *`},
		{"POST", "/plugins/sources", `{"name":"random","file":"random.zip"}`, 400, `install sources plugin "random": file "random.zip": want an absolute path or a file:// URL (the engine's working folder is not the client's)`},
		{"POST", "/plugins/sources", `{"name":"random","file":"https://example.com/random.zip"}`, 400, `install sources plugin "random": file "https://example.com/random.zip": want a file:// URL or an absolute path on the engine's machine`},
		{"POST", "/plugins/sources", `{"name":"random","file":"/no/such/random.zip"}`, 400, `install sources plugin "random": open /no/such/random.zip: no such file or directory`},
		{"POST", "/plugins/sources", `{"name":"Random","file":"` + fake + `"}`, 400, `install sources plugin "Random": invalid plugin name "Random": must start with a lower-case letter (camelCase)`},
		{"POST", "/plugins/sources", `{"file":"` + fake + `"}`, 400, `request body: "name" is required (want {"name": "random", "file": "file:///path/random.zip", "shellParas": []})`},
		{"POST", "/plugins/sources", `{"name":"random"}`, 400, `request body: "file" is required (want {"name": "random", "file": "file:///path/random.zip", "shellParas": []})`},
		{"POST", "/plugins/portable", `{"name":"random","file":"` + fake + `"}`, 404, `unknown plugin kind "portable": want source, sink or function`},
		{"POST", "/plugins/sinks", `{"name":"log","file":"` + fake + `"}`, 409, `install sinks plugin "log": a built-in sink has that name; a plugin cannot replace an extension compiled into the engine`},
		{"GET", "/plugins/sources", "", 200, "[]\n"},
		{"GET", "/plugins/sources/random", "", 404, `sources plugin "random" is not installed`},
		{"DELETE", "/plugins/sources/random", "", 404, `sources plugin "random" is not installed`},
		// A built-in source is not a plugin: its yaml stays.
		{"DELETE", "/plugins/sources/mqtt", "", 404, `sources plugin "mqtt" is not installed`},
	})
	if after := files(t, root); !slices.Equal(before, after) {
		t.Errorf("files changed:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
	if _, err := os.Stat(filepath.Join(root, "..", "escape.txt")); err == nil {
		t.Error("zip slip wrote escape.txt")
	}
}

func TestPluginExistsListDelete(t *testing.T) {
	root := t.TempDir()
	// An installed plugin the engine's startup scan refuses, for its
	// metadata (a broken .so would be quarantined: see
	// TestPluginQuarantinedAtStart).
	for p, body := range map[string]string{
		"plugins/functions/Hook@v1.0.0.so": "not an ELF file",
		"etc/functions/hook.json":          "{not json",
		"etc/functions/hook/token.txt":     "secret",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755)
		os.WriteFile(filepath.Join(root, p), []byte(body), 0o644)
	}
	e, err := engine.Open(engine.Options{Root: root, NoRestore: true})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	s := newServerAt(t, root)
	ctx := context.Background()
	z := writeZip(t, "Hook.so", "x")
	_, err = s.cl.InstallPlugin(ctx, sdk.KindFunction, api.PluginBody{Name: "hook", File: z})
	if want := `install functions plugin "hook": plugin "hook" is already installed (v1.0.0); delete it first`; err == nil || err.Error() != want || !errors.Is(err, engine.ErrExists) {
		t.Errorf("install over an installed plugin: %v\nwant %s", err, want)
	}
	names, err := s.cl.Plugins(ctx, sdk.KindFunction)
	if err != nil || !slices.Equal(names, []string{"hook"}) {
		t.Errorf("Plugins = %q, %v", names, err)
	}
	info, err := s.cl.Plugin(ctx, sdk.KindFunction, "hook")
	if err != nil || info.Name != "hook" || info.Version != "1.0.0" || info.Error == "" {
		t.Errorf("Plugin = %+v, %v", info, err)
	}
	msg, err := s.cl.DeletePlugin(ctx, sdk.KindFunction, "hook", false)
	// Installed without a manifest (by hand): its etc folder may be the
	// user's, and stays.
	if want := "functions plugin hook is deleted; kept the configuration changed or added since the install: etc/functions/hook; rules already using it keep it until they stop, as Go cannot unload a plugin"; err != nil || msg != want {
		t.Errorf("DeletePlugin = %q, %v\nwant %q", msg, err, want)
	}
	if got := files(t, root); slices.ContainsFunc(got, func(p string) bool {
		return (strings.Contains(p, "hook") || strings.Contains(p, "Hook")) && p != "etc/functions/hook/token.txt"
	}) {
		t.Errorf("left after delete: %q", got)
	}
	if names, _ := s.cl.Plugins(ctx, sdk.KindFunction); len(names) != 0 {
		t.Errorf("after delete Plugins = %q", names)
	}
	if _, err := s.cl.Plugin(ctx, sdk.KindFunction, "hook"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Plugin after delete: %v", err)
	}
}

// newServerAt is newServer on an existing root folder.
func newServerAt(t *testing.T, root string) *testServer {
	t.Helper()
	return newServerWith(t, engine.Options{Root: root, NoRestore: true})
}

// newServerWith serves the API of an engine opened with opts, and closes
// both when the test ends.
func newServerWith(t *testing.T, opts engine.Options) *testServer {
	t.Helper()
	e, err := engine.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewHandler(e, nil))
	t.Cleanup(func() {
		srv.Close()
		e.Close()
	})
	cl, err := api.NewClient(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{e: e, srv: srv, cl: cl}
}

// hookSink is the source of a sink plugin, hook, that reads one property,
// "topic", and reports n from its Collect.
func hookSink(n string) string {
	return `package main

import (
	"errors"

	"github.com/kgen-dev/kgen/sdk"
)

type hook struct{}

func (hook) Provision(_ sdk.Context, props map[string]any) error {
	if props["topic"] == nil {
		return errors.New("hook: topic is required")
	}
	return nil
}
func (hook) Connect(sdk.Context) error                       { return nil }
func (hook) Collect(sdk.Context, map[string]any) error       { return errors.New("hook ` + n + `") }
func (hook) CollectList(sdk.Context, []map[string]any) error { return errors.New("hook ` + n + `") }
func (hook) Close(sdk.Context) error                         { return nil }

func Hook() sdk.Sink { return hook{} }

func main() {}
`
}

const hookMeta = `{"about": {}, "libs": [], "properties": [{"name": "topic", "optional": false}], "node": {}}`

// A real plugin: installed, used by a rule, refused deletion until forced,
// installed again (the same build loads; a new build of it needs a
// restart), and its declared properties checked.
func TestPluginUpgradeAndDelete(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go plugins")
	}
	builds := t.TempDir()
	module := fmt.Sprintf("kgenfixture/hook%d", time.Now().UnixNano())
	testutil.BuildPlugin(t, module, hookSink("1"), filepath.Join(builds, "v1", "Hook.so"))
	testutil.BuildPlugin(t, module, hookSink("2"), filepath.Join(builds, "v2", "Hook.so"))
	zipOf := func(dir string) string {
		so, err := os.ReadFile(filepath.Join(builds, dir, "Hook.so"))
		if err != nil {
			t.Fatal(err)
		}
		return writeZip(t, "Hook.so", string(so), "hook.json", hookMeta)
	}
	v1, v2 := zipOf("v1"), zipOf("v2")
	s := newServer(t)
	s.check(t, []exchange{
		{"POST", "/plugins/sinks", `{"name":"hook","file":"` + v1 + `"}`, 201, "sinks plugin hook is created"},
		{"POST", "/streams", `{"sql":` + quote(demoSQL) + `}`, 201, "Stream demo is created."},
		{"POST", "/rules", `{"id":"r1","sql":"SELECT * FROM demo","actions":[{"hook":{"topic":"t"}}]}`, 201, "Rule r1 was created successfully."},
		{"POST", "/rules", `{"id":"r2","sql":"SELECT * FROM demo","actions":[{"log":{}}]}`, 201, "Rule r2 was created successfully."},
		// The properties its metadata declares are the ones it takes.
		{"POST", "/rules", `{"id":"r3","sql":"SELECT * FROM demo","actions":[{"hook":{"topicc":"t"}}]}`, 400, `rule "r3": actions[0] (hook): sink "hook": unknown property "topicc", did you mean "topic"?`},
		{"POST", "/rules", `{"id":"r3","sql":"SELECT * FROM demo","actions":[{"hook":{"topic":"t","dataTemplate":"x","sendSingle":true}}]}`, 201, "Rule r3 was created successfully."},
		{"DELETE", "/rules/r3", "", 200, "Rule r3 is dropped."},
		{"DELETE", "/plugins/sinks/hook", "", 409, `delete sinks plugin "hook": used by rule "r1"; delete or change them first, or delete with ?force=true (running rules keep the plugin's code until they stop)`},
		{"DELETE", "/plugins/sinks/hook?force=maybe", "", 400, `query parameter force="maybe": want true or false`},
		{"DELETE", "/plugins/sinks/hook?force=true", "", 200, "sinks plugin hook is deleted; rules already using it keep it until they stop, as Go cannot unload a plugin"},
		// The same build again: its code is what the engine has loaded.
		{"POST", "/plugins/sinks", `{"name":"hook","file":"` + v1 + `"}`, 201, "sinks plugin hook is created"},
		{"POST", "/rules/r1/restart", "", 200, "Rule r1 was restarted"},
		{"DELETE", "/plugins/sinks/hook?force=true", "", 200, "*"},
		// A new build of it cannot run before a restart: refused, and
		// nothing of it stays.
		{"POST", "/plugins/sinks", `{"name":"hook","file":"` + v2 + `"}`, 409,
			`install sinks plugin "hook": load: restart kgen to replace plugin "hook": the running engine has its old code loaded (Hook.so, without a version); Go opens a plugin file once per process and would keep returning the old code for Hook.so`},
		{"GET", "/plugins/sinks", "", 200, "[]\n"},
	})
	if got := files(t, s.e.Root()); slices.ContainsFunc(got, func(p string) bool { return strings.Contains(strings.ToLower(p), "hook") }) {
		t.Errorf("left after a refused install: %q", got)
	}
}
