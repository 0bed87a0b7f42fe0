package window

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The tests speak in the reference's terms: times are milliseconds after
// base, the "1541152" prefix of eKuiper's mock data, so 486013 is
// 1541152486013 ms.
const base = 1541152000000

func at(ms int64) time.Time  { return time.UnixMilli(base + ms).UTC() }
func msOf(t time.Time) int64 { return t.UnixMilli() - base }

// row is a test row: a name and its timestamp in the tests' milliseconds.
type row struct {
	name string
	ts   int64
}

// rowsAt names rows after their timestamps.
func rowsAt(ts ...int64) []row {
	rs := make([]row, len(ts))
	for i, t := range ts {
		rs[i] = row{fmt.Sprint(t), t}
	}
	return rs
}

// checkEvent runs rows through a window of spec in event time with the
// given tolerance and checks its emissions and late rows.
func checkEvent(t *testing.T, spec Spec, tolerance time.Duration, rows []row, want []got, wantLate []string) *Window {
	t.Helper()
	spec.EventTime = true
	spec.LateTolerance = tolerance
	w := mustNew(t, spec)
	out, late := runEvent(t, w, rows)
	if !reflect.DeepEqual(out, want) {
		t.Errorf("got  %v\nwant %v", out, want)
	}
	if !reflect.DeepEqual(late, wantLate) || w.Late() != int64(len(wantLate)) {
		t.Errorf("late %v (Late() %d), want %v", late, w.Late(), wantLate)
	}
	return w
}

// got is an emission in the tests' terms: rows are names joined by spaces.
type got struct {
	start, end int64
	rows       string
}

func (g got) String() string { return fmt.Sprintf("[%d,%d){%s}", g.start, g.end, g.rows) }

func conv(es []Emission) []got {
	var out []got
	for _, e := range es {
		names := make([]string, len(e.Rows))
		for i, r := range e.Rows {
			names[i] = r.(row).name
		}
		out = append(out, got{msOf(e.Start), msOf(e.End), strings.Join(names, " ")})
	}
	return out
}

// runProc feeds rows in processing time as a runtime would: the clock
// starts at start; with timers, Advance runs at every Next due before each
// row; without, Add alone moves the clock. Finally the clock moves to until.
func runProc(t *testing.T, w *Window, start int64, rows []row, until int64, timers bool) []got {
	t.Helper()
	out := conv(w.Advance(at(start)))
	fire := func(now int64) {
		for timers {
			n, ok := w.Next()
			if !ok || msOf(n) > now {
				return
			}
			out = append(out, conv(w.Advance(n))...)
		}
	}
	for _, r := range rows {
		fire(r.ts)
		es, late, err := w.Add(at(r.ts), r)
		if err != nil || late {
			t.Fatalf("Add(%v): late %v, err %v", r, late, err)
		}
		out = append(out, conv(es)...)
	}
	fire(until)
	return append(out, conv(w.Advance(at(until)))...)
}

// runEvent feeds rows in event time, in arrival order, and returns the
// emissions and the names of the rows refused as late.
func runEvent(t *testing.T, w *Window, rows []row) (out []got, late []string) {
	t.Helper()
	for _, r := range rows {
		es, isLate, err := w.Add(at(r.ts), r)
		if err != nil {
			t.Fatalf("Add(%v): %v", r, err)
		}
		if isLate {
			late = append(late, r.name)
		}
		out = append(out, conv(es)...)
	}
	return out, late
}

func mustNew(t testing.TB, s Spec) *Window {
	t.Helper()
	if s.Location == nil {
		s.Location = time.UTC
	}
	w, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// The stream demo of the reference's section 9, with the rows that pass
// "size > 2" (WHERE pushed below the window, or FILTER).
var (
	demo = []row{{"red3", 486013}, {"blue6", 486822}, {"blue2", 487632}, {"yellow4", 488442}, {"red1", 489252}}
	big  = []row{{"red3", 486013}, {"blue6", 486822}, {"yellow4", 488442}}
	// sessionDemo's timestamps.
	sessionDemo = rowsAt(486013, 486823, 487932, 488442, 489252, 490062, 490872, 491682, 492492, 493202, 494112)
)

// lastHitOver1s is OVER (WHEN ts - last_hit_time() > 1000).
func lastHitOver1s() func(any) bool {
	var last int64
	return func(r any) bool {
		ts := base + r.(row).ts
		if ts-last > 1000 {
			last = ts
			return true
		}
		return false
	}
}

// TestReference replays the processing-time cases of the reference's
// section 9 (eKuiper's topotest/window_rule_test.go). The mock clock
// starts at 486000; the source's EOF after the last row means nothing is
// emitted after it. Each runs with a timer at Next and with Add alone.
func TestReference(t *testing.T) {
	tests := []struct {
		name  string
		spec  func() Spec
		rows  []row
		until int64
		want  []got
	}{{
		// Each window holds end−2s ≤ ts < end.
		name: "TestWindowRule1 hopping(ss,2,1)",
		spec: func() Spec {
			return Spec{Kind: Hopping, Length: 2 * time.Second, Interval: time.Second, Unit: time.Second}
		},
		rows:  demo,
		until: 489252,
		want: []got{
			{485000, 487000, "red3 blue6"},
			{486000, 488000, "red3 blue6 blue2"},
			{487000, 489000, "blue2 yellow4"},
		},
	}, {
		// The second window, empty after WHERE, is emitted.
		name:  "TestWindowRule2 tumbling(ss,1) where size > 2",
		spec:  func() Spec { return Spec{Kind: Tumbling, Length: time.Second, Unit: time.Second} },
		rows:  big,
		until: 489252,
		want: []got{
			{486000, 487000, "red3 blue6"},
			{487000, 488000, ""},
			{488000, 489000, "yellow4"},
		},
	}, {
		// window_start 485000, 486000, 487000: end − length.
		name: "TestWindowRule9 hopping(ss,2,1) filter(size > 2)",
		spec: func() Spec {
			return Spec{Kind: Hopping, Length: 2 * time.Second, Interval: time.Second, Unit: time.Second}
		},
		rows:  big,
		until: 489252,
		want: []got{
			{485000, 487000, "red3 blue6"},
			{486000, 488000, "red3 blue6"},
			{487000, 489000, "yellow4"},
		},
	}, {
		// Triggers at 486013, 487632 and 489252; GROUP BY color then
		// counts {red 1}, {blue 2, red 1}, {blue 1, red 1, yellow 1}.
		name: "TestWindowRule4 sliding(ss,2) over(when ts - last_hit_time() > 1000)",
		spec: func() Spec {
			return Spec{Kind: Sliding, Length: 2 * time.Second, Trigger: lastHitOver1s()}
		},
		rows:  demo,
		until: 489252,
		want: []got{
			{484013, 486013, "red3"},
			{485632, 487632, "red3 blue6 blue2"},
			{487252, 489252, "blue2 yellow4 red1"},
		},
	}, {
		// blue2 triggers at 487632, emitted at 488632 with yellow4, which
		// came during the delay.
		name: "TestSlidingDelay sliding(ss,5,1) over(when size = 2)",
		spec: func() Spec {
			return Spec{Kind: Sliding, Length: 5 * time.Second, Interval: time.Second,
				Trigger: func(r any) bool { return r.(row).name == "blue2" }}
		},
		rows:  demo,
		until: 489252,
		want:  []got{{482632, 488632, "red3 blue6 blue2 yellow4"}},
	}, {
		// Fires at the 3rd row (window_end 487632); the 6th never comes.
		// Start is the first row's ts (eKuiper: about now).
		name:  "TestCountWindowRule1 countwindow(3)",
		spec:  func() Spec { return Spec{Kind: Count, Count: 3} },
		rows:  demo,
		until: 489252,
		want:  []got{{486013, 487632, "red3 blue6 blue2"}},
	}, {
		// Closed by the timeout (486823 + 1s), then by the max-duration
		// ticks at 490000 and 494000 (ticks every 2s from 488000; a tick
		// cuts when it is ≥ 2s after the oldest row held). After a cut the
		// session starts at the tick.
		name: "TestWindowRule5 session(ss,2,1)",
		spec: func() Spec {
			return Spec{Kind: Session, Length: 2 * time.Second, Interval: time.Second, Unit: time.Second}
		},
		rows:  sessionDemo,
		until: 494112,
		want: []got{
			{486013, 487823, "486013 486823"},
			{487932, 490000, "487932 488442 489252"},
			{490000, 494000, "490062 490872 491682 492492 493202"},
		},
	}}
	for _, tt := range tests {
		for _, timers := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/timers=%v", tt.name, timers), func(t *testing.T) {
				w := mustNew(t, tt.spec())
				out := runProc(t, w, 486000, tt.rows, tt.until, timers)
				if !reflect.DeepEqual(out, tt.want) {
					t.Errorf("got  %v\nwant %v", out, tt.want)
				}
			})
		}
	}
}

// TestReferenceEventTime replays the event-time cases of section 9, with
// lateTolerance 1s.
func TestReferenceEventTime(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		rows []row
		want []got
		late []string
	}{{
		// At the window: five windows up to the final watermark 491342
		// (eKuiper: window op out=5); WHERE size > 2 then keeps the first
		// and the third. The first starts at the aligned 486000, where
		// eKuiper says the first row's 486013.
		name: "TestEventWindowRule2 tumbling(ss,1)",
		spec: Spec{Kind: Tumbling, Length: time.Second, Unit: time.Second},
		rows: []row{{"red3", 486013}, {"blue2", 487632}, {"red1", 489252}, {"blue6", 486822}, {"yellow4", 488442}, {"yellow4b", 492342}},
		want: []got{
			{486000, 487000, "red3"},
			{487000, 488000, "blue2"},
			{488000, 489000, "yellow4"},
			{489000, 490000, "red1"},
			{490000, 491000, ""},
		},
		late: []string{"blue6"},
	}, {
		// Temperatures in the reference: [25.5], [28.1 27.4 25.5],
		// [26.2 26.8 28.9 29.1 32.2], [30.9].
		name: "TestEventWindowRule5 session(ss,2,1)",
		spec: Spec{Kind: Session, Length: 2 * time.Second, Interval: time.Second, Unit: time.Second},
		rows: rowsAt(486013, 487932, 486823, 489252, 488442, 490062, 491682, 490872, 492492, 494112, 493202, 499202),
		want: []got{
			{486013, 487013, "486013"},
			{487932, 490000, "487932 488442 489252"},
			{490000, 494000, "490062 490872 491682 492492 493202"},
			{494000, 495112, "494112"},
		},
		late: []string{"486823"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkEvent(t, tt.spec, time.Second, tt.rows, tt.want, tt.late)
		})
	}
}
