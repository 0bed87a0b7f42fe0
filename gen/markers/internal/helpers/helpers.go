// Package helpers is the library of conversions that kgen copies into
// generated files: each top-level declaration that a generated file needs
// (with the declarations it uses) is spliced into kgen.gen.go verbatim, so
// generated code needs no runtime package beyond the sdk. The package is
// compiled and tested like any other; it is never imported.
//
// Every name starts with "kgen". A converter kgenTo<T> turns an engine value
// (int64, float64, string, bool, []byte, time.Time, map[string]any, []any or
// nil) into a T, failing with a *kgenWantError or an overflow error.
package helpers

import (
	"fmt"
	"math"
	"time"
)

// kgenWantError is an engine value of the wrong type.
type kgenWantError struct {
	want string
	got  any
}

func (e *kgenWantError) Error() string { return "want " + e.want + ", got " + kgenTypeName(e.got) }

// kgenTypeName names the Go type of an engine value; nil is "null".
func kgenTypeName(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// kgenDescribe names the type of an engine value and shows a scalar one.
func kgenDescribe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("string %q", x)
	case bool, int, int64, float64:
		return fmt.Sprintf("%T %v", x, x)
	}
	return kgenTypeName(v)
}

// kgenFieldError says which field or property (what) failed, showing the
// value on a type mismatch.
func kgenFieldError(what, key string, v any, err error) error {
	if w, ok := err.(*kgenWantError); ok {
		return fmt.Errorf("%s %q: want %s, got %s", what, key, w.want, kgenDescribe(v))
	}
	return fmt.Errorf("%s %q: %w", what, key, err)
}

func kgenToBool(v any) (bool, error) {
	if x, ok := v.(bool); ok {
		return x, nil
	}
	return false, &kgenWantError{want: "bool", got: v}
}

func kgenToString(v any) (string, error) {
	if x, ok := v.(string); ok {
		return x, nil
	}
	return "", &kgenWantError{want: "string", got: v}
}

// kgenToBytes accepts []byte, and a string as its bytes.
func kgenToBytes(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	case nil:
		return nil, nil
	}
	return nil, &kgenWantError{want: "[]byte", got: v}
}

func kgenToMap(v any) (map[string]any, error) {
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case nil:
		return nil, nil
	}
	return nil, &kgenWantError{want: "map[string]any", got: v}
}

func kgenToAny(v any) (any, error) { return v, nil }

// kgenToTime accepts a time.Time, an RFC 3339 string and int64 Unix
// milliseconds.
func kgenToTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return time.Time{}, fmt.Errorf("want time.Time, got string %q (not RFC 3339)", x)
		}
		return t, nil
	case int64:
		return time.UnixMilli(x), nil
	case int:
		return time.UnixMilli(int64(x)), nil
	}
	return time.Time{}, &kgenWantError{want: "time.Time", got: v}
}

// kgenToDuration accepts milliseconds (int64, int, float64) and a duration
// string like "1.5s".
func kgenToDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case int64:
		return time.Duration(x) * time.Millisecond, nil
	case int:
		return time.Duration(x) * time.Millisecond, nil
	case float64:
		return time.Duration(x * float64(time.Millisecond)), nil
	case string:
		d, err := time.ParseDuration(x)
		if err != nil {
			return 0, fmt.Errorf("want time.Duration, got string %q (not a duration like \"1s\")", x)
		}
		return d, nil
	}
	return 0, &kgenWantError{want: "time.Duration", got: v}
}

// kgenInt converts an int64, int or integral float64 in [lo, hi].
func kgenInt(v any, want string, lo, hi int64) (int64, error) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case int:
		n = int64(x)
	case float64:
		if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
			return 0, &kgenWantError{want: want, got: v}
		}
		n = int64(x)
	default:
		return 0, &kgenWantError{want: want, got: v}
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d overflows %s", n, want)
	}
	return n, nil
}

func kgenToInt(v any) (int, error) {
	if x, ok := v.(int64); ok && x >= math.MinInt && x <= math.MaxInt {
		return int(x), nil
	}
	n, err := kgenInt(v, "int", math.MinInt, math.MaxInt)
	return int(n), err
}

func kgenToInt8(v any) (int8, error) {
	if x, ok := v.(int64); ok && x >= math.MinInt8 && x <= math.MaxInt8 {
		return int8(x), nil
	}
	n, err := kgenInt(v, "int8", math.MinInt8, math.MaxInt8)
	return int8(n), err
}

func kgenToInt16(v any) (int16, error) {
	if x, ok := v.(int64); ok && x >= math.MinInt16 && x <= math.MaxInt16 {
		return int16(x), nil
	}
	n, err := kgenInt(v, "int16", math.MinInt16, math.MaxInt16)
	return int16(n), err
}

func kgenToInt32(v any) (int32, error) {
	if x, ok := v.(int64); ok && x >= math.MinInt32 && x <= math.MaxInt32 {
		return int32(x), nil
	}
	n, err := kgenInt(v, "int32", math.MinInt32, math.MaxInt32)
	return int32(n), err
}

func kgenToInt64(v any) (int64, error) {
	if x, ok := v.(int64); ok {
		return x, nil
	}
	return kgenInt(v, "int64", math.MinInt64, math.MaxInt64)
}

// kgenUint converts a non-negative int64, int or integral float64 up to hi.
func kgenUint(v any, want string, hi uint64) (uint64, error) {
	var n uint64
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return 0, fmt.Errorf("%d overflows %s", x, want)
		}
		n = uint64(x)
	case int:
		if x < 0 {
			return 0, fmt.Errorf("%d overflows %s", x, want)
		}
		n = uint64(x)
	case float64:
		if x != math.Trunc(x) || x >= math.MaxUint64 {
			return 0, &kgenWantError{want: want, got: v}
		}
		if x < 0 {
			return 0, fmt.Errorf("%v overflows %s", x, want)
		}
		n = uint64(x)
	default:
		return 0, &kgenWantError{want: want, got: v}
	}
	if n > hi {
		return 0, fmt.Errorf("%d overflows %s", n, want)
	}
	return n, nil
}

func kgenToUint(v any) (uint, error) {
	n, err := kgenUint(v, "uint", math.MaxUint)
	return uint(n), err
}

func kgenToUint8(v any) (uint8, error) {
	n, err := kgenUint(v, "uint8", math.MaxUint8)
	return uint8(n), err
}

func kgenToUint16(v any) (uint16, error) {
	n, err := kgenUint(v, "uint16", math.MaxUint16)
	return uint16(n), err
}

func kgenToUint32(v any) (uint32, error) {
	n, err := kgenUint(v, "uint32", math.MaxUint32)
	return uint32(n), err
}

func kgenToUint64(v any) (uint64, error) { return kgenUint(v, "uint64", math.MaxUint64) }

// kgenFloat converts a float64, int64 or int.
func kgenFloat(v any, want string) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	}
	return 0, &kgenWantError{want: want, got: v}
}

func kgenToFloat32(v any) (float32, error) {
	f, err := kgenFloat(v, "float32")
	if err == nil && math.Abs(f) > math.MaxFloat32 && !math.IsInf(f, 0) {
		return 0, fmt.Errorf("%v overflows float32", f)
	}
	return float32(f), err
}

func kgenToFloat64(v any) (float64, error) {
	if x, ok := v.(float64); ok {
		return x, nil
	}
	return kgenFloat(v, "float64")
}

// kgenToSlice converts a []any (nil gives nil) element by element; want
// names the slice type.
func kgenToSlice[T any](v any, want string, conv func(any) (T, error)) ([]T, error) {
	if v == nil {
		return nil, nil
	}
	xs, ok := v.([]any)
	if !ok {
		return nil, &kgenWantError{want: want, got: v}
	}
	out := make([]T, len(xs))
	for i, x := range xs {
		var err error
		if out[i], err = conv(x); err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
	}
	return out, nil
}

// kgenEncodeSlice turns a typed slice into the engine's []any.
func kgenEncodeSlice[T any](s []T, enc func(T) any) []any {
	if s == nil {
		return nil
	}
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = enc(x)
	}
	return out
}
