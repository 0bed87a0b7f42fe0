package scaffold

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/kgen-dev/kgen/gen"
	"github.com/kgen-dev/kgen/sdk"
	"github.com/kgen-dev/kgen/templates"
)

// GoVersion is the go line of a new project's go.mod: the one kgen's own
// go.mod has, since the project requires kgen.
const GoVersion = "1.26.0"

// Options configure a new project.
type Options struct {
	// Module is the module path; default "example.com/<name>", lower-cased.
	Module string
	// KgenDir is a kgen source tree to build against (see LocateKgen).
	KgenDir string
	// Kgen, when set, is used as it is instead of LocateKgen(KgenDir).
	Kgen *Kgen
	// SkipTidy leaves out `go mod tidy`: the project then lacks go.sum.
	SkipTidy bool
}

// File is one rendered file.
type File struct {
	Path string // slash-separated, relative to the project folder
	Data []byte
}

// data is what the templates see; every name is computed here, once.
type data struct {
	Kind    string // "function", "source" or "sink"
	Name    string // the extension name: SQL function, source type or sink action
	Symbol  string // the exported constructor, sdk.SymbolName(Name)
	Package string // the Go package name
	Row     string // the Go row type of a source or sink
	Module  string
	// GoVersion is the go line of go.mod.
	GoVersion string
	// KgenVersion is the required kgen version; KgenReplace the folder a
	// replace directive points at, or "".
	KgenVersion string
	KgenReplace string
}

// Render renders the project for an extension of kind named name into
// memory, without touching the disk (LocateKgen aside). Files are sorted by
// path; the same arguments give the same bytes.
func Render(kind sdk.Kind, name string, opts Options) ([]File, error) {
	d, err := newData(kind, name, opts)
	if err != nil {
		return nil, fmt.Errorf("new %s: %w", kind, err)
	}
	files, err := render(d)
	if err != nil {
		return nil, fmt.Errorf("new %s %q: %w", kind, name, err)
	}
	if err := checkClashes(d, files); err != nil {
		return nil, fmt.Errorf("new %s: %w", kind, err)
	}
	return files, nil
}

func newData(kind sdk.Kind, name string, opts Options) (*data, error) {
	if err := sdk.ValidateName(name); err != nil {
		return nil, err
	}
	if token.IsKeyword(name) || types.Universe.Lookup(name) != nil || name == "init" || name == "main" {
		return nil, fmt.Errorf("invalid plugin name %q: must not be a Go keyword, a predeclared identifier, init or main", name)
	}
	d := &data{
		Kind:      kind.String(),
		Name:      name,
		Symbol:    sdk.SymbolName(name),
		Package:   strings.ToLower(name),
		GoVersion: GoVersion,
	}
	switch kind {
	case sdk.KindFunction:
	case sdk.KindSource:
		d.Row = name + "Reading"
	case sdk.KindSink:
		d.Row = name + "Row"
	default:
		return nil, fmt.Errorf("unknown plugin kind %v", kind)
	}
	d.Module = opts.Module
	if d.Module == "" {
		d.Module = "example.com/" + d.Package
		if err := checkModulePath(d.Module); err != nil {
			return nil, fmt.Errorf("%w (pick one with -module)", err)
		}
	} else if err := checkModulePath(d.Module); err != nil {
		return nil, err
	}
	k := opts.Kgen
	if k == nil {
		found, err := LocateKgen(opts.KgenDir)
		if err != nil {
			return nil, err
		}
		k = &found
	}
	d.KgenVersion, d.KgenReplace = k.Version, k.Dir
	return d, nil
}

// checkModulePath accepts what the go command accepts as a module path for
// a new module: slash-separated elements of ASCII letters, digits and
// "-._~", none empty, none starting or ending with a dot.
func checkModulePath(p string) error {
	for _, elem := range strings.Split(p, "/") {
		bad := elem == "" || elem[0] == '.' || elem[len(elem)-1] == '.'
		for _, r := range elem {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-._~", r)) {
				bad = true
			}
		}
		if bad {
			return fmt.Errorf("invalid module path %q: want slash-separated elements of ASCII letters, digits and -._~", p)
		}
	}
	return nil
}

var funcs = template.FuncMap{
	// modpath writes a path as a go.mod token, quoted when it must be.
	"modpath": func(p string) string {
		if strings.ContainsAny(p, " \t\"'`()") || strings.Contains(p, "//") {
			return strconv.Quote(p)
		}
		return p
	},
}

// render renders new/common and new/<kind> of the embedded templates.
func render(d *data) ([]File, error) {
	byPath := map[string][]byte{}
	for _, root := range []string{"new/common", "new/" + d.Kind} {
		err := fs.WalkDir(templates.FS, root, func(name string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			src, err := fs.ReadFile(templates.FS, name)
			if err != nil {
				return err
			}
			out := strings.ReplaceAll(strings.TrimPrefix(name, root+"/"), "{{name}}", d.Name)
			if s, ok := strings.CutSuffix(out, ".tmpl"); ok {
				out = s
				if src, err = execute(name, src, d); err != nil {
					return err
				}
			}
			if path.Ext(out) == ".go" {
				if src, err = gen.FormatGo(out, src); err != nil {
					return fmt.Errorf("template %s: %w", name, err)
				}
			}
			byPath[out] = src
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	files := make([]File, 0, len(byPath))
	for p, b := range byPath {
		files = append(files, File{Path: p, Data: b})
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

func execute(name string, src []byte, d *data) ([]byte, error) {
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// generatedImports are the package names kgen gen imports in kgen.gen.go.
var generatedImports = []string{"errors", "fmt", "io", "math", "sdk", "time"}

// checkClashes fails when the identifiers derived from the name (the
// function or type, the row type, the constructor kgen gen will export)
// collide with an identifier of the rendered files or of kgen.gen.go:
// "os", "goEnv" or "testMain" (whose constructor is TestMain) would not
// compile.
func checkClashes(d *data, files []File) error {
	type use struct{ what, file string }
	decls := map[string]use{d.Symbol: {"the constructor", "kgen.gen.go"}}
	imports := map[string]use{}
	clash := func(id string, a, b use) error {
		return fmt.Errorf("invalid plugin name %q: the project would have two %q (%s in %s, %s in %s); pick another name",
			d.Name, id, a.what, a.file, b.what, b.file)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if path.Ext(f.Path) != ".go" {
			continue
		}
		af, err := parser.ParseFile(fset, f.Path, f.Data, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			name := path.Base(p)
			if imp.Name != nil {
				name = imp.Name.Name
			}
			if _, ok := imports[name]; !ok {
				imports[name] = use{"an import", f.Path}
			}
		}
		declare := func(id *ast.Ident, what string) error {
			if id.Name == "_" || id.Name == "init" {
				return nil
			}
			u := use{what, f.Path}
			if prev, dup := decls[id.Name]; dup {
				return clash(id.Name, prev, u)
			}
			decls[id.Name] = u
			return nil
		}
		for _, decl := range af.Decls {
			switch decl := decl.(type) {
			case *ast.FuncDecl:
				if decl.Recv == nil {
					if err := declare(decl.Name, "a func"); err != nil {
						return err
					}
				}
			case *ast.GenDecl:
				for _, spec := range decl.Specs {
					switch spec := spec.(type) {
					case *ast.TypeSpec:
						if err := declare(spec.Name, "a type"); err != nil {
							return err
						}
					case *ast.ValueSpec:
						for _, id := range spec.Names {
							if err := declare(id, "a "+decl.Tok.String()); err != nil {
								return err
							}
						}
					}
				}
			}
		}
	}
	for _, name := range generatedImports {
		if _, ok := imports[name]; !ok {
			imports[name] = use{"an import", "kgen.gen.go"}
		}
	}
	ids := slices.Sorted(maps.Keys(decls))
	for _, id := range ids {
		if imp, ok := imports[id]; ok {
			return clash(id, decls[id], imp)
		}
	}
	return nil
}

// New renders the project for an extension of kind named name, writes it
// to dir (created if needed; it must not hold anything yet) and, unless
// opts.SkipTidy, runs `go mod tidy` there. It returns the paths written,
// slash-separated and relative to dir. On error, nothing is left behind:
// whatever New wrote is removed again.
func New(kind sdk.Kind, name, dir string, opts Options) ([]string, error) {
	files, err := Render(kind, name, opts)
	if err != nil {
		return nil, err
	}
	written, err := write(dir, files, !opts.SkipTidy)
	if err != nil {
		return nil, fmt.Errorf("new %s %q: %w", kind, name, err)
	}
	return written, nil
}

func write(dir string, files []File, tidy bool) (written []string, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return nil, fmt.Errorf("%q is not empty", dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	undo, err := makeDir(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			undo()
		}
	}()
	// The project's files are the user's once written: never replace one.
	out := &gen.DirOutput{CreateOnly: true}
	for _, f := range files {
		if err := out.WriteFile(filepath.Join(dir, filepath.FromSlash(f.Path)), f.Data); err != nil {
			return nil, err
		}
		written = append(written, f.Path)
	}
	if !tidy {
		return written, nil
	}
	if err := goModTidy(dir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "go.sum")); err == nil {
		written = append(written, "go.sum")
		slices.Sort(written)
	}
	return written, nil
}

// makeDir creates dir if it does not exist and returns how to remove what
// New put there: the topmost folder it created, or the contents of a folder
// that existed (and was empty).
func makeDir(dir string) (undo func(), err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	created := ""
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		created = d
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, err
	}
	if created != "" {
		return func() { os.RemoveAll(created) }, nil
	}
	return func() {
		entries, _ := os.ReadDir(abs)
		for _, e := range entries {
			os.RemoveAll(filepath.Join(abs, e.Name()))
		}
	}, nil
}

// goModTidy completes go.mod and writes go.sum. GOFLAGS is cleared (a -mod
// flag would stop tidy) and GOWORK is off (a workspace around dir would
// make tidy refuse).
func goModTidy(dir string) error {
	cmd := exec.Command("go", "mod", "tidy")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if msg := strings.TrimSpace(string(out)); msg != "" {
			return fmt.Errorf("go mod tidy: %s", msg)
		}
		return fmt.Errorf("go mod tidy: %w", err)
	}
	return nil
}
