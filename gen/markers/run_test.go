package markers_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/gen/markers"
)

// tempModule makes a module depending on this repository (by replace) with
// the given files.
func tempModule(t *testing.T, goMod string, files map[string]string) string {
	t.Helper()
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files["go.sum"] = string(sum)
	files["go.mod"] = "module example.com/plugins\n\ngo 1.26\n\n" + goMod +
		"require github.com/kgen-dev/kgen v0.0.0\n\nreplace github.com/kgen-dev/kgen => " + repo + "\n"
	for name, data := range files {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

const upperSrc = `package upper

import "strings"

// upper upper-cases s.
//
//kgen:function
func upper(s string) string { return strings.ToUpper(s) }
`

// Run writes only changed files, removes orphans, and --check and --clean
// do what they say.
func TestRunCheckClean(t *testing.T) {
	dir := tempModule(t, "", map[string]string{"upper/upper.go": upperSrc, "upper/notes.json": `{"mine": true}`})
	pkg := filepath.Join(dir, "upper")
	opts := markers.Options{Dir: dir, Patterns: []string{"./..."}}
	res, err := markers.Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[upper/kgen.gen.go upper/upper.json]"; fmt.Sprint(res.Written) != want {
		t.Fatalf("written %v, want %s", res.Written, want)
	}
	goCmd(t, dir, "vet", "./...")
	if res, err = markers.Run(opts); err != nil || len(res.Written) != 0 {
		t.Fatalf("second run wrote %v, %v", res.Written, err)
	}
	check := opts
	check.Check = true
	if res, _ = markers.Run(check); len(res.Stale) != 0 {
		t.Fatalf("fresh files reported stale: %v", res.Stale)
	}
	// Rename the function: the old metadata is an orphan.
	os.WriteFile(filepath.Join(pkg, "upper.go"), []byte(strings.ReplaceAll(upperSrc, "//kgen:function", "//kgen:function name=shout")), 0o644)
	if res, _ = markers.Run(check); fmt.Sprint(res.Stale) != "[upper/kgen.gen.go upper/shout.json upper/upper.json]" {
		t.Fatalf("stale = %v", res.Stale)
	}
	if res, err = markers.Run(opts); err != nil || fmt.Sprint(res.Removed) != "[upper/upper.json]" {
		t.Fatalf("removed %v, %v", res.Removed, err)
	}
	clean := opts
	clean.Clean = true
	if res, err = markers.Run(clean); err != nil || fmt.Sprint(res.Removed) != "[upper/kgen.gen.go upper/shout.json]" {
		t.Fatalf("clean removed %v, %v", res.Removed, err)
	}
	entries, _ := os.ReadDir(pkg)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if !slices.Equal(left, []string{"notes.json", "upper.go"}) {
		t.Fatalf("left after clean: %v", left)
	}
}

// go generate with `go run …/cmd/kgen-gen`, and `go tool kgen gen` with a
// tool directive, both work in a user's module.
func TestGoGenerateAndGoTool(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the kgen command")
	}
	src := strings.Replace(upperSrc, "import", "//go:generate go run github.com/kgen-dev/kgen/cmd/kgen-gen\n\nimport", 1)
	dir := tempModule(t, "tool github.com/kgen-dev/kgen/cmd/kgen\n\n", map[string]string{"upper/upper.go": src})
	goCmd(t, dir, "mod", "tidy")
	goCmd(t, dir, "generate", "./...")
	goCmd(t, dir, "vet", "./...")
	if _, err := os.Stat(filepath.Join(dir, "upper", markers.GoFileName)); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "upper", markers.GoFileName))
	goCmd(t, dir, "tool", "kgen", "gen", "./...")
	goCmd(t, dir, "build", "./...")
	goCmd(t, dir, "tool", "kgen", "gen", "-check", "./...")
}

// TestGenerateManyFunctions times kgen gen on a package with 50 marked
// functions (a one-off measurement, logged).
func TestGenerateManyFunctions(t *testing.T) {
	var b strings.Builder
	b.WriteString("package many\n\nimport \"strings\"\n")
	for i := range 50 {
		fmt.Fprintf(&b, "\n// f%d joins.\n//\n//kgen:function\nfunc f%d(ctx interface{}, a string, n int64, xs []string) (string, error) { return a + strings.Join(xs, \"\"), nil }\n", i, i)
	}
	src := strings.ReplaceAll(b.String(), "ctx interface{}, ", "")
	dir := tempModule(t, "", map[string]string{"many/many.go": src})
	start := time.Now()
	res, err := markers.Run(markers.Options{Dir: dir, Patterns: []string{"./many"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kgen gen, 50 functions: %d files in %v", len(res.Written), time.Since(start))
	goCmd(t, dir, "vet", "./...")
}
