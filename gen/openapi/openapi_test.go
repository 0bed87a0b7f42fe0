package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/service"
	"github.com/kgen-dev/kgen/gen"
	"github.com/kgen-dev/kgen/gen/openapi"
	"github.com/kgen-dev/kgen/svc"
)

// update rewrites the goldens instead of comparing them: KGEN_UPDATE=1.
var update = os.Getenv("KGEN_UPDATE") != ""

const (
	shopDoc     = "../../svc/openapi/testdata/shop.yaml"
	petstoreDoc = "testdata/petstore.json"
)

// goldenCases generate into testdata/<dir>. The server goldens are Go
// packages that the cmd/ programs beside them serve (TestGoldensRun); the
// shop client golden runs in an engine in shop/cmd/client
// (TestClientGoldenRuns).
var goldenCases = []struct {
	dir  string
	opts openapi.Options
}{
	{"shop/service", openapi.Options{Kind: openapi.KindService, File: shopDoc}},
	{"shop/server", openapi.Options{Kind: openapi.KindServer, File: shopDoc}},
	{"shop/client", openapi.Options{Kind: openapi.KindClient, File: shopDoc, Package: "shopclient"}},
	{"petstore/server", openapi.Options{Kind: openapi.KindServer, File: petstoreDoc}},
	{"petstore/client", openapi.Options{Kind: openapi.KindClient, File: petstoreDoc, Package: "petclient"}},
}

// generate loads and generates opts in memory.
func generate(t *testing.T, opts openapi.Options) gen.MemOutput {
	t.Helper()
	m, err := openapi.Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	out := gen.MemOutput{}
	if err := openapi.Generate(m, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", filepath.FromSlash(c.dir))
			files := generate(t, c.opts)
			for name, data := range files {
				if strings.HasSuffix(name, ".zip") {
					continue // binary: TestServiceZip
				}
				if update {
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				old, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Errorf("%v (run KGEN_UPDATE=1 go test ./gen/openapi)", err)
					continue
				}
				if !bytes.Equal(old, data) {
					t.Errorf("%s/%s is stale (run KGEN_UPDATE=1 go test ./gen/openapi)", dir, name)
				}
			}
		})
	}
}

// The same input generates the same bytes, the zip included.
func TestDeterministic(t *testing.T) {
	for _, c := range goldenCases {
		a, b := generate(t, c.opts), generate(t, c.opts)
		if !slices.Equal(slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b))) {
			t.Fatalf("%s: files differ", c.dir)
		}
		for name := range a {
			if !bytes.Equal(a[name], b[name]) {
				t.Errorf("%s: %s differs between two runs", c.dir, name)
			}
		}
	}
}

// The skipped operations are those svc/openapi skips, each named.
func TestWarnings(t *testing.T) {
	m, err := openapi.Load(openapi.Options{Kind: openapi.KindServer, File: shopDoc})
	if err != nil {
		t.Fatal(err)
	}
	want := `skipped operation GET /health: no operationId
skipped operation PUT /items/{id}/image (uploadImage): request body media type "multipart/form-data" is not supported, want application/json
skipped operation GET /session (getSession): cookie parameter "sid": cookie parameters are not supported`
	if got := strings.Join(m.Warnings(), "\n"); got != want {
		t.Errorf("warnings:\n%s\nwant:\n%s", got, want)
	}
}

// The zip holds the description and the document and installs into the
// engine's service registry, one function per operation.
func TestServiceZip(t *testing.T) {
	files := generate(t, openapi.Options{Kind: openapi.KindService, File: shopDoc, Name: "myshop", Address: "http://127.0.0.1:1"})
	reg := service.NewRegistry(t.TempDir(), nil)
	defer reg.Close()
	if err := reg.AddZip("myshop", files["myshop.zip"]); err != nil {
		t.Fatal(err)
	}
	var fns []string
	for _, f := range reg.Functions() {
		fns = append(fns, f.FuncName)
	}
	slices.Sort(fns)
	if got, want := strings.Join(fns, " "), "createItem deleteItem getItem getStock listItems updateItem"; got != want {
		t.Errorf("functions: %s\nwant:      %s", got, want)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		opts openapi.Options
		want string
	}{
		{openapi.Options{Kind: openapi.KindServer, File: "testdata/errors/none.yaml"}, "testdata/errors/none.yaml: file not found"},
		{openapi.Options{Kind: openapi.KindServer, File: "testdata/errors/api.txt"}, "testdata/errors/api.txt: want an OpenAPI document (.yaml, .yml or .json)"},
		{openapi.Options{Kind: "stub", File: shopDoc}, `unknown kind "stub": want service, server or client`},
		{openapi.Options{Kind: openapi.KindServer, File: shopDoc, Package: "my-pkg"}, `package "my-pkg": want a Go identifier`},
		{openapi.Options{Kind: openapi.KindService, File: shopDoc, Name: "../x"}, `service name "../x": want letters, digits, _, - and .`},
		{openapi.Options{Kind: openapi.KindServer, File: "testdata/errors/swagger.yaml"},
			`testdata/errors/swagger.yaml: #/openapi: version "2.0.1" is not supported, want 3.0.x or 3.1.x`},
		{openapi.Options{Kind: openapi.KindService, File: "testdata/errors/noserver.yaml"},
			"testdata/errors/noserver.yaml: #/servers: no server URL; give the service address"},
		{openapi.Options{Kind: openapi.KindServer, File: "testdata/errors/segment.yaml"},
			`testdata/errors/segment.yaml: #/paths/~1files~1{name}.json/get: path segment "{name}.json": want a parameter to fill a whole segment`},
		{openapi.Options{Kind: openapi.KindServer, File: "testdata/errors/collision.yaml"},
			`testdata/errors/collision.yaml: generated identifier GetThingParams is both generated for operation "getThing" and the type of schema #/components/schemas/GetThingParams; rename one of them`},
		{openapi.Options{Kind: openapi.KindServer, File: "testdata/errors/objectparam.yaml"},
			`testdata/errors/objectparam.yaml: #/paths/~1things/get/parameters/filter: query parameter "filter": want a scalar or an array of scalars`},
	}
	for _, c := range cases {
		m, err := openapi.Load(c.opts)
		got := "<nil>"
		if err != nil {
			got = err.Error()
		}
		if got != c.want || m != nil {
			t.Errorf("%s %s:\n got %s\nwant %s", c.opts.Kind, c.opts.File, got, c.want)
		}
	}
}

func goTool(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// serve builds and starts a cmd/server program and returns its base URL.
func serve(t *testing.T, pkg string, args ...string) string {
	t.Helper()
	bin := t.TempDir()
	goTool(t, "build", "-o", filepath.Join(bin, "server"), pkg)
	ready := filepath.Join(bin, "ready")
	var out bytes.Buffer
	cmd := exec.Command(filepath.Join(bin, "server"), append([]string{"-ready", ready}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s: %v\n%s", pkg, err, out.String())
		}
	})
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if data, err := os.ReadFile(ready); err == nil && strings.HasSuffix(string(data), "\n") {
			return "http://" + strings.TrimSpace(strings.TrimPrefix(string(data), "http="))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not write %s", pkg, ready)
		}
	}
}

// call sends a request and returns "<status> <compact JSON body>".
func call(t *testing.T, method, url, body string, header map[string]string) string {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var compact bytes.Buffer
	if len(data) > 0 && json.Compact(&compact, data) != nil {
		return fmt.Sprintf("%d %s", resp.StatusCode, data)
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", resp.StatusCode, compact.String()))
}

// The goldens compile and pass vet; the shop server serves every operation
// through the engine, and refuses invalid requests with 400 naming the
// parameter; the petstore server serves too.
func TestGoldensRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	goTool(t, "vet", "./testdata/shop/...", "./testdata/petstore/...")
	base := serve(t, "./testdata/shop/cmd/server")
	key := map[string]string{"X-API-Key": "key"}
	for _, c := range []struct{ method, path, body, want string }{
		{"GET", "/items/abc", "", `400 {"error":"parameter \"id\" in path has an error: value abc: an invalid integer: invalid syntax"}`},
		{"GET", "/stock/ABC-123", "", `400 {"error":"parameter \"warehouse\" in query has an error: value is required but missing"}`},
		{"GET", "/stock/ABC-123?warehouse=east", "", `400 {"error":"parameter \"warehouse\" in query has an error: value is not one of the allowed values [\"north\",\"south\"]"}`},
		{"GET", "/stock/abc?warehouse=north", "", `400 {"error":"parameter \"sku\" in path has an error: string doesn't match the regular expression \"^[A-Z]{3}-[0-9]{3}$\""}`},
		{"GET", "/items?limit=0", "", `400 {"error":"parameter \"limit\" in query has an error: number must be at least 1"}`},
		{"POST", "/items", `{"name": "pen"}`, `401 {"error":"security requirements failed: bearer: bad credentials"}`},
		{"GET", "/items/9", "", `404 {"code":404,"message":"no item 9"}`},
		{"GET", "/items", "", "401 {\"error\":\"security requirements failed: apiKey: bad credentials\"}"},
	} {
		h := key
		if strings.HasPrefix(c.want, "401") {
			h = nil
		}
		if got := call(t, c.method, base+c.path, c.body, h); got != c.want {
			t.Errorf("%s %s:\n got %s\nwant %s", c.method, c.path, got, c.want)
		}
	}

	// Through the engine: the generated service, at the server, with
	// credentials.
	e, err := engine.Open(engine.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	files := generate(t, openapi.Options{Kind: openapi.KindService, File: shopDoc, Address: base})
	desc, err := svc.ParseDescription(files["shop.json"])
	if err != nil {
		t.Fatal(err)
	}
	desc.Interfaces["shop"].Options = &svc.Options{Timeout: svc.Duration(5 * time.Second), Credentials: map[string]string{"bearer": "tok", "apiKey": "key"}}
	raw, _ := json.Marshal(desc)
	src, _ := os.ReadFile(shopDoc)
	if err := e.Services().Add("shop", raw, map[string][]byte{"shop.yaml": src}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateStream(`CREATE STREAM calls () WITH (DATASOURCE="in/calls", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	// Each step is a rule over the calls stream with one row; they run in
	// order, since each depends on the last.
	steps := []struct{ sql, want string }{
		{`SELECT createItem("r1", item) AS r FROM calls`, "map[r:map[id:1 name:pen price:1.5 status:available tags:[blue req:r1]]]"},
		{`SELECT createItem(null, item) AS r FROM calls`, "map[r:map[id:2 name:pen price:1.5 status:available tags:[blue]]]"},
		{`SELECT getItem(1) AS r FROM calls`, "map[r:map[id:1 name:pen price:1.5 status:available tags:[blue req:r1]]]"},
		{`SELECT updateItem(2, item2) AS r FROM calls`, "map[r:map[id:2 name:ink price:3 size:map[height:2 unit:cm width:1] status:sold]]"},
		{`SELECT listItems(tags, "available", 5) AS r FROM calls`, "map[r:[map[id:1 name:pen price:1.5 status:available tags:[blue req:r1]]]]"},
		{`SELECT deleteItem(1) AS r FROM calls`, "map[r:<nil>]"},
		{`SELECT listItems() AS r FROM calls`, "map[r:[map[id:2 name:ink price:3 size:map[height:2 unit:cm width:1] status:sold]]]"},
		{`SELECT getStock("ABC-123", "north") AS r FROM calls`, "map[r:map[byWarehouse:map[north:7] count:7 sku:ABC-123]]"},
	}
	row := map[string]any{
		"item":  map[string]any{"name": "pen", "price": 1.5, "status": "available", "tags": []any{"blue"}},
		"tags":  []any{"blue"},
		"item2": map[string]any{"name": "ink", "price": 3.0, "status": "sold", "size": map[string]any{"width": 1.0, "height": 2.0, "unit": "cm"}},
	}
	ctx := context.Background()
	for i, s := range steps {
		id := fmt.Sprintf("step%d", i)
		if _, err := e.CreateRule([]byte(fmt.Sprintf(`{"id": %q, "sql": %q, "actions": [{"memory": {"topic": "out/%s"}}]}`, id, s.sql, id))); err != nil {
			t.Fatalf("rule %s: %v", s.sql, err)
		}
		ch, cancel := e.MemoryHub().Subscribe("out/"+id, 4)
		e.MemoryHub().Publish(ctx, "in/calls", row)
		select {
		case r := <-ch:
			if got := fmt.Sprint(r); got != s.want {
				t.Errorf("%s:\n got %s\nwant %s", s.sql, got, s.want)
			}
		case <-time.After(10 * time.Second):
			st, _ := e.RuleStatus(id)
			t.Fatalf("%s: no row; status %+v", s.sql, st)
		}
		cancel()
		if err := e.DeleteRule(id); err != nil {
			t.Fatal(err)
		}
	}

	pet := serve(t, "./testdata/petstore/cmd/server")
	for _, c := range []struct{ method, path, body, want string }{
		{"POST", "/pet", `{"name": "rex", "photoUrls": ["a.png"]}`, "200"}, // no 2xx declared: 200, no body
		{"GET", "/pet/1", "", `200 {"id":1,"name":"rex","photoUrls":["a.png"]}`},
		{"GET", "/pet/2", "", "404"},
		{"GET", "/pet/x", "", `400 {"error":"parameter \"petId\" in path has an error: value x: an invalid integer: invalid syntax"}`},
		{"POST", "/pet", `{"name": "rex"}`, `400 {"error":"request body has an error: doesn't match schema #/components/schemas/PetWithRequired: /photoUrls: property \"photoUrls\" is missing"}`},
	} {
		if got := call(t, c.method, pet+c.path, c.body, nil); got != c.want {
			t.Errorf("petstore %s %s:\n got %s\nwant %s", c.method, c.path, got, c.want)
		}
	}
}

// The generated client plugins run in an engine against the generated shop
// server. With the service description that kgen gen service writes in the
// engine root, every operation is called at its address with its
// credentials; a non-2xx answer is the rule's exception, with status and
// body; a literal the operation refuses stops the rule at creation. Without
// the description the plugins call the address baked into them, with no
// credentials.
func TestClientGoldenRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	bin := t.TempDir()
	client := filepath.Join(bin, "client")
	goTool(t, "build", "-o", client, "./testdata/shop/cmd/client")
	run := func(root string, args ...string) string {
		t.Helper()
		out, err := exec.Command(client, append([]string{"-root", root}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("client: %v\n%s", err, out)
		}
		return string(out)
	}

	base := serve(t, "./testdata/shop/cmd/server")
	root := t.TempDir()
	files := generate(t, openapi.Options{Kind: openapi.KindService, File: shopDoc, Address: base})
	desc, err := svc.ParseDescription(files["shop.json"])
	if err != nil {
		t.Fatal(err)
	}
	desc.Interfaces["shop"].Options = &svc.Options{Timeout: svc.Duration(5 * time.Second), Credentials: map[string]string{"bearer": "tok", "apiKey": "key"}}
	raw, _ := json.Marshal(desc)
	if err := os.MkdirAll(filepath.Join(root, "data", "services"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "data", "services", "shop.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	got := run(root,
		`SELECT createItem("r1", item) AS r FROM calls`,
		`SELECT createItem(null, item2) AS r FROM calls`,
		`SELECT listItems(tags, "available", 5) AS r FROM calls`,
		`SELECT getItem(1) AS r FROM calls`,
		`SELECT updateItem(1, item2) AS r FROM calls`,
		`SELECT listItems() AS r FROM calls`,
		`SELECT getStock("ABC-123", "south") AS r FROM calls`,
		`SELECT deleteItem(1) AS r FROM calls`,
		`SELECT getItem(1) AS r FROM calls`,
		`SELECT deleteItem(1) AS r FROM calls`,
		`SELECT getItem("one") AS r FROM calls`,
		`SELECT getStock("ABC-123", "east") AS r FROM calls`,
	)
	got = strings.ReplaceAll(got, strings.TrimPrefix(base, "http://"), "<server>")
	want := `SELECT createItem("r1", item) AS r FROM calls
  = map[r:map[id:1 name:pen price:1.5 status:available tags:[blue req:r1]]]
SELECT createItem(null, item2) AS r FROM calls
  = map[r:map[id:2 name:ink price:3 size:map[height:2 unit:cm width:1] status:sold]]
SELECT listItems(tags, "available", 5) AS r FROM calls
  = map[r:[map[id:1 name:pen price:1.5 status:available tags:[blue req:r1]]]]
SELECT getItem(1) AS r FROM calls
  = map[r:map[id:1 name:pen price:1.5 status:available tags:[blue req:r1]]]
SELECT updateItem(1, item2) AS r FROM calls
  = map[r:map[id:1 name:ink price:3 size:map[height:2 unit:cm width:1] status:sold]]
SELECT listItems() AS r FROM calls
  = map[r:[map[id:1 name:ink price:3 size:map[height:2 unit:cm width:1] status:sold] map[id:2 name:ink price:3 size:map[height:2 unit:cm width:1] status:sold]]]
SELECT getStock("ABC-123", "south") AS r FROM calls
  = map[r:map[byWarehouse:map[south:7] count:7 sku:ABC-123]]
SELECT deleteItem(1) AS r FROM calls
  = map[r:<nil>]
SELECT getItem(1) AS r FROM calls
  exception: 1:8: function "getItem": 404 Not Found: {"code":404,"message":"no item 1"}
SELECT deleteItem(1) AS r FROM calls
  exception: 1:8: function "deleteItem": 404 Not Found: {"code":404,"message":"no item 1"}
SELECT getItem("one") AS r FROM calls
  refused: rule "step10": sql: 1:8: function "getItem": parameter "id" (path): want integer, got string "one"
SELECT getStock("ABC-123", "east") AS r FROM calls
  refused: rule "step11": sql: 1:8: function "getStock": parameter "warehouse" (query): value is not one of the allowed values ["north","south"]
dialed: [<server>]
`
	if got != want {
		t.Errorf("with the service description:\n%s\nwant:\n%s", got, want)
	}

	// A description that sets only credentials, a wrong bearer token among
	// them: the baked-in address, http://localhost:8080/api/v1, rerouted at
	// the dialer to a server under /api/v1, which refuses the token.
	prefixed := strings.TrimPrefix(serve(t, "./testdata/shop/cmd/server", "-prefix", "/api/v1"), "http://")
	root = t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "data", "services"), 0o755); err != nil {
		t.Fatal(err)
	}
	credsOnly := `{"interfaces": {"shop": {"protocol": "rest", "schemaType": "openapi", "schemaFile": "shop.yaml",
		"options": {"credentials": {"apiKey": "key", "bearer": "nope"}}}}}`
	if err := os.WriteFile(filepath.Join(root, "data", "services", "shop.json"), []byte(credsOnly), 0o644); err != nil {
		t.Fatal(err)
	}
	got = run(root, "-via", "localhost:8080="+prefixed,
		`SELECT createItem("r2", item) AS r FROM calls`,
		`SELECT listItems() AS r FROM calls`,
	)
	want = `SELECT createItem("r2", item) AS r FROM calls
  exception: 1:8: function "createItem": 401 Unauthorized: {"error":"security requirements failed: bearer: bad credentials"}
SELECT listItems() AS r FROM calls
  = map[r:[]]
dialed: [localhost:8080]
`
	if got != want {
		t.Errorf("with credentials only:\n%s\nwant:\n%s", got, want)
	}

	// No description: the baked-in address and no credentials, which the
	// operations need.
	got = run(t.TempDir(), "-via", "localhost:8080="+prefixed,
		`SELECT getItem(1) AS r FROM calls`,
	)
	want = `SELECT getItem(1) AS r FROM calls
  exception: 1:8: function "getItem": no credentials for security scheme "apiKey"
dialed: []
`
	if got != want {
		t.Errorf("without a service description:\n%s\nwant:\n%s", got, want)
	}
}

// With Module, a server and a client generated outside any module each
// build there with go build, as they are.
func TestRunModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy and go build")
	}
	for _, kind := range []openapi.Kind{openapi.KindServer, openapi.KindClient} {
		out := t.TempDir()
		if _, err := openapi.Run(openapi.Options{Kind: kind, File: shopDoc, Out: out, Module: "example.com/shop" + string(kind)}); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("go", "vet", "./...")
		cmd.Dir = out
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: go vet ./... in %s: %v\n%s", kind, out, err, b)
		}
	}
	_, err := openapi.Run(openapi.Options{Kind: openapi.KindService, File: shopDoc, Out: t.TempDir(), Module: "example.com/x"})
	if want := `module "example.com/x": a service description is not Go code; a module is for a server or client`; err == nil || err.Error() != want {
		t.Errorf("service with a module: %v", err)
	}
}
