package svc

import (
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// DecodeToSQL maps the wire encoding of a message of type out to a SQL
// value: what proto.Unmarshal into a dynamic message followed by ToSQL
// gives, without the message in between. Like Unmarshal it skips unknown
// fields and fields of the wrong wire type, keeps the last of a repeated
// singular scalar, merges a message field sent twice and accepts lists
// packed or not; it refuses malformed data, invalid UTF-8 in a proto3
// string and an unset required field. google.protobuf.Struct, Value and
// ListValue are decoded through a dynamic message.
func DecodeToSQL(out protoreflect.MessageDescriptor, wire []byte) (any, error) {
	return decodeMessage(out, wire, protowireDepth)
}

// protowireDepth is proto.UnmarshalOptions' default recursion limit.
const protowireDepth = 10000

// errSkip marks a field of the wrong wire type: Unmarshal skips it as an
// unknown field.
var errSkip = errors.New("skip")

func errMalformed(md protoreflect.MessageDescriptor, num protowire.Number) error {
	return fmt.Errorf("decode %s: field %d: malformed wire data", md.FullName(), num)
}

// pendingMsg is an occurrence of a singular message field: all of a
// field's occurrences are decoded together, merged, as their
// concatenation once each is seen to hold whole fields.
type pendingMsg struct {
	fd  protoreflect.FieldDescriptor
	seg []byte
}

func decodeMessage(md protoreflect.MessageDescriptor, b []byte, depth int) (any, error) {
	if depth--; depth < 0 {
		return nil, fmt.Errorf("decode %s: nested too deep", md.FullName())
	}
	if isWellKnown(md) {
		switch md.FullName() {
		case "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue":
			return decodeReflect(md, b, depth)
		case "google.protobuf.Empty":
			if err := skipFields(md, b); err != nil {
				return nil, err
			}
			return nil, nil
		}
	}
	fields := md.Fields()
	out := make(map[string]any, fields.Len())
	var pendingBuf [4]pendingMsg
	pending := pendingBuf[:0]
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > protowire.MaxValidNumber {
			return nil, fmt.Errorf("decode %s: malformed field tag", md.FullName())
		}
		b = b[n:]
		fd := fields.ByNumber(num)
		err := errSkip
		if fd != nil {
			switch {
			case fd.IsList():
				n, err = decodeList(out, fd, typ, b, depth)
			case fd.IsMap():
				n, err = decodeMapEntry(out, fd, typ, b, depth)
			default:
				var v protoreflect.Value
				v, n, err = consumeScalar(fd, typ, b)
				if err != nil || n < 0 {
					break
				}
				if od := realOneof(fd); od != nil {
					pending = clearOneof(out, pending, od, fd)
				}
				if k := fd.Kind(); k == protoreflect.MessageKind || k == protoreflect.GroupKind {
					pending = append(pending, pendingMsg{fd, v.Bytes()})
					out[string(fd.Name())] = nil // set; decoded below
				} else {
					out[string(fd.Name())] = singularToSQL(fd, v)
				}
			}
		}
		if err == errSkip {
			n = protowire.ConsumeFieldValue(num, typ, b)
			err = nil
		}
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, errMalformed(md, num)
		}
		b = b[n:]
	}
	for i, p := range pending {
		if p.fd == nil {
			continue
		}
		seg := p.seg
		for j := i + 1; j < len(pending); j++ {
			if pending[j].fd == p.fd {
				if len(seg) == len(p.seg) {
					if err := skipFields(p.fd.Message(), seg); err != nil {
						return nil, err
					}
					seg = append([]byte(nil), seg...)
				}
				if err := skipFields(p.fd.Message(), pending[j].seg); err != nil {
					return nil, err
				}
				seg = append(seg, pending[j].seg...)
				pending[j].fd = nil
			}
		}
		v, err := decodeMessage(p.fd.Message(), seg, depth)
		if err != nil {
			return nil, err
		}
		out[string(p.fd.Name())] = v
	}
	if req := md.RequiredNumbers(); req.Len() > 0 {
		for i := range req.Len() {
			fd := fields.ByNumber(req.Get(i))
			if _, ok := out[string(fd.Name())]; !ok {
				return nil, fmt.Errorf("decode %s: required field %q not set", md.FullName(), fd.Name())
			}
		}
	}
	if isWellKnown(md) {
		if v, ok := wellKnownToSQL(md, out); ok {
			return v, nil
		}
	}
	for i := range fields.Len() {
		fd := fields.Get(i)
		name := string(fd.Name())
		if _, ok := out[name]; ok {
			continue
		}
		switch {
		case realOneof(fd) != nil:
		case fd.IsList():
			out[name] = []any{}
		case fd.IsMap():
			out[name] = map[string]any{}
		case fd.HasPresence():
			out[name] = nil
		default:
			out[name] = singularToSQL(fd, fd.Default())
		}
	}
	return out, nil
}

// clearOneof unsets the members of od but fd, as setting fd does.
func clearOneof(out map[string]any, pending []pendingMsg, od protoreflect.OneofDescriptor, fd protoreflect.FieldDescriptor) []pendingMsg {
	fs := od.Fields()
	for i := range fs.Len() {
		if f := fs.Get(i); f != fd {
			delete(out, string(f.Name()))
			for j := range pending {
				if pending[j].fd == f {
					pending[j].fd = nil
				}
			}
		}
	}
	return pending
}

// wellKnownToSQL maps the decoded fields of a well-known type (absent
// ones missing) as ToSQL does, or reports false for those mapped as
// messages.
func wellKnownToSQL(md protoreflect.MessageDescriptor, out map[string]any) (any, bool) {
	switch md.FullName() {
	case "google.protobuf.Timestamp", "google.protobuf.Duration":
		s, _ := out["seconds"].(int64)
		n, _ := out["nanos"].(int64)
		if md.FullName() == "google.protobuf.Duration" {
			return time.Duration(s)*time.Second + time.Duration(n), true
		}
		return time.Unix(s, n).UTC(), true
	}
	if isWrapper(md) {
		fd := md.Fields().Get(0)
		if v, ok := out[string(fd.Name())]; ok {
			return v, true
		}
		return singularToSQL(fd, fd.Default()), true
	}
	return nil, false
}

// decodeList decodes one occurrence of list field fd, packed or not, into
// out.
func decodeList(out map[string]any, fd protoreflect.FieldDescriptor, typ protowire.Type, b []byte, depth int) (int, error) {
	name := string(fd.Name())
	list, _ := out[name].([]any)
	if list == nil {
		list = []any{}
	}
	kind := fd.Kind()
	switch {
	case typ == protowire.BytesType && packable(kind):
		buf, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return n, nil
		}
		et := scalarWireType(kind)
		for len(buf) > 0 {
			v, m, err := consumeScalar(fd, et, buf)
			if err != nil || m < 0 {
				return -1, nil
			}
			list = append(list, singularToSQL(fd, v))
			buf = buf[m:]
		}
		out[name] = list
		return n, nil
	}
	v, n, err := consumeScalar(fd, typ, b)
	if err != nil || n < 0 {
		return n, err
	}
	if kind == protoreflect.MessageKind || kind == protoreflect.GroupKind {
		m, err := decodeMessage(fd.Message(), v.Bytes(), depth)
		if err != nil {
			return 0, err
		}
		out[name] = append(list, m)
		return n, nil
	}
	out[name] = append(list, singularToSQL(fd, v))
	return n, nil
}

// decodeMapEntry decodes one entry of map field fd into out, as Unmarshal
// does: a missing key or value is the field's default; of values sent
// twice, scalars keep the last, messages merge.
func decodeMapEntry(out map[string]any, fd protoreflect.FieldDescriptor, typ protowire.Type, b []byte, depth int) (int, error) {
	if depth--; depth < 0 {
		return 0, fmt.Errorf("decode %s: nested too deep", fd.FullName())
	}
	if typ != protowire.BytesType {
		return 0, errSkip
	}
	b, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return n, nil
	}
	kf, vf := fd.MapKey(), fd.MapValue()
	isMsg := vf.Kind() == protoreflect.MessageKind || vf.Kind() == protoreflect.GroupKind
	var key, val protoreflect.Value
	var haveKey, haveVal bool
	var msg []byte
	for len(b) > 0 {
		num, wt, m := protowire.ConsumeTag(b)
		if m < 0 || num > protowire.MaxValidNumber {
			return -1, nil
		}
		b = b[m:]
		err := errSkip
		switch num {
		case 1:
			// A key of the wrong wire type unsets the key read before, as
			// in Unmarshal (which then panics).
			if key, m, err = consumeScalar(kf, wt, b); err == nil {
				haveKey = true
			}
		case 2:
			var v protoreflect.Value
			if v, m, err = consumeScalar(vf, wt, b); err == nil && m >= 0 {
				haveVal = true
				switch {
				case !isMsg:
					val = v
				case msg == nil:
					msg = v.Bytes()
				default:
					// Merged: decoded as one, so each must hold whole fields.
					if err := skipFields(vf.Message(), msg); err != nil {
						return 0, err
					}
					if err := skipFields(vf.Message(), v.Bytes()); err != nil {
						return 0, err
					}
					msg = append(append([]byte(nil), msg...), v.Bytes()...)
				}
			}
		}
		if err == errSkip {
			m, err = protowire.ConsumeFieldValue(num, wt, b), nil
		}
		if err != nil {
			return 0, err
		}
		if m < 0 {
			return -1, nil
		}
		b = b[m:]
	}
	if !haveKey {
		key = kf.Default()
	}
	if !haveVal && !isMsg {
		val = vf.Default()
	}
	if !key.IsValid() || (!isMsg && !val.IsValid()) {
		// Unmarshal panics here with some descriptors (see safeUnmarshal).
		return 0, fmt.Errorf("decode %s: map entry without a key or value", fd.FullName())
	}
	var sv any
	if isMsg {
		var err error
		if sv, err = decodeMessage(vf.Message(), msg, depth); err != nil {
			return 0, err
		}
	} else {
		sv = singularToSQL(vf, val)
	}
	name := string(fd.Name())
	mv, _ := out[name].(map[string]any)
	if mv == nil {
		mv = map[string]any{}
		out[name] = mv
	}
	mv[mapKeyString(key.MapKey())] = sv
	return n, nil
}

// consumeScalar reads a value of fd's kind (a message or group as its
// bytes) as Unmarshal does: errSkip for another wire type, n < 0 for
// malformed data. Bytes and strings point into b.
func consumeScalar(fd protoreflect.FieldDescriptor, typ protowire.Type, b []byte) (protoreflect.Value, int, error) {
	kind := fd.Kind()
	if typ != scalarWireType(kind) {
		return protoreflect.Value{}, 0, errSkip
	}
	switch typ {
	case protowire.VarintType:
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return protoreflect.Value{}, n, nil
		}
		switch kind {
		case protoreflect.BoolKind:
			return protoreflect.ValueOfBool(protowire.DecodeBool(v)), n, nil
		case protoreflect.EnumKind:
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(v)), n, nil
		case protoreflect.Int32Kind:
			return protoreflect.ValueOfInt32(int32(v)), n, nil
		case protoreflect.Sint32Kind:
			return protoreflect.ValueOfInt32(int32(protowire.DecodeZigZag(v & math.MaxUint32))), n, nil
		case protoreflect.Uint32Kind:
			return protoreflect.ValueOfUint32(uint32(v)), n, nil
		case protoreflect.Int64Kind:
			return protoreflect.ValueOfInt64(int64(v)), n, nil
		case protoreflect.Sint64Kind:
			return protoreflect.ValueOfInt64(protowire.DecodeZigZag(v)), n, nil
		}
		return protoreflect.ValueOfUint64(v), n, nil
	case protowire.Fixed32Type:
		v, n := protowire.ConsumeFixed32(b)
		if n < 0 {
			return protoreflect.Value{}, n, nil
		}
		switch kind {
		case protoreflect.Sfixed32Kind:
			return protoreflect.ValueOfInt32(int32(v)), n, nil
		case protoreflect.FloatKind:
			return protoreflect.ValueOfFloat32(math.Float32frombits(v)), n, nil
		}
		return protoreflect.ValueOfUint32(v), n, nil
	case protowire.Fixed64Type:
		v, n := protowire.ConsumeFixed64(b)
		if n < 0 {
			return protoreflect.Value{}, n, nil
		}
		switch kind {
		case protoreflect.Sfixed64Kind:
			return protoreflect.ValueOfInt64(int64(v)), n, nil
		case protoreflect.DoubleKind:
			return protoreflect.ValueOfFloat64(math.Float64frombits(v)), n, nil
		}
		return protoreflect.ValueOfUint64(v), n, nil
	case protowire.StartGroupType:
		v, n := protowire.ConsumeGroup(fd.Number(), b)
		return protoreflect.ValueOfBytes(v), n, nil
	}
	v, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return protoreflect.Value{}, n, nil
	}
	if kind == protoreflect.StringKind {
		if enforceUTF8(fd) && !utf8.Valid(v) {
			return protoreflect.Value{}, 0, fmt.Errorf("decode %s: invalid UTF-8", fd.FullName())
		}
		return protoreflect.ValueOfString(string(v)), n, nil
	}
	return protoreflect.ValueOfBytes(v), n, nil
}

// packable reports whether a list of kind k may be sent packed.
func packable(k protoreflect.Kind) bool {
	switch k {
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind, protoreflect.GroupKind:
		return false
	}
	return true
}

// skipFields checks that b holds well-formed fields of a message md,
// without decoding them.
func skipFields(md protoreflect.MessageDescriptor, b []byte) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > protowire.MaxValidNumber {
			return fmt.Errorf("decode %s: malformed field tag", md.FullName())
		}
		b = b[n:]
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return errMalformed(md, num)
		}
		b = b[n:]
	}
	return nil
}

// decodeReflect decodes through a dynamic message, for the rare types.
func decodeReflect(md protoreflect.MessageDescriptor, b []byte, depth int) (v any, err error) {
	m := dynamicpb.NewMessage(md)
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("decode %s: %v", md.FullName(), r)
		}
	}()
	if err := (proto.UnmarshalOptions{RecursionLimit: depth + 1}).Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", md.FullName(), err)
	}
	return messageToSQL(m), nil
}
