package engine_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/kgen-dev/kgen/engine"
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
