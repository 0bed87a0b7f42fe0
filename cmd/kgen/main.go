// Command kgen builds, runs and tests extensions of the kgen stream engine.
// Run "kgen help" for the commands; the implementation is internal/cli.
package main

import "github.com/kgen-dev/kgen/internal/cli"

func main() { cli.Main() }
