package svc

import (
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestToSQL(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	st, _ := structpb.NewStruct(map[string]any{"a": 1.0, "b": []any{"x", true, nil}})
	for _, tc := range []struct {
		name string
		m    proto.Message
		want any
	}{
		{"nil", nil, nil},
		{"empty", &emptypb.Empty{}, nil},
		{"string wrapper", wrapperspb.String("s"), "s"},
		{"int32 wrapper", wrapperspb.Int32(-3), int64(-3)},
		{"uint64 wrapper", wrapperspb.UInt64(math.MaxUint64), uint64(math.MaxUint64)},
		{"float wrapper", wrapperspb.Float(0.1), 0.1},
		{"bytes wrapper", wrapperspb.Bytes([]byte("b")), []byte("b")},
		{"bool wrapper", wrapperspb.Bool(true), true},
		{"timestamp", timestamppb.New(at), at},
		{"duration", durationpb.New(1500 * time.Millisecond), 1500 * time.Millisecond},
		{"struct", st, map[string]any{"a": 1.0, "b": []any{"x", true, nil}}},
		{"zero feature", kitchenMsg(t, "Feature", ``), map[string]any{"id": int64(0), "name": "", "score": 0.0}},
		{"kitchen", kitchenMsg(t, "Kitchen", `name:"k" blob:"raw" i32:-3 i64:4 u32:5 u64:6 f32:0.1 f64:0.25 flag:true color:GREEN `+
			`tags:{key:"a" points:{lat:1} points:{lng:2}} counts:{key:"x" value:1} places:{key:7 value:{lat:7}} `+
			`number:5 maybe:{value:"m"} at:{seconds:1767323045 nanos:6} words:"a" s32:-1 opt:0`),
			map[string]any{
				"name": "k", "blob": []byte("raw"), "i32": int64(-3), "i64": int64(4), "u32": int64(5), "u64": int64(6),
				"f32": 0.1, "f64": 0.25, "flag": true, "color": "GREEN",
				"tags": []any{map[string]any{"key": "a", "points": []any{
					map[string]any{"lat": int64(1), "lng": int64(0)}, map[string]any{"lat": int64(0), "lng": int64(2)}}}},
				"counts": map[string]any{"x": int64(1)},
				"places": map[string]any{"7": map[string]any{"lat": int64(7), "lng": int64(0)}},
				"number": int64(5), "maybe": "m", "at": at, "where": nil, "words": []any{"a"}, "s32": int64(-1), "opt": int64(0),
			}},
		{"unset optional, oneof, message and unknown enum", kitchenMsg(t, "Kitchen", `color:7`), map[string]any{
			"name": "", "blob": []byte{}, "i32": int64(0), "i64": int64(0), "u32": int64(0), "u64": int64(0),
			"f32": 0.0, "f64": 0.0, "flag": false, "color": int64(7), "tags": []any{}, "counts": map[string]any{},
			"places": map[string]any{}, "maybe": nil, "at": nil, "where": nil, "words": []any{}, "s32": int64(0), "opt": nil,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ToSQL(tc.m); !equalSQL(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func kitchenMsg(t testing.TB, name, text string) proto.Message {
	t.Helper()
	m := dynamicpb.NewMessage(msg(t, name))
	if err := prototext.Unmarshal([]byte(text), m); err != nil {
		t.Fatal(err)
	}
	return m
}
