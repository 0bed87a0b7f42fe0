package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/sdk"
)

// Test extensions, registered like any statically compiled plugin.
func init() {
	sdk.RegisterFunction("testCount", func() sdk.Function { return countFunc{} })
	sdk.RegisterFunction("testPanic", func() sdk.Function { return panicFunc{} })
	sdk.RegisterSink("testFail", func() sdk.Sink { return &scriptedSink{fail: func(int) error { return errors.New("disk full") }} })
	sdk.RegisterSink("testFlaky", func() sdk.Sink {
		return &scriptedSink{fail: func(call int) error {
			if call%3 != 2 { // two failures, then success, for every row
				return sdk.Retryable(errors.New("connection reset"))
			}
			return nil
		}}
	})
	sdk.RegisterSink("testSlow", func() sdk.Sink { return &scriptedSink{delay: time.Millisecond} })
}

// countFunc adds its argument to a counter in the state and returns the total.
type countFunc struct{}

func (countFunc) Validate(args []sdk.Arg) error { return sdk.CheckArgCount("testCount", args, 1, 1) }
func (countFunc) IsAggregate() bool             { return false }
func (countFunc) Exec(ctx sdk.FunctionContext, args []any) (any, bool) {
	n, ok := args[0].(int64)
	if !ok {
		return fmt.Errorf("testCount: want int64, got %T", args[0]), false
	}
	if err := ctx.IncrCounter("total", int(n)); err != nil {
		return err, false
	}
	total, err := ctx.GetCounter("total")
	if err != nil {
		return err, false
	}
	return int64(total), true
}

type panicFunc struct{}

func (panicFunc) Validate([]sdk.Arg) error { return nil }
func (panicFunc) IsAggregate() bool        { return false }
func (panicFunc) Exec(_ sdk.FunctionContext, args []any) (any, bool) {
	if args[0] == "boom" {
		panic("plugin bug")
	}
	return args[0], true
}

// scriptedSink records rows; fail decides per Collect call whether it fails.
type scriptedSink struct {
	fail  func(call int) error
	delay time.Duration
	calls int
}

var sinkRows = struct {
	sync.Mutex
	rows map[string][]map[string]any
}{rows: map[string][]map[string]any{}}

func (s *scriptedSink) Provision(sdk.Context, map[string]any) error { return nil }
func (s *scriptedSink) Connect(sdk.Context) error                   { return nil }
func (s *scriptedSink) Close(sdk.Context) error                     { return nil }
func (s *scriptedSink) CollectList(ctx sdk.Context, rows []map[string]any) error {
	for _, r := range rows {
		if err := s.Collect(ctx, r); err != nil {
			return err
		}
	}
	return nil
}
func (s *scriptedSink) Collect(ctx sdk.Context, row map[string]any) error {
	call := s.calls
	s.calls++
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	if s.fail != nil {
		if err := s.fail(call); err != nil {
			return err
		}
	}
	sinkRows.Lock()
	sinkRows.rows[ctx.GetRuleId()] = append(sinkRows.rows[ctx.GetRuleId()], row)
	sinkRows.Unlock()
	return nil
}

// resetSunk forgets what earlier runs of a test recorded for these rules.
func resetSunk(rules ...string) {
	sinkRows.Lock()
	defer sinkRows.Unlock()
	for _, r := range rules {
		delete(sinkRows.rows, r)
	}
}

func sunkRows(rule string) []map[string]any {
	sinkRows.Lock()
	defer sinkRows.Unlock()
	return append([]map[string]any(nil), sinkRows.rows[rule]...)
}

func open(t *testing.T, root string) *engine.Engine {
	t.Helper()
	e, err := engine.Open(engine.Options{Root: root})
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	return e
}

func mustStream(t *testing.T, e *engine.Engine, sql string) {
	t.Helper()
	if _, err := e.CreateStream(sql); err != nil {
		t.Fatalf("create stream: %v", err)
	}
}

func mustRule(t *testing.T, e *engine.Engine, rule string) {
	t.Helper()
	if _, err := e.CreateRule([]byte(rule)); err != nil {
		t.Fatalf("create rule: %v", err)
	}
}

func publish(t *testing.T, e *engine.Engine, topic string, rows ...map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, r := range rows {
		if err := e.MemoryHub().Publish(ctx, topic, r); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
}

func receive(t *testing.T, ch <-chan map[string]any, n int) []map[string]any {
	t.Helper()
	var out []map[string]any
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case r := <-ch:
			out = append(out, r)
		case <-timeout:
			t.Fatalf("received %d of %d rows: %v", len(out), n, out)
		}
	}
	return out
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitFor(t, 10*time.Second, what, cond)
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRuleFiltersAndProjects(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM demo (temperature FLOAT, humidity BIGINT) WITH (DATASOURCE="in/demo", TYPE="memory")`)
	out, cancel := e.MemoryHub().Subscribe("out/demo", 16)
	defer cancel()
	mustRule(t, e, `{"id":"r1","sql":"SELECT temperature * 2 AS t, humidity FROM demo WHERE temperature > 50","actions":[{"memory":{"topic":"out/demo"}}]}`)
	publish(t, e, "in/demo",
		map[string]any{"temperature": 63.5, "humidity": int64(40)},
		map[string]any{"temperature": 20.0, "humidity": int64(41)},
		map[string]any{"temperature": int64(70), "humidity": int64(42)},
	)
	got := receive(t, out, 2)
	want := []string{"map[humidity:40 t:127]", "map[humidity:42 t:140]"}
	for i, r := range got {
		if fmt.Sprint(r) != want[i] {
			t.Errorf("row %d = %v, want %s", i, r, want[i])
		}
	}
	if _, isFloat := got[1]["t"].(float64); !isFloat {
		t.Errorf("a BIGINT value in a FLOAT column must be converted: t = %T", got[1]["t"])
	}
	eventually(t, "metrics", func() bool {
		st, _ := e.RuleStatus("r1")
		return st.RecordsIn == 3 && st.RecordsOut == 2 && st.Sinks[0].RecordsOut == 2
	})
	st, _ := e.RuleStatus("r1")
	if st.Status != "running" || st.Exceptions != 0 {
		t.Fatalf("status = %+v", st)
	}
}

func TestStreamsAndRulesSurviveRestart(t *testing.T) {
	root := t.TempDir()
	e := open(t, root)
	mustStream(t, e, `CREATE STREAM s () WITH (DATASOURCE="in/s", TYPE="memory")`)
	mustRule(t, e, `{"id":"keep","sql":"SELECT testCount(n) AS total FROM s","actions":[{"memory":{"topic":"out/keep"}}]}`)
	mustRule(t, e, `{"id":"idle","sql":"SELECT * FROM s","actions":[{"nop":{}}]}`)
	if err := e.StopRule("idle"); err != nil {
		t.Fatal(err)
	}
	out, cancel := e.MemoryHub().Subscribe("out/keep", 16)
	publish(t, e, "in/s", map[string]any{"n": int64(2)}, map[string]any{"n": int64(3)})
	if got := receive(t, out, 2); got[1]["total"] != int64(5) {
		t.Fatalf("total before restart = %v", got[1]["total"])
	}
	cancel()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e = open(t, root)
	defer e.Close()
	if got := strings.Join(e.Streams(), ","); got != "s" {
		t.Fatalf("streams after restart = %q", got)
	}
	rules := fmt.Sprint(e.Rules())
	if rules != "[{idle stopped} {keep running}]" {
		t.Fatalf("rules after restart = %s", rules)
	}
	out, cancel = e.MemoryHub().Subscribe("out/keep", 16)
	defer cancel()
	publish(t, e, "in/s", map[string]any{"n": int64(10)})
	if got := receive(t, out, 1); got[0]["total"] != int64(15) {
		t.Fatalf("function state was not kept across the restart: total = %v, want 15", got[0]["total"])
	}
	if err := e.DeleteRule("keep"); err != nil {
		t.Fatal(err)
	}
	mustRule(t, e, `{"id":"keep","sql":"SELECT testCount(n) AS total FROM s","actions":[{"memory":{"topic":"out/keep"}}]}`)
	publish(t, e, "in/s", map[string]any{"n": int64(1)})
	if got := receive(t, out, 1); got[0]["total"] != int64(1) {
		t.Fatalf("state of a deleted rule came back: total = %v, want 1", got[0]["total"])
	}
}

func TestBadInputIsRefusedAndNothingIsSaved(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM s (a BIGINT) WITH (DATASOURCE="in/s", TYPE="memory")`)
	cases := []struct{ rule, want string }{
		{`{"id":"r","sql":"SELECT a FROM","actions":[{"nop":{}}]}`, `rule "r": sql: 1:14: expected stream name, got end of input`},
		{`{"id":"r","sql":"SELECT a FROM nope","actions":[{"nop":{}}]}`, `rule "r": stream "nope": not found`},
		{`{"id":"r","sql":"SELECT a FROM s","actions":[{"nosuch":{}}]}`, `rule "r": actions[0] (nosuch): unknown sink type "nosuch" (known: file, log, memory, mqtt, nop, testFail, testFlaky, testSets, testSlow, testStuck)`},
		{`{"id":"r","sql":"SELECT nosuch(a) FROM s","actions":[{"nop":{}}]}`, `rule "r": sql: 1:8: unknown function "nosuch"`},
		{`{"id":"r","sql":"SELECT testCount(a, a) FROM s","actions":[{"nop":{}}]}`, `rule "r": sql: 1:8: function "testCount": testCount: want 1 argument, got 2`},
		{`{"id":"r","sql":"SELECT a FROM s","actions":[{"memory":{}}]}`, `rule "r": actions[0] (memory): memory sink: property "topic" is required`},
		{"{\"id\":\"r\",\n \"sql\": SELECT}", `rule JSON: line 2, column 9: invalid character 'S' looking for beginning of value`},
		{`{"id":"r","sql":"SELECT a FROM s","actions":[]}`, `rule "r": "actions" must list at least one sink`},
		{`{"id":"a b","sql":"SELECT a FROM s","actions":[{"nop":{}}]}`, `rule JSON: "id" "a b": only letters, digits, "_" and "-" are allowed`},
		{`{"id":"r","sql":"SELECT a FROM s","actions":[{"nop":{}}],"options":{"bufferLength":0}}`, `rule "r": options.bufferLength: want an integer from 1 to 1048576, got 0`},
		{`{"id":"r","sqll":"x"}`, `rule JSON: line 1, column 11: unknown key "sqll", did you mean "sql"?`},
	}
	for _, c := range cases {
		_, err := e.CreateRule([]byte(c.rule))
		if err == nil || err.Error() != c.want {
			t.Errorf("CreateRule(%s)\n got: %v\nwant: %s", c.rule, err, c.want)
		}
	}
	if rules := e.Rules(); len(rules) != 0 {
		t.Fatalf("refused rules were kept: %v", rules)
	}
	streamCases := []struct{ sql, want string }{
		{`CREATE STREAM x (a BIGINT) WITH (TYPE="nosuch")`, `stream "x": unknown source type "nosuch" (known: file, memory, mqtt, testForget, testProvisionState)`},
		{`CREATE STREAM x (a BIGINT) WITH (FORMAT="xml")`, `stream "x": unknown FORMAT "xml": want JSON or BINARY`},
		{`CREATE STREAM x (a BIGINT) WITH (TYPE="mqtt", CONF_KEY="nosuch")`, ``},
		{`CREATE STREAM s () WITH (TYPE="memory")`, `stream "s": already exists`},
	}
	for _, c := range streamCases {
		_, err := e.CreateStream(c.sql)
		if c.want == "" {
			if err == nil || !strings.Contains(err.Error(), `CONF_KEY "nosuch" not found in `) {
				t.Errorf("CreateStream(%s) = %v", c.sql, err)
			}
			continue
		}
		if err == nil || err.Error() != c.want {
			t.Errorf("CreateStream(%s)\n got: %v\nwant: %s", c.sql, err, c.want)
		}
	}
	if got := e.Streams(); len(got) != 1 {
		t.Fatalf("streams = %v", got)
	}
	mustRule(t, e, `{"id":"user","sql":"SELECT a FROM s","actions":[{"nop":{}}]}`)
	if err := e.DropStream("s"); err == nil || err.Error() != `stream "s" is used by rule(s) user: delete them first` {
		t.Fatalf("DropStream = %v", err)
	}
}

func TestFailuresAreCountedAndTheRuleGoesOn(t *testing.T) {
	resetSunk("failing", "flaky")
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM s (v STRING) WITH (DATASOURCE="in/f", TYPE="memory")`)
	mustRule(t, e, `{"id":"failing","sql":"SELECT v FROM s","actions":[{"testFail":{}}]}`)
	mustRule(t, e, `{"id":"flaky","sql":"SELECT v FROM s","actions":[{"testFlaky":{}}]}`)
	mustRule(t, e, `{"id":"panicky","sql":"SELECT testPanic(v) AS v FROM s","actions":[{"memory":{"topic":"out/p"}}]}`)
	out, cancel := e.MemoryHub().Subscribe("out/p", 16)
	defer cancel()
	publish(t, e, "in/f", map[string]any{"v": "a"}, map[string]any{"v": "boom"}, map[string]any{"v": int64(7)}, map[string]any{"v": "c"})
	got := receive(t, out, 2)
	if fmt.Sprint(got) != "[map[v:a] map[v:c]]" {
		t.Fatalf("panicky rule output = %v", got)
	}
	eventually(t, "every rule to see the 4 rows", func() bool {
		a, _ := e.RuleStatus("failing")
		b, _ := e.RuleStatus("flaky")
		return a.Sinks[0].Exceptions == 3 && b.Sinks[0].RecordsOut == 3
	})
	st, _ := e.RuleStatus("panicky")
	if st.Status != "running" || st.Exceptions != 2 ||
		!strings.Contains(st.LastError, `stream "s": field "v": want STRING, got int64 7`) {
		t.Errorf("panicky status = %+v", st)
	}
	st, _ = e.RuleStatus("failing")
	if st.Status != "running" || st.Sinks[0].LastError != "disk full" || st.Exceptions != 4 {
		t.Errorf("failing status = %+v", st)
	}
	st, _ = e.RuleStatus("flaky")
	if st.Sinks[0].Retries != 6 || st.Sinks[0].Exceptions != 0 {
		t.Errorf("flaky status = %+v", st.Sinks[0])
	}
	if n := len(sunkRows("flaky")); n != 3 {
		t.Errorf("flaky sink wrote %d rows, want 3", n)
	}
}

func TestSlowSinkSlowsTheSourceDownWithoutLoss(t *testing.T) {
	resetSunk("slow")
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM s () WITH (DATASOURCE="in/slow", TYPE="memory")`)
	mustRule(t, e, `{"id":"slow","sql":"SELECT n FROM s","actions":[{"testSlow":{}}],"options":{"bufferLength":2}}`)
	const n = 200
	var published atomic.Int64
	go func() {
		for i := range n {
			publish(t, e, "in/slow", map[string]any{"n": int64(i)})
			published.Add(1)
		}
	}()
	eventually(t, "all rows written", func() bool { return len(sunkRows("slow")) == n })
	rows := sunkRows("slow")
	for i, r := range rows {
		if r["n"] != int64(i) {
			t.Fatalf("row %d = %v: order lost", i, r)
		}
	}
	st, _ := e.RuleStatus("slow")
	if st.Sinks[0].Dropped != 0 {
		t.Fatalf("rows dropped: %+v", st.Sinks[0])
	}
}

func TestDropPolicyCountsDrops(t *testing.T) {
	resetSunk("dropper")
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM s () WITH (DATASOURCE="in/drop", TYPE="memory")`)
	mustRule(t, e, `{"id":"dropper","sql":"SELECT n FROM s","actions":[{"testSlow":{}}],"options":{"bufferLength":1,"bufferFullPolicy":"drop"}}`)
	for i := range 100 {
		publish(t, e, "in/drop", map[string]any{"n": int64(i)})
	}
	eventually(t, "every row accounted for", func() bool {
		st, _ := e.RuleStatus("dropper")
		return st.Sinks[0].RecordsOut+st.Sinks[0].Dropped == 100 && st.Sinks[0].Pending == 0
	})
	st, _ := e.RuleStatus("dropper")
	if st.Sinks[0].Dropped == 0 {
		t.Fatalf("a 1-row buffer behind a slow sink dropped nothing: %+v", st.Sinks[0])
	}
}

func init() {
	sdk.RegisterSource("testProvisionState", func() sdk.Source { return &provisionStateSource{} })
}

// provisionStateSource counts its provisionings in its state from Provision
// and ingests that count once.
type provisionStateSource struct{ starts int }

func (s *provisionStateSource) Provision(ctx sdk.Context, _ map[string]any) error {
	if err := ctx.IncrCounter("provisioned", 1); err != nil {
		return err
	}
	n, err := ctx.GetCounter("provisioned")
	s.starts = n
	return err
}
func (s *provisionStateSource) Connect(sdk.Context) error { return nil }
func (s *provisionStateSource) Close(sdk.Context) error   { return nil }
func (s *provisionStateSource) Subscribe(ctx sdk.Context, ingest sdk.Ingest, _ sdk.ErrorIngest) error {
	ingest(ctx, map[string]any{"starts": int64(s.starts), "root": ctx.GetRootPath(), "rule": ctx.GetRuleId()}, nil, time.Time{})
	return nil
}

func TestStateWorksInProvisionAndSurvivesRuleRestart(t *testing.T) {
	root := t.TempDir()
	e := open(t, root)
	defer e.Close()
	mustStream(t, e, `CREATE STREAM p () WITH (TYPE="testProvisionState")`)
	out, cancel := e.MemoryHub().Subscribe("out/prov", 16)
	defer cancel()
	mustRule(t, e, `{"id":"prov","sql":"SELECT * FROM p","actions":[{"memory":{"topic":"out/prov"}}]}`)
	got := receive(t, out, 1)[0]
	if got["starts"] != int64(1) || got["root"] != e.Root() || got["rule"] != "prov" {
		t.Fatalf("first run: %v", got)
	}
	if err := e.RestartRule("prov"); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, out, 1)[0]; got["starts"] != int64(2) {
		t.Fatalf("after restart: %v", got)
	}
}

func TestPayloadsAreDecodedByFormat(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM j (temperature FLOAT) WITH (DATASOURCE="raw/j", TYPE="memory", FORMAT="JSON")`)
	mustStream(t, e, `CREATE STREAM b () WITH (DATASOURCE="raw/b", TYPE="memory", FORMAT="BINARY")`)
	outJ, cancelJ := e.MemoryHub().Subscribe("out/j", 16)
	defer cancelJ()
	outB, cancelB := e.MemoryHub().Subscribe("out/b", 16)
	defer cancelB()
	mustRule(t, e, `{"id":"j","sql":"SELECT temperature FROM j","actions":[{"memory":{"topic":"out/j"}}]}`)
	mustRule(t, e, `{"id":"b","sql":"SELECT length(self) AS n FROM b","actions":[{"memory":{"topic":"out/b"}}]}`)
	ctx := context.Background()
	for _, p := range []string{`{"temperature": 1.5}`, `{"temperature": `, `[{"temperature": 2}, {"temperature": 3}]`} {
		if err := e.MemoryHub().PublishPayload(ctx, "raw/j", []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.MemoryHub().PublishPayload(ctx, "raw/b", []byte{0, 1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(receive(t, outJ, 3)); got != "[map[temperature:1.5] map[temperature:2] map[temperature:3]]" {
		t.Fatalf("JSON rows = %s", got)
	}
	if got := fmt.Sprint(receive(t, outB, 1)); got != "[map[n:4]]" {
		t.Fatalf("BINARY rows = %s", got)
	}
	st, _ := e.RuleStatus("j")
	if st.Exceptions != 1 || !strings.HasPrefix(st.LastError, `stream "j": decode JSON: unexpected end of JSON input`) {
		t.Fatalf("status = %+v", st)
	}
}

// A payload nested 400,000 deep is one row exception, found in the first
// 10,000 levels; the rule goes on with the next payload.
func TestDeepPayloadIsARowException(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM j (temperature FLOAT) WITH (DATASOURCE="raw/j", TYPE="memory", FORMAT="JSON")`)
	out, cancel := e.MemoryHub().Subscribe("out/j", 16)
	defer cancel()
	mustRule(t, e, `{"id":"j","sql":"SELECT temperature FROM j","actions":[{"memory":{"topic":"out/j"}}]}`)
	ctx := context.Background()
	deep := `{"temperature": 1, "x": ` + strings.Repeat("[", 400_000) + strings.Repeat("]", 400_000) + `}`
	for _, p := range []string{deep, `{"temperature": 2.5}`} {
		if err := e.MemoryHub().PublishPayload(ctx, "raw/j", []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(receive(t, out, 1)); got != "[map[temperature:2.5]]" {
		t.Fatalf("rows = %s", got)
	}
	st, _ := e.RuleStatus("j")
	if want := `stream "j": decode JSON: invalid character '[' exceeded max depth at offset 10023`; st.Exceptions != 1 || !strings.HasPrefix(st.LastError, want) {
		t.Fatalf("status = %+v, want 1 exception: %s", st, want)
	}
}

func TestNestedColumnsAreTypedAndReachable(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM n (readings ARRAY(STRUCT(v FLOAT, tag STRING)), raw BYTEA, at DATETIME) WITH (DATASOURCE="raw/n", TYPE="memory")`)
	out, cancel := e.MemoryHub().Subscribe("out/n", 4)
	defer cancel()
	mustRule(t, e, `{"id":"n","sql":"SELECT readings[0]->v AS v, readings[-1].tag AS tag, length(raw) AS bytes, at, CASE WHEN readings[0]->v BETWEEN 1 AND 5 THEN 'low' ELSE 'high' END AS level FROM n WHERE readings[1]->tag LIKE 'b%' AND at IS NOT NULL","actions":[{"memory":{"topic":"out/n"}}]}`)
	payload := `{"readings": [{"v": 2, "tag": "a"}, {"v": 7.5, "tag": "b1"}], "raw": "AAEC", "at": "2026-11-23T10:00:00Z", "extra": 1}`
	if err := e.MemoryHub().PublishPayload(context.Background(), "raw/n", []byte(payload)); err != nil {
		t.Fatal(err)
	}
	bad := `{"readings": [{"v": "x"}]}`
	if err := e.MemoryHub().PublishPayload(context.Background(), "raw/n", []byte(bad)); err != nil {
		t.Fatal(err)
	}
	got := receive(t, out, 1)[0]
	want := map[string]any{"v": 2.0, "tag": "b1", "bytes": int64(3), "at": time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), "level": "low"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("row = %v\nwant  %v", got, want)
	}
	eventually(t, "the bad payload counted", func() bool {
		st, _ := e.RuleStatus("n")
		return st.Exceptions == 1
	})
	st, _ := e.RuleStatus("n")
	if !strings.Contains(st.LastError, `field "readings"[0]."v": want FLOAT, got string "x"`) {
		t.Fatalf("last error = %q", st.LastError)
	}
}
