package engine_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

// blockFunc never returns until blockRelease is closed; it ignores its
// context, as a careless plugin would.
type blockFunc struct{}

var (
	blockRelease = make(chan struct{})
	blockEntered = make(chan struct{}, 16)
)

func init() {
	sdk.RegisterFunction("testBlock", func() sdk.Function { return blockFunc{} })
}

func (blockFunc) Validate(args []sdk.Arg) error { return sdk.CheckArgCount("testBlock", args, 1, 1) }
func (blockFunc) IsAggregate() bool             { return false }
func (blockFunc) Exec(_ sdk.FunctionContext, args []any) (any, bool) {
	blockEntered <- struct{}{}
	<-blockRelease
	return args[0], true
}

// within fails t unless f returns within d.
func within(t *testing.T, what string, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

// A rule whose function call never returns: stopping it returns within a
// bounded time, the engine's reads answer meanwhile, the rule says what
// was dropped, and the engine closes within a bounded time too.
func TestManagementNeverFreezes(t *testing.T) {
	var release sync.Once
	defer release.Do(func() { close(blockRelease) })
	e := open(t, t.TempDir())
	mustStream(t, e, `CREATE STREAM s (n BIGINT) WITH (DATASOURCE="in/s", TYPE="memory")`)
	mustRule(t, e, `{"id":"stuck","sql":"SELECT testBlock(n) AS n FROM s","actions":[{"nop":{}}]}`)
	mustRule(t, e, `{"id":"other","sql":"SELECT n FROM s","actions":[{"nop":{}}]}`)
	publish(t, e, "in/s", map[string]any{"n": int64(1)})
	select {
	case <-blockEntered:
	case <-time.After(10 * time.Second):
		t.Fatal("the function was not called")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- e.StopRule("stuck") }()
	// While the stop waits, the engine answers reads and other rules run.
	for range 5 {
		within(t, "Rules()", 2*time.Second, func() { e.Rules() })
		within(t, "RuleStatus()", 2*time.Second, func() { e.RuleStatus("other") })
		within(t, "Streams()", 2*time.Second, func() { e.Streams() })
		time.Sleep(200 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("StopRule did not return within 30s")
	}
	st, _ := e.RuleStatus("stuck")
	if st.Status != "stopped" || !strings.Contains(st.Message, "did not return") {
		t.Fatalf("status = %+v", st)
	}
	within(t, "DeleteRule()", 5*time.Second, func() {
		if err := e.DeleteRule("stuck"); err != nil {
			t.Error(err)
		}
	})
	// A second stuck rule: the engine's shutdown is bounded as well.
	mustRule(t, e, `{"id":"stuck2","sql":"SELECT testBlock(n) AS n FROM s","actions":[{"nop":{}}]}`)
	publish(t, e, "in/s", map[string]any{"n": int64(2)})
	select {
	case <-blockEntered:
	case <-time.After(10 * time.Second):
		t.Fatal("the function was not called")
	}
	within(t, "Close()", 30*time.Second, func() { e.Close() })
	release.Do(func() { close(blockRelease) })
}
