package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// payloads are the demo stream's messages: message i has temperature
// i%100 + 0.5, so that exactly half of every hundred pass
// "temperature > 50", humidity 40 + i%20 and ts the time it is published,
// in Unix nanoseconds.
type payloads struct {
	prefix [100][]byte // everything up to the ts value
}

func newPayloads() *payloads {
	p := new(payloads)
	for i := range p.prefix {
		p.prefix[i] = fmt.Appendf(nil, `{"temperature": %d.5, "humidity": %d, "ts": `, i, 40+i%20)
	}
	return p
}

// message returns message i with ts now. A fresh slice each time: paho
// keeps the payload until it has written it.
func (p *payloads) message(i int64, now time.Time) []byte {
	pre := p.prefix[i%100]
	b := make([]byte, 0, len(pre)+21)
	b = append(b, pre...)
	b = strconv.AppendInt(b, now.UnixNano(), 10)
	return append(b, '}')
}

// passes is how many of the first n messages pass the filter.
func passes(n int64) int64 { return n/100*50 + max(0, n%100-50) }

// published is what the publisher did.
type published struct {
	sent    int64
	elapsed time.Duration // from the first publish until the last was written (QoS 0) or acknowledged
}

// publish sends n messages to topic, rate a second or, with rate 0, as
// fast as the client takes them (paho's Publish blocks until its writer is
// free, so a slow broker slows it down). Paced, it wakes up every
// millisecond and sends the messages due by then: the pacing costs a
// wake-up a millisecond whatever the rate.
func publish(ctx context.Context, c paho.Client, topic string, qos byte, n int64, rate int) (published, error) {
	p := newPayloads()
	var (
		last    paho.Token
		pending []paho.Token // QoS 1 and 2: waited for at the end
		tick    *time.Ticker
	)
	if rate > 0 {
		tick = time.NewTicker(time.Millisecond)
		defer tick.Stop()
	}
	start := time.Now()
	for i := int64(0); i < n; {
		due := n
		if rate > 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return published{sent: i}, ctx.Err()
			}
			due = min(n, int64(time.Since(start).Seconds()*float64(rate)))
		}
		for ; i < due; i++ {
			if i%1024 == 0 && ctx.Err() != nil {
				return published{sent: i}, ctx.Err()
			}
			tok := c.Publish(topic, qos, false, p.message(i, time.Now()))
			// Error does not block: it is set at once when the client
			// is not connected.
			if err := tok.Error(); err != nil {
				return published{sent: i}, fmt.Errorf("publish message %d: %w", i, err)
			}
			if qos > 0 {
				pending = append(pending, tok)
			}
			last = tok
		}
	}
	if qos == 0 && last != nil {
		pending = append(pending, last)
	}
	for _, tok := range pending {
		if err := wait(tok, "publish"); err != nil {
			return published{sent: n}, err
		}
	}
	return published{sent: n, elapsed: time.Since(start)}, nil
}

// connect connects a paho client with its default options, as a
// hand-written client would.
func connect(url, clientID string) (paho.Client, error) {
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(clientID))
	if err := wait(c.Connect(), "connect to "+url); err != nil {
		return nil, err
	}
	return c, nil
}

// wait waits for a paho token, and for a subscription checks that the
// broker granted it.
func wait(tok paho.Token, what string) error {
	if !tok.WaitTimeout(30 * time.Second) {
		return fmt.Errorf("%s: no answer within 30s", what)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if st, ok := tok.(*paho.SubscribeToken); ok {
		for _, code := range st.Result() {
			if code >= 0x80 {
				return fmt.Errorf("%s: refused by the broker", what)
			}
		}
	}
	return nil
}
