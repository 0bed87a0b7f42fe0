// Package engine is kgen's stream engine: it keeps streams and rules in an
// engine root folder, plans and runs rules with the runtime, resolves
// sources, sinks and functions (built in, statically registered or loaded),
// and keeps extension state durable.
//
// The root folder holds etc/ (kgen.yaml and source conf keys), data/ (the
// store: streams, rules, extension state), plugins/{sources,sinks,functions}/
// and log/.
//
// Metrics gives the engine's Prometheus metrics, on a registry of its own:
// the rules' counters, read from their status when scraped, each rule's
// processing latency, external function calls, the embedded broker's
// counters, and the Go runtime's and the process's (metrics.go). RuleTopo
// describes the path rows take through a rule.
package engine
