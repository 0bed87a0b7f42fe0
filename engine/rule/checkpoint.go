package rule

import (
	"cmp"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kgen-dev/kgen/engine/state"
	"github.com/kgen-dev/kgen/engine/store"
	"github.com/kgen-dev/kgen/sdk"
)

// A rule at qos 1 or 2 checkpoints: every checkpointInterval, when a source
// holds as many unacknowledged messages as its sender allows, and when the
// rule stops, it captures its extensions' state, its window and its
// sources' positions, consistently, and writes them in one atomic store
// write. Only then are the messages the checkpoint covers acknowledged.
//
// Consistency comes from the rule's shape: one processing lock (procMu)
// serialises the rows of all its sources, so holding it is a point between
// two rows at which the sources, the functions and the window agree; no
// barrier needs aligning across inputs. Under procMu the checkpoint takes
// the sources' offsets and acknowledgement marks (recorded by each ingest
// while it still held the lock), the window's state, and the state keys the
// sources and functions changed since the last checkpoint; with
// options.concurrency it first waits for the rows in flight. It then puts a
// barrier into each sink queue and lets the rows flow again. A sink takes
// its own changed state keys when it reaches its barrier, that is after it
// has written every row from before the checkpoint; when all sinks have,
// the checkpoint is written, so nothing it covers can be lost downstream.
//
// Extension state of such a rule is written only by its checkpoints (the
// state manager's background flush holds off), so the store holds exactly
// the last complete checkpoint: a crash mid-write leaves the previous one,
// since the write is one transaction. The checkpoint record itself (window,
// offsets) is kept per engine instance, under the rule id and the
// instance name, in bucket CheckpointBucket.

// CheckpointBucket is the store bucket of the checkpoint records.
const CheckpointBucket = "checkpoints"

// CheckpointKey is the key of a rule's checkpoint record for one engine
// instance; CheckpointPrefix(rule) starts the keys of all instances.
func CheckpointKey(rule, instance string) string { return CheckpointPrefix(rule) + instance }

// CheckpointPrefix starts the checkpoint keys of a rule.
func CheckpointPrefix(rule string) string { return rule + "\x00" }

// checkpointFormat is the version of the checkpoint record.
const checkpointFormat = 2

type checkpointer struct {
	r        *Rule
	interval time.Duration
	key      string
	kick     chan struct{} // a source asks for a checkpoint now
	stop     chan struct{}
	done     chan struct{}

	started atomic.Bool  // run was started
	mu      sync.Mutex   // one checkpoint at a time
	id      atomic.Int64 // of the last committed checkpoint
	rows    storedRows   // of the window; guarded by mu

	count    atomic.Int64
	lastAt   atomic.Int64 // Unix ns
	lastDur  atomic.Int64 // ns
	lastSize atomic.Int64 // bytes of the record
	lastErr  atomic.Pointer[timedError]
}

// barrier is where a checkpoint was taken in a sink's queue. The sink hands
// its changed state keys over when it gets there; should the checkpoint be
// given up, they are made pending again, before the sink goes on.
type barrier struct {
	mu        sync.Mutex
	abandoned bool
	changes   chan state.Changes // buffered, 1
}

// reach is called by the sink at the barrier.
func (b *barrier) reach(c state.Changes, states *state.Manager) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.abandoned {
		states.Abandon([]state.Changes{c})
		return
	}
	b.changes <- c
}

// abandon gives the barrier up.
func (b *barrier) abandon(states *state.Manager) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.abandoned = true
	select {
	case c := <-b.changes:
		states.Abandon([]state.Changes{c})
	default:
	}
}

// capture is a checkpoint taken under procMu, on its way to the store.
type capture struct {
	id       int64
	record   map[string]any
	window   *windowCapture
	changes  []state.Changes
	barriers []*barrier
	acks     []ackMark
	start    time.Time
}

type ackMark struct {
	src    *sourceNode
	offset any
}

func newCheckpointer(r *Rule) *checkpointer {
	return &checkpointer{
		r:        r,
		interval: time.Duration(cmp.Or(r.def.Options.CheckpointInterval, defaultCheckpoint)),
		key:      CheckpointKey(r.def.ID, r.env.Instance),
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// restore loads the rule's last checkpoint before its sources connect: the
// window, the sources' offsets, and (by loading them now) the state scopes,
// so that a damaged one is reported at start. What cannot be restored is
// returned, and the rule runs on from what could be.
func (c *checkpointer) restore() error {
	r := c.r
	var errs []error
	for _, sc := range r.scopes() {
		if err := sc.Load(); err != nil {
			errs = append(errs, err)
		}
	}
	b, ok, err := r.env.States.Store().Get(CheckpointBucket, c.key)
	switch {
	case err != nil:
		return errors.Join(append(errs, fmt.Errorf("read checkpoint: %w", err))...)
	case !ok:
		return errors.Join(errs...)
	}
	rec, err := decodeRecord(b)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("checkpoint record: %w", err))...)
	}
	c.id.Store(rec.id)
	if err := c.restoreWindow(rec); err != nil {
		errs = append(errs, fmt.Errorf("checkpoint window: %w", err))
	}
	offsets, _ := rec.fields["offsets"].(map[string]any)
	for _, s := range r.sources {
		off, ok := offsets[s.stream.Name]
		if !ok || s.rewinder == nil {
			continue
		}
		if err := guard(fmt.Sprintf("source %q", s.typ), func() error { return s.rewinder.Rewind(off) }); err != nil {
			errs = append(errs, fmt.Errorf("stream %q: rewind to %v: %w", s.stream.Name, off, err))
			continue
		}
		s.offset = off
	}
	return errors.Join(errs...)
}

// restoreWindow restores the window from a checkpoint record and its
// chunks, and notes which chunks the store holds.
func (c *checkpointer) restoreWindow(rec *record) error {
	r := c.r
	ws, ok := rec.fields["window"].(map[string]any)
	if !ok {
		return nil
	}
	lo, hi, err := storedChunks(ws)
	if err != nil {
		return err
	}
	c.rows = storedRows{lo: lo, hi: hi}
	if r.grp == nil || r.grp.w == nil {
		return nil
	}
	if rec.fields["windowClause"] != r.windowClause() {
		r.logger.Info("the window changed since the last checkpoint; it starts empty", "was", rec.fields["windowClause"])
		return nil
	}
	st, err := decodeWindow(ws, r.grp.join)
	if err == nil {
		err = c.loadRows(&st)
	}
	if err != nil {
		return err
	}
	r.procMu.Lock()
	err = r.grp.w.Restore(st)
	r.procMu.Unlock()
	if err == nil {
		c.rows.end = st.Seq + uint64(st.Held)
	}
	return err
}

// windowClause identifies the rule's window in its checkpoint: a window
// is restored only into the same window, in the same time mode.
func (r *Rule) windowClause() string {
	return fmt.Sprintf("%s eventTime=%v", r.prog.Window(), r.def.Options.IsEventTime)
}

// run takes a checkpoint every interval and when a source asks, until
// stopped.
func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		case <-c.kick:
		}
		if err := c.take(); err != nil {
			c.failed(err)
		}
	}
}

// requestNow asks the loop for a checkpoint without waiting for it.
func (c *checkpointer) requestNow() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// halt ends the loop; a checkpoint in progress completes first.
func (c *checkpointer) halt() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	if c.started.Load() {
		<-c.done
	}
}

func (c *checkpointer) failed(err error) {
	c.lastErr.Store(&timedError{msg: err.Error(), at: time.Now()})
	c.r.logger.Error("checkpoint failed", "err", err)
}

// take takes one checkpoint while the rule runs.
func (c *checkpointer) take() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.r
	r.procMu.Lock()
	if r.inputClosed {
		r.procMu.Unlock()
		return nil
	}
	if r.ord != nil {
		r.ord.sync()
	}
	// Stop (halt) gives up a checkpoint that waits for a stuck sink.
	cp, err := c.captureLocked(c.stop)
	r.procMu.Unlock()
	if err != nil {
		return err
	}
	return c.finish(cp, c.stop)
}

// captureLocked captures the rule's state under procMu and puts a barrier
// into each sink queue, unless abort closes while a full queue has no room
// for it. The caller holds c.mu and procMu and has drained the rows in
// flight.
func (c *checkpointer) captureLocked(abort <-chan struct{}) (*capture, error) {
	r := c.r
	cp := &capture{id: c.id.Load() + 1, start: time.Now()}
	rec := map[string]any{
		"format": int64(checkpointFormat),
		"id":     cp.id,
		"time":   cp.start.UTC(),
	}
	if r.grp != nil && r.grp.w != nil {
		cp.window = c.captureWindow()
		rec["windowClause"] = r.windowClause()
	}
	offsets := map[string]any{}
	for _, s := range r.sources {
		if s.offset != nil {
			offsets[s.stream.Name] = s.offset
		}
		if s.acker != nil && s.unacked > 0 {
			cp.acks = append(cp.acks, ackMark{s, s.ackMark})
			s.unacked = 0
		}
	}
	rec["offsets"] = offsets
	cp.record = rec
	for _, s := range r.sources {
		cp.changes = append(cp.changes, s.ctx.Capture())
	}
	for _, f := range r.funcScopes {
		cp.changes = append(cp.changes, f.Capture())
	}
	for _, s := range r.sinks {
		b := &barrier{changes: make(chan state.Changes, 1)}
		select {
		case s.queue <- result{barrier: b}:
			cp.barriers = append(cp.barriers, b)
		case <-abort:
			c.abandon(cp)
			return nil, errors.New("checkpoint abandoned: a sink queue stayed full")
		}
	}
	return cp, nil
}

// abandon gives up a capture: its changes are pending again, and so are
// those of the sinks, now or when they reach their barriers.
func (c *checkpointer) abandon(cp *capture) {
	states := c.r.env.States
	states.Abandon(cp.changes)
	for _, b := range cp.barriers {
		b.abandon(states)
	}
}

// finish waits for the sinks to pass their barriers, writes the checkpoint
// and acknowledges what it covers. Given up when abort is closed first;
// then nothing is written and the changes stay pending.
func (c *checkpointer) finish(cp *capture, abort <-chan struct{}) error {
	r := c.r
	for len(cp.barriers) > 0 {
		select {
		case sc := <-cp.barriers[0].changes:
			cp.changes = append(cp.changes, sc)
			cp.barriers = cp.barriers[1:]
		case <-abort:
			c.abandon(cp)
			return errors.New("checkpoint abandoned: the rule stopped before its sinks wrote the rows it covers")
		}
	}
	puts := map[string][]byte{}
	rows, err := c.writeWindow(cp.window, cp.record, puts)
	if err == nil {
		puts[c.key], err = state.Marshal(cp.record)
	}
	if err != nil {
		c.abandon(cp)
		return fmt.Errorf("checkpoint %d: %w", cp.id, err)
	}
	w := store.Write{Puts: map[string]map[string][]byte{CheckpointBucket: puts}}
	if err := r.env.States.Commit(cp.changes, w); err != nil {
		return fmt.Errorf("checkpoint %d: %w", cp.id, err)
	}
	c.id.Store(cp.id)
	c.rows = rows
	size := 0
	for _, b := range puts {
		size += len(b)
	}
	for _, a := range cp.acks {
		err := guard(fmt.Sprintf("source %q", a.src.typ), func() error { return a.src.acker.Ack(a.offset) })
		if err != nil {
			a.src.errors.Add(1)
			r.exception(fmt.Errorf("stream %q: acknowledge: %w", a.src.stream.Name, err))
		}
	}
	c.count.Add(1)
	c.lastAt.Store(time.Now().UnixNano())
	c.lastDur.Store(int64(time.Since(cp.start)))
	c.lastSize.Store(int64(size))
	return nil
}

// CheckpointStatus describes the checkpoints of a rule at qos 1 or 2.
type CheckpointStatus struct {
	Count        int64      `json:"count"`
	LastAt       *time.Time `json:"lastAt,omitempty"`
	LastMs       float64    `json:"lastMs"`
	LastBytes    int64      `json:"lastBytes"`
	LastError    string     `json:"lastError,omitempty"`
	LastErrorAt  *time.Time `json:"lastErrorAt,omitempty"`
	IntervalMs   int64      `json:"intervalMs"`
	CheckpointID int64      `json:"id"`
}

func (c *checkpointer) status() *CheckpointStatus {
	st := &CheckpointStatus{
		Count:      c.count.Load(),
		LastMs:     float64(c.lastDur.Load()) / 1e6,
		LastBytes:  c.lastSize.Load(),
		IntervalMs: c.interval.Milliseconds(),
	}
	if ns := c.lastAt.Load(); ns > 0 {
		t := time.Unix(0, ns)
		st.LastAt = &t
	}
	if e := c.lastErr.Load(); e != nil {
		st.LastError, st.LastErrorAt = e.msg, &e.at
	}
	st.CheckpointID = c.id.Load()
	return st
}

// recordOffset notes, inside an ingest and under procMu, where the source
// is; a source whose sender waits for acknowledgements may ask for a
// checkpoint.
func (n *sourceNode) recordOffset() {
	if n.offsetter == nil {
		return
	}
	var off any
	err := guard(n.label(), func() (e error) { off, e = n.offsetter.GetOffset(); return })
	if err != nil {
		n.errors.Add(1)
		n.r.exception(fmt.Errorf("stream %q: offset: %w", n.stream.Name, err))
		return
	}
	if n.acker != nil {
		n.ackMark = off
		n.unacked++
		if n.unacked >= n.maxPending {
			n.r.ckpt.requestNow()
		}
		return
	}
	n.offset = off
}

// prepareCheckpoints tells the sources that take part in checkpoints before
// they connect.
func (n *sourceNode) prepareCheckpoints() {
	if n.acker == nil {
		return
	}
	err := guard(n.label(), func() error { n.maxPending = n.acker.DeferAcks(); return nil })
	if err != nil || n.maxPending <= 0 {
		n.maxPending = 1
	}
}

// checkpointRoles finds which checkpoint interfaces a source implements.
func (n *sourceNode) checkpointRoles() {
	if a, ok := n.src.(sdk.Acknowledger); ok {
		n.acker, n.offsetter = a, a
	} else if rw, ok := n.src.(sdk.Rewindable); ok {
		n.rewinder, n.offsetter = rw, rw
	}
}
