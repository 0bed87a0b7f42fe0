// Command kgen builds, runs and tests extensions of the kgen stream engine.
// Run "kgen help" for the commands; the implementation is package kgencli.
package main

import "github.com/kgen-dev/kgen/kgencli"

func main() { kgencli.Main() }
