// Command loadharness compares kgen's MQTT ingest with a bare consumer, on
// kgen's embedded broker and on mosquitto. It is a program, not a test: it
// runs for minutes and prints a report.
//
// Subjects run in child processes of their own (the harness runs itself
// again with -child), so that each one's CPU time is its own:
//
//   - kgen: an engine with the stream demo on an mqtt source and the rule
//     SELECT temperature * 2 AS t FROM demo WHERE temperature > 50 into a
//     nop sink;
//   - bare: paho with its default options and encoding/json, doing the same
//     filter and computing t.
//
// With the embedded broker each child runs the broker in its own process
// (kgen's engine starts it; the bare child calls broker.Start), so the
// child's CPU includes the broker's. With mosquitto the harness starts one
// for each run and reads its CPU time from /proc.
//
// The publisher runs in the harness. For each broker and each mode (full
// speed, or paced at each rate) the subjects take turns, kgen, bare, kgen,
// bare …, and the report gives, per subject, the minimum, median and
// maximum of msg/s, CPU µs per message and loss, and the ratio of kgen's
// CPU per message to bare's over the paired runs.
//
// With -latency the rule publishes t and ts to an output topic through an
// mqtt sink, the harness subscribes to it and takes now − ts for each row;
// the baselines are a bare relay (paho + encoding/json, publishing what
// passes) and the broker alone, the harness subscribing to the input topic.
// See README.md.
package main
