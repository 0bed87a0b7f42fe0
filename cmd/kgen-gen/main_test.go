package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const upperSrc = `package upper

import "strings"

// upper upper-cases s.
//
//kgen:function
func upper(s string) string { return strings.ToUpper(s) }
`

// kgen-gen generates, checks and cleans like kgen gen, in the current
// folder's module.
func TestRun(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string]string{
		"go.mod":   "module example.com/upper\n\ngo 1.26\n\nrequire github.com/kgen-dev/kgen v0.0.0\n\nreplace github.com/kgen-dev/kgen => " + repo + "\n",
		"go.sum":   string(sum),
		"upper.go": upperSrc,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	t.Setenv("GOFLAGS", "-mod=mod")

	var out bytes.Buffer
	if err := run([]string{"-v"}, &out); err != nil || out.String() != "wrote kgen.gen.go\nwrote upper.json\n" {
		t.Fatalf("kgen-gen -v: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run([]string{"-check"}, &out); err != nil || out.Len() != 0 {
		t.Fatalf("kgen-gen -check after generating: %v\n%s", err, out.String())
	}
	if err := os.WriteFile("upper.go", []byte(strings.Replace(upperSrc, "//kgen:function", "//kgen:function name=shout", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	err = run([]string{"-check", "."}, &out)
	if want := "3 generated files are stale; run go generate"; err == nil || err.Error() != want || out.String() != "kgen.gen.go\nshout.json\nupper.json\n" {
		t.Errorf("kgen-gen -check after a change: %v, listed %q; want %s", err, out.String(), want)
	}
	out.Reset()
	if err := run([]string{"-clean", "-v"}, &out); err != nil || out.String() != "removed kgen.gen.go\nremoved upper.json\n" {
		t.Errorf("kgen-gen -clean -v: %v\n%s", err, out.String())
	}

	var u usageError
	if err := run([]string{"-check", "-clean"}, &out); !errors.As(err, &u) || err.Error() != "-check and -clean exclude each other" {
		t.Errorf("-check -clean: %v, want a usage error", err)
	}
	if err := run([]string{"-frob"}, &out); !errors.As(err, &u) || err.Error() != "flag provided but not defined: -frob" {
		t.Errorf("-frob: %v, want a usage error", err)
	}
	out.Reset()
	if err := run([]string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(out.String(), "Usage:\n\n\tkgen-gen [-check | -clean] [-v] [packages]\n") {
		t.Errorf("-h: %v\n%s", err, out.String())
	}
}

// The point of kgen-gen: it links the generator, not the engine, its
// services or their protocols, so go generate builds it quickly.
func TestNoEngine(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, heavy := range []string{"github.com/kgen-dev/kgen/engine", "github.com/kgen-dev/kgen/svc", "github.com/kgen-dev/kgen/kgencli",
			"google.golang.org/grpc", "google.golang.org/protobuf", "github.com/getkin/kin-openapi", "net/http"} {
			if pkg == heavy || strings.HasPrefix(pkg, heavy+"/") {
				t.Errorf("kgen-gen links %s", pkg)
			}
		}
	}
}
