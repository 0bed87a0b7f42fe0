package engine_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/state"
)

// counted returns the state of a rule whose only stateful operator is one
// testCount call: its total.
func counted(t *testing.T, e *engine.Engine, rule string) any {
	t.Helper()
	scopes, err := e.RuleState(rule)
	if err != nil {
		t.Fatal(err)
	}
	switch len(scopes) {
	case 0:
		return nil
	case 1:
		want := state.ScopeState{ID: rule + "/func:testCount(n)", Op: "func:testCount(n)",
			Keys: []state.KeyState{{Key: "total", Type: "int", Value: scopes[0].Keys[0].Value}}}
		if !reflect.DeepEqual(scopes[0], want) {
			t.Fatalf("state of %s: %+v, want %+v", rule, scopes[0], want)
		}
		return scopes[0].Keys[0].Value
	}
	t.Fatalf("state of %s: %+v, want one scope", rule, scopes)
	return nil
}

func TestRuleStateAndReset(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM nums (n BIGINT) WITH (DATASOURCE="in/nums", TYPE="memory")`)
	out, cancel := e.MemoryHub().Subscribe("out/nums", 16)
	defer cancel()
	out10, cancel10 := e.MemoryHub().Subscribe("out/nums10", 16)
	defer cancel10()
	mustRule(t, e, `{"id":"r1","sql":"SELECT testCount(n) AS total FROM nums","actions":[{"memory":{"topic":"out/nums"}}]}`)
	mustRule(t, e, `{"id":"r10","sql":"SELECT testCount(n) AS total FROM nums","actions":[{"memory":{"topic":"out/nums10"}}]}`)
	if got := counted(t, e, "r1"); got != nil {
		t.Fatalf("state before any row: %v", got)
	}

	publish(t, e, "in/nums", map[string]any{"n": int64(1)}, map[string]any{"n": int64(2)}, map[string]any{"n": int64(3)})
	receive(t, out, 3)
	receive(t, out10, 3)
	if got := counted(t, e, "r1"); got != 6 {
		t.Fatalf("r1 total %v, want 6", got)
	}

	// The running rule is restarted around the reset and counts from 0;
	// r10 keeps its count.
	if err := e.ResetRuleState("r1"); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.RuleStatus("r1"); st.Status != "running" {
		t.Fatalf("r1 after reset: %s, want running", st.Status)
	}
	if got := counted(t, e, "r1"); got != nil {
		t.Fatalf("r1 state after reset: %v", got)
	}
	publish(t, e, "in/nums", map[string]any{"n": int64(5)})
	if got := receive(t, out, 1)[0]["total"]; got != int64(5) {
		t.Errorf("r1 output after reset: total %v, want 5", got)
	}
	receive(t, out10, 1)
	if got := counted(t, e, "r10"); got != 11 {
		t.Errorf("r10 total %v, want 11", got)
	}

	// A stopped rule stays stopped, with its state gone.
	if err := e.StopRule("r10"); err != nil {
		t.Fatal(err)
	}
	if err := e.ResetRuleState("r10"); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.RuleStatus("r10"); st.Status != "stopped" {
		t.Errorf("r10 after reset: %s, want stopped", st.Status)
	}
	if got := counted(t, e, "r10"); got != nil {
		t.Errorf("r10 state after reset: %v", got)
	}
	if got := counted(t, e, "r1"); got != 5 {
		t.Errorf("r1 total %v after resetting r10, want 5", got)
	}

	for _, err := range []error{
		e.ResetRuleState("nope"),
		func() error { _, err := e.RuleState("nope"); return err }(),
	} {
		if !errors.Is(err, engine.ErrNotFound) || err.Error() != `rule "nope": not found` {
			t.Errorf("unknown rule: %v, want ErrNotFound", err)
		}
	}
}

// The state of a rule survives an engine restart and is read from the
// store before the rule touches it again.
func TestRuleStateAfterRestart(t *testing.T) {
	root := t.TempDir()
	e := open(t, root)
	mustStream(t, e, `CREATE STREAM nums (n BIGINT) WITH (DATASOURCE="in/nums", TYPE="memory")`)
	out, cancel := e.MemoryHub().Subscribe("out/nums", 16)
	mustRule(t, e, `{"id":"r1","sql":"SELECT testCount(n) AS total FROM nums","actions":[{"memory":{"topic":"out/nums"}}]}`)
	publish(t, e, "in/nums", map[string]any{"n": int64(7)})
	receive(t, out, 1)
	cancel()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e = open(t, root)
	defer e.Close()
	if got := counted(t, e, "r1"); got != 7 {
		t.Errorf("r1 total after restart %v, want 7", got)
	}
}
