package svc

import (
	"cmp"
	"math"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// EncodeRequest is BuildRequest followed by a deterministic proto.Marshal
// (proto.MarshalOptions{Deterministic: true}), without the message in
// between: the arguments are coerced as BuildRequest coerces them, with
// the same errors, and written straight to the wire, byte for byte as
// Marshal writes the message (fields in its order, map entries sorted by
// key, packed lists packed). Well-known types go through a message of
// their own. A request Marshal would refuse (invalid UTF-8 in a proto3
// string, a required field unset) gets Marshal's error.
func EncodeRequest(fn string, in protoreflect.MessageDescriptor, args []any) ([]byte, error) {
	w := &wireMessage{md: in, b: make([]byte, 0, 128)}
	w.root = w
	w.spans = w.spanBuf[:0]
	if err := fill(fn, w, args); err != nil {
		return nil, err
	}
	b := w.finish()
	if w.refused {
		// Rare: let Marshal say what is wrong, in its words.
		m, err := BuildRequest(fn, in, args)
		if err != nil {
			return nil, err
		}
		return proto.MarshalOptions{Deterministic: true}.Marshal(m)
	}
	return b, nil
}

// wireMessage is a target that encodes a message. Fields are written in
// the order the walk sets them (declaration order, mostly) and put in
// Marshal's order by finish.
type wireMessage struct {
	md   protoreflect.MessageDescriptor
	root *wireMessage
	b    []byte
	// spans are the fields written, one span of b each.
	spans   []wireSpan
	spanBuf [8]wireSpan
	// open is the list or map field being written; packedAt is where the
	// length of a packed list goes.
	open     wireSpan
	packedAt int
	entries  []wireEntry
	// refused (on the root) says Marshal would refuse the message.
	refused bool
}

type wireSpan struct {
	fd         protoreflect.FieldDescriptor
	start, end int
}

type wireEntry struct {
	k protoreflect.MapKey
	v protoreflect.Value
}

func (w *wireMessage) Descriptor() protoreflect.MessageDescriptor { return w.md }

func (w *wireMessage) WhichOneof(od protoreflect.OneofDescriptor) protoreflect.FieldDescriptor {
	for _, s := range w.spans {
		if s.fd.ContainingOneof() == od {
			return s.fd
		}
	}
	return nil
}

// Set writes singular field fd, unless it lacks presence and v is its zero
// value: Marshal skips those.
func (w *wireMessage) Set(fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	if !fd.HasPresence() && isZeroScalar(fd, v) {
		return
	}
	start := len(w.b)
	w.b = w.appendField(w.b, fd, v)
	w.spans = append(w.spans, wireSpan{fd, start, len(w.b)})
}

func (w *wireMessage) appendElem(fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	if w.open.fd != fd {
		w.open = wireSpan{fd: fd, start: len(w.b)}
		if fd.IsPacked() {
			w.b = protowire.AppendTag(w.b, fd.Number(), protowire.BytesType)
			w.packedAt = len(w.b)
			w.b = append(w.b, 0)
		}
	}
	if fd.IsPacked() {
		w.b = w.appendScalar(w.b, fd, v)
		return
	}
	w.b = w.appendField(w.b, fd, v)
}

func (w *wireMessage) setEntry(fd protoreflect.FieldDescriptor, k protoreflect.MapKey, v protoreflect.Value) {
	w.entries = append(w.entries, wireEntry{k, v})
}

func (w *wireMessage) endField(fd protoreflect.FieldDescriptor) {
	switch {
	case fd.IsMap():
		w.endMap(fd)
	case w.open.fd == fd:
		if fd.IsPacked() {
			w.b = finishLength(w.b, w.packedAt)
		}
		w.spans = append(w.spans, wireSpan{fd, w.open.start, len(w.b)})
	}
	w.open = wireSpan{}
}

// endMap writes the entries of map field fd as Marshal does: sorted by
// key, key and value always written. Of entries with equal keys ("1" and
// "01" for an int32 key) the last set wins, as with protoreflect.Map.Set.
func (w *wireMessage) endMap(fd protoreflect.FieldDescriptor) {
	if len(w.entries) == 0 {
		return
	}
	kf, vf := fd.MapKey(), fd.MapValue()
	slices.SortStableFunc(w.entries, func(a, b wireEntry) int { return compareMapKeys(kf, a.k, b.k) })
	start := len(w.b)
	for i, e := range w.entries {
		if i+1 < len(w.entries) && compareMapKeys(kf, e.k, w.entries[i+1].k) == 0 {
			continue
		}
		w.b = protowire.AppendTag(w.b, fd.Number(), protowire.BytesType)
		at := len(w.b)
		w.b = append(w.b, 0)
		w.b = w.appendField(w.b, kf, e.k.Value())
		w.b = w.appendField(w.b, vf, e.v)
		w.b = finishLength(w.b, at)
	}
	w.spans = append(w.spans, wireSpan{fd, start, len(w.b)})
	clear(w.entries)
	w.entries = w.entries[:0]
}

func (w *wireMessage) newMessage(fd protoreflect.FieldDescriptor) target {
	if fd.IsMap() {
		fd = fd.MapValue()
	}
	c := &wireMessage{md: fd.Message(), root: w.root}
	c.spans = c.spanBuf[:0]
	return c
}

// asValue is the encoded message, as bytes.
func (w *wireMessage) asValue() protoreflect.Value { return protoreflect.ValueOfBytes(w.finish()) }

// viaReflect fills a dynamic message with f and marshals it. A message
// Marshal refuses is left empty, and the request is made again the slow
// way for Marshal's error.
func (w *wireMessage) viaReflect(f func(protoreflect.Message) error) error {
	m := dynamicpb.NewMessage(w.md)
	if err := f(m); err != nil {
		return err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		w.root.refused = true
		return nil
	}
	w.b, w.spans = b, nil
	return nil
}

// finish returns the encoding, its fields in Marshal's order.
func (w *wireMessage) finish() []byte {
	if req := w.md.RequiredNumbers(); req.Len() > 0 {
		for i := range req.Len() {
			if !slices.ContainsFunc(w.spans, func(s wireSpan) bool { return s.fd.Number() == req.Get(i) }) {
				w.root.refused = true
			}
		}
	}
	if slices.IsSortedFunc(w.spans, compareSpans) {
		return w.b
	}
	spans := slices.Clone(w.spans)
	slices.SortFunc(spans, compareSpans)
	b := make([]byte, 0, len(w.b))
	for _, s := range spans {
		b = append(b, w.b[s.start:s.end]...)
	}
	return b
}

// compareSpans orders fields as Marshal does with Deterministic set
// (protobuf-go's order.LegacyFieldOrder): fields outside a oneof by
// number, then the oneofs by declaration.
func compareSpans(a, b wireSpan) int {
	oa, ob := realOneof(a.fd), realOneof(b.fd)
	if (oa == nil) != (ob == nil) {
		if oa == nil {
			return -1
		}
		return 1
	}
	if oa != nil && oa != ob {
		return cmp.Compare(oa.Index(), ob.Index())
	}
	return cmp.Compare(a.fd.Number(), b.fd.Number())
}

func realOneof(fd protoreflect.FieldDescriptor) protoreflect.OneofDescriptor {
	if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
		return od
	}
	return nil
}

// compareMapKeys orders map keys as Marshal does (order.GenericKeyOrder).
func compareMapKeys(kf protoreflect.FieldDescriptor, a, b protoreflect.MapKey) int {
	switch kf.Kind() {
	case protoreflect.BoolKind:
		x, y := a.Bool(), b.Bool()
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case protoreflect.StringKind:
		return cmp.Compare(a.String(), b.String())
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		return cmp.Compare(a.Uint(), b.Uint())
	}
	return cmp.Compare(a.Int(), b.Int())
}

// appendField appends the tag and value of a singular value of fd (a
// message value is its encoding, as bytes).
func (w *wireMessage) appendField(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch fd.Kind() {
	case protoreflect.MessageKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
		return protowire.AppendBytes(b, v.Bytes())
	case protoreflect.GroupKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.StartGroupType)
		b = append(b, v.Bytes()...)
		return protowire.AppendTag(b, fd.Number(), protowire.EndGroupType)
	}
	b = protowire.AppendTag(b, fd.Number(), scalarWireType(fd.Kind()))
	return w.appendScalar(b, fd, v)
}

// appendScalar appends a scalar value without its tag, as Marshal does.
func (w *wireMessage) appendScalar(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protowire.AppendVarint(b, protowire.EncodeBool(v.Bool()))
	case protoreflect.EnumKind:
		return protowire.AppendVarint(b, uint64(v.Enum()))
	case protoreflect.Int32Kind:
		return protowire.AppendVarint(b, uint64(int32(v.Int())))
	case protoreflect.Sint32Kind:
		return protowire.AppendVarint(b, protowire.EncodeZigZag(int64(int32(v.Int()))))
	case protoreflect.Uint32Kind:
		return protowire.AppendVarint(b, uint64(uint32(v.Uint())))
	case protoreflect.Int64Kind:
		return protowire.AppendVarint(b, uint64(v.Int()))
	case protoreflect.Sint64Kind:
		return protowire.AppendVarint(b, protowire.EncodeZigZag(v.Int()))
	case protoreflect.Uint64Kind:
		return protowire.AppendVarint(b, v.Uint())
	case protoreflect.Sfixed32Kind:
		return protowire.AppendFixed32(b, uint32(v.Int()))
	case protoreflect.Fixed32Kind:
		return protowire.AppendFixed32(b, uint32(v.Uint()))
	case protoreflect.FloatKind:
		return protowire.AppendFixed32(b, math.Float32bits(float32(v.Float())))
	case protoreflect.Sfixed64Kind:
		return protowire.AppendFixed64(b, uint64(v.Int()))
	case protoreflect.Fixed64Kind:
		return protowire.AppendFixed64(b, v.Uint())
	case protoreflect.DoubleKind:
		return protowire.AppendFixed64(b, math.Float64bits(v.Float()))
	case protoreflect.StringKind:
		if enforceUTF8(fd) && !utf8.ValidString(v.String()) {
			w.root.refused = true
		}
		return protowire.AppendString(b, v.String())
	case protoreflect.BytesKind:
		return protowire.AppendBytes(b, v.Bytes())
	}
	return b
}

func scalarWireType(k protoreflect.Kind) protowire.Type {
	switch k {
	case protoreflect.Sfixed32Kind, protoreflect.Fixed32Kind, protoreflect.FloatKind:
		return protowire.Fixed32Type
	case protoreflect.Sfixed64Kind, protoreflect.Fixed64Kind, protoreflect.DoubleKind:
		return protowire.Fixed64Type
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		return protowire.BytesType
	case protoreflect.GroupKind:
		return protowire.StartGroupType
	}
	return protowire.VarintType
}

// finishLength writes the length of b[at+1:] at b[at], where one byte was
// kept for it, moving the bytes on when the length takes more.
func finishLength(b []byte, at int) []byte {
	n := len(b) - at - 1
	size := protowire.SizeVarint(uint64(n))
	if size != 1 {
		b = append(b, make([]byte, size-1)...)
		copy(b[at+size:], b[at+1:at+1+n])
	}
	protowire.AppendVarint(b[:at], uint64(n))
	return b
}

// isZeroScalar reports whether v is the zero value of fd, a field without
// presence: such a field is not written (dynamicpb's isSet).
func isZeroScalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return !v.Bool()
	case protoreflect.EnumKind:
		return v.Enum() == 0
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Int64Kind, protoreflect.Sint64Kind,
		protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
		return v.Int() == 0
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		return v.Uint() == 0
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return v.Float() == 0 && !math.Signbit(v.Float())
	case protoreflect.StringKind:
		return v.String() == ""
	case protoreflect.BytesKind:
		return len(v.Bytes()) == 0
	}
	return false
}

// enforceUTF8 reports whether protobuf-go checks that string field fd
// holds UTF-8 (its internal strs.EnforceUTF8).
func enforceUTF8(fd protoreflect.FieldDescriptor) bool {
	if fd.Syntax() == protoreflect.Editions {
		if e, ok := fd.(interface{ EnforceUTF8() bool }); ok {
			return e.EnforceUTF8()
		}
	}
	return fd.Syntax() == protoreflect.Proto3
}
