package window

import (
	"fmt"
	"time"
)

// State is everything a Window holds, for a checkpoint: Snapshot takes it
// and Restore puts it into a new Window made from the same Spec, which then
// behaves exactly as the one it was taken from. Times are Unix nanoseconds.
// Rows are the caller's values, shared, not copied.
type State struct {
	Kind     Kind
	Closed   bool
	Late     int64
	Anchored bool
	Now      int64
	// The window holds Held rows, numbered from Seq; Rows are those
	// numbered from From on, oldest first (all of them when From is Seq).
	Rows []TimedRow
	Seq  uint64
	From uint64
	Held int
	// Event time: the rows not released yet (each with its arrival
	// number), the arrival counter and the watermark.
	Pending   []TimedRow
	Arrivals  uint64
	Seen      bool
	MaxTs     int64
	Watermark int64
	// Tumbling, hopping and session: the first aligned instant, the index
	// and instant of the next window end, and its start.
	Origin int64
	EndIdx int64
	End    int64
	Lo     int64
	// Sliding with delay: the pending triggers.
	Triggers []int64
	// Session: whether one is open, its start and its latest row.
	Open        bool
	Start, Last int64
	// Count: rows since the last hop.
	Since int
}

// TimedRow is a row with its timestamp and, for a pending event-time row,
// its arrival number.
type TimedRow struct {
	TS  int64
	Seq uint64
	Row any
}

// Snapshot returns the window's state with the rows numbered from on (all
// of them when from is 0): a caller that keeps the rows it saw before needs
// only the ones pushed since, as rows are numbered in the order they are
// pushed and dropped oldest first.
func (w *Window) Snapshot(from uint64) State {
	st := State{
		Kind: w.spec.Kind, Closed: w.closed, Late: w.late, Anchored: w.anchored, Now: w.now,
		Seq: w.buf.seq, Held: w.buf.len(), Arrivals: w.seq, Seen: w.seen, MaxTs: w.maxTs, Watermark: w.watermark,
		EndIdx: w.endIdx, End: w.end, Lo: w.lo, Open: w.open, Start: w.start, Last: w.last, Since: w.since,
	}
	if !w.grid.origin.IsZero() {
		st.Origin = w.grid.origin.UnixNano()
	}
	st.From = min(max(from, st.Seq), st.Seq+uint64(st.Held))
	skip := int(st.From - st.Seq)
	st.Rows = make([]TimedRow, st.Held-skip)
	for i, row := range w.buf.rows[skip:] {
		st.Rows[i] = TimedRow{TS: w.buf.ts[skip+i], Row: row}
	}
	for _, p := range w.pending {
		st.Pending = append(st.Pending, TimedRow{TS: p.ts, Seq: p.seq, Row: p.row})
	}
	st.Triggers = append([]int64(nil), w.triggers...)
	return st
}

// Restore replaces the state of a window that has not been used yet with
// st. It fails when st was taken from a window of another kind or does not
// fit this one's limits.
func (w *Window) Restore(st State) error {
	if st.Kind != w.spec.Kind {
		return fmt.Errorf("window state: taken from a %s window, this one is %s", st.Kind, w.spec.Kind)
	}
	if st.From != st.Seq || len(st.Rows) != st.Held {
		return fmt.Errorf("window state: %d rows numbered from %d, want the %d held from %d", len(st.Rows), st.From, st.Held, st.Seq)
	}
	if n := len(st.Rows) + len(st.Pending); n > w.maxRows {
		return fmt.Errorf("window state: %d rows, more than the limit of %d", n, w.maxRows)
	}
	for i := 1; i < len(st.Rows); i++ {
		if st.Rows[i].TS < st.Rows[i-1].TS {
			return fmt.Errorf("window state: row %d is older than row %d", i, i-1)
		}
	}
	w.closed, w.late, w.anchored, w.now = st.Closed, st.Late, st.Anchored, st.Now
	w.buf = rowBuf{seq: st.Seq}
	for _, r := range st.Rows {
		w.buf.push(r.TS, r.Row)
	}
	w.pending = nil
	for _, p := range st.Pending {
		w.pending.push(pendingRow{ts: p.TS, seq: p.Seq, row: p.Row})
	}
	w.seq, w.seen, w.maxTs, w.watermark = st.Arrivals, st.Seen, st.MaxTs, st.Watermark
	w.grid = grid{}
	if st.Anchored {
		var period time.Duration
		switch w.spec.Kind {
		case Tumbling, Session:
			period = w.spec.Length
		case Hopping:
			period = w.spec.Interval
		}
		if period > 0 {
			w.grid = newGrid(w.time(st.Origin), period, w.spec.Unit)
		}
	}
	w.endIdx, w.end, w.lo = st.EndIdx, st.End, st.Lo
	w.triggers = append([]int64(nil), st.Triggers...)
	w.open, w.start, w.last, w.since = st.Open, st.Start, st.Last, st.Since
	return nil
}
