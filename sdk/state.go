package sdk

import (
	"fmt"
	"reflect"
)

// StateAs returns the value under key as a T; ok is false (and v the zero
// T) when there is none.
//
// A value stored as a T is returned as is. An integer of any kind converts
// to a T of any integer kind (int, int8 … int64, uint, uint8 … uint64,
// uintptr) when it fits, so a counter made by IncrCounter (an int) reads as
// an int64; one that does not fit is an error ("state "n": 300 overflows
// int8"). Anything else is an error naming the key, the wanted and the
// stored type: `state "total": want int64, got string`.
func StateAs[T any](ctx Context, key string) (v T, ok bool, err error) {
	stored, err := ctx.GetState(key)
	switch {
	case err != nil:
		return v, false, fmt.Errorf("state %q: %w", key, err)
	case stored == nil:
		return v, false, nil
	}
	if x, isT := stored.(T); isT {
		return x, true, nil
	}
	if x, isInt := intOf(stored); isInt {
		switch intT, fits := setInt(&v, x); {
		case fits:
			return v, true, nil
		case intT:
			return v, false, fmt.Errorf("state %q: %s overflows %s", key, x, wantName[T]())
		}
	}
	return v, false, fmt.Errorf("state %q: want %s, got %s", key, wantName[T](), stateTypeName(stored))
}

// StateOr returns the value under key as a T, or def when there is none.
// It converts and fails as StateAs does, returning the zero T on failure.
func StateOr[T any](ctx Context, key string, def T) (T, error) {
	v, ok, err := StateAs[T](ctx, key)
	if !ok && err == nil {
		return def, nil
	}
	return v, err
}

// stateInt is an integer of any kind: negative in n, or non-negative in u.
type stateInt struct {
	neg bool
	n   int64
	u   uint64
}

func (x stateInt) String() string {
	if x.neg {
		return fmt.Sprint(x.n)
	}
	return fmt.Sprint(x.u)
}

func signedInt(n int64) stateInt {
	if n < 0 {
		return stateInt{neg: true, n: n}
	}
	return stateInt{u: uint64(n)}
}

// intOf reads an integer of any kind.
func intOf(v any) (stateInt, bool) {
	switch v := v.(type) {
	case int:
		return signedInt(int64(v)), true
	case int8:
		return signedInt(int64(v)), true
	case int16:
		return signedInt(int64(v)), true
	case int32:
		return signedInt(int64(v)), true
	case int64:
		return signedInt(v), true
	case uint:
		return stateInt{u: uint64(v)}, true
	case uint8:
		return stateInt{u: uint64(v)}, true
	case uint16:
		return stateInt{u: uint64(v)}, true
	case uint32:
		return stateInt{u: uint64(v)}, true
	case uint64:
		return stateInt{u: v}, true
	case uintptr:
		return stateInt{u: uint64(v)}, true
	}
	return stateInt{}, false
}

// setInt stores x in *p when it fits; intT reports whether p points to an
// integer kind at all.
func setInt(p any, x stateInt) (intT, fits bool) {
	switch p := p.(type) {
	case *int:
		return true, setSigned(p, x)
	case *int8:
		return true, setSigned(p, x)
	case *int16:
		return true, setSigned(p, x)
	case *int32:
		return true, setSigned(p, x)
	case *int64:
		return true, setSigned(p, x)
	case *uint:
		return true, setUnsigned(p, x)
	case *uint8:
		return true, setUnsigned(p, x)
	case *uint16:
		return true, setUnsigned(p, x)
	case *uint32:
		return true, setUnsigned(p, x)
	case *uint64:
		return true, setUnsigned(p, x)
	case *uintptr:
		return true, setUnsigned(p, x)
	}
	return false, false
}

// setSigned and setUnsigned convert and check the round trip, which fails
// exactly when the value does not fit.
func setSigned[I int | int8 | int16 | int32 | int64](p *I, x stateInt) bool {
	n := x.n
	if !x.neg {
		if x.u > 1<<63-1 {
			return false
		}
		n = int64(x.u)
	}
	if int64(I(n)) != n {
		return false
	}
	*p = I(n)
	return true
}

func setUnsigned[U uint | uint8 | uint16 | uint32 | uint64 | uintptr](p *U, x stateInt) bool {
	if x.neg || uint64(U(x.u)) != x.u {
		return false
	}
	*p = U(x.u)
	return true
}

// wantName names T in errors, as stateTypeName names stored values.
func wantName[T any]() string {
	var zero T
	if any(zero) != nil {
		return stateTypeName(zero)
	}
	return reflect.TypeFor[T]().String() // an interface type
}

// stateTypeName names the type of a stored value as Go source spells it.
func stateTypeName(v any) string {
	switch v.(type) {
	case []byte:
		return "[]byte"
	case []any:
		return "[]any"
	case map[string]any:
		return "map[string]any"
	}
	return fmt.Sprintf("%T", v)
}
