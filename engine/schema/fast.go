package schema

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// The fast path decodes JSON with fastjson, whose pooled parsers build a
// tree of the payload without allocating, and materialises only the fields
// a rule reads. It gives the rows the encoding/json path (decodeStd)
// gives, and hands every payload it is not sure of to that path, which
// then also writes the error: fastjson refuses it (it nests deeper than
// fastjson.MaxDepth), it is not valid UTF-8 or escapes a UTF-16 surrogate
// (encoding/json replaces those, fastjson keeps them), a number is beyond
// float64, or its top level is not an object or an array of objects.

// An Option configures a Decoder.
type Option interface{ apply(*Decoder) }

type fieldsOption []string

func (o fieldsOption) apply(d *Decoder) {
	d.selective = true
	d.fields = slices.Compact(slices.Sorted(slices.Values(o)))
}

// WithFields makes a JSON decoder keep only the named top-level fields of
// each row (each element of an array), as if the others were not in the
// payload; they are still checked, so a payload that is bad anywhere is
// an error as without the option. With a schema the declared columns not
// named are checked against their types all the same, and rows then have
// the named fields that are declared. No names give empty rows. A BINARY
// decoder ignores the option.
func WithFields(names ...string) Option { return fieldsOption(slices.Clone(names)) }

// fastState is what one decode on the fast path works with; the Decoder
// pools them, which makes it safe for concurrent use.
type fastState struct {
	p   fastjson.Parser
	num []byte // a number's text
	// pending holds, by schema index, the value of each declared column
	// that is not kept, to be checked against its type.
	pending []*fastjson.Value
	failed  bool // a value the fast path cannot decode
}

// fastPath says whether decodeFast may take payload: it is valid UTF-8,
// escapes no UTF-16 surrogate (\uD800 to \uDFFF) and may nest no deeper
// than fastjson goes. (fastjson's error for too deep a payload is a chain
// of an error per level, each with the text of those within.)
func fastPath(payload []byte) bool {
	if !utf8.Valid(payload) {
		return false
	}
	if len(payload) >= fastjson.MaxDepth && bytes.Count(payload, []byte("["))+bytes.Count(payload, []byte("{")) >= fastjson.MaxDepth &&
		nesting(payload) >= fastjson.MaxDepth {
		return false
	}
	for i := 0; ; {
		j := bytes.Index(payload[i:], []byte(`\u`))
		if j < 0 {
			return true
		}
		i += j + 2
		if i+1 < len(payload) && (payload[i] == 'd' || payload[i] == 'D') {
			switch c := payload[i+1]; {
			case c >= '8' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
				return false
			}
		}
	}
}

// nesting is how deep the arrays and objects of payload nest, counting the
// brackets outside strings.
func nesting(payload []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range payload {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped = c == '\\'
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// decodeFast is DecodeInto's fast path. It reports false, having emitted
// nothing, for a payload it leaves to decodeStd.
func (d *Decoder) decodeFast(payload []byte, emit func(map[string]any) error) (bool, error) {
	if !fastPath(payload) {
		return false, nil
	}
	st, _ := d.states.Get().(*fastState)
	if st == nil {
		st = &fastState{pending: make([]*fastjson.Value, len(d.schema))}
	}
	defer d.states.Put(st)
	v, err := st.p.ParseBytes(payload)
	if err != nil || fastjson.ValidateBytes(payload) != nil {
		return false, nil
	}
	st.failed = false
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		row, tmp := d.row(st, o)
		if st.failed {
			return false, nil
		}
		if d.schema != nil {
			if err := d.convert(row, tmp); err != nil {
				return true, err
			}
		}
		return true, emit(row)
	case fastjson.TypeArray:
		elems, _ := v.Array()
		rows := make([]map[string]any, len(elems))
		tmps := make([][]string, len(elems))
		for i, e := range elems {
			if e.Type() != fastjson.TypeObject {
				return false, nil
			}
			o, _ := e.Object()
			rows[i], tmps[i] = d.row(st, o)
			if st.failed {
				return false, nil
			}
		}
		if d.schema != nil {
			for i, row := range rows {
				if err := d.convert(row, tmps[i]); err != nil {
					return true, errorAt(i, err)
				}
			}
		}
		for _, row := range rows {
			if err := emit(row); err != nil {
				return true, err
			}
		}
		return true, nil
	}
	return false, nil
}

// row materialises the kept fields of o. With a schema and fields to keep,
// the declared columns not kept whose values might not convert come too,
// named in tmp, so that Convert checks them; the caller removes them.
func (d *Decoder) row(st *fastState, o *fastjson.Object) (row map[string]any, tmp []string) {
	if !d.selective {
		row = make(map[string]any, o.Len())
		o.Visit(func(k []byte, v *fastjson.Value) {
			row[string(k)] = st.value(v)
		})
		return row, nil
	}
	row = make(map[string]any, len(d.fields))
	clear(st.pending)
	o.Visit(func(k []byte, v *fastjson.Value) {
		if i, ok := slices.BinarySearch(d.fields, string(k)); ok {
			row[d.fields[i]] = st.value(v)
			return
		}
		st.check(v)
		if d.schema != nil {
			for i := range d.schema {
				if d.schema[i].Name == string(k) {
					st.pending[i] = v // the last of duplicate keys wins
					break
				}
			}
		}
	})
	if d.schema == nil {
		return row, nil
	}
	for i, v := range st.pending {
		if v == nil || st.surelyConverts(&d.schema[i].Type, v) {
			continue
		}
		name := d.schema[i].Name
		row[name] = st.value(v)
		tmp = append(tmp, name)
	}
	return row, tmp
}

// convert converts a row of the fast path by the schema and removes the
// columns materialised only to be checked.
func (d *Decoder) convert(row map[string]any, tmp []string) error {
	if err := convertFields(d.schema, row); err != nil {
		return err
	}
	for _, k := range tmp {
		delete(row, k)
	}
	return nil
}

// value materialises v as encoding/json decodes it into an interface, with
// the number rule of DecodeInto. On a number beyond float64 it sets
// st.failed.
func (st *fastState) value(v *fastjson.Value) any {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return string(b)
	case fastjson.TypeNumber:
		st.num = v.MarshalTo(st.num[:0])
		n, ok := numberText(st.num)
		if !ok {
			st.failed = true
		}
		return n
	case fastjson.TypeObject:
		o, _ := v.Object()
		m := make(map[string]any, o.Len())
		o.Visit(func(k []byte, v *fastjson.Value) {
			m[string(k)] = st.value(v)
		})
		return m
	case fastjson.TypeArray:
		elems, _ := v.Array()
		l := make([]any, len(elems))
		for i, e := range elems {
			l[i] = st.value(e)
		}
		return l
	case fastjson.TypeTrue:
		return true
	case fastjson.TypeFalse:
		return false
	}
	return nil
}

// check sets st.failed when v, a value not kept, holds a number beyond
// float64, which encoding/json refuses.
func (st *fastState) check(v *fastjson.Value) {
	switch v.Type() {
	case fastjson.TypeNumber:
		st.num = v.MarshalTo(st.num[:0])
		// Only an exponent or some 309 digits reach beyond float64.
		if len(st.num) > 300 || bytes.IndexAny(st.num, "eE") >= 0 {
			if _, err := strconv.ParseFloat(string(st.num), 64); err != nil {
				st.failed = true
			}
		}
	case fastjson.TypeObject:
		o, _ := v.Object()
		o.Visit(func(_ []byte, v *fastjson.Value) { st.check(v) })
	case fastjson.TypeArray:
		elems, _ := v.Array()
		for _, e := range elems {
			st.check(e)
		}
	}
}

// numberText applies the int64-or-float64 rule to the text of a valid JSON
// number, as number does; false when it is beyond float64.
func numberText(b []byte) (any, bool) {
	if integerText(b) {
		if i, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			return i, true
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return nil, false
	}
	if i, ok := exactInt(f); ok {
		return i, true
	}
	return f, true
}

// integerText reports whether b is a JSON integer: no fraction, no
// exponent.
func integerText(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// surelyConverts reports whether Convert surely accepts v as type t, so
// that a column not kept need not be materialised to be checked. False
// means maybe.
func (st *fastState) surelyConverts(t *Type, v *fastjson.Value) bool {
	typ := v.Type()
	if typ == fastjson.TypeNull {
		return true
	}
	switch t.Kind {
	case Any:
		return true
	case Float:
		return typ == fastjson.TypeNumber
	case Bigint:
		if typ != fastjson.TypeNumber {
			return false
		}
		st.num = v.MarshalTo(st.num[:0])
		if !integerText(st.num) {
			return false
		}
		_, err := strconv.ParseInt(string(st.num), 10, 64)
		return err == nil
	case String:
		return typ == fastjson.TypeString
	case Boolean:
		return typ == fastjson.TypeTrue || typ == fastjson.TypeFalse
	case Array:
		if typ != fastjson.TypeArray {
			return false
		}
		if t.Elem == nil {
			return true
		}
		elems, _ := v.Array()
		for _, e := range elems {
			if !st.surelyConverts(t.Elem, e) {
				return false
			}
		}
		return true
	case Struct:
		return typ == fastjson.TypeObject && len(t.Fields) == 0
	case Datetime:
		switch typ {
		case fastjson.TypeNumber: // milliseconds: an exact float64 will do
			st.num = v.MarshalTo(st.num[:0])
			if !integerText(st.num) {
				return false
			}
			n, err := strconv.ParseInt(string(st.num), 10, 64)
			return err == nil && n > -maxExact && n < maxExact
		case fastjson.TypeString:
			b, _ := v.StringBytes()
			_, err := time.Parse(time.RFC3339Nano, string(b))
			return err == nil
		}
	}
	return false // BYTEA: the text must be base64
}

// errorAt prefixes the error of element i of an array payload.
func errorAt(i int, err error) error {
	return fmt.Errorf("element %d: %w", i, err)
}
