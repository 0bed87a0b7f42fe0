package gobuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// ErrNoPackages is returned (wrapped) by Engine for a project without plugin
// packages and by Bundle for a pattern that matches none.
var ErrNoPackages = errors.New("no plugin packages")

// EngineOptions configure Engine.
type EngineOptions struct {
	// Status, if not nil, is a terminal that shows what is being built and
	// for how long while go build runs (see StatusWriter).
	Status io.Writer
}

// project is the set of plugin packages of a project folder and the module
// they are in.
type project struct {
	dir       string   // the project folder, absolute
	pkgs      []string // import paths, sorted
	modPath   string
	modDir    string
	useDirs   []string // the module, and the others of the user's workspace if one is active
	goVersion string   // the highest go line of those modules
}

// Engine builds the engine `kgen run` runs for the project in dir: a binary
// whose generated main package blank-imports every plugin package of the
// project and calls runner.Main. It returns the binary's path, or an error
// wrapping ErrNoPackages when the project has no plugin packages (it then
// runs in-process; a folder without .go files needs no go command to tell).
// The binary lives in the user cache folder (kgen/run/<hash of dir>) and is
// rebuilt only when something it is built from changed.
func Engine(ctx context.Context, dir string, opts EngineOptions) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("build %q: %w", dir, err)
	}
	g := goCmd{ctx: ctx, status: opts.Status}
	p, err := findPlugins(g, abs)
	if err != nil {
		return "", fmt.Errorf("build %q: %w", dir, err)
	}
	if len(p.pkgs) == 0 {
		return "", fmt.Errorf("build %q: %w", dir, ErrNoPackages)
	}
	exe, err := p.build(g, dir)
	if err != nil {
		return "", fmt.Errorf("build %q: build engine: %w", dir, err)
	}
	return exe, nil
}

// findPlugins lists the importable, non-main packages under dir with the go
// command. A folder without .go files has none, and needs no go command.
func findPlugins(g goCmd, dir string) (*project, error) {
	p := &project{dir: dir}
	has, err := hasGoFiles(dir)
	if err != nil || !has {
		return p, err
	}
	pkgs, err := g.listPackages(dir, "./...", nil, nil)
	if err != nil {
		return nil, err
	}
	for _, pkg := range pkgs {
		if p.modDir != "" && p.modDir != pkg.modDir {
			return nil, fmt.Errorf("list packages: packages from two modules: %s and %s", p.modPath, pkg.modPath)
		}
		p.pkgs = append(p.pkgs, pkg.path)
		p.modPath, p.modDir = pkg.modPath, pkg.modDir
	}
	slices.Sort(p.pkgs)
	if len(p.pkgs) == 0 {
		return p, nil
	}
	p.useDirs, p.goVersion, err = g.userWorkspace([]string{p.modDir})
	return p, err
}

// build writes the generated module and its workspace to the cache folder
// and builds the engine binary there.
func (p *project) build(g goCmd, dir string) (string, error) {
	work, cleanup, err := workDir("run", p.dir)
	if err != nil {
		return "", err
	}
	defer cleanup()
	if err := engineMain(p.pkgs, p.goVersion).write(work); err != nil {
		return "", err
	}
	ws := &workspace{goVersion: p.goVersion, use: append([]string{work}, p.useDirs...)}
	goWork, err := ws.write(work)
	if err != nil {
		return "", err
	}
	exe := filepath.Join(work, "kgenrun")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	if err := g.build("building the engine for "+dir, work, goWork, nil, nil, exe); err != nil {
		return "", err
	}
	return exe, nil
}

// engineMain is the main package of a kgen run engine.
func engineMain(pkgs []string, goVersion string) *mainModule {
	return &mainModule{
		path:      "kgenrun",
		goVersion: goVersion,
		doc:       "kgenrun is an engine with plugin packages compiled in, run by kgen run",
		imports:   [][]string{blankImports(pkgs), {`"github.com/kgen-dev/kgen/engine/runner"`}},
		body:      "func main() { runner.Main() }\n",
	}
}

// hasGoFiles reports whether dir holds a non-test .go file in a folder the
// go command would look at for ./... (not testdata, not "." or "_" folders,
// not nested modules).
func hasGoFiles(dir string) (bool, error) {
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != dir {
				if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
					return filepath.SkipDir
				}
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found, err
}
