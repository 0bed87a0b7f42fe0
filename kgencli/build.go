package kgencli

import (
	"flag"
	"fmt"
	"strings"

	"github.com/kgen-dev/kgen/internal/gobuild"
	"github.com/kgen-dev/kgen/internal/layout"
)

var buildCmd = &command{
	name: "build",
	args: `[-engine URL|BINARY] [-o DIR] [-name NAME] [-v] [package]
-portable [-o DIR] [-name NAME] [-version V] [-v] [package]`,
	summary: "build a plugin package into Go plugins (.so) or a portable plugin that the engine will load",
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
straight into an engine's root (loaded at its next start). On a terminal,
a status line on stderr shows how long each go build has run.

With -portable, the package is a portable plugin: a main package whose
main calls portable.Serve (see examples/portable/greet). It is built with
the go command as any program (nothing needs to match the engine) into
<DIR>/portable/<NAME>/, NAME being -name or the package folder's name,
beside its manifest <NAME>.json: the package's own <NAME>.json (eKuiper's
portable manifest), or, without one, a manifest written from the functions
the executable serves, with version -version. The built executable is started once and asked for
its functions: one the manifest lists that it does not serve is an error.
Use -o <engine root>/plugins to build straight into an engine's root
(found at its next start), or kgen pack -portable to zip it for kgen
plugin install portable.`,
	example: `
kgen build ./myplugin
kgen build -engine http://127.0.0.1:9081 -o /var/lib/kgen/plugins .
kgen build -engine ./my-engine -v .
kgen build -portable ./examples/portable/greet`,
	setup: func(fs *flag.FlagSet) runFunc {
		engine := fs.String("engine", "", "the engine to build for: a REST `URL` or a binary (default: this kgen)")
		out := fs.String("o", layout.BuildDir, "the plugins `DIR`: plugins go to DIR/<kind>s/")
		name := fs.String("name", "", "the `NAME` of a plugin with several functions (default: the package name), or of a portable plugin (default: the package folder's name)")
		verbose := fs.Bool("v", false, "print the go commands")
		isPortable := fs.Bool("portable", false, "build a portable plugin (a main package calling portable.Serve) into DIR/portable/<NAME>/")
		version := fs.String("version", "", "-portable: the `V`ersion of a manifest written for a package without one")
		return func(c *cli, args []string) error {
			if len(args) > 1 {
				return usageErrorf("want at most one package, got %d", len(args))
			}
			pkg := "."
			if len(args) == 1 {
				pkg = args[0]
			}
			if *isPortable {
				if *engine != "" {
					return usageErrorf("-engine does not apply to -portable: a portable plugin runs with any engine")
				}
				return buildPortable(c, pkg, *out, *name, *version, *verbose)
			}
			if *version != "" {
				return usageErrorf("-version applies to -portable only")
			}
			target, err := gobuild.ReadTarget(c.ctx, *engine)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "target engine: %s, %s\n", describeEngine(*engine), target.Info.GoVersion)
			built, err := gobuild.Plugin(c.ctx, gobuild.PluginOptions{
				Package: pkg, Target: target, Out: *out, Name: *name,
				Progress: c.stdout, Verbose: *verbose, Status: gobuild.StatusWriter(c.stderr),
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
