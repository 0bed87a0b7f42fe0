package rule

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kgen-dev/kgen/engine/schema"
	"github.com/kgen-dev/kgen/engine/sql"
	"github.com/kgen-dev/kgen/engine/state"
	"github.com/kgen-dev/kgen/internal/clock"
	"github.com/kgen-dev/kgen/sdk"
)

// Stream is a stream as the runtime needs it.
type Stream struct {
	Name    string
	Schema  schema.Schema
	Type    string // source type, e.g. "mqtt"
	Format  string // "json" or "binary"
	ConfKey string
	Options map[string]string
}

// Env is what a rule needs from the engine.
type Env struct {
	// Root is the absolute engine root path.
	Root string
	// Context is the engine's base context; extension contexts derive from it.
	Context context.Context
	Logger  *slog.Logger
	States  *state.Manager
	// Stream returns a stream by name.
	Stream func(name string) (*Stream, error)
	// SourceProps returns the properties of a source type's conf key
	// (etc/sources/<type>.yaml: default overlaid by the key).
	SourceProps func(typ, confKey string) (map[string]any, error)
	// Source and Sink return constructors by type name.
	Source func(typ string) (func() sdk.Source, error)
	Sink   func(typ string) (func() sdk.Sink, error)
	// CheckProps, if set, checks the properties of a source or sink type
	// before its Provision: the engine checks a plugin's against the ones
	// its metadata declares (built-in connectors check their own).
	CheckProps func(kind sdk.Kind, typ string, props map[string]any) error
	// SinkDefaults, if set, returns properties a sink type gets unless the
	// rule action sets them (the engine's broker for mqtt).
	SinkDefaults func(typ string) map[string]any
	// Function returns a fresh instance of a non-built-in SQL function.
	Function func(name string) (sdk.Function, error)
	// OnOutput, if set, sees every row the rule sends to its sinks.
	OnOutput func(rule string, row map[string]any)
	// Clock is the time windows run on in processing time.
	Clock clock.Clock
	// Instance names this engine among those that share a store; rules
	// keep their checkpoint records under it.
	Instance string
	// DurableSourceProps, if set, returns properties a source type gets
	// in a rule that checkpoints, unless its configuration sets them (a
	// stable MQTT client id, so that the broker keeps the session).
	DurableSourceProps func(typ, rule, stream string) map[string]any
	// StateError, if set, says why the rule's state could not be restored
	// whatever the rule does (the state store was damaged at start).
	StateError func(rule string) error
	// Latency, if set, returns where a rule records how long each ingest
	// took, in seconds (the engine's histogram for the rule). Plan calls it
	// once, so that recording a row is one Observe with no lookup.
	Latency func(rule string) Observer
}

// Observer records a value; a prometheus.Observer is one.
type Observer interface{ Observe(float64) }

// Rule is one planned rule: its SQL compiled, its source and sinks
// provisioned. Start runs it once; a stopped Rule is not started again
// (plan a new one).
type Rule struct {
	def    *Def
	env    *Env
	logger *slog.Logger
	prog   *sql.Program
	// streams are the streams the rule reads: FROM's, then those it joins,
	// each once (sql.Select.Streams); sources has one node for each.
	streams []*Stream

	sources []*sourceNode
	sinks   []*sinkNode

	// ctx lives until the sinks have drained; srcCtx ends when Stop begins,
	// which releases sources blocked on a full sink queue.
	ctx       context.Context
	cancel    context.CancelFunc
	srcCtx    context.Context
	srcCancel context.CancelFunc

	procMu      sync.Mutex // serialises processing of rows from the sources
	inputClosed bool       // under procMu: the sink queues are closed
	// ord, with options.concurrency > 1 or a batching function call in a
	// rule without a window, processes rows concurrently or in batches,
	// and in order; nil otherwise.
	ord *ordered
	// grp runs windows, GROUP BY and aggregates; nil for a rule whose
	// rows are projected one by one.
	grp *grouper
	// ckpt takes the checkpoints of a rule at qos 1 or 2; nil at qos 0.
	ckpt *checkpointer
	// funcScopes are the state scopes of the rule's function call sites.
	funcScopes []*state.Scope
	// restoreErr says what of the last checkpoint could not be restored.
	restoreErr atomic.Pointer[timedError]

	m metrics
	// latency is Env.Latency's observer for this rule; nil without one.
	latency  Observer
	state    atomic.Value // string: "planned", "running", "stopped", "finished", "failed"
	stopMu   sync.Mutex
	stopped  bool
	done     chan struct{}
	doneOnce sync.Once // closes done
	eofs     atomic.Int32
}

type metrics struct {
	recordsIn    atomic.Int64
	recordsOut   atomic.Int64
	exceptions   atomic.Int64
	late         atomic.Int64 // event-time rows behind the watermark
	latencyTotal atomic.Int64 // ns, over processed rows
	latencyCount atomic.Int64
	lastLatency  atomic.Int64
	lastErr      atomic.Pointer[timedError]
	fatal        atomic.Pointer[timedError]
	startedAt    atomic.Int64
}

type timedError struct {
	msg string
	at  time.Time
}

// Plan parses and compiles a rule and provisions its source and sinks. It
// returns an error naming what is wrong (SQL position, unknown stream,
// sink or function, bad property) and leaves nothing running.
func Plan(def *Def, env *Env) (_ *Rule, err error) {
	r := &Rule{def: def, env: env, done: make(chan struct{})}
	r.logger = env.Logger.With("rule", def.ID)
	r.state.Store("planned")
	r.ctx, r.cancel = context.WithCancel(env.Context)
	r.srcCtx, r.srcCancel = context.WithCancel(r.ctx)
	defer func() {
		if err != nil {
			r.closeAll()
			r.cancel()
		}
	}()

	// The state of a rule that checkpoints is written by its checkpoints
	// only; hold the background flush off before any extension runs. A
	// plan that fails leaves it as it was (for the rule it would replace).
	prefix := def.ID + "/"
	wasHeld := env.States.Held(prefix)
	defer func() {
		if err != nil && wasHeld != env.States.Held(prefix) {
			if wasHeld {
				env.States.Hold(prefix)
			} else {
				env.States.Release(prefix)
			}
		}
	}()
	if def.Options.Qos > 0 {
		env.States.Hold(prefix)
	} else {
		env.States.Release(prefix)
	}
	sel, err := sql.ParseSelect(def.SQL)
	if err != nil {
		return nil, fmt.Errorf("rule %q: sql: %w", def.ID, err)
	}
	var joined map[string]schema.Schema
	for i, name := range sel.Streams() {
		st, err := env.Stream(name)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", def.ID, err)
		}
		r.streams = append(r.streams, st)
		if i > 0 {
			if joined == nil {
				joined = map[string]schema.Schema{}
			}
			joined[name] = st.Schema
		}
	}
	from := r.streams[0]
	r.prog, err = sql.Compile(sel, sql.Env{
		Schema:   from.Schema,
		Stream:   from.Name,
		Streams:  joined,
		Function: env.Function,
		// A call site's state follows its key, so an edit of the rule
		// that keeps the call keeps its state.
		FuncContext: func(site sql.CallSite) sdk.FunctionContext {
			c := r.newContext(r.ctx, "func:"+strings.ReplaceAll(site.Key, "\x00", `\x00`), 0, site.ID)
			r.funcScopes = append(r.funcScopes, c.Scope)
			return c
		},
		MaxGroups: cmp.Or(def.Options.MaxGroups, defaultMaxGroups),
		// A window's rows join into at most as many rows as it may hold.
		MaxJoinRows: cmp.Or(def.Options.MaxWindowRows, defaultMaxWindowRows),
	})
	if err != nil {
		return nil, fmt.Errorf("rule %q: sql: %w", def.ID, err)
	}
	if r.prog.Grouped() {
		if err := r.planGroups(); err != nil {
			return nil, fmt.Errorf("rule %q: %w", def.ID, err)
		}
	}
	// A stream's decoder materialises only the fields the rule reads.
	fields := r.prog.StreamFields()
	for i, st := range r.streams {
		f, ok := fields[sel.Streams()[i]]
		if !ok {
			f.All = true
		}
		src, err := r.planSource(i, st, f)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", def.ID, err)
		}
		r.sources = append(r.sources, src)
	}
	for i, a := range def.Actions {
		s, err := r.planSink(i, a)
		if err != nil {
			return nil, fmt.Errorf("rule %q: actions[%d] (%s): %w", def.ID, i, a.Type, err)
		}
		r.sinks = append(r.sinks, s)
	}
	if def.Options.Qos > 0 {
		r.ckpt = newCheckpointer(r)
	}
	if env.Latency != nil {
		r.latency = env.Latency(def.ID)
	}
	return r, nil
}

// ScopeIDs are the ids of the state scopes of the rule's extensions.
func (r *Rule) ScopeIDs() []string {
	var ids []string
	for _, s := range r.scopes() {
		ids = append(ids, s.ID())
	}
	return ids
}

// scopes are the state scopes of all the rule's extensions.
func (r *Rule) scopes() []*state.Scope {
	var out []*state.Scope
	for _, s := range r.sources {
		out = append(out, s.ctx.Scope)
	}
	out = append(out, r.funcScopes...)
	for _, s := range r.sinks {
		out = append(out, s.ctx.Scope)
	}
	return out
}

// ID returns the rule id.
func (r *Rule) ID() string { return r.def.ID }

// Def returns the rule definition.
func (r *Rule) Def() *Def { return r.def }

// Done is closed when the rule has stopped, by Stop or because every source
// reached its end.
func (r *Rule) Done() <-chan struct{} { return r.done }

// Start connects the sinks and then the sources and begins processing. On a
// connect error the rule is stopped and the error returned.
func (r *Rule) Start() error {
	r.m.startedAt.Store(time.Now().UnixNano())
	r.state.Store("running")
	for _, s := range r.sinks {
		if err := s.start(); err != nil {
			r.fail(err)
			return err
		}
	}
	n, batch := max(r.def.Options.Concurrency, 1), cmp.Or(r.def.Options.FunctionBatchSize, defaultFunctionBatch)
	if r.grp != nil || !r.prog.Batched() {
		batch = 1
	}
	// Two batches in flight when the calls keep their order (see
	// sql.Program.Overlappable) and the rule did not set concurrency.
	overlap := batch > 1 && r.def.Options.Concurrency == 0 && r.prog.Overlappable()
	if overlap {
		n = 2
	}
	if n > 1 || batch > 1 {
		r.startOrdered(n, batch, overlap)
	}
	if r.env.StateError != nil {
		if err := r.env.StateError(r.def.ID); err != nil {
			r.stateNotRestored(err)
		}
	}
	if r.ckpt != nil {
		if err := r.ckpt.restore(); err != nil {
			r.stateNotRestored(err)
		}
		for _, s := range r.sources {
			s.prepareCheckpoints()
		}
	}
	if r.grp != nil {
		r.procMu.Lock()
		r.grp.start()
		r.procMu.Unlock()
	}
	if r.ckpt != nil {
		r.ckpt.started.Store(true)
		go r.ckpt.run()
	}
	for _, s := range r.sources {
		if err := s.start(); err != nil {
			r.fail(err)
			return err
		}
	}
	r.logger.Info("rule started")
	return nil
}

// stateNotRestored records on the status that the rule runs without (some
// of) its saved state.
func (r *Rule) stateNotRestored(err error) {
	r.restoreErr.Store(&timedError{msg: err.Error(), at: time.Now()})
	r.logger.Error("rule state not restored; the rule runs on without it", "err", err)
}

// fail records a fatal error and stops the rule.
func (r *Rule) fail(err error) {
	r.m.fatal.Store(&timedError{msg: err.Error(), at: time.Now()})
	r.logger.Error("rule failed", "err", err)
	r.shutdown("failed")
}

// Stop stops the rule: the sources first, then the sinks after they have
// written what they hold (for at most drainTimeout).
func (r *Rule) Stop() { r.shutdown("stopped") }

// Forget stops the rule and lets its sources release what they keep for it
// between runs (an MQTT persistent session), for a rule being deleted.
// Failures are logged: the rule is gone either way.
func (r *Rule) Forget() {
	r.Stop()
	for _, n := range r.sources {
		f, ok := n.src.(forgetter)
		if !ok {
			continue
		}
		if err := guard(fmt.Sprintf("source %q", n.typ), func() error { return f.Forget(n.ctx) }); err != nil {
			r.logger.Warn("source could not release what it keeps for the rule", "stream", n.stream.Name, "err", err)
		}
	}
}

const drainTimeout = 5 * time.Second

func (r *Rule) shutdown(final string) {
	r.stopMu.Lock()
	if r.stopped {
		r.stopMu.Unlock()
		<-r.done
		return
	}
	r.stopped = true
	r.stopMu.Unlock()

	// The stop itself runs on a goroutine of its own: a row whose function
	// call never returns would hold it forever, and the caller (the REST
	// API, the engine's shutdown) must not wait with it. After stopTimeout
	// the rule's calls are cancelled (context-aware ones, such as external
	// services and portable plugins, return); after abandonGrace more the
	// stop returns anyway, the rule reported stopped, and what is still
	// stuck finishes (and is dropped) whenever it returns.
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		r.stopLocked(final)
	}()
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-finished:
		return
	case <-timer.C:
	}
	r.logger.Warn("rule did not stop in time; cancelling its calls", "timeout", stopTimeout)
	r.cancel()
	timer.Reset(abandonGrace)
	select {
	case <-finished:
		return
	case <-timer.C:
	}
	r.logger.Error("rule stopped with a call that does not return; what it was processing is dropped when it does")
	r.m.fatal.CompareAndSwap(nil, &timedError{msg: "stopped while a call did not return: its row was dropped", at: time.Now()})
	r.finish(final)
}

// stopTimeout bounds a rule's stop before its calls are cancelled;
// abandonGrace is how long cancelled calls get before the stop returns
// without them. A variable for tests.
var stopTimeout, abandonGrace = drainTimeout + 2*time.Second, 2 * time.Second

// finish marks the rule ended with state final, once.
func (r *Rule) finish(final string) {
	r.doneOnce.Do(func() {
		r.state.Store(final)
		r.logger.Info("rule " + final)
		close(r.done)
	})
}

// stopLocked is shutdown's work: sources, the rows in flight, the sinks.
func (r *Rule) stopLocked(final string) {
	stopAt := time.Now()
	var cp *capture
	if r.ckpt != nil {
		cp = r.stopCheckpointing(final)
	} else {
		r.srcCancel()
		for _, s := range r.sources {
			s.stop()
		}
		// No row is in flight once the processing lock is free and the
		// sources are closed.
		r.procMu.Lock()
		r.quiesce(final)
	}
	r.inputClosed = true
	for _, s := range r.sinks {
		s.closeQueue()
	}
	r.procMu.Unlock()
	if cp != nil {
		r.finishCheckpointing(cp)
	}
	// drainTimeout bounds the whole stop, the last checkpoint included.
	deadline := time.NewTimer(max(drainTimeout-time.Since(stopAt), 100*time.Millisecond))
	for _, s := range r.sinks {
		select {
		case <-s.done:
		case <-deadline.C:
			r.logger.Warn("sink did not drain in time; dropping what it holds", "sink", s.typ, "pending", len(s.queue))
		}
	}
	deadline.Stop()
	r.cancel() // ends retry loops still running
	for _, s := range r.sinks {
		<-s.done
	}
	r.closeAll()
	r.finish(final)
}

// quiesce ends processing: the rows in flight are handed on and the window
// stops. procMu is held.
func (r *Rule) quiesce(final string) {
	if r.ord != nil {
		r.ord.drain()
	}
	if r.grp != nil {
		// A bounded source that reached its end has its open windows
		// emitted; a stopped rule does not.
		r.grp.stop(final == "finished")
	}
}

// stopCheckpointing stops a rule that checkpoints up to the point where its
// last checkpoint is captured: the sources stop handing rows on but stay
// connected (their messages are acknowledged after the checkpoint), and
// the rows in flight are processed. It returns with procMu held, and the
// last checkpoint captured unless the rows in flight could not be processed
// within drainTimeout (a sink stuck on a full queue): then the previous
// checkpoint stands and what came after it will be delivered again.
func (r *Rule) stopCheckpointing(final string) *capture {
	r.ckpt.halt()
	for _, s := range r.sources {
		s.closed.Store(true)
	}
	locked := make(chan struct{})
	go func() {
		r.procMu.Lock()
		close(locked)
	}()
	skip := false
	select {
	case <-locked:
	case <-time.After(drainTimeout):
		// Release the ingests blocked on a full sink queue; the rows they
		// drop must not count as covered.
		r.logger.Warn("rows in flight not processed in time; the last checkpoint is not taken")
		r.srcCancel()
		<-locked
		skip = true
	}
	r.quiesce(final)
	if skip {
		return nil
	}
	r.ckpt.mu.Lock()
	defer r.ckpt.mu.Unlock()
	abort := make(chan struct{})
	t := time.AfterFunc(drainTimeout, func() { close(abort) })
	defer t.Stop()
	cp, err := r.ckpt.captureLocked(abort)
	if err != nil {
		r.ckpt.failed(err)
		return nil
	}
	return cp
}

// finishCheckpointing writes the last checkpoint once the sinks have
// written the rows before it (for at most drainTimeout), then closes the
// sources.
func (r *Rule) finishCheckpointing(cp *capture) {
	abort := make(chan struct{})
	t := time.AfterFunc(drainTimeout, func() { close(abort) })
	r.ckpt.mu.Lock()
	if err := r.ckpt.finish(cp, abort); err != nil {
		r.ckpt.failed(err)
	}
	r.ckpt.mu.Unlock()
	t.Stop()
	r.srcCancel()
	for _, s := range r.sources {
		s.stop()
	}
}

// closeAll closes every provisioned source and sink once.
func (r *Rule) closeAll() {
	for _, s := range r.sources {
		s.close()
	}
	for _, s := range r.sinks {
		s.close()
	}
}

// sourceEOF is called when one bounded source has no more data.
func (r *Rule) sourceEOF() {
	if int(r.eofs.Add(1)) == len(r.sources) {
		go r.shutdown("finished")
	}
}

// exception counts and logs a row-level failure; the rule goes on.
func (r *Rule) exception(err error) {
	r.m.exceptions.Add(1)
	r.m.lastErr.Store(&timedError{msg: err.Error(), at: time.Now()})
	r.logger.Warn("rule exception", "err", err)
}

// ingestBytes decodes a payload by the stream format and processes each row.
func (r *Rule) ingestBytes(src *sourceNode, payload []byte, meta map[string]any) {
	r.m.recordsIn.Add(1)
	start := time.Now()
	r.procMu.Lock()
	defer r.procMu.Unlock()
	if r.inputClosed {
		return
	}
	emit := src.emit
	if meta != nil && r.prog.UsesMeta() {
		emit = func(row map[string]any) error {
			row[sql.MetaKey] = meta
			return r.emitLocked(src, row)
		}
	}
	if err := src.decoder.DecodeInto(payload, emit); err != nil {
		r.exception(fmt.Errorf("stream %q: %w", src.stream.Name, err))
	}
	if r.ckpt != nil {
		src.recordOffset()
	}
	r.observeLatency(start)
}

// ingestRows processes rows a source decoded itself, checking them against
// the stream schema.
func (r *Rule) ingestRows(src *sourceNode, meta map[string]any, rows ...map[string]any) {
	r.m.recordsIn.Add(int64(len(rows)))
	start := time.Now()
	r.procMu.Lock()
	defer r.procMu.Unlock()
	if r.inputClosed {
		return
	}
	for _, row := range rows {
		if err := src.stream.Schema.Convert(row); err != nil {
			r.exception(fmt.Errorf("stream %q: %w", src.stream.Name, err))
			continue
		}
		if meta != nil && r.prog.UsesMeta() {
			row[sql.MetaKey] = meta
		}
		r.emitLocked(src, row)
	}
	if r.ckpt != nil {
		src.recordOffset()
	}
	r.observeLatency(start)
}

// observeLatency records the processing time of one ingest, from its
// arrival to the end of its processing. It runs for every ingest, so it
// neither allocates nor looks anything up.
func (r *Rule) observeLatency(start time.Time) {
	d := int64(time.Since(start))
	r.m.lastLatency.Store(d)
	r.m.latencyTotal.Add(d)
	r.m.latencyCount.Add(1)
	if r.latency != nil {
		r.latency.Observe(float64(d) / 1e9)
	}
}

// emitLocked processes one decoded row of src, recording a failure as an
// exception so the next rows of the same payload are still processed. With
// options.concurrency the row is queued for the workers instead.
func (r *Rule) emitLocked(src *sourceNode, row map[string]any) error {
	if r.grp != nil {
		r.grp.add(src, row)
		return nil
	}
	if r.ord != nil {
		r.ord.submit(row)
		return nil
	}
	out, err := r.evaluate(row)
	switch {
	case err != nil:
		r.exception(err)
	case out != nil:
		r.deliver(out)
	}
	return nil
}

// evaluate runs WHERE and the projection over one row: the output row, or
// nil when WHERE drops it.
func (r *Rule) evaluate(row map[string]any) (out map[string]any, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("panic while processing a row: %v", p)
		}
	}()
	ok, err := r.prog.Match(row)
	if err != nil || !ok {
		return nil, err
	}
	return r.prog.Project(row)
}

// match runs WHERE over one row, turning a panic into an error.
func (r *Rule) match(row map[string]any) (ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			ok, err = false, fmt.Errorf("panic while processing a row: %v", p)
		}
	}()
	return r.prog.Match(row)
}

// projectPrepared makes the calls of prepared rows and projects them; a
// panic fails every one of them.
func (r *Rule) projectPrepared(prep *sql.Prepared) (outs []map[string]any, errs []error) {
	rows := prep.Rows()
	defer func() {
		if p := recover(); p != nil {
			outs, errs = make([]map[string]any, len(rows)), make([]error, len(rows))
			for i := range errs {
				errs[i] = fmt.Errorf("panic while processing a row: %v", p)
			}
		}
	}()
	return prep.Project()
}

// deliver hands an output row to every sink.
func (r *Rule) deliver(out map[string]any) {
	r.m.recordsOut.Add(1)
	if r.env.OnOutput != nil {
		r.env.OnOutput(r.def.ID, out)
	}
	for i, s := range r.sinks {
		if i > 0 {
			out = maps.Clone(out)
		}
		s.send(r.srcCtx, result{row: out})
	}
}

// deliverList hands the rows of one result set to every sink, as one
// CollectList each.
func (r *Rule) deliverList(rows []map[string]any) {
	r.m.recordsOut.Add(int64(len(rows)))
	if r.env.OnOutput != nil {
		for _, row := range rows {
			r.env.OnOutput(r.def.ID, row)
		}
	}
	for i, s := range r.sinks {
		if i > 0 {
			rows = cloneRows(rows)
		}
		s.send(r.srcCtx, result{rows: rows})
	}
}

func cloneRows(rows []map[string]any) []map[string]any {
	out := make([]map[string]any, len(rows))
	for i, row := range rows {
		out[i] = maps.Clone(row)
	}
	return out
}

// Status is a snapshot of a rule's state and metrics.
type Status struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// Message is the error that stopped the rule, if any.
	Message    string `json:"message,omitempty"`
	RecordsIn  int64  `json:"recordsIn"`
	RecordsOut int64  `json:"recordsOut"`
	// InFlight counts the rows taken in and not yet evaluated, with
	// options.concurrency or a batched function call.
	InFlight   int64 `json:"inFlight,omitempty"`
	Exceptions int64 `json:"exceptions"`
	// LateRows counts the event-time rows that came after the watermark had
	// passed them: counted here, never merged into a window.
	LateRows int64 `json:"lateRows,omitempty"`
	// Qos is the rule's processing guarantee; Checkpoints describes its
	// checkpoints at qos 1 and 2.
	Qos         int               `json:"qos"`
	Checkpoints *CheckpointStatus `json:"checkpoints,omitempty"`
	// StateError says what of the rule's saved state could not be
	// restored when it started; the rule runs on without it.
	StateError       string         `json:"stateError,omitempty"`
	LastError        string         `json:"lastError,omitempty"`
	LastErrorTime    *time.Time     `json:"lastErrorTime,omitempty"`
	ProcessLatencyUs int64          `json:"processLatencyUs"`
	AvgLatencyUs     int64          `json:"avgLatencyUs"`
	StartedAt        *time.Time     `json:"startedAt,omitempty"`
	Sources          []SourceStatus `json:"sources"`
	Sinks            []SinkStatus   `json:"sinks"`
}

// SourceStatus describes one source of a rule.
type SourceStatus struct {
	Stream     string `json:"stream"`
	Type       string `json:"type"`
	Connection string `json:"connection"`
	Message    string `json:"message,omitempty"`
	Errors     int64  `json:"errors"`
	// Dropped is what the source lost before the rule saw it
	// (sdk.Lossy), for example messages a broker dropped for it.
	Dropped int64 `json:"dropped"`
}

// SinkStatus describes one sink of a rule.
type SinkStatus struct {
	Type       string `json:"type"`
	Connection string `json:"connection"`
	Message    string `json:"message,omitempty"`
	RecordsOut int64  `json:"recordsOut"`
	Exceptions int64  `json:"exceptions"`
	Retries    int64  `json:"retries"`
	Dropped    int64  `json:"dropped"`
	Pending    int    `json:"pending"`
	LastError  string `json:"lastError,omitempty"`
}

// Status returns the rule's current state and metrics.
func (r *Rule) Status() Status {
	st := Status{
		ID:               r.def.ID,
		Status:           r.state.Load().(string),
		RecordsIn:        r.m.recordsIn.Load(),
		RecordsOut:       r.m.recordsOut.Load(),
		InFlight:         r.ord.inFlight(),
		Exceptions:       r.m.exceptions.Load(),
		LateRows:         r.m.late.Load(),
		ProcessLatencyUs: r.m.lastLatency.Load() / 1e3,
	}
	if n := r.m.latencyCount.Load(); n > 0 {
		st.AvgLatencyUs = r.m.latencyTotal.Load() / n / 1e3
	}
	if e := r.m.lastErr.Load(); e != nil {
		st.LastError, st.LastErrorTime = e.msg, &e.at
	}
	if e := r.m.fatal.Load(); e != nil {
		st.Message = e.msg
	}
	st.Qos = r.def.Options.Qos
	if r.ckpt != nil {
		st.Checkpoints = r.ckpt.status()
	}
	if e := r.restoreErr.Load(); e != nil {
		st.StateError = e.msg
	}
	if ns := r.m.startedAt.Load(); ns > 0 {
		t := time.Unix(0, ns)
		st.StartedAt = &t
	}
	for _, s := range r.sources {
		st.Sources = append(st.Sources, s.status())
	}
	for _, s := range r.sinks {
		st.Sinks = append(st.Sinks, s.status())
	}
	return st
}
