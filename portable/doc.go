// Package portable serves kgen extensions from a portable plugin: an
// executable the engine starts on first use and talks to over gRPC on a
// unix socket (hashicorp/go-plugin), so that a plugin crash, a plugin built
// with another Go version, or a plugin in another language never takes the
// engine down.
//
// A Go portable plugin is a main package that registers its functions with
// sdk.RegisterFunction (the same code and //kgen: markers as a compiled-in
// or .so plugin) and calls Serve:
//
//	func main() { portable.Serve() }
//
// Its functions' state calls (PutState, GetState, IncrCounter, GetCounter,
// DeleteState) go back to the engine over the State service of
// portable/proto/kgen/portable/v1, so state lives in the engine and
// survives plugin restarts. This slice serves functions; sources and sinks
// come later over the same protocol.
//
// The protocol is language neutral: package
// github.com/kgen-dev/kgen/portable/python holds a Python SDK that speaks
// it, go-plugin's side included, without Go.
package portable
