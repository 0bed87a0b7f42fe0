// Package function is a golden fixture: functions with every kind of
// parameter and result kgen supports.
package function

import (
	"errors"
	"strings"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

// CountWords counts the words of text separated by sep. It is exported
// (with a plugin name of its own) so benchmarks can call it directly.
//
//kgen:function name=wordCount
func CountWords(text, sep string) (int64, error) {
	if sep == "" {
		return 0, errors.New("empty separator")
	}
	var n int64
	for w := range strings.SplitSeq(text, sep) {
		if strings.TrimSpace(w) != "" {
			n++
		}
	}
	return n, nil
}

// clamp limits n to [lo, hi].
//
//kgen:function
func clamp(n int8, lo, hi int16) int32 {
	return int32(min(max(int16(n), lo), hi))
}

// joinAll joins the parts with sep.
//
//kgen:function
func joinAll(sep string, parts ...string) string { return strings.Join(parts, sep) }

// describe shows every other parameter kind: a struct, times, maps, any,
// bytes, slices, small floats and uints, and the call's context.
//
//kgen:function
func describe(ctx sdk.FunctionContext, p Point, at time.Time, d time.Duration, tags map[string]any,
	extra any, raw []byte, xs []int, f float32, u uint8, flag bool) (map[string]any, error) {
	return map[string]any{
		"point": p.Label, "at": at.UTC().Format(time.RFC3339), "ms": d.Milliseconds(), "tags": len(tags),
		"extra": extra, "raw": string(raw), "xs": len(xs), "f": float64(f), "u": int64(u), "flag": flag,
		"funcId": int64(ctx.GetFuncId()),
	}, nil
}

// shift moves p by dx.
//
//kgen:function
func shift(p Point, dx float64) Point {
	p.X += dx
	return p
}

// Point is decoded from a map: keys "x" (kgen tag), "y" (json tag),
// "label" and "tags" (field names).
type Point struct {
	X     float64 `kgen:"x"`
	Y     float64 `json:"y"`
	Label string
	Tags  []string
	Every time.Duration `kgen:"-"`
}
