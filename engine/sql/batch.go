package sql

import (
	"fmt"

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

// batchSite is a batched call site: the argument expressions and the
// batched call, whose results are normalized and errors positioned like
// Exec's.
type batchSite struct {
	args []evalFn
	run  func(rows [][]any) ([]any, []error)
}

func (c *compiler) batchSite(bf BatchFunction, ctx sdk.FunctionContext, args []evalFn, name string, pos Pos) *batchSite {
	return &batchSite{args: args, run: func(rows [][]any) ([]any, []error) {
		var res []any
		var errs []error
		if err := protect(func() error { res, errs = bf.ExecBatch(ctx, rows); return nil }); err != nil {
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

// ProjectEach is Project over rows that each stand alone (a program
// without a window or GROUP BY), with the batched fields computed for all
// of them in one call each. A row that fails has its error set and its
// output nil; the other rows are projected.
func (p *Program) ProjectEach(rows []map[string]any) ([]map[string]any, []error) {
	if p.group != nil || !p.batched {
		out, errs := make([]map[string]any, len(rows)), make([]error, len(rows))
		for i, r := range rows {
			out[i], errs[i] = p.Project(r)
		}
		return out, errs
	}
	return p.projectEach(rows, false)
}

// projectEach projects rows, computing batched fields for all of them
// first. With stop, the rows after the first that fails are left alone.
func (p *Program) projectEach(rows []map[string]any, stop bool) ([]map[string]any, []error) {
	out, errs := make([]map[string]any, len(rows)), make([]error, len(rows))
	// pre[f][i] and preErr[f][i] are field f of row i, for batched fields.
	pre := make([][]any, len(p.fields))
	preErr := make([][]error, len(p.fields))
	argRows := make([][]any, 0, len(rows))
	idx := make([]int, 0, len(rows))
	for fi := range p.fields {
		b := p.fields[fi].batch
		if b == nil {
			continue
		}
		pre[fi], preErr[fi] = make([]any, len(rows)), make([]error, len(rows))
		argRows, idx = argRows[:0], idx[:0]
		args := make([]any, len(rows)*len(b.args))
	rows:
		for i, r := range rows {
			a := args[i*len(b.args) : (i+1)*len(b.args) : (i+1)*len(b.args)]
			for j, eval := range b.args {
				v, err := eval(r)
				if err != nil {
					preErr[fi][i] = err
					continue rows
				}
				a[j] = v
			}
			argRows = append(argRows, a)
			idx = append(idx, i)
		}
		if len(argRows) == 0 {
			continue
		}
		res, errs := b.run(argRows)
		for k, i := range idx {
			pre[fi][i], preErr[fi][i] = res[k], errs[k]
		}
	}
	for i, row := range rows {
		out[i], errs[i] = p.projectBatched(row, i, pre, preErr)
		if errs[i] != nil {
			out[i] = nil
			if stop {
				break
			}
		}
	}
	return out, errs
}

// projectBatched projects row i of a batch whose batched fields are in
// pre and preErr.
func (p *Program) projectBatched(row map[string]any, i int, pre [][]any, preErr [][]error) (map[string]any, error) {
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
		if f.batch != nil {
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
