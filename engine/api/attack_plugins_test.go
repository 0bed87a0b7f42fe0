package api_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/internal/testutil"
)

// echoFn is a function plugin, built in the corpus against another copy
// of kgen's sdk.
const echoFn = `package main

import "github.com/kgen-dev/kgen/sdk"

type echo struct{}

func (echo) Validate([]sdk.Arg) error                           { return nil }
func (echo) IsAggregate() bool                                  { return false }
func (echo) Exec(_ sdk.FunctionContext, args []any) (any, bool) { return args[0], true }

func Echo() sdk.Function { return echo{} }

func main() {}
`

// otherSDK writes a copy of the kgen module holding only package sdk,
// changed by one constant, as a plugin author's older or newer kgen would
// be, and returns its folder.
func otherSDK(t *testing.T) string {
	t.Helper()
	repo := testutil.RepoRoot(t)
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":       "module github.com/kgen-dev/kgen\n\ngo 1.26.0\n",
		"sdk/other.go": "package sdk\n\n// Other makes this copy of the package differ from the engine's.\nconst Other = 1\n",
	}
	srcs, err := filepath.Glob(filepath.Join(repo, "sdk", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range srcs {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		files["sdk/"+filepath.Base(f)] = string(data)
	}
	testutil.WriteTree(t, dir, files)
	return dir
}

// The .so half of the attack corpus, through the REST API of a running
// engine: plugin files that are not what they claim are refused with the
// exact reason before they are opened, the install is rolled back (the
// engine root's plugins/ and etc/ and a folder beside the root are as they
// were), and a rule that was running goes on delivering.
func TestAttackCorpusPluginFiles(t *testing.T) {
	top := t.TempDir()
	root := filepath.Join(top, "root")
	outside := filepath.Join(top, "outside")
	testutil.WriteTree(t, outside, map[string]string{"keep.txt": "mine"})
	s := newServerAt(t, root)
	alive := runningRule(t, s)

	goExe := filepath.Join(t.TempDir(), "tool")
	testutil.WriteTree(t, filepath.Dir(goExe), map[string]string{"m/go.mod": "module kgenfixture/tool\n\ngo 1.26.0\n", "m/main.go": "package main\n\nfunc main() {}\n"})
	build := exec.Command("go", "build", "-o", goExe, ".")
	build.Dir = filepath.Join(filepath.Dir(goExe), "m")
	build.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build a Go executable: %v\n%s", err, out)
	}
	read := func(p string) string {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	otherSo := filepath.Join(t.TempDir(), "Echo.so")
	testutil.BuildPluginAgainst(t, "kgenfixture/echoother", echoFn, otherSo, otherSDK(t))

	fns := filepath.Join(root, "plugins", "functions")
	cases := []struct {
		name string
		zip  string
		want string
	}{
		{"a .so that is not ELF", writeZip(t, "Echo.so", "MZ\x90\x00 not an ELF file"),
			`install functions plugin "echo": load: plugin "echo" (` + fns + `/Echo.so): not a Go plugin: unrecognized file format`},
		{"an ELF that is not Go", writeZip(t, "Echo.so", read("/bin/true")),
			`install functions plugin "echo": load: plugin "echo" (` + fns + `/Echo.so): not a Go plugin: not a Go executable`},
		{"a Go executable, not a plugin", writeZip(t, "Echo.so", read(goExe)),
			`install functions plugin "echo": load: plugin "echo" (` + fns + `/Echo.so): not a Go plugin: built with -buildmode=exe`},
		{"a plugin built against another kgen", writeZip(t, "Echo.so", read(otherSo)),
			`install functions plugin "echo": load: plugin "echo" (` + fns + `/Echo.so) was built differently from the engine, so it was not opened:` +
				"\n\tpackage github.com/kgen-dev/kgen/sdk: *"},
		{"two .so files", writeZip(t, "Echo.so", read(otherSo), "echo@v1.0.0.so", "x"),
			`install functions plugin "echo": zip holds two plugin files, "Echo.so" and "echo@v1.0.0.so"`},
	}
	before := append(files(t, root), files(t, outside)...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.check(t, []exchange{
				{"POST", "/plugins/functions", `{"name":"echo","file":"` + tc.zip + `"}`, 400, tc.want},
				{"GET", "/plugins/functions", "", 200, "[]\n"},
			})
			if after := append(files(t, root), files(t, outside)...); !slices.Equal(before, after) {
				t.Errorf("files changed:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
			}
			alive()
		})
	}
}
