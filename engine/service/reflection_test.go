package service

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/kgen-dev/kgen/internal/testutil/prototest"
)

// shopV1 and shopV2 are the schemas of the reflection test server; v2 adds
// an rpc and a service.
const shopV1 = `syntax = "proto3";
package shop.v1;
import "google/protobuf/wrappers.proto";
service Shop {
  rpc Echo(Msg) returns (Msg);
  rpc Wrap(google.protobuf.StringValue) returns (google.protobuf.StringValue);
}
message Msg { string text = 1; int64 n = 2; }
`

const shopV2 = `syntax = "proto3";
package shop.v1;
import "google/protobuf/wrappers.proto";
service Shop {
  rpc Echo(Msg) returns (Msg);
  rpc Wrap(google.protobuf.StringValue) returns (google.protobuf.StringValue);
  rpc Shout(Msg) returns (Msg);
}
service Till {
  rpc Tally(Msg) returns (Msg);
}
message Msg { string text = 1; int64 n = 2; }
`

// reflectServer is a real gRPC server whose services are compiled from
// .proto source at run time and can be swapped; it may serve reflection (v1
// only, with health) for them. Every rpc answers its request with the
// set string fields prefixed by "<Rpc>:" and the set int64 fields plus one.
type reflectServer struct {
	addr   string
	srv    *grpc.Server
	schema atomic.Pointer[protoreflect.FileDescriptor]
}

func startReflectServer(t *testing.T, schema string, withReflection bool) *reflectServer {
	t.Helper()
	return startReflectServerOn(t, "127.0.0.1:0", schema, withReflection)
}

// startReflectServerAt starts a server with reflection at addr, as a
// server that comes back.
func startReflectServerAt(t *testing.T, addr, schema string) *reflectServer {
	t.Helper()
	return startReflectServerOn(t, addr, schema, true)
}

func startReflectServerOn(t *testing.T, addr, schema string, withReflection bool) *reflectServer {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &reflectServer{addr: lis.Addr().String()}
	s.setSchema(t, schema)
	s.srv = grpc.NewServer(grpc.UnknownServiceHandler(s.handle))
	if withReflection {
		reflectionpb.RegisterServerReflectionServer(s.srv, reflection.NewServerV1(reflection.ServerOptions{Services: s, DescriptorResolver: s}))
		healthpb.RegisterHealthServer(s.srv, health.NewServer())
	}
	go s.srv.Serve(lis)
	t.Cleanup(s.srv.Stop)
	return s
}

// setSchema compiles src and serves its services from now on.
func (s *reflectServer) setSchema(t *testing.T, src string) {
	t.Helper()
	fd, err := prototest.Compile("", map[string]string{"shop/v1/shop.proto": src}, "shop/v1/shop.proto")
	if err != nil {
		t.Fatal(err)
	}
	s.schema.Store(&fd)
}

// GetServiceInfo lists the registered services and the schema's, for
// reflection.
func (s *reflectServer) GetServiceInfo() map[string]grpc.ServiceInfo {
	info := s.srv.GetServiceInfo()
	svcs := (*s.schema.Load()).Services()
	for i := 0; i < svcs.Len(); i++ {
		info[string(svcs.Get(i).FullName())] = grpc.ServiceInfo{}
	}
	return info
}

func (s *reflectServer) FindFileByPath(p string) (protoreflect.FileDescriptor, error) {
	if fd := *s.schema.Load(); fd.Path() == p {
		return fd, nil
	}
	return protoregistry.GlobalFiles.FindFileByPath(p)
}

func (s *reflectServer) FindDescriptorByName(n protoreflect.FullName) (protoreflect.Descriptor, error) {
	files := new(protoregistry.Files)
	if err := files.RegisterFile(*s.schema.Load()); err != nil {
		return nil, err
	}
	if d, err := files.FindDescriptorByName(n); err == nil {
		return d, nil
	}
	return protoregistry.GlobalFiles.FindDescriptorByName(n)
}

var _ protodesc.Resolver = (*reflectServer)(nil)

func (s *reflectServer) handle(_ any, stream grpc.ServerStream) error {
	full, _ := grpc.MethodFromServerStream(stream)
	i := strings.LastIndexByte(full, '/')
	fd := *s.schema.Load()
	sd := fileService(fd, protoreflect.FullName(strings.TrimPrefix(full[:i], "/")))
	if sd == nil {
		return status.Errorf(codes.Unimplemented, "unknown service %s", full)
	}
	m := sd.Methods().ByName(protoreflect.Name(full[i+1:]))
	if m == nil {
		return status.Errorf(codes.Unimplemented, "unknown method %s", full)
	}
	in := dynamicpb.NewMessage(m.Input())
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	b, err := proto.Marshal(in)
	if err != nil {
		return err
	}
	out := dynamicpb.NewMessage(m.Output())
	if err := proto.Unmarshal(b, out); err != nil {
		return err
	}
	out.Range(func(f protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch f.Kind() {
		case protoreflect.StringKind:
			out.Set(f, protoreflect.ValueOfString(string(m.Name())+":"+v.String()))
		case protoreflect.Int64Kind:
			out.Set(f, protoreflect.ValueOfInt64(v.Int()+1))
		}
		return true
	})
	return stream.SendMsg(out)
}

// callText runs function name of r with args and returns its result in
// fmt's %v, or its error.
func callText(t *testing.T, r *Registry, name string, args ...any) string {
	t.Helper()
	res, err := call(t, r, name, args...)
	if err != nil {
		return "error: " + errString(err)
	}
	return fmt.Sprint(res)
}

func reflectJSON(address, extra string) []byte {
	return []byte(fmt.Sprintf(`{"interfaces": {"shop": {"address": %q, "protocol": "grpc", "schemaType": "reflection"%s}}}`, address, extra))
}

// A service without a .proto: its rpcs are asked of the server at Add,
// renamed by functions, called; Update asks again and picks up the rpcs
// the server has gained; a reopened registry asks again at Load.
func TestReflectionService(t *testing.T) {
	s := startReflectServer(t, shopV1, true)
	r, root := newTestRegistry(t)
	addr := "tcp://" + s.addr
	if err := r.Add("shop", reflectJSON(addr, `, "functions": [{"name": "echo", "serviceName": "Echo"}]`), nil); err != nil {
		t.Fatal(err)
	}
	if got, want := funcNames(r), "Wrap=shop/shop/Wrap echo=shop/shop/Echo"; got != want {
		t.Errorf("functions:\n got %s\nwant %s", got, want)
	}
	if got, want := callText(t, r, "echo", "hi", int64(41)), "map[n:42 text:Echo:hi]"; got != want {
		t.Errorf("echo = %s, want %s", got, want)
	}
	if got, want := callText(t, r, "Wrap", "x"), "Wrap:x"; got != want {
		t.Errorf("Wrap = %s, want %s", got, want)
	}
	if _, ok := r.Function("Shout"); ok {
		t.Error("Shout exists before the server has it")
	}

	s.setSchema(t, shopV2)
	if err := r.Update("shop", reflectJSON(addr, ""), nil); err != nil {
		t.Fatal(err)
	}
	if got, want := funcNames(r), "Echo=shop/shop/Echo Shout=shop/shop/Shout Tally=shop/shop/Tally Wrap=shop/shop/Wrap"; got != want {
		t.Errorf("functions after the update:\n got %s\nwant %s", got, want)
	}
	if got, want := callText(t, r, "Shout", "hey", int64(4)), "map[n:5 text:Shout:hey]"; got != want {
		t.Errorf("Shout = %s, want %s", got, want)
	}
	// services limits the interface to the services named.
	if err := r.Update("shop", reflectJSON(addr, `, "services": ["shop.v1.Till"]`), nil); err != nil {
		t.Fatal(err)
	}
	if got, want := funcNames(r), "Tally=shop/shop/Tally"; got != want {
		t.Errorf("functions of Till:\n got %s\nwant %s", got, want)
	}

	r2 := NewRegistry(root, nil)
	defer r2.Close()
	if errs := r2.Load(); len(errs) != 0 {
		t.Fatal(errs)
	}
	if got, want := callText(t, r2, "Tally", "c", int64(1)), "map[n:2 text:Tally:c]"; got != want {
		t.Errorf("Tally after Load = %s, want %s", got, want)
	}

	// With the server gone, Load takes the rpcs learned at the last
	// registration: the functions exist, and their calls fail until the
	// server is back.
	s.srv.Stop()
	r3 := NewRegistry(root, nil)
	defer r3.Close()
	if errs := r3.Load(); len(errs) != 0 {
		t.Fatalf("Load with the server down: %v", errs)
	}
	if got, want := funcNames(r3), "Tally=shop/shop/Tally"; got != want {
		t.Errorf("functions loaded with the server down:\n got %s\nwant %s", got, want)
	}
	if got := callText(t, r3, "Tally", "c", int64(1)); !strings.HasPrefix(got, `error: function "Tally": grpc call /shop.v1.Till/Tally at "`+addr+`": `) ||
		!strings.Contains(got, "connection refused") {
		t.Errorf("Tally with the server down = %s, want a connection error", got)
	}
	back := startReflectServerAt(t, s.addr, shopV2)
	// The connection comes back on its own: a call may still see it down
	// (a rule's retries cover that), so call until it answers, for 10s.
	got, want := "", "map[n:2 text:Tally:c]"
	for deadline := time.Now().Add(10 * time.Second); got != want && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got = callText(t, r3, "Tally", "c", int64(1))
	}
	if got != want {
		t.Errorf("Tally with the server back = %s, want %s", got, want)
	}
	back.srv.Stop()

	// Without what it learned, a service whose server is down is logged
	// and skipped at Load, as a bad file.
	if err := os.RemoveAll(filepath.Join(root, "data", "services", "reflection")); err != nil {
		t.Fatal(err)
	}
	r4 := NewRegistry(root, nil)
	defer r4.Close()
	errs := r4.Load()
	want = `service "shop": interface "shop": reflection from "` + addr + `": server unavailable: connection error: desc = "transport: Error while dialing: dial tcp ` + s.addr + `: connect: connection refused"`
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("Load with the server down: %v\nwant [%s]", errs, want)
	}
	if got := r4.Services(); len(got) != 0 {
		t.Errorf("services loaded with the server down: %v", got)
	}
}

// What a reflection interface learned is kept beside the description while
// the service is registered, and goes with it.
func TestReflectionLearnedFiles(t *testing.T) {
	s := startReflectServer(t, shopV1, true)
	r, root := newTestRegistry(t)
	learned := filepath.Join(root, "data", "services", "reflection", "shop", "shop.binpb")
	if err := r.Add("shop", reflectJSON("tcp://"+s.addr, ""), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(learned); err != nil {
		t.Fatalf("after Add: %v", err)
	}
	// A description without reflection interfaces keeps nothing learned.
	plain := []byte(`{"interfaces": {"x": {"address": "http://127.0.0.1:1", "protocol": "rest", "schemaless": true}}}`)
	if err := r.Update("shop", plain, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(learned)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after an update without reflection: %v, want the folder gone", err)
	}
	if err := r.Update("shop", reflectJSON("tcp://"+s.addr, ""), nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete("shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(learned)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Delete: %v, want the folder gone", err)
	}
}

// Bad reflection interfaces and servers are refused with what is wrong,
// naming the service, the interface and the address.
func TestReflectionErrors(t *testing.T) {
	plain := startReflectServer(t, shopV1, false)
	refl := startReflectServer(t, shopV2, true)
	// A listener that accepts and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	// A port that nothing listens on.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	r, _ := newTestRegistry(t)
	for _, tc := range []struct {
		desc []byte
		want string
	}{
		{reflectJSON("tcp://"+plain.addr, ""),
			`add service "shop": interface "shop": "tcp://` + plain.addr + `" does not serve gRPC server reflection (grpc.reflection.v1.ServerReflection)`},
		{reflectJSON("tcp://"+closedAddr, ""),
			`add service "shop": interface "shop": reflection from "tcp://` + closedAddr + `": server unavailable: connection error: desc = "transport: Error while dialing: dial tcp ` + closedAddr + `: connect: connection refused"`},
		{reflectJSON("tcp://"+silent.Addr().String(), `, "options": {"timeout": "300ms"}`),
			`add service "shop": interface "shop": reflection from "tcp://` + silent.Addr().String() + `": no answer within 300ms`},
		{reflectJSON("tcp://"+refl.addr, `, "schemaFile": "shop.proto"`),
			`add service "shop": interface "shop": schemaType "reflection" takes no schemaFile`},
		{[]byte(`{"interfaces": {"shop": {"address": "http://` + refl.addr + `", "protocol": "rest", "schemaType": "reflection"}}}`),
			`add service "shop": interface "shop": schemaType "reflection" needs protocol "grpc"`},
		{reflectJSON("tcp://"+refl.addr, `, "services": ["Nope"]`),
			`add service "shop": interface "shop": services: no service "Nope" in server "tcp://` + refl.addr + `"`},
		{reflectJSON("tcp://"+refl.addr, `, "functions": [{"name": "f", "serviceName": "Nope"}]`),
			`add service "shop": interface "shop": function "f": no rpc "Nope" in server "tcp://` + refl.addr + `"`},
		{[]byte(`{"interfaces": {"shop": {"address": "tcp://` + refl.addr + `", "protocol": "grpc", "schemaType": "thrift"}}}`),
			`add service "shop": interface "shop": schemaType "thrift" is not supported, want "protobuf", "reflection" or "openapi"`},
	} {
		start := time.Now()
		err := r.Add("shop", tc.desc, nil)
		if got := errString(err); got != tc.want {
			t.Errorf("add %s:\n got %s\nwant %s", tc.desc, got, tc.want)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("add %s took %v", tc.desc, d)
		}
	}
	if got := r.Services(); len(got) != 0 {
		t.Errorf("services after failed adds: %v", got)
	}
}
