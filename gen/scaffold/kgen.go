package scaffold

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/kgen-dev/kgen/internal/kgenmod"
)

const (
	// placeholderVersion is what the go command requires for a module that
	// is only available through a replace directive.
	placeholderVersion = "v0.0.0-00010101000000-000000000000"
)

// Kgen is the kgen a new project builds against.
type Kgen struct {
	// Version is the version the project requires.
	Version string
	// Dir is the absolute root of a kgen source tree that a replace
	// directive points at, or "" for a published version.
	Dir string
}

// LocateKgen decides which kgen a new project builds against, in the order
// the package documentation gives. dir is the -kgen flag ("" when unset).
func LocateKgen(dir string) (Kgen, error) {
	if dir != "" {
		return kgenAt(dir, "-kgen")
	}
	if dir := os.Getenv("KGEN_SRC"); dir != "" {
		return kgenAt(dir, "$KGEN_SRC")
	}
	if root := sourceRoot(); root != "" {
		return Kgen{Version: placeholderVersion, Dir: root}, nil
	}
	if v := buildVersion(); v != "" {
		return Kgen{Version: v}, nil
	}
	return Kgen{}, errors.New("cannot tell which kgen to build against: this kgen is a development build whose source tree is gone; " +
		"pass -kgen DIR or set KGEN_SRC to the root of a kgen source tree")
}

// kgenAt checks that dir is the root of a kgen source tree.
func kgenAt(dir, from string) (Kgen, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Kgen{}, fmt.Errorf("%s %q: %w", from, dir, err)
	}
	mod, err := modulePath(filepath.Join(abs, "go.mod"))
	if err != nil {
		return Kgen{}, fmt.Errorf("%s %q: not a kgen source tree: %w", from, dir, err)
	}
	if mod != kgenmod.Path {
		return Kgen{}, fmt.Errorf("%s %q: not a kgen source tree: go.mod declares module %q, want %q", from, dir, mod, kgenmod.Path)
	}
	return Kgen{Version: placeholderVersion, Dir: abs}, nil
}

// sourceRoot returns the root of the kgen source tree this package was
// compiled from, if it is on disk and is not a module cache copy (whose
// folder is named module@version); else "".
func sourceRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) { // -trimpath leaves import paths
		return ""
	}
	for dir := filepath.Dir(file); ; {
		if mod, err := modulePath(filepath.Join(dir, "go.mod")); err == nil {
			if mod != kgenmod.Path || strings.Contains(filepath.Base(dir), "@") {
				return ""
			}
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// buildVersion returns the version of the kgen module this binary was built
// with, if it is one a module proxy can serve; else "".
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	v := ""
	if m := kgenmod.In(bi); m != nil && m.Replace == nil {
		v = m.Version
	}
	if v == "" || v == "(devel)" || strings.HasSuffix(v, "+dirty") {
		return ""
	}
	return v
}

// modulePath reads the module directive of a go.mod file.
func modulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "//")
		fields := strings.Fields(line)
		if len(fields) != 2 || fields[0] != "module" {
			continue
		}
		if p, err := strconv.Unquote(fields[1]); err == nil {
			return p, nil
		}
		return fields[1], nil
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: no module directive", gomod)
}
