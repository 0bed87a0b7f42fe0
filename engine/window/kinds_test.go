package window

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// In these tests at(0) is 09:46:40 UTC, so windows of a length dividing
// 20 s (and every ms window) end at multiples of their length.

// named makes a trigger true for the rows whose name starts with "T".
func named(r any) bool { return strings.HasPrefix(r.(row).name, "T") }

func TestProcessingTime(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name  string
		spec  Spec
		start int64
		rows  []row
		until int64
		want  []got
	}{{
		name:  "tumbling: [start, end), a row at the end opens the next window, empty windows emitted",
		spec:  Spec{Kind: Tumbling, Length: sec, Unit: sec},
		rows:  rowsAt(0, 999, 1000, 2500),
		until: 4000,
		want:  []got{{0, 1000, "0 999"}, {1000, 2000, "1000"}, {2000, 3000, "2500"}, {3000, 4000, ""}},
	}, {
		name:  "tumbling: the first window starts at the aligned start, not the clock's start",
		spec:  Spec{Kind: Tumbling, Length: 2 * sec, Unit: sec},
		start: 1300,
		rows:  rowsAt(1400),
		until: 2000,
		want:  []got{{0, 2000, "1400"}},
	}, {
		name:  "tumbling ms",
		spec:  Spec{Kind: Tumbling, Length: 250 * time.Millisecond, Unit: time.Millisecond},
		start: 100,
		rows:  rowsAt(100, 249, 250, 600),
		until: 750,
		want:  []got{{0, 250, "100 249"}, {250, 500, "250"}, {500, 750, "600"}},
	}, {
		name:  "hopping: Start is end − length, not end − 2·hop",
		spec:  Spec{Kind: Hopping, Length: 3 * sec, Interval: sec, Unit: sec},
		rows:  rowsAt(500, 1500, 2999),
		until: 5000,
		want: []got{
			{-2000, 1000, "500"},
			{-1000, 2000, "500 1500"},
			{0, 3000, "500 1500 2999"},
			{1000, 4000, "1500 2999"},
			{2000, 5000, "2999"},
		},
	}, {
		name:  "hopping with hop > length: rows between windows are in none",
		spec:  Spec{Kind: Hopping, Length: sec, Interval: 2 * sec, Unit: sec},
		rows:  rowsAt(500, 1500, 2500, 3500),
		until: 4000,
		want:  []got{{1000, 2000, "1500"}, {3000, 4000, "3500"}},
	}, {
		name:  "sliding: every row triggers; t − length ≤ ts ≤ t",
		spec:  Spec{Kind: Sliding, Length: sec},
		rows:  rowsAt(0, 500, 1000, 1001),
		until: 3000,
		want:  []got{{-1000, 0, "0"}, {-500, 500, "0 500"}, {0, 1000, "0 500 1000"}, {1, 1001, "500 1000 1001"}},
	}, {
		name: "sliding with delay: t − length ≤ ts < t + delay; a row at t + delay is out",
		spec: Spec{Kind: Sliding, Length: sec, Interval: 500 * time.Millisecond, Trigger: named},
		rows: []row{{"T0", 0}, {"a", 300}, {"T1", 400}, {"b", 900}, {"c", 1000}},
		want: []got{{-1000, 500, "T0 a T1"}, {-600, 900, "T0 a T1"}},
	}, {
		name:  "session: a gap of exactly the timeout ends it",
		spec:  Spec{Kind: Session, Length: 10 * sec, Interval: sec, Unit: sec},
		rows:  rowsAt(0, 500, 1500, 2000),
		until: 5000,
		want:  []got{{0, 1500, "0 500"}, {1500, 3000, "1500 2000"}},
	}, {
		name:  "session: cut at the first 2 s tick ≥ 2 s after its first row, then timed out",
		spec:  Spec{Kind: Session, Length: 2 * sec, Interval: sec, Unit: sec},
		rows:  rowsAt(100, 700, 1300, 1900, 2500, 3100, 3700, 4300, 4900, 5500, 6100),
		until: 9000,
		want: []got{
			{100, 4000, "100 700 1300 1900 2500 3100 3700"},
			{4000, 7100, "4300 4900 5500 6100"},
		},
	}, {
		name:  "count(5,2): first at the 6th row, then every 2 rows, the last 5",
		spec:  Spec{Kind: Count, Count: 5, CountHop: 2},
		rows:  rowsAt(100, 200, 300, 400, 500, 600, 700, 800, 900),
		until: 1000,
		want:  []got{{200, 600, "200 300 400 500 600"}, {400, 800, "400 500 600 700 800"}},
	}, {
		name:  "count(3): disjoint",
		spec:  Spec{Kind: Count, Count: 3},
		rows:  rowsAt(100, 200, 300, 400, 500, 600, 700),
		until: 1000,
		want:  []got{{100, 300, "100 200 300"}, {400, 600, "400 500 600"}},
	}}
	for _, tt := range tests {
		for _, timers := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/timers=%v", tt.name, timers), func(t *testing.T) {
				w := mustNew(t, tt.spec)
				out := runProc(t, w, tt.start, tt.rows, max(tt.until, tt.start), timers)
				if !reflect.DeepEqual(out, tt.want) {
					t.Errorf("got  %v\nwant %v", out, tt.want)
				}
			})
		}
	}
}

func TestEventTime(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name      string
		spec      Spec
		tolerance time.Duration
		rows      []row
		want      []got
		late      []string
	}{{
		name:      "out of order rows are sorted; a row older than the watermark is late",
		spec:      Spec{Kind: Tumbling, Length: sec, Unit: sec},
		tolerance: 500 * time.Millisecond,
		// Watermarks: −400, 400, 400, 700, 700, 700, 1300, 2100.
		rows: rowsAt(100, 900, 600, 1200, 1100, 400, 1800, 2600),
		want: []got{{0, 1000, "100 600 900"}, {1000, 2000, "1100 1200 1800"}},
		late: []string{"400"},
	}, {
		name:      "equal timestamps keep their arrival order",
		spec:      Spec{Kind: Tumbling, Length: sec, Unit: sec},
		tolerance: 100 * time.Millisecond,
		rows:      []row{{"a", 100}, {"b", 100}, {"c", 50}, {"d", 1500}},
		want:      []got{{0, 1000, "c a b"}},
	}, {
		name: "no tolerance: a row at the watermark is on time",
		spec: Spec{Kind: Tumbling, Length: sec, Unit: sec},
		rows: []row{{"a", 100}, {"b", 50}, {"c", 100}, {"d", 1000}},
		want: []got{{0, 1000, "a c"}},
		late: []string{"b"},
	}, {
		name: "hopping",
		spec: Spec{Kind: Hopping, Length: 2 * sec, Interval: sec, Unit: sec},
		rows: rowsAt(100, 1500, 2100, 5000),
		want: []got{
			{-1000, 1000, "100"},
			{0, 2000, "100 1500"},
			{1000, 3000, "1500 2100"},
			{2000, 4000, "2100"},
			{3000, 5000, ""},
		},
	}, {
		name:      "sliding with delay fires when the watermark passes t + delay, with rows released in ts order",
		spec:      Spec{Kind: Sliding, Length: sec, Interval: 500 * time.Millisecond, Trigger: named},
		tolerance: 200 * time.Millisecond,
		rows:      []row{{"T", 1000}, {"x", 1400}, {"y", 1300}, {"z", 1600}, {"w", 1800}},
		want:      []got{{0, 1500, "T y x"}},
	}, {
		name:      "sliding without delay fires when the watermark releases the trigger",
		spec:      Spec{Kind: Sliding, Length: sec, Trigger: named},
		tolerance: 200 * time.Millisecond,
		rows:      []row{{"a", 900}, {"T", 1000}, {"b", 950}, {"c", 1300}},
		want:      []got{{0, 1000, "a b T"}},
	}, {
		name:      "count",
		spec:      Spec{Kind: Count, Count: 2},
		tolerance: 500 * time.Millisecond,
		rows:      rowsAt(200, 100, 900),
		want:      []got{{100, 200, "100 200"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := checkEvent(t, tt.spec, tt.tolerance, tt.rows, tt.want, tt.late)
			if _, ok := w.Next(); ok {
				t.Error("Next in event time: want false")
			}
			if es := w.Advance(at(1 << 40)); es != nil {
				t.Errorf("Advance in event time: %v, want nothing", conv(es))
			}
		})
	}
}

func TestLate(t *testing.T) {
	w := mustNew(t, Spec{Kind: Tumbling, Length: time.Second, Unit: time.Second, EventTime: true})
	runEvent(t, w, rowsAt(1500))
	out, late, err := w.Add(at(1400), row{"x", 1400})
	if out != nil || !late || err != nil {
		t.Fatalf("Add late row: %v, %v, %v; want nil, true, nil", out, late, err)
	}
	if w.Late() != 1 || w.Held() != 1 {
		t.Errorf("Late() %d, Held() %d; want 1, 1", w.Late(), w.Held())
	}
}

func TestMaxRows(t *testing.T) {
	t.Run("processing time", func(t *testing.T) {
		w := mustNew(t, Spec{Kind: Tumbling, Length: time.Second, Unit: time.Second, MaxRows: 2})
		runProc(t, w, 0, rowsAt(0, 100), 100, false)
		out, _, err := w.Add(at(200), row{"200", 200})
		if !errors.Is(err, ErrFull) || err.Error() != "window full: it holds 2 rows, the limit" || out != nil {
			t.Fatalf("Add to a full window: %v, %v", out, err)
		}
		if w.Held() != 2 {
			t.Errorf("Held() %d, want 2", w.Held())
		}
		// The window ending at 1000 makes room.
		out, _, err = w.Add(at(1000), row{"1000", 1000})
		if err != nil || !reflect.DeepEqual(conv(out), []got{{0, 1000, "0 100"}}) || w.Held() != 1 {
			t.Errorf("Add after the window: %v, %v, Held() %d", conv(out), err, w.Held())
		}
	})
	t.Run("event time", func(t *testing.T) {
		w := mustNew(t, Spec{Kind: Tumbling, Length: time.Second, Unit: time.Second, MaxRows: 2,
			EventTime: true, LateTolerance: time.Second})
		steps := []struct {
			ts   int64
			want []got
			full bool
		}{
			{ts: 100}, {ts: 200},
			{ts: 300, full: true},                         // both rows wait for the watermark
			{ts: 1500, full: true},                        // watermark 500 releases them, the window stays open
			{ts: 2600, want: []got{{0, 1000, "100 200"}}}, // watermark 1600 closes it first
		}
		for _, s := range steps {
			out, _, err := w.Add(at(s.ts), row{fmt.Sprint(s.ts), s.ts})
			if errors.Is(err, ErrFull) != s.full || err != nil && !s.full {
				t.Fatalf("Add(%d): err %v, want full %v", s.ts, err, s.full)
			}
			if !reflect.DeepEqual(conv(out), s.want) {
				t.Fatalf("Add(%d): %v, want %v", s.ts, conv(out), s.want)
			}
		}
		if w.Held() != 1 {
			t.Errorf("Held() %d, want 1", w.Held())
		}
	})
}

func TestNext(t *testing.T) {
	sec := time.Second
	type step struct {
		advance bool // Advance to ts rather than Add a row at ts
		ts      int64
		next    int64 // -1: none
	}
	tests := []struct {
		name  string
		spec  Spec
		steps []step
	}{{
		name:  "tumbling",
		spec:  Spec{Kind: Tumbling, Length: sec, Unit: sec},
		steps: []step{{advance: true, ts: 300, next: 1000}, {ts: 400, next: 1000}, {advance: true, ts: 1000, next: 2000}, {advance: true, ts: 5500, next: 6000}},
	}, {
		name:  "hopping",
		spec:  Spec{Kind: Hopping, Length: 2 * sec, Interval: 500 * time.Millisecond, Unit: time.Millisecond},
		steps: []step{{advance: true, ts: 300, next: 500}, {advance: true, ts: 500, next: 1000}},
	}, {
		name:  "sliding with delay",
		spec:  Spec{Kind: Sliding, Length: sec, Interval: 500 * time.Millisecond},
		steps: []step{{advance: true, ts: 0, next: -1}, {ts: 100, next: 600}, {ts: 200, next: 600}, {advance: true, ts: 600, next: 700}, {advance: true, ts: 700, next: -1}},
	}, {
		name:  "sliding without delay",
		spec:  Spec{Kind: Sliding, Length: sec},
		steps: []step{{ts: 100, next: -1}},
	}, {
		name: "session: the timeout, then the cut when it comes first",
		spec: Spec{Kind: Session, Length: 2 * sec, Interval: sec, Unit: sec},
		steps: []step{
			{advance: true, ts: 0, next: -1},
			{ts: 100, next: 1100}, {ts: 700, next: 1700}, {ts: 1300, next: 2300}, {ts: 1900, next: 2900},
			{ts: 2500, next: 3500}, {ts: 3100, next: 4000}, {ts: 3700, next: 4000},
			{advance: true, ts: 4000, next: -1}, // cut; the session waits for rows until 4700
			{ts: 4300, next: 5300},
			{advance: true, ts: 5300, next: -1},
		},
	}, {
		name:  "count",
		spec:  Spec{Kind: Count, Count: 2},
		steps: []step{{advance: true, ts: 0, next: -1}, {ts: 100, next: -1}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := mustNew(t, tt.spec)
			if _, ok := w.Next(); ok {
				t.Fatal("Next before the clock started: want false")
			}
			for _, s := range tt.steps {
				if s.advance {
					w.Advance(at(s.ts))
				} else if _, _, err := w.Add(at(s.ts), row{fmt.Sprint(s.ts), s.ts}); err != nil {
					t.Fatal(err)
				}
				n, ok := w.Next()
				if got := msOf(n); !ok {
					got = -1
					if s.next != got {
						t.Errorf("after %+v: Next %d, want %d", s, got, s.next)
					}
				} else if got != s.next {
					t.Errorf("after %+v: Next %d, want %d", s, got, s.next)
				}
			}
		})
	}
}

// TestSkipEmpty: of the empty windows the clock jumps over, only the last
// is emitted, so a jump costs nothing.
func TestSkipEmpty(t *testing.T) {
	const hour = 3600000
	t.Run("processing time", func(t *testing.T) {
		w := mustNew(t, Spec{Kind: Tumbling, Length: time.Millisecond, Unit: time.Millisecond})
		out := runProc(t, w, 0, rowsAt(0), hour, false)
		want := []got{{0, 1, "0"}, {hour - 1, hour, ""}}
		if !reflect.DeepEqual(out, want) {
			t.Errorf("got %v, want %v", out, want)
		}
		if n, _ := w.Next(); msOf(n) != hour+1 {
			t.Errorf("Next %d, want %d", msOf(n), hour+1)
		}
	})
	t.Run("event time", func(t *testing.T) {
		w := mustNew(t, Spec{Kind: Hopping, Length: 2 * time.Second, Interval: time.Second, Unit: time.Second, EventTime: true})
		out, _ := runEvent(t, w, rowsAt(500, hour+500))
		want := []got{{-1000, 1000, "500"}, {0, 2000, "500"}, {hour - 2000, hour, ""}}
		if !reflect.DeepEqual(out, want) {
			t.Errorf("got %v, want %v", out, want)
		}
	})
}

func TestFlush(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name string
		spec Spec
		rows []row
		want []got
	}{{
		name: "tumbling: the open window",
		spec: Spec{Kind: Tumbling, Length: sec, Unit: sec},
		rows: rowsAt(100, 200),
		want: []got{{0, 1000, "100 200"}},
	}, {
		name: "tumbling: no empty window",
		spec: Spec{Kind: Tumbling, Length: sec, Unit: sec},
	}, {
		name: "hopping: every window holding a row",
		spec: Spec{Kind: Hopping, Length: 3 * sec, Interval: sec, Unit: sec},
		rows: rowsAt(2500),
		// Add at 2500 emits the empty window ending at 2000 (and skips
		// the one ending at 1000); Flush the rest.
		want: []got{{-1000, 2000, ""}, {0, 3000, "2500"}, {1000, 4000, "2500"}, {2000, 5000, "2500"}},
	}, {
		name: "event time: pending rows are released",
		spec: Spec{Kind: Tumbling, Length: sec, Unit: sec, EventTime: true, LateTolerance: 10 * sec},
		rows: rowsAt(1500, 100),
		want: []got{{0, 1000, "100"}, {1000, 2000, "1500"}},
	}, {
		name: "sliding: delayed windows",
		spec: Spec{Kind: Sliding, Length: sec, Interval: 500 * time.Millisecond},
		rows: rowsAt(100, 200),
		want: []got{{-900, 600, "100 200"}, {-800, 700, "100 200"}},
	}, {
		name: "session: cut at a tick, then the timeout",
		spec: Spec{Kind: Session, Length: 2 * sec, Interval: 3 * sec, Unit: sec, EventTime: true, LateTolerance: 10 * sec},
		rows: rowsAt(100, 1900, 2500),
		want: []got{{100, 4000, "100 1900 2500"}},
	}, {
		name: "session: the timeout",
		spec: Spec{Kind: Session, Length: 2 * sec, Interval: sec, Unit: sec},
		rows: rowsAt(100, 900),
		want: []got{{100, 1900, "100 900"}},
	}, {
		name: "count: no short window",
		spec: Spec{Kind: Count, Count: 3},
		rows: rowsAt(100, 200, 300, 400),
		want: []got{{100, 300, "100 200 300"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := mustNew(t, tt.spec)
			var out []got
			if !tt.spec.EventTime {
				out = conv(w.Advance(at(0)))
			}
			for _, r := range tt.rows {
				es, _, err := w.Add(at(r.ts), r)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, conv(es)...)
			}
			out = append(out, conv(w.Flush())...)
			if !reflect.DeepEqual(out, tt.want) {
				t.Errorf("got  %v\nwant %v", out, tt.want)
			}
			if w.Held() != 0 {
				t.Errorf("Held() %d after Flush", w.Held())
			}
			if _, _, err := w.Add(at(5000), row{}); err != ErrClosed {
				t.Errorf("Add after Flush: %v, want ErrClosed", err)
			}
			if _, ok := w.Next(); ok || w.Flush() != nil || w.Advance(at(9000)) != nil {
				t.Error("a flushed window still works")
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	sec := time.Second
	yes := func(any) bool { return true }
	tests := []struct {
		spec Spec
		err  string
	}{
		{Spec{}, "window: unknown kind 0"},
		{Spec{Kind: 9}, "window: unknown kind 9"},
		{Spec{Kind: Tumbling, Length: sec, Unit: sec, MaxRows: -1}, "window: MaxRows must not be negative, got -1"},
		{Spec{Kind: Tumbling, Length: sec, Unit: sec, LateTolerance: -sec}, "window: late tolerance must not be negative, got -1s"},
		{Spec{Kind: Tumbling, Length: sec, Unit: sec, Trigger: yes}, "tumbling window: a trigger (OVER WHEN) is only for sliding windows"},
		{Spec{Kind: Tumbling, Unit: sec}, "tumbling window: length must be positive, got 0s"},
		{Spec{Kind: Tumbling, Length: sec}, "tumbling window: unit must be 1ms, 1s, 1m0s, 1h0m0s or 24h0m0s, got 0s"},
		{Spec{Kind: Tumbling, Length: 1500 * time.Millisecond, Unit: sec}, "tumbling window: length 1.5s is not a whole number of units (1s)"},
		{Spec{Kind: Hopping, Length: 2 * sec, Unit: sec}, "hopping window: hop must be positive, got 0s"},
		{Spec{Kind: Hopping, Length: 2 * sec, Interval: -sec, Unit: sec}, "hopping window: hop must be positive, got -1s"},
		{Spec{Kind: Hopping, Length: 2 * day, Interval: 36 * time.Hour, Unit: day}, "hopping window: hop 36h0m0s is not a whole number of units (24h0m0s)"},
		{Spec{Kind: Sliding}, "sliding window: length must be positive, got 0s"},
		{Spec{Kind: Sliding, Length: sec, Interval: -sec}, "sliding window: delay must not be negative, got -1s"},
		{Spec{Kind: Session, Interval: sec, Unit: sec}, "session window: max duration must be positive, got 0s"},
		{Spec{Kind: Session, Length: 2 * sec, Unit: sec}, "session window: timeout must be positive, got 0s"},
		{Spec{Kind: Count}, "count window: count must be positive, got 0"},
		{Spec{Kind: Count, Count: 3, CountHop: 4}, "count window: hop must be between 1 and the count 3, got 4"},
		{Spec{Kind: Count, Count: 3, CountHop: -1}, "count window: hop must be between 1 and the count 3, got -1"},
		{Spec{Kind: Count, Count: 3, MaxRows: 2}, "count window: count 3 exceeds MaxRows 2"},
		{Spec{Kind: Count, Count: DefaultMaxRows + 1}, "count window: count 100001 exceeds MaxRows 100000"},
	}
	for _, tt := range tests {
		_, err := New(tt.spec)
		if err == nil || err.Error() != tt.err {
			t.Errorf("New(%+v): %v\nwant %s", tt.spec, err, tt.err)
		}
	}
	// Sliding and count windows need no unit; the fields other kinds use
	// are ignored.
	for _, s := range []Spec{
		{Kind: Sliding, Length: sec},
		{Kind: Count, Count: 3, Length: sec},
		{Kind: Session, Length: 2 * sec, Interval: 1500 * time.Millisecond, Unit: sec},
	} {
		if _, err := New(s); err != nil {
			t.Errorf("New(%+v): %v", s, err)
		}
	}
}

// TestRowsNotOverwritten: emissions share the window's memory without
// copying, so the window must never write where an emission points, and
// appending to an emission must not write into the window.
func TestRowsNotOverwritten(t *testing.T) {
	w := mustNew(t, Spec{Kind: Sliding, Length: time.Second})
	var kept [][]any
	var want []string
	for i := range int64(5000) {
		out, _, err := w.Add(at(i*10), row{fmt.Sprint(i), i * 10})
		if err != nil || len(out) != 1 {
			t.Fatal(out, err)
		}
		rows := out[0].Rows
		if i%97 == 0 {
			kept = append(kept, rows)
			want = append(want, conv(out)[0].rows)
		}
		_ = append(rows, row{"intruder", 0})
	}
	for i, rows := range kept {
		if got := conv([]Emission{{Start: at(0), End: at(0), Rows: rows}})[0].rows; got != want[i] {
			t.Fatalf("emission %d changed:\n%s\nwas\n%s", i, got, want[i])
		}
	}
	if w.Held() != 101 {
		t.Errorf("Held() %d, want 101 (one second of rows every 10 ms)", w.Held())
	}
}
