// Package engine is kgen's stream engine: it keeps streams and rules in an
// engine root folder, plans and runs rules with the runtime, resolves
// sources, sinks and functions (built in, statically registered or loaded),
// and keeps extension state durable.
//
// The root folder holds etc/ (kgen.yaml and source conf keys), data/ (the
// store: streams, rules, extension state), plugins/{sources,sinks,functions}/
// and log/.
//
// Files that definitions name are confined (internal/confine): a file
// source's or sink's path, or an MQTT TLS file, must lead under the root,
// outside those folders and the stores, or under a folder of paths.allow in
// etc/kgen.yaml (Options.AllowPaths adds more); CREATE STREAM and rule
// create refuse any other. Stream names are identifiers (checkStreamName):
// no '/', '\', "..", NUL or control characters; they are compared exactly.
//
// Metrics gives the engine's Prometheus metrics, on a registry of its own:
// the rules' counters, read from their status when scraped, each rule's
// processing latency, external function calls, the embedded broker's
// counters, and the Go runtime's and the process's (metrics.go). RuleTopo
// describes the path rows take through a rule.
package engine
