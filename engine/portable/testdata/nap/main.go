// Command nap is a portable plugin whose function nap(ms) sleeps that many
// milliseconds and returns them: a plugin slow to answer a call.
package main

import (
	"fmt"
	"time"

	"github.com/kgen-dev/kgen/portable"
	"github.com/kgen-dev/kgen/sdk"
)

type nap struct{}

func (nap) Validate(args []sdk.Arg) error { return sdk.CheckArgCount("nap", args, 1, 1) }
func (nap) IsAggregate() bool             { return false }
func (nap) Exec(_ sdk.FunctionContext, args []any) (any, bool) {
	ms, ok := args[0].(int64)
	if !ok {
		return fmt.Errorf("nap: argument 1 (ms): want int64, got %T", args[0]), false
	}
	time.Sleep(time.Duration(ms) * time.Millisecond)
	return ms, true
}

func main() {
	sdk.RegisterFunction("nap", func() sdk.Function { return nap{} })
	portable.Serve()
}
