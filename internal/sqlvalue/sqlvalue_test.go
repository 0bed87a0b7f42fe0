package sqlvalue

import (
	"strings"
	"testing"
	"time"
)

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, "null"},
		{"abc", `string "abc"`},
		{strings.Repeat("x", 41), `string "` + strings.Repeat("x", 40) + `"...`},
		{[]byte("ab"), "bytes (2 bytes)"},
		{true, "bool true"},
		{int64(7), "int64 7"},
		{1.5, "float64 1.5"},
		{map[string]any{"a": 1}, "map"},
		{[]any{1}, "array"},
		{time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "time 2026-01-02T03:04:05.000000006Z"},
		{1500 * time.Millisecond, "duration 1.5s"},
		{struct{}{}, "struct {}"},
	} {
		if got := Describe(tc.v); got != tc.want {
			t.Errorf("Describe(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}
