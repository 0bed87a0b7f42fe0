package runner

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"go/version"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// BundleOptions configure Bundle.
type BundleOptions struct {
	// GOOS and GOARCH are the platform to build for; empty means the go
	// command's default. A build for another platform than this binary's
	// has cgo off (CGO_ENABLED=0) unless $CGO_ENABLED is set.
	GOOS, GOARCH string
	// Tags are build tags, passed to go build -tags.
	Tags []string
	// Progress, if not nil, receives a few lines on what is being built.
	Progress io.Writer
	// Verbose adds the go commands, and what go build prints, to Progress.
	Verbose bool
}

// Bundle builds, at out, a kgen binary with plugin packages compiled in:
// the whole kgen command line (serve, run, version, ...) whose engine has
// the extensions those packages register in init(), the way xcaddy builds
// Caddy with plugins. Unlike a Go plugin (.so), a bundled engine needs no
// cgo and works on every platform Go builds for.
//
// patterns are go package patterns: folders, absolute or relative to the
// current folder, optionally ending in /... for every package under them
// (./plugins/...), or import path patterns resolved in the current folder's
// module. They may be in different modules, anywhere on disk. Main and
// internal packages are left out (the latter are linked in by the packages
// that import them); a pattern that matches nothing else is an error
// wrapping ErrNoPackages.
//
// The generated main package (see bundleMainSource) blank-imports the
// packages and calls kgencli.MainBundled. It is built like RunDir's engines, in a
// Go workspace with the modules of the packages (and, when one of them is
// in a workspace, that workspace's modules), so each module's go.mod
// decides the versions, replace directives pointing at local folders
// included. Bundle returns the import paths of the bundled packages,
// sorted.
func Bundle(ctx context.Context, out string, patterns []string, opts BundleOptions) ([]string, error) {
	if len(patterns) == 0 {
		return nil, ErrNoPackages
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	var verbose io.Writer
	if opts.Verbose {
		verbose = progress
	}
	exe, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(exe); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("output %q is a folder, want a file name", out)
	}

	target, env := bundleTarget(opts)
	var flags []string
	if len(opts.Tags) > 0 {
		flags = append(flags, "-tags", strings.Join(opts.Tags, ","))
	}
	var pkgs []string
	modDirs := map[string]bool{}
	for _, pattern := range patterns {
		dir, rel, err := splitPattern(pattern)
		if err != nil {
			return nil, fmt.Errorf("packages %q: %w", pattern, err)
		}
		found, err := listPackages(ctx, dir, rel, flags, env, verbose)
		if err != nil {
			return nil, fmt.Errorf("packages %q: %w", pattern, err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("packages %q: %w", pattern, ErrNoPackages)
		}
		for _, p := range found {
			if !slices.Contains(pkgs, p.path) {
				pkgs = append(pkgs, p.path)
			}
			modDirs[p.modDir] = true
		}
	}
	slices.Sort(pkgs)

	m := &engineModule{path: "kgenbundle", main: bundleMainSource(pkgs), goVersion: "1.22"}
	for _, modDir := range slices.Sorted(maps.Keys(modDirs)) {
		dirs, goVersion, err := listModules(ctx, modDir, modDir, verbose)
		if err != nil {
			return nil, fmt.Errorf("module %s: %w", modDir, err)
		}
		for _, d := range dirs {
			if !slices.Contains(m.useDirs, d) {
				m.useDirs = append(m.useDirs, d)
			}
		}
		if version.Compare("go"+goVersion, "go"+m.goVersion) > 0 {
			m.goVersion = goVersion
		}
	}
	slices.Sort(m.useDirs)

	fmt.Fprintf(progress, "plugin packages:\n")
	for _, p := range pkgs {
		fmt.Fprintf(progress, "\t%s\n", p)
	}
	fmt.Fprintf(progress, "building %s for %s\n", out, target)

	work, cleanup, err := workDir("bundle", strings.Join(append(slices.Clone(m.useDirs), pkgs...), "\n"))
	if err != nil {
		return nil, fmt.Errorf("build %q: %w", out, err)
	}
	defer cleanup()
	if err := m.build(ctx, work, exe, flags, env, verbose); err != nil {
		return nil, fmt.Errorf("build %q: %w", out, err)
	}
	return pkgs, nil
}

// bundleTarget is the platform a bundle is built for, as GOOS/GOARCH plus
// " (cgo off)" when so, and the environment variables that select it.
func bundleTarget(opts BundleOptions) (target string, env []string) {
	goos := firstOf(opts.GOOS, os.Getenv("GOOS"), runtime.GOOS)
	goarch := firstOf(opts.GOARCH, os.Getenv("GOARCH"), runtime.GOARCH)
	if opts.GOOS != "" {
		env = append(env, "GOOS="+opts.GOOS)
	}
	if opts.GOARCH != "" {
		env = append(env, "GOARCH="+opts.GOARCH)
	}
	target = goos + "/" + goarch
	cgo := os.Getenv("CGO_ENABLED")
	if cgo == "" && (goos != runtime.GOOS || goarch != runtime.GOARCH) {
		// A cross build with cgo would need a C cross compiler.
		env = append(env, "CGO_ENABLED=0")
		cgo = "0"
	}
	if cgo == "0" {
		target += " (cgo off)"
	}
	return target, env
}

// firstOf is the first of values that is not empty.
func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// splitPattern splits a package pattern into the folder to run the go
// command in and the pattern to give it there: ./plugins/... is "./..." in
// plugins, ../proj is "." in ../proj. An import path pattern is given as it
// is in the current folder.
func splitPattern(pattern string) (dir, rel string, err error) {
	slash := filepath.ToSlash(pattern)
	if !filepath.IsAbs(pattern) && !build.IsLocalImport(slash) {
		dir, err := os.Getwd()
		return dir, pattern, err
	}
	elems := strings.Split(slash, "/")
	i := slices.IndexFunc(elems, func(e string) bool { return strings.Contains(e, "...") })
	rel = "."
	if i >= 0 {
		rel = "./" + strings.Join(elems[i:], "/")
		elems = elems[:i]
	}
	base := strings.Join(elems, "/")
	if base == "" {
		base = "/"
	}
	dir, err = filepath.Abs(filepath.FromSlash(base))
	if err != nil {
		return "", "", err
	}
	if fi, err := os.Stat(dir); err != nil {
		return "", "", err
	} else if !fi.IsDir() {
		return "", "", errors.New("not a folder")
	}
	return dir, rel, nil
}

// bundleMainSource is the main package of a bundled engine: it
// blank-imports the plugin packages, so their init functions register
// their extensions, and runs the kgen command line, telling it what it
// was built with.
func bundleMainSource(pkgs []string) string {
	b := mainPrelude("kgenbundle is kgen with plugin packages compiled in, built by kgen bundle", pkgs, "github.com/kgen-dev/kgen/kgencli")
	b.WriteString("func main() {\n\tkgencli.MainBundled(\n")
	for _, p := range pkgs {
		fmt.Fprintf(b, "\t\t%s,\n", strconv.Quote(p))
	}
	b.WriteString("\t)\n}\n")
	return b.String()
}

// bundled is the plugin packages compiled into this binary, set by
// SetBundled.
var bundled []string

// SetBundled records that this binary is an engine built by Bundle with
// the plugin packages pkgs compiled in. Its generated main calls it,
// through kgencli.MainBundled, before the command line runs. From then on Bundled
// returns pkgs and RunDir runs every project in-process, with the
// extensions compiled in, instead of building an engine from the project's
// Go source: a bundled engine needs no Go toolchain to run.
func SetBundled(pkgs []string) {
	bundled = slices.Sorted(slices.Values(pkgs))
	if bundled == nil {
		bundled = []string{}
	}
}

// Bundled returns the plugin packages compiled into this binary (see
// SetBundled), sorted; nil when it is not a bundled engine.
func Bundled() []string { return slices.Clone(bundled) }
