package api

import (
	"runtime/debug"
	"sync"

	"github.com/kgen-dev/kgen/internal/kgenmod"
	"github.com/kgen-dev/kgen/sdk"
)

// BuildInfo is how the running engine was built: the body of GET /version.
// A Go plugin only loads into a host built with the same Go version, build
// settings and versions of the modules both use, so this is what plugin
// builds align to.
type BuildInfo struct {
	// GoVersion is the toolchain, e.g. "go1.26.8".
	GoVersion string `json:"goVersion"`
	// Path is the main package, e.g. "github.com/kgen-dev/kgen/cmd/kgen".
	Path string `json:"path"`
	// Main is the main module.
	Main Module `json:"main"`
	// KgenVersion is the version of the kgen module in the binary: the main
	// module's or the dependency's, "(devel)" when built from a source tree.
	KgenVersion string `json:"kgenVersion"`
	SDKVersion  string `json:"sdkVersion"`
	// Settings are the build settings as the go command records them:
	// "-tags", "-trimpath", "-ldflags", "CGO_ENABLED", "GOOS", "GOARCH",
	// "GOAMD64", "vcs.revision", ... A setting that was not used is absent.
	Settings map[string]string `json:"settings"`
	// Deps lists every module linked in, in go.sum order (by path).
	Deps []Module `json:"deps"`
}

// Module is one module of a build.
type Module struct {
	Path    string  `json:"path"`
	Version string  `json:"version"`
	Sum     string  `json:"sum,omitempty"`
	Replace *Module `json:"replace,omitempty"`
}

var current = sync.OnceValue(func() *BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return &BuildInfo{KgenVersion: "(unknown)", SDKVersion: sdk.Version, Settings: map[string]string{}, Deps: []Module{}}
	}
	return NewBuildInfo(bi)
})

// CurrentBuild returns the build info of the running binary.
func CurrentBuild() *BuildInfo { return current() }

// NewBuildInfo converts what debug.ReadBuildInfo or debug/buildinfo.ReadFile
// return. SDKVersion is this package's sdk.Version.
func NewBuildInfo(bi *debug.BuildInfo) *BuildInfo {
	out := &BuildInfo{
		GoVersion:  bi.GoVersion,
		Path:       bi.Path,
		Main:       module(&bi.Main),
		SDKVersion: sdk.Version,
		Settings:   map[string]string{},
		Deps:       make([]Module, 0, len(bi.Deps)),
	}
	for _, s := range bi.Settings {
		out.Settings[s.Key] = s.Value
	}
	for _, d := range bi.Deps {
		out.Deps = append(out.Deps, module(d))
	}
	out.KgenVersion = "(devel)"
	if m := kgenmod.In(bi); m != nil {
		out.KgenVersion = versionOf(m)
	}
	return out
}

func versionOf(m *debug.Module) string {
	if m.Replace != nil || m.Version == "" {
		return "(devel)"
	}
	return m.Version
}

func module(m *debug.Module) Module {
	out := Module{Path: m.Path, Version: m.Version, Sum: m.Sum}
	if m.Replace != nil {
		r := module(m.Replace)
		out.Replace = &r
	}
	return out
}
