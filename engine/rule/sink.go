package rule

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

// sinkNode runs one sink of a rule behind a bounded queue.
type sinkNode struct {
	r     *Rule
	typ   string
	sink  sdk.Sink
	ctx   *extContext
	queue chan result
	drop  bool
	// single sends the rows of a result set one by one (sendSingle).
	single bool
	done   chan struct{}
	label  string
	active bool

	out, exceptions, retries, dropped atomic.Int64
	lastErr                           atomic.Pointer[string]
	conn                              atomic.Pointer[connState]
	queueOnce, closeOnce              sync.Once
}

// result is what a sink receives: one row, or the rows of one result set
// (a window's output), which the sink gets in one CollectList.
type result struct {
	row  map[string]any
	rows []map[string]any
	// barrier, in a rule that checkpoints, marks where a checkpoint was
	// taken: the sink has written every row before it, and hands its
	// changed state keys over.
	barrier *barrier
}

// size is the number of rows in r.
func (r result) size() int {
	if r.barrier != nil {
		return 0
	}
	if r.rows != nil {
		return len(r.rows)
	}
	return 1
}

const (
	retryInitial = 100 * time.Millisecond
	retryMax     = 5 * time.Second
)

func (r *Rule) planSink(i int, a Action) (*sinkNode, error) {
	ctor, err := r.env.Sink(a.Type)
	if err != nil {
		return nil, err
	}
	size := r.def.Options.BufferLength
	if size <= 0 {
		size = defaultBufferLength
	}
	n := &sinkNode{
		r:     r,
		typ:   a.Type,
		queue: make(chan result, size),
		drop:  r.def.Options.BufferFullPolicy == policyDrop,
		done:  make(chan struct{}),
		label: fmt.Sprintf("sink %q", a.Type),
	}
	n.ctx = r.newContext(r.ctx, fmt.Sprintf("sink:%d:%s", i, a.Type), 0, 0)
	n.conn.Store(&connState{status: sdk.StatusConnecting})
	err = guard(n.label, func() error {
		n.sink = ctor()
		if n.sink == nil {
			return fmt.Errorf("constructor returned nil")
		}
		if rep, ok := n.sink.(sdk.StatusReporter); ok {
			rep.SetStatusHandler(n.setStatus)
		}
		props := a.Props
		// sendSingle is eKuiper's common sink property: every sink here
		// honours it, so it is taken out before the sink sees its props.
		if single, ok := props["sendSingle"]; ok {
			n.single = single == true
			props = maps.Clone(props)
			delete(props, "sendSingle")
		}
		if r.env.CheckProps != nil {
			if err := r.env.CheckProps(sdk.KindSink, a.Type, props); err != nil {
				return err
			}
		}
		if r.env.SinkDefaults != nil {
			if defaults := r.env.SinkDefaults(a.Type); len(defaults) > 0 {
				props = maps.Clone(defaults)
				maps.Copy(props, a.Props)
			}
		}
		return n.sink.Provision(n.ctx, props)
	})
	if err != nil {
		n.sink = nil
		return nil, err
	}
	return n, nil
}

func (n *sinkNode) setStatus(status sdk.ConnectionStatus, msg string) {
	n.conn.Store(&connState{status: status, message: msg})
}

// start connects the sink and starts its loop. A connect error marked
// retryable (the server is not up yet) does not fail the rule: the loop keeps
// trying with backoff while rows queue up, which slows the rule down.
func (n *sinkNode) start() error {
	err := n.connect()
	if err != nil && !sdk.IsRetryable(err) {
		return fmt.Errorf("sink %q: connect: %w", n.typ, err)
	}
	n.active = true
	go n.loop(err != nil)
	return nil
}

func (n *sinkNode) connect() error {
	if err := guard(n.label, func() error { return n.sink.Connect(n.ctx) }); err != nil {
		n.setStatus(sdk.StatusDisconnected, err.Error())
		msg := err.Error()
		n.lastErr.Store(&msg)
		return err
	}
	if _, reports := n.sink.(sdk.StatusReporter); !reports {
		n.setStatus(sdk.StatusConnected, "")
	}
	return nil
}

// reconnect retries Connect with backoff until it succeeds or the rule
// stops; it reports whether the sink is connected.
func (n *sinkNode) reconnect() bool {
	backoff := retryInitial
	for {
		n.retries.Add(1)
		select {
		case <-time.After(backoff):
		case <-n.r.ctx.Done():
			return false
		}
		err := n.connect()
		if err == nil {
			return true
		}
		if !sdk.IsRetryable(err) {
			n.r.exception(fmt.Errorf("sink %q: connect: %w", n.typ, err))
			return false
		}
		n.r.logger.Warn("sink connect failed; retrying", "sink", n.typ, "err", err, "backoff", backoff)
		backoff = min(backoff*2, retryMax)
	}
}

// send queues a result. With the block policy it waits for room
// (backpressure up to the source) until ctx ends; with the drop policy a
// full queue drops the result and counts its rows.
func (n *sinkNode) send(ctx context.Context, res result) {
	if n.drop {
		select {
		case n.queue <- res:
		default:
			n.dropped.Add(int64(res.size()))
		}
		return
	}
	// A result that fits is queued even when ctx has ended (a stopping rule
	// hands on the rows in flight); only one that would wait is dropped.
	select {
	case n.queue <- res:
		return
	default:
	}
	select {
	case n.queue <- res:
	case <-ctx.Done():
		n.dropped.Add(int64(res.size()))
	}
}

func (n *sinkNode) loop(connecting bool) {
	defer close(n.done)
	if connecting && !n.reconnect() {
		// Never connected: account for what was queued and what still comes.
		for res := range n.queue {
			if res.barrier != nil {
				res.barrier.reach(n.ctx.Capture(), n.r.env.States)
				continue
			}
			n.exceptions.Add(int64(res.size()))
		}
		return
	}
	for res := range n.queue {
		switch {
		case res.barrier != nil:
			res.barrier.reach(n.ctx.Capture(), n.r.env.States)
		case res.rows == nil:
			n.collect(res)
		case n.single:
			for _, row := range res.rows {
				n.collect(result{row: row})
			}
		default:
			n.collect(res)
		}
	}
}

// collect hands one result to the sink, retrying errors marked retryable
// with exponential backoff until the rule stops.
func (n *sinkNode) collect(res result) {
	write := func() error { return n.sink.Collect(n.ctx, res.row) }
	if res.rows != nil {
		write = func() error { return n.sink.CollectList(n.ctx, res.rows) }
	}
	backoff := retryInitial
	for {
		err := guard(n.label, write)
		if err == nil {
			n.out.Add(int64(res.size()))
			return
		}
		msg := err.Error()
		n.lastErr.Store(&msg)
		if !sdk.IsRetryable(err) {
			n.exceptions.Add(1)
			n.r.exception(fmt.Errorf("sink %q: %w", n.typ, err))
			return
		}
		n.retries.Add(1)
		n.r.logger.Warn("sink failed; retrying", "sink", n.typ, "err", err, "backoff", backoff)
		select {
		case <-time.After(backoff):
		case <-n.r.ctx.Done():
			n.exceptions.Add(1)
			n.r.exception(fmt.Errorf("sink %q: rule stopped before the row could be written: %w", n.typ, err))
			return
		}
		backoff = min(backoff*2, retryMax)
	}
}

// closeQueue tells the loop no more rows come; it ends after draining.
func (n *sinkNode) closeQueue() {
	n.queueOnce.Do(func() {
		close(n.queue)
		if !n.active {
			close(n.done)
		}
	})
}

func (n *sinkNode) close() {
	n.closeOnce.Do(func() {
		if n.sink == nil {
			return
		}
		if err := guard(n.label, func() error { return n.sink.Close(n.ctx) }); err != nil {
			n.r.logger.Warn("sink close failed", "sink", n.typ, "err", err)
		}
	})
}

func (n *sinkNode) status() SinkStatus {
	c := n.conn.Load()
	st := SinkStatus{
		Type: n.typ, Connection: string(c.status), Message: c.message,
		RecordsOut: n.out.Load(), Exceptions: n.exceptions.Load(), Retries: n.retries.Load(),
		Dropped: n.dropped.Load(), Pending: len(n.queue),
	}
	if e := n.lastErr.Load(); e != nil {
		st.LastError = *e
	}
	return st
}
