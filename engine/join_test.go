package engine_test

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/internal/clock"
)

// The rows of eKuiper's demo1 stream: {temp, hum, ts} at ts (Unix ms).
// Their ts match demoRows' but for the second (486823, not 486822).
var demo1Rows = []map[string]any{
	{"temp": 25.5, "hum": int64(65), "ts": int64(1541152486013)},
	{"temp": 27.5, "hum": int64(59), "ts": int64(1541152486823)},
	{"temp": 28.1, "hum": int64(75), "ts": int64(1541152487632)},
	{"temp": 27.4, "hum": int64(80), "ts": int64(1541152488442)},
	{"temp": 25.5, "hum": int64(62), "ts": int64(1541152489252)},
}

// joinEngine is windowEngine with the stream demo1 too, on memory topic
// in1/<rule>.
func joinEngine(t *testing.T, rule string, start int64, with string) (*engine.Engine, *clock.Fake) {
	t.Helper()
	e, fake := windowEngine(t, rule, start, with)
	mustStream(t, e, `CREATE STREAM demo1 (temp FLOAT, hum BIGINT, ts BIGINT) WITH (DATASOURCE="in1/`+rule+`", TYPE="memory"`+with+`)`)
	return e, fake
}

// feedJoin publishes the rows of demo and demo1 in the order of their ts,
// demo's first on a tie, one at a time, the clock set to each row's ts
// when at is true, and waits until the rule has taken each in.
func feedJoin(t *testing.T, e *engine.Engine, fake *clock.Fake, rule string, at bool, demo, demo1 []map[string]any) {
	t.Helper()
	type msg struct {
		topic string
		row   map[string]any
	}
	var msgs []msg
	for _, r := range demo {
		msgs = append(msgs, msg{"in/" + rule, r})
	}
	for _, r := range demo1 {
		msgs = append(msgs, msg{"in1/" + rule, r})
	}
	slices.SortStableFunc(msgs, func(a, b msg) int { return cmp.Compare(a.row["ts"].(int64), b.row["ts"].(int64)) })
	for _, m := range msgs {
		st, _ := e.RuleStatus(rule)
		if at {
			fake.Set(time.UnixMilli(m.row["ts"].(int64)))
		}
		publish(t, e, m.topic, m.row)
		eventually(t, "the rule takes the row in", func() bool {
			now, _ := e.RuleStatus(rule)
			return now.RecordsIn > st.RecordsIn
		})
	}
}

func noExceptions(t *testing.T, e *engine.Engine, rule string) {
	t.Helper()
	if st, _ := e.RuleStatus(rule); st.Exceptions != 0 {
		t.Fatalf("rule %s: %d exceptions, last %q", rule, st.Exceptions, st.LastError)
	}
}

// eKuiper's join in a tumbling window, in processing time: each window
// joins the rows of both streams that arrived in it; blue at 486822 finds
// no demo1 row with its ts.
func TestJoinTumblingWindow(t *testing.T) {
	e, fake := joinEngine(t, "join", 1541152486000, "")
	mustRule(t, e, `{"id": "join", "sql": "SELECT demo.color, demo1.hum FROM demo INNER JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)", "actions": [{"testSets": {}}]}`)
	feedJoin(t, e, fake, "join", true, demoRows, demo1Rows)
	fake.Set(time.UnixMilli(1541152490000))
	eventually(t, "four windows", func() bool { return len(setsOf("join")) == 4 })
	noExceptions(t, e, "join")
	wantSets(t, "join",
		`[{"color":"red","hum":65}]`,
		`[{"color":"blue","hum":75}]`,
		`[{"color":"yellow","hum":80}]`,
		`[{"color":"red","hum":62}]`,
	)

	// One source per stream, and a stream a rule joins cannot be dropped.
	st, _ := e.RuleStatus("join")
	var sources []string
	for _, s := range st.Sources {
		sources = append(sources, s.Stream+"/"+s.Type)
	}
	if got := strings.Join(sources, " "); got != "demo/memory demo1/memory" {
		t.Errorf("sources: %s", got)
	}
	if err := e.DropStream("demo1"); err == nil || !strings.Contains(err.Error(), "used by rule(s) join") {
		t.Errorf("drop demo1: %v", err)
	}
}

// LEFT JOIN keeps every demo row, with NULL for demo1's columns where no
// row matches; WHERE runs on the joined rows, after the join.
func TestJoinLeftLeavesNulls(t *testing.T) {
	e, fake := joinEngine(t, "left", 1541152486000, "")
	mustRule(t, e, `{"id": "left", "sql": "SELECT demo.color, demo1.hum, temp FROM demo LEFT JOIN demo1 ON demo.ts = demo1.ts WHERE demo.size > 1 GROUP BY TUMBLINGWINDOW(ss, 1)", "actions": [{"testSets": {}}]}`)
	feedJoin(t, e, fake, "left", true, demoRows, demo1Rows[:3])
	fake.Set(time.UnixMilli(1541152490000))
	eventually(t, "three windows", func() bool { return len(setsOf("left")) == 3 })
	noExceptions(t, e, "left")
	wantSets(t, "left",
		`[{"color":"red","hum":65,"temp":25.5},{"color":"blue","hum":null,"temp":null}]`,
		`[{"color":"blue","hum":75,"temp":28.1}]`,
		`[{"color":"yellow","hum":null,"temp":null}]`,
	)
}

// Aggregates over the joined rows of each window.
func TestJoinAggregates(t *testing.T) {
	e, fake := joinEngine(t, "joinagg", 1541152486000, "")
	mustRule(t, e, `{"id": "joinagg", "sql": "SELECT count(*) AS n, avg(demo1.hum) AS h, collect(color) AS colors, window_end() AS we FROM demo FULL JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 2)", "actions": [{"testSets": {}}]}`)
	feedJoin(t, e, fake, "joinagg", true, demoRows, demo1Rows)
	fake.Set(time.UnixMilli(1541152490000))
	eventually(t, "two windows", func() bool { return len(setsOf("joinagg")) == 2 })
	noExceptions(t, e, "joinagg")
	wantSets(t, "joinagg",
		`[{"colors":["red","blue","blue",null],"h":66,"n":4,"we":1541152488000}]`,
		`[{"colors":["yellow","red"],"h":71,"n":2,"we":1541152490000}]`,
	)
}

// In event time every stream needs its TIMESTAMP column; rows of both move
// the one watermark, and windows are joined when it passes them.
func TestJoinEventTime(t *testing.T) {
	e, fake := joinEngine(t, "joinevent", 1541152480000, `, TIMESTAMP="ts"`)
	mustRule(t, e, `{"id": "joinevent", "sql": "SELECT demo.color, demo1.hum, window_end() AS we FROM demo JOIN demo1 ON demo.ts = demo1.ts GROUP BY TUMBLINGWINDOW(ss, 1)", "actions": [{"testSets": {}}], "options": {"isEventTime": true, "lateTolerance": 1000}}`)
	last := map[string]any{"color": "yellow", "size": int64(4), "ts": int64(1541152492342)}
	feedJoin(t, e, fake, "joinevent", false, append(slices.Clone(demoRows), last), demo1Rows)
	eventually(t, "four windows", func() bool { return len(setsOf("joinevent")) == 4 })
	noExceptions(t, e, "joinevent")
	wantSets(t, "joinevent",
		`[{"color":"red","hum":65,"we":1541152487000}]`,
		`[{"color":"blue","hum":75,"we":1541152488000}]`,
		`[{"color":"yellow","hum":80,"we":1541152489000}]`,
		`[{"color":"red","hum":62,"we":1541152490000}]`,
	)

	mustStream(t, e, `CREATE STREAM plain (hum BIGINT, ts BIGINT) WITH (DATASOURCE="in2/joinevent", TYPE="memory")`)
	_, err := e.CreateRule([]byte(`{"id": "nots", "sql": "SELECT demo.color FROM demo JOIN plain ON demo.ts = plain.ts GROUP BY TUMBLINGWINDOW(ss, 1)", "actions": [{"testSets": {}}], "options": {"isEventTime": true}}`))
	if want := `options.isEventTime: stream "plain" has no TIMESTAMP column`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("event-time join with a stream without TIMESTAMP: %v, want %s", err, want)
	}
}

// A stream joined with itself under two aliases: its rows are on both
// sides, though the rule reads it once.
func TestJoinSelf(t *testing.T) {
	e, fake := joinEngine(t, "self", 1541152486000, "")
	mustRule(t, e, `{"id": "self", "sql": "SELECT a.size, b.size AS bigger FROM demo AS a JOIN demo AS b ON a.color = b.color AND a.size < b.size GROUP BY TUMBLINGWINDOW(ss, 10)", "actions": [{"testSets": {}}]}`)
	feed(t, e, fake, "self", true, demoRows...)
	fake.Set(time.UnixMilli(1541152490000))
	eventually(t, "the window", func() bool { return len(setsOf("self")) == 1 })
	noExceptions(t, e, "self")
	wantSets(t, "self", `[{"bigger":6,"size":2},{"bigger":3,"size":1}]`)
	if st, _ := e.RuleStatus("self"); len(st.Sources) != 1 {
		t.Errorf("%d sources, want 1", len(st.Sources))
	}
}

// An ON that is not a bool fails its window's result set, an exception of
// the rule, which goes on.
func TestJoinOnError(t *testing.T) {
	e, fake := joinEngine(t, "onerr", 1541152486000, "")
	mustRule(t, e, `{"id": "onerr", "sql": "SELECT demo.color FROM demo JOIN demo1 ON demo.size GROUP BY TUMBLINGWINDOW(ss, 1)", "actions": [{"testSets": {}}]}`)
	feedJoin(t, e, fake, "onerr", true, demoRows[:1], demo1Rows[:1])
	fake.Set(time.UnixMilli(1541152487000))
	eventually(t, "the exception", func() bool { st, _ := e.RuleStatus("onerr"); return st.Exceptions == 1 })
	st, _ := e.RuleStatus("onerr")
	if st.Status != "running" || st.LastError != "1:43: ON: want bool, got int64" {
		t.Errorf("status %s, last error %q", st.Status, st.LastError)
	}
	wantSets(t, "onerr")
}

// A join without a window is refused when the rule is created, with the
// position in its SQL.
func TestJoinNeedsWindow(t *testing.T) {
	e, _ := joinEngine(t, "nowin", 1541152486000, "")
	_, err := e.CreateRule([]byte(`{"id": "nowin", "sql": "SELECT demo.color FROM demo JOIN demo1 ON demo.ts = demo1.ts", "actions": [{"testSets": {}}]}`))
	want := fmt.Sprintf(`rule %q: sql: 1:29: JOIN needs a window`, "nowin")
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("join without a window: %v, want %s", err, want)
	}
}
