package sql

import (
	"errors"
	"fmt"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

// batchFunc doubles its argument, fails on "bad", and records the sizes
// of the batches and the single calls it got.
type batchFunc struct {
	batches []int
	singles int
}

func (*batchFunc) Validate([]sdk.Arg) error { return nil }
func (*batchFunc) IsAggregate() bool        { return false }
func (f *batchFunc) Exec(ctx sdk.FunctionContext, args []any) (any, bool) {
	f.singles++
	return double(args[0])
}

func (f *batchFunc) ExecBatch(_ sdk.FunctionContext, rows [][]any) ([]any, []error) {
	f.batches = append(f.batches, len(rows))
	res, errs := make([]any, len(rows)), make([]error, len(rows))
	for i, args := range rows {
		v, ok := double(args[0])
		if !ok {
			errs[i] = v.(error)
			continue
		}
		res[i] = v
	}
	return res, errs
}

func double(v any) (any, bool) {
	n, ok := v.(int64)
	if !ok {
		return errors.New("want an integer"), false
	}
	return 2 * n, true
}

func batchEnv(fs map[string]*batchFunc) Env {
	return Env{Function: func(name string) (sdk.Function, error) {
		if name != "dbl" {
			return nil, ErrUnknownFunction
		}
		f := &batchFunc{}
		fs[fmt.Sprint(len(fs))] = f
		return f, nil
	}}
}

// A select field that is a call of a BatchFunction gets the rows of one
// step in one ExecBatch; a nested call runs row by row; a row's error
// fails the step with its position, as Exec's would.
func TestBatchFunctionGetsTheRowsOfAStep(t *testing.T) {
	fs := map[string]*batchFunc{}
	prog, err := Compile(mustSelect(t, "SELECT dbl(i) AS d, dbl(i) + 1 AS e FROM demo GROUP BY TUMBLINGWINDOW(ss, 1)"), batchEnv(fs))
	if err != nil {
		t.Fatal(err)
	}
	rows := []map[string]any{{"i": int64(1)}, {"i": int64(2)}, {"i": int64(3)}}
	out, err := prog.ProjectGroups(rows, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(out); got != "[map[d:2 e:3] map[d:4 e:5] map[d:6 e:7]]" {
		t.Errorf("rows = %s", got)
	}
	if b, s := fs["0"].batches, fs["0"].singles; fmt.Sprint(b) != "[3]" || s != 0 {
		t.Errorf("top-level call: batches %v, single calls %d; want [3] and 0", b, s)
	}
	if b, s := fs["1"].batches, fs["1"].singles; len(b) != 0 || s != 3 {
		t.Errorf("nested call: batches %v, single calls %d; want none and 3", b, s)
	}
	_, err = prog.ProjectGroups([]map[string]any{{"i": int64(1)}, {"i": "bad"}}, 0, 1000)
	if want := `1:8: function "dbl": want an integer`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// Without a window, ProjectEach hands the rows to one ExecBatch and a row
// that fails fails alone, with its position.
func TestProjectEach(t *testing.T) {
	fs := map[string]*batchFunc{}
	prog, err := Compile(mustSelect(t, "SELECT i, dbl(i) AS d FROM demo"), batchEnv(fs))
	if err != nil {
		t.Fatal(err)
	}
	if !prog.Batched() {
		t.Fatal("Batched() = false")
	}
	out, errs := prog.ProjectEach([]map[string]any{{"i": int64(1)}, {"i": "bad"}, {"i": int64(3)}})
	if got := fmt.Sprint(out); got != "[map[d:2 i:1] map[] map[d:6 i:3]]" {
		t.Errorf("rows = %s", got)
	}
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("errors of good rows: %v, %v", errs[0], errs[2])
	}
	if want := `1:11: function "dbl": want an integer`; errs[1] == nil || errs[1].Error() != want {
		t.Errorf("err = %v, want %s", errs[1], want)
	}
	if b, s := fs["0"].batches, fs["0"].singles; fmt.Sprint(b) != "[3]" || s != 0 {
		t.Errorf("batches %v, single calls %d; want [3] and 0", b, s)
	}
	plain, err := Compile(mustSelect(t, "SELECT dbl(i) + 1 AS e FROM demo"), batchEnv(fs))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Batched() {
		t.Error("a nested call made the program Batched")
	}
}

// orderedFunc is a batchFunc that records the numbers of its batches.
type orderedFunc struct {
	batchFunc
	seqs []uint64
}

func (f *orderedFunc) ExecBatchAt(ctx sdk.FunctionContext, rows [][]any, seq uint64) ([]any, []error) {
	f.seqs = append(f.seqs, seq)
	return f.ExecBatch(ctx, rows)
}

// Batches prepared in turn take the numbers of their call site in that
// order, whichever is projected first; a program calls for that only when
// every plugin call is an ordered batched one.
func TestPrepareEachNumbersBatches(t *testing.T) {
	f := &orderedFunc{}
	env := Env{Function: func(name string) (sdk.Function, error) {
		if name != "dbl" {
			return nil, ErrUnknownFunction
		}
		return f, nil
	}}
	prog, err := Compile(mustSelect(t, "SELECT dbl(i) AS d FROM demo WHERE i > 0"), env)
	if err != nil {
		t.Fatal(err)
	}
	if !prog.Overlappable() {
		t.Fatal("Overlappable() = false")
	}
	first := prog.PrepareEach([]map[string]any{{"i": int64(1)}}, true)
	second := prog.PrepareEach([]map[string]any{{"i": int64(2)}, {"i": int64(3)}}, true)
	out2, _ := second.Project()
	out1, _ := first.Project()
	if fmt.Sprint(out1, out2) != "[map[d:2]] [map[d:4] map[d:6]]" {
		t.Errorf("rows = %v %v", out1, out2)
	}
	if fmt.Sprint(f.seqs) != "[2 1]" {
		t.Errorf("batch numbers in call order = %v, want [2 1]", f.seqs)
	}
	if unordered, err := Compile(mustSelect(t, "SELECT dbl(i) AS d FROM demo"), batchEnv(map[string]*batchFunc{})); err != nil || unordered.Overlappable() {
		t.Errorf("a plain BatchFunction: Overlappable() = true, %v", err)
	}
	if nested, err := Compile(mustSelect(t, "SELECT dbl(i) AS d, dbl(i) + 1 AS e FROM demo"), env); err != nil || nested.Overlappable() {
		t.Errorf("a nested call: Overlappable() = true, %v", err)
	}
}
