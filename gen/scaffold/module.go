package scaffold

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"text/template"
)

// moduleTemplate is the go.mod of generated code that stands alone.
var moduleTemplate = template.Must(template.New("go.mod").Funcs(funcs).Parse(`module {{.Module}}

go {{.GoVersion}}

require github.com/kgen-dev/kgen {{.KgenVersion}}
{{- if .KgenReplace}}

// kgen was not installed from a published version: build against its source.
replace github.com/kgen-dev/kgen => {{modpath .KgenReplace}}
{{- end}}
`))

// Module makes dir, which holds generated Go code (a service server or
// client from kgen gen), the root of the module path that builds on its
// own with go build: it writes dir/go.mod requiring the kgen LocateKgen
// picks (with a replace directive when that is a source tree, kgenDir as
// for -kgen), then runs go mod tidy there, which adds the code's other
// requirements and go.sum. A go.mod already in dir that declares path is
// kept and tidied again; one that declares another module is an error.
func Module(dir, path, kgenDir string) error {
	if err := checkModulePath(path); err != nil {
		return err
	}
	gomod := filepath.Join(dir, "go.mod")
	switch have, err := modulePath(gomod); {
	case err == nil && have != path:
		return fmt.Errorf("%s declares module %q, want %q: remove it or choose another -out", gomod, have, path)
	case err == nil:
		return goModTidy(dir)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	k, err := LocateKgen(kgenDir)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	d := &data{Module: path, GoVersion: GoVersion, KgenVersion: k.Version, KgenReplace: k.Dir}
	if err := moduleTemplate.Execute(&b, d); err != nil {
		return err
	}
	if err := os.WriteFile(gomod, b.Bytes(), 0o644); err != nil {
		return err
	}
	if err := goModTidy(dir); err != nil {
		os.Remove(gomod)
		return fmt.Errorf("%s: %w", gomod, err)
	}
	return nil
}

// CheckModulePath accepts what the go command accepts as the path of a new
// module: slash-separated elements of ASCII letters, digits and "-._~",
// none empty, none starting or ending with a dot.
func CheckModulePath(p string) error { return checkModulePath(p) }
