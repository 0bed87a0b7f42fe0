// Package kgenmod names kgen's own module and finds it in a binary's build
// information: the CLI reports the engine's kgen version, scaffolding pins
// new projects to it, and builds align plugins with it.
package kgenmod

import "runtime/debug"

const (
	// Path is kgen's module path.
	Path = "github.com/kgen-dev/kgen"
	// SDK is the import path of the extension contract.
	SDK = Path + "/sdk"
	// SVC is the import path of the external-service contract.
	SVC = Path + "/svc"
)

// In returns the kgen module a binary was built with: its main module when
// that is kgen, else kgen among its dependencies; nil when it has none.
func In(bi *debug.BuildInfo) *debug.Module {
	for _, d := range bi.Deps {
		if d.Path == Path {
			return d
		}
	}
	if bi.Main.Path == Path {
		return &bi.Main
	}
	return nil
}
