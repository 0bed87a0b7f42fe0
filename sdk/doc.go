// Package sdk is the contract between kgen extensions and the kgen engine.
//
// An extension is a Source (it brings rows into a stream), a Sink (it takes
// the rows a rule produces) or a Function (it is called from SQL). Each is
// handed a Context that carries its identity (rule, operator, instance), a
// logger, the engine root path and key-value state that the engine keeps for
// that one extension instance. StateAs and StateOr read that state as typed
// Go values, converting integers between kinds.
//
// Extensions are made known to the engine by name, either statically with
// RegisterSource, RegisterSink and RegisterFunction (the generated code and
// the built-ins do this) or by loading a Go plugin whose exported symbol is
// derived from the name by SymbolName.
//
// The package imports only the standard library, so an extension never links
// engine code.
package sdk
