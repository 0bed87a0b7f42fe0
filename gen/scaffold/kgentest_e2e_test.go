package scaffold

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewProjectKgenTest is the promise of kgen new and kgen test: a
// project made by kgen new in an empty folder outside the kgen module
// passes kgen test, whose scripts start an engine with the project's
// plugin; and a failing expectation reads as a diff of the rows.
func TestNewProjectKgenTest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kgen and tests a project")
	}
	tmp := t.TempDir()
	kgenExe := filepath.Join(tmp, "bin", "kgen")
	build := exec.Command("go", "build", "-o", kgenExe, "./cmd/kgen")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/kgen: %v\n%s", err, out)
	}
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOCACHE: %v", err)
	}
	env := append(os.Environ(), "GOFLAGS=", "GOWORK=off", "KGEN_SRC="+repoRoot(t),
		"GOCACHE="+strings.TrimSpace(string(gocache)), "XDG_CACHE_HOME="+filepath.Join(tmp, "cache"))
	dir := filepath.Join(tmp, "greet")
	run := func(wantOK bool, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = dir, env
		if name == kgenExe && args[0] == "new" {
			cmd.Dir = tmp
		}
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("%s %s: error %v, want ok %v\n%s", filepath.Base(name), strings.Join(args, " "), err, wantOK, out)
		}
		return string(out)
	}
	run(true, kgenExe, "new", "function", "greet", dir)
	run(true, "go", "generate", "./...")
	out := run(true, kgenExe, "test", "-v")
	for _, want := range []string{"--- PASS: TestScripts/engine", "--- PASS: TestScripts/greet", "ok  \texample.com/greet"} {
		if !strings.Contains(out, want) {
			t.Errorf("kgen test printed no %q:\n%s", want, out)
		}
	}

	// A script that mentions [so] runs against an engine process that
	// loads the package built as a Go plugin.
	writeFile(t, filepath.Join(dir, "testdata", "so.txtar"), `[!so] skip 'no Go plugins here'
engine start
stream create 'CREATE STREAM names (name STRING) WITH (DATASOURCE="names", TYPE="mqtt")'
rule create '{"id": "g", "sql": "SELECT greet(name) AS greeting FROM names", "actions": [{"mqtt": {"topic": "out"}}]}'
pub names '{"name":"ada"}' '{"name":"ada"}'
expect out want.jsonl
exists $KGEN_ROOT/plugins/functions/Greet.so
engine restart
state g seen:ada
stdout '^2$'

-- want.jsonl --
{"greeting": "hello, ada"}
{"greeting": "welcome back, ada"}
`)
	out = run(true, kgenExe, "test", "-v", "-run", "TestScripts/so")
	if !strings.Contains(out, "--- PASS: TestScripts/so") && !strings.Contains(out, "--- SKIP: TestScripts/so") {
		t.Errorf("kgen test -run TestScripts/so:\n%s", out)
	}

	// A negated expect passes on rows that differ, and prints the diff.
	writeFile(t, filepath.Join(dir, "testdata", "differ.txtar"), `engine start
stream create 'CREATE STREAM names (name STRING) WITH (DATASOURCE="names", TYPE="mqtt")'
rule create '{"id": "g", "sql": "SELECT greet(name) AS greeting FROM names", "actions": [{"mqtt": {"topic": "out"}}]}'
pub names '{"name":"ada"}'
! expect out wrong.jsonl
stdout '^- \{"greeting":"hi, ada"\}$'
stdout '^\+ \{"greeting":"hello, ada"\}$'

-- wrong.jsonl --
{"greeting": "hi, ada"}
`)
	run(true, kgenExe, "test", "-run", "TestScripts/differ")

	// The same expectation, not negated, fails kgen test with the diff.
	writeFile(t, filepath.Join(dir, "testdata", "wrong.txtar"), `engine start
stream create 'CREATE STREAM names (name STRING) WITH (DATASOURCE="names", TYPE="mqtt")'
rule create '{"id": "g", "sql": "SELECT greet(name) AS greeting FROM names", "actions": [{"mqtt": {"topic": "out"}}]}'
pub names '{"name":"ada"}' '{"name":"ada"}'
expect out want.jsonl

-- want.jsonl --
{"greeting": "hello, ada"}
{"greeting": "hello, ada"}
`)
	out = run(false, kgenExe, "test", "-run", "TestScripts/wrong")
	for _, want := range []string{
		"> expect out want.jsonl",
		"expect out: got 2 rows in 10s, want 2 (want.jsonl):\n",
		`  {"greeting":"hello, ada"}`,
		`- {"greeting":"hello, ada"}`,
		`+ {"greeting":"welcome back, ada"}`,
		"FAIL: testdata/wrong.txtar:5: expect out: rows differ from want.jsonl",
		"kgentest: rule status when the engine stopped:",
		"--- FAIL: TestScripts/wrong",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the failing kgen test printed no %q:\n%s", want, out)
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
