package kgentest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/gotooltest"
	"github.com/rogpeppe/go-internal/testscript"
)

// Setup prepares p for scripts that run the go command, or `kgen run` and
// `kgen build`, which build with it. It applies gotooltest.Setup (a `go`
// command, GOROOT, GOCACHE, GOPROXY, GOOS, GOARCH and the go version
// conditions), then gives scripts what testscript hides and a build needs:
// the user's module cache and GOPATH (not an empty one per script), PATH
// with $GOROOT/bin first, HOME and the XDG folders, and an empty GOFLAGS.
// p.Setup, if set, runs after.
func Setup(p *testscript.Params) error {
	userSetup := p.Setup
	p.Setup = func(e *testscript.Env) error {
		env, err := userGoEnv()
		if err != nil {
			return err
		}
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			e.Setenv(k, v)
		}
		e.Setenv("PATH", filepath.Join(e.Getenv("GOROOT"), "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
		if userSetup != nil {
			return userSetup(e)
		}
		return nil
	}
	return gotooltest.Setup(p)
}

// userGoEnv is the environment Setup adds, read once per process.
var userGoEnv = sync.OnceValues(func() ([]string, error) {
	keys := []string{"GOMODCACHE", "GOPATH"}
	out, err := exec.Command("go", append([]string{"env"}, keys...)...).Output()
	if err != nil {
		return nil, err
	}
	env := []string{"GOFLAGS="}
	for i, v := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		env = append(env, keys[i]+"="+v)
	}
	for _, k := range []string{"HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env, nil
})
