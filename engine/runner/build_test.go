package runner

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// repoRoot is the root of the kgen module.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// useTempCache points the kgen run cache at a temporary folder, keeping the
// go command's build cache where it is so builds stay incremental.
func useTempCache(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds an engine with the go command")
	}
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOCACHE: %v", err)
	}
	t.Setenv("GOCACHE", strings.TrimSpace(string(gocache)))
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
}

func TestRunDirExample(t *testing.T) {
	useTempCache(t)
	dir := filepath.Join(repoRoot(t), "examples", "wordcount")
	var stdout, stderr bytes.Buffer
	if err := RunDir(t.Context(), dir, &stdout, &stderr, Options{Timeout: time.Minute}); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, stderr.String())
	}
	want := `{"text":"the quick brown fox","total":4}
{"text":"jumps over","total":6}
{"text":"the lazy dog","total":9}
{"text":"stream processing at the edge","total":14}
`
	if stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s\nstderr:\n%s", stdout.String(), want, stderr.String())
	}
}

// shoutProject is a plugin project outside the kgen module: a function
// plugin in the root package using an internal package, a main package that
// must be left out, and a stream, rule and input.
func shoutProject(t *testing.T) string {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"go.mod": "module example.com/shout\n\ngo 1.26.0\n\nrequire github.com/kgen-dev/kgen v0.0.0\n\n" +
			"replace github.com/kgen-dev/kgen => " + repoRoot(t) + "\n",
		"shout.go": `// Package shout is a function plugin: shout(s) is s in capitals with "!".
package shout

import (
	"example.com/shout/internal/text"
	"github.com/kgen-dev/kgen/sdk"
)

func init() {
	sdk.RegisterFunction("shout", func() sdk.Function { return shout{} })
}

type shout struct{}

func (shout) Validate(args []sdk.Arg) error { return sdk.CheckArgCount("shout", args, 1, 1) }
func (shout) IsAggregate() bool              { return false }

func (shout) Exec(ctx sdk.FunctionContext, args []any) (any, bool) {
	s, _ := args[0].(string)
	return text.Shout(s), true
}
`,
		"internal/text/text.go": "package text\n\nimport \"strings\"\n\nfunc Shout(s string) string { return strings.ToUpper(s) + \"!\" }\n",
		"cmd/tool/main.go":      "package main\n\nfunc main() {}\n",
		"streams/words.sql":     `CREATE STREAM words (word STRING) WITH (DATASOURCE="words.jsonl", TYPE="file")`,
		"rules/shout.json":      `{"id": "shout", "sql": "SELECT shout(word) AS loud FROM words", "actions": [{"nop": {}}]}`,
		"input/words.jsonl":     "{\"word\": \"hello\"}\n{\"word\": \"kgen\"}\n",
	})
	return dir
}

func TestRunDirExternalProject(t *testing.T) {
	useTempCache(t)
	dir := shoutProject(t)
	want := "{\"loud\":\"HELLO!\"}\n{\"loud\":\"KGEN!\"}\n"
	for i := range 2 { // the second run uses the cached build
		var stdout, stderr bytes.Buffer
		start := time.Now()
		if err := RunDir(t.Context(), dir, &stdout, &stderr, Options{Timeout: time.Minute}); err != nil {
			t.Fatalf("run %d: %v\nstderr:\n%s", i+1, err, stderr.String())
		}
		if stdout.String() != want {
			t.Errorf("run %d: stdout:\n%s\nwant:\n%s\nstderr:\n%s", i+1, stdout.String(), want, stderr.String())
		}
		t.Logf("run %d took %v", i+1, time.Since(start))
	}

	p, err := findPlugins(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.pkgs, ",") != "example.com/shout" || p.modPath != "example.com/shout" || p.modDir != dir ||
		!slices.Equal(p.useDirs, []string{dir}) || p.goVersion != "1.26.0" {
		t.Errorf("plugins: %+v", p)
	}

	// A failing engine: its error is on stderr, the status in ExitError.
	writeTree(t, dir, map[string]string{"rules/bad.json": `{"id": "bad", "sql": "SELECT shout() FROM words", "actions": [{"nop": {}}]}`})
	var stdout, stderr bytes.Buffer
	err = RunDir(t.Context(), dir, &stdout, &stderr, Options{})
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 1 {
		t.Fatalf("bad rule: %v, want ExitError 1", err)
	}
	if want := `kgen: run "` + dir + `": rules/bad.json: `; !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("stderr %q, want prefix %q", stderr.String(), want)
	}

	// A plugin that does not compile: the error names the step and has the
	// compiler's message.
	writeTree(t, dir, map[string]string{"broken.go": "package shout\n\nvar x int = \"s\"\n"})
	err = RunDir(t.Context(), dir, &stdout, &stderr, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), `run "`+dir+`": build engine: `) || !strings.Contains(err.Error(), "broken.go:3:13") {
		t.Errorf("broken plugin: %v", err)
	}
	if _, err := Build(t.Context(), dir); err == nil || !strings.HasPrefix(err.Error(), `build "`+dir+`": build engine: `) {
		t.Errorf("Build broken plugin: %v", err)
	}
}

func TestRunDirWithoutPackages(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, readingsProject)
	var stdout, stderr bytes.Buffer
	if err := RunDir(t.Context(), dir, &stdout, &stderr, Options{Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(stdout.String(), "{\"id\":3,\"note\":\"hot\",\"temp\":30}\n") {
		t.Errorf("stdout %q", stdout.String())
	}
	if _, err := Build(t.Context(), dir); !errors.Is(err, ErrNoPackages) {
		t.Errorf("Build without packages: %v", err)
	}
	// Go files only in testdata or _ folders do not count.
	writeTree(t, dir, map[string]string{"testdata/x.go": "package x\n", "_old/y.go": "package y\n", "z_test.go": "package z\n"})
	if has, err := hasGoFiles(dir); has || err != nil {
		t.Errorf("hasGoFiles: %v, %v", has, err)
	}
}

func TestMainSource(t *testing.T) {
	got := mainSource([]string{"example.com/a", "example.com/a/b"})
	want := `// Code generated by kgen. DO NOT EDIT.

// Command kgenrun is an engine with plugin packages compiled in, run by kgen run.
package main

import (
	_ "example.com/a"
	_ "example.com/a/b"

	"github.com/kgen-dev/kgen/engine/runner"
)

func main() { runner.Main() }
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
