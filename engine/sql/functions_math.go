package sql

import (
	"errors"
	"fmt"
	"math"
)

// Math functions. Arguments arrive as int64 or float64. Integer inputs
// give integer results where the result is integral (abs, round, floor,
// ceil, mod); power and sqrt always give float64. Results that are not
// finite numbers are errors, since they cannot be encoded as JSON.
var mathFuncs = map[string]*builtin{
	"abs":   {min: 1, max: 1, params: []param{numberParam}, call: fnAbs},
	"round": {min: 1, max: 2, params: []param{numberParam, intParam}, call: fnRound},
	"floor": {min: 1, max: 1, params: []param{numberParam}, call: fnFloor},
	"ceil":  {min: 1, max: 1, params: []param{numberParam}, call: fnCeil},
	"power": {min: 2, max: 2, params: []param{numberParam}, call: fnPower},
	"sqrt":  {min: 1, max: 1, params: []param{numberParam}, call: fnSqrt},
	"mod":   {min: 2, max: 2, params: []param{numberParam}, call: fnMod},
}

func fnAbs(args []any) (any, error) {
	switch x := args[0].(type) {
	case int64:
		if x == math.MinInt64 {
			return nil, fmt.Errorf("integer overflow: abs(%d)", x)
		}
		if x < 0 {
			return -x, nil
		}
		return x, nil
	case float64:
		return math.Abs(x), nil
	}
	return nil, errors.New("unreachable")
}

// fnRound rounds half away from zero to digits decimal places (default 0;
// negative rounds to tens, hundreds, ...). An integer stays an integer.
func fnRound(args []any) (any, error) {
	digits := int64(0)
	if len(args) > 1 {
		digits = args[1].(int64)
	}
	switch x := args[0].(type) {
	case int64:
		if digits >= 0 {
			return x, nil
		}
		if digits < -18 {
			return int64(0), nil
		}
		p := int64(math.Pow10(int(-digits)))
		q, r := x/p, x%p
		if r >= p-r && r > 0 {
			q++
		} else if -r >= p+r && r < 0 {
			q--
		}
		return intArith(OpMul, q, p)
	case float64:
		return roundFloat(x, digits), nil
	}
	return nil, errors.New("unreachable")
}

func roundFloat(x float64, digits int64) float64 {
	switch {
	case digits > 330:
		return x
	case digits < -330:
		return math.Copysign(0, x)
	case digits >= 0:
		p := math.Pow10(int(digits))
		if y := x * p; !math.IsInf(y, 0) {
			return math.Round(y) / p
		}
		return x
	}
	p := math.Pow10(int(-digits))
	return math.Round(x/p) * p
}

func fnFloor(args []any) (any, error) {
	if x, ok := args[0].(float64); ok {
		return math.Floor(x), nil
	}
	return args[0], nil
}

func fnCeil(args []any) (any, error) {
	if x, ok := args[0].(float64); ok {
		return math.Ceil(x), nil
	}
	return args[0], nil
}

func fnPower(args []any) (any, error) {
	x, _ := number(args[0])
	y, _ := number(args[1])
	return finite(math.Pow(x.float(), y.float()))
}

func fnSqrt(args []any) (any, error) {
	x, _ := number(args[0])
	if x.float() < 0 {
		return nil, fmt.Errorf("argument 1: want a non-negative number, got %v", args[0])
	}
	return math.Sqrt(x.float()), nil
}

func fnMod(args []any) (any, error) { return arith(OpMod, args[0], args[1]) }

func finite(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("result %v is not a finite number", f)
	}
	return f, nil
}
