package sensors_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/kgen-dev/kgen/gen"
	"github.com/kgen-dev/kgen/gen/markers"
)

// The committed generated files are what kgen gen (see generate.go) makes
// of this package today, and no file carries kgen's header that it no
// longer makes.
func TestGeneratedFilesAreFresh(t *testing.T) {
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
			t.Errorf("%s is stale (%v): run go generate ./examples/sensors", filepath.Base(path), err)
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
			t.Errorf("%s carries kgen's header but is no longer generated: run go generate ./examples/sensors", e.Name())
		}
	}
}
