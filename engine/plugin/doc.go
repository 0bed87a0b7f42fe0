// Package plugin loads Go plugins (.so files) into the engine, after
// checking that each was built to match it.
//
// # Why a check before plugin.Open
//
// A Go plugin only loads into a host built with the same Go toolchain, the
// same settings that change compiled code (-tags, -trimpath, -race,
// -gcflags, CGO_ENABLED, GOOS, GOARCH, GOAMD64, GOEXPERIMENT) and the same
// version of every package both link. plugin.Open compares the fingerprint
// of each shared package and fails with "plugin was built with a different
// version of package X"; Go cannot unload a plugin, and a failed open is
// remembered for the path. Go also knows a plugin by its plugin path (the
// import path of its main package): a second file with the path of one
// already opened fails ("plugin already loaded"). So the Manager never
// opens a mismatched file. Per file it:
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
// # Faults
//
// plugin.Open runs the plugin's package init functions in the caller's
// goroutine. Load recovers a panic there: the plugin is refused with a
// *PanicError carrying the panic message, the Manager's lock is released,
// and the file is remembered (its code stays loaded, half initialised), so
// that Go is never asked to open that file or plugin path again (it would
// wait forever for the first open) and no plugin sharing one of its
// packages (other than the engine's) runs their init a second time: both
// are refused with ErrRestartNeeded. A fatal error in an init (a fault in C
// code, a runtime throw) ends the process and cannot be recovered; Load
// keeps a marker, <root>/plugins/.opening.json, while it opens a file, and
// Scan at the next start quarantines the file it names without opening it.
//
// Scan quarantines every plugin file that fails to load by its own fault
// (not a Go plugin, a build that does not match, a panicking init, a
// missing or mistyped symbol): pluginzip.Quarantine moves it aside to
// plugins/.quarantine/<type>/<name>-<time>/, and List reports it, with its
// error and Info.Quarantined, on this start and the next ones until it is
// deleted or installed again. Conflicts (a name another plugin or a
// compiled-in extension has) are not the file's fault: those stay in place.
//
// Panics in a plugin's methods (Provision, Connect, Collect, Exec, ...) are
// recovered where the engine calls them (package rule), failing that rule
// or row only.
//
// # One account of what must match
//
// The Manager checks files with Compare and the package fingerprints. kgen
// build (package internal/gobuild) builds plugins that pass that check from
// the same account: it passes CodeSettings to the go command, pins the
// ModuleVersions, and checks its results with Compare and ComparePackages
// before keeping a .so. This package runs no go command.
package plugin
