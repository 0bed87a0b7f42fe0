package svc

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// restRequestLimit bounds a request body; a larger one is answered 413.
const restRequestLimit = 16 << 20

// RESTMethod is one rpc a REST handler serves.
type RESTMethod struct {
	Desc protoreflect.MethodDescriptor                                       // the rpc
	New  func() proto.Message                                                // a new, empty request (compiled or dynamicpb)
	Call func(ctx context.Context, req proto.Message) (proto.Message, error) // the implementation
}

// NewRESTHandler serves the methods over HTTP with the transcoding the engine's REST transport uses.
//
// An rpc without a google.api.http rule is POST /<rpc> with the request as
// protobuf JSON. With a rule, the rule and each of its additional_bindings
// is a route: path variables are unescaped and set into their fields;
// body "*" is the whole request and body "<field>" that field, decoded
// before the path variables, which win; without body "*", query parameters
// (dotted JSON or proto names, repeated keys for repeated fields) set the
// remaining scalar fields. Bodies are read as JSON whatever their
// Content-Type. Unknown JSON fields and query parameters naming no field
// are ignored, as grpc-gateway does, so an older server accepts a newer
// client. A body of {} for a message field leaves it unset: the engine
// sends {} for an unset one.
//
// The reply is 200 with protobuf JSON of the response, or of its
// response_body field, with every field, zero values included (as
// grpc-gateway writes them): the engine maps only the keys a REST reply
// has, so a function gives over REST what it gives over gRPC. Errors are JSON {"code": <grpc code>, "message":
// "..."}: 404 with no route for the path, 405 when only other HTTP methods
// have one, 400 for a request that does not decode, 413 for a body over
// 16 MiB, and for an error from Call the HTTP status grpc-gateway gives its
// gRPC status code (plain errors are Unknown, 500). A panic in Call is a
// 500.
//
// Where routes overlap, the most specific serves: segment by segment a
// literal before "*" before "**", and a route with a :verb before one
// without. Two routes of one HTTP method and pattern are an error.
func NewRESTHandler(methods ...RESTMethod) (http.Handler, error) {
	h := &restHandler{routes: map[string][]*restRoute{}}
	taken := map[string]*restRoute{}
	for i := range methods {
		m := methods[i] // the caller may reuse its slice
		routes, err := newRESTRoutes(&m, i)
		if err != nil {
			return nil, fmt.Errorf("rest handler: %w", err)
		}
		for _, rt := range routes {
			key := rt.method + " " + strings.Join(rt.tmpl.segs, "/") + ":" + rt.tmpl.verb
			if prev := taken[key]; prev != nil {
				return nil, fmt.Errorf("rest handler: rpc %q: %s %q is already served by rpc %q as %s %q",
					rt.rpc.Desc.FullName(), rt.method, rt.tmpl.text, prev.rpc.Desc.FullName(), prev.method, prev.tmpl.text)
			}
			taken[key] = rt
			h.routes[rt.method] = append(h.routes[rt.method], rt)
		}
	}
	for method, rs := range h.routes {
		slices.SortStableFunc(rs, func(a, b *restRoute) int { return compareTemplates(a.tmpl, b.tmpl) })
		h.methods = append(h.methods, method)
	}
	slices.Sort(h.methods)
	return h, nil
}

// restHandler is the http.Handler NewRESTHandler returns.
type restHandler struct {
	routes  map[string][]*restRoute // by HTTP method, most specific first
	methods []string                // the keys of routes, sorted
}

// restRoute is one binding of an rpc: POST /<rpc>, its google.api.http
// rule, or one of the rule's additional_bindings. Field descriptors are
// those of the request type New returns.
type restRoute struct {
	rpc    *RESTMethod
	in     protoreflect.MessageDescriptor // of New's messages
	method string                         // HTTP
	tmpl   *pathTemplate
	// vars are the fields of tmpl.vars, in order.
	vars [][]protoreflect.FieldDescriptor
	// body is "" (no body), "*" or a field, bodyField when a field.
	body      string
	bodyField protoreflect.FieldDescriptor
	// consumed are the proto paths the query may not set: the path
	// variables' and the body field's.
	consumed []string
	// responseField names the output field written as the reply
	// (response_body); "" for the whole response.
	responseField protoreflect.Name
}

// newRESTRoutes checks method i and returns its routes.
func newRESTRoutes(m *RESTMethod, i int) ([]*restRoute, error) {
	if m.Desc == nil {
		return nil, fmt.Errorf("methods[%d]: nil Desc", i)
	}
	name := m.Desc.FullName()
	switch {
	case m.New == nil:
		return nil, fmt.Errorf("rpc %q: nil New", name)
	case m.Call == nil:
		return nil, fmt.Errorf("rpc %q: nil Call", name)
	case m.Desc.IsStreamingClient() || m.Desc.IsStreamingServer():
		return nil, fmt.Errorf("rpc %q: a streaming rpc has no REST form", name)
	}
	sample := m.New()
	if sample == nil || !sample.ProtoReflect().IsValid() {
		return nil, fmt.Errorf("rpc %q: New returned nil", name)
	}
	in := sample.ProtoReflect().Descriptor()
	if in.FullName() != m.Desc.Input().FullName() {
		return nil, fmt.Errorf("rpc %q: New returns %s, want %s", name, in.FullName(), m.Desc.Input().FullName())
	}
	rule := httpRuleOf(m.Desc)
	if rule == nil {
		tmpl, err := parsePathTemplate("/" + string(m.Desc.Name()))
		if err != nil {
			return nil, fmt.Errorf("rpc %q: %w", name, err)
		}
		return []*restRoute{{rpc: m, in: in, method: http.MethodPost, tmpl: tmpl, body: "*"}}, nil
	}
	var routes []*restRoute
	for k, b := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
		rt, err := newRESTRoute(m, in, b)
		if err != nil {
			if k > 0 {
				return nil, fmt.Errorf("rpc %q: additional_bindings[%d]: %w", name, k-1, err)
			}
			return nil, fmt.Errorf("rpc %q: %w", name, err)
		}
		routes = append(routes, rt)
	}
	return routes, nil
}

// newRESTRoute checks one binding against the request and response types.
func newRESTRoute(m *RESTMethod, in protoreflect.MessageDescriptor, b *annotations.HttpRule) (*restRoute, error) {
	method, text := httpRuleVerb(b)
	if method == "" || text == "" {
		return nil, errors.New("http rule: want a method and a path")
	}
	tmpl, err := parsePathTemplate(text)
	if err != nil {
		return nil, err
	}
	rt := &restRoute{rpc: m, in: in, method: method, tmpl: tmpl, body: b.GetBody()}
	for _, v := range tmpl.vars {
		fds, err := resolveFieldPath(in, v.field)
		if err != nil {
			return nil, fmt.Errorf("http rule path %q: %w", text, err)
		}
		if fd := fds[len(fds)-1]; !isPathScalar(fd) {
			return nil, fmt.Errorf("http rule path %q: variable %q: want a singular scalar field, got %s", text, v.field, fieldKindText(fd))
		}
		p := protoPath(fds)
		if slices.Contains(rt.consumed, p) {
			return nil, fmt.Errorf("http rule path %q: field %q bound twice", text, p)
		}
		rt.vars = append(rt.vars, fds)
		rt.consumed = append(rt.consumed, p)
	}
	if body := rt.body; body != "" && body != "*" {
		fds, err := resolveFieldPath(in, body)
		if err != nil {
			return nil, fmt.Errorf("http rule body %q: %w", body, err)
		}
		if len(fds) != 1 {
			return nil, fmt.Errorf("http rule body %q: want a top-level field", body)
		}
		rt.bodyField = fds[0]
		rt.consumed = append(rt.consumed, string(fds[0].Name()))
	}
	if rb := b.GetResponseBody(); rb != "" {
		out := m.Desc.Output()
		fds, err := resolveFieldPath(out, rb)
		if err != nil || len(fds) != 1 {
			return nil, fmt.Errorf("http rule response_body %q: want a top-level field of %s", rb, out.FullName())
		}
		rt.responseField = fds[0].Name()
	}
	return rt, nil
}

// isPathScalar reports a field a path variable can fill: a singular scalar
// or wrapper, as fieldPathString reads.
func isPathScalar(fd protoreflect.FieldDescriptor) bool {
	if fd.IsList() || fd.IsMap() {
		return false
	}
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return isWrapperMessage(fd.Message())
	}
	return true
}

// fieldKindText names a field's type for errors: "string", "repeated
// int32", "map", "message pkg.Sub".
func fieldKindText(fd protoreflect.FieldDescriptor) string {
	if fd.IsMap() {
		return "map"
	}
	t := fd.Kind().String()
	if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
		t += " " + string(fd.Message().FullName())
	}
	if fd.IsList() {
		t = "repeated " + t
	}
	return t
}

// compareTemplates orders routes so the first that matches a path is the
// most specific one: segment by segment a literal before "*" before "**",
// then a template with a verb first, then the longer.
func compareTemplates(a, b *pathTemplate) int {
	rank := func(seg string) int {
		switch seg {
		case "*":
			return 1
		case "**":
			return 2
		}
		return 0
	}
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		if c := cmp.Compare(rank(a.segs[i]), rank(b.segs[i])); c != 0 {
			return c
		}
	}
	if (a.verb == "") != (b.verb == "") {
		if a.verb != "" {
			return -1
		}
		return 1
	}
	return cmp.Compare(len(b.segs), len(a.segs))
}

func (h *restHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	var segs []string
	if strings.HasPrefix(path, "/") {
		segs = strings.Split(path[1:], "/")
	}
	if rt, vals := h.find(r.Method, segs); rt != nil {
		rt.serve(w, r, vals)
		return
	}
	var allow []string
	for _, m := range h.methods {
		if m == r.Method {
			continue
		}
		if rt, _ := h.find(m, segs); rt != nil {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeRESTError(w, http.StatusMethodNotAllowed, codes.Unimplemented,
			fmt.Sprintf("method %s not allowed for %q, want %s", r.Method, path, strings.Join(allow, " or ")))
		return
	}
	writeRESTError(w, http.StatusNotFound, codes.NotFound, fmt.Sprintf("no rpc serves %s %q", r.Method, path))
}

// find returns the first route of an HTTP method that matches segs, and
// the escaped values of its path variables.
func (h *restHandler) find(method string, segs []string) (*restRoute, []string) {
	if len(segs) == 0 {
		return nil, nil
	}
	for _, rt := range h.routes[method] {
		if vals, ok := rt.tmpl.match(segs); ok {
			return rt, vals
		}
	}
	return nil, nil
}

// serve decodes the request, calls the rpc and writes its reply.
func (rt *restRoute) serve(w http.ResponseWriter, r *http.Request, vals []string) {
	req := rt.rpc.New()
	if req == nil || !req.ProtoReflect().IsValid() || req.ProtoReflect().Descriptor() != rt.in {
		writeRESTError(w, http.StatusInternalServerError, codes.Internal,
			fmt.Sprintf("rpc %q: New returned nil or another type than at first", rt.rpc.Desc.FullName()))
		return
	}
	if err := rt.decode(w, r, req.ProtoReflect(), vals); err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			writeRESTError(w, http.StatusRequestEntityTooLarge, codes.ResourceExhausted,
				fmt.Sprintf("request body over %d bytes", tooBig.Limit))
			return
		}
		writeRESTError(w, http.StatusBadRequest, codes.InvalidArgument, err.Error())
		return
	}
	resp, err := rt.call(r.Context(), req)
	if err != nil {
		st := restStatusOf(err)
		writeRESTError(w, httpStatusOf(st.Code()), st.Code(), st.Message())
		return
	}
	body, err := rt.encodeResponse(resp)
	if err != nil {
		writeRESTError(w, http.StatusInternalServerError, codes.Internal,
			fmt.Sprintf("rpc %q: encode response: %v", rt.rpc.Desc.FullName(), err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// restJSONBody decodes request bodies; unknown fields are dropped, as the
// client drops them from responses.
var restJSONBody = protojson.UnmarshalOptions{DiscardUnknown: true}

// decode fills msg from the body, then the path variables, then the query,
// the inverse of NewHTTPCall.
func (rt *restRoute) decode(w http.ResponseWriter, r *http.Request, msg protoreflect.Message, vals []string) error {
	if rt.body != "" && r.Body != nil {
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, restRequestLimit))
		if err != nil {
			return fmt.Errorf("read body: %w", err)
		}
		if rt.bodyField == nil {
			if len(bytes.TrimSpace(data)) > 0 {
				if err := restJSONBody.Unmarshal(data, msg.Interface()); err != nil {
					return fmt.Errorf("body: %s", protoErrorText(err))
				}
			}
		} else if err := decodeBodyField(msg, rt.bodyField, data); err != nil {
			return err
		}
	}
	for i, fds := range rt.vars {
		field := rt.tmpl.vars[i].field
		s, err := url.PathUnescape(vals[i])
		if err != nil {
			return fmt.Errorf("path variable %q: %w", field, err)
		}
		if err := setFieldPath(msg, fds, s); err != nil {
			return fmt.Errorf("path variable %q: %w", field, err)
		}
	}
	if rt.body == "*" || r.URL.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fds, err := resolveQueryKey(msg.Descriptor(), k)
		if err != nil {
			return fmt.Errorf("query parameter %q: %w", k, err)
		}
		if fds == nil || rt.isConsumed(protoPath(fds)) {
			continue
		}
		if err := setFieldPath(msg, fds, q[k]...); err != nil {
			return fmt.Errorf("query parameter %q: %w", k, err)
		}
	}
	return nil
}

// resolveQueryKey finds the field a query parameter names by dotted proto
// or JSON names. A name that no field has gives nil, no error: grpc-gateway
// ignores such parameters.
func resolveQueryKey(md protoreflect.MessageDescriptor, key string) ([]protoreflect.FieldDescriptor, error) {
	var fds []protoreflect.FieldDescriptor
	for name := range strings.SplitSeq(key, ".") {
		if md == nil {
			last := fds[len(fds)-1]
			return nil, fmt.Errorf("field %q is %s, not a singular message", last.Name(), fieldKindText(last))
		}
		fd := md.Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			fd = md.Fields().ByJSONName(name)
		}
		if fd == nil {
			return nil, nil
		}
		fds = append(fds, fd)
		md = nil
		if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() {
			md = fd.Message()
		}
	}
	return fds, nil
}

// isConsumed reports a field path that is a path variable's or the body
// field's, or inside one: grpc-gateway ignores such query parameters.
func (rt *restRoute) isConsumed(p string) bool {
	for _, c := range rt.consumed {
		if p == c || (strings.HasPrefix(p, c) && p[len(c)] == '.') {
			return true
		}
	}
	return false
}

// decodeBodyField sets fd from a body of its JSON value (body: "field").
// No body and {} for a message leave it unset, as the client sends them for
// an unset field.
func decodeBodyField(msg protoreflect.Message, fd protoreflect.FieldDescriptor, data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil
	}
	if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
		if isEmptyJSONObject(data) {
			return nil
		}
		v := msg.NewField(fd)
		if err := restJSONBody.Unmarshal(data, v.Message().Interface()); err != nil {
			return fmt.Errorf("body field %q: %s", fd.Name(), protoErrorText(err))
		}
		msg.Set(fd, v)
		return nil
	}
	// Scalars, lists and maps decode as the one field of a wrapping object,
	// once the body is known to be one JSON value that cannot break out of
	// it; error positions are then off by the wrapping's length.
	if !json.Valid(data) {
		return fmt.Errorf("body field %q: not one JSON value", fd.Name())
	}
	wrapped := make([]byte, 0, len(data)+len(fd.JSONName())+4)
	wrapped = strconv.AppendQuote(append(wrapped, '{'), fd.JSONName())
	wrapped = append(append(append(wrapped, ':'), data...), '}')
	only := msg.New()
	if err := restJSONBody.Unmarshal(wrapped, only.Interface()); err != nil {
		return fmt.Errorf("body field %q: %s", fd.Name(), protoErrorText(err))
	}
	if only.Has(fd) {
		msg.Set(fd, only.Get(fd))
	}
	return nil
}

// isEmptyJSONObject reports {}, spaces allowed.
func isEmptyJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) >= 2 && b[0] == '{' && b[len(b)-1] == '}' && len(bytes.TrimSpace(b[1:len(b)-1])) == 0
}

// setFieldPath sets the field at the end of fds, making the messages on
// the way, from one value or, for a repeated scalar, each of values. A
// wrapper takes its value's text; a Timestamp, Duration or FieldMask its
// JSON string form.
func setFieldPath(msg protoreflect.Message, fds []protoreflect.FieldDescriptor, values ...string) error {
	for _, fd := range fds {
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			if set := msg.WhichOneof(od); set != nil && set != fd {
				return fmt.Errorf("oneof %s already has %s set", od.Name(), set.Name())
			}
		}
		if fd != fds[len(fds)-1] {
			msg = msg.Mutable(fd).Message()
		}
	}
	fd := fds[len(fds)-1]
	isMessage := fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind
	switch {
	case fd.IsMap() || (fd.IsList() && isMessage):
		return fmt.Errorf("want a scalar field, got %s", fieldKindText(fd))
	case fd.IsList():
		l := msg.Mutable(fd).List()
		for _, s := range values {
			v, err := parseScalar(fd, s)
			if err != nil {
				return err
			}
			l.Append(v)
		}
		return nil
	case len(values) != 1:
		return fmt.Errorf("want one value, got %d", len(values))
	case !isMessage:
		v, err := parseScalar(fd, values[0])
		if err != nil {
			return err
		}
		msg.Set(fd, v)
		return nil
	}
	inner := msg.NewField(fd).Message()
	switch md := inner.Descriptor(); {
	case isWrapperMessage(md):
		vfd := md.Fields().ByName("value")
		v, err := parseScalar(vfd, values[0])
		if err != nil {
			return err
		}
		inner.Set(vfd, v)
	case md.FullName() == "google.protobuf.Timestamp", md.FullName() == "google.protobuf.Duration",
		md.FullName() == "google.protobuf.FieldMask":
		js, _ := json.Marshal(values[0])
		if err := protojson.Unmarshal(js, inner.Interface()); err != nil {
			return fmt.Errorf("want a %s in JSON form, got %q", md.FullName(), clipText(values[0]))
		}
	default:
		return fmt.Errorf("want a scalar field, got %s", fieldKindText(fd))
	}
	msg.Set(fd, protoreflect.ValueOfMessage(inner))
	return nil
}

// call runs the rpc, turning a panic into an Internal error.
func (rt *restRoute) call(ctx context.Context, req proto.Message) (resp proto.Message, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler { // the handler's way to abort a reply
				panic(p)
			}
			resp, err = nil, status.Errorf(codes.Internal, "rpc %q panicked: %s", rt.rpc.Desc.FullName(), clipText(fmt.Sprint(p)))
		}
	}()
	return rt.rpc.Call(ctx, req)
}

// encodeResponse is the reply body: protobuf JSON of resp, or of its
// response_body field ("null" when that is an unset message). A nil resp
// is an empty one.
func (rt *restRoute) encodeResponse(resp proto.Message) ([]byte, error) {
	want := rt.rpc.Desc.Output().FullName()
	if resp == nil || !resp.ProtoReflect().IsValid() {
		if rt.responseField != "" {
			return []byte("null"), nil
		}
		return []byte("{}"), nil
	}
	msg := resp.ProtoReflect()
	if got := msg.Descriptor().FullName(); got != want {
		return nil, fmt.Errorf("got a %s, want %s", got, want)
	}
	if rt.responseField == "" {
		return restReplyJSON.Marshal(resp)
	}
	fd := msg.Descriptor().Fields().ByName(rt.responseField)
	if fd == nil {
		return nil, fmt.Errorf("%s has no field %q", want, rt.responseField)
	}
	if fd.Message() != nil && !fd.IsList() && !fd.IsMap() && !msg.Has(fd) && fd.Message().FullName() != "google.protobuf.Value" {
		return []byte("null"), nil
	}
	only := msg.New()
	if msg.Has(fd) {
		only.Set(fd, msg.Get(fd))
	}
	b, err := restReplyJSON.Marshal(only.Interface())
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, err
	}
	if b := fields[fd.JSONName()]; b != nil {
		return b, nil
	}
	return []byte("null"), nil // an unset optional scalar
}

// restReplyJSON writes replies with every field, zero values included, as
// grpc-gateway does: a client that maps only the keys sent (the engine, as
// eKuiper) then sees what a gRPC client of the same implementation sees.
var restReplyJSON = protojson.MarshalOptions{EmitUnpopulated: true}

// restStatusOf is the gRPC status of an error from Call: its own, that of
// a context error, or Unknown.
func restStatusOf(err error) *status.Status {
	if st, ok := status.FromError(err); ok && st.Code() != codes.OK {
		return st
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err)
	}
	return status.New(codes.Unknown, err.Error())
}

// httpStatusOf maps a gRPC code to an HTTP status as grpc-gateway's
// runtime.HTTPStatusFromCode does.
func httpStatusOf(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.Canceled:
		return 499 // client closed request
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError // Unknown, Internal, DataLoss, others
}

// restErrorBody is the JSON of an error reply.
type restErrorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func writeRESTError(w http.ResponseWriter, httpStatus int, code codes.Code, msg string) {
	b, _ := json.Marshal(restErrorBody{Code: int(code), Message: msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus)
	w.Write(b)
}

// protoErrorText is a protobuf-go error without its "proto:" prefix, which
// the library spells with a space or, at random per build, a no-break
// space.
func protoErrorText(err error) string {
	s := err.Error()
	for _, p := range []string{"proto: ", "proto:\u00a0"} {
		if t, ok := strings.CutPrefix(s, p); ok {
			return t
		}
	}
	return s
}
