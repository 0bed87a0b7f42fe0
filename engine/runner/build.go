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
	pkgs, err := listPackages(ctx, dir, "./...", nil, nil, nil)
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
	p.useDirs, p.goVersion, err = listModules(ctx, p.modDir, p.dir, nil)
	return p, err
}

// pluginPackage is a package a plugin pattern matched.
type pluginPackage struct {
	path    string // import path
	modPath string
	modDir  string
}

// listPackages lists the importable, non-main packages that pattern matches
// with the go command run in dir. Internal packages are left out: a blank
// import of one from the generated module is not allowed, and the plugin
// packages that use it link it in. flags (like -tags) and env (KEY=value,
// like GOOS) select files as for go build; verbose, if not nil, gets the
// command.
func listPackages(ctx context.Context, dir, pattern string, flags, env []string, verbose io.Writer) ([]pluginPackage, error) {
	const format = `{{if and (ne .Name "main") (or .GoFiles .CgoFiles)}}` +
		`{{.ImportPath}}{{"\t"}}{{with .Module}}{{.Path}}{{"\t"}}{{.Dir}}{{end}}{{end}}`
	args := append(append([]string{"list"}, flags...), "-f", format, pattern)
	out, err := goOutput(ctx, dir, env, verbose, args...)
	if err != nil {
		return nil, fmt.Errorf("list packages: %w", err)
	}
	var pkgs []pluginPackage
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
		if len(f) == 1 && f[0] == "" {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("list packages: package %s is not in a module", f[0])
		}
		if !isInternal(f[0]) {
			pkgs = append(pkgs, pluginPackage{path: f[0], modPath: f[1], modDir: f[2]})
		}
	}
	return pkgs, nil
}

// listModules returns the main modules the go command sees in dir: the
// module in modDir, or every module of the user's workspace when one is
// active, so that an engine builds against the same module versions; and the
// highest go line among them. verbose, if not nil, gets the command.
func listModules(ctx context.Context, modDir, dir string, verbose io.Writer) (useDirs []string, goVersion string, err error) {
	out, err := goOutput(ctx, dir, nil, verbose, "list", "-m", "-f", `{{.Dir}}{{"\t"}}{{.GoVersion}}`)
	if err != nil {
		return nil, "", fmt.Errorf("list modules: %w", err)
	}
	useDirs = []string{modDir}
	goVersion = "1.22"
	for line := range strings.Lines(string(out)) {
		d, v, _ := strings.Cut(strings.TrimRight(line, "\r\n"), "\t")
		if d != "" && !slices.Contains(useDirs, d) {
			useDirs = append(useDirs, d)
		}
		if v != "" && version.Compare("go"+v, "go"+goVersion) > 0 {
			goVersion = v
		}
	}
	slices.Sort(useDirs)
	return useDirs, goVersion, nil
}

// goOutput runs the go command in dir, with env (KEY=value) added to the
// environment, and returns its stdout. Its error has what the command
// printed on stderr. verbose, if not nil, gets the command line first.
func goOutput(ctx context.Context, dir string, env []string, verbose io.Writer, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	logCommand(verbose, cmd, env)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, errors.New(cmdError(err, stderr.Bytes()))
	}
	return out, nil
}

// logCommand prints cmd as a shell line to w (if not nil): the folder it
// runs in, the environment variables it sets, and its arguments.
func logCommand(w io.Writer, cmd *exec.Cmd, env []string) {
	if w == nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cd %s && ", shellQuote(cmd.Dir))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "%s=%s ", k, shellQuote(v))
	}
	for i, a := range cmd.Args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(shellQuote(a))
	}
	fmt.Fprintln(w, b.String())
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=,:@+", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
// on to the binary, which logs text to stderr. In a bundled engine (see
// SetBundled) RunDir is Run: the project runs with the extensions compiled
// in, and its Go source is not built.
func RunDir(ctx context.Context, dir string, stdout, stderr io.Writer, opts Options) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("run %q: %w", dir, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("run %q: %w", dir, err)
	}
	if bundled != nil {
		return Run(ctx, dir, stdout, opts)
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
	work, cleanup, err := workDir("run", p.dir)
	if err != nil {
		return "", fmt.Errorf("build engine: %w", err)
	}
	defer cleanup()
	m := &engineModule{path: "kgenrun", main: mainSource(p.pkgs), useDirs: p.useDirs, goVersion: p.goVersion}
	exe := filepath.Join(work, "kgenrun")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	if err := m.build(ctx, work, exe, nil, nil, nil); err != nil {
		return "", fmt.Errorf("build engine: %w", err)
	}
	return exe, nil
}

// engineModule is a generated main module that compiles plugin packages
// into an engine, and the Go workspace it builds in: the generated module
// and the modules of the plugin packages, whose go.mod files decide the
// module versions (replace directives included).
type engineModule struct {
	path      string // module path
	main      string // main.go
	useDirs   []string
	goVersion string
}

// build writes the module to work, unless the files there are the same,
// and builds it into exe with the extra go build flags and environment
// (KEY=value). verbose, if not nil, gets the go command and its output.
func (m *engineModule) build(ctx context.Context, work, exe string, flags, env []string, verbose io.Writer) error {
	var use strings.Builder
	for _, d := range m.useDirs {
		fmt.Fprintf(&use, "\t%s\n", strconv.Quote(d))
	}
	files := map[string]string{
		"go.mod":  "module " + m.path + "\n\ngo " + m.goVersion + "\n",
		"main.go": m.main,
		"go.work": fmt.Sprintf("go %s\n\nuse (\n\t.\n%s)\n", m.goVersion, use.String()),
	}
	for name, text := range files {
		if err := writeIfChanged(filepath.Join(work, name), text); err != nil {
			return err
		}
	}
	args := append([]string{"build", "-buildvcs=false"}, flags...)
	cmd := exec.CommandContext(ctx, "go", append(args, "-o", exe, ".")...)
	cmd.Dir = work
	// -mod flags in GOFLAGS conflict with workspace mode.
	env = append([]string{"GOWORK=" + filepath.Join(work, "go.work"), "GOFLAGS="}, env...)
	cmd.Env = append(os.Environ(), env...)
	logCommand(verbose, cmd, env)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if verbose != nil {
		cmd.Stdout, cmd.Stderr = verbose, io.MultiWriter(verbose, &out)
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return errors.New(cmdError(err, out.Bytes()))
	}
	return nil
}

// workDir returns the cache folder kgen/<kind>/<hash of key>, or a
// temporary folder (removed by cleanup) when there is no user cache folder.
func workDir(kind, key string) (dir string, cleanup func(), err error) {
	if cache, err := os.UserCacheDir(); err == nil {
		sum := sha256.Sum256([]byte(key))
		dir = filepath.Join(cache, "kgen", kind, hex.EncodeToString(sum[:8]))
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
	b := mainPrelude("kgenrun is an engine with plugin packages compiled in, run by kgen run", pkgs, "github.com/kgen-dev/kgen/engine/runner")
	b.WriteString("func main() { runner.Main() }\n")
	return b.String()
}

// mainPrelude starts the source of a generated main package: the header, a
// doc comment, a blank import of each plugin package (their init functions
// register their extensions) and the import of the package main calls.
func mainPrelude(doc string, pkgs []string, entry string) *strings.Builder {
	var b strings.Builder
	b.WriteString("// Code generated by kgen. DO NOT EDIT.\n\n")
	b.WriteString("// Command " + doc + ".\n")
	b.WriteString("package main\n\nimport (\n")
	for _, p := range pkgs {
		fmt.Fprintf(&b, "\t_ %s\n", strconv.Quote(p))
	}
	fmt.Fprintf(&b, "\n\t%s\n)\n\n", strconv.Quote(entry))
	return &b
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
