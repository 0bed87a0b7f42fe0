// Package openapi generates, from one OpenAPI 3 document, what an external
// service of the kgen engine needs: its service description and installable
// zip, a net/http server stub, and a client made of native function
// plugins. `kgen gen service|server|client <api.yaml>` calls it. Generated
// Go imports the sdk, svc and svc/openapi (the public contract of external
// services, and kin-openapi which it builds on), never the engine.
//
// The pipeline is load → model → emit:
//
//   - Load reads the document with svc/openapi's Load, the engine's own
//     loader, so whatever generates also installs; errors name the file and
//     a JSON pointer. Operations svc/openapi cannot call are skipped, and
//     Model.Warnings names them. types.go gives the schemas Go types,
//     names.go computes the other identifiers once, routes.go the
//     net/http.ServeMux patterns.
//   - Generate writes the files of the model's kind: describe.go the
//     service description and zip, emit_server.go and emit_client.go the
//     Go files with jennifer.
//
// # Files
//
// Here <base> is the document's base name without its extension and <N>
// the service name (Options.Name, default <base>).
//
// KindService: <N>.json, one interface named <N> with protocol "rest",
// schemaType "openapi", schemaFile the document's base name, the address
// (Options.Address, else the document's first server URL), and one
// function per operation named after its operationId; and <N>.zip with
// <N>.json and schemas/<document>, with fixed times.
//
// KindServer: <base>_kgen.go, with a Go type per component schema and per
// inline object or enum (structs with json tags, pointers and omitempty
// for optional fields, typed string constants for enums), the Handler
// interface (one method per operation: (ctx, *XParams) (result, error)),
// the XParams structs, HTTPError (a non-2xx answer), Authenticator and
// NewHandler(h) (http.Handler, error): ServeMux routes ("GET /items/{id}")
// that validate each request against the embedded document with
// openapi3filter (400 naming the parameter), decode the parameters and
// body into XParams, call h and encode its result as JSON.
//
// KindClient: <base>_kgen_client.go, a native function plugin per
// operation named after its operationId with a lower-case first letter,
// registered with sdk.RegisterFunction, with the exported constructor
// sdk.SymbolName of that name. Validate is the operation's; Exec calls it
// with Operation.Call at Options.Address, unless
// <root>/data/services/<N>.json exists at the first call: then at the
// address, options.timeout and options.credentials of its first openapi
// interface in name order (an interface without an address or timeout
// keeps the generated one).
package openapi
