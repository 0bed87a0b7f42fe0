package svc

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kgen-dev/kgen/internal/sqlvalue"
)

// BuildRequest maps the SQL arguments of a call of function fn to a request
// message of type in, as eKuiper does, with its order restriction lifted:
//
//   - no arguments: only for a request without fields;
//   - one map argument (a row, from fn(*), fn(* EXCEPT(c)) or a map literal)
//     is unfolded: each request field takes the value under its proto name
//     (or JSON name); other keys are ignored. When no key matches and the
//     request has one field, the map fills that field instead;
//   - one other argument fills a one-field request (fn(self) on a BINARY
//     stream fills a google.protobuf.BytesValue);
//   - N arguments fill the N fields in declaration order, whatever their
//     numbers; the count must match.
//
// A nil argument leaves its field unset. Values are coerced within their
// kind (see setField); errors name fn, the field path and both types.
func BuildRequest(fn string, in protoreflect.MessageDescriptor, args []any) (*dynamicpb.Message, error) {
	m := dynamicpb.NewMessage(in)
	if err := FillRequest(fn, m, args); err != nil {
		return nil, err
	}
	return m, nil
}

// FillRequest is BuildRequest into m, which may be a compiled message (as
// generated clients use) or a dynamic one; m should be empty. On error m
// may be partly set.
func FillRequest(fn string, m protoreflect.Message, args []any) error {
	return fill(fn, reflectTarget{m}, args)
}

// fill maps the SQL arguments of fn into t, as BuildRequest describes.
func fill(fn string, t target, args []any) error {
	in := t.Descriptor()
	fields := in.Fields()
	c := coercer{fn: fn}
	switch len(args) {
	case 0:
		if fields.Len() != 0 {
			return fmt.Errorf("function %q: want %s, got no arguments", fn, wantArgs(in))
		}
		return nil
	case 1:
		if row, ok := args[0].(map[string]any); ok {
			found, err := c.unfold(t, row, "")
			if err != nil {
				return err
			}
			if found || fields.Len() != 1 {
				if !found && fields.Len() > 1 && len(row) > 0 {
					return fmt.Errorf("function %q: map argument has none of the fields %s", fn, fieldList(in))
				}
				return nil
			}
		}
		if fields.Len() == 1 {
			return c.set(t, fields.Get(0), args[0], "")
		}
		return fmt.Errorf("function %q: want %s, got 1 argument", fn, wantArgs(in))
	}
	if len(args) != fields.Len() {
		return fmt.Errorf("function %q: want %s, got %d arguments", fn, wantArgs(in), len(args))
	}
	for i, a := range args {
		if err := c.set(t, fields.Get(i), a, ""); err != nil {
			return err
		}
	}
	return nil
}

// wantArgs says what arguments a request takes: `2 arguments (shelf, book)
// or one map`.
func wantArgs(in protoreflect.MessageDescriptor) string {
	n := in.Fields().Len()
	switch n {
	case 0:
		return "no arguments"
	case 1:
		return "1 argument " + fieldList(in)
	}
	return fmt.Sprintf("%d arguments %s or one map", n, fieldList(in))
}

func fieldList(in protoreflect.MessageDescriptor) string {
	fs := in.Fields()
	names := make([]string, fs.Len())
	for i := range names {
		names[i] = string(fs.Get(i).Name())
	}
	return "(" + strings.Join(names, ", ") + ")"
}

type coercer struct{ fn string }

// target is what one walk of a call's arguments fills: a message through
// protoreflect (reflectTarget, for BuildRequest and FillRequest) or its
// wire encoding (*wireMessage, for EncodeRequest). The walk coerces each
// value once; a target only stores what it is given.
type target interface {
	Descriptor() protoreflect.MessageDescriptor
	WhichOneof(protoreflect.OneofDescriptor) protoreflect.FieldDescriptor
	// Set sets singular field fd.
	Set(fd protoreflect.FieldDescriptor, v protoreflect.Value)
	// appendElem appends an element to list field fd, and setEntry sets
	// an entry of map field fd; endField follows the last of them.
	appendElem(fd protoreflect.FieldDescriptor, v protoreflect.Value)
	setEntry(fd protoreflect.FieldDescriptor, k protoreflect.MapKey, v protoreflect.Value)
	endField(fd protoreflect.FieldDescriptor)
	// newMessage returns an empty message for a value of field fd: the
	// field itself, an element or a map value.
	newMessage(fd protoreflect.FieldDescriptor) target
	// asValue is the message as a value of a field, element or map entry
	// of its parent.
	asValue() protoreflect.Value
	// viaReflect fills the (empty) message through protoreflect with f:
	// the well-known types are filled that way.
	viaReflect(f func(protoreflect.Message) error) error
}

// reflectTarget fills a protoreflect.Message.
type reflectTarget struct{ protoreflect.Message }

func (t reflectTarget) appendElem(fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	t.Mutable(fd).List().Append(v)
}

func (t reflectTarget) setEntry(fd protoreflect.FieldDescriptor, k protoreflect.MapKey, v protoreflect.Value) {
	t.Mutable(fd).Map().Set(k, v)
}

func (t reflectTarget) endField(protoreflect.FieldDescriptor) {}

func (t reflectTarget) newMessage(fd protoreflect.FieldDescriptor) target {
	switch {
	case fd.IsMap():
		return reflectTarget{t.Mutable(fd).Map().NewValue().Message()}
	case fd.IsList():
		return reflectTarget{t.Mutable(fd).List().NewElement().Message()}
	}
	return reflectTarget{t.NewField(fd).Message()}
}

func (t reflectTarget) asValue() protoreflect.Value { return protoreflect.ValueOfMessage(t.Message) }

func (t reflectTarget) viaReflect(f func(protoreflect.Message) error) error { return f(t.Message) }

// elemPath is the path of a value being coerced: a field's path (whole),
// or an element of it, by list index or map key.
type elemPath struct {
	base  string
	whole bool
	index int
	key   string
	isKey bool
}

func (p elemPath) String() string {
	switch {
	case p.whole:
		return p.base
	case p.isKey:
		return fmt.Sprintf("%s[%q]", p.base, p.key)
	}
	return p.base + "[" + strconv.Itoa(p.index) + "]"
}

// fieldError is `function "f": field "a.b": want int64, got string "x"`.
func (c coercer) fieldError(path string, want string, v any, extra string) error {
	msg := fmt.Sprintf("function %q: field %q: want %s, got %s", c.fn, path, want, sqlvalue.Describe(v))
	if extra != "" {
		msg += " (" + extra + ")"
	}
	return fmt.Errorf("%s", msg)
}

func join(prefix string, fd protoreflect.FieldDescriptor) string {
	if prefix == "" {
		return string(fd.Name())
	}
	return prefix + "." + string(fd.Name())
}

// unfold sets the fields of m from row by proto name, then JSON name. It
// reports whether any field was present.
func (c coercer) unfold(t target, row map[string]any, prefix string) (bool, error) {
	found := false
	fields := t.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		v, ok := row[string(fd.Name())]
		if !ok {
			v, ok = row[fd.JSONName()]
		}
		if !ok {
			continue
		}
		found = true
		if err := c.set(t, fd, v, prefix); err != nil {
			return found, err
		}
	}
	return found, nil
}

// set coerces v into field fd of t; nil leaves it unset.
func (c coercer) set(t target, fd protoreflect.FieldDescriptor, v any, prefix string) error {
	if v == nil {
		return nil
	}
	p := join(prefix, fd)
	if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
		if other := t.WhichOneof(od); other != nil && other != fd {
			return fmt.Errorf("function %q: field %q: oneof %q already set by %q", c.fn, p, od.Name(), other.Name())
		}
	}
	switch {
	case fd.IsMap():
		mv, ok := v.(map[string]any)
		if !ok {
			return c.fieldError(p, typeName(fd), v, "")
		}
		for _, k := range slices.Sorted(maps.Keys(mv)) {
			kp := elemPath{base: p, key: k, isKey: true}
			key, err := mapKey(fd.MapKey(), k)
			if err != nil {
				return fmt.Errorf("function %q: field %q: map key: %v", c.fn, kp, err)
			}
			if mv[k] == nil {
				continue
			}
			val, err := c.value(t, fd, fd.MapValue(), mv[k], kp)
			if err != nil {
				return err
			}
			t.setEntry(fd, key, val)
		}
		t.endField(fd)
		return nil
	case fd.IsList():
		items, ok := asSlice(v)
		if !ok {
			return c.fieldError(p, typeName(fd), v, "")
		}
		for i, it := range items {
			ip := elemPath{base: p, index: i}
			if it == nil {
				return c.fieldError(ip.String(), typeName(fd)[len("repeated "):], nil, "")
			}
			val, err := c.value(t, fd, fd, it, ip)
			if err != nil {
				return err
			}
			t.appendElem(fd, val)
		}
		t.endField(fd)
		return nil
	}
	val, err := c.value(t, fd, fd, v, elemPath{base: p, whole: true})
	if err != nil {
		return err
	}
	t.Set(fd, val)
	return nil
}

// value coerces one singular value (a list element, map value or field)
// of the kind of fd. For message kinds, the value is a new message of t
// for field outer (fd itself, or the map field whose values fd describes).
//
// p is formatted only when needed (an error, or the prefix of a nested
// message's fields), so that a valid list costs no path strings.
func (c coercer) value(t target, outer, fd protoreflect.FieldDescriptor, v any, p elemPath) (protoreflect.Value, error) {
	want := scalarName(fd)
	bad := func(extra string) (protoreflect.Value, error) {
		return protoreflect.Value{}, c.fieldError(p.String(), want, v, extra)
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if b, ok := v.(bool); ok {
			return protoreflect.ValueOfBool(b), nil
		}
		return bad("")
	case protoreflect.StringKind:
		switch s := v.(type) {
		case string:
			return protoreflect.ValueOfString(s), nil
		case []byte:
			if !utf8.Valid(s) {
				return bad("not UTF-8")
			}
			return protoreflect.ValueOfString(string(s)), nil
		}
		return bad("")
	case protoreflect.BytesKind:
		switch b := v.(type) {
		case []byte:
			return protoreflect.ValueOfBytes(append([]byte(nil), b...)), nil
		case string:
			return protoreflect.ValueOfBytes([]byte(b)), nil
		}
		return bad("")
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, ok, exact := toInt(v)
		if !ok {
			return bad("")
		}
		if !exact || n < math.MinInt32 || n > math.MaxInt32 {
			return bad("out of range")
		}
		return protoreflect.ValueOfInt32(int32(n)), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, ok, exact := toInt(v)
		if !ok {
			return bad("")
		}
		if !exact {
			return bad("out of range")
		}
		return protoreflect.ValueOfInt64(n), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, ok, exact := toUint(v)
		if !ok {
			return bad("")
		}
		if !exact || n > math.MaxUint32 {
			return bad("out of range")
		}
		return protoreflect.ValueOfUint32(uint32(n)), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, ok, exact := toUint(v)
		if !ok {
			return bad("")
		}
		if !exact {
			return bad("out of range")
		}
		return protoreflect.ValueOfUint64(n), nil
	case protoreflect.FloatKind:
		f, ok := toFloat(v)
		if !ok {
			return bad("")
		}
		if !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) > math.MaxFloat32 {
			return bad("out of range")
		}
		return protoreflect.ValueOfFloat32(float32(f)), nil
	case protoreflect.DoubleKind:
		f, ok := toFloat(v)
		if !ok {
			return bad("")
		}
		return protoreflect.ValueOfFloat64(f), nil
	case protoreflect.EnumKind:
		ed := fd.Enum()
		switch s := v.(type) {
		case string:
			if ev := ed.Values().ByName(protoreflect.Name(s)); ev != nil {
				return protoreflect.ValueOfEnum(ev.Number()), nil
			}
			return bad("no such value")
		}
		n, ok, exact := toInt(v)
		if !ok {
			return bad("")
		}
		if !exact || n < math.MinInt32 || n > math.MaxInt32 || ed.Values().ByNumber(protoreflect.EnumNumber(n)) == nil {
			return bad("no such value")
		}
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		mt := t.newMessage(outer)
		if err := c.message(mt, v, p.String(), want); err != nil {
			return protoreflect.Value{}, err
		}
		return mt.asValue(), nil
	}
	return bad("unsupported kind")
}

// message fills t (empty) from v: a map for any message, or for the
// well-known types their natural Go value.
func (c coercer) message(t target, v any, p, want string) error {
	if isWellKnown(t.Descriptor()) {
		return t.viaReflect(func(m protoreflect.Message) error { return c.wellKnown(m, v, p, want) })
	}
	x, ok := v.(map[string]any)
	if !ok {
		return c.fieldError(p, want, v, "")
	}
	_, err := c.unfold(t, x, p)
	return err
}

// wellKnown fills m (empty), a message of package google.protobuf, from v.
func (c coercer) wellKnown(m protoreflect.Message, v any, p, want string) error {
	md := m.Descriptor()
	bad := func(extra string) error { return c.fieldError(p, want, v, extra) }
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		var t time.Time
		switch x := v.(type) {
		case time.Time:
			t = x
		case string:
			var err error
			if t, err = time.Parse(time.RFC3339Nano, x); err != nil {
				return bad("not RFC 3339")
			}
		case map[string]any:
			_, err := c.unfold(reflectTarget{m}, x, p)
			return err
		default:
			return bad("")
		}
		ts := timestamppb.New(t)
		if ts.CheckValid() != nil {
			return bad("out of range")
		}
		setSecondsNanos(m, ts.Seconds, ts.Nanos)
		return nil
	case "google.protobuf.Duration":
		var d time.Duration
		switch x := v.(type) {
		case time.Duration:
			d = x
		case string:
			var err error
			if d, err = time.ParseDuration(x); err != nil {
				return bad("not a duration like \"1.5s\"")
			}
		case map[string]any:
			_, err := c.unfold(reflectTarget{m}, x, p)
			return err
		default:
			return bad("")
		}
		dp := durationpb.New(d)
		setSecondsNanos(m, dp.Seconds, dp.Nanos)
		return nil
	case "google.protobuf.Empty":
		if x, ok := v.(map[string]any); ok && len(x) == 0 {
			return nil
		}
		return bad("")
	case "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue":
		return c.structValue(m, v, p, want)
	}
	if isWrapper(md) {
		if x, ok := v.(map[string]any); ok {
			_, err := c.unfold(reflectTarget{m}, x, p)
			return err
		}
		fd := md.Fields().Get(0)
		val, err := c.value(nil, fd, fd, v, elemPath{base: p, whole: true})
		if err != nil {
			return err
		}
		m.Set(fd, val)
		return nil
	}
	x, ok := v.(map[string]any)
	if !ok {
		return bad("")
	}
	_, err := c.unfold(reflectTarget{m}, x, p)
	return err
}

func (c coercer) structValue(m protoreflect.Message, v any, p, want string) error {
	var pm interface{ ProtoReflect() protoreflect.Message }
	var err error
	switch m.Descriptor().FullName() {
	case "google.protobuf.Struct":
		x, ok := v.(map[string]any)
		if !ok {
			return c.fieldError(p, want, v, "")
		}
		pm, err = structpb.NewStruct(normalizeJSON(x).(map[string]any))
	case "google.protobuf.ListValue":
		x, ok := asSlice(v)
		if !ok {
			return c.fieldError(p, want, v, "")
		}
		pm, err = structpb.NewList(normalizeJSON(x).([]any))
	default:
		pm, err = structpb.NewValue(normalizeJSON(v))
	}
	if err != nil {
		return c.fieldError(p, want, v, err.Error())
	}
	// Copy through the wire-independent reflection API: m may be a
	// dynamicpb message of the same descriptor.
	src := pm.ProtoReflect()
	src.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		copyField(m, m.Descriptor().Fields().ByNumber(fd.Number()), val, fd)
		return true
	})
	return nil
}

// copyField copies val of src field sfd into dst field fd, recursing into
// messages so that generated and dynamic messages mix.
func copyField(dst protoreflect.Message, fd protoreflect.FieldDescriptor, val protoreflect.Value, sfd protoreflect.FieldDescriptor) {
	conv := func(v protoreflect.Value, newMsg func() protoreflect.Value) protoreflect.Value {
		if sfd.Message() == nil {
			return v
		}
		nv := newMsg()
		v.Message().Range(func(f protoreflect.FieldDescriptor, x protoreflect.Value) bool {
			copyField(nv.Message(), nv.Message().Descriptor().Fields().ByNumber(f.Number()), x, f)
			return true
		})
		return nv
	}
	switch {
	case fd.IsMap():
		dm := dst.Mutable(fd).Map()
		val.Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			dm.Set(k, conv(v, dm.NewValue))
			return true
		})
	case fd.IsList():
		dl := dst.Mutable(fd).List()
		for i := 0; i < val.List().Len(); i++ {
			dl.Append(conv(val.List().Get(i), dl.NewElement))
		}
	default:
		dst.Set(fd, conv(val, func() protoreflect.Value { return dst.NewField(fd) }))
	}
}

// normalizeJSON turns SQL values into what structpb accepts.
func normalizeJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeJSON(e)
		}
		return out
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	}
	if s, ok := asSlice(v); ok {
		return normalizeJSON(s)
	}
	return v
}

func setSecondsNanos(m protoreflect.Message, s int64, n int32) {
	fs := m.Descriptor().Fields()
	if s != 0 {
		m.Set(fs.ByName("seconds"), protoreflect.ValueOfInt64(s))
	}
	if n != 0 {
		m.Set(fs.ByName("nanos"), protoreflect.ValueOfInt32(n))
	}
}

// isWrapper reports whether md is one of google/protobuf/wrappers.proto.
func isWrapper(md protoreflect.MessageDescriptor) bool {
	switch md.FullName() {
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
		"google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue":
		return true
	}
	return false
}

func mapKey(kd protoreflect.FieldDescriptor, k string) (protoreflect.MapKey, error) {
	switch kd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(k).MapKey(), nil
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(k)
		if err != nil {
			return protoreflect.MapKey{}, fmt.Errorf("want bool, got %q", k)
		}
		return protoreflect.ValueOfBool(b).MapKey(), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(k, 10, 32)
		if err != nil {
			return protoreflect.MapKey{}, fmt.Errorf("want int32, got %q", k)
		}
		return protoreflect.ValueOfInt32(int32(n)).MapKey(), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return protoreflect.MapKey{}, fmt.Errorf("want int64, got %q", k)
		}
		return protoreflect.ValueOfInt64(n).MapKey(), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(k, 10, 32)
		if err != nil {
			return protoreflect.MapKey{}, fmt.Errorf("want uint32, got %q", k)
		}
		return protoreflect.ValueOfUint32(uint32(n)).MapKey(), nil
	default:
		n, err := strconv.ParseUint(k, 10, 64)
		if err != nil {
			return protoreflect.MapKey{}, fmt.Errorf("want uint64, got %q", k)
		}
		return protoreflect.ValueOfUint64(n).MapKey(), nil
	}
}

// toInt converts an integer, or a float64 with an integral value (JSON
// numbers), to int64. exact is false when the value does not fit.
func toInt(v any) (n int64, ok, exact bool) {
	switch x := v.(type) {
	case int64:
		return x, true, true
	case int:
		return int64(x), true, true
	case int32:
		return int64(x), true, true
	case int16:
		return int64(x), true, true
	case int8:
		return int64(x), true, true
	case uint64:
		return int64(x), true, x <= math.MaxInt64
	case uint32:
		return int64(x), true, true
	case uint:
		return int64(x), true, uint64(x) <= math.MaxInt64
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return 0, false, false
		}
		if x < -(1<<63) || x >= 1<<63 {
			return 0, true, false
		}
		return int64(x), true, true
	case float32:
		return toInt(float64(x))
	}
	return 0, false, false
}

func toUint(v any) (n uint64, ok, exact bool) {
	switch x := v.(type) {
	case uint64:
		return x, true, true
	case uint32:
		return uint64(x), true, true
	case uint:
		return uint64(x), true, true
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return 0, false, false
		}
		if x < 0 || x >= 1<<64 {
			return 0, true, false
		}
		return uint64(x), true, true
	}
	i, ok, exact := toInt(v)
	if !ok {
		return 0, false, false
	}
	return uint64(i), true, exact && i >= 0
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	if i, ok, exact := toInt(v); ok && exact {
		return float64(i), true
	}
	if u, ok, _ := toUint(v); ok {
		return float64(u), true
	}
	return 0, false
}

// asSlice accepts []any and any other slice but []byte.
func asSlice(v any) ([]any, bool) {
	if s, ok := v.([]any); ok {
		return s, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice || rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// typeName names the proto type of a field for errors: int64,
// repeated kgen.test.Tag, map<string, int64>, enum kgen.test.Color.
func typeName(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.IsMap():
		return "map<" + scalarName(fd.MapKey()) + ", " + scalarName(fd.MapValue()) + ">"
	case fd.IsList():
		return "repeated " + scalarName(fd)
	}
	return scalarName(fd)
}

func scalarName(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		return "enum " + string(fd.Enum().FullName())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return string(fd.Message().FullName())
	}
	return fd.Kind().String()
}
