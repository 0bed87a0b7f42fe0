package gobuild

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/kgen-dev/kgen/engine/plugin"
	"github.com/kgen-dev/kgen/internal/kgenmod"
)

// This file aligns a plugin build with the engine's build fingerprint: the
// Go toolchain, the build settings that change compiled code, and the
// version of every module both link. engine/plugin says what must match
// (Compare); this says how to ask the go command for it.

// checkToolchain refuses a go command of another version than the
// engine's: GOTOOLCHAIN downloads are not an option offline.
func checkToolchain(goVersion string, target *debug.BuildInfo) error {
	if goVersion == target.GoVersion {
		return nil
	}
	return &BuildError{Why: "build plugin: cannot align the build with the engine:", Diffs: []plugin.Diff{{
		What: "go version", Host: target.GoVersion, Plugin: goVersion,
		Fix: "put " + target.GoVersion + " first on PATH (or build the engine with " + goVersion + ")",
	}}}
}

// goLine is the go line of a workspace for a toolchain version:
// "go1.26.8 X:foo" is 1.26.8.
func goLine(goVersion string) string {
	v := strings.TrimPrefix(goVersion, "go")
	if i := strings.IndexAny(v, " -+"); i > 0 {
		v = v[:i]
	}
	return v
}

// buildSettings turns the engine's build settings into the go command's
// environment and flags.
func buildSettings(target *debug.BuildInfo) (env, flags []string) {
	cgo := false
	for _, s := range plugin.CodeSettings(target) {
		k, v := s.Key, s.Value
		switch {
		case !strings.HasPrefix(k, "-"):
			env = append(env, k+"="+v)
			cgo = cgo || k == "CGO_ENABLED"
		case v == "true":
			flags = append(flags, k)
		case v == "false" || k == "-compiler":
		default:
			flags = append(flags, k+"="+v)
		}
	}
	if !cgo {
		env = append(env, "CGO_ENABLED=1")
	}
	return env, flags
}

// alignModules compares the plugin module's graph with the modules the
// engine links. It returns the workspace modules to add (kgen's source
// folder, when the engine was built from one: only a workspace module gets
// the same -trimpath file names as the engine's main module) and a replace
// directive per shared module pinning the engine's version (a require could
// lose to a higher one in MVS). step reports each change. A module one side
// takes from a folder and the other does not cannot be aligned: the error
// is a *BuildError.
func alignModules(graph []module, target *debug.BuildInfo, step func(string, ...any)) (use, replaces []string, err error) {
	host := plugin.ModuleVersions(target)
	var diffs []plugin.Diff
	for _, m := range graph {
		if m.Main {
			continue
		}
		h, linked := host[m.Path]
		if !linked {
			continue
		}
		pv := m.Version
		if m.Replace != nil {
			pv = cmp.Or(m.Replace.Version, plugin.Local)
		}
		switch {
		case h == plugin.Local && m.Path == kgenmod.Path && pv == plugin.Local:
			use = append(use, m.Replace.Dir)
			step("\t%s: using the source folder %s, as the engine does", m.Path, m.Replace.Dir)
		case h == plugin.Local:
			diffs = append(diffs, plugin.Diff{What: "module " + m.Path, Host: plugin.Local, Plugin: pv,
				Fix: "the engine was built from a source folder of " + m.Path + "; replace it with that folder in the plugin's go.mod"})
		case pv == plugin.Local:
			diffs = append(diffs, plugin.Diff{What: "module " + m.Path, Host: h, Plugin: plugin.Local,
				Fix: "the plugin's go.mod replaces " + m.Path + " with a folder; drop the replace (the engine uses " + h + ")"})
		case pv != h:
			step("\t%s %s -> %s (the engine's)", m.Path, pv, h)
			fallthrough
		default:
			to := h // "path version" when the engine's is replaced by another path
			if !strings.Contains(to, " ") {
				to = m.Path + " " + to
			}
			replaces = append(replaces, m.Path+" => "+to)
		}
	}
	if len(diffs) > 0 {
		return nil, nil, &BuildError{Why: "build plugin: cannot align the module versions with the engine:", Diffs: diffs}
	}
	return use, replaces, nil
}

// workSum is the go.work.sum of an aligned build: the go.sum of each
// workspace module, and the checksums the engine recorded for the module
// versions it links.
func workSum(use []string, target *debug.BuildInfo) []byte {
	var b strings.Builder
	for _, u := range use {
		if data, err := os.ReadFile(filepath.Join(u, "go.sum")); err == nil {
			b.Write(data)
		}
	}
	for _, d := range target.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		if m.Sum != "" && m.Version != "" {
			fmt.Fprintf(&b, "%s %s %s\n", m.Path, m.Version, m.Sum)
		}
	}
	return []byte(b.String())
}
