package schema

import (
	"runtime"
	"strings"
	"testing"
)

// A payload nested deeper than encoding/json's 10,000 levels is refused,
// at the level where it goes too deep, for little more memory than the
// payload itself.
func TestDeepPayloadsCostLittle(t *testing.T) {
	d, err := NewDecoder("json", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ payload, want string }{
		{strings.Repeat("[", 400_000) + strings.Repeat("]", 400_000),
			`decode JSON: invalid character '[' exceeded max depth at offset 10000`},
		{`{"a":` + strings.Repeat(`{"b":`, 200_000) + "1" + strings.Repeat("}", 200_000) + `}`,
			`decode JSON: invalid character '{' exceeded max depth at offset 50000`},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := d.Decode([]byte(tc.payload))
		runtime.ReadMemStats(&after)
		if err == nil || err.Error() != tc.want {
			t.Errorf("err = %v, want %s", err, tc.want)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2*uint64(len(tc.payload)) {
			t.Errorf("decoding %d bytes allocated %d bytes, more than twice the payload", len(tc.payload), alloc)
		}
	}
}
