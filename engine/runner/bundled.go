package runner

import "slices"

// bundled is the plugin packages compiled into this binary, set by
// SetBundled.
var bundled []string

// SetBundled records that this binary is an engine built by kgen bundle
// with the plugin packages pkgs compiled in. Its generated main calls it,
// through kgencli.MainBundled, before the command line runs. From then on
// Bundled returns pkgs, and kgen run runs every project in-process with Run,
// with the extensions compiled in, instead of building an engine from the
// project's Go source: a bundled engine needs no Go toolchain to run.
func SetBundled(pkgs []string) {
	bundled = slices.Sorted(slices.Values(pkgs))
	if bundled == nil {
		bundled = []string{}
	}
}

// Bundled returns the plugin packages compiled into this binary (see
// SetBundled), sorted; nil when it is not a bundled engine.
func Bundled() []string { return slices.Clone(bundled) }
