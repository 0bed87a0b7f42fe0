package sql

import "slices"

// walk calls fn for e and, while fn returns true, for its children, in
// source order.
func walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	switch e := e.(type) {
	case *Member:
		walk(e.X, fn)
	case *Index:
		walk(e.X, fn)
		walk(e.Index, fn)
	case *Unary:
		walk(e.X, fn)
	case *Binary:
		walk(e.L, fn)
		walk(e.R, fn)
	case *In:
		walk(e.X, fn)
		for _, x := range e.List {
			walk(x, fn)
		}
	case *Between:
		walk(e.X, fn)
		walk(e.Lo, fn)
		walk(e.Hi, fn)
	case *Like:
		walk(e.X, fn)
		walk(e.Pattern, fn)
	case *IsNull:
		walk(e.X, fn)
	case *Case:
		walk(e.Operand, fn)
		for _, w := range e.Whens {
			walk(w.Cond, fn)
			walk(w.Result, fn)
		}
		walk(e.Else, fn)
	case *Call:
		for _, x := range e.Args {
			walk(x, fn)
		}
	}
}

// rewrite replaces every node of e, children first, by fn of it.
func rewrite(e Expr, fn func(Expr) Expr) Expr {
	if e == nil {
		return nil
	}
	switch e := e.(type) {
	case *Member:
		e.X = rewrite(e.X, fn)
	case *Index:
		e.X = rewrite(e.X, fn)
		e.Index = rewrite(e.Index, fn)
	case *Unary:
		e.X = rewrite(e.X, fn)
	case *Binary:
		e.L = rewrite(e.L, fn)
		e.R = rewrite(e.R, fn)
	case *In:
		e.X = rewrite(e.X, fn)
		for i := range e.List {
			e.List[i] = rewrite(e.List[i], fn)
		}
	case *Between:
		e.X = rewrite(e.X, fn)
		e.Lo = rewrite(e.Lo, fn)
		e.Hi = rewrite(e.Hi, fn)
	case *Like:
		e.X = rewrite(e.X, fn)
		e.Pattern = rewrite(e.Pattern, fn)
	case *IsNull:
		e.X = rewrite(e.X, fn)
	case *Case:
		e.Operand = rewrite(e.Operand, fn)
		for i := range e.Whens {
			e.Whens[i].Cond = rewrite(e.Whens[i].Cond, fn)
			e.Whens[i].Result = rewrite(e.Whens[i].Result, fn)
		}
		e.Else = rewrite(e.Else, fn)
	case *Call:
		for i := range e.Args {
			e.Args[i] = rewrite(e.Args[i], fn)
		}
	}
	return fn(e)
}

// calls lists every call of the statement, in clause order: the select
// list, JOIN conditions, WHERE, GROUP BY, the window's FILTER and trigger,
// HAVING, ORDER BY.
func (sel *Select) calls() []*Call {
	var calls []*Call
	visit := func(e Expr) {
		walk(e, func(x Expr) bool {
			if c, ok := x.(*Call); ok {
				calls = append(calls, c)
			}
			return true
		})
	}
	for _, f := range sel.Fields {
		visit(f.Expr)
	}
	for _, j := range sel.Joins {
		visit(j.On)
	}
	visit(sel.Where)
	for _, g := range sel.GroupBy {
		visit(g)
	}
	if w := sel.Window; w != nil {
		visit(w.Filter)
		visit(w.Trigger)
	}
	visit(sel.Having)
	for _, o := range sel.OrderBy {
		visit(o.Expr)
	}
	return calls
}

// Calls lists the names of the functions the statement calls, as written,
// each once, in source order (the engine names the rules that use a
// function plugin with it).
func (sel *Select) Calls() []string {
	var names []string
	for _, c := range sel.calls() {
		if !slices.Contains(names, c.Name) {
			names = append(names, c.Name)
		}
	}
	return names
}
