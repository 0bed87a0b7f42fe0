package plugin_test

import (
	"archive/zip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/internal/testutil"
)

// fakeProxy serves gopkg.in/yaml.v3 v3.0.2 (a copy of the cached v3.0.1)
// from a file proxy, so that a plugin can require a version of a module
// the engine links other than the engine's, offline.
func fakeProxy(t *testing.T) string {
	modcache := testutil.GoEnv(t, "GOMODCACHE")
	src := filepath.Join(modcache, "gopkg.in", "yaml.v3@v3.0.1")
	proxy := t.TempDir()
	at := filepath.Join(proxy, "gopkg.in", "yaml.v3", "@v")
	os.MkdirAll(at, 0o755)
	mod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil {
		t.Skipf("gopkg.in/yaml.v3 v3.0.1 not in the module cache: %v", err)
	}
	os.WriteFile(filepath.Join(at, "v3.0.2.mod"), mod, 0o644)
	os.WriteFile(filepath.Join(at, "v3.0.2.info"), []byte(`{"Version":"v3.0.2"}`), 0o644)
	os.WriteFile(filepath.Join(at, "list"), []byte("v3.0.2\n"), 0o644)
	f, _ := os.Create(filepath.Join(at, "v3.0.2.zip"))
	zw := zip.NewWriter(f)
	filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		w, _ := zw.Create("gopkg.in/yaml.v3@v3.0.2/" + filepath.ToSlash(rel))
		data, _ := os.ReadFile(path)
		w.Write(data)
		return nil
	})
	zw.Close()
	f.Close()
	return proxy
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestEngineRefusesMismatched builds a function plugin with a plain go
// build against another version of gopkg.in/yaml.v3 than the engine's,
// serves an engine with it, and checks that the engine refuses it before
// plugin.Open, saying why and how to fix it. (internal/gobuild tests that a
// plugin kgen build aligned to the engine loads and runs.)
func TestEngineRefusesMismatched(t *testing.T) {
	kgen := testutil.KgenBinary(t) // skips in -short mode
	root := t.TempDir()
	plugins := filepath.Join(root, "plugins")

	// The mismatched plugin: its own module requires yaml.v3 v3.0.2 and
	// gets kgen through a replace, as `kgen new` projects do.
	proj := t.TempDir()
	os.WriteFile(filepath.Join(proj, "go.mod"), []byte(`module example.com/yamllen

go 1.26.0

require (
	github.com/kgen-dev/kgen v0.0.0
	gopkg.in/yaml.v3 v3.0.2
)

replace github.com/kgen-dev/kgen => `+kgenDir(t)+"\n"), 0o644)
	os.WriteFile(filepath.Join(proj, "main.go"), []byte(`package main

import (
	"github.com/kgen-dev/kgen/sdk"
	"gopkg.in/yaml.v3"
)
`+fnImpl+`
func YamlLen() sdk.Function { b, _ := yaml.Marshal(1); return fn{len(b)} }

func main() {}
`), 0o644)
	proxy := fakeProxy(t)
	env := []string{
		"GOWORK=off", "GOFLAGS=-mod=mod -modcacherw", "GOSUMDB=off", "GOMODCACHE=" + t.TempDir(),
		"GOPROXY=file://" + proxy + ",file://" + filepath.Join(testutil.GoEnv(t, "GOMODCACHE"), "cache", "download"),
	}
	run(t, proj, env, "go", "build", "-buildmode=plugin", "-o", filepath.Join(plugins, "functions", "YamlLen.so"), ".")

	testutil.WriteTree(t, root, map[string]string{"data/in.jsonl": `{"text":"a b c"}` + "\n" + `{"text":"d e"}` + "\n"})
	host, stderr := testutil.Serve(t, kgen, root)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	logs := stderr.String()
	wantErr := `plugin \"yamlLen\" (` + filepath.Join(plugins, "functions", "YamlLen.so") + `) was built differently from the engine, so it was not opened:` +
		`\n\tmodule gopkg.in/yaml.v3: engine v3.0.1, plugin v3.0.2; build the plugin with kgen build, or require gopkg.in/yaml.v3 v3.0.1`
	if !strings.Contains(logs, wantErr) {
		t.Errorf("engine log lacks the refusal\n%s\nlog:\n%s", wantErr, logs)
	}

	c, err := api.NewClient(host, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateStream(ctx, `CREATE STREAM words (text STRING) WITH (DATASOURCE="in.jsonl", TYPE="file", FORMAT="JSON")`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRule(ctx, []byte(`{"id":"bad","sql":"SELECT yamlLen() AS n FROM words","actions":[{"log":{}}]}`)); err == nil || !strings.Contains(err.Error(), "yamlLen") {
		t.Errorf("rule using the refused plugin: %v, want an unknown function error", err)
	}
}

func kgenDir(t testing.TB) string {
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

const fnImpl = `
type fn struct{ n int }

func (fn) Validate([]sdk.Arg) error                     { return nil }
func (f fn) Exec(sdk.FunctionContext, []any) (any, bool) { return f.n, true }
func (fn) IsAggregate() bool                             { return false }
`
