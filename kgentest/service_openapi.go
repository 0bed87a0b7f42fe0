package kgentest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kgen-dev/kgen/svc/openapi"
)

// startOpenAPI serves every supported operation of the OpenAPI document
// file (named arg in the script) on a free loopback port until the script
// ends, and returns its address.
func startOpenAPI(ts *testscript.TestScript, arg, file string) string {
	data, err := os.ReadFile(file)
	ts.Check(err)
	doc, err := openapi.Load(data, arg)
	if err != nil {
		ts.Fatalf("service start: %v", err)
	}
	h, err := newFixture(doc, arg)
	if err != nil {
		ts.Fatalf("service start: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	ts.Defer(func() { srv.Close() })
	return l.Addr().String()
}

// newFixture is the handler of the OpenAPI fixture: a ServeMux route per
// operation of doc (named source in errors) that validates each request
// with openapi3filter (400 and {"error": ...} when it is invalid) and
// answers with the operation's fixtureReply.
func newFixture(doc *openapi.Document, source string) (h http.Handler, err error) {
	if len(doc.Operations) == 0 {
		var why []string
		for _, s := range doc.Skipped {
			why = append(why, "\n\t"+s.String())
		}
		return nil, fmt.Errorf("%s: no operation kgen can call%s", source, strings.Join(why, ""))
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	opts.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		if at := strings.Join(err.JSONPointer(), "/"); at != "" {
			return "/" + at + ": " + err.Reason
		}
		return err.Reason
	})
	mux := http.NewServeMux()
	var cur *openapi.Operation
	defer func() {
		// ServeMux panics on patterns that conflict.
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: operation %q: %v", source, cur.ID, p)
		}
	}()
	for _, op := range doc.Operations {
		cur = op
		pattern, wildcards, err := op.Route()
		if err != nil {
			return nil, fmt.Errorf("%s: operation %q: path %q: %w", source, op.ID, op.Path, err)
		}
		route := &routers.Route{
			Spec:      doc.Spec,
			Path:      op.Path,
			PathItem:  doc.Spec.Paths.Value(op.Path),
			Method:    op.Method,
			Operation: op.Spec,
		}
		reply := replyOf(op)
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			path := make(map[string]string, len(wildcards))
			for name, wildcard := range wildcards {
				path[name] = r.PathValue(wildcard)
			}
			in := &openapi3filter.RequestValidationInput{Request: r, PathParams: path, Route: route, Options: opts}
			if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
				writeFixtureJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			vals, err := requestValues(op, r, path)
			if err != nil {
				writeFixtureJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			reply.write(w, vals)
		})
	}
	return mux, nil
}

// requestValues are the values of a validated request by name: the body's
// fields (when it is an object), the body under the body parameter's name,
// then the path, query and header parameters as sent (strings; arrays split
// as their style says), which win over body fields of the same name.
func requestValues(op *openapi.Operation, r *http.Request, path map[string]string) (map[string]any, error) {
	vals := map[string]any{}
	if op.Body != nil && r.Body != nil {
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		var body any
		switch err := dec.Decode(&body); {
		case err == nil:
			if m, ok := body.(map[string]any); ok {
				maps.Copy(vals, m)
			}
			if _, ok := vals[op.Body.Name]; !ok {
				vals[op.Body.Name] = body
			}
		case !errors.Is(err, io.EOF):
			return nil, fmt.Errorf("request body: %v", err)
		}
	}
	query := r.URL.Query()
	for _, p := range op.Params {
		var sent []string
		split := true
		switch p.In {
		case "path":
			sent = []string{path[p.Name]}
		case "query":
			sent = query[p.Name]
			split = p.Spec.Explode != nil && !*p.Spec.Explode
		case "header":
			sent = r.Header.Values(p.Name)
		default:
			continue
		}
		if len(sent) == 0 {
			continue
		}
		if schemaType(p.Schema) != "array" {
			vals[p.Name] = sent[0]
			continue
		}
		var items []any
		for _, s := range sent {
			if !split {
				items = append(items, s)
				continue
			}
			for _, v := range strings.Split(s, ",") {
				items = append(items, v)
			}
		}
		vals[p.Name] = items
	}
	return vals, nil
}

// fixtureReply is how the fixture answers an operation: the first success
// response the document declares (each 2xx code in order, then 2XX, then
// default, which answer 200).
type fixtureReply struct {
	status      int
	contentType string // "" for no content
	text        bool   // a text/* response
	example     any    // the media type's example, nil if none
	schema      *openapi3.Schema
}

func replyOf(op *openapi.Operation) *fixtureReply {
	reply := &fixtureReply{status: http.StatusOK}
	if op.Spec.Responses == nil {
		return reply
	}
	rs := op.Spec.Responses.Map()
	for _, code := range op.SuccessCodes() {
		r := rs[code]
		if r == nil || r.Value == nil {
			continue
		}
		status, err := strconv.Atoi(code)
		if err != nil {
			status = http.StatusOK
		}
		reply.status = status
		ct, media := fixtureMedia(r.Value.Content)
		if media == nil {
			if len(r.Value.Content) > 0 && code == "default" {
				continue // an error shape
			}
			return reply
		}
		reply.contentType, reply.text = ct, strings.HasPrefix(ct, "text/")
		reply.example = media.Example
		if reply.example == nil && len(media.Examples) > 0 {
			for _, name := range slices.Sorted(maps.Keys(media.Examples)) {
				if e := media.Examples[name]; e != nil && e.Value != nil && e.Value.Value != nil {
					reply.example = e.Value.Value
					break
				}
			}
		}
		if media.Schema != nil {
			reply.schema = media.Schema.Value
		}
		return reply
	}
	return reply
}

// fixtureMedia is the JSON media type of content, else its first text/*
// one, with the Content-Type to answer.
func fixtureMedia(content openapi3.Content) (string, *openapi3.MediaType) {
	keys := slices.Sorted(maps.Keys(content))
	for _, k := range keys {
		mt, _, err := mime.ParseMediaType(k)
		if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) && content[k] != nil {
			if strings.Contains(k, "*") {
				k = "application/json"
			}
			return k, content[k]
		}
	}
	for _, k := range keys {
		if strings.HasPrefix(k, "text/") && content[k] != nil {
			if strings.Contains(k, "*") {
				k = "text/plain"
			}
			return k, content[k]
		}
	}
	return "", nil
}

// write answers a request whose values are vals.
func (f *fixtureReply) write(w http.ResponseWriter, vals map[string]any) {
	if f.contentType == "" {
		w.WriteHeader(f.status)
		return
	}
	v := f.example
	if v == nil {
		v = synthesize(f.schema, vals, 0)
	}
	if s, ok := v.(string); ok && f.text {
		w.Header().Set("Content-Type", f.contentType)
		w.WriteHeader(f.status)
		w.Write([]byte(s))
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		writeFixtureJSON(w, http.StatusInternalServerError, map[string]string{"error": "encode the reply: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.WriteHeader(f.status)
	w.Write(data)
}

func writeFixtureJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// maxSynthDepth bounds synthesize on recursive schemas: deeper objects are
// {} and deeper arrays [].
const maxSynthDepth = 8

// synthesize is a value of schema s: its const, example, first of
// examples, default or first enum value, else by type: an object with
// every property, each the request's value of the same name in vals
// converted to the property's type (see convert), else the property's own
// synthesized value; an array of one synthesized item; "" (the Unix epoch
// for format date and date-time), 0, false; null for no type.
func synthesize(s *openapi3.Schema, vals map[string]any, depth int) any {
	if s == nil {
		return nil
	}
	switch {
	case s.Const != nil:
		return s.Const
	case s.Example != nil:
		return s.Example
	case len(s.Examples) > 0 && s.Examples[0] != nil:
		return s.Examples[0]
	case s.Default != nil:
		return s.Default
	case len(s.Enum) > 0:
		return s.Enum[0]
	}
	switch schemaType(s) {
	case "object":
		return object(properties(s), vals, depth)
	case "array":
		if depth >= maxSynthDepth || s.Items == nil {
			return []any{}
		}
		return []any{synthesize(s.Items.Value, vals, depth+1)}
	case "string":
		switch s.Format {
		case "date-time":
			return "1970-01-01T00:00:00Z"
		case "date":
			return "1970-01-01"
		}
		return ""
	case "integer", "number":
		return 0
	case "boolean":
		return false
	}
	return nil
}

// object is an object with every property of props, each vals' value of
// the same name converted to the property's type, else synthesized.
func object(props map[string]*openapi3.Schema, vals map[string]any, depth int) map[string]any {
	obj := map[string]any{}
	if depth >= maxSynthDepth {
		return obj
	}
	for name, p := range props {
		if v, ok := vals[name]; ok {
			if c, ok := convert(v, p, depth+1); ok {
				obj[name] = c
				continue
			}
		}
		obj[name] = synthesize(p, vals, depth+1)
	}
	return obj
}

// convert turns a request value (a string from a parameter, []any from an
// array parameter, or a decoded JSON body field) into the type of schema
// s, reporting whether it could: strings parse as integers, numbers and
// booleans; scalars print as strings; arrays convert item by item (a scalar
// becomes an array of one); an object fills s's properties from its fields
// by name, others synthesized.
func convert(v any, s *openapi3.Schema, depth int) (any, bool) {
	if s == nil {
		return v, true
	}
	switch t := schemaType(s); t {
	case "string":
		switch v := v.(type) {
		case string:
			return v, true
		case json.Number:
			return v.String(), true
		case bool:
			return strconv.FormatBool(v), true
		}
	case "integer":
		switch v := v.(type) {
		case string:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n, true
			}
		case json.Number:
			if n, err := v.Int64(); err == nil {
				return n, true
			}
			if f, err := v.Float64(); err == nil && f == float64(int64(f)) {
				return int64(f), true
			}
		}
	case "number":
		switch v := v.(type) {
		case string:
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f, true
			}
		case json.Number:
			if f, err := v.Float64(); err == nil {
				return f, true
			}
		}
	case "boolean":
		switch v := v.(type) {
		case string:
			if b, err := strconv.ParseBool(v); err == nil {
				return b, true
			}
		case bool:
			return v, true
		}
	case "array":
		var item *openapi3.Schema
		if s.Items != nil {
			item = s.Items.Value
		}
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		out := make([]any, 0, len(list))
		for _, e := range list {
			c, ok := convert(e, item, depth+1)
			if !ok {
				return nil, false
			}
			out = append(out, c)
		}
		return out, true
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		props := properties(s)
		if len(props) == 0 {
			return m, true
		}
		return object(props, m, depth), true
	case "":
		return v, true
	}
	return nil, false
}

// schemaType is the type of s: its first type other than null, else
// object when it has properties, array when it has items, else (allOf,
// oneOf, anyOf) the type of its first subschema that has one.
func schemaType(s *openapi3.Schema) string {
	if s == nil {
		return ""
	}
	if s.Type != nil {
		for _, t := range s.Type.Slice() {
			if t != "null" {
				return t
			}
		}
	}
	switch {
	case len(s.Properties) > 0:
		return "object"
	case s.Items != nil:
		return "array"
	}
	for _, refs := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, r := range refs {
			if r != nil {
				if t := schemaType(r.Value); t != "" {
					return t
				}
			}
		}
	}
	return ""
}

// properties are the properties of object schema s and of its allOf
// subschemas, and those of its first oneOf or anyOf subschema.
func properties(s *openapi3.Schema) map[string]*openapi3.Schema {
	props := map[string]*openapi3.Schema{}
	var add func(s *openapi3.Schema, depth int)
	add = func(s *openapi3.Schema, depth int) {
		if s == nil || depth > maxSynthDepth {
			return
		}
		for name, r := range s.Properties {
			if _, ok := props[name]; !ok && r != nil {
				props[name] = r.Value
			}
		}
		for _, r := range s.AllOf {
			if r != nil {
				add(r.Value, depth+1)
			}
		}
		for _, refs := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
			if len(refs) > 0 && refs[0] != nil {
				add(refs[0].Value, depth+1)
			}
		}
	}
	add(s, 0)
	return props
}
