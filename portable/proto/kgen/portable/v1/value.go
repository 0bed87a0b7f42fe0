package portablev1

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// ToValue converts a SQL value (nil, bool, any integer, float32/64,
// string, []byte, []any, map[string]any) to a Value.
func ToValue(v any) (*Value, error) {
	switch v := v.(type) {
	case nil:
		return &Value{}, nil
	case bool:
		return &Value{Kind: &Value_BoolValue{v}}, nil
	case int:
		return intValue(int64(v)), nil
	case int8:
		return intValue(int64(v)), nil
	case int16:
		return intValue(int64(v)), nil
	case int32:
		return intValue(int64(v)), nil
	case int64:
		return intValue(v), nil
	case uint:
		return uintValue(uint64(v))
	case uint8:
		return intValue(int64(v)), nil
	case uint16:
		return intValue(int64(v)), nil
	case uint32:
		return intValue(int64(v)), nil
	case uint64:
		return uintValue(v)
	case float32:
		return &Value{Kind: &Value_FloatValue{float64(v)}}, nil
	case float64:
		return &Value{Kind: &Value_FloatValue{v}}, nil
	case string:
		return &Value{Kind: &Value_StringValue{v}}, nil
	case []byte:
		return &Value{Kind: &Value_BytesValue{v}}, nil
	case []any:
		l := &ListValue{Values: make([]*Value, len(v))}
		for i, e := range v {
			x, err := ToValue(e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			l.Values[i] = x
		}
		return &Value{Kind: &Value_ListValue{l}}, nil
	case []map[string]any:
		l := make([]any, len(v))
		for i, m := range v {
			l[i] = m
		}
		return ToValue(l)
	case map[string]any:
		m := &MapValue{Fields: make(map[string]*Value, len(v))}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			x, err := ToValue(v[k])
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			m.Fields[k] = x
		}
		return &Value{Kind: &Value_MapValue{m}}, nil
	}
	return nil, fmt.Errorf("unsupported value of type %T", v)
}

func intValue(n int64) *Value { return &Value{Kind: &Value_IntValue{n}} }

func uintValue(n uint64) (*Value, error) {
	if n > math.MaxInt64 {
		return nil, fmt.Errorf("unsigned integer %d overflows int64", n)
	}
	return intValue(int64(n)), nil
}

// FromValue converts v back: NULL is nil, integers are int64, floats
// float64, lists []any and maps map[string]any.
func FromValue(v *Value) any {
	switch k := v.GetKind().(type) {
	case *Value_BoolValue:
		return k.BoolValue
	case *Value_IntValue:
		return k.IntValue
	case *Value_FloatValue:
		return k.FloatValue
	case *Value_StringValue:
		return k.StringValue
	case *Value_BytesValue:
		return k.BytesValue
	case *Value_ListValue:
		out := make([]any, len(k.ListValue.GetValues()))
		for i, e := range k.ListValue.GetValues() {
			out[i] = FromValue(e)
		}
		return out
	case *Value_MapValue:
		out := make(map[string]any, len(k.MapValue.GetFields()))
		for key, e := range k.MapValue.GetFields() {
			out[key] = FromValue(e)
		}
		return out
	}
	return nil
}
