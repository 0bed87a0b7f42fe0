package api_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/engine"
)

const greeterProto = `syntax = "proto3";
package greeter;
service Greeter {
  rpc Hello(HelloRequest) returns (HelloReply);
  rpc Bye(HelloRequest) returns (HelloReply);
}
message HelloRequest { string name = 1; }
message HelloReply { string message = 1; }
`

func greeterDesc(address string) string {
	return `{"about": {"description": {"en_US": "greetings"}},
  "interfaces": {"greeter": {"address": "` + address + `", "protocol": "rest",
    "schemaType": "protobuf", "schemaFile": "greeter.proto",
    "functions": [{"name": "hi", "serviceName": "Hello"}]}}}`
}

func TestServices(t *testing.T) {
	s := newServer(t)
	good := writeZip(t, "greet.json", greeterDesc("http://127.0.0.1:9"), "schemas/greeter.proto", greeterProto)
	noDesc := writeZip(t, "schemas/greeter.proto", greeterProto)
	badProto := writeZip(t, "greet.json", greeterDesc("http://127.0.0.1:9"), "schemas/greeter.proto", "syntax = \"proto3\";\nmessage {")
	evil := writeZip(t, "greet.json", greeterDesc("http://127.0.0.1:9"), "../evil.proto", greeterProto)
	s.check(t, []exchange{
		{"GET", "/services", "", 200, "[]\n"},
		{"POST", "/services", `{"name": "greet"}`, 400, `request body: "file" is required (want {"name": "sample", "file": "file:///path/sample.zip"}, or the zip itself as application/zip)`},
		{"POST", "/services", `{"name": "greet", "file": "relative.zip"}`, 400, `service "greet": file "relative.zip": want an absolute path or a file:// URL (the engine's working folder is not the client's)`},
		{"POST", "/services", `{"name": "greet", "file": "` + noDesc + `"}`, 400, `add service "greet": zip has no greet.json`},
		{"POST", "/services", `{"name": "greet", "file": "` + evil + `"}`, 400, `add service "greet": zip entry "../evil.proto": ".." is not allowed`},
		{"POST", "/services", `{"name": "greet", "file": "` + badProto + `"}`, 400, `add service "greet": *`},
		{"GET", "/services", "", 200, "[]\n"},
		{"POST", "/services", `{"name": "greet", "file": "file://` + good + `"}`, 201, "service greet is created"},
		{"POST", "/services", `{"name": "greet", "file": "` + good + `"}`, 409, `add service "greet": already exists`},
		{"GET", "/services", "", 200, "[\n  \"greet\"\n]\n"},
		{"GET", "/services/functions/hi", "", 200, `{
  "FuncName": "hi",
  "ServiceName": "greet",
  "InterfaceName": "greeter",
  "Addr": "http://127.0.0.1:9",
  "MethodName": "Hello"
}
`},
		{"GET", "/services/functions/Hello", "", 404, `service function "Hello": not found`},
		{"GET", "/services/nope", "", 404, `service "nope": not found`},
		{"PUT", "/services/nope", `{"file": "` + good + `"}`, 404, `update service "nope": *`},
		{"PUT", "/services/greet", `{"name": "other", "file": "` + good + `"}`, 400, `request body: name "other" does not match the URL's "greet"`},
		{"DELETE", "/services/greet", "", 200, "service greet is deleted; running rules keep it until they restart"},
		{"DELETE", "/services/greet", "", 404, `delete service "greet": not found`},
	})
	if st, body := s.call(t, "POST", "/services", ""); st != 400 || !strings.Contains(body, "request body: empty") {
		t.Errorf("empty body: %d %s", st, body)
	}
}

func TestClientServices(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	read := func(p string) []byte {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	v1 := read(writeZip(t, "greet.json", greeterDesc("http://127.0.0.1:9"), "schemas/greeter.proto", greeterProto))
	v2 := read(writeZip(t, "greet.json", greeterDesc("http://127.0.0.1:10"), "schemas/greeter.proto", greeterProto))
	msg, err := s.cl.CreateService(ctx, "greet", v1)
	if err != nil || msg != "service greet is created" {
		t.Fatalf("CreateService = %q, %v", msg, err)
	}
	if _, err := s.cl.CreateService(ctx, "greet", v1); !errors.Is(err, engine.ErrExists) {
		t.Errorf("CreateService again: %v", err)
	}
	names, err := s.cl.Services(ctx)
	if err != nil || !slices.Equal(names, []string{"greet"}) {
		t.Errorf("Services = %q, %v", names, err)
	}
	fs, err := s.cl.ServiceFunctions(ctx)
	if err != nil || len(fs) != 2 || fs[0].FuncName != "Bye" || fs[1].FuncName != "hi" || fs[1].Addr != "http://127.0.0.1:9" {
		t.Errorf("ServiceFunctions = %+v, %v", fs, err)
	}
	if _, err := s.cl.UpdateService(ctx, "greet", v2); err != nil {
		t.Fatal(err)
	}
	d, err := s.cl.Service(ctx, "greet")
	if err != nil || d.Interfaces["greeter"].Address != "http://127.0.0.1:10" {
		t.Errorf("Service = %+v, %v", d, err)
	}
	// The files are where eKuiper keeps them.
	for _, p := range []string{"data/services/greet.json", "data/services/schemas/greeter.proto"} {
		if _, err := os.Stat(filepath.Join(s.e.Root(), p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := s.cl.DeleteService(ctx, "greet"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cl.Service(ctx, "greet"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Service after delete: %v", err)
	}
	// A zip body needs a name.
	req, _ := http.NewRequest("POST", s.srv.URL+"/services", strings.NewReader(string(v1)))
	req.Header.Set("Content-Type", "application/zip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("zip without a name: %d", resp.StatusCode)
	}
}
