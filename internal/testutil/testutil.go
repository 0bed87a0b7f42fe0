// Package testutil holds helpers the project's tests share: writing a
// project tree, a fresh kgen build cache, and serving an engine binary
// until it is ready. Its subpackages run mosquitto and give a buffer safe
// for concurrent use.
package testutil

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/internal/testutil/syncbuf"
)

// WriteTree writes files (slash paths relative to dir, creating folders).
func WriteTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FreshKgenCache points kgen's build cache (under the user cache folder) at
// a temporary folder and keeps the go command's build cache where it is,
// so engines are built anew but incrementally. It skips the test in -short
// mode, as it is for tests that build with the go command.
func FreshKgenCache(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds with the go command")
	}
	t.Setenv("GOCACHE", GoEnv(t, "GOCACHE"))
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
}

// GoEnv is `go env key`.
func GoEnv(t testing.TB, key string) string {
	t.Helper()
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", key, err)
	}
	return strings.TrimSpace(string(out))
}

// Serve starts `kgen serve` from the binary kgen on root, with REST and
// MQTT on free loopback ports, and waits (up to 20 s) for its ready file.
// It returns the REST address and the engine's log; the engine is
// interrupted when the test ends.
func Serve(t testing.TB, kgen, root string) (host string, logs *syncbuf.Buffer) {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	serve := exec.CommandContext(ctx, kgen, "serve", "-root", root, "-rest", "127.0.0.1:0", "-mqtt", "127.0.0.1:0", "-ready", ready)
	logs = &syncbuf.Buffer{}
	serve.Stderr = logs
	if err := serve.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(os.Interrupt)
		serve.Wait()
		cancel()
	})
	for host == "" {
		if data, err := os.ReadFile(ready); err == nil && len(data) > 0 {
			host, _, _ = strings.Cut(string(data), "\n")
		} else if ctx.Err() != nil {
			t.Fatalf("engine not ready: %s", logs.String())
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return host, logs
}

// RepoRoot is the folder of the module the test runs in (kgen's).
func RepoRoot(t testing.TB) string {
	t.Helper()
	return filepath.Dir(GoEnv(t, "GOMOD"))
}

var kgenBinary = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "kgen-test-")
	if err != nil {
		return "", err
	}
	exe := filepath.Join(dir, "kgen")
	cmd := exec.Command("go", "build", "-o", exe, "./cmd/kgen")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &exec.ExitError{Stderr: out}
	}
	return exe, nil
})

// KgenBinary builds a real kgen binary once per test process and returns
// its path: a test binary records no module versions, so it cannot stand
// in for an engine that plugins are built for. The binary is left in the
// OS temp folder, shared by the package's tests.
func KgenBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds kgen with the go command")
	}
	exe, err := kgenBinary()
	if err != nil {
		t.Fatalf("build kgen: %v", err)
	}
	return exe
}

// BuildInfo is the test binary's build information.
func BuildInfo(t testing.TB) *debug.BuildInfo {
	t.Helper()
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info")
	}
	return bi
}

// ShoutProject writes a plugin project outside the kgen module to a
// temporary folder and returns it: a function plugin, shout, in the root
// package using an internal package, a main package that must be left out,
// and a stream, a rule and input whose output is {"loud":"HELLO!"} and
// {"loud":"KGEN!"}.
func ShoutProject(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	WriteTree(t, dir, map[string]string{
		"go.mod": "module example.com/shout\n\ngo 1.26.0\n\nrequire github.com/kgen-dev/kgen v0.0.0\n\n" +
			"replace github.com/kgen-dev/kgen => " + RepoRoot(t) + "\n",
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

// HTTPGet gets url and returns the status code and body.
func HTTPGet(t testing.TB, url string) (int, string) {
	t.Helper()
	return HTTPDo(t, http.MethodGet, url, "")
}

// HTTPDo sends a request with body (none when empty) and returns the
// status code and the response body.
func HTTPDo(t testing.TB, method, url, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

// OpenFiles counts this process's open file descriptors; it skips the test
// where /proc/self/fd is missing.
func OpenFiles(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(entries)
}
