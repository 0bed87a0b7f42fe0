package sql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Conversion, JSON, NULL handling and generators.
var otherFuncs = map[string]*builtin{
	"cast":       {min: 2, max: 2, params: []param{anyParam, stringParam}, compile: compileCast},
	"to_json":    {min: 1, max: 1, nullSafe: true, call: func(args []any) (any, error) { return toJSON(args[0]) }},
	"parse_json": {min: 1, max: 1, call: fnParseJSON},
	"isnull":     {min: 1, max: 1, nullSafe: true, call: func(args []any) (any, error) { return args[0] == nil, nil }},
	"coalesce":   {min: 1, max: -1, nullSafe: true, compile: compileCoalesce},
	"newuuid":    {min: 0, max: 0, volatile: true, call: func([]any) (any, error) { return uuid.NewString(), nil }},
	"now":        {min: 0, max: 0, volatile: true, call: func([]any) (any, error) { return time.Now(), nil }},
}

// castTypes are the targets of cast(x, "type"), any case.
var castTypes = map[string]func(any) (any, error){
	"bigint":   castBigint,
	"float":    castFloat,
	"string":   func(v any) (any, error) { return text(v) },
	"boolean":  castBoolean,
	"datetime": castDatetime,
	"bytea":    castBytea,
}

// compileCast needs the type as a string constant, so that it is checked
// once and the conversion is chosen once.
func compileCast(s site, args []code) (code, error) {
	t, ok := args[1].val.(string)
	if !args[1].konst || !ok {
		return code{}, s.errorf(`argument 2: want a string constant naming a type ("bigint", "float", "string", "boolean", "datetime" or "bytea")`)
	}
	conv, ok := castTypes[strings.ToLower(t)]
	if !ok {
		return code{}, s.errorf(`argument 2: unknown type %q: want "bigint", "float", "string", "boolean", "datetime" or "bytea"`, t)
	}
	target, xe := strings.ToLower(t), args[0].eval
	return fold(func(row map[string]any) (any, error) {
		v, err := xe(row)
		if err != nil || v == nil {
			return nil, err
		}
		out, err := conv(v)
		if err != nil {
			return nil, s.errorf("cannot cast %s %s to %s: %v", typeName(v), shortText(v), target, err)
		}
		return out, nil
	}, args[0])
}

var errNoConversion = errors.New("no conversion")

// shortText is v for a message, cut to a readable length.
func shortText(v any) string {
	s, err := text(v)
	if err != nil {
		s = fmt.Sprint(v)
	}
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return strconv.Quote(s)
}

func castBigint(v any) (any, error) {
	switch x := v.(type) {
	case string:
		t := strings.TrimSpace(x)
		if i, err := strconv.ParseInt(t, 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return nil, errors.New("not a number")
		}
		return floatToInt(f)
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case time.Time:
		return x.UnixMilli(), nil
	}
	if n, ok := number(v); ok {
		if n.isFloat {
			return floatToInt(n.f)
		}
		return n.i, nil
	}
	return nil, errNoConversion
}

// floatToInt truncates toward zero.
func floatToInt(f float64) (any, error) {
	if math.IsNaN(f) || f >= math.MaxInt64 || f < math.MinInt64 {
		return nil, errors.New("out of range")
	}
	return int64(f), nil
}

func castFloat(v any) (any, error) {
	switch x := v.(type) {
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, errors.New("not a number")
		}
		return f, nil
	case bool:
		if x {
			return 1.0, nil
		}
		return 0.0, nil
	case time.Time:
		return float64(x.UnixMilli()), nil
	}
	if n, ok := number(v); ok {
		return n.float(), nil
	}
	return nil, errNoConversion
}

func castBoolean(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return nil, errors.New("not a boolean")
		}
		return b, nil
	}
	if n, ok := number(v); ok {
		return n.float() != 0, nil
	}
	return nil, errNoConversion
}

// datetimeLayouts are the string forms cast(x, "datetime") reads.
var datetimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05.999999999", "2006-01-02"}

// castDatetime reads a time, a number of milliseconds since the Unix epoch,
// or a string in RFC 3339 or "2006-01-02 15:04:05" (UTC) form.
func castDatetime(v any) (any, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		for _, l := range datetimeLayouts {
			if t, err := time.Parse(l, strings.TrimSpace(x)); err == nil {
				return t, nil
			}
		}
		return nil, errors.New("not a time")
	}
	if n, ok := number(v); ok {
		if n.isFloat {
			// Milliseconds to microseconds must fit an int64.
			if math.IsNaN(n.f) || math.Abs(n.f) > math.MaxInt64/1000 {
				return nil, errors.New("out of range")
			}
			return time.UnixMicro(int64(n.f * 1000)), nil
		}
		return time.UnixMilli(n.i), nil
	}
	return nil, errNoConversion
}

func castBytea(v any) (any, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	return nil, errNoConversion
}

// toJSON encodes v as compact JSON without HTML escaping. nil is "null".
func toJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// fnParseJSON decodes a string or bytes. A number written without a
// fraction or exponent that fits becomes int64, any other float64.
func fnParseJSON(args []any) (any, error) {
	var data []byte
	switch x := args[0].(type) {
	case string:
		data = []byte(x)
	case []byte:
		data = x
	default:
		return nil, fmt.Errorf("argument 1: want string or []byte, got %s", typeName(x))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return nil, errors.New("invalid JSON: data after the value")
	}
	return fromJSONNumbers(v)
}

func fromJSONNumbers(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("invalid JSON: number %s out of range", x)
		}
		return f, nil
	case map[string]any:
		for k, e := range x {
			var err error
			if x[k], err = fromJSONNumbers(e); err != nil {
				return nil, err
			}
		}
	case []any:
		for i, e := range x {
			var err error
			if x[i], err = fromJSONNumbers(e); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// compileCoalesce evaluates its arguments in order and stops at the first
// that is not NULL.
func compileCoalesce(_ site, args []code) (code, error) {
	fns := evals(args)
	return fold(func(row map[string]any) (any, error) {
		for _, f := range fns {
			v, err := f(row)
			if err != nil || v != nil {
				return v, err
			}
		}
		return nil, nil
	}, args...)
}
