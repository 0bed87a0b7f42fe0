// Package portable runs portable plugins for the engine: executables under
// <root>/plugins/portable/<name>/, described by <name>.json (eKuiper's
// portable manifest), that serve functions over gRPC on a unix socket
// (hashicorp/go-plugin, protocol portable/proto/kgen/portable/v1).
//
// A plugin's language is "go" (a program, see package
// github.com/kgen-dev/kgen/portable) or "python" (a .py script run with
// Options.PythonBin, written against the Python SDK that package
// github.com/kgen-dev/kgen/portable/python embeds; the engine writes the SDK
// to PythonDir and puts it first on the script's PYTHONPATH).
//
// A plugin is started on first use: when a rule that calls one of its
// functions is planned. Both ends' sockets live in a folder go-plugin makes
// under <root>/data/portable/ (the plugin learns it from
// $PLUGIN_UNIX_SOCKET_DIR), so a read-only image with a writable data
// folder works; only a root whose path is too long for unix socket paths
// sends them to the system's temporary folder, with a warning. A start that fails carries the last line the plugin wrote
// to its stderr. A plugin that does
// not finish its start within the init timeout is killed and the error
// names it. A plugin that exits is noticed on the next call: calls fail
// (the rule counts them as exceptions and goes on) until a restart, which
// is tried on the next call after a back-off that doubles on every failure
// in a row.
//
// The engine serves the plugin the State service over go-plugin's broker:
// a function's state calls reach the FunctionContext of its call site, so
// state lives in the engine's store and survives plugin restarts.
//
// Batching: Function implements sql.BatchFunction, so a rule's SQL
// evaluation hands it the rows of one evaluation step (a window's rows) in
// one CallFunction; see sql.BatchFunction for where that applies.
package portable
