package sql

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
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

	// agg, when set, makes the function an aggregate (aggregates.go): it
	// runs once per group on one []any per argument, one element per row,
	// and call is unused.
	agg func(args [][]any) (any, error)
	// star aggregates take * (the row) as their argument.
	star bool
	// rows aggregates get the group's rows as an implicit first column.
	rows bool
	// check, when set, checks the constant arguments of an aggregate
	// further at compile time.
	check func(s site, args []code) error
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
	boolParam
)

var paramNames = [...]string{anyParam: "any value", numberParam: "number", intParam: "integer", stringParam: "string", boolParam: "bool"}

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
	case boolParam:
		if _, ok := v.(bool); ok {
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
	for _, t := range []map[string]*builtin{mathFuncs, stringFuncs, otherFuncs, aggregateFuncs, windowFuncs} {
		maps.Copy(m, t)
	}
	return m
}()

// IsBuiltin reports whether name (any case) is a built-in function. The
// engine refuses plugin functions that would be shadowed by one.
func IsBuiltin(name string) bool {
	lower := strings.ToLower(name)
	_, ok := builtins[lower]
	return ok || lower == "meta"
}

// Builtins returns the names of the built-in functions, sorted: those of
// the table and meta, whose argument is a metadata key, not a value.
func Builtins() []string {
	return slices.Sorted(slices.Values(append(slices.Collect(maps.Keys(builtins)), "meta")))
}

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
	if lower == "meta" {
		return c.meta(e)
	}
	b, ok := builtins[lower]
	if !ok {
		return c.plugin(e)
	}
	s := site{name: lower, pos: e.pos}
	written := e.Args
	if b.rows && len(written) == b.max+1 && isStar(written[0]) {
		written = written[1:] // the * that eKuiper's parser adds
	}
	if n := len(written); n < b.min || b.max >= 0 && n > b.max {
		return code{}, s.errorf("%s", argCountError(b.min, b.max, n))
	}
	if b.agg != nil {
		return c.builtinAggregate(e, s, b)
	}
	if _, ok := windowFuncs[lower]; ok {
		return c.windowBound(s)
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

func isStar(e Expr) bool {
	_, ok := e.(*Star)
	return ok
}

// builtinAggregate compiles a call of a built-in aggregate: its arguments
// per row, its result read from the group row. Calls written alike share
// one computation.
func (c *compiler) builtinAggregate(e *Call, s site, b *builtin) (code, error) {
	if err := c.aggregateAllowed(e.pos, s.name); err != nil {
		return code{}, err
	}
	args := e.Args
	var rowsArg Expr
	if b.rows && len(args) == b.max+1 {
		rowsArg, args = args[0], args[1:]
	}
	for i, a := range args {
		if isStar(a) && (!b.star || i > 0) {
			return code{}, s.errorf("argument %d: * is not allowed", i+1)
		}
	}
	key := aggregateKey(s.name, e)
	if k, ok := c.aggIndex[key]; ok && key != "" {
		return hidden(c.aggs[k].key), nil
	}
	codes, err := c.aggregateArgs(s.name, args)
	if err != nil {
		return code{}, err
	}
	for i, a := range codes {
		if a.konst && a.val != nil {
			if _, err := b.checkArg(i, a.val); err != nil {
				return code{}, s.wrap(err)
			}
		}
	}
	if b.check != nil {
		if err := b.check(s, codes); err != nil {
			return code{}, err
		}
	}
	fns := evals(codes)
	if c.join != nil && s.name == "count" && isStar(args[0]) {
		// A joined row is never NULL: count it without merging its sides.
		fns[0] = constant(true).eval
	}
	if b.rows {
		rows := code{eval: func(row map[string]any) (any, error) { return row, nil }}
		if c.join != nil {
			rows, err = c.star(&Star{node: e.node})
			if err != nil {
				return code{}, err
			}
		}
		if rowsArg != nil {
			r, err := c.aggregateArgs(s.name, []Expr{rowsArg})
			if err != nil {
				return code{}, err
			}
			rows = r[0]
		}
		fns = append([]evalFn{rows.eval}, fns...)
	}
	agg := c.addAggregate(key, fns, func(cols [][]any) (any, error) {
		v, err := b.agg(cols)
		if err != nil {
			return nil, s.wrap(err)
		}
		return v, nil
	})
	c.aggs[len(c.aggs)-1].builtin = s.name
	return agg, nil
}

// aggregateKey identifies a built-in aggregate call by its function and
// arguments, so that count(*) in SELECT and HAVING is computed once; ""
// when an argument calls a plugin, whose call sites stay apart.
func aggregateKey(lower string, e *Call) string {
	key := lower + "("
	for i, a := range e.Args {
		plugin := false
		walk(a, func(x Expr) bool {
			if call, ok := x.(*Call); ok && !IsBuiltin(call.Name) {
				plugin = true
			}
			return !plugin
		})
		if plugin {
			return ""
		}
		if i > 0 {
			key += ", "
		}
		key += a.String()
	}
	return key + ")"
}

// aggregateAllowed refuses an aggregate call where there is no group:
// ON, WHERE, GROUP BY, FILTER, OVER and another aggregate's arguments.
func (c *compiler) aggregateAllowed(pos Pos, name string) error {
	if c.clause != "" {
		return errorf(pos, "aggregate function %q is not allowed in %s", name, c.clause)
	}
	if c.inAggregate != "" {
		return errorf(pos, "aggregate function %q is not allowed inside aggregate function %q", name, c.inAggregate)
	}
	return nil
}

// aggregateArgs compiles the arguments of aggregate name, evaluated on
// each input row rather than on the group row.
func (c *compiler) aggregateArgs(name string, args []Expr) ([]code, error) {
	c.inAggregate = name
	defer func() { c.inAggregate = "" }()
	return c.exprs(args)
}

// addAggregate registers an aggregate computation and returns the code
// that reads its result from a group row.
func (c *compiler) addAggregate(key string, args []evalFn, call func(cols [][]any) (any, error)) code {
	k := len(c.aggs)
	c.aggs = append(c.aggs, aggSlot{key: hiddenPrefix + "agg" + strconv.Itoa(k), args: args, call: call})
	if key != "" {
		c.aggIndex[key] = k
	}
	return hidden(c.aggs[k].key)
}

// hidden reads a hidden key of a group row.
func hidden(key string) code {
	return code{eval: func(row map[string]any) (any, error) { return row[key], nil }}
}

// windowBound compiles window_start() or window_end().
func (c *compiler) windowBound(s site) (code, error) {
	switch {
	case c.clause != "":
		return code{}, errorf(s.pos, "function %q is not allowed in %s", s.name, c.clause)
	case c.inAggregate != "":
		return code{}, errorf(s.pos, "function %q is not allowed inside aggregate function %q", s.name, c.inAggregate)
	case !c.window:
		return code{}, s.errorf("only allowed in a windowed SELECT")
	}
	if s.name == "window_start" {
		return hidden(windowStartKey), nil
	}
	return hidden(windowEndKey), nil
}

// resolved is a plugin function of one call site.
type resolved struct {
	fn  sdk.Function
	agg bool
}

// resolve gets the plugin function of call site e from Env.Function, once.
func (c *compiler) resolve(e *Call) (resolved, error) {
	if r, ok := c.plugins[e]; ok {
		return r, nil
	}
	name, pos := e.Name, e.pos
	var fn sdk.Function
	err := ErrUnknownFunction
	if c.env.Function != nil {
		fn, err = c.env.Function(name)
	}
	switch {
	case errors.Is(err, ErrUnknownFunction):
		return resolved{}, &Error{Line: pos.Line, Col: pos.Col, Msg: fmt.Sprintf("unknown function %q", name), Err: err}
	case err != nil:
		return resolved{}, wrapAt(pos, fmt.Sprintf("function %q: ", name), err)
	case fn == nil:
		return resolved{}, errorf(pos, "unknown function %q", name)
	}
	r := resolved{fn: fn}
	if err := protect(func() error { r.agg = fn.IsAggregate(); return nil }); err != nil {
		return resolved{}, wrapAt(pos, fmt.Sprintf("function %q: ", name), err)
	}
	c.plugins[e] = r
	return r, nil
}

// plugin compiles a call of a function from Env.Function: a fresh instance
// per call site, validated once here, run with panics recovered. An
// aggregate one runs once per group, on one []any per argument with one
// element per row.
func (c *compiler) plugin(e *Call) (code, error) {
	name, pos := e.Name, e.pos
	r, err := c.resolve(e)
	if err != nil {
		return code{}, err
	}
	var args []code
	if r.agg {
		if err := c.aggregateAllowed(pos, name); err != nil {
			return code{}, err
		}
		args, err = c.aggregateArgs(name, e.Args)
	} else {
		args, err = c.exprs(e.Args)
	}
	if err != nil {
		return code{}, err
	}
	described := make([]sdk.Arg, len(e.Args))
	for i, a := range e.Args {
		described[i] = describeArg(a)
	}
	if err := protect(func() error { return r.fn.Validate(described) }); err != nil {
		return code{}, wrapAt(pos, fmt.Sprintf("function %q: ", name), err)
	}
	var ctx sdk.FunctionContext
	if c.env.FuncContext != nil {
		ctx = c.env.FuncContext(CallSite{ID: c.funcIDs[e], Name: name, Key: c.siteKeys[e]})
	}
	fns := evals(args)
	if bf, ok := r.fn.(BatchFunction); ok && !r.agg && c.batchable == e {
		c.batch = c.batchSite(bf, ctx, fns, name, pos)
		if !c.batch.ordered {
			c.unordered++
		}
	} else {
		c.unordered++
	}
	exec := func(vals []any) (any, error) {
		var res any
		var ok bool
		if err := protect(func() error { res, ok = r.fn.Exec(ctx, vals); return nil }); err != nil {
			return nil, wrapAt(pos, fmt.Sprintf("function %q: ", name), err)
		}
		if !ok {
			if err, isErr := res.(error); isErr {
				return nil, wrapAt(pos, fmt.Sprintf("function %q: ", name), err)
			}
			return nil, errorf(pos, "function %q: %v", name, res)
		}
		return normalize(res), nil
	}
	if r.agg {
		return c.addAggregate("", fns, func(cols [][]any) (any, error) {
			vals := make([]any, len(cols))
			for i, col := range cols {
				vals[i] = col
			}
			return exec(vals)
		}), nil
	}
	return code{eval: func(row map[string]any) (any, error) {
		vals := make([]any, len(fns))
		for i, f := range fns {
			v, err := f(row)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		return exec(vals)
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
