package markers

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/tools/go/packages"

	"github.com/kgen-dev/kgen/gen"
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
	dir, err := filepath.Abs(cmp.Or(opts.Dir, "."))
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
	mem := gen.MemOutput{}
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
	if opts.Check {
		for p, data := range mem {
			old, err := os.ReadFile(p)
			if err != nil || !bytes.Equal(old, data) {
				res.Stale = append(res.Stale, rel(p))
			}
		}
		for _, o := range orphans {
			res.Stale = append(res.Stale, rel(o))
		}
		slices.Sort(res.Stale)
		return res, nil
	}
	out := &gen.DirOutput{}
	err = gen.WriteFiles(out, mem)
	for _, w := range out.Written {
		res.Written = append(res.Written, rel(w))
	}
	if err != nil {
		return res, err
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

// generatedFiles lists the files of dir (not its sub-folders) that carry
// kgen's header and that the marker generator writes: of the Go files only
// kgen.gen.go, as the .proto generators (gen/proto) write others.
func generatedFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case ".go":
			if e.Name() != GoFileName {
				continue
			}
		case ".json", ".yaml", ".yml":
		default:
			continue
		}
		if !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if gen.IsGenerated(path, data) {
			out = append(out, path)
		}
	}
	return out, nil
}
