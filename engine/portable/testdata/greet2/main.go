// Command greet2 is version 2 of the greet example plugin, for the
// reinstall tests: greet(name) returns "hello again, <name>"; seen and pid
// are greet's.
package main

import (
	"fmt"

	"github.com/kgen-dev/kgen/examples/portable/greet/greetfn"
	"github.com/kgen-dev/kgen/portable"
	"github.com/kgen-dev/kgen/sdk"
)

type greet struct{ greetfn.Greet }

func (greet) Exec(_ sdk.FunctionContext, args []any) (any, bool) {
	name, ok := args[0].(string)
	if !ok {
		return fmt.Errorf("greet: argument 1 (name): want string, got %T", args[0]), false
	}
	return "hello again, " + name, true
}

func main() {
	sdk.RegisterFunction("greet", func() sdk.Function { return greet{} })
	sdk.RegisterFunction("seen", func() sdk.Function { return greetfn.Seen{} })
	sdk.RegisterFunction("pid", func() sdk.Function { return greetfn.Pid{} })
	portable.Serve()
}
