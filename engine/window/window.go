package window

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Kind is the kind of a window.
type Kind int

// The kinds of windows, one per SQL window function.
const (
	Tumbling Kind = iota + 1 // TUMBLINGWINDOW(unit, length)
	Hopping                  // HOPPINGWINDOW(unit, length, hop)
	Sliding                  // SLIDINGWINDOW(unit, length[, delay]) [OVER (WHEN cond)]
	Session                  // SESSIONWINDOW(unit, maxDuration, timeout)
	Count                    // COUNTWINDOW(n[, hop])
)

func (k Kind) String() string {
	switch k {
	case Tumbling:
		return "tumbling"
	case Hopping:
		return "hopping"
	case Sliding:
		return "sliding"
	case Session:
		return "session"
	case Count:
		return "count"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// DefaultMaxRows is the number of rows a window holds at most when
// Spec.MaxRows is 0.
const DefaultMaxRows = 100000

// Spec describes a window. Each kind reads only its own fields:
//
//	Tumbling  Length, Unit
//	Hopping   Length, Interval (the hop), Unit
//	Sliding   Length, Interval (the delay, may be 0), Trigger
//	Session   Length (the max duration), Interval (the timeout), Unit
//	Count     Count, CountHop
//
// and every kind reads EventTime, LateTolerance, MaxRows and Location.
type Spec struct {
	Kind Kind
	// Length and Interval are in the SQL's terms: see above.
	Length, Interval time.Duration
	// Count is a count window's size n; CountHop fires it every CountHop
	// rows, 1 ≤ CountHop ≤ Count, 0 meaning Count.
	Count, CountHop int
	// Unit is the SQL time unit (time.Millisecond for ms, Second, Minute,
	// Hour, or 24h for dd) of tumbling, hopping and session windows. It
	// decides the alignment of their first end, and their lengths must be
	// whole units.
	Unit time.Duration
	// EventTime makes the window follow the rows' timestamps and a
	// watermark instead of the arrival clock.
	EventTime bool
	// LateTolerance lowers the watermark below the newest timestamp seen,
	// so that rows up to that much out of order still count (event time).
	LateTolerance time.Duration
	// MaxRows bounds the rows held at once; 0 means DefaultMaxRows.
	MaxRows int
	// Trigger is a sliding window's OVER (WHEN cond): only the rows for
	// which it is true emit a window. nil means every row does. It is
	// called once per row, in the order rows are released to the window.
	Trigger func(row any) bool
	// Location is the time zone of the alignment to the enclosing unit (hh
	// windows start at local midnight, dd windows end there) and of the
	// Start and End of emissions; nil means time.Local.
	Location *time.Location
}

// Emission is one window's result.
type Emission struct {
	// Start and End bound the window: Start ≤ ts < End for the rows of
	// tumbling, hopping, session and delayed sliding windows, Start ≤ ts ≤
	// End for a sliding window without delay, and the first and the last
	// row's timestamps for a count window.
	Start, End time.Time
	// Rows are the window's rows in timestamp order (arrival order in
	// processing time); empty for a time window that got none. The window
	// never writes to this memory again, and appending to it copies.
	Rows []any
	// First is the sequence number of Rows[0] (of the row that would be
	// there, when Rows is empty). Rows are numbered 0, 1, 2... in the
	// order the window stores them, so Rows holds numbers First to
	// First+len(Rows)−1. Across the emissions of one Window, of every
	// kind, First and First+len(Rows) never decrease: the rows are a
	// window on a buffer that only grows at the back and drops from the
	// front. A consumer that keeps state across emissions (an incremental
	// aggregate over a sliding window) can thus tell the rows that left
	// (numbers below the new First) from those that entered (numbers from
	// the previous First+len(Rows) on); it should still check the
	// invariant and start over should it fail.
	First uint64
}

var (
	// ErrFull is returned by Add when the window already holds MaxRows rows;
	// the row is not added. The error says the limit.
	ErrFull = errors.New("window full")
	// ErrClosed is returned by Add after Flush.
	ErrClosed = errors.New("window closed")
)

// Window is a window operator: it takes rows with their timestamps and
// returns the windows that complete. It does no I/O, starts no goroutines
// and is not safe for concurrent use: the caller serialises calls, feeds it
// the clock through Add and Advance and arms a timer for Next.
type Window struct {
	spec      Spec
	maxRows   int
	tolerance int64
	late      int64
	closed    bool

	// The clock, in Unix nanoseconds: in processing time the latest time
	// passed to Add or Advance; in event time the timestamp of the latest
	// row released, then the watermark. anchored says it has started.
	anchored bool
	now      int64
	buf      rowBuf

	// Event time: rows not yet released, and the watermark.
	pending   pending
	seq       uint64
	seen      bool
	maxTs     int64
	watermark int64

	// Tumbling and hopping: window ends, the next end (its index and
	// instant) and its start lo. Session: max-duration ticks.
	grid   grid
	endIdx int64
	end    int64
	lo     int64

	// Sliding with delay: the timestamps of triggering rows whose windows
	// are not emitted yet, oldest first.
	triggers []int64

	// Session: whether one is open, its start and its latest row.
	open        bool
	start, last int64

	// Count: rows since the last hop.
	since int
}

// New returns an empty window for spec, or an error saying what in spec is
// wrong.
func New(spec Spec) (*Window, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	w := &Window{spec: spec, maxRows: spec.MaxRows, tolerance: int64(spec.LateTolerance)}
	if w.maxRows == 0 {
		w.maxRows = DefaultMaxRows
	}
	if w.spec.Kind == Count && w.spec.CountHop == 0 {
		w.spec.CountHop = w.spec.Count
	}
	if w.spec.Location == nil {
		w.spec.Location = time.Local
	}
	return w, nil
}

func (s *Spec) check() error {
	if s.Kind < Tumbling || s.Kind > Count {
		return fmt.Errorf("window: unknown kind %d", int(s.Kind))
	}
	if s.MaxRows < 0 {
		return fmt.Errorf("window: MaxRows must not be negative, got %d", s.MaxRows)
	}
	if s.LateTolerance < 0 {
		return fmt.Errorf("window: late tolerance must not be negative, got %v", s.LateTolerance)
	}
	name := s.Kind.String() + " window"
	if s.Trigger != nil && s.Kind != Sliding {
		return fmt.Errorf("%s: a trigger (OVER WHEN) is only for sliding windows", name)
	}
	positive := func(what string, d time.Duration) error {
		if d <= 0 {
			return fmt.Errorf("%s: %s must be positive, got %v", name, what, d)
		}
		return nil
	}
	// whole checks a duration the window aligns to the unit.
	whole := func(what string, d time.Duration) error {
		if err := positive(what, d); err != nil {
			return err
		}
		switch s.Unit {
		case time.Millisecond, time.Second, time.Minute, time.Hour, day:
		default:
			return fmt.Errorf("%s: unit must be 1ms, 1s, 1m0s, 1h0m0s or 24h0m0s, got %v", name, s.Unit)
		}
		if d%s.Unit != 0 {
			return fmt.Errorf("%s: %s %v is not a whole number of units (%v)", name, what, d, s.Unit)
		}
		return nil
	}
	switch s.Kind {
	case Tumbling:
		return whole("length", s.Length)
	case Hopping:
		if err := whole("length", s.Length); err != nil {
			return err
		}
		return whole("hop", s.Interval)
	case Sliding:
		if err := positive("length", s.Length); err != nil {
			return err
		}
		if s.Interval < 0 {
			return fmt.Errorf("%s: delay must not be negative, got %v", name, s.Interval)
		}
	case Session:
		if err := whole("max duration", s.Length); err != nil {
			return err
		}
		return positive("timeout", s.Interval)
	case Count:
		limit := s.MaxRows
		if limit == 0 {
			limit = DefaultMaxRows
		}
		switch {
		case s.Count <= 0:
			return fmt.Errorf("%s: count must be positive, got %d", name, s.Count)
		case s.CountHop < 0 || s.CountHop > s.Count:
			return fmt.Errorf("%s: hop must be between 1 and the count %d, got %d", name, s.Count, s.CountHop)
		case s.Count > limit:
			return fmt.Errorf("%s: count %d exceeds MaxRows %d", name, s.Count, limit)
		}
	}
	return nil
}

// Add adds a row with its timestamp: in processing time the arrival time
// (the clock's now), in event time the row's event time. It first moves
// the clock to ts (event time: releases the rows the new watermark passes)
// and returns the windows this completes, oldest first, then adds the row,
// which may complete a sliding or count window too.
//
// In event time a row older than the watermark is late: it is not added,
// Late counts it, and Add reports late without an error. In processing time
// a ts before the latest time seen is taken as that time.
//
// When the window already holds MaxRows rows, the row is not added and err
// wraps ErrFull; out is still valid, since the clock has moved.
func (w *Window) Add(ts time.Time, row any) (out []Emission, late bool, err error) {
	if w.closed {
		return nil, false, ErrClosed
	}
	t := ts.UnixNano()
	if !w.spec.EventTime {
		if !w.anchored {
			w.anchor(t)
		}
		t = max(t, w.now)
		out = w.advance(t, nil)
		w.prune(t)
		if err := w.checkRoom(); err != nil {
			return out, false, err
		}
		return w.store(t, row, out), false, nil
	}

	if w.seen && t < w.watermark {
		w.late++
		return nil, true, nil
	}
	if !w.seen || t > w.maxTs {
		w.seen = true
		w.maxTs = t
		w.watermark = t - w.tolerance
	}
	for len(w.pending) > 0 && w.pending[0].ts <= w.watermark {
		r := w.pending.pop()
		out = w.release(r.ts, r.row, out)
	}
	// The watermark moves even for a row refused below, and windows it
	// completes make room first: otherwise a window whose held rows all
	// wait for the watermark would refuse every row from then on. The
	// clock stops at t if the row is released now, to store it in order.
	if w.anchored {
		out = w.advance(min(t, w.watermark), out)
	}
	if err = w.checkRoom(); err == nil {
		if t <= w.watermark {
			// Every pending row is newer, so release order is kept.
			out = w.release(t, row, out)
		} else {
			w.seq++
			w.pending.push(pendingRow{ts: t, seq: w.seq, row: row})
		}
	}
	if w.anchored {
		out = w.advance(w.watermark, out)
	}
	return out, false, err
}

// Advance moves the processing-time clock to now and returns the windows
// this completes, oldest first: tumbling and hopping ends, session
// timeouts and max-duration ticks, delayed sliding windows. Call it when
// the timer armed for Next fires, and once when the rule starts: the
// first call to Advance or Add starts the clock, from which the first
// window end is aligned. In event time Advance does nothing: only rows move
// the watermark.
func (w *Window) Advance(now time.Time) []Emission {
	if w.closed || w.spec.EventTime {
		return nil
	}
	t := now.UnixNano()
	if !w.anchored {
		w.anchor(t)
	}
	return w.advance(t, nil)
}

// Next is the next instant at which Advance will emit a window, false
// when no such instant is known: in event time, for count windows, before
// the clock has started, and when no session or delayed sliding window is
// waiting.
func (w *Window) Next() (time.Time, bool) {
	if w.closed || w.spec.EventTime || !w.anchored {
		return time.Time{}, false
	}
	switch w.spec.Kind {
	case Tumbling, Hopping:
		return w.time(w.end), true
	case Sliding:
		if len(w.triggers) > 0 {
			return w.time(w.triggers[0] + int64(w.spec.Interval)), true
		}
	case Session:
		if w.open && w.buf.len() > 0 {
			return w.time(min(w.sessionTimeout(), w.sessionCut())), true
		}
	}
	return time.Time{}, false
}

// Flush ends the input, for a bounded source: it releases every pending
// row as if the watermark had gone past them, then emits the windows that
// hold rows as if time ran on with no more rows: the current tumbling
// window, every hopping window holding a row, the pending delayed sliding
// windows, the open session (cut at max-duration ticks as usual). It emits
// no count window short of its count, and no empty window. Afterwards the
// window holds nothing and Add returns ErrClosed.
//
// eKuiper emits nothing at the end of input; a runtime that wants its
// behaviour does not call Flush.
func (w *Window) Flush() []Emission {
	if w.closed {
		return nil
	}
	var out []Emission
	for len(w.pending) > 0 {
		r := w.pending.pop()
		out = w.release(r.ts, r.row, out)
	}
	switch w.spec.Kind {
	case Tumbling, Hopping:
		for w.buf.len() > 0 {
			out = w.fireEnd(out)
		}
	case Sliding:
		for len(w.triggers) > 0 {
			out = w.fireTrigger(out)
		}
	case Session:
		out = w.sessionDue(math.MaxInt64, out)
	}
	w.closed = true
	w.buf, w.pending, w.triggers = rowBuf{seq: w.buf.seq + uint64(w.buf.len())}, nil, nil
	return out
}

// Late is the number of late rows refused so far (event time).
func (w *Window) Late() int64 { return w.late }

// Held is the number of rows held: in windows and, in event time, waiting
// for the watermark.
func (w *Window) Held() int { return w.buf.len() + len(w.pending) }

func (w *Window) checkRoom() error {
	if w.Held() >= w.maxRows {
		return fmt.Errorf("%w: it holds %d rows, the limit", ErrFull, w.maxRows)
	}
	return nil
}

func (w *Window) time(t int64) time.Time { return time.Unix(0, t).In(w.spec.Location) }

// anchor starts the clock at t and aligns the first window end or session
// tick from it.
func (w *Window) anchor(t int64) {
	w.anchored = true
	w.now = t
	var period time.Duration
	switch w.spec.Kind {
	case Tumbling, Session:
		period = w.spec.Length
	case Hopping:
		period = w.spec.Interval
	default:
		return
	}
	first := alignedEnd(w.time(t), period, w.spec.Unit, w.spec.Location)
	w.grid = newGrid(first, period, w.spec.Unit)
	w.setEnd(0)
}

// release adds an event-time row the watermark has passed, in timestamp
// order.
func (w *Window) release(t int64, row any, out []Emission) []Emission {
	if !w.anchored {
		w.anchor(t)
	}
	out = w.advance(t, out)
	w.prune(t)
	return w.store(t, row, out)
}

// advance moves the clock to t and emits what is due by then. Afterwards
// every held row is inside the next window to be emitted: a row is stored
// only after the clock has reached its ts, so windows ending at or before
// it have gone. That makes each emission the whole buffer (or its newest
// rows for count windows), never a search.
func (w *Window) advance(t int64, out []Emission) []Emission {
	if t < w.now {
		return out
	}
	w.now = t
	switch w.spec.Kind {
	case Tumbling, Hopping:
		for w.end <= t {
			out = w.fireEnd(out)
		}
	case Sliding:
		for len(w.triggers) > 0 && w.triggers[0]+int64(w.spec.Interval) <= t {
			out = w.fireTrigger(out)
		}
	case Session:
		out = w.sessionDue(t, out)
	}
	return out
}

// prune drops the rows a row at t makes useless before it is stored.
func (w *Window) prune(t int64) {
	if w.spec.Kind != Sliding {
		return
	}
	oldest := t
	if len(w.triggers) > 0 {
		oldest = w.triggers[0]
	}
	w.buf.dropBefore(oldest - int64(w.spec.Length))
}

// store adds a row at t, the clock being at t.
func (w *Window) store(t int64, row any, out []Emission) []Emission {
	switch w.spec.Kind {
	case Tumbling, Hopping:
		if t < w.lo {
			return out // between two hopping windows: in none
		}
		w.buf.push(t, row)
	case Sliding:
		w.buf.push(t, row)
		if w.spec.Trigger != nil && !w.spec.Trigger(row) {
			return out
		}
		if w.spec.Interval > 0 {
			w.triggers = append(w.triggers, t)
			return out
		}
		out = append(out, Emission{Start: w.time(t - int64(w.spec.Length)), End: w.time(t), Rows: w.buf.all(), First: w.buf.seq})
	case Session:
		if !w.open {
			w.open = true
			w.start = t
		}
		w.last = t
		w.buf.push(t, row)
	case Count:
		w.buf.push(t, row)
		w.since++
		n := w.spec.Count
		if w.since == w.spec.CountHop {
			w.since = 0
			if w.buf.len() >= n {
				first := w.buf.ts[w.buf.len()-n]
				out = append(out, Emission{Start: w.time(first), End: w.time(t), Rows: w.buf.last(n), First: w.buf.lastSeq(n)})
			}
		}
		if extra := w.buf.len() - (n - 1); extra > 0 {
			w.buf.drop(extra)
		}
	}
	return out
}

// setEnd makes the k-th grid instant the next window end.
func (w *Window) setEnd(k int64) {
	w.endIdx = k
	w.end = w.grid.at(k)
	w.lo = w.grid.before(w.end, w.spec.Length)
}

// fireEnd emits the tumbling or hopping window ending at w.end and moves
// to the next. An empty window is emitted too, as in eKuiper, but of a run
// of empty windows the clock has passed by a whole step (a suspended
// process, a watermark jumping over a gap in the data), only the last is:
// a jump of the clock costs O(1), not O(jump/step).
func (w *Window) fireEnd(out []Emission) []Emission {
	if w.buf.len() == 0 && w.grid.at(w.endIdx+1) <= w.now {
		w.setEnd(w.grid.floor(w.now))
	}
	out = append(out, Emission{Start: w.time(w.lo), End: w.time(w.end), Rows: w.buf.all(), First: w.buf.seq})
	w.setEnd(w.endIdx + 1)
	w.buf.dropBefore(w.lo)
	return out
}

// fireTrigger emits the delayed sliding window of the oldest trigger.
func (w *Window) fireTrigger(out []Emission) []Emission {
	t := w.triggers[0]
	w.triggers = w.triggers[1:]
	lo := t - int64(w.spec.Length)
	w.buf.dropBefore(lo)
	return append(out, Emission{Start: w.time(lo), End: w.time(t + int64(w.spec.Interval)), Rows: w.buf.all(), First: w.buf.seq})
}

// sessionTimeout is when the open session times out.
func (w *Window) sessionTimeout() int64 { return w.last + int64(w.spec.Interval) }

// sessionCut is the first max-duration tick at least the max duration
// after the oldest held row, where the session is cut; MaxInt64 when no
// row is held.
func (w *Window) sessionCut() int64 {
	if w.buf.len() == 0 {
		return math.MaxInt64
	}
	return w.grid.at(w.grid.floor(w.buf.front()+int64(w.spec.Length)-1) + 1)
}

// sessionDue emits the session parts due by t, in time order: a timeout
// closes the session with all its rows; a cut emits the rows so far and
// the session goes on from the tick. At a tie the timeout wins.
func (w *Window) sessionDue(t int64, out []Emission) []Emission {
	for w.open {
		timeout, cut := w.sessionTimeout(), w.sessionCut()
		end := min(timeout, cut)
		if end > t {
			break
		}
		if n := w.buf.len(); n > 0 {
			out = append(out, Emission{Start: w.time(w.start), End: w.time(end), Rows: w.buf.all(), First: w.buf.seq})
			w.buf.drop(n)
		}
		if timeout <= cut {
			w.open = false
		} else {
			w.start = cut
		}
	}
	return out
}
