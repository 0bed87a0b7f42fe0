package engine_test

import (
	"fmt"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"

	"github.com/kgen-dev/kgen/examples/aiservice"
)

// serveReflecting serves the example services over gRPC with server
// reflection on 127.0.0.1, and returns the address.
func serveReflecting(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	srv := aiservice.NewServer()
	aiservice.RegisterFeaturesServer(gs, srv)
	aiservice.RegisterBookstoreServer(gs, srv)
	reflection.Register(gs)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return lis.Addr().String()
}

// A rule calls a function of a service that ships no .proto: the engine
// learned its rpcs from the server by reflection.
func TestRuleCallsReflectedFunction(t *testing.T) {
	addr := serveReflecting(t)
	e := open(t, t.TempDir())
	defer e.Close()
	desc := fmt.Sprintf(`{"interfaces": {"features": {"address": "tcp://%s", "protocol": "grpc",
		"schemaType": "reflection", "services": ["Features"], "functions": [{"name": "tokens", "serviceName": "Tokenize"}]}}}`, addr)
	if err := e.Services().Add("ai", []byte(desc), nil); err != nil {
		t.Fatal(err)
	}
	mustStream(t, e, `CREATE STREAM texts (text STRING) WITH (DATASOURCE="in/texts", TYPE="memory")`)
	mustRule(t, e, `{"id":"tok","sql":"SELECT tokens(text)->count AS n, tokens(text)->tokens[1]->text AS second FROM texts","actions":[{"memory":{"topic":"out/tok"}}]}`)
	out, cancel := e.MemoryHub().Subscribe("out/tok", 16)
	defer cancel()
	publish(t, e, "in/texts", map[string]any{"text": "hello big world"})
	if got, want := nextRow(t, out), "map[n:3 second:big]"; got != want {
		t.Errorf("row = %s, want %s", got, want)
	}
}
