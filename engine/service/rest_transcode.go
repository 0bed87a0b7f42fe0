package service

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// httpCall is one rpc call transcoded to HTTP.
type httpCall struct {
	method string
	path   string // starts with "/", escaped
	query  string // encoded, without "?"
	body   []byte // nil: no body
	// responseField names the output field the response body fills
	// (HttpRule.response_body); "" for the whole message.
	responseField string
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

// buildHTTPRequest transcodes a call of m: POST /<rpc> with the message as
// protobuf JSON, or as m's google.api.http rule says.
func buildHTTPRequest(m protoreflect.MethodDescriptor, req proto.Message) (*httpCall, error) {
	rule := httpRuleOf(m)
	if rule == nil {
		body, err := protojson.Marshal(req)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		return &httpCall{method: "POST", path: "/" + string(m.Name()), body: body}, nil
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
	call := &httpCall{method: method, path: path, responseField: rule.GetResponseBody()}
	switch body := rule.GetBody(); body {
	case "":
		call.query = queryParams(msg, consumed)
	case "*":
		rest := proto.Clone(req).ProtoReflect()
		for p := range consumed {
			clearFieldPath(rest, p)
		}
		if call.body, err = protojson.Marshal(rest.Interface()); err != nil {
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
		if call.body, err = fieldJSON(msg, fds[0]); err != nil {
			return nil, fmt.Errorf("encode request field %q: %w", body, err)
		}
		consumed[string(fds[0].Name())] = true
		call.query = queryParams(msg, consumed)
	}
	return call, nil
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
	consumed := map[string]bool{}
	var b strings.Builder
	for rest := tmpl; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:open])
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return "", nil, fmt.Errorf("http rule path %q: unclosed {", tmpl)
		}
		v := rest[open+1 : open+end]
		rest = rest[open+end+1:]
		field, pattern, hasPattern := strings.Cut(v, "=")
		if !hasPattern {
			pattern = "*"
		}
		fds, err := resolveFieldPath(msg.Descriptor(), field)
		if err != nil {
			return "", nil, fmt.Errorf("http rule path %q: %w", tmpl, err)
		}
		value, err := fieldPathString(msg, fds)
		if err != nil {
			return "", nil, fmt.Errorf("http rule path %q: field %q: %w", tmpl, field, err)
		}
		escaped, ok := matchPathPattern(pattern, value)
		if !ok {
			return "", nil, fmt.Errorf("path field %q: value %q does not match %q", field, value, pattern)
		}
		b.WriteString(escaped)
		consumed[protoPath(fds)] = true
	}
	path := b.String()
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return path, consumed, nil
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
