// Package gentest checks that a marker-style plugin package's committed
// generated files are what kgen gen makes of it today.
package gentest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/kgen-dev/kgen/gen"
	"github.com/kgen-dev/kgen/gen/markers"
)

// Fresh fails t for each generated file in the package in the current
// folder that differs from what kgen gen makes now, and for each file that
// carries kgen's header but is no longer made; the message tells to run go
// generate on pkg (e.g. "./examples/wordcount").
func Fresh(t *testing.T, pkg string) {
	t.Helper()
	pkgs, err := markers.Load(".")
	if err != nil {
		t.Fatal(err)
	}
	files := gen.MemOutput{}
	if err := markers.Generate(pkgs, files); err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("kgen gen generates nothing here")
	}
	for path, want := range files {
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale (%v): run go generate %s", filepath.Base(path), err, pkg)
		}
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		path, err := filepath.Abs(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if _, made := files[path]; err == nil && !made && gen.IsGenerated(path, data) {
			t.Errorf("%s carries kgen's header but is no longer generated: run go generate %s", e.Name(), pkg)
		}
	}
}
