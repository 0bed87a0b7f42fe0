package rule

import (
	"cmp"
	"fmt"
	"time"

	"github.com/kgen-dev/kgen/engine/schema"
	"github.com/kgen-dev/kgen/engine/sql"
	"github.com/kgen-dev/kgen/engine/window"
	"github.com/kgen-dev/kgen/internal/clock"
)

// grouper is the grouped path of a rule (a window, GROUP BY or aggregate
// functions): a row that passes WHERE and the window's FILTER enters the
// window, and each emission of the window is one result set, grouped,
// aggregated and projected by the program, that the sinks receive in one
// CollectList. Without a window every row is a result set of its own. It
// runs under the rule's procMu: rows arrive there, and the timer that
// fires time windows takes it too.
//
// A rule that joins streams puts the rows of all its sources into the one
// window, each as a sql.JoinInput tagged with its stream; an emission is
// joined first, and WHERE then runs on the joined rows.
type grouper struct {
	r     *Rule
	w     *window.Window // nil without a window
	clock clock.Clock
	join  bool

	// Event time: per stream of the rule, the TIMESTAMP column and its
	// layout.
	eventTime bool
	times     []eventTime

	timer clock.Timer
	due   time.Time // when timer fires

	// A sliding window's emissions are evaluated incrementally when the
	// program allows it (see sql.Incremental), the rule does not join
	// and, in event time, has no WHERE (which then runs on each
	// emission's rows): inc holds the rows of the previous emission,
	// incRows, the first numbered incFirst (window.Emission.First), when
	// incOK.
	inc      *sql.Incremental
	incOK    bool
	incRows  []any
	incFirst uint64
}

// eventTime is where a stream's rows carry their event time.
type eventTime struct {
	field, layout string
}

func (r *Rule) planGroups() error {
	g := &grouper{r: r, clock: r.env.Clock, join: r.prog.Joined()}
	if g.clock == nil {
		g.clock = clock.Real
	}
	if r.def.Options.Concurrency > 1 {
		return fmt.Errorf("options.concurrency: a rule with a window, GROUP BY or aggregates runs one row at a time")
	}
	opts := r.def.Options
	if opts.IsEventTime {
		g.eventTime = true
		// Every stream needs its TIMESTAMP column: rows of all of them
		// move the one watermark.
		for _, st := range r.streams {
			et := eventTime{field: st.Options["TIMESTAMP"]}
			if et.field == "" {
				return fmt.Errorf("options.isEventTime: stream %q has no TIMESTAMP column (CREATE STREAM ... WITH (TIMESTAMP=\"field\"))", st.Name)
			}
			if f := st.Options["TIMESTAMP_FORMAT"]; f != "" {
				layout, err := schema.TimeLayout(f)
				if err != nil {
					return fmt.Errorf("stream %q: TIMESTAMP_FORMAT: %w", st.Name, err)
				}
				et.layout = layout
			}
			g.times = append(g.times, et)
		}
	}
	if win := r.prog.Window(); win != nil {
		spec, err := g.spec(win)
		if err != nil {
			return err
		}
		if g.w, err = window.New(spec); err != nil {
			return fmt.Errorf("window %s: %w", win, err)
		}
		if win.Kind == sql.SlidingWindow && !g.join && !(g.eventTime && r.prog.HasWhere()) {
			g.inc, _ = r.prog.Incremental()
		}
	}
	r.grp = g
	return nil
}

// spec turns the SQL window and the rule options into the window's spec.
func (g *grouper) spec(win *sql.Window) (window.Spec, error) {
	opts := g.r.def.Options
	unit := win.UnitDuration()
	spec := window.Spec{
		Unit:          unit,
		Length:        time.Duration(win.Length) * unit,
		Interval:      time.Duration(win.Interval) * unit,
		EventTime:     g.eventTime,
		LateTolerance: time.Duration(cmp.Or(opts.LateTolerance, defaultLateTolerance)),
		MaxRows:       cmp.Or(opts.MaxWindowRows, defaultMaxWindowRows),
	}
	switch win.Kind {
	case sql.TumblingWindow:
		spec.Kind = window.Tumbling
	case sql.HoppingWindow:
		spec.Kind = window.Hopping
	case sql.SlidingWindow:
		spec.Kind = window.Sliding
		if win.Trigger != nil {
			prog := g.r.prog
			spec.Trigger = func(row any) bool {
				ok, err := prog.Trigger(row.(map[string]any))
				if err != nil {
					g.r.exception(err)
				}
				return ok
			}
		}
	case sql.SessionWindow:
		spec.Kind = window.Session
	case sql.CountWindow:
		spec.Kind = window.Count
		spec.Count, spec.CountHop = int(win.Length), int(win.Interval)
	}
	return spec, nil
}

// add takes one decoded row of src; procMu is held.
func (g *grouper) add(src *sourceNode, row map[string]any) {
	r := g.r
	// In event time every row moves the watermark, so WHERE runs on the
	// window's rows when it fires (as eKuiper does); in processing time it
	// runs first, and the window holds only the rows it keeps. With a join
	// WHERE sees joined rows, so it runs after the join.
	if !g.lateWhere() && !g.match(row) {
		return
	}
	if ok, err := r.prog.Filter(row); err != nil || !ok {
		if err != nil {
			r.exception(err)
		}
		return
	}
	if g.w == nil {
		g.emit(nil, 0, 0, []map[string]any{row})
		return
	}
	ts := g.clock.Now()
	if g.eventTime {
		et := g.times[src.index]
		var err error
		if ts, err = schema.EventTime(row[et.field], et.layout); err != nil {
			r.exception(fmt.Errorf("stream %q: TIMESTAMP column %q: %w", src.stream.Name, et.field, err))
			return
		}
	}
	var item any = row
	if g.join {
		item = sql.JoinInput{Stream: src.index, Row: row}
	}
	ems, late, err := g.w.Add(ts, item)
	switch {
	case err != nil:
		r.exception(err)
	case late:
		r.m.late.Add(1)
	}
	g.fire(ems)
	g.arm()
}

// lateWhere tells whether WHERE runs on the rows of a window's emission
// rather than on each row before it enters the window.
func (g *grouper) lateWhere() bool {
	return g.w != nil && (g.eventTime || g.join)
}

// match runs WHERE on a row, counting an error as an exception.
func (g *grouper) match(row map[string]any) bool {
	ok, err := g.r.prog.Match(row)
	if err != nil {
		g.r.exception(err)
	}
	return ok
}

// fire turns window emissions into result sets: joined, when the rule
// joins streams, and filtered by WHERE if it has not run yet.
func (g *grouper) fire(ems []window.Emission) {
	late := g.lateWhere()
	for _, em := range ems {
		if g.inc != nil {
			if g.eventTime && len(em.Rows) == 0 {
				continue
			}
			out, err := g.incremental(&em)
			g.deliver(&em, out, err)
			continue
		}
		in, err := g.rows(em.Rows)
		if err != nil {
			g.r.exception(err)
			continue
		}
		rows := in
		if late {
			rows = in[:0] // in is this emission's own: filter it in place
			for _, row := range in {
				if g.match(row) {
					rows = append(rows, row)
				}
			}
		}
		if g.eventTime && len(rows) == 0 {
			continue // a window WHERE empties is not emitted
		}
		g.emit(&em, em.Start.UnixMilli(), em.End.UnixMilli(), rows)
	}
}

// rows are the rows of an emission: the window's, or joined by the
// program, a panic in it (a plugin function in ON) becoming an error of the
// result set.
func (g *grouper) rows(items []any) (out []map[string]any, err error) {
	if !g.join {
		out = make([]map[string]any, len(items))
		for i, item := range items {
			out[i] = item.(map[string]any)
		}
		return out, nil
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("panic while joining a result set: %v", p)
		}
	}()
	in := make([]sql.JoinInput, len(items))
	for i, item := range items {
		in[i] = item.(sql.JoinInput)
	}
	return g.r.prog.Join(in)
}

func (g *grouper) emit(em *window.Emission, start, end int64, rows []map[string]any) {
	out, err := g.project(rows, start, end)
	g.deliver(em, out, err)
}

// deliver hands the output of a result set to the sinks.
func (g *grouper) deliver(em *window.Emission, out []map[string]any, err error) {
	r := g.r
	if err != nil {
		r.exception(err)
		return
	}
	if len(out) == 0 {
		return
	}
	if em == nil && len(out) == 1 {
		r.deliver(out[0])
		return
	}
	r.deliverList(out)
}

// project runs the program over one result set, a panic in it (a plugin
// aggregate) becoming an error of the result set.
func (g *grouper) project(rows []map[string]any, start, end int64) (out []map[string]any, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("panic while processing a result set: %v", p)
		}
	}()
	return g.r.prog.ProjectGroups(rows, start, end)
}

// incremental evaluates a sliding window's emission with g.inc: the rows
// numbered before em.First leave it, those after the previous emission's
// enter it, and its result is that of ProjectGroups over em.Rows. When the
// numbers go backwards (which the window does not do), after a panic or an
// error, the state is rebuilt from em.Rows. A panic (a plugin function in
// a key or an argument) becomes an error of the result set.
func (g *grouper) incremental(em *window.Emission) (out []map[string]any, err error) {
	defer func() {
		if p := recover(); p != nil {
			g.incOK = false
			out, err = nil, fmt.Errorf("panic while processing a result set: %v", p)
		}
	}()
	end := em.First + uint64(len(em.Rows))
	prevEnd := g.incFirst + uint64(len(g.incRows))
	if !g.incOK || em.First < g.incFirst || end < prevEnd || g.slide(em, prevEnd) != nil {
		g.incOK = false
		g.inc, _ = g.r.prog.Incremental()
		g.incRows, g.incFirst = nil, em.First
		if err := g.slide(em, em.First); err != nil {
			return nil, err
		}
	}
	return g.inc.Result(em.Start.UnixMilli(), em.End.UnixMilli())
}

// slide moves g.inc from incRows to em.Rows, where prevEnd is the number
// after the last of incRows.
func (g *grouper) slide(em *window.Emission, prevEnd uint64) error {
	g.incOK = false
	for ; g.incFirst < em.First && len(g.incRows) > 0; g.incFirst++ {
		if err := g.inc.Remove(g.incRows[0].(map[string]any)); err != nil {
			return err
		}
		g.incRows = g.incRows[1:]
	}
	for _, item := range em.Rows[max(prevEnd, em.First)-em.First:] {
		if err := g.inc.Add(item.(map[string]any)); err != nil {
			return err
		}
	}
	g.incRows, g.incFirst, g.incOK = em.Rows, em.First, true
	return nil
}

// start starts the window's clock (processing time); procMu is held.
func (g *grouper) start() {
	if g.w == nil || g.eventTime {
		return
	}
	g.fire(g.w.Advance(g.clock.Now()))
	g.arm()
}

// arm sets the timer for the window's next due time (processing time).
func (g *grouper) arm() {
	if g.w == nil || g.eventTime {
		return
	}
	due, ok := g.w.Next()
	if !ok {
		if g.timer != nil {
			g.timer.Stop()
			g.timer = nil
		}
		return
	}
	if g.timer != nil && due.Equal(g.due) {
		return
	}
	if g.timer != nil {
		g.timer.Stop()
	}
	g.due = due
	g.timer = g.clock.AfterFunc(due.Sub(g.clock.Now()), g.tick)
}

// tick fires the windows due now.
func (g *grouper) tick() {
	r := g.r
	r.procMu.Lock()
	defer r.procMu.Unlock()
	g.timer = nil
	if r.inputClosed {
		return
	}
	g.fire(g.w.Advance(g.clock.Now()))
	g.arm()
}

// stop cancels the timer; with flush, the windows still open are emitted
// first (a bounded source reached its end). procMu is held.
func (g *grouper) stop(flush bool) {
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	if flush && g.w != nil {
		g.fire(g.w.Flush())
	}
}
