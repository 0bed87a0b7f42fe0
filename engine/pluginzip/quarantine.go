package pluginzip

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kgen-dev/kgen/internal/layout"
	"github.com/kgen-dev/kgen/sdk"
)

// QuarantineDir is the folder, under the root's plugins/, that Quarantine
// moves plugins that fail to load into.
const QuarantineDir = ".quarantine"

// Quarantine moves an installed plugin file that failed to load out of the
// way, so that the engine starts without it:
//
//	plugins/.quarantine/<type>/<name>-<UTC time>/
//		plugins/<type>/Name.so      the file, at its path under the root
//		plugins/<type>/.<name>.installed.json, etc/<type>/<name>.json
//		                            the install's manifest and metadata,
//		                            unless another .so of the plugin stays
//		reason.txt                  why
//
// The plugin's configuration (etc/sources/<name>.yaml, etc/<type>/<name>/)
// stays where it is, as a delete leaves it: a later install keeps it. To
// take the plugin back, fix what reason.txt says and install it again (or
// move the files back). Quarantine returns the folder, relative to the
// root, with slashes.
func Quarantine(root string, kind sdk.Kind, name, file, reason string, now time.Time) (string, error) {
	if err := sdk.ValidateName(name); err != nil {
		return "", err
	}
	l := installed{root: root, kind: kind, name: name}
	base := filepath.Join(root, layout.PluginsDir, QuarantineDir, kind.Dir())
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("quarantine %s plugin %q: %w", kind.Dir(), name, err)
	}
	stamp := now.UTC().Format("20060102T150405Z")
	dir := filepath.Join(base, name+"-"+stamp)
	for i := 2; ; i++ {
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("quarantine %s plugin %q: %w", kind.Dir(), name, err)
		}
		dir = filepath.Join(base, fmt.Sprintf("%s-%s-%d", name, stamp, i))
	}
	if err := os.WriteFile(filepath.Join(dir, "reason.txt"), []byte(reason+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("quarantine %s plugin %q: %w", kind.Dir(), name, err)
	}
	moveAside := func(p string) error {
		to := filepath.Join(dir, filepath.FromSlash(l.rel(p)))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		return os.Rename(p, to)
	}
	if err := moveAside(file); err != nil {
		return "", fmt.Errorf("quarantine %s plugin %q: %w", kind.Dir(), name, err)
	}
	// The manifest and metadata belong to the plugin as a whole: they go
	// with its last .so, so that installing it again finds no leftovers.
	if sos, err := l.sos(); err == nil && len(sos) == 0 {
		for _, p := range []string{l.manifestFile(), l.jsonFile()} {
			if _, err := os.Lstat(p); err == nil {
				if err := moveAside(p); err != nil {
					return "", fmt.Errorf("quarantine %s plugin %q: %w", kind.Dir(), name, err)
				}
			}
		}
	}
	return l.rel(dir), nil
}

// Quarantined is a plugin file Quarantine moved aside.
type Quarantined struct {
	Kind sdk.Kind
	Name string
	// Dir is the quarantine folder, relative to the root, with slashes.
	Dir string
	// File is the path the .so had under the root, "" when the folder
	// holds none; Reason is the text of reason.txt.
	File, Reason string
}

// ListQuarantined lists the quarantine folders of a kind under root,
// oldest first.
func ListQuarantined(root string, kind sdk.Kind) ([]Quarantined, error) {
	base := filepath.Join(root, layout.PluginsDir, QuarantineDir, kind.Dir())
	entries, err := os.ReadDir(base)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Quarantined
	for _, e := range entries {
		name, _, ok := strings.Cut(e.Name(), "-")
		if !e.IsDir() || !ok || sdk.ValidateName(name) != nil {
			continue
		}
		l := installed{root: root, kind: kind, name: name}
		dir := filepath.Join(base, e.Name())
		q := Quarantined{Kind: kind, Name: name, Dir: l.rel(dir)}
		reason, _ := os.ReadFile(filepath.Join(dir, "reason.txt"))
		q.Reason = strings.TrimSpace(string(reason))
		sos, _ := filepath.Glob(filepath.Join(dir, layout.PluginsDir, kind.Dir(), "*.so"))
		if len(sos) > 0 {
			q.File = filepath.Join(l.soDir(), filepath.Base(sos[0]))
		}
		out = append(out, q)
	}
	return out, nil
}

// removeQuarantined removes the quarantine folders of a plugin and returns
// them, relative to the root.
func removeQuarantined(l installed) ([]string, error) {
	qs, err := ListQuarantined(l.root, l.kind)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, q := range qs {
		if q.Name != l.name {
			continue
		}
		if err := os.RemoveAll(filepath.Join(l.root, filepath.FromSlash(q.Dir))); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, q.Dir)
	}
	return removed, errors.Join(errs...)
}
