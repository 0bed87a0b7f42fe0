package svc

import (
	"cmp"
	"math"
	"strings"
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

	"github.com/kgen-dev/kgen/internal/testutil/prototest"
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

// TestResponseToSQL: a JSON reply keeps only the keys sent, at every depth,
// typed as ToSQL types them; other replies map as ToSQL maps them.
func TestResponseToSQL(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	zeroFeature := map[string]any{"id": int64(0), "name": "", "score": 0.0}
	for _, tc := range []struct {
		name, msg, field, contentType, body string
		want                                any
		wantErr                             string
	}{
		{name: "one key of three", msg: "Feature", body: `{"name":"cat"}`, want: map[string]any{"name": "cat"}},
		{name: "no keys", msg: "Feature", body: `{}`, want: map[string]any{}},
		{name: "zero values sent", msg: "Feature", body: `{"id":0,"score":0}`, want: map[string]any{"id": int64(0), "score": 0.0}},
		{name: "64-bit int as string, integer double", msg: "Feature", body: `{"id":"9007199254740993","score":1}`,
			want: map[string]any{"id": int64(9007199254740993), "score": 1.0}},
		{name: "null is nil", msg: "Feature", body: `{"name":null,"score":2.5}`, want: map[string]any{"name": nil, "score": 2.5}},
		{name: "unknown keys dropped", msg: "Feature", body: `{"nope":{"a":1},"id":3}`, want: map[string]any{"id": int64(3)}},
		{name: "nested, repeated and map messages", msg: "Kitchen",
			body: `{"tags":[{"key":"a","points":[{"lat":1},{}]},{}],"places":{"7":{"lng":2},"8":{}},"where":{},"words":[],` +
				`"color":"GREEN","blob":"cmF3","f32":0.1,"u64":"18446744073709551615","i32":-3,"s32":-1,"flag":false,` +
				`"maybe":"m","at":"2026-01-02T03:04:05.000000006Z","number":"5","counts":{"x":"1"},"opt":"0"}`,
			want: map[string]any{
				"tags": []any{
					map[string]any{"key": "a", "points": []any{map[string]any{"lat": int64(1)}, map[string]any{}}},
					map[string]any{},
				},
				"places": map[string]any{"7": map[string]any{"lng": int64(2)}, "8": map[string]any{}},
				"where":  map[string]any{}, "words": []any{}, "color": "GREEN", "blob": []byte("raw"), "f32": 0.1,
				"u64": uint64(math.MaxUint64), "i32": int64(-3), "s32": int64(-1), "flag": false, "maybe": "m", "at": at,
				"number": int64(5), "counts": map[string]any{"x": int64(1)}, "opt": int64(0),
			}},
		{name: "enum number", msg: "Kitchen", body: `{"color":2,"text":"t"}`, want: map[string]any{"color": "GREEN", "text": "t"}},
		{name: "null message", msg: "Kitchen", body: `{"where":null,"tags":null}`, want: map[string]any{"where": nil, "tags": nil}},
		{name: "response field", msg: "Kitchen", field: "where", body: `{"lat":3}`, want: map[string]any{"where": map[string]any{"lat": int64(3)}}},
		{name: "json for text/plain", msg: "Feature", contentType: "text/plain", body: `{"id":1}`, want: map[string]any{"id": int64(1)}},
		{name: "empty body", msg: "Feature", body: ``, want: zeroFeature},
		{name: "text for wrapper", msg: "google.protobuf.Int64Value", contentType: "text/plain", body: `42`, want: int64(42)},
		{name: "json wrapper", msg: "google.protobuf.StringValue", body: `"s"`, want: "s"},
		{name: "json timestamp", msg: "google.protobuf.Timestamp", body: `"2026-01-02T03:04:05.000000006Z"`, want: at},
		{name: "text for Empty", msg: "google.protobuf.Empty", contentType: "text/plain", body: `OK`, want: nil},
		{name: "bad value", msg: "Feature", body: `{"id":"x"}`,
			// protojson varies the space after "proto:" on purpose.
			wantErr: `decode application/json response into kgen.test.Feature: proto:…(line 1:7): invalid value for int64 field id: "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := dynamicpb.NewMessage(lookup(t, tc.msg))
			call := &HTTPCall{ResponseBody: tc.field}
			got, err := call.ResponseToSQL(cmp.Or(tc.contentType, "application/json"), []byte(tc.body), out)
			if tc.wantErr != "" {
				head, tail, _ := strings.Cut(tc.wantErr, "…")
				if err == nil || !strings.HasPrefix(err.Error(), head) || !strings.HasSuffix(err.Error(), tail) {
					t.Fatalf("err = %v\nwant %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equalSQL(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

// TestResponseToSQLNames: both of protojson's names for a field are read,
// and the key is the proto name, as ToSQL names it.
func TestResponseToSQLNames(t *testing.T) {
	md := prototest.TransportMethod(t, "SayHello").Output()
	for body, want := range map[string]map[string]any{
		`{"txt":"t"}`:                      {"reply_text": "t"},
		`{"reply_text":"t","count":"3"}`:   {"reply_text": "t", "count": int64(3)},
		`{"message":"m","count":4,"x":[]}`: {"message": "m", "count": int64(4)},
	} {
		got, err := (&HTTPCall{}).ResponseToSQL("application/json", []byte(body), dynamicpb.NewMessage(md))
		if err != nil || !equalSQL(got, want) {
			t.Errorf("%s: got %#v, %v\nwant %#v", body, got, err, want)
		}
	}
	_, err := (&HTTPCall{}).ResponseToSQL("application/json", []byte(`{"txt":"a","reply_text":"b"}`), dynamicpb.NewMessage(md))
	if err == nil {
		t.Error("a field sent under both names: no error")
	}
}
