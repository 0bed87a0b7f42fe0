package plugin

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kgen-dev/kgen/internal/testutil"
	"github.com/kgen-dev/kgen/sdk"
)

// kgenDir is the kgen source folder the tests run in.
func kgenDir(t testing.TB) string {
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// fixtures counts the fixture plugins built in this process.
var fixtures atomic.Int64

// buildFixture builds a Go plugin from a main package source into file,
// in a workspace that uses this kgen source folder, as the test binary was
// built: it loads into the test process.
//
// The module path gets a number unique in the process: Go identifies a
// plugin by its plugin path (the import path of its main package) and
// refuses to open a second file with the same path in one process ("plugin
// already loaded"), so a test run again (-count=2) needs new paths.
func buildFixture(t testing.TB, module, src, file string) {
	t.Helper()
	buildPlugin(t, module+strconv.FormatInt(fixtures.Add(1), 10), src, file)
}

// buildPlugin is buildFixture with the module path as given.
func buildPlugin(t testing.TB, module, src, file string) {
	t.Helper()
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("Go plugins need linux or darwin")
	}
	dir := t.TempDir()
	mod := filepath.Join(dir, "m")
	os.MkdirAll(mod, 0o755)
	os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module "+module+"\n\ngo 1.26.0\n"), 0o644)
	os.WriteFile(filepath.Join(mod, "main.go"), []byte(src), 0o644)
	os.WriteFile(filepath.Join(dir, "go.work"), []byte("go 1.26.0\n\nuse (\n\t./m\n\t"+kgenDir(t)+"\n)\n"), 0o644)
	os.MkdirAll(filepath.Dir(file), 0o755)
	args := append([]string{"build", "-buildmode=plugin", "-buildvcs=false"}, raceFlags...)
	cmd := exec.Command("go", append(args, "-o", file, ".")...)
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(dir, "go.work"), "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build fixture %s: %v\n%s", module, err, out)
	}
}

const fnImpl = `
type fn struct{ n int }

func (fn) Validate([]sdk.Arg) error                     { return nil }
func (f fn) Exec(sdk.FunctionContext, []any) (any, bool) { return f.n, true }
func (fn) IsAggregate() bool                             { return false }
`

func TestScanPicksHighestVersion(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "plugins", "sources")
	os.MkdirAll(dir, 0o755)
	for _, f := range []string{"random.so", "Random@v1.9.0.so", "Random@v1.10.0.so", "Random@v1.10.0-rc1.so", "echo.so", "Echo.so"} {
		// Not Go plugins: each chosen file fails the check, which names it.
		os.WriteFile(filepath.Join(dir, f), []byte("not elf"), 0o644)
	}
	m := NewManager(root, testutil.BuildInfo(t), nil)
	errs := m.Scan()
	if len(errs) != 2 {
		t.Fatalf("Scan: %d errors, want 2: %v", len(errs), errs)
	}
	got := m.List(sdk.KindSource)
	want := []struct{ name, version, file string }{{"echo", "", "Echo.so"}, {"random", "v1.10.0", "Random@v1.10.0.so"}}
	if len(got) != len(want) {
		t.Fatalf("List = %+v", got)
	}
	for i, w := range want {
		if got[i].Name != w.name || got[i].Version != w.version || filepath.Base(got[i].File) != w.file {
			t.Errorf("List[%d] = %+v, want %s %s %s", i, got[i], w.name, w.version, w.file)
		}
		if !strings.Contains(got[i].Err, "not a Go plugin") {
			t.Errorf("List[%d].Err = %q, want not a Go plugin", i, got[i].Err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "plugins", "sources")
	fns := filepath.Join(root, "plugins", "functions")
	buildFixture(t, "kgenfixture/random", "package main\n\nfunc Random() int { return 4 }\n\nfunc main() {}\n", filepath.Join(src, "Random.so"))
	buildFixture(t, "kgenfixture/missing", "package main\n\nfunc Other() int { return 4 }\n\nfunc main() {}\n", filepath.Join(src, "Missing.so"))
	buildFixture(t, "kgenfixture/multi", `package main

import "github.com/kgen-dev/kgen/sdk"
`+fnImpl+`
func Multi() sdk.Function { return fn{1} }

// Second is a value, shared by every rule, as eKuiper allows.
var Second sdk.Function = fn{2}

func main() {}
`, filepath.Join(fns, "Multi.so"))
	os.WriteFile(filepath.Join(fns, "multi.json"), []byte(`{"name":"multi","functions":[{"name":"multi"},{"name":"second"}]}`), 0o644)
	os.WriteFile(filepath.Join(src, "bad-name.so"), nil, 0o644)

	m := NewManager(root, testutil.BuildInfo(t), nil)
	errs := m.Scan()
	var texts []string
	// Files that fail by their own fault are moved aside.
	quarantined := regexp.MustCompile(`; quarantined to plugins/\.quarantine/sources/(missing|random)-\d{8}T\d{6}Z \(reason\.txt\): fix or rebuild the plugin, then install it again$`)
	for _, e := range errs {
		texts = append(texts, quarantined.ReplaceAllString(e.Error(), "; quarantined"))
	}
	want := []string{
		src + `/bad-name.so: invalid plugin file name "bad-name.so": invalid plugin name "bad-name": must be a Go identifier (bad character '-' at offset 3)`,
		`plugin "missing" (` + src + `/Missing.so): symbol "Missing" not found; a source plugin must export "Missing" as func() sdk.Source or a value implementing sdk.Source; quarantined`,
		`plugin "random" (` + src + `/Random.so): symbol "Random" has type func() int; want func() sdk.Source or a value implementing sdk.Source; quarantined`,
	}
	if strings.Join(texts, "\n") != strings.Join(want, "\n") {
		t.Errorf("Scan errors:\n%s\nwant:\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	for name, n := range map[string]int{"multi": 1, "second": 2} {
		f, ok := m.Function(name)
		if !ok {
			t.Fatalf("function %q not loaded", name)
		}
		if v, _ := f().Exec(nil, nil); v != n {
			t.Errorf("%s() = %v, want %d", name, v, n)
		}
	}
	if l := m.List(sdk.KindFunction); len(l) != 1 || l[0].Err != "" || strings.Join(l[0].Functions, ",") != "multi,second" {
		t.Errorf("List(functions) = %+v", l)
	}

	m.Forget(sdk.KindFunction, "multi")
	if _, ok := m.Function("second"); ok {
		t.Error("second still available after Forget")
	}
	if _, err := m.Load(sdk.KindFunction, filepath.Join(fns, "Multi.so")); err != nil {
		t.Errorf("Load the same version again: %v", err)
	}
	if _, ok := m.Function("second"); !ok {
		t.Error("second not available after loading again")
	}
}

func TestNoBuildInfoRefuses(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "plugins", "sinks"), 0o755)
	os.WriteFile(filepath.Join(root, "plugins", "sinks", "Alert.so"), nil, 0o644)
	m := NewManager(root, nil, nil)
	errs := m.Scan()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "the engine has no build info to check it against, so it was not opened") {
		t.Errorf("Scan = %v", errs)
	}
}

// A plugin installed again after a delete: the same bytes take effect at
// once; another build of the same plugin path, or any file at the path Go
// opened, needs a restart; a build of another plugin path is opened, and
// new rules use it.
func TestReloadAfterDelete(t *testing.T) {
	root := t.TempDir()
	fns := filepath.Join(root, "plugins", "functions")
	module := "kgenfixture/echo" + strconv.FormatInt(fixtures.Add(1), 10)
	echo := func(n string) string {
		return "package main\n\nimport \"github.com/kgen-dev/kgen/sdk\"\n" + fnImpl + "\nfunc Echo() sdk.Function { return fn{" + n + "} }\n\nfunc main() {}\n"
	}
	builds := t.TempDir()
	v1, v2, other := filepath.Join(builds, "v1.so"), filepath.Join(builds, "v2.so"), filepath.Join(builds, "other.so")
	buildPlugin(t, module, echo("1"), v1)
	buildPlugin(t, module, echo("2"), v2)
	buildFixture(t, "kgenfixture/otherecho", echo("3"), other)

	m := NewManager(root, testutil.BuildInfo(t), nil)
	call := func() any {
		t.Helper()
		f, ok := m.Function("echo")
		if !ok {
			t.Fatal("echo not loaded")
		}
		v, _ := f().Exec(nil, nil)
		return v
	}
	install := func(from, name string) (string, error) {
		t.Helper()
		os.RemoveAll(fns)
		os.MkdirAll(fns, 0o755)
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(fns, name)
		os.WriteFile(to, data, 0o755)
		m.Forget(sdk.KindFunction, "echo")
		_, err = m.Load(sdk.KindFunction, to)
		return to, err
	}
	if _, err := install(v1, "Echo@v1.0.0.so"); err != nil {
		t.Fatal(err)
	}
	if v := call(); v != 1 {
		t.Fatalf("echo() = %v, want 1", v)
	}
	// The same bytes under another name: the loaded code is that code.
	if _, err := install(v1, "Echo@v1.0.1.so"); err != nil {
		t.Errorf("install the same build again: %v", err)
	}
	if v := call(); v != 1 {
		t.Errorf("echo() = %v, want 1", v)
	}
	for _, file := range []string{"Echo@v1.0.0.so", "Echo@v2.0.0.so"} {
		to, err := install(v2, file)
		want := `restart kgen to replace plugin "echo": the running engine has its old code loaded (Echo@v1.0.0.so, v1.0.0); Go opens a plugin file once per process and would keep returning the old code for Echo@v1.0.0.so`
		if file != "Echo@v1.0.0.so" {
			want = `restart kgen to replace plugin "echo": the running engine has its old code loaded (Echo@v1.0.0.so, v1.0.0); Go opens a plugin path (` + module + `) once per process`
		}
		if err == nil || err.Error() != want || !errors.Is(err, ErrRestartNeeded) {
			t.Errorf("install a new build as %s: %v\nwant %s", file, err, want)
		}
		if _, ok := m.Function("echo"); ok {
			t.Errorf("%s: echo is available after a refused load", to)
		}
	}
	// Another plugin path loads, and is what new rules get.
	if _, err := install(other, "Echo@v3.0.0.so"); err != nil {
		t.Fatalf("install another plugin's build: %v", err)
	}
	if v := call(); v != 3 {
		t.Errorf("echo() = %v, want 3", v)
	}
}

// A panic in a plugin's init is recovered: the plugin is refused with the
// panic message, loading it again gives the same error without opening it,
// a plugin sharing one of its packages (which may be half initialised) is
// refused until a restart, and other plugins load.
func TestInitPanic(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "plugins", "sinks")
	const sinkImpl = `
type s struct{}

func (s) Provision(sdk.Context, map[string]any) error     { return nil }
func (s) Connect(sdk.Context) error                       { return nil }
func (s) Collect(sdk.Context, map[string]any) error       { return nil }
func (s) CollectList(sdk.Context, []map[string]any) error { return nil }
func (s) Close(sdk.Context) error                         { return nil }
`
	// net/smtp is in neither the engine nor another plugin.
	buildFixture(t, "kgenfixture/fizz", `package main

import (
	"net/smtp"

	"github.com/kgen-dev/kgen/sdk"
)
`+sinkImpl+`
var auth = smtp.PlainAuth("", "u", "p", "h")

func init() { panic("fizz: no mail server") }

func Fizz() sdk.Sink { _ = auth; return s{} }

func main() {}
`, filepath.Join(dir, "Fizz.so"))
	buildFixture(t, "kgenfixture/buzz", `package main

import (
	"net/smtp"

	"github.com/kgen-dev/kgen/sdk"
)
`+sinkImpl+`
var auth = smtp.PlainAuth("", "u", "p", "h")

func Buzz() sdk.Sink { _ = auth; return s{} }

func main() {}
`, filepath.Join(dir, "Buzz.so"))
	buildFixture(t, "kgenfixture/plain", `package main

import "github.com/kgen-dev/kgen/sdk"
`+sinkImpl+`
func Plain() sdk.Sink { return s{} }

func main() {}
`, filepath.Join(dir, "Plain.so"))

	m := NewManager(root, testutil.BuildInfo(t), nil)
	fizz := filepath.Join(dir, "Fizz.so")
	want := `plugin "fizz" (` + fizz + `): its init panicked while it was opened: fizz: no mail server; the plugin was not loaded`
	for range 2 {
		_, err := m.Load(sdk.KindSink, fizz)
		var pe *PanicError
		if err == nil || err.Error() != want || !errors.As(err, &pe) || pe.Value != "fizz: no mail server" {
			t.Fatalf("Load(Fizz.so) = %v\nwant %s", err, want)
		}
	}
	if _, err := os.Stat(m.markerPath()); err == nil {
		t.Error("the opening marker stayed after a recovered panic")
	}
	_, err := m.Load(sdk.KindSink, filepath.Join(dir, "Buzz.so"))
	if !errors.Is(err, ErrRestartNeeded) || !strings.Contains(err.Error(), `when the init of plugin "fizz" panicked`) {
		t.Errorf("Load(Buzz.so) = %v, want a restart needed for a package fizz shares", err)
	}
	if _, err := m.Load(sdk.KindSink, filepath.Join(dir, "Plain.so")); err != nil {
		t.Fatal(err)
	}
	if f, ok := m.Sink("plain"); !ok || f() == nil {
		t.Error("plain not loaded after the panic")
	}
	if _, ok := m.Sink("fizz"); ok {
		t.Error("fizz is usable")
	}
}
