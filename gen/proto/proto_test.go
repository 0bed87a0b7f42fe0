package proto_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine/service"
	"github.com/kgen-dev/kgen/gen"
	"github.com/kgen-dev/kgen/gen/proto"
)

// update rewrites the goldens instead of comparing them: KGEN_UPDATE=1
// (any non-empty value), the one switch of every golden test.
var update = os.Getenv("KGEN_UPDATE") != ""

const featuresProto = "testdata/features/features.proto"

// goldenCases generate into testdata/<dir>. The server and client goldens
// are Go packages that the cmd/ programs beside them build and run
// (TestGoldensRun); each links its own copy of the proto types, so they
// are separate programs.
var goldenCases = []struct {
	dir  string
	opts proto.Options
}{
	{"features/service", proto.Options{Kind: proto.KindService, Proto: featuresProto}},
	{"features/server", proto.Options{Kind: proto.KindServer, Proto: featuresProto}},
	{"features/client", proto.Options{Kind: proto.KindClient, Proto: featuresProto, Package: "featuresclient"}},
	// Two services, REST, a schema in a sub-folder of the proto path.
	{"multi/service", proto.Options{Kind: proto.KindService, Proto: "testdata/multi/api/greeter.proto",
		ProtoPath: "testdata/multi", Name: "greetings", Protocol: "rest", Address: "http://127.0.0.1:9090/api"}},
}

// golden reports whether a generated file is kept as a golden: zips are
// binary and checked by TestServiceZip instead.
func golden(name string) bool { return !strings.HasSuffix(name, ".zip") }

func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", filepath.FromSlash(c.dir))
			files, err := proto.Generate(c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, data := range files {
					if golden(name) {
						if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			for name, data := range files {
				if !golden(name) {
					continue
				}
				old, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Errorf("%v (run KGEN_UPDATE=1 go test ./gen/proto)", err)
					continue
				}
				if !bytes.Equal(old, data) {
					t.Errorf("%s/%s is stale (run KGEN_UPDATE=1 go test ./gen/proto); generated:\n%s", dir, name, data)
				}
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
				if _, ok := files[e.Name()]; !ok && gen.IsGenerated(e.Name(), data) {
					t.Errorf("%s/%s carries the header but is no longer generated", dir, e.Name())
				}
			}
		})
	}
}

// The same input generates the same bytes, the zips included.
func TestDeterministic(t *testing.T) {
	for _, c := range goldenCases {
		a, err := proto.Generate(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := proto.Generate(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b))) {
			t.Fatalf("%s: files %v, then %v", c.dir, slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b)))
		}
		for name := range a {
			if !bytes.Equal(a[name], b[name]) {
				t.Errorf("%s: %s differs between two runs", c.dir, name)
			}
		}
	}
}

// Every generated Go file starts with kgen's header and carries no
// protoc-gen-go version line.
func TestHeaders(t *testing.T) {
	for _, kind := range []proto.Kind{proto.KindServer, proto.KindClient} {
		files, err := proto.Generate(proto.Options{Kind: kind, Proto: featuresProto})
		if err != nil {
			t.Fatal(err)
		}
		types, stubs := proto.GoFileNames(kind, "features")
		want := []string{"common_point.pb.go", types, stubs}
		slices.Sort(want)
		if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, want) {
			t.Errorf("%s files: %v, want %v", kind, got, want)
		}
		for name, data := range files {
			if !bytes.HasPrefix(data, []byte(gen.Header+"\n")) {
				t.Errorf("%s %s starts with %q", kind, name, data[:min(len(data), 60)])
			}
			if bytes.Contains(data, []byte("protoc-gen-go v")) || bytes.Contains(data, []byte("// versions:")) {
				t.Errorf("%s %s carries a version line", kind, name)
			}
		}
	}
}

// The zip holds the description and the schemas at their import paths,
// with fixed times, and installs into the engine's service registry.
func TestServiceZip(t *testing.T) {
	files, err := proto.Generate(proto.Options{Kind: proto.KindService, Proto: featuresProto, Address: "tcp://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	data := files["features.zip"]
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"features.json":              "",
		"schemas/common/point.proto": "testdata/features/common/point.proto",
		"schemas/features.proto":     featuresProto,
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if !f.Modified.Equal(zr.File[0].Modified) || f.Modified.Year() != 1980 {
			t.Errorf("%s: modified %v", f.Name, f.Modified)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		wantData := files["features.json"]
		if src, ok := want[f.Name]; ok && src != "" {
			wantData, _ = os.ReadFile(src)
		}
		if !bytes.Equal(got, wantData) {
			t.Errorf("%s: content differs:\n%s", f.Name, got)
		}
	}
	if wantNames := slices.Sorted(maps.Keys(want)); !slices.Equal(names, wantNames) {
		t.Errorf("entries %v, want %v", names, wantNames)
	}

	reg := service.NewRegistry(t.TempDir(), nil)
	defer reg.Close()
	if err := reg.AddZip("features", data); err != nil {
		t.Fatal(err)
	}
	var fns []string
	for _, f := range reg.Functions() {
		fns = append(fns, f.FuncName+"="+f.InterfaceName+"."+f.MethodName)
	}
	slices.Sort(fns)
	wantFns := "CreateBook=Bookstore.CreateBook CreateShelf=Bookstore.CreateShelf GetBook=Bookstore.GetBook " +
		"Greet=Bookstore.Greet ListBooks=Bookstore.ListBooks Reset=Bookstore.Reset"
	if got := strings.Join(fns, " "); got != wantFns {
		t.Errorf("functions: %s\nwant:      %s", got, wantFns)
	}
}

// A file with several services gives one interface per service, each
// limited to its own rpcs, and installs.
func TestServiceZipSeveralServices(t *testing.T) {
	files, err := proto.Generate(proto.Options{Kind: proto.KindService, Proto: "testdata/multi/api/greeter.proto",
		ProtoPath: "testdata/multi", Name: "greetings", Protocol: "rest", Address: "http://127.0.0.1:9090/api"})
	if err != nil {
		t.Fatal(err)
	}
	reg := service.NewRegistry(t.TempDir(), nil)
	defer reg.Close()
	if err := reg.AddZip("greetings", files["greetings.zip"]); err != nil {
		t.Fatal(err)
	}
	var fns []string
	for _, f := range reg.Functions() {
		fns = append(fns, f.FuncName+"="+f.InterfaceName+"."+f.MethodName)
	}
	if got, want := strings.Join(fns, " "), "SayGoodbye=Farewell.SayGoodbye SayHello=Greeter.SayHello"; got != want {
		t.Errorf("functions: %s\nwant:      %s", got, want)
	}
}

// Run writes the files, then rewrites only those that changed, and never
// overwrites a Go file kgen did not generate.
func TestRun(t *testing.T) {
	out := t.TempDir()
	opts := proto.Options{Kind: proto.KindServer, Proto: featuresProto, Out: out}
	res, err := proto.Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Written) != 3 || !slices.Equal(res.Files, res.Written) {
		t.Fatalf("first run: %+v", res)
	}
	if res, err = proto.Run(opts); err != nil || len(res.Written) != 0 || len(res.Files) != 3 {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	stub := filepath.Join(out, "features_kgen.go")
	if err := os.WriteFile(stub, []byte("// Code generated by kgen. DO NOT EDIT.\n\npackage stale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err = proto.Run(opts); err != nil || !slices.Equal(res.Written, []string{stub}) {
		t.Fatalf("run after a change: %+v, %v", res, err)
	}
	if err := os.WriteFile(stub, []byte("package mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = proto.Run(opts)
	if want := stub + " exists and was not generated by kgen; move it or choose another -out"; err == nil || err.Error() != want {
		t.Errorf("Run over a hand-written file: %v, want %s", err, want)
	}
	if data, _ := os.ReadFile(stub); string(data) != "package mine\n" {
		t.Errorf("the hand-written file was overwritten")
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		opts proto.Options
		want string
	}{
		{proto.Options{Kind: proto.KindService, Proto: "testdata/errors/streaming.proto"},
			"testdata/errors/streaming.proto:10:3: rpc kgen.errors.Chat.Talk: streaming rpcs are not supported (external functions are unary)"},
		{proto.Options{Kind: proto.KindServer, Proto: "testdata/errors/streaming.proto"},
			"testdata/errors/streaming.proto:10:3: rpc kgen.errors.Chat.Talk: streaming rpcs are not supported (external functions are unary)"},
		{proto.Options{Kind: proto.KindService, Proto: "testdata/errors/duplicate.proto"},
			"testdata/errors/duplicate.proto:16:3: rpc kgen.errors.Printer.Status has the same name as rpc kgen.errors.Scanner.Status at testdata/errors/duplicate.proto:11:3; " +
				"each rpc becomes a function named after it, so rpc names must be unique in a file"},
		{proto.Options{Kind: proto.KindClient, Proto: "testdata/errors/duplicate.proto"},
			"testdata/errors/duplicate.proto:16:3: rpc kgen.errors.Printer.Status has the same name as rpc kgen.errors.Scanner.Status at testdata/errors/duplicate.proto:11:3; " +
				"each rpc becomes a function named after it, so rpc names must be unique in a file"},
		{proto.Options{Kind: proto.KindService, Proto: "testdata/errors/syntax.proto"},
			"testdata/errors/syntax.proto:7:14: syntax error: expecting ';'"},
		{proto.Options{Kind: proto.KindServer, Proto: "testdata/errors/missing_import.proto"},
			"testdata/errors/missing_import.proto:5:8: open testdata/errors/nope/gone.proto: no such file or directory"},
		{proto.Options{Kind: proto.KindServer, Proto: "testdata/errors/no_rpc.proto"},
			"testdata/errors/no_rpc.proto: no service with an rpc"},
		{proto.Options{Kind: proto.KindServer, Proto: "testdata/errors/collision.proto"},
			"collision.pb.go declares ClockClient, which collision_kgen.go also declares, generated for service kgen.errors.Clock; rename one of the proto elements"},
		{proto.Options{Kind: proto.KindClient, Proto: "testdata/errors/collision.proto"},
			"collision.pb.go declares Now, which collision_kgen_client.go also declares, generated for rpc kgen.errors.Clock.Now; rename one of the proto elements"},
		{proto.Options{Kind: proto.KindService, Proto: "testdata/errors/missing.proto"},
			"testdata/errors/missing.proto: file not found"},
		{proto.Options{Kind: proto.KindService, Proto: "testdata/errors/streaming.txt"},
			"testdata/errors/streaming.txt: want a .proto file"},
		{proto.Options{Kind: proto.KindService, Proto: featuresProto, Protocol: "soap"},
			`protocol "soap": want "grpc" or "rest"`},
		{proto.Options{Kind: proto.KindService, Proto: featuresProto, Name: "../x"},
			`service name "../x": want letters, digits, _, - and .`},
		{proto.Options{Kind: proto.KindServer, Proto: featuresProto, Package: "my-pkg"},
			`package "my-pkg": want a Go identifier`},
		{proto.Options{Kind: proto.KindServer, Proto: featuresProto, ProtoPath: "testdata/multi"},
			"testdata/features/features.proto is not inside the proto path testdata/multi"},
		{proto.Options{Kind: "stub", Proto: featuresProto},
			`unknown kind "stub": want service, server or client`},
	}
	for _, c := range cases {
		files, err := proto.Generate(c.opts)
		got := "<nil>"
		if err != nil {
			got = err.Error()
		}
		if got != c.want || files != nil {
			t.Errorf("%s %s:\n got %s\nwant %s", c.opts.Kind, c.opts.Proto, got, c.want)
		}
	}
}

// goTool runs the go command in the package folder.
func goTool(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// The server and client goldens compile, pass vet and work: the server
// program serves the generated stub over gRPC (interceptor honoured) and
// REST and calls it through the generated typed client and over HTTP; this
// test calls its REST routes; the client program runs the generated
// function plugins against it, the address coming from a generated service
// description in the engine root.
func TestGoldensRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	pkgs := []string{"./testdata/features/server", "./testdata/features/client", "./testdata/features/cmd/server", "./testdata/features/cmd/client"}
	goTool(t, append([]string{"vet"}, pkgs...)...)
	bin := t.TempDir()
	goTool(t, "build", "-o", filepath.Join(bin, "server"), pkgs[2])
	goTool(t, "build", "-o", filepath.Join(bin, "client"), pkgs[3])

	ready := filepath.Join(bin, "ready")
	stdout, err := os.Create(filepath.Join(bin, "server.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	srv := exec.Command(filepath.Join(bin, "server"), "-ready", ready)
	srv.Stdout, srv.Stderr = stdout, stdout
	stdin, err := srv.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		if err := srv.Wait(); err != nil {
			out, _ := os.ReadFile(stdout.Name())
			t.Errorf("server: %v\n%s", err, out)
		}
	}()
	addrs := map[string]string{}
	deadline := time.Now().Add(time.Minute)
	for len(addrs) < 2 {
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(stdout.Name())
			t.Fatalf("the server did not write %s:\n%s", ready, out)
		}
		time.Sleep(10 * time.Millisecond)
		data, err := os.ReadFile(ready)
		if err != nil {
			continue
		}
		for _, l := range strings.Fields(string(data)) {
			k, v, _ := strings.Cut(l, "=")
			addrs[k] = v
		}
	}
	out, _ := os.ReadFile(stdout.Name())
	wantServer := `grpc GetBook: "Dune" by Frank Herbert, 412 pages
grpc Reset: Unimplemented
interceptor: /kgen.features.Bookstore/GetBook /kgen.features.Bookstore/Reset
http GET /v1/shelves/1/books/1: 200 {"authors":[{"aliases":["FH"],"name":"Frank Herbert"}],"cover":"yv4=","genre":"FICTION","id":"1","notes":[{"page":1,"text":"sand"}],"pages":412,"published":"1965-08-01T00:00:00Z","ratings":{"alice":5,"bob":4},"shelfPosition":{"x":1.5,"y":2},"subtitle":"a novel","title":"Dune"}
`
	if string(out) != wantServer {
		t.Errorf("server printed:\n%s\nwant:\n%s", out, wantServer)
	}

	base := "http://" + addrs["http"]
	for _, c := range []struct{ method, path, body, want string }{
		{"POST", "/v1/shelves", `{"theme":"sf"}`, `200 {"id":"2","theme":"sf"}`},
		// Replies carry every field, unset ones as zero values or null.
		{"POST", "/v1/shelves/2/books", `{"title":"Solaris"}`, `200 {"authors":[],"cover":"","genre":"GENRE_UNSPECIFIED","id":"1","notes":[],"published":null,"ratings":{},"shelfPosition":null,"subtitle":null,"title":"Solaris"}`},
		{"PUT", "/v1/shelves/2/books", `{"title":"Ubik"}`, `200 {"authors":[],"cover":"","genre":"GENRE_UNSPECIFIED","id":"2","notes":[],"published":null,"ratings":{},"shelfPosition":null,"subtitle":null,"title":"Ubik"}`}, // additional binding
		{"GET", "/v1/shelves/2/books", "", `200 {"books":[{"authors":[],"cover":"","genre":"GENRE_UNSPECIFIED","id":"1","notes":[],"published":null,"ratings":{},"shelfPosition":null,"subtitle":null,"title":"Solaris"},{"authors":[],"cover":"","genre":"GENRE_UNSPECIFIED","id":"2","notes":[],"published":null,"ratings":{},"shelfPosition":null,"subtitle":null,"title":"Ubik"}]}`},
		{"POST", "/Greet", `"http"`, `200 "hello, http"`}, // no http rule
		{"DELETE", "/v1/shelves", "", `501 {"code":12,"message":"method Reset not implemented"}`},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Errorf("%s %s: %v: %s", c.method, c.path, err, body)
			continue
		}
		norm, _ := json.Marshal(v)
		if got := fmt.Sprintf("%d %s", resp.StatusCode, norm); got != c.want {
			t.Errorf("%s %s: %s\nwant %s", c.method, c.path, got, c.want)
		}
	}

	// The engine root's service description, as kgen gen service writes it,
	// points the plugins at the server.
	root := t.TempDir()
	files, err := proto.Generate(proto.Options{Kind: proto.KindService, Proto: featuresProto, Address: "tcp://" + addrs["grpc"]})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "data", "services"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "data", "services", "features.json"), files["features.json"], 0o644); err != nil {
		t.Fatal(err)
	}
	cl := exec.Command(filepath.Join(bin, "client"), "-root", root)
	got, err := cl.CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v\n%s", err, got)
	}
	wantClient := `registered: [createBook createShelf getBook greet listBooks reset]
constructor GetBook aggregate: false
getBook(1, 1) = map[authors:[map[aliases:[FH] name:Frank Herbert]] cover:[202 254] genre:FICTION id:1 notes:[map[page:1 text:sand]] pages:412 published:1965-08-01 00:00:00 +0000 UTC ratings:map[alice:5 bob:4] shelf_position:map[x:1.5 y:2] subtitle:a novel title:Dune] (ok=true)
greet("exec") = hello, exec (ok=true)
createShelf({theme}) = map[id:3 theme:poetry] (ok=true)
createBook(3, {...}) = map[authors:[map[aliases:[] name:Keats]] cover:[] genre:SCIENCE id:1 minutes:90.5 notes:[] published:2001-02-03 04:05:06 +0000 UTC ratings:map[carol:3] shelf_position:<nil> subtitle:<nil> title:Odes] (ok=true)
listBooks(3) = map[books:[map[authors:[map[aliases:[] name:Keats]] cover:[] genre:SCIENCE id:1 minutes:90.5 notes:[] published:2001-02-03 04:05:06 +0000 UTC ratings:map[carol:3] shelf_position:<nil> subtitle:<nil> title:Odes]]] (ok=true)
getBook(1, 99) = function "getBook": call /kgen.features.Bookstore/GetBook at ADDR: rpc error: code = NotFound desc = shelf 1 has no book 99 (ok=false)
reset() = function "reset": call /kgen.features.Bookstore/Reset at ADDR: rpc error: code = Unimplemented desc = method Reset not implemented (ok=false)
getBook("one", 1) = function "getBook": field "shelf": want int64, got string "one" (ok=false)
validate getBook(1, 2, 3): function "getBook": want 2 arguments (shelf, book) or one map, got 3 arguments
validate getBook(row): <nil>
validate greet(1): function "greet": field "value": want string, got int64 1
validate reset(): <nil>
validate reset(x): function "reset": want no arguments, got 1 argument
`
	if s := strings.ReplaceAll(string(got), addrs["grpc"], "ADDR"); s != wantClient {
		t.Errorf("client printed:\n%s\nwant:\n%s", s, wantClient)
	}
}

// Generated servers and clients build in a module that requires only
// kgen's small public packages: neither they nor svc, the contract they
// import, depend on the engine, its MQTT broker, its store or the .proto
// compiler.
func TestGeneratedDependencies(t *testing.T) {
	pkgs := []string{"github.com/kgen-dev/kgen/svc", "./testdata/features/server", "./testdata/features/client",
		"github.com/kgen-dev/kgen/examples/aiservice"}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Each line is a package and what it imports, to name the importer of
	// a package that should not be there.
	cmd := exec.CommandContext(ctx, "go", append([]string{"list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`}, pkgs...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, errStderr(err))
	}
	importers := map[string][]string{}
	var deps []string
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		deps = append(deps, fields[0])
		for _, imp := range fields[1:] {
			importers[imp] = append(importers[imp], fields[0])
		}
	}
	if !slices.Contains(deps, "github.com/kgen-dev/kgen/svc") {
		t.Fatalf("go list found no svc in:\n%s", out)
	}
	bad := func(pkg string) bool {
		return strings.Contains(pkg+"/", "/engine/") || strings.Contains(pkg, "mochi-mqtt") ||
			strings.Contains(pkg, "bbolt") || strings.Contains(pkg, "protocompile")
	}
	good := func(pkg string) bool { return !bad(pkg) }
	// Report where the bad part of the graph is entered, not all of it.
	for _, dep := range deps {
		if bad(dep) && (len(importers[dep]) == 0 || slices.ContainsFunc(importers[dep], good)) {
			t.Errorf("%s is a dependency (imported by %s)", dep, strings.Join(importers[dep], ", "))
		}
	}
}

// errStderr is the standard error of a failed command, if it kept it.
func errStderr(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}

// With Module, a server generated outside any module builds there with
// go build, as it is: Run writes go.mod (requiring this kgen, by a replace
// directive to its source tree) and tidies it.
func TestRunModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy and go build")
	}
	out := t.TempDir()
	opts := proto.Options{Kind: proto.KindServer, Proto: featuresProto, Out: out, Module: "example.com/features"}
	if _, err := proto.Run(opts); err != nil {
		t.Fatal(err)
	}
	repo, _ := filepath.Abs(filepath.Join("..", ".."))
	mod, _ := os.ReadFile(filepath.Join(out, "go.mod"))
	if !strings.HasPrefix(string(mod), "module example.com/features\n\ngo ") || !strings.Contains(string(mod), "\nreplace github.com/kgen-dev/kgen => "+repo+"\n") {
		t.Errorf("go.mod:\n%s", mod)
	}
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = out
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), out, err, b)
		}
	}
	// Run again: the module is kept.
	if _, err := proto.Run(opts); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(filepath.Join(out, "go.mod")); !bytes.Equal(again, mod) {
		t.Errorf("go.mod changed on the second run:\n%s", again)
	}
	opts.Module = "example.com/other"
	_, err := proto.Run(opts)
	if want := filepath.Join(out, "go.mod") + ` declares module "example.com/features", want "example.com/other": remove it or choose another -out`; err == nil || err.Error() != want {
		t.Errorf("another module: %v\nwant %s", err, want)
	}
}

// Module is checked before anything is written.
func TestRunModuleErrors(t *testing.T) {
	out := t.TempDir()
	for _, c := range []struct {
		opts proto.Options
		want string
	}{
		{proto.Options{Kind: proto.KindService, Proto: featuresProto, Out: out, Module: "example.com/x"},
			`module "example.com/x": a service description is not Go code; a module is for a server or client`},
		{proto.Options{Kind: proto.KindClient, Proto: featuresProto, Out: out, Module: "example.com/a b"},
			`invalid module path "example.com/a b": want slash-separated elements of ASCII letters, digits and -._~`},
	} {
		if _, err := proto.Run(c.opts); err == nil || err.Error() != c.want {
			t.Errorf("%+v: %v\nwant %s", c.opts, err, c.want)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("wrote %d files", len(entries))
	}
}
