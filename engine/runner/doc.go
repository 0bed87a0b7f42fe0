// Package runner runs a plugin project once, in the foreground, in this
// process: an engine with the extensions compiled in, the project's
// streams, rules and sample input. It prints what the rules output and
// returns when the input is done. This is `kgen run <dir>`.
//
// A project folder looks like this:
//
//	<dir>/*.go (+ sub-packages)   plugin packages: they call sdk.RegisterFunction,
//	                              RegisterSource or RegisterSink in init()
//	<dir>/streams/*.sql           CREATE STREAM statements, one or more per file
//	                              (separated by ";"), created in file name order
//	<dir>/rules/*.json            rule JSON files, created in file name order
//	<dir>/input/                  sample input: the folder the file source reads
//	                              DATASOURCE from (its "path" in the default conf key)
//	<dir>/etc/                    optional: copied to the engine root's etc/, so its
//	                              kgen.yaml, sources/<type>.yaml and plugin files
//	                              apply; a relative file source path is relative
//	                              to <dir>
//
// The engine root is a temporary folder; file sources and sinks may use the
// project folder besides it (engine.Options.AllowPaths), and the folders of
// paths.allow in the project's etc/kgen.yaml.
//
// Every row a rule outputs is printed to stdout as one line of JSON with
// sorted keys, so the output of bounded input is stable and can be compared.
// When the project has more than one rule, each line starts with the rule id
// and ": " (rows of different rules interleave as they are produced; the rows
// of one rule keep their order):
//
//	{"text":"the quick brown fox","total":4}
//	wordcount: {"text":"the quick brown fox","total":4}   (several rules)
//
// The run ends when every rule has finished: each reached the end of its
// bounded input (the file source). Rules over unbounded sources (memory,
// mqtt) run until Options.Until rows were output (the run then succeeds),
// the run is interrupted, or its timeout passes. Streams of
// TYPE "mqtt" (the default type) get an embedded MQTT broker on a free
// loopback port.
//
// Run does all of this in-process with the extensions this binary was built
// with. `kgen run` uses it directly for a project without Go packages, and
// in an engine built by `kgen bundle` (which calls SetBundled when it
// starts) for every project. Otherwise kgen run builds an engine binary
// with the project's plugin packages compiled in (package internal/gobuild)
// and runs that: the binary's generated main package blank-imports every
// plugin package and calls Main, which calls Run.
package runner
