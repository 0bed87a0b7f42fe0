package rule

import (
	"fmt"
	"time"

	"github.com/kgen-dev/kgen/engine/sql"
	"github.com/kgen-dev/kgen/engine/state"
	"github.com/kgen-dev/kgen/engine/window"
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

// decodeWindow is the inverse of encodeWindow.
func decodeWindow(v any, join bool) (window.State, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return window.State{}, fmt.Errorf("want a map, got %T", v)
	}
	f := fields{m: m}
	st := window.State{
		Kind: window.Kind(f.int("kind")), Closed: f.bool("closed"), Late: f.int("late"),
		Anchored: f.bool("anchored"), Now: f.int("now"), Seq: f.uint("seq"), Arrivals: f.uint("arrivals"),
		Seen: f.bool("seen"), MaxTs: f.int("maxTs"), Watermark: f.int("watermark"),
		Origin: f.int("origin"), EndIdx: f.int("endIdx"), End: f.int("end"), Lo: f.int("lo"),
		Open: f.bool("open"), Start: f.int("start"), Last: f.int("last"), Since: int(f.int("since")),
	}
	for i, t := range f.list("triggers") {
		n, ok := t.(int64)
		if !ok {
			return st, fmt.Errorf("trigger %d: want int64, got %T", i, t)
		}
		st.Triggers = append(st.Triggers, n)
	}
	var err error
	if st.Rows, err = decodeRows(f.list("rows"), join); err != nil {
		return st, fmt.Errorf("rows: %w", err)
	}
	if st.Pending, err = decodeRows(f.list("pending"), join); err != nil {
		return st, fmt.Errorf("pending rows: %w", err)
	}
	return st, f.err
}

func decodeRows(items []any, join bool) ([]window.TimedRow, error) {
	out := make([]window.TimedRow, len(items))
	for i, item := range items {
		l, ok := item.([]any)
		if !ok || len(l) != 3 {
			return nil, fmt.Errorf("row %d: want [ts, seq, row]", i)
		}
		ts, ok1 := l[0].(int64)
		seq, ok2 := l[1].(uint64)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("row %d: want an int64 timestamp and a uint64 number", i)
		}
		var row any
		if join {
			pair, ok := l[2].([]any)
			if !ok || len(pair) != 2 {
				return nil, fmt.Errorf("row %d: want [stream, row]", i)
			}
			stream, ok1 := pair[0].(int64)
			m, ok2 := pair[1].(map[string]any)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("row %d: want an int64 stream and a row map", i)
			}
			row = sql.JoinInput{Stream: int(stream), Row: m}
		} else {
			m, ok := l[2].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("row %d: want a row map, got %T", i, l[2])
			}
			row = m
		}
		out[i] = window.TimedRow{TS: ts, Seq: seq, Row: row}
	}
	return out, nil
}
