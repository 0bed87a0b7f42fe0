package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

// memContext is an sdk.Context whose state is a plain map, kept as the
// engine keeps it: values with their Go type, counters as ints. When fail
// is set, every state method returns it.
type memContext struct {
	context.Context
	state map[string]any
	fail  error
}

func newMemContext() *memContext {
	return &memContext{Context: context.Background(), state: map[string]any{}}
}

func (c *memContext) GetLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
func (c *memContext) GetRuleId() string       { return "rule" }
func (c *memContext) GetOpId() string         { return "op" }
func (c *memContext) GetInstanceId() int      { return 0 }
func (c *memContext) GetRootPath() string     { return "" }

func (c *memContext) PutState(key string, v any) error {
	if c.fail != nil {
		return c.fail
	}
	c.state[key] = v
	return nil
}

func (c *memContext) GetState(key string) (any, error) {
	if c.fail != nil {
		return nil, c.fail
	}
	return c.state[key], nil
}

// IncrCounter keeps counters as ints; unlike the engine's it does not
// count in other integer kinds.
func (c *memContext) IncrCounter(key string, amount int) error {
	if c.fail != nil {
		return c.fail
	}
	v, ok := c.state[key]
	if !ok {
		v = 0
	}
	n, isInt := v.(int)
	if !isInt {
		return fmt.Errorf("state %q: holds %T, not a counter", key, v)
	}
	c.state[key] = n + amount
	return nil
}

func (c *memContext) GetCounter(key string) (int, error) {
	if c.fail != nil {
		return 0, c.fail
	}
	v, ok := c.state[key]
	if !ok {
		return 0, nil
	}
	n, isInt := v.(int)
	if !isInt {
		return 0, fmt.Errorf("state %q: holds %T, not a counter", key, v)
	}
	return n, nil
}

func (c *memContext) DeleteState(key string) error {
	if c.fail != nil {
		return c.fail
	}
	delete(c.state, key)
	return nil
}

var _ sdk.Context = (*memContext)(nil)

// stateCase reads stored (under "k") as the type of want: want, or the
// error err.
type stateCase struct {
	stored any
	read   func(sdk.Context) (any, bool, error)
	want   any
	err    string
}

// as reads key "k" with sdk.StateAs[T].
func as[T any]() func(sdk.Context) (any, bool, error) {
	return func(ctx sdk.Context) (any, bool, error) { return sdk.StateAs[T](ctx, "k") }
}

func TestStateAs(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	cases := []stateCase{
		// Every type the state keeps comes back as itself.
		{stored: true, read: as[bool](), want: true},
		{stored: "s", read: as[string](), want: "s"},
		{stored: 1.5, read: as[float64](), want: 1.5},
		{stored: float32(1.5), read: as[float32](), want: float32(1.5)},
		{stored: []byte("raw"), read: as[[]byte](), want: []byte("raw")},
		{stored: at, read: as[time.Time](), want: at},
		{stored: []any{int64(1), "x"}, read: as[[]any](), want: []any{int64(1), "x"}},
		{stored: map[string]any{"a": []any{true}}, read: as[map[string]any](), want: map[string]any{"a": []any{true}}},
		{stored: int(-3), read: as[int](), want: int(-3)},
		{stored: int8(-3), read: as[int8](), want: int8(-3)},
		{stored: int16(-3), read: as[int16](), want: int16(-3)},
		{stored: int32(-3), read: as[int32](), want: int32(-3)},
		{stored: int64(-3), read: as[int64](), want: int64(-3)},
		{stored: uint(3), read: as[uint](), want: uint(3)},
		{stored: uint8(3), read: as[uint8](), want: uint8(3)},
		{stored: uint16(3), read: as[uint16](), want: uint16(3)},
		{stored: uint32(3), read: as[uint32](), want: uint32(3)},
		{stored: uint64(3), read: as[uint64](), want: uint64(3)},
		{stored: uintptr(3), read: as[uintptr](), want: uintptr(3)},
		{stored: "anything", read: as[any](), want: "anything"},

		// Integers convert between every kind when the value fits.
		{stored: 7, read: as[int64](), want: int64(7)},
		{stored: 7, read: as[uint8](), want: uint8(7)},
		{stored: int64(-128), read: as[int8](), want: int8(-128)},
		{stored: int8(-1), read: as[int](), want: -1},
		{stored: uint8(255), read: as[int16](), want: int16(255)},
		{stored: uint64(math.MaxInt64), read: as[int64](), want: int64(math.MaxInt64)},
		{stored: int64(math.MaxInt64), read: as[uint64](), want: uint64(math.MaxInt64)},
		{stored: uint32(math.MaxUint32), read: as[uint32](), want: uint32(math.MaxUint32)},
		{stored: uintptr(9), read: as[int32](), want: int32(9)},
		{stored: int32(9), read: as[uintptr](), want: uintptr(9)},
		{stored: uint16(65535), read: as[uint](), want: uint(65535)},

		// ... and fail when it does not.
		{stored: 300, read: as[int8](), err: `state "k": 300 overflows int8`},
		{stored: int64(-129), read: as[int8](), err: `state "k": -129 overflows int8`},
		{stored: -1, read: as[uint](), err: `state "k": -1 overflows uint`},
		{stored: int8(-1), read: as[uint8](), err: `state "k": -1 overflows uint8`},
		{stored: uint64(math.MaxUint64), read: as[int64](), err: `state "k": 18446744073709551615 overflows int64`},
		{stored: uint64(math.MaxInt64 + 1), read: as[int](), err: `state "k": 9223372036854775808 overflows int`},
		{stored: uint16(256), read: as[uint8](), err: `state "k": 256 overflows uint8`},
		{stored: int64(1 << 40), read: as[uint32](), err: `state "k": 1099511627776 overflows uint32`},
		{stored: int32(-70000), read: as[int16](), err: `state "k": -70000 overflows int16`},

		// Nothing else converts.
		{stored: "7", read: as[int64](), err: `state "k": want int64, got string`},
		{stored: 7.0, read: as[int64](), err: `state "k": want int64, got float64`},
		{stored: 7, read: as[float64](), err: `state "k": want float64, got int`},
		{stored: 1.5, read: as[float32](), err: `state "k": want float32, got float64`},
		{stored: float32(1.5), read: as[float64](), err: `state "k": want float64, got float32`},
		{stored: "raw", read: as[[]byte](), err: `state "k": want []byte, got string`},
		{stored: []byte("raw"), read: as[string](), err: `state "k": want string, got []byte`},
		{stored: "2024-05-06T07:08:09Z", read: as[time.Time](), err: `state "k": want time.Time, got string`},
		{stored: int64(1), read: as[time.Time](), err: `state "k": want time.Time, got int64`},
		{stored: true, read: as[int](), err: `state "k": want int, got bool`},
		{stored: uint8(1), read: as[bool](), err: `state "k": want bool, got uint8`},
		{stored: map[string]any{}, read: as[[]any](), err: `state "k": want []any, got map[string]any`},
		{stored: []any{}, read: as[map[string]any](), err: `state "k": want map[string]any, got []any`},
		{stored: []any{"a"}, read: as[[]string](), err: `state "k": want []string, got []any`},
		{stored: at, read: as[time.Duration](), err: `state "k": want time.Duration, got time.Time`},
		{stored: int64(5), read: as[time.Duration](), err: `state "k": want time.Duration, got int64`},
		{stored: "x", read: as[fmt.Stringer](), err: `state "k": want fmt.Stringer, got string`},
	}
	for _, c := range cases {
		ctx := newMemContext()
		ctx.state["k"] = c.stored
		got, ok, err := c.read(ctx)
		name := fmt.Sprintf("%T %v as %T", c.stored, c.stored, got)
		if c.err != "" {
			if err == nil || err.Error() != c.err || ok {
				t.Errorf("%s = %#v, %v, %v; want error %q", name, got, ok, err, c.err)
			}
			if got != nil && !reflect.ValueOf(got).IsZero() {
				t.Errorf("%s: failed read returned %#v, want the zero value", name, got)
			}
			continue
		}
		if err != nil || !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, %v, %v; want %#v", name, got, ok, err, c.want)
		}
	}
}

func TestStateAsMissing(t *testing.T) {
	ctx := newMemContext()
	if v, ok, err := sdk.StateAs[int64](ctx, "none"); v != 0 || ok || err != nil {
		t.Errorf("StateAs(missing) = %v, %v, %v", v, ok, err)
	}
	if v, ok, err := sdk.StateAs[[]byte](ctx, "none"); v != nil || ok || err != nil {
		t.Errorf("StateAs(missing) = %v, %v, %v", v, ok, err)
	}
	// A deleted key is missing again.
	ctx.PutState("k", "x")
	ctx.DeleteState("k")
	if v, ok, err := sdk.StateAs[string](ctx, "k"); v != "" || ok || err != nil {
		t.Errorf("StateAs(deleted) = %q, %v, %v", v, ok, err)
	}
}

func TestStateOr(t *testing.T) {
	ctx := newMemContext()
	if v, err := sdk.StateOr(ctx, "total", int64(10)); v != 10 || err != nil {
		t.Errorf("StateOr(missing) = %v, %v", v, err)
	}
	ctx.IncrCounter("total", 3)
	if v, err := sdk.StateOr(ctx, "total", int64(10)); v != 3 || err != nil {
		t.Errorf("StateOr(counter) = %v, %v", v, err)
	}
	ctx.PutState("total", "three")
	if v, err := sdk.StateOr(ctx, "total", int64(10)); v != 0 || err == nil || err.Error() != `state "total": want int64, got string` {
		t.Errorf("StateOr(string) = %v, %v", v, err)
	}
	ctx.PutState("small", 1000)
	if v, err := sdk.StateOr(ctx, "small", int8(1)); v != 0 || err == nil || err.Error() != `state "small": 1000 overflows int8` {
		t.Errorf("StateOr(overflow) = %v, %v", v, err)
	}
}

// A GetState error comes back wrapped with the key.
func TestStateGetError(t *testing.T) {
	ctx := newMemContext()
	ctx.state["k"] = int64(1)
	ctx.fail = errors.New("store closed")
	v, ok, err := sdk.StateAs[int64](ctx, "k")
	if v != 0 || ok || err == nil || err.Error() != `state "k": store closed` || !errors.Is(err, ctx.fail) {
		t.Errorf("StateAs = %v, %v, %v", v, ok, err)
	}
	d, err := sdk.StateOr(ctx, "k", int64(5))
	if d != 0 || err == nil || err.Error() != `state "k": store closed` || !errors.Is(err, ctx.fail) {
		t.Errorf("StateOr = %v, %v", d, err)
	}
}

func ExampleStateOr() {
	var ctx sdk.Context = newMemContext() // the engine hands one to every call
	ctx.IncrCounter("total", 5)           // counters are ints
	total, err := sdk.StateOr(ctx, "total", int64(0))
	fmt.Println(total, err)
	last, err := sdk.StateOr(ctx, "last", "none")
	fmt.Println(last, err)
	ctx.PutState("last", 42)
	_, err = sdk.StateOr(ctx, "last", "none")
	fmt.Println(err)
	// Output:
	// 5 <nil>
	// none <nil>
	// state "last": want string, got int
}
