package portablev1

import (
	"fmt"
	"math"
	"reflect"
	"testing"
)

// SQL values survive the trip through Value, integers as int64 and floats
// as float64; what cannot be sent is an error naming where it is.
func TestValueRoundTrip(t *testing.T) {
	in := map[string]any{"n": 3, "f": float32(1.5), "s": "x", "b": []byte("y"), "t": true, "z": nil,
		"l": []any{int8(1), "two", map[string]any{"k": uint16(7)}}}
	v, err := ToValue(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"n": int64(3), "f": 1.5, "s": "x", "b": []byte("y"), "t": true, "z": nil,
		"l": []any{int64(1), "two", map[string]any{"k": int64(7)}}}
	if got := FromValue(v); !reflect.DeepEqual(got, want) {
		t.Errorf("round trip = %#v", got)
	}
	for _, c := range []struct {
		in   any
		want string
	}{
		{uint64(math.MaxUint64), "unsigned integer 18446744073709551615 overflows int64"},
		{[]any{1, struct{}{}}, "element 1: unsupported value of type struct {}"},
		{map[string]any{"a": complex(1, 2)}, `key "a": unsupported value of type complex128`},
	} {
		if _, err := ToValue(c.in); fmt.Sprint(err) != c.want {
			t.Errorf("ToValue(%v) err = %v, want %s", c.in, err, c.want)
		}
	}
}
