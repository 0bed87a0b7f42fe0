package sql

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// A grouped SELECT runs per result set (a window, or a message without
// one): the rows are split into groups, each group's aggregates are
// computed from its rows, and the rest of the statement is evaluated on a
// group row, a copy of the group's first row that also holds the
// aggregate results and the window bounds under hidden keys. Aggregate
// calls and window_start()/window_end() compile to reads of those keys,
// so the expressions around them compile and run as in an ungrouped
// SELECT.

// Hidden keys start with a NUL byte, which no real column name does; a row
// key that does is reserved in a grouped SELECT (* and self leave it out).
const (
	hiddenPrefix   = "\x00"
	windowStartKey = hiddenPrefix + "window_start"
	windowEndKey   = hiddenPrefix + "window_end"
)

func isHidden(k string) bool { return strings.HasPrefix(k, hiddenPrefix) }

// visible is row less its hidden keys and the except columns; row itself
// when it has none of them.
func visible(row map[string]any, except []string) map[string]any {
	drop := func(k string) bool { return isHidden(k) || slices.Contains(except, k) }
	for k := range row {
		if drop(k) {
			out := make(map[string]any, len(row))
			for k, v := range row {
				if !drop(k) {
					out[k] = v
				}
			}
			return out
		}
	}
	return row
}

// grouping is the compiled grouped part of a SELECT.
type grouping struct {
	// keys are the GROUP BY expressions, evaluated on input rows.
	keys    []evalFn
	keysPos Pos
	// whole makes all rows one group when there are no keys but
	// aggregates or HAVING; without either, each row is a group of its own.
	whole bool
	aggs  []aggSlot
	// nargs is the number of aggregate arguments, over all aggregates.
	nargs     int
	having    evalFn // nil without HAVING
	havingPos Pos
	order     []orderKey
	limit     int64 // -1: none
	maxGroups int
	// hidden is set when group rows carry hidden keys; bounds when among
	// them are the window bounds.
	hidden, bounds bool

	window    *Window // nil without a window
	filter    evalFn  // nil without FILTER
	filterPos Pos
	trigger   evalFn // nil without OVER
}

// aggSlot is one aggregate computation of a grouped SELECT.
type aggSlot struct {
	key  string   // hidden key of the result in group rows
	args []evalFn // evaluated on each row of the group
	// builtin is the name of a built-in aggregate (count, sum...); ""
	// for a plugin's.
	builtin string
	// call gets one column per argument, one element per row.
	call func(cols [][]any) (any, error)
}

type orderKey struct {
	eval evalFn
	desc bool
	pos  Pos
}

// grouping compiles the grouped clauses. SELECT has been compiled, so
// aliases holds its aliased expressions.
func (c *compiler) grouping(sel *Select, aliases map[string]code) (*grouping, error) {
	g := &grouping{limit: sel.Limit, maxGroups: c.env.MaxGroups}
	if g.maxGroups <= 0 {
		g.maxGroups = DefaultMaxGroups
	}
	cond := func(clause string, e Expr) (evalFn, Pos, error) {
		c.clause = clause
		defer func() { c.clause = "" }()
		code, err := c.expr(e)
		if err != nil {
			return nil, Pos{}, err
		}
		pos := startPos(e)
		if code.konst {
			if _, err := condition(code.eval, pos, clause, nil); err != nil {
				return nil, Pos{}, err
			}
		}
		return code.eval, pos, nil
	}
	if w := sel.Window; w != nil {
		copied := *w
		g.window = &copied
		var err error
		if w.Filter != nil {
			if g.filter, g.filterPos, err = cond("FILTER", w.Filter); err != nil {
				return nil, err
			}
		}
		if w.Trigger != nil {
			if w.Kind != SlidingWindow {
				return nil, errorf(startPos(w.Trigger), "OVER (WHEN ...) needs a sliding window")
			}
			if g.trigger, _, err = cond("OVER", w.Trigger); err != nil {
				return nil, err
			}
		}
	}
	c.clause = "GROUP BY"
	keys, err := c.exprs(sel.GroupBy)
	c.clause = ""
	if err != nil {
		return nil, err
	}
	g.keys = evals(keys)
	if len(sel.GroupBy) > 0 {
		g.keysPos = startPos(sel.GroupBy[0])
	}

	c.aliases = aliases
	defer func() { c.aliases = nil }()
	if sel.Having != nil {
		code, err := c.expr(sel.Having)
		if err != nil {
			return nil, err
		}
		g.having, g.havingPos = code.eval, startPos(sel.Having)
		if code.konst {
			if _, err := condition(g.having, g.havingPos, "HAVING", nil); err != nil {
				return nil, err
			}
		}
	}
	for _, o := range sel.OrderBy {
		code, err := c.expr(o.Expr)
		if err != nil {
			return nil, err
		}
		g.order = append(g.order, orderKey{eval: code.eval, desc: o.Desc, pos: startPos(o.Expr)})
	}
	g.aggs = c.aggs
	for _, a := range g.aggs {
		g.nargs += len(a.args)
	}
	g.whole = len(g.keys) == 0 && (len(g.aggs) > 0 || g.having != nil)
	g.hidden, g.bounds = c.hideKeys, c.hasWindowBound
	return g, nil
}

// Grouped reports whether the program needs ProjectGroups rather than
// Project: it has GROUP BY keys, a window, an aggregate call, HAVING,
// ORDER BY or LIMIT.
func (p *Program) Grouped() bool { return p.group != nil }

// Clauses tells which clauses of a SELECT a program runs, for describing
// its plan (a rule's topology).
type Clauses struct {
	Where bool
	// WindowFilter is the window's FILTER (WHERE ...).
	WindowFilter bool
	// GroupBy is set for GROUP BY keys other than the window, Aggregates
	// for aggregate calls.
	GroupBy, Aggregates bool
	Having, OrderBy     bool
}

// Clauses returns the clauses the program runs.
func (p *Program) Clauses() Clauses {
	c := Clauses{Where: p.where != nil}
	if g := p.group; g != nil {
		c.WindowFilter = g.filter != nil
		c.GroupBy = len(g.keys) > 0
		c.Aggregates = len(g.aggs) > 0
		c.Having = g.having != nil
		c.OrderBy = len(g.order) > 0
	}
	return c
}

// Window returns a copy of the window of the SELECT; nil without one.
func (p *Program) Window() *Window {
	if p.group == nil || p.group.window == nil {
		return nil
	}
	w := *p.group.window
	return &w
}

// Filter evaluates the window's FILTER (WHERE cond) on an input row, as
// Match does WHERE: true without a FILTER, false when NULL, an error when
// not a bool. Rows it rejects do not enter the window.
func (p *Program) Filter(row map[string]any) (bool, error) {
	if p.group == nil {
		return true, nil
	}
	return condition(p.group.filter, p.group.filterPos, "FILTER", row)
}

// Trigger evaluates a sliding window's OVER (WHEN cond) on an input row:
// whether the row triggers an emission. True without OVER; NULL and values
// other than bools are false, as in eKuiper.
func (p *Program) Trigger(row map[string]any) (bool, error) {
	if p.group == nil || p.group.trigger == nil {
		return true, nil
	}
	v, err := p.group.trigger(row)
	if err != nil {
		return false, err
	}
	b, _ := v.(bool)
	return b, nil
}

// ProjectGroups evaluates a result set: rows that have passed WHERE and
// FILTER, and start and end, the window bounds in Unix milliseconds (0
// without a window). It groups the rows by the GROUP BY keys, in order of
// first appearance; without keys, all rows form one group when the SELECT
// aggregates or has HAVING, and each row is its own group otherwise. Per
// group it computes the aggregates, keeps the group when HAVING is true,
// sorts the groups by ORDER BY (stable, NULLs first in either direction),
// applies LIMIT and evaluates the select list. It returns the output rows,
// empty (not nil) when there are none: no rows give no output, even for
// an aggregate-only SELECT.
//
// For a program that is not Grouped it projects each row.
func (p *Program) ProjectGroups(rows []map[string]any, start, end int64) ([]map[string]any, error) {
	g := p.group
	if g == nil {
		return p.projectRows(rows)
	}
	if len(rows) == 0 || g.limit == 0 {
		return []map[string]any{}, nil
	}
	groups, err := g.partition(rows)
	if err != nil {
		return nil, err
	}
	var (
		// cols backs the argument columns of every aggregate of every
		// group: each row is in exactly one group. It is not reused, so an
		// aggregate may return a column (collect does).
		cols = make([]any, len(rows)*g.nargs)
		argv [][]any
	)
	return p.finish(len(groups), func(i int) (map[string]any, error) {
		grp := groups[i]
		row := grp[0]
		if !g.hidden {
			return row, nil
		}
		row = g.groupRow(grp[0], start, end)
		for i := range g.aggs {
			a := &g.aggs[i]
			argv = argv[:0]
			for _, f := range a.args {
				col := cols[:len(grp):len(grp)]
				cols = cols[len(grp):]
				for j, r := range grp {
					var err error
					if col[j], err = f(r); err != nil {
						return nil, err
					}
				}
				argv = append(argv, col)
			}
			var err error
			if row[a.key], err = a.call(argv); err != nil {
				return nil, err
			}
		}
		return row, nil
	})
}

// groupRow is a new group row: a copy of first with the window bounds,
// when the SELECT reads them, and room for the aggregate results.
func (g *grouping) groupRow(first map[string]any, start, end int64) map[string]any {
	row := make(map[string]any, len(first)+len(g.aggs)+2)
	maps.Copy(row, first)
	if g.bounds {
		row[windowStartKey], row[windowEndKey] = start, end
	}
	return row
}

// finish is the end of ProjectGroups, once the n groups are known: in
// group order it gets each group row from groupRow (aggregates computed),
// keeps the group when HAVING is true, sorts the groups kept by ORDER BY,
// applies LIMIT and evaluates the select list. Without ORDER BY, groups
// after the LIMIT-th kept are not computed.
func (p *Program) finish(n int, groupRow func(i int) (map[string]any, error)) ([]map[string]any, error) {
	g := p.group
	type result struct {
		row  map[string]any
		keys []any
	}
	var (
		orderKeys  = make([]any, n*len(g.order))
		kept       = make([]result, 0, n)
		earlyLimit = len(g.order) == 0 && g.limit > 0
	)
	for i := range n {
		row, err := groupRow(i)
		if err != nil {
			return nil, err
		}
		if ok, err := condition(g.having, g.havingPos, "HAVING", row); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		keys := orderKeys[:len(g.order):len(g.order)]
		orderKeys = orderKeys[len(g.order):]
		for i, o := range g.order {
			if keys[i], err = o.eval(row); err != nil {
				return nil, err
			}
		}
		kept = append(kept, result{row: row, keys: keys})
		if earlyLimit && int64(len(kept)) == g.limit {
			break
		}
	}
	if len(g.order) > 0 {
		var sortErr error
		slices.SortStableFunc(kept, func(a, b result) int {
			for i, o := range g.order {
				c, err := compareOrder(a.keys[i], b.keys[i], o.desc)
				if err != nil && sortErr == nil {
					sortErr = errorf(o.pos, "ORDER BY: %v", err)
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
		if sortErr != nil {
			return nil, sortErr
		}
	}
	if g.limit >= 0 && int64(len(kept)) > g.limit {
		kept = kept[:g.limit]
	}
	rows := make([]map[string]any, len(kept))
	for i, r := range kept {
		rows[i] = r.row
	}
	return p.projectRows(rows)
}

// partition splits rows into groups: by the keys, in order of first
// appearance, each group's rows in input order.
func (g *grouping) partition(rows []map[string]any) ([][]map[string]any, error) {
	if len(g.keys) == 0 {
		if g.whole {
			return [][]map[string]any{rows}, nil
		}
		groups := make([][]map[string]any, len(rows))
		for i := range rows {
			groups[i] = rows[i : i+1 : i+1]
		}
		return groups, nil
	}
	index := map[string]int{}
	ids := make([]int, len(rows))
	var counts []int
	var key []byte
	for i, r := range rows {
		key = key[:0]
		for _, k := range g.keys {
			v, err := k(r)
			if err != nil {
				return nil, err
			}
			key = appendKey(key, v)
		}
		id, ok := index[string(key)]
		if !ok {
			if len(counts) == g.maxGroups {
				return nil, &Error{Line: g.keysPos.Line, Col: g.keysPos.Col, Err: ErrTooManyGroups,
					Msg: fmt.Sprintf("GROUP BY: more than %d groups", g.maxGroups)}
			}
			id = len(counts)
			index[string(key)] = id
			counts = append(counts, 0)
		}
		ids[i] = id
		counts[id]++
	}
	// One backing array, cut by group sizes, holds the rows by group.
	byGroup := make([]map[string]any, len(rows))
	groups := make([][]map[string]any, len(counts))
	off := 0
	for id, n := range counts {
		groups[id] = byGroup[off : off : off+n]
		off += n
	}
	for i, r := range rows {
		groups[ids[i]] = append(groups[ids[i]], r)
	}
	return groups, nil
}

// appendKey appends an encoding of v to b such that two values encode
// alike exactly when they are equal by SQL =, and NULL encodes as a value
// of its own: numbers compare across int64 and float64 (1 and 1.0 are one
// key), times by instant, maps and lists by content. Each encoding is
// self-delimiting, so keys can be concatenated.
func appendKey(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, 'n')
	case string:
		return append(binary.AppendUvarint(append(b, 's'), uint64(len(x))), x...)
	case bool:
		if x {
			return append(b, 'T')
		}
		return append(b, 'F')
	case []byte:
		return append(binary.AppendUvarint(append(b, 'y'), uint64(len(x))), x...)
	case time.Time:
		return binary.AppendUvarint(binary.AppendVarint(append(b, 't'), x.Unix()), uint64(x.Nanosecond()))
	case map[string]any:
		b = binary.AppendUvarint(append(b, 'm'), uint64(len(x)))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			b = append(binary.AppendUvarint(b, uint64(len(k))), k...)
			b = appendKey(b, x[k])
		}
		return b
	case []any:
		b = binary.AppendUvarint(append(b, 'l'), uint64(len(x)))
		for _, e := range x {
			b = appendKey(b, e)
		}
		return b
	}
	n, ok := number(v)
	switch {
	case !ok:
		s := fmt.Sprintf("%T:%v", v, v)
		return append(binary.AppendUvarint(append(b, 'x'), uint64(len(s))), s...)
	case !n.isFloat:
		return binary.AppendVarint(append(b, 'i'), n.i)
	case n.f == math.Trunc(n.f) && n.f >= math.MinInt64 && n.f < math.MaxInt64:
		return binary.AppendVarint(append(b, 'i'), int64(n.f)) // also -0
	case math.IsNaN(n.f):
		return append(b, 'N')
	}
	return binary.BigEndian.AppendUint64(append(b, 'f'), math.Float64bits(n.f))
}

// compareOrder compares two ORDER BY values: NULL first whatever the
// direction, then as order does, and false before true.
func compareOrder(a, b any, desc bool) (int, error) {
	switch {
	case a == nil && b == nil:
		return 0, nil
	case a == nil:
		return -1, nil
	case b == nil:
		return 1, nil
	}
	c, ok := order(a, b)
	if !ok {
		x, ok1 := a.(bool)
		y, ok2 := b.(bool)
		if !ok1 || !ok2 {
			return 0, fmt.Errorf("cannot compare %s and %s", typeName(a), typeName(b))
		}
		switch {
		case x == y:
			c = 0
		case y:
			c = -1
		default:
			c = 1
		}
	}
	if desc {
		c = -c
	}
	return c, nil
}
