// Command named is a portable plugin whose one function is named by its
// first argument: run as "named p7", it serves p7(x), which returns
// "p7: x". Installed behind scripts that exec it with different names, one
// build makes as many plugins, with functions that do not clash.
package main

import (
	"fmt"
	"os"

	"github.com/kgen-dev/kgen/portable"
	"github.com/kgen-dev/kgen/sdk"
)

type named struct{ name string }

func (f named) Validate(args []sdk.Arg) error { return sdk.CheckArgCount(f.name, args, 1, 1) }
func (named) IsAggregate() bool               { return false }
func (f named) Exec(_ sdk.FunctionContext, args []any) (any, bool) {
	return fmt.Sprintf("%s: %v", f.name, args[0]), true
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: named <function>")
		os.Exit(2)
	}
	name := os.Args[1]
	sdk.RegisterFunction(name, func() sdk.Function { return named{name} })
	portable.Serve()
}
