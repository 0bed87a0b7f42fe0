package schema

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func scalar(k Kind) Type { return Type{Kind: k} }

func arrayOf(t Type) Type { return Type{Kind: Array, Elem: &t} }

func structOf(fields ...Field) Type { return Type{Kind: Struct, Fields: fields} }

func TestConvertValues(t *testing.T) {
	ms := time.UnixMilli(1700000000000).UTC()
	tests := []struct {
		name string
		typ  Type
		in   any
		want any
	}{
		{"bigint int64", scalar(Bigint), int64(5), int64(5)},
		{"bigint int", scalar(Bigint), 5, int64(5)},
		{"bigint int8", scalar(Bigint), int8(-5), int64(-5)},
		{"bigint uint32", scalar(Bigint), uint32(7), int64(7)},
		{"bigint uint64", scalar(Bigint), uint64(math.MaxInt64), int64(math.MaxInt64)},
		{"bigint integral float", scalar(Bigint), 3.0, int64(3)},
		{"bigint float32", scalar(Bigint), float32(-2), int64(-2)},
		{"bigint big float", scalar(Bigint), -9223372036854775808.0, int64(math.MinInt64)},
		{"bigint json.Number", scalar(Bigint), json.Number("9007199254740993"), int64(9007199254740993)},
		{"bigint json.Number float", scalar(Bigint), json.Number("1e3"), int64(1000)},
		{"bigint nil", scalar(Bigint), nil, nil},

		{"float float64", scalar(Float), 63.5, 63.5},
		{"float int64", scalar(Float), int64(45), 45.0},
		{"float int", scalar(Float), -3, -3.0},
		{"float uint8", scalar(Float), uint8(3), 3.0},
		{"float float32", scalar(Float), float32(0.5), 0.5},
		{"float json.Number", scalar(Float), json.Number("2.5"), 2.5},

		{"string", scalar(String), "s-17", "s-17"},
		{"string empty", scalar(String), "", ""},
		{"boolean", scalar(Boolean), true, true},

		{"datetime time", scalar(Datetime), ms, ms},
		{"datetime RFC 3339", scalar(Datetime), "2024-02-29T23:59:58Z", time.Date(2024, 2, 29, 23, 59, 58, 0, time.UTC)},
		{"datetime RFC 3339 nano offset", scalar(Datetime), "2024-02-29T23:59:58.123+02:00",
			time.Date(2024, 2, 29, 23, 59, 58, 123e6, time.FixedZone("", 7200))},
		{"datetime epoch ms", scalar(Datetime), int64(1700000000000), ms},
		{"datetime epoch ms float", scalar(Datetime), 1700000000000.0, ms},
		{"datetime epoch ms fraction", scalar(Datetime), 1700000000000.25, ms.Add(250 * time.Microsecond)},
		{"datetime negative ms", scalar(Datetime), -1.5, time.Unix(0, -1500000).UTC()},
		{"datetime json.Number", scalar(Datetime), json.Number("1700000000000"), ms},

		{"bytea bytes", scalar(Bytea), []byte{1, 2}, []byte{1, 2}},
		{"bytea base64", scalar(Bytea), "AQL/", []byte{1, 2, 255}},
		{"bytea empty base64", scalar(Bytea), "", []byte{}},

		{"any", scalar(Any), struct{}{}, struct{}{}},
		{"array", arrayOf(scalar(Float)), []any{int64(1), 2.5, nil}, []any{1.0, 2.5, nil}},
		{"array untyped", Type{Kind: Array}, []any{"a", int64(1)}, []any{"a", int64(1)}},
		{"array of arrays", arrayOf(arrayOf(scalar(Bigint))), []any{[]any{1.0}, []any{}}, []any{[]any{int64(1)}, []any{}}},
		{"struct", structOf(Field{"lat", scalar(Float)}, Field{"n", scalar(Bigint)}),
			map[string]any{"lat": int64(1), "n": 2.0, "extra": "x"},
			map[string]any{"lat": 1.0, "n": int64(2)}},
		{"struct untyped", Type{Kind: Struct}, map[string]any{"x": 1.5}, map[string]any{"x": 1.5}},
		{"array of struct", arrayOf(structOf(Field{"x", scalar(Bigint)})),
			[]any{map[string]any{"x": 1.0, "y": 2}, map[string]any{}},
			[]any{map[string]any{"x": int64(1)}, map[string]any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := map[string]any{"c": tt.in}
			if err := (Schema{{"c", tt.typ}}).Convert(row); err != nil {
				t.Fatal(err)
			}
			got := row["c"]
			if want, ok := tt.want.(time.Time); ok {
				gt, ok := got.(time.Time)
				_, wo := want.Zone()
				_, goff := gt.Zone()
				if !ok || !gt.Equal(want) || wo != goff {
					t.Fatalf("got %#v, want %v", got, want)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v (%T), want %#v (%T)", got, got, tt.want, tt.want)
			}
		})
	}
}

func TestConvertErrors(t *testing.T) {
	point := structOf(Field{"x", scalar(Float)}, Field{"y", scalar(Float)})
	tests := []struct {
		name string
		typ  Type
		in   any
		want string
	}{
		{"bigint string", scalar(Bigint), "5", `field "c": want BIGINT, got string "5"`},
		{"bigint fraction", scalar(Bigint), 3.5, `field "c": want BIGINT, got float64 3.5`},
		{"bigint too big", scalar(Bigint), 1e19, `field "c": want BIGINT, got float64 1e+19`},
		{"bigint 2^63", scalar(Bigint), 9223372036854775808.0, `field "c": want BIGINT, got float64 9.223372036854776e+18`},
		{"bigint uint64", scalar(Bigint), uint64(math.MaxUint64), `field "c": want BIGINT, got uint64 18446744073709551615`},
		{"bigint NaN", scalar(Bigint), math.NaN(), `field "c": want BIGINT, got float64 NaN`},
		{"bigint bool", scalar(Bigint), true, `field "c": want BIGINT, got bool true`},
		{"bigint json.Number", scalar(Bigint), json.Number("1.5"), `field "c": want BIGINT, got number 1.5`},
		{"float string", scalar(Float), "abc", `field "c": want FLOAT, got string "abc"`},
		{"float bool", scalar(Float), false, `field "c": want FLOAT, got bool false`},
		{"string int", scalar(String), int64(5), `field "c": want STRING, got int64 5`},
		{"string float", scalar(String), 2.5, `field "c": want STRING, got float64 2.5`},
		{"string bytes", scalar(String), []byte("x"), `field "c": want STRING, got []byte`},
		{"string object", scalar(String), map[string]any{}, `field "c": want STRING, got object`},
		{"boolean string", scalar(Boolean), "true", `field "c": want BOOLEAN, got string "true"`},
		{"boolean int", scalar(Boolean), int64(1), `field "c": want BOOLEAN, got int64 1`},
		{"datetime bad string", scalar(Datetime), "yesterday", `field "c": want DATETIME (RFC 3339), got string "yesterday"`},
		{"datetime bool", scalar(Datetime), true, `field "c": want DATETIME, got bool true`},
		{"datetime inf", scalar(Datetime), math.Inf(1), `field "c": want DATETIME, got float64 +Inf`},
		{"bytea bad base64", scalar(Bytea), "!!", `field "c": want BYTEA (base64), got string "!!"`},
		{"bytea url base64", scalar(Bytea), "-_8", `field "c": want BYTEA (base64), got string "-_8"`},
		{"bytea number", scalar(Bytea), int64(1), `field "c": want BYTEA, got int64 1`},
		{"array not array", arrayOf(scalar(String)), "a", `field "c": want ARRAY(STRING), got string "a"`},
		{"array element", arrayOf(scalar(String)), []any{"a", "b", int64(5)}, `field "c"[2]: want STRING, got int64 5`},
		{"array nested", arrayOf(arrayOf(scalar(Bigint))), []any{[]any{}, []any{1.0, 1.5}}, `field "c"[1][1]: want BIGINT, got float64 1.5`},
		{"struct not object", point, []any{}, `field "c": want STRUCT(x FLOAT, y FLOAT), got array`},
		{"struct field", point, map[string]any{"x": "1"}, `field "c.x": want FLOAT, got string "1"`},
		{"struct in struct", structOf(Field{"loc", point}), map[string]any{"loc": map[string]any{"y": true}},
			`field "c.loc.y": want FLOAT, got bool true`},
		{"array of struct", arrayOf(point), []any{map[string]any{}, map[string]any{"x": "a"}},
			`field "c"[1]."x": want FLOAT, got string "a"`},
		{"deep", structOf(Field{"pts", arrayOf(structOf(Field{"a", structOf(Field{"b", scalar(Boolean)})}))}),
			map[string]any{"pts": []any{map[string]any{"a": map[string]any{"b": 0.0}}}},
			`field "c.pts"[0]."a.b": want BOOLEAN, got float64 0`},
		{"long string", scalar(Bigint), strings.Repeat("é", 50), `field "c": want BIGINT, got string "` + strings.Repeat("é", 40) + `…"`},
		{"time", scalar(Bigint), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), `field "c": want BIGINT, got time.Time 2024-01-02T03:04:05Z`},
		{"other type", scalar(String), struct{ A int }{}, `field "c": want STRING, got struct { A int }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (Schema{{"c", tt.typ}}).Convert(map[string]any{"c": tt.in})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}

func TestConvertRow(t *testing.T) {
	s := Schema{
		{"temperature", scalar(Float)},
		{"humidity", scalar(Bigint)},
		{"device", scalar(String)},
		{"absent", scalar(String)},
	}
	row := map[string]any{"temperature": int64(63), "humidity": 45.0, "device": "s-17", "extra": 1, "Device": "x"}
	if err := s.Convert(row); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"temperature": 63.0, "humidity": int64(45), "device": "s-17"}
	if !reflect.DeepEqual(row, want) {
		t.Fatalf("row = %#v, want %#v", row, want)
	}
}

func TestConvertSchemaless(t *testing.T) {
	for _, s := range []Schema{nil, {}} {
		row := map[string]any{"a": "x", "b": 1.5}
		if err := s.Convert(row); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(row, map[string]any{"a": "x", "b": 1.5}) {
			t.Fatalf("schemaless convert changed the row: %#v", row)
		}
	}
	if err := Schema(nil).Convert(nil); err != nil {
		t.Fatal(err)
	}
}

func TestConvertNoAllocs(t *testing.T) {
	s := Schema{{"t", scalar(Float)}, {"n", scalar(Bigint)}, {"s", scalar(String)}, {"tags", arrayOf(scalar(String))}}
	row := map[string]any{"t": 63.5, "n": int64(1700000000000), "s": "x", "tags": []any{"a"}}
	if n := testing.AllocsPerRun(100, func() {
		if err := s.Convert(row); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("converting values of the right type allocates %v times", n)
	}
}
