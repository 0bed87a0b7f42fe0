// Package confine keeps the files that stream, rule and plugin definitions
// name inside the folders the operator allows: the engine root and the
// folders listed under paths.allow in etc/kgen.yaml.
//
// A Policy resolves a path as the connectors always have (relative to a base
// folder, normally the engine root), then follows the symlinks of the part
// that exists, so that a link inside the root that leads out is caught, and
// refuses:
//   - a path whose real location is outside the root and every allowed folder
//     (absolute paths, ".." escapes, symlinks);
//   - the engine's own files inside the root (etc/, plugins/, log/, the
//     stores and the service descriptions in data/), which hold settings,
//     code and secrets, even when an allowed folder holds the whole root;
//     only an allowed folder inside them opens them.
//
// Every error names the path as written and the setting that would allow it.
// The check runs when a stream or rule is created and again when a file is
// opened; a symlink swapped in between those two moments and the open itself
// is not caught (the engine does not use openat2's RESOLVE_BENEATH).
package confine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kgen-dev/kgen/internal/layout"
)

// Setting is the etc/kgen.yaml key that lists the allowed folders.
const Setting = "paths.allow"

// Policy is where definitions may point. The zero value is not usable; use
// New.
type Policy struct {
	root     string   // absolute, as given
	realRoot string   // symlinks resolved
	allow    []string // absolute, symlinks resolved
	reserved []string // the engine's own folders, resolved
	stores   []string // the engine's store files, resolved: their copies too
}

// New makes the policy of an engine root and the folders of paths.allow.
// Every allowed folder must be absolute; it need not exist yet.
func New(root string, allow []string) (*Policy, error) {
	if !filepath.IsAbs(root) {
		return nil, fmt.Errorf("engine root %q: not an absolute path", root)
	}
	p := &Policy{root: filepath.Clean(root)}
	var err error
	if p.realRoot, err = realPath(p.root); err != nil {
		return nil, fmt.Errorf("engine root %s: %w", root, err)
	}
	for i, a := range allow {
		if a == "" || !filepath.IsAbs(a) || strings.ContainsRune(a, 0) {
			return nil, fmt.Errorf("%s[%d]: %q: want an absolute folder path", Setting, i, a)
		}
		real, err := realPath(filepath.Clean(a))
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %q: %w", Setting, i, a, err)
		}
		p.allow = append(p.allow, real)
	}
	l := layout.Root(p.realRoot)
	p.reserved = []string{l.Etc(), filepath.Join(p.realRoot, layout.PluginsDir), l.Log(), l.Services()}
	p.stores = []string{l.StoreFile(), l.StateFile()}
	return p, nil
}

// Root is the engine root the policy was made for.
func (p *Policy) Root() string { return p.root }

// Resolve returns the absolute path of path, relative paths taken from base
// (itself absolute, or relative to the root), or an error that starts with
// what (for example `file sink "path"`) and names the path and the setting
// that would allow it.
func (p *Policy) Resolve(what, base, path string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("%s: empty path", what)
	}
	if strings.ContainsRune(path, 0) {
		return "", fmt.Errorf("%s: %q contains a NUL byte", what, path)
	}
	abs := path
	if !filepath.IsAbs(abs) {
		if base == "" {
			base = p.root
		} else if !filepath.IsAbs(base) {
			base = filepath.Join(p.root, base)
		}
		abs = filepath.Join(base, abs)
	}
	abs = filepath.Clean(abs)
	real, err := realPath(abs)
	if err != nil {
		return "", fmt.Errorf("%s: %q: %w", what, path, err)
	}
	// The engine's own files stay out of reach even when an allowed folder
	// holds the whole root (kgentest allows the script's folder, which holds
	// the root); only an allowed folder inside them opens them.
	for _, r := range p.reserved {
		if within(real, r) && !p.allowedWithin(real, r) {
			return "", p.ownErr(what, path, r)
		}
	}
	// A store's side files and copies (kgen.db-journal, kgen.db.bak) hold
	// what it holds.
	for _, r := range p.stores {
		if strings.HasPrefix(real, r) && !p.allowedWithin(real, filepath.Dir(r)) {
			return "", p.ownErr(what, path, r)
		}
	}
	if within(real, p.realRoot) {
		return abs, nil
	}
	for _, a := range p.allow {
		if within(real, a) {
			return abs, nil
		}
	}
	return "", fmt.Errorf("%s: %q is outside the engine root %s and the paths in etc/kgen.yaml %s",
		what, path, p.root, Setting)
}

func (p *Policy) ownErr(what, path, r string) error {
	rel, _ := filepath.Rel(p.realRoot, r)
	return fmt.Errorf("%s: %q is in the engine's own %s, which definitions may not use unless etc/kgen.yaml %s lists it",
		what, path, filepath.ToSlash(rel), Setting)
}

// allowedWithin reports whether an allowed folder inside (or equal to) the
// reserved r holds real.
func (p *Policy) allowedWithin(real, r string) bool {
	for _, a := range p.allow {
		if within(a, r) && within(real, a) {
			return true
		}
	}
	return false
}

// within reports whether path is dir or under it; both are clean.
func within(path, dir string) bool {
	if path == dir {
		return true
	}
	if !strings.HasSuffix(dir, string(filepath.Separator)) {
		dir += string(filepath.Separator)
	}
	return strings.HasPrefix(path, dir)
}

// maxLinks bounds the symlinks followed, against loops.
const maxLinks = 255

// realPath resolves the symlinks of the longest existing prefix of the clean
// absolute path abs and appends the rest, which does not exist yet and so
// holds no link. A dangling link is followed too, as creating the file would
// create its target.
func realPath(abs string) (string, error) {
	for range maxLinks {
		existing, rest := abs, ""
		for {
			_, err := os.Lstat(existing)
			if err == nil {
				break
			}
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				return "", err
			}
			parent := filepath.Dir(existing)
			if parent == existing {
				return abs, nil // nothing exists, not even the volume
			}
			rest = filepath.Join(filepath.Base(existing), rest)
			existing = parent
		}
		real, err := filepath.EvalSymlinks(existing)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		// existing is a link whose target does not exist: take one step.
		target, rerr := os.Readlink(existing)
		if rerr != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			dir, err := filepath.EvalSymlinks(filepath.Dir(existing))
			if err != nil {
				return "", err
			}
			target = filepath.Join(dir, target)
		}
		abs = filepath.Join(filepath.Clean(target), rest)
	}
	return "", errors.New("too many symbolic links")
}

type ctxKey struct{}

// With returns a context that carries p, for the connectors (From).
func With(ctx context.Context, p *Policy) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the policy ctx carries, or the policy of root with no
// allowed folders when it carries none.
func From(ctx context.Context, root string) (*Policy, error) {
	if p, ok := ctx.Value(ctxKey{}).(*Policy); ok && p != nil {
		return p, nil
	}
	return New(root, nil)
}
