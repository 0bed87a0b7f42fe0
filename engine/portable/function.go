package portable

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kgen-dev/kgen/engine/sql"
	portablev1 "github.com/kgen-dev/kgen/portable/proto/kgen/portable/v1"
	"github.com/kgen-dev/kgen/sdk"
)

var _ sql.OrderedBatchFunction = (*Function)(nil)

// Function is one SQL call site of a plugin function: an sdk.Function
// whose calls go to the plugin process, and a sql.BatchFunction.
type Function struct {
	p    *Plugin
	name string
	id   uint64 // the instance id the plugin and the State service know
	// lease holds the plugin version until the rule stops (install.go).
	lease *lease

	once sync.Once
	agg  bool
	err  error // the plugin could not be started when first used

	// The numbers of batches restart from 1 on each process: seqProc is
	// the process numbered for, seqBase the number sent as 0 to it, and
	// seqDone the highest batch whose call has ended.
	seqMu            sync.Mutex
	seqProc          *process
	seqBase, seqDone uint64
}

// procSeq is the number batch seq has on proc, counted from 1 on each
// process: a restarted plugin starts its call sites' order afresh.
func (f *Function) procSeq(proc *process, seq uint64) uint64 {
	f.seqMu.Lock()
	defer f.seqMu.Unlock()
	if f.seqProc != proc {
		f.seqProc, f.seqBase = proc, f.seqDone
	}
	if seq <= f.seqBase {
		return 0 // a batch later than those after it: no order to keep
	}
	return seq - f.seqBase
}

// seqEnded records that the call of batch seq has ended.
func (f *Function) seqEnded(seq uint64) {
	f.seqMu.Lock()
	f.seqDone = max(f.seqDone, seq)
	f.seqMu.Unlock()
}

// resolve starts the plugin (if needed) on first use and learns whether
// the function aggregates.
func (f *Function) resolve() error {
	f.once.Do(func() {
		proc, err := f.p.running()
		if err != nil {
			f.err = err
			return
		}
		f.agg = proc.funcs[f.name].GetAggregate()
	})
	return f.err
}

// IsAggregate reports the plugin's answer; false when it cannot start
// (Validate then reports why).
func (f *Function) IsAggregate() bool {
	f.resolve()
	return f.agg
}

// Validate runs the function's Validate in the plugin.
func (f *Function) Validate(args []sdk.Arg) error {
	if err := f.resolve(); err != nil {
		return err
	}
	req := &portablev1.ValidateFunctionRequest{Function: f.name}
	for _, a := range args {
		v, err := portablev1.ToValue(a.Value)
		if err != nil {
			return fmt.Errorf("argument %s: %w", a.Text, err)
		}
		req.Args = append(req.Args, &portablev1.Arg{Kind: portablev1.Arg_ArgKind(a.Kind), Value: v, Name: a.Name, Text: a.Text})
	}
	proc, err := f.p.running()
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(context.Background(), f.p.m.opts.CallTimeout)
	defer cancel()
	resp, err := proc.conn.Plugin.ValidateFunction(cctx, req)
	if err != nil {
		return f.callFailed(proc, err)
	}
	if resp.GetError() != "" {
		return fmt.Errorf("%s", resp.GetError())
	}
	return nil
}

// Exec evaluates one row.
func (f *Function) Exec(ctx sdk.FunctionContext, args []any) (any, bool) {
	res, errs := f.ExecBatch(ctx, [][]any{args})
	if errs[0] != nil {
		return errs[0], false
	}
	return res[0], true
}

// ExecBatch evaluates rows (one argument list each) in one call of the
// plugin. A row fails alone when its arguments cannot be sent or the
// plugin's function fails on it; every row fails when the plugin cannot
// be reached.
func (f *Function) ExecBatch(ctx sdk.FunctionContext, rows [][]any) ([]any, []error) {
	return f.ExecBatchAt(ctx, rows, 0)
}

// ExecBatchAt is ExecBatch for batch seq of the call site (see
// sql.OrderedBatchFunction): the plugin runs it after the batches
// numbered before it. A numbered batch is sent even when none of its rows
// could be, so that the plugin does not wait for it.
func (f *Function) ExecBatchAt(ctx sdk.FunctionContext, rows [][]any, seq uint64) ([]any, []error) {
	results, errs := make([]any, len(rows)), make([]error, len(rows))
	fail := func(err error) ([]any, []error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return results, errs
	}
	f.p.m.state.bind(f.id, ctx)
	f.lease.watch(ctx)
	req := &portablev1.CallFunctionRequest{Function: f.name, Instance: &portablev1.Instance{Id: f.id}, Rows: make([]*portablev1.Row, 0, len(rows))}
	if ctx != nil {
		req.Instance.RuleId, req.Instance.OpId = ctx.GetRuleId(), ctx.GetOpId()
		req.Instance.InstanceIndex, req.Instance.FuncId = int32(ctx.GetInstanceId()), int32(ctx.GetFuncId())
	}
	sent := make([]int, 0, len(rows)) // row index of each request row
	for i, args := range rows {
		r := &portablev1.Row{Args: make([]*portablev1.Value, len(args))}
		for j, a := range args {
			v, err := portablev1.ToValue(a)
			if err != nil {
				errs[i] = fmt.Errorf("argument %d: %w", j+1, err)
				break
			}
			r.Args[j] = v
		}
		if errs[i] == nil {
			req.Rows = append(req.Rows, r)
			sent = append(sent, i)
		}
	}
	if len(sent) == 0 && seq == 0 {
		return results, errs
	}
	if seq > 0 {
		defer f.seqEnded(seq)
	}
	proc, err := f.p.running()
	if err != nil {
		return fail(err)
	}
	if seq > 0 {
		req.Seq = f.procSeq(proc, seq)
	}
	var rctx context.Context = context.Background()
	if ctx != nil {
		rctx = ctx
	}
	cctx, cancel := context.WithTimeout(rctx, f.p.m.opts.CallTimeout)
	defer cancel()
	resp, err := proc.conn.Plugin.CallFunction(cctx, req)
	if err != nil {
		return fail(f.callFailed(proc, err))
	}
	if len(resp.GetResults()) != len(sent) {
		return fail(fmt.Errorf("portable plugin %q: function %q answered %d results for %d rows", f.p.Name(), f.name, len(resp.GetResults()), len(sent)))
	}
	f.p.succeeded()
	for k, r := range resp.GetResults() {
		i := sent[k]
		switch o := r.GetOutcome().(type) {
		case *portablev1.Result_Error:
			errs[i] = fmt.Errorf("%s", o.Error)
		default:
			results[i] = portablev1.FromValue(r.GetValue())
		}
	}
	return results, errs
}

// callFailed is the error of a call that did not get an answer: when the
// plugin is gone (it crashed or was killed), it is marked down so that the
// next call waits for the back-off and restarts it.
func (f *Function) callFailed(proc *process, err error) error {
	if proc.client.Exited() || status.Code(err) == codes.Unavailable {
		f.p.down(proc, fmt.Errorf("lost during a call: %v", rpcErr(err)))
		return fmt.Errorf("portable plugin %q is down: %v", f.p.Name(), rpcErr(err))
	}
	if status.Code(err) == codes.DeadlineExceeded {
		return fmt.Errorf("portable plugin %q: function %q: no answer within %v", f.p.Name(), f.name, f.p.m.opts.CallTimeout)
	}
	return fmt.Errorf("portable plugin %q: %v", f.p.Name(), rpcErr(err))
}
