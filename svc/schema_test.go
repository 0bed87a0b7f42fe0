package svc

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
	_ "google.golang.org/protobuf/types/known/emptypb"
	_ "google.golang.org/protobuf/types/known/wrapperspb"
)

// The test schemas. The engine's tests compile them too, with the engine's
// loader.
const (
	testSchemas   = "testdata/schemas"
	testTransport = "testdata/transport"
)

// compileProto compiles file, read from dir unless src holds it; imports
// of google/protobuf/* and google/api/* resolve to the linked-in
// registry, as with the engine's loader. Only the tests compile: svc
// itself takes compiled descriptors, from the engine or generated code.
func compileProto(dir string, src map[string]string, file string) (protoreflect.FileDescriptor, error) {
	c := protocompile.Compiler{Resolver: protocompile.CompositeResolver{
		&protocompile.SourceResolver{Accessor: func(path string) (io.ReadCloser, error) {
			if s, ok := src[path]; ok {
				return io.NopCloser(strings.NewReader(s)), nil
			}
			if dir == "" {
				return nil, os.ErrNotExist
			}
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
			if err != nil {
				return nil, err
			}
			return io.NopCloser(bytes.NewReader(b)), nil
		}},
		protocompile.ResolverFunc(func(path string) (protocompile.SearchResult, error) {
			fd, err := protoregistry.GlobalFiles.FindFileByPath(path)
			if err != nil {
				return protocompile.SearchResult{}, err
			}
			return protocompile.SearchResult{Desc: fd}, nil
		}),
	}}
	files, err := c.Compile(context.Background(), file)
	if err != nil {
		return nil, err
	}
	return files[0], nil
}

var schemaCache sync.Map // dir/file → protoreflect.FileDescriptor

// mustCompile is compileProto of a file under dir, compiled once per test
// binary.
func mustCompile(t testing.TB, dir, file string) protoreflect.FileDescriptor {
	t.Helper()
	key := dir + "/" + file
	if fd, ok := schemaCache.Load(key); ok {
		return fd.(protoreflect.FileDescriptor)
	}
	fd, err := compileProto(dir, nil, file)
	if err != nil {
		t.Fatalf("compile %s: %v", key, err)
	}
	schemaCache.Store(key, fd)
	return fd
}

// mustSchema compiles a file of testdata/schemas.
func mustSchema(t testing.TB, file string) protoreflect.FileDescriptor {
	t.Helper()
	return mustCompile(t, testSchemas, file)
}

// msg returns a message of kitchen.proto.
func msg(t testing.TB, name string) protoreflect.MessageDescriptor {
	t.Helper()
	md := mustSchema(t, "kitchen.proto").Messages().ByName(protoreflect.Name(name))
	if md == nil {
		t.Fatalf("no message %s", name)
	}
	return md
}

// wkt returns a well-known message, as a schema sees it.
func wkt(t testing.TB, name string) protoreflect.MessageDescriptor {
	t.Helper()
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		t.Fatal(err)
	}
	return d.(protoreflect.MessageDescriptor)
}

// equalSQL compares SQL values deeply.
func equalSQL(a, b any) bool { return reflect.DeepEqual(a, b) }

// lookup returns a message of kitchen.proto, or a well-known one by full
// name.
func lookup(t testing.TB, name string) protoreflect.MessageDescriptor {
	if strings.HasPrefix(name, "google.") {
		return wkt(t, name)
	}
	return msg(t, name)
}

// transportFile compiles testdata/transport/transport.proto.
func transportFile(t testing.TB) protoreflect.FileDescriptor {
	t.Helper()
	return mustCompile(t, testTransport, "transport.proto")
}

// transportMethod finds an rpc of the Greeter service.
func transportMethod(t testing.TB, name string) protoreflect.MethodDescriptor {
	t.Helper()
	m := transportFile(t).Services().ByName("Greeter").Methods().ByName(protoreflect.Name(name))
	if m == nil {
		t.Fatalf("no rpc %q", name)
	}
	return m
}

// requestOf builds an input message of rpc name from protobuf JSON.
func requestOf(t testing.TB, name, js string) (protoreflect.MethodDescriptor, proto.Message) {
	t.Helper()
	m := transportMethod(t, name)
	req := dynamicpb.NewMessage(m.Input())
	if err := protojson.Unmarshal([]byte(js), req); err != nil {
		t.Fatalf("request %s: %v", js, err)
	}
	return m, req
}
