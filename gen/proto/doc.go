// Package proto generates, from one .proto file, what an external service
// of the kgen engine needs: its service description and installable zip, a
// gRPC + REST server stub, and a client made of native function plugins.
// `kgen gen service|server|client <file.proto>` calls it. Generated Go
// imports the sdk and svc (the public contract of external services),
// never the engine.
//
// The pipeline is load → model → emit:
//
//   - load.go compiles the file with service.LoadSchema, the engine's own
//     loader (well-known types and google/api built in), so whatever
//     generates also installs; errors name file:line:col. It refuses
//     streaming rpcs (external functions are unary) and, where rpcs become
//     functions, two rpcs of one name.
//   - describe.go writes the service description (svc.Description) and
//     the zip.
//   - pbgo.go runs protoc-gen-go as a library (protogen and internal_gengo)
//     on the compiled descriptors, with no protoc: the file and its local
//     imports go into one Go package, built-in files map to their standard
//     Go packages. Its protogen model gives every Go name; names.go computes
//     the stub identifiers once, and emit_server.go and emit_client.go print
//     the stubs with jennifer.
//
// # Files
//
// Generate returns files by name; Run writes them into a folder, rewriting
// only changed ones. Here <base> is the .proto file's base name without
// ".proto" and <Name> the service name (Options.Name, default <base>).
//
// KindService (kgen gen service):
//
//   - <Name>.json: the service description in eKuiper's shape. "about"
//     carries the comment before the file's syntax (or package) statement;
//     each proto service is an interface named after it, with the address,
//     protocol (grpc or rest), schemaType "protobuf", schemaFile (the file's
//     path relative to the proto path, that is to schemas/) and one function
//     per rpc, named after the rpc. Comments become descriptions.
//   - <Name>.zip: <Name>.json and schemas/<path> for the file and every local
//     file it imports, at their import paths: what the engine's service
//     install (AddZip, POST /services) takes. Entries are sorted and carry a
//     fixed time, so equal input gives equal bytes.
//
// KindService from a server (kgen gen service -reflect tcp://host:port;
// Options.Reflect instead of Proto): reflect.go asks the gRPC server for
// its services through server reflection, as the engine does for an
// interface of schemaType "reflection" (service.ReflectServices: the
// reflection and health services are left out), prints the files that
// declare them and their local imports with protoprint, and compiles the
// printed files back with the engine's loader, so they are known to
// install. The model is then the same as from a file, and so are <Name>.json
// (schemaType "protobuf", each interface's schemaFile the file declaring
// its service, so it installs on any engine) and <Name>.zip; the printed
// files are output too, at their import paths (google/protobuf and
// google/api left out, as they are built in). Comments do not travel by
// reflection. <Name> defaults to the last element of the first service's
// package (services in full-name order), the address to the server's.
//
// KindServer (kgen gen server), in package Options.Package:
//
//   - <base>.pb.go, and <import path with "/" as "_">.pb.go per imported
//     local file: protoc-gen-go's message types, with kgen's header.
//   - <base>_kgen.go: per proto service X, the XServer interface (one
//     method per rpc: Rpc(context.Context, *In) (*Out, error)),
//     UnimplementedXServer (codes.Unimplemented), RegisterXServer(s
//     grpc.ServiceRegistrar, srv XServer) with X_ServiceDesc, the typed
//     XClient and NewXClient(cc grpc.ClientConnInterface), the constants
//     X_Rpc_FullMethodName, and NewXRESTHandler(srv XServer) (http.Handler,
//     error), svc.NewRESTHandler over srv: one implementation serves
//     gRPC and the engine's REST transcoding (google.api.http). The file
//     references svc.SupportsGeneratedV1, so an older svc fails the build.
//
// KindClient (kgen gen client), in package Options.Package:
//
//   - the same .pb.go files;
//   - <base>_kgen_client.go: per rpc Rpc, a native function plugin named
//     after it with a lower-case first letter ("getBook"; Go plugin names
//     are camelCase), registered in init with sdk.RegisterFunction, with the
//     exported constructor sdk.SymbolName of that name ("GetBook") that a Go
//     plugin build exports. Validate is svc.ValidateArgs; Exec fills the
//     compiled request with svc.FillRequest (the engine's SQL argument
//     mapping), calls the rpc through the file's svc.GRPCClient and returns
//     svc.ToSQL of the response; errors name the function. The client calls
//     Options.Address, 10s per call, unless <root>/data/services/<Name>.json
//     exists at the first call: then the address (and options.timeout) of
//     its first grpc interface in name order. The file references
//     sdk.SupportsGeneratedV1 and svc.SupportsGeneratedV1.
//
// Messages of the file and its local imports must not produce Go names that
// the stubs declare (an rpc Foo and a message FooClient, say): that is
// reported, naming both.
package proto
