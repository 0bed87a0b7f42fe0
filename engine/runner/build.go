package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"go/version"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrNoPackages is returned by Build for a project without Go packages.
var ErrNoPackages = errors.New("no plugin packages")

// ExitError is returned by RunDir when the engine it built exits with a
// non-zero status. The engine has already printed its error to stderr.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("engine exited with status %d", e.Code) }

// plugins is the set of plugin packages of a project and the module they
// are in.
type plugins struct {
	dir       string   // the project folder, absolute
	pkgs      []string // import paths, sorted
	modPath   string
	modDir    string
	useDirs   []string // the module, and the others of the user's workspace if one is active
	goVersion string   // the highest go line of those modules
}

// findPlugins lists the importable, non-main packages under dir with the go
// command. A folder without .go files has none, and needs no go command.
func findPlugins(ctx context.Context, dir string) (*plugins, error) {
	p := &plugins{dir: dir}
	has, err := hasGoFiles(dir)
	if err != nil || !has {
		return p, err
	}
	const format = `{{if and (ne .Name "main") (or .GoFiles .CgoFiles)}}` +
		`{{.ImportPath}}{{"\t"}}{{with .Module}}{{.Path}}{{"\t"}}{{.Dir}}{{"\t"}}{{.GoVersion}}{{end}}{{end}}`
	cmd := exec.CommandContext(ctx, "go", "list", "-f", format, "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("list packages: %s", cmdError(err, stderr.Bytes()))
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
		if len(f) == 1 && f[0] == "" {
			continue
		}
		if len(f) != 4 {
			return nil, fmt.Errorf("list packages: package %s is not in a module", f[0])
		}
		// A blank import of an internal package from the generated module is
		// not allowed; the plugin packages that use it link it in.
		if isInternal(f[0]) {
			continue
		}
		if p.modDir != "" && p.modDir != f[2] {
			return nil, fmt.Errorf("list packages: packages from two modules: %s and %s", p.modPath, f[1])
		}
		p.pkgs = append(p.pkgs, f[0])
		p.modPath, p.modDir = f[1], f[2]
	}
	slices.Sort(p.pkgs)
	if len(p.pkgs) == 0 {
		return p, nil
	}
	return p, p.listModules(ctx)
}

// listModules sets useDirs and goVersion from the main modules: the
// project's module, or every module of the user's workspace when one is
// active, so that the engine builds against the same module versions.
func (p *plugins) listModules(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", `{{.Dir}}{{"\t"}}{{.GoVersion}}`)
	cmd.Dir = p.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("list modules: %s", cmdError(err, stderr.Bytes()))
	}
	p.useDirs = []string{p.modDir}
	p.goVersion = "1.22"
	for line := range strings.Lines(string(out)) {
		dir, goVersion, _ := strings.Cut(strings.TrimRight(line, "\r\n"), "\t")
		if dir != "" && !slices.Contains(p.useDirs, dir) {
			p.useDirs = append(p.useDirs, dir)
		}
		if goVersion != "" && version.Compare("go"+goVersion, "go"+p.goVersion) > 0 {
			p.goVersion = goVersion
		}
	}
	slices.Sort(p.useDirs)
	return nil
}

func isInternal(importPath string) bool {
	return strings.HasSuffix(importPath, "/internal") || strings.Contains(importPath, "/internal/") ||
		importPath == "internal" || strings.HasPrefix(importPath, "internal/")
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

// Build compiles an engine binary with the plugin packages of the project
// in dir compiled in, and returns its path. It returns ErrNoPackages when the
// project has none. The binary lives in the user cache folder and is rebuilt
// only when something it is built from changed.
func Build(ctx context.Context, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	p, err := findPlugins(ctx, abs)
	if err != nil {
		return "", fmt.Errorf("build %q: %w", dir, err)
	}
	if len(p.pkgs) == 0 {
		return "", fmt.Errorf("build %q: %w", dir, ErrNoPackages)
	}
	exe, err := p.build(ctx)
	if err != nil {
		return "", fmt.Errorf("build %q: %w", dir, err)
	}
	return exe, nil
}

// RunDir is `kgen run`: it runs the project in dir like Run, with the
// project's plugin packages compiled in. A project without Go packages is
// run in-process; otherwise an engine binary is built (see Build) and run
// with the project folder, its stdout and stderr going to stdout and stderr.
// A binary that fails returns an *ExitError. opts.Logger's level is passed
// on to the binary, which logs text to stderr.
func RunDir(ctx context.Context, dir string, stdout, stderr io.Writer, opts Options) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("run %q: %w", dir, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("run %q: %w", dir, err)
	}
	p, err := findPlugins(ctx, abs)
	if err != nil {
		return fmt.Errorf("run %q: %w", dir, err)
	}
	if len(p.pkgs) == 0 {
		return Run(ctx, dir, stdout, opts)
	}
	exe, err := p.build(ctx)
	if err != nil {
		return fmt.Errorf("run %q: %w", dir, err)
	}
	args := []string{"-log", levelName(ctx, opts.Logger)}
	if opts.Timeout > 0 {
		args = append(args, "-timeout", opts.Timeout.String())
	}
	cmd := exec.CommandContext(ctx, exe, append(args, "--", dir)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// On interrupt, let the engine stop its rules and print what it has.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return &ExitError{Code: exitErr.ExitCode()}
	case err != nil:
		return fmt.Errorf("run %q: start engine: %w", dir, err)
	}
	return nil
}

// levelName is the lowest level logger logs, as a -log value.
func levelName(ctx context.Context, logger *slog.Logger) string {
	if logger == nil {
		return "off"
	}
	for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
		if logger.Enabled(ctx, l) {
			return strings.ToLower(l.String())
		}
	}
	return "off"
}

// build writes the generated module and its workspace to the cache folder
// and builds the engine binary there.
func (p *plugins) build(ctx context.Context) (string, error) {
	work, cleanup, err := workDir(p.dir)
	if err != nil {
		return "", fmt.Errorf("build engine: %w", err)
	}
	defer cleanup()
	var use strings.Builder
	for _, d := range p.useDirs {
		fmt.Fprintf(&use, "\t%s\n", strconv.Quote(d))
	}
	files := map[string]string{
		"go.mod":  "module kgenrun\n\ngo " + p.goVersion + "\n",
		"main.go": mainSource(p.pkgs),
		"go.work": fmt.Sprintf("go %s\n\nuse (\n\t.\n%s)\n", p.goVersion, use.String()),
	}
	for name, text := range files {
		if err := writeIfChanged(filepath.Join(work, name), text); err != nil {
			return "", fmt.Errorf("build engine: %w", err)
		}
	}
	exe := filepath.Join(work, "kgenrun")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", exe, ".")
	cmd.Dir = work
	// -mod flags in GOFLAGS conflict with workspace mode.
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(work, "go.work"), "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if err != nil {
		return "", fmt.Errorf("build engine: %s", cmdError(err, out))
	}
	return exe, nil
}

// workDir returns the cache folder for a project, or a temporary folder
// (removed by cleanup) when there is no user cache folder.
func workDir(project string) (dir string, cleanup func(), err error) {
	if cache, err := os.UserCacheDir(); err == nil {
		sum := sha256.Sum256([]byte(project))
		dir = filepath.Join(cache, "kgen", "run", hex.EncodeToString(sum[:8]))
		if err := os.MkdirAll(dir, 0o755); err == nil {
			return dir, func() {}, nil
		}
	}
	dir, err = os.MkdirTemp("", "kgen-build-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

func mainSource(pkgs []string) string {
	var b strings.Builder
	b.WriteString("// Code generated by kgen. DO NOT EDIT.\n\n")
	b.WriteString("// Command kgenrun is an engine with plugin packages compiled in, run by kgen run.\n")
	b.WriteString("package main\n\nimport (\n")
	for _, p := range pkgs {
		fmt.Fprintf(&b, "\t_ %s\n", strconv.Quote(p))
	}
	b.WriteString("\n\t\"github.com/kgen-dev/kgen/engine/runner\"\n)\n\nfunc main() { runner.Main() }\n")
	return b.String()
}

// writeIfChanged writes a file only when its content differs, through a
// temporary file, so that the go command sees unchanged inputs and a
// concurrent run never reads half a file.
func writeIfChanged(path, text string) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == text {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(text); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// cmdError is the output of a failed go command, or its error when it
// printed nothing.
func cmdError(err error, output []byte) string {
	if out := strings.TrimSpace(string(output)); out != "" {
		return out
	}
	return err.Error()
}
