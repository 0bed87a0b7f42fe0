// Package kgentest tests kgen plugins with testscript scripts (*.txtar)
// that read like a shell session: start an engine with the plugins under
// test, create streams and rules, publish messages, expect the rows that
// come out, and inspect the rules' extension state.
//
// A plugin project calls Run from a test in its plugin package, so that the
// test binary links the package and its init functions register the
// plugins (sdk.Register*) in the engine the scripts start:
//
//	func TestMain(m *testing.M) {
//		testscript.Main(m, map[string]func(){"kgen": kgentest.Main})
//	}
//
//	func TestScripts(t *testing.T) { kgentest.Run(t, "testdata") }
//
// TestMain is only needed by scripts that `exec kgen ...`. `kgen test`
// runs these tests; KGEN_UPDATE=1 rewrites the expected files of `expect`
// and `cmp stdout` in the scripts.
//
// # An example script
//
//	# greet greets each name once, and remembers whom it has greeted.
//	engine start
//	stream create 'CREATE STREAM people (name STRING) WITH (DATASOURCE="people", TYPE="mqtt")'
//	rule create rule.json
//	rule status greet -want running
//	pub people '{"name":"ada"}' '{"name":"ada"}'
//	expect greetings want.jsonl
//	state greet seen:ada
//	stdout '^2$'
//
//	-- rule.json --
//	{"id": "greet", "sql": "SELECT greet(name) AS g FROM people", "actions": [{"mqtt": {"topic": "greetings"}}]}
//	-- want.jsonl --
//	{"g": "hello, ada"}
//	{"g": "welcome back, ada"}
//
// # Engine commands
//
// Each script has its own engine, with its root folder in $WORK/.kgen, its
// REST API and embedded MQTT broker on free loopback ports:
//
//	engine start [-qos N] [-broker embedded|mosquitto] [-input DIR] [-token T] [-timeout D]
//	engine stop
//	engine restart
//
// start returns when the engine serves, and sets KGEN_HOST (the REST URL,
// which `exec kgen rule list` and the like use), KGEN_MQTT (the broker URL,
// which mqttpub and mqttsub use) and KGEN_ROOT. -qos is the MQTT QoS of pub
// and of the subscriptions behind expect (default 1). -broker mosquitto
// runs mosquitto from PATH on a free port as the engine's external broker,
// instead of the embedded one. The file source reads DATASOURCE from -input
// (default $WORK); file sources and sinks may use $WORK and -input
// (paths.allow). -token sets rest.token of the engine: the commands of
// the script send it, and $KGEN_REST_TOKEN holds it for exec kgen.
// restart stops the engine and starts it again on the same
// root, so streams, rules that were running, and durable extension state
// survive; the ports may change, and the variables follow them. The engine
// stops at the end of the script.
//
// The engine runs in the test process, so it has every plugin the test
// binary links. A script that mentions the condition [so] (say
// `[!so] skip 'no Go plugins here'`) is run instead against a separate kgen
// engine process: engine start builds the package under test with
// -buildmode=plugin, aligned to that engine as `kgen build` does, into the
// engine's plugins folder, and the engine loads the .so files. [so] is true
// where Go plugins work (linux, darwin or freebsd, with cgo).
//
// # Streams, rules and state
//
//	stream create <sql|file>
//	rule create <json|file>
//	rule status <id> [-want STATUS] [-timeout D]
//	rule stop <id>
//	state <rule> [key]
//
// stream create takes a CREATE STREAM statement or a file holding one;
// rule create takes rule JSON or a file holding it. Their output and
// errors are those of `kgen stream create` and `kgen rule create`, so that
// `! rule create bad.json` with `stderr '...'` checks a refusal. rule
// status prints the rule's status JSON; with -want it first waits (default
// 10s) until the status is STATUS (running, stopped, failed), and fails
// otherwise. state prints the rule's extension state as `kgen state show`
// does, a table of operator, key, type and value; with a key, it prints
// only that key's value, as JSON, one line per operator that has it.
//
// # Messages
//
//	pub <topic> <file|json>...
//	expect [-n N] [-timeout D] [-unordered] <target> <file>
//
// pub publishes each argument, a JSON message or a file of JSON lines (one
// message a line), to an MQTT topic of the engine's broker, or to a memory
// topic when it is written memory:<topic>.
//
// expect reads the next rows of a target: an MQTT topic or filter (+ and #
// wildcards), memory:<topic>, or rule:<id>, the rows rule id sends to its
// sinks (whatever the sink). It compares them with file, one JSON value a
// line: as JSON, numbers by value, object keys in any order, in file order
// unless -unordered. It reads N rows (default: the file's line count) and
// waits up to D (default 10s) for them.
//
// Nothing is missed between the commands: from engine start on, kgentest
// keeps every message of the broker (a subscription to #), of the memory
// topics and of every rule's output. Each expect reads its target from
// where the previous expect of the same target stopped, so a script may
// create a rule and publish before it expects, without races.
//
// On a mismatch expect prints a diff, row by row, to stdout: "  " for a
// row as wanted, "- " for a wanted row and "+ " for the row got instead. So
// `! expect -timeout 1s out want.jsonl` followed by `stdout '^\+ '` checks
// a failing expectation. With KGEN_UPDATE=1 a mismatch rewrites file (in
// the script's archive, or on disk) with the rows got.
//
// # External services
//
//	service start [-name N] <file.proto|api.yaml|api.json>
//
// starts a fixture server on a free loopback port and registers it with the
// engine as an external service named N (default the file's base name
// without its extension), as `kgen gen service -address <server>` and
// `kgen service create` do. It sets SERVICE_ADDR to the server's host:port,
// so a script can register another description of the same server.
//
// For a .proto file it is a gRPC server that implements every service in
// the file. Each rpc echoes: it answers with its output message whose
// fields take the values of the request's fields of the same name, where
// their JSON forms fit, and are left zero otherwise.
//
// For an OpenAPI 3 document (.yaml, .yml or .json, loaded as the engine
// loads it) it is an HTTP server with a route per operation the engine can
// call, at the document's paths. Each request is first validated against
// the document with kin-openapi's openapi3filter (credentials are not
// checked): an invalid one gets 400 and {"error": <what is wrong, naming
// the parameter>}, so the rule's call fails with that text. A valid one gets
// the operation's first success response: the lowest 2xx code declared,
// else 2XX or default (200). Its body is the response's example (the
// media type's example, else its first example by name) when the document
// has one, else a value built from the response schema: a schema's const,
// example, default or first enum value, else by type an object with every
// property, an array of one item, "" (the Unix epoch for format date and
// date-time), 0, false. Each property takes, in place of its own value, the
// request's value of the same name when there is one that converts to the
// property's type: a path, query or header parameter (parameters win), a
// field of the JSON body, or the body itself under its parameter's name;
// strings parse as numbers and booleans, numbers
// print as strings. A response without content answers with no body.
//
// # When a script fails
//
// testscript prints the failing line; kgentest adds the engine's last log
// lines and the status of every rule when the engine stopped.
//
// # Lower-level commands
//
// Commands returns these and the commands that need no engine of Run's
// (mqttpub, mqttsub, mqttwait, waitfile, envfile, mkzip), for scripts that
// start `kgen serve` themselves; Setup gives scripts the go command.
package kgentest
