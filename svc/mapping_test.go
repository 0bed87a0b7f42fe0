package svc

import (
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

func TestBuildRequest(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, tc := range []struct {
		name string
		msg  string
		args []any
		want string // prototext of the request
	}{
		{"empty", "google.protobuf.Empty", nil, ``},
		{"one field fill", "FeatureRequest", []any{int64(7)}, `id:7`},
		{"one field from integral float", "FeatureRequest", []any{float64(7)}, `id:7`},
		{"unfold by name", "FeatureRequest", []any{map[string]any{"id": int64(3), "other": "x"}}, `id:3`},
		{"positional by declaration order", "Feature", []any{int64(1), "a", 2.5}, `id:1 name:"a" score:2.5`},
		{"int64 into double", "Feature", []any{int64(1), "a", int64(2)}, `id:1 name:"a" score:2`},
		{"unfold row", "Feature", []any{map[string]any{"name": "n", "score": 1.5, "ts": 1}}, `name:"n" score:1.5`},
		{"nil skips", "Feature", []any{nil, "a", nil}, `name:"a"`},
		{"one-field message from map", "Shape", []any{map[string]any{"lat": int64(1), "lng": int64(2)}}, `point:{lat:1 lng:2}`},
		{"one-field message unfolded", "Shape", []any{map[string]any{"point": map[string]any{"lat": int64(1)}}}, `point:{lat:1}`},
		{"wrapper from bare value", "google.protobuf.StringValue", []any{"hi"}, `value:"hi"`},
		{"bytes value from self", "google.protobuf.BytesValue", []any{[]byte{1, 2}}, `value:"\x01\x02"`},
		{"kitchen", "Kitchen", []any{map[string]any{
			"name": "k", "blob": "raw", "i32": int64(-3), "i64": int64(math.MaxInt64), "u32": int64(4),
			"u64": uint64(math.MaxUint64), "f32": 0.5, "f64": int64(9), "flag": true, "color": "GREEN",
			"tags":   []any{map[string]any{"key": "a", "points": []any{map[string]any{"lat": int64(1)}, map[string]any{"lng": int64(2)}}}},
			"counts": map[string]any{"x": int64(1), "y": int64(2)},
			"places": map[string]any{"7": map[string]any{"lat": int64(7)}},
			"number": int64(5), "maybe": "m", "at": at, "where": map[string]any{"lat": int64(1)},
			"words": []string{"a", "b"}, "s32": int64(-1), "opt": int64(0),
		}}, `name:"k" blob:"raw" i32:-3 i64:9223372036854775807 u32:4 u64:18446744073709551615 f32:0.5 f64:9 flag:true color:GREEN ` +
			`tags:{key:"a" points:{lat:1} points:{lng:2}} counts:{key:"x" value:1} counts:{key:"y" value:2} places:{key:7 value:{lat:7}} ` +
			`number:5 maybe:{value:"m"} at:{seconds:1767323045 nanos:6} where:{lat:1} words:"a" words:"b" s32:-1 opt:0`},
		{"enum by number, timestamp from RFC 3339, json name", "Kitchen", []any{map[string]any{
			"color": int64(1), "at": "2026-01-02T03:04:05Z", "text": "t"}}, `color:RED text:"t" at:{seconds:1767323045}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := lookup(t, tc.msg)
			got, err := BuildRequest("f", md, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			want := dynamicpb.NewMessage(md)
			if err := prototext.Unmarshal([]byte(tc.want), want); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Errorf("got  %v\nwant %v", prototext.Format(got), prototext.Format(want))
			}
		})
	}
}

func TestBuildRequestErrors(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		args []any
		want string
	}{
		{"Feature", nil, `function "f": want 3 arguments (id, name, score) or one map, got no arguments`},
		{"Feature", []any{int64(1)}, `function "f": want 3 arguments (id, name, score) or one map, got 1 argument`},
		{"Feature", []any{int64(1), "a"}, `function "f": want 3 arguments (id, name, score) or one map, got 2 arguments`},
		{"Feature", []any{map[string]any{"x": 1}}, `function "f": map argument has none of the fields (id, name, score)`},
		{"google.protobuf.Empty", []any{int64(1)}, `function "f": want no arguments, got 1 argument`},
		{"FeatureRequest", []any{int64(1), int64(2)}, `function "f": want 1 argument (id), got 2 arguments`},
		{"FeatureRequest", []any{"x"}, `function "f": field "id": want int64, got string "x"`},
		{"FeatureRequest", []any{1.5}, `function "f": field "id": want int64, got float64 1.5`},
		{"FeatureRequest", []any{1e30}, `function "f": field "id": want int64, got float64 1e+30 (out of range)`},
		{"FeatureRequest", []any{map[string]any{"id": true}}, `function "f": field "id": want int64, got bool true`},
		{"Feature", []any{int64(1), int64(2), 1.0}, `function "f": field "name": want string, got int64 2`},
		{"Feature", []any{int64(1), "a", "b"}, `function "f": field "score": want double, got string "b"`},
		{"Kitchen", []any{map[string]any{"i32": int64(1 << 40)}}, `function "f": field "i32": want int32, got int64 1099511627776 (out of range)`},
		{"Kitchen", []any{map[string]any{"u32": int64(-1)}}, `function "f": field "u32": want uint32, got int64 -1 (out of range)`},
		{"Kitchen", []any{map[string]any{"u64": int64(-1)}}, `function "f": field "u64": want uint64, got int64 -1 (out of range)`},
		{"Kitchen", []any{map[string]any{"f32": 1e300}}, `function "f": field "f32": want float, got float64 1e+300 (out of range)`},
		{"Kitchen", []any{map[string]any{"flag": "true"}}, `function "f": field "flag": want bool, got string "true"`},
		{"Kitchen", []any{map[string]any{"blob": int64(1)}}, `function "f": field "blob": want bytes, got int64 1`},
		{"Kitchen", []any{map[string]any{"name": []byte{0xff}}}, `function "f": field "name": want string, got bytes (1 bytes) (not UTF-8)`},
		{"Kitchen", []any{map[string]any{"color": "PINK"}}, `function "f": field "color": want enum kgen.test.Color, got string "PINK" (no such value)`},
		{"Kitchen", []any{map[string]any{"color": int64(9)}}, `function "f": field "color": want enum kgen.test.Color, got int64 9 (no such value)`},
		{"Kitchen", []any{map[string]any{"color": true}}, `function "f": field "color": want enum kgen.test.Color, got bool true`},
		{"Kitchen", []any{map[string]any{"where": "here"}}, `function "f": field "where": want kgen.test.common.Point, got string "here"`},
		{"Kitchen", []any{map[string]any{"where": map[string]any{"lat": "n"}}}, `function "f": field "where.lat": want int32, got string "n"`},
		{"Kitchen", []any{map[string]any{"tags": "a"}}, `function "f": field "tags": want repeated kgen.test.Tag, got string "a"`},
		{"Kitchen", []any{map[string]any{"tags": []any{nil}}}, `function "f": field "tags[0]": want kgen.test.Tag, got null`},
		{"Kitchen", []any{map[string]any{"tags": []any{map[string]any{"points": []any{map[string]any{"lng": 1.5}}}}}}, `function "f": field "tags[0].points[0].lng": want int32, got float64 1.5`},
		{"Kitchen", []any{map[string]any{"counts": []any{}}}, `function "f": field "counts": want map<string, int64>, got array`},
		{"Kitchen", []any{map[string]any{"counts": map[string]any{"a": "b"}}}, `function "f": field "counts[\"a\"]": want int64, got string "b"`},
		{"Kitchen", []any{map[string]any{"places": map[string]any{"x": map[string]any{}}}}, `function "f": field "places[\"x\"]": map key: want int32, got "x"`},
		{"Kitchen", []any{map[string]any{"text": "a", "number": int64(1)}}, `function "f": field "number": oneof "choice" already set by "text"`},
		{"Kitchen", []any{map[string]any{"maybe": int64(1)}}, `function "f": field "maybe": want string, got int64 1`},
		{"Kitchen", []any{map[string]any{"at": "yesterday"}}, `function "f": field "at": want google.protobuf.Timestamp, got string "yesterday" (not RFC 3339)`},
		{"Kitchen", []any{map[string]any{"at": int64(5)}}, `function "f": field "at": want google.protobuf.Timestamp, got int64 5`},
	} {
		md := lookup(t, tc.msg)
		_, err := BuildRequest("f", md, tc.args)
		if err == nil || err.Error() != tc.want {
			t.Errorf("BuildRequest(%s, %v):\n got %v\nwant %s", tc.msg, tc.args, err, tc.want)
		}
	}
}

// TestBuildRequestFieldOrder: positional arguments follow declaration
// order even though Feature numbers its fields 7, 3, 10.
func TestBuildRequestFieldOrder(t *testing.T) {
	m, err := BuildRequest("getFeature", msg(t, "Feature"), []any{int64(1), "n", 0.5})
	if err != nil {
		t.Fatal(err)
	}
	got := ToSQL(m)
	want := map[string]any{"id": int64(1), "name": "n", "score": 0.5}
	if !equalSQL(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	_, err = BuildRequest("getFeature", msg(t, "FeatureRequest"), []any{"x"})
	if want := `function "getFeature": field "id": want int64, got string "x"`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestBuildRequestBookstore(t *testing.T) {
	svc := mustSchema(t, "bookstore.proto").Services().Get(0).Methods()
	for _, tc := range []struct {
		rpc  string
		args []any
		want string
	}{
		{"ListShelves", nil, ``},
		{"GetBook", []any{int64(1), int64(2)}, `shelf:1 book:2`},
		{"GetBook", []any{map[string]any{"shelf": int64(1), "book": int64(2), "extra": "x"}}, `shelf:1 book:2`},
		{"CreateShelf", []any{map[string]any{"id": int64(3), "theme": "Sci-Fi"}}, `shelf:{id:3 theme:"Sci-Fi"}`},
		{"CreateShelf", []any{map[string]any{"shelf": map[string]any{"theme": "Art"}}}, `shelf:{theme:"Art"}`},
		{"CreateBook", []any{int64(1), map[string]any{"author": "a", "title": "t"}}, `shelf:1 book:{author:"a" title:"t"}`},
	} {
		md := svc.ByName(protoreflect.Name(tc.rpc)).Input()
		got, err := BuildRequest(tc.rpc, md, tc.args)
		if err != nil {
			t.Errorf("%s: %v", tc.rpc, err)
			continue
		}
		want := dynamicpb.NewMessage(md)
		if err := prototext.Unmarshal([]byte(tc.want), want); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.rpc, prototext.Format(got), prototext.Format(want))
		}
	}
}
