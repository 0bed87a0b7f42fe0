package window_test

import (
	"fmt"
	"time"

	"github.com/kgen-dev/kgen/engine/window"
)

// A processing-time TUMBLINGWINDOW(ss, 10) driven as a runtime would:
// Advance when the rule starts and whenever the timer armed for Next fires.
func Example() {
	w, err := window.New(window.Spec{Kind: window.Tumbling, Length: 10 * time.Second, Unit: time.Second, Location: time.UTC})
	if err != nil {
		panic(err)
	}
	start := time.Date(2024, 5, 1, 12, 0, 3, 0, time.UTC)
	w.Advance(start)
	next, _ := w.Next()
	fmt.Println("first end:", next.Format("15:04:05"))

	w.Add(start.Add(1*time.Second), "a")
	w.Add(start.Add(5*time.Second), "b")
	for _, e := range w.Advance(next) { // the timer fires
		fmt.Println(e.Start.Format("15:04:05"), e.End.Format("15:04:05"), e.Rows)
	}
	// A row at 12:00:20 comes before the timer for 12:00:20 fires: Add
	// completes the window first.
	out, _, _ := w.Add(time.Date(2024, 5, 1, 12, 0, 20, 0, time.UTC), "c")
	for _, e := range out {
		fmt.Println(e.Start.Format("15:04:05"), e.End.Format("15:04:05"), e.Rows)
	}
	// Output:
	// first end: 12:00:10
	// 12:00:00 12:00:10 [a b]
	// 12:00:10 12:00:20 []
}

// An event-time window: rows arrive out of order; the watermark, 1 s below
// the newest timestamp, releases them in order and closes windows; a row
// older than the watermark is late.
func Example_eventTime() {
	w, _ := window.New(window.Spec{Kind: window.Tumbling, Length: time.Second, Unit: time.Second,
		EventTime: true, LateTolerance: time.Second, Location: time.UTC})
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, ms := range []int{100, 900, 400, 2300, 200, 3500} {
		out, late, _ := w.Add(t0.Add(time.Duration(ms)*time.Millisecond), ms)
		if late {
			fmt.Println(ms, "is late")
		}
		for _, e := range out {
			fmt.Println(e.End.Format("15:04:05"), e.Rows)
		}
	}
	fmt.Println("late:", w.Late(), "held:", w.Held())
	// Output:
	// 12:00:01 [100 400 900]
	// 200 is late
	// 12:00:02 []
	// late: 1 held: 2
}
