package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/internal/kgenmod"
	"github.com/kgen-dev/kgen/internal/testutil"
	"github.com/kgen-dev/kgen/sdk"
)

type testServer struct {
	e   *engine.Engine
	srv *httptest.Server
	cl  *api.Client
}

func newServer(t *testing.T) *testServer {
	t.Helper()
	e, err := engine.Open(engine.Options{Root: t.TempDir(), NoRestore: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewHandler(e, nil))
	t.Cleanup(func() {
		srv.Close()
		if err := e.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
	})
	cl, err := api.NewClient(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{e: e, srv: srv, cl: cl}
}

// call sends a request and returns the status and the body.
func (s *testServer) call(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	return testutil.HTTPDo(t, method, s.srv.URL+path, body)
}

type exchange struct {
	method, path, body string
	status             int
	want               string // exact text (for errors the message); a final "*" matches any rest
}

func (s *testServer) check(t *testing.T, steps []exchange) {
	t.Helper()
	for _, x := range steps {
		status, body := s.call(t, x.method, x.path, x.body)
		got := body
		if status >= 400 {
			var eb api.ErrorBody
			if err := json.Unmarshal([]byte(body), &eb); err != nil {
				t.Errorf("%s %s: error body is not JSON: %q", x.method, x.path, body)
				continue
			}
			want := map[int]int{404: api.CodeNotFound, 409: api.CodeExists}[status]
			if want == 0 {
				want = api.CodeGeneral
			}
			if eb.Error != want {
				t.Errorf("%s %s: error code %d, want %d", x.method, x.path, eb.Error, want)
			}
			got = eb.Message
		}
		match := got == x.want
		if prefix, ok := strings.CutSuffix(x.want, "*"); ok {
			match = strings.HasPrefix(got, prefix)
		}
		if status != x.status || !match {
			t.Errorf("%s %s %s:\ngot  %d %q\nwant %d %q", x.method, x.path, x.body, status, got, x.status, x.want)
		}
	}
}

const demoSQL = `CREATE STREAM demo (temp FLOAT) WITH (DATASOURCE="in", TYPE="memory")`

func TestStreams(t *testing.T) {
	s := newServer(t)
	create := `{"sql": ` + quote(demoSQL) + `}`
	s.check(t, []exchange{
		{"GET", "/streams", "", 200, "[]\n"},
		{"POST", "/streams", create, 201, "Stream demo is created."},
		{"POST", "/streams", create, 409, `stream "demo": already exists`},
		{"GET", "/streams", "", 200, "[\n  \"demo\"\n]\n"},
		{"PUT", "/streams/demo", `{"sql": "CREATE STREAM demo () WITH (DATASOURCE=\"in2\", TYPE=\"memory\")"}`, 200, "Stream demo is updated."},
		{"PUT", "/streams/nope", create, 404, `stream "nope": not found`},
		{"PUT", "/streams/demo", create[:10], 400, `request body: line 1, column 11: unexpected end of JSON input (want {"sql": "CREATE STREAM ..."})`},
		{"GET", "/streams/nope", "", 404, `stream "nope": not found`},
		{"DELETE", "/streams/demo", "", 200, "Stream demo is dropped."},
		{"DELETE", "/streams/demo", "", 404, `stream "demo": not found`},

		{"POST", "/streams", `{"sql": 1}`, 400, `request body: line 1, column 10: field "sql": want string, got number (want {"sql": "CREATE STREAM ..."})`},
		{"POST", "/streams", `{"sql": "x"} {}`, 400, `request body: line 1, column 14: unexpected data after the JSON object (want {"sql": "CREATE STREAM ..."})`},
		{"POST", "/streams", `[]`, 400, `request body: want a JSON object, got array (want {"sql": "CREATE STREAM ..."})`},
		{"POST", "/streams", `{"sq": "x"}`, 400, `request body: "sql" is required (want {"sql": "CREATE STREAM ..."})`},
		{"POST", "/streams", ``, 400, `request body: empty (want {"sql": "CREATE STREAM ..."})`},
		{"POST", "/streams", `{"sql": "CREATE STREAM x () WITH (TYPE=\"nope\")"}`, 400, `stream "x": unknown source type "nope" (known: *`},
		{"POST", "/streams", `{"sql": ` + quote(strings.Repeat(" ", api.MaxBodySize)) + `}`, 413, `request body is larger than 1048576 bytes`},
	})

	// The description, through the client.
	if _, err := s.cl.CreateStream(t.Context(), demoSQL); err != nil {
		t.Fatal(err)
	}
	info, err := s.cl.Stream(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "demo" || info.Statement != demoSQL || len(info.StreamFields) != 1 ||
		info.StreamFields[0].Name != "temp" || info.Options["TYPE"] != "memory" {
		t.Errorf("describe demo: %+v", info)
	}
	_, err = s.cl.Stream(t.Context(), "nope")
	if !errors.Is(err, engine.ErrNotFound) || err.Error() != `stream "nope": not found` {
		t.Errorf("client: describe nope: %v, want ErrNotFound", err)
	}
	_, err = s.cl.CreateStream(t.Context(), demoSQL)
	if !errors.Is(err, engine.ErrExists) {
		t.Errorf("client: create demo twice: %v, want ErrExists", err)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

const ruleJSON = `{"id": "r1", "sql": "SELECT temp * 2 AS t2 FROM demo WHERE temp > 0", "actions": [{"memory": {"topic": "out"}}]}`

func TestRules(t *testing.T) {
	s := newServer(t)
	if _, err := s.e.CreateStream(demoSQL); err != nil {
		t.Fatal(err)
	}
	s.check(t, []exchange{
		{"GET", "/rules", "", 200, "[]\n"},
		{"POST", "/rules", ruleJSON, 201, "Rule r1 was created successfully."},
		{"POST", "/rules", ruleJSON, 409, `rule "r1": already exists`},
		{"GET", "/rules", "", 200, "[\n  {\n    \"id\": \"r1\",\n    \"status\": \"running\"\n  }\n]\n"},
		{"GET", "/rules/nope", "", 404, `rule "nope": not found`},
		{"POST", "/rules/r1/stop", "", 200, "Rule r1 was stopped."},
		{"GET", "/rules", "", 200, "[\n  {\n    \"id\": \"r1\",\n    \"status\": \"stopped\"\n  }\n]\n"},
		{"POST", "/rules/r1/start", "", 200, "Rule r1 was started"},
		{"POST", "/rules/r1/restart", "", 200, "Rule r1 was restarted"},
		{"POST", "/rules/nope/start", "", 404, `rule "nope": not found`},
		{"POST", "/rules/nope/stop", "", 404, `rule "nope": not found`},
		{"POST", "/rules/nope/restart", "", 404, `rule "nope": not found`},
		{"GET", "/rules/nope/status", "", 404, `rule "nope": not found`},
		{"PUT", "/rules/nope", ruleJSON, 404, `rule "nope": not found`},
		{"DELETE", "/rules/nope", "", 404, `rule "nope": not found`},

		// Bad bodies.
		{"POST", "/rules", `{"id": "r2",`, 400, `rule JSON: line 1, column 13: unexpected end of input`},
		{"POST", "/rules", `{"id": "r2", "sql": "SELECT * FROM nope", "actions": [{"nop": {}}]}`, 400, `rule "r2": stream "nope": not found`},
		{"POST", "/rules", `{"id": "r2", "sql": "SELECT * FROM demo", "actions": [{"what": {}}]}`, 400,
			`rule "r2": actions[0] (what): unknown sink type "what" (known: *`},
		{"PUT", "/rules/r1", `{"id": "r2", "sql": "SELECT * FROM demo", "actions": [{"nop": {}}]}`, 400, `rule "r1": the body is for rule "r2"`},
		{"DELETE", "/streams/demo", "", 400, `stream "demo" is used by rule(s) r1: delete them first`},
	})

	// The rule runs: rows in, rows out.
	out, cancel := s.e.MemoryHub().Subscribe("out", 10)
	defer cancel()
	publish := func(temp float64) {
		t.Helper()
		if err := s.e.MemoryHub().Publish(t.Context(), "in", map[string]any{"temp": temp}); err != nil {
			t.Fatal(err)
		}
	}
	publish(-1)
	publish(21.5)
	if row := receive(t, out); row["t2"] != 43.0 {
		t.Errorf("output row %v, want t2 43", row)
	}
	st, err := s.cl.RuleStatus(t.Context(), "r1")
	if err != nil {
		t.Fatal(err)
	}
	if st.ID != "r1" || st.Status != "running" || st.RecordsIn != 2 || st.RecordsOut != 1 {
		t.Errorf("status: %+v, want running, 2 in, 1 out", st)
	}

	// The rule JSON round-trips; PUT takes the id from the path when the
	// body has none.
	status, body := s.call(t, "GET", "/rules/r1", "")
	if status != 200 {
		t.Fatalf("GET /rules/r1: %d %s", status, body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got["id"] != "r1" || got["sql"] != "SELECT temp * 2 AS t2 FROM demo WHERE temp > 0" {
		t.Errorf("GET /rules/r1: %s", body)
	}
	s.check(t, []exchange{
		{"PUT", "/rules/r1", `{"sql": "SELECT temp AS t FROM demo", "actions": [{"memory": {"topic": "out"}}]}`, 200, "Rule r1 was updated successfully."},
	})
	publish(3)
	if row := receive(t, out); row["t"] != 3.0 {
		t.Errorf("after update: output row %v, want t 3", row)
	}

	// Stopped rules stay stopped; deleting removes them.
	if msg, err := s.cl.StopRule(t.Context(), "r1"); err != nil || msg != "Rule r1 was stopped." {
		t.Errorf("client stop: %q, %v", msg, err)
	}
	if st, err := s.cl.RuleStatus(t.Context(), "r1"); err != nil || st.Status != "stopped" {
		t.Errorf("status after stop: %+v, %v", st, err)
	}
	s.check(t, []exchange{
		{"DELETE", "/rules/r1", "", 200, "Rule r1 is dropped."},
		{"GET", "/rules", "", 200, "[]\n"},
		{"DELETE", "/streams/demo", "", 200, "Stream demo is dropped."},
	})
}

func receive(t *testing.T, ch <-chan map[string]any) map[string]any {
	t.Helper()
	select {
	case row := <-ch:
		return row
	case <-time.After(10 * time.Second):
		t.Fatal("no output row within 10s")
		return nil
	}
}

func TestClientRules(t *testing.T) {
	s := newServer(t)
	ctx := t.Context()
	if msg, err := s.cl.CreateStream(ctx, demoSQL); err != nil || msg != "Stream demo is created." {
		t.Fatalf("create stream: %q, %v", msg, err)
	}
	if msg, err := s.cl.CreateRule(ctx, []byte(ruleJSON)); err != nil || msg != "Rule r1 was created successfully." {
		t.Fatalf("create rule: %q, %v", msg, err)
	}
	rules, err := s.cl.Rules(ctx)
	if err != nil || len(rules) != 1 || rules[0] != (engine.RuleSummary{ID: "r1", Status: "running"}) {
		t.Errorf("rules: %+v, %v", rules, err)
	}
	raw, err := s.cl.Rule(ctx, "r1")
	if err != nil || !strings.Contains(string(raw), `"id":"r1"`) && !strings.Contains(string(raw), `"id": "r1"`) {
		t.Errorf("rule: %s, %v", raw, err)
	}
	for _, step := range []struct {
		f    func(context.Context, string) (string, error)
		want string
	}{
		{s.cl.StopRule, "Rule r1 was stopped."},
		{s.cl.StartRule, "Rule r1 was started"},
		{s.cl.RestartRule, "Rule r1 was restarted"},
		{s.cl.DropRule, "Rule r1 is dropped."},
	} {
		if msg, err := step.f(ctx, "r1"); err != nil || msg != step.want {
			t.Errorf("got %q, %v; want %q", msg, err, step.want)
		}
	}
	_, err = s.cl.DropRule(ctx, "r1")
	var apiErr *api.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != api.CodeNotFound || !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("drop r1 twice: %#v", err)
	}
}

func TestInfoAndVersion(t *testing.T) {
	s := newServer(t)
	for _, path := range []string{"/", "/ping"} {
		status, body := s.call(t, "GET", path, "")
		var info api.Info
		if err := json.Unmarshal([]byte(body), &info); status != 200 || err != nil {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		if info.OS != runtime.GOOS || info.Arch != runtime.GOARCH || info.Version == "" || info.SDKVersion == "" {
			t.Errorf("GET %s: %+v", path, info)
		}
	}
	bi, err := s.cl.Version(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if bi.GoVersion != runtime.Version() || bi.Main.Path != kgenmod.Path || bi.Settings["GOOS"] != runtime.GOOS || bi.Settings["GOARCH"] != runtime.GOARCH {
		t.Errorf("version: go %q, main %+v, settings %v", bi.GoVersion, bi.Main, bi.Settings)
	}
	if _, ok := bi.Settings["CGO_ENABLED"]; !ok {
		t.Errorf("version: settings lack CGO_ENABLED: %v", bi.Settings)
	}
	if bi.Deps == nil {
		t.Errorf("version: deps is null, want a list") // test binaries record none
	}

	for _, path := range []string{"/sources", "/sinks", "/functions"} {
		status, body := s.call(t, "GET", path, "")
		var names []string
		if err := json.Unmarshal([]byte(body), &names); status != 200 || err != nil {
			t.Errorf("GET %s: %d %s", path, status, body)
		}
	}
	if status, body := s.call(t, "GET", "/sources", ""); !strings.Contains(body, `"memory"`) {
		t.Errorf("GET /sources: %d %s", status, body)
	}
}

func TestServe(t *testing.T) {
	e, err := engine.Open(engine.Options{Root: t.TempDir(), NoRestore: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithCancel(t.Context())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- api.Serve(ctx, e, "127.0.0.1:0", nil, func(addr string) { addrc <- addr }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	cl, err := api.NewClient(addr, nil) // a bare host:port is fine
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Info(t.Context()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return after ctx ended")
	}
	_, err = cl.Info(t.Context())
	if err == nil || !strings.HasPrefix(err.Error(), "cannot reach the engine at http://"+addr+" (is kgen serve running? set -host or KGEN_HOST): ") {
		t.Errorf("after shutdown: %v", err)
	}

	if err := api.Serve(t.Context(), e, "127.0.0.1:99999", nil, nil); err == nil || !strings.HasPrefix(err.Error(), "rest api: listen tcp") {
		t.Errorf("bad address: %v", err)
	}
}

func TestNewClient(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"", "http://127.0.0.1:9081", ""},
		{"localhost:1234", "http://localhost:1234", ""},
		{"https://kgen.example.com/", "https://kgen.example.com", ""},
		{"ftp://x", "", `engine address "ftp://x": want http://host:port`},
		{"http://", "", `engine address "http://": want http://host:port`},
	} {
		cl, err := api.NewClient(tc.in, nil)
		switch {
		case tc.err != "":
			if err == nil || err.Error() != tc.err {
				t.Errorf("NewClient(%q): %v, want %s", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("NewClient(%q): %v", tc.in, err)
		case cl.Base() != tc.want:
			t.Errorf("NewClient(%q).Base() = %q, want %q", tc.in, cl.Base(), tc.want)
		}
	}
}

func TestNewBuildInfo(t *testing.T) {
	bi, err := debug.ParseBuildInfo(`path	example.com/engine
mod	example.com/engine	v1.0.0	h1:main=
dep	github.com/kgen-dev/kgen	v0.3.0	h1:kgen=
dep	go.etcd.io/bbolt	v1.5.0	h1:bolt=
dep	gopkg.in/yaml.v3	v3.0.1
=>	example.com/yaml	v3.0.2	h1:y=
build	-tags=netgo
build	CGO_ENABLED=0
build	GOOS=linux
`)
	if err != nil {
		t.Fatal(err)
	}
	bi.GoVersion = "go1.26.8" // not part of the text form
	got := api.NewBuildInfo(bi)
	want := &api.BuildInfo{
		GoVersion:   "go1.26.8",
		Path:        "example.com/engine",
		Main:        api.Module{Path: "example.com/engine", Version: "v1.0.0", Sum: "h1:main="},
		KgenVersion: "v0.3.0",
		SDKVersion:  sdk.Version,
		Settings:    map[string]string{"-tags": "netgo", "CGO_ENABLED": "0", "GOOS": "linux"},
		Deps: []api.Module{
			{Path: "github.com/kgen-dev/kgen", Version: "v0.3.0", Sum: "h1:kgen="},
			{Path: "go.etcd.io/bbolt", Version: "v1.5.0", Sum: "h1:bolt="},
			{Path: "gopkg.in/yaml.v3", Version: "v3.0.1", Replace: &api.Module{Path: "example.com/yaml", Version: "v3.0.2", Sum: "h1:y="}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
