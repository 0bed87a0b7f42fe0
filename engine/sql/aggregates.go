package sql

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Aggregate functions run once per group. Each gets one []any per
// argument with one element per row of the group, as an sdk.Function whose
// IsAggregate is true does; a constant argument (percentile's p,
// last_value's ignoreNull) is such a column too, read as its first non-nil
// element, as eKuiper does. Every aggregate but collect and last_value
// returns NULL for an empty group, and the numeric ones skip NULLs. See
// doc.go for where they differ from eKuiper.
var aggregateFuncs = map[string]*builtin{
	"count":     {min: 1, max: 1, star: true, agg: aggCount},
	"sum":       {min: 1, max: 1, agg: aggSum},
	"avg":       {min: 1, max: 1, agg: aggAvg},
	"min":       {min: 1, max: 1, agg: func(args [][]any) (any, error) { return extreme(args[0], -1) }},
	"max":       {min: 1, max: 1, agg: func(args [][]any) (any, error) { return extreme(args[0], 1) }},
	"collect":   {min: 1, max: 1, star: true, agg: aggCollect},
	"merge_agg": {min: 1, max: 1, star: true, agg: aggMerge},
	// deduplicate(col, all) also gets the rows themselves, as an implicit
	// first column (eKuiper's parser adds a * argument).
	"deduplicate":     {min: 2, max: 2, params: []param{anyParam, boolParam}, rows: true, agg: aggDeduplicate},
	"stddev":          {min: 1, max: 1, agg: spread(false, true)},
	"stddevs":         {min: 1, max: 1, agg: spread(true, true)},
	"var":             {min: 1, max: 1, agg: spread(false, false)},
	"vars":            {min: 1, max: 1, agg: spread(true, false)},
	"median":          {min: 1, max: 1, agg: aggMedian},
	"percentile_cont": {min: 2, max: 2, params: []param{anyParam, numberParam}, check: checkFraction, agg: aggPercentileCont},
	"percentile":      {min: 2, max: 2, params: []param{anyParam, numberParam}, check: checkFraction, agg: aggPercentileCont},
	"percentile_disc": {min: 2, max: 2, params: []param{anyParam, numberParam}, check: checkFraction, agg: aggPercentileDisc},
	"last_value":      {min: 2, max: 2, params: []param{anyParam, boolParam}, agg: aggLastValue},
}

// windowFuncs give the bounds of the window a group came from, in Unix
// milliseconds; the compiler reads them from the group row (compile.go).
var windowFuncs = map[string]*builtin{
	"window_start": {min: 0, max: 0},
	"window_end":   {min: 0, max: 0},
}

// badValue says that v is not what an aggregate wants, naming the value.
func badValue(want string, v any) error {
	return fmt.Errorf("want %s, got %s", want, valueText(v))
}

// valueText is v for a message: its type and its text, cut short.
func valueText(v any) string {
	if v == nil {
		return "null"
	}
	return typeName(v) + " " + shortText(v)
}

// firstValid is the first non-nil element of col: how a constant
// argument, evaluated once per row, is read.
func firstValid(col []any) any {
	for _, v := range col {
		if v != nil {
			return v
		}
	}
	return nil
}

func aggCount(args [][]any) (any, error) {
	col := args[0]
	if len(col) == 0 {
		return nil, nil
	}
	n := int64(0)
	for _, v := range col {
		if v != nil {
			n++
		}
	}
	return n, nil
}

// total adds the numbers of col, skipping NULLs: an int64 total while
// every value is an integer, overflow an error; from the first float on,
// the exact sum of all the values (integers included) correctly rounded
// to float64, which does not depend on their order (fsum). count is the
// number of values added.
func total(col []any) (sum num, count int, err error) {
	var fs *fsum
	for _, v := range col {
		if v == nil {
			continue
		}
		n, ok := number(v)
		if !ok {
			return num{}, 0, badValue("number", v)
		}
		count++
		switch {
		case fs != nil:
			if n.isFloat {
				fs.add(n.f)
			} else {
				fs.addInt(n.i)
			}
		case n.isFloat:
			fs = &fsum{}
			fs.addInt(sum.i)
			fs.add(n.f)
		default:
			s := sum.i + n.i
			if (s > sum.i) != (n.i > 0) {
				return num{}, 0, fmt.Errorf("integer overflow: %d + %d", sum.i, n.i)
			}
			sum.i = s
		}
	}
	if fs != nil {
		f := fs.value()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return num{}, 0, fmt.Errorf("result is not a finite number: %v", f)
		}
		sum = num{f: f, isFloat: true}
	}
	return sum, count, nil
}

func aggSum(args [][]any) (any, error) {
	sum, count, err := total(args[0])
	if err != nil || count == 0 {
		return nil, err
	}
	return sum.value(), nil
}

// aggAvg divides an integer total by the count in integers, truncating
// toward zero, as eKuiper does: avg of 1 and 2 is 1.
func aggAvg(args [][]any) (any, error) {
	sum, count, err := total(args[0])
	if err != nil || count == 0 {
		return nil, err
	}
	if sum.isFloat {
		return sum.f / float64(count), nil
	}
	return sum.i / int64(count), nil
}

// extreme is min (sign -1) or max (sign 1) of numbers, strings or times,
// NULLs skipped. The first value fixes the kind; numbers compare across
// int64 and float64, and the result is float64 when any value is a float.
func extreme(col []any, sign int) (any, error) {
	var best any
	anyFloat := false
	for _, v := range col {
		if v == nil {
			continue
		}
		switch v.(type) {
		case int64, string, time.Time:
		case float64:
			anyFloat = true
		default: // other Go number types, boxed anew only here
			n, ok := number(v)
			if !ok {
				return nil, badValue("number, string or datetime", v)
			}
			v, anyFloat = n.value(), anyFloat || n.isFloat
		}
		if best == nil {
			best = v
			continue
		}
		c, ok := order(v, best)
		if !ok {
			return nil, badValue(typeName(best)+" like the first value", v)
		}
		if c*sign > 0 {
			best = v
		}
	}
	if i, ok := best.(int64); ok && anyFloat {
		return float64(i), nil
	}
	return best, nil
}

// aggCollect returns the column itself: the compiler gives each call a
// fresh one.
func aggCollect(args [][]any) (any, error) {
	if args[0] == nil {
		return []any{}, nil
	}
	return args[0], nil
}

// aggMerge is the shallow union of the maps of the column, later keys
// winning. NULLs are skipped; any other value is an error (eKuiper skips
// it silently).
func aggMerge(args [][]any) (any, error) {
	var out map[string]any
	for _, v := range args[0] {
		switch m := v.(type) {
		case nil:
		case map[string]any:
			if out == nil {
				out = make(map[string]any, len(m))
			}
			for k, x := range m {
				out[k] = x
			}
		default:
			return nil, badValue("map", v)
		}
	}
	if out == nil {
		return nil, nil
	}
	return out, nil
}

// aggDeduplicate gets the rows, the column and the all flag. With all it
// returns the rows whose column value was not seen on an earlier row;
// without, the last row when its value is new, else an empty map. Values
// are equal as for GROUP BY: by SQL =, across int64 and float64, with
// NULL a value of its own (eKuiper compares fmt's %v text, so 1 and "1"
// collide).
func aggDeduplicate(args [][]any) (any, error) {
	rows, col := args[0], args[1]
	if len(rows) == 0 {
		return nil, nil
	}
	all, ok := firstValid(args[2]).(bool)
	if !ok {
		return nil, fmt.Errorf("argument 2: %w", badValue("bool", firstValid(args[2])))
	}
	seen := make(map[string]bool, len(col))
	var out []any
	var key []byte
	for i, v := range col {
		key = appendKey(key[:0], v)
		if seen[string(key)] {
			continue
		}
		seen[string(key)] = true
		if all {
			out = append(out, rows[i])
		} else if i == len(col)-1 {
			return rows[i], nil
		}
	}
	if !all {
		return map[string]any{}, nil
	}
	return out, nil
}

// floats reads the numbers of col, NULLs skipped, as float64.
func floats(col []any) ([]float64, error) {
	out := make([]float64, 0, len(col))
	for _, v := range col {
		if v == nil {
			continue
		}
		n, ok := number(v)
		if !ok {
			return nil, badValue("number", v)
		}
		out = append(out, n.float())
	}
	return out, nil
}

// spread returns var (population), vars (sample) or their square roots,
// float64, by Welford's method. NULL without values, and for the sample
// forms with a single value (eKuiper gives NaN, which JSON cannot carry).
func spread(sample, root bool) func(args [][]any) (any, error) {
	return func(args [][]any) (any, error) {
		var n, mean, m2 float64
		for _, v := range args[0] {
			if v == nil {
				continue
			}
			x, ok := number(v)
			if !ok {
				return nil, badValue("number", v)
			}
			n++
			d := x.float() - mean
			mean += d / n
			m2 += d * (x.float() - mean)
		}
		if n == 0 || sample && n < 2 {
			return nil, nil
		}
		if sample {
			n--
		}
		r := m2 / n
		if root {
			r = math.Sqrt(r)
		}
		if math.IsInf(r, 0) || math.IsNaN(r) {
			return nil, fmt.Errorf("result is not a finite number: %v", r)
		}
		return r, nil
	}
}

// sortedNumbers reads the numbers of col, NULLs skipped, sorted;
// anyFloat tells whether one is a float.
func sortedNumbers(col []any) (ns []num, anyFloat bool, err error) {
	ns = make([]num, 0, len(col))
	for _, v := range col {
		if v == nil {
			continue
		}
		n, ok := number(v)
		if !ok {
			return nil, false, badValue("number", v)
		}
		ns = append(ns, n)
		anyFloat = anyFloat || n.isFloat
	}
	slices.SortFunc(ns, cmpNum)
	return ns, anyFloat, nil
}

// aggMedian is the middle value, or the mean of the two middle values: in
// integers (truncated) when every value is an integer, else float64.
func aggMedian(args [][]any) (any, error) {
	ns, anyFloat, err := sortedNumbers(args[0])
	if err != nil || len(ns) == 0 {
		return nil, err
	}
	k := len(ns) / 2
	if anyFloat {
		if len(ns)%2 == 1 {
			return ns[k].float(), nil
		}
		return ns[k-1].float()/2 + ns[k].float()/2, nil
	}
	if len(ns)%2 == 1 {
		return ns[k].i, nil
	}
	a, b := ns[k-1].i, ns[k].i
	if (a < 0) != (b < 0) { // a + b cannot overflow
		return (a + b) / 2, nil
	}
	return a/2 + b/2 + (a%2+b%2)/2, nil
}

var errFraction = errors.New("want a number between 0 and 1")

// fraction reads the p of a percentile, a number in [0, 1].
func fraction(v any) (float64, error) {
	n, ok := number(v)
	if !ok || n.float() < 0 || n.float() > 1 || math.IsNaN(n.float()) {
		return 0, fmt.Errorf("argument 2: %w, got %s", errFraction, valueText(v))
	}
	return n.float(), nil
}

// checkFraction checks a constant p at compile time.
func checkFraction(s site, args []code) error {
	if args[1].konst {
		if _, err := fraction(args[1].val); err != nil {
			return s.wrap(err)
		}
	}
	return nil
}

// percentile builds a percentile aggregate: pick chooses the result from
// the column's numbers, sorted, at fraction p; NULL for an empty group or
// one of NULLs only.
func percentile(pick func(ns []num, p float64) any) func(args [][]any) (any, error) {
	return func(args [][]any) (any, error) {
		if len(args[0]) == 0 {
			return nil, nil
		}
		p, err := fraction(firstValid(args[1]))
		if err != nil {
			return nil, err
		}
		ns, _, err := sortedNumbers(args[0])
		if err != nil || len(ns) == 0 {
			return nil, err
		}
		return pick(ns, p), nil
	}
}

// aggPercentileCont interpolates linearly between the values around rank
// p·(n−1), as SQL's PERCENTILE_CONT; float64. (eKuiper uses another
// definition, montanaflynn/stats' Percentile, and fails for p = 0.)
var aggPercentileCont = percentile(func(ns []num, p float64) any {
	rank := p * float64(len(ns)-1)
	lo := int(math.Floor(rank))
	if lo == len(ns)-1 {
		return ns[lo].float()
	}
	frac := rank - float64(lo)
	return ns[lo].float()*(1-frac) + ns[lo+1].float()*frac
})

// aggPercentileDisc is the first value whose cumulative share reaches p
// (nearest rank), as SQL's PERCENTILE_DISC; the value keeps its type
// (eKuiper converts it to float64).
var aggPercentileDisc = percentile(func(ns []num, p float64) any {
	return ns[max(int(math.Ceil(p*float64(len(ns))))-1, 0)].value()
})

// aggLastValue is the last value of the column, or with ignoreNull the
// last that is not NULL.
func aggLastValue(args [][]any) (any, error) {
	col := args[0]
	if len(col) == 0 {
		return nil, nil
	}
	ignoreNull, ok := firstValid(args[1]).(bool)
	if !ok {
		return nil, fmt.Errorf("argument 2: %w", badValue("bool", firstValid(args[1])))
	}
	if ignoreNull {
		for i := len(col) - 1; i >= 0; i-- {
			if col[i] != nil {
				return col[i], nil
			}
		}
		return nil, nil
	}
	return col[len(col)-1], nil
}

// cmpNum orders numbers exactly, as order does, without boxing them.
func cmpNum(a, b num) int {
	switch {
	case !a.isFloat && !b.isFloat:
		return cmp.Compare(a.i, b.i)
	case a.isFloat && b.isFloat:
		return cmp.Compare(a.f, b.f)
	case a.isFloat:
		return -compareIntFloat(b.i, a.f)
	}
	return compareIntFloat(a.i, b.f)
}
