package svc

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/kgen-dev/kgen/internal/testutil/prototest"
)

// wireSchemas are the kinds kitchen.proto lacks: proto2 with groups,
// required fields, defaults and packed/unpacked lists; proto3 packed
// numbers, maps of every key kind, oneofs with message members; editions
// with delimited messages.
var wireSchemas = map[string]string{
	"wire2.proto": `syntax = "proto2";
package kgen.wire;
message P2 {
  required int64 id = 1;
  optional string name = 2 [default = "anon"];
  optional int32 level = 3 [default = 7];
  repeated int32 loose = 4;
  repeated sint64 tight = 5 [packed = true];
  optional group Box = 6 { optional int32 w = 7; repeated string tags = 8; }
  repeated group Item = 9 { optional string sku = 10; }
  optional Sub sub = 11;
  optional bytes raw = 12 [default = "x"];
  map<string, Sub> subs = 13;
}
message Sub { required string code = 1; optional double v = 2; }
`,
	"wire3.proto": `syntax = "proto3";
package kgen.wire;
import "google/protobuf/struct.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/wrappers.proto";
import "google/protobuf/empty.proto";
enum Mood { MOOD_UNSPECIFIED = 0; HAPPY = 1; SAD = -2; }
message Leaf { int32 a = 1; string b = 2; repeated Leaf kids = 3; }
message P3 {
  repeated int32 i32s = 1;
  repeated uint64 u64s = 2;
  repeated double ds = 3;
  repeated float fs = 4;
  repeated bool bs = 5;
  repeated Mood moods = 6;
  repeated fixed32 fx32 = 7;
  repeated sfixed64 sfx64 = 8;
  repeated sint32 si32 = 9 [packed = false];
  map<bool, string> by_bool = 10;
  map<uint64, int32> by_u64 = 11;
  map<sint64, Leaf> by_s64 = 12;
  map<fixed32, Mood> by_fx = 13;
  map<string, bytes> blobs = 14;
  oneof pick {
    Leaf leaf = 15;
    int32 num = 16;
    string word = 17;
  }
  oneof other { bool yes = 18; }
  Mood mood = 19;
  google.protobuf.Struct st = 20;
  google.protobuf.Value val = 21;
  google.protobuf.ListValue lv = 22;
  google.protobuf.Duration dur = 23;
  google.protobuf.Int32Value w32 = 24;
  google.protobuf.UInt64Value wu64 = 25;
  google.protobuf.BoolValue wb = 26;
  google.protobuf.DoubleValue wd = 27;
  google.protobuf.FloatValue wf = 28;
  google.protobuf.Empty nothing = 29;
  Leaf leaf2 = 30;
  optional string maybe = 31;
  optional Mood maybe_mood = 32;
  fixed64 f64 = 33;
  sfixed32 sf32 = 34;
  sint64 s64 = 35;
  float f = 36;
  double d = 37;
  bytes by = 38;
  map<int64, google.protobuf.Value> values = 39;
}
`,
	"wire_ed.proto": `edition = "2023";
package kgen.wire;
option features.utf8_validation = NONE;
message Ed {
  Inner inner = 1 [features.message_encoding = DELIMITED];
  repeated Inner inners = 2 [features.message_encoding = DELIMITED];
  string s = 3;
  int32 n = 4 [features.field_presence = IMPLICIT];
  repeated int32 ns = 5 [features.repeated_field_encoding = EXPANDED];
  repeated int32 ps = 6;
}
message Inner { int32 x = 1; string y = 2 [features.utf8_validation = VERIFY]; }
`,
}

// wireMsg returns a message of the wire test schemas (kgen.wire.X) or of
// kitchen.proto or a well-known one.
func wireMsg(t testing.TB, name string) protoreflect.MessageDescriptor {
	t.Helper()
	for _, file := range []string{"wire2.proto", "wire3.proto", "wire_ed.proto"} {
		fd, err := wireFile(file)
		if err != nil {
			t.Fatalf("compile %s: %v", file, err)
		}
		if md := fd.Messages().ByName(protoreflect.Name(name)); md != nil {
			return md
		}
	}
	return lookup(t, name)
}

var wireFiles sync.Map // name → protoreflect.FileDescriptor

func wireFile(name string) (protoreflect.FileDescriptor, error) {
	if fd, ok := wireFiles.Load(name); ok {
		return fd.(protoreflect.FileDescriptor), nil
	}
	fd, err := prototest.Compile("", wireSchemas, name)
	if err != nil {
		return nil, err
	}
	wireFiles.Store(name, fd)
	return fd, nil
}

// oldEncode is the path EncodeRequest replaces.
func oldEncode(fn string, md protoreflect.MessageDescriptor, args []any) ([]byte, error) {
	m, err := BuildRequest(fn, md, args)
	if err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// checkEncode compares EncodeRequest with oldEncode: the same bytes, or
// the same error.
func checkEncode(t *testing.T, md protoreflect.MessageDescriptor, args []any) (ok bool) {
	t.Helper()
	want, werr := oldEncode("f", md, args)
	got, gerr := EncodeRequest("f", md, args)
	switch {
	case werr != nil || gerr != nil:
		if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
			t.Fatalf("%s %#v:\n got error %v\nwant error %v", md.FullName(), args, gerr, werr)
		}
		return false
	case !bytes.Equal(got, want):
		t.Fatalf("%s %#v:\n got %x\nwant %x", md.FullName(), args, got, want)
	}
	return true
}

// encodeCases are arguments for EncodeRequest, good and bad, over every
// test schema.
var encodeCases = []struct {
	msg  string
	args []any
}{
	{"google.protobuf.Empty", nil},
	{"google.protobuf.Empty", []any{int64(1)}},
	{"FeatureRequest", []any{int64(7)}},
	{"FeatureRequest", []any{float64(7)}},
	{"FeatureRequest", []any{map[string]any{"id": int64(3), "other": "x"}}},
	{"FeatureRequest", []any{"x"}},
	{"FeatureRequest", []any{1e30}},
	{"Feature", []any{int64(1), "a", 2.5}},
	{"Feature", []any{nil, "a", nil}},
	{"Feature", []any{int64(0), "", 0.0}},
	{"Feature", []any{int64(1), "a"}},
	{"Feature", []any{map[string]any{"x": 1}}},
	{"Feature", []any{int64(1), int64(2), 1.0}},
	{"Shape", []any{map[string]any{"lat": int64(1), "lng": int64(2)}}},
	{"Shape", []any{map[string]any{"point": map[string]any{}}}},
	{"google.protobuf.StringValue", []any{"hi"}},
	{"google.protobuf.BytesValue", []any{[]byte{1, 2}}},
	{"google.protobuf.Timestamp", []any{"2026-01-02T03:04:05.5Z"}},
	{"Kitchen", []any{map[string]any{
		"name": "k", "blob": "raw", "i32": int64(-3), "i64": int64(math.MaxInt64), "u32": int64(4),
		"u64": uint64(math.MaxUint64), "f32": 0.1, "f64": int64(9), "flag": true, "color": "GREEN",
		"tags":   []any{map[string]any{"key": "a", "points": []any{map[string]any{"lat": int64(1)}, map[string]any{"lng": int64(2)}}}},
		"counts": map[string]any{"y": int64(2), "x": int64(1), "z": int64(0), "n": nil},
		"places": map[string]any{"7": map[string]any{"lat": int64(7)}, "-1": map[string]any{}, "01": map[string]any{"lng": int64(1)}, "1": map[string]any{"lat": int64(1)}},
		"number": int64(5), "maybe": "m", "at": time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "where": map[string]any{"lat": int64(1)},
		"words": []string{"a", "b", ""}, "s32": int64(-1), "opt": int64(0),
	}}},
	{"Kitchen", []any{map[string]any{"text": "", "opt": int64(-1), "f32": -0.0, "i32": int64(0)}}},
	{"Kitchen", []any{map[string]any{"color": int64(1), "at": "2026-01-02T03:04:05Z", "text": "t"}}},
	{"Kitchen", []any{map[string]any{"maybe": map[string]any{"value": "v"}, "at": map[string]any{"seconds": int64(5)}}}},
	{"Kitchen", []any{map[string]any{"i32": int64(1 << 40)}}},
	{"Kitchen", []any{map[string]any{"u64": int64(-1)}}},
	{"Kitchen", []any{map[string]any{"name": []byte{0xff}}}},
	{"Kitchen", []any{map[string]any{"name": "\xff"}}},
	{"Kitchen", []any{map[string]any{"counts": map[string]any{"\xff": int64(1)}}}},
	{"Kitchen", []any{map[string]any{"maybe": "\xff"}}},
	{"Kitchen", []any{map[string]any{"color": "PINK"}}},
	{"Kitchen", []any{map[string]any{"tags": []any{nil}}}},
	{"Kitchen", []any{map[string]any{"tags": []any{map[string]any{"points": []any{map[string]any{"lng": 1.5}}}}}}},
	{"Kitchen", []any{map[string]any{"places": map[string]any{"x": map[string]any{}}}}},
	{"Kitchen", []any{map[string]any{"text": "a", "number": int64(1)}}},
	{"Kitchen", []any{map[string]any{"at": "yesterday"}}},
	{"P2", []any{map[string]any{"id": int64(0), "loose": []any{int64(1), int64(-2)}, "tight": []any{int64(-1), int64(300)},
		"box": map[string]any{"w": int64(0), "tags": []any{"t"}}, "item": []any{map[string]any{"sku": "s"}, map[string]any{}},
		"subs": map[string]any{"b": map[string]any{"code": "c"}, "a": map[string]any{"code": "", "v": 1.5}}, "raw": ""}}},
	{"P2", []any{map[string]any{"name": "x"}}},                                       // required id unset
	{"P2", []any{map[string]any{"id": int64(1), "sub": map[string]any{"v": 1.0}}}},   // required code unset
	{"P2", []any{map[string]any{"id": int64(1), "name": "\xff", "level": int64(0)}}}, // proto2: no UTF-8 check
	{"P3", []any{map[string]any{
		"i32s": []any{int64(1), int64(-1), int64(0)}, "u64s": []any{uint64(math.MaxUint64)}, "ds": []any{0.5, math.Inf(-1)},
		"fs": []any{float32(1.5)}, "bs": []any{true, false}, "moods": []any{"SAD", int64(1), int64(0)},
		"fx32": []any{int64(1)}, "sfx64": []any{int64(-1)}, "si32": []any{int64(-1), int64(2)},
		"by_bool": map[string]any{"true": "a", "1": "b", "false": "", "f": "c"},
		"by_u64":  map[string]any{"10": int64(1), "9": int64(2), "010": int64(3)},
		"by_s64":  map[string]any{"-5": map[string]any{"a": int64(1), "kids": []any{map[string]any{"b": "x"}}}, "3": map[string]any{}},
		"by_fx":   map[string]any{"4": "HAPPY", "2": int64(0)},
		"blobs":   map[string]any{"": []byte{}, "a": "b"},
		"leaf":    map[string]any{"a": int64(0), "kids": []any{map[string]any{}}},
		"yes":     false, "mood": "SAD",
		"st":  map[string]any{"a": 1.0, "b": []any{"x", nil, true}, "c": map[string]any{}},
		"val": []any{int64(1), "s"}, "lv": []any{map[string]any{"k": "v"}},
		"dur": "1.5s", "w32": int64(-3), "wu64": map[string]any{"value": uint64(5)}, "wb": false, "wd": 0.0, "wf": 2.5,
		"nothing": map[string]any{}, "leaf2": map[string]any{"b": "β"}, "maybe": "", "maybe_mood": "MOOD_UNSPECIFIED",
		"f64": uint64(1 << 63), "sf32": int64(-2), "s64": int64(math.MinInt64), "f": float32(-0.0), "d": math.NaN(), "by": []byte{0},
		"values": map[string]any{"2": "two", "1": nil, "-3": map[string]any{"x": 1.0}},
	}}},
	{"P3", []any{map[string]any{"num": int64(0), "word": "w"}}},
	{"P3", []any{map[string]any{"ds": []any{}, "by_bool": map[string]any{"yes": "a"}}}},
	{"P3", []any{map[string]any{"st": map[string]any{"bad": "\xff"}}}},
	{"Ed", []any{map[string]any{"inner": map[string]any{"x": int64(1)}, "inners": []any{map[string]any{"y": "z"}, map[string]any{}},
		"ns": []any{int64(1), int64(2)}, "ps": []any{int64(2), int64(300)}, "n": int64(0), "s": "\xff"}}},
	{"Ed", []any{map[string]any{"inner": map[string]any{"y": "\xff"}}}},
}

// TestEncodeRequest: EncodeRequest writes the bytes, or gives the error,
// of BuildRequest and a deterministic Marshal.
func TestEncodeRequest(t *testing.T) {
	encoded := 0
	for _, tc := range encodeCases {
		if checkEncode(t, wireMsg(t, tc.msg), tc.args) {
			encoded++
		}
	}
	if encoded < 20 {
		t.Errorf("only %d of %d cases encoded", encoded, len(encodeCases))
	}
}

// TestEncodeRequestErrors: the coercion errors are BuildRequest's, and a
// request Marshal refuses gets Marshal's error.
func TestEncodeRequestErrors(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		args []any
		want string
	}{
		{"Feature", []any{int64(1), "a"}, `function "f": want 3 arguments (id, name, score) or one map, got 2 arguments`},
		{"Kitchen", []any{map[string]any{"tags": []any{map[string]any{"points": []any{map[string]any{"lng": 1.5}}}}}}, `function "f": field "tags[0].points[0].lng": want int32, got float64 1.5`},
		{"Kitchen", []any{map[string]any{"places": map[string]any{"x": map[string]any{}}}}, `function "f": field "places[\"x\"]": map key: want int32, got "x"`},
		{"Kitchen", []any{map[string]any{"text": "a", "number": int64(1)}}, `function "f": field "number": oneof "choice" already set by "text"`},
		{"P3", []any{map[string]any{"by_s64": map[string]any{"1": map[string]any{"kids": []any{map[string]any{"a": "x"}}}}}}, `function "f": field "by_s64[\"1\"].kids[0].a": want int32, got string "x"`},
		{"P3", []any{map[string]any{"w32": int64(1 << 40)}}, `function "f": field "w32": want int32, got int64 1099511627776 (out of range)`},
		// protobuf-go words its errors "proto: " or "proto:\u00a0", at random.
		{"Kitchen", []any{map[string]any{"name": "\xff"}}, `field kgen.test.Kitchen.name contains invalid UTF-8`},
		{"P2", []any{map[string]any{"name": "x"}}, `required field kgen.wire.P2.id not set`},
	} {
		_, err := EncodeRequest("f", wireMsg(t, tc.msg), tc.args)
		if err == nil || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("EncodeRequest(%s, %v):\n got %v\nwant …%s", tc.msg, tc.args, err, tc.want)
		}
	}
}

// oldDecode is the path DecodeToSQL replaces.
func oldDecode(md protoreflect.MessageDescriptor, wire []byte) (any, error) {
	m := dynamicpb.NewMessage(md)
	if err := safeUnmarshal(wire, m); err != nil {
		return nil, err
	}
	return ToSQL(m), nil
}

// checkDecode compares DecodeToSQL with oldDecode: the same SQL value, or
// both an error. It reports whether the data decoded.
func checkDecode(t *testing.T, md protoreflect.MessageDescriptor, wire []byte) bool {
	t.Helper()
	want, werr := oldDecode(md, wire)
	got, gerr := DecodeToSQL(md, wire)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%s %x:\n got error %v\nwant error %v", md.FullName(), wire, gerr, werr)
	}
	if werr == nil && !sameSQL(got, want) {
		t.Fatalf("%s %x:\n got %#v\nwant %#v", md.FullName(), wire, got, want)
	}
	return werr == nil
}

// sameSQL is reflect.DeepEqual with NaN equal to NaN.
func sameSQL(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y))
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !sameSQL(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameSQL(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// wire builds wire data from (number, type, value) triples: a value is
// an int or uint64 (varint or fixed), []byte or string (bytes; for a group its
// body), or nil (a bare tag).
func wire(parts ...any) []byte {
	var b []byte
	for i := 0; i < len(parts); i += 3 {
		num, typ := protowire.Number(parts[i].(int)), parts[i+1].(protowire.Type)
		b = protowire.AppendTag(b, num, typ)
		v := parts[i+2]
		if n, ok := v.(int); ok {
			v = uint64(n)
		}
		switch v := v.(type) {
		case uint64:
			switch typ {
			case protowire.Fixed32Type:
				b = protowire.AppendFixed32(b, uint32(v))
			case protowire.Fixed64Type:
				b = protowire.AppendFixed64(b, v)
			default:
				b = protowire.AppendVarint(b, v)
			}
		case string:
			if typ == protowire.StartGroupType {
				b = append(b, v...)
				b = protowire.AppendTag(b, num, protowire.EndGroupType)
			} else {
				b = protowire.AppendString(b, v)
			}
		case []byte:
			b = protowire.AppendBytes(b, v)
		}
	}
	return b
}

const (
	vt  = protowire.VarintType
	f32 = protowire.Fixed32Type
	f64 = protowire.Fixed64Type
	bt  = protowire.BytesType
	sg  = protowire.StartGroupType
)

// TestDecodeToSQL: DecodeToSQL gives what Unmarshal and ToSQL give, for
// the encodings of the requests above and for wire data Marshal never
// writes: repeats, merges, mixed packing, unknown fields and wrong wire
// types, odd map entries, and malformed data.
func TestDecodeToSQL(t *testing.T) {
	decoded := 0
	for _, tc := range encodeCases {
		md := wireMsg(t, tc.msg)
		m, err := BuildRequest("f", md, tc.args)
		if err != nil {
			continue
		}
		b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
		if err != nil {
			continue
		}
		if checkDecode(t, md, b) {
			decoded++
		}
	}
	point := wire(1, vt, 5, 2, vt, 6)
	for _, tc := range []struct {
		msg  string
		wire []byte
		ok   bool
	}{
		{"Kitchen", nil, true},
		{"Kitchen", wire(1, vt, 3), true},                                   // wrong wire type: skipped
		{"Kitchen", wire(3, vt, 1, 3, vt, 2, 1, bt, "a", 1, bt, "b"), true}, // last wins
		{"Kitchen", wire(999, bt, "x", 1000, f32, 1, 1001, f64, 2, 1002, sg, "", 1, bt, "n"), true},
		{"Kitchen", wire(18, bt, wire(1, vt, 1), 18, bt, wire(2, vt, 2), 18, bt, wire(1, vt, 3)), true}, // merged
		{"Kitchen", wire(14, bt, "t", 15, vt, 4), true},                                                 // oneof: the last member
		{"Kitchen", wire(15, vt, 4, 14, bt, "t"), true},
		{"Kitchen", wire(15, vt, 0), true},
		{"Kitchen", wire(10, vt, 7, 5, vt, 1<<40, 3, vt, 1<<35, 20, vt, 1<<33), true}, // unknown enum, truncation
		{"Kitchen", wire(12, bt, wire(1, bt, "a"), 12, bt, wire(2, vt, 4), 12, bt, wire(1, bt, "a", 2, vt, 9, 2, vt, 8, 3, vt, 1)), true},
		{"Kitchen", wire(13, bt, wire(1, vt, 7, 2, bt, point, 2, bt, wire(1, vt, 9))), true},
		{"Kitchen", wire(13, bt, wire(2, bt, point)), true},          // no key: the default
		{"Kitchen", wire(12, bt, wire(1, vt, 3)), true},              // key of the wrong type: skipped
		{"Kitchen", wire(12, bt, wire(1, bt, "k", 1, vt, 3)), false}, // … after a key: Unmarshal panics
		{"Kitchen", wire(11, bt, wire(1, bt, "k", 2, bt, point), 11, bt, "", 11, vt, 1), true},
		{"Kitchen", wire(17, bt, wire(1, vt, 1767323045, 2, vt, 6), 16, bt, wire(1, bt, "w"), 16, bt, ""), true},
		{"Kitchen", wire(17, bt, wire(1, vt, 1<<62)), true},
		{"Kitchen", wire(19, bt, "a", 19, bt, "", 19, vt, 1), true},
		{"Kitchen", wire(1, bt, "\xff"), false},
		{"Kitchen", wire(2, bt, "\xff"), true},
		{"Kitchen", []byte{0x08}, false},
		{"Kitchen", []byte{0x0a, 0x05, 'a'}, false},
		{"Kitchen", []byte{0x00, 0x01}, false},
		{"Kitchen", []byte{0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01}, true},  // the highest number
		{"Kitchen", []byte{0x80, 0x80, 0x80, 0x80, 0x10, 0x01}, false}, // above it
		{"Kitchen", wire(18, bt, []byte{0x08}), false},
		{"Kitchen", wire(7, f32, int(math.Float32bits(0.1)), 8, f64, int(math.Float64bits(math.NaN()))), true},
		{"P3", wire(1, bt, string(protowire.AppendVarint(protowire.AppendVarint(nil, 1), 1<<63)), 1, vt, 5, 1, f32, 1), true},
		{"P3", wire(2, bt, string([]byte{0x80}), 2, vt, 1), false},
		{"P3", wire(3, f64, int(math.Float64bits(2)), 3, bt, string(protowire.AppendFixed64(nil, 1))), true},
		{"P3", wire(4, bt, "abc"), false},
		{"P3", wire(6, bt, string([]byte{0x01, 0x05, 0x7e})), true},
		{"P3", wire(9, vt, 3, 9, bt, string([]byte{0x04})), true},
		{"P3", wire(10, bt, wire(1, vt, 1, 2, bt, "t"), 10, bt, wire(2, bt, "f"), 10, bt, wire(1, vt, 2)), true},
		{"P3", wire(11, bt, wire(1, vt, uint64(1<<64-1), 2, vt, 1<<32+5)), true},
		{"P3", wire(12, bt, wire(1, vt, 3, 2, bt, wire(1, vt, 1), 2, bt, wire(3, bt, ""))), true}, // merged value
		{"P3", wire(13, bt, wire(1, f32, 4, 2, vt, 1)), true},
		{"P3", wire(13, bt, wire(1, f32, 4)), true},
		{"P3", wire(15, bt, wire(1, vt, 1), 16, vt, 2, 15, bt, wire(2, bt, "b")), true}, // a new leaf
		{"P3", wire(15, bt, wire(1, vt, 1), 15, bt, wire(2, bt, "b")), true},            // merged leaf
		{"P3", wire(15, bt, wire(1, vt, 1), 17, vt, 1), true},                           // wrong type: leaf stays
		{"P3", wire(20, bt, wire(1, bt, wire(1, bt, "k", 2, bt, wire(4, bt, "s")))), true},
		{"P3", wire(21, bt, wire(2, f64, int(math.Float64bits(1.5))), 22, bt, wire(1, bt, wire(1, vt, 0))), true},
		{"P3", wire(21, bt, wire(3, bt, "\xff")), false},
		{"P3", wire(23, bt, wire(1, vt, 3, 2, vt, 5), 24, bt, wire(1, vt, uint64(1<<64-1)), 25, bt, "", 29, bt, wire(5, vt, 1)), true},
		{"P3", wire(29, bt, []byte{0x0b}), false},
		{"P3", wire(30, bt, wire(3, bt, wire(3, bt, wire(1, vt, 1))), 30, bt, wire(3, bt, "")), true},
		{"P3", wire(31, bt, "", 32, vt, 5, 35, vt, uint64(1<<64-1), 36, f32, 0x80000000, 38, bt, ""), true},
		{"P3", wire(39, bt, wire(1, vt, 2)), true},
		{"P2", wire(1, vt, 5, 2, bt, "\xff", 6, sg, string(wire(7, vt, 1, 8, bt, "a")), 6, sg, string(wire(8, bt, "b")), 9, sg, "", 9, sg, string(wire(10, bt, "s"))), true},
		{"P2", wire(2, bt, "x"), false},                        // required id unset
		{"P2", wire(1, vt, 1, 11, bt, wire(2, f64, 0)), false}, // required Sub.code unset
		{"P2", wire(1, vt, 1, 11, bt, wire(2, f64, 0), 11, bt, wire(1, bt, "c")), true},
		{"P2", wire(1, vt, 1, 13, bt, wire(1, bt, "k")), false}, // map value without required code
		{"P2", wire(1, vt, 1, 4, bt, string([]byte{1, 2}), 4, vt, 3, 5, vt, 3, 5, bt, string([]byte{1, 2})), true},
		{"P2", wire(1, vt, 1, 6, sg, string(wire(7, vt, 1))+string([]byte{0x3c})), false}, // mismatched end group
		{"P2", append(wire(1, vt, 1), protowire.AppendTag(nil, 6, sg)...), false},
		{"Ed", wire(1, sg, string(wire(1, vt, 1)), 1, bt, wire(1, vt, 2), 2, sg, string(wire(2, bt, "x")), 3, bt, "\xff", 4, vt, 0, 5, bt, string([]byte{1}), 6, vt, 2), true},
		{"Ed", wire(1, sg, string(wire(2, bt, "\xff"))), true}, // protocompile's descriptors do not say VERIFY
		{"google.protobuf.Empty", wire(1, vt, 1), true},
		{"google.protobuf.Empty", []byte{0x0a}, false},
		{"google.protobuf.StringValue", wire(1, bt, "s", 1, bt, "t"), true},
		{"google.protobuf.StringValue", nil, true},
		{"google.protobuf.BytesValue", wire(1, bt, ""), true},
		{"google.protobuf.Timestamp", wire(2, vt, 5), true},
	} {
		md := wireMsg(t, tc.msg)
		if got := checkDecode(t, md, tc.wire); got != tc.ok {
			t.Errorf("%s %x: decoded %v, want %v", tc.msg, tc.wire, got, tc.ok)
		}
	}
	if decoded < 20 {
		t.Errorf("only %d encodings decoded", decoded)
	}
}

// TestDecodeToSQLErrors: malformed data gets an error naming the message
// and field.
func TestDecodeToSQLErrors(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		wire []byte
		want string
	}{
		{"Kitchen", []byte{0x0a, 0x05, 'a'}, `decode kgen.test.Kitchen: field 1: malformed wire data`},
		{"Kitchen", []byte{0x00, 0x01}, `decode kgen.test.Kitchen: malformed field tag`},
		{"Kitchen", wire(18, bt, []byte{0x08}), `decode kgen.test.common.Point: field 1: malformed wire data`},
		{"Kitchen", wire(1, bt, "\xff"), `decode kgen.test.Kitchen.name: invalid UTF-8`},
		{"Kitchen", wire(12, bt, wire(1, bt, "k", 1, vt, 3)), `decode kgen.test.Kitchen.counts: map entry without a key or value`},
		{"P2", wire(2, bt, "x"), `decode kgen.wire.P2: required field "id" not set`},
	} {
		_, err := DecodeToSQL(wireMsg(t, tc.msg), tc.wire)
		if err == nil || err.Error() != tc.want {
			t.Errorf("DecodeToSQL(%s, %x):\n got %v\nwant %s", tc.msg, tc.wire, err, tc.want)
		}
	}
}
