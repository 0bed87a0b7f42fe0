// Package svc is the contract between the kgen engine and external
// services: SQL functions that call a gRPC or REST service. The engine
// (engine/service) and the code that kgen generates from a .proto file
// (gen/proto) both build on it, so that a generated server, a generated
// client and the engine agree by construction.
//
// It holds:
//
//   - the service description, <name>.json in eKuiper's shape
//     (Description, Interface, Options; ParseDescription reads one
//     strictly);
//   - the mapping between SQL values and messages: BuildRequest and
//     FillRequest turn a call's arguments into a request, ToSQL and
//     ValueToSQL turn a response into a SQL value (HTTPCall.ResponseToSQL
//     a REST reply, keeping only the keys it has);
//   - REST transcoding with google.api.http rules, both ways: NewHTTPCall
//     and HTTPCall.DecodeResponse are the client side the engine uses,
//     NewRESTHandler serves an implementation over HTTP with the same
//     rules;
//   - what generated function plugins call: GRPCClient, which finds the
//     service's address in the engine root and shares one connection, and
//     ValidateArgs.
//
// Generated code references SupportsGeneratedV1, so that code generated for
// a newer contract fails to build against an older svc with a readable
// error.
//
// The package depends on the sdk, gRPC, protobuf and fastjson (which keys
// a REST reply sent) only: a generated
// server links neither the engine nor the .proto compiler.
package svc
