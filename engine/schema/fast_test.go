package schema

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// reference decodes payload as DecodeInto did before the fast path: with
// encoding/json, then keeping only fields when selective.
func reference(payload []byte, s Schema, selective bool, fields []string) ([]map[string]any, error) {
	var rows []map[string]any
	err := decodeStd(payload, s, func(row map[string]any) error {
		if selective {
			for k := range row {
				if !slices.Contains(fields, k) {
					delete(row, k)
				}
			}
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// same compares decoded values exactly: the same Go types, floats by their
// bits (so -0 is not 0).
func same(a, b any) bool {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	switch x := a.(type) {
	case float64:
		return math.Float64bits(x) == math.Float64bits(b.(float64))
	case map[string]any:
		y := b.(map[string]any)
		if len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !same(v, w) {
				return false
			}
		}
		return true
	case []any:
		y := b.([]any)
		if len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !same(x[i], y[i]) {
				return false
			}
		}
		return true
	case []map[string]any:
		y := b.([]map[string]any)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !same(x[i], y[i]) {
				return false
			}
		}
		return true
	case time.Time:
		return x.Equal(b.(time.Time)) && x.Location().String() == b.(time.Time).Location().String()
	}
	return reflect.DeepEqual(a, b)
}

// compareDecoders decodes payload with a decoder of s keeping fields (all
// when fields is nil) and with the reference, and reports any difference
// in rows or error text. It returns whether the fast path took payload.
func compareDecoders(t *testing.T, payload []byte, s Schema, fields []string) (fast bool) {
	t.Helper()
	d := testDecoder(t, s, fields)
	got, gotErr := d.Decode(payload)
	want, wantErr := reference(payload, s, fields != nil, fields)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !same(got, want) {
		t.Fatalf("payload %q, fields %q, schema %v:\n got %#v, %v\nwant %#v, %v", payload, fields, s, got, gotErr, want, wantErr)
	}
	fast, _ = d.decodeFast(payload, func(map[string]any) error { return nil })
	return fast
}

// testDecoders holds a decoder per schema and fields, so that their parsers
// are reused as in a rule.
var testDecoders sync.Map

func testDecoder(t *testing.T, s Schema, fields []string) *Decoder {
	key := fmt.Sprintf("%v|%q|%v", s, fields, fields == nil)
	if d, ok := testDecoders.Load(key); ok {
		return d.(*Decoder)
	}
	var opts []Option
	if fields != nil {
		opts = append(opts, WithFields(fields...))
	}
	d, err := NewDecoder("json", s, opts...)
	if err != nil {
		t.Fatal(err)
	}
	testDecoders.Store(key, d)
	return d
}

// gen writes random JSON, mostly valid, with what the decoders must agree
// on: nesting, escapes, big integers, floats at the edges, duplicate keys.
type gen struct {
	r *rand.Rand
	b strings.Builder
}

var genKeys = []string{"a", "b", "c", "d", "e", `\u0061`, "é", `\u00e9`, "n", "ts", "tags"}

var genNumbers = []string{
	"0", "-0", "1", "-7", "3.0", "-3.0", "2.5", "1e3", "1E3", "2.5e-1", "1e300", "-1e300", "1e-400", "1e400", "-1e999",
	"9007199254740991", "9007199254740992", "9007199254740993", "-9007199254740993", "1700000000123456789",
	"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
	"12345678901234567890", "4.0e15", "9007199254740992.5", "1.7976931348623157e308", "5e-324", "0.1",
	"123456789012345678901234567890", "1" + strings.Repeat("0", 310), "00", "1.", "-", "+1", ".5",
}

var genStrings = []string{
	`""`, `"x"`, `"s-17"`, `"\u00e9"`, `"\ud83d\ude00"`, `"\ud800"`, `"\udc00x"`, `"\ud800\u0041"`, `"\n\t\"\\\/"`,
	`"héllo"`, `"\u0000"`, "\"a\x01b\"", "\"\xff\"", `"2024-01-02T03:04:05Z"`, `"aGVsbG8="`, `"not base64!"`, `"\x"`,
}

func (g *gen) ws() {
	if g.r.IntN(4) == 0 {
		g.b.WriteString([]string{" ", "\n", "\t", "\r\n  "}[g.r.IntN(4)])
	}
}

func (g *gen) value(depth int) {
	g.ws()
	switch n := g.r.IntN(10); {
	case depth > 4 || n < 3:
		g.b.WriteString(genNumbers[g.r.IntN(len(genNumbers))])
	case n < 5:
		g.b.WriteString(genStrings[g.r.IntN(len(genStrings))])
	case n < 6:
		g.b.WriteString([]string{"true", "false", "null", "nul", "True"}[g.r.IntN(5)])
	case n < 8:
		g.object(depth + 1)
	default:
		g.b.WriteByte('[')
		for i := range g.r.IntN(4) {
			if i > 0 {
				g.b.WriteByte(',')
			}
			g.value(depth + 1)
		}
		g.ws()
		g.b.WriteByte(']')
	}
	g.ws()
}

func (g *gen) object(depth int) {
	g.b.WriteByte('{')
	for i := range g.r.IntN(6) {
		if i > 0 {
			g.b.WriteByte(',')
		}
		g.ws()
		g.b.WriteString(`"` + genKeys[g.r.IntN(len(genKeys))] + `"`)
		g.ws()
		g.b.WriteByte(':')
		g.value(depth)
	}
	g.ws()
	g.b.WriteByte('}')
}

// payload is one random payload: mostly an object or an array of objects,
// sometimes cut short, with a byte changed, or nested deeper than the
// fast parser goes.
func (g *gen) payload() []byte {
	g.b.Reset()
	g.ws()
	switch n := g.r.IntN(20); {
	case n < 12:
		g.object(0)
	case n < 16:
		g.b.WriteByte('[')
		for i := range g.r.IntN(4) {
			if i > 0 {
				g.b.WriteByte(',')
			}
			if g.r.IntN(8) == 0 {
				g.value(1)
			} else {
				g.object(1)
			}
		}
		g.b.WriteByte(']')
	case n < 17:
		depth := 290 + g.r.IntN(30)
		g.b.WriteString(`{"a": 1, "deep": ` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `, "b": 2.5}`)
	default:
		g.value(0)
	}
	g.ws()
	p := []byte(g.b.String())
	switch g.r.IntN(12) {
	case 0:
		p = p[:g.r.IntN(len(p)+1)]
	case 1:
		if len(p) > 0 {
			const bytes = "{}[]\",:x0\\\xff "
			p[g.r.IntN(len(p))] = bytes[g.r.IntN(len(bytes))]
		}
	}
	return p
}

var genSchema = Schema{
	{"a", scalar(Bigint)},
	{"b", scalar(Float)},
	{"c", scalar(String)},
	{"d", scalar(Boolean)},
	{"é", scalar(Any)},
	{"n", arrayOf(scalar(Float))},
	{"ts", scalar(Datetime)},
	{"tags", arrayOf(scalar(String))},
	{"e", structOf(Field{"a", scalar(Bigint)})},
}

// TestDecodeFastSameAsStd decodes many generated payloads with the fast
// path and with encoding/json: the rows and the error texts must be the
// same, for every field and for subsets, with and without a schema.
func TestDecodeFastSameAsStd(t *testing.T) {
	g := &gen{r: rand.New(rand.NewPCG(1, 2))}
	fieldSets := [][]string{nil, {}, {"a"}, {"a", "c"}, {"b", "d", "zz"}, {"é", "tags", "n"}, {"e", "ts"}}
	schemas := []Schema{nil, genSchema, {{"a", scalar(Float)}, {"b", scalar(Any)}}}
	n := 5000
	if testing.Short() {
		n = 500
	}
	fast := 0
	for range n {
		p := g.payload()
		for _, s := range schemas {
			for _, f := range fieldSets {
				if compareDecoders(t, p, s, f) {
					fast++
				}
			}
		}
	}
	// Enough of them must take the fast path for the test to mean much.
	if total := n * len(schemas) * len(fieldSets); fast < total/4 {
		t.Errorf("the fast path took %d decodes of %d", fast, total)
	}
	t.Logf("the fast path took %d decodes of %d", fast, n*len(schemas)*len(fieldSets))
}

// TestDecodeFastCases are the cases the fast path hands to encoding/json,
// or must get exactly right.
func TestDecodeFastCases(t *testing.T) {
	for _, p := range []string{
		`{"a": 1, "b": 1e400}`,
		`{"a": 1, "b": [{"c": -1e999}]}`,
		`{"a": 1, "b": "\ud800"}`,
		`{"a": "\ud83d\ude00", "b": "\ud83d\u0041"}`,
		"{\"a\": 1, \"b\": \"\xff\"}",
		"{\"a\": 1, \"b\xff\": 2}",
		`{"a": 1, "b": 01}`,
		`{"a": 1, "b": "\x"}`,
		"{\"a\": 1, \"b\": \"\x01\"}",
		`{"a": 1, "b": tru}`,
		`{"a": 1, "a": 2.5, "a": "x"}`,
		`{"a": -0, "b": 3.0, "c": 1e300, "d": 9007199254740993}`,
		`[{"a": 1}, {"a": 9223372036854775808}, {"b": 1}]`,
		`[{"a": 1}, 2]`,
		`{"a": 1} x`,
		`{"a": 1,}`,
		`{"a": {"b": {"c": [1, 2, {"d": null}]}}}`,
		`{"a": 1, "deep": ` + strings.Repeat("[", 400) + strings.Repeat("]", 400) + `}`,
		`{"a": "3", "b": 1.5}`,
		`{"b": "x", "a": 1}`,
		`{"ts": "yesterday", "a": 1}`,
		`{"ts": 1700000000000, "tags": ["x", 1], "a": 1}`,
		`{"ts": 9223372036854775807, "a": 1}`, `{"ts": 9007199254740993, "a": 1}`, `{"ts": -1.5, "a": 1}`,
		`{"ts": "2024-01-02T03:04:05.123+02:00", "a": 1}`, `{"ts": "2024-13-02T03:04:05Z", "a": 1}`,
		`{"e": {"a": 1.5}, "a": 1}`,
		`{"e": {"a": 1, "z": 2}, "a": 1}`,
		`{"b": "x", "b": 2, "a": 1}`,
		`{"b": 2, "b": "x", "a": 1}`,
		`{"n": [1, "x"], "a": 1}`,
		`{"a": 3.0}`, `{"a": 3.5}`, `{"a": 9223372036854775807}`, `{"a": -9223372036854775809}`,
		`[]`, `{}`, ``, ` `, `null`, `"x"`,
	} {
		for _, s := range []Schema{nil, genSchema} {
			for _, f := range [][]string{nil, {}, {"a"}, {"a", "e"}} {
				compareDecoders(t, []byte(p), s, f)
			}
		}
	}
}

// FuzzDecodeFast compares the fast path with encoding/json on any payload.
func FuzzDecodeFast(f *testing.F) {
	for _, p := range []string{`{"a": 1, "b": [2.5, {"c": "\u00e9"}]}`, `[{"a": 1e400}]`, `{"a": "\ud800"}`, `[{"a": 1}, {"b": 9007199254740993}]`} {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		for _, s := range []Schema{nil, genSchema} {
			for _, fields := range [][]string{nil, {"a"}, {"b", "e"}} {
				compareDecoders(t, p, s, fields)
			}
		}
	})
}

// TestDecodeFastConcurrent decodes with one Decoder from many goroutines
// (run with -race).
func TestDecodeFastConcurrent(t *testing.T) {
	d, err := NewDecoder("json", nil, WithFields("a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for i := range 8 {
		go func() {
			for j := range 500 {
				p := fmt.Appendf(nil, `{"a": %d, "b": "s-%d", "c": [%d]}`, i, j, j)
				rows, err := d.Decode(p)
				if err == nil && (rows[0]["a"] != int64(i) || rows[0]["b"] != fmt.Sprintf("s-%d", j) || len(rows[0]) != 2) {
					err = fmt.Errorf("decode %s: got %v", p, rows)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestWithFields(t *testing.T) {
	d, _ := NewDecoder("json", nil, WithFields("device", "temperature", "device"))
	rows := decodeAll(t, d, `{"temperature": 63.5, "humidity": 45, "device": "s-17", "ts": 1700000000000}`)
	if want := []map[string]any{{"temperature": 63.5, "device": "s-17"}}; !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows = %#v", rows)
	}
	// Bad anywhere is bad.
	_, err := d.Decode([]byte(`{"temperature": 1, "ts": 1e400}`))
	if want := `decode JSON: number 1e400 out of range at offset 25`; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
	// A declared column not kept is still checked.
	d, _ = NewDecoder("json", Schema{{"temperature", scalar(Float)}, {"ts", scalar(Datetime)}}, WithFields("temperature"))
	_, err = d.Decode([]byte(`{"temperature": 1, "ts": "yesterday"}`))
	if want := `field "ts": want DATETIME (RFC 3339), got string "yesterday"`; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
	rows = decodeAll(t, d, `{"temperature": 1, "ts": 1700000000000, "x": 2}`)
	if want := []map[string]any{{"temperature": 1.0}}; !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows = %#v", rows)
	}
	// BINARY ignores it.
	d, _ = NewDecoder("binary", nil, WithFields("a"))
	if rows := decodeAll(t, d, "xy"); !reflect.DeepEqual(rows, []map[string]any{{"self": []byte("xy")}}) {
		t.Fatalf("rows = %#v", rows)
	}
}
