// Package kgencli is the kgen command line as a library: flag parsing and
// wiring over the engine, engine/api, engine/runner and gen packages.
// cmd/kgen calls Main, and so do testscript-driven tests that register kgen
// as a command (see kgentest.Main).
//
// Every command is an entry of the commands table: a name, usage text, an
// example, and a setup function that defines the command's flags on its own
// flag.FlagSet and returns the function that runs it.
//
// It is also the main function of engines built with kgen bundle:
// `kgen bundle -o myengine ./plugins/...` generates a main package that
// blank-imports the plugin packages, so that their init functions register
// their extensions, and calls MainBundled with their import paths:
//
//	package main
//
//	import (
//		_ "example.com/greet"
//
//		"github.com/kgen-dev/kgen/kgencli"
//	)
//
//	func main() { kgencli.MainBundled("example.com/greet") }
//
// The binary is a full kgen: `myengine serve` serves an engine with the
// extensions compiled in, `myengine run <dir>` runs a project with them
// in-process (it does not compile the project's Go source, and needs no Go
// toolchain), and `myengine version` lists the bundled packages.
package kgencli

import "github.com/kgen-dev/kgen/engine/runner"

// MainBundled runs the kgen command line with the process arguments and
// exits, as Main does, in a bundled engine: plugins are the import paths of
// the plugin packages the binary's main package blank-imports.
func MainBundled(plugins ...string) {
	runner.SetBundled(plugins)
	Main()
}
