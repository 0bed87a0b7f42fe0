package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// kind is what a slot holds: one of the Go integer kinds (a counter), any
// other supported value, or nothing (a deleted key awaiting flush).
type kind uint8

const (
	kDeleted kind = iota
	kInt
	kInt8
	kInt16
	kInt32
	kInt64
	kUint
	kUint8
	kUint16
	kUint32
	kUint64
	kUintptr
	kValue
)

var intKindNames = [...]string{
	kInt: "int", kInt8: "int8", kInt16: "int16", kInt32: "int32", kInt64: "int64",
	kUint: "uint", kUint8: "uint8", kUint16: "uint16", kUint32: "uint32", kUint64: "uint64",
	kUintptr: "uintptr",
}

func (k kind) isInt() bool { return k >= kInt && k <= kUintptr }

func (k kind) signed() bool { return k >= kInt && k <= kInt64 }

// bounds returns the range of a signed kind.
func (k kind) bounds() (lo, hi int64) {
	switch k {
	case kInt:
		return math.MinInt, math.MaxInt
	case kInt8:
		return math.MinInt8, math.MaxInt8
	case kInt16:
		return math.MinInt16, math.MaxInt16
	case kInt32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// max returns the largest value of an unsigned kind.
func (k kind) max() uint64 {
	switch k {
	case kUint8:
		return math.MaxUint8
	case kUint16:
		return math.MaxUint16
	case kUint32:
		return math.MaxUint32
	case kUint:
		return math.MaxUint
	case kUintptr:
		return uint64(^uintptr(0))
	}
	return math.MaxUint64
}

// fits reports whether the bits n are in the range of k.
func (k kind) fits(n int64) bool {
	if k.signed() {
		lo, hi := k.bounds()
		return n >= lo && n <= hi
	}
	return uint64(n) <= k.max()
}

// add returns n+amount in kind k, or false when the result leaves the
// kind's range. Unsigned kinds keep their bits in n.
func add(k kind, n int64, amount int) (int64, bool) {
	a := int64(amount)
	if k.signed() {
		r := n + a
		if (a > 0 && r < n) || (a < 0 && r > n) {
			return n, false
		}
		if !k.fits(r) {
			return n, false
		}
		return r, true
	}
	u := uint64(n)
	var r uint64
	if a >= 0 {
		if r = u + uint64(a); r < u {
			return n, false
		}
	} else {
		d := uint64(-a) // also right for math.MinInt64
		if d > u {
			return n, false
		}
		r = u - d
	}
	if r > k.max() {
		return n, false
	}
	return int64(r), true
}

// intOf splits a Go integer into its kind and 64 bits.
func intOf(v any) (kind, int64, bool) {
	switch v := v.(type) {
	case int:
		return kInt, int64(v), true
	case int64:
		return kInt64, v, true
	case int32:
		return kInt32, int64(v), true
	case int16:
		return kInt16, int64(v), true
	case int8:
		return kInt8, int64(v), true
	case uint:
		return kUint, int64(v), true
	case uint64:
		return kUint64, int64(v), true
	case uint32:
		return kUint32, int64(v), true
	case uint16:
		return kUint16, int64(v), true
	case uint8:
		return kUint8, int64(v), true
	case uintptr:
		return kUintptr, int64(v), true
	}
	return 0, 0, false
}

// intValue turns kind and bits back into the Go integer.
func intValue(k kind, n int64) any {
	switch k {
	case kInt:
		return int(n)
	case kInt8:
		return int8(n)
	case kInt16:
		return int16(n)
	case kInt32:
		return int32(n)
	case kInt64:
		return n
	case kUint:
		return uint(n)
	case kUint8:
		return uint8(n)
	case kUint16:
		return uint16(n)
	case kUint32:
		return uint32(n)
	case kUint64:
		return uint64(n)
	case kUintptr:
		return uintptr(n)
	}
	return nil
}

// typeName names the type of a stored value in errors.
func typeName(k kind, v any) string {
	if k.isInt() {
		return intKindNames[k]
	}
	switch v.(type) {
	case nil:
		return "nil"
	case []byte:
		return "[]byte"
	case []any:
		return "[]any"
	case map[string]any:
		return "map[string]any"
	}
	return fmt.Sprintf("%T", v)
}

// unsupportedError is a value PutState refuses; path locates it inside
// maps and slices ("" at the top).
type unsupportedError struct {
	v    any
	path string
}

func (e *unsupportedError) Error() string {
	msg := fmt.Sprintf("cannot store %T", e.v)
	if e.path != "" {
		msg += " at " + e.path
	}
	return msg
}

// clone returns a private deep copy of a supported value, so callers can
// neither change stored state nor race with a flush through a map or slice
// they still hold.
func clone(v any) (any, error) {
	switch v := v.(type) {
	case nil, bool, float32, float64, string, time.Time,
		int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr:
		return v, nil
	case []byte:
		return append([]byte{}, v...), nil
	case []any:
		c := make([]any, len(v))
		for i, x := range v {
			var err error
			if c[i], err = clone(x); err != nil {
				return nil, prependPath(err, "["+strconv.Itoa(i)+"]")
			}
		}
		return c, nil
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, x := range v {
			y, err := clone(x)
			if err != nil {
				return nil, prependPath(err, "["+strconv.Quote(k)+"]")
			}
			c[k] = y
		}
		return c, nil
	}
	return nil, &unsupportedError{v: v}
}

func prependPath(err error, seg string) error {
	var u *unsupportedError
	if errors.As(err, &u) {
		u.path = seg + u.path
	}
	return err
}

// Encoding: a format byte, then the value as a type tag and a payload.
// Tags are part of the file format: never renumber them.
const formatV1 = 1

const (
	tagNil     = 0
	tagFalse   = 1
	tagTrue    = 2
	tagInt     = 3 // varint, likewise for the sized signed kinds
	tagInt8    = 4
	tagInt16   = 5
	tagInt32   = 6
	tagInt64   = 7
	tagUint    = 8 // uvarint, likewise for the sized unsigned kinds
	tagUint8   = 9
	tagUint16  = 10
	tagUint32  = 11
	tagUint64  = 12
	tagUintptr = 13
	tagFloat32 = 14 // 4 bytes, IEEE 754 bits, little endian
	tagFloat64 = 15 // 8 bytes, likewise
	tagString  = 16 // uvarint length, bytes
	tagBytes   = 17 // uvarint length, bytes
	tagTime    = 18 // uvarint length, time.Time.MarshalBinary
	tagList    = 19 // uvarint count, values
	tagMap     = 20 // uvarint count, then key (uvarint length, bytes) and value each
)

var intTags = [...]byte{
	kInt: tagInt, kInt8: tagInt8, kInt16: tagInt16, kInt32: tagInt32, kInt64: tagInt64,
	kUint: tagUint, kUint8: tagUint8, kUint16: tagUint16, kUint32: tagUint32, kUint64: tagUint64,
	kUintptr: tagUintptr,
}

var tagKinds = func() map[byte]kind {
	m := map[byte]kind{}
	for k, t := range intTags {
		if kind(k).isInt() {
			m[t] = kind(k)
		}
	}
	return m
}()

// encode appends the encoding of a slot's content to b.
func encode(b []byte, k kind, n int64, v any) ([]byte, error) {
	b = append(b, formatV1)
	if k.isInt() {
		return appendInt(b, k, n), nil
	}
	return appendValue(b, v)
}

func appendInt(b []byte, k kind, n int64) []byte {
	b = append(b, intTags[k])
	if k.signed() {
		return binary.AppendVarint(b, n)
	}
	return binary.AppendUvarint(b, uint64(n))
}

func appendValue(b []byte, v any) ([]byte, error) {
	if k, n, ok := intOf(v); ok {
		return appendInt(b, k, n), nil
	}
	switch v := v.(type) {
	case nil:
		return append(b, tagNil), nil
	case bool:
		if v {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case float32:
		return binary.LittleEndian.AppendUint32(append(b, tagFloat32), math.Float32bits(v)), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, tagFloat64), math.Float64bits(v)), nil
	case string:
		return appendString(append(b, tagString), v), nil
	case []byte:
		b = binary.AppendUvarint(append(b, tagBytes), uint64(len(v)))
		return append(b, v...), nil
	case time.Time:
		t, err := v.MarshalBinary()
		if err != nil {
			return nil, err
		}
		b = binary.AppendUvarint(append(b, tagTime), uint64(len(t)))
		return append(b, t...), nil
	case []any:
		b = binary.AppendUvarint(append(b, tagList), uint64(len(v)))
		for _, x := range v {
			var err error
			if b, err = appendValue(b, x); err != nil {
				return nil, err
			}
		}
		return b, nil
	case map[string]any:
		b = binary.AppendUvarint(append(b, tagMap), uint64(len(v)))
		for k, x := range v {
			b = appendString(b, k)
			var err error
			if b, err = appendValue(b, x); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, &unsupportedError{v: v}
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

var errShort = errors.New("truncated value")

// decode is the inverse of encode.
func decode(b []byte) (k kind, n int64, v any, err error) {
	if len(b) == 0 || b[0] != formatV1 {
		return 0, 0, nil, errors.New("unknown value format")
	}
	d := decoder{b: b[1:]}
	if len(d.b) > 0 && tagKinds[d.b[0]] != 0 {
		k, n = d.int()
	} else {
		k, v = kValue, d.value(0)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("trailing bytes")
	}
	return k, n, v, d.err
}

// decoder reads values until the first error, which sticks.
type decoder struct {
	b   []byte
	err error
}

// maxDepth bounds nesting so a corrupt value cannot exhaust the stack.
const maxDepth = 1000

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) take(n uint64) []byte {
	if uint64(len(d.b)) < n {
		d.fail(errShort)
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) uvarint() uint64 {
	x, w := binary.Uvarint(d.b)
	if w <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[w:]
	return x
}

func (d *decoder) varint() int64 {
	x, w := binary.Varint(d.b)
	if w <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[w:]
	return x
}

// count reads a length or element count, which cannot exceed the bytes
// left: each element takes at least one.
func (d *decoder) count() uint64 {
	c := d.uvarint()
	if c > uint64(len(d.b)) {
		d.fail(errShort)
		return 0
	}
	return c
}

func (d *decoder) int() (kind, int64) {
	k := tagKinds[d.b[0]] // the caller saw an int tag
	d.b = d.b[1:]
	var n int64
	if k.signed() {
		n = d.varint()
	} else {
		n = int64(d.uvarint())
	}
	if d.err != nil {
		return 0, 0
	}
	if !k.fits(n) {
		d.fail(fmt.Errorf("%s out of range", intKindNames[k]))
		return 0, 0
	}
	return k, n
}

func (d *decoder) value(depth int) any {
	if depth > maxDepth {
		d.fail(errors.New("nested too deep"))
		return nil
	}
	if len(d.b) == 0 {
		d.fail(errShort)
		return nil
	}
	switch tag := d.b[0]; tag {
	case tagNil, tagFalse, tagTrue:
		d.b = d.b[1:]
		if tag == tagNil {
			return nil
		}
		return tag == tagTrue
	case tagInt, tagInt8, tagInt16, tagInt32, tagInt64,
		tagUint, tagUint8, tagUint16, tagUint32, tagUint64, tagUintptr:
		return intValue(d.int())
	case tagFloat32:
		d.b = d.b[1:]
		if p := d.take(4); p != nil {
			return math.Float32frombits(binary.LittleEndian.Uint32(p))
		}
	case tagFloat64:
		d.b = d.b[1:]
		if p := d.take(8); p != nil {
			return math.Float64frombits(binary.LittleEndian.Uint64(p))
		}
	case tagString:
		d.b = d.b[1:]
		return string(d.take(d.count()))
	case tagBytes:
		d.b = d.b[1:]
		return append([]byte{}, d.take(d.count())...)
	case tagTime:
		d.b = d.b[1:]
		var t time.Time
		if p := d.take(d.count()); d.err == nil {
			if err := t.UnmarshalBinary(p); err != nil {
				d.fail(err)
			}
		}
		return t
	case tagList:
		d.b = d.b[1:]
		l := make([]any, d.count())
		for i := range l {
			l[i] = d.value(depth + 1)
		}
		return l
	case tagMap:
		d.b = d.b[1:]
		c := d.count()
		m := make(map[string]any, c)
		for range c {
			k := string(d.take(d.count()))
			m[k] = d.value(depth + 1)
		}
		return m
	default:
		d.fail(fmt.Errorf("unknown type tag %d", tag))
	}
	return nil
}

// Marshal encodes v, which may be any value PutState takes, as state keeps
// it in the store; Unmarshal gives it back with its types.
func Marshal(v any) ([]byte, error) {
	k, n, isInt := intOf(v)
	if !isInt {
		k = kValue
	}
	return encode(nil, k, n, v)
}

// Unmarshal decodes what Marshal made.
func Unmarshal(b []byte) (any, error) {
	k, n, v, err := decode(b)
	if err != nil {
		return nil, err
	}
	if k.isInt() {
		return intValue(k, n), nil
	}
	return v, nil
}
