package service

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

// readSchemas reads files of the test schemas.
func readSchemas(t testing.TB, files ...string) map[string][]byte {
	t.Helper()
	return readSchemasIn(t, testSchemas, files...)
}

func readSchemasIn(t testing.TB, dir string, files ...string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

const kitchenJSON = `{"interfaces": {"kitchen": {"address": "tcp://localhost:50051", "protocol": "grpc",
  "schemaType": "protobuf", "schemaFile": "kitchen.proto",
  "functions": [{"name": "getFeature", "serviceName": "GetFeature"},
    {"name": "kitchenNow", "serviceName": "Now"}, {"name": "kitchenUpper", "serviceName": "Upper"}]}}}`

const bookJSON = `{"interfaces": {"books": {"address": "http://localhost:8080", "protocol": "rest",
  "schemaFile": "bookstore.proto"}, "any": {"address": "http://localhost:8081", "protocol": "rest", "schemaless": true}}}`

func newTestRegistry(t *testing.T) (*Registry, string) {
	t.Helper()
	root := t.TempDir()
	r := NewRegistry(root, nil)
	if errs := r.Load(); len(errs) != 0 {
		t.Fatal(errs)
	}
	t.Cleanup(func() { r.Close() })
	return r, root
}

func funcNames(r *Registry) string {
	var names []string
	for _, f := range r.Functions() {
		names = append(names, f.FuncName+"="+f.ServiceName+"/"+f.InterfaceName+"/"+f.MethodName)
	}
	return strings.Join(names, " ")
}

func TestRegistry(t *testing.T) {
	r, root := newTestRegistry(t)
	kitchen := readSchemas(t, "kitchen.proto", "common/point.proto")
	if err := r.Add("kitchen", []byte(kitchenJSON), kitchen); err != nil {
		t.Fatal(err)
	}
	if err := r.Add("books", []byte(bookJSON), readSchemas(t, "bookstore.proto")); err != nil {
		t.Fatal(err)
	}
	want := "CreateBook=books/books/CreateBook CreateShelf=books/books/CreateShelf Echo=kitchen/kitchen/Echo " +
		"GetBook=books/books/GetBook ListShelves=books/books/ListShelves Locate=kitchen/kitchen/Locate " +
		"MakeFeature=kitchen/kitchen/MakeFeature Ping=kitchen/kitchen/Ping " +
		"Size=kitchen/kitchen/Size any=books/any/ getFeature=kitchen/kitchen/GetFeature " +
		"kitchenNow=kitchen/kitchen/Now kitchenUpper=kitchen/kitchen/Upper"
	if got := funcNames(r); got != want {
		t.Errorf("functions:\n got %s\nwant %s", got, want)
	}
	if got := strings.Join(r.Services(), ","); got != "books,kitchen" {
		t.Errorf("services: %s", got)
	}
	d, err := r.Get("kitchen")
	if err != nil || d.Interfaces["kitchen"].SchemaFile != "kitchen.proto" {
		t.Errorf("get: %v, %v", d, err)
	}
	for _, f := range []string{"kitchen.json", "books.json", "schemas/kitchen.proto", "schemas/common/point.proto", "schemas/bookstore.proto"} {
		if _, err := os.Stat(filepath.Join(root, "data", "services", f)); err != nil {
			t.Error(err)
		}
	}

	// A rule made now keeps getFeature(id) after the update renames it.
	old, ok := r.Function("getFeature")
	if !ok {
		t.Fatal("no getFeature")
	}
	updated := strings.Replace(kitchenJSON, `"getFeature"`, `"feature"`, 1)
	if err := r.Update("kitchen", []byte(updated), nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Function("getFeature"); ok {
		t.Error("getFeature still there after update")
	}
	if _, ok := r.Function("feature"); !ok {
		t.Error("feature missing after update")
	}
	if err := old.Validate([]sdk.Arg{{Kind: sdk.ArgLiteral, Value: int64(1)}}); err != nil {
		t.Errorf("old function: %v", err)
	}

	// Restart: the files on disk give the same functions.
	r2 := NewRegistry(root, nil)
	if errs := r2.Load(); len(errs) != 0 {
		t.Fatal(errs)
	}
	if got, want := funcNames(r2), funcNames(r); got != want {
		t.Errorf("after load:\n got %s\nwant %s", got, want)
	}

	if err := r.Delete("kitchen"); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Function("feature"); ok {
		t.Error("feature still there after delete")
	}
	if _, err := os.Stat(filepath.Join(root, "data", "services", "kitchen.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("kitchen.json after delete: %v", err)
	}
	if err := old.Validate([]sdk.Arg{{Kind: sdk.ArgLiteral, Value: int64(1)}}); err != nil {
		t.Errorf("old function after delete: %v", err)
	}
}

func TestRegistryErrors(t *testing.T) {
	r, root := newTestRegistry(t)
	kitchen := readSchemas(t, "kitchen.proto", "common/point.proto")
	if err := r.Add("kitchen", []byte(kitchenJSON), kitchen); err != nil {
		t.Fatal(err)
	}
	iface := func(body string) string {
		return `{"interfaces": {"i": {"address": "tcp://h:1", "protocol": "grpc", ` + body + `}}}`
	}
	// kitchen.proto's Now and Upper have the names of SQL built-ins.
	const renames = `{"name": "iNow", "serviceName": "Now"}, {"name": "iUpper", "serviceName": "Upper"}`
	for _, tc := range []struct {
		name, desc string
		schemas    map[string][]byte
		want       string
	}{
		{"kitchen", kitchenJSON, nil, `add service "kitchen": already exists`},
		{"other", kitchenJSON, nil, `add service "other": function "Echo" is already defined by service "kitchen"`},
		{"other", iface(`"schemaFile": "kitchen.proto", "functions": [{"name": "x", "serviceName": "Nope"}, ` + renames + `]`), nil,
			`add service "other": interface "i": function "x": no rpc "Nope" in kitchen.proto`},
		{"other", iface(`"schemaFile": "kitchen.proto", "functions": [{"name": "getFeature", "serviceName": "Echo"}, ` + renames + `]`), nil,
			`add service "other": function "getFeature" is already defined by service "kitchen"`},
		{"other", iface(`"schemaFile": "kitchen.proto", "functions": [{"name": "Ping", "serviceName": "Echo"}, ` + renames + `]`), nil,
			`add service "other": interface "i": function "Ping" is both rpc "Echo" and rpc "Ping"`},
		{"other", `{"interfaces": {"i": {"adress": "x"}}}`, nil,
			`add service "other": parse description: line 1, column 23: interfaces.i: unknown key "adress", did you mean "address"?`},
		{"other", `{"interfaces": `, nil, `add service "other": parse description: unexpected EOF`},
		{"other", `{"interfaces": {}}`, nil, `add service "other": no interfaces`},
		{"other", iface(`"schemaFile": "broken.proto"`), readSchemasIn(t, badSchemas, "broken.proto"),
			`add service "other": interface "i": schema broken.proto:5:3: field kgen.test.broken.Broken.name: unknown type strin`},
		{"other", iface(`"schemaFile": "gone.proto"`), nil, `add service "other": interface "i": schema "gone.proto": file not found`},
		{"other", `{"interfaces": {"i": {"address": "tcp://h:1", "protocol": "msgpack-rpc", "schemaFile": "kitchen.proto"}}}`, nil,
			`add service "other": interface "i": protocol "msgpack-rpc" is not supported, want "grpc" or "rest"`},
		{"other", iface(`"schemaless": true`), nil, `add service "other": interface "i": schemaless needs protocol "rest"`},
		{"other", iface(`"schemaType": "protobuf"`), nil, `add service "other": interface "i": missing schemaFile`},
		{"other", iface(`"schemaFile": "x.proto"`), map[string][]byte{"../x.proto": nil},
			`add service "other": schema file "../x.proto": want a relative path inside schemas/`},
		{"../evil", kitchenJSON, nil, `add service: service name "../evil": want letters, digits, _, - and .`},
		{"other", iface(`"schemaFile": "kitchen.proto"`), map[string][]byte{"kitchen.proto": []byte("syntax = \"proto3\";\nservice S { rpc Echo(E) returns (E); }\nmessage E {}\n")},
			`add service "other": function "Echo" is already defined by service "kitchen"`},
	} {
		err := r.Add(tc.name, []byte(tc.desc), tc.schemas)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Add(%s, %s):\n got %v\nwant %s", tc.name, tc.desc, err, tc.want)
		}
	}
	if err := r.Update("nope", []byte(kitchenJSON), nil); err == nil || err.Error() != `update service "nope": not found` || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("update: %v", err)
	}
	if err := r.UpdateZip("nope", nil); err == nil || err.Error() != `update service "nope": not found` || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("update zip: %v", err)
	}
	if err := r.Delete("nope"); err == nil || err.Error() != `delete service "nope": not found` || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("delete: %v", err)
	}
	if _, err := r.Get("nope"); err == nil || err.Error() != `service "nope": not found` || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("get: %v", err)
	}
	if err := r.Add("kitchen", []byte(kitchenJSON), nil); !errors.Is(err, fs.ErrExist) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("add a taken name: %v, want an error that matches fs.ErrExist", err)
	}
	// A changed schema that another service uses is refused.
	changed := map[string][]byte{"kitchen.proto": []byte("syntax = \"proto3\";\nservice T { rpc Other(E) returns (E); }\nmessage E {}\n")}
	if err := r.Add("other", []byte(iface(`"schemaFile": "kitchen.proto"`)), changed); err == nil ||
		err.Error() != `add service "other": schema "kitchen.proto" is used by service "kitchen" and would change` {
		t.Errorf("shared schema: %v", err)
	}
	// So is a changed file that another service's schema imports.
	point := map[string][]byte{"common/point.proto": []byte("syntax = \"proto3\";\npackage common;\nservice P { rpc Other(E) returns (E); }\nmessage E {}\n")}
	if err := r.Add("other", []byte(iface(`"schemaFile": "common/point.proto"`)), point); err == nil ||
		err.Error() != `add service "other": schema "common/point.proto" is imported by "kitchen.proto" of service "kitchen" and would change` {
		t.Errorf("imported schema: %v", err)
	}
	if got := strings.Join(r.Services(), ","); got != "kitchen" {
		t.Errorf("services after failures: %s", got)
	}

	// Bad files on disk are skipped at load.
	dir := filepath.Join(root, "data", "services")
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{`), 0o644)
	os.WriteFile(filepath.Join(dir, "twin.json"), []byte(kitchenJSON), 0o644)
	r2 := NewRegistry(root, nil)
	errs := r2.Load()
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := `service "bad": parse description: unexpected EOF; load service "twin": function "Echo" is already defined by service "kitchen"`
	if strings.Join(got, "; ") != want {
		t.Errorf("load errors:\n got %s\nwant %s", strings.Join(got, "; "), want)
	}
	if got := strings.Join(r2.Services(), ","); got != "kitchen" {
		t.Errorf("loaded: %s", got)
	}
}

func TestFunctionValidate(t *testing.T) {
	r, _ := newTestRegistry(t)
	if err := r.Add("kitchen", []byte(kitchenJSON), readSchemas(t, "kitchen.proto", "common/point.proto")); err != nil {
		t.Fatal(err)
	}
	if err := r.Add("books", []byte(bookJSON), readSchemas(t, "bookstore.proto")); err != nil {
		t.Fatal(err)
	}
	lit := func(v any) sdk.Arg { return sdk.Arg{Kind: sdk.ArgLiteral, Value: v} }
	field := sdk.Arg{Kind: sdk.ArgField, Name: "x"}
	star := sdk.Arg{Kind: sdk.ArgWildcard}
	for _, tc := range []struct {
		fn   string
		args []sdk.Arg
		want string
	}{
		{"getFeature", []sdk.Arg{lit(int64(1))}, ``},
		{"getFeature", []sdk.Arg{field}, ``},
		{"getFeature", []sdk.Arg{lit("x")}, `function "getFeature": field "id": want int64, got string "x"`},
		{"getFeature", nil, `function "getFeature": want 1 argument (id), got no arguments`},
		{"MakeFeature", []sdk.Arg{star}, ``},
		{"MakeFeature", []sdk.Arg{field, lit("n"), lit(1.5)}, ``},
		{"MakeFeature", []sdk.Arg{field, lit(int64(1))}, `function "MakeFeature": want 3 arguments (id, name, score) or one map, got 2 arguments`},
		{"MakeFeature", []sdk.Arg{field, lit(true), field}, `function "MakeFeature": field "name": want string, got bool true`},
		{"MakeFeature", []sdk.Arg{lit("x")}, `function "MakeFeature": want 3 arguments (id, name, score) or one map, got 1 argument`},
		{"Ping", nil, ``},
		{"Ping", []sdk.Arg{lit(int64(1))}, `function "Ping": want no arguments, got 1 argument`},
		{"Size", []sdk.Arg{{Kind: sdk.ArgWildcard, Text: "self"}}, ``},
		{"any", []sdk.Arg{lit("get"), lit("/x"), field}, ``},
		{"any", []sdk.Arg{lit("get")}, `any: want at least 2 arguments, got 1`},
		{"any", []sdk.Arg{lit(int64(1)), lit("/x")}, `function "any": argument 1 (method): want string, got int64 1`},
	} {
		f, ok := r.Function(tc.fn)
		if !ok {
			t.Fatalf("no function %s", tc.fn)
		}
		err := f.Validate(tc.args)
		if got := errString(err); got != tc.want {
			t.Errorf("%s%v:\n got %s\nwant %s", tc.fn, tc.args, got, tc.want)
		}
	}
	// Exec fails before any call when the arguments do not fit.
	f, _ := r.Function("getFeature")
	res, ok := f.Exec(nil, []any{"x"})
	if ok || errString(res.(error)) != `function "getFeature": field "id": want int64, got string "x"` {
		t.Errorf("exec: %v, %v", res, ok)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func makeZip(t testing.TB, files map[string]string, symlink string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		if name == symlink {
			h.SetMode(fs.ModeSymlink | 0o777)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[name]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAddZip(t *testing.T) {
	r, _ := newTestRegistry(t)
	s := readSchemas(t, "kitchen.proto", "common/point.proto")
	good := map[string]string{"kitchen.json": kitchenJSON, "schemas/kitchen.proto": string(s["kitchen.proto"]),
		"schemas/common/point.proto": string(s["common/point.proto"]), "schemas/": ""}
	if err := r.AddZip("kitchen", makeZip(t, good, "")); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Function("getFeature"); !ok {
		t.Error("no getFeature after zip")
	}
	for _, tc := range []struct {
		files   map[string]string
		symlink string
		want    string
	}{
		{map[string]string{"z.json": kitchenJSON, "../x.proto": ""}, "", `add service "z": zip entry "../x.proto": ".." is not allowed`},
		{map[string]string{"z.json": kitchenJSON, "/x.proto": ""}, "", `add service "z": zip entry "/x.proto": absolute paths are not allowed`},
		{map[string]string{"z.json": kitchenJSON, "schemas/l.proto": "/etc/passwd"}, "schemas/l.proto", `add service "z": zip entry "schemas/l.proto": symbolic links are not allowed`},
		{map[string]string{"z.json": kitchenJSON, "install.sh": ""}, "", `add service "z": zip entry "install.sh": want z.json or schemas/**`},
		{map[string]string{"schemas/a.proto": ""}, "", `add service "z": zip has no z.json`},
	} {
		err := r.AddZip("z", makeZip(t, tc.files, tc.symlink))
		if got := errString(err); got != tc.want {
			t.Errorf("AddZip:\n got %s\nwant %s", got, tc.want)
		}
	}
	many := map[string]string{"z.json": kitchenJSON}
	for i := range 1000 {
		many[fmt.Sprintf("schemas/f%d.proto", i)] = ""
	}
	if err := r.AddZip("z", makeZip(t, many, "")); errString(err) != `add service "z": zip has 1001 entries, more than the limit of 1000` {
		t.Errorf("1001 entries: %v", err)
	}
	if err := r.AddZip("z", []byte("not a zip")); errString(err) != `add service "z": open zip: zip: not a valid zip file` {
		t.Errorf("not a zip: %v", err)
	}
}

// Interfaces may each take some of the services of one schema file; left
// unset, an interface takes all of them (eKuiper's behaviour), so two
// interfaces on one file define every function twice.
func TestRegistryInterfaceServices(t *testing.T) {
	r, _ := newTestRegistry(t)
	schema := map[string][]byte{"two.proto": []byte(`syntax = "proto3";
package two;
import "google/protobuf/empty.proto";
service A { rpc Ping(google.protobuf.Empty) returns (google.protobuf.Empty); }
service B { rpc Pong(google.protobuf.Empty) returns (google.protobuf.Empty); }
`)}
	iface := func(name, addr, services string) string {
		return `"` + name + `": {"address": "` + addr + `", "protocol": "grpc", "schemaFile": "two.proto"` + services + `}`
	}
	both := `{"interfaces": {` + iface("A", "tcp://127.0.0.1:1", "") + `, ` + iface("B", "tcp://127.0.0.1:2", "") + `}}`
	err := r.Add("two", []byte(both), schema)
	if want := `add service "two": function "Ping" is defined by interfaces "A" and "B"`; errString(err) != want {
		t.Errorf("two interfaces on all services: %v\nwant %s", err, want)
	}
	split := `{"interfaces": {` + iface("A", "tcp://127.0.0.1:1", `, "services": ["A"]`) + `, ` +
		iface("B", "tcp://127.0.0.1:2", `, "services": ["two.B"]`) + `}}`
	if err := r.Add("two", []byte(split), schema); err != nil {
		t.Fatal(err)
	}
	if got, want := funcNames(r), "Ping=two/A/Ping Pong=two/B/Pong"; got != want {
		t.Errorf("functions = %s, want %s", got, want)
	}
	bad := `{"interfaces": {` + iface("A", "tcp://127.0.0.1:1", `, "services": ["C"]`) + `}}`
	err = r.Add("bad", []byte(bad), nil)
	if want := `add service "bad": interface "A": services: no service "C" in two.proto`; errString(err) != want {
		t.Errorf("unknown service: %v\nwant %s", err, want)
	}
}
