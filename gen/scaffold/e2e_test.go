package scaffold

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

// TestNewProjects is the promise of kgen new: in a project it creates
// anywhere on disk, `go generate ./...`, `go vet ./...` and `go test ./...`
// pass with no edits. The tests of each project run its testscript, which
// builds an engine with the project compiled in and runs its rules.
func TestNewProjects(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles and tests three projects")
	}
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOCACHE: %v", err)
	}
	// Keep the engine binaries kgen run caches out of the user's cache
	// folder; keep the go build cache, which makes this quick.
	env := append(os.Environ(), "GOFLAGS=", "GOWORK=off",
		"GOCACHE="+strings.TrimSpace(string(gocache)), "XDG_CACHE_HOME="+t.TempDir())
	for _, c := range []struct {
		kind sdk.Kind
		name string
	}{
		{sdk.KindFunction, "greet"},
		{sdk.KindSource, "counter"},
		{sdk.KindSink, "alertFile"},
	} {
		t.Run(c.kind.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), c.name)
			if _, err := New(c.kind, c.name, dir, Options{}); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"generate", "./..."}, {"vet", "./..."}, {"test", "-count=1", "./..."}} {
				start := time.Now()
				cmd := exec.Command("go", args...)
				cmd.Dir, cmd.Env = dir, env
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				t.Logf("go %s: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
			}
			if _, err := os.Stat(filepath.Join(dir, "kgen.gen.go")); err != nil {
				t.Errorf("go generate wrote no kgen.gen.go: %v", err)
			}
		})
	}
}
