package proto_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/kgen-dev/kgen/engine/service"
	"github.com/kgen-dev/kgen/examples/aiservice"
	"github.com/kgen-dev/kgen/gen/proto"
	"github.com/kgen-dev/kgen/internal/testutil/prototest"
	"github.com/kgen-dev/kgen/sdk"
)

// serveAIService serves the example services, compiled in, over gRPC
// with server reflection, and returns the address.
func serveAIService(t *testing.T) string {
	t.Helper()
	gs := grpc.NewServer()
	srv := aiservice.NewServer()
	aiservice.RegisterFeaturesServer(gs, srv)
	aiservice.RegisterBookstoreServer(gs, srv)
	reflection.Register(gs)
	return serveGRPC(t, gs)
}

func serveGRPC(t *testing.T, gs *grpc.Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return lis.Addr().String()
}

// reflectOnly is a gRPC server that implements no rpc but describes the
// services of a compiled .proto file (and its local imports) through
// server reflection: enough to generate from.
type reflectOnly struct {
	files *protoregistry.Files
	svcs  map[string]grpc.ServiceInfo
}

func (r *reflectOnly) GetServiceInfo() map[string]grpc.ServiceInfo { return r.svcs }

func (r *reflectOnly) FindFileByPath(p string) (protoreflect.FileDescriptor, error) {
	if fd, err := r.files.FindFileByPath(p); err == nil {
		return fd, nil
	}
	return protoregistry.GlobalFiles.FindFileByPath(p)
}

func (r *reflectOnly) FindDescriptorByName(n protoreflect.FullName) (protoreflect.Descriptor, error) {
	if d, err := r.files.FindDescriptorByName(n); err == nil {
		return d, nil
	}
	return protoregistry.GlobalFiles.FindDescriptorByName(n)
}

// serveReflectOnly compiles file under dir and describes it by reflection.
func serveReflectOnly(t *testing.T, dir, file string) string {
	t.Helper()
	fd := prototest.MustCompile(t, dir, file)
	r := &reflectOnly{files: new(protoregistry.Files), svcs: map[string]grpc.ServiceInfo{"grpc.reflection.v1.ServerReflection": {}}}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if _, err := protoregistry.GlobalFiles.FindFileByPath(fd.Path()); err == nil {
			return
		}
		for i := 0; i < fd.Imports().Len(); i++ {
			add(fd.Imports().Get(i).FileDescriptor)
		}
		if err := r.files.RegisterFile(fd); err != nil {
			t.Fatal(err)
		}
	}
	add(fd)
	for i := 0; i < fd.Services().Len(); i++ {
		r.svcs[string(fd.Services().Get(i).FullName())] = grpc.ServiceInfo{}
	}
	gs := grpc.NewServer()
	reflectionpb.RegisterServerReflectionServer(gs, reflection.NewServerV1(reflection.ServerOptions{Services: r, DescriptorResolver: r}))
	return serveGRPC(t, gs)
}

// reflectCases generate into testdata/<dir> from a server; the address is
// fixed so that the goldens do not depend on the port.
var reflectCases = []struct {
	dir   string
	serve func(t *testing.T) string
	opts  proto.Options
}{
	{"reflect/aiservice", serveAIService, proto.Options{Kind: proto.KindService, Address: "127.0.0.1:50051"}},
	// A local import, and a service name given.
	{"reflect/features", func(t *testing.T) string { return serveReflectOnly(t, "testdata/features", "features.proto") },
		proto.Options{Kind: proto.KindService, Address: "127.0.0.1:50051", Name: "books"}},
}

// Generating from a server writes the description, the printed .proto
// files (at their import paths, built-in files left out) and the zip; the
// same server gives the same bytes.
func TestReflectGolden(t *testing.T) {
	for _, c := range reflectCases {
		t.Run(c.dir, func(t *testing.T) {
			opts := c.opts
			opts.Reflect = "tcp://" + c.serve(t)
			files, err := proto.Generate(opts)
			if err != nil {
				t.Fatal(err)
			}
			again, err := proto.Generate(opts)
			if err != nil {
				t.Fatal(err)
			}
			for name := range files {
				if !bytes.Equal(files[name], again[name]) {
					t.Errorf("%s differs between two runs", name)
				}
			}
			dir := filepath.Join("testdata", filepath.FromSlash(c.dir))
			if update {
				os.RemoveAll(dir)
				for name, data := range files {
					p := filepath.Join(dir, filepath.FromSlash(name))
					if !golden(name) {
						continue
					}
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			var want []string
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					want = append(want, filepath.ToSlash(rel))
				}
				return nil
			})
			got := slices.DeleteFunc(slices.Sorted(maps.Keys(files)), func(n string) bool { return !golden(n) })
			if !slices.Equal(got, want) {
				t.Errorf("files %v, goldens %v (run KGEN_UPDATE=1 go test ./gen/proto)", got, want)
			}
			for _, name := range got {
				old, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
				if !bytes.Equal(old, files[name]) {
					t.Errorf("%s/%s is stale (run KGEN_UPDATE=1 go test ./gen/proto); generated:\n%s", dir, name, files[name])
				}
			}
		})
	}
}

// callCtx is the FunctionContext of a direct call: a context and nothing
// else.
type callCtx struct {
	sdk.FunctionContext // nil: calls only use the context
	ctx                 context.Context
}

func (c callCtx) Deadline() (time.Time, bool) { return c.ctx.Deadline() }
func (c callCtx) Done() <-chan struct{}       { return c.ctx.Done() }
func (c callCtx) Err() error                  { return c.ctx.Err() }
func (c callCtx) Value(k any) any             { return c.ctx.Value(k) }

// What Run writes from a server installs into an engine's registry,
// which calls the server: the description's address is the server's.
func TestReflectInstallsAndCalls(t *testing.T) {
	addr := "tcp://" + serveAIService(t)
	out := t.TempDir()
	res, err := proto.Run(proto.Options{Kind: proto.KindService, Reflect: addr, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"aiservice.json", "aiservice.proto", "aiservice.zip"}
	for i := range want {
		want[i] = filepath.Join(out, want[i])
	}
	if !slices.Equal(res.Files, want) {
		t.Errorf("files %v, want %v", res.Files, want)
	}
	data, err := os.ReadFile(filepath.Join(out, "aiservice.zip"))
	if err != nil {
		t.Fatal(err)
	}
	reg := service.NewRegistry(t.TempDir(), nil)
	defer reg.Close()
	if err := reg.AddZip("aiservice", data); err != nil {
		t.Fatal(err)
	}
	var fns []string
	for _, f := range reg.Functions() {
		fns = append(fns, f.FuncName+"@"+f.Addr)
	}
	wantFns := strings.ReplaceAll("CreateBook@A FindBook@A GetFeature@A GetShelf@A Label@A ListBooks@A Reset@A Score@A Tokenize@A", "A", addr)
	if got := strings.Join(fns, " "); got != wantFns {
		t.Errorf("functions: %s\nwant:      %s", got, wantFns)
	}
	f, _ := reg.Function("Tokenize")
	got, ok := f.Exec(callCtx{ctx: context.Background()}, []any{"hello big world"})
	if !ok {
		t.Fatal(got)
	}
	if s := fmt.Sprint(got.(map[string]any)["count"]); s != "3" {
		t.Errorf("Tokenize(\"hello big world\") = %v, want count 3", got)
	}
}

func TestReflectErrors(t *testing.T) {
	streaming := "tcp://" + serveReflectOnly(t, "testdata/errors", "streaming.proto")
	ai := "tcp://" + serveAIService(t)
	for _, c := range []struct {
		opts proto.Options
		want string
	}{
		{proto.Options{Kind: proto.KindService, Reflect: streaming},
			`reflection from "` + streaming + `": streaming.proto:10:3: rpc kgen.errors.Chat.Talk: streaming rpcs are not supported (external functions are unary)`},
		{proto.Options{Kind: proto.KindServer, Reflect: ai},
			`reflection from "` + ai + `": only the service files are generated from a server, not server`},
		{proto.Options{Kind: proto.KindService, Reflect: ai, Proto: featuresProto},
			`reflection from "` + ai + `" and the file ` + featuresProto + `: want one of them`},
		{proto.Options{Kind: proto.KindService, Reflect: ai, ProtoPath: "testdata"},
			`reflection from "` + ai + `": a proto path applies to a .proto file only`},
		{proto.Options{Kind: proto.KindService, Reflect: ai, Name: "a/b"},
			`service name "a/b": want letters, digits, _, - and .`},
		{proto.Options{Kind: proto.KindService, Reflect: "http://" + ai[len("tcp://"):]},
			`grpc address "http://` + ai[len("tcp://"):] + `": want tcp://host:port or host:port`},
	} {
		files, err := proto.Generate(c.opts)
		got := "<nil>"
		if err != nil {
			got = err.Error()
		}
		if got != c.want || files != nil {
			t.Errorf("%+v:\n got %s\nwant %s", c.opts, got, c.want)
		}
	}
}
