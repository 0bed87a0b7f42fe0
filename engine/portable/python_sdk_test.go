package portable

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	portablev1 "github.com/kgen-dev/kgen/portable/proto/kgen/portable/v1"
)

// The Python SDK served to the engine's own go-plugin client and called
// rpc by rpc over portable.Conn: Describe, function rows that fail alone,
// and the sink and source of pytally from Provision to Close.
func TestPythonSDK(t *testing.T) {
	py := os.Getenv("KGEN_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	root := t.TempDir()
	dir := filepath.Join(Dir(root), "pytally")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"pytally.py", "pytally.json"} {
		data, err := os.ReadFile(filepath.Join("../../examples/portable/python/pytally", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := NewManager(Options{Root: root, PythonBin: py, InitTimeout: 20 * time.Second})
	defer m.Close()
	if errs := m.Scan(); len(errs) > 0 {
		t.Fatal(errs)
	}
	p, _ := m.Plugin("pytally")
	proc, err := p.running()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	plugin := proc.conn.Plugin

	desc, err := plugin.Describe(ctx, &portablev1.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var exts []string
	for _, x := range desc.GetExtensions() {
		exts = append(exts, fmt.Sprintf("%s %s pull=%v", x.GetKind(), x.GetName(), x.GetPull()))
	}
	if got, want := strings.Join(exts, "; "), "KIND_FUNCTION pid pull=false; KIND_FUNCTION tally pull=false; KIND_SOURCE ticker pull=false; KIND_SINK jsonl pull=false"; got != want {
		t.Fatalf("describe = %s\nwant       %s", got, want)
	}

	// A row whose call raises fails alone; the server goes on.
	str := func(s string) *portablev1.Value {
		return &portablev1.Value{Kind: &portablev1.Value_StringValue{StringValue: s}}
	}
	res, err := plugin.CallFunction(ctx, &portablev1.CallFunctionRequest{Function: "pid", Instance: &portablev1.Instance{Id: 1},
		Rows: []*portablev1.Row{{}, {Args: []*portablev1.Value{str("extra")}}, {}}})
	if err != nil {
		t.Fatal(err)
	}
	r := res.GetResults()
	if len(r) != 3 || r[0].GetValue().GetIntValue() != int64(proc.pid) || !strings.Contains(r[1].GetError(), "takes 1 positional argument but 2 were given") || r[2].GetValue().GetIntValue() != int64(proc.pid) {
		t.Fatalf("pid results = %v (pid %d)", r, proc.pid)
	}
	// tally's state calls need the engine to know the call site: without a
	// rule, the State service refuses and the row says so.
	res, err = plugin.CallFunction(ctx, &portablev1.CallFunctionRequest{Function: "tally", Instance: &portablev1.Instance{Id: 2},
		Rows: []*portablev1.Row{{Args: []*portablev1.Value{str("a")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if e := res.GetResults()[0].GetError(); !strings.Contains(e, "no state for instance 2") {
		t.Fatalf("tally without a rule: error = %q", e)
	}
	if _, err := plugin.CallFunction(ctx, &portablev1.CallFunctionRequest{Function: "nope", Instance: &portablev1.Instance{Id: 3}}); err == nil || !strings.Contains(err.Error(), `unknown function "nope"`) {
		t.Fatalf("unknown function: err = %v", err)
	}

	// The sink: bad properties are refused by configure.
	sink := &portablev1.Instance{Id: 10, RuleId: "r"}
	_, err = plugin.Provision(ctx, &portablev1.ProvisionRequest{Kind: portablev1.Kind_KIND_SINK, Name: "jsonl", Instance: sink, Props: &portablev1.MapValue{}})
	if err == nil || !strings.Contains(err.Error(), `sink "jsonl": configure: path: want a file path, got null`) {
		t.Fatalf("provision without a path: err = %v", err)
	}
	props, _ := portablev1.ToValue(map[string]any{"path": "out/rows.jsonl"})
	if _, err := plugin.Provision(ctx, &portablev1.ProvisionRequest{Kind: portablev1.Kind_KIND_SINK, Name: "jsonl", Instance: sink, Props: props.GetMapValue()}); err != nil {
		t.Fatal(err)
	}
	if _, err := plugin.Connect(ctx, &portablev1.ConnectRequest{InstanceId: 10}); err != nil {
		t.Fatal(err)
	}
	rows := func(rs ...map[string]any) []*portablev1.MapValue {
		out := make([]*portablev1.MapValue, len(rs))
		for i, r := range rs {
			v, err := portablev1.ToValue(r)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = v.GetMapValue()
		}
		return out
	}
	col, err := plugin.Collect(ctx, &portablev1.CollectRequest{InstanceId: 10, Rows: rows(map[string]any{"a": 1}, map[string]any{"b": "x"})})
	if err != nil || col.GetError() != "" || col.GetCollected() != 2 {
		t.Fatalf("collect = %v, %v", col, err)
	}
	// The row JSON cannot hold fails; the rows before it were collected.
	col, err = plugin.Collect(ctx, &portablev1.CollectRequest{InstanceId: 10, Rows: rows(map[string]any{"c": 1.5}, map[string]any{"raw": []byte("x")}, map[string]any{"d": 2})})
	if err != nil || col.GetError() != "Object of type bytes is not JSON serializable" || col.GetCollected() != 1 || col.GetRetryable() {
		t.Fatalf("collect with a bad row = %v, %v", col, err)
	}
	if _, err := plugin.Close(ctx, &portablev1.CloseRequest{InstanceId: 10}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "out", "rows.jsonl"))
	if want := "{\"a\": 1}\n{\"b\": \"x\"}\n{\"c\": 1.5}\n"; err != nil || string(data) != want {
		t.Fatalf("rows.jsonl = %q, %v\nwant %q", data, err, want)
	}
	if _, err := plugin.Collect(ctx, &portablev1.CollectRequest{InstanceId: 10, Rows: rows(map[string]any{"a": 1})}); err == nil || !strings.Contains(err.Error(), "no sink instance 10") {
		t.Fatalf("collect after close: err = %v", err)
	}

	// The push source: its thread's rows arrive on the Subscribe stream.
	props, _ = portablev1.ToValue(map[string]any{"interval": 10, "count": 3})
	if _, err := plugin.Provision(ctx, &portablev1.ProvisionRequest{Kind: portablev1.Kind_KIND_SOURCE, Name: "ticker", Instance: &portablev1.Instance{Id: 11}, Props: props.GetMapValue()}); err != nil {
		t.Fatal(err)
	}
	if _, err := plugin.Connect(ctx, &portablev1.ConnectRequest{InstanceId: 11}); err != nil {
		t.Fatal(err)
	}
	stream, err := plugin.Subscribe(ctx, &portablev1.SubscribeRequest{InstanceId: 11})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "eof") {
		evs, err := stream.Recv()
		if err != nil {
			t.Fatalf("subscribe after %v: %v", got, err)
		}
		for _, ev := range evs.GetEvents() {
			switch {
			case ev.GetData() != nil:
				got = append(got, fmt.Sprint(portablev1.FromValue(&portablev1.Value{Kind: &portablev1.Value_MapValue{MapValue: ev.GetData().GetRow()}})))
			case ev.GetEvent() != nil:
				got = append(got, fmt.Sprintf("eof %T", ev.GetEvent()))
			}
		}
	}
	if want := "[map[n:1] map[n:2] map[n:3] eof *portablev1.SourceEvent_Eof]"; fmt.Sprint(got) != want {
		t.Fatalf("ticker = %v\nwant     %s", got, want)
	}
	if _, err := plugin.Close(ctx, &portablev1.CloseRequest{InstanceId: 11}); err != nil {
		t.Fatal(err)
	}
	// The plugin is still the same process after all the failures.
	if p.Pid() != proc.pid {
		t.Fatalf("pid %d, want %d", p.Pid(), proc.pid)
	}
}

// startPython starts the Python plugin of script (copied under a fresh
// root as name) with a manager of its own.
func startPython(t *testing.T, name, script string) (*Plugin, *process) {
	t.Helper()
	py := os.Getenv("KGEN_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	root := t.TempDir()
	dir := filepath.Join(Dir(root), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".py"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf(`{"name":%q,"language":"python","executable":"%s.py","functions":["echo"]}`, name, name)
	if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	m := NewManager(Options{Root: root, PythonBin: py, InitTimeout: 20 * time.Second})
	t.Cleanup(func() { m.Close() })
	if errs := m.Scan(); len(errs) > 0 {
		t.Fatal(errs)
	}
	p, _ := m.Plugin(name)
	proc, err := p.running()
	if err != nil {
		t.Fatal(err)
	}
	return p, proc
}

// Values keep their type through the Python SDK and back; a result Python
// cannot send, a pull source and a sink's retryable failure.
func TestPythonSDKValues(t *testing.T) {
	p, proc := startPython(t, "pyecho", "testdata/pyecho/pyecho.py")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	plugin := proc.conn.Plugin
	if !proc.funcs["total"].GetAggregate() || proc.funcs["echo"].GetAggregate() {
		t.Fatalf("aggregate: total %v, echo %v", proc.funcs["total"], proc.funcs["echo"])
	}

	values := []any{nil, true, int64(-1 << 63), int64(1<<63 - 1), 2.5, "héllo", []byte{0, 255},
		[]any{int64(1), "a", nil, []any{}}, map[string]any{"k": map[string]any{"x": []any{false}}, "e": map[string]any{}}}
	req := &portablev1.CallFunctionRequest{Function: "echo", Instance: &portablev1.Instance{Id: 1}}
	for _, v := range values {
		pv, err := portablev1.ToValue(v)
		if err != nil {
			t.Fatal(err)
		}
		req.Rows = append(req.Rows, &portablev1.Row{Args: []*portablev1.Value{pv}})
	}
	res, err := plugin.CallFunction(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res.GetResults() {
		if got := portablev1.FromValue(r.GetValue()); r.GetError() != "" || fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", values[i]) {
			t.Errorf("echo(%#v) = %#v, error %q", values[i], got, r.GetError())
		}
	}
	res, err = plugin.CallFunction(ctx, &portablev1.CallFunctionRequest{Function: "bad", Instance: &portablev1.Instance{Id: 2}, Rows: []*portablev1.Row{{}}})
	if err != nil || res.GetResults()[0].GetError() != "result: unsupported value of type Bad" {
		t.Fatalf("bad() = %v, %v", res, err)
	}
	val, err := plugin.ValidateFunction(ctx, &portablev1.ValidateFunctionRequest{Function: "total"})
	if err != nil || val.GetError() != "total: want 1 argument, got 0" {
		t.Fatalf("validate total() = %v, %v", val, err)
	}

	// The pull source: each poll is one Pull; a failing poll is an error
	// event, and the next poll goes on.
	if _, err := plugin.Provision(ctx, &portablev1.ProvisionRequest{Kind: portablev1.Kind_KIND_SOURCE, Name: "counter", Instance: &portablev1.Instance{Id: 3}, Props: &portablev1.MapValue{}}); err != nil {
		t.Fatal(err)
	}
	var polls []string
	for range 3 {
		evs, err := plugin.Pull(ctx, &portablev1.PullRequest{InstanceId: 3})
		if err != nil {
			t.Fatal(err)
		}
		var poll []string
		for _, ev := range evs.GetEvents() {
			if e, ok := ev.GetEvent().(*portablev1.SourceEvent_Error); ok {
				poll = append(poll, "error "+e.Error)
			} else {
				poll = append(poll, fmt.Sprint(portablev1.FromValue(&portablev1.Value{Kind: &portablev1.Value_MapValue{MapValue: ev.GetData().GetRow()}})))
			}
		}
		polls = append(polls, strings.Join(poll, " "))
	}
	if got, want := strings.Join(polls, "; "), "map[n:1] map[n:10]; error pull: the device is busy; map[n:3] map[n:30]"; got != want {
		t.Fatalf("polls = %s\nwant    %s", got, want)
	}
	stream, err := plugin.Subscribe(ctx, &portablev1.SubscribeRequest{InstanceId: 3})
	if err == nil {
		_, err = stream.Recv()
	}
	if err == nil || !strings.Contains(err.Error(), `source "counter" pulls; it cannot be subscribed`) {
		t.Fatalf("subscribe to a pull source: err = %v", err)
	}

	// The sink's failures: retryable or not, and a list fails whole.
	if _, err := plugin.Provision(ctx, &portablev1.ProvisionRequest{Kind: portablev1.Kind_KIND_SINK, Name: "flaky", Instance: &portablev1.Instance{Id: 4}, Props: &portablev1.MapValue{}}); err != nil {
		t.Fatal(err)
	}
	row := func(k string) *portablev1.MapValue {
		return &portablev1.MapValue{Fields: map[string]*portablev1.Value{k: {Kind: &portablev1.Value_BoolValue{BoolValue: true}}}}
	}
	for _, c := range []struct {
		list bool
		rows []*portablev1.MapValue
		want string
	}{
		{false, []*portablev1.MapValue{row("ok"), row("retry"), row("ok")}, "try again later retryable:true collected:1"},
		{false, []*portablev1.MapValue{row("ok"), row("fail")}, "no retryable:false collected:1"},
		{true, []*portablev1.MapValue{row("ok"), row("fail")}, "no retryable:false collected:0"},
		{true, []*portablev1.MapValue{row("ok"), row("ok")}, " retryable:false collected:2"},
	} {
		col, err := plugin.Collect(ctx, &portablev1.CollectRequest{InstanceId: 4, Rows: c.rows, List: c.list})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%s retryable:%v collected:%d", col.GetError(), col.GetRetryable(), col.GetCollected()); got != c.want {
			t.Errorf("collect (list %v) = %s, want %s", c.list, got, c.want)
		}
	}
	if p.Pid() != proc.pid {
		t.Fatalf("pid %d, want %d", p.Pid(), proc.pid)
	}
}
