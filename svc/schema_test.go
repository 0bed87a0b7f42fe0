package svc

import (
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	_ "google.golang.org/protobuf/types/known/emptypb"
	_ "google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/kgen-dev/kgen/internal/testutil/prototest"
)

// testSchemas holds the test schemas. The engine's tests compile them too,
// with the engine's loader.
const testSchemas = "testdata/schemas"

// mustSchema compiles a file of testdata/schemas.
func mustSchema(t testing.TB, file string) protoreflect.FileDescriptor {
	t.Helper()
	return prototest.MustCompile(t, testSchemas, file)
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
