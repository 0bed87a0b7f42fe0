package service

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

// fnCtx is the context of a call from a rule.
type fnCtx struct{ context.Context }

func (fnCtx) GetLogger() *slog.Logger        { return slog.New(slog.DiscardHandler) }
func (fnCtx) GetRuleId() string              { return "rule" }
func (fnCtx) GetOpId() string                { return "op" }
func (fnCtx) GetInstanceId() int             { return 0 }
func (fnCtx) GetRootPath() string            { return "" }
func (fnCtx) PutState(string, any) error     { return nil }
func (fnCtx) GetState(string) (any, error)   { return nil, nil }
func (fnCtx) IncrCounter(string, int) error  { return nil }
func (fnCtx) GetCounter(string) (int, error) { return 0, nil }
func (fnCtx) DeleteState(string) error       { return nil }
func (fnCtx) GetFuncId() int                 { return 0 }

func shopYAML(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../../svc/openapi/testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// shopServer implements shop.yaml under /api, checking what it receives:
// each request's credentials, parameters and body; it records the last
// request's headers.
type shopServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD /path?query auth=... key=... client=..."
}

func (s *shopServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

func (s *shopServer) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		return ""
	}
	return s.seen[len(s.seen)-1]
}

func startShop(t *testing.T) *shopServer {
	s := &shopServer{}
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	fail := func(w http.ResponseWriter, status int, msg string) {
		reply(w, status, map[string]any{"code": status, "message": msg})
	}
	needKey := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("X-API-Key") != "key1" {
			fail(w, http.StatusUnauthorized, "want X-API-Key")
			return false
		}
		return true
	}
	needBearer := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "Bearer tok" {
			fail(w, http.StatusUnauthorized, "want a bearer token")
			return false
		}
		return true
	}
	item := map[string]any{"id": 7, "name": "lamp", "price": 12.5, "tags": []string{"home"}, "size": map[string]any{"width": 10, "height": 20.5}}
	mux.HandleFunc("GET /api/items", func(w http.ResponseWriter, r *http.Request) {
		if !needKey(w, r) {
			return
		}
		q := r.URL.Query()
		if fmt.Sprint(q["tag"]) != "[home lit]" || q.Get("status") != "available" || q.Get("limit") != "2" {
			fail(w, http.StatusBadRequest, "query "+r.URL.RawQuery)
			return
		}
		reply(w, 200, []any{item})
	})
	mux.HandleFunc("POST /api/items", func(w http.ResponseWriter, r *http.Request) {
		if !needBearer(w, r) {
			return
		}
		var body map[string]any
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&body) != nil {
			fail(w, http.StatusBadRequest, "want a JSON body")
			return
		}
		body["id"] = 8
		body["requestId"] = r.Header.Get("X-Request-Id")
		reply(w, 201, body)
	})
	mux.HandleFunc("GET /api/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !needKey(w, r) {
			return
		}
		if r.PathValue("id") != "7" {
			fail(w, http.StatusNotFound, "no item "+r.PathValue("id"))
			return
		}
		reply(w, 200, item)
	})
	mux.HandleFunc("PUT /api/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !needBearer(w, r) {
			return
		}
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		body["id"] = r.PathValue("id")
		reply(w, 200, body) // an id that is no integer: breaks the schema
	})
	mux.HandleFunc("DELETE /api/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !needBearer(w, r) {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/stock/{sku}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != "" || r.Header.Get("Authorization") != "" {
			fail(w, http.StatusBadRequest, "getStock needs no credentials")
			return
		}
		reply(w, 200, map[string]any{"sku": r.PathValue("sku"), "count": 3, "byWarehouse": map[string]int{r.URL.Query().Get("warehouse"): 3}})
	})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, fmt.Sprintf("%s %s client=%s", r.Method, r.URL.RequestURI(), r.Header.Get("X-Client")))
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func shopDesc(address, extra string) []byte {
	addr := ""
	if address != "" {
		addr = fmt.Sprintf(`"address": %q, `, address)
	}
	return []byte(fmt.Sprintf(`{"interfaces": {"shop": {%s"protocol": "rest", "schemaType": "openapi", "schemaFile": "shop.yaml"%s}}}`, addr, extra))
}

func call(t *testing.T, r *Registry, fn string, args ...any) (any, error) {
	t.Helper()
	f, ok := r.Function(fn)
	if !ok {
		t.Fatalf("no function %q", fn)
	}
	res, ok := f.Exec(fnCtx{context.Background()}, args)
	if !ok {
		return nil, res.(error)
	}
	return res, nil
}

func TestOpenAPIService(t *testing.T) {
	srv := startShop(t)
	var logs bytes.Buffer
	r := NewRegistry(t.TempDir(), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})))
	t.Cleanup(func() { r.Close() })
	var calls []string
	r.ObserveCalls(func(service, function string, _ time.Duration, ok bool) {
		calls = append(calls, fmt.Sprintf("%s/%s:%v", service, function, ok))
	})
	desc := shopDesc(srv.URL+"/api", `, "functions": [{"name": "item", "serviceName": "getItem"}],
		"options": {"headers": {"X-Client": "kgen"}, "credentials": {"bearer": "tok", "apiKey": "key1"}}`)
	if err := r.Add("shop", desc, map[string][]byte{"shop.yaml": shopYAML(t)}); err != nil {
		t.Fatal(err)
	}
	want := "createItem=shop/shop/createItem deleteItem=shop/shop/deleteItem getStock=shop/shop/getStock item=shop/shop/getItem listItems=shop/shop/listItems updateItem=shop/shop/updateItem"
	if got := funcNames(r); got != want {
		t.Errorf("functions:\n got %s\nwant %s", got, want)
	}
	for _, skipped := range []string{
		`level=WARN msg="skip operation" service=shop interface=shop schema=shop.yaml operation="GET /health: no operationId"`,
		`level=WARN msg="skip operation" service=shop interface=shop schema=shop.yaml operation="PUT /items/{id}/image (uploadImage): request body media type \"multipart/form-data\" is not supported, want application/json"`,
		`level=WARN msg="skip operation" service=shop interface=shop schema=shop.yaml operation="GET /session (getSession): cookie parameter \"sid\": cookie parameters are not supported"`,
	} {
		if !strings.Contains(logs.String(), skipped+"\n") {
			t.Errorf("log lacks %s; log:\n%s", skipped, logs.String())
		}
	}

	cases := []struct {
		fn   string
		args []any
		want any
		seen string
	}{
		{"item", []any{int64(7)}, map[string]any{"id": int64(7), "name": "lamp", "price": 12.5, "tags": []any{"home"}, "size": map[string]any{"width": 10.0, "height": 20.5}},
			"GET /api/items/7 client=kgen"},
		{"listItems", []any{[]any{"home", "lit"}, "available", int64(2)}, []any{map[string]any{"id": int64(7), "name": "lamp", "price": 12.5, "tags": []any{"home"}, "size": map[string]any{"width": 10.0, "height": 20.5}}},
			"GET /api/items?limit=2&status=available&tag=home&tag=lit client=kgen"},
		{"createItem", []any{map[string]any{"X-Request-Id": "r9", "item": map[string]any{"name": "desk", "price": int64(99)}}},
			map[string]any{"id": int64(8), "name": "desk", "price": 99.0, "requestId": "r9"}, "POST /api/items client=kgen"},
		{"deleteItem", []any{int64(7)}, nil, "DELETE /api/items/7 client=kgen"},
		{"getStock", []any{"ABC-123", "north"}, map[string]any{"sku": "ABC-123", "count": int64(3), "byWarehouse": map[string]any{"north": int64(3)}},
			"GET /api/stock/ABC-123?warehouse=north client=kgen"},
	}
	for _, c := range cases {
		got, err := call(t, r, c.fn, c.args...)
		if err != nil {
			t.Errorf("%s: %v", c.fn, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", c.fn, got, c.want)
		}
		if s := srv.last(); s != c.seen {
			t.Errorf("%s: server saw %q, want %q", c.fn, s, c.seen)
		}
	}

	errCases := []struct {
		fn   string
		args []any
		want string
	}{
		{"item", []any{int64(404)}, fmt.Sprintf(`function "item": rest call GET %s/api/items/404: 404 Not Found: {"code":404,"message":"no item 404"}`, srv.URL)},
		{"item", []any{"x"}, `function "getItem": parameter "id" (path): want integer, got string "x"`},
		{"updateItem", []any{int64(5), map[string]any{"name": "a", "price": 1.0}}, `function "updateItem": response 200: body #/id: value must be an integer`},
		{"getStock", []any{"ABC-123", "east"}, `function "getStock": parameter "warehouse" (query): value is not one of the allowed values ["north","south"]`},
	}
	for _, c := range errCases {
		_, err := call(t, r, c.fn, c.args...)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s%v:\n got %v\nwant %s", c.fn, c.args, err, c.want)
		}
	}
	if want := "shop/item:true shop/listItems:true shop/createItem:true shop/deleteItem:true shop/getStock:true shop/item:false shop/item:false shop/updateItem:false shop/getStock:false"; strings.Join(calls, " ") != want {
		t.Errorf("observed calls:\n got %s\nwant %s", strings.Join(calls, " "), want)
	}

	// Compile-time checks of literal arguments.
	f, _ := r.Function("item")
	if err := f.Validate([]sdk.Arg{{Kind: sdk.ArgLiteral, Value: "x"}}); err == nil || err.Error() != `function "getItem": parameter "id" (path): want integer, got string "x"` {
		t.Errorf("Validate: %v", err)
	}

	// Without credentials, secured operations fail before a request is sent.
	if err := r.Update("shop", shopDesc(srv.URL+"/api", ""), nil); err != nil {
		t.Fatal(err)
	}
	n := srv.count()
	if _, err := call(t, r, "deleteItem", int64(1)); err == nil || err.Error() != `function "deleteItem": no credentials for security scheme "bearer"` {
		t.Errorf("no credentials: %v", err)
	}
	if _, err := call(t, r, "getStock", "ABC-123", "south"); err != nil {
		t.Errorf("getStock needs no credentials: %v", err)
	}
	if got := srv.count() - n; got != 1 {
		t.Errorf("server saw %d requests, want 1", got)
	}
}

// With no address, the document's first server is the base.
func TestOpenAPIServiceAddress(t *testing.T) {
	srv := startShop(t)
	host, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
	doc := strings.NewReplacer("default: localhost", "default: "+host, `default: "8080"`, fmt.Sprintf("default: %q", port), "/api/v1", "/api").Replace(string(shopYAML(t)))
	r, _ := newTestRegistry(t)
	if err := r.Add("shop", shopDesc("", ""), map[string][]byte{"shop.yaml": []byte(doc)}); err != nil {
		t.Fatal(err)
	}
	if got := r.Functions()[0].Addr; got != srv.URL+"/api" {
		t.Errorf("address %q, want %q", got, srv.URL+"/api")
	}
	if got, err := call(t, r, "getStock", "ABC-123", "north"); err != nil || fmt.Sprint(got) != "map[byWarehouse:map[north:3] count:3 sku:ABC-123]" {
		t.Errorf("getStock = %v, %v", got, err)
	}
	// An address overrides the document's server (localhost:8080 in
	// shop.yaml, where nothing listens).
	if err := r.Update("shop", shopDesc(srv.URL+"/api", ""), map[string][]byte{"shop.yaml": shopYAML(t)}); err != nil {
		t.Fatal(err)
	}
	if _, err := call(t, r, "getStock", "ABC-123", "north"); err != nil {
		t.Errorf("getStock at the given address: %v", err)
	}

	// Shipped in a zip, like .proto schemas.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for n, data := range map[string][]byte{"zshop.json": shopDesc(srv.URL+"/api", `, "functions": [{"name": "zStock", "serviceName": "getStock"}]`), "schemas/z/shop.yaml": shopYAML(t)} {
		w, _ := zw.Create(n)
		w.Write(bytes.ReplaceAll(data, []byte(`"schemaFile": "shop.yaml"`), []byte(`"schemaFile": "z/shop.yaml"`)))
	}
	zw.Close()
	if err := r.Delete("shop"); err != nil {
		t.Fatal(err)
	}
	if err := r.AddZip("zshop", buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if _, err := call(t, r, "zStock", "ABC-123", "north"); err != nil {
		t.Errorf("zStock: %v", err)
	}
}

func TestOpenAPIServiceErrors(t *testing.T) {
	r, _ := newTestRegistry(t)
	shop := map[string][]byte{"shop.yaml": shopYAML(t)}
	noServers := map[string][]byte{"shop.yaml": []byte("openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\npaths:\n  /x:\n    get:\n      operationId: x\n      responses:\n        \"204\": {description: ok}\n")}
	bad := map[string][]byte{"shop.yaml": []byte("openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\npaths:\n  /x/{id}:\n    get:\n      operationId: x\n      responses:\n        \"204\": {description: ok}\n")}
	cases := []struct {
		desc    []byte
		schemas map[string][]byte
		want    string
	}{
		{shopDesc("", ""), noServers, `add service "s": interface "shop": missing address: shop.yaml names no server`},
		{shopDesc("http://h", ""), bad, `add service "s": interface "shop": schema shop.yaml: #/paths/~1x~1{id}/get: operation GET /x/{id} must define exactly all path parameters (missing: [id])`},
		{shopDesc("http://h", ""), nil, `add service "s": interface "shop": schema "shop.yaml": file not found`},
		{shopDesc("tcp://h:1", ""), shop, `add service "s": interface "shop": address "tcp://h:1": want http(s)://host:port[/base]`},
		{[]byte(`{"interfaces": {"shop": {"protocol": "grpc", "address": "tcp://h:1", "schemaType": "openapi", "schemaFile": "shop.yaml"}}}`), shop, `add service "s": interface "shop": schemaType "openapi" needs protocol "rest", got "grpc"`},
		{shopDesc("http://h", `, "functions": [{"name": "up", "serviceName": "uploadImage"}]`), shop, `add service "s": interface "shop": function "up": operation "uploadImage" is not supported: request body media type "multipart/form-data" is not supported, want application/json`},
		{shopDesc("http://h", `, "functions": [{"name": "n", "serviceName": "nope"}]`), shop, `add service "s": interface "shop": function "n": no operation "nope" in shop.yaml`},
		{shopDesc("http://h", `, "functions": [{"name": "getStock", "serviceName": "getItem"}]`), shop, `add service "s": interface "shop": function "getStock" is both rpc "getItem" and rpc "getStock"`},
	}
	for _, c := range cases {
		err := r.Add("s", c.desc, c.schemas)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got %v\nwant %s", c.desc, err, c.want)
		}
	}
	if len(r.Services()) != 0 {
		t.Errorf("services after failed adds: %v", r.Services())
	}
}
