package kgencli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os/exec"
	"slices"
	"strings"
)

const kgentestPath = "github.com/kgen-dev/kgen/kgentest"

var testCmd = &command{
	name:    "test",
	args:    "[-run REGEXP] [-v] [-timeout D] [packages]",
	summary: "run a plugin project's script tests (testdata/*.txtar)",
	help: `
Test runs the script tests of the packages (default ./...): those whose
tests import kgentest, which run testdata/*.txtar with kgentest.Run. It
runs "go test -count=1" on them, in the current folder, so the scripts'
engines have the packages' plugins compiled in. -run picks scripts by name
(TestScripts/<script>) and -v prints every script's log, as with go test.
KGEN_UPDATE=1 rewrites the expected files of the scripts.

The status is go test's: 1 when a script fails.`,
	example: `
kgen test
kgen test -run TestScripts/greet -v ./...
KGEN_UPDATE=1 kgen test`,
	setup: func(fs *flag.FlagSet) runFunc {
		run := fs.String("run", "", "run only the tests and scripts matching `REGEXP`")
		verbose := fs.Bool("v", false, "print the log of every script")
		timeout := fs.Duration("timeout", 0, "fail the test binary after `D` (default: go test's)")
		return func(c *cli, args []string) error {
			if len(args) == 0 {
				args = []string{"./..."}
			}
			for _, a := range args {
				if strings.HasPrefix(a, "-") {
					return usageErrorf("flags go before the packages, got %q", a)
				}
			}
			pkgs, err := scriptPackages(args)
			if err != nil {
				return err
			}
			if len(pkgs) == 0 {
				return fmt.Errorf("test %s: no package tests import %s (call kgentest.Run from a test)", strings.Join(args, " "), kgentestPath)
			}
			goArgs := []string{"test", "-count=1"}
			if *run != "" {
				goArgs = append(goArgs, "-run", *run)
			}
			if *verbose {
				goArgs = append(goArgs, "-v")
			}
			if *timeout > 0 {
				goArgs = append(goArgs, "-timeout", timeout.String())
			}
			cmd := exec.CommandContext(c.ctx, "go", append(goArgs, pkgs...)...)
			cmd.Stdout, cmd.Stderr = c.stdout, c.stderr
			err = cmd.Run()
			var exit *exec.ExitError
			switch {
			case errors.As(err, &exit):
				return quietError{exit.ExitCode()}
			case err != nil:
				return fmt.Errorf("test: go test: %w", err)
			}
			return nil
		}
	},
}

// scriptPackages lists the packages matching patterns whose tests import
// kgentest.
func scriptPackages(patterns []string) ([]string, error) {
	format := `{{.ImportPath}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}`
	var stderr bytes.Buffer
	cmd := exec.Command("go", append([]string{"list", "-f", format}, patterns...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("test %s: list packages: %s", strings.Join(patterns, " "), strings.TrimSpace(stderr.String()))
	}
	var pkgs []string
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) > 1 && slices.Contains(f[1:], kgentestPath) {
			pkgs = append(pkgs, f[0])
		}
	}
	return pkgs, nil
}
