// Package prototest compiles .proto files for tests and renders messages
// for comparison. svc's tests and the engine's service tests share it, and
// svc's transport test schema: svc itself takes compiled descriptors and
// never compiles.
package prototest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Compile compiles file, read from dir unless src holds it; imports of
// google/protobuf/* and google/api/* resolve to the linked-in registry, as
// with the engine's loader.
func Compile(dir string, src map[string]string, file string) (protoreflect.FileDescriptor, error) {
	c := protocompile.Compiler{Resolver: protocompile.CompositeResolver{
		&protocompile.SourceResolver{Accessor: func(path string) (io.ReadCloser, error) {
			if s, ok := src[path]; ok {
				return io.NopCloser(strings.NewReader(s)), nil
			}
			if dir == "" {
				return nil, os.ErrNotExist
			}
			return os.Open(filepath.Join(dir, filepath.FromSlash(path)))
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

var cache sync.Map // dir/file → protoreflect.FileDescriptor

// MustCompile is Compile of a file under dir, compiled once per test
// binary.
func MustCompile(t testing.TB, dir, file string) protoreflect.FileDescriptor {
	t.Helper()
	key := dir + "/" + file
	if fd, ok := cache.Load(key); ok {
		return fd.(protoreflect.FileDescriptor)
	}
	fd, err := Compile(dir, nil, file)
	if err != nil {
		t.Fatalf("compile %s: %v", key, err)
	}
	cache.Store(key, fd)
	return fd
}

// TransportDir is svc's testdata/transport, whose transport.proto the
// transcoding and transport tests use.
func TransportDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "svc", "testdata", "transport")
}

// Transport is svc's testdata/transport/transport.proto, compiled.
func Transport(t testing.TB) protoreflect.FileDescriptor {
	t.Helper()
	return MustCompile(t, TransportDir(), "transport.proto")
}

// TransportMethod finds an rpc of the Greeter service of transport.proto.
func TransportMethod(t testing.TB, name string) protoreflect.MethodDescriptor {
	t.Helper()
	m := Transport(t).Services().ByName("Greeter").Methods().ByName(protoreflect.Name(name))
	if m == nil {
		t.Fatalf("no rpc %q", name)
	}
	return m
}

// RequestOf builds an input message of a transport.proto rpc from protobuf
// JSON.
func RequestOf(t testing.TB, name, js string) (protoreflect.MethodDescriptor, proto.Message) {
	t.Helper()
	m := TransportMethod(t, name)
	req := dynamicpb.NewMessage(m.Input())
	if err := protojson.Unmarshal([]byte(js), req); err != nil {
		t.Fatalf("request %s: %v", js, err)
	}
	return m, req
}

// CompactJSON is s without insignificant space ("" stays "").
func CompactJSON(t testing.TB, s string) string {
	t.Helper()
	if s == "" {
		return ""
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("compact %q: %v", s, err)
	}
	return b.String()
}

// AsJSON renders a message for comparison (proto names, compact).
func AsJSON(t testing.TB, m proto.Message) string {
	t.Helper()
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return CompactJSON(t, string(b))
}
