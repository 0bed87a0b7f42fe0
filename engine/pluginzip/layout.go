package pluginzip

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/kgen-dev/kgen/internal/fserr"
	"github.com/kgen-dev/kgen/internal/layout"
	"github.com/kgen-dev/kgen/sdk"
)

// installed names where an installed plugin's files live.
type installed struct {
	root string
	kind sdk.Kind
	name string
}

func (l installed) soDir() string    { return layout.Root(l.root).Plugins(l.kind) }
func (l installed) etcDir() string   { return layout.Root(l.root).PluginDir(l.kind, l.name) }
func (l installed) jsonFile() string { return layout.Root(l.root).PluginMetaFile(l.kind, l.name) }
func (l installed) yamlFile() string { return layout.Root(l.root).SourceConf(l.name) }

// rel returns p relative to the root, with slashes.
func (l installed) rel(p string) string {
	r, err := filepath.Rel(l.root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

// sos lists the .so files in plugins/<type>/ that belong to the plugin
// (any spelling, any version), sorted.
func (l installed) sos() ([]string, error) {
	entries, err := os.ReadDir(l.soDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if n, _, err := sdk.ParsePluginFileName(e.Name()); err == nil && n == l.name && !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Find reports whether the plugin name of the given kind is installed under
// root, with its .so file name and version. With several versions
// installed, it reports the newest.
func Find(root string, kind sdk.Kind, name string) (file, version string, ok bool, err error) {
	if err := sdk.ValidateName(name); err != nil {
		return "", "", false, err
	}
	sos, err := installed{root, kind, name}.sos()
	if err != nil || len(sos) == 0 {
		return "", "", false, err
	}
	for _, f := range sos {
		_, v, _ := sdk.ParsePluginFileName(f)
		if file == "" || sdk.CompareVersions(v, version) > 0 {
			file, version = f, v
		}
	}
	return file, version, true, nil
}

// Delete removes every file Install placed for the plugin: its .so files,
// metadata, source yaml and etc folder. It returns the removed paths
// relative to root, sorted; an error matching fs.ErrNotExist when no .so of the plugin is
// installed (so a built-in source's yaml is never touched).
func Delete(root string, kind sdk.Kind, name string) ([]string, error) {
	if err := sdk.ValidateName(name); err != nil {
		return nil, err
	}
	l := installed{root, kind, name}
	sos, err := l.sos()
	if err != nil {
		return nil, fmt.Errorf("delete %s plugin %q: %w", kind.Dir(), name, err)
	}
	if len(sos) == 0 {
		return nil, fserr.Errorf(fserr.NotFound, "%s plugin %q is not installed", kind.Dir(), name)
	}
	// The .so files go first: without them, a restart loads nothing.
	var paths []string
	for _, so := range sos {
		paths = append(paths, filepath.Join(l.soDir(), so))
	}
	paths = append(paths, l.jsonFile(), l.etcDir())
	if kind == sdk.KindSource {
		paths = append(paths, l.yamlFile())
	}
	var removed []string
	var errs []error
	for _, p := range paths {
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, l.rel(p))
	}
	slices.Sort(removed)
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("delete %s plugin %q: %w", kind.Dir(), name, err)
	}
	return removed, nil
}
