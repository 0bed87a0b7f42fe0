package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/internal/testutil/ziptest"

	"github.com/kgen-dev/kgen/engine/api"
)

// Bad service zips sent over REST, by path or as the body, get a 400 with
// the registry's own message; the services, their functions and their
// files stay as they were.
func TestAttackCorpusServiceZipsREST(t *testing.T) {
	s := newServer(t)
	good := writeZip(t, "greet.json", greeterDesc("http://127.0.0.1:9"), "schemas/greeter.proto", greeterProto)
	s.check(t, []exchange{{"POST", "/services", `{"name": "greet", "file": "` + good + `"}`, 201, "service greet is created"}})
	services := func() (list, funcs, greet string) {
		_, list = s.call(t, "GET", "/services", "")
		_, funcs = s.call(t, "GET", "/services/functions", "")
		_, greet = s.call(t, "GET", "/services/greet", "")
		return list, funcs, greet
	}
	list, funcs, greet := services()
	before := ziptest.Snapshot(t, filepath.Join(s.e.Root(), "data", "services"))

	otherDesc := strings.Replace(strings.Replace(greeterDesc("http://127.0.0.1:9"), `"greeter.proto"`, `"other.proto"`, 1), "greeter", "other", 1)
	// other has greet's rpc Hello, renamed to hi as greet does, and no Bye.
	otherProto := strings.NewReplacer("package greeter;", "package other;", "  rpc Bye(HelloRequest) returns (HelloReply);\n", "").Replace(greeterProto)
	slip := writeZip(t, "other.json", otherDesc, "schemas/other.proto", otherProto, "schemas/../../../../x.proto", "x")
	dupKey := writeZip(t, "other.json", `{"interfaces": {}, "interfaces": {}}`)
	builtin := writeZip(t, "other.json", strings.Replace(otherDesc, `"hi"`, `"count"`, 1), "schemas/other.proto", otherProto)
	taken := writeZip(t, "other.json", otherDesc, "schemas/other.proto", otherProto)
	twice := writeZip(t, "greet.json", greeterDesc("http://127.0.0.1:10"), "schemas/greeter.proto", greeterProto, "schemas/greeter.proto", "syntax = \"proto3\";\n")
	s.check(t, []exchange{
		{"POST", "/services", `{"name": "other", "file": "` + slip + `"}`, 400,
			`add service "other": zip entry "schemas/../../../../x.proto": ".." is not allowed`},
		{"POST", "/services", `{"name": "other", "file": "` + dupKey + `"}`, 400,
			`add service "other": parse description: line 1, column 20: duplicate key "interfaces"`},
		{"POST", "/services", `{"name": "other", "file": "` + builtin + `"}`, 400,
			`add service "other": interface "other": function "count" (rpc "Hello") is a SQL built-in; an external function cannot replace it`},
		{"POST", "/services", `{"name": "other", "file": "` + taken + `"}`, 400,
			`add service "other": function "hi" is already defined by service "greet"`},
		{"PUT", "/services/greet", `{"file": "` + twice + `"}`, 400,
			`update service "greet": zip entry "schemas/greeter.proto": duplicate entry`},
	})

	// The same zip as the request body.
	data, err := os.ReadFile(slip)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", s.srv.URL+"/services?name=other", strings.NewReader(string(data)))
	req.Header.Set("Content-Type", "application/zip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var eb api.ErrorBody
	json.Unmarshal(body, &eb)
	if want := `add service "other": zip entry "schemas/../../../../x.proto": ".." is not allowed`; resp.StatusCode != 400 || eb.Message != want {
		t.Errorf("zip body: %d %s\nwant 400 %s", resp.StatusCode, body, want)
	}

	if l, f, g := services(); l != list || f != funcs || g != greet {
		t.Errorf("services changed:\n%s\n%s\n%s\nwas\n%s\n%s\n%s", l, f, g, list, funcs, greet)
	}
	if after := ziptest.Snapshot(t, filepath.Join(s.e.Root(), "data", "services")); !slices.Equal(before, after) {
		t.Errorf("data/services changed:\n%s\nwas\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}
