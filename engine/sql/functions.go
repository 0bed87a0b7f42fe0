package sql

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kgen-dev/kgen/sdk"
)

// builtin is a function implemented in this package. The compiler checks
// the argument count and the types of constant arguments at compile time,
// and the types of the others at run time, before call sees them.
type builtin struct {
	min, max int // argument count; max < 0: no limit
	// params is the type of each argument; the last repeats.
	params []param
	// nullSafe functions see NULL arguments; for the others any NULL
	// argument makes the result NULL without a call.
	nullSafe bool
	// volatile functions (now, newuuid) give a new value per call, so
	// calls with constant arguments are not folded.
	volatile bool
	call     func(args []any) (any, error)
	// compile, when set, replaces the generic call, for functions that
	// need constant arguments (cast, regexp_matches) or lazy ones
	// (coalesce).
	compile func(s site, args []code) (code, error)
}

// site is a call site, for compile hooks and messages.
type site struct {
	name string // lower-case built-in name
	pos  Pos
}

func (s site) errorf(format string, args ...any) *Error {
	return errorf(s.pos, "function %q: %s", s.name, fmt.Sprintf(format, args...))
}

func (s site) wrap(err error) *Error { return wrapAt(s.pos, fmt.Sprintf("function %q: ", s.name), err) }

// param is the type a built-in wants for an argument. Values of the
// number params arrive as int64 or float64, of intParam as int64.
type param uint8

const (
	anyParam param = iota
	numberParam
	intParam
	stringParam
)

var paramNames = [...]string{anyParam: "any value", numberParam: "number", intParam: "integer", stringParam: "string"}

// check converts v for p, or says why it cannot.
func (p param) check(v any) (any, error) {
	switch p {
	case numberParam:
		if n, ok := number(v); ok {
			return n.value(), nil
		}
	case intParam:
		if n, ok := number(v); ok && !n.isFloat {
			return n.i, nil
		}
	case stringParam:
		if _, ok := v.(string); ok {
			return v, nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("want %s, got %s", paramNames[p], typeName(v))
}

func (b *builtin) param(i int) param {
	if len(b.params) == 0 {
		return anyParam
	}
	return b.params[min(i, len(b.params)-1)]
}

// checkArg converts argument i (0-based) for its param.
func (b *builtin) checkArg(i int, v any) (any, error) {
	v, err := b.param(i).check(v)
	if err != nil {
		return nil, fmt.Errorf("argument %d: %w", i+1, err)
	}
	return v, nil
}

// checkArgs converts args in place for the params; NULLs stay.
func (b *builtin) checkArgs(args []any) error {
	for i, v := range args {
		if v == nil {
			continue
		}
		var err error
		if args[i], err = b.checkArg(i, v); err != nil {
			return err
		}
	}
	return nil
}

// builtins maps lower-case names to built-in functions; each file adds
// its own table.
var builtins = func() map[string]*builtin {
	m := map[string]*builtin{}
	for _, t := range []map[string]*builtin{mathFuncs, stringFuncs, otherFuncs} {
		maps.Copy(m, t)
	}
	return m
}()

// IsBuiltin reports whether name (any case) is a built-in function. The
// engine refuses plugin functions that would be shadowed by one.
func IsBuiltin(name string) bool {
	_, ok := builtins[strings.ToLower(name)]
	return ok
}

// Builtins returns the names of the built-in functions, sorted.
func Builtins() []string { return slices.Sorted(maps.Keys(builtins)) }

func argCountError(lo, hi, n int) string {
	plural := func(n int) string {
		if n == 1 {
			return ""
		}
		return "s"
	}
	switch {
	case lo == hi:
		return fmt.Sprintf("want %d argument%s, got %d", lo, plural(lo), n)
	case n < lo:
		return fmt.Sprintf("want at least %d argument%s, got %d", lo, plural(lo), n)
	}
	return fmt.Sprintf("want at most %d argument%s, got %d", hi, plural(hi), n)
}

// call compiles a function call: a built-in when the name matches one in
// any case, else whatever Env.Function resolves.
func (c *compiler) call(e *Call) (code, error) {
	lower := strings.ToLower(e.Name)
	b, ok := builtins[lower]
	if !ok {
		return c.plugin(e)
	}
	s := site{name: lower, pos: e.pos}
	if n := len(e.Args); n < b.min || b.max >= 0 && n > b.max {
		return code{}, s.errorf("%s", argCountError(b.min, b.max, n))
	}
	args, err := c.exprs(e.Args)
	if err != nil {
		return code{}, err
	}
	// Constant arguments of the wrong type fail now rather than per row.
	for i, a := range args {
		if a.konst && a.val != nil {
			if _, err := b.checkArg(i, a.val); err != nil {
				return code{}, s.wrap(err)
			}
		}
	}
	if b.compile != nil {
		return b.compile(s, args)
	}
	fns := evals(args)
	eval := func(row map[string]any) (any, error) {
		vals := make([]any, len(fns))
		for i, f := range fns {
			v, err := f(row)
			if err != nil {
				return nil, err
			}
			if v == nil && !b.nullSafe {
				return nil, nil
			}
			vals[i] = v
		}
		if err := b.checkArgs(vals); err != nil {
			return nil, s.wrap(err)
		}
		v, err := b.call(vals)
		if err != nil {
			return nil, s.wrap(err)
		}
		return v, nil
	}
	if b.volatile {
		return code{eval: eval}, nil
	}
	return fold(eval, args...)
}

// plugin compiles a call of a function from Env.Function: a fresh instance
// per call site, validated once here, run with panics recovered.
func (c *compiler) plugin(e *Call) (code, error) {
	name, pos := e.Name, e.pos
	var fn sdk.Function
	err := ErrUnknownFunction
	if c.env.Function != nil {
		fn, err = c.env.Function(name)
	}
	switch {
	case errors.Is(err, ErrUnknownFunction):
		return code{}, &Error{Line: pos.Line, Col: pos.Col, Msg: fmt.Sprintf("unknown function %q", name), Err: err}
	case err != nil:
		return code{}, wrapAt(pos, fmt.Sprintf("function %q: ", name), err)
	case fn == nil:
		return code{}, errorf(pos, "unknown function %q", name)
	}
	args, err := c.exprs(e.Args)
	if err != nil {
		return code{}, err
	}
	described := make([]sdk.Arg, len(e.Args))
	for i, a := range e.Args {
		described[i] = describeArg(a)
	}
	var agg bool
	if err := protect(func() error { agg = fn.IsAggregate(); return fn.Validate(described) }); err != nil {
		return code{}, wrapAt(pos, fmt.Sprintf("function %q: ", name), err)
	}
	c.aggregate = c.aggregate || agg
	var ctx sdk.FunctionContext
	if c.env.FuncContext != nil {
		ctx = c.env.FuncContext(c.funcIDs[e], name)
	}
	fns := evals(args)
	return code{eval: func(row map[string]any) (any, error) {
		vals := make([]any, len(fns))
		for i, f := range fns {
			v, err := f(row)
			if err != nil {
				return nil, err
			}
			if agg {
				v = []any{v}
			}
			vals[i] = v
		}
		var res any
		var ok bool
		if err := protect(func() error { res, ok = fn.Exec(ctx, vals); return nil }); err != nil {
			return nil, wrapAt(pos, fmt.Sprintf("function %q: ", name), err)
		}
		if !ok {
			if err, isErr := res.(error); isErr {
				return nil, wrapAt(pos, fmt.Sprintf("function %q: ", name), err)
			}
			return nil, errorf(pos, "function %q: %v", name, res)
		}
		return normalize(res), nil
	}}, nil
}

// protect runs f, turning a panic into an error, so that a faulty plugin
// fails its rule's row rather than the engine.
func protect(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// describeArg is what a plugin's Validate sees of an argument.
func describeArg(e Expr) sdk.Arg {
	a := sdk.Arg{Kind: sdk.ArgExpr, Text: e.String()}
	switch e := e.(type) {
	case *Literal:
		a.Kind, a.Value = sdk.ArgLiteral, e.Value
	case *FieldRef:
		a.Kind, a.Name = sdk.ArgField, e.Name
	case *Star, *Self:
		a.Kind = sdk.ArgWildcard
	}
	return a
}
