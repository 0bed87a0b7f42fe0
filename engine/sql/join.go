package sql

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kgen-dev/kgen/engine/schema"
)

// A SELECT with JOIN reads several streams and runs per window. The engine
// puts the rows of all its streams into the one window, each tagged with
// its stream (JoinInput); at each emission Join pairs them up by the JOIN
// clauses, and WHERE, GROUP BY, the aggregates, HAVING, ORDER BY, LIMIT
// and the select list then run on the joined rows, as eKuiper orders them.
//
// A joined row maps the name of each side of the join (its alias, else its
// stream's name) to that stream's row, or to nil where an outer join found
// no match:
//
//	FROM demo AS d LEFT JOIN demo1 ON ...  →  {"d": {...}, "demo1": nil}
//
// A qualified column d.x reads row["d"]["x"]; an unqualified one is
// resolved at compile time to the one side whose schema has it.

// DefaultMaxJoinRows is the bound on the rows Join makes of one result set
// when Env.MaxJoinRows is 0.
const DefaultMaxJoinRows = 100000

// ErrTooManyRows is wrapped by the error of Join when a result set would
// join into more than Env.MaxJoinRows rows.
var ErrTooManyRows = errors.New("too many joined rows")

// JoinInput is one row of a result set of a joined SELECT: Row came from
// the stream Select.Streams()[Stream].
type JoinInput struct {
	Stream int
	Row    map[string]any
}

// Streams returns the names of the streams sel reads: FROM's, then each
// JOIN's, in order, each once. A stream joined with itself under two
// aliases is listed once: its rows are on both sides of the join.
func (sel *Select) Streams() []string {
	names := []string{sel.From}
	for _, j := range sel.Joins {
		if !slices.Contains(names, j.Stream) {
			names = append(names, j.Stream)
		}
	}
	return names
}

// joinSide is one side of a join: FROM's stream, then each JOIN's.
type joinSide struct {
	// name is what the SELECT calls the side, its alias else its stream's
	// name: the key of its row in a joined row, and the name in messages.
	name   string
	stream int // index into Select.Streams
	schema schema.Schema
	// kind and on are the JOIN clause that joins the side to those before
	// it, at pos, its ON at onPos: none for FROM's, no on for CROSS JOIN.
	kind       JoinKind
	on         evalFn
	pos, onPos Pos
}

// joinScope is how the compiler resolves names in a joined SELECT.
type joinScope struct {
	sides []joinSide
	// names maps a qualifier to a side: an alias, the name of a stream
	// without one, and the name of an aliased stream that no other side
	// goes by; -1 for the name of a stream joined more than once.
	names map[string]int
	// visible is how many sides references see: those joined so far while
	// an ON is compiled, all of them otherwise.
	visible int
}

// joinPlan is the compiled JOIN clauses of a Program.
type joinPlan struct {
	sides   []joinSide
	streams int
	maxRows int
}

// joinScope checks the streams of a joined SELECT against env and sets up
// the names its expressions resolve.
func (c *compiler) joinScope(sel *Select) error {
	if sel.Window == nil {
		return errorf(sel.Joins[0].pos, "JOIN needs a window: streams are joined per window, as in GROUP BY TUMBLINGWINDOW(ss, 10)")
	}
	if w := sel.Window; w.Filter != nil {
		return errorf(startPos(w.Filter), "FILTER (WHERE ...) is not supported with JOIN: it would see one stream's rows; use WHERE")
	} else if w.Trigger != nil {
		return errorf(startPos(w.Trigger), "OVER (WHEN ...) is not supported with JOIN")
	}
	streams := sel.Streams()
	j := &joinScope{names: map[string]int{}}
	add := func(stream, alias string, s joinSide) {
		s.name = cmp.Or(alias, stream)
		s.stream = slices.Index(streams, stream)
		j.names[s.name] = len(j.sides)
		j.sides = append(j.sides, s)
	}
	add(sel.From, sel.Alias, joinSide{schema: c.env.Schema})
	for _, jn := range sel.Joins {
		sch := c.env.Schema
		if jn.Stream != sel.From {
			var ok bool
			if sch, ok = c.env.Streams[jn.Stream]; !ok {
				return errorf(jn.pos, "JOIN: unknown stream %q", jn.Stream)
			}
		}
		add(jn.Stream, jn.Alias, joinSide{schema: sch, kind: jn.Kind, pos: jn.pos})
	}
	// The parser has checked that the sides go by distinct names. The name
	// of an aliased stream also names its side when no side goes by it,
	// unless the stream is joined more than once.
	joined := map[int]int{}
	for _, s := range j.sides {
		joined[s.stream]++
	}
	for i, s := range j.sides {
		stream := streams[s.stream]
		if _, taken := j.names[stream]; taken {
			continue
		}
		if joined[s.stream] > 1 {
			j.names[stream] = -1
		} else {
			j.names[stream] = i
		}
	}
	j.visible = len(j.sides)
	c.join = j
	return nil
}

// joinOn compiles the ON conditions, each seeing the sides up to its own.
func (c *compiler) joinOn(sel *Select) error {
	j := c.join
	defer func() { j.visible, c.clause = len(j.sides), "" }()
	for i, jn := range sel.Joins {
		if jn.On == nil {
			continue
		}
		j.visible, c.clause = i+2, "ON"
		code, err := c.expr(jn.On)
		if err != nil {
			return err
		}
		s := &j.sides[i+1]
		s.on, s.onPos = code.eval, startPos(jn.On)
		if code.konst {
			if _, err := condition(s.on, s.onPos, "ON", nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// side finds the side a qualifier names.
func (j *joinScope) side(q string, pos Pos) (int, error) {
	i, ok := j.names[q]
	switch {
	case !ok:
		return 0, errorf(pos, "unknown stream %q", q)
	case i < 0:
		return 0, errorf(pos, "stream %q is joined more than once: qualify with its alias", q)
	case i >= j.visible:
		return 0, errorf(pos, "stream %q is joined after this ON, which sees only the streams joined so far", q)
	}
	return i, nil
}

// column resolves a column of a joined SELECT to the side that has it:
// the qualifier's, or the one side whose schema has the column. When no
// schema has it, it returns the schemaless sides, to look in at run time in
// FROM order.
func (j *joinScope) column(e *FieldRef) ([]int, error) {
	if e.Stream != "" {
		i, err := j.side(e.Stream, e.pos)
		if err != nil {
			return nil, err
		}
		if s := &j.sides[i]; s.schema != nil {
			if _, ok := s.schema.Lookup(e.Name); !ok {
				return nil, errorf(e.pos, "unknown field %q in stream %q", e.Name, s.name)
			}
		}
		return []int{i}, nil
	}
	var has, schemaless []int
	for i, s := range j.sides[:j.visible] {
		if s.schema == nil {
			schemaless = append(schemaless, i)
		} else if _, ok := s.schema.Lookup(e.Name); ok {
			has = append(has, i)
		}
	}
	switch {
	case len(has) > 1:
		first := j.sides[has[0]].name
		return nil, errorf(e.pos, "ambiguous field %q: streams %s have it; qualify it, as in %s.%s",
			e.Name, j.names2text(has), first, e.Name)
	case len(has) == 1:
		return has, nil
	case len(schemaless) > 0:
		return schemaless, nil
	}
	all := make([]int, j.visible)
	for i := range all {
		all[i] = i
	}
	return nil, errorf(e.pos, "unknown field %q in streams %s", e.Name, j.names2text(all))
}

// names2text lists the names of sides for a message: "a", "b" and "c".
func (j *joinScope) names2text(sides []int) string {
	var b strings.Builder
	for k, i := range sides {
		switch {
		case k == 0:
		case k == len(sides)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", j.sides[i].name)
	}
	return b.String()
}

// schemaOf is the schema of the side a reference resolves to alone; nil
// when it does not, or the side is schemaless.
func (j *joinScope) schemaOf(e *FieldRef) schema.Schema {
	sides, err := j.column(e)
	if err != nil || len(sides) != 1 {
		return nil
	}
	return j.sides[sides[0]].schema
}

// joinField compiles a column reference of a joined SELECT.
func (c *compiler) joinField(e *FieldRef) (code, error) {
	sides, err := c.join.column(e)
	if err != nil {
		return code{}, err
	}
	name := e.Name
	if len(sides) == 1 {
		key := c.join.sides[sides[0]].name
		return code{eval: func(row map[string]any) (any, error) {
			m, _ := row[key].(map[string]any)
			return m[name], nil
		}}, nil
	}
	keys := c.sideNames(sides)
	return code{eval: func(row map[string]any) (any, error) {
		for _, k := range keys {
			if m, ok := row[k].(map[string]any); ok {
				if v, ok := m[name]; ok {
					return v, nil
				}
			}
		}
		return nil, nil
	}}, nil
}

func (c *compiler) sideNames(sides []int) []string {
	keys := make([]string, len(sides))
	for k, i := range sides {
		keys[k] = c.join.sides[i].name
	}
	return keys
}

// joinStar resolves a star of a joined SELECT: * to every side seen, s.* to
// side s. It checks the EXCEPT columns against the schemas.
func (c *compiler) joinStar(s *Star) (starField, error) {
	j := c.join
	var sides []int
	if s.Stream != "" {
		i, err := j.side(s.Stream, s.pos)
		if err != nil {
			return starField{}, err
		}
		sides = []int{i}
	} else {
		for i := range j.visible {
			sides = append(sides, i)
		}
	}
	for _, n := range s.Except {
		found := false
		for _, i := range sides {
			sch := j.sides[i].schema
			if _, ok := sch.Lookup(n); ok || sch == nil {
				found = true
				break
			}
		}
		if !found {
			if len(sides) == 1 {
				return starField{}, errorf(s.pos, "unknown field %q in stream %q", n, j.sides[sides[0]].name)
			}
			return starField{}, errorf(s.pos, "unknown field %q in streams %s", n, j.names2text(sides))
		}
	}
	return starField{except: s.Except, qualifier: s.Stream, sides: c.sideNames(sides)}, nil
}

// joinMeta compiles meta() in a joined SELECT: meta(s.key) reads the
// metadata of side s; meta(key) and meta(*) the first side, in FROM order,
// whose row is there and has the key.
func (c *compiler) joinMeta(path []string) code {
	j := c.join
	var keys []string
	if len(path) > 1 {
		if i, ok := j.names[path[0]]; ok && i >= 0 && i < j.visible {
			keys, path = []string{j.sides[i].name}, path[1:]
		}
	}
	if keys == nil {
		for _, s := range j.sides[:j.visible] {
			keys = append(keys, s.name)
		}
	}
	return code{eval: func(row map[string]any) (any, error) {
		for _, k := range keys {
			side, ok := row[k].(map[string]any)
			if !ok {
				continue
			}
			v, ok := side[MetaKey]
			for _, p := range path {
				m, isMap := v.(map[string]any)
				if !isMap {
					ok = false
					break
				}
				v, ok = m[p]
			}
			if ok {
				return v, nil
			}
		}
		return nil, nil
	}}
}

// Joined reports whether the SELECT has JOIN: its result sets are then
// rows tagged with their stream, for Join.
func (p *Program) Joined() bool { return p.join != nil }

// Join pairs up one result set of a joined SELECT, rows tagged with their
// stream in arrival order, by its JOIN clauses, left to right, and returns
// the joined rows (see the package documentation). ON is evaluated on each
// pair: true joins it, NULL and false do not, another value is an error.
// INNER and CROSS JOIN give the pairs in the order of the left rows, then
// of the right; LEFT JOIN also gives each left row without a match, with
// nil for the right side, in its place; RIGHT JOIN gives the pairs in the
// order of the right rows, and each right row without a match with nil for
// the sides before it; FULL JOIN gives what LEFT JOIN does, then the right
// rows without a match.
//
// A program without JOIN returns the rows as they are. Join fails on a
// Stream out of range and, with an error wrapping ErrTooManyRows, when the
// result set would join into more than Env.MaxJoinRows rows.
func (p *Program) Join(rows []JoinInput) ([]map[string]any, error) {
	j := p.join
	if j == nil {
		out := make([]map[string]any, len(rows))
		for i, in := range rows {
			out[i] = in.Row
		}
		return out, nil
	}
	byStream := make([][]map[string]any, j.streams)
	for _, in := range rows {
		if in.Stream < 0 || in.Stream >= j.streams {
			return nil, fmt.Errorf("join: stream %d out of range [0, %d)", in.Stream, j.streams)
		}
		byStream[in.Stream] = append(byStream[in.Stream], in.Row)
	}
	first := j.sides[0]
	left := make([]map[string]any, len(byStream[first.stream]))
	for i, r := range byStream[first.stream] {
		row := make(map[string]any, len(j.sides))
		row[first.name] = r
		left[i] = row
	}
	for i := 1; i < len(j.sides); i++ {
		var err error
		if left, err = j.step(left, byStream[j.sides[i].stream], i); err != nil {
			return nil, err
		}
	}
	return left, nil
}

// step joins the rows of side i to the rows joined so far.
func (j *joinPlan) step(left, right []map[string]any, i int) ([]map[string]any, error) {
	s := &j.sides[i]
	// The pairs ON accepts, as indexes into left and right, left-major.
	type pair struct{ l, r int }
	var pairs []pair
	scratch := make(map[string]any, len(j.sides))
	for li, l := range left {
		clear(scratch)
		maps.Copy(scratch, l)
		for ri, r := range right {
			scratch[s.name] = r
			ok, err := condition(s.on, s.onPos, "ON", scratch)
			if err != nil {
				return nil, err
			}
			if ok {
				if len(pairs) == j.maxRows {
					return nil, j.tooMany(s)
				}
				pairs = append(pairs, pair{li, ri})
			}
		}
	}
	out := make([]map[string]any, 0, len(pairs))
	emit := func(l map[string]any, r map[string]any) error {
		if len(out) == j.maxRows {
			return j.tooMany(s)
		}
		row := make(map[string]any, len(j.sides))
		if l == nil {
			for _, before := range j.sides[:i] {
				row[before.name] = nil
			}
		} else {
			maps.Copy(row, l)
		}
		row[s.name] = r
		out = append(out, row)
		return nil
	}
	switch s.kind {
	case InnerJoin, CrossJoin:
		for _, p := range pairs {
			if err := emit(left[p.l], right[p.r]); err != nil {
				return nil, err
			}
		}
	case LeftJoin, FullJoin:
		matched := make([]bool, len(right))
		k := 0
		for li, l := range left {
			if k == len(pairs) || pairs[k].l != li {
				if err := emit(l, nil); err != nil {
					return nil, err
				}
				continue
			}
			for ; k < len(pairs) && pairs[k].l == li; k++ {
				matched[pairs[k].r] = true
				if err := emit(l, right[pairs[k].r]); err != nil {
					return nil, err
				}
			}
		}
		if s.kind == FullJoin {
			for ri, r := range right {
				if !matched[ri] {
					if err := emit(nil, r); err != nil {
						return nil, err
					}
				}
			}
		}
	case RightJoin:
		slices.SortStableFunc(pairs, func(a, b pair) int { return a.r - b.r })
		k := 0
		for ri, r := range right {
			if k == len(pairs) || pairs[k].r != ri {
				if err := emit(nil, r); err != nil {
					return nil, err
				}
				continue
			}
			for ; k < len(pairs) && pairs[k].r == ri; k++ {
				if err := emit(left[pairs[k].l], r); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

func (j *joinPlan) tooMany(s *joinSide) error {
	return &Error{Line: s.pos.Line, Col: s.pos.Col, Err: ErrTooManyRows,
		Msg: fmt.Sprintf("JOIN: more than %d joined rows", j.maxRows)}
}
