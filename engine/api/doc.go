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
//
// Messages are plain text; everything else is JSON. A failed request gets
// {"error": <code>, "message": "<text>"} with one of these statuses:
//
//	404  code 1002  the stream or rule named in the path does not exist
//	409  code 1001  a stream or rule with that name already exists (eKuiper says 400)
//	413  code 1000  the request body is larger than MaxBodySize
//	400  code 1000  anything else: malformed body, bad SQL, a rule that does not plan
//
// A body that names something missing (a rule reading an unknown stream) is a
// bad request (400), not a missing resource.
//
// ServePprof serves the Go profiler on a loopback listener of its own; the
// REST API never does.
package api
