// Package testscripts runs the project's end-to-end scripts (*.txtar in this
// folder) with testscript, with kgen registered as a command. Set
// KGEN_UPDATE=1 to rewrite the expected output in the scripts.
package testscripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kgen-dev/kgen/kgentest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"kgen": kgentest.Main})
}

func TestScripts(t *testing.T) {
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	goEnv := map[string]string{}
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	for i, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY", "GOROOT"} {
		goEnv[k] = strings.Split(strings.TrimSpace(string(out)), "\n")[i]
	}
	testscript.Run(t, testscript.Params{
		Dir:                 ".",
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("KGEN_UPDATE") != "",
		Cmds:                kgentest.Commands(),
		Setup: func(env *testscript.Env) error {
			env.Setenv("KGEN_REPO", repo)
			// kgen run builds engines with the go tool: give it the real caches.
			for k, v := range goEnv {
				env.Setenv(k, v)
			}
			env.Setenv("PATH", filepath.Join(goEnv["GOROOT"], "bin")+string(os.PathListSeparator)+env.Getenv("PATH"))
			if home, err := os.UserHomeDir(); err == nil {
				env.Setenv("HOME", home)
			}
			return nil
		},
	})
}
