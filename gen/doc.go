// Package gen is the generator kit that kgen's generators share, and its
// subfolders are the generators:
//
//   - gen/markers turns //kgen: markers on typed Go into sdk adapters and
//     plugin metadata (kgen gen);
//   - gen/proto turns a .proto file (or what a gRPC server tells by
//     reflection) into a service description and typed server and client
//     stubs (kgen gen service|server|client);
//   - gen/openapi does the same from an OpenAPI 3 document;
//   - gen/scaffold renders a new plugin project (kgen new).
//
// Each generator is a function over its model that writes through an
// [Output]: a [MemOutput] in tests and for --check, a [DirOutput] on disk,
// which writes only the files whose bytes change and never replaces a file
// kgen did not generate. Generated files carry [Header] (Go) or
// [HeaderText] (JSON, YAML), which [IsGenerated] recognises. [FormatGo]
// gofmts a generated Go file and, when that fails, shows the source with
// line numbers so the bug is findable. The service generators share their
// [Kind]s and the contract [Handshake] of the stubs they write.
package gen
