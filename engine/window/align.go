package window

import "time"

const day = 24 * time.Hour

// alignedEnd is the first window end (or session tick) for a window whose
// clock starts at t: the first multiple of period, counted from the start
// of the unit enclosing t's unit (the second for ms, the minute for ss, the
// hour for mi, local midnight for hh), that is after t. For dd it is local
// midnight period/24h days after t's day. This is eKuiper's
// getAlignedWindowEndTime, except that the end is always after t: eKuiper
// compares whole units, so at 10.5 s a 10 s window ended at :10, in the past.
func alignedEnd(t time.Time, period, unit time.Duration, loc *time.Location) time.Time {
	t = t.In(loc)
	below := time.Duration(t.Nanosecond())
	switch unit {
	case time.Millisecond:
	case time.Second:
		below += time.Duration(t.Second()) * time.Second
	case time.Minute:
		below += time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second
	case time.Hour, day:
		y, m, d := t.Date()
		if unit == day {
			return time.Date(y, m, d+int(period/day), 0, 0, 0, 0, loc)
		}
		midnight := time.Date(y, m, d, 0, 0, 0, 0, loc)
		return midnight.Add(period * (t.Sub(midnight)/period + 1))
	}
	// Subtracting the wall-clock parts below the enclosing unit, rather
	// than rebuilding the time with time.Date, keeps an instant in the
	// repeated hour of a DST change where it is.
	base := t.Add(-below)
	return base.Add(period * (below/period + 1))
}

// grid is the instants of a time window's clock: window ends (tumbling,
// hopping) or max-duration ticks (session), origin + k·step for every
// integer k. With calendar steps (unit dd) the step is days calendar days
// in origin's location, 23 or 25 hours across a DST change, so that a
// day window always ends at local midnight.
type grid struct {
	origin time.Time
	step   time.Duration // nominal with calendar steps
	days   int           // > 0 for calendar steps
}

func newGrid(origin time.Time, step, unit time.Duration) grid {
	g := grid{origin: origin, step: step}
	if unit == day {
		g.days = int(step / day)
	}
	return g
}

// at is the k-th instant, in Unix nanoseconds.
func (g grid) at(k int64) int64 {
	if g.days > 0 {
		return g.origin.AddDate(0, 0, int(k)*g.days).UnixNano()
	}
	return g.origin.UnixNano() + k*int64(g.step)
}

// floor is the index of the last instant at or before t. It costs O(1):
// the nominal step puts it within a step or two of the answer.
func (g grid) floor(t int64) int64 {
	d := t - g.origin.UnixNano()
	k := d / int64(g.step)
	if d%int64(g.step) < 0 {
		k--
	}
	for g.at(k) > t {
		k--
	}
	for g.at(k+1) <= t {
		k++
	}
	return k
}

// before is the instant d before t, in calendar days when the grid's
// steps are calendar days and d is whole days.
func (g grid) before(t int64, d time.Duration) int64 {
	if g.days > 0 && d%day == 0 {
		return time.Unix(0, t).In(g.origin.Location()).AddDate(0, 0, -int(d/day)).UnixNano()
	}
	return t - int64(d)
}
