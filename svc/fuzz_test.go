package svc

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
)

var fuzzMessages = []string{"Kitchen", "Feature", "FeatureRequest", "Shape", "Tag",
	"google.protobuf.Empty", "google.protobuf.StringValue", "google.protobuf.BytesValue", "google.protobuf.Timestamp"}

// FuzzBuildRequest feeds arbitrary SQL values (JSON, with integral numbers
// turned into int64 when asked) into every test request: it must never
// panic, and a request it builds must marshal and map back to SQL.
func FuzzBuildRequest(f *testing.F) {
	f.Add(uint8(0), []byte(`{"name":"k","tags":[{"key":"a","points":[{"lat":1}]}],"counts":{"a":1},"places":{"1":{}},"color":"RED","at":"2026-01-02T03:04:05Z"}`), true)
	f.Add(uint8(1), []byte(`[1,"a",2.5]`), false)
	f.Add(uint8(2), []byte(`"x"`), true)
	f.Add(uint8(3), []byte(`{"lat":1e40}`), true)
	f.Add(uint8(0), []byte(`{"text":"a","number":1,"maybe":{"value":"v"},"u64":-1,"f32":1e39}`), true)
	f.Fuzz(func(t *testing.T, which uint8, data []byte, ints bool) {
		md := lookup(t, fuzzMessages[int(which)%len(fuzzMessages)])
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		if ints {
			v = intify(v)
		}
		args, ok := v.([]any)
		if !ok {
			args = []any{v}
		}
		m, err := BuildRequest("f", md, args)
		if err != nil {
			return
		}
		if _, err := proto.Marshal(m); err != nil {
			t.Fatalf("marshal %v: %v", prototext.Format(m), err)
		}
		_ = ToSQL(m)
	})
}

func intify(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return int64(x)
		}
	case []any:
		for i := range x {
			x[i] = intify(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = intify(x[k])
		}
	}
	return v
}

// FuzzToSQL decodes arbitrary bytes as a Kitchen message and maps it to
// SQL: it must never panic, and when the SQL value maps back into a
// request, that request must equal the message.
func FuzzToSQL(f *testing.F) {
	seed := kitchenMsg(f, "Kitchen", `name:"k" blob:"raw" i32:-3 i64:4 u32:5 u64:18446744073709551615 f32:0.1 f64:0.25 flag:true color:GREEN `+
		`tags:{key:"a" points:{lat:1} points:{lng:2}} counts:{key:"x" value:1} places:{key:7 value:{lat:7}} `+
		`number:5 maybe:{value:""} at:{seconds:1767323045 nanos:6} where:{} words:"a" s32:-1 opt:0`)
	b, err := proto.Marshal(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{0x50, 0x07}) // color: 7, not a value of Color
	f.Fuzz(func(t *testing.T, data []byte) {
		md := msg(t, "Kitchen")
		m := dynamicpb.NewMessage(md)
		if safeUnmarshal(data, m) != nil {
			return
		}
		v := ToSQL(m)
		back, err := BuildRequest("f", md, []any{v})
		if err != nil {
			return // unknown enum numbers and out-of-range timestamps do not map back
		}
		if !proto.Equal(back, m) {
			t.Fatalf("round trip:\n got %v\nwant %v", prototext.Format(back), prototext.Format(m))
		}
	})
}

// safeUnmarshal is proto.Unmarshal without unknown fields, and with a
// recover: protobuf-go v1.36.12 panics ("type mismatch: cannot convert nil
// to map key") decoding into a dynamicpb message a map entry whose key
// field has the wrong wire type (seed testdata/fuzz/FuzzToSQL/9451e666c736c63c).
func safeUnmarshal(data []byte, m proto.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unmarshal panicked: %v", r)
		}
	}()
	return proto.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(data, m)
}
