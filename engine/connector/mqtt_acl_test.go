package connector

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/internal/testutil/aclbroker"
	"github.com/kgen-dev/kgen/internal/testutil/mosquitto"
	"github.com/kgen-dev/kgen/sdk"
)

// The ACL of the brokers below (mosquitto here, mochi-mqtt from package
// aclbroker): every client may read everything and publish to allowed/#;
// denied/# is read-only.

// startACLMosquitto starts mosquitto with that ACL and the rest of its
// configuration (queue) lines.
func startACLMosquitto(t *testing.T, queue string) string {
	t.Helper()
	acl := filepath.Join(t.TempDir(), "acl")
	if err := os.WriteFile(acl, []byte("topic readwrite allowed/#\ntopic read denied/#\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Started as root, mosquitto reads its files as user mosquitto, who
	// cannot enter the test's folder; "user root" keeps it root (started
	// as another user, it stays that user, who can).
	return mosquitto.StartWith(t, "user root\nacl_file "+acl+"\n"+queue).URL()
}

// collectRetrying collects row as the engine does: a retryable error is
// tried again (here at once once connected) until the row is written or
// fails for good. It returns the final error and how many attempts lost
// the connection before their acknowledgement.
func collectRetrying(t *testing.T, ctx *testContext, sink *mqttSink, row map[string]any) (lost int, err error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err = sink.Collect(ctx, row)
		if err == nil || !sdk.IsRetryable(err) {
			return lost, err
		}
		if strings.HasSuffix(err.Error(), "connection lost before the acknowledgement") {
			lost++
		}
		if time.Now().After(deadline) {
			t.Fatalf("collect %v: still retrying after 20s (%d attempts lost the connection): %v", row, lost, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// noMessage checks that nothing arrives within a while.
func noMessage(t *testing.T, rec *recorder) {
	t.Helper()
	select {
	case in := <-rec.rows:
		t.Fatalf("received %s on %v", in.data, in.meta["topic"])
	case <-time.After(300 * time.Millisecond):
	}
}

// A broker that closes the connection on a refused publish (mochi-mqtt at
// QoS 1 and 2, the brokers here): the row is tried
// mqttRefusedAfter times, then fails with an error that is not retried,
// soon (not after a publish timeout each); the next row fails at its first
// lost connection; the sink reconnects, another sink keeps delivering, and
// once the broker takes the topic again the sink delivers to it.
func TestMQTTSinkRefusedPublishClosesTheConnection(t *testing.T) {
	for _, tc := range []struct {
		broker string
		qos    int
	}{{"mochi", 1}, {"mochi", 2}} {
		t.Run(fmt.Sprintf("%s/qos%d", tc.broker, tc.qos), func(t *testing.T) {
			t.Parallel() // each waits for paho's reconnections
			acl := aclbroker.Start(t)
			url := acl.URL
			ctx := newTestContext(t)
			_, rec := startMQTTSource(t, ctx, map[string]any{"server": url, "datasource": "#", "qos": 1})
			status := newStatusLog()
			denied := startMQTTSink(t, ctx, map[string]any{"server": url, "topic": "denied/x", "qos": tc.qos}, status)
			allowed := startMQTTSink(t, ctx, map[string]any{"server": url, "topic": "allowed/x", "qos": tc.qos}, nil)

			start := time.Now()
			lost, err := collectRetrying(t, ctx, denied, map[string]any{"i": 1})
			want := fmt.Sprintf(`mqtt sink: publish to "denied/x": refused: the broker closed the connection instead of acknowledging %d publishes in a row (as an ACL that denies the topic does in MQTT 3.1.1)`, mqttRefusedAfter)
			if err == nil || err.Error() != want {
				t.Fatalf("collect to a denied topic: %v\nwant %s", err, want)
			}
			if lost != mqttRefusedAfter-1 {
				t.Errorf("%d retried attempts lost the connection, want %d", lost, mqttRefusedAfter-1)
			}
			if d := time.Since(start); d >= mqttPublishTimeout {
				t.Errorf("the refusal took %v, want less than one publish timeout (%v)", d, mqttPublishTimeout)
			}
			noMessage(t, rec)

			// The next row: one attempt.
			lost, err = collectRetrying(t, ctx, denied, map[string]any{"i": 2})
			if want := fmt.Sprintf("instead of acknowledging %d publishes in a row", mqttRefusedAfter+1); lost != 0 || err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("the next row: %d attempts lost, err %v; want one attempt and %q", lost, err, want)
			}

			if _, err := collectRetrying(t, ctx, allowed, map[string]any{"i": 3}); err != nil {
				t.Fatal(err)
			}
			expectMessage(t, rec, "allowed/x", `{"i":3}`, int64(min(tc.qos, 1)))
			noMessage(t, rec)
			status.wait(t, sdk.StatusConnected, 10*time.Second)
			t.Logf("refused, and the next row too, in %v", time.Since(start))

			// The topic opened: the sink delivers to it again, and counts
			// lost connections from 0 again.
			acl.Open.Store(true)
			if _, err := collectRetrying(t, ctx, denied, map[string]any{"i": 4}); err != nil {
				t.Fatal(err)
			}
			expectMessage(t, rec, "denied/x", `{"i":4}`, int64(min(tc.qos, 1)))
			denied.droppedMu.Lock()
			dropped := denied.dropped
			denied.droppedMu.Unlock()
			if dropped != 0 {
				t.Errorf("after an acknowledged publish, %d lost publishes in a row are counted", dropped)
			}
			t.Logf("done in %v", time.Since(start))
		})
	}
}

// A broker that drops a refused publish and still acknowledges it gives
// the sink no signal: the row counts as written and nothing arrives, and
// other topics are delivered. mosquitto does that at any QoS, mochi-mqtt at
// QoS 0; mosquitto with max_queued_messages 0 (no bound) then closes the
// connection, so at QoS 0 the sink only reconnects.
func TestMQTTSinkRefusedPublishSilentlyDropped(t *testing.T) {
	for _, tc := range []struct {
		broker     string
		qos        int
		reconnects bool
	}{
		{"mosquitto", 0, false}, {"mosquitto", 1, false}, {"mosquitto", 2, false}, {"mochi", 0, false},
		// At QoS 1 and 2 its acknowledgement and its close race: the
		// row counts as written or as lost and is retried.
		{"mosquitto-unbounded-queue", 0, true},
	} {
		t.Run(fmt.Sprintf("%s/qos%d", tc.broker, tc.qos), func(t *testing.T) {
			var url string
			switch tc.broker {
			case "mochi":
				url = aclbroker.Start(t).URL
			case "mosquitto":
				url = startACLMosquitto(t, "max_queued_messages 1000\n")
			default:
				url = startACLMosquitto(t, "max_queued_messages 0\n")
			}
			ctx := newTestContext(t)
			_, rec := startMQTTSource(t, ctx, map[string]any{"server": url, "datasource": "#", "qos": 1})
			status := newStatusLog()
			denied := startMQTTSink(t, ctx, map[string]any{"server": url, "topic": "denied/x", "qos": tc.qos}, status)
			allowed := startMQTTSink(t, ctx, map[string]any{"server": url, "topic": "allowed/x", "qos": tc.qos}, nil)
			status.wait(t, sdk.StatusConnected, 10*time.Second)
			for i := range 3 {
				if lost, err := collectRetrying(t, ctx, denied, map[string]any{"i": i}); lost > 0 || err != nil {
					t.Fatalf("collect %d to a denied topic: %d attempts lost the connection, err %v", i, lost, err)
				}
			}
			if _, err := collectRetrying(t, ctx, allowed, map[string]any{"i": 3}); err != nil {
				t.Fatal(err)
			}
			expectMessage(t, rec, "allowed/x", `{"i":3}`, int64(min(tc.qos, 1)))
			noMessage(t, rec)
			select {
			case c := <-status.ch:
				if !tc.reconnects {
					t.Fatalf("the sink's connection changed: %s %q", c.status, c.msg)
				}
			default:
				if tc.reconnects {
					t.Fatal("the sink's connection was not closed")
				}
			}
		})
	}
}
