package python_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/portable/python"
)

// pythonBin is the interpreter with grpc_tools: Debian's, whatever
// python3 is first on PATH (a pyenv shim has no grpc). KGEN_PYTHON
// overrides it.
func pythonBin() string {
	if p := os.Getenv("KGEN_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}

// protos are the .proto files the stubs are generated from, as protoc
// sees them: mapped under kgen_portable/pb/, so that the stubs import
// each other inside the SDK's package.
var protos = []string{
	"kgen_portable/pb/kgen/portable/v1/portable.proto",
	"kgen_portable/pb/plugin/grpc_broker.proto",
	"kgen_portable/pb/plugin/grpc_controller.proto",
	"kgen_portable/pb/plugin/grpc_stdio.proto",
	"kgen_portable/pb/grpc/health/v1/health.proto",
}

// TestGenerated regenerates the SDK's stubs with grpc_tools.protoc from the
// repository's .proto files and compares them with the checked-in ones;
// KGEN_UPDATE=1 rewrites them.
func TestGenerated(t *testing.T) {
	py := pythonBin()
	if out, err := exec.Command(py, "-c", "import grpc, grpc_tools.protoc").CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import grpc and grpc_tools (install python3-grpcio and python3-grpc-tools, or set KGEN_PYTHON): %v\n%s", py, err, out)
	}
	tmp := t.TempDir()
	args := []string{"-m", "grpc_tools.protoc", "-Ikgen_portable/pb=../proto", "-Ikgen_portable/pb=proto",
		"--python_out=" + tmp, "--grpc_python_out=" + tmp}
	if out, err := exec.Command(py, append(args, protos...)...).CombinedOutput(); err != nil {
		t.Fatalf("grpc_tools.protoc: %v\n%s", err, out)
	}
	got := pyFiles(t, filepath.Join(tmp, "kgen_portable", "pb"))
	if os.Getenv("KGEN_UPDATE") != "" {
		os.RemoveAll(filepath.Join("kgen_portable", "pb"))
		for name, data := range got {
			path := filepath.Join("kgen_portable", "pb", name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := pyFiles(t, filepath.Join("kgen_portable", "pb"))
	var stale []string
	for name := range union(got, want) {
		if !bytes.Equal(got[name], want[name]) {
			stale = append(stale, name)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Fatalf("stale python stubs under kgen_portable/pb: %s; regenerate with KGEN_UPDATE=1 go test -run TestGenerated ./portable/python/", strings.Join(stale, ", "))
	}
}

func pyFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".py") {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func union(a, b map[string][]byte) map[string]bool {
	u := map[string]bool{}
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

// Vendor writes the embedded SDK, importable, and removes what an older
// SDK left.
func TestVendor(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, python.Package, "old.py")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := python.Vendor(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("old.py of an older sdk: stat err = %v, want it removed", err)
	}
	embedded := pyFiles(t, filepath.Join("kgen_portable"))
	written := pyFiles(t, filepath.Join(dir, python.Package))
	if len(written) != len(embedded) {
		t.Errorf("vendored %d files, want %d", len(written), len(embedded))
	}
	for name, data := range embedded {
		if !bytes.Equal(written[name], data) {
			t.Errorf("%s differs from the source", name)
		}
	}
	cmd := exec.Command(pythonBin(), "-c", "import kgen_portable as kp; print(kp.SDK)")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir, "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "python/") {
		t.Fatalf("import the vendored sdk: %v\n%s", err, out)
	}
}
