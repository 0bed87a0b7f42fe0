package kgencli

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"

	"github.com/kgen-dev/kgen/examples/aiservice"
	"github.com/kgen-dev/kgen/svc"
)

// serveReflecting serves the example services over gRPC with server
// reflection on 127.0.0.1 and returns the address.
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

func TestGenServiceReflect(t *testing.T) {
	addr := "tcp://" + serveReflecting(t)
	out := t.TempDir()
	got := mustRun(t, "gen", "service", "-reflect", addr, "-out", out, "-name", "ai", "-v")
	var want string
	for _, f := range []string{"ai.json", "ai.zip", "aiservice.proto"} {
		want += "wrote " + filepath.Join(out, f) + "\n"
	}
	if got != want {
		t.Errorf("kgen gen service -reflect printed:\n%s\nwant:\n%s", got, want)
	}
	data, err := os.ReadFile(filepath.Join(out, "ai.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := svc.ParseDescription(data)
	if err != nil {
		t.Fatal(err)
	}
	if iface := d.Interfaces["Features"]; iface == nil || iface.Address != addr || iface.SchemaType != "protobuf" || iface.SchemaFile != "aiservice.proto" {
		t.Errorf("ai.json:\n%s", data)
	}
	// The name defaults to the package's last element; --flags work too.
	out2 := t.TempDir()
	mustRun(t, "gen", "service", "--reflect", addr, "--out", out2)
	if _, err := os.Stat(filepath.Join(out2, "aiservice.zip")); err != nil {
		t.Error(err)
	}
}

func TestGenServiceReflectErrors(t *testing.T) {
	_, proto := writeEcho(t)
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "tcp://" + l.Addr().String()
	l.Close()
	for _, tc := range []struct {
		args   []string
		status int
		first  string // first line of the error
	}{
		{[]string{"gen", "service", "-reflect", "tcp://127.0.0.1:1", proto}, 2,
			`-reflect asks a server instead of reading a .proto file, got "` + proto + `" too`},
		{[]string{"gen", "server", "-reflect", "tcp://127.0.0.1:1"}, 2, "-reflect applies to kgen gen service only"},
		{[]string{"gen", "-reflect", "tcp://127.0.0.1:1"}, 2, "-reflect applies to kgen gen service only"},
		{[]string{"gen", "service", "-reflect", "tcp://127.0.0.1:1", "-proto-path", "x"}, 1,
			`reflection from "tcp://127.0.0.1:1": a proto path applies to a .proto file only`},
		{[]string{"gen", "service", "-reflect", closed}, 1,
			`reflection from "` + closed + `": server unavailable: connection error: desc = "transport: Error while dialing: dial tcp ` +
				strings.TrimPrefix(closed, "tcp://") + `: connect: connection refused"`},
	} {
		r := kgen(t, "", tc.args...)
		first, _, _ := strings.Cut(errText(r.err), "\n")
		if ExitCode(r.err) != tc.status || first != tc.first {
			t.Errorf("kgen %s: status %d, error %q\nwant status %d, %q", strings.Join(tc.args, " "), ExitCode(r.err), first, tc.status, tc.first)
		}
	}
}
