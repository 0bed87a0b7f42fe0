// Command greet is a portable plugin with three functions, served out of
// process by portable.Serve:
//
//   - greet(name) returns "hello, <name>";
//   - seen(key) counts the calls per key in the engine's state and returns
//     the count so far (state survives plugin restarts);
//   - pid() returns the plugin's process id (tests use it to kill it).
//
// Install it as <root>/plugins/portable/greet/ with the executable and
// greet.json.
package main

import (
	"fmt"
	"os"

	"github.com/kgen-dev/kgen/portable"
	"github.com/kgen-dev/kgen/sdk"
)

type greet struct{}

func (greet) Validate(args []sdk.Arg) error { return sdk.CheckArgCount("greet", args, 1, 1) }
func (greet) IsAggregate() bool             { return false }
func (greet) Exec(_ sdk.FunctionContext, args []any) (any, bool) {
	name, ok := args[0].(string)
	if !ok {
		return fmt.Errorf("greet: argument 1 (name): want string, got %T", args[0]), false
	}
	return "hello, " + name, true
}

type seen struct{}

func (seen) Validate(args []sdk.Arg) error { return sdk.CheckArgCount("seen", args, 1, 1) }
func (seen) IsAggregate() bool             { return false }
func (seen) Exec(ctx sdk.FunctionContext, args []any) (any, bool) {
	key := fmt.Sprint(args[0])
	if err := ctx.IncrCounter(key, 1); err != nil {
		return err, false
	}
	n, err := ctx.GetCounter(key)
	if err != nil {
		return err, false
	}
	return n, true
}

type pid struct{}

func (pid) Validate(args []sdk.Arg) error               { return sdk.CheckArgCount("pid", args, 0, 0) }
func (pid) IsAggregate() bool                           { return false }
func (pid) Exec(sdk.FunctionContext, []any) (any, bool) { return os.Getpid(), true }

func init() {
	sdk.RegisterFunction("greet", func() sdk.Function { return greet{} })
	sdk.RegisterFunction("seen", func() sdk.Function { return seen{} })
	sdk.RegisterFunction("pid", func() sdk.Function { return pid{} })
}

func main() { portable.Serve() }
