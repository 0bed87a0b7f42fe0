package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/redis/go-redis/v9"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/internal/testutil/mosquitto"
	"github.com/kgen-dev/kgen/internal/testutil/redistest"
	"github.com/kgen-dev/kgen/internal/testutil/syncbuf"
)

// The durability tests run engines as child processes (this test binary,
// re-executed), feed them over a real mosquitto at QoS 1, kill them with
// SIGKILL mid-stream and start them again.

func TestMain(m *testing.M) {
	if root := os.Getenv("KGEN_TEST_CHILD_ROOT"); root != "" {
		os.Exit(runChild(root))
	}
	os.Exit(m.Run())
}

// childSetup is what a child engine creates if it does not have it yet.
type childSetup struct {
	Streams []string          `json:"streams"`
	Rules   []json.RawMessage `json:"rules"`
}

// runChild runs an engine at root until killed (or SIGTERM): it creates the
// streams and rules of $KGEN_TEST_CHILD_SETUP that are missing and writes
// $KGEN_TEST_CHILD_READY once every rule's sources are connected.
func runChild(root string) int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e, err := engine.Open(engine.Options{Root: root, Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	var setup childSetup
	if err := json.Unmarshal([]byte(os.Getenv("KGEN_TEST_CHILD_SETUP")), &setup); err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		return 1
	}
	for _, s := range setup.Streams {
		if _, err := e.CreateStream(s); err != nil && !strings.Contains(err.Error(), "exists") {
			fmt.Fprintln(os.Stderr, "stream:", err)
			return 1
		}
	}
	var ids []string
	for _, r := range setup.Rules {
		var head struct{ ID string }
		json.Unmarshal(r, &head)
		ids = append(ids, head.ID)
		if _, err := e.CreateRule(r); err != nil && !strings.Contains(err.Error(), "exists") {
			fmt.Fprintln(os.Stderr, "rule:", err)
			return 1
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		ready := true
		for _, id := range ids {
			st, err := e.RuleStatus(id)
			if err != nil || st.Status != "running" {
				ready = false
				continue
			}
			for _, s := range st.Sources {
				ready = ready && s.Connection == "connected"
			}
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "rules not running in time")
			return 1
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.WriteFile(os.Getenv("KGEN_TEST_CHILD_READY"), []byte("ok"), 0o644); err != nil {
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt, syscall.SIGUSR1)
	for s := <-sig; s == syscall.SIGUSR1; s = <-sig {
		// Tests ask for the rules' status when something is amiss.
		for _, id := range ids {
			st, _ := e.RuleStatus(id)
			b, _ := json.Marshal(st)
			fmt.Fprintf(os.Stderr, "status %s\n", b)
		}
	}
	if err := e.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close:", err)
		return 1
	}
	return 0
}

// child is an engine process.
type child struct {
	cmd  *exec.Cmd
	logs *syncbuf.Buffer
	exit chan struct{}
}

// startChild starts an engine process at root and waits until it is ready.
func startChild(t *testing.T, root string, setup childSetup) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(setup)
	ready := filepath.Join(t.TempDir(), "ready")
	c := &child{cmd: exec.Command(exe, "-test.run=^$"), logs: &syncbuf.Buffer{}, exit: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), "KGEN_TEST_CHILD_ROOT="+root, "KGEN_TEST_CHILD_SETUP="+string(data), "KGEN_TEST_CHILD_READY="+ready)
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.cmd.Wait()
		close(c.exit)
	}()
	t.Cleanup(c.kill)
	deadline := time.After(20 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			return c
		}
		select {
		case <-c.exit:
			t.Fatalf("engine exited before it was ready:\n%s", c.logs)
		case <-deadline:
			t.Fatalf("engine not ready in 20s:\n%s", c.logs)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// kill ends the process with SIGKILL and waits for it.
func (c *child) kill() {
	c.cmd.Process.Kill()
	<-c.exit
}

// engineRoot makes an engine root whose settings point at the broker and
// the state store given (yaml lines under store:).
func engineRoot(t *testing.T, brokerURL, name, storeYAML string) string {
	t.Helper()
	root := t.TempDir()
	conf := fmt.Sprintf("name: %q\nmqtt:\n  server: %s\nstore:\n  flushInterval: 50ms\n%s", name, brokerURL, storeYAML)
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "kgen.yaml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// outputs collects the JSON rows published on a topic.
type outputs struct {
	mu   sync.Mutex
	rows []map[string]any
}

func (o *outputs) snapshot() []map[string]any {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]map[string]any(nil), o.rows...)
}

func subscribeOutputs(t *testing.T, brokerURL, topic string) *outputs {
	t.Helper()
	o := &outputs{}
	c := mqttClient(t, brokerURL, "out-"+strings.ReplaceAll(topic, "/", "_"))
	tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		var v any
		if err := json.Unmarshal(m.Payload(), &v); err != nil {
			t.Errorf("output %q: %v", m.Payload(), err)
			return
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		switch x := v.(type) {
		case map[string]any:
			o.rows = append(o.rows, x)
		case []any:
			for _, r := range x {
				o.rows = append(o.rows, r.(map[string]any))
			}
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", topic, tok.Error())
	}
	return o
}

func mqttClient(t *testing.T, brokerURL, id string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(brokerURL).SetClientID(id).SetOrderMatters(true))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect to %s: %v", brokerURL, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// publishPaced sends the payloads at QoS 1, one every pace, each acknowledged
// by the broker before the next; it reports on done.
func publishPaced(t *testing.T, c paho.Client, topic string, payloads []string, pace time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() {
		for _, p := range payloads {
			tok := c.Publish(topic, 1, false, p)
			if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				done <- fmt.Errorf("publish %s: %v", p, tok.Error())
				return
			}
			time.Sleep(pace)
		}
		done <- nil
	}()
	return done
}

func boltStore(*testing.T) string { return "  type: bolt\n" }

func redisStore(t *testing.T) string {
	srv := redistest.Start(t)
	return fmt.Sprintf("  type: redis\n  redis:\n    addr: %s\n    prefix: %s\n", srv.Addr(), strings.ToLower(strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())))
}

// eachStore runs a test with the state in bolt and in Redis.
func eachStore(t *testing.T, test func(t *testing.T, storeYAML string)) {
	t.Run("bolt", func(t *testing.T) { test(t, boltStore(t)) })
	t.Run("redis", func(t *testing.T) { test(t, redisStore(t)) })
}

func TestDurableCounter(t *testing.T) { eachStore(t, testDurableCounter) }

// A stateful function in a rule at qos 1 counts every message although its
// engine is killed mid-stream: the count continues from the last
// checkpoint, and the messages after it, never acknowledged, come again
// from the broker. At least once: those the last checkpoint covered may
// come again too, when the kill beat their acknowledgements.
func testDurableCounter(t *testing.T, storeYAML string) {
	broker := mosquitto.Start(t)
	root := engineRoot(t, broker.URL(), "", storeYAML)
	setup := childSetup{
		Streams: []string{`CREATE STREAM demo (n BIGINT) WITH (DATASOURCE="in/count", FORMAT="json", TYPE="mqtt")`},
		Rules: []json.RawMessage{json.RawMessage(`{"id":"count","sql":"SELECT n, testCount(1) AS total FROM demo",
			"actions":[{"mqtt":{"topic":"out/count","qos":1}}],"options":{"qos":1,"checkpointInterval":"50ms"}}`)},
	}
	out := subscribeOutputs(t, broker.URL(), "out/count")
	first := startChild(t, root, setup)

	const n = 1500
	payloads := make([]string, n)
	for i := range payloads {
		payloads[i] = fmt.Sprintf(`{"n":%d}`, i+1)
	}
	sent := publishPaced(t, mqttClient(t, broker.URL(), "publisher"), "in/count", payloads, time.Millisecond)
	waitFor(t, 20*time.Second, "500 outputs before the kill", func() bool { return len(out.snapshot()) >= 500 })
	first.kill()
	before := len(out.snapshot())
	maxBefore := maxOf(out.snapshot()[:before], "total")
	startChild(t, root, setup)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	// Every message is processed; the total is n plus the messages counted
	// twice because the kill came after a checkpoint was written and
	// before the broker got its acknowledgements (at least once).
	waitFor(t, 30*time.Second, fmt.Sprintf("all %d messages", n), func() bool {
		rows := out.snapshot()
		return len(rows) > 0 && rows[len(rows)-1]["n"] == float64(n)
	})
	rows := out.snapshot()
	seen := map[float64]bool{}
	for _, r := range rows {
		seen[r["n"].(float64)] = true
	}
	for i := 1; i <= n; i++ {
		if !seen[float64(i)] {
			t.Fatalf("message %d was never processed", i)
		}
	}
	if len(rows) > before {
		// The restarted engine continues from its last checkpoint, which
		// is at or before the last total seen.
		if resumed := rows[before]["total"].(float64); resumed < 1 || resumed > maxBefore+1 {
			t.Fatalf("after the restart the total went on from %v; before the kill it was %v", resumed, maxBefore)
		}
	}
	final := rows[len(rows)-1]["total"].(float64)
	if final < n || final > n+maxRedelivered {
		t.Fatalf("final total %v, want %d plus at most %d counted twice", final, n, maxRedelivered)
	}
	t.Logf("%d outputs for %d messages; killed at total %v; final total %v", len(rows), n, maxBefore, final)
}

// maxRedelivered bounds the messages one checkpoint acknowledges: what the
// source holds unacknowledged (maxUnacked, 16) plus what arrives while the
// checkpoint is taken, within mosquitto's in-flight window of 20.
const maxRedelivered = 36

func maxOf(rows []map[string]any, key string) float64 {
	m := 0.0
	for _, r := range rows {
		if v, ok := r[key].(float64); ok && v > m {
			m = v
		}
	}
	return m
}

func TestDurableWindow(t *testing.T) { eachStore(t, testDurableWindow) }

// An event-time tumbling window open when the engine is killed is restored
// with its rows: every message lands in its window, at least once.
func testDurableWindow(t *testing.T, storeYAML string) {
	broker := mosquitto.Start(t)
	root := engineRoot(t, broker.URL(), "", storeYAML)
	setup := childSetup{
		Streams: []string{`CREATE STREAM win (n BIGINT, ts BIGINT) WITH (DATASOURCE="in/win", FORMAT="json", TYPE="mqtt", TIMESTAMP="ts")`},
		Rules: []json.RawMessage{json.RawMessage(`{"id":"win","sql":"SELECT count(*) AS c, sum(n) AS s, window_start() AS ws FROM win GROUP BY TUMBLINGWINDOW(ss, 1)",
			"actions":[{"mqtt":{"topic":"out/win","qos":1}}],"options":{"qos":1,"isEventTime":true,"checkpointInterval":"50ms"}}`)},
	}
	out := subscribeOutputs(t, broker.URL(), "out/win")
	first := startChild(t, root, setup)

	const n = 1500 // 100 a window
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	payloads := make([]string, n+1)
	for i := range n {
		payloads[i] = fmt.Sprintf(`{"n":%d,"ts":%d}`, i+1, base+int64(i+1)*10)
	}
	// Far ahead: moves the watermark past every window of the n.
	payloads[n] = fmt.Sprintf(`{"n":0,"ts":%d}`, base+int64(n)*10+5000)
	sent := publishPaced(t, mqttClient(t, broker.URL(), "publisher"), "in/win", payloads, time.Millisecond)
	waitFor(t, 20*time.Second, "3 windows before the kill", func() bool { return len(out.snapshot()) >= 3 })
	// Kill while a window is open: the next message's window has rows.
	first.kill()
	startChild(t, root, setup)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	// What each window should hold.
	want := map[float64]float64{}
	for i := 1; i <= n; i++ {
		ts := base + int64(i)*10
		want[float64(ts-ts%1000)]++
	}
	// The last emission of each window, after the restart.
	windows := map[float64]float64{}
	rowsIn := func() (total float64) {
		clear(windows)
		for _, r := range out.snapshot() {
			windows[r["ws"].(float64)] = r["c"].(float64)
		}
		for ws, c := range windows {
			if want[ws] > 0 {
				total += min(c, want[ws])
			}
		}
		return total
	}
	waitFor(t, 30*time.Second, fmt.Sprintf("windows holding all %d rows", n), func() bool { return rowsIn() == n })
	// At least once: a message the last checkpoint before the kill
	// covered may come again if the broker had not got its acknowledgement
	// yet; at most one checkpoint's worth (the broker's in-flight window).
	var extra float64
	for ws, c := range windows {
		if c < want[ws] {
			t.Fatalf("window %v holds %v rows, want %v", ws, c, want[ws])
		}
		extra += c - want[ws]
	}
	if extra > maxRedelivered {
		t.Fatalf("%v rows counted twice, more than one checkpoint's acknowledgements (%d)", extra, maxRedelivered)
	}
	t.Logf("%d windows, %d emissions, %v rows counted twice", len(windows), len(out.snapshot()), extra)
}

// Two engines split one shared subscription and share one counter through
// Redis: every message is counted once, whichever engine took it.
func TestSharedCounterTwoEngines(t *testing.T) {
	broker := mosquitto.Start(t)
	srv := redistest.Start(t)
	storeYAML := fmt.Sprintf("  type: redis\n  redis:\n    addr: %s\n    prefix: shared\n", srv.Addr())
	setup := childSetup{
		Streams: []string{`CREATE STREAM demo (n BIGINT) WITH (DATASOURCE="$share/g/in/shared", FORMAT="json", TYPE="mqtt")`},
		Rules: []json.RawMessage{json.RawMessage(`{"id":"count","sql":"SELECT n, testCount(1) AS total FROM demo",
			"actions":[{"nop":{}}],"options":{"qos":1,"checkpointInterval":"50ms"}}`)},
	}
	a := startChild(t, engineRoot(t, broker.URL(), "a", storeYAML), setup)
	b := startChild(t, engineRoot(t, broker.URL(), "b", storeYAML), setup)
	const n = 1000
	payloads := make([]string, n)
	for i := range payloads {
		payloads[i] = fmt.Sprintf(`{"n":%d}`, i+1)
	}
	if err := <-publishPaced(t, mqttClient(t, broker.URL(), "publisher"), "in/shared", payloads, 0); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	key := "count/func:testCount(1)\x00total"
	read := func() int64 {
		v, err := rdb.HGet(context.Background(), "shared:counters", key).Int64()
		if err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		return v
	}
	deadline := time.Now().Add(20 * time.Second)
	for read() < n {
		if time.Now().After(deadline) {
			a.cmd.Process.Signal(syscall.SIGUSR1)
			b.cmd.Process.Signal(syscall.SIGUSR1)
			time.Sleep(100 * time.Millisecond)
			all, _ := rdb.HGetAll(context.Background(), "shared:counters").Result()
			t.Fatalf("shared counter %d after 20s, want %d; counters %q\n%s\n%s", read(), n, all, a.logs, b.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // four more checkpoints: nothing more is added
	if got := read(); got != n {
		t.Fatalf("shared counter %d, want %d", got, n)
	}
}

// A file source rewinds to the offset of the last checkpoint, which is
// written with the state in one transaction: after a kill, the running
// count over a file is exact (qos 2), though some outputs come twice.
func TestDurableFileExactlyOnce(t *testing.T) {
	broker := mosquitto.Start(t)
	root := engineRoot(t, broker.URL(), "", boltStore(t))
	const n = 1500
	var lines strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&lines, "{\"n\":%d}\n", i)
	}
	for path, text := range map[string]string{
		"data/input.jsonl":      lines.String(),
		"etc/sources/file.yaml": "default:\n  fileType: lines\n  sendInterval: 1ms\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, path), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setup := childSetup{
		Streams: []string{`CREATE STREAM f (n BIGINT) WITH (DATASOURCE="input.jsonl", FORMAT="json", TYPE="file")`},
		Rules: []json.RawMessage{json.RawMessage(`{"id":"file","sql":"SELECT n, testCount(1) AS total FROM f",
			"actions":[{"mqtt":{"topic":"out/file","qos":1}}],"options":{"qos":2,"checkpointInterval":"50ms"}}`)},
	}
	out := subscribeOutputs(t, broker.URL(), "out/file")
	first := startChild(t, root, setup)
	waitFor(t, 20*time.Second, "500 outputs before the kill", func() bool { return len(out.snapshot()) >= 500 })
	first.kill()
	killedAt := maxOf(out.snapshot(), "total")
	startChild(t, root, setup)
	waitFor(t, 30*time.Second, "the last line", func() bool {
		rows := out.snapshot()
		return len(rows) > 0 && rows[len(rows)-1]["n"] == float64(n)
	})
	rows := out.snapshot()
	seen := map[float64]bool{}
	for _, r := range rows {
		seen[r["n"].(float64)] = true
	}
	if len(seen) != n {
		t.Fatalf("%d of %d lines reached the sink", len(seen), n)
	}
	for i, r := range rows {
		if r["n"] == float64(n) && r["total"] != float64(n) {
			t.Fatalf("output %d: the last line has total %v, want %d", i, r["total"], n)
		}
	}
	t.Logf("%d outputs for %d lines; killed at total %v", len(rows), n, killedAt)
}
