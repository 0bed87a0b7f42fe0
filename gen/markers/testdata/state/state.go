// Package state is a golden fixture: a //kgen:state struct with every field
// type the state keeps, and a function that keeps a running tally in it
// through the generated accessor.
package state

import (
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

// Tally is what the function tallyWord keeps for one call site, each field
// under "tally." and its key.
//
//kgen:state prefix=tally.
type Tally struct {
	Total  int64 `kgen:"total"`
	Calls  uint32
	Last   string `json:"last"`
	Max    float64
	Ratio  float32
	Small  int8
	Seen   bool
	Raw    []byte
	At     time.Time
	Words  map[string]any
	Recent []any
	Note   string `kgen:"-"` // not kept
}

// mark has no prefix: its field keeps key "done".
//
//kgen:state
type mark struct {
	Done bool
}

// tallyWord adds n to a running total and counts the words it saw; the word
// "reset" clears everything instead.
//
//kgen:function
func tallyWord(ctx sdk.FunctionContext, word string, n int64) (map[string]any, error) {
	st := NewTallyState(ctx)
	if word == "reset" {
		return map[string]any{}, st.Reset()
	}
	if err := st.AddTotal(int(n)); err != nil {
		return nil, err
	}
	t, err := st.Load()
	if err != nil {
		return nil, err
	}
	t.Calls++
	t.Last = word
	t.Max = max(t.Max, float64(n))
	if t.Words == nil {
		t.Words = map[string]any{}
	}
	seen, _ := t.Words[word].(int64)
	t.Words[word] = seen + 1
	t.Recent = append(t.Recent, word)
	if len(t.Recent) > 2 {
		t.Recent = t.Recent[1:]
	}
	if err := st.Save(t); err != nil {
		return nil, err
	}
	if err := newMarkState(ctx).SetDone(true); err != nil {
		return nil, err
	}
	return map[string]any{"total": t.Total, "calls": int64(t.Calls), "last": t.Last, "max": t.Max,
		"words": t.Words, "recent": t.Recent}, nil
}
