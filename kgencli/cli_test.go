package kgencli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/internal/testutil"
	"github.com/kgen-dev/kgen/internal/testutil/syncbuf"
	"github.com/kgen-dev/kgen/sdk"
)

type result struct {
	stdout, stderr string
	err            error
}

func kgen(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := Run(t.Context(), args, strings.NewReader(stdin), &stdout, &stderr)
	return result{stdout.String(), stderr.String(), err}
}

// mustRun runs kgen and wants success.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	r := kgen(t, "", args...)
	if r.err != nil {
		t.Fatalf("kgen %s: %v\nstderr:\n%s", strings.Join(args, " "), r.err, r.stderr)
	}
	return r.stdout
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		first     string // first line of the error
		usageHead string // start of the usage that follows
	}{
		{nil, "no command", "kgen builds, runs and tests"},
		{[]string{"frob"}, `unknown command "frob"`, "kgen builds, runs and tests"},
		{[]string{"help", "frob"}, `unknown command "frob"`, "kgen builds, runs and tests"},
		{[]string{"help", "a", "b"}, "want at most one command, got 2 arguments", "Usage:\n\n\tkgen help [command]"},
		{[]string{"serve", "-bogus"}, "flag provided but not defined: -bogus", "Usage:\n\n\tkgen serve [-root DIR]"},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`, "Usage:\n\n\tkgen serve"},
		{[]string{"serve", "-pprof", "0.0.0.0:6060"}, `-pprof "0.0.0.0:6060": not a loopback address (want 127.0.0.0/8, ::1 or localhost)`, "Usage:\n\n\tkgen serve"},
		{[]string{"serve", "-pprof", ":6060"}, `-pprof ":6060": not a loopback address (want 127.0.0.0/8, ::1 or localhost)`, "Usage:\n\n\tkgen serve"},
		{[]string{"stream"}, "missing subcommand", "Usage:\n\n\tkgen stream [-host URL] create"},
		{[]string{"stream", "frob"}, `unknown subcommand "frob"`, "Usage:\n\n\tkgen stream"},
		{[]string{"stream", "show"}, "show: want <name>, got 0 arguments", "Usage:\n\n\tkgen stream"},
		{[]string{"stream", "list", "-x"}, "list: flag provided but not defined: -x", "Usage:\n\n\tkgen stream"},
		{[]string{"rule", "start", "a", "b"}, "start: want <id>, got 2 arguments", "Usage:\n\n\tkgen rule"},
		{[]string{"run"}, "want one project folder, got 0 arguments", "Usage:\n\n\tkgen run [-timeout D] [-until N] [-log LEVEL] <dir>"},
		{[]string{"run", "-log", "loud", "."}, `-log "loud": want debug, info, warn, error or off`, "Usage:\n\n\tkgen run"},
		{[]string{"run", "-timeout", "soon", "."}, `invalid value "soon" for flag -timeout: parse error`, "Usage:\n\n\tkgen run"},
		{[]string{"version", "x"}, `unexpected argument "x"`, "Usage:\n\n\tkgen version [-json]"},
	} {
		r := kgen(t, "", tc.args...)
		if ExitCode(r.err) != 2 {
			t.Errorf("kgen %q: exit code %d (%v), want 2", tc.args, ExitCode(r.err), r.err)
			continue
		}
		first, rest, _ := strings.Cut(r.err.Error(), "\n\n")
		if first != tc.first || !strings.HasPrefix(rest, tc.usageHead) {
			t.Errorf("kgen %q:\ngot  %q\nthen %.60q\nwant %q\nthen %.60q", tc.args, first, rest, tc.first, tc.usageHead)
		}
		if r.stdout != "" || r.stderr != "" {
			t.Errorf("kgen %q printed %q %q; Main prints errors", tc.args, r.stdout, r.stderr)
		}
	}
}

func TestHelp(t *testing.T) {
	top := mustRun(t, "help")
	for _, name := range []string{"serve", "stream", "rule", "state", "run", "version", "help"} {
		if !strings.Contains(top, "\n\t"+name+" ") {
			t.Errorf("kgen help does not list %s:\n%s", name, top)
		}
	}
	if got := mustRun(t, "rule", "status", "-h"); got != mustRun(t, "help", "rule") {
		t.Errorf("kgen rule status -h differs from kgen help rule:\n%s", got)
	}
	if got := mustRun(t, "-h"); got != top {
		t.Errorf("kgen -h differs from kgen help")
	}
	for _, name := range []string{"serve", "stream", "rule", "state", "run", "version", "help"} {
		help := mustRun(t, "help", name)
		if got := mustRun(t, name, "-h"); got != help {
			t.Errorf("kgen %s -h differs from kgen help %s:\n%s\n---\n%s", name, name, got, help)
		}
		if !strings.HasPrefix(help, "Usage:\n\n\tkgen "+name) || !strings.Contains(help, "\nExample:\n\n\tkgen ") {
			t.Errorf("kgen help %s:\n%s", name, help)
		}
	}
	want := `Usage:

	kgen serve [-root DIR] [-rest ADDR] [-mqtt ADDR] [-pprof ADDR] [-ready FILE]

`
	if help := mustRun(t, "help", "serve"); !strings.HasPrefix(help, want) || !strings.Contains(help, "  -ready FILE\n") || !strings.Contains(help, "  -pprof ADDR\n") {
		t.Errorf("kgen help serve:\n%s", help)
	}
}

func TestVersion(t *testing.T) {
	want := fmt.Sprintf("kgen (devel) (sdk %s) %s %s/%s\n", sdk.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if got := mustRun(t, "version"); got != want {
		t.Errorf("kgen version: %q, want %q", got, want)
	}
	if got := mustRun(t, "version", "-json"); !strings.Contains(got, `"goVersion": "`+runtime.Version()+`"`) || !strings.Contains(got, `"deps": [`) {
		t.Errorf("kgen version -json:\n%s", got)
	}
}

// startServe runs kgen serve in-process on free ports and returns the REST
// URL and a function that stops it and returns its error.
func startServe(t *testing.T, root string) (string, func() error) {
	t.Helper()
	lines, stop := startServeArgs(t, root)
	return lines[0], stop
}

// startServeArgs is startServe with more arguments; it returns the lines
// of the ready file: the REST URL, the MQTT URL and, with -pprof, the
// profiler's URL.
func startServeArgs(t *testing.T, root string, extra ...string) ([]string, func() error) {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncbuf.Buffer
	done := make(chan error, 1)
	args := append([]string{"serve", "-root", root, "-rest", "127.0.0.1:0", "-mqtt", "127.0.0.1:0", "-ready", ready}, extra...)
	go func() {
		done <- Run(ctx, args, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, err := os.ReadFile(ready)
		if err == nil && len(data) > 0 {
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			want := "kgen engine ready: REST " + lines[0] + ", MQTT " + lines[1] + "\n"
			switch {
			case len(lines) == 2 && !slices.Contains(extra, "-pprof"):
			case len(lines) == 3 && slices.Contains(extra, "-pprof") && strings.HasPrefix(lines[2], "http://127.0.0.1:") && strings.HasSuffix(lines[2], "/debug/pprof/"):
				want = strings.TrimSuffix(want, "\n") + ", pprof " + lines[2] + "\n"
			default:
				t.Fatalf("ready file: %q", data)
			}
			if (!strings.HasPrefix(lines[0], "http://127.0.0.1:") && !strings.HasPrefix(lines[0], "https://127.0.0.1:")) || !strings.HasPrefix(lines[1], "tcp://127.0.0.1:") {
				t.Fatalf("ready file: %q", data)
			}
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr lacks the ready line %q:\n%s", want, stderr.String())
			}
			stop := func() error {
				cancel()
				select {
				case err := <-done:
					if _, serr := os.Stat(ready); !errors.Is(serr, os.ErrNotExist) {
						t.Errorf("ready file left after shutdown: %v", serr)
					}
					return err
				case <-time.After(30 * time.Second):
					t.Fatal("serve did not stop")
					return nil
				}
			}
			t.Cleanup(func() { cancel() })
			return lines, stop
		}
		select {
		case err := <-done:
			t.Fatalf("serve: %v\nstderr:\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no ready file after 30s\nstderr:\n%s", stderr.String())
		}
	}
}

func TestServeAndClients(t *testing.T) {
	root := t.TempDir()
	url, stop := startServe(t, root)
	t.Setenv("KGEN_HOST", url)

	sql := `CREATE STREAM demo (temp FLOAT) WITH (DATASOURCE="in", TYPE="memory")`
	rule := filepath.Join(t.TempDir(), "r1.json")
	if err := os.WriteFile(rule, []byte(`{"id": "r1", "sql": "SELECT temp FROM demo", "actions": [{"nop": {}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"stream", "list"}, ""},
		{[]string{"stream", "create", sql}, "Stream demo is created.\n"},
		{[]string{"stream", "list"}, "demo\n"},
		{[]string{"rule", "create", rule}, "Rule r1 was created successfully.\n"},
		{[]string{"rule", "list"}, "r1  running\n"},
		{[]string{"rule", "topo", "r1"}, "{\n  \"sources\": [\n    \"source_demo\"\n  ],\n  \"edges\": {\n    \"op_2_project\": [\n      \"sink_nop_0\"\n    ],\n    \"source_demo\": [\n      \"op_2_project\"\n    ]\n  }\n}\n"},
		{[]string{"rule", "stop", "r1"}, "Rule r1 was stopped.\n"},
		{[]string{"rule", "list"}, "r1  stopped\n"},
		{[]string{"rule", "start", "r1"}, "Rule r1 was started\n"},
		{[]string{"rule", "restart", "r1"}, "Rule r1 was restarted\n"},
		{[]string{"rule", "-host", url, "show", "r1"}, "{\n  \"id\": \"r1\",\n  \"sql\": \"SELECT temp FROM demo\",\n  \"actions\": [\n    {\n      \"nop\": {}\n    }\n  ],\n  \"options\": {}\n}\n"},
		{[]string{"rule", "drop", "r1"}, "Rule r1 is dropped.\n"},
		{[]string{"stream", "drop", "demo"}, "Stream demo is dropped.\n"},
	} {
		if got := mustRun(t, step.args...); got != step.want {
			t.Errorf("kgen %q:\ngot  %q\nwant %q", step.args, got, step.want)
		}
	}

	// stdin for "-"; show and status print JSON.
	if r := kgen(t, sql, "stream", "create", "-"); r.err != nil || r.stdout != "Stream demo is created.\n" {
		t.Errorf("stream create -: %q, %v", r.stdout, r.err)
	}
	if got := mustRun(t, "stream", "show", "demo"); !strings.Contains(got, `"Name": "demo"`) {
		t.Errorf("stream show:\n%s", got)
	}
	if r := kgen(t, `{"id": "r2", "sql": "SELECT * FROM demo", "actions": [{"nop": {}}]}`, "rule", "create", "-"); r.err != nil {
		t.Errorf("rule create -: %v", r.err)
	}
	if got := mustRun(t, "rule", "status", "r2"); !strings.Contains(got, `"status": "running"`) || !strings.Contains(got, `"recordsIn": 0`) {
		t.Errorf("rule status:\n%s", got)
	}

	// Errors are the engine's messages, status 1.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rule", "show", "nope"}, `rule "nope": not found`},
		{[]string{"rule", "start", "nope"}, `rule "nope": not found`},
		{[]string{"rule", "topo", "nope"}, `rule "nope": not found`},
		{[]string{"stream", "create", sql}, `stream "demo": already exists`},
		{[]string{"stream", "drop", "demo"}, `stream "demo" is used by rule(s) r2: delete them first`},
		{[]string{"rule", "create", filepath.Join(root, "missing.json")}, "stat " + filepath.Join(root, "missing.json") + ": no such file or directory"},
		{[]string{"stream", "-host", "http://127.0.0.1:1", "list"}, "cannot reach the engine at http://127.0.0.1:1 (is kgen serve running? set -host or KGEN_HOST): "},
	} {
		r := kgen(t, "", tc.args...)
		if r.err == nil || ExitCode(r.err) != 1 || !strings.HasPrefix(r.err.Error(), tc.want) {
			t.Errorf("kgen %q: %v (exit %d), want %q", tc.args, r.err, ExitCode(r.err), tc.want)
		}
	}

	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if data, err := os.ReadFile(filepath.Join(root, "log", "kgen.log")); err != nil || !strings.Contains(string(data), "kgen engine stopped") {
		t.Errorf("log file: %v\n%s", err, data)
	}

	// The rules survive a restart of the engine, in their state.
	url, stop = startServe(t, root)
	t.Setenv("KGEN_HOST", url)
	if got := mustRun(t, "rule", "list"); got != "r2  running\n" {
		t.Errorf("after restart: rule list %q", got)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// An engine with a token and HTTPS: the client commands pass -token (or
// $KGEN_REST_TOKEN) and trust -cacert (or $KGEN_REST_CACERT); kgen serve
// writes the https URL; a non-loopback -rest without a token is refused.
func TestServeTokenAndTLS(t *testing.T) {
	t.Setenv("KGEN_REST_TOKEN", "")
	t.Setenv("KGEN_REST_CACERT", "")
	root := t.TempDir()
	cert, key := testutil.SelfSignedCert(t)
	testutil.WriteTree(t, root, map[string]string{
		"etc/kgen.yaml": "rest:\n  token: cli-token\n  tls:\n    certFile: etc/cert.pem\n    keyFile: etc/key.pem\n",
		"etc/cert.pem":  string(cert),
		"etc/key.pem":   string(key),
	})
	ca := filepath.Join(root, "etc", "cert.pem")
	url, stop := startServe(t, root)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("REST URL %q, want https", url)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string // error prefix; "" for success
	}{
		{[]string{"stream", "list", "-host", url, "-token", "cli-token"}, nil, "cannot reach the engine at " + url + " (is kgen serve running? set -host or KGEN_HOST): tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{[]string{"stream", "list", "-host", url, "-cacert", ca}, nil, `this engine requires a token: send "Authorization: Bearer <token>"`},
		{[]string{"stream", "list", "-host", url, "-cacert", ca, "-token", "nope"}, nil, "invalid token: it is not the engine's rest.token"},
		{[]string{"stream", "list", "-host", url, "-cacert", root}, nil, "-cacert: read " + root + ": is a directory"},
		{[]string{"stream", "list", "-host", url, "-cacert", filepath.Join(root, "etc", "kgen.yaml")}, nil, "-cacert " + filepath.Join(root, "etc", "kgen.yaml") + ": no PEM certificate in the file"},
		{[]string{"stream", "list", "-host", url, "-cacert", ca, "-token", "cli-token"}, nil, ""},
		{[]string{"stream", "list"}, map[string]string{"KGEN_HOST": url, "KGEN_REST_CACERT": ca, "KGEN_REST_TOKEN": "cli-token"}, ""},
	} {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		r := kgen(t, "", tc.args...)
		if tc.want == "" && r.err != nil || tc.want != "" && (r.err == nil || !strings.HasPrefix(r.err.Error(), tc.want)) {
			t.Errorf("kgen %q %v: %v, want %q", tc.args, tc.env, r.err, tc.want)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	t.Setenv("KGEN_REST_TOKEN", "")
	r := kgen(t, "", "serve", "-root", t.TempDir(), "-rest", "0.0.0.0:0", "-mqtt", "127.0.0.1:0")
	if want := `rest.listen "0.0.0.0:0" is not a loopback address, so the REST API needs a token: set rest.token or rest.tokenFile in etc/kgen.yaml, or $KGEN_REST_TOKEN (or listen on 127.0.0.1)`; r.err == nil || r.err.Error() != want {
		t.Errorf("serve -rest 0.0.0.0:0 without a token: %v, want %s", r.err, want)
	}
}

// The profiler is served only when asked for, on its own listener: by
// -pprof, or by pprof: in etc/kgen.yaml, which must be loopback too.
func TestServePprof(t *testing.T) {
	lines, stop := startServeArgs(t, t.TempDir(), "-pprof", "127.0.0.1:0")
	if status, body := testutil.HTTPGet(t, lines[2]); status != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("GET %s: %d\n%s", lines[2], status, body)
	}
	if status, _ := testutil.HTTPGet(t, lines[0]+"/debug/pprof/"); status != 404 {
		t.Errorf("GET /debug/pprof/ on the REST API: %d, want 404", status)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}

	// Off by default (startServe checks that the ready file has no
	// third line).
	root := t.TempDir()
	url, stop := startServe(t, root)
	if status, _ := testutil.HTTPGet(t, url+"/debug/pprof/"); status != 404 {
		t.Errorf("GET /debug/pprof/ on the REST API: %d, want 404", status)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}

	// From the settings.
	conf := filepath.Join(root, "etc", "kgen.yaml")
	if err := os.WriteFile(conf, []byte("pprof: 127.0.0.1:0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An empty -pprof leaves the setting in force.
	lines, stop = startServeArgs(t, root, "-pprof", "")
	if len(lines) != 3 {
		t.Fatalf("pprof: 127.0.0.1:0 in %s: ready file %q, want the profiler's URL on line 3", conf, lines)
	}
	if status, _ := testutil.HTTPGet(t, lines[2]); status != 200 {
		t.Errorf("GET %s: %d", lines[2], status)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if err := os.WriteFile(conf, []byte("pprof: 0.0.0.0:6060\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := kgen(t, "", "serve", "-root", root, "-rest", "127.0.0.1:0", "-mqtt", "127.0.0.1:0")
	if want := conf + `: pprof "0.0.0.0:6060": not a loopback address (want 127.0.0.0/8, ::1 or localhost)`; r.err == nil || r.err.Error() != want || ExitCode(r.err) != 1 {
		t.Errorf("serve with pprof: 0.0.0.0:6060 in the settings: %v (exit %d), want %s", r.err, ExitCode(r.err), want)
	}
}

func TestRunInProcess(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"streams/s.sql":  `CREATE STREAM s (n BIGINT) WITH (DATASOURCE="n.jsonl", TYPE="file")`,
		"rules/r.json":   `{"id": "r", "sql": "SELECT n * n AS sq FROM s", "actions": [{"nop": {}}]}`,
		"input/n.jsonl":  "{\"n\": 2}\n{\"n\": 3}\n",
		"rules/README":   "not a rule",
		"input/other.md": "ignored",
	} {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := mustRun(t, "run", "-timeout", "1m", dir); got != "{\"sq\":4}\n{\"sq\":9}\n" {
		t.Errorf("kgen run: %q", got)
	}
	r := kgen(t, "", "run", filepath.Join(dir, "rules"))
	if want := `run "` + filepath.Join(dir, "rules") + `": no rules: put rule JSON files in rules/`; r.err == nil || r.err.Error() != want || ExitCode(r.err) != 1 {
		t.Errorf("kgen run rules/: %v, want %s", r.err, want)
	}
	if got := mustRun(t, "run", "-timeout", "1m", "-until", "1", dir); got != "{\"sq\":4}\n" {
		t.Errorf("kgen run -until 1: %q", got)
	}
	if r := kgen(t, "", "run", "-until", "-1", dir); ExitCode(r.err) != 2 || !strings.HasPrefix(r.err.Error(), "-until -1: want a number of rows above zero\n") {
		t.Errorf("kgen run -until -1: %v (exit %d)", r.err, ExitCode(r.err))
	}
	// The project's etc/: the file source reads another folder.
	testutil.WriteTree(t, dir, map[string]string{
		"etc/sources/file.yaml": "default:\n  path: samples\n",
		"samples/n.jsonl":       "{\"n\": 5}\n",
	})
	if got := mustRun(t, "run", "-timeout", "1m", dir); got != "{\"sq\":25}\n" {
		t.Errorf("kgen run with etc/sources/file.yaml: %q", got)
	}
}

// TestRunBuildsEngine runs a project with a plugin package: kgen run builds
// an engine with the package compiled in and runs it. A failing engine has
// printed its error, and its status is kgen's.
func TestRunBuildsEngine(t *testing.T) {
	testutil.FreshKgenCache(t)
	dir := testutil.ShoutProject(t)
	write := func(files map[string]string) { testutil.WriteTree(t, dir, files) }
	r := kgen(t, "", "run", "-timeout", "1m", dir)
	if r.err != nil || r.stdout != "{\"loud\":\"HELLO!\"}\n{\"loud\":\"KGEN!\"}\n" || r.stderr != "" {
		t.Errorf("kgen run: %v\nstdout %q\nstderr %q (not a terminal: no build status)", r.err, r.stdout, r.stderr)
	}

	// A rule over a memory stream never ends: -until stops the engine, with
	// status 0, after that many rows.
	write(map[string]string{
		"streams/mem.sql": `CREATE STREAM mem () WITH (TYPE="memory", DATASOURCE="in")`,
		"rules/mem.json":  `{"id": "mem", "sql": "SELECT * FROM mem", "actions": [{"nop": {}}]}`,
	})
	if got := mustRun(t, "run", "-timeout", "1m", "-until", "1", dir); !strings.HasSuffix(got, ": {\"loud\":\"HELLO!\"}\n") || strings.Count(got, "\n") != 1 {
		t.Errorf("kgen run -until 1: %q", got)
	}
	r = kgen(t, "", "run", "-timeout", "300ms", dir)
	if ExitCode(r.err) != 1 || !strings.Contains(r.stderr, "timed out after 300ms: rule(s) still running: mem") {
		t.Errorf("kgen run without -until: %v (exit %d), stderr %q", r.err, ExitCode(r.err), r.stderr)
	}
	os.Remove(filepath.Join(dir, "rules", "mem.json"))

	write(map[string]string{"rules/bad.json": `{"id": "bad", "sql": "SELECT shout() FROM words", "actions": [{"nop": {}}]}`})
	r = kgen(t, "", "run", dir)
	if ExitCode(r.err) != 1 || !errors.As(r.err, new(quietError)) {
		t.Errorf("bad rule: %v (exit %d), want the engine's status 1, already reported", r.err, ExitCode(r.err))
	}
	if want := `kgen: run "` + dir + `": rules/bad.json: `; !strings.HasPrefix(r.stderr, want) {
		t.Errorf("bad rule: stderr %q, want prefix %q", r.stderr, want)
	}

	write(map[string]string{"broken.go": "package shout\n\nvar x int = \"s\"\n"})
	r = kgen(t, "", "run", dir)
	if r.err == nil || ExitCode(r.err) != 1 || !strings.HasPrefix(r.err.Error(), `build "`+dir+`": build engine: `) || !strings.Contains(r.err.Error(), "broken.go:3:13") {
		t.Errorf("broken plugin: %v (exit %d)", r.err, ExitCode(r.err))
	}
}

// TestBinary builds cmd/kgen and runs it: build info with dependencies is
// only recorded in real binaries, and exit statuses come from Main.
func TestBinary(t *testing.T) {
	exe := testutil.KgenBinary(t)
	kgenExe := func(args ...string) (stdout, stderr string, code int) {
		t.Helper()
		var o, e bytes.Buffer
		cmd := exec.Command(exe, args...)
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			code = exit.ExitCode()
		case err != nil:
			t.Fatal(err)
		}
		return o.String(), e.String(), code
	}

	out, _, code := kgenExe("version", "-json")
	var bi api.BuildInfo
	if err := json.Unmarshal([]byte(out), &bi); err != nil || code != 0 {
		t.Fatalf("kgen version -json: %v, exit %d\n%s", err, code, out)
	}
	found := false
	for _, d := range bi.Deps {
		found = found || d.Path == "go.etcd.io/bbolt" && d.Version != "" && strings.HasPrefix(d.Sum, "h1:")
	}
	if bi.Path != "github.com/kgen-dev/kgen/cmd/kgen" || !found {
		t.Errorf("kgen version -json: path %q, deps %+v", bi.Path, bi.Deps)
	}

	if _, stderr, code := kgenExe("frob"); code != 2 || !strings.HasPrefix(stderr, "kgen: unknown command \"frob\"\n\nkgen builds") {
		t.Errorf("kgen frob: exit %d, stderr %q", code, stderr)
	}
	if stdout, _, code := kgenExe("help"); code != 0 || !strings.Contains(stdout, "\trun ") {
		t.Errorf("kgen help: exit %d, stdout %q", code, stdout)
	}

	example := filepath.Join("..", "examples", "wordcount")
	stdout, stderr, code := kgenExe("run", "-timeout", "2m", example)
	want := `{"text":"the quick brown fox","total":4}
{"text":"jumps over","total":6}
{"text":"the lazy dog","total":9}
{"text":"stream processing at the edge","total":14}
`
	if code != 0 || stdout != want {
		t.Errorf("kgen run %s: exit %d\nstdout:\n%s\nstderr:\n%s", example, code, stdout, stderr)
	}
}
