package engine_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/internal/testutil"
	"github.com/kgen-dev/kgen/internal/testutil/mosquitto"
	"github.com/kgen-dev/kgen/sdk"
)

// An engine pointed at an external broker (etc/kgen.yaml mqtt.server) keeps
// its rule running while the broker is away, shows the source disconnected,
// and carries on when the broker is back.
func TestExternalBrokerGoesAwayAndComesBack(t *testing.T) {
	m := mosquitto.Start(t)
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := "mqtt:\n  server: " + m.URL() + "\n"
	if err := os.WriteFile(filepath.Join(root, "etc", "kgen.yaml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(engine.Options{Root: root, Broker: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.BrokerURL() != m.URL() {
		t.Fatalf("BrokerURL = %s, want the external %s", e.BrokerURL(), m.URL())
	}
	mustStream(t, e, `CREATE STREAM plant (t FLOAT) WITH (DATASOURCE="plant/+/t", TYPE="mqtt")`)
	out, cancel := e.MemoryHub().Subscribe("out/plant", 16)
	defer cancel()
	mustRule(t, e, `{"id":"plant","sql":"SELECT t FROM plant WHERE t > 10","actions":[{"memory":{"topic":"out/plant"}}]}`)
	sourceIs := func(want sdk.ConnectionStatus) func() bool {
		return func() bool {
			st, _ := e.RuleStatus("plant")
			return st.Status == "running" && st.Sources[0].Connection == string(want)
		}
	}
	eventually(t, "source connected", sourceIs(sdk.StatusConnected))

	pub := func(payload string) {
		t.Helper()
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.URL()).SetClientID("test-pub-" + payload))
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("connect: %v", tok.Error())
		}
		defer c.Disconnect(50)
		if tok := c.Publish("plant/p1/t", 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	pub(`{"t": 20.5}`)
	if got := receive(t, out, 1); got[0]["t"] != 20.5 {
		t.Fatalf("row = %v", got[0])
	}

	m.Kill()
	eventually(t, "source disconnected while the broker is away", sourceIs(sdk.StatusDisconnected))
	m.Start()
	eventually(t, "source reconnected", sourceIs(sdk.StatusConnected))
	pub(`{"t": 30.5}`)
	if got := receive(t, out, 1); got[0]["t"] != 30.5 {
		t.Fatalf("row after reconnect = %v", got[0])
	}
}

// lossMessages is how many messages TestEmbeddedBrokerLosesNothing sends:
// 500k, fewer under the race detector, which slows everything tenfold
// (scripts/test.sh runs it without).
var lossMessages = 500_000

// The engine's own subscriptions to its embedded broker never drop: a
// publisher sending as fast as it can is slowed down to the rule's pace,
// and every message is counted in, and every one that passes the filter out.
func TestEmbeddedBrokerLosesNothing(t *testing.T) {
	n := lossMessages
	if raceEnabled {
		n = 50_000
	}
	e, err := engine.Open(engine.Options{Root: t.TempDir(), Broker: true, BrokerAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	mustStream(t, e, `CREATE STREAM demo (temperature FLOAT, humidity BIGINT) WITH (DATASOURCE="load/demo", TYPE="mqtt", FORMAT="json")`)
	mustRule(t, e, `{"id":"load","sql":"SELECT temperature * 2 AS t FROM demo WHERE temperature > 50","actions":[{"nop":{}}]}`)
	eventually(t, "source connected", func() bool {
		st, _ := e.RuleStatus("load")
		return st.Sources[0].Connection == string(sdk.StatusConnected)
	})
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(e.BrokerURL()).SetClientID("test-load"))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(50)
	pass := 0
	var last mqtt.Token
	for i := range n {
		temp := float64(i%100) + 0.5
		if temp > 50 {
			pass++
		}
		last = c.Publish("load/demo", 0, false, fmt.Sprintf(`{"temperature": %g, "humidity": %d}`, temp, i))
	}
	if !last.WaitTimeout(time.Minute) || last.Error() != nil {
		t.Fatalf("publish: %v", last.Error())
	}
	// Wait while the count moves; a loss shows as a count that stops
	// short.
	var in, was int64 = 0, -1
	for quiet := time.Now(); in < int64(n); {
		st, _ := e.RuleStatus("load")
		in = st.RecordsIn
		if in != was {
			was, quiet = in, time.Now()
		} else if time.Since(quiet) > 5*time.Second {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	st, _ := e.RuleStatus("load")
	if st.RecordsIn != int64(n) || st.RecordsOut != int64(pass) || st.Exceptions != 0 {
		t.Fatalf("%d sent, %d passing: in %d, out %d, exceptions %d (%s)", n, pass, st.RecordsIn, st.RecordsOut, st.Exceptions, st.LastError)
	}
	if d := e.Broker().Stats().Dropped; d != 0 {
		t.Fatalf("the broker dropped %d messages", d)
	}
}

// A rule's mqtt source with a clientid of its own connects to the
// embedded broker over TCP; when the rule cannot keep up, what the broker
// drops for it shows on the rule status.
func TestSourceDropsOnStatus(t *testing.T) {
	root := t.TempDir()
	testutil.WriteTree(t, root, map[string]string{
		"etc/sources/mqtt.yaml": "default:\n  qos: 0\nslow:\n  clientid: kgen-slow\n",
	})
	e, err := engine.Open(engine.Options{Root: root, Broker: true, BrokerAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	mustStream(t, e, `CREATE STREAM flood (n BIGINT) WITH (DATASOURCE="flood", TYPE="mqtt", CONF_KEY="slow")`)
	// The stuck sink never writes: its queue fills, the rule stops taking
	// messages in, and the broker's queue for the source fills.
	mustRule(t, e, `{"id":"flood","sql":"SELECT n FROM flood","actions":[{"testStuck":{}}],"options":{"bufferLength":1}}`)
	eventually(t, "source connected", func() bool {
		st, _ := e.RuleStatus("flood")
		return st.Sources[0].Connection == string(sdk.StatusConnected)
	})
	for i := range 30_000 {
		if err := e.Broker().Publish("flood", fmt.Appendf(nil, `{"n": %d, "pad": "%0400d"}`, i, 0), false, 0); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := e.RuleStatus("flood")
	if d := st.Sources[0].Dropped; d == 0 || d != e.Broker().DroppedFor("kgen-slow") || d != e.Broker().Stats().Dropped {
		t.Fatalf("source dropped %d; the broker dropped %d for kgen-slow, %d in all", d, e.Broker().DroppedFor("kgen-slow"), e.Broker().Stats().Dropped)
	}
}
