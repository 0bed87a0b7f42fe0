// Package portable runs portable plugins for the engine: executables under
// <root>/plugins/portable/<name>/, described by <name>.json (eKuiper's
// portable manifest), that serve functions over gRPC on a unix socket
// (hashicorp/go-plugin, protocol portable/proto/kgen/portable/v1).
//
// A plugin is started on first use: when a rule that calls one of its
// functions is planned. Its sockets live under <root>/data/portable/, so a
// read-only image with a writable data folder works. A plugin that does
// not finish its start within the init timeout is killed and the error
// names it. A plugin that exits is noticed on the next call: calls fail
// (the rule counts them as exceptions and goes on) until a restart, which
// is tried on the next call after a back-off that doubles on every failure
// in a row.
//
// The engine serves the plugin the State service over go-plugin's broker:
// a function's state calls reach the FunctionContext of its call site, so
// state lives in the engine's store and survives plugin restarts.
//
// Batching: Function implements sql.BatchFunction, so a rule's SQL
// evaluation hands it the rows of one evaluation step in one
// CallFunction: a window's rows, or without a window the rows that queued
// while the previous call ran, up to the rule's options.functionBatchSize
// (default 64); see sql.BatchFunction for where that applies.
package portable
