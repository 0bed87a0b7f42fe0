package gobuild

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/kgen-dev/kgen/engine/api"
)

// Target is the engine a plugin is built for.
type Target struct {
	// Info is the engine's build info.
	Info *debug.BuildInfo
	// File is the engine binary Info came from, when there is one: a built
	// plugin's package hashes are then checked against it too.
	File string
}

// ReadTarget reads the build info of the engine a plugin is for: from a
// running engine when engine is a URL (its GET /version), from an engine
// binary when it is a file name, and from this binary when it is "".
func ReadTarget(ctx context.Context, engine string) (*Target, error) {
	if engine == "" {
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			return nil, errors.New("this kgen binary has no build information; use -engine")
		}
		exe, _ := os.Executable()
		return &Target{Info: bi, File: exe}, nil
	}
	if strings.Contains(engine, "://") {
		cl, err := api.NewClient(engine, nil)
		if err != nil {
			return nil, err
		}
		info, err := cl.Version(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the build info of %s: %w", engine, err)
		}
		return &Target{Info: debugBuildInfo(info)}, nil
	}
	bi, err := buildinfo.ReadFile(engine)
	if err != nil {
		return nil, fmt.Errorf("read the build info of %s: %w", engine, err)
	}
	return &Target{Info: bi, File: engine}, nil
}

// debugBuildInfo converts GET /version back to the go command's shape.
func debugBuildInfo(bi *api.BuildInfo) *debug.BuildInfo {
	out := &debug.BuildInfo{GoVersion: bi.GoVersion, Path: bi.Path, Main: *debugModule(&bi.Main)}
	for _, d := range bi.Deps {
		out.Deps = append(out.Deps, debugModule(&d))
	}
	for _, k := range slices.Sorted(maps.Keys(bi.Settings)) {
		out.Settings = append(out.Settings, debug.BuildSetting{Key: k, Value: bi.Settings[k]})
	}
	return out
}

func debugModule(m *api.Module) *debug.Module {
	out := &debug.Module{Path: m.Path, Version: m.Version, Sum: m.Sum}
	if m.Replace != nil {
		out.Replace = debugModule(m.Replace)
	}
	return out
}
