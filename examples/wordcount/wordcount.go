// Package wordcount is a function plugin: accumulateWordCount(text, sep)
// adds the number of words in text (split by sep) to a counter kept in the
// extension's state and returns the running total.
package wordcount

import (
	"fmt"
	"strings"

	"github.com/kgen-dev/kgen/sdk"
)

func init() {
	sdk.RegisterFunction("accumulateWordCount", func() sdk.Function { return &accumulateWordCount{} })
}

type accumulateWordCount struct{}

func (*accumulateWordCount) Validate(args []sdk.Arg) error {
	if err := sdk.CheckArgCount("accumulateWordCount", args, 2, 2); err != nil {
		return err
	}
	if a := args[1]; a.Kind == sdk.ArgLiteral {
		if _, ok := a.Value.(string); !ok {
			return fmt.Errorf("accumulateWordCount: argument 2 (sep): want string, got %T", a.Value)
		}
	}
	return nil
}

func (*accumulateWordCount) Exec(ctx sdk.FunctionContext, args []any) (any, bool) {
	text, ok := args[0].(string)
	if !ok {
		return fmt.Errorf("accumulateWordCount: argument 1 (text): want string, got %T", args[0]), false
	}
	sep, ok := args[1].(string)
	if !ok {
		return fmt.Errorf("accumulateWordCount: argument 2 (sep): want string, got %T", args[1]), false
	}
	words := 0
	for _, w := range strings.Split(text, sep) {
		if strings.TrimSpace(w) != "" {
			words++
		}
	}
	if err := ctx.IncrCounter("words", words); err != nil {
		return err, false
	}
	total, err := ctx.GetCounter("words")
	if err != nil {
		return err, false
	}
	return int64(total), true
}

func (*accumulateWordCount) IsAggregate() bool { return false }
