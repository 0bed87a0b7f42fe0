package kgencli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/engine/state"
	"github.com/kgen-dev/kgen/sdk"
)

func init() {
	sdk.RegisterFunction("testStateKinds", func() sdk.Function { return stateKindsFunc{} })
}

// stateKindsFunc counts its calls and keeps values of several types in its
// state, the last call's argument among them.
type stateKindsFunc struct{}

func (stateKindsFunc) Validate(args []sdk.Arg) error {
	return sdk.CheckArgCount("testStateKinds", args, 1, 1)
}
func (stateKindsFunc) IsAggregate() bool { return false }
func (stateKindsFunc) Exec(ctx sdk.FunctionContext, args []any) (any, bool) {
	if err := ctx.IncrCounter("calls", 1); err != nil {
		return err, false
	}
	for key, v := range map[string]any{
		"last": map[string]any{
			"n":    args[0],
			"at":   time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC),
			"tags": []any{"a b", uint8(7), nil, true},
		},
		"raw":      []byte("hi"),
		"ratio":    float32(0.25),
		"tab\tkey": "line\nbreak",
	} {
		if err := ctx.PutState(key, v); err != nil {
			return err, false
		}
	}
	return args[0], true
}

func TestStateShowAndReset(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "data", "nums.jsonl"), []byte("{\"n\": 1.5}\n{\"n\": 2.5}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	url, stop := startServe(t, root)
	defer stop()
	t.Setenv("KGEN_HOST", url)
	mustRun(t, "stream", "create", `CREATE STREAM nums (n FLOAT) WITH (DATASOURCE="nums.jsonl", TYPE="file")`)
	rule := filepath.Join(t.TempDir(), "r1.json")
	if err := os.WriteFile(rule, []byte(`{"id": "r1", "sql": "SELECT testStateKinds(n) AS n FROM nums", "actions": [{"nop": {}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "rule", "create", rule)

	// The file source ends after two rows and the rule finishes.
	deadline := time.Now().Add(10 * time.Second)
	for mustRun(t, "rule", "list") != "r1  finished\n" {
		if time.Now().After(deadline) {
			t.Fatalf("rule r1 did not finish: %s", mustRun(t, "rule", "list"))
		}
		time.Sleep(10 * time.Millisecond)
	}

	want := `OP                      KEY         TYPE     VALUE
func:testStateKinds(n)  calls       int      2
func:testStateKinds(n)  last        map      {"at": 2024-01-02T03:04:05.0000006Z, "n": 2.5, "tags": ["a b", 7, null, true]}
func:testStateKinds(n)  ratio       float32  0.25
func:testStateKinds(n)  raw         bytes    aGk=
func:testStateKinds(n)  "tab\tkey"  string   "line\nbreak"
`
	if got := mustRun(t, "state", "show", "r1"); got != want {
		t.Errorf("state show:\n%s\nwant:\n%s", got, want)
	}

	// -json (also spelt --json) prints the engine's JSON.
	for _, flag := range []string{"-json", "--json"} {
		got := mustRun(t, "state", "show", flag, "r1")
		var st api.RuleState
		if err := json.Unmarshal([]byte(got), &st); err != nil {
			t.Fatalf("state show %s: %v\n%s", flag, err, got)
		}
		if st.Rule != "r1" || len(st.Scopes) != 1 || st.Scopes[0].ID != "r1/func:testStateKinds(n)" || len(st.Scopes[0].Keys) != 5 {
			t.Fatalf("state show %s: %+v", flag, st)
		}
		last := st.Scopes[0].Keys[1].Value.(map[string]state.TypedValue)
		if calls := st.Scopes[0].Keys[0].Value; calls != 2 || last["tags"].Value.([]state.TypedValue)[1] != (state.TypedValue{Type: "uint8", Value: uint8(7)}) {
			t.Errorf("state show %s: calls %#v, last %#v", flag, calls, last)
		}
		if !strings.Contains(got, "\n          \"type\": \"float32\",\n          \"value\": 0.25\n") {
			t.Errorf("state show %s: not indented JSON:\n%s", flag, got)
		}
	}

	if got := mustRun(t, "state", "reset", "r1"); got != "State of rule r1 was reset.\n" {
		t.Errorf("state reset: %q", got)
	}
	if got := mustRun(t, "state", "show", "r1"); got != "Rule r1 has no state.\n" {
		t.Errorf("state show after reset: %q", got)
	}
	if got := mustRun(t, "rule", "list"); got != "r1  finished\n" {
		t.Errorf("a finished rule was started by the reset: %q", got)
	}

	for _, args := range [][]string{{"state", "show", "nope"}, {"state", "reset", "nope"}} {
		r := kgen(t, "", args...)
		if r.err == nil || r.err.Error() != `rule "nope": not found` || ExitCode(r.err) != 1 {
			t.Errorf("kgen %q: %v (exit %d)", args, r.err, ExitCode(r.err))
		}
	}
	for _, tc := range []struct {
		args  []string
		first string
	}{
		{[]string{"state"}, "missing subcommand"},
		{[]string{"state", "show"}, "show: want <rule>, got 0 arguments"},
		{[]string{"state", "reset", "-json", "r1"}, "reset: -json is for show only"},
	} {
		r := kgen(t, "", tc.args...)
		first, rest, _ := strings.Cut(r.err.Error(), "\n\n")
		if ExitCode(r.err) != 2 || first != tc.first || !strings.HasPrefix(rest, "Usage:\n\n\tkgen state [-host URL] show [-json] <rule>\n") {
			t.Errorf("kgen %q: %v (exit %d), want %q and the usage", tc.args, r.err, ExitCode(r.err), tc.first)
		}
	}
}
