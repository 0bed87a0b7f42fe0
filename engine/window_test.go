package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/internal/clock"
	"github.com/kgen-dev/kgen/sdk"
)

// setSink records each result set a rule sends, as one JSON array per
// CollectList (or one object per Collect), by rule.
type setSink struct{}

var resultSets = struct {
	sync.Mutex
	sets map[string][]string
}{sets: map[string][]string{}}

func init() { sdk.RegisterSink("testSets", func() sdk.Sink { return setSink{} }) }

func (setSink) Provision(sdk.Context, map[string]any) error { return nil }
func (setSink) Connect(sdk.Context) error                   { return nil }
func (setSink) Close(sdk.Context) error                     { return nil }
func (setSink) Collect(ctx sdk.Context, row map[string]any) error {
	return recordSet(ctx.GetRuleId(), row)
}
func (setSink) CollectList(ctx sdk.Context, rows []map[string]any) error {
	return recordSet(ctx.GetRuleId(), rows)
}

func recordSet(rule string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	resultSets.Lock()
	defer resultSets.Unlock()
	resultSets.sets[rule] = append(resultSets.sets[rule], string(b))
	return nil
}

func setsOf(rule string) []string {
	resultSets.Lock()
	defer resultSets.Unlock()
	return append([]string(nil), resultSets.sets[rule]...)
}

// The rows of eKuiper's window tests: {color, size, ts} at ts (Unix ms).
var demoRows = []map[string]any{
	{"color": "red", "size": int64(3), "ts": int64(1541152486013)},
	{"color": "blue", "size": int64(6), "ts": int64(1541152486822)},
	{"color": "blue", "size": int64(2), "ts": int64(1541152487632)},
	{"color": "yellow", "size": int64(4), "ts": int64(1541152488442)},
	{"color": "red", "size": int64(1), "ts": int64(1541152489252)},
}

// windowEngine opens an engine on a fake clock set to start (Unix ms) with
// the stream demo on memory topic in/<rule>.
func windowEngine(t *testing.T, rule string, start int64, with string) (*engine.Engine, *clock.Fake) {
	t.Helper()
	fake := clock.NewFake(time.UnixMilli(start))
	e, err := engine.Open(engine.Options{Root: t.TempDir(), Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	mustStream(t, e, `CREATE STREAM demo (color STRING, size BIGINT, ts BIGINT) WITH (DATASOURCE="in/`+rule+`", TYPE="memory"`+with+`)`)
	resultSets.Lock()
	delete(resultSets.sets, rule)
	resultSets.Unlock()
	return e, fake
}

// feed publishes rows one at a time, the clock set to each row's ts when
// at is true, and waits until the rule has taken each in.
func feed(t *testing.T, e *engine.Engine, fake *clock.Fake, rule string, at bool, rows ...map[string]any) {
	t.Helper()
	for _, row := range rows {
		st, _ := e.RuleStatus(rule)
		if at {
			fake.Set(time.UnixMilli(row["ts"].(int64)))
		}
		publish(t, e, "in/"+rule, row)
		eventually(t, "the rule takes the row in", func() bool {
			now, _ := e.RuleStatus(rule)
			return now.RecordsIn > st.RecordsIn
		})
	}
}

// wantSets waits until the rule's sink has received as many result sets as
// want (sinks run in their own goroutines), then compares them.
func wantSets(t *testing.T, rule string, want ...string) {
	t.Helper()
	if len(want) > 0 {
		eventually(t, fmt.Sprintf("%d result sets of rule %s", len(want), rule), func() bool { return len(setsOf(rule)) >= len(want) })
	}
	got := setsOf(rule)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rule %s result sets:\n%s\nwant:\n%s", rule, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A tumbling window grouped by color, in processing time: each window is
// one result set, ordered by color, emitted when the clock passes its end.
func TestTumblingWindowGroupBy(t *testing.T) {
	e, fake := windowEngine(t, "tumble", 1541152486000, "")
	mustRule(t, e, `{"id": "tumble", "sql": "SELECT color, count(*) AS c, window_start() AS ws, window_end() AS we FROM demo GROUP BY TUMBLINGWINDOW(ss, 1), color ORDER BY color", "actions": [{"testSets": {}}]}`)
	feed(t, e, fake, "tumble", true, demoRows...)
	fake.Set(time.UnixMilli(1541152490000))
	eventually(t, "four windows", func() bool { return len(setsOf("tumble")) == 4 })
	wantSets(t, "tumble",
		`[{"c":1,"color":"blue","we":1541152487000,"ws":1541152486000},{"c":1,"color":"red","we":1541152487000,"ws":1541152486000}]`,
		`[{"c":1,"color":"blue","we":1541152488000,"ws":1541152487000}]`,
		`[{"c":1,"color":"yellow","we":1541152489000,"ws":1541152488000}]`,
		`[{"c":1,"color":"red","we":1541152490000,"ws":1541152489000}]`,
	)
}

// eKuiper's TestWindowRule8: WHERE before the window, HAVING on an alias,
// plain columns from the first row of the group.
func TestTumblingWindowHaving(t *testing.T) {
	e, fake := windowEngine(t, "having", 1541152486000, "")
	mustRule(t, e, `{"id": "having", "sql": "SELECT color, window_end(), ts, count(*) AS c, window_start() FROM demo WHERE size > 2 GROUP BY TUMBLINGWINDOW(ss, 1) HAVING c > 1", "actions": [{"testSets": {}}]}`)
	feed(t, e, fake, "having", true, demoRows...)
	fake.Set(time.UnixMilli(1541152490000))
	st, _ := e.RuleStatus("having")
	if st.Exceptions != 0 {
		t.Fatalf("exceptions: %s", st.LastError)
	}
	wantSets(t, "having",
		`[{"c":2,"color":"red","ts":1541152486013,"window_end":1541152487000,"window_start":1541152486000}]`)
}

// COUNTWINDOW(3): every third row, with collect(*) indexed.
func TestCountWindow(t *testing.T) {
	e, fake := windowEngine(t, "count", 1541152486000, "")
	mustRule(t, e, `{"id": "count", "sql": "SELECT collect(*)[0]->color AS c, sum(size) AS s FROM demo GROUP BY COUNTWINDOW(3)", "actions": [{"testSets": {}}]}`)
	feed(t, e, fake, "count", true, demoRows...)
	wantSets(t, "count", `[{"c":"red","s":11}]`)
}

// Event time: rows are windowed by their ts column; a row behind the
// watermark is counted as late, not merged (eKuiper's TestEventWindowRule2
// arrival order).
func TestEventTimeWindowCountsLateRows(t *testing.T) {
	e, fake := windowEngine(t, "event", 1541152480000, `, TIMESTAMP="ts"`)
	mustRule(t, e, `{"id": "event", "sql": "SELECT window_start() AS ws, window_end() AS we, color, ts FROM demo WHERE size > 2 GROUP BY TUMBLINGWINDOW(ss, 1)", "actions": [{"testSets": {}}], "options": {"isEventTime": true, "lateTolerance": 1000}}`)
	arrival := []map[string]any{demoRows[0], demoRows[2], demoRows[4], demoRows[1], demoRows[3],
		{"color": "yellow", "size": int64(4), "ts": int64(1541152492342)}}
	feed(t, e, fake, "event", false, arrival...)
	st, _ := e.RuleStatus("event")
	if st.LateRows != 1 || st.Exceptions != 0 {
		t.Fatalf("late rows %d, exceptions %d (%s); want the blue row at 486822 late", st.LateRows, st.Exceptions, st.LastError)
	}
	wantSets(t, "event",
		`[{"color":"red","ts":1541152486013,"we":1541152487000,"ws":1541152486000}]`,
		`[{"color":"yellow","ts":1541152488442,"we":1541152489000,"ws":1541152488000}]`,
	)
}

// Event time with a rule that names no TIMESTAMP column: its decoder,
// which keeps only the fields the rule reads, keeps that column too.
func TestEventTimeColumnNotSelected(t *testing.T) {
	e, _ := windowEngine(t, "eventnots", 1541152480000, `, TIMESTAMP="ts"`)
	mustRule(t, e, `{"id": "eventnots", "sql": "SELECT color FROM demo WHERE size > 2 GROUP BY TUMBLINGWINDOW(ss, 1)", "actions": [{"testSets": {}}], "options": {"isEventTime": true, "lateTolerance": 1000}}`)
	arrival := []map[string]any{demoRows[0], demoRows[2], demoRows[4], demoRows[1], demoRows[3],
		{"color": "yellow", "size": int64(4), "ts": int64(1541152492342)}}
	for i, row := range arrival {
		// As JSON, which the rule's decoder decodes.
		payload, _ := json.Marshal(row)
		if err := e.MemoryHub().PublishPayload(context.Background(), "in/eventnots", payload); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the rule takes the row in", func() bool {
			st, _ := e.RuleStatus("eventnots")
			return st.RecordsIn > int64(i)
		})
	}
	st, _ := e.RuleStatus("eventnots")
	if st.LateRows != 1 || st.Exceptions != 0 {
		t.Fatalf("late rows %d, exceptions %d (%s); want the blue row at 486822 late", st.LateRows, st.Exceptions, st.LastError)
	}
	wantSets(t, "eventnots", `[{"color":"red"}]`, `[{"color":"yellow"}]`)
}

// A window that would hold more rows than maxWindowRows refuses the row and
// says so in the rule status; the rule goes on.
func TestWindowRowLimit(t *testing.T) {
	e, fake := windowEngine(t, "full", 1541152486000, "")
	mustRule(t, e, `{"id": "full", "sql": "SELECT count(*) AS c FROM demo GROUP BY TUMBLINGWINDOW(ss, 10)", "actions": [{"testSets": {}}], "options": {"maxWindowRows": 2}}`)
	feed(t, e, fake, "full", true, demoRows[:3]...)
	st, _ := e.RuleStatus("full")
	if st.Exceptions != 1 || !strings.Contains(st.LastError, "window full") || st.Status != "running" {
		t.Fatalf("status %s, exceptions %d, last error %q; want one window-full exception", st.Status, st.Exceptions, st.LastError)
	}
	fake.Set(time.UnixMilli(1541152500000))
	eventually(t, "the window", func() bool { return len(setsOf("full")) == 1 })
	wantSets(t, "full", `[{"c":2}]`)
}

// eKuiper's TestWindowRule9: a hopping window whose FILTER keeps rows out
// of the window; each row is its own result row.
func TestHoppingWindowFilter(t *testing.T) {
	e, fake := windowEngine(t, "hop", 1541152486000, "")
	mustRule(t, e, `{"id": "hop", "sql": "SELECT color, window_start(), window_end() FROM demo GROUP BY HOPPINGWINDOW(ss, 2, 1) FILTER (WHERE size > 2)", "actions": [{"testSets": {}}]}`)
	feed(t, e, fake, "hop", true, demoRows...)
	fake.Set(time.UnixMilli(1541152490000))
	eventually(t, "four windows", func() bool { return len(setsOf("hop")) == 4 })
	wantSets(t, "hop",
		`[{"color":"red","window_end":1541152487000,"window_start":1541152485000},{"color":"blue","window_end":1541152487000,"window_start":1541152485000}]`,
		`[{"color":"red","window_end":1541152488000,"window_start":1541152486000},{"color":"blue","window_end":1541152488000,"window_start":1541152486000}]`,
		`[{"color":"yellow","window_end":1541152489000,"window_start":1541152487000}]`,
		`[{"color":"yellow","window_end":1541152490000,"window_start":1541152488000}]`,
	)
}

// eKuiper's TestSlidingDelay: the row that matches OVER (WHEN) triggers a
// window emitted one second later, holding the rows that came meanwhile.
func TestSlidingWindowDelay(t *testing.T) {
	e, fake := windowEngine(t, "slide", 1541152486000, "")
	mustRule(t, e, `{"id": "slide", "sql": "SELECT size, color FROM demo GROUP BY SLIDINGWINDOW(ss, 5, 1) OVER (WHEN size = 2)", "actions": [{"testSets": {}}]}`)
	feed(t, e, fake, "slide", true, demoRows[:4]...)
	fake.Set(time.UnixMilli(1541152488632))
	eventually(t, "the delayed window", func() bool { return len(setsOf("slide")) == 1 })
	wantSets(t, "slide", `[{"color":"red","size":3},{"color":"blue","size":6},{"color":"blue","size":2},{"color":"yellow","size":4}]`)
}

// sendSingle, eKuiper's common sink property, hands a window's rows to the
// sink one by one instead of as one list.
func TestSendSingle(t *testing.T) {
	e, fake := windowEngine(t, "single", 1541152486000, "")
	mustRule(t, e, `{"id": "single", "sql": "SELECT color FROM demo GROUP BY TUMBLINGWINDOW(ss, 1)", "actions": [{"testSets": {"sendSingle": true}}]}`)
	feed(t, e, fake, "single", true, demoRows[:2]...)
	fake.Set(time.UnixMilli(1541152487000))
	eventually(t, "two rows", func() bool { return len(setsOf("single")) == 2 })
	wantSets(t, "single", `{"color":"red"}`, `{"color":"blue"}`)
}
