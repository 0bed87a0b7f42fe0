package engine_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

// gateFunc adds 100 to its argument and fails on 13. It implements
// sql.BatchFunction and records the size of every call; a call waits for
// gate while gate is set, so rows queue behind it.
type gateFunc struct{}

var gate struct {
	sync.Mutex
	wait  chan struct{} // a call waits for it to close when set
	calls []int         // the rows of each call, in call order
}

func init() {
	sdk.RegisterFunction("testGate", func() sdk.Function { return gateFunc{} })
}

func (gateFunc) Validate(args []sdk.Arg) error { return sdk.CheckArgCount("testGate", args, 1, 1) }
func (gateFunc) IsAggregate() bool             { return false }
func (f gateFunc) Exec(ctx sdk.FunctionContext, args []any) (any, bool) {
	res, errs := f.ExecBatch(ctx, [][]any{args})
	if errs[0] != nil {
		return errs[0], false
	}
	return res[0], true
}

func (gateFunc) ExecBatch(_ sdk.FunctionContext, rows [][]any) ([]any, []error) {
	gate.Lock()
	gate.calls = append(gate.calls, len(rows))
	wait := gate.wait
	gate.Unlock()
	if wait != nil {
		<-wait
	}
	res, errs := make([]any, len(rows)), make([]error, len(rows))
	for i, args := range rows {
		if args[0] == int64(13) {
			errs[i] = fmt.Errorf("unlucky")
			continue
		}
		res[i] = args[0].(int64) + 100
	}
	return res, errs
}

// gateCalls returns the sizes of the calls so far and forgets them.
func gateCalls() []int {
	gate.Lock()
	defer gate.Unlock()
	c := gate.calls
	gate.calls = nil
	return c
}

// A rule without a window hands a batching function the rows that queued
// while its last call ran, at most options.functionBatchSize at once; the
// output keeps the input's order, WHERE drops rows before the call, and a
// failing row is an exception alone. With functionBatchSize 1 every row is
// a call of its own.
func TestBatchFunctionWithoutWindow(t *testing.T) {
	for _, size := range []int{8, 1} {
		t.Run(fmt.Sprint("functionBatchSize=", size), func(t *testing.T) {
			e := open(t, t.TempDir())
			defer e.Close()
			mustStream(t, e, `CREATE STREAM s (n BIGINT) WITH (DATASOURCE="in/s", TYPE="memory")`)
			mustRule(t, e, fmt.Sprintf(`{"id":"b","sql":"SELECT n, testGate(n) AS m FROM s WHERE n %% 10 != 7","actions":[{"memory":{"topic":"out/b"}}],"options":{"functionBatchSize":%d}}`, size))
			out, cancel := e.MemoryHub().Subscribe("out/b", 256)
			defer cancel()
			gateCalls()
			// The first row's call holds the function while 29 more rows come.
			wait := make(chan struct{})
			gate.Lock()
			gate.wait = wait
			gate.Unlock()
			const rows = 30
			publish(t, e, "in/s", map[string]any{"n": int64(0)})
			eventually(t, "the first call", func() bool {
				gate.Lock()
				defer gate.Unlock()
				return len(gate.calls) == 1
			})
			for i := 1; i < rows; i++ {
				publish(t, e, "in/s", map[string]any{"n": int64(i)})
			}
			if size > 1 {
				// The rows queue for the function, up to the rule's bound
				// on rows in flight; the rest wait in the source.
				eventually(t, "rows to queue", func() bool {
					st, _ := e.RuleStatus("b")
					return st.InFlight > int64(size)
				})
			}
			gate.Lock()
			gate.wait = nil
			gate.Unlock()
			close(wait)
			var want []int64
			for i := range int64(rows) {
				if i%10 != 7 && i != 13 {
					want = append(want, i)
				}
			}
			got := receive(t, out, len(want))
			for i, r := range got {
				if r["n"] != want[i] || r["m"] != want[i]+100 {
					t.Fatalf("row %d = %v, want n=%d m=%d (rows out of order or wrong)", i, r, want[i], want[i]+100)
				}
			}
			eventually(t, "the exception", func() bool {
				st, _ := e.RuleStatus("b")
				return st.Exceptions == 1 && st.InFlight == 0
			})
			calls := gateCalls()
			total := 0
			for _, c := range calls {
				total += c
			}
			if total != rows-3 { // 7, 17 and 27 never reach the function
				t.Errorf("calls %v: %d rows, want %d", calls, total, rows-3)
			}
			// With two batches in flight, how the queued rows split
			// between them depends on timing: no batch is over the size,
			// and rows were batched.
			if m := slices.Max(calls); size == 1 && m != 1 || size > 1 && (m > size || m < 2 || len(calls) >= rows-3) {
				t.Errorf("functionBatchSize %d: calls %v", size, calls)
			}
			st, _ := e.RuleStatus("b")
			if st.RecordsOut != int64(len(want)) || st.LastError == "" {
				t.Errorf("status = %+v", st)
			}
		})
	}
}
