package engine_test

import (
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/internal/testutil"
	"github.com/kgen-dev/kgen/internal/testutil/mosquitto"
)

// meta() reads what the source says about a message: the memory topic,
// and the MQTT topic, messageId and qos over a real broker. A star leaves
// the metadata out of the row.
func TestMeta(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM m (a BIGINT) WITH (DATASOURCE="in/meta/+", TYPE="memory")`)
	out, cancel := e.MemoryHub().Subscribe("out/meta", 4)
	defer cancel()
	mustRule(t, e, `{"id":"meta","sql":"SELECT *, meta(topic) AS t, meta(m.topic) AS t2, meta(*) AS all, meta(nosuch) AS n FROM m","actions":[{"memory":{"topic":"out/meta"}}]}`)
	publish(t, e, "in/meta/x", map[string]any{"a": int64(1)})
	got := receive(t, out, 1)[0]
	if len(got) != 5 || got["a"] != int64(1) || got["t"] != "in/meta/x" || got["t2"] != "in/meta/x" || got["n"] != nil {
		t.Fatalf("row %v", got)
	}
	if all, ok := got["all"].(map[string]any); !ok || all["topic"] != "in/meta/x" {
		t.Fatalf("meta(*) = %v", got["all"])
	}
}

func TestMetaOverMQTT(t *testing.T) {
	m := mosquitto.Start(t)
	root := t.TempDir()
	testutil.WriteTree(t, root, map[string]string{"etc/kgen.yaml": "mqtt:\n  server: " + m.URL() + "\n"})
	e, err := engine.Open(engine.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	mustStream(t, e, `CREATE STREAM plant (t FLOAT) WITH (DATASOURCE="plant/+/t", TYPE="mqtt")`)
	out, cancel := e.MemoryHub().Subscribe("out/plantmeta", 4)
	defer cancel()
	mustRule(t, e, `{"id":"plantmeta","sql":"SELECT t, meta(topic) AS topic, meta(messageId) AS id, meta(qos) AS qos FROM plant","actions":[{"memory":{"topic":"out/plantmeta"}}]}`)
	eventually(t, "source connected", func() bool {
		st, _ := e.RuleStatus("plantmeta")
		return st.Sources[0].Connection == "connected"
	})
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.URL()).SetClientID("meta-pub"))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(50)
	if tok := c.Publish("plant/p7/t", 1, false, `{"t": 21.5}`); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	got := receive(t, out, 1)[0]
	if got["t"] != 21.5 || got["topic"] != "plant/p7/t" || got["qos"] != int64(1) {
		t.Fatalf("row %v", got)
	}
	if id, ok := got["id"].(int64); !ok || id <= 0 {
		t.Fatalf("messageId %v (%T), want a positive packet id", got["id"], got["id"])
	}
}
