package kgencli

import (
	"flag"
	"fmt"
	"path/filepath"

	"github.com/kgen-dev/kgen/gen/scaffold"
	"github.com/kgen-dev/kgen/sdk"
)

var newCmd = &command{
	name:    "new",
	args:    "[-module PATH] [-kgen DIR] function|source|sink <name> [dir]",
	summary: "create a plugin project: a marked-up example, tests, streams and rules",
	help: `
New creates a plugin project in dir (default ./<name>), which must be empty
or not exist yet: a Go package with an example function, source or sink
under a //kgen: marker, the go:generate line that runs kgen-gen, unit tests,
testscripts under testdata/ (one that starts an engine with the plugin,
publishes and expects rows, one that runs the project with kgen run), the
streams, rules and sample input it runs, and a README. Then it runs
"go mod tidy" there, so that in the new project

	go generate ./... && go test ./...

pass at once. name is the extension's name: the SQL function, the source
type or the sink action (camelCase, a Go identifier). The Go package is
named after it, in lower case.

The project requires the kgen module. When this kgen was built from a
source tree rather than a published version, go.mod gets a replace
directive pointing at that tree: -kgen DIR, else $KGEN_SRC, else the tree
this kgen was built from, if it is still there.`,
	example: `
kgen new function greet
kgen new -module github.com/me/alerts sink alertFile ./alerts`,
	setup: func(fs *flag.FlagSet) runFunc {
		module := fs.String("module", "", "module `PATH` of the new project (default example.com/<name>, lower-cased)")
		kgenDir := fs.String("kgen", "", "build against the kgen source tree in `DIR` (default $KGEN_SRC, else this kgen's source tree)")
		return func(c *cli, args []string) error {
			if len(args) < 2 || len(args) > 3 {
				return usageErrorf("want a kind, a name and optionally a folder, got %d arguments", len(args))
			}
			kind, err := sdk.ParseKind(args[0])
			if err != nil {
				return usageErrorf("%v", err)
			}
			name := args[1]
			dir := name
			if len(args) == 3 {
				dir = args[2]
			}
			files, err := scaffold.New(kind, name, dir, scaffold.Options{Module: *module, KgenDir: *kgenDir})
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintf(c.stdout, "created %s\n", filepath.Join(dir, filepath.FromSlash(f)))
			}
			fmt.Fprintf(c.stdout, "\nNext:\n\n\tcd %s\n\tgo generate ./...   # write kgen.gen.go\n\tgo test ./...       # unit tests and testdata/*.txtar\n\tkgen test           # testdata/*.txtar only\n\tkgen run .          # run rules/ and print their output\n", dir)
			return nil
		}
	},
}
