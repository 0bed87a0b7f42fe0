package scaffold

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

// repoRoot is the kgen source tree these tests run in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func local(t *testing.T) Options {
	return Options{Kgen: &Kgen{Version: placeholderVersion, Dir: repoRoot(t)}}
}

func paths(files []File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}

func TestRenderFiles(t *testing.T) {
	common := []string{"README.md", "generate.go", "go.mod", "scripts_test.go"}
	want := map[sdk.Kind][]string{
		sdk.KindFunction: append(common, "greet.go", "greet_test.go", "input/people.jsonl",
			"rules/greet.json", "streams/people.sql", "testdata/engine.txtar", "testdata/greet.txtar"),
		sdk.KindSource: append(common, "counter.go", "counter_test.go",
			"rules/counter.json", "streams/counts.sql", "testdata/counter.txtar", "testdata/engine.txtar"),
		sdk.KindSink: append(common, "alertFile.go", "alertFile_test.go", "input/readings.jsonl",
			"rules/alertFile.json", "streams/readings.sql", "testdata/alertFile.txtar", "testdata/engine.txtar"),
	}
	names := map[sdk.Kind]string{sdk.KindFunction: "greet", sdk.KindSource: "counter", sdk.KindSink: "alertFile"}
	for kind, name := range names {
		files, err := Render(kind, name, local(t))
		if err != nil {
			t.Fatal(err)
		}
		w := slices.Clone(want[kind])
		slices.Sort(w)
		if got := paths(files); !slices.Equal(got, w) {
			t.Errorf("%s files:\n%s\nwant:\n%s", kind, strings.Join(got, "\n"), strings.Join(w, "\n"))
		}
		for _, f := range files {
			if bytes.Contains(f.Data, []byte("{{")) || bytes.Contains(f.Data, []byte("<no value>")) {
				t.Errorf("%s %s: template text left:\n%s", kind, f.Path, f.Data)
			}
		}
		again, err := Render(kind, name, local(t))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(files, again, func(a, b File) bool { return a.Path == b.Path && bytes.Equal(a.Data, b.Data) }) {
			t.Errorf("%s: two renders differ", kind)
		}
	}
}

func file(t *testing.T, files []File, path string) string {
	t.Helper()
	for _, f := range files {
		if f.Path == path {
			return string(f.Data)
		}
	}
	t.Fatalf("no file %s", path)
	return ""
}

func TestRenderNames(t *testing.T) {
	files, err := Render(sdk.KindSink, "alertFile", local(t))
	if err != nil {
		t.Fatal(err)
	}
	src := file(t, files, "alertFile.go")
	for _, want := range []string{"package alertfile\n", "//kgen:sink\ntype alertFile struct {", "type alertFileRow struct {",
		"func (s *alertFile) Collect(ctx sdk.Context, row alertFileRow) error {", "the constructor AlertFile"} {
		if !strings.Contains(src, want) {
			t.Errorf("alertFile.go lacks %q", want)
		}
	}
	if got := file(t, files, "generate.go"); !strings.Contains(got, "\n//go:generate go run github.com/kgen-dev/kgen/cmd/kgen-gen\n") {
		t.Errorf("generate.go:\n%s", got)
	}
	if got := file(t, files, "rules/alertFile.json"); !strings.Contains(got, `"actions": [{"alertFile": {"path": "alerts.txt"}}]`) {
		t.Errorf("rule:\n%s", got)
	}
}

func TestGoMod(t *testing.T) {
	cases := []struct {
		opts Options
		want string
	}{
		{
			opts: Options{Kgen: &Kgen{Version: placeholderVersion, Dir: "/src/kgen"}},
			want: "module example.com/wordcount\n\ngo " + GoVersion + "\n\n" +
				"require github.com/kgen-dev/kgen v0.0.0-00010101000000-000000000000\n\n" +
				"// go tool kgen ... runs the kgen this module requires; listing it here also\n" +
				"// keeps go.sum complete for the go:generate line in generate.go (kgen-gen\n" +
				"// needs a subset of kgen's modules).\n" +
				"tool github.com/kgen-dev/kgen/cmd/kgen\n\n" +
				"// kgen was not installed from a published version: build against its source.\n" +
				"replace github.com/kgen-dev/kgen => /src/kgen\n",
		},
		{
			opts: Options{Module: "github.com/me/wc", Kgen: &Kgen{Version: "v1.2.3"}},
			want: "module github.com/me/wc\n\ngo " + GoVersion + "\n\n" +
				"require github.com/kgen-dev/kgen v1.2.3\n\n" +
				"// go tool kgen ... runs the kgen this module requires; listing it here also\n" +
				"// keeps go.sum complete for the go:generate line in generate.go (kgen-gen\n" +
				"// needs a subset of kgen's modules).\n" +
				"tool github.com/kgen-dev/kgen/cmd/kgen\n",
		},
		{
			opts: Options{Kgen: &Kgen{Version: placeholderVersion, Dir: "/my src/kgen"}},
			want: `replace github.com/kgen-dev/kgen => "/my src/kgen"` + "\n",
		},
	}
	for _, c := range cases {
		files, err := Render(sdk.KindFunction, "wordCount", c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := file(t, files, "go.mod"); !strings.HasSuffix(got, c.want) {
			t.Errorf("go.mod:\n%s\nwant (the end of it):\n%s", got, c.want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	cases := []struct {
		kind   sdk.Kind
		name   string
		module string
		want   string
	}{
		{sdk.KindFunction, "", "", `new function: invalid plugin name: must not be empty`},
		{sdk.KindFunction, "Greet", "", `new function: invalid plugin name "Greet": must start with a lower-case letter (camelCase)`},
		{sdk.KindSink, "my-sink", "", `new sink: invalid plugin name "my-sink": must be a Go identifier (bad character '-' at offset 2)`},
		{sdk.KindSource, "../x", "", `new source: invalid plugin name "../x": must not contain / or \`},
		{sdk.KindFunction, "func", "", `new function: invalid plugin name "func": must not be a Go keyword, a predeclared identifier, init or main`},
		{sdk.KindFunction, "len", "", `new function: invalid plugin name "len": must not be a Go keyword, a predeclared identifier, init or main`},
		{sdk.KindFunction, "main", "", `new function: invalid plugin name "main": must not be a Go keyword, a predeclared identifier, init or main`},
		{sdk.KindFunction, "errors", "", `new function: invalid plugin name "errors": the project would have two "errors" (a func in errors.go, an import in errors.go); pick another name`},
		{sdk.KindSink, "os", "", `new sink: invalid plugin name "os": the project would have two "os" (a type in os.go, an import in os.go); pick another name`},
		{sdk.KindSource, "testscript", "", `new source: invalid plugin name "testscript": the project would have two "testscript" (a type in testscript.go, an import in scripts_test.go); pick another name`},
		{sdk.KindSource, "math", "", `new source: invalid plugin name "math": the project would have two "math" (a type in math.go, an import in kgen.gen.go); pick another name`},
		{sdk.KindFunction, "kgentest", "", `new function: invalid plugin name "kgentest": the project would have two "kgentest" (a func in kgentest.go, an import in scripts_test.go); pick another name`},
		{sdk.KindFunction, "testMain", "", `new function: invalid plugin name "testMain": the project would have two "TestMain" (the constructor in kgen.gen.go, a func in scripts_test.go); pick another name`},
		{sdk.KindSink, "testContext", "", `new sink: invalid plugin name "testContext": the project would have two "testContext" (a type in testContext.go, a type in testContext_test.go); pick another name`},
		{sdk.KindFunction, "é", "", `new function: invalid module path "example.com/é": want slash-separated elements of ASCII letters, digits and -._~ (pick one with -module)`},
		{sdk.KindFunction, "greet", "github.com//x", `new function: invalid module path "github.com//x": want slash-separated elements of ASCII letters, digits and -._~`},
		{sdk.KindFunction, "greet", "my module", `new function: invalid module path "my module": want slash-separated elements of ASCII letters, digits and -._~`},
	}
	for _, c := range cases {
		opts := local(t)
		opts.Module = c.module
		_, err := Render(c.kind, c.name, opts)
		if err == nil || err.Error() != c.want {
			t.Errorf("Render(%s, %q, module %q) error = %v\nwant %s", c.kind, c.name, c.module, err, c.want)
		}
	}
	// A name that needs the default module path but breaks no other rule
	// works with -module.
	opts := local(t)
	opts.Module = "example.com/e"
	if _, err := Render(sdk.KindFunction, "é", opts); err != nil {
		t.Errorf("Render with -module: %v", err)
	}
}

func TestLocateKgen(t *testing.T) {
	root := repoRoot(t)
	t.Setenv("KGEN_SRC", "")
	k, err := LocateKgen("")
	if err != nil || k.Dir != root || k.Version != placeholderVersion {
		t.Errorf("LocateKgen from the source tree = %+v, %v; want Dir %s", k, err, root)
	}
	if k, err := LocateKgen("../.."); err != nil || k.Dir != root {
		t.Errorf(`LocateKgen("../..") = %+v, %v`, k, err)
	}
	t.Setenv("KGEN_SRC", root)
	if k, err := LocateKgen(""); err != nil || k.Dir != root {
		t.Errorf("LocateKgen with KGEN_SRC = %+v, %v", k, err)
	}

	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644)
	for _, c := range []struct{ dir, env, want string }{
		{other, "", `-kgen "` + other + `": not a kgen source tree: go.mod declares module "example.com/other", want "github.com/kgen-dev/kgen"`},
		{"", other, `$KGEN_SRC "` + other + `": not a kgen source tree: go.mod declares module "example.com/other", want "github.com/kgen-dev/kgen"`},
		{filepath.Join(other, "none"), "", `-kgen "` + filepath.Join(other, "none") + `": not a kgen source tree: open ` + filepath.Join(other, "none", "go.mod") + `: no such file or directory`},
	} {
		t.Setenv("KGEN_SRC", c.env)
		if _, err := LocateKgen(c.dir); err == nil || err.Error() != c.want {
			t.Errorf("LocateKgen(%q) with KGEN_SRC=%q error = %v\nwant %s", c.dir, c.env, err, c.want)
		}
	}
}

func TestNewRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o644)
	opts := local(t)
	opts.SkipTidy = true
	_, err := New(sdk.KindFunction, "greet", dir, opts)
	want := `new function "greet": "` + dir + `" is not empty`
	if err == nil || err.Error() != want {
		t.Fatalf("New into a non-empty folder: error = %v, want %s", err, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("New wrote into a non-empty folder: %v", entries)
	}
}

func TestNewWritesNothingOnError(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "a", "greet")

	// A bad name fails before anything is written.
	if _, err := New(sdk.KindFunction, "Greet", dir, local(t)); err == nil {
		t.Fatal("New with a bad name succeeded")
	}
	assertEmpty(t, parent)

	// go mod tidy fails (the replaced kgen does not exist): what was written
	// goes again, including the folders New created...
	broken := Options{Kgen: &Kgen{Version: placeholderVersion, Dir: filepath.Join(parent, "no-kgen")}}
	_, err := New(sdk.KindFunction, "greet", dir, broken)
	if err == nil || !strings.HasPrefix(err.Error(), `new function "greet": go mod tidy: `) {
		t.Fatalf("New with a missing kgen: error = %v", err)
	}
	assertEmpty(t, parent)

	// ... but not a folder that was there (empty) before.
	os.Mkdir(filepath.Join(parent, "empty"), 0o755)
	if _, err := New(sdk.KindFunction, "greet", filepath.Join(parent, "empty"), broken); err == nil {
		t.Fatal("New with a missing kgen succeeded")
	}
	assertEmpty(t, filepath.Join(parent, "empty"))
	if _, err := os.Stat(filepath.Join(parent, "empty")); err != nil {
		t.Errorf("New removed a folder it did not create: %v", err)
	}
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if p != dir && !(d.IsDir() && p == filepath.Join(dir, "empty")) {
			t.Errorf("left behind: %s", p)
		}
		return err
	})
}

func TestNewSkipTidy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "counter")
	opts := local(t)
	opts.SkipTidy = true
	written, err := New(sdk.KindSource, "counter", dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	files, err := Render(sdk.KindSource, "counter", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(written, paths(files)) {
		t.Errorf("written %v, want %v", written, paths(files))
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("%s: %v, or the content differs from Render's", f.Path, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "go.sum")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("go.sum written without tidy: %v", err)
	}
}
