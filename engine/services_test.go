package engine_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// greeterServer is a REST server of greeter.proto's Hello: POST /Hello
// answers {"message": "<tag>:<name>"}.
func greeterServer(t *testing.T, tag string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Name string }
		if r.URL.Path != "/Hello" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"message": %q}`, tag+":"+req.Name)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// greeterZip is a service zip for greeter.proto at address.
func greeterZip(t *testing.T, name, address string) []byte {
	t.Helper()
	schema, err := os.ReadFile("testdata/services/greeter.proto")
	if err != nil {
		t.Fatal(err)
	}
	desc := fmt.Sprintf(`{"interfaces": {"greeter": {"address": %q, "protocol": "rest",
		"schemaType": "protobuf", "schemaFile": "greeter.proto", "options": {"timeout": "2s"}}}}`, address)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for n, data := range map[string][]byte{name + ".json": []byte(desc), "schemas/greeter.proto": schema} {
		w, _ := zw.Create(n)
		w.Write(data)
	}
	zw.Close()
	return buf.Bytes()
}

func nextRow(t *testing.T, ch <-chan map[string]any) string {
	t.Helper()
	return fmt.Sprint(receive(t, ch, 1)[0])
}

// A service added, updated and deleted while rules run: each change takes
// effect at once for rules planned afterwards; running rules keep the
// definition they were planned with until they are restarted.
func TestServiceChangesTakeEffectWithoutRestart(t *testing.T) {
	a, b := greeterServer(t, "A"), greeterServer(t, "B")
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`)
	if _, err := e.CreateRule([]byte(`{"id":"early","sql":"SELECT Hello(name) AS g FROM people","actions":[{"log":{}}]}`)); err == nil ||
		!strings.Contains(err.Error(), `unknown function "Hello"`) {
		t.Fatalf("rule before the service exists: err = %v", err)
	}
	if err := e.Services().AddZip("greet", greeterZip(t, "greet", a.URL)); err != nil {
		t.Fatal(err)
	}
	mustRule(t, e, `{"id":"r1","sql":"SELECT Hello(name)->message AS g FROM people","actions":[{"memory":{"topic":"out/1"}}]}`)
	out1, c1 := e.MemoryHub().Subscribe("out/1", 16)
	defer c1()
	publish(t, e, "in/people", map[string]any{"name": "ann"})
	if got := nextRow(t, out1); got != "map[g:A:ann]" {
		t.Fatalf("r1 = %s", got)
	}

	if err := e.Services().UpdateZip("greet", greeterZip(t, "greet", b.URL)); err != nil {
		t.Fatal(err)
	}
	mustRule(t, e, `{"id":"r2","sql":"SELECT Hello(name)->message AS g FROM people","actions":[{"memory":{"topic":"out/2"}}]}`)
	out2, c2 := e.MemoryHub().Subscribe("out/2", 16)
	defer c2()
	publish(t, e, "in/people", map[string]any{"name": "bob"})
	if got := nextRow(t, out1); got != "map[g:A:bob]" {
		t.Errorf("running r1 after the update = %s, want the old definition", got)
	}
	if got := nextRow(t, out2); got != "map[g:B:bob]" {
		t.Errorf("new r2 = %s", got)
	}
	if err := e.RestartRule("r1"); err != nil {
		t.Fatal(err)
	}
	publish(t, e, "in/people", map[string]any{"name": "cy"})
	if got := nextRow(t, out1); got != "map[g:B:cy]" {
		t.Errorf("restarted r1 = %s", got)
	}
	nextRow(t, out2)

	if err := e.Services().Delete("greet"); err != nil {
		t.Fatal(err)
	}
	publish(t, e, "in/people", map[string]any{"name": "di"})
	if got := nextRow(t, out1); got != "map[g:B:di]" {
		t.Errorf("running r1 after the delete = %s", got)
	}
	nextRow(t, out2)
	if _, err := e.CreateRule([]byte(`{"id":"r3","sql":"SELECT Hello(name) AS g FROM people","actions":[{"log":{}}]}`)); err == nil ||
		!strings.Contains(err.Error(), `unknown function "Hello"`) {
		t.Errorf("rule after the delete: err = %v", err)
	}
	if err := e.RestartRule("r1"); err == nil || !strings.Contains(err.Error(), `unknown function "Hello"`) {
		t.Errorf("restarting r1 after the delete: err = %v", err)
	}
}

// Services are files under the root: a reopened engine has them.
func TestServicesSurviveRestart(t *testing.T) {
	a := greeterServer(t, "A")
	root := t.TempDir()
	e := open(t, root)
	if err := e.Services().AddZip("greet", greeterZip(t, "greet", a.URL)); err != nil {
		t.Fatal(err)
	}
	// A second service defining Hello is refused and changes nothing.
	err := e.Services().AddZip("again", greeterZip(t, "again", a.URL))
	if err == nil || !strings.Contains(err.Error(), `"Hello"`) || !strings.Contains(err.Error(), `"greet"`) {
		t.Errorf("second Hello: err = %v", err)
	}
	e.Close()
	e = open(t, root)
	defer e.Close()
	if got := fmt.Sprint(e.Services().Services()); got != "[greet]" {
		t.Fatalf("services after reopen = %s", got)
	}
	mustStream(t, e, `CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`)
	mustRule(t, e, `{"id":"r","sql":"SELECT Hello(name)->message AS g FROM people","actions":[{"memory":{"topic":"out/r"}}]}`)
	out, cancel := e.MemoryHub().Subscribe("out/r", 4)
	defer cancel()
	publish(t, e, "in/people", map[string]any{"name": "ed"})
	if got := nextRow(t, out); got != "map[g:A:ed]" {
		t.Errorf("r = %s", got)
	}
}

// A server that answers garbage, is slow or is gone makes those rows
// exceptions; the rule counts them and goes on with the next rows.
func TestServiceFaultsAreRowExceptions(t *testing.T) {
	mode := make(chan string, 1)
	mode <- "ok"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := <-mode
		mode <- m
		io.Copy(io.Discard, r.Body)
		switch m {
		case "garbage":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"message": 42, "x`)
		case "slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"message": "fine"}`)
		}
	}))
	defer srv.Close()
	set := func(m string) { <-mode; mode <- m }

	e := open(t, t.TempDir())
	defer e.Close()
	if err := e.Services().AddZip("greet", greeterZip(t, "greet", srv.URL)); err != nil {
		t.Fatal(err)
	}
	mustStream(t, e, `CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`)
	mustRule(t, e, `{"id":"r","sql":"SELECT name, Hello(name)->message AS g FROM people","actions":[{"memory":{"topic":"out/r"}}]}`)
	out, cancel := e.MemoryHub().Subscribe("out/r", 16)
	defer cancel()

	publish(t, e, "in/people", map[string]any{"name": "1"})
	if got := nextRow(t, out); got != "map[g:fine name:1]" {
		t.Fatalf("first row = %s", got)
	}
	set("garbage")
	publish(t, e, "in/people", map[string]any{"name": "2"})
	set("slow")
	publish(t, e, "in/people", map[string]any{"name": "3"})
	eventually(t, "two exceptions", func() bool {
		st, _ := e.RuleStatus("r")
		return st.Exceptions >= 2
	})
	st, _ := e.RuleStatus("r")
	if st.Status != "running" || st.Exceptions != 2 || !strings.Contains(st.LastError, `function "Hello"`) ||
		!strings.Contains(st.LastError, "timed out after 2s") {
		t.Errorf("status after garbage and slow = %+v", st)
	}
	set("ok")
	publish(t, e, "in/people", map[string]any{"name": "4"})
	if got := nextRow(t, out); got != "map[g:fine name:4]" {
		t.Fatalf("row after the faults = %s", got)
	}
	srv.CloseClientConnections()
	srv.Close()
	publish(t, e, "in/people", map[string]any{"name": "5"})
	eventually(t, "an exception for the closed server", func() bool {
		st, _ := e.RuleStatus("r")
		return st.Exceptions == 3
	})
	st, _ = e.RuleStatus("r")
	if st.Status != "running" {
		t.Errorf("status after the server went away = %+v", st)
	}
}

// echoServer answers every POST /<rpc> with its request body.
func echoServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.Copy(w, r.Body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func serviceZip(t *testing.T, name, protoFile, address string) []byte {
	t.Helper()
	schema, err := os.ReadFile("testdata/services/" + protoFile)
	if err != nil {
		t.Fatal(err)
	}
	desc := fmt.Sprintf(`{"interfaces": {"i": {"address": %q, "protocol": "rest",
		"schemaType": "protobuf", "schemaFile": %q}}}`, address, protoFile)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for n, data := range map[string][]byte{name + ".json": []byte(desc), "schemas/" + protoFile: schema} {
		w, _ := zw.Create(n)
		w.Write(data)
	}
	zw.Close()
	return buf.Bytes()
}

// The arguments of an external function map to its request as eKuiper
// maps them, through the whole engine: rows from *, * EXCEPT and self,
// positional arguments by declaration order, and -> on the result.
func TestServiceArgumentMapping(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	if err := e.Services().AddZip("echo", serviceZip(t, "echo", "echo.proto", echoServer(t).URL)); err != nil {
		t.Fatal(err)
	}
	mustStream(t, e, `CREATE STREAM readings (id STRING, temp FLOAT, tags ARRAY(STRING), meta STRUCT(site STRING), extra BIGINT)
		WITH (DATASOURCE="in/readings", TYPE="memory")`)
	mustStream(t, e, `CREATE STREAM blobs () WITH (DATASOURCE="in/blobs", TYPE="memory", FORMAT="BINARY")`)
	rules := map[string]string{
		// * appears only inside the call: the call still gets the whole row.
		"star":      `SELECT Row(*) AS r FROM readings`,
		"except":    `SELECT Row(* EXCEPT(temp, tags)) AS r FROM readings`,
		"position":  `SELECT Row(id, temp * 2, tags, meta)->id AS id, Row(id, temp * 2, tags, meta)->temp AS t FROM readings`,
		"chain":     `SELECT id, Row(*)->meta->site AS site, Row(*)->tags[1] AS tag FROM readings`,
		"selfbytes": `SELECT Bytes(self) AS b FROM blobs`,
	}
	outs := map[string]<-chan map[string]any{}
	for id, sql := range rules {
		mustRule(t, e, fmt.Sprintf(`{"id": %q, "sql": %q, "actions": [{"memory": {"topic": "out/%s"}}]}`, id, sql, id))
		ch, cancel := e.MemoryHub().Subscribe("out/"+id, 4)
		defer cancel()
		outs[id] = ch
	}
	publish(t, e, "in/readings", map[string]any{"id": "r1", "temp": 20.5, "tags": []any{"a", "b"}, "meta": map[string]any{"site": "lab"}, "extra": int64(7)})
	if err := e.MemoryHub().PublishPayload(context.Background(), "in/blobs", []byte{0, 1, 2, 255}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"star": "map[r:map[id:r1 meta:map[site:lab] tags:[a b] temp:20.5]]",
		// The echo server sends back the request's JSON, which leaves out
		// the fields not given; a REST reply keeps only the keys it has.
		"except":    "map[r:map[id:r1 meta:map[site:lab]]]",
		"position":  "map[id:r1 t:41]",
		"chain":     "map[id:r1 site:lab tag:b]",
		"selfbytes": "map[b:[0 1 2 255]]",
	}
	for id, w := range want {
		if got := nextRow(t, outs[id]); got != w {
			t.Errorf("rule %s (%s):\n got %s\nwant %s", id, rules[id], got, w)
		}
	}
	// Errors name the function, the field and both types, at rule creation
	// for literals and per row otherwise.
	_, err := e.CreateRule([]byte(`{"id": "bad", "sql": "SELECT Row('a', 'hot', tags, meta) FROM readings", "actions": [{"log": {}}]}`))
	if err == nil || !strings.Contains(err.Error(), `function "Row": field "temp": want double, got string "hot"`) {
		t.Errorf("literal of the wrong type: %v", err)
	}
	_, err = e.CreateRule([]byte(`{"id": "bad", "sql": "SELECT Row(id, temp) FROM readings", "actions": [{"log": {}}]}`))
	if err == nil || !strings.Contains(err.Error(), `function "Row": want 4 arguments (id, temp, tags, meta) or one map, got 2 arguments`) {
		t.Errorf("wrong count: %v", err)
	}
	mustRule(t, e, `{"id": "rowerr", "sql": "SELECT Row(id, temp, extra, meta) AS r FROM readings", "actions": [{"memory": {"topic": "out/rowerr"}}]}`)
	publish(t, e, "in/readings", map[string]any{"id": "r2", "temp": 1.0, "extra": int64(3)})
	eventually(t, "the row error", func() bool {
		st, _ := e.RuleStatus("rowerr")
		return st.Exceptions == 1
	})
	if st, _ := e.RuleStatus("rowerr"); !strings.Contains(st.LastError, `function "Row": field "tags": want repeated string, got int64 3`) {
		t.Errorf("row error = %q", st.LastError)
	}
}

// A schemaless REST interface is one function, fn(method, path, args...):
// the method and path pick the call, one argument is the JSON body.
func TestSchemalessServiceInRules(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if len(body) == 0 {
			body = []byte("null")
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"method": %q, "path": %q, "body": %s}`, r.Method, r.URL.Path, body)
	}))
	defer srv.Close()
	desc := fmt.Sprintf(`{"interfaces": {"fetch": {"address": %q, "protocol": "rest", "schemaless": true}}}`, srv.URL+"/api")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("web.json")
	w.Write([]byte(desc))
	zw.Close()
	e := open(t, t.TempDir())
	defer e.Close()
	if err := e.Services().AddZip("web", buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	mustStream(t, e, `CREATE STREAM readings (id STRING, temp FLOAT) WITH (DATASOURCE="in/readings", TYPE="memory")`)
	mustRule(t, e, `{"id": "s", "sql": "SELECT fetch('post', '/readings', *) AS p, fetch('GET', concat('/readings/', id))->path AS g FROM readings",
		"actions": [{"memory": {"topic": "out/s"}}]}`)
	out, cancel := e.MemoryHub().Subscribe("out/s", 4)
	defer cancel()
	publish(t, e, "in/readings", map[string]any{"id": "r1", "temp": 20.5})
	if got, want := nextRow(t, out), "map[g:/api/readings/r1 p:map[body:map[id:r1 temp:20.5] method:POST path:/api/readings]]"; got != want {
		t.Errorf("row:\n got %s\nwant %s", got, want)
	}
	_, err := e.CreateRule([]byte(`{"id": "bad", "sql": "SELECT fetch(1, '/x') FROM readings", "actions": [{"log": {}}]}`))
	if err == nil || !strings.Contains(err.Error(), `function "fetch": argument 1 (method): want string, got int64 1`) {
		t.Errorf("bad method: %v", err)
	}
}

// A service may not define a function that a compiled-in function (or a
// plugin's) already provides: SQL would call that one.
func TestServiceFunctionShadowedByAnotherIsRefused(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	desc := `{"interfaces": {"testCount": {"address": "http://127.0.0.1:1", "protocol": "rest", "schemaless": true}}}`
	err := e.Services().Add("counter", []byte(desc), nil)
	want := `add service "counter": interface "testCount": function "testCount" is already a function compiled into the engine, which SQL calls instead of an external function; name the interface otherwise`
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	desc = `{"interfaces": {"x": {"address": "http://127.0.0.1:1", "protocol": "rest", "schemaFile": "greeter.proto",
  "functions": [{"name": "testCount", "serviceName": "Hello"}]}}}`
	schema, rerr := os.ReadFile("testdata/services/greeter.proto")
	if rerr != nil {
		t.Fatal(rerr)
	}
	err = e.Services().Add("counter", []byte(desc), map[string][]byte{"greeter.proto": schema})
	want = `add service "counter": interface "x": function "testCount" is already a function compiled into the engine, which SQL calls instead of an external function; rename it in "functions"`
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	if got := e.Services().Services(); len(got) != 0 {
		t.Errorf("services after the refusals: %v", got)
	}
}
