package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Decoder turns the payloads of a stream into rows, by the stream's FORMAT
// and schema. It is safe for concurrent use.
//
// JSON: an object is one row, an array of objects is a row per element.
// Numbers come out as int64 when integral and within int64 (so 3.0 gives
// int64 3), else as float64; integers beyond 2^53 keep every digit. With
// a schema, rows then go through Schema.Convert. WithFields keeps only
// the fields a rule reads. JSON is parsed with fastjson, and with
// encoding/json when fastjson might disagree with it (fast.go).
//
// BINARY: the payload, copied, is the single row {"self": payload}, or
// {"<column>": payload} when the stream declares its one BYTEA column.
type Decoder struct {
	binary bool
	schema Schema // nil when schemaless
	column string // BINARY: the field that gets the payload

	// selective is set by WithFields: rows keep only fields, sorted.
	selective bool
	fields    []string
	states    sync.Pool // *fastState
}

// NewDecoder returns a decoder for a stream FORMAT: "json" (also the
// default for "") or "binary", in any case. A BINARY stream must be
// schemaless or declare exactly one BYTEA column.
func NewDecoder(format string, s Schema, opts ...Option) (*Decoder, error) {
	if len(s) == 0 {
		s = nil
	}
	switch strings.ToUpper(format) {
	case "", "JSON":
		d := &Decoder{schema: s}
		for _, o := range opts {
			o.apply(d)
		}
		return d, nil
	case "BINARY":
		d := &Decoder{binary: true, column: "self"}
		switch {
		case len(s) > 1:
			return nil, fmt.Errorf("FORMAT BINARY: want no columns or one BYTEA column, got %d columns", len(s))
		case len(s) == 1 && s[0].Type.Kind != Bytea:
			return nil, fmt.Errorf("FORMAT BINARY: want no columns or one BYTEA column, got %q %s", s[0].Name, s[0].Type)
		case len(s) == 1:
			d.column = s[0].Name
		}
		return d, nil
	}
	return nil, fmt.Errorf("unknown FORMAT %q: want JSON or BINARY", format)
}

// Decode returns the rows of payload.
func (d *Decoder) Decode(payload []byte) ([]map[string]any, error) {
	var rows []map[string]any
	err := d.DecodeInto(payload, func(row map[string]any) error {
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// DecodeInto calls emit with each row of payload, without collecting them:
// the fast path for the common one-object payload. It emits nothing when
// any part of payload is bad, and returns the first error of emit as is.
// Each row is a new map the callee owns.
func (d *Decoder) DecodeInto(payload []byte, emit func(map[string]any) error) error {
	if d.binary {
		return emit(map[string]any{d.column: append([]byte{}, payload...)})
	}
	if done, err := d.decodeFast(payload, emit); done {
		return err
	}
	if d.selective {
		return decodeStd(payload, d.schema, func(row map[string]any) error {
			for k := range row {
				if _, keep := slices.BinarySearch(d.fields, k); !keep {
					delete(row, k)
				}
			}
			return emit(row)
		})
	}
	return decodeStd(payload, d.schema, emit)
}

// decodeStd is DecodeInto with encoding/json, the fast path's reference:
// it takes every payload, and writes every error.
func decodeStd(payload []byte, schema Schema, emit func(map[string]any) error) error {
	// Decoding into an interface takes encoding/json's fast path for
	// generic values, nearly twice as fast as into a map[string]any.
	var v any
	err := json.Unmarshal(payload, &v)
	if err != nil {
		return jsonError(err)
	}
	switch x := v.(type) {
	case map[string]any:
		if normalizeMap(x) {
			if v, err = decodeExact(payload); err != nil {
				return err
			}
			x = v.(map[string]any)
		}
		if schema != nil {
			if err := convertFields(schema, x); err != nil {
				return err
			}
		}
		return emit(x)
	case []any:
		for i, e := range x {
			if _, ok := e.(map[string]any); !ok {
				return fmt.Errorf("decode JSON: element %d: want an object, got %s", i, jsonType(e))
			}
		}
		if normalizeList(x) {
			if v, err = decodeExact(payload); err != nil {
				return err
			}
			x = v.([]any)
		}
		if schema != nil {
			for i, e := range x {
				if err := convertFields(schema, e.(map[string]any)); err != nil {
					return errorAt(i, err)
				}
			}
		}
		for _, e := range x {
			if err := emit(e.(map[string]any)); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("decode JSON: want an object or an array of objects, got %s", jsonType(v))
}

// jsonError renders a decoding error with the offset of the offending
// byte, counted from 0.
func jsonError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		off := syn.Offset
		// encoding/json reports invalid characters after reading them.
		if strings.HasPrefix(syn.Error(), "invalid character") && off > 0 {
			off--
		}
		return fmt.Errorf("decode JSON: %w at offset %d", syn, off)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		// Only a number beyond float64 gets here: the targets are generic.
		// Offset is one past the byte after the number; report its start.
		off := typ.Offset - 1 - int64(len(strings.TrimPrefix(typ.Value, "number ")))
		return fmt.Errorf("decode JSON: %s out of range at offset %d", typ.Value, max(off, 0))
	}
	return fmt.Errorf("decode JSON: %w", err)
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

// maxExact bounds the floats that hold their integer exactly: every integer
// of smaller magnitude is exact in a float64, while 2^53 itself may be a
// rounded 2^53+1.
const maxExact = 1 << 53

// normalizeMap turns integral float64s in m, however deep, into int64. It
// reports whether it met an integral float too large to be exact, which
// means the payload must be decoded again to get its digits right.
func normalizeMap(m map[string]any) (inexact bool) {
	return normalizeAll(maps.All(m), func(k string, n int64) { m[k] = n })
}

// normalizeList is normalizeMap of a list.
func normalizeList(l []any) (inexact bool) {
	return normalizeAll(slices.All(l), func(i int, n int64) { l[i] = n })
}

// normalizeAll normalizes the values of a map or list, setting each that
// becomes an int64.
func normalizeAll[K any](all iter.Seq2[K, any], set func(K, int64)) (inexact bool) {
	for k, v := range all {
		if n, changed, in := normalize(v); changed {
			set(k, n)
		} else if in {
			inexact = true
		}
	}
	return inexact
}

// normalize is one value of normalizeMap: the int64 an integral float64
// becomes (changed), or, for a map or list, whether it held an inexact
// integral float, which is normalized in place.
func normalize(v any) (n int64, changed, inexact bool) {
	switch x := v.(type) {
	case float64:
		if i, ok := exactInt(x); ok {
			return i, true, false
		}
		return 0, false, x == math.Trunc(x)
	case map[string]any:
		return 0, false, normalizeMap(x)
	case []any:
		return 0, false, normalizeList(x)
	}
	return 0, false, false
}

func exactInt(f float64) (int64, bool) {
	if f > -maxExact && f < maxExact {
		if i := int64(f); float64(i) == f {
			return i, true
		}
	}
	return 0, false
}

// decodeExact decodes payload, already known to be valid, again with
// json.Number, for payloads with integers beyond 2^53.
func decodeExact(payload []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonError(err)
	}
	switch x := v.(type) {
	case map[string]any:
		numbersInMap(x)
	case []any:
		numbersInList(x)
	}
	return v, nil
}

func numbersInMap(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case json.Number:
			m[k] = number(x)
		case map[string]any:
			numbersInMap(x)
		case []any:
			numbersInList(x)
		}
	}
}

func numbersInList(l []any) {
	for i, v := range l {
		switch x := v.(type) {
		case json.Number:
			l[i] = number(x)
		case map[string]any:
			numbersInMap(x)
		case []any:
			numbersInList(x)
		}
	}
}

// number applies the int64-or-float64 rule to a JSON number's text.
func number(n json.Number) any {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i
	}
	f, _ := strconv.ParseFloat(string(n), 64) // valid JSON: only range errors, which give ±Inf
	if i, ok := exactInt(f); ok {
		return i
	}
	return f
}
