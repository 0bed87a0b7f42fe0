// Package rule runs one SQL rule: Parse reads its JSON (eKuiper's rule
// format), Plan compiles its SQL against its streams and provisions its
// sources and sinks, Start runs it and Stop drains and ends it. The engine
// package owns the set of rules; this package owns what happens to a row.
//
// A rule has one source per stream it reads: the FROM stream and each
// stream it joins, once even when joined with itself (sql.Select.Streams);
// Status reports one SourceStatus per stream. Every source feeds the same
// rule, so a row's path is the same whichever stream it comes from, and
// who runs each step:
//
//	source goroutine, one per source (the connector's own, or pullLoop for
//	  │  a PullSource); sdk.Ingest → sourceNode.ingest: []byte, a row or rows
//	  ▼
//	Rule.ingestBytes / ingestRows          ── takes procMu (one row at a time
//	  │  per rule, whichever source it comes from)
//	  │  decode: schema.Decoder by the stream FORMAT, or Schema.Convert for rows
//	  ▼
//	Rule.emitLocked(source, row)
//	  │  grouped (a window, GROUP BY, aggregates): grouper.add, see below
//	  │  concurrency 1: evaluate here, still under procMu
//	  │  concurrency N: ordered.submit → N worker goroutines evaluate,
//	  │                 one sequencer goroutine hands rows on in input order
//	  │  a batched call (sql.Program.Batched, functionBatchSize > 1): the
//	  │                 same, each worker taking up to functionBatchSize
//	  │                 queued rows at once (Rule.evaluateJobs); when the
//	  │                 program is Overlappable and concurrency unset, two
//	  │                 workers take and prepare batches in turn (numbered
//	  │                 calls) and make the calls at once
//	  ▼
//	Rule.evaluate: sql.Program Match (WHERE), Project (SELECT), or over a
//	  │  batch Match each, then ProjectEach: one call of the batching
//	  │  function for the rows; a panic or error becomes a row exception,
//	  │  counted, and the next row goes on
//	  ▼
//	Rule.deliver → sinkNode.send for each sink (a clone per extra sink)
//	  │  the sink queue (bufferLength): "block" waits, which is backpressure
//	  │  up to the source; "drop" counts and drops
//	  ▼
//	sinkNode.loop, one goroutine per sink: Collect, retrying errors marked
//	sdk.ErrRetryable with exponential backoff, reconnecting a sink that
//	failed to connect
//
// The grouped path (group.go) runs under procMu too, from rows and from the
// timer that fires time windows on the engine's clock:
//
//	grouper.add: WHERE (processing time, no JOIN), FILTER, then the row
//	  │  enters the window (engine/window) at its arrival time, or at its
//	  │  stream's TIMESTAMP column in event time. A rule that joins streams
//	  │  puts the rows of all its streams into the one window, each as a
//	  │  sql.JoinInput tagged with the index of its stream.
//	  ▼
//	grouper.fire, per emission: Program.Join (with JOIN), then WHERE on each
//	  │  row (event time, or with JOIN: WHERE sees joined rows), then
//	  │  ProjectGroups: GROUP BY, aggregates, HAVING, ORDER BY, LIMIT and
//	  │  the select list; an error fails the result set, an exception
//	  ▼
//	Rule.deliverList: the result set to each sink, one CollectList
//
// A sliding window without JOIN (and, in event time, without WHERE) whose
// aggregates are count, sum, avg, min and max skips the recomputation: the
// grouper keeps a sql.Incremental holding the previous emission's rows,
// removes those numbered before the new emission's First, adds those
// after the previous emission's last, and takes its Result, in O(groups)
// per emission instead of O(rows). Should the numbers go backwards, or a
// panic or error occur, it is rebuilt from the emission's rows.
//
// With JOIN, event time needs a TIMESTAMP column on every stream; rows of
// all of them move the window's one watermark (eKuiper takes the least of
// the streams' newest times instead, so a slow stream does not make the
// others' rows late). maxWindowRows also bounds the rows a window joins
// into.
//
// Time windows fire from a clock.Clock timer; tests move a fake clock
// instead of sleeping. A bounded source that ends emits the windows still
// open.
//
// Stop cancels srcCtx first (releasing a source blocked on a full queue),
// stops the sources, drains the ordered workers and closes the sink queues
// under procMu, then gives the sinks up to drainTimeout to write what they
// hold before ctx ends their retries. The rule finishes by itself when
// every bounded source has reached its end.
// Metrics are atomics read by Status without locks; the engine's /metrics
// reads them from Status too. The processing time of each ingest also goes
// to the observer Env.Latency gave at Plan: one Observe, no lookup. Topo
// describes the path above as planned, in eKuiper's topology shape.
//
// # Checkpoints (qos 1 and 2)
//
// checkpoint.go explains how a rule at qos 1 or 2 captures its state:
// under procMu (so between two rows), the window, the sources' offsets and
// acknowledgement marks and the state keys of sources and functions; then
// a barrier through each sink queue, at which the sink hands over its own
// state keys once it has written the rows before it. The record (window,
// offsets), the window's new rows and the state keys are written in one
// store transaction, and only then are the covered messages acknowledged.
// The rows go in chunks beside the record (checkpoint_window.go), so a
// checkpoint writes the rows taken in since the last one and deletes the
// chunks the window dropped, never all it holds; likewise only changed
// state keys are written. Start restores the last
// record before the sources connect: the window's rows and clock, each
// rewindable source's offset; state scopes load what the checkpoint
// wrote, since the background flush leaves a checkpointing rule's scopes
// alone. Stop takes a last checkpoint before it closes the sources.
//
// What each level gives:
//   - qos 0: no checkpoints; extension state is flushed every
//     store.flushInterval and windows are lost on a restart.
//   - qos 1 and 2: state, windows and offsets are consistent with one
//     another at every checkpoint. With a source that rewinds (file), a
//     crash replays exactly what came after the checkpoint: state is
//     exactly once. With a source whose sender redelivers what was not
//     acknowledged (MQTT at QoS 1 or 2, with the persistent session the
//     engine gives such a rule), nothing acknowledged is lost and state is
//     at least once: a crash between a checkpoint's write and the broker
//     receiving its acknowledgements redelivers that checkpoint's messages
//     (at most the broker's in-flight window). Sinks are at least once:
//     rows written after the last checkpoint are written again.
//     The embedded broker keeps nothing on disk and hands messages to the
//     engine's sources in process, where there is nothing to acknowledge:
//     a rule stopped or updated loses nothing (it checkpoints as it
//     stops), but what the rule took in after its last checkpoint is gone
//     with an engine crash, as is anything the broker held; and messages
//     published while the rule is not running are not kept for it. At
//     least once across crashes needs an external broker.
//   - kgen's checkpoints are always aligned (one lock serialises a rule's
//     inputs), so qos 1 gives what eKuiper's qos 2 does; 2 is accepted for
//     rules moving from eKuiper and behaves as 1.
//
// A source that acknowledges (sdk.Acknowledger) says how many messages it
// can hold unacknowledged; the rule checkpoints as soon as one holds that
// many (MQTT: the source property maxUnacked, 16 by default, under
// mosquitto's in-flight window of 20), so the broker never stalls waiting
// for checkpointInterval.
//
// # Call sites and rule updates
//
// A function's state belongs to its call site, named by the call's text as
// the SQL formats it ("func:wordCount(text)"; identical calls are told
// apart by " #2", " #3" in source order). An update keeps the state of the
// call sites whose text is unchanged, wherever they moved, and deletes the
// others'. Sources keep theirs by stream ("source:demo"), sinks by
// position and type ("sink:0:mqtt"). The offsets of the last checkpoint
// are restored after an update, and its window when the window clause and
// the time mode are unchanged; otherwise the window starts empty. A
// restore that fails is reported on the status (StateError) and the rule
// runs on from what could be restored.
package rule
