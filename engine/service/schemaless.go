package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kgen-dev/kgen/svc"
)

// schemalessInvoker calls fn(method, path, args...) on a REST interface
// with JSON bodies and no schema.
type schemalessInvoker struct {
	*restClient
}

func newSchemalessInvoker(iface *svc.Interface) (*schemalessInvoker, error) {
	c, err := newRESTClient(iface)
	if err != nil {
		return nil, err
	}
	return &schemalessInvoker{c}, nil
}

// Call sends method (upper-cased) to <address><path>. The body is none for
// no args, the JSON of the arg for one, a JSON array for more. A response
// is decoded as JSON to any (integral numbers int64, others float64); a
// body that is not JSON is returned as a string unless it claims to be
// JSON.
func (s *schemalessInvoker) Call(ctx context.Context, method, path string, args []any) (any, error) {
	method = strings.ToUpper(strings.TrimSpace(method))
	if method == "" {
		return nil, fmt.Errorf("rest call: empty method")
	}
	target := s.base
	if path != "" && !strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "?") {
		target += "/"
	}
	target += path
	var body []byte
	var err error
	switch len(args) {
	case 0:
	case 1:
		body, err = json.Marshal(args[0])
	default:
		body, err = json.Marshal(args)
	}
	if err != nil {
		return nil, fmt.Errorf("rest call %s %s: encode body: %w", method, target, err)
	}
	res, err := s.do(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(res.body)) == 0 {
		return nil, nil
	}
	v, err := decodeSchemalessJSON(res.body)
	if err == nil {
		return v, nil
	}
	if mt := restMediaType(res.contentType); mt == "application/json" || strings.HasSuffix(mt, "+json") {
		return nil, fmt.Errorf("rest call %s %s: decode %s response: %w", method, target, mt, err)
	}
	return string(res.body), nil
}

// decodeSchemalessJSON decodes one JSON value, numbers as int64 when
// integral and float64 otherwise.
func decodeSchemalessJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return schemalessNumbers(v), nil
}

func schemalessNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n
		}
		f, _ := t.Float64()
		return f
	case []any:
		for i := range t {
			t[i] = schemalessNumbers(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = schemalessNumbers(t[k])
		}
	}
	return v
}
