// Package sqlvalue renders SQL values for error messages, so that the
// argument errors of external functions read alike whether the engine or
// svc's request mapping reports them.
package sqlvalue

import (
	"fmt"
	"time"
)

// Describe is how errors show a SQL value: its type and a short rendering,
// such as `string "abc"`, `int64 7`, `map` or `null`.
func Describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 40 {
			return fmt.Sprintf("string %q...", x[:40])
		}
		return fmt.Sprintf("string %q", x)
	case []byte:
		return fmt.Sprintf("bytes (%d bytes)", len(x))
	case bool, int64, float64, int, int32, uint64, float32:
		return fmt.Sprintf("%T %v", x, x)
	case map[string]any:
		return "map"
	case []any:
		return "array"
	case time.Time:
		return "time " + x.Format(time.RFC3339Nano)
	case time.Duration:
		return "duration " + x.String()
	}
	return fmt.Sprintf("%T", v)
}
