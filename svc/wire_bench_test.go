package svc

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// wireBenchCases are a small request (three scalars) and one of every
// kind (kitchen.proto's Kitchen).
func wireBenchCases(b *testing.B) []struct {
	name string
	md   protoreflect.MessageDescriptor
	args []any
} {
	var kitchen []any
	for _, tc := range encodeCases {
		if tc.msg != "Kitchen" || len(tc.args) != 1 {
			continue
		}
		if m, ok := tc.args[0].(map[string]any); ok && len(m) >= 20 {
			kitchen = tc.args
			break
		}
	}
	return []struct {
		name string
		md   protoreflect.MessageDescriptor
		args []any
	}{
		{"small", wireMsg(b, "Feature"), []any{int64(7), "the cat sat on the mat", 0.5}},
		{"kitchen", wireMsg(b, "Kitchen"), kitchen},
	}
}

// BenchmarkEncodeRequest: EncodeRequest against BuildRequest and Marshal.
func BenchmarkEncodeRequest(b *testing.B) {
	for _, tc := range wireBenchCases(b) {
		b.Run(tc.name+"/old", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m, err := BuildRequest("f", tc.md, tc.args)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := proto.Marshal(m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/new", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := EncodeRequest("f", tc.md, tc.args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeToSQL: DecodeToSQL against Unmarshal and ToSQL.
func BenchmarkDecodeToSQL(b *testing.B) {
	for _, tc := range wireBenchCases(b) {
		wire, err := EncodeRequest("f", tc.md, tc.args)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name+"/old", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m := dynamicpb.NewMessage(tc.md)
				if err := proto.Unmarshal(wire, m); err != nil {
					b.Fatal(err)
				}
				_ = ToSQL(m)
			}
		})
		b.Run(tc.name+"/new", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeToSQL(tc.md, wire); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
