package plugin

import (
	"cmp"
	"runtime/debug"
	"slices"
	"strings"
)

// Diff is one way a plugin's build differs from the host's, with what to do
// about it.
type Diff struct {
	// What differs: "go version", "setting -tags", "module golang.org/x/text".
	What string
	// Host and Plugin are the two values ("" when absent on that side).
	Host, Plugin string
	// Fix says how to make them match.
	Fix string
}

func (d Diff) String() string {
	return d.What + ": engine " + orNone(d.Host) + ", plugin " + orNone(d.Plugin) + "; " + d.Fix
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// settings are the build settings that change compiled packages, so a
// plugin must match the host in each. Settings the plugin build sets on its
// own (-buildmode) or that only affect linking (-ldflags) are not compared.
var settings = []string{
	"-asan", "-compiler", "-gcflags", "-msan", "-race", "-tags", "-trimpath",
	"CGO_ENABLED", "GO386", "GOAMD64", "GOARCH", "GOARM", "GOARM64", "GOEXPERIMENT",
	"GOMIPS", "GOMIPS64", "GOOS", "GOPPC64", "GORISCV64", "GOWASM",
}

// settingDefaults are the values an absent setting stands for.
var settingDefaults = map[string]string{"-asan": "false", "-msan": "false", "-race": "false", "-trimpath": "false", "-compiler": "gc"}

// Local is the version Compare shows for a module built from a folder: the
// main module of a build from source, or one replaced by a folder.
const Local = "(devel)"

// Compare lists the differences between the host's build and a plugin's
// that would make plugin.Open fail: the Go version, the settings that change
// compiled code, and the version of every module both link. nil means they
// agree. Modules built from a folder on both sides compare equal here (build
// info does not say which folder); the Manager checks their package hashes.
func Compare(host, plugin *debug.BuildInfo) []Diff {
	var diffs []Diff
	if host.GoVersion != plugin.GoVersion {
		diffs = append(diffs, Diff{
			What: "go version", Host: host.GoVersion, Plugin: plugin.GoVersion,
			Fix: "build the plugin with " + host.GoVersion + " (kgen build uses the go command on PATH)",
		})
	}
	hs, ps := settingMap(host), settingMap(plugin)
	for _, k := range settings {
		h, p := hs[k], ps[k]
		if d := settingDefaults[k]; d != "" {
			h, p = cmp.Or(h, d), cmp.Or(p, d)
		}
		if h == p {
			continue
		}
		diffs = append(diffs, Diff{
			What: "setting " + k, Host: h, Plugin: p,
			Fix: "build the plugin with kgen build, or with " + settingFlag(k, h),
		})
	}
	hm, pm := modules(host), modules(plugin)
	paths := make([]string, 0, len(hm))
	for path := range hm {
		if _, ok := pm[path]; ok {
			paths = append(paths, path)
		}
	}
	slices.Sort(paths)
	for _, path := range paths {
		h, p := hm[path], pm[path]
		if h.version == p.version && (h.sum == "" || p.sum == "" || h.sum == p.sum) {
			continue
		}
		d := Diff{What: "module " + path, Host: h.version, Plugin: p.version}
		switch {
		case h.version == p.version:
			d.Host, d.Plugin = h.version+" "+h.sum, p.version+" "+p.sum
			d.Fix = "clean the module cache entry of " + path + " " + h.version + " or build the plugin with kgen build"
		case h.version == Local:
			d.Fix = "the engine was built from a source folder of " + path + "; build the plugin with kgen build against that folder (replace " + path + " => <folder>)"
		case p.version == Local:
			d.Fix = "the engine uses " + path + " " + h.version + "; build the plugin with kgen build, or drop the replace and require " + path + " " + h.version
		default:
			d.Fix = "build the plugin with kgen build, or require " + path + " " + h.version
		}
		diffs = append(diffs, d)
	}
	return diffs
}

// CodeSettings returns the settings of bi that change compiled code, the
// ones Compare checks, in a fixed order: a plugin build for a host passes
// each on to the go command.
func CodeSettings(bi *debug.BuildInfo) []debug.BuildSetting {
	m := settingMap(bi)
	var out []debug.BuildSetting
	for _, k := range settings {
		if v, ok := m[k]; ok {
			out = append(out, debug.BuildSetting{Key: k, Value: v})
		}
	}
	return out
}

// ModuleVersions maps the module paths of a build (main module included)
// to the version Compare compares: the replacement's when replaced ("path
// version" when by another module), Local for a folder.
func ModuleVersions(bi *debug.BuildInfo) map[string]string {
	out := map[string]string{}
	for path, v := range modules(bi) {
		out[path] = v.version
	}
	return out
}

func settingMap(bi *debug.BuildInfo) map[string]string {
	m := make(map[string]string, len(bi.Settings))
	for _, s := range bi.Settings {
		m[s.Key] = s.Value
	}
	return m
}

// settingFlag is how to ask the go command for setting k = v.
func settingFlag(k, v string) string {
	if strings.HasPrefix(k, "-") {
		switch v {
		case "true":
			return k
		case "false":
			return "no " + k
		case "":
			return "no " + k
		}
		return k + "=" + quoteFlag(v)
	}
	return k + "=" + v
}

func quoteFlag(v string) string {
	if strings.ContainsAny(v, " \t'\"") {
		return "'" + v + "'"
	}
	return v
}

type modVersion struct{ version, sum string }

// modules maps the module paths of a build (main module included) to their
// effective version: the replacement's when replaced, Local for a folder.
func modules(bi *debug.BuildInfo) map[string]modVersion {
	m := make(map[string]modVersion, len(bi.Deps)+1)
	add := func(mod *debug.Module) {
		if mod == nil || mod.Path == "" {
			return
		}
		v := modVersion{version: mod.Version, sum: mod.Sum}
		if r := mod.Replace; r != nil {
			v = modVersion{version: r.Version, sum: r.Sum}
			if r.Version == Local {
				v.version = ""
			}
			if r.Path != mod.Path && v.version != "" {
				v.version = r.Path + " " + r.Version
			}
		}
		if v.version == "" || v.version == Local {
			v = modVersion{version: Local}
		}
		m[mod.Path] = v
	}
	add(&bi.Main)
	for _, d := range bi.Deps {
		add(d)
	}
	return m
}
