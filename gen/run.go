package gen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/tools/go/packages"
)

// Options configure Run.
type Options struct {
	// Dir is the folder patterns are relative to; "" is the working folder.
	Dir string
	// Patterns select packages as the go command does; none means ".".
	Patterns []string
	// Check reports stale files instead of writing them.
	Check bool
	// Clean removes the generated files instead of generating.
	Clean bool
}

// Result says what Run did or, with Check, would do. Paths are relative to
// Options.Dir.
type Result struct {
	Written []string // written because missing or changed
	Removed []string // generated files no plugin produces any more (or all, with Clean)
	Stale   []string // with Check: files that are missing, changed or orphaned
}

// Run is `kgen gen`: load the packages, generate their files, and write the
// changed ones and remove orphaned ones (generated files that no plugin
// produces any more); or with Check only list them; or with Clean remove
// every generated file of the packages. Nothing is written when any package
// fails.
func Run(opts Options) (*Result, error) {
	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	rel := func(p string) string {
		if r, err := filepath.Rel(dir, p); err == nil {
			return r
		}
		return p
	}
	if opts.Clean {
		dirs, err := packageDirs(dir, opts.Patterns)
		if err != nil {
			return nil, err
		}
		for _, d := range dirs {
			files, err := generatedFiles(d)
			if err != nil {
				return nil, err
			}
			for _, f := range files {
				if err := os.Remove(f); err != nil {
					return res, err
				}
				res.Removed = append(res.Removed, rel(f))
			}
		}
		return res, nil
	}

	pkgs, err := Load(dir, opts.Patterns...)
	if err != nil {
		return nil, err
	}
	mem := MemOutput{}
	if err := Generate(pkgs, mem); err != nil {
		return nil, err
	}
	var orphans []string
	for _, p := range pkgs {
		files, err := generatedFiles(p.Dir)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if _, ok := mem[f]; !ok {
				orphans = append(orphans, f)
			}
		}
	}
	paths := make([]string, 0, len(mem))
	for p := range mem {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	if opts.Check {
		for _, p := range paths {
			old, err := os.ReadFile(p)
			if err != nil || !bytes.Equal(old, mem[p]) {
				res.Stale = append(res.Stale, rel(p))
			}
		}
		for _, o := range orphans {
			res.Stale = append(res.Stale, rel(o))
		}
		slices.Sort(res.Stale)
		return res, nil
	}
	out := &DirOutput{}
	for _, p := range paths {
		if err := out.WriteFile(p, mem[p]); err != nil {
			return res, err
		}
	}
	for _, w := range out.Written {
		res.Written = append(res.Written, rel(w))
	}
	for _, o := range orphans {
		if err := os.Remove(o); err != nil {
			return res, err
		}
		res.Removed = append(res.Removed, rel(o))
	}
	return res, nil
}

// packageDirs lists the folders of the packages matching patterns, without
// type-checking them.
func packageDirs(dir string, patterns []string) ([]string, error) {
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedName | packages.NeedFiles, Dir: dir}, patterns...)
	if err != nil {
		return nil, fmt.Errorf("load packages: %w", err)
	}
	var dirs []string
	for _, p := range pkgs {
		if err := loadErrors(p); err != nil {
			return nil, err
		}
		if len(p.GoFiles) > 0 && !slices.Contains(dirs, filepath.Dir(p.GoFiles[0])) {
			dirs = append(dirs, filepath.Dir(p.GoFiles[0]))
		}
	}
	slices.Sort(dirs)
	return dirs, nil
}
