package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/internal/testutil"
	"github.com/kgen-dev/kgen/sdk"
)

var readingsProject = map[string]string{
	"streams/readings.sql": `-- Sensor readings from input/readings.jsonl.
CREATE STREAM readings (id BIGINT, temp FLOAT, note STRING)
  WITH (DATASOURCE="readings.jsonl", TYPE="file", FORMAT="JSON");
`,
	"rules/hot.json": `{"id": "hot", "sql": "SELECT id, temp, note FROM readings WHERE temp > 20", "actions": [{"nop": {}}]}`,
	"input/readings.jsonl": `{"id": 1, "temp": 19.5, "note": "cold"}
{"id": 2, "temp": 21.5, "note": "<warm> & \"dry\""}
{"id": 3, "temp": 30, "note": "hot"}
`,
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteTree(t, dir, readingsProject)
	var out bytes.Buffer
	if err := Run(t.Context(), dir, &out, Options{Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	want := `{"id":2,"note":"<warm> & \"dry\"","temp":21.5}
{"id":3,"note":"hot","temp":30}
`
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestRunSeveralRules(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteTree(t, dir, readingsProject)
	testutil.WriteTree(t, dir, map[string]string{
		"streams/more.sql": `CREATE STREAM a (id BIGINT) WITH (DATASOURCE="readings.jsonl", TYPE="file");
			CREATE STREAM b (id BIGINT) WITH (DATASOURCE="readings.jsonl", TYPE="file")`,
		"rules/ids.json":  `{"id": "ids", "sql": "SELECT id FROM a", "actions": [{"log": {}}]}`,
		"rules/ids2.json": `{"id": "ids2", "sql": "SELECT id * 10 AS id10 FROM b WHERE id > 2", "actions": [{"nop": {}}]}`,
	})
	var out bytes.Buffer
	if err := Run(t.Context(), dir, &out, Options{Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	// Rules interleave; each rule's rows keep their order.
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	for _, rule := range []string{"hot", "ids", "ids2"} {
		var lines []string
		for _, l := range got {
			if strings.HasPrefix(l, rule+": ") {
				lines = append(lines, l)
			}
		}
		want := map[string][]string{
			"hot":  {`hot: {"id":2,"note":"<warm> & \"dry\"","temp":21.5}`, `hot: {"id":3,"note":"hot","temp":30}`},
			"ids":  {`ids: {"id":1}`, `ids: {"id":2}`, `ids: {"id":3}`},
			"ids2": {`ids2: {"id10":30}`},
		}[rule]
		if !slices.Equal(lines, want) {
			t.Errorf("rule %s printed %q, want %q", rule, lines, want)
		}
	}
	if len(got) != 6 {
		t.Errorf("printed %d lines, want 6:\n%s", len(got), out.String())
	}
}

func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // after `run "<dir>": `; a final "*" matches any rest
	}{
		{"no rules", map[string]string{"streams/s.sql": "CREATE STREAM s () WITH (TYPE=\"memory\", DATASOURCE=\"x\")"},
			"no rules: put rule JSON files in rules/"},
		{"bad rule JSON", map[string]string{"streams/s.sql": readingsProject["streams/readings.sql"], "rules/bad.json": "{\n  \"id\": \"bad\",\n  \"sql\": 1\n}"},
			`rules/bad.json: rule JSON: line 3, column 11: field "sql": want string, got number`},
		{"unknown stream", map[string]string{"rules/r.json": `{"id": "r", "sql": "SELECT * FROM nope", "actions": [{"nop": {}}]}`},
			`rules/r.json: rule "r": stream "nope": not found`},
		{"bad stream", map[string]string{
			"streams/s.sql": "CREATE STREAM ok () WITH (TYPE=\"memory\", DATASOURCE=\"x\");\n\nCREATE STREAM bad () WITH (TYPE=\"nope\");",
			"rules/r.json":  `{"id": "r", "sql": "SELECT * FROM ok", "actions": [{"nop": {}}]}`},
			`streams/s.sql:3: stream "bad": unknown source type "nope" (known: *`},
		{"missing input", map[string]string{
			"streams/s.sql": `CREATE STREAM s (a BIGINT) WITH (TYPE="file", DATASOURCE="missing.jsonl")`,
			"rules/r.json":  `{"id": "r", "sql": "SELECT * FROM s", "actions": [{"nop": {}}]}`},
			`rules/r.json: rule "r": start: stream "s": connect: file source "missing.jsonl": open INPUT/missing.jsonl: no such file or directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testutil.WriteTree(t, dir, tc.files)
			var out bytes.Buffer
			err := Run(t.Context(), dir, &out, Options{Timeout: time.Minute})
			want := `run "` + dir + `": ` + strings.ReplaceAll(tc.want, "INPUT", filepath.Join(dir, "input"))
			match := err != nil && err.Error() == want
			if prefix, ok := strings.CutSuffix(want, "*"); ok {
				match = err != nil && strings.HasPrefix(err.Error(), prefix)
			}
			if !match {
				t.Errorf("got  %v\nwant %s", err, want)
			}
		})
	}

	err := Run(t.Context(), filepath.Join(t.TempDir(), "nope"), &bytes.Buffer{}, Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing folder: %v", err)
	}
}

var memoryProject = map[string]string{
	"streams/s.sql": `CREATE STREAM s () WITH (TYPE="memory", DATASOURCE="in")`,
	"rules/r.json":  `{"id": "r", "sql": "SELECT * FROM s", "actions": [{"nop": {}}]}`,
}

func TestRunTimeout(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteTree(t, dir, memoryProject)
	err := Run(t.Context(), dir, &bytes.Buffer{}, Options{Timeout: 100 * time.Millisecond})
	want := `run "` + dir + `": timed out after 100ms: rule(s) still running: r`
	if !errors.Is(err, ErrTimeout) || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := Run(ctx, dir, &bytes.Buffer{}, Options{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ctx ended: %v, want context.DeadlineExceeded", err)
	}
}

func TestSplitStatements(t *testing.T) {
	text := `-- first
CREATE STREAM a () WITH (DATASOURCE="x;y", TYPE='m;n');
-- a comment; with a semicolon
CREATE STREAM b () WITH (DATASOURCE="say \"hi;\"")
;;
  -- only a comment
`
	got := splitStatements(text)
	want := []sqlText{
		{`CREATE STREAM a () WITH (DATASOURCE="x;y", TYPE='m;n')`, 2},
		{`CREATE STREAM b () WITH (DATASOURCE="say \"hi;\"")`, 4},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestMainExit(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteTree(t, dir, readingsProject)
	var stdout, stderr bytes.Buffer
	if code := mainExit([]string{"-timeout", "1m", dir}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), `"id":3`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := mainExit(nil, &stdout, &stderr); code != 2 || !strings.HasPrefix(stderr.String(), "usage: kgen run [-timeout D] [-until N] [-log LEVEL] DIR\n") {
		t.Errorf("no args: exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := mainExit([]string{"-log", "loud", dir}, &stdout, &stderr); code != 2 || stderr.String() != "kgen: -log \"loud\": want debug, info, warn, error or off\n" {
		t.Errorf("bad level: exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := mainExit([]string{"-until", "-2", dir}, &stdout, &stderr); code != 2 || stderr.String() != "kgen: -until -2: want a number of rows above zero\n" {
		t.Errorf("bad -until: exit %d, stderr %q", code, stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := mainExit([]string{"-until", "1", dir}, &stdout, &stderr); code != 0 || stdout.String() != "{\"id\":2,\"note\":\"<warm> & \\\"dry\\\"\",\"temp\":21.5}\n" {
		t.Errorf("-until 1: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	stderr.Reset()
	missing := filepath.Join(dir, "nope")
	if code := mainExit([]string{missing}, &stdout, &stderr); code != 1 || !strings.HasPrefix(stderr.String(), `kgen: run "`+missing+`": `) {
		t.Errorf("missing folder: exit %d, stderr %q", code, stderr.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRunOutputError(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteTree(t, dir, readingsProject)
	err := Run(t.Context(), dir, failingWriter{}, Options{Timeout: time.Minute})
	if want := `run "` + dir + `": print output: disk full`; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// A stream of TYPE mqtt (the default) gets an embedded broker to connect
// to; without one, its rule would fail to start.
func TestRunMQTTStream(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteTree(t, dir, map[string]string{
		"streams/s.sql": `CREATE STREAM s () WITH (DATASOURCE="sensors/+")`,
		"rules/r.json":  `{"id": "r", "sql": "SELECT * FROM s", "actions": [{"nop": {}}]}`,
	})
	err := Run(t.Context(), dir, &bytes.Buffer{}, Options{Timeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("got %v, want the rule still running at the timeout", err)
	}
}

// ticks is a source that never ends: it pushes {"n": 0}, {"n": 1}, ...
// every millisecond until its rule stops.
type ticks struct{}

func (ticks) Provision(sdk.Context, map[string]any) error { return nil }
func (ticks) Connect(sdk.Context) error                   { return nil }
func (ticks) Close(sdk.Context) error                     { return nil }

func (ticks) Subscribe(ctx sdk.Context, ingest sdk.Ingest, _ sdk.ErrorIngest) error {
	go func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for n := 0; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				ingest(ctx, map[string]any{"n": n}, nil, time.Time{})
			}
		}
	}()
	return nil
}

func init() { sdk.RegisterSource("runnerTicks", func() sdk.Source { return ticks{} }) }

// Until stops rules over sources that never end, and the run succeeds.
func TestRunUntil(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteTree(t, dir, map[string]string{
		"streams/s.sql": `CREATE STREAM ticks (n BIGINT) WITH (TYPE="runnerTicks", DATASOURCE="x")`,
		"rules/r.json":  `{"id": "r", "sql": "SELECT n FROM ticks", "actions": [{"nop": {}}]}`,
	})
	var out bytes.Buffer
	if err := Run(t.Context(), dir, &out, Options{Timeout: time.Minute, Until: 3}); err != nil {
		t.Fatal(err)
	}
	if want := "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n"; out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}

	// A memory and an mqtt stream never end either: the file rule's rows
	// end the run.
	dir = t.TempDir()
	testutil.WriteTree(t, dir, readingsProject)
	testutil.WriteTree(t, dir, map[string]string{
		"streams/more.sql": `CREATE STREAM m () WITH (TYPE="memory", DATASOURCE="in");
			CREATE STREAM q () WITH (DATASOURCE="sensors/+")`,
		"rules/m.json": `{"id": "m", "sql": "SELECT * FROM m", "actions": [{"nop": {}}]}`,
		"rules/q.json": `{"id": "q", "sql": "SELECT * FROM q", "actions": [{"nop": {}}]}`,
	})
	out.Reset()
	if err := Run(t.Context(), dir, &out, Options{Timeout: time.Minute, Until: 2}); err != nil {
		t.Fatal(err)
	}
	if want := "hot: {\"id\":2,\"note\":\"<warm> & \\\"dry\\\"\",\"temp\":21.5}\nhot: {\"id\":3,\"note\":\"hot\",\"temp\":30}\n"; out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	// Without -until they run into the timeout.
	if err := Run(t.Context(), dir, &bytes.Buffer{}, Options{Timeout: 200 * time.Millisecond}); !errors.Is(err, ErrTimeout) {
		t.Errorf("no -until: %v, want a timeout", err)
	}

	// The end of the input comes first: every row, and success.
	dir = t.TempDir()
	testutil.WriteTree(t, dir, readingsProject)
	out.Reset()
	if err := Run(t.Context(), dir, &out, Options{Timeout: time.Minute, Until: 10}); err != nil || strings.Count(out.String(), "\n") != 2 {
		t.Errorf("until 10 over 2 rows: %v\n%s", err, out.String())
	}
	if err := Run(t.Context(), dir, &out, Options{Until: -1}); err == nil || err.Error() != `run "`+dir+`": until -1 rows: want a number above zero, or zero for no limit` {
		t.Errorf("until -1: %v", err)
	}
}

// The project's etc/ is the engine's: kgen.yaml, and source properties,
// where a relative file source path is relative to the project.
func TestRunEtc(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteTree(t, dir, map[string]string{
		"streams/s.sql": `CREATE STREAM readings (id BIGINT) WITH (DATASOURCE="r.jsonl", TYPE="file", CONF_KEY="samples");
			CREATE STREAM lines (line STRING) WITH (DATASOURCE="r.jsonl", TYPE="file")`,
		"rules/r.json":          `{"id": "r", "sql": "SELECT id FROM readings", "actions": [{"nop": {}}]}`,
		"rules/s.json":          `{"id": "s", "sql": "SELECT count(*) AS n FROM lines GROUP BY COUNTWINDOW(2)", "actions": [{"nop": {}}]}`,
		"data/samples/r.jsonl":  "{\"id\": 7}\n",
		"input/r.jsonl":         "{\"id\": 1}\n{\"id\": 2}\n",
		"etc/sources/file.yaml": "default:\n  fileType: lines\nsamples:\n  path: data/samples\n  fileType: json\n",
		"etc/kgen.yaml":         "log:\n  level: debug\n",
		"etc/functions/x/a.txt": "plugin file\n",
	})
	var out bytes.Buffer
	if err := Run(t.Context(), dir, &out, Options{Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	slices.Sort(got)
	if want := []string{`r: {"id":7}`, `s: {"n":2}`}; !slices.Equal(got, want) {
		t.Errorf("output %q, want %q", got, want)
	}

	if _, err := os.Stat(filepath.Join(dir, "etc", "functions", "x", "a.txt")); err != nil {
		t.Error(err)
	}
	testutil.WriteTree(t, dir, map[string]string{"etc/kgen.yaml": "mqtt: [\n"})
	err := Run(t.Context(), dir, &out, Options{Timeout: time.Minute})
	if want := `run "` + dir + `": open engine: ` + filepath.Join(dir, "etc", "kgen.yaml") + `: yaml: line 1: did not find expected node content`; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	testutil.WriteTree(t, dir, map[string]string{"etc/kgen.yaml": "", "etc/sources/file.yaml": "default:\n  path: [1]\n"})
	err = Run(t.Context(), dir, &out, Options{Timeout: time.Minute})
	if want := `run "` + dir + `": file source conf: etc/sources/file.yaml: key "default": path: want a folder name, got [1]`; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
