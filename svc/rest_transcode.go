package svc

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// HTTPCall is an rpc call transcoded to HTTP: what the engine's REST
// transport sends, and what NewRESTHandler decodes back into the request.
type HTTPCall struct {
	Method string // the HTTP method: GET, POST, ...
	Path   string // starts with "/", escaped
	Query  string // encoded, without "?"; "" for none
	Body   []byte // protobuf JSON; nil for no body
	// ResponseBody names the output field the response body fills
	// (HttpRule.response_body); "" for the whole message.
	ResponseBody string
}

// NewHTTPCall transcodes a call of m with req: POST /<rpc> with the
// message as protobuf JSON, or as m's google.api.http rule says. Fields
// that fill path variables are left out of the body and query; a rule
// without a body sends the other populated scalar fields as query
// parameters named by dotted JSON names.
func NewHTTPCall(m protoreflect.MethodDescriptor, req proto.Message) (*HTTPCall, error) {
	rule := httpRuleOf(m)
	if rule == nil {
		body, err := protojson.Marshal(req)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		return &HTTPCall{Method: "POST", Path: "/" + string(m.Name()), Body: body}, nil
	}
	method, tmpl := httpRuleVerb(rule)
	if tmpl == "" {
		return nil, fmt.Errorf("http rule: no path")
	}
	msg := req.ProtoReflect()
	path, consumed, err := expandPathTemplate(tmpl, msg)
	if err != nil {
		return nil, err
	}
	call := &HTTPCall{Method: method, Path: path, ResponseBody: rule.GetResponseBody()}
	switch body := rule.GetBody(); body {
	case "":
		call.Query = queryParams(msg, consumed)
	case "*":
		rest := proto.Clone(req).ProtoReflect()
		for p := range consumed {
			clearFieldPath(rest, p)
		}
		if call.Body, err = protojson.Marshal(rest.Interface()); err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
	default:
		fds, err := resolveFieldPath(msg.Descriptor(), body)
		if err != nil {
			return nil, fmt.Errorf("http rule body %q: %w", body, err)
		}
		if len(fds) != 1 {
			return nil, fmt.Errorf("http rule body %q: want a top-level field", body)
		}
		if call.Body, err = fieldJSON(msg, fds[0]); err != nil {
			return nil, fmt.Errorf("encode request field %q: %w", body, err)
		}
		consumed[string(fds[0].Name())] = true
		call.Query = queryParams(msg, consumed)
	}
	return call, nil
}

// httpRuleOf returns m's google.api.http option, nil if it has none.
// Options of a compiled schema may hold the extension as unknown bytes or
// as a dynamic field, so they are re-read against the linked-in type.
func httpRuleOf(m protoreflect.MethodDescriptor) *annotations.HttpRule {
	opts := m.Options()
	if opts == nil {
		return nil
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(opts)
	if err != nil || len(b) == 0 {
		return nil
	}
	var mo descriptorpb.MethodOptions
	if err := (proto.UnmarshalOptions{Resolver: protoregistry.GlobalTypes}).Unmarshal(b, &mo); err != nil {
		return nil
	}
	if !proto.HasExtension(&mo, annotations.E_Http) {
		return nil
	}
	rule, _ := proto.GetExtension(&mo, annotations.E_Http).(*annotations.HttpRule)
	return rule
}

func httpRuleVerb(r *annotations.HttpRule) (method, path string) {
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return "GET", p.Get
	case *annotations.HttpRule_Put:
		return "PUT", p.Put
	case *annotations.HttpRule_Post:
		return "POST", p.Post
	case *annotations.HttpRule_Delete:
		return "DELETE", p.Delete
	case *annotations.HttpRule_Patch:
		return "PATCH", p.Patch
	case *annotations.HttpRule_Custom:
		return strings.ToUpper(p.Custom.GetKind()), p.Custom.GetPath()
	}
	return "", ""
}

// expandPathTemplate fills the variables of a path template ("/v1/{name=
// shelves/*}/books/{book.id}:verb") from msg. It returns the escaped path
// and the set of field paths (proto names, dotted) it used.
func expandPathTemplate(tmpl string, msg protoreflect.Message) (string, map[string]bool, error) {
	t, err := parsePathTemplate(tmpl)
	if err != nil {
		return "", nil, err
	}
	return t.expand(msg)
}

// pathTemplate is a parsed google.api.http path template. The client
// expands it and the REST handler matches requests against it, so both read
// one grammar:
//
//	Template = "/" Segment { "/" Segment } [ ":" Verb ]
//	Segment  = "*" | "**" | LITERAL | "{" FieldPath [ "=" Pattern ] "}"
//	Pattern  = ( "*" | "**" | LITERAL ) { "/" ( "*" | "**" | LITERAL ) }
//
// A variable's pattern ("*" when absent) is spliced into segs, so matching
// is one walk. "**" matches the rest of the path and must end the template.
// The leading "/" may be left out, as the client always allowed.
type pathTemplate struct {
	text string
	segs []string // literal, "*" (one non-empty segment) or "**" (the rest)
	vars []pathVar
	verb string // without ":"
}

// pathVar is one {field=pattern} of a template; it covers segs[start:end].
type pathVar struct {
	field      string // dotted, as written
	pattern    string // as written, "*" when absent
	start, end int
}

func parsePathTemplate(text string) (*pathTemplate, error) {
	bad := func(format string, args ...any) (*pathTemplate, error) {
		return nil, fmt.Errorf("http rule path %q: %s", text, fmt.Sprintf(format, args...))
	}
	s := strings.TrimPrefix(text, "/")
	// Split at the slashes outside braces, checking the braces pair up.
	var parts []string
	depth, from := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			if depth > 0 {
				return bad("nested {")
			}
			depth++
		case '}':
			if depth == 0 {
				return bad("unmatched }")
			}
			depth--
		case '/':
			if depth == 0 {
				parts = append(parts, s[from:i])
				from = i + 1
			}
		}
	}
	if depth > 0 {
		return bad("unclosed {")
	}
	parts = append(parts, s[from:])
	t := &pathTemplate{text: text}
	// The verb follows the first ":" outside braces in the last segment.
	last := parts[len(parts)-1]
	for i := 0; i < len(last); i++ {
		if last[i] == '{' {
			depth++
		} else if last[i] == '}' {
			depth--
		} else if last[i] == ':' && depth == 0 {
			t.verb = last[i+1:]
			parts[len(parts)-1] = last[:i]
			if t.verb == "" {
				return bad("empty verb after \":\"")
			}
			break
		}
	}
	root := len(parts) == 1 && parts[0] == "" && t.verb == "" // "/"
	for _, p := range parts {
		if p == "" && !root {
			return bad("empty segment")
		}
		if !strings.HasPrefix(p, "{") {
			if strings.ContainsAny(p, "{}") {
				return bad("variable in %q: want a whole segment", p)
			}
			t.segs = append(t.segs, p)
			continue
		}
		if !strings.HasSuffix(p, "}") {
			return bad("variable in %q: want a whole segment", p)
		}
		field, pattern, hasPattern := strings.Cut(p[1:len(p)-1], "=")
		if !isFieldPath(field) {
			return bad("variable %q: want a field path like a.b", p)
		}
		if !hasPattern {
			pattern = "*"
		}
		v := pathVar{field: field, pattern: pattern, start: len(t.segs)}
		for _, q := range strings.Split(pattern, "/") {
			if q == "" {
				return bad("variable %q: empty segment", p)
			}
			t.segs = append(t.segs, q)
		}
		v.end = len(t.segs)
		t.vars = append(t.vars, v)
	}
	for i, seg := range t.segs {
		if seg == "**" && i != len(t.segs)-1 {
			return bad("\"**\" must end the path")
		}
	}
	return t, nil
}

// isFieldPath reports a dotted path of identifiers ("sub.key").
func isFieldPath(s string) bool {
	for _, name := range strings.Split(s, ".") {
		if name == "" {
			return false
		}
		for i, c := range name {
			if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// expand fills t's variables from msg. It returns the escaped path and the
// set of field paths (proto names, dotted) it used. Bare "*" and "**"
// segments, which name no field, are written as they are.
func (t *pathTemplate) expand(msg protoreflect.Message) (string, map[string]bool, error) {
	consumed := map[string]bool{}
	var b strings.Builder
	vars := t.vars
	for i := 0; i < len(t.segs); {
		b.WriteByte('/')
		if len(vars) == 0 || vars[0].start != i {
			b.WriteString(t.segs[i])
			i++
			continue
		}
		v := vars[0]
		vars = vars[1:]
		i = v.end
		fds, err := resolveFieldPath(msg.Descriptor(), v.field)
		if err != nil {
			return "", nil, fmt.Errorf("http rule path %q: %w", t.text, err)
		}
		value, err := fieldPathString(msg, fds)
		if err != nil {
			return "", nil, fmt.Errorf("http rule path %q: field %q: %w", t.text, v.field, err)
		}
		escaped, ok := matchPathPattern(v.pattern, value)
		if !ok {
			return "", nil, fmt.Errorf("path field %q: value %q does not match %q", v.field, value, v.pattern)
		}
		b.WriteString(escaped)
		consumed[protoPath(fds)] = true
	}
	if t.verb != "" {
		b.WriteByte(':')
		b.WriteString(t.verb)
	}
	return b.String(), consumed, nil
}

// match fits a request path, split at "/" and still escaped, to t. It
// returns the values of t's variables, still escaped: one segment, or for
// a multi-segment pattern the segments joined by "/". A "%2F" thus stays
// inside its segment, as the client sends a "/" in a single-segment
// variable.
func (t *pathTemplate) match(segs []string) ([]string, bool) {
	n := len(segs)
	lastSeg := segs[n-1]
	if t.verb != "" {
		cut := len(lastSeg) - len(t.verb) - 1
		if cut < 0 || lastSeg[cut] != ':' || lastSeg[cut+1:] != t.verb {
			return nil, false
		}
		lastSeg = lastSeg[:cut]
	}
	at := func(i int) string {
		if i == n-1 {
			return lastSeg
		}
		return segs[i]
	}
	fixed := len(t.segs)
	rest := t.segs[fixed-1] == "**"
	if rest {
		fixed--
		if n < fixed {
			return nil, false
		}
	} else if n != fixed {
		return nil, false
	}
	for i := 0; i < fixed; i++ {
		switch seg, p := at(i), t.segs[i]; {
		case p == "*":
			if seg == "" {
				return nil, false
			}
		case seg != p:
			if strings.IndexByte(seg, '%') < 0 {
				return nil, false
			}
			if u, err := url.PathUnescape(seg); err != nil || u != p {
				return nil, false
			}
		}
	}
	if len(t.vars) == 0 {
		return nil, true
	}
	vals := make([]string, len(t.vars))
	for k, v := range t.vars {
		end := v.end
		if rest && end == len(t.segs) {
			end = n
		}
		if end-v.start == 1 {
			vals[k] = at(v.start)
			continue
		}
		var b strings.Builder
		for i := v.start; i < end; i++ {
			if i > v.start {
				b.WriteByte('/')
			}
			b.WriteString(at(i))
		}
		vals[k] = b.String()
	}
	return vals, true
}

// matchPathPattern checks value against a variable's pattern ("*",
// "messages/*", "shelves/*/books/**") and returns it escaped segment by
// segment, so a "/" in a single-segment variable is sent as %2F.
func matchPathPattern(pattern, value string) (string, bool) {
	pat := strings.Split(pattern, "/")
	if len(pat) == 1 && pat[0] == "*" {
		return url.PathEscape(value), value != ""
	}
	segs := strings.Split(value, "/")
	for i, p := range pat {
		if p == "**" {
			if i != len(pat)-1 {
				return "", false
			}
			break
		}
		if i >= len(segs) {
			return "", false
		}
		if (p == "*" && segs[i] == "") || (p != "*" && p != segs[i]) {
			return "", false
		}
		if i == len(pat)-1 && len(segs) != len(pat) {
			return "", false
		}
	}
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/"), true
}

// resolveFieldPath finds a dotted field path ("sub.key") in md by proto
// name, or by JSON name.
func resolveFieldPath(md protoreflect.MessageDescriptor, path string) ([]protoreflect.FieldDescriptor, error) {
	var fds []protoreflect.FieldDescriptor
	for i, name := range strings.Split(path, ".") {
		if md == nil {
			return nil, fmt.Errorf("field %q: %q is not a message", path, strings.Join(strings.Split(path, ".")[:i], "."))
		}
		fd := md.Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			fd = md.Fields().ByJSONName(name)
		}
		if fd == nil {
			return nil, fmt.Errorf("field %q not found in %s", path, md.FullName())
		}
		fds = append(fds, fd)
		md = nil
		if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() {
			md = fd.Message()
		}
	}
	return fds, nil
}

func protoPath(fds []protoreflect.FieldDescriptor) string {
	names := make([]string, len(fds))
	for i, fd := range fds {
		names[i] = string(fd.Name())
	}
	return strings.Join(names, ".")
}

// fieldPathString is the value at a path of singular scalar fields, as
// text; unset fields give their default.
func fieldPathString(msg protoreflect.Message, fds []protoreflect.FieldDescriptor) (string, error) {
	for _, fd := range fds[:len(fds)-1] {
		msg = msg.Get(fd).Message()
	}
	fd := fds[len(fds)-1]
	if fd.IsList() || fd.IsMap() {
		return "", fmt.Errorf("want a singular field, got a repeated one")
	}
	if fd.Kind() == protoreflect.MessageKind && isWrapperMessage(fd.Message()) {
		inner := msg.Get(fd).Message()
		vfd := fd.Message().Fields().ByName("value")
		return scalarString(vfd, inner.Get(vfd))
	}
	return scalarString(fd, msg.Get(fd))
}

// scalarString formats a scalar value as transcoding puts it in paths and
// queries: enums by name, bytes in URL-safe base64.
func scalarString(fd protoreflect.FieldDescriptor, v protoreflect.Value) (string, error) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return v.String(), nil
	case protoreflect.BytesKind:
		return base64.URLEncoding.EncodeToString(v.Bytes()), nil
	case protoreflect.BoolKind:
		return strconv.FormatBool(v.Bool()), nil
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name()), nil
		}
		return strconv.Itoa(int(v.Enum())), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(v.Int(), 10), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.FormatUint(v.Uint(), 10), nil
	case protoreflect.FloatKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 32), nil
	case protoreflect.DoubleKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64), nil
	}
	return "", fmt.Errorf("want a scalar, got %s", fd.Kind())
}

// parseScalar reads a scalar of fd's kind as scalarString writes it, from a
// path variable or query parameter. Like grpc-gateway it also takes enum
// numbers, bytes in standard or URL-safe base64 with or without padding,
// and strconv's booleans ("1", "t", ...).
func parseScalar(fd protoreflect.FieldDescriptor, s string) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		if fd.Syntax() != protoreflect.Proto2 && !utf8.ValidString(s) {
			return protoreflect.Value{}, fmt.Errorf("want UTF-8 text, got %q", clipText(s))
		}
		return protoreflect.ValueOfString(s), nil
	case protoreflect.BytesKind:
		t := strings.TrimRight(s, "=")
		enc := base64.RawURLEncoding
		if strings.ContainsAny(t, "+/") {
			enc = base64.RawStdEncoding
		}
		b, err := enc.DecodeString(t)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("want base64, got %q", clipText(s))
		}
		return protoreflect.ValueOfBytes(b), nil
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("want true or false, got %q", clipText(s))
		}
		return protoreflect.ValueOfBool(b), nil
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByName(protoreflect.Name(s)); ev != nil {
			return protoreflect.ValueOfEnum(ev.Number()), nil
		}
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("want a value of enum %s, got %q", fd.Enum().FullName(), clipText(s))
		}
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("want a 32-bit integer, got %q", clipText(s))
		}
		return protoreflect.ValueOfInt32(int32(n)), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("want a 64-bit integer, got %q", clipText(s))
		}
		return protoreflect.ValueOfInt64(n), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("want an unsigned 32-bit integer, got %q", clipText(s))
		}
		return protoreflect.ValueOfUint32(uint32(n)), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("want an unsigned 64-bit integer, got %q", clipText(s))
		}
		return protoreflect.ValueOfUint64(n), nil
	case protoreflect.FloatKind:
		f, err := strconv.ParseFloat(s, 32)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("want a 32-bit number, got %q", clipText(s))
		}
		return protoreflect.ValueOfFloat32(float32(f)), nil
	case protoreflect.DoubleKind:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("want a number, got %q", clipText(s))
		}
		return protoreflect.ValueOfFloat64(f), nil
	}
	return protoreflect.Value{}, fmt.Errorf("want a scalar, got %s", fd.Kind())
}

// clearFieldPath clears a dotted proto-name path in msg, if set.
func clearFieldPath(msg protoreflect.Message, path string) {
	fds, err := resolveFieldPath(msg.Descriptor(), path)
	if err != nil {
		return
	}
	for _, fd := range fds[:len(fds)-1] {
		if !msg.Has(fd) {
			return
		}
		msg = msg.Mutable(fd).Message()
	}
	msg.Clear(fds[len(fds)-1])
}

// fieldJSON is the protobuf JSON of one field's value (body: "field").
func fieldJSON(msg protoreflect.Message, fd protoreflect.FieldDescriptor) ([]byte, error) {
	only := msg.New()
	if msg.Has(fd) {
		only.Set(fd, msg.Get(fd))
	} else if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() {
		return []byte("{}"), nil
	}
	// Unpopulated fields are emitted only for an unset scalar or list, so
	// its default is sent; a set message keeps proto JSON's omissions.
	b, err := protojson.MarshalOptions{EmitUnpopulated: !msg.Has(fd)}.Marshal(only.Interface())
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, err
	}
	return fields[fd.JSONName()], nil
}

// queryParams encodes the populated fields of msg not in consumed as query
// parameters, named by dotted JSON names: scalars, repeated scalars and
// wrappers; nested messages are walked. Maps and repeated messages have no
// query form and are left out.
func queryParams(msg protoreflect.Message, consumed map[string]bool) string {
	q := url.Values{}
	addQueryParams(q, msg, "", "", consumed)
	return q.Encode()
}

func addQueryParams(q url.Values, msg protoreflect.Message, protoPrefix, jsonPrefix string, consumed map[string]bool) {
	msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		pp := protoPrefix + string(fd.Name())
		jp := jsonPrefix + fd.JSONName()
		if consumed[pp] || fd.IsMap() {
			return true
		}
		switch {
		case fd.IsList():
			if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
				return true
			}
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				if s, err := scalarString(fd, l.Get(i)); err == nil {
					q.Add(jp, s)
				}
			}
		case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
			if isWrapperMessage(fd.Message()) {
				vfd := fd.Message().Fields().ByName("value")
				if s, err := scalarString(vfd, v.Message().Get(vfd)); err == nil {
					q.Add(jp, s)
				}
				return true
			}
			addQueryParams(q, v.Message(), pp+".", jp+".", consumed)
		default:
			if s, err := scalarString(fd, v); err == nil {
				q.Add(jp, s)
			}
		}
		return true
	})
}

// isWrapperMessage reports a google.protobuf wrapper (StringValue, ...).
func isWrapperMessage(md protoreflect.MessageDescriptor) bool {
	switch md.FullName() {
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue",
		"google.protobuf.Int64Value", "google.protobuf.UInt64Value",
		"google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue",
		"google.protobuf.BytesValue":
		return true
	}
	return false
}
