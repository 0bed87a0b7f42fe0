package engine_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/internal/testutil/aclbroker"
)

// An MQTT sink whose publishes the broker refuses by closing the
// connection (mochi-mqtt's answer to a QoS 1 publish its ACL denies)
// counts each row as a sink exception instead of retrying it forever; the
// rule keeps running and its other sink, and another rule's MQTT sink to
// an allowed topic, keep delivering.
func TestMQTTSinkRefusedByACLCountsErrors(t *testing.T) {
	acl := aclbroker.Start(t)
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM demo (n BIGINT) WITH (DATASOURCE="in/demo", TYPE="memory")`)
	mustRule(t, e, fmt.Sprintf(`{"id":"denied","sql":"SELECT n FROM demo","actions":[{"mqtt":{"server":%q,"topic":"denied/x","qos":1}},{"memory":{"topic":"out/denied"}}]}`, acl.URL))
	mustRule(t, e, fmt.Sprintf(`{"id":"allowed","sql":"SELECT n FROM demo","actions":[{"mqtt":{"server":%q,"topic":"allowed/x","qos":1}}]}`, acl.URL))
	eventually(t, "both sinks to connect", func() bool {
		a, _ := e.RuleStatus("allowed")
		d, _ := e.RuleStatus("denied")
		return a.Sinks[0].Connection == "connected" && d.Sinks[0].Connection == "connected"
	})
	publish(t, e, "in/demo", map[string]any{"n": int64(1)}, map[string]any{"n": int64(2)})
	waitFor(t, 30*time.Second, "both rows to fail in the refused sink", func() bool {
		st, _ := e.RuleStatus("denied")
		return st.Sinks[0].Exceptions == 2
	})
	st, _ := e.RuleStatus("denied")
	if st.Status != "running" || st.Sinks[0].RecordsOut != 0 || st.Sinks[1].RecordsOut != 2 || st.Exceptions != 2 ||
		!strings.Contains(st.LastError, `sink "mqtt": mqtt sink: publish to "denied/x": refused`) {
		t.Fatalf("status of the rule with the refused sink = %+v", st)
	}
	// Nothing more is tried once the rows failed.
	retries := st.Sinks[0].Retries
	time.Sleep(300 * time.Millisecond)
	if st, _ := e.RuleStatus("denied"); st.Sinks[0].Retries != retries || st.Sinks[0].Exceptions != 2 {
		t.Fatalf("the refused sink goes on: %+v", st.Sinks[0])
	}
	if st, _ := e.RuleStatus("allowed"); st.Status != "running" || st.Sinks[0].RecordsOut != 2 || st.Sinks[0].Exceptions != 0 {
		t.Fatalf("status of the rule with the allowed sink = %+v", st)
	}
}
