package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// BuildPlugin builds a Go plugin from the source of a main package into
// file, as module (its plugin path), in a workspace that uses this kgen
// source folder, with the test binary's -race setting: the result loads
// into the test process. Go opens one plugin path once per process, so a
// test that opens its plugin should use a module path unique to the run.
func BuildPlugin(t testing.TB, module, src, file string) {
	t.Helper()
	BuildPluginAgainst(t, module, src, file, RepoRoot(t))
}

// BuildPluginAgainst is BuildPlugin with the kgen module's source in
// kgenDir: another copy, perhaps of another version.
func BuildPluginAgainst(t testing.TB, module, src, file, kgenDir string) {
	t.Helper()
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("Go plugins need linux or darwin")
	}
	dir := t.TempDir()
	WriteTree(t, dir, map[string]string{
		"m/go.mod":  "module " + module + "\n\ngo 1.26.0\n",
		"m/main.go": src,
		"go.work":   "go 1.26.0\n\nuse (\n\t./m\n\t" + kgenDir + "\n)\n",
	})
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"build", "-buildmode=plugin", "-buildvcs=false"}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "-o", file, ".")...)
	cmd.Dir = filepath.Join(dir, "m")
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(dir, "go.work"), "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build plugin %s: %v\n%s", module, err, out)
	}
}
