package engine_test

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

// jitterFunc returns its argument after a random pause, recording how
// many calls run at once.
type jitterFunc struct{}

var jitterInFlight, jitterMaxInFlight atomic.Int64

func init() {
	sdk.RegisterFunction("testJitter", func() sdk.Function { return jitterFunc{} })
}

func (jitterFunc) Validate(args []sdk.Arg) error { return sdk.CheckArgCount("testJitter", args, 1, 1) }
func (jitterFunc) IsAggregate() bool             { return false }
func (jitterFunc) Exec(_ sdk.FunctionContext, args []any) (any, bool) {
	n := jitterInFlight.Add(1)
	defer jitterInFlight.Add(-1)
	for {
		m := jitterMaxInFlight.Load()
		if n <= m || jitterMaxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
	if args[0] == int64(13) {
		return fmt.Errorf("unlucky"), false
	}
	return args[0], true
}

// With options.concurrency, rows are evaluated at once and come out in
// the order they came in; failing rows are exceptions in their place.
func TestConcurrencyKeepsOrder(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM s (n BIGINT) WITH (DATASOURCE="in/s", TYPE="memory")`)
	mustRule(t, e, `{"id":"c","sql":"SELECT testJitter(n) AS n FROM s WHERE n % 10 != 7","actions":[{"memory":{"topic":"out/c"}}],"options":{"concurrency":8}}`)
	out, cancel := e.MemoryHub().Subscribe("out/c", 256)
	defer cancel()
	const rows = 200
	for i := range rows {
		publish(t, e, "in/s", map[string]any{"n": int64(i)})
	}
	var want []int64
	for i := range int64(rows) {
		if i%10 != 7 && i != 13 {
			want = append(want, i)
		}
	}
	got := receive(t, out, len(want))
	for i, r := range got {
		if r["n"] != want[i] {
			t.Fatalf("row %d = %v, want n=%d (rows out of order)", i, r, want[i])
		}
	}
	st, _ := e.RuleStatus("c")
	if st.Exceptions != 1 || st.RecordsOut != int64(len(want)) {
		t.Errorf("status = %+v", st)
	}
	if m := jitterMaxInFlight.Load(); m < 2 {
		t.Errorf("at most %d calls ran at once", m)
	}
	// Stopping drains what is in flight: nothing is lost or left running.
	for i := range 50 {
		publish(t, e, "in/s", map[string]any{"n": int64(1000 + i)})
	}
	eventually(t, "the rule to take the 50 rows", func() bool {
		st, _ := e.RuleStatus("c")
		return st.RecordsIn == rows+50
	})
	if err := e.StopRule("c"); err != nil {
		t.Fatal(err)
	}
	if n := jitterInFlight.Load(); n != 0 {
		t.Errorf("%d calls still running after stop", n)
	}
	st, _ = e.RuleStatus("c")
	if def, _ := e.Rule("c"); def.Options.Concurrency != 8 {
		t.Errorf("options lost: %+v", def.Options)
	}
	if st.RecordsOut != int64(len(want))+45 || st.Sinks[0].RecordsOut != st.RecordsOut {
		t.Errorf("after stop: %+v", st)
	}
}
