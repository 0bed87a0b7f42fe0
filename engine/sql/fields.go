package sql

import (
	"maps"
	"slices"
	"strings"
)

// Fields is what a program reads of the rows of one stream: the top-level
// fields named in Names, or, when All is set, whole rows. A nested path
// such as a->b or a[0] reads the top-level field a.
type Fields struct {
	All bool
	// Names are sorted and distinct; nil when All is set, and empty when
	// the program reads no field of the stream (SELECT count(*) ...).
	Names []string
}

// StreamFields returns what the program reads of each stream the SELECT
// reads, by stream name (the keys are those of Select.Streams): the
// top-level fields named in any clause (SELECT, WHERE, GROUP BY, HAVING,
// ORDER BY, a window's FILTER and OVER, JOIN's ON, the arguments of every
// function call), or all of them when the program needs whole rows: for *
// and s.* in SELECT or as a function argument, self, and deduplicate,
// which is handed the rows themselves. count(*) reads no field, and meta()
// reads the source's metadata, not the row. With JOIN, an unqualified
// field may come from any stream, and a stream joined under two aliases
// has what both sides read. The map is the caller's to keep.
//
// Rows that carry only these fields give the same results as whole rows.
func (p *Program) StreamFields() map[string]Fields {
	out := make(map[string]Fields, len(p.reads))
	for name, f := range p.reads {
		out[name] = Fields{All: f.All, Names: slices.Clone(f.Names)}
	}
	return out
}

// fieldUses works out StreamFields for a compiled SELECT.
type fieldUses struct {
	streams []string
	// sideStream maps what the SELECT calls a joined side to its stream's
	// index in streams; nil without JOIN.
	sideStream map[string]int
	all        []bool
	names      []map[string]bool
}

// reads finds what sel reads of each of its streams. c is the compiler
// that compiled sel, whose join scope resolves qualifiers.
func (c *compiler) reads(sel *Select) map[string]Fields {
	u := &fieldUses{streams: sel.Streams()}
	u.all = make([]bool, len(u.streams))
	u.names = make([]map[string]bool, len(u.streams))
	for i := range u.names {
		u.names[i] = map[string]bool{}
	}
	if c.join != nil {
		u.sideStream = map[string]int{}
		for q, i := range c.join.names {
			if i >= 0 {
				u.sideStream[q] = c.join.sides[i].stream
			}
		}
	}
	for _, f := range sel.Fields {
		u.expr(f.Expr)
	}
	for _, j := range sel.Joins {
		u.expr(j.On)
	}
	u.expr(sel.Where)
	for _, k := range sel.GroupBy {
		u.expr(k)
	}
	if w := sel.Window; w != nil {
		u.expr(w.Filter)
		u.expr(w.Trigger)
	}
	u.expr(sel.Having)
	for _, o := range sel.OrderBy {
		u.expr(o.Expr)
	}
	out := make(map[string]Fields, len(u.streams))
	for i, name := range u.streams {
		if u.all[i] {
			out[name] = Fields{All: true}
			continue
		}
		out[name] = Fields{Names: slices.Sorted(maps.Keys(u.names[i]))}
	}
	return out
}

func (u *fieldUses) expr(e Expr) {
	walk(e, func(e Expr) bool {
		switch e := e.(type) {
		case *FieldRef:
			// In HAVING and ORDER BY the name may be a SELECT alias;
			// reading a field of that name too is harmless.
			u.field(e.Stream, e.Name)
		case *Star:
			u.whole(e.Stream)
		case *Self:
			u.whole("")
		case *Call:
			switch lower := strings.ToLower(e.Name); {
			case lower == "meta":
				return false // its argument names metadata
			case lower == "count" && len(e.Args) == 1 && isBareStar(e.Args[0]):
				return false // counts rows, which are never NULL
			default:
				if b, ok := builtins[lower]; ok && b.rows {
					u.whole("")
				}
			}
		}
		return true
	})
}

func isBareStar(e Expr) bool {
	s, ok := e.(*Star)
	return ok && s.Stream == "" && len(s.Except) == 0
}

// streamsOf are the indexes of the streams a qualifier may name: without
// JOIN the one stream; with JOIN the qualified side's stream, or every
// stream for an unqualified name or one not resolved.
func (u *fieldUses) streamsOf(qualifier string) []int {
	if u.sideStream == nil {
		return []int{0}
	}
	if i, ok := u.sideStream[qualifier]; ok && qualifier != "" {
		return []int{i}
	}
	all := make([]int, len(u.streams))
	for i := range all {
		all[i] = i
	}
	return all
}

func (u *fieldUses) field(qualifier, name string) {
	for _, i := range u.streamsOf(qualifier) {
		u.names[i][name] = true
	}
}

func (u *fieldUses) whole(qualifier string) {
	for _, i := range u.streamsOf(qualifier) {
		u.all[i] = true
	}
}
