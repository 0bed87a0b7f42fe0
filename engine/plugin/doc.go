// Package plugin loads Go plugins (.so files) into the engine, and builds
// them so that they load.
//
// # Why a check before plugin.Open
//
// A Go plugin only loads into a host built with the same Go toolchain, the
// same settings that change compiled code (-tags, -trimpath, -race,
// -gcflags, CGO_ENABLED, GOOS, GOARCH, GOAMD64, GOEXPERIMENT) and the same
// version of every package both link. plugin.Open compares the fingerprint
// of each shared package and fails with "plugin was built with a different
// version of package X"; Go cannot unload a plugin, and a failed open is
// remembered for the path. So the Manager never opens a mismatched file. Per
// file it:
//
//  1. parses the name by the sdk rules (name.so, Name.so, Name@v1.2.3.so;
//     of several files of one plugin Scan takes the highest semantic
//     version, not the lexically last);
//  2. reads the file's build info (debug/buildinfo works on .so files) and
//     Compares it with the host's: Go version, settings, module versions;
//     each difference is a Diff with the fix;
//  3. compares the package fingerprints themselves: the linker writes them
//     as go:link.pkghashbytes.<pkg> symbols in a host that imports package
//     plugin (dynamic symbols, so they survive -s) and in every plugin;
//     this is what plugin.Open checks, and it catches what build info
//     cannot: a module built from a source folder ((devel)) whose files
//     differ, and two plugins that link different versions of a module the
//     host does not;
//  4. opens it, then looks up SymbolName(name) per provided name: a
//     func() sdk.X constructor (a fresh instance per rule), a variable
//     holding one, or a value implementing sdk.X (one shared instance).
//
// A function plugin provides the functions its JSON metadata lists
// (<name>.json or <Name>.json beside the .so or in etc/functions/, or any
// .json beside it whose "name" is the plugin's; eKuiper's shape
// {"name", "functions": [{"name"}, ...]}), else the one named after it.
//
// Plugin init functions run in the host, so their sdk.Register* calls land
// in the host's registry; the Manager records those names (Owns) so that
// the engine does not take them for compiled-in extensions, and Forget
// hides them again.
//
// # What makes a plugin load (measured with go1.26.8, linux/amd64)
//
//   - -buildmode=plugin needs a main package, so Build writes one per
//     plugin (module kgenplugin/<kind>s/<name>) that imports the plugin
//     package and re-exports its constructors.
//   - A host built from the kgen source tree has kgen as its main module,
//     version (devel). Without -trimpath a plugin loads when it compiles kgen
//     from the same folder, whether through a replace directive or a go.work
//     use: positions are absolute paths and equal.
//   - With -trimpath on both sides, a replace to the folder does NOT load:
//     the plugin's files become github.com/kgen-dev/kgen@v0.0.0/... while the
//     host's main-module files are github.com/kgen-dev/kgen/..., and the sdk
//     fingerprint differs. Making the kgen folder a workspace module (go.work
//     use) gives the same names, and it loads. Build therefore always uses
//     the folder in go.work.
//   - -trimpath on one side only fails on the standard library
//     (internal/goarch) already.
//   - Other shared modules are pinned to the host's version with go.work
//     replace directives (a require would lose to a higher one in MVS).
//
// # Build
//
// Build (kgen build) reads the target engine's build info (GET /version,
// an engine binary, or the kgen binary itself), refuses a different Go
// toolchain (GOTOOLCHAIN downloads are not an option offline), writes a
// temporary workspace as above, runs go build -buildmode=plugin with the
// engine's flags and environment, and checks the result with Compare (and
// the package fingerprints when it has the engine binary) before keeping it.
// Output: <Out>/<kind>s/<Name>.so; one .so per source and per sink, one for
// all functions (named after the package when several, with a merged
// <name>.json listing them).
package plugin
