package sql

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kgen-dev/kgen/engine/schema"
	"github.com/kgen-dev/kgen/sdk"
)

// Env is what Compile needs to know about the world outside the statement.
type Env struct {
	// Schema is the stream's schema; nil when schemaless. When set, a
	// reference to a column it lacks is a compile error, and nested access
	// into STRUCT and ARRAY columns is checked against it. With JOIN it is
	// the schema of the FROM stream.
	Schema schema.Schema
	// Stream is the stream's name for messages; the FROM name when empty.
	Stream string
	// Streams holds the schemas of the streams a JOIN reads, by stream
	// name, a nil schema for a schemaless one: each joined stream but the
	// FROM stream must be there. Only a SELECT with JOIN reads it.
	Streams map[string]schema.Schema
	// Function resolves a function that is not built in (a plugin or an
	// external function) to a fresh instance for one call site. It returns
	// an error wrapping ErrUnknownFunction for a name it does not know. A
	// nil Function knows no names.
	Function func(name string) (sdk.Function, error)
	// FuncContext returns the context handed to the Exec of one call site
	// of a plugin function. It is called once per plugin call site, at
	// compile time; when nil, Exec gets a nil context.
	FuncContext func(site CallSite) sdk.FunctionContext
	// MaxGroups bounds the GROUP BY groups ProjectGroups holds at once;
	// more fail the call with ErrTooManyGroups. 0 means DefaultMaxGroups.
	MaxGroups int
	// MaxJoinRows bounds the rows Join makes of one result set; more fail
	// the call with ErrTooManyRows. 0 means DefaultMaxJoinRows.
	MaxJoinRows int
}

// DefaultMaxGroups is the bound on groups when Env.MaxGroups is 0.
const DefaultMaxGroups = 10000

// ErrTooManyGroups is wrapped by the error of ProjectGroups when the rows
// fall into more than Env.MaxGroups groups.
var ErrTooManyGroups = errors.New("too many groups")

// Program is a compiled SELECT. Evaluation runs closures built once by
// Compile; it does not walk the syntax tree. A Program is safe for
// concurrent use when the plugin functions it calls are.
type Program struct {
	where    evalFn // nil without WHERE
	wherePos Pos
	stars    []starField
	fields   []outField
	columns  []string
	agg      bool
	group    *grouping // nil when not Grouped
	join     *joinPlan // nil without JOIN
	// hide makes a star leave out hidden keys; meta reports meta() calls.
	hide, meta bool
	// reads is StreamFields.
	reads map[string]Fields
	// batched is set when a field has a batch; overlappable when, besides,
	// every plugin call is an ordered batched one.
	batched, overlappable bool
}

// UsesMeta reports whether the program reads source metadata with meta():
// its input rows must then carry it under MetaKey.
func (p *Program) UsesMeta() bool { return p.meta }

type outField struct {
	name string
	eval evalFn
	// batch, when set, computes the field for many rows at once.
	batch *batchSite
}

// starField is a star in the select list: the row's keys, or with JOIN
// the keys of the rows of sides, less except.
type starField struct {
	except []string
	// qualifier is s of s.*; sides the names of the sides a star of a
	// joined SELECT merges, in FROM order, so that later sides win.
	qualifier string
	sides     []string
}

// copyInto copies the star's keys of row to out, less hidden keys when
// hide is set. The rows of the sides of a joined row never show hidden
// keys.
func (s *starField) copyInto(out, row map[string]any, hide bool) {
	if s.sides == nil {
		for k, v := range row {
			if !slices.Contains(s.except, k) && !(hide && isHidden(k)) {
				out[k] = v
			}
		}
		return
	}
	for _, side := range s.sides {
		m, _ := row[side].(map[string]any)
		for k, v := range m {
			if !isHidden(k) && !slices.Contains(s.except, k) {
				out[k] = v
			}
		}
	}
}

// size is how many keys the star may copy from row.
func (s *starField) size(row map[string]any) int {
	if s.sides == nil {
		return len(row)
	}
	n := 0
	for _, side := range s.sides {
		m, _ := row[side].(map[string]any)
		n += len(m)
	}
	return n
}

// evalFn evaluates an expression against one row.
type evalFn func(row map[string]any) (any, error)

// Compile checks sel against env and compiles it. Errors are *Error with
// the position of the offending token.
func Compile(sel *Select, env Env) (*Program, error) {
	if sel.Limit < -1 {
		return nil, fmt.Errorf("LIMIT %d: want a count of at least 0", sel.Limit)
	}
	c := &compiler{env: env, stream: env.Stream, funcIDs: map[*Call]int{}, siteKeys: map[*Call]string{}, plugins: map[*Call]resolved{}, aggIndex: map[string]int{}}
	if c.stream == "" {
		c.stream = sel.From
	}
	if len(sel.Joins) > 0 {
		if err := c.joinScope(sel); err != nil {
			return nil, err
		}
	}
	if err := c.prepare(sel); err != nil {
		return nil, err
	}
	if c.join != nil {
		if err := c.joinOn(sel); err != nil {
			return nil, err
		}
	}
	grouped := c.hasAggregate || len(sel.GroupBy) > 0 || sel.Window != nil || sel.Having != nil || len(sel.OrderBy) > 0 || sel.Limit >= 0
	c.window = sel.Window != nil
	// Group rows carry aggregate results and window bounds under hidden
	// keys, which * and self must not show; so do input rows whose
	// metadata meta() reads.
	c.hideKeys = c.hasAggregate || c.hasWindowBound || c.usesMeta

	p := &Program{}
	seen := map[string]bool{}
	aliases := map[string]code{}
	names := outputNames(sel.Fields)
	for i, f := range sel.Fields {
		if s, ok := f.Expr.(*Star); ok {
			st, err := c.selectStar(s)
			if err != nil {
				return nil, err
			}
			for _, o := range p.stars {
				if c.join == nil {
					return nil, errorf(s.pos, "duplicate output column %q", "*")
				}
				if o.qualifier == st.qualifier {
					return nil, errorf(s.pos, "duplicate output column %q", strings.TrimPrefix(s.Stream+".*", "."))
				}
			}
			p.stars = append(p.stars, st)
			continue
		}
		name := f.Name
		if name == "" {
			name = names[i]
		}
		if call, ok := f.Expr.(*Call); ok && f.Alias == "" && name == call.Name && c.groupCall(call) {
			name = strings.ToLower(name) // eKuiper names count(*) "count"
		}
		if seen[name] {
			return nil, errorf(startPos(f.Expr), "duplicate output column %q", name)
		}
		seen[name] = true
		c.batchable, c.batch = nil, nil
		if call, ok := f.Expr.(*Call); ok {
			c.batchable = call
		}
		code, err := c.expr(f.Expr)
		c.batchable = nil
		if err != nil {
			return nil, err
		}
		p.fields = append(p.fields, outField{name: name, eval: code.eval, batch: c.batch})
		p.batched = p.batched || c.batch != nil
		if f.Alias != "" {
			aliases[f.Alias] = code
		}
	}
	// Columns in select-list order; a star gives the schema's columns that
	// no named field overrides, with JOIN those of its sides' schemas, each
	// column once.
	next, stars := 0, 0
	for _, f := range sel.Fields {
		s, ok := f.Expr.(*Star)
		if !ok {
			p.columns = append(p.columns, p.fields[next].name)
			next++
			continue
		}
		for _, sch := range c.starSchemas(&p.stars[stars]) {
			for _, col := range sch {
				if !slices.Contains(s.Except, col.Name) && !seen[col.Name] {
					p.columns = append(p.columns, col.Name)
					seen[col.Name] = true
				}
			}
		}
		stars++
	}
	if sel.Where != nil {
		c.clause = "WHERE"
		code, err := c.expr(sel.Where)
		c.clause = ""
		if err != nil {
			return nil, err
		}
		p.where, p.wherePos = code.eval, startPos(sel.Where)
		if code.konst {
			if _, err := p.Match(nil); err != nil {
				return nil, err
			}
		}
	}
	if grouped {
		g, err := c.grouping(sel, aliases)
		if err != nil {
			return nil, err
		}
		p.group = g
	}
	if c.join != nil {
		p.join = &joinPlan{sides: c.join.sides, streams: len(sel.Streams()), maxRows: cmp.Or(env.MaxJoinRows, DefaultMaxJoinRows)}
	}
	p.agg = c.hasAggregate
	p.hide, p.meta = c.hideKeys, c.usesMeta
	p.reads = c.reads(sel)
	p.overlappable = p.batched && c.unordered == 0 && p.group == nil && p.join == nil
	return p, nil
}

// selectStar compiles a star of the select list.
func (c *compiler) selectStar(s *Star) (starField, error) {
	if c.join != nil {
		return c.joinStar(s)
	}
	if err := c.checkColumns(s.Except, s.pos); err != nil {
		return starField{}, err
	}
	return starField{except: s.Except, qualifier: s.Stream}, nil
}

// starSchemas are the schemas whose columns a select-list star shows.
func (c *compiler) starSchemas(s *starField) []schema.Schema {
	if c.join == nil {
		return []schema.Schema{c.env.Schema}
	}
	var out []schema.Schema
	for _, name := range s.sides {
		out = append(out, c.join.sides[c.join.names[name]].schema)
	}
	return out
}

// CallSite is one call of a plugin function in a statement.
type CallSite struct {
	// ID numbers the call sites 0, 1, 2, ... in source order over all
	// calls, built-ins included, so that it depends only on the rule's
	// text (sdk.FunctionContext.GetFuncId).
	ID int
	// Name is the function name as written.
	Name string
	// Key identifies the call site across edits of the statement: the
	// call as the statement formats it ("wordCount(text)"), and for the
	// second and later identical calls " #2", " #3"... in source order.
	// Editing other parts of the statement leaves it unchanged.
	Key string
}

// prepare numbers the call sites in source order, before compiling, so
// that constant folding or a compile order change cannot renumber them;
// resolves the plugin functions in that order; and finds whether the
// statement aggregates.
func (c *compiler) prepare(sel *Select) error {
	calls := sel.calls()
	slices.SortStableFunc(calls, func(a, b *Call) int {
		return cmp.Or(cmp.Compare(a.pos.Line, b.pos.Line), cmp.Compare(a.pos.Col, b.pos.Col))
	})
	seen := map[string]int{}
	for i, call := range calls {
		c.funcIDs[call] = i
		text := call.String()
		seen[text]++
		if n := seen[text]; n > 1 {
			text += " #" + strconv.Itoa(n)
		}
		c.siteKeys[call] = text
		if strings.EqualFold(call.Name, "meta") {
			c.usesMeta = true
		}
		if IsBuiltin(call.Name) {
			continue
		}
		if _, err := c.resolve(call); err != nil {
			return err
		}
	}
	// Aggregates in the clauses that have groups; elsewhere they are
	// errors, reported with the clause when compiled.
	mark := func(e Expr) {
		walk(e, func(e Expr) bool {
			if call, ok := e.(*Call); ok {
				lower := strings.ToLower(call.Name)
				if _, ok := windowFuncs[lower]; ok {
					c.hasWindowBound = true
				} else if c.isAggregate(call) {
					c.hasAggregate = true
				}
			}
			return true
		})
	}
	for _, f := range sel.Fields {
		mark(f.Expr)
	}
	mark(sel.Having)
	for _, o := range sel.OrderBy {
		mark(o.Expr)
	}
	return nil
}

// isAggregate reports whether call is a built-in aggregate or resolves to
// an aggregate plugin function.
func (c *compiler) isAggregate(call *Call) bool {
	if b, ok := builtins[strings.ToLower(call.Name)]; ok {
		return b.agg != nil
	}
	return c.plugins[call].agg
}

// groupCall reports whether call is an aggregate, window_start or
// window_end: the calls named in lower case, as eKuiper names them.
func (c *compiler) groupCall(call *Call) bool {
	_, ok := windowFuncs[strings.ToLower(call.Name)]
	return ok || c.isAggregate(call)
}

// HasWhere reports whether the SELECT has a WHERE clause.
func (p *Program) HasWhere() bool { return p.where != nil }

// Match evaluates WHERE: true without a WHERE, false when it is NULL, an
// error when it is not a bool.
func (p *Program) Match(row map[string]any) (bool, error) {
	return condition(p.where, p.wherePos, "WHERE", row)
}

// condition evaluates a WHERE-like condition: true when eval is nil, false
// for NULL, an error for a value that is not a bool.
func condition(eval evalFn, pos Pos, clause string, row map[string]any) (bool, error) {
	if eval == nil {
		return true, nil
	}
	v, err := eval(row)
	if err != nil {
		return false, err
	}
	switch v := v.(type) {
	case bool:
		return v, nil
	case nil:
		return false, nil
	}
	return false, errorf(pos, "%s: want bool, got %s", clause, typeName(v))
}

// Project evaluates the select list into a fresh map. A star copies the
// row's keys (less EXCEPT); named fields are set after it and win over a
// key of the same name. A field whose value is NULL is present with a nil
// value.
//
// A Grouped program treats the row as a result set of its own, as eKuiper
// does without a window: Project returns the first row of
// ProjectGroups([row], 0, 0), or nil when HAVING or LIMIT 0 drops it, so
// that an aggregate sees the row as a group of one.
func (p *Program) Project(row map[string]any) (map[string]any, error) {
	if p.group != nil {
		out, err := p.ProjectGroups([]map[string]any{row}, 0, 0)
		if err != nil || len(out) == 0 {
			return nil, err
		}
		return out[0], nil
	}
	return p.project(row)
}

func (p *Program) project(row map[string]any) (map[string]any, error) {
	return p.projectWith(row, 0, nil, nil)
}

// IsAggregate reports whether the program calls an aggregate function,
// built-in or plugin.
func (p *Program) IsAggregate() bool { return p.agg }

// Columns returns the output column names in select-list order. A star
// contributes the schema's columns (less EXCEPT) and nothing for a
// schemaless stream, whose columns are only known per row.
func (p *Program) Columns() []string { return slices.Clone(p.columns) }

// compiler holds the state of one Compile.
type compiler struct {
	env     Env
	stream  string
	funcIDs map[*Call]int
	// siteKeys are the call sites' CallSite.Key.
	siteKeys map[*Call]string
	plugins  map[*Call]resolved
	// batchable is the call that is a select field's whole expression
	// while it compiles; batch is set when it compiled to a BatchFunction
	// call (see batch.go).
	batchable *Call
	batch     *batchSite
	// unordered counts the plugin call sites that are not ordered batched
	// calls (see Overlappable).
	unordered int

	// hasAggregate and hasWindowBound tell whether SELECT, HAVING or
	// ORDER BY call an aggregate, and window_start or window_end.
	hasAggregate, hasWindowBound bool
	// window is set when the SELECT has a window.
	window bool
	// hideKeys makes * and self leave out the hidden keys of group rows
	// and of rows carrying metadata.
	hideKeys bool
	// usesMeta is set when the SELECT calls meta().
	usesMeta bool
	// join resolves names in a SELECT with JOIN; nil without.
	join *joinScope
	// clause names the clause being compiled when it refuses aggregates
	// and window bounds (ON, WHERE, GROUP BY, FILTER, OVER); else "".
	clause string
	// inAggregate names the aggregate whose arguments are being compiled.
	inAggregate string
	// aliases are the SELECT aliases, visible as columns while HAVING and
	// ORDER BY are compiled.
	aliases map[string]code
	// aggs are the aggregate computations; aggIndex finds a built-in one
	// by aggregateKey.
	aggs     []aggSlot
	aggIndex map[string]int
}

// code is a compiled expression. konst marks a value known at compile
// time (a literal, or a pure expression of literals, folded): val holds it
// and eval returns it.
type code struct {
	eval  evalFn
	konst bool
	val   any
}

func constant(v any) code {
	return code{eval: func(map[string]any) (any, error) { return v, nil }, konst: true, val: v}
}

// fold evaluates eval once at compile time when all its parts are
// constant. An error there is a compile error: the expression would fail
// on every row. Maps, lists and bytes are not folded, so that no two rows
// share a mutable value.
func fold(eval evalFn, parts ...code) (code, error) {
	for _, p := range parts {
		if !p.konst {
			return code{eval: eval}, nil
		}
	}
	v, err := eval(nil)
	if err != nil {
		return code{}, err
	}
	switch v.(type) {
	case nil, bool, int64, float64, string, time.Time:
		return constant(v), nil
	}
	return code{eval: eval}, nil
}

// apply1 compiles f over the value of one operand: the operand's error
// passes through, f's is positioned at pos.
func apply1(x code, pos Pos, f func(any) (any, error)) (code, error) {
	xe := x.eval
	return fold(func(row map[string]any) (any, error) {
		v, err := xe(row)
		if err != nil {
			return nil, err
		}
		if v, err = f(v); err != nil {
			return nil, wrapAt(pos, "", err)
		}
		return v, nil
	}, x)
}

// apply2 is apply1 over two operands, evaluated left to right.
func apply2(x, y code, pos Pos, f func(a, b any) (any, error)) (code, error) {
	xe, ye := x.eval, y.eval
	return fold(func(row map[string]any) (any, error) {
		a, err := xe(row)
		if err != nil {
			return nil, err
		}
		b, err := ye(row)
		if err != nil {
			return nil, err
		}
		v, err := f(a, b)
		if err != nil {
			return nil, wrapAt(pos, "", err)
		}
		return v, nil
	}, x, y)
}

func (c *compiler) checkColumns(names []string, pos Pos) error {
	if c.env.Schema == nil {
		return nil
	}
	for _, n := range names {
		if _, ok := c.env.Schema.Lookup(n); !ok {
			return errorf(pos, "unknown field %q in stream %q", n, c.stream)
		}
	}
	return nil
}

func (c *compiler) expr(e Expr) (code, error) {
	switch e := e.(type) {
	case *Literal:
		switch v := e.Value.(type) {
		case nil, bool, int64, float64, string:
			return constant(v), nil
		}
		return code{}, errorf(e.pos, "unsupported literal of type %T", e.Value)
	case *FieldRef:
		if a, ok := c.alias(e); ok {
			return a, nil
		}
		if c.join != nil {
			return c.joinField(e)
		}
		if err := c.checkColumns([]string{e.Name}, e.pos); err != nil {
			return code{}, err
		}
		name := e.Name
		return code{eval: func(row map[string]any) (any, error) { return row[name], nil }}, nil
	case *Self:
		if c.join != nil {
			merged, err := c.star(&Star{node: e.node})
			if err != nil {
				return code{}, err
			}
			return code{eval: func(row map[string]any) (any, error) {
				v, _ := merged.eval(row)
				return self(v.(map[string]any)), nil
			}}, nil
		}
		if c.hidesKeys() {
			return code{eval: func(row map[string]any) (any, error) { return self(visible(row, nil)), nil }}, nil
		}
		return code{eval: func(row map[string]any) (any, error) { return self(row), nil }}, nil
	case *Star:
		return c.star(e)
	case *Member:
		return c.member(e)
	case *Index:
		return c.index(e)
	case *Unary:
		return c.unary(e)
	case *Binary:
		if e.Op == OpAnd || e.Op == OpOr {
			return c.logical(e)
		}
		return c.binary(e)
	case *In:
		return c.in(e)
	case *Between:
		return c.between(e)
	case *Like:
		return c.like(e)
	case *IsNull:
		return c.isNull(e)
	case *Case:
		return c.caseExpr(e)
	case *Call:
		return c.call(e)
	case nil:
		return code{}, errors.New("missing expression")
	}
	return code{}, errorf(e.Pos(), "unsupported expression %T", e)
}

// self is the whole message: for a binary payload, decoded as
// {"self": bytes}, the payload itself.
func self(row map[string]any) any {
	if v, ok := row["self"]; ok && len(row) == 1 {
		return v
	}
	return row
}

func (c *compiler) star(e *Star) (code, error) {
	if c.join != nil {
		st, err := c.joinStar(e)
		if err != nil {
			return code{}, err
		}
		return code{eval: func(row map[string]any) (any, error) {
			out := make(map[string]any, st.size(row))
			st.copyInto(out, row, true)
			return out, nil
		}}, nil
	}
	if err := c.checkColumns(e.Except, e.pos); err != nil {
		return code{}, err
	}
	except := e.Except
	if c.hidesKeys() {
		return code{eval: func(row map[string]any) (any, error) { return visible(row, except), nil }}, nil
	}
	if len(except) == 0 {
		return code{eval: func(row map[string]any) (any, error) { return row, nil }}, nil
	}
	return code{eval: func(row map[string]any) (any, error) {
		out := make(map[string]any, len(row))
		for k, v := range row {
			if !slices.Contains(except, k) {
				out[k] = v
			}
		}
		return out, nil
	}}, nil
}

// hidesKeys tells whether the expression being compiled runs on group
// rows that carry hidden keys, rather than on input rows.
func (c *compiler) hidesKeys() bool {
	return c.usesMeta || c.hideKeys && c.inAggregate == "" && c.clause == ""
}

// alias resolves a reference to a SELECT alias in HAVING and ORDER BY
// (outside aggregate arguments) to the aliased expression, evaluated on
// the same group row. An alias wins over a column of the same name.
func (c *compiler) alias(e *FieldRef) (code, bool) {
	if e.Stream != "" || c.inAggregate != "" {
		return code{}, false
	}
	a, ok := c.aliases[e.Name]
	return a, ok
}

// staticType is the schema type of e when the schema fixes it: a column,
// or a path into STRUCT and ARRAY columns. nil when unknown.
func (c *compiler) staticType(e Expr) *schema.Type {
	switch e := e.(type) {
	case *FieldRef:
		if _, ok := c.alias(e); ok {
			return nil
		}
		sch := c.env.Schema
		if c.join != nil {
			sch = c.join.schemaOf(e)
		}
		if f, ok := sch.Lookup(e.Name); ok {
			return &f.Type
		}
	case *Member:
		if t := c.staticType(e.X); t != nil && t.Kind == schema.Struct {
			if f, ok := schema.Schema(t.Fields).Lookup(e.Name); ok {
				return &f.Type
			}
		}
	case *Index:
		if t := c.staticType(e.X); t != nil && t.Kind == schema.Array {
			return t.Elem
		}
	}
	return nil
}

func (c *compiler) member(e *Member) (code, error) {
	x, err := c.expr(e.X)
	if err != nil {
		return code{}, err
	}
	op := "."
	if e.Arrow {
		op = "->"
	}
	if t := c.staticType(e.X); t != nil && t.Kind != schema.Any {
		if t.Kind != schema.Struct {
			return code{}, errorf(e.pos, "cannot apply %q to %s column %q", op, t.Kind, e.X.String())
		}
		if _, ok := schema.Schema(t.Fields).Lookup(e.Name); !ok {
			return code{}, errorf(e.pos, "unknown field %q in %q", e.Name, e.X.String())
		}
	}
	name := e.Name
	return apply1(x, e.pos, func(v any) (any, error) { return member(op, v, name) })
}

func (c *compiler) index(e *Index) (code, error) {
	x, err := c.expr(e.X)
	if err != nil {
		return code{}, err
	}
	i, err := c.expr(e.Index)
	if err != nil {
		return code{}, err
	}
	if t := c.staticType(e.X); t != nil && t.Kind != schema.Any && t.Kind != schema.Array && t.Kind != schema.Struct {
		return code{}, errorf(e.pos, "cannot apply %q to %s column %q", "[]", t.Kind, e.X.String())
	}
	return apply2(x, i, e.pos, index)
}

func (c *compiler) unary(e *Unary) (code, error) {
	x, err := c.expr(e.X)
	if err != nil {
		return code{}, err
	}
	if e.Op == OpNeg {
		return apply1(x, e.pos, negate)
	}
	return apply1(x, e.pos, func(v any) (any, error) {
		b, null, err := truth("NOT", v)
		if err != nil || null {
			return nil, err
		}
		return !b, nil
	})
}

// logical compiles AND and OR with short-circuit evaluation and SQL's
// three-valued logic: NULL AND false is false, NULL OR true is true, and
// otherwise a NULL operand makes the result NULL.
func (c *compiler) logical(e *Binary) (code, error) {
	l, err := c.expr(e.L)
	if err != nil {
		return code{}, err
	}
	r, err := c.expr(e.R)
	if err != nil {
		return code{}, err
	}
	le, re, pos, op := l.eval, r.eval, e.pos, e.Op.String()
	// decisive is the operand value that settles the result alone.
	decisive := e.Op == OpOr
	return fold(func(row map[string]any) (any, error) {
		a, err := le(row)
		if err != nil {
			return nil, err
		}
		av, aNull, err := truth(op, a)
		if err != nil {
			return nil, wrapAt(pos, "", err)
		}
		if !aNull && av == decisive {
			return decisive, nil
		}
		b, err := re(row)
		if err != nil {
			return nil, err
		}
		bv, bNull, err := truth(op, b)
		switch {
		case err != nil:
			return nil, wrapAt(pos, "", err)
		case !bNull && bv == decisive:
			return decisive, nil
		case aNull || bNull:
			return nil, nil
		}
		return !decisive, nil
	}, l, r)
}

func (c *compiler) binary(e *Binary) (code, error) {
	l, err := c.expr(e.L)
	if err != nil {
		return code{}, err
	}
	r, err := c.expr(e.R)
	if err != nil {
		return code{}, err
	}
	apply := arith
	switch e.Op {
	case OpAdd, OpSub, OpMul, OpDiv, OpMod:
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
		apply = compare
	default:
		return code{}, errorf(e.pos, "unsupported operator %s", e.Op)
	}
	op := e.Op
	return apply2(l, r, e.pos, func(a, b any) (any, error) { return apply(op, a, b) })
}

func (c *compiler) exprs(es []Expr) ([]code, error) {
	out := make([]code, len(es))
	for i, e := range es {
		var err error
		if out[i], err = c.expr(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func evals(cs []code) []evalFn {
	out := make([]evalFn, len(cs))
	for i, c := range cs {
		out[i] = c.eval
	}
	return out
}

// in compiles X [NOT] IN (...): = against each item; a NULL X makes both
// forms false.
func (c *compiler) in(e *In) (code, error) {
	x, err := c.expr(e.X)
	if err != nil {
		return code{}, err
	}
	list, err := c.exprs(e.List)
	if err != nil {
		return code{}, err
	}
	xe, items, not := x.eval, evals(list), e.Not
	return fold(func(row map[string]any) (any, error) {
		v, err := xe(row)
		if err != nil || v == nil {
			return false, err
		}
		for _, item := range items {
			w, err := item(row)
			if err != nil {
				return nil, err
			}
			if equal(v, w) {
				return !not, nil
			}
		}
		return not, nil
	}, append(list, x)...)
}

// between compiles X [NOT] BETWEEN Lo AND Hi; any NULL makes both forms
// false.
func (c *compiler) between(e *Between) (code, error) {
	parts, err := c.exprs([]Expr{e.X, e.Lo, e.Hi})
	if err != nil {
		return code{}, err
	}
	xe, loe, hie, pos, not := parts[0].eval, parts[1].eval, parts[2].eval, e.pos, e.Not
	return fold(func(row map[string]any) (any, error) {
		var v [3]any
		for i, f := range [3]evalFn{xe, loe, hie} {
			var err error
			if v[i], err = f(row); err != nil {
				return nil, err
			}
			if v[i] == nil {
				return false, nil
			}
		}
		lo, ok1 := order(v[1], v[0])
		hi, ok2 := order(v[0], v[2])
		switch {
		case !ok1:
			return nil, wrapAt(pos, "", typeError("BETWEEN", v[0], v[1]))
		case !ok2:
			return nil, wrapAt(pos, "", typeError("BETWEEN", v[0], v[2]))
		}
		return (lo <= 0 && hi <= 0) != not, nil
	}, parts...)
}

// like compiles X [NOT] LIKE pattern. A literal pattern is compiled once;
// a NULL operand makes both forms false.
func (c *compiler) like(e *Like) (code, error) {
	x, err := c.expr(e.X)
	if err != nil {
		return code{}, err
	}
	pat, err := c.expr(e.Pattern)
	if err != nil {
		return code{}, err
	}
	xe, pe, pos, not := x.eval, pat.eval, e.pos, e.Not
	var fixed *likePattern
	if s, ok := pat.val.(string); ok && pat.konst {
		fixed = compileLike(s)
	}
	return fold(func(row map[string]any) (any, error) {
		v, err := xe(row)
		if err != nil {
			return nil, err
		}
		p, err := pe(row)
		if err != nil {
			return nil, err
		}
		if v == nil || p == nil {
			return false, nil
		}
		s, ok1 := v.(string)
		ps, ok2 := p.(string)
		if !ok1 || !ok2 {
			return nil, wrapAt(pos, "", typeError("LIKE", v, p))
		}
		lp := fixed
		if lp == nil {
			lp = compileLike(ps)
		}
		return lp.match(s) != not, nil
	}, x, pat)
}

func (c *compiler) isNull(e *IsNull) (code, error) {
	x, err := c.expr(e.X)
	if err != nil {
		return code{}, err
	}
	xe, not := x.eval, e.Not
	return fold(func(row map[string]any) (any, error) {
		v, err := xe(row)
		if err != nil {
			return nil, err
		}
		return (v == nil) != not, nil
	}, x)
}

// caseExpr compiles both CASE forms. A searched WHEN must be bool or NULL
// (not taken); a simple CASE compares with = semantics, so a NULL operand
// matches no arm. Without ELSE the result is NULL.
func (c *compiler) caseExpr(e *Case) (code, error) {
	var operand evalFn
	var parts []code
	if e.Operand != nil {
		op, err := c.expr(e.Operand)
		if err != nil {
			return code{}, err
		}
		operand = op.eval
		parts = append(parts, op)
	}
	type arm struct {
		cond, result evalFn
		pos          Pos
	}
	arms := make([]arm, len(e.Whens))
	for i, w := range e.Whens {
		cond, err := c.expr(w.Cond)
		if err != nil {
			return code{}, err
		}
		result, err := c.expr(w.Result)
		if err != nil {
			return code{}, err
		}
		arms[i] = arm{cond.eval, result.eval, startPos(w.Cond)}
		parts = append(parts, cond, result)
	}
	elseFn := constant(nil).eval
	if e.Else != nil {
		el, err := c.expr(e.Else)
		if err != nil {
			return code{}, err
		}
		elseFn = el.eval
		parts = append(parts, el)
	}
	return fold(func(row map[string]any) (any, error) {
		var x any
		if operand != nil {
			var err error
			if x, err = operand(row); err != nil {
				return nil, err
			}
		}
		for _, a := range arms {
			v, err := a.cond(row)
			if err != nil {
				return nil, err
			}
			if operand != nil {
				if x != nil && v != nil && equal(x, v) {
					return a.result(row)
				}
				continue
			}
			switch v := v.(type) {
			case bool:
				if v {
					return a.result(row)
				}
			case nil:
			default:
				return nil, errorf(a.pos, "CASE WHEN: want bool, got %s", typeName(v))
			}
		}
		return elseFn(row)
	}, parts...)
}

// startPos is the position of the first token of e.
func startPos(e Expr) Pos {
	switch e := e.(type) {
	case *Member:
		return startPos(e.X)
	case *Index:
		return startPos(e.X)
	case *Binary:
		return startPos(e.L)
	case *In:
		return startPos(e.X)
	case *Between:
		return startPos(e.X)
	case *Like:
		return startPos(e.X)
	case *IsNull:
		return startPos(e.X)
	case nil:
		return Pos{}
	}
	return e.Pos()
}
