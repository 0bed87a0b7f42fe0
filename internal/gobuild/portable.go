package gobuild

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kgen-dev/kgen/internal/layout"
)

// PortableOptions configure Portable.
type PortableOptions struct {
	// Dir is the folder the package pattern is relative to ("" = cwd).
	Dir string
	// Package is the plugin's main package ("" = ".").
	Package string
	// Out is the plugins folder: the executable goes to
	// <Out>/portable/<Name>/<Executable> ("" = layout.BuildDir).
	Out string
	// Name is the plugin's name, the folder it is built into.
	Name string
	// Executable is the executable's file name ("" = Name).
	Executable string
	// Progress receives one line per step; Verbose adds the go commands.
	Progress io.Writer
	Verbose  bool
	// Status, if not nil, is a terminal that shows the go build while it
	// runs (see StatusWriter).
	Status io.Writer
}

// PortablePackage reads what the go command says of a portable plugin's
// package: its folder, and an error unless it is a main package.
func PortablePackage(ctx context.Context, dir, pkg string) (pkgDir string, err error) {
	g := goCmd{ctx: ctx}
	pkg = cmp.Or(pkg, ".")
	// A folder is listed from inside, so that it need not be in the
	// current module.
	runDir, arg := dir, pkg
	if filepath.IsAbs(pkg) || strings.HasPrefix(pkg, ".") {
		folder := pkg
		if !filepath.IsAbs(folder) {
			folder = filepath.Join(cmp.Or(dir, "."), folder)
		}
		if st, err := os.Stat(folder); err == nil && st.IsDir() {
			runDir, arg = folder, "."
		}
	}
	out, err := g.run(runDir, nil, "list", "-json=ImportPath,Dir,Name", arg)
	if err != nil {
		return "", fmt.Errorf("read package %s: %w", pkg, err)
	}
	var p pkgInfo
	if err := json.Unmarshal(out, &p); err != nil {
		return "", fmt.Errorf("read package %s: %w", pkg, err)
	}
	if p.Name != "main" {
		return "", fmt.Errorf("package %s is package %s, not a command: a portable plugin is a main package that calls portable.Serve", p.ImportPath, p.Name)
	}
	return p.Dir, nil
}

// Portable compiles a portable plugin's main package with the go command
// of the PATH into <Out>/portable/<Name>/<Executable> and returns that
// path. Unlike a Go plugin (.so), a portable plugin is a program of its
// own, so nothing needs to match the engine's build.
func Portable(ctx context.Context, opts PortableOptions) (string, error) {
	g, progress := newGoCmd(ctx, opts.Progress, opts.Status, opts.Verbose)
	pkg := cmp.Or(opts.Package, ".")
	pkgDir, err := PortablePackage(ctx, opts.Dir, pkg)
	if err != nil {
		return "", fmt.Errorf("build portable plugin %q: %w", opts.Name, err)
	}
	out := filepath.Join(cmp.Or(opts.Out, layout.BuildDir), "portable", opts.Name)
	if !filepath.IsAbs(out) {
		out = filepath.Join(cmp.Or(opts.Dir, "."), out)
	}
	if out, err = filepath.Abs(out); err != nil {
		return "", err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("build portable plugin %q: %w", opts.Name, err)
	}
	exe := filepath.Join(out, cmp.Or(opts.Executable, opts.Name))
	fmt.Fprintf(progress, "building %s\n", pkg)
	// In the package's folder, so that its module (and a go.work around
	// it) decides the versions; GOWORK="" keeps the go command's default.
	if err := g.build("portable plugin "+opts.Name, pkgDir, "", nil, nil, exe); err != nil {
		return "", fmt.Errorf("build portable plugin %q: %w", opts.Name, err)
	}
	return exe, nil
}
