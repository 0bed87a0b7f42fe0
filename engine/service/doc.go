// Package service runs external functions: SQL functions that call gRPC or
// REST services, described by service descriptions (svc.Description,
// eKuiper's external service JSON) and .proto schemas.
//
// The Registry keeps the services of an engine root, under
// <root>/data/services, and changes them live: every change is validated
// in full, written, and published as a new snapshot. LoadSchema compiles
// their .proto files; an interface of schemaType "reflection" has none, and
// ReflectServices asks its gRPC server for the rpcs each time the service
// is added, updated or loaded. What it learned is kept beside the
// description, so that a server that is down at Load still gives the
// service its functions (their calls fail until it answers); without
// that, the service is left out, logged, as a bad file would be. The
// transports call an interface's rpcs: gRPC, REST (transcoded by
// svc.NewHTTPCall) and schemaless REST, with the timeouts and retries of
// its options, through invokers shared by interfaces with the same address
// and options. A reply maps to SQL as svc.ToSQL maps it, except that a
// JSON reply over REST keeps only the keys it has, as in eKuiper
// (Invoker.InvokeSQL). An interface of schemaType "openapi" takes an
// OpenAPI 3 document as its schema file: each operation is a function,
// mapped and called by package svc/openapi over the REST client
// (openapi.go).
//
// What the engine shares with generated servers and clients (the
// description format, the SQL↔message mapping, REST transcoding) lives in
// package svc, which this package imports.
package service
