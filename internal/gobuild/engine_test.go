package gobuild

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/internal/testutil"
)

// runEngine runs an engine Engine built on the project in dir, as kgen run
// does, and returns its output and exit status.
func runEngine(t *testing.T, exe, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), exe, append(args, "--", dir)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", exe, err)
	}
	return o.String(), e.String(), code
}

func TestEngineExample(t *testing.T) {
	testutil.FreshKgenCache(t)
	dir := filepath.Join(testutil.RepoRoot(t), "examples", "wordcount")
	exe, err := Engine(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runEngine(t, exe, dir, "-timeout", time.Minute.String())
	want := `{"text":"the quick brown fox","total":4}
{"text":"jumps over","total":6}
{"text":"the lazy dog","total":9}
{"text":"stream processing at the edge","total":14}
`
	if code != 0 || stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s\nstderr:\n%s", code, stdout, want, stderr)
	}
}

// shoutProject is a plugin project outside the kgen module: a function
// plugin in the root package using an internal package, a main package that
// must be left out, and a stream, rule and input.
func shoutProject(t *testing.T) string {
	dir := t.TempDir()
	testutil.WriteTree(t, dir, map[string]string{
		"go.mod": "module example.com/shout\n\ngo 1.26.0\n\nrequire github.com/kgen-dev/kgen v0.0.0\n\n" +
			"replace github.com/kgen-dev/kgen => " + testutil.RepoRoot(t) + "\n",
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

func TestEngineExternalProject(t *testing.T) {
	testutil.FreshKgenCache(t)
	dir := shoutProject(t)
	want := "{\"loud\":\"HELLO!\"}\n{\"loud\":\"KGEN!\"}\n"
	var first string
	for i := range 2 { // the second build is the cached one
		start := time.Now()
		exe, err := Engine(t.Context(), dir)
		if err != nil {
			t.Fatalf("build %d: %v", i+1, err)
		}
		t.Logf("build %d took %v", i+1, time.Since(start))
		if first == "" {
			first = exe
		} else if exe != first {
			t.Errorf("build %d: %s, want the cached %s", i+1, exe, first)
		}
		stdout, stderr, code := runEngine(t, exe, dir, "-timeout", time.Minute.String())
		if code != 0 || stdout != want {
			t.Errorf("run %d: exit %d, stdout:\n%s\nwant:\n%s\nstderr:\n%s", i+1, code, stdout, want, stderr)
		}
	}

	p, err := findPlugins(goCmd{ctx: t.Context()}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.pkgs, ",") != "example.com/shout" || p.modPath != "example.com/shout" || p.modDir != dir ||
		!slices.Equal(p.useDirs, []string{dir}) || p.goVersion != "1.26.0" {
		t.Errorf("plugins: %+v", p)
	}

	// A failing engine prints its error on stderr and exits with status 1.
	testutil.WriteTree(t, dir, map[string]string{"rules/bad.json": `{"id": "bad", "sql": "SELECT shout() FROM words", "actions": [{"nop": {}}]}`})
	_, stderr, code := runEngine(t, first, dir)
	if code != 1 {
		t.Fatalf("bad rule: exit %d, want 1; stderr:\n%s", code, stderr)
	}
	if want := `kgen: run "` + dir + `": rules/bad.json: `; !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr %q, want prefix %q", stderr, want)
	}

	// A plugin that does not compile: the error names the step and has the
	// compiler's message.
	testutil.WriteTree(t, dir, map[string]string{"broken.go": "package shout\n\nvar x int = \"s\"\n"})
	_, err = Engine(t.Context(), dir)
	if err == nil || !strings.HasPrefix(err.Error(), `build "`+dir+`": build engine: `) || !strings.Contains(err.Error(), "broken.go:3:13") {
		t.Errorf("broken plugin: %v", err)
	}
}

func TestEngineWithoutPackages(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteTree(t, dir, map[string]string{
		"streams/readings.sql": `CREATE STREAM readings (id BIGINT) WITH (DATASOURCE="readings.jsonl", TYPE="file")`,
		"rules/all.json":       `{"id": "all", "sql": "SELECT id FROM readings", "actions": [{"nop": {}}]}`,
		"input/readings.jsonl": "{\"id\": 1}\n",
	})
	if _, err := Engine(t.Context(), dir); !errors.Is(err, ErrNoPackages) {
		t.Errorf("Engine without packages: %v", err)
	}
	// Go files only in testdata or _ folders do not count.
	testutil.WriteTree(t, dir, map[string]string{"testdata/x.go": "package x\n", "_old/y.go": "package y\n", "z_test.go": "package z\n"})
	if has, err := hasGoFiles(dir); has || err != nil {
		t.Errorf("hasGoFiles: %v, %v", has, err)
	}
	if _, err := Engine(t.Context(), dir); !errors.Is(err, ErrNoPackages) {
		t.Errorf("Engine with test and testdata files only: %v", err)
	}
}

func TestEngineMain(t *testing.T) {
	got := engineMain([]string{"example.com/a", "example.com/a/b"}, "1.26.0").source()
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
