// Package openapi turns the operations of an OpenAPI 3 document into
// external functions: Load reads and validates a self-contained document;
// each supported operation becomes an Operation that maps SQL call
// arguments to parameters (Args), checks a call at compile time
// (Validate), builds its HTTP request (NewRequest) and decodes its response
// into SQL values (DecodeResponse). Operations kgen cannot call (no
// operationId, non-JSON bodies, cookie parameters, ...) are listed in
// Document.Skipped with the reason.
//
// The engine uses it for interfaces with "schemaType": "openapi", and
// generated client plugins call Operation.Call directly.
package openapi
