package markers

import (
	"fmt"
	"path/filepath"

	"github.com/kgen-dev/kgen/gen"
)

// Generate emits the files of every package with plugins into out: nothing
// is written unless every package generates without error.
func Generate(pkgs []*Package, out gen.Output) error {
	files := map[string][]byte{}
	var errs ErrorList
	for _, p := range pkgs {
		if p.Empty() {
			continue
		}
		fs, err := generatePackage(p)
		if err != nil {
			if l, ok := err.(ErrorList); ok {
				errs = append(errs, l...)
				continue
			}
			return fmt.Errorf("package %s: %w", p.Path, err)
		}
		for name, data := range fs {
			files[filepath.Join(p.Dir, name)] = data
		}
	}
	if err := errs.err(); err != nil {
		return err
	}
	return gen.WriteFiles(out, files)
}

// generatePackage returns the files of one package by base name.
func generatePackage(p *Package) (map[string][]byte, error) {
	goFile, err := emitGo(p)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{GoFileName: goFile}
	if err := addMetadata(p, files); err != nil {
		return nil, err
	}
	return files, nil
}
