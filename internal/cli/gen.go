package cli

import (
	"flag"
	"fmt"

	"github.com/kgen-dev/kgen/gen"
)

var genCmd = &command{
	name:    "gen",
	args:    "[-check | -clean] [-v] [packages]",
	summary: "generate plugin wrappers and metadata from //kgen: markers",
	help: `
Gen reads the packages (default ".", patterns like ./... allowed), finds the
//kgen:function, //kgen:source and //kgen:sink markers and writes, per
package, kgen.gen.go (the sdk adapters, the exported constructors and their
registration) and, per plugin, <name>.json (metadata) and, per source,
<name>.yaml (default configuration). Files are only rewritten when their
bytes change; generated files no plugin produces any more are removed.

A marker error, an unsupported type or a name collision is reported with
its position and nothing is written.

With -check, nothing is written: the stale, missing and orphaned files are
listed and gen exits with status 1 if there are any. With -clean, every
file carrying kgen's header in the packages' folders is removed.

In a package, use it with go generate:

	//go:generate go run github.com/kgen-dev/kgen/cmd/kgen gen

or, with "tool github.com/kgen-dev/kgen/cmd/kgen" in go.mod, "go tool kgen gen".`,
	example: `
kgen gen
kgen gen ./...
kgen gen -check ./examples/...`,
	setup: func(fs *flag.FlagSet) runFunc {
		check := fs.Bool("check", false, "list stale generated files and fail if there are any; write nothing")
		clean := fs.Bool("clean", false, "remove the generated files")
		verbose := fs.Bool("v", false, "list the files written and removed")
		return func(c *cli, args []string) error {
			if *check && *clean {
				return usageErrorf("-check and -clean exclude each other")
			}
			res, err := gen.Run(gen.Options{Patterns: args, Check: *check, Clean: *clean})
			if err != nil {
				return err
			}
			if *check {
				for _, f := range res.Stale {
					fmt.Fprintln(c.stdout, f)
				}
				if n := len(res.Stale); n > 0 {
					return fmt.Errorf("%d generated file%s stale; run kgen gen", n, map[bool]string{true: " is", false: "s are"}[n == 1])
				}
				return nil
			}
			if *verbose {
				for _, f := range res.Written {
					fmt.Fprintln(c.stdout, "wrote", f)
				}
				for _, f := range res.Removed {
					fmt.Fprintln(c.stdout, "removed", f)
				}
			}
			return nil
		}
	},
}
