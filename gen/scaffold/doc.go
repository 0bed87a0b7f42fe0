// Package scaffold creates new plugin projects: `kgen new function|source|sink
// <name> [dir]`.
//
// A project is rendered from the embedded templates (package templates,
// new/common/ and new/<kind>/) into memory, checked (Go files must parse and
// are gofmt'd), and only then written, so an error leaves nothing behind.
// New then runs `go mod tidy` in the project so that go.sum is complete and
// `go generate ./... && go test ./...` pass at once, wherever the project is
// on disk.
//
// # Which kgen the project builds against
//
// The project's go.mod requires github.com/kgen-dev/kgen. Which version, and
// whether a replace directive points at a local source tree, is decided in
// this order:
//
//  1. Options.KgenDir (the -kgen flag): that kgen source tree, by a replace
//     directive.
//  2. $KGEN_SRC: the same.
//  3. The source tree this kgen was built from, when it is still on disk
//     and outside the module cache (a `go run` or `go build` in a kgen
//     checkout, or a test binary): found from the path of this package's
//     source file, whose enclosing go.mod must declare the kgen module.
//  4. The kgen module version in this binary's build information, when it
//     is a published one (not "(devel)", not "+dirty"): required as it is,
//     without a replace directive.
//
// Otherwise New fails and asks for -kgen or $KGEN_SRC. A replaced
// requirement uses the placeholder version v0.0.0-00010101000000-000000000000,
// as the go command does.
package scaffold
