package rule

import (
	"fmt"
	"time"

	"github.com/kgen-dev/kgen/engine/state"
)

// record is a decoded checkpoint record.
type record struct {
	id     int64
	at     time.Time
	fields map[string]any
}

func decodeRecord(b []byte) (*record, error) {
	v, err := state.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a map, got %T", v)
	}
	f := fields{m: m}
	if format := f.int("format"); f.err == nil && format != checkpointFormat {
		return nil, fmt.Errorf("format %d, this engine reads %d", format, checkpointFormat)
	}
	rec := &record{id: f.int("id"), fields: m}
	if t, ok := m["time"].(time.Time); ok {
		rec.at = t
	}
	return rec, f.err
}

// fields reads typed fields of a decoded map; the first error sticks.
type fields struct {
	m   map[string]any
	err error
}

func (f *fields) get(key string) any {
	v, ok := f.m[key]
	if !ok && f.err == nil {
		f.err = fmt.Errorf("field %q missing", key)
	}
	return v
}

func (f *fields) wrong(key string, v any, want string) {
	if f.err == nil {
		f.err = fmt.Errorf("field %q: want %s, got %T", key, want, v)
	}
}

// field reads key as a T (a missing key or a nil value gives T's zero).
func field[T any](f *fields, key, want string) T {
	v := f.get(key)
	x, ok := v.(T)
	if !ok && v != nil {
		f.wrong(key, v, want)
	}
	return x
}

func (f *fields) int(key string) int64   { return field[int64](f, key, "int64") }
func (f *fields) uint(key string) uint64 { return field[uint64](f, key, "uint64") }
func (f *fields) bool(key string) bool   { return field[bool](f, key, "bool") }
func (f *fields) list(key string) []any  { return field[[]any](f, key, "list") }
