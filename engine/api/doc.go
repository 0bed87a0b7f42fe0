// Package api is kgen's REST management API: the HTTP handler a running
// engine serves, and a Client for it that the kgen CLI and tests share.
//
// Paths and bodies follow eKuiper's, so tools written for one work with the
// other:
//
//	POST   /streams               {"sql": "CREATE STREAM ..."}   201 "Stream demo is created."
//	GET    /streams               ["demo", ...]
//	GET    /streams/{name}        StreamInfo JSON
//	PUT    /streams/{name}        {"sql": "CREATE STREAM ..."}   "Stream demo is updated."
//	DELETE /streams/{name}                                       "Stream demo is dropped."
//	POST   /rules                 rule JSON                      201 "Rule r1 was created successfully."
//	POST   /rules/validate        rule JSON                      200 {"valid": true[, "ignored": [...]]}, or 422 with the error
//	GET    /rules                 [{"id": "r1", "status": "running"}, ...]
//	GET    /rules/{id}            rule JSON
//	PUT    /rules/{id}            rule JSON                      "Rule r1 was updated successfully."
//	DELETE /rules/{id}                                           "Rule r1 is dropped."
//	POST   /rules/{id}/start                                     "Rule r1 was started"
//	POST   /rules/{id}/stop                                      "Rule r1 was stopped."
//	POST   /rules/{id}/restart                                   "Rule r1 was restarted"
//	GET    /rules/{id}/status     status and metrics JSON
//	GET    /rules/{id}/topo       {"sources": ["source_demo"], "edges": {"source_demo": ["op_2_project"], ...}}
//	GET    /rules/{id}/state      {"rule": "r1", "scopes": [...]} (see RuleState)
//	DELETE /rules/{id}/state                                     "State of rule r1 was reset."
//	GET    /  and  GET /ping      {"version", "sdkVersion", "os", "arch", "upTimeSeconds"}
//	GET    /version               build info JSON (see BuildInfo)
//	GET    /sources, /sinks, /functions   registered extension names
//	GET    /metrics               Prometheus text format (engine.Engine.Metrics)
//	POST   /plugins/{type}        {"name", "file", "shellParas"} 201 "sinks plugin hook is created"
//	GET    /plugins/{type}        ["hook", ...]
//	GET    /plugins/{type}/{name} PluginInfo JSON
//	DELETE /plugins/{type}/{name}[?force=true]                   "sinks plugin hook is deleted; ..."
//	POST   /plugins/portables     {"name", "file"} 201 "portable plugin greet is created"
//	GET    /plugins/portables     [manifest, ...]
//	GET    /plugins/portables/{name}[/status]   PortableStatus JSON
//	PUT    /plugins/portables/{name}            {"file"} reinstall: hot reload
//	DELETE /plugins/portables/{name}[?force=true]               "portable plugin greet is deleted; ..."
//
// A rule with "triggered": false (eKuiper's) is created and saved but not
// started. POST /rules/validate plans the rule (its sources and sinks are
// provisioned, so their properties are checked) and creates nothing; the
// id may be an existing rule's.
//
// Configuration is strict: an unknown key of a rule, a rule option, a
// stream's WITH option, or a source or sink property is an error naming the
// closest known one (`mqtt sink: unknown property "qoss", did you mean
// "qos"?`). The keys eKuiper has and kgen does not implement are accepted,
// so that eKuiper's files load, and logged as ignored: rule options such as
// sendError or restartStrategy, "name" and "tags", stream options KEY,
// SHARED, STRICT_VALIDATION, RETAIN_SIZE, SCHEMAID, DELIMITER and KIND, and
// common sink properties such as dataTemplate or format. A plugin's
// properties are checked against its metadata file when it lists them.
//
// Plugins and Go's plugin rules: a .so stays loaded until the engine exits.
// Installing a plugin whose name this process has loaded before (installed,
// deleted, installed again) is 201 when the new file can run: the same
// bytes, or a build of another Go module; rules started afterwards use it.
// A new build of the loaded plugin (same file path or same main package)
// would not run, so it is refused with 409 and nothing is installed:
// `restart kgen to replace plugin "x": the running engine has its old code
// loaded (...)`. A name compiled into the engine cannot be installed (409).
// DELETE removes the .so and the files the install wrote that are
// unchanged; configuration the user changed or added (a source's
// etc/sources/<name>.yaml, files under etc/<type>/<name>/) stays, and the
// reply names it. A plugin that a stream or rule uses is refused (409,
// naming them) unless ?force=true; running rules keep its code until they
// stop.
//
// Portable plugins (engine/portable) are processes, so they can be
// replaced while the engine runs: PUT installs a new version, which rules
// created or restarted afterwards use, while running rules keep calling
// the old process until they restart; it stops once no rule uses it. An
// install is checked whole before it is swapped in, so a bad zip (400,
// naming the zip and the entry) leaves the installed version as it was.
// DELETE of one that rules call is refused (409, naming them) unless
// ?force=true; running rules then keep its process until they stop.
//
// Messages are plain text; everything else is JSON. A failed request gets
// {"error": <code>, "message": "<text>"} with one of these statuses:
//
//	404  code 1002  the stream or rule named in the path does not exist
//	409  code 1001  a stream or rule with that name already exists (eKuiper says 400); a plugin
//	                in use, or one that needs a restart to be replaced
//	422  code 1000  POST /rules/validate: the rule is not valid
//	413  code 1000  the request body is larger than MaxBodySize
//	401  code 1000  rest.token is set and the request does not carry it
//	403  code 1000  the request's Host or Origin is not the engine's
//	400  code 1000  anything else: malformed body, bad SQL, a rule that does not plan
//
// A body that names something missing (a rule reading an unknown stream) is a
// bad request (400), not a missing resource.
//
// Who may call it (guard.go, settings in engine.RESTConfig): the handler
// refuses, with 403, a request whose Host is neither the address it came
// in on (for a loopback listener also localhost, 127.0.0.1 or [::1] with
// that port) nor a name of rest.allowedHosts, so that a web page cannot
// reach it by pointing a name of its own at it (DNS rebinding); and a
// request whose Origin is neither the API's own nor one of
// rest.allowedOrigins, so that a web page of another site cannot drive it
// (a text/plain POST needs no preflight). With rest.token set, every
// request but GET /ping needs "Authorization: Bearer <token>", compared in
// constant time (401 with WWW-Authenticate otherwise). Serve refuses to
// listen on an address other than a loopback one without a token, and
// serves HTTPS when rest.tls names a certificate. Client sends the token
// of WithToken.
//
// ServePprof serves the Go profiler on a loopback listener of its own; the
// REST API never does.
package api
