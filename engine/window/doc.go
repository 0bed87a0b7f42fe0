// Package window is the window operator of kgen's stream SQL, GROUP BY
// TUMBLINGWINDOW(...) and its kin, as a state machine: it decides which rows
// belong to which window and when a window is complete. It knows nothing of
// SQL (rows are opaque values, a sliding window's OVER (WHEN cond) is a
// predicate), does no I/O and starts no goroutines. Its semantics follow
// eKuiper's (window_op.go and event_window_trigger.go) except where noted
// under "Differences from eKuiper".
//
// # Driving it
//
// The caller owns the clock and the lock. It calls Add for each row with
// the row's time, Advance when the timer it armed for Next fires, and
// Flush, if it wants, when a bounded input ends; each returns the windows
// completed, oldest first. Tests drive it with made-up times.
//
// In processing time the clock is the caller's now: Add's ts is the
// arrival time, and the first call to Add or Advance starts the clock (a
// runtime calls Advance when the rule starts). Add moves the clock to ts
// before adding the row, so a row arriving at or after a window's end is in
// the next window even when the timer for the end has not fired yet.
//
// In event time ts is the row's own time. The watermark is the newest ts
// seen minus Spec.LateTolerance; a row older than the watermark is late:
// refused, counted by Late, and reported by Add (not as an error). Other
// rows wait in a heap until the watermark reaches them, and are released to
// the window in ts order (arrival order among equal ts); the clock is then
// the ts of the row released, then the watermark, and a window is emitted
// when its end is at or before the watermark. Only rows move the watermark:
// Advance does nothing and Next reports nothing, so an idle source leaves
// its last windows open.
//
// # Windows
//
// Windows hold rows by timestamp; Emission.Start and End bound them:
//
//	tumbling  Start ≤ ts < End, End every Length.
//	hopping   End−Length ≤ ts < End, End every hop (Interval); Start = End−Length.
//	sliding   each row for which Trigger is true (every row if nil), at t:
//	          t−Length ≤ ts ≤ t, emitted with the row; with a delay d
//	          (Interval), t−Length ≤ ts < t+d, emitted at t+d with the rows
//	          that arrived meanwhile; Start = t−Length, End = t or t+d.
//	session   opened by a row, holds rows until none comes for Interval
//	          (the timeout: End = last row + timeout), or until a
//	          max-duration tick (every Length, aligned as below) at least
//	          Length after the oldest row held, which cuts it: End = the
//	          tick, and the session goes on from Start = the tick.
//	count     every CountHop rows, the last Count rows if there are that
//	          many; Start and End are the first and last of their ts.
//
// Tumbling and hopping windows are emitted even when empty, as in eKuiper,
// so a processing-time rule reports every period. But when the clock jumps
// over a run of empty windows (a suspended process, a timer that fired
// late, a watermark leaping over a gap in the data), only the last of the
// run is emitted: a jump costs O(1), not one emission per period.
//
// # Alignment
//
// The first window end of a tumbling or hopping window, and the first
// session tick, are aligned to the time unit enclosing Spec.Unit: the first
// multiple of the period (Length, the hop, the max duration) after the
// clock's start, counted from the start of the second (unit ms), the minute
// (ss), the hour (mi) or local midnight (hh); for dd, local midnight
// Length/24h days after the start's day. From there ends follow every
// period, so a period that does not divide the enclosing unit (ss 7) is
// aligned once, not every minute. Local means Spec.Location. In event time
// the clock starts at the first row released.
//
// # Differences from eKuiper
//
//   - A hopping window's Start is End−Length; eKuiper reports the previous
//     trigger minus the hop, End−2·hop, which is only right when Length is
//     twice the hop.
//   - The first tumbling window starts at its aligned start (End−Length);
//     eKuiper reports the rule's start time, or in event time the first
//     row's ts.
//   - The first end is always after the clock's start. eKuiper compares
//     whole units, so a 10 s window started at :10.5 ended at :10.
//   - No tick is skipped for being more than 50 ms off, and hopping windows
//     are not widened by how late a tick fired: the caller passes the time,
//     so every window has its exact bounds.
//   - Days are calendar days in Spec.Location: a dd window ends at local
//     midnight on both sides of a DST change (eKuiper adds 24 h after the
//     first end).
//   - Count windows report their rows' first and last ts, not the time of
//     emission, and also work in event time (eKuiper refuses them there).
//   - A session ends when the gap to the next row reaches the timeout (in
//     event time eKuiper needs it to exceed the timeout; in processing time
//     it is a race between timer and row). A tick cuts a session when it is
//     at least the max duration after its oldest row held, in both modes
//     (eKuiper's event time wants more than that). A session cut at a tick
//     whose timeout then passes with no new row ends without emitting; the
//     next row opens a new session at its own ts.
//   - Late rows are counted, and a window holds at most Spec.MaxRows rows:
//     Add refuses more with ErrFull.
//   - In a sliding window without delay, a row with the trigger's ts that
//     comes after the trigger is not in its window.
//   - Flush emits what is open at the end of a bounded input; eKuiper emits
//     nothing after EOF, which a runtime gets by not calling Flush.
//   - Rows of a hopping window whose hop exceeds its length that fall
//     between two windows are in none and are not held.
//
// # Row numbers
//
// Rows are numbered 0, 1, 2... in the order they are stored, which is
// timestamp order (in event time, the order the watermark releases them),
// and Emission.First is the number of an emission's first row. Since an
// emission is always the buffer or its newest rows (see below), across
// the emissions of one Window, of every kind (sliding windows with and
// without delay or trigger, processing or event time), First and
// First+len(Rows) never decrease. A consumer keeping state across
// emissions removes the rows numbered below the new First and adds those
// from the previous First+len(Rows) on; it should still check that
// neither went backwards, and rebuild its state from Rows if one did.
//
// # Memory and cost
//
// Rows are held in timestamp order in a buffer that is appended to at the
// back and dropped from at the front; a slot once written is never written
// again (a full buffer moves its live rows to arrays twice their number).
// Because the clock reaches a row's ts before the row is stored, every held
// row is inside the next window to be emitted, so an emission is the whole
// buffer, or its newest Count rows: a sub-slice, handed out without copying,
// that the window never overwrites. Rows no window can use any more are
// dropped from the front: a tumbling window's after its emission, a hopping
// window's older than the next window's start, a sliding window's older
// than the oldest waiting trigger (or the newest ts) minus Length, and all
// but a count window's last Count−1. So Add, Advance and each emission cost
// O(1) amortised, whatever the window's size, plus O(log n) in event time
// for the n rows waiting for the watermark; a clock jump, a session's next
// cut and the aligned ends are computed, not iterated. Memory is at most
// about twice MaxRows rows, plus the emissions the caller keeps.
package window
