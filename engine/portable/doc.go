// Package portable runs portable plugins for the engine: executables under
// <root>/plugins/portable/<name>/, described by <name>.json (eKuiper's
// portable manifest), that serve sources, sinks and functions over gRPC on
// a unix socket (hashicorp/go-plugin, protocol
// portable/proto/kgen/portable/v1).
//
// A plugin's language is "go" (a program, see package
// github.com/kgen-dev/kgen/portable) or "python" (a .py script run with
// Options.PythonBin, written against the Python SDK that package
// github.com/kgen-dev/kgen/portable/python embeds; the engine writes the SDK
// to PythonDir and puts it first on the script's PYTHONPATH).
//
// A plugin is started on first use: when a rule that reads one of its
// sources, writes to one of its sinks or calls one of its functions is
// planned. Both ends' sockets live in a folder go-plugin makes under
// <root>/data/portable/ (the plugin learns it from $PLUGIN_UNIX_SOCKET_DIR),
// so a read-only image with a writable data folder works; only a root
// whose path is too long for unix socket paths sends them to the system's
// temporary folder, with a warning. A plugin that does not finish its
// start within the init timeout is killed and the error names it; a start
// that fails carries the last line the plugin wrote to its stderr.
//
// # Crashes and restarts
//
// A plugin that exits is noticed by the next call, by a source's broken
// Subscribe stream, or by the health check (Options.HealthInterval), which
// also kills a plugin that does not answer its ping. Calls fail meanwhile
// (function rows and sink rows are the rule's exceptions; a source reports
// itself disconnected and an error) until a restart, tried after a back-off
// that doubles on every failure in a row.
//
// Sources and sinks (connector.go) are instances the plugin holds from
// Provision to Close under an id the engine gives them. Each proxy keeps
// its properties and whether it was connected, and the Plugin keeps its
// live instances: when a new process is up (started by a call, by a
// source resubscribing, or by the health check for a plugin whose only
// users are idle sinks), each instance is provisioned and connected again
// on it before its next call, and a push source subscribes again, so rules
// go on without a restart.
//
// # State
//
// The engine serves the plugin the State service over go-plugin's broker:
// an instance's state calls reach the sdk.Context the rule gave that
// function call site, source or sink, so state lives in the engine's store
// and survives plugin restarts.
//
// Install, reinstall, delete (install.go): Manager.InstallFile takes a zip
// in eKuiper's portable layout (<name>.json and the executable at its root;
// Pack writes one), checks every entry and the manifest in a staging folder
// under <root>/plugins/portable/.staging/, and swaps the new folder in with
// renames, so a failed install leaves the installed version as it was. A
// reinstall is a hot reload: every SQL call site holds a lease on the
// version it was planned with, so rules planned afterwards (new or
// restarted) get the new version, while running rules keep calling the old
// process, whose folder waits in staging, until they stop; its process is
// stopped and its folder removed when its last lease ends (its rule's
// context ends, or a call site that never ran is garbage collected), or at
// Close. Manager.Delete retires a plugin the same way; the REST API refuses
// the delete of a plugin that rules call unless forced. Scan, at start,
// rolls back a swap a crash interrupted and empties staging.
//
// Batching: Function implements sql.OrderedBatchFunction, so a rule's SQL
// evaluation hands it the rows of one evaluation step in one
// CallFunction: a window's rows, or without a window the rows that queued
// while the previous call ran, up to the rule's options.functionBatchSize
// (default 64); see sql.BatchFunction for where that applies. Without a
// window, two batches are in flight at once (unless the rule sets
// options.concurrency): each carries its number (CallFunctionRequest.seq)
// and the plugin runs a call site's batches one at a time in that order,
// so a batch's round trip overlaps the next one's while a stateful
// function still sees the rows in order. A sink's CollectList is one
// Collect call with all its rows.
package portable
