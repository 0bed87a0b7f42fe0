package schema

import (
	"encoding/json"
	"testing"
)

var benchPayload = []byte(`{"temperature": 63.5, "humidity": 45, "device": "s-17", "ts": 1700000000000}`)

func BenchmarkBareUnmarshal(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(benchPayload, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	d, err := NewDecoder("json", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		if _, err := d.Decode(benchPayload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeInto decodes without a schema (every JSON value as it
// comes) and with one (each column converted to its declared type).
func BenchmarkDecodeInto(b *testing.B) {
	for _, c := range []struct {
		name   string
		schema Schema
	}{
		{"schemaless", nil},
		{"schema", Schema{
			{Name: "temperature", Type: Type{Kind: Float}},
			{Name: "humidity", Type: Type{Kind: Bigint}},
			{Name: "device", Type: Type{Kind: String}},
			{Name: "ts", Type: Type{Kind: Datetime}},
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			d, err := NewDecoder("json", c.schema)
			if err != nil {
				b.Fatal(err)
			}
			emit := func(map[string]any) error { return nil }
			b.ReportAllocs()
			b.SetBytes(int64(len(benchPayload)))
			for b.Loop() {
				if err := d.DecodeInto(benchPayload, emit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecoders compares, on the same payload, the encoding/json path
// (std: DecodeInto as it was before the fast path) with the fast path
// keeping every field (all) and two of the four (2of4, as the rule
// "SELECT temperature * 2 AS t, humidity ... WHERE temperature > 50"
// decodes), schemaless and with a schema. With -count, the sub-benchmarks
// run interleaved.
func BenchmarkDecoders(b *testing.B) {
	benchSchema := Schema{
		{Name: "temperature", Type: Type{Kind: Float}},
		{Name: "humidity", Type: Type{Kind: Bigint}},
		{Name: "device", Type: Type{Kind: String}},
		{Name: "ts", Type: Type{Kind: Datetime}},
	}
	emit := func(map[string]any) error { return nil }
	for _, s := range []struct {
		name   string
		schema Schema
	}{{"schemaless", nil}, {"schema", benchSchema}} {
		b.Run(s.name+"/std", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := decodeStd(benchPayload, s.schema, emit); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, c := range []struct {
			name string
			opts []Option
		}{{"all", nil}, {"2of4", []Option{WithFields("temperature", "humidity")}}} {
			b.Run(s.name+"/"+c.name, func(b *testing.B) {
				d, err := NewDecoder("json", s.schema, c.opts...)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if err := d.DecodeInto(benchPayload, emit); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
