package markers_test

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"

	enginestate "github.com/kgen-dev/kgen/engine/state"
	"github.com/kgen-dev/kgen/engine/store"
	"github.com/kgen-dev/kgen/gen/markers/testdata/state"
	"github.com/kgen-dev/kgen/sdk"
)

// scopeContext is an sdk.Context over a real engine state scope, as the
// engine's rules hand to extensions.
type scopeContext struct {
	context.Context
	*enginestate.Scope
}

func (scopeContext) GetLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
func (scopeContext) GetRuleId() string       { return "rule" }
func (scopeContext) GetOpId() string         { return "op" }
func (scopeContext) GetInstanceId() int      { return 0 }
func (scopeContext) GetRootPath() string     { return "" }

func newScopeContext(m *enginestate.Manager) sdk.Context {
	return scopeContext{Context: context.Background(), Scope: m.Scope("rule/op")}
}

// The generated accessor over the engine's state: Save and Load round-trip
// every field type through the store, getters convert counters and fail
// as sdk.StateAs does, Reset deletes every key.
func TestGeneratedStateAccessor(t *testing.T) {
	kv := store.NewMem()
	m := enginestate.NewManager(kv, 0, nil)
	ctx := newScopeContext(m)
	st := state.NewTallyState(ctx)

	// Missing keys read as zero values.
	if got, err := st.Load(); err != nil || !reflect.DeepEqual(got, state.Tally{}) {
		t.Fatalf("Load of empty state = %+v, %v", got, err)
	}
	// Counters start as ints; getters read them as the field's kind.
	for range 3 {
		check(t, st.AddTotal(5))
	}
	check(t, st.AddCalls(1))
	if n, err := st.Total(); n != 15 || err != nil {
		t.Fatalf("Total = %v, %v", n, err)
	}
	if v, _ := ctx.GetState("tally.total"); v != 15 {
		t.Fatalf("stored total = %#v, want int 15", v)
	}
	if n, err := st.Calls(); n != 1 || err != nil {
		t.Fatalf("Calls = %v, %v", n, err)
	}

	// Save then Load, also after the state is reloaded from the store.
	want := state.Tally{
		Total: -7, Calls: 3, Last: "w", Max: 2.5, Ratio: 0.25, Small: -8, Seen: true, Raw: []byte{0, 1},
		At:     time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC),
		Words:  map[string]any{"a": int64(2), "nested": []any{"x", uint8(1)}},
		Recent: []any{"a", 1.5},
		Note:   "not kept",
	}
	check(t, st.Save(want))
	want.Note = ""
	if got, err := st.Load(); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Load = %+v, %v\nwant %+v", got, err, want)
	}
	check(t, m.Close())
	m = enginestate.NewManager(kv, 0, nil)
	defer m.Close()
	ctx = newScopeContext(m)
	st = state.NewTallyState(ctx)
	if got, err := st.Load(); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Load after reopening = %+v, %v\nwant %+v", got, err, want)
	}
	// The saved kinds stay: Small is an int8 counter now.
	wantErr(t, st.AddSmall(-200), `state "tally.small": adding -200 overflows int8 counter -8`)
	check(t, st.AddSmall(8))
	if n, err := st.Small(); n != 0 || err != nil {
		t.Fatalf("Small = %v, %v", n, err)
	}

	// Type errors read as the sdk's.
	check(t, ctx.PutState("tally.total", "seven"))
	_, err := st.Total()
	wantErr(t, err, `state "tally.total": want int64, got string`)
	_, err = st.Load()
	wantErr(t, err, `state "tally.total": want int64, got string`)
	check(t, ctx.PutState("tally.calls", -1))
	_, err = st.Calls()
	wantErr(t, err, `state "tally.calls": -1 overflows uint32`)
	check(t, ctx.PutState("tally.words", []any{}))
	_, err = st.Words()
	wantErr(t, err, `state "tally.words": want map[string]any, got []any`)
	wantErr(t, st.AddTotal(1), `state "tally.total": holds string, not a counter`)

	// Reset deletes every field's key and nothing else.
	check(t, ctx.PutState("other", true))
	check(t, st.Reset())
	if got, err := st.Load(); err != nil || !reflect.DeepEqual(got, state.Tally{}) {
		t.Fatalf("Load after Reset = %+v, %v", got, err)
	}
	for _, key := range []string{"tally.total", "tally.words", "tally.recent"} {
		if v, _ := ctx.GetState(key); v != nil {
			t.Errorf("%s = %#v after Reset", key, v)
		}
	}
	if v, _ := ctx.GetState("other"); v != true {
		t.Errorf("Reset removed another key: other = %#v", v)
	}
}
