package kgencli

import (
	"debug/buildinfo"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/engine/plugin"
)

var buildCmd = &command{
	name:    "build",
	args:    "[-engine URL|BINARY] [-o DIR] [-name NAME] [-v] [package]",
	summary: "build a plugin package into Go plugins (.so) that the engine will load",
	help: `
Build compiles a plugin package (one with kgen-generated code: exported
constructors func Name() sdk.Source, sdk.Sink or sdk.Function) with
-buildmode=plugin into <DIR>/<kind>s/<Name>.so: one file per source and per
sink, one for all the functions (named after the function, or after the
package when there are several, with <name>.json listing them).

A Go plugin only loads into an engine built with the same Go toolchain,
build settings and versions of every module both link. Build reads the
engine's build information - from a running engine (-engine URL, its GET
/version), an engine binary (-engine FILE), or by default this kgen binary,
which contains the engine - and builds to match: the same -tags,
-trimpath, -race, -gcflags, CGO_ENABLED, GOOS, GOARCH and GOAMD64, and the
engine's version of each shared module (each change is printed). When it
cannot match (another Go toolchain, a module the plugin takes from a folder)
it refuses and prints the differences instead of writing a plugin that would
not load. The result is checked again before it is kept.

DIR defaults to build/plugins; use -o <engine root>/plugins to build
straight into an engine's root (loaded at its next start).`,
	example: `
kgen build ./myplugin
kgen build -engine http://127.0.0.1:9081 -o /var/lib/kgen/plugins .
kgen build -engine ./my-engine -v .`,
	setup: func(fs *flag.FlagSet) runFunc {
		engine := fs.String("engine", "", "the engine to build for: a REST `URL` or a binary (default: this kgen)")
		out := fs.String("o", "build/plugins", "the plugins `DIR`: plugins go to DIR/<kind>s/")
		name := fs.String("name", "", "the `NAME` of a plugin with several functions (default: the package name)")
		verbose := fs.Bool("v", false, "print the go commands")
		return func(c *cli, args []string) error {
			if len(args) > 1 {
				return usageErrorf("want at most one package, got %d", len(args))
			}
			pkg := "."
			if len(args) == 1 {
				pkg = args[0]
			}
			target, file, err := engineBuild(c, *engine)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "target engine: %s, %s\n", describeEngine(*engine), target.GoVersion)
			built, err := plugin.Build(c.ctx, plugin.BuildOptions{
				Package: pkg, Target: target, TargetFile: file, Out: *out, Name: *name,
				Progress: c.stdout, Verbose: *verbose,
			})
			for _, b := range built {
				if len(b.Functions) > 0 {
					fmt.Fprintf(c.stdout, "built %s (functions %s)\n", b.File, strings.Join(b.Functions, ", "))
				} else {
					fmt.Fprintf(c.stdout, "built %s\n", b.File)
				}
			}
			return err
		}
	},
}

func describeEngine(engine string) string {
	if engine == "" {
		return "this kgen"
	}
	return engine
}

// engineBuild reads the build info of the target engine, and the binary
// it came from when there is one.
func engineBuild(c *cli, engine string) (*debug.BuildInfo, string, error) {
	if engine == "" {
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			return nil, "", fmt.Errorf("this kgen binary has no build information; use -engine")
		}
		exe, _ := os.Executable()
		return bi, exe, nil
	}
	if strings.Contains(engine, "://") {
		cl, err := api.NewClient(engine, nil)
		if err != nil {
			return nil, "", err
		}
		info, err := cl.Version(c.ctx)
		if err != nil {
			return nil, "", fmt.Errorf("read the build info of %s: %w", engine, err)
		}
		return debugBuildInfo(info), "", nil
	}
	bi, err := buildinfo.ReadFile(engine)
	if err != nil {
		return nil, "", fmt.Errorf("read the build info of %s: %w", engine, err)
	}
	return bi, engine, nil
}

// debugBuildInfo converts GET /version back to the go command's shape.
func debugBuildInfo(bi *api.BuildInfo) *debug.BuildInfo {
	out := &debug.BuildInfo{GoVersion: bi.GoVersion, Path: bi.Path, Main: *debugModule(&bi.Main)}
	for _, d := range bi.Deps {
		out.Deps = append(out.Deps, debugModule(&d))
	}
	keys := make([]string, 0, len(bi.Settings))
	for k := range bi.Settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
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
