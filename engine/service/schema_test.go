package service

import (
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The test schemas are svc's, whose mapping and transcoding tests compile
// them too; badSchemas holds those that must not compile.
const (
	testSchemas = "../../svc/testdata/schemas"
	badSchemas  = "testdata/schemas"
)

var schemaCache sync.Map // file → protoreflect.FileDescriptor

func mustSchema(t testing.TB, file string) protoreflect.FileDescriptor {
	t.Helper()
	if fd, ok := schemaCache.Load(file); ok {
		return fd.(protoreflect.FileDescriptor)
	}
	fd, err := LoadSchema(testSchemas, file)
	if err != nil {
		t.Fatal(err)
	}
	schemaCache.Store(file, fd)
	return fd
}

func TestLoadSchema(t *testing.T) {
	fd := mustSchema(t, "kitchen.proto")
	if got := fd.Services().Get(0).Methods().Len(); got != 8 {
		t.Errorf("rpcs: got %d, want 8", got)
	}
	bs := mustSchema(t, "bookstore.proto")
	m := bs.Services().Get(0).Methods().ByName("GetBook")
	rule, ok := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
	if !ok || rule.GetGet() != "/v1/shelves/{shelf}/books/{book}" {
		t.Errorf("GetBook http rule: got %v", rule)
	}
	m = bs.Services().Get(0).Methods().ByName("CreateBook")
	rule, _ = proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
	if rule.GetBody() != "book" || rule.GetPost() != "/v1/shelves/{shelf}/books" {
		t.Errorf("CreateBook http rule: got %v", rule)
	}
}

func TestLoadSchemaErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"broken.proto", `schema broken.proto:5:3: field kgen.test.broken.Broken.name: unknown type strin`},
		{"missing.proto", `schema "missing.proto": file not found`},
		{"../kitchen.proto", `schema file "../kitchen.proto": want a relative path inside schemas/`},
		{"/etc/passwd", `schema file "/etc/passwd": want a relative path inside schemas/`},
	} {
		_, err := LoadSchema(badSchemas, tc.file)
		if err == nil || err.Error() != tc.want {
			t.Errorf("LoadSchema(%q):\n got %v\nwant %s", tc.file, err, tc.want)
		}
	}
}
