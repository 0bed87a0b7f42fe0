package kgencli

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/kgen-dev/kgen/gen/markers"
	"github.com/kgen-dev/kgen/gen/openapi"
	"github.com/kgen-dev/kgen/gen/proto"
)

var genCmd = &command{
	name: "gen",
	args: `[-check | -clean] [-v] [packages]
service <file.proto> [-out DIR] [-name N] [-protocol grpc|rest] [-address A] [-proto-path DIR]
service -reflect tcp://host:port [-out DIR] [-name N] [-protocol grpc|rest] [-address A]
server <file.proto> [-out DIR] [-package P] [-module M] [-proto-path DIR]
client <file.proto> [-out DIR] [-package P] [-module M] [-name N] [-address A] [-proto-path DIR]
service|server|client <api.yaml|api.json> [-out DIR] [-name N] [-address A] [-package P] [-module M]`,
	summary: "generate plugin wrappers and metadata from //kgen: markers, or service files from a .proto or OpenAPI document",
	help: `
Gen reads the packages (default ".", patterns like ./... allowed), finds the
//kgen:function, //kgen:source and //kgen:sink markers and writes, per
package, kgen.gen.go (the sdk adapters, the exported constructors and their
registration) and, per plugin, <name>.json (metadata) and, per source,
<name>.yaml (default configuration). Files are only rewritten when their
bytes change; generated files no plugin produces any more are removed.

A marker error, an unsupported type or a name collision is reported with
its position and nothing is written.

With -check, nothing is written: the stale, missing and orphaned files are
listed and gen exits with status 1 if there are any. With -clean, every
file carrying kgen's header in the packages' folders is removed.

In a package, use it with go generate through kgen-gen, this form of kgen
gen alone (it does not link the engine, so it builds in seconds):

	//go:generate go run github.com/kgen-dev/kgen/cmd/kgen-gen

or, with "tool github.com/kgen-dev/kgen/cmd/kgen" in go.mod, "go tool kgen gen".

From one .proto file (compiled as the engine compiles service schemas, with
google/protobuf and google/api built in; flags may follow the file), into
-out (default "."), where <base> is the file's name without ".proto":

  - service writes <N>.json, the external service description (one
    interface per proto service, one function per rpc, named after it;
    -address defaults to 127.0.0.1:50051 for grpc, http://127.0.0.1:8080
    for rest), and <N>.zip, ready for kgen service create: <N>.json and
    schemas/ with the file and the local files it imports. N is -name,
    default <base>.
  - server writes <base>.pb.go (the message types, as protoc-gen-go writes
    them; each imported local file adds one) and <base>_kgen.go: per
    service X, the XServer interface, UnimplementedXServer, RegisterXServer
    (gRPC), NewXClient and NewXRESTHandler, which serves the same
    implementation over HTTP as the engine's REST client calls it.
  - client writes <base>.pb.go and <base>_kgen_client.go: per rpc, a
    native function plugin named after it with a lower-case first letter,
    that calls the rpc over gRPC at -address (default 127.0.0.1:50051), or
    at the address of <root>/data/services/<N>.json when the engine has it.

With -reflect instead of a file, service asks the gRPC server at that
address for its services through server reflection (the reflection and
health services left out) and writes <N>.json, <N>.zip and the .proto
files that declare them, printed at their import paths (google/protobuf
and google/api are built in and left out; comments do not travel by
reflection). The description names the printed files (schemaType
"protobuf"), so it installs on any engine. N defaults to the last element
of the first service's package (by full name); -address to the server's.
An engine can also learn a service's rpcs from its server each time it
loads it, with no files: an interface of schemaType "reflection".

-package sets the Go package name (default: the go_package option's, else
<base>). -module M makes -out a module of its own, for server and client
code kept outside the user's module: it writes <out>/go.mod for module M
requiring this kgen (with a replace directive when kgen is a source tree)
and runs go mod tidy, so that go build works there with no edits. Imports resolve from -proto-path (default the file's folder), the
folder the schema paths in <N>.json are relative to. Streaming rpcs, and
for service and client two rpcs of one name, are refused with their
positions; so are .proto syntax errors.

From an OpenAPI 3 document (a file ending .yaml, .yml or .json, read as
the engine reads it; -protocol and -proto-path do not apply), the same
three forms write:

  - service: <N>.json, one REST interface (schemaType "openapi") with a
    function per operation, named after its operationId, at -address
    (default: the document's first server URL), and <N>.zip with <N>.json
    and schemas/<document>.
  - server: <base>_kgen.go, Go types for the schemas, a Handler interface
    with one method per operation, and NewHandler, a net/http server of it
    that validates each request against the document (400 naming the
    parameter) and answers JSON.
  - client: <base>_kgen_client.go, a native function plugin per operation
    (operationId with a lower-case first letter) that calls it at -address,
    or at the address of <root>/data/services/<N>.json when the engine has
    it.

Operations kgen cannot call (no operationId, non-JSON bodies, cookie
parameters, ...) are left out with a warning naming each.`,
	example: `
kgen gen
kgen gen ./...
kgen gen -check ./examples/...
kgen gen service features.proto -out build
kgen gen service -reflect tcp://127.0.0.1:50051 -name ai -out build
kgen gen server features.proto -out server -package bookstore
kgen gen client features.proto -out client -address 10.0.0.5:50051
kgen gen server shop.yaml -out server -package shop`,
	setup: func(fs *flag.FlagSet) runFunc {
		check := fs.Bool("check", false, "list stale generated files and fail if there are any; write nothing")
		clean := fs.Bool("clean", false, "remove the generated files")
		verbose := fs.Bool("v", false, "list the files written and removed")
		var po proto.Options
		fs.StringVar(&po.Out, "out", "", "service|server|client: write into `DIR` (default \".\")")
		fs.StringVar(&po.Name, "name", "", "service|client: the service name `N` (default: the .proto file's base name)")
		fs.StringVar(&po.Address, "address", "", "service|client: the service address `A`")
		fs.StringVar(&po.Protocol, "protocol", "", "service: the protocol, `grpc|rest` (default grpc)")
		fs.StringVar(&po.Package, "package", "", "server|client: the Go package name `P`")
		fs.StringVar(&po.ProtoPath, "proto-path", "", "service|server|client: resolve imports from `DIR` (default: the .proto file's folder)")
		fs.StringVar(&po.Module, "module", "", "server|client: make -out the root of module `M` (write go.mod, go mod tidy)")
		fs.StringVar(&po.Reflect, "reflect", "", "service: ask the gRPC server at `tcp://host:port` for its services instead of reading a .proto file")
		return func(c *cli, args []string) error {
			if len(args) > 0 && slices.Contains(proto.Kinds, proto.Kind(args[0])) {
				po.Kind = proto.Kind(args[0])
				pos, err := parseInterleaved(fs, args[1:])
				if err != nil {
					return err
				}
				if err := checkGenFlags(fs, po.Kind); err != nil {
					return err
				}
				switch {
				case po.Reflect != "" && len(pos) > 0:
					return usageErrorf("-reflect asks a server instead of reading a .proto file, got %q too", pos[0])
				case po.Reflect == "" && len(pos) != 1:
					return usageErrorf("want one .proto file or OpenAPI document, got %d arguments", len(pos))
				case po.Reflect == "" && openapi.IsDocument(pos[0]):
					return genOpenAPI(c, fs, po, pos[0], *verbose)
				case po.Reflect == "":
					po.Proto = pos[0]
				}
				res, err := proto.Run(po)
				if err != nil {
					return err
				}
				if *verbose {
					for _, f := range res.Written {
						fmt.Fprintln(c.stdout, "wrote", f)
					}
				}
				return nil
			}
			if err := checkGenFlags(fs, ""); err != nil {
				return err
			}
			if *check && *clean {
				return usageErrorf("-check and -clean exclude each other")
			}
			res, err := markers.Run(markers.Options{Patterns: args, Check: *check, Clean: *clean})
			if err != nil {
				return err
			}
			if *check {
				for _, f := range res.Stale {
					fmt.Fprintln(c.stdout, f)
				}
				if n := len(res.Stale); n > 0 {
					return fmt.Errorf("%d generated file%s stale; run kgen gen", n, map[bool]string{true: " is", false: "s are"}[n == 1])
				}
				return nil
			}
			if *verbose {
				for _, f := range res.Written {
					fmt.Fprintln(c.stdout, "wrote", f)
				}
				for _, f := range res.Removed {
					fmt.Fprintln(c.stdout, "removed", f)
				}
			}
			return nil
		}
	},
}

// genFlags are the flags each form of kgen gen takes ("" is the packages
// form).
var genFlags = map[proto.Kind][]string{
	"":                {"check", "clean", "v"},
	proto.KindService: {"out", "name", "address", "protocol", "proto-path", "reflect", "v"},
	proto.KindServer:  {"out", "package", "module", "proto-path", "v"},
	proto.KindClient:  {"out", "package", "module", "name", "address", "proto-path", "v"},
}

// checkGenFlags refuses a flag that was set but does not apply to kind.
func checkGenFlags(fs *flag.FlagSet, kind proto.Kind) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err != nil || slices.Contains(genFlags[kind], f.Name) {
			return
		}
		var forms []string
		for _, k := range append([]proto.Kind{""}, proto.Kinds...) {
			if slices.Contains(genFlags[k], f.Name) {
				forms = append(forms, "kgen gen "+string(cmp.Or(k, "[packages]")))
			}
		}
		err = usageErrorf("-%s applies to %s only", f.Name, strings.Join(forms, ", "))
	})
	return err
}

// parseInterleaved parses flags before, between and after the positional
// arguments, and returns them.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err // Run prints the usage
			}
			return nil, usageErrorf("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	return pos, nil
}

// genOpenAPI runs kgen gen service|server|client on an OpenAPI document:
// the flags po carries, less the .proto ones; skipped operations are
// warned about on stderr.
func genOpenAPI(c *cli, fs *flag.FlagSet, po proto.Options, file string, verbose bool) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err == nil && (f.Name == "protocol" || f.Name == "proto-path") {
			err = usageErrorf("-%s applies to .proto files only", f.Name)
		}
	})
	if err != nil {
		return err
	}
	res, err := openapi.Run(openapi.Options{Kind: po.Kind, File: file, Name: po.Name, Address: po.Address, Package: po.Package, Out: po.Out, Module: po.Module})
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(c.stderr, "warning:", w)
	}
	if verbose {
		for _, f := range res.Written {
			fmt.Fprintln(c.stdout, "wrote", f)
		}
	}
	return nil
}
