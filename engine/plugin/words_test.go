package plugin

import "github.com/kgen-dev/kgen/sdk"

// words is the function BenchmarkPluginCall calls three ways: the .so
// fixture is built from this file's own text, so both are the same code.

type words struct{}

func (words) Validate([]sdk.Arg) error { return nil }
func (words) Exec(_ sdk.FunctionContext, args []any) (any, bool) {
	s, _ := args[0].(string)
	return countWords(s), true
}
func (words) IsAggregate() bool { return false }

func countWords(s string) int64 {
	n, in := int64(0), false
	for i := 0; i < len(s); i++ {
		sp := s[i] == ' '
		if !sp && !in {
			n++
		}
		in = !sp
	}
	return n
}
