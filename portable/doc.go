// Package portable serves kgen extensions from a portable plugin: an
// executable the engine starts on first use and talks to over gRPC on a
// unix socket (hashicorp/go-plugin), so that a plugin crash, a plugin built
// with another Go version, or a plugin in another language never takes the
// engine down.
//
// A Go portable plugin is a main package that registers its sources, sinks
// and functions with sdk.RegisterSource, sdk.RegisterSink and
// sdk.RegisterFunction (the same code and //kgen: markers as a compiled-in
// or .so plugin) and calls Serve:
//
//	func main() { portable.Serve() }
//
// The engine provisions a source or sink instance with its properties,
// connects it, and then streams a push source's ingests (Subscribe), polls
// a pull source (Pull) or hands a sink batches of rows (Collect), until it
// closes the instance. What a source ingests — a row, a list of rows or raw
// bytes, with meta and time — errors, its end (sdk.Bounded) and status
// changes (sdk.StatusReporter) are queued per instance and sent in order;
// a source that outruns the engine waits in Ingest. Panics in an
// extension's methods are errors of the call.
//
// State calls (PutState, GetState, IncrCounter, GetCounter, DeleteState)
// of functions, sources and sinks go back to the engine over the State
// service of portable/proto/kgen/portable/v1, so state lives in the engine
// and survives plugin restarts: a plugin restarted by the engine gets its
// live instances provisioned again under the same ids.
//
// The protocol is language neutral: package
// github.com/kgen-dev/kgen/portable/python holds a Python SDK that speaks
// it, go-plugin's side included, without Go.
package portable
