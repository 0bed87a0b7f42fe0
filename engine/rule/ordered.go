package rule

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/kgen-dev/kgen/engine/sql"
)

// ordered processes rows on several goroutines (options.concurrency) and
// hands the results to the sinks in the order the rows came, so the calls
// of a rule to a slow function (an external service) overlap while its
// output keeps the order of its input. At most n rows are in flight; a
// full pipeline slows the source down like a full sink queue does.
//
// With a batch size above 1 (a rule without a window whose select list
// calls a batching function, see sql.BatchFunction), a worker takes the
// rows that queued while it was busy, up to the batch size, and evaluates
// them together: one call of the function for all of them. A row that
// comes alone is evaluated at once, alone; batches grow only when rows
// come faster than the function answers.
type ordered struct {
	jobs  chan *orderedJob // to the workers
	order chan *orderedJob // to the sequencer, in arrival order
	wg    sync.WaitGroup   // the workers
	done  chan struct{}    // closed when the sequencer has handed on every row
	// pending counts the rows submitted and not yet handed on.
	pending atomic.Int64
	// take makes overlapping workers take and prepare batches in turn.
	take sync.Mutex
}

type orderedJob struct {
	row   map[string]any
	out   map[string]any // nil when WHERE dropped the row
	err   error
	ready chan struct{}
	// mark, for a job of sync, is closed by the sequencer when it gets
	// there; the workers never see such a job.
	mark chan struct{}
}

// startOrdered starts n workers, each evaluating up to batch rows at a
// time, and the sequencer. At most n rows are in flight without batching;
// with it, up to 2×n×batch, so that a full batch can queue while the
// previous one is evaluated and batches do not shrink to the rows that
// came while the sequencer handed the last batch on.
//
// With overlap (see sql.Program.Overlappable), the workers take their
// batches and prepare them (WHERE, the batched calls' arguments and
// numbers) in turn, under o.take, and make the calls outside it: one
// batch's round trip overlaps the next one's, and the calls keep the order
// of the rows.
func (r *Rule) startOrdered(n, batch int, overlap bool) {
	depth := n
	if batch > 1 {
		depth = 2 * n * batch
	}
	o := &ordered{jobs: make(chan *orderedJob, depth), order: make(chan *orderedJob, depth), done: make(chan struct{})}
	for range n {
		o.wg.Add(1)
		go func() {
			defer o.wg.Done()
			jobs := make([]*orderedJob, 0, batch)
			for {
				if overlap {
					o.take.Lock()
				}
				j, ok := <-o.jobs
				if !ok {
					if overlap {
						o.take.Unlock()
					}
					return
				}
				jobs = append(jobs[:0], j)
			more:
				for len(jobs) < batch {
					select {
					case k, ok := <-o.jobs:
						if !ok {
							break more
						}
						jobs = append(jobs, k)
					default:
						break more
					}
				}
				if overlap {
					prep := r.prepareJobs(jobs, true)
					o.take.Unlock()
					r.finishJobs(prep)
				} else {
					r.evaluateJobs(jobs)
				}
				for _, j := range jobs {
					close(j.ready)
				}
			}
		}()
	}
	go func() {
		defer close(o.done)
		for j := range o.order {
			if j.mark != nil {
				close(j.mark)
				continue
			}
			<-j.ready
			switch {
			case j.err != nil:
				r.exception(j.err)
			case j.out != nil:
				r.deliver(j.out)
			}
			o.pending.Add(-1)
		}
	}()
	r.ord = o
}

// submit queues a row; the caller holds procMu, which fixes the order.
func (o *ordered) submit(row map[string]any) {
	j := &orderedJob{row: row, ready: make(chan struct{})}
	o.pending.Add(1)
	o.order <- j
	o.jobs <- j
}

// sync waits until every submitted row is handed on; the caller holds
// procMu, so nothing more is submitted meanwhile.
func (o *ordered) sync() {
	j := &orderedJob{ready: make(chan struct{}), mark: make(chan struct{})}
	close(j.ready)
	o.order <- j
	<-j.mark
}

// drain waits until every submitted row is handed on, then ends the
// goroutines. The caller holds procMu, so nothing more is submitted.
func (o *ordered) drain() {
	close(o.jobs)
	close(o.order)
	<-o.done
	o.wg.Wait()
}

// inFlight returns how many rows are submitted and not yet handed on; 0
// for a nil o.
func (o *ordered) inFlight() int64 {
	if o == nil {
		return 0
	}
	return o.pending.Load()
}

// evaluateJobs runs WHERE over each job's row, then the projection over
// the rows that pass, together (see sql.Program.ProjectEach).
func (r *Rule) evaluateJobs(jobs []*orderedJob) {
	if len(jobs) == 1 {
		jobs[0].out, jobs[0].err = r.evaluate(jobs[0].row)
		return
	}
	r.finishJobs(r.prepareJobs(jobs, false))
}

// preparedJobs are jobs whose rows passed WHERE and are prepared for the
// projection.
type preparedJobs struct {
	kept []*orderedJob
	prep *sql.Prepared
}

// prepareJobs runs WHERE over each job's row and prepares the rows that
// pass (sql.Program.PrepareEach); ordered numbers their batched calls.
func (r *Rule) prepareJobs(jobs []*orderedJob, ordered bool) (pj preparedJobs) {
	rows := make([]map[string]any, 0, len(jobs))
	pj.kept = make([]*orderedJob, 0, len(jobs))
	for _, j := range jobs {
		ok, err := r.match(j.row)
		if err != nil {
			j.err = err
			continue
		}
		if ok {
			rows, pj.kept = append(rows, j.row), append(pj.kept, j)
		}
	}
	if len(rows) == 0 {
		return pj
	}
	defer func() {
		if p := recover(); p != nil {
			for _, j := range pj.kept {
				j.err = fmt.Errorf("panic while processing a row: %v", p)
			}
			pj.kept, pj.prep = nil, nil
		}
	}()
	pj.prep = r.prog.PrepareEach(rows, ordered)
	return pj
}

// finishJobs makes the prepared calls and projects the rows.
func (r *Rule) finishJobs(pj preparedJobs) {
	if pj.prep == nil {
		return
	}
	outs, errs := r.projectPrepared(pj.prep)
	for i, j := range pj.kept {
		j.out, j.err = outs[i], errs[i]
	}
}
