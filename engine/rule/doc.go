// Package rule runs one SQL rule: Parse reads its JSON (eKuiper's rule
// format), Plan compiles its SQL against the stream and provisions its
// source and sinks, Start runs it and Stop drains and ends it. The engine
// package owns the set of rules; this package owns what happens to a row.
//
// A row's path, and who runs each step:
//
//	source goroutine (the connector's own, or pullLoop for a PullSource)
//	  │  sdk.Ingest → sourceNode.ingest: []byte, a row or rows
//	  ▼
//	Rule.ingestBytes / ingestRows          ── takes procMu (one row at a time per rule)
//	  │  decode: schema.Decoder by the stream FORMAT, or Schema.Convert for rows
//	  ▼
//	Rule.emitLocked
//	  │  concurrency 1: evaluate here, still under procMu
//	  │  concurrency N: ordered.submit → N worker goroutines evaluate,
//	  │                 one sequencer goroutine hands rows on in input order
//	  ▼
//	Rule.evaluate: sql.Program Match (WHERE), Project (SELECT); a panic or
//	  │  error becomes a row exception, counted, and the next row goes on
//	  ▼
//	Rule.deliver → sinkNode.send for each sink (a clone per extra sink)
//	  │  the sink queue (bufferLength): "block" waits, which is backpressure
//	  │  up to the source; "drop" counts and drops
//	  ▼
//	sinkNode.loop, one goroutine per sink: Collect, retrying errors marked
//	sdk.ErrRetryable with exponential backoff, reconnecting a sink that
//	failed to connect
//
// A rule with a window, GROUP BY or aggregates takes another branch at
// Rule.emitLocked (group.go): the row passes WHERE (in processing time;
// in event time WHERE runs on the window's rows when it fires, as every
// row moves the watermark) and the window's FILTER, enters the
// engine/window state machine with its time (the clock's, or its
// TIMESTAMP column's), and each emission becomes one result set, grouped,
// aggregated and projected by sql.Program.ProjectGroups, that every sink
// gets in one CollectList. Time windows fire from a clock.Clock timer
// that takes procMu like a source; tests move a fake clock instead of
// sleeping. A bounded source that ends emits the windows still open.
//
// Stop cancels srcCtx first (releasing a source blocked on a full queue),
// stops the sources, drains the ordered workers and closes the sink queues
// under procMu, then gives the sinks up to drainTimeout to write what they
// hold before ctx ends their retries.
// Metrics are atomics read by Status without locks.
package rule
