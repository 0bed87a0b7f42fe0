package schema

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestNewDecoder(t *testing.T) {
	for _, f := range []string{"json", "JSON", "Json", "", "binary", "BINARY"} {
		if _, err := NewDecoder(f, nil); err != nil {
			t.Errorf("format %q: %v", f, err)
		}
	}
	tests := []struct {
		format string
		s      Schema
		want   string
	}{
		{"xml", nil, `unknown FORMAT "xml": want JSON or BINARY`},
		{"protobuf", nil, `unknown FORMAT "protobuf": want JSON or BINARY`},
		{"binary", Schema{{"a", scalar(Bytea)}, {"b", scalar(Bytea)}}, `FORMAT BINARY: want no columns or one BYTEA column, got 2 columns`},
		{"binary", Schema{{"img", scalar(String)}}, `FORMAT BINARY: want no columns or one BYTEA column, got "img" STRING`},
	}
	for _, tt := range tests {
		_, err := NewDecoder(tt.format, tt.s)
		if err == nil || err.Error() != tt.want {
			t.Errorf("NewDecoder(%q) err = %v, want %s", tt.format, err, tt.want)
		}
	}
}

func decodeAll(t *testing.T, d *Decoder, payload string) []map[string]any {
	t.Helper()
	rows, err := d.Decode([]byte(payload))
	if err != nil {
		t.Fatalf("decode %s: %v", payload, err)
	}
	return rows
}

func TestDecodeJSONSchemaless(t *testing.T) {
	d, _ := NewDecoder("json", nil)
	tests := []struct {
		in   string
		want []map[string]any
	}{
		{`{"temperature": 63.5, "humidity": 45, "device": "s-17", "ts": 1700000000000}`,
			[]map[string]any{{"temperature": 63.5, "humidity": int64(45), "device": "s-17", "ts": int64(1700000000000)}}},
		// The int/float rule: by value, everywhere.
		{`{"a": 3.0, "b": -0, "c": 1e3, "d": 2.5e-1, "e": -7, "f": 9007199254740991, "g": -9007199254740992}`,
			[]map[string]any{{"a": int64(3), "b": int64(0), "c": int64(1000), "d": 0.25, "e": int64(-7),
				"f": int64(1)<<53 - 1, "g": -(int64(1) << 53)}}},
		// Beyond 2^53 the digits are kept; beyond int64 it is a float.
		{`{"id": 9007199254740993, "ns": 1700000000123456789, "min": -9223372036854775808, "over": 9223372036854775808, "f": 1.5, "e": 1e20}`,
			[]map[string]any{{"id": int64(9007199254740993), "ns": int64(1700000000123456789), "min": int64(-9223372036854775808),
				"over": 9223372036854775808.0, "f": 1.5, "e": 1e20}}},
		{`{"nested": {"a": [1, 2.5, {"b": 3}, [4]], "big": [12345678901234567890, 9007199254740995]}}`,
			[]map[string]any{{"nested": map[string]any{
				"a":   []any{int64(1), 2.5, map[string]any{"b": int64(3)}, []any{int64(4)}},
				"big": []any{12345678901234567890.0, int64(9007199254740995)},
			}}}},
		{`{"id": 9007199254740993}`, []map[string]any{{"id": int64(9007199254740993)}}},
		{`{"id": -9007199254740993}`, []map[string]any{{"id": int64(-9007199254740993)}}},
		{`{"s": "x", "t": true, "n": null, "u": "\u00e9"}`, []map[string]any{{"s": "x", "t": true, "n": nil, "u": "é"}}},
		{` [ {"a": 1}, {}, {"b": [10000000000000001]} ] `,
			[]map[string]any{{"a": int64(1)}, {}, {"b": []any{int64(10000000000000001)}}}},
		{`[]`, nil},
		{"\n{}\n", []map[string]any{{}}},
	}
	for _, tt := range tests {
		got := decodeAll(t, d, tt.in)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("decode %s\n got %#v\nwant %#v", tt.in, got, tt.want)
		}
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	d, _ := NewDecoder("json", nil)
	tests := []struct {
		in   string
		want string
	}{
		{`{"a":x}`, `decode JSON: invalid character 'x' looking for beginning of value at offset 5`},
		{`xyz`, `decode JSON: invalid character 'x' looking for beginning of value at offset 0`},
		{`{"a":1`, `decode JSON: unexpected end of JSON input at offset 6`},
		{``, `decode JSON: unexpected end of JSON input at offset 0`},
		{`{"a":1} {"b":2}`, `decode JSON: invalid character '{' after top-level value at offset 8`},
		{`{"a":1e400}`, `decode JSON: number 1e400 out of range at offset 5`},
		{`[1, {"a":{"b":[1,-1e999]}}]`, `decode JSON: number -1e999 out of range at offset 17`},
		{`[{"a":1}, {"b":2}, 3]`, `decode JSON: element 2: want an object, got number`},
		{`[{}, [{}]]`, `decode JSON: element 1: want an object, got array`},
		{`[null]`, `decode JSON: element 0: want an object, got null`},
		{`"text"`, `decode JSON: want an object or an array of objects, got string`},
		{`42`, `decode JSON: want an object or an array of objects, got number`},
		{`null`, `decode JSON: want an object or an array of objects, got null`},
		{`true`, `decode JSON: want an object or an array of objects, got boolean`},
	}
	for _, tt := range tests {
		_, err := d.Decode([]byte(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("decode %q\n err %v\nwant %s", tt.in, err, tt.want)
		}
	}
}

func TestDecodeJSONSchema(t *testing.T) {
	point := structOf(Field{"lat", scalar(Float)}, Field{"lon", scalar(Float)})
	s := Schema{
		{"temperature", scalar(Float)},
		{"humidity", scalar(Bigint)},
		{"device", scalar(String)},
		{"ts", scalar(Datetime)},
		{"id", scalar(Bigint)},
		{"tags", arrayOf(scalar(String))},
		{"path", arrayOf(point)},
		{"meta", scalar(Any)},
	}
	d, err := NewDecoder("JSON", s)
	if err != nil {
		t.Fatal(err)
	}
	rows := decodeAll(t, d, `{"temperature": 63, "humidity": 45.0, "device": "s-17", "ts": 1700000000000,
		"id": 9007199254740993, "tags": ["a", "b"], "path": [{"lat": 1, "lon": 2.5, "alt": 3}],
		"meta": {"n": 1}, "undeclared": true}`)
	want := []map[string]any{{
		"temperature": 63.0,
		"humidity":    int64(45),
		"device":      "s-17",
		"ts":          time.UnixMilli(1700000000000).UTC(),
		"id":          int64(9007199254740993),
		"tags":        []any{"a", "b"},
		"path":        []any{map[string]any{"lat": 1.0, "lon": 2.5}},
		"meta":        map[string]any{"n": int64(1)},
	}}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("got  %#v\nwant %#v", rows, want)
	}

	_, err = d.Decode([]byte(`{"temperature": "abc"}`))
	if want := `field "temperature": want FLOAT, got string "abc"`; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
	_, err = d.Decode([]byte(`[{"tags": []}, {"path": [{"lat": "n"}]}]`))
	if want := `element 1: field "path"[0]."lat": want FLOAT, got string "n"`; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}

func TestDecodeIntoAllOrNothing(t *testing.T) {
	d, _ := NewDecoder("json", Schema{{"n", scalar(Bigint)}})
	emitted := 0
	err := d.DecodeInto([]byte(`[{"n": 1}, {"n": 2}, {"n": "3"}]`), func(map[string]any) error {
		emitted++
		return nil
	})
	if err == nil || emitted != 0 {
		t.Fatalf("err = %v after %d rows; want an error and no rows", err, emitted)
	}

	stop := errors.New("stop")
	err = d.DecodeInto([]byte(`[{"n": 1}, {"n": 2}]`), func(map[string]any) error {
		emitted++
		return stop
	})
	if err != stop || emitted != 1 {
		t.Fatalf("err = %v after %d rows; want emit's error after 1", err, emitted)
	}
}

func TestDecodeBinary(t *testing.T) {
	payload := []byte{0, 1, 2, 255}
	d, _ := NewDecoder("binary", nil)
	rows, err := d.Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	if want := []map[string]any{{"self": []byte{0, 1, 2, 255}}}; !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows = %#v", rows)
	}
	payload[0] = 9
	if rows[0]["self"].([]byte)[0] != 0 {
		t.Fatal("row shares the payload buffer")
	}

	d, _ = NewDecoder("Binary", Schema{{"image", scalar(Bytea)}})
	rows = decodeAll(t, d, "")
	if want := []map[string]any{{"image": []byte{}}}; !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows = %#v", rows)
	}
}
