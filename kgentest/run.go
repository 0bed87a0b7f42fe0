package kgentest

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// An Option changes how Run runs the scripts.
type Option func(*config)

type config struct {
	setup     func(*testscript.Env) error
	cmds      map[string]func(ts *testscript.TestScript, neg bool, args []string)
	condition func(string) (bool, error)
}

// WithSetup runs f in each script's setup, after kgentest's own (so f sees
// $WORK and may set variables).
func WithSetup(f func(*testscript.Env) error) Option {
	return func(c *config) { c.setup = f }
}

// WithCmds adds script commands to kgentest's.
func WithCmds(cmds map[string]func(ts *testscript.TestScript, neg bool, args []string)) Option {
	return func(c *config) { maps.Copy(c.cmds, cmds) }
}

// WithCondition answers script conditions kgentest does not know.
func WithCondition(f func(cond string) (bool, error)) Option {
	return func(c *config) { c.condition = f }
}

// Run runs every *.txtar script in dir with testscript, one subtest each,
// with the commands of Commands and the engine commands described in the
// package documentation. Scripts must `exec` programs explicitly
// (RequireExplicitExec); KGEN_UPDATE=1 rewrites the expected files in
// them. Run applies Setup, so scripts can run the go command.
//
// Call Run from a test of the plugin package: the engines the scripts start
// have the extensions of the test binary.
func Run(t *testing.T, dir string, opts ...Option) {
	t.Helper()
	p, err := params(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, p)
}

// params are the testscript parameters of Run.
func params(dir string, opts ...Option) (testscript.Params, error) {
	c := &config{cmds: Commands()}
	for _, o := range opts {
		o(c)
	}
	pkgDir, err := os.Getwd()
	if err != nil {
		return testscript.Params{}, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return testscript.Params{}, err
	}
	if len(files) == 0 {
		return testscript.Params{}, fmt.Errorf("kgentest: no *.txtar scripts in %s", dir)
	}
	// Which scripts opt into .so plugins, by subtest name.
	scripts := map[string]scriptFile{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return testscript.Params{}, err
		}
		scripts[strings.TrimSuffix(filepath.Base(f), ".txtar")] = scriptFile{path: f, so: usesSO(string(data))}
	}
	p := testscript.Params{
		Files:               files,
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("KGEN_UPDATE") != "",
		Cmds:                c.cmds,
		Condition: func(cond string) (bool, error) {
			if cond == "so" {
				return pluginsWork(), nil
			}
			if c.condition != nil {
				return c.condition(cond)
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(e *testscript.Env) error {
			name := scriptName(e.T())
			sf, ok := scripts[name]
			if !ok {
				return fmt.Errorf("kgentest: no script named %q", name)
			}
			s := newScript(e, pkgDir, sf)
			e.Values[scriptKey{}] = s
			if c.setup != nil {
				return c.setup(e)
			}
			return nil
		},
	}
	for name, f := range engineCommands {
		p.Cmds[name] = f
	}
	return p, Setup(&p)
}

type scriptFile struct {
	path string
	so   bool // mentions the [so] condition
}

// soCondition finds [so] or [!so] in a script's command lines.
var soCondition = regexp.MustCompile(`(?m)^\s*(\[[^\]]*\]\s*)*\[!?so\]`)

func usesSO(archive string) bool {
	script, _, _ := strings.Cut(archive, "\n-- ")
	return soCondition.MatchString(script)
}

// scriptName is the last element of the subtest name: the script's.
func scriptName(t testscript.T) string {
	n, ok := t.(interface{ Name() string })
	if !ok {
		return ""
	}
	name := n.Name()
	return name[strings.LastIndex(name, "/")+1:]
}

// pluginsWork says whether Go plugins can be built and loaded here.
func pluginsWork() bool {
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd":
	default:
		return false
	}
	return os.Getenv("CGO_ENABLED") != "0"
}

type scriptKey struct{}

// scriptOf returns the state of the script ts runs in, failing when ts is
// not run by Run.
func scriptOf(ts *testscript.TestScript, cmd string) *script {
	s, _ := ts.Value(scriptKey{}).(*script)
	if s == nil {
		ts.Fatalf("%s: only scripts run by kgentest.Run have an engine", cmd)
	}
	return s
}
