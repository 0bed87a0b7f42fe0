package engine_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/internal/testutil"
)

// pathsRoot makes an engine root in a temp folder beside an "outside" folder
// with a secret, an "allowed" folder listed in paths.allow, and links in the
// root's data/ folder that lead to each.
func pathsRoot(t *testing.T) (tmp, root string) {
	t.Helper()
	tmp = t.TempDir()
	root = filepath.Join(tmp, "root")
	testutil.WriteTree(t, tmp, map[string]string{
		"root/etc/kgen.yaml":   "paths:\n  allow: [" + filepath.Join(tmp, "allowed") + "]\n",
		"root/data/in.jsonl":   `{"n": 1}` + "\n",
		"outside/secret.jsonl": `{"n": 42}` + "\n",
		"allowed/in.jsonl":     `{"n": 7}` + "\n",
	})
	for target, link := range map[string]string{
		filepath.Join(tmp, "outside", "secret.jsonl"): "data/secret-link.jsonl",
		filepath.Join(tmp, "outside"):                 "data/outside-link",
		filepath.Join(tmp, "allowed"):                 "data/allowed-link",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	return tmp, root
}

// noFilesAdded fails when the folder outside holds anything but what
// pathsRoot put there.
func noFilesAdded(t *testing.T, outside string) {
	t.Helper()
	err := filepath.WalkDir(outside, func(path string, d fs.DirEntry, err error) error {
		if err == nil && path != outside && d.Name() != "secret.jsonl" {
			t.Errorf("written outside the engine root: %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestConfinedFileSinks(t *testing.T) {
	tmp, root := pathsRoot(t)
	outside, allowed := filepath.Join(tmp, "outside"), filepath.Join(tmp, "allowed")
	e := open(t, root)
	defer e.Close()
	mustStream(t, e, `CREATE STREAM m () WITH (DATASOURCE="in/m", TYPE="memory")`)
	refused := func(path string) string {
		return `file sink "path": "` + path + `" is outside the engine root ` + root + ` and the paths in etc/kgen.yaml paths.allow`
	}
	for _, c := range []struct {
		name, path, err string
	}{
		{"absolute outside", filepath.Join(outside, "rows.jsonl"), refused(filepath.Join(outside, "rows.jsonl"))},
		{"dot-dot escape", "../outside/rows.jsonl", refused("../outside/rows.jsonl")},
		{"dot-dot escape from data", "data/../../outside/rows.jsonl", refused("data/../../outside/rows.jsonl")},
		{"file symlink leading out", "data/secret-link.jsonl", refused("data/secret-link.jsonl")},
		{"folder symlink leading out", "data/outside-link/rows.jsonl", refused("data/outside-link/rows.jsonl")},
		{"folder symlink leading out, new folders", "data/outside-link/a/b.jsonl", refused("data/outside-link/a/b.jsonl")},
		{"engine settings", "etc/kgen.yaml", `file sink "path": "etc/kgen.yaml" is in the engine's own etc, which definitions may not use unless etc/kgen.yaml paths.allow lists it`},
		{"engine plugins", root + "/plugins/portable/x/x.py", `file sink "path": "` + root + `/plugins/portable/x/x.py" is in the engine's own plugins, which definitions may not use unless etc/kgen.yaml paths.allow lists it`},
	} {
		t.Run(c.name, func(t *testing.T) {
			def, _ := json.Marshal(map[string]any{"id": "out", "sql": "SELECT * FROM m", "actions": []any{map[string]any{"file": map[string]any{"path": c.path}}}})
			_, err := e.CreateRule(def)
			want := `rule "out": actions[0] (file): ` + c.err
			if err == nil || err.Error() != want {
				t.Fatalf("got %v\nwant %s", err, want)
			}
			if _, err := e.ValidateRule(def); err == nil || err.Error() != want {
				t.Fatalf("validate: got %v\nwant %s", err, want)
			}
			if _, err := e.Rule("out"); !errors.Is(err, engine.ErrNotFound) {
				t.Fatalf("a refused rule was saved: %v", err)
			}
		})
	}
	noFilesAdded(t, outside)
	if b, err := os.ReadFile(filepath.Join(root, "etc", "kgen.yaml")); err != nil || strings.Contains(string(b), "{") {
		t.Fatalf("etc/kgen.yaml was written: %q, %v", b, err)
	}

	// Inside the root, in an allowed folder and through a link to one, rows
	// are written.
	for i, path := range []string{"out/rows.jsonl", filepath.Join(root, "data", "rows.jsonl"), filepath.Join(allowed, "sub", "rows.jsonl"), "data/allowed-link/linked.jsonl"} {
		id := "ok" + string(rune('a'+i))
		def, _ := json.Marshal(map[string]any{"id": id, "sql": "SELECT * FROM m", "actions": []any{map[string]any{"file": map[string]any{"path": path, "checkInterval": "10ms"}}}})
		if _, err := e.CreateRule(def); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	publish(t, e, "in/m", map[string]any{"n": int64(5)})
	for _, path := range []string{filepath.Join(root, "out", "rows.jsonl"), filepath.Join(root, "data", "rows.jsonl"), filepath.Join(allowed, "sub", "rows.jsonl"), filepath.Join(allowed, "linked.jsonl")} {
		eventually(t, path, func() bool {
			b, _ := os.ReadFile(path)
			return string(b) == `{"n":5}`+"\n"
		})
	}
	noFilesAdded(t, outside)
}

func TestConfinedFileSources(t *testing.T) {
	tmp, root := pathsRoot(t)
	outside, allowed := filepath.Join(tmp, "outside"), filepath.Join(tmp, "allowed")
	e := open(t, root)
	defer e.Close()
	refused := func(prop, path string) string {
		return `stream "f": file source "` + prop + `": "` + path + `" is outside the engine root ` + root + ` and the paths in etc/kgen.yaml paths.allow`
	}
	secret := filepath.Join(outside, "secret.jsonl")
	for _, c := range []struct {
		name, datasource, err string
	}{
		{"absolute outside", secret, refused("datasource", secret)},
		{"dot-dot escape", "../../outside/secret.jsonl", refused("datasource", "../../outside/secret.jsonl")},
		{"file symlink leading out", "secret-link.jsonl", refused("datasource", "secret-link.jsonl")},
		{"folder symlink leading out", "outside-link/secret.jsonl", refused("datasource", "outside-link/secret.jsonl")},
		{"the engine's store", "kgen.db", `stream "f": file source "datasource": "kgen.db" is in the engine's own data/kgen.db, which definitions may not use unless etc/kgen.yaml paths.allow lists it`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.CreateStream(`CREATE STREAM f () WITH (TYPE="file", DATASOURCE="` + c.datasource + `")`)
			if err == nil || err.Error() != c.err {
				t.Fatalf("got %v\nwant %s", err, c.err)
			}
			if _, err := e.DescribeStream("f"); !errors.Is(err, engine.ErrNotFound) {
				t.Fatalf("a refused stream was saved: %v", err)
			}
		})
	}

	// A CONF_KEY whose folder is outside is refused by its "path".
	testutil.WriteTree(t, root, map[string]string{"etc/sources/file.yaml": "default:\n  fileType: lines\nout:\n  path: " + outside + "\n"})
	_, err := e.CreateStream(`CREATE STREAM f () WITH (TYPE="file", DATASOURCE="secret.jsonl", CONF_KEY="out")`)
	if want := refused("path", outside); err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}

	// Inside the root, in an allowed folder and through a link to one, rows
	// are read.
	for i, ds := range []string{"in.jsonl", filepath.Join(allowed, "in.jsonl"), "allowed-link/in.jsonl"} {
		name := "ok" + string(rune('a'+i))
		mustStream(t, e, `CREATE STREAM `+name+` () WITH (TYPE="file", DATASOURCE="`+ds+`")`)
		out, cancel := e.MemoryHub().Subscribe("out/"+name, 16)
		defer cancel()
		mustRule(t, e, `{"id":"`+name+`","sql":"SELECT n FROM `+name+`","actions":[{"memory":{"topic":"out/`+name+`"}}]}`)
		want := int64(1)
		if i > 0 {
			want = 7
		}
		if rows := receive(t, out, 1); rows[0]["n"] != want {
			t.Fatalf("%s: got %v, want n %d", ds, rows, want)
		}
	}
}

// A link made after the rule was created is caught when the file is opened.
func TestConfinedSinkLinkSwappedIn(t *testing.T) {
	tmp, root := pathsRoot(t)
	outside := filepath.Join(tmp, "outside")
	e := open(t, root)
	defer e.Close()
	mustStream(t, e, `CREATE STREAM m () WITH (DATASOURCE="in/m", TYPE="memory")`)
	mustRule(t, e, `{"id":"late","sql":"SELECT * FROM m","triggered":false,"actions":[{"file":{"path":"data/late/rows.jsonl"}}]}`)
	if err := os.Symlink(outside, filepath.Join(root, "data", "late")); err != nil {
		t.Fatal(err)
	}
	err := e.StartRule("late")
	if err == nil {
		st, _ := e.RuleStatus("late")
		b, _ := json.Marshal(st)
		err = errors.New(string(b))
	}
	if want := `file sink "path": "data/late/rows.jsonl" is outside the engine root`; !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want it to say %s", err, want)
	}
	noFilesAdded(t, outside)
}

func TestPathsAllowSetting(t *testing.T) {
	root := t.TempDir()
	testutil.WriteTree(t, root, map[string]string{"etc/kgen.yaml": "paths:\n  allow: [/var/log/app, logs]\n"})
	_, err := engine.Open(engine.Options{Root: root})
	if want := filepath.Join(root, "etc", "kgen.yaml") + `: paths.allow[1]: "logs": want an absolute folder path`; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestStreamNames(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	for _, c := range []struct {
		name, err string
	}{
		{"`a/b`", `create stream: stream name "a/b": contains '/' or '\'; a stream name is an identifier`},
		{"`a\\b`", `create stream: stream name "a\\b": contains '/' or '\'; a stream name is an identifier`},
		{"`..`", `create stream: stream name "..": contains ".."; a stream name is an identifier`},
		{"`a..b`", `create stream: stream name "a..b": contains ".."; a stream name is an identifier`},
		{"`a\x00b`", `create stream: stream name "a\x00b": contains a control character or invalid UTF-8; a stream name is an identifier`},
		{"`a\nb`", `create stream: stream name "a\nb": contains a control character or invalid UTF-8; a stream name is an identifier`},
	} {
		_, err := e.CreateStream(`CREATE STREAM ` + c.name + ` () WITH (DATASOURCE="t", TYPE="memory")`)
		if err == nil || err.Error() != c.err {
			t.Errorf("%s: got %v\nwant %s", c.name, err, c.err)
		}
	}
	if got := e.Streams(); len(got) != 0 {
		t.Fatalf("refused streams were saved: %q", got)
	}
	// Names are kept as written and compared exactly: two streams may
	// differ in case only, and a rule names the one it means.
	mustStream(t, e, `CREATE STREAM Demo () WITH (DATASOURCE="t1", TYPE="memory")`)
	mustStream(t, e, `CREATE STREAM demo () WITH (DATASOURCE="t2", TYPE="memory")`)
	mustStream(t, e, "CREATE STREAM `dotted.name-1 ü` () WITH (DATASOURCE=\"t3\", TYPE=\"memory\")")
	if _, err := e.CreateRule([]byte(`{"id":"r","sql":"SELECT * FROM DEMO","actions":[{"nop":{}}]}`)); err == nil || !strings.Contains(err.Error(), `stream "DEMO"`) {
		t.Fatalf("FROM DEMO: got %v, want stream \"DEMO\" not found", err)
	}
}

// A rule saved while paths.allow listed its folder, which is no longer
// listed, does not stop the engine from starting: the rule reports the
// refusal and the others run.
func TestConfinedRuleAfterAllowRemoved(t *testing.T) {
	tmp, root := pathsRoot(t)
	allowed := filepath.Join(tmp, "allowed")
	e := open(t, root)
	mustStream(t, e, `CREATE STREAM m () WITH (DATASOURCE="in/m", TYPE="memory")`)
	mustRule(t, e, `{"id":"away","sql":"SELECT * FROM m","actions":[{"file":{"path":"`+filepath.Join(allowed, "rows.jsonl")+`"}}]}`)
	mustRule(t, e, `{"id":"home","sql":"SELECT * FROM m","actions":[{"file":{"path":"out/rows.jsonl","checkInterval":"10ms"}}]}`)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	testutil.WriteTree(t, root, map[string]string{"etc/kgen.yaml": ""})
	e = open(t, root)
	defer e.Close()
	st, err := e.RuleStatus("away")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(st)
	if want := `file sink \"path\": \"` + filepath.Join(allowed, "rows.jsonl") + `\" is outside the engine root`; !strings.Contains(string(b), want) {
		t.Fatalf("status of away: %s\nwant it to say %s", b, want)
	}
	publish(t, e, "in/m", map[string]any{"n": int64(3)})
	eventually(t, "home writes", func() bool {
		b, _ := os.ReadFile(filepath.Join(root, "out", "rows.jsonl"))
		return string(b) == `{"n":3}`+"\n"
	})
	// The file was made while the folder was allowed; nothing was written
	// to it since.
	if b, err := os.ReadFile(filepath.Join(allowed, "rows.jsonl")); err != nil || len(b) != 0 {
		t.Fatalf("the refused rule wrote: %q, %v", b, err)
	}
}
