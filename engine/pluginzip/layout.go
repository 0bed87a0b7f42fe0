package pluginzip

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kgen-dev/kgen/internal/atomicfile"
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

// manifestFile lists what the install wrote besides the .so; a dot file, so
// that the plugin loader's look at the .json files beside a .so skips it.
func (l installed) manifestFile() string {
	return filepath.Join(l.soDir(), "."+l.name+".installed.json")
}

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

// Deleted describes a delete.
type Deleted struct {
	// Removed are the files removed, relative to the root, with slashes,
	// sorted.
	Removed []string
	// Kept are the plugin's configuration files that stay: those changed
	// or added since the install (or, for a plugin installed without a
	// manifest, its source yaml and etc folder).
	Kept []string
}

// Delete removes the plugin's .so files, its quarantined copies (see
// Quarantine) and the files Install wrote that are unchanged since: its
// metadata, source yaml and etc files. The configuration the user changed
// or added stays (Deleted.Kept), and an install of the plugin later keeps
// it. A plugin installed before Install kept a manifest loses its .so files
// and metadata only. Delete returns an error matching fs.ErrNotExist when
// no .so of the plugin is installed nor quarantined (so a built-in
// source's yaml is never touched).
func Delete(root string, kind sdk.Kind, name string) (*Deleted, error) {
	if err := sdk.ValidateName(name); err != nil {
		return nil, err
	}
	l := installed{root, kind, name}
	sos, err := l.sos()
	if err != nil {
		return nil, fmt.Errorf("delete %s plugin %q: %w", kind.Dir(), name, err)
	}
	// Copies Quarantine moved aside go too.
	quarantined, err := removeQuarantined(l)
	if err != nil {
		return nil, fmt.Errorf("delete %s plugin %q: %w", kind.Dir(), name, err)
	}
	if len(sos) == 0 {
		if len(quarantined) > 0 {
			return &Deleted{Removed: quarantined}, nil
		}
		return nil, fserr.Errorf(fserr.NotFound, "%s plugin %q is not installed", kind.Dir(), name)
	}
	man, err := readManifest(l)
	if err != nil {
		return nil, fmt.Errorf("delete %s plugin %q: %w", kind.Dir(), name, err)
	}
	out := &Deleted{Removed: quarantined}
	var errs []error
	remove := func(p string) {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		} else if err == nil {
			out.Removed = append(out.Removed, l.rel(p))
		}
	}
	// The .so files go first: without them, a restart loads nothing.
	for _, so := range sos {
		remove(filepath.Join(l.soDir(), so))
	}
	if man == nil {
		remove(l.jsonFile())
		for _, p := range []string{l.yamlFile(), l.etcDir()} {
			if _, err := os.Lstat(p); err == nil && (kind == sdk.KindSource || p != l.yamlFile()) {
				out.Kept = append(out.Kept, l.rel(p))
			}
		}
	} else {
		for _, rel := range slices.Sorted(maps.Keys(man.Files)) {
			p := filepath.Join(root, filepath.FromSlash(rel))
			sum, err := atomicfile.SHA256(p)
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil:
				errs = append(errs, err)
			case sum == man.Files[rel]:
				remove(p)
			default:
				out.Kept = append(out.Kept, rel)
			}
		}
		// What the user wrote stays too: a source yaml the install kept,
		// and files added to the plugin's etc folder.
		if rel := l.rel(l.yamlFile()); kind == sdk.KindSource && man.Files[rel] == "" {
			if _, err := os.Lstat(l.yamlFile()); err == nil {
				out.Kept = append(out.Kept, rel)
			}
		}
		filepath.WalkDir(l.etcDir(), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if rel := l.rel(p); man.Files[rel] == "" {
					out.Kept = append(out.Kept, rel)
				}
			}
			return nil
		})
		removeEmptyDirs(l.etcDir())
		remove(l.manifestFile())
		out.Removed = slices.DeleteFunc(out.Removed, func(p string) bool { return p == l.rel(l.manifestFile()) })
	}
	slices.Sort(out.Removed)
	slices.Sort(out.Kept)
	out.Kept = slices.Compact(out.Kept)
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("delete %s plugin %q: %w", kind.Dir(), name, err)
	}
	return out, nil
}

// removeEmptyDirs removes dir and the folders under it that hold no files.
func removeEmptyDirs(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() {
			removeEmptyDirs(filepath.Join(dir, e.Name()))
		}
	}
	os.Remove(dir) // fails, as wanted, when something is left
}

// manifest is what an install wrote besides the .so: sha256 by path
// relative to the root.
type manifest struct {
	Files map[string]string `json:"files"`
}

func newManifest(l installed, moves []move) (*manifest, error) {
	m := &manifest{Files: map[string]string{}}
	for _, mv := range moves {
		if strings.HasSuffix(mv.to, ".so") && filepath.Dir(mv.to) == l.soDir() {
			continue
		}
		err := filepath.WalkDir(mv.from, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(mv.from, p)
			if err != nil {
				return err
			}
			sum, err := atomicfile.SHA256(p)
			if err != nil {
				return err
			}
			m.Files[l.rel(filepath.Join(mv.to, rel))] = sum
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *manifest) write(l installed) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(l.manifestFile(), append(data, '\n'), 0o644)
}

// readManifest returns nil for a plugin installed without one.
func readManifest(l installed) (*manifest, error) {
	data, err := os.ReadFile(l.manifestFile())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", l.rel(l.manifestFile()), err)
	}
	return &m, nil
}
