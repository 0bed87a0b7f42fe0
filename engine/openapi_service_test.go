package engine_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// A rule calls an operation of an OpenAPI service: the row's fields are the
// parameters, the decoded response a column; a bad row is an exception.
func TestOpenAPIServiceInRules(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sku, ok := strings.CutPrefix(r.URL.Path, "/api/stock/")
		if !ok || r.URL.Query().Get("warehouse") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"sku": sku, "count": len(sku)})
	}))
	defer srv.Close()
	doc, err := os.ReadFile("../svc/openapi/testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := open(t, t.TempDir())
	defer e.Close()
	desc := fmt.Sprintf(`{"interfaces": {"shop": {"address": %q, "protocol": "rest", "schemaType": "openapi", "schemaFile": "shop.yaml",
		"functions": [{"name": "stock", "serviceName": "getStock"}]}}}`, srv.URL+"/api")
	if err := e.Services().Add("shop", []byte(desc), map[string][]byte{"shop.yaml": doc}); err != nil {
		t.Fatal(err)
	}
	mustStream(t, e, `CREATE STREAM orders (sku STRING, wh STRING) WITH (DATASOURCE="in/orders", TYPE="memory")`)
	mustRule(t, e, `{"id": "stock", "sql": "SELECT sku, stock(sku, wh)->count AS n FROM orders", "actions": [{"memory": {"topic": "out/stock"}}]}`)
	out, cancel := e.MemoryHub().Subscribe("out/stock", 4)
	defer cancel()
	publish(t, e, "in/orders", map[string]any{"sku": "ABC-123", "wh": "north"})
	if got := nextRow(t, out); got != "map[n:7 sku:ABC-123]" {
		t.Errorf("row = %s", got)
	}
	publish(t, e, "in/orders", map[string]any{"sku": "ABC-123", "wh": "east"})
	eventually(t, "the row error", func() bool {
		st, _ := e.RuleStatus("stock")
		return st.Exceptions == 1
	})
	if st, _ := e.RuleStatus("stock"); !strings.Contains(st.LastError, `function "getStock": parameter "warehouse" (query): value is not one of the allowed values ["north","south"]`) {
		t.Errorf("row error = %q", st.LastError)
	}
	_, err = e.CreateRule([]byte(`{"id": "bad", "sql": "SELECT stock(sku, 'east') FROM orders", "actions": [{"log": {}}]}`))
	if err == nil || !strings.Contains(err.Error(), `function "getStock": parameter "warehouse" (query): value is not one of the allowed values ["north","south"]`) {
		t.Errorf("literal checked at creation: %v", err)
	}
}
