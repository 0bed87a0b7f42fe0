package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/kgen-dev/kgen/svc/openapi"
)

// sqlValues decodes JSON as the SQL engine holds values: integral numbers
// int64, others float64.
func sqlValues(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = sqlValues(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = sqlValues(x[k])
		}
	}
	return v
}

// FuzzArgs: Args never panics; what it accepts has every required
// parameter, encodes to JSON, and makes a request.
func FuzzArgs(f *testing.F) {
	d := loadShop(f)
	seeds := []struct {
		op   uint8
		args string
	}{
		{0, `[null, {"name": "lamp", "price": 3, "tags": ["a"], "size": {"width": 1, "height": 2, "unit": "cm"}}]`},
		{0, `[{"X-Request-Id": "r", "item": {"name": "x", "price": 1.5}}]`},
		{1, `[4]`},
		{2, `[7, "name"]`},
		{2, `["x"]`},
		{3, `["ABC-123", "north"]`},
		{3, `["ABC-123", "east"]`},
		{4, `[["a", "b"], "sold", 5]`},
		{4, `[null, null, 500]`},
		{5, `[1, {"name": "a", "price": -1}]`},
	}
	for _, s := range seeds {
		f.Add(s.op, []byte(s.args))
	}
	creds := openapi.Credentials{"bearer": "t", "apiKey": "k"}
	f.Fuzz(func(t *testing.T, opIndex uint8, data []byte) {
		op := d.Operations[int(opIndex)%len(d.Operations)]
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var args []any
		if dec.Decode(&args) != nil {
			return
		}
		args = sqlValues(args).([]any)
		vals, err := op.Args(args)
		if err != nil {
			return
		}
		for _, p := range op.Params {
			if _, ok := vals[p.Name]; p.Required && !ok {
				t.Fatalf("%s: required %q missing from %v", op.ID, p.Name, vals)
			}
		}
		if _, err := json.Marshal(vals); err != nil {
			t.Fatalf("%s: accepted values do not encode: %v", op.ID, err)
		}
		if _, err := op.NewRequest(context.Background(), "http://127.0.0.1:1", args, creds); err != nil {
			t.Fatalf("%s: Args accepted %s but NewRequest failed: %v", op.ID, data, err)
		}
	})
}

// FuzzDecodeResponse: DecodeResponse never panics, and what it returns
// encodes to JSON that decodes again.
func FuzzDecodeResponse(f *testing.F) {
	d := loadShop(f)
	f.Add(uint8(2), 200, []byte(`{"id": 1, "name": "a", "price": 2.5, "size": {"width": 1, "height": 2}}`))
	f.Add(uint8(4), 200, []byte(`[{"id": 1, "name": "a", "price": 1}]`))
	f.Add(uint8(3), 200, []byte(`{"sku": "ABC-123", "count": 3, "byWarehouse": {"north": 1}}`))
	f.Add(uint8(1), 204, []byte(``))
	f.Add(uint8(2), 404, []byte(`{"code": 404, "message": "none"}`))
	f.Add(uint8(2), 200, []byte(`{"id": 1e300, "name": "a", "price": 1}`))
	header := http.Header{"Content-Type": {"application/json"}}
	f.Fuzz(func(t *testing.T, opIndex uint8, status int, body []byte) {
		op := d.Operations[int(opIndex)%len(d.Operations)]
		v, err := op.DecodeResponse(status, header, body)
		if err != nil {
			if status >= 200 && status <= 299 && v != nil {
				t.Fatalf("%s: value %v with error %v", op.ID, v, err)
			}
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: decoded %#v does not encode: %v", op.ID, v, err)
		}
		if v == nil {
			return
		}
		if _, err := op.DecodeResponse(status, header, b); err != nil {
			t.Fatalf("%s: re-encoded %s does not decode: %v", op.ID, b, err)
		}
	})
}
