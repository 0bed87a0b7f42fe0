package engine_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/internal/clock"
	"github.com/kgen-dev/kgen/internal/testutil/enginetest"
)

// windowDevices is how many groups the windowed benchmarks' rule keeps.
const windowDevices = 1000

// windowPayloads are messages of a stream (deviceId STRING, temperature
// FLOAT, humidity BIGINT), ten per device.
func windowPayloads() [][]byte {
	out := make([][]byte, 10*windowDevices)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"deviceId": "d-%d", "temperature": %d.5, "humidity": %d}`, i%windowDevices, 20+i%30, 40+i%20)
	}
	return out
}

// windowRound feeds n payloads to the windowed rule id over topic, then
// moves the fake clock a second on, so that the window fires in this
// goroutine, and waits until the rule's sink has written the rows it fired.
func windowRound(b *testing.B, e *engine.Engine, fake *clock.Fake, id, topic string, payloads [][]byte, n int) {
	enginetest.Pump(b, e, id, topic, payloads, n)
	st, _ := e.RuleStatus(id)
	fake.Add(time.Second)
	for {
		now, _ := e.RuleStatus(id)
		if now.RecordsOut > st.RecordsOut && now.Sinks[0].RecordsOut == now.RecordsOut {
			if now.Exceptions != 0 {
				b.Fatalf("exceptions: %s", now.LastError)
			}
			return
		}
		time.Sleep(50 * time.Microsecond)
	}
}
