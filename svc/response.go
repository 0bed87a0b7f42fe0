package svc

import (
	"math"
	"strconv"
	"time"

	"github.com/valyala/fastjson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ToSQL maps a response message to a SQL value:
//
//   - a message is a map[string]any keyed by proto field name, holding every
//     field (zero values included, so f(x)->field always resolves); an unset
//     message or proto3-optional field is nil; of a oneof only the set member
//     appears;
//   - int32/int64/sint/sfixed and uint32 are int64; uint64 is int64 when it
//     fits, else uint64; float and double are float64 (a float keeps its
//     shortest decimal form: 0.1, not 0.10000000149);
//   - enums are their value name (an unknown number stays an int64);
//   - bytes are []byte, repeated fields []any, map fields map[string]any
//     (integer and bool keys written in decimal/true/false);
//   - well-known types: google.protobuf.Empty is nil, wrappers are their
//     bare value, Timestamp is a time.Time in UTC, Duration a time.Duration,
//     Struct/Value/ListValue their JSON value (numbers float64).
//
// This is the mapping of a gRPC reply: binary protobuf does not say whether
// a field without presence was sent, so every field is there. A REST reply
// in JSON keeps only the keys sent; see HTTPCall.ResponseToSQL.
func ToSQL(m proto.Message) any {
	if m == nil {
		return nil
	}
	r := m.ProtoReflect()
	if !r.IsValid() {
		return nil
	}
	return messageToSQL(r)
}

// ValueToSQL maps the value v of field fd (a whole list or map for
// repeated and map fields) as ToSQL does.
func ValueToSQL(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch {
	case fd.IsMap():
		out := make(map[string]any, v.Map().Len())
		v.Map().Range(func(k protoreflect.MapKey, e protoreflect.Value) bool {
			out[mapKeyString(k)] = singularToSQL(fd.MapValue(), e)
			return true
		})
		return out
	case fd.IsList():
		l := v.List()
		out := make([]any, l.Len())
		for i := range out {
			out[i] = singularToSQL(fd, l.Get(i))
		}
		return out
	}
	return singularToSQL(fd, v)
}

func messageToSQL(m protoreflect.Message) any {
	md := m.Descriptor()
	fs := md.Fields()
	switch md.FullName() {
	case "google.protobuf.Empty":
		return nil
	case "google.protobuf.Timestamp":
		s, n := m.Get(fs.ByName("seconds")).Int(), m.Get(fs.ByName("nanos")).Int()
		return time.Unix(s, n).UTC()
	case "google.protobuf.Duration":
		s, n := m.Get(fs.ByName("seconds")).Int(), m.Get(fs.ByName("nanos")).Int()
		return time.Duration(s)*time.Second + time.Duration(n)
	case "google.protobuf.Struct":
		out := map[string]any{}
		fd := fs.ByName("fields")
		m.Get(fd).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			out[k.String()] = messageToSQL(v.Message())
			return true
		})
		return out
	case "google.protobuf.ListValue":
		l := m.Get(fs.ByName("values")).List()
		out := make([]any, l.Len())
		for i := range out {
			out[i] = messageToSQL(l.Get(i).Message())
		}
		return out
	case "google.protobuf.Value":
		od := md.Oneofs().ByName("kind")
		fd := m.WhichOneof(od)
		if fd == nil {
			return nil
		}
		switch fd.Name() {
		case "null_value":
			return nil
		case "struct_value", "list_value":
			return messageToSQL(m.Get(fd).Message())
		}
		return singularToSQL(fd, m.Get(fd))
	}
	if isWrapper(md) {
		fd := fs.Get(0)
		return singularToSQL(fd, m.Get(fd))
	}
	out := make(map[string]any, fs.Len())
	for i := 0; i < fs.Len(); i++ {
		fd := fs.Get(i)
		od := fd.ContainingOneof()
		set := m.Has(fd)
		switch {
		case od != nil && !od.IsSynthetic() && !set:
			continue
		case fd.HasPresence() && !set:
			out[string(fd.Name())] = nil
		default:
			out[string(fd.Name())] = ValueToSQL(fd, m.Get(fd))
		}
	}
	return out
}

func singularToSQL(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BytesKind:
		return append([]byte{}, v.Bytes()...)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int()
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		u := v.Uint()
		if u > math.MaxInt64 {
			return u
		}
		return int64(u)
	case protoreflect.FloatKind:
		f := float32(v.Float())
		if math.IsInf(float64(f), 0) || math.IsNaN(float64(f)) {
			return float64(f)
		}
		d, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
		return d
	case protoreflect.DoubleKind:
		return v.Float()
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return int64(v.Enum())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return messageToSQL(v.Message())
	}
	return nil
}

func mapKeyString(k protoreflect.MapKey) string {
	switch x := k.Interface().(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	}
	return k.String()
}

// sentParsers parse the JSON of REST replies once more, to see which keys
// were sent.
var sentParsers fastjson.ParserPool

// sentToSQL maps m, which protojson decoded from the JSON sent, as
// messageToSQL does but with only the fields whose keys sent holds (see
// sentMessageToSQL).
func sentToSQL(m protoreflect.Message, sent []byte) any {
	p := sentParsers.Get()
	defer sentParsers.Put(p)
	v, err := p.ParseBytes(sent)
	if err != nil {
		return messageToSQL(m)
	}
	return sentMessageToSQL(m, v)
}

// sentMessageToSQL maps m, which protojson decoded from the JSON object
// sent, as messageToSQL does but with only the fields whose keys sent
// holds, under the names protojson reads (json_name or proto name). A
// well-known type is mapped whole, as ToSQL maps it. protojson has checked
// sent already; JSON of another shape (never, short of a bug) gets the
// full mapping rather than losing fields.
func sentMessageToSQL(m protoreflect.Message, sent *fastjson.Value) any {
	md := m.Descriptor()
	obj, err := sent.Object()
	if isWellKnown(md) || err != nil {
		return messageToSQL(m)
	}
	fs := md.Fields()
	out := make(map[string]any, obj.Len())
	obj.Visit(func(key []byte, raw *fastjson.Value) {
		fd := fs.ByJSONName(string(key))
		if fd == nil {
			fd = fs.ByTextName(string(key))
		}
		if fd == nil {
			return // protojson drops unknown keys too
		}
		out[string(fd.Name())] = sentValueToSQL(fd, m.Get(fd), raw)
	})
	return out
}

// sentValueToSQL maps the value v of field fd, decoded from sent, as
// ValueToSQL does, keeping to the keys sent in the messages it holds; a
// field sent as null is nil.
func sentValueToSQL(fd protoreflect.FieldDescriptor, v protoreflect.Value, sent *fastjson.Value) any {
	if sent.Type() == fastjson.TypeNull {
		return nil
	}
	elem := fd
	if fd.IsMap() {
		elem = fd.MapValue()
	}
	if md := elem.Message(); md == nil || isWellKnown(md) {
		return ValueToSQL(fd, v)
	}
	switch {
	case fd.IsMap():
		obj, err := sent.Object()
		if err != nil {
			return ValueToSQL(fd, v)
		}
		out := make(map[string]any, v.Map().Len())
		v.Map().Range(func(k protoreflect.MapKey, e protoreflect.Value) bool {
			key := mapKeyString(k)
			if raw := obj.Get(key); raw != nil {
				out[key] = sentMessageToSQL(e.Message(), raw)
			} else {
				out[key] = messageToSQL(e.Message())
			}
			return true
		})
		return out
	case fd.IsList():
		items, err := sent.Array()
		l := v.List()
		if err != nil || len(items) != l.Len() {
			return ValueToSQL(fd, v)
		}
		out := make([]any, l.Len())
		for i := range out {
			out[i] = sentMessageToSQL(l.Get(i).Message(), items[i])
		}
		return out
	}
	return sentMessageToSQL(v.Message(), sent)
}

// isWellKnown reports whether md is one of protobuf's well-known types,
// whose JSON forms are not objects of their fields.
func isWellKnown(md protoreflect.MessageDescriptor) bool {
	return md.FullName().Parent() == "google.protobuf"
}
