package kgencli

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/internal/testutil/syncbuf"
)

// startSub runs kgen sub with args in the background and returns once it
// has subscribed, with its output and a channel of its result.
func startSub(t *testing.T, args ...string) (*syncbuf.Buffer, <-chan error) {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "sub.ready")
	var stdout syncbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Run(t.Context(), append([]string{"sub", "-ready", ready}, args...), strings.NewReader(""), &stdout, &syncbuf.Buffer{})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			return &stdout, done
		}
		select {
		case err := <-done:
			t.Fatalf("kgen sub %q ended before it subscribed: %v", args, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("kgen sub %q did not subscribe", args)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitDone(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("kgen sub did not end")
		return nil
	}
}

// A rule's output reaches kgen sub, its input comes from kgen pub, and both
// find the engine's broker through $KGEN_MQTT.
func TestPubSubThroughRule(t *testing.T) {
	lines, stop := startServeArgs(t, t.TempDir())
	defer stop()
	t.Setenv("KGEN_HOST", lines[0])
	t.Setenv("KGEN_MQTT", lines[1])
	mustRun(t, "stream", "create", `CREATE STREAM demo (temperature FLOAT) WITH (DATASOURCE="sensors/+/data", TYPE="mqtt", FORMAT="JSON")`)
	rule := filepath.Join(t.TempDir(), "rule.json")
	if err := os.WriteFile(rule, []byte(`{"id":"hot","sql":"SELECT temperature * 2 AS t FROM demo WHERE temperature > 50","actions":[{"mqtt":{"topic":"alerts"}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "rule", "create", rule)

	out, done := startSub(t, "-n", "2", "alerts")
	mustRun(t, "pub", "sensors/s1/data", `{"temperature":63.5}`, `{"temperature":20}`)
	if r := kgen(t, "{\"temperature\":70}\n\n", "pub", "-qos", "0", "sensors/s2/data", "-"); r.err != nil {
		t.Fatalf("kgen pub from stdin: %v", r.err)
	}
	if err := waitDone(t, done); err != nil {
		t.Fatalf("kgen sub: %v", err)
	}
	if got, want := out.String(), "{\"t\":127}\n{\"t\":140}\n"; got != want {
		t.Errorf("kgen sub printed %q, want %q", got, want)
	}
}

func TestSubTimeoutAndLostBroker(t *testing.T) {
	lines, stop := startServeArgs(t, t.TempDir())
	t.Setenv("KGEN_MQTT", lines[1])

	_, done := startSub(t, "-n", "2", "-timeout", "300ms", "quiet")
	mustRun(t, "pub", "quiet", "one")
	err := waitDone(t, done)
	if want := `received 1 of 2 messages on "quiet" in 300ms`; err == nil || err.Error() != want {
		t.Errorf("kgen sub -n 2 -timeout: %v, want %q", err, want)
	}
	_, done = startSub(t, "-timeout", "200ms", "quiet")
	if err := waitDone(t, done); err == nil || err.Error() != `received no message on "quiet" in 200ms` {
		t.Errorf("kgen sub -timeout with nothing sent: %v", err)
	}

	// A subscriber hears when the broker goes away instead of waiting on.
	_, done = startSub(t, "quiet")
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	err = waitDone(t, done)
	if err == nil || !strings.HasPrefix(err.Error(), `connection to "`+lines[1]+`" lost: `) {
		t.Errorf("kgen sub with the broker gone: %v", err)
	}
}

func TestPubSubErrors(t *testing.T) {
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "tcp://" + l.Addr().String()
	l.Close()
	for _, args := range [][]string{
		{"pub", "-server", closed, "t", "m"},
		{"sub", "-server", closed, "t"},
	} {
		r := kgen(t, "", args...)
		if ExitCode(r.err) != 1 || !strings.HasPrefix(r.err.Error(), `connect to "`+closed+`": `) {
			t.Errorf("kgen %q: %v (exit %d), want a connect error naming the server", args, r.err, ExitCode(r.err))
		}
	}

	for _, tc := range []struct {
		args  []string
		first string
	}{
		{[]string{"pub", "t"}, "want a topic and at least one message, got 1 arguments"},
		{[]string{"pub", "-qos", "3", "t", "m"}, "-qos 3: want 0, 1 or 2"},
		{[]string{"sub"}, "want one topic, got 0 arguments"},
		{[]string{"sub", "a", "b"}, "want one topic, got 2 arguments"},
		{[]string{"sub", "-n", "-1", "t"}, "-n -1: want 0 or more"},
		{[]string{"sub", "-timeout", "-1s", "t"}, "-timeout -1s: want 0 or more"},
		{[]string{"sub", "-qos", "-1", "t"}, "-qos -1: want 0, 1 or 2"},
	} {
		r := kgen(t, "", tc.args...)
		first, rest, _ := strings.Cut(r.err.Error(), "\n\n")
		if ExitCode(r.err) != 2 || first != tc.first || !strings.HasPrefix(rest, "Usage:\n\n\tkgen "+tc.args[0]+" [-server URL]") {
			t.Errorf("kgen %q: %q (exit %d), want %q and the usage", tc.args, r.err, ExitCode(r.err), tc.first)
		}
	}
}
