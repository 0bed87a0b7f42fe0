// Package connector holds the built-in sources and sinks of the kgen engine.
// Each registers itself with the sdk in init, so importing the package (for
// its side effect) makes them available to rules.
//
// Properties come from etc/sources/<type>.yaml, the stream (DATASOURCE,
// FORMAT) or the rule action. Numbers may be written as ints or floats,
// durations as milliseconds or strings like "1s", booleans as true/false or
// "true"/"false". Errors name the connector and the property:
// `mqtt source: property "qos": want int 0..2, got "x"`. Relative paths
// resolve against the engine root (sdk.Context.GetRootPath).
//
// An unknown property is an error that names the closest known one:
// `mqtt sink: unknown property "qoss", did you mean "qos"?`. The properties
// eKuiper has that kgen does not implement (CommonSinkProps, and per
// connector for example mqtt's tlsMinVersion or the file sink's rolling
// settings) are accepted, so that eKuiper rules and source files load, and
// logged at warn level as ignored. What a connector knows is what its
// Provision reads (propReader records it), so the list cannot drift.
//
// # Sources
//
// mqtt (push, reports connection status): subscribes to the DATASOURCE topic
// filter ('+', '#' and "$share/group/filter" work) and ingests each payload
// as bytes, decoded by the stream FORMAT, with meta topic, messageId and qos.
//
//	server              broker URL (tcp://, ssl://, ws://...), default "tcp://127.0.0.1:1883"
//	qos                 0, 1 or 2, default 1
//	clientid            default a generated unique id (clean session); a fixed
//	                    id keeps its session across reconnections
//	username, password  credentials, default none
//	protocolVersion     "3.1" or "3.1.1", default "3.1.1"
//	insecureSkipVerify  skip TLS certificate verification, default false
//	certificationPath   client certificate (PEM), with privateKeyPath
//	privateKeyPath      client key (PEM)
//	rootCaPath          CA certificates (PEM) to trust
//
// A slow rule slows the source down instead of losing messages: messages are
// ingested one at a time on the connection's reading goroutine, and QoS 1/2
// messages are acknowledged after ingest returns. The first connection must
// succeed within 10s or Connect fails (sdk.Retryable); after that the source
// reconnects by itself (at once, then after 1s doubling up to 10s) and
// subscribes again. It reports connecting, then connected once subscribed,
// disconnected with the reason while the broker is away, and connected again.
//
// memory (push): ingests rows published on the engine's MemoryHub (see
// MemoryHubFrom) to topics matching the DATASOURCE filter ('+', '#'), with
// meta topic.
//
//	bufferLength  rows buffered for this source, default 1024; publishers wait
//	              when it is full
//
// file (push, bounded): reads the DATASOURCE file once, ingests every row as a
// decoded map (integers as int64, other numbers as float64) and then signals
// EOF. A malformed line is reported and skipped. A missing file fails
// Connect.
//
//	path          folder of the file, default <root>/data; an absolute
//	              DATASOURCE ignores it
//	fileType      "json" (an array of objects, or one object) or "lines"
//	              (one object per line); default "lines" for .jsonl and
//	              .ndjson files, else "json"
//	sendInterval  pause between rows, default 0
//
// Paths (the file source's datasource and path, the file sink's path, the
// mqtt TLS files) go through internal/confine: they must lead, symbolic
// links followed, under the engine root but outside its own files, or
// under a folder of paths.allow in etc/kgen.yaml. The engine puts its
// policy in the context (confine.With); Provision refuses any other path,
// so that creating the stream or rule fails, and Connect checks again.
//
// # Sinks
//
// mqtt (reports connection status): publishes each row as a JSON object, a
// list as a JSON array, and waits for the broker's acknowledgement (QoS 1, 2).
// While the connection is down, and when a publish is not acknowledged within
// 5s, Collect returns an sdk.Retryable error: delivery is at least once
// through the engine's retries. It reconnects by itself like the source.
//
//	topic          required
//	server, username, password, protocolVersion, insecureSkipVerify,
//	certificationPath, privateKeyPath, rootCaPath
//	               as for the source
//	clientId       default a generated unique id
//	qos            0, 1 or 2, default 0
//	retained       default false
//
// log: logs each row as JSON at Info level through the rule's logger, with
// the message "sink output" and the attribute row. No properties.
//
// file: writes rows to a file, creating its folder.
//
//	path           required; relative to the engine root
//	fileType       "lines" (default: one JSON object per line, appended to
//	               the file) or "json" (one JSON array; the file is truncated
//	               at Connect and is valid JSON after Close)
//	checkInterval  longest time a row stays buffered, default 1s
//
// memory: publishes rows to the engine's MemoryHub, waiting while a
// subscriber's buffer is full.
//
//	topic  required, no wildcards
//
// nop: discards rows, for benchmarks. No properties.
package connector
