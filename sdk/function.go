package sdk

import "fmt"

// Function is a SQL function.
type Function interface {
	// Validate is called once when a rule is created, with a description of
	// each argument expression. It reports argument counts and literal types
	// that can never work.
	Validate(args []Arg) error
	// Exec evaluates the function for one row (or, for aggregates, one group).
	// On failure it returns (err, false).
	Exec(ctx FunctionContext, args []any) (any, bool)
	// IsAggregate reports whether the function consumes a group of rows; its
	// arguments are then slices with one element per row.
	IsAggregate() bool
}

// ArgKind says what an argument expression is.
type ArgKind int

const (
	// ArgExpr is any expression that is neither a literal nor a plain field.
	ArgExpr ArgKind = iota
	// ArgLiteral is a constant; Arg.Value holds it.
	ArgLiteral
	// ArgField is a reference to a stream field; Arg.Name holds its name.
	ArgField
	// ArgWildcard is `*` (possibly with EXCEPT) or `self`: the whole row.
	ArgWildcard
)

func (k ArgKind) String() string {
	switch k {
	case ArgLiteral:
		return "literal"
	case ArgField:
		return "field"
	case ArgWildcard:
		return "wildcard"
	default:
		return "expression"
	}
}

// Arg describes one argument of a function call at rule creation, so that
// Validate needs no engine types.
type Arg struct {
	Kind ArgKind
	// Value is the literal's value (string, int64, float64, bool or nil) for
	// ArgLiteral.
	Value any
	// Name is the field name for ArgField.
	Name string
	// Text is the argument's SQL text, for error messages.
	Text string
}

func (a Arg) String() string { return a.Text }

// CheckArgCount is a helper for Validate: it fails unless min <= len(args) <=
// max (max < 0 means no upper bound).
func CheckArgCount(fn string, args []Arg, min, max int) error {
	n := len(args)
	switch {
	case max >= 0 && min == max && n != min:
		return fmt.Errorf("%s: want %d argument%s, got %d", fn, min, plural(min), n)
	case n < min:
		return fmt.Errorf("%s: want at least %d argument%s, got %d", fn, min, plural(min), n)
	case max >= 0 && n > max:
		return fmt.Errorf("%s: want at most %d argument%s, got %d", fn, max, plural(max), n)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
