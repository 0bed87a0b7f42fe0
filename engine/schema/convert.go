package schema

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Convert checks the values of row against the declared column types and
// converts them in place. A schema without columns (nil or empty) is
// schemaless: Convert does nothing.
//
// Like eKuiper, fields the schema doesn't declare are removed from row, at
// the top level and inside STRUCT values; declared columns missing from
// row stay missing (NULL in SQL), and a nil value passes for every type.
// ANY, ARRAY() and STRUCT() without fields accept any value unchanged.
//
// The checks are strict: only the conversions below are made, anything
// else is an error naming the field, the wanted type and the value got,
// as in `field "temperature": want FLOAT, got string "abc"`.
//
//   - BIGINT (int64): any Go integer that fits, a float with no fraction
//     (3.0, not 3.5), a json.Number integer. Strings are refused.
//   - FLOAT (float64): any Go integer or float, a json.Number.
//   - STRING: a string only; numbers are refused.
//   - BOOLEAN: a bool only.
//   - DATETIME (time.Time): a time.Time, an RFC 3339 string (its offset is
//     kept), or a number of milliseconds since the Unix epoch (in UTC).
//   - BYTEA ([]byte): a []byte, or a string in standard base64.
//   - ARRAY(t) ([]any): a []any whose elements convert to t; errors name the
//     index, as in `field "tags"[2]`. Elements are converted in place.
//   - STRUCT(...) (map[string]any): a map[string]any converted like a row;
//     errors name the path, as in `field "loc.lat"`.
func (s Schema) Convert(row map[string]any) error {
	if len(s) == 0 {
		return nil
	}
	if err := convertFields(s, row); err != nil {
		return err
	}
	return nil
}

// convertFields converts the fields of row (a row or a STRUCT value) and
// drops undeclared ones.
func convertFields(fields []Field, row map[string]any) *convError {
	matched := 0
	for i := range fields {
		f := &fields[i]
		v, ok := row[f.Name]
		if !ok {
			continue
		}
		matched++
		c, changed, err := convert(&f.Type, v)
		if err != nil {
			return err.at(pathSeg{name: f.Name})
		}
		if changed {
			row[f.Name] = c
		}
	}
	if matched < len(row) {
		for k := range row {
			if !declared(fields, k) {
				delete(row, k)
			}
		}
	}
	return nil
}

func declared(fields []Field, name string) bool {
	for i := range fields {
		if fields[i].Name == name {
			return true
		}
	}
	return false
}

// convert returns v as type t, and whether that is a different value. An
// unchanged v is returned as is: boxing it again would allocate.
func convert(t *Type, v any) (any, bool, *convError) {
	if v == nil {
		return nil, false, nil
	}
	switch t.Kind {
	case Any:
		return v, false, nil
	case Bigint:
		if _, ok := v.(int64); ok {
			return v, false, nil
		}
		if i, ok := toInt64(v); ok {
			return i, true, nil
		}
	case Float:
		if _, ok := v.(float64); ok {
			return v, false, nil
		}
		if f, ok := toFloat64(v); ok {
			return f, true, nil
		}
	case String:
		if _, ok := v.(string); ok {
			return v, false, nil
		}
	case Boolean:
		if _, ok := v.(bool); ok {
			return v, false, nil
		}
	case Datetime:
		switch x := v.(type) {
		case time.Time:
			return v, false, nil
		case string:
			if tm, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return tm, true, nil
			}
			return nil, false, &convError{want: t, got: v, hint: " (RFC 3339)"}
		}
		if tm, ok := epochMillis(v); ok {
			return tm, true, nil
		}
	case Bytea:
		switch x := v.(type) {
		case []byte:
			return v, false, nil
		case string:
			if b, err := base64.StdEncoding.DecodeString(x); err == nil {
				return b, true, nil
			}
			return nil, false, &convError{want: t, got: v, hint: " (base64)"}
		}
	case Array:
		x, ok := v.([]any)
		if !ok {
			break
		}
		if t.Elem == nil {
			return v, false, nil
		}
		for i, e := range x {
			c, changed, err := convert(t.Elem, e)
			if err != nil {
				return nil, false, err.at(pathSeg{index: i, isIndex: true})
			}
			if changed {
				x[i] = c
			}
		}
		return v, false, nil
	case Struct:
		x, ok := v.(map[string]any)
		if !ok {
			break
		}
		if len(t.Fields) > 0 {
			if err := convertFields(t.Fields, x); err != nil {
				return nil, false, err
			}
		}
		return v, false, nil
	}
	return nil, false, &convError{want: t, got: v}
}

// toInt64 converts integers that fit and floats without a fraction.
func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint:
		return int64(x), uint64(x) <= math.MaxInt64
	case uint64:
		return int64(x), x <= math.MaxInt64
	case uintptr:
		return int64(x), uint64(x) <= math.MaxInt64
	case float64:
		return floatToInt64(x)
	case float32:
		return floatToInt64(float64(x))
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i, true
		}
		if f, err := x.Float64(); err == nil {
			return floatToInt64(f)
		}
	}
	return 0, false
}

func floatToInt64(f float64) (int64, bool) {
	// 2^63 is exact as a float64; every float below it converts.
	if f >= -(1<<63) && f < 1<<63 && f == math.Trunc(f) {
		return int64(f), true
	}
	return 0, false
}

func toFloat64(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uintptr:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// epochMillis converts a number of milliseconds since the Unix epoch.
func epochMillis(v any) (time.Time, bool) {
	if _, isFloat := v.(float64); !isFloat {
		if ms, ok := toInt64(v); ok {
			return time.UnixMilli(ms).UTC(), true
		}
	}
	f, ok := toFloat64(v)
	if !ok || math.IsNaN(f) || f < -(1<<63) || f >= 1<<63 {
		return time.Time{}, false
	}
	ms := math.Floor(f)
	ns := time.Duration(math.Round((f - ms) * 1e6))
	return time.UnixMilli(int64(ms)).Add(ns).UTC(), true
}

// convError is a value that doesn't convert. Its path is built on the way
// out of the recursion, so conversions that succeed allocate nothing for
// it.
type convError struct {
	path []pathSeg // innermost first
	want *Type
	got  any
	hint string // how a string should look, e.g. " (base64)"
}

type pathSeg struct {
	name    string
	index   int
	isIndex bool
}

func (e *convError) at(s pathSeg) *convError {
	e.path = append(e.path, s)
	return e
}

// Error renders the path with runs of names quoted together and indexes
// outside the quotes: `field "loc.lat"`, `field "tags"[2]`,
// `field "points"[1]."x"`.
func (e *convError) Error() string {
	var b strings.Builder
	b.WriteString("field ")
	var names []string
	flush := func() {
		if len(names) > 0 {
			b.WriteString(strconv.Quote(strings.Join(names, ".")))
			names = names[:0]
		}
	}
	afterIndex := false
	for i := len(e.path) - 1; i >= 0; i-- {
		s := e.path[i]
		if s.isIndex {
			flush()
			fmt.Fprintf(&b, "[%d]", s.index)
			afterIndex = true
			continue
		}
		if afterIndex && len(names) == 0 {
			b.WriteByte('.')
		}
		names = append(names, s.name)
	}
	flush()
	fmt.Fprintf(&b, ": want %s%s, got %s", e.want, e.hint, describe(e.got))
	return b.String()
}

// describe names a value's type, with the value when it is short.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if utf8.RuneCountInString(x) > 40 {
			x = string([]rune(x)[:40]) + "…"
		}
		return "string " + strconv.Quote(x)
	case float64:
		return "float64 " + strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return "float32 " + strconv.FormatFloat(float64(x), 'g', -1, 32)
	case json.Number:
		return "number " + string(x)
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case []byte:
		return "[]byte"
	case time.Time:
		return "time.Time " + x.Format(time.RFC3339Nano)
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr:
		return fmt.Sprintf("%T %v", v, v)
	}
	return fmt.Sprintf("%T", v)
}
