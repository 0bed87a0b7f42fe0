package rule

import "sync"

// ordered processes rows on several goroutines (options.concurrency) and
// hands the results to the sinks in the order the rows came, so the calls
// of a rule to a slow function (an external service) overlap while its
// output keeps the order of its input. At most n rows are in flight; a
// full pipeline slows the source down like a full sink queue does.
type ordered struct {
	jobs  chan *orderedJob // to the workers
	order chan *orderedJob // to the sequencer, in arrival order
	wg    sync.WaitGroup   // the workers
	done  chan struct{}    // closed when the sequencer has handed on every row
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

// startOrdered starts n workers and the sequencer.
func (r *Rule) startOrdered(n int) {
	o := &ordered{jobs: make(chan *orderedJob, n), order: make(chan *orderedJob, n), done: make(chan struct{})}
	for range n {
		o.wg.Add(1)
		go func() {
			defer o.wg.Done()
			for j := range o.jobs {
				j.out, j.err = r.evaluate(j.row)
				close(j.ready)
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
			if j.err != nil {
				r.exception(j.err)
				continue
			}
			if j.out != nil {
				r.deliver(j.out)
			}
		}
	}()
	r.ord = o
}

// submit queues a row; the caller holds procMu, which fixes the order.
func (o *ordered) submit(row map[string]any) {
	j := &orderedJob{row: row, ready: make(chan struct{})}
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
