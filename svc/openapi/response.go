package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Limits on response bodies: what Call reads, and how much an error quotes.
const (
	maxBody      = 32 << 20
	maxErrorBody = 512
)

// DecodeResponse turns a response into a SQL value. A non-2xx status is an
// error carrying the status and the (trimmed) body. A 2xx body is decoded
// by the schema declared for its status (else 2XX, else default):
// integers as int64, numbers as float64, objects as map[string]any holding
// only the keys sent, arrays as []any; text/* responses as a string; no
// content as nil. A body that does not match the schema is an error naming
// the place in it.
func (op *Operation) DecodeResponse(status int, header http.Header, body []byte) (any, error) {
	if status < 200 || status > 299 {
		return nil, fmt.Errorf("function %q: %d %s: %s", op.ID, status, http.StatusText(status), trimBody(body))
	}
	res := op.responseFor(status)
	ct := header.Get("Content-Type")
	if status == http.StatusNoContent || len(bytes.TrimSpace(body)) == 0 {
		if res != nil && res.schema != nil && status != http.StatusNoContent {
			return nil, fmt.Errorf("function %q: response %d: empty body, want JSON", op.ID, status)
		}
		return nil, nil
	}
	if res != nil && res.none {
		return nil, nil // the document promises no content: ignore any
	}
	jsonBody := isJSON(ct) || (ct == "" && (res == nil || res.schema != nil))
	if !jsonBody {
		if strings.HasPrefix(strings.ToLower(ct), "text/") || (res != nil && res.text) {
			return string(body), nil
		}
		return nil, fmt.Errorf("function %q: response %d: content type %q, want application/json", op.ID, status, ct)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("function %q: response %d: decode JSON: %w", op.ID, status, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("function %q: response %d: decode JSON: data after the value", op.ID, status)
	}
	var schema *openapi3.Schema
	if res != nil {
		schema = res.schema
	}
	v, err := fromJSON(schema, raw, "")
	if err == nil && schema != nil {
		err = op.doc.check(schema, v, openapi3.VisitAsResponse())
	}
	if err != nil {
		var ce *coerceError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("function %q: response %d: body #%s: %w", op.ID, status, ce.ptr, ce.err)
		}
		return nil, fmt.Errorf("function %q: response %d: %w", op.ID, status, err)
	}
	return v, nil
}

// responseFor is the declaration for a 2xx status: its own, else 2XX,
// else default; nil if none.
func (op *Operation) responseFor(status int) *response {
	code := strconv.Itoa(status)
	for _, want := range []string{code, "2XX", "2xx", "default"} {
		for _, r := range op.responses {
			if r.code == want {
				return r
			}
		}
	}
	return nil
}

func trimBody(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > maxErrorBody {
		return string(b[:maxErrorBody]) + "…"
	}
	return string(b)
}

// fromJSON converts a decoded JSON value (numbers as json.Number) to SQL
// values: integers where the schema says integer (or, without a schema,
// where the number is written as one) as int64, other numbers as float64.
func fromJSON(s *openapi3.Schema, v any, ptr string) (any, error) {
	switch x := v.(type) {
	case json.Number:
		t := ""
		if s != nil {
			t = typeOf(s)
		}
		if t == openapi3.TypeInteger || (t == "" && !strings.ContainsAny(string(x), ".eE")) {
			if i, err := x.Int64(); err == nil {
				return i, nil
			}
			if t == openapi3.TypeInteger {
				f, err := x.Float64()
				if err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
					return int64(f), nil
				}
				return nil, &coerceError{ptr: ptr, err: fmt.Errorf("want integer, got number %s", x)}
			}
		}
		f, err := x.Float64()
		if err != nil {
			return nil, &coerceError{ptr: ptr, err: fmt.Errorf("number %s out of range", x)}
		}
		return f, nil
	case []any:
		var item *openapi3.Schema
		if s != nil && s.Items != nil {
			item = s.Items.Value
		}
		out := make([]any, len(x))
		for i, e := range x {
			c, err := fromJSON(item, e, fmt.Sprintf("%s/%d", ptr, i))
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			var ps *openapi3.Schema
			if s != nil {
				ps = propSchema(s, k)
			}
			c, err := fromJSON(ps, x[k], ptr+"/"+escape(k))
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	}
	return v, nil // nil, bool, string
}

// Call sends a call and decodes its response: NewRequest, c.Do (nil c is
// http.DefaultClient) and DecodeResponse.
func (op *Operation) Call(ctx context.Context, c *http.Client, base string, creds Credentials, args []any) (any, error) {
	req, err := op.NewRequest(ctx, base, args, creds)
	if err != nil {
		return nil, err
	}
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("function %q: %w", op.ID, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("function %q: read response: %w", op.ID, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("function %q: response larger than %d bytes", op.ID, maxBody)
	}
	return op.DecodeResponse(res.StatusCode, res.Header, body)
}
