package kgencli

import (
	"flag"
	"fmt"
	"runtime"

	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/engine/runner"
)

var versionCmd = &command{
	name:    "version",
	args:    "[-json]",
	summary: "print the kgen, sdk and Go versions",
	help: `
Version prints the version of kgen, of the sdk contract it implements, and
the Go toolchain and platform it was built with; in an engine built with
kgen bundle, also the plugin packages compiled in. -json prints the full build
information instead: build settings and every module with its version and
checksum, the same as GET /version of a running engine.`,
	example: "kgen version",
	setup: func(fs *flag.FlagSet) runFunc {
		asJSON := fs.Bool("json", false, "print the full build information as JSON")
		return func(c *cli, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unexpected argument %q", args[0])
			}
			bi := api.CurrentBuild()
			if *asJSON {
				return c.printJSON(bi, nil)
			}
			fmt.Fprintf(c.stdout, "kgen %s (sdk %s) %s %s/%s\n", bi.KgenVersion, bi.SDKVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			if pkgs := runner.Bundled(); len(pkgs) > 0 {
				fmt.Fprintln(c.stdout, "bundled plugin packages:")
				for _, p := range pkgs {
					fmt.Fprintf(c.stdout, "\t%s\n", p)
				}
			}
			return nil
		}
	},
}
