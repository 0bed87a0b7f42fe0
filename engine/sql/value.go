package sql

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"strings"
	"time"
)

// Run-time values are int64, float64, string, bool, []byte, time.Time,
// map[string]any, []any and nil. Other Go number types (from a plugin or a
// hand-built row) are accepted wherever a number is, as int64 or float64.

// typeName names the type of v in error messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case int64:
		return "int64"
	case float64:
		return "float64"
	case string:
		return "string"
	case bool:
		return "bool"
	case []byte:
		return "[]byte"
	case time.Time:
		return "time.Time"
	case map[string]any:
		return "map[string]any"
	case []any:
		return "[]any"
	}
	return fmt.Sprintf("%T", v)
}

// num is a number without boxing: an int64, or a float64 when isFloat.
type num struct {
	i       int64
	f       float64
	isFloat bool
}

func (n num) float() float64 {
	if n.isFloat {
		return n.f
	}
	return float64(n.i)
}

func (n num) value() any {
	if n.isFloat {
		return n.f
	}
	return n.i
}

// number returns v as a num when v is any Go number.
func number(v any) (num, bool) {
	switch n := v.(type) {
	case int64:
		return num{i: n}, true
	case float64:
		return num{f: n, isFloat: true}, true
	case int:
		return num{i: int64(n)}, true
	case int32:
		return num{i: int64(n)}, true
	case int16:
		return num{i: int64(n)}, true
	case int8:
		return num{i: int64(n)}, true
	case uint:
		return unsigned(uint64(n)), true
	case uint64:
		return unsigned(n), true
	case uint32:
		return num{i: int64(n)}, true
	case uint16:
		return num{i: int64(n)}, true
	case uint8:
		return num{i: int64(n)}, true
	case float32:
		return num{f: float64(n), isFloat: true}, true
	}
	return num{}, false
}

func unsigned(u uint64) num {
	if u > math.MaxInt64 {
		return num{f: float64(u), isFloat: true}
	}
	return num{i: int64(u)}
}

// normalize turns the Go number types a plugin may return into int64 or
// float64; other values are returned as they are.
func normalize(v any) any {
	switch v.(type) {
	case int64, float64, string, bool, nil:
		return v
	}
	if n, ok := number(v); ok {
		return n.value()
	}
	return v
}

func typeError(op string, a, b any) error {
	return fmt.Errorf("cannot apply %q to %s and %s", op, typeName(a), typeName(b))
}

var errDivByZero = fmt.Errorf("division by zero")

// arith applies + - * / % to numbers. nil operands give nil. int64 stays
// int64 (checked for overflow); a float64 operand makes the result float64.
func arith(op Op, a, b any) (any, error) {
	if a == nil || b == nil {
		return nil, nil
	}
	x, ok1 := number(a)
	y, ok2 := number(b)
	if !ok1 || !ok2 {
		return nil, typeError(op.String(), a, b)
	}
	if !x.isFloat && !y.isFloat {
		return intArith(op, x.i, y.i)
	}
	return floatArith(op, x.float(), y.float())
}

func intArith(op Op, x, y int64) (any, error) {
	var r int64
	switch op {
	case OpAdd:
		r = x + y
		if (r > x) != (y > 0) {
			return nil, overflow(op, x, y)
		}
	case OpSub:
		r = x - y
		if (r < x) != (y > 0) {
			return nil, overflow(op, x, y)
		}
	case OpMul:
		if x == 0 || y == 0 {
			return int64(0), nil
		}
		r = x * y
		if r/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
			return nil, overflow(op, x, y)
		}
	case OpDiv:
		if y == 0 {
			return nil, errDivByZero
		}
		if x == math.MinInt64 && y == -1 {
			return nil, overflow(op, x, y)
		}
		r = x / y
	case OpMod:
		if y == 0 {
			return nil, errDivByZero
		}
		r = x % y
	}
	return r, nil
}

func overflow(op Op, x, y int64) error {
	return fmt.Errorf("integer overflow: %d %s %d", x, op, y)
}

func floatArith(op Op, x, y float64) (any, error) {
	switch op {
	case OpAdd:
		return x + y, nil
	case OpSub:
		return x - y, nil
	case OpMul:
		return x * y, nil
	case OpDiv:
		if y == 0 {
			return nil, errDivByZero
		}
		return x / y, nil
	case OpMod:
		if y == 0 {
			return nil, errDivByZero
		}
		return math.Mod(x, y), nil
	}
	return nil, fmt.Errorf("unknown operator %s", op)
}

func negate(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	n, ok := number(v)
	switch {
	case !ok:
		return nil, fmt.Errorf("cannot apply \"-\" to %s", typeName(v))
	case n.isFloat:
		return -n.f, nil
	case n.i == math.MinInt64:
		return nil, fmt.Errorf("integer overflow: -(%d)", n.i)
	}
	return -n.i, nil
}

// order compares a and b: numbers numerically (int64 against float64
// exactly), strings bytewise, times by instant, []byte bytewise. ok is
// false for any other pair.
func order(a, b any) (c int, ok bool) {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
		return 0, false
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y), true
		}
		return 0, false
	case []byte:
		if y, ok := b.([]byte); ok {
			return bytes.Compare(x, y), true
		}
		return 0, false
	}
	x, ok1 := number(a)
	y, ok2 := number(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	switch {
	case !x.isFloat && !y.isFloat:
		return cmp.Compare(x.i, y.i), true
	case x.isFloat && y.isFloat:
		return cmp.Compare(x.f, y.f), true
	case x.isFloat:
		return -compareIntFloat(y.i, x.f), true
	}
	return compareIntFloat(x.i, y.f), true
}

// compareIntFloat compares exactly, where converting i to float64 could
// round. NaN sorts below every number, as in cmp.Compare.
func compareIntFloat(i int64, f float64) int {
	switch {
	case math.IsNaN(f):
		return 1
	case f >= math.MaxInt64: // 2^63: above every int64
		return -1
	case f < math.MinInt64:
		return 1
	}
	t := math.Trunc(f)
	if c := cmp.Compare(i, int64(t)); c != 0 {
		return c
	}
	return cmp.Compare(0, f-t)
}

// equal is = : numbers, strings, times and bytes as in order; bools,
// maps and lists by value. Values of different types are not equal, and
// nil equals nothing.
func equal(a, b any) bool {
	if c, ok := order(a, b); ok {
		return c == 0
	}
	switch x := a.(type) {
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !(xv == nil && yv == nil || equal(xv, yv)) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !(x[i] == nil && y[i] == nil || equal(x[i], y[i])) {
				return false
			}
		}
		return true
	}
	return false
}

// compare evaluates a comparison operator. A nil operand makes it false
// (SQL's NULL, simplified to two values); = and != between different types
// are false and true; ordering them is an error.
func compare(op Op, a, b any) (any, error) {
	if a == nil || b == nil {
		return false, nil
	}
	switch op {
	case OpEq:
		return equal(a, b), nil
	case OpNe:
		return !equal(a, b), nil
	}
	c, ok := order(a, b)
	if !ok {
		return nil, typeError(op.String(), a, b)
	}
	switch op {
	case OpLt:
		return c < 0, nil
	case OpLe:
		return c <= 0, nil
	case OpGt:
		return c > 0, nil
	}
	return c >= 0, nil
}

// truth reads a logical operand: true, false, or null (isNull).
func truth(op string, v any) (val, isNull bool, err error) {
	switch v := v.(type) {
	case bool:
		return v, false, nil
	case nil:
		return false, true, nil
	}
	return false, false, fmt.Errorf("cannot apply %q to %s", op, typeName(v))
}

// member is v->name: nil for nil or a missing key.
func member(op string, v any, name string) (any, error) {
	switch m := v.(type) {
	case map[string]any:
		return m[name], nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("cannot apply %q to %s", op, typeName(v))
}

// index is v[i]: a list element, negative from the end, or a map key;
// nil when out of range or missing.
func index(v, i any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		if i == nil {
			return nil, nil
		}
		n, ok := number(i)
		if !ok || n.isFloat {
			return nil, typeError("[]", v, i)
		}
		k := n.i
		if k < 0 {
			k += int64(len(x))
		}
		if k < 0 || k >= int64(len(x)) {
			return nil, nil
		}
		return x[k], nil
	case map[string]any:
		if i == nil {
			return nil, nil
		}
		k, ok := i.(string)
		if !ok {
			return nil, typeError("[]", v, i)
		}
		return x[k], nil
	}
	return nil, fmt.Errorf("cannot apply \"[]\" to %s", typeName(v))
}
