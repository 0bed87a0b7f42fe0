package engine_test

import (
	"sync"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

// forgotten counts, by rule, the Forget calls of testForget sources.
var forgotten = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

func init() {
	sdk.RegisterSource("testForget", func() sdk.Source { return &forgetSource{} })
}

// forgetSource keeps something for its rule between runs, as an MQTT
// persistent session does, and counts when it is told to let go of it.
type forgetSource struct{}

func (forgetSource) Provision(sdk.Context, map[string]any) error { return nil }
func (forgetSource) Connect(sdk.Context) error                   { return nil }
func (forgetSource) Close(sdk.Context) error                     { return nil }
func (forgetSource) Subscribe(sdk.Context, sdk.Ingest, sdk.ErrorIngest) error {
	return nil
}
func (forgetSource) Forget(ctx sdk.Context) error {
	forgotten.Lock()
	defer forgotten.Unlock()
	forgotten.n[ctx.GetRuleId()]++
	return nil
}

// Deleting a rule, running or stopped, lets its sources release what they
// keep for it; stopping or updating it does not.
func TestDeleteRuleForgetsSources(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM f (n BIGINT) WITH (DATASOURCE="x", TYPE="testForget")`)
	for _, id := range []string{"running", "stopped"} {
		mustRule(t, e, `{"id":"`+id+`","sql":"SELECT n FROM f","actions":[{"nop":{}}]}`)
	}
	if err := e.UpdateRule("running", []byte(`{"id":"running","sql":"SELECT n * 2 AS m FROM f","actions":[{"nop":{}}]}`)); err != nil {
		t.Fatal(err)
	}
	if err := e.StopRule("stopped"); err != nil {
		t.Fatal(err)
	}
	count := func(id string) int {
		forgotten.Lock()
		defer forgotten.Unlock()
		return forgotten.n[id]
	}
	if count("running") != 0 || count("stopped") != 0 {
		t.Fatalf("forgotten before any delete: running %d, stopped %d", count("running"), count("stopped"))
	}
	for _, id := range []string{"running", "stopped"} {
		if err := e.DeleteRule(id); err != nil {
			t.Fatal(err)
		}
		if got := count(id); got != 1 {
			t.Errorf("rule %q deleted: its source forgot %d times, want 1", id, got)
		}
	}
}
