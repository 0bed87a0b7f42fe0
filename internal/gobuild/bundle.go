package gobuild

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"go/build"
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
	// Status, if not nil, is a terminal that shows what is being built and
	// for how long while go build runs (see StatusWriter).
	Status io.Writer
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
// The generated main package (see bundleMain) blank-imports the packages
// and calls kgencli.MainBundled. It is built like Engine's engines, in a Go
// workspace with the modules of the packages (and, when one of them is in a
// workspace, that workspace's modules), so each module's go.mod decides the
// versions, replace directives pointing at local folders included. Bundle
// returns the import paths of the bundled packages, sorted.
func Bundle(ctx context.Context, out string, patterns []string, opts BundleOptions) ([]string, error) {
	if len(patterns) == 0 {
		return nil, ErrNoPackages
	}
	g, progress := newGoCmd(ctx, opts.Progress, opts.Status, opts.Verbose)
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
		found, err := g.listPackages(dir, rel, flags, env)
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
	use, goVersion, err := g.userWorkspace(slices.Sorted(maps.Keys(modDirs)))
	if err != nil {
		return nil, err
	}

	fmt.Fprintf(progress, "plugin packages:\n")
	for _, p := range pkgs {
		fmt.Fprintf(progress, "\t%s\n", p)
	}
	fmt.Fprintf(progress, "building %s for %s\n", out, target)

	work, cleanup, err := workDir("bundle", strings.Join(append(slices.Clone(use), pkgs...), "\n"))
	if err != nil {
		return nil, fmt.Errorf("build %q: %w", out, err)
	}
	defer cleanup()
	if err := bundleMain(pkgs, goVersion).write(work); err != nil {
		return nil, fmt.Errorf("build %q: %w", out, err)
	}
	ws := &workspace{goVersion: goVersion, use: append([]string{work}, use...)}
	goWork, err := ws.write(work)
	if err != nil {
		return nil, fmt.Errorf("build %q: %w", out, err)
	}
	if err := g.build("building "+out+" for "+target, work, goWork, flags, env, exe); err != nil {
		return nil, fmt.Errorf("build %q: %w", out, err)
	}
	return pkgs, nil
}

// bundleTarget is the platform a bundle is built for, as GOOS/GOARCH plus
// " (cgo off)" when so, and the environment variables that select it.
func bundleTarget(opts BundleOptions) (target string, env []string) {
	goos := cmp.Or(opts.GOOS, os.Getenv("GOOS"), runtime.GOOS)
	goarch := cmp.Or(opts.GOARCH, os.Getenv("GOARCH"), runtime.GOARCH)
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

// bundleMain is the main package of a bundled engine: it blank-imports the
// plugin packages, so their init functions register their extensions, and
// runs the kgen command line, telling it what it was built with.
func bundleMain(pkgs []string, goVersion string) *mainModule {
	var body strings.Builder
	body.WriteString("func main() {\n\tkgencli.MainBundled(\n")
	for _, p := range pkgs {
		fmt.Fprintf(&body, "\t\t%s,\n", strconv.Quote(p))
	}
	body.WriteString("\t)\n}\n")
	return &mainModule{
		path:      "kgenbundle",
		goVersion: goVersion,
		doc:       "kgenbundle is kgen with plugin packages compiled in, built by kgen bundle",
		imports:   [][]string{blankImports(pkgs), {`"github.com/kgen-dev/kgen/kgencli"`}},
		body:      body.String(),
	}
}
