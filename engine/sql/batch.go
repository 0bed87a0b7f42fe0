package sql

import (
	"fmt"
	"sync/atomic"

	"github.com/kgen-dev/kgen/sdk"
)

// BatchFunction is a plugin function that can evaluate many rows in one
// call, such as a portable plugin's function, for which one call is an IPC
// round trip.
//
// The SQL evaluation batches a call site when the call is the whole
// expression of a select-list field (`SELECT f(x) AS y`) of a function
// that is not an aggregate: the rows of one evaluation step (the rows a
// window or a GROUP BY-less group set projects at once; without a window,
// the rows ProjectEach gets, which a rule makes of the rows that queued
// while the previous call ran) are handed to ExecBatch together, in row
// order, before the rows are projected. Calls anywhere else (nested in an
// expression, in WHERE, HAVING or ORDER BY) run row by row through Exec,
// since they may not run for every row.
type BatchFunction interface {
	sdk.Function
	// ExecBatch evaluates each row's argument list. It returns one result
	// and one error per row; a row whose error is set failed.
	ExecBatch(ctx sdk.FunctionContext, rows [][]any) ([]any, []error)
}

// OrderedBatchFunction is a BatchFunction whose batches may be in flight
// two at a time while keeping their order: ExecBatchAt runs batch seq (1,
// 2, … per call site) after the batches numbered before it, whichever call
// comes first. A program whose plugin calls are all ordered batched calls
// is Overlappable.
type OrderedBatchFunction interface {
	BatchFunction
	ExecBatchAt(ctx sdk.FunctionContext, rows [][]any, seq uint64) ([]any, []error)
}

// batchSite is a batched call site: the argument expressions and the
// batched call, whose results are normalized and errors positioned like
// Exec's.
type batchSite struct {
	args []evalFn
	// run calls the function; seq is the batch's number, 0 for none.
	run func(rows [][]any, seq uint64) ([]any, []error)
	// ordered is set for an OrderedBatchFunction; seq numbers its batches.
	ordered bool
	seq     atomic.Uint64
}

func (c *compiler) batchSite(bf BatchFunction, ctx sdk.FunctionContext, args []evalFn, name string, pos Pos) *batchSite {
	obf, ordered := bf.(OrderedBatchFunction)
	return &batchSite{args: args, ordered: ordered, run: func(rows [][]any, seq uint64) ([]any, []error) {
		var res []any
		var errs []error
		call := func() error { res, errs = bf.ExecBatch(ctx, rows); return nil }
		if ordered && seq > 0 {
			call = func() error { res, errs = obf.ExecBatchAt(ctx, rows, seq); return nil }
		}
		if err := protect(call); err != nil {
			res, errs = make([]any, len(rows)), make([]error, len(rows))
			for i := range errs {
				errs[i] = err
			}
		}
		if len(res) != len(rows) || len(errs) != len(rows) {
			err := fmt.Errorf("ExecBatch returned %d results and %d errors for %d rows", len(res), len(errs), len(rows))
			res, errs = make([]any, len(rows)), make([]error, len(rows))
			for i := range errs {
				errs[i] = err
			}
		}
		for i := range rows {
			if errs[i] != nil {
				errs[i] = wrapAt(pos, fmt.Sprintf("function %q: ", name), errs[i])
			} else {
				res[i] = normalize(res[i])
			}
		}
		return res, errs
	}}
}

// projectRows projects rows in order, computing batched fields for all of
// them first; the first row that fails fails them all.
func (p *Program) projectRows(rows []map[string]any) ([]map[string]any, error) {
	out := make([]map[string]any, len(rows))
	if !p.batched {
		for i, r := range rows {
			var err error
			if out[i], err = p.project(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	out, errs := p.projectEach(rows, true)
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Batched reports whether a select-list field is a batched call site (see
// BatchFunction): ProjectEach then makes one call for many rows.
func (p *Program) Batched() bool { return p.batched }

// Overlappable reports whether two batches of rows may be projected at
// once, their calls numbered (PrepareEach with ordered): the program is
// Batched, has no window, GROUP BY or JOIN, and every plugin function it
// calls is an ordered batched call (OrderedBatchFunction); the rest are
// built-ins.
func (p *Program) Overlappable() bool { return p.overlappable }

// ProjectEach is Project over rows that each stand alone (a program
// without a window or GROUP BY), with the batched fields computed for all
// of them in one call each. A row that fails has its error set and its
// output nil; the other rows are projected.
func (p *Program) ProjectEach(rows []map[string]any) ([]map[string]any, []error) {
	return p.PrepareEach(rows, false).Project()
}

// Prepared is a batch of rows whose batched calls have their arguments
// evaluated (and, ordered, their numbers taken): Project makes the calls
// and projects the rows.
type Prepared struct {
	p    *Program
	rows []map[string]any
	// calls[f] is the call of batched field f, nil for other fields.
	calls []*preparedCall
}

type preparedCall struct {
	argRows [][]any
	idx     []int // the row of each argument list
	seq     uint64
	errs    []error // per row: its arguments failed
}

// PrepareEach evaluates the arguments of the batched calls of rows that
// each stand alone; with ordered, each call with rows takes the next
// number of its call site, so that batches prepared in turn run in that
// order however their calls overlap (see Overlappable). Project does the
// rest.
func (p *Program) PrepareEach(rows []map[string]any, ordered bool) *Prepared {
	if p.group != nil || !p.batched {
		return &Prepared{p: p, rows: rows}
	}
	return p.prepare(rows, ordered)
}

// prepare evaluates the arguments of the batched calls of rows.
func (p *Program) prepare(rows []map[string]any, ordered bool) *Prepared {
	b := &Prepared{p: p, rows: rows}
	b.calls = make([]*preparedCall, len(p.fields))
	for fi := range p.fields {
		site := p.fields[fi].batch
		if site == nil {
			continue
		}
		c := &preparedCall{argRows: make([][]any, 0, len(rows)), idx: make([]int, 0, len(rows)), errs: make([]error, len(rows))}
		args := make([]any, len(rows)*len(site.args))
	rows:
		for i, r := range rows {
			a := args[i*len(site.args) : (i+1)*len(site.args) : (i+1)*len(site.args)]
			for j, eval := range site.args {
				v, err := eval(r)
				if err != nil {
					c.errs[i] = err
					continue rows
				}
				a[j] = v
			}
			c.argRows = append(c.argRows, a)
			c.idx = append(c.idx, i)
		}
		if ordered && site.ordered && len(c.argRows) > 0 {
			c.seq = site.seq.Add(1)
		}
		b.calls[fi] = c
	}
	return b
}

// Rows returns the prepared rows.
func (b *Prepared) Rows() []map[string]any { return b.rows }

// Project makes the batched calls of the prepared rows and projects them.
// A row that fails has its error set and its output nil.
func (b *Prepared) Project() ([]map[string]any, []error) {
	p := b.p
	if b.calls == nil {
		out, errs := make([]map[string]any, len(b.rows)), make([]error, len(b.rows))
		for i, r := range b.rows {
			out[i], errs[i] = p.Project(r)
		}
		return out, errs
	}
	return p.projectPrepared(b, false)
}

// projectEach projects rows, computing batched fields for all of them
// first. With stop, the rows after the first that fails are left alone.
func (p *Program) projectEach(rows []map[string]any, stop bool) ([]map[string]any, []error) {
	return p.projectPrepared(p.prepare(rows, false), stop)
}

func (p *Program) projectPrepared(b *Prepared, stop bool) ([]map[string]any, []error) {
	rows := b.rows
	out, errs := make([]map[string]any, len(rows)), make([]error, len(rows))
	// pre[f][i] and preErr[f][i] are field f of row i, for batched fields.
	pre := make([][]any, len(p.fields))
	preErr := make([][]error, len(p.fields))
	for fi, c := range b.calls {
		if c == nil {
			continue
		}
		pre[fi], preErr[fi] = make([]any, len(rows)), c.errs
		if len(c.argRows) == 0 {
			continue
		}
		res, errs := p.fields[fi].batch.run(c.argRows, c.seq)
		for k, i := range c.idx {
			pre[fi][i], preErr[fi][i] = res[k], errs[k]
		}
	}
	for i, row := range rows {
		out[i], errs[i] = p.projectWith(row, i, pre, preErr)
		if errs[i] != nil {
			out[i] = nil
			if stop {
				break
			}
		}
	}
	return out, errs
}

// projectWith projects row i of a batch whose batched fields are in pre
// and preErr; with pre nil, every field is evaluated on the row.
func (p *Program) projectWith(row map[string]any, i int, pre [][]any, preErr [][]error) (map[string]any, error) {
	size := len(p.fields)
	for s := range p.stars {
		size += p.stars[s].size(row)
	}
	o := make(map[string]any, size)
	for s := range p.stars {
		p.stars[s].copyInto(o, row, p.hide)
	}
	for fi := range p.fields {
		f := &p.fields[fi]
		if f.batch != nil && pre != nil {
			if err := preErr[fi][i]; err != nil {
				return nil, err
			}
			o[f.name] = pre[fi][i]
			continue
		}
		v, err := f.eval(row)
		if err != nil {
			return nil, err
		}
		o[f.name] = v
	}
	return o, nil
}
