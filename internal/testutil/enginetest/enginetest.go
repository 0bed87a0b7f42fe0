// Package enginetest drives an in-process engine for benchmarks: it feeds
// a rule and waits until the rule has handled what it was fed.
package enginetest

import (
	"context"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
)

// Pump publishes n payloads (cycling through payloads) to topic on e's
// memory hub, then waits until rule id has taken in all of them and its
// first sink has written every row the rule put out. An exception fails t.
func Pump(t testing.TB, e *engine.Engine, id, topic string, payloads [][]byte, n int) {
	t.Helper()
	before, err := e.RuleStatus(id)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range n {
		if err := e.MemoryHub().PublishPayload(ctx, topic, payloads[i%len(payloads)]); err != nil {
			t.Fatal(err)
		}
	}
	want := before.RecordsIn + int64(n)
	// Polling costs CPU that the rule would otherwise have: poll rarely
	// while a long run goes on, at most 1/20 of the time so far apart, so
	// the wait adds at most 5 % and the polling next to nothing.
	start := time.Now()
	for {
		st, _ := e.RuleStatus(id)
		if st.RecordsIn == want && st.Sinks[0].RecordsOut == st.RecordsOut {
			if st.Exceptions != 0 {
				t.Fatalf("rule %q: exceptions: %s", id, st.LastError)
			}
			return
		}
		time.Sleep(min(max(time.Since(start)/20, 50*time.Microsecond), time.Millisecond))
	}
}
