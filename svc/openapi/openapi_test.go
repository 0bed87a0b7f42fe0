package openapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/sdk"
	"github.com/kgen-dev/kgen/svc/openapi"
)

func loadShop(t testing.TB) *openapi.Document {
	t.Helper()
	b, err := os.ReadFile("testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := openapi.Load(b, "shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func op(t testing.TB, d *openapi.Document, id string) *openapi.Operation {
	t.Helper()
	o := d.Operation(id)
	if o == nil {
		t.Fatalf("no operation %q", id)
	}
	return o
}

func TestLoadShop(t *testing.T) {
	d := loadShop(t)
	var got []string
	for _, o := range d.Operations {
		var ps []string
		for _, p := range o.Params {
			r := ""
			if p.Required {
				r = "!"
			}
			ps = append(ps, p.Name+r+"("+p.In+")")
		}
		got = append(got, o.ID+" "+o.Method+" "+o.Path+" "+strings.Join(ps, " "))
	}
	want := []string{
		"createItem POST /items X-Request-Id(header) item!(body)",
		"deleteItem DELETE /items/{id} id!(path)",
		"getItem GET /items/{id} id!(path) fields(query)",
		"getStock GET /stock/{sku} sku!(path) warehouse!(query)",
		"listItems GET /items tag(query) status(query) limit(query)",
		"updateItem PUT /items/{id} id!(path) body!(body)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("operations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var skipped []string
	for _, s := range d.Skipped {
		skipped = append(skipped, s.String())
	}
	wantSkipped := []string{
		`GET /health: no operationId`,
		`PUT /items/{id}/image (uploadImage): request body media type "multipart/form-data" is not supported, want application/json`,
		`GET /session (getSession): cookie parameter "sid": cookie parameters are not supported`,
	}
	if !reflect.DeepEqual(skipped, wantSkipped) {
		t.Errorf("skipped:\n%s\nwant:\n%s", strings.Join(skipped, "\n"), strings.Join(wantSkipped, "\n"))
	}
	if got, want := d.DefaultBase(), "http://localhost:8080/api/v1"; got != want {
		t.Errorf("DefaultBase = %q, want %q", got, want)
	}
	if d.Operation("uploadImage") != nil || d.Operation("nope") != nil {
		t.Error("Operation found an unsupported or unknown operation")
	}
	ci := op(t, d, "createItem")
	if ci.Body == nil || ci.Body != ci.Params[len(ci.Params)-1] || ci.Body.Name != "item" {
		t.Errorf("createItem body = %+v, want the last param, named item", ci.Body)
	}
	if ci.Response == nil || ci.Response.Properties["id"] == nil {
		t.Errorf("createItem response = %v, want the Item schema", ci.Response)
	}
	// 204 has no content; the 404 error is not a success response.
	if op(t, d, "deleteItem").Response != nil {
		t.Error("deleteItem has a response schema, want none")
	}
}

// TestLoadJSON loads the JSON form of the shop document.
func TestLoadJSON(t *testing.T) {
	d := loadShop(t)
	b, err := json.Marshal(d.Spec)
	if err != nil {
		t.Fatal(err)
	}
	j, err := openapi.Load(b, "shop.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Operations) != len(d.Operations) || len(j.Skipped) != len(d.Skipped) {
		t.Errorf("json: %d operations, %d skipped; want %d, %d", len(j.Operations), len(j.Skipped), len(d.Operations), len(d.Skipped))
	}
}

func TestLoadErrors(t *testing.T) {
	want := map[string]string{
		"bad-schema-type.yaml":     `bad-schema-type.yaml: #/components/schemas/Item/properties/id/type: unsupported 'type' value "integr"`,
		"deep-type.yaml":           `deep-type.yaml: #/components/schemas/Order/properties/lines/items/properties/qty/type: unsupported 'type' value "int"`,
		"deep-type.json":           `deep-type.json: #/components/schemas/Order/properties/lines/items/allOf/1/type: unsupported 'type' value "decimal"`,
		"bad-enum.yaml":            `bad-enum.yaml: #/components/schemas/Item/properties/status/enum/2: enum member 3: value must be a string`,
		"bad-param-enum.yaml":      `bad-param-enum.yaml: #/paths/~1items/get/parameters/0/schema/enum/2: enum member "desc": value must be an integer`,
		"bad-default.yaml":         `bad-default.yaml: #/components/schemas/Page/default/sort: invalid default "up": value is not one of the allowed values ["asc","desc"]`,
		"bad-param-schema.yaml":    `bad-param-schema.yaml: #/paths/~1items/get/parameters/1/schema/default: invalid default "ten": value must be an integer`,
		"flow-param-schema.yaml":   `flow-param-schema.yaml: #/paths/~1items/get/parameters/0/schema: when schema type is 'array', schema 'items' must be non-null`,
		"bad-body-schema.yaml":     `bad-body-schema.yaml: #/paths/~1items/post/requestBody/content/application~1json/schema/properties/tags: when schema type is 'array', schema 'items' must be non-null`,
		"external-ref.yaml":        `external-ref.yaml: #/paths/~1items/get/parameters/0/schema/$ref: external $ref "common.yaml#/components/schemas/Filter" is not supported: the document must be self-contained`,
		"missing-path-param.yaml":  `missing-path-param.yaml: #/paths/~1items~1{id}/get: operation GET /items/{id} must define exactly all path parameters (missing: [id])`,
		"no-responses.yaml":        `no-responses.yaml: #/paths/~1items/post: value of responses must be an object`,
		"optional-path-param.yaml": `optional-path-param.yaml: #/paths/~1items~1{id}/get/parameters/0: path parameter "id" must be required`,
		"swagger2.yaml":            `swagger2.yaml: #: not an OpenAPI 3 document: no "openapi" version`,
		"syntax.yaml":              `syntax.yaml: read document: failed to unmarshal data: yaml error: yaml: line 3: did not find expected ',' or '}'`,
		"version.yaml":             `version.yaml: #/openapi: version "2.5.0" is not supported, want 3.0.x or 3.1.x`,
	}
	files, err := filepath.Glob("testdata/bad/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Errorf("%d bad documents, %d expected errors", len(files), len(want))
	}
	for _, f := range files {
		name := filepath.Base(f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = openapi.Load(b, name)
		if err == nil || err.Error() != want[name] {
			t.Errorf("%s:\n got %v\nwant %s", name, err, want[name])
		}
	}
}

const minimal = `openapi: 3.1.0
info: {title: t, version: "1"}
servers:
  - url: https://{region}.example.com/{v}
    variables:
      region: {default: eu}
      v: {default: v2, enum: [v1, v2]}
paths:
  /ping:
    get:
      operationId: ping
      security:
        - oauth: []
        - key: []
      parameters:
        - name: ids
          in: query
          explode: false
          schema: {type: [array, "null"], items: {type: integer}}
      responses:
        "200":
          description: ok
          content:
            text/plain:
              schema: {type: string}
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows:
        clientCredentials: {tokenUrl: "https://example.com/token", scopes: {}}
    key: {type: apiKey, in: query, name: api_key}
`

// TestOpenAPI31 loads a 3.1 document: its servers' variables, a query
// apiKey, a non-exploded array and a text response.
func TestOpenAPI31(t *testing.T) {
	d, err := openapi.Load([]byte(minimal), "min.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.DefaultBase(), "https://eu.example.com/v2"; got != want {
		t.Errorf("DefaultBase = %q, want %q", got, want)
	}
	p := op(t, d, "ping")
	req, err := p.NewRequest(context.Background(), "", []any{[]any{int64(1), 2.0}}, openapi.Credentials{"key": "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.URL.String(), "https://eu.example.com/v2/ping?api_key=s3cret&ids=1%2C2"; got != want {
		t.Errorf("url = %s, want %s", got, want)
	}
	if _, err := p.NewRequest(context.Background(), "", nil, nil); err == nil || err.Error() != `function "ping": no credentials for security scheme "oauth"` {
		t.Errorf("no credentials: %v", err)
	}
	req, err = p.NewRequest(context.Background(), "", nil, openapi.Credentials{"oauth": "tok", "key": "k"})
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer tok" || req.URL.RawQuery != "" {
		t.Errorf("oauth: Authorization %q, query %q; want the first requirement only", got, req.URL.RawQuery)
	}
	v, err := p.DecodeResponse(200, http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, []byte("pong"))
	if err != nil || v != "pong" {
		t.Errorf("text response = %v, %v", v, err)
	}
	if _, err := p.Args([]any{[]any{"x"}}); err == nil || err.Error() != `function "ping": parameter "ids" (query) at /0: want integer, got string "x"` {
		t.Errorf("3.1 array item: %v", err)
	}
}

func TestArgs(t *testing.T) {
	d := loadShop(t)
	item := map[string]any{"name": "lamp", "price": int64(12), "tags": []any{"home"}, "size": map[string]any{"width": 1.5, "height": int64(2), "unit": "cm"}}
	cases := []struct {
		op   string
		args []any
		want map[string]any
		err  string
	}{
		{op: "getItem", args: []any{int64(7)}, want: map[string]any{"id": int64(7)}},
		{op: "getItem", args: []any{7.0, "name"}, want: map[string]any{"id": int64(7), "fields": "name"}},
		{op: "getItem", args: []any{map[string]any{"id": int64(3), "fields": "price"}}, want: map[string]any{"id": int64(3), "fields": "price"}},
		{op: "getItem", args: []any{int64(7), nil}, want: map[string]any{"id": int64(7)}},
		{op: "getItem", args: []any{"x"}, err: `function "getItem": parameter "id" (path): want integer, got string "x"`},
		{op: "getItem", args: []any{7.5}, err: `function "getItem": parameter "id" (path): want integer, got float64 7.5`},
		{op: "getItem", args: nil, err: `function "getItem": parameter "id" (path): required`},
		{op: "getItem", args: []any{map[string]any{"fields": "x"}}, err: `function "getItem": parameter "id" (path): required`},
		{op: "getItem", args: []any{map[string]any{"id": int64(1), "color": "red"}}, err: `function "getItem": unknown parameter "color", want one of id, fields`},
		{op: "getItem", args: []any{int64(1), "a", "b"}, err: `function "getItem": want at most 2 arguments (id, fields), got 3`},
		{op: "getStock", args: []any{"ABC-123", "north"}, want: map[string]any{"sku": "ABC-123", "warehouse": "north"}},
		{op: "getStock", args: []any{"ABC-123", "east"}, err: `function "getStock": parameter "warehouse" (query): value is not one of the allowed values ["north","south"]`},
		{op: "getStock", args: []any{"abc", "north"}, err: `function "getStock": parameter "sku" (path): string doesn't match the regular expression "^[A-Z]{3}-[0-9]{3}$"`},
		{op: "listItems", args: []any{[]any{"a", "b"}, "sold", int64(5)}, want: map[string]any{"tag": []any{"a", "b"}, "status": "sold", "limit": int64(5)}},
		{op: "listItems", args: []any{nil, nil, int64(500)}, err: `function "listItems": parameter "limit" (query): number must be at most 100`},
		{op: "listItems", args: []any{"a"}, err: `function "listItems": parameter "tag" (query): want array, got string "a"`},
		// A single map is the body when the body is the only parameter...
		{op: "createItem", args: []any{nil, item}, want: map[string]any{"item": map[string]any{"name": "lamp", "price": 12.0, "tags": []any{"home"}, "size": map[string]any{"width": 1.5, "height": 2.0, "unit": "cm"}}}},
		// ...and the parameters by name otherwise.
		{op: "createItem", args: []any{map[string]any{"item": item, "X-Request-Id": "r1"}}, want: map[string]any{"X-Request-Id": "r1", "item": map[string]any{"name": "lamp", "price": 12.0, "tags": []any{"home"}, "size": map[string]any{"width": 1.5, "height": 2.0, "unit": "cm"}}}},
		{op: "createItem", args: []any{nil, map[string]any{"name": "lamp"}}, err: `function "createItem": parameter "item" (body) at /price: property "price" is missing`},
		{op: "createItem", args: []any{nil, map[string]any{"name": "lamp", "price": 1.0, "size": map[string]any{"width": 1.0, "height": 1.0, "unit": "mm"}}}, err: `function "createItem": parameter "item" (body) at /size/unit: value is not one of the allowed values ["cm","in"]`},
		{op: "createItem", args: []any{nil, map[string]any{"name": "lamp", "price": "free"}}, err: `function "createItem": parameter "item" (body) at /price: want number, got string "free"`},
		{op: "createItem", args: []any{nil, map[string]any{"name": "lamp", "price": -1.0}}, err: `function "createItem": parameter "item" (body) at /price: number must be at least 0`},
		{op: "updateItem", args: []any{int64(1), map[string]any{"name": "lamp", "price": 1.0, "created": time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)}}, want: map[string]any{"id": int64(1), "body": map[string]any{"name": "lamp", "price": 1.0, "created": "2024-05-01T10:00:00Z"}}},
	}
	for _, c := range cases {
		got, err := op(t, d, c.op).Args(c.args)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%s%v:\n got err %v\nwant err %s", c.op, c.args, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s%v: %v", c.op, c.args, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s%v:\n got %#v\nwant %#v", c.op, c.args, got, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	d := loadShop(t)
	lit := func(v any) sdk.Arg { return sdk.Arg{Kind: sdk.ArgLiteral, Value: v} }
	field := sdk.Arg{Kind: sdk.ArgField, Name: "x"}
	cases := []struct {
		op   string
		args []sdk.Arg
		err  string
	}{
		{"getItem", []sdk.Arg{lit(int64(1))}, ""},
		{"getItem", []sdk.Arg{field}, ""}, // a lone field may be a map by name
		{"getItem", []sdk.Arg{field, lit("f")}, ""},
		{"getItem", []sdk.Arg{lit("x")}, `function "getItem": parameter "id" (path): want integer, got string "x"`},
		{"getItem", nil, `function "getItem": parameter "id" (path): required, want at least 1 arguments, got 0`},
		{"getItem", []sdk.Arg{lit(nil), lit("f")}, `function "getItem": parameter "id" (path): required, got null`},
		{"getStock", []sdk.Arg{field, lit("east")}, `function "getStock": parameter "warehouse" (query): value is not one of the allowed values ["north","south"]`},
		{"getStock", []sdk.Arg{field, field, field}, `function "getStock": want at most 2 arguments (sku, warehouse), got 3`},
		{"listItems", nil, ""},
	}
	for _, c := range cases {
		err := op(t, d, c.op).Validate(c.args)
		if (err == nil) != (c.err == "") || (err != nil && err.Error() != c.err) {
			t.Errorf("%s %v:\n got %v\nwant %q", c.op, c.args, err, c.err)
		}
	}
}

func TestNewRequest(t *testing.T) {
	d := loadShop(t)
	ctx := context.Background()
	creds := openapi.Credentials{"bearer": "tok", "apiKey": "k1"}

	req, err := op(t, d, "listItems").NewRequest(ctx, "http://127.0.0.1:1/api/", []any{[]any{"a b", "c/d"}, "sold", int64(5)}, creds)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.Method+" "+req.URL.String(), "GET http://127.0.0.1:1/api/items?limit=5&status=sold&tag=a+b&tag=c%2Fd"; got != want {
		t.Errorf("listItems: %s, want %s", got, want)
	}
	if got := req.Header.Get("X-API-Key"); got != "k1" || req.Header.Get("Authorization") != "" || req.Body != nil {
		t.Errorf("listItems: X-API-Key %q, Authorization %q, body %v", got, req.Header.Get("Authorization"), req.Body)
	}

	req, err = op(t, d, "createItem").NewRequest(ctx, "http://h", []any{"r-1", map[string]any{"name": "lamp", "price": int64(3)}}, creds)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	if got, want := req.Method+" "+req.URL.String(), "POST http://h/items"; got != want {
		t.Errorf("createItem: %s, want %s", got, want)
	}
	wantHeader := http.Header{"Authorization": {"Bearer tok"}, "X-Request-Id": {"r-1"}, "Content-Type": {"application/json"}, "Accept": {"application/json"}}
	if !reflect.DeepEqual(req.Header, wantHeader) {
		t.Errorf("createItem header %v, want %v", req.Header, wantHeader)
	}
	if got, want := string(body), `{"name":"lamp","price":3}`; got != want {
		t.Errorf("createItem body %s, want %s", got, want)
	}

	req, err = op(t, d, "getStock").NewRequest(ctx, "", []any{"ABC-123", "south"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.URL.String(), "http://localhost:8080/api/v1/stock/ABC-123?warehouse=south"; got != want || req.Header.Get("X-API-Key") != "" {
		t.Errorf("getStock (no security): %s, want %s", got, want)
	}

	// Path values are escaped: a pattern-free string parameter in a
	// path would be, and integers pass as they are.
	req, err = op(t, d, "deleteItem").NewRequest(ctx, "http://h", []any{int64(-4)}, creds)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.Method+" "+req.URL.String(), "DELETE http://h/items/-4"; got != want {
		t.Errorf("deleteItem: %s, want %s", got, want)
	}

	if _, err := op(t, d, "deleteItem").NewRequest(ctx, "http://h", []any{int64(4)}, openapi.Credentials{"apiKey": "k"}); err == nil || err.Error() != `function "deleteItem": no credentials for security scheme "bearer"` {
		t.Errorf("deleteItem without bearer: %v", err)
	}
	if _, err := op(t, d, "deleteItem").NewRequest(ctx, "ftp://h", []any{int64(4)}, creds); err == nil || err.Error() != `function "deleteItem": server URL "ftp://h": want http(s)://host[:port][/base]` {
		t.Errorf("bad base: %v", err)
	}
}

func TestPathEscape(t *testing.T) {
	const doc = `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /files/{name}:
    get:
      operationId: getFile
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
        - {name: X-Tags, in: header, schema: {type: array, items: {type: string}}}
      responses:
        "200": {description: ok}
`
	d, err := openapi.Load([]byte(doc), "files.yaml")
	if err != nil {
		t.Fatal(err)
	}
	req, err := op(t, d, "getFile").NewRequest(context.Background(), "http://h/base", []any{"a/b c?", []any{"x", "y"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.URL.String(), "http://h/base/files/a%2Fb%20c%3F"; got != want {
		t.Errorf("url %s, want %s", got, want)
	}
	if got := req.Header.Get("X-Tags"); got != "x,y" {
		t.Errorf("X-Tags %q, want x,y", got)
	}
}

func TestDecodeResponse(t *testing.T) {
	d := loadShop(t)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	cases := []struct {
		op     string
		status int
		body   string
		want   any
		err    string
	}{
		{op: "getItem", status: 200, body: `{"id": 9007199254740993, "name": "lamp", "price": 12, "size": {"width": 1, "height": 2.5}}`,
			want: map[string]any{"id": int64(9007199254740993), "name": "lamp", "price": 12.0, "size": map[string]any{"width": 1.0, "height": 2.5}}},
		{op: "listItems", status: 200, body: `[{"id": 1, "name": "a", "price": 1.5, "tags": ["x"]}]`,
			want: []any{map[string]any{"id": int64(1), "name": "a", "price": 1.5, "tags": []any{"x"}}}},
		{op: "getStock", status: 200, body: `{"sku": "ABC-123", "count": 3, "byWarehouse": {"north": 1, "south": 2}}`,
			want: map[string]any{"sku": "ABC-123", "count": int64(3), "byWarehouse": map[string]any{"north": int64(1), "south": int64(2)}}},
		{op: "createItem", status: 201, body: `{"id": 2, "name": "b", "price": 0}`, want: map[string]any{"id": int64(2), "name": "b", "price": 0.0}},
		{op: "deleteItem", status: 204, body: ``, want: nil},
		{op: "getItem", status: 404, body: "  {\"code\": 404, \"message\": \"no item 9\"}\n", err: `function "getItem": 404 Not Found: {"code": 404, "message": "no item 9"}`},
		{op: "getItem", status: 200, body: `{"id": 1.5, "name": "a", "price": 1}`, err: `function "getItem": response 200: body #/id: want integer, got number 1.5`},
		{op: "getItem", status: 200, body: `{"id": 1, "name": "a"}`, err: `function "getItem": response 200: body #/price: property "price" is missing`},
		{op: "listItems", status: 200, body: `[{"id": 1, "name": "a", "price": 1}, {"id": 2, "name": 5, "price": 1}]`, err: `function "listItems": response 200: body #/1/name: value must be a string`},
		{op: "getItem", status: 200, body: `{"id": 1,`, err: `function "getItem": response 200: decode JSON: unexpected EOF`},
		{op: "getItem", status: 200, body: ``, err: `function "getItem": response 200: empty body, want JSON`},
	}
	for _, c := range cases {
		got, err := op(t, d, c.op).DecodeResponse(c.status, jsonHeader, []byte(c.body))
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%s %d %s:\n got err %v\nwant err %s", c.op, c.status, c.body, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %d %s: %v", c.op, c.status, c.body, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %d:\n got %#v\nwant %#v", c.op, c.status, got, c.want)
		}
	}
	long := strings.Repeat("x", 600)
	_, err := op(t, d, "getItem").DecodeResponse(500, nil, []byte(long))
	if want := `function "getItem": 500 Internal Server Error: ` + long[:512] + "…"; err == nil || err.Error() != want {
		t.Errorf("long error body: %v", err)
	}
}

// TestCall calls a real server on loopback.
func TestCall(t *testing.T) {
	d := loadShop(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/items/5" || r.Header.Get("X-API-Key") != "k" || r.URL.Query().Get("fields") != "name" {
			http.Error(w, `{"code": 400, "message": "bad request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id": 5, "name": "lamp", "price": 2}`)
	}))
	defer srv.Close()
	got, err := op(t, d, "getItem").Call(context.Background(), srv.Client(), srv.URL+"/v1", openapi.Credentials{"apiKey": "k"}, []any{int64(5), "name"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"id": int64(5), "name": "lamp", "price": 2.0}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	_, err = op(t, d, "getItem").Call(context.Background(), srv.Client(), srv.URL+"/v1", openapi.Credentials{"apiKey": "wrong"}, []any{int64(5), "name"})
	if want := `function "getItem": 400 Bad Request: {"code": 400, "message": "bad request"}`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}
