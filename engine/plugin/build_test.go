package plugin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A build that cannot match the engine is refused with the difference and
// the fix, and no .so is written.
func TestBuildRefusesWhatItCannotAlign(t *testing.T) {
	target := *selfInfo(t)
	target.GoVersion = "go1.25.0"
	out := t.TempDir()
	_, err := Build(context.Background(), BuildOptions{
		Dir:     filepath.Join(kgenDir(t), "gen", "testdata", "function"),
		Target:  &target,
		Out:     out,
		Package: ".",
	})
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("Build = %v, want a *BuildError", err)
	}
	goVersion := selfInfo(t).GoVersion
	want := "build plugin: cannot align the build with the engine:\n\tgo version: engine go1.25.0, plugin " + goVersion +
		"; put go1.25.0 first on PATH (or build the engine with " + goVersion + ")"
	if err.Error() != want {
		t.Fatalf("error:\n%s\nwant:\n%s", err, want)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 0 {
		t.Fatalf("a refused build wrote %v", entries)
	}
}
