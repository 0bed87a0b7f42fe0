package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Latency is what the harness's subscriber saw in a latency run: for kgen
// the rule's output topic, for the bare relay its output topic, for
// broker-only the input topic. Each message's
// latency is the time it arrived minus its ts, both read in the harness.
type Latency struct {
	Expected int64   `json:"expected"` // kgen: the messages that pass the filter; broker-only: all
	Received int64   `json:"received"`
	P50Us    float64 `json:"p50Us"`
	P99Us    float64 `json:"p99Us"`
	MaxUs    float64 `json:"maxUs"`
}

// latency runs kgen (input → rule → output topic, on the same broker), the
// bare relay (input → paho + encoding/json → output topic: what kgen's path
// costs when written by hand) and the broker alone (input topic), taking
// turns, on each broker.
func (h *harness) latency(ctx context.Context, add func(Run)) error {
	m := mode{Name: modePaced, Rate: h.cfg.LatencyRate}
	for _, b := range h.cfg.Brokers {
		for i := 1; i <= h.cfg.Runs; i++ {
			for _, s := range []string{subjectKgen, subjectRelay, subjectBrokerOnly} {
				r, err := h.latencyRun(ctx, b, m, s, i)
				if err != nil {
					return fmt.Errorf("latency, %s broker, %s run %d: %w", b, s, i, err)
				}
				l := r.Latency
				fmt.Fprintf(h.log, "%-9s latency %-11s run %d/%d: %d/%d received, p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
					b, s, i, h.cfg.Runs, l.Received, l.Expected, l.P50Us/1e3, l.P99Us/1e3, l.MaxUs/1e3)
				add(r)
			}
		}
	}
	return nil
}

func (h *harness) latencyRun(ctx context.Context, brokerName string, m mode, subject string, index int) (Run, error) {
	r := Run{Broker: brokerName, Mode: m.Name, Rate: m.Rate, Subject: subject, Run: index}
	n := h.cfg.LatencyN
	var (
		s   *setup
		err error
	)
	switch {
	case subject == subjectKgen:
		s, err = h.start(ctx, brokerName, subjectKgen, n, true)
	case subject == subjectRelay:
		s, err = h.start(ctx, brokerName, subjectBare, n, true)
	case brokerName == brokerEmbedded:
		s, err = h.start(ctx, brokerName, subjectBroker, n, false)
	default: // mosquitto alone: no child
		s, err = h.start(ctx, brokerName, "", n, false)
	}
	if err != nil {
		return r, err
	}
	defer s.close()
	listen := s.topic
	if s.out != "" {
		listen = s.out
	}
	var rec latencyRecorder
	sub, err := connect(s.url, "loadharness-sub")
	if err != nil {
		return r, err
	}
	defer sub.Disconnect(100)
	if err := wait(sub.Subscribe(listen, byte(h.cfg.QoS), rec.onMessage), "subscribe to "+listen); err != nil {
		return r, err
	}
	p, err := h.publishTo(ctx, s, n, m.Rate)
	if err != nil {
		return r, err
	}
	expected := p.sent
	if s.out != "" {
		expected = passes(p.sent)
	}
	if err := rec.wait(ctx, expected, h.cfg.Quiet); err != nil {
		return r, err
	}
	var done childEvent
	if s.child != nil {
		if done, err = s.finish(ctx, p.sent); err != nil {
			return r, err
		}
	} else {
		// mosquitto alone: what the subscriber got is what the broker
		// delivered.
		done = childEvent{Received: rec.count()}
	}
	mqCPU, err := s.brokerCPU()
	if err != nil {
		return r, err
	}
	r.fill(p, done)
	r.BrokerCPUNs = int64(mqCPU)
	r.Latency = rec.summary(expected)
	return r, nil
}

// latencyRecorder is the harness's subscriber in a latency run.
type latencyRecorder struct {
	mu   sync.Mutex
	lat  []time.Duration
	last time.Time // when the last message arrived
	bad  int       // messages without a ts
}

// stamped is a message with its publishing time: an input message or a
// row of the rule.
type stamped struct {
	TS json.Number `json:"ts"`
}

func (l *latencyRecorder) onMessage(_ paho.Client, m paho.Message) {
	now := time.Now()
	var rows []stamped
	payload := m.Payload()
	var err error
	if p := bytes.TrimSpace(payload); len(p) > 0 && p[0] == '[' { // a sink may send a list of rows
		err = json.Unmarshal(p, &rows)
	} else {
		rows = make([]stamped, 1)
		err = json.Unmarshal(payload, &rows[0])
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = now
	if err != nil {
		l.bad++
		return
	}
	for _, row := range rows {
		ts, err := row.TS.Int64()
		if err != nil {
			// A ts that went through a float: exact to a few hundred ns.
			f, ferr := row.TS.Float64()
			if ferr != nil {
				l.bad++
				continue
			}
			ts = int64(f)
		}
		l.lat = append(l.lat, now.Sub(time.Unix(0, ts)))
	}
}

func (l *latencyRecorder) count() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.lat) + l.bad)
}

// wait returns once expected messages have arrived, or none for quiet.
func (l *latencyRecorder) wait(ctx context.Context, expected int64, quiet time.Duration) error {
	start := time.Now()
	for {
		l.mu.Lock()
		n, last := int64(len(l.lat)+l.bad), l.last
		l.mu.Unlock()
		if last.Before(start) {
			last = start
		}
		if n >= expected || time.Since(last) >= quiet {
			return nil
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (l *latencyRecorder) summary(expected int64) *Latency {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := &Latency{Expected: expected, Received: int64(len(l.lat) + l.bad)}
	if len(l.lat) == 0 {
		return s
	}
	lat := slices.Clone(l.lat)
	slices.Sort(lat)
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	s.P50Us, s.P99Us, s.MaxUs = us(percentile(lat, 50)), us(percentile(lat, 99)), us(lat[len(lat)-1])
	return s
}

// percentile is the nearest-rank percentile p of sorted values.
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100 // ceil(n·p/100)
	return sorted[max(i-1, 0)]
}
