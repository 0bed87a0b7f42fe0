package kgentest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// recorder is a testscript.T that keeps what a script logs, to check how
// failures read.
type recorder struct {
	name     string
	mu       sync.Mutex
	log      strings.Builder
	failed   bool
	cleanups []func()
}

func (r *recorder) Name() string     { return r.name }
func (r *recorder) Skip(args ...any) { r.Log(args...); runtime.Goexit() }
func (r *recorder) Fatal(args ...any) {
	r.Log(args...)
	r.FailNow()
}
func (r *recorder) Parallel()     {}
func (r *recorder) Verbose() bool { return false }
func (r *recorder) Log(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintln(&r.log, args...)
}
func (r *recorder) FailNow() {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	runtime.Goexit()
}
func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// Run runs each script synchronously, as a child named after it.
func (r *recorder) Run(name string, f func(testscript.T)) {
	child := &recorder{name: r.name + "/" + name}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(child)
	}()
	<-done
	for i := len(child.cleanups) - 1; i >= 0; i-- {
		child.cleanups[i]()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log.WriteString(child.log.String())
	r.failed = r.failed || child.failed
}

// runScript runs one script, written to a temporary folder, and returns
// whether it failed, what it logged and the script file.
func runScript(t *testing.T, script string) (bool, string, string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "s.txtar")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := params(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{name: "TestScripts"}
	testscript.RunT(r, p)
	return r.Failed(), r.log.String(), file
}

const failing = `engine start
stream create 'CREATE STREAM words (text STRING) WITH (DATASOURCE="words", TYPE="mqtt")'
rule create '{"id": "wc", "sql": "SELECT accumulateWordCount(text, \" \") AS total FROM words", "actions": [{"mqtt": {"topic": "totals"}}]}'
pub words '{"text": "a b"}' '{"text": "c"}'
expect -timeout 2s totals want.jsonl

-- want.jsonl --
{"total": 2}
{"total": 4}
{"total": 9}
`

// A failing expect shows the diff, the engine's last log lines and the
// rules' status.
func TestFailureReport(t *testing.T) {
	failed, log, _ := runScript(t, failing)
	if !failed {
		t.Fatalf("the script passed:\n%s", log)
	}
	for _, want := range []string{
		"> expect -timeout 2s totals want.jsonl",
		"expect totals: got 2 rows in 2s, want 3 (want.jsonl):\n  {\"total\":2}\n- {\"total\":4}\n+ {\"total\":3}\n- {\"total\":9}\n",
		"FAIL: ", "rows differ from want.jsonl",
		"kgentest: the engine's last ",
		`msg="rule started" rule=wc`,
		"kgentest: rule status when the engine stopped:\n\twc: running, in 2, out 2, exceptions 0\n",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not have %q:\n%s", want, log)
		}
	}
}

// With KGEN_UPDATE=1 a failing expect rewrites its file in the script.
func TestExpectUpdate(t *testing.T) {
	t.Setenv("KGEN_UPDATE", "1")
	failed, log, file := runScript(t, failing)
	if failed {
		t.Fatalf("the script failed:\n%s", log)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if want := "-- want.jsonl --\n{\"total\":2}\n{\"total\":3}\n"; !strings.HasSuffix(string(data), want) {
		t.Errorf("the script ends\n%s\nwant\n%s", data, want)
	}
}

// noCallable is an OpenAPI document whose only operation kgen cannot call.
const noCallable = `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /img:
    put:
      operationId: putImage
      requestBody:
        content:
          image/png: {schema: {type: string, format: binary}}
      responses:
        "204": {description: ok}
`

// Misused commands say how to use them.
func TestUsage(t *testing.T) {
	for script, want := range map[string]string{
		"engine bogus":                       "engine: unknown subcommand \"bogus\"\nusage: engine start",
		"engine start -qos 3":                "usage: engine start",
		"pub t '{}'":                         "pub: no engine is running (engine start)",
		"engine start\nexpect a":             "usage: expect [-n N]",
		"engine start\npub t notjson":        `pub: "notjson" is neither a file nor JSON`,
		"engine start\nrule status":          "usage: rule create",
		"engine start\nstate":                "usage: state <rule> [key]",
		"engine start\nservice start":        "usage: service start [-name N] <file.proto|api.yaml|api.json>",
		"engine start\nservice start x.txt":  "service start: \"x.txt\" is neither a .proto file nor an OpenAPI document (.yaml, .yml, .json)\nusage: service start",
		"engine start\nservice start x.yaml": "service start: x.yaml: no such file or directory",
		"service start x.proto":              "service start: no engine is running (engine start)",
		"engine start\nservice start x.json\n-- x.json --\n{\"openapi\": \"2.0\"}": `service start: x.json: #/openapi: version "2.0" is not supported, want 3.0.x or 3.1.x`,
		"engine start\nservice start x.yml\n-- x.yml --\n" + noCallable:            "service start: x.yml: no operation kgen can call\n\tPUT /img (putImage): ",
		"engine start\nengine start":                                               "engine start: the engine is running",
	} {
		failed, log, _ := runScript(t, script+"\n")
		if !failed || !strings.Contains(log, want) || strings.Contains(log, "usage: usage:") {
			t.Errorf("script %q: failed %v, want the log to have %q once:\n%s", script, failed, want, log)
		}
	}
}
