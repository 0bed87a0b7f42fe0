// Package greetfn holds the functions of the greet portable plugin, so
// that they can also be compiled in (the benchmark compares the two).
package greetfn

import (
	"fmt"
	"os"

	"github.com/kgen-dev/kgen/sdk"
)

// Greet returns "hello, <name>".
type Greet struct{}

func (Greet) Validate(args []sdk.Arg) error { return sdk.CheckArgCount("greet", args, 1, 1) }
func (Greet) IsAggregate() bool             { return false }
func (Greet) Exec(_ sdk.FunctionContext, args []any) (any, bool) {
	name, ok := args[0].(string)
	if !ok {
		return fmt.Errorf("greet: argument 1 (name): want string, got %T", args[0]), false
	}
	return "hello, " + name, true
}

// Seen counts the calls per key in the state.
type Seen struct{}

func (Seen) Validate(args []sdk.Arg) error { return sdk.CheckArgCount("seen", args, 1, 1) }
func (Seen) IsAggregate() bool             { return false }
func (Seen) Exec(ctx sdk.FunctionContext, args []any) (any, bool) {
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

// Pid returns the process id.
type Pid struct{}

func (Pid) Validate(args []sdk.Arg) error               { return sdk.CheckArgCount("pid", args, 0, 0) }
func (Pid) IsAggregate() bool                           { return false }
func (Pid) Exec(sdk.FunctionContext, []any) (any, bool) { return os.Getpid(), true }

// Register registers the functions as greet, seen and pid.
func Register() {
	sdk.RegisterFunction("greet", func() sdk.Function { return Greet{} })
	sdk.RegisterFunction("seen", func() sdk.Function { return Seen{} })
	sdk.RegisterFunction("pid", func() sdk.Function { return Pid{} })
}
