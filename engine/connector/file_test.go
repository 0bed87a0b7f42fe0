package connector

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

// runFileSource reads datasource from <root>/data with props and returns the
// rows, the errors and the EOF count once the source signalled EOF.
func runFileSource(t *testing.T, ctx *testContext, props map[string]any) ([]map[string]any, []string) {
	t.Helper()
	src := &fileSource{}
	rec := newRecorder(100)
	src.SetEOFIngest(rec.eof)
	if err := src.Provision(ctx, props); err != nil {
		t.Fatal(err)
	}
	if err := src.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := src.Subscribe(ctx, rec.ingest, rec.ingestErr); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rec.eofs:
	case <-time.After(10 * time.Second):
		t.Fatal("no EOF within 10s")
	}
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if len(rec.eofs) != 0 {
		t.Fatal("EOF signalled more than once")
	}
	var rows []map[string]any
	for len(rec.rows) > 0 {
		in := <-rec.rows
		row, ok := in.data.(map[string]any)
		if !ok {
			t.Fatalf("ingested %T, want map[string]any", in.data)
		}
		rows = append(rows, row)
	}
	var errs []string
	for len(rec.errs) > 0 {
		errs = append(errs, (<-rec.errs).Error())
	}
	return rows, errs
}

func writeData(t *testing.T, ctx *testContext, name, content string) {
	t.Helper()
	dir := filepath.Join(ctx.GetRootPath(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFileSourceLines(t *testing.T) {
	ctx := newTestContext(t)
	writeData(t, ctx, "x.jsonl", `{"id": 1, "t": 20.5, "tags": [1, 2.5], "in": {"n": 3}}

{"id": 2, "big": 9223372036854775807, "huge": 9223372036854775808, "one": 1.0}
{"id": 3, oops}
  {"id": 4}  
{"id": 5} trailing
[1, 2]
{"id": 6}`)
	rows, errs := runFileSource(t, ctx, map[string]any{"datasource": "x.jsonl", "format": "json"})
	want := []map[string]any{
		{"id": int64(1), "t": 20.5, "tags": []any{int64(1), 2.5}, "in": map[string]any{"n": int64(3)}},
		{"id": int64(2), "big": int64(9223372036854775807), "huge": 9223372036854775808.0, "one": 1.0},
		{"id": int64(4)},
		{"id": int64(6)},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n%#v\nwant:\n%#v", rows, want)
	}
	wantErrs := []string{
		`file source "x.jsonl": line 4: invalid character 'o' looking for beginning of object key string`,
		`file source "x.jsonl": line 6: unexpected data after the object at offset 9`,
		`file source "x.jsonl": line 7: want a JSON object, got an array`,
	}
	if strings.Join(errs, "\n") != strings.Join(wantErrs, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(wantErrs, "\n"))
	}
}

func TestFileSourceJSON(t *testing.T) {
	ctx := newTestContext(t)
	writeData(t, ctx, "arr.json", ` [ {"id": 1, "v": 1.5}, {"id": 2}, "x", {"id": 3} ] `)
	writeData(t, ctx, "one.txt", `{"id": 7}`)
	writeData(t, ctx, "lines.txt", "{\"id\": 8}\n{\"id\": 9}\n")
	writeData(t, ctx, "empty.json", "  \n")
	writeData(t, ctx, "bad.json", `[{"id": 1}, {"id": 2,]`)

	rows, errs := runFileSource(t, ctx, map[string]any{"datasource": "arr.json"})
	want := []map[string]any{{"id": int64(1), "v": 1.5}, {"id": int64(2)}, {"id": int64(3)}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("array rows: %#v", rows)
	}
	if len(errs) != 1 || errs[0] != `file source "arr.json": element 3: want an object, got a string` {
		t.Errorf("array errors: %q", errs)
	}

	rows, errs = runFileSource(t, ctx, map[string]any{"datasource": "one.txt"})
	if !reflect.DeepEqual(rows, []map[string]any{{"id": int64(7)}}) || len(errs) != 0 {
		t.Errorf("single object: %v %q", rows, errs)
	}

	// fileType overrides the extension.
	rows, errs = runFileSource(t, ctx, map[string]any{"datasource": "lines.txt", "fileType": "lines"})
	if !reflect.DeepEqual(rows, []map[string]any{{"id": int64(8)}, {"id": int64(9)}}) || len(errs) != 0 {
		t.Errorf("lines by fileType: %v %q", rows, errs)
	}

	rows, errs = runFileSource(t, ctx, map[string]any{"datasource": "empty.json"})
	if len(rows) != 0 || len(errs) != 0 {
		t.Errorf("empty file: %v %q", rows, errs)
	}

	rows, errs = runFileSource(t, ctx, map[string]any{"datasource": "bad.json"})
	if !reflect.DeepEqual(rows, []map[string]any{{"id": int64(1)}}) ||
		len(errs) != 1 || errs[0] != `file source "bad.json": element 2: invalid character ']' looking for beginning of object key string` {
		t.Errorf("syntax error: %v %q", rows, errs)
	}
}

// path may be relative to the root, and an absolute datasource ignores it.
func TestFileSourcePaths(t *testing.T) {
	ctx := newTestContext(t)
	dir := filepath.Join(ctx.GetRootPath(), "in")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.json"), []byte(`{"a": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, _ := runFileSource(t, ctx, map[string]any{"datasource": "a.json", "path": "in"})
	if len(rows) != 1 {
		t.Fatalf("relative path: %v", rows)
	}
	rows, _ = runFileSource(t, ctx, map[string]any{"datasource": filepath.Join(dir, "a.json"), "path": "/nowhere"})
	if len(rows) != 1 {
		t.Fatalf("absolute datasource: %v", rows)
	}
}

func TestFileSourceMissingFile(t *testing.T) {
	ctx := newTestContext(t)
	src := &fileSource{}
	if err := src.Provision(ctx, map[string]any{"datasource": "nope.json"}); err != nil {
		t.Fatal(err)
	}
	err := src.Connect(ctx)
	want := `file source "nope.json": open ` + filepath.Join(ctx.GetRootPath(), "data", "nope.json") + `: no such file or directory`
	if err == nil || err.Error() != want {
		t.Fatalf("Connect = %v, want %q", err, want)
	}
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// sendInterval paces rows, and Close stops a paced read promptly without EOF.
func TestFileSourceIntervalAndClose(t *testing.T) {
	ctx := newTestContext(t)
	writeData(t, ctx, "slow.jsonl", "{\"i\":1}\n{\"i\":2}\n{\"i\":3}\n")
	src := &fileSource{}
	rec := newRecorder(10)
	src.SetEOFIngest(rec.eof)
	if err := src.Provision(ctx, map[string]any{"datasource": "slow.jsonl", "sendInterval": "1h"}); err != nil {
		t.Fatal(err)
	}
	if err := src.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := src.Subscribe(ctx, rec.ingest, rec.ingestErr); err != nil {
		t.Fatal(err)
	}
	rec.next(t, 5*time.Second) // the first row comes at once, the next in an hour
	start := time.Now()
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	select {
	case <-src.done:
	default:
		t.Fatal("reader still running after Close")
	}
	if len(rec.rows) != 0 || len(rec.eofs) != 0 {
		t.Fatalf("after Close: %d rows, %d EOFs", len(rec.rows), len(rec.eofs))
	}
}

func TestFileSourceInterval(t *testing.T) {
	ctx := newTestContext(t)
	writeData(t, ctx, "paced.jsonl", "{\"i\":1}\n{\"i\":2}\n{\"i\":3}\n")
	start := time.Now()
	rows, _ := runFileSource(t, ctx, map[string]any{"datasource": "paced.jsonl", "sendInterval": 20})
	if len(rows) != 3 {
		t.Fatalf("rows: %v", rows)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Fatalf("3 rows 20ms apart took only %v", d)
	}
}

func runFileSink(t *testing.T, ctx *testContext, props map[string]any, batches ...[]map[string]any) string {
	t.Helper()
	sink := &fileSink{}
	if err := sink.Provision(ctx, props); err != nil {
		t.Fatal(err)
	}
	if err := sink.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		var err error
		if len(b) == 1 {
			err = sink.Collect(ctx, b[0])
		} else {
			err = sink.CollectList(ctx, b)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sink.Collect(ctx, map[string]any{}); err == nil || err.Error() != "file sink: closed" {
		t.Fatalf("Collect after Close = %v", err)
	}
	b, err := os.ReadFile(sink.path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFileSinkLines(t *testing.T) {
	ctx := newTestContext(t)
	props := map[string]any{"path": "out/sub/rows.jsonl"} // folders are created
	got := runFileSink(t, ctx, props, []map[string]any{{"a": 1}}, []map[string]any{{"a": 2}, {"b": "x"}})
	if want := "{\"a\":1}\n{\"a\":2}\n{\"b\":\"x\"}\n"; got != want {
		t.Fatalf("file:\n%s\nwant:\n%s", got, want)
	}
	// Lines are appended by the next run.
	got = runFileSink(t, ctx, props, []map[string]any{{"a": 3}})
	if want := "{\"a\":1}\n{\"a\":2}\n{\"b\":\"x\"}\n{\"a\":3}\n"; got != want {
		t.Fatalf("after a second run:\n%s", got)
	}
}

func TestFileSinkJSON(t *testing.T) {
	ctx := newTestContext(t)
	path := filepath.Join(ctx.GetRootPath(), "out.json")
	props := map[string]any{"path": path, "fileType": "json"}
	got := runFileSink(t, ctx, props, []map[string]any{{"a": 1}}, []map[string]any{{"a": 2}, {"a": 3}})
	var rows []map[string]any
	if err := json.Unmarshal([]byte(got), &rows); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, got)
	}
	if len(rows) != 3 || rows[2]["a"] != 3.0 {
		t.Fatalf("rows: %v", rows)
	}
	// No rows still makes a valid (empty) array, replacing the old file.
	got = runFileSink(t, ctx, props)
	if err := json.Unmarshal([]byte(got), &rows); err != nil || len(rows) != 0 {
		t.Fatalf("empty run: %v %q", err, got)
	}
}

// Rows reach the file within checkInterval, before Close, as whole lines.
func TestFileSinkPeriodicFlush(t *testing.T) {
	ctx := newTestContext(t)
	sink := &fileSink{}
	if err := sink.Provision(ctx, map[string]any{"path": "flush.jsonl", "checkInterval": "10ms"}); err != nil {
		t.Fatal(err)
	}
	if err := sink.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer sink.Close(ctx)
	if err := sink.Collect(ctx, map[string]any{"a": 1}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(sink.path)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) == "{\"a\":1}\n" {
			return
		}
		if len(b) != 0 || time.Now().After(deadline) {
			t.Fatalf("file holds %q", b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLogSink(t *testing.T) {
	ctx := newTestContext(t)
	var sink sdk.Sink = logSink{}
	if err := sink.Collect(ctx, map[string]any{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if err := sink.CollectList(ctx, []map[string]any{{"b": "x"}}); err != nil {
		t.Fatal(err)
	}
	want := `level=INFO msg="sink output" rule=r1 op=op1 row="{\"a\":1}"` + "\n" +
		`level=INFO msg="sink output" rule=r1 op=op1 row="{\"b\":\"x\"}"` + "\n"
	if got := ctx.logs.String(); got != want {
		t.Fatalf("log:\n%s\nwant:\n%s", got, want)
	}
}

func TestNopSinkAllocatesNothing(t *testing.T) {
	ctx := newTestContext(t)
	var sink sdk.Sink = nopSink{}
	row := map[string]any{"a": 1}
	if n := testing.AllocsPerRun(100, func() { _ = sink.Collect(ctx, row) }); n != 0 {
		t.Fatalf("nop Collect allocates %v times", n)
	}
}

var (
	_ sdk.PushSource = (*fileSource)(nil)
	_ sdk.Bounded    = (*fileSource)(nil)
)

// A row longer than the limit or nested deeper than JSON decoding goes is
// a reported row, not a cliff: a long line is skipped, a long element of
// a JSON array ends the file, and neither is held in memory whole.
func TestFileSourceBoundsRows(t *testing.T) {
	ctx := newTestContext(t)
	long := `{"pad": "` + strings.Repeat("x", maxRowBytes) + `"}`
	deep := strings.Repeat("[", 400_000) + strings.Repeat("]", 400_000)
	ids := func(rows []map[string]any) string { // not the rows: they may be huge
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprint(r["id"]))
		}
		return strings.Join(out, ",")
	}
	writeData(t, ctx, "x.jsonl", `{"id": 1}`+"\n"+long+"\n"+`{"id": 3}`+"\n"+deep+"\n"+`{"id": 5}`)
	rows, errs := runFileSource(t, ctx, map[string]any{"datasource": "x.jsonl", "format": "json"})
	if got := ids(rows); got != "1,3,5" {
		t.Errorf("rows with ids %s, want 1,3,5", got)
	}
	wantErrs := []string{
		fmt.Sprintf(`file source "x.jsonl": line 2: %d bytes, more than the limit of 16777216 bytes for a row`, len(long)+1),
		`file source "x.jsonl": line 4: invalid character '[' exceeded max depth`,
	}
	if strings.Join(errs, "\n") != strings.Join(wantErrs, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(wantErrs, "\n"))
	}

	// The limit counts from what the decoder had read ahead (at most its
	// buffer) when the element began: twice the limit is surely past it.
	longer := `{"pad": "` + strings.Repeat("x", 2*maxRowBytes) + `"}`
	writeData(t, ctx, "x.json", `[{"id": 1}, `+longer+`, {"id": 3}]`)
	rows, errs = runFileSource(t, ctx, map[string]any{"datasource": "x.json", "format": "json"})
	if got := ids(rows); got != "1" {
		t.Errorf("rows with ids %s, want 1", got)
	}
	if want := `file source "x.json": element 2: more than the limit of 16777216 bytes for a row`; strings.Join(errs, "\n") != want {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), want)
	}
}
