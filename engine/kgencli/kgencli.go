// Package kgencli is the kgen command line as a library: the main function
// of engines built with kgen bundle.
//
// `kgen bundle -o myengine ./plugins/...` generates a main package that
// blank-imports the plugin packages, so that their init functions register
// their extensions, and calls Main with their import paths:
//
//	package main
//
//	import (
//		_ "example.com/greet"
//
//		"github.com/kgen-dev/kgen/engine/kgencli"
//	)
//
//	func main() { kgencli.Main("example.com/greet") }
//
// The binary is a full kgen: `myengine serve` serves an engine with the
// extensions compiled in, `myengine run <dir>` runs a project with them
// in-process (it does not compile the project's Go source, and needs no Go
// toolchain), and `myengine version` lists the bundled packages.
package kgencli

import (
	"github.com/kgen-dev/kgen/engine/runner"
	"github.com/kgen-dev/kgen/internal/cli"
)

// Main runs the kgen command line with the process arguments and exits, as
// the kgen command does. plugins are the import paths of the plugin
// packages the binary's main package blank-imports.
func Main(plugins ...string) {
	runner.SetBundled(plugins)
	cli.Main()
}
