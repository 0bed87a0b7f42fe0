package gobuild

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kgen-dev/kgen/gen"
	"github.com/kgen-dev/kgen/internal/atomicfile"
)

// workspace is the Go workspace a build runs in: a go.work file and the
// go.work.sum beside it. Every build uses one, so that the modules of the
// plugin packages (not the generated main module) decide the versions.
type workspace struct {
	goVersion string   // the go line, like "1.26.0"
	use       []string // module folders, absolute
	replace   []string // "path => path version"
	sum       []byte   // go.work.sum; nil for none
}

// write writes go.work (and go.work.sum) to dir, leaving files that are
// already the same untouched, and returns the go.work path.
func (w *workspace) write(dir string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "go %s\n\nuse (\n", w.goVersion)
	use := slices.Clone(w.use)
	slices.Sort(use)
	for _, u := range slices.Compact(use) {
		fmt.Fprintf(&b, "\t%s\n", strconv.Quote(u))
	}
	b.WriteString(")\n")
	if len(w.replace) > 0 {
		b.WriteString("\nreplace (\n")
		for _, r := range w.replace {
			fmt.Fprintf(&b, "\t%s\n", r)
		}
		b.WriteString(")\n")
	}
	path := filepath.Join(dir, "go.work")
	if _, err := atomicfile.WriteIfChanged(path, []byte(b.String())); err != nil {
		return "", err
	}
	if w.sum != nil {
		if _, err := atomicfile.WriteIfChanged(path+".sum", w.sum); err != nil {
			return "", err
		}
	}
	return path, nil
}

// mainModule is a generated main module: the main package the go command
// builds, which imports the plugin packages, and its go.mod.
type mainModule struct {
	path      string // module path
	goVersion string // the go line
	// doc says what the command is; the doc comment is "Command <doc>.".
	doc string
	// imports are the import groups, each a list of specs like
	// `_ "example.com/a"`, separated by a blank line.
	imports [][]string
	body    string // the declarations after the imports
}

// source is the main.go of m.
func (m *mainModule) source() string {
	var b strings.Builder
	b.WriteString(gen.Header + "\n\n")
	b.WriteString("// Command " + m.doc + ".\n")
	b.WriteString("package main\n\nimport (\n")
	for i, group := range m.imports {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, spec := range group {
			b.WriteString("\t" + spec + "\n")
		}
	}
	b.WriteString(")\n\n")
	b.WriteString(m.body)
	return b.String()
}

// write writes go.mod and main.go to dir, leaving files that are already
// the same untouched so that the go command sees unchanged inputs.
func (m *mainModule) write(dir string) error {
	files := []struct{ name, text string }{
		{"go.mod", "module " + m.path + "\n\ngo " + m.goVersion + "\n"},
		{"main.go", m.source()},
	}
	for _, f := range files {
		if _, err := atomicfile.WriteIfChanged(filepath.Join(dir, f.name), []byte(f.text)); err != nil {
			return err
		}
	}
	return nil
}

// blankImports are the import specs of packages imported for their init
// functions, which register their extensions.
func blankImports(pkgs []string) []string {
	specs := make([]string, len(pkgs))
	for i, p := range pkgs {
		specs[i] = "_ " + strconv.Quote(p)
	}
	return specs
}

// workDir returns the cache folder kgen/<kind>/<hash of key>, or a
// temporary folder (removed by cleanup) when there is no user cache folder.
// Builds in the cache folder rewrite only what changed, so the go command's
// build cache makes a second build of the same packages quick.
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
