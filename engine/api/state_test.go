package api_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/engine/state"
	"github.com/kgen-dev/kgen/sdk"
)

func init() {
	sdk.RegisterFunction("testTotal", func() sdk.Function { return totalFunc{} })
}

// totalFunc adds its argument to an int64 counter in its state and returns
// the total.
type totalFunc struct{}

func (totalFunc) Validate(args []sdk.Arg) error { return sdk.CheckArgCount("testTotal", args, 1, 1) }
func (totalFunc) IsAggregate() bool             { return false }
func (totalFunc) Exec(ctx sdk.FunctionContext, args []any) (any, bool) {
	n, ok := args[0].(float64)
	if !ok {
		return fmt.Errorf("testTotal: want float64, got %T", args[0]), false
	}
	if v, err := ctx.GetState("total"); err != nil {
		return err, false
	} else if v == nil {
		if err := ctx.PutState("total", int64(0)); err != nil {
			return err, false
		}
	}
	if err := ctx.IncrCounter("total", int(n)); err != nil {
		return err, false
	}
	total, err := ctx.GetCounter("total")
	if err != nil {
		return err, false
	}
	return int64(total), true
}

const totalRule = `{"id": "r1", "sql": "SELECT testTotal(temp) AS total FROM demo", "actions": [{"memory": {"topic": "out"}}]}`

func TestRuleState(t *testing.T) {
	s := newServer(t)
	if _, err := s.e.CreateStream(demoSQL); err != nil {
		t.Fatal(err)
	}
	out, cancel := s.e.MemoryHub().Subscribe("out", 10)
	defer cancel()
	publish := func(temp float64) map[string]any {
		t.Helper()
		if err := s.e.MemoryHub().Publish(t.Context(), "in", map[string]any{"temp": temp}); err != nil {
			t.Fatal(err)
		}
		return receive(t, out)
	}
	s.check(t, []exchange{
		{"POST", "/rules", totalRule, 201, "Rule r1 was created successfully."},
		{"GET", "/rules/r1/state", "", 200, "{\n  \"rule\": \"r1\",\n  \"scopes\": []\n}\n"},
	})
	publish(2)
	publish(3)
	s.check(t, []exchange{
		{"GET", "/rules/r1/state", "", 200, `{
  "rule": "r1",
  "scopes": [
    {
      "id": "r1/func:testTotal(temp)",
      "op": "func:testTotal(temp)",
      "keys": [
        {
          "key": "total",
          "type": "int64",
          "value": 5
        }
      ]
    }
  ]
}
`},
		{"DELETE", "/rules/r1/state", "", 200, "State of rule r1 was reset."},
		{"GET", "/rules/r1/state", "", 200, "{\n  \"rule\": \"r1\",\n  \"scopes\": []\n}\n"},
		{"GET", "/rules/nope/state", "", 404, `rule "nope": not found`},
		{"DELETE", "/rules/nope/state", "", 404, `rule "nope": not found`},
	})

	// The rule was restarted around the reset and counts from 0 again.
	if row := publish(4); row["total"] != int64(4) {
		t.Errorf("after reset: output %v, want total 4", row)
	}

	// The client.
	st, err := s.cl.RuleState(t.Context(), "r1")
	if err != nil {
		t.Fatal(err)
	}
	want := &api.RuleState{Rule: "r1", Scopes: []state.ScopeState{{
		ID: "r1/func:testTotal(temp)", Op: "func:testTotal(temp)",
		Keys: []state.KeyState{{Key: "total", Type: "int64", Value: int64(4)}},
	}}}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("client: state %+v, want %+v", st, want)
	}
	if msg, err := s.cl.ResetRuleState(t.Context(), "r1"); err != nil || msg != "State of rule r1 was reset." {
		t.Errorf("client: reset: %q, %v", msg, err)
	}
	if st, err := s.cl.RuleState(t.Context(), "r1"); err != nil || len(st.Scopes) != 0 {
		t.Errorf("client: state after reset: %+v, %v", st, err)
	}
	if st, err := s.cl.RuleStatus(t.Context(), "r1"); err != nil || st.Status != "running" {
		t.Errorf("client: status after reset: %+v, %v", st, err)
	}
	if _, err := s.cl.RuleState(t.Context(), "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("client: state of nope: %v, want ErrNotFound", err)
	}
	if _, err := s.cl.ResetRuleState(t.Context(), "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("client: reset nope: %v, want ErrNotFound", err)
	}
}
