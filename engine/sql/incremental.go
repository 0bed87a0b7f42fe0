package sql

import (
	"errors"
	"math"
	"math/bits"
	"reflect"
)

// # Incremental evaluation
//
// An Incremental keeps the state of a grouped SELECT over a set of rows
// that changes at both ends, rows entering at the back (Add) and leaving
// at the front in the order they entered (Remove), as a sliding window's
// do, so that Result costs O(groups) instead of ProjectGroups' O(rows).
// Add and Remove evaluate nothing but the new row's GROUP BY keys and
// aggregate arguments, once, and cost O(1) amortised plus the group
// reordering below. Result returns exactly what ProjectGroups over the
// current rows would: same values of the same types, same group order,
// same errors.
//
// State. Every row is kept in a FIFO, with its group; each group keeps a
// FIFO of its own rows with their aggregate arguments, and per aggregate:
//
//   - count: the number of non-NULL arguments (every row for count(*));
//   - sum, avg: that count, the int64 total of the integer arguments
//     (wrapping), the 128-bit total of their absolute values, the number
//     of floats and their exact sum (fsum: a float leaving is subtracted,
//     exactly). While the absolute total is at most MaxInt64, no partial
//     sum ProjectGroups computes can overflow, so the running int64 total
//     is exact. Without a float it is the sum, and avg is total/count in
//     integers as ProjectGroups does; with floats, the exact sum of the
//     floats plus that total, rounded once, is the sum ProjectGroups gives
//     (it sums exactly too, in any order), and avg is it / count. With an
//     absolute total past MaxInt64, a NaN, a value that is not a number,
//     or a float sum that is not finite (an error), the aggregate is
//     recomputed from the group's stored arguments by the aggregate
//     itself, which keeps integer overflow errors, type errors and their
//     wording identical to recomputation (at O(group rows) per Result for
//     that group, only then);
//   - min, max: a monotonic deque of (row number, number): a value enters
//     at the back after dropping the values it beats (strictly, so that
//     among equal values the oldest stays in front, the one ProjectGroups
//     returns) and leaves at the front when its row does. The front is the
//     result, float64 when a float is among the values as ProjectGroups
//     gives. NaN and values other than numbers (strings, datetimes, which
//     compare by their own rules or are errors) make the aggregate
//     recomputed while they are in the group.
//
// Group rows are copies of the group's first row, the oldest still in the
// window: the front of its FIFO.
//
// Group order is the order of first appearance among the current rows,
// that is by the number of each group's oldest row. The groups form a
// doubly linked list in that order: a new group, whose oldest row is the
// newest of all, goes at the tail; Remove takes the oldest row of all,
// which is the oldest of the group at the head, and moves that group to
// where its next row's number falls, searching from both ends at once, so
// that it costs O(1) for one group or groups taking turns, and at most
// O(groups), the cost of a Result anyway; an emptied group is dropped.
//
// Rows whose key or an argument cannot be evaluated, and more groups than
// Env.MaxGroups, make Result fall back to ProjectGroups over the current
// rows while they last, which returns the error as it would have.

// Incremental evaluates a grouped SELECT over rows that enter at the back
// and leave at the front: see Program.Incremental. It is not safe for
// concurrent use.
type Incremental struct {
	p     *Program
	g     *grouping
	kinds []incKind
	argAt []int // where each aggregate's argument is in incRow.args

	rows       deque[incEntry]
	next       uint64 // number of the next row added
	groups     map[string]*incGroup
	head, tail *incGroup
	bad        int // rows whose key or an argument failed
	key        []byte
}

type incKind int8

const (
	incCount incKind = iota
	incSum
	incAvg
	incMin
	incMax
)

var incKinds = map[string]incKind{"count": incCount, "sum": incSum, "avg": incAvg, "min": incMin, "max": incMax}

type incEntry struct {
	row map[string]any
	grp *incGroup // nil when its key or an argument failed
}

type incGroup struct {
	key        string
	rows       deque[incRow]
	aggs       []incAgg
	prev, next *incGroup
}

type incRow struct {
	seq  uint64
	row  map[string]any
	args []any
}

type incAgg struct {
	n, floats, irregular int
	sum                  int64
	absLo, absHi         uint64
	fs                   fsum          // the floats, for sum and avg
	ext                  deque[incNum] // min and max
}

type incNum struct {
	seq uint64
	v   num
}

// Incremental returns an incremental evaluator of the program (see
// Incremental), false when the program cannot have one: it is not
// Grouped, joins streams, has neither GROUP BY keys nor aggregates nor
// HAVING (each row is then its own group and there is nothing to keep),
// or calls an aggregate other than the built-in count, sum, avg, min and
// max of one argument.
func (p *Program) Incremental() (*Incremental, bool) {
	g := p.group
	if g == nil || p.join != nil || len(g.keys) == 0 && !g.whole {
		return nil, false
	}
	in := &Incremental{p: p, g: g, groups: map[string]*incGroup{}}
	at := 0
	for _, a := range g.aggs {
		k, ok := incKinds[a.builtin]
		if !ok || len(a.args) != 1 {
			return nil, false
		}
		in.kinds = append(in.kinds, k)
		in.argAt = append(in.argAt, at)
		at += len(a.args)
	}
	return in, true
}

// Len is the number of current rows.
func (in *Incremental) Len() int { return in.rows.len() }

// Rows returns the current rows, oldest first, in a new slice.
func (in *Incremental) Rows() []map[string]any {
	out := make([]map[string]any, in.rows.len())
	for i := range out {
		out[i] = in.rows.at(i).row
	}
	return out
}

// Add adds a row at the back. It evaluates the row's GROUP BY keys and
// aggregate arguments; an error there is not returned but by Result, as
// ProjectGroups would. A panic in them leaves the state unchanged.
func (in *Incremental) Add(row map[string]any) error {
	g := in.g
	var args []any
	if g.nargs > 0 {
		args = make([]any, g.nargs)
	}
	ok := true
	in.key = in.key[:0]
	for _, k := range g.keys {
		v, err := k(row)
		if err != nil {
			ok = false
			break
		}
		in.key = appendKey(in.key, v)
	}
	if ok && g.hidden {
	eval:
		for i := range g.aggs {
			for j, f := range g.aggs[i].args {
				v, err := f(row)
				if err != nil {
					ok = false
					break eval
				}
				args[in.argAt[i]+j] = v
			}
		}
	}
	seq := in.next
	in.next++
	if !ok {
		in.bad++
		in.rows.pushBack(incEntry{row: row})
		return nil
	}
	grp := in.groups[string(in.key)]
	if grp == nil {
		grp = &incGroup{key: string(in.key), aggs: make([]incAgg, len(g.aggs)), prev: in.tail}
		in.groups[grp.key] = grp
		if in.tail != nil {
			in.tail.next = grp
		} else {
			in.head = grp
		}
		in.tail = grp
	}
	grp.rows.pushBack(incRow{seq: seq, row: row, args: args})
	if g.hidden {
		for i, k := range in.kinds {
			grp.aggs[i].add(k, seq, args[in.argAt[i]])
		}
	}
	in.rows.pushBack(incEntry{row: row, grp: grp})
	return nil
}

var errRemoveOrder = errors.New("sql: Incremental.Remove: not the oldest row")

// Remove removes the oldest row, which must be row (the same map): rows
// leave in the order they were added.
func (in *Incremental) Remove(row map[string]any) error {
	if in.rows.len() == 0 || !sameMap(in.rows.front().row, row) {
		return errRemoveOrder
	}
	e := in.rows.popFront()
	if e.grp == nil {
		in.bad--
		return nil
	}
	grp := e.grp
	r := grp.rows.popFront()
	if in.g.hidden {
		for i, k := range in.kinds {
			grp.aggs[i].remove(k, r.seq, r.args[in.argAt[i]])
		}
	}
	if grp.rows.len() == 0 {
		in.unlink(grp)
		delete(in.groups, grp.key)
		return nil
	}
	in.reposition(grp)
	return nil
}

func sameMap(a, b map[string]any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func (in *Incremental) unlink(grp *incGroup) {
	if grp.prev != nil {
		grp.prev.next = grp.next
	} else {
		in.head = grp.next
	}
	if grp.next != nil {
		grp.next.prev = grp.prev
	} else {
		in.tail = grp.prev
	}
	grp.prev, grp.next = nil, nil
}

// insertAfter links grp after prev, at the head when prev is nil.
func (in *Incremental) insertAfter(grp, prev *incGroup) {
	grp.prev = prev
	if prev != nil {
		grp.next = prev.next
		prev.next = grp
	} else {
		grp.next = in.head
		in.head = grp
	}
	if grp.next != nil {
		grp.next.prev = grp
	} else {
		in.tail = grp
	}
}

// reposition moves grp, whose oldest row is now later, to its place in
// the list, the other groups being in order.
func (in *Incremental) reposition(grp *incGroup) {
	s := grp.rows.front().seq
	oldest := func(x *incGroup) uint64 { return x.rows.front().seq }
	fwd, bwd := grp.next, in.tail
	for {
		if fwd == nil || oldest(fwd) > s {
			if fwd == grp.next {
				return
			}
			var prev *incGroup
			if fwd == nil {
				prev = in.tail
			} else {
				prev = fwd.prev
			}
			in.unlink(grp)
			in.insertAfter(grp, prev)
			return
		}
		if bwd == grp {
			return
		}
		if oldest(bwd) < s {
			in.unlink(grp)
			in.insertAfter(grp, bwd)
			return
		}
		fwd, bwd = fwd.next, bwd.prev
	}
}

// Result returns what ProjectGroups(rows, start, end) returns for the
// current rows.
func (in *Incremental) Result(start, end int64) ([]map[string]any, error) {
	g := in.g
	if in.rows.len() == 0 || g.limit == 0 {
		return []map[string]any{}, nil
	}
	if in.bad > 0 || len(in.groups) > g.maxGroups {
		return in.p.ProjectGroups(in.Rows(), start, end)
	}
	cur := in.head
	return in.p.finish(len(in.groups), func(int) (map[string]any, error) {
		grp := cur
		cur = cur.next
		first := grp.rows.front().row
		if !g.hidden {
			return first, nil
		}
		row := g.groupRow(first, start, end)
		for i, k := range in.kinds {
			v, err := in.value(grp, i, k)
			if err != nil {
				return nil, err
			}
			row[g.aggs[i].key] = v
		}
		return row, nil
	})
}

// value is the result of aggregate i of a group.
func (in *Incremental) value(grp *incGroup, i int, k incKind) (any, error) {
	a := &grp.aggs[i]
	switch k {
	case incCount:
		return int64(a.n), nil
	case incSum, incAvg:
		if a.irregular > 0 || a.absHi != 0 || a.absLo > math.MaxInt64 {
			break
		}
		switch {
		case a.n == 0:
			return nil, nil
		case a.floats > 0:
			// The integers' total is exact here: add it for the
			// reading and take it out again, both exactly.
			a.fs.addInt(a.sum)
			f := a.fs.value()
			a.fs.subInt(a.sum)
			if math.IsInf(f, 0) || math.IsNaN(f) {
				break // the aggregate reports it
			}
			if k == incSum {
				return f, nil
			}
			return f / float64(a.n), nil
		case k == incSum:
			return a.sum, nil
		default:
			return a.sum / int64(a.n), nil
		}
	default:
		if a.irregular > 0 {
			break
		}
		if a.n == 0 {
			return nil, nil
		}
		best := a.ext.front().v
		if a.floats > 0 && !best.isFloat {
			return float64(best.i), nil
		}
		return best.value(), nil
	}
	col := make([]any, grp.rows.len())
	for j := range col {
		col[j] = grp.rows.at(j).args[in.argAt[i]]
	}
	return in.g.aggs[i].call([][]any{col})
}

func (a *incAgg) add(k incKind, seq uint64, v any) {
	if v == nil {
		return
	}
	a.n++
	if k == incCount {
		return
	}
	x, ok := number(v)
	switch {
	case !ok:
		a.irregular++
		return
	case x.isFloat:
		a.floats++
		if math.IsNaN(x.f) {
			a.irregular++
			return
		}
	}
	switch k {
	case incSum, incAvg:
		if x.isFloat {
			a.fs.add(x.f)
			break
		}
		a.sum += x.i
		var c uint64
		a.absLo, c = bits.Add64(a.absLo, absInt(x.i), 0)
		a.absHi += c
	case incMin, incMax:
		sign := 1
		if k == incMin {
			sign = -1
		}
		for a.ext.len() > 0 && cmpNum(x, a.ext.back().v)*sign > 0 {
			a.ext.popBack()
		}
		a.ext.pushBack(incNum{seq: seq, v: x})
	}
}

// remove undoes add of the oldest value.
func (a *incAgg) remove(k incKind, seq uint64, v any) {
	if v == nil {
		return
	}
	a.n--
	if k == incCount {
		return
	}
	x, ok := number(v)
	switch {
	case !ok:
		a.irregular--
		return
	case x.isFloat:
		a.floats--
		if math.IsNaN(x.f) {
			a.irregular--
			return
		}
	}
	switch k {
	case incSum, incAvg:
		if x.isFloat {
			a.fs.sub(x.f)
			break
		}
		a.sum -= x.i
		var b uint64
		a.absLo, b = bits.Sub64(a.absLo, absInt(x.i), 0)
		a.absHi -= b
	case incMin, incMax:
		if a.ext.len() > 0 && a.ext.front().seq == seq {
			a.ext.popFront()
		}
	}
}

func absInt(i int64) uint64 {
	if i < 0 {
		return uint64(-(i + 1)) + 1
	}
	return uint64(i)
}

// deque is a FIFO that can also drop at the back: a ring whose size is a
// power of two.
type deque[T any] struct {
	buf     []T
	head, n int
}

func (d *deque[T]) len() int     { return d.n }
func (d *deque[T]) at(i int) *T  { return &d.buf[(d.head+i)&(len(d.buf)-1)] }
func (d *deque[T]) front() *T    { return &d.buf[d.head] }
func (d *deque[T]) back() *T     { return d.at(d.n - 1) }
func (d *deque[T]) pushBack(v T) { d.grow(); *d.at(d.n) = v; d.n++ }

func (d *deque[T]) grow() {
	if d.n < len(d.buf) {
		return
	}
	buf := make([]T, max(2*len(d.buf), 4))
	for i := range d.n {
		buf[i] = *d.at(i)
	}
	d.buf, d.head = buf, 0
}

func (d *deque[T]) popFront() T {
	p := d.front()
	v := *p
	var zero T
	*p = zero
	d.head = (d.head + 1) & (len(d.buf) - 1)
	d.n--
	return v
}

func (d *deque[T]) popBack() T {
	p := d.back()
	v := *p
	var zero T
	*p = zero
	d.n--
	return v
}
