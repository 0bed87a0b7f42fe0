package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/broker"
	"github.com/kgen-dev/kgen/internal/layout"
)

// A child runs one subject in a process of its own, so that getrusage counts
// the subject's CPU and nothing else. It talks to the harness in JSON lines
// on stdout and takes commands, one a line, on stdin:
//
//	child   {"event":"ready","addr":"127.0.0.1:41234"}  set up and subscribed
//	harness start
//	child   {"event":"started"}                          CPU and clock start
//	harness published 200000                             the publisher is done
//	child   {"event":"done","received":…}               everything arrived, or quiet
//	harness closes stdin; the child cleans up and exits
//
// The child stays up after done until stdin closes: in the latency scenario
// the harness is still reading what the rule publishes.

// Subjects a child can run.
const (
	subjectKgen   = "kgen"   // the engine: an mqtt stream and a rule
	subjectBare   = "bare"   // a hand-written paho + encoding/json consumer
	subjectBroker = "broker" // the embedded broker alone (latency baseline)
)

// childEvent is one line a child writes.
type childEvent struct {
	Event string `json:"event"` // ready, started or done
	// Addr is the embedded broker's host:port (ready), "" with an external
	// broker.
	Addr string `json:"addr,omitempty"`
	// Received counts the messages the subject took in: the rule's
	// RecordsIn, the bare consumer's messages, the broker's PUBLISH
	// packets. Passed counts those that passed the filter: the rule's
	// RecordsOut, the bare consumer's count.
	Received int64 `json:"received,omitempty"`
	Passed   int64 `json:"passed,omitempty"`
	// CPUNs and WallNs run from started to the last progress seen.
	CPUNs  int64 `json:"cpuNs,omitempty"`
	WallNs int64 `json:"wallNs,omitempty"`
	// Dropped counts the messages the embedded broker dropped for a slow
	// subscriber.
	Dropped int64 `json:"dropped,omitempty"`
}

// childConfig is a child's command line.
type childConfig struct {
	server string // external broker URL; "" starts the embedded broker
	topic  string
	qos    int
	n      int64 // messages the publisher will send
	root   string
	out    string
	quiet  time.Duration
}

// pollInterval is how often a child reads its subject's counters.
const pollInterval = 5 * time.Millisecond

// runChild runs "loadharness -child <subject> [flags]".
func runChild(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("-child: want a subject: kgen, bare or broker")
	}
	name := args[0]
	fs := flag.NewFlagSet("loadharness -child "+name, flag.ContinueOnError)
	var cf childConfig
	fs.StringVar(&cf.server, "server", "", "external broker `URL`; empty starts the embedded broker")
	fs.StringVar(&cf.topic, "topic", "", "the topic the publisher sends to")
	fs.IntVar(&cf.qos, "qos", 0, "subscription QoS")
	fs.Int64Var(&cf.n, "n", 0, "messages the publisher will send")
	fs.StringVar(&cf.root, "root", "", "kgen: the engine root `folder`")
	fs.StringVar(&cf.out, "out", "", "kgen and bare: publish the rows that pass to this `topic` (kgen: an mqtt sink instead of nop) instead of discarding them")
	fs.DurationVar(&cf.quiet, "quiet", 3*time.Second, "after the publisher is done, give up after this long without progress")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if cf.topic == "" && name != subjectBroker {
		return errors.New("-topic is required")
	}
	var (
		s   *subject
		err error
	)
	switch name {
	case subjectKgen:
		s, err = startKgen(cf)
	case subjectBare:
		s, err = startBare(cf)
	case subjectBroker:
		s, err = startBroker()
	default:
		return fmt.Errorf("-child %q: want kgen, bare or broker", name)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer s.close()

	enc := json.NewEncoder(stdout)
	cmds := readCommands(stdin)
	if err := enc.Encode(childEvent{Event: "ready", Addr: s.addr}); err != nil {
		return err
	}
	if c, ok := <-cmds; !ok || c.name != "start" {
		return errors.New("the harness went away before start")
	}
	// LOADHARNESS_CPUPROFILE=prefix writes each child's CPU profile of
	// the measured phase to prefix-<subject>-<pid>.prof.
	if prefix := os.Getenv("LOADHARNESS_CPUPROFILE"); prefix != "" {
		f, err := os.Create(fmt.Sprintf("%s-%s-%d.prof", prefix, name, os.Getpid()))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	done, err := measure(s, cf.n, cf.quiet, cmds, func() error { return enc.Encode(childEvent{Event: "started"}) })
	if err != nil {
		return err
	}
	if err := enc.Encode(done); err != nil {
		return err
	}
	for range cmds {
	}
	return nil
}

type command struct {
	name string
	n    int64
}

// readCommands delivers the lines of stdin; the channel closes at its end.
func readCommands(r io.Reader) <-chan command {
	ch := make(chan command)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			name, arg, _ := strings.Cut(sc.Text(), " ")
			n, _ := strconv.ParseInt(arg, 10, 64)
			ch <- command{name: name, n: n}
		}
	}()
	return ch
}

// measure starts the clock and the CPU count, then polls the subject until
// it has received target messages (n, or what "published" says was sent),
// or has made no progress for quiet after the publisher finished. CPU and
// wall time stop at the last progress, so the quiet wait is not counted.
func measure(s *subject, target int64, quiet time.Duration, cmds <-chan command, started func() error) (childEvent, error) {
	cpu0, err := selfCPU()
	if err != nil {
		return childEvent{}, err
	}
	t0 := time.Now()
	if err := started(); err != nil {
		return childEvent{}, err
	}
	var (
		published  bool
		last       = t0
		cpuLast    = cpu0
		in, passed int64
		tick       = time.NewTicker(pollInterval)
	)
	defer tick.Stop()
	for {
		select {
		case c, ok := <-cmds:
			if !ok {
				return childEvent{}, errors.New("the harness went away while measuring")
			}
			if c.name == "published" {
				published, target = true, c.n
			}
		case <-tick.C:
		}
		now := time.Now()
		i, p := s.counts()
		if i != in || p != passed {
			in, passed, last = i, p, now
			if cpuLast, err = selfCPU(); err != nil {
				return childEvent{}, err
			}
			continue
		}
		// Done at the first poll without change once everything is in,
		// which lets the rule's last rows reach its sink.
		if in >= target || (published && now.Sub(last) >= quiet) {
			break
		}
	}
	return childEvent{
		Event: "done", Received: in, Passed: passed,
		CPUNs: int64(cpuLast - cpu0), WallNs: int64(last.Sub(t0)), Dropped: s.dropped(),
	}, nil
}

// subject is what a child measures.
type subject struct {
	addr    string                          // the embedded broker's, if the child runs one
	counts  func() (received, passed int64) // read by the poll loop
	dropped func() int64
	closers []func()
}

func (s *subject) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// brokerDropped counts what an embedded broker dropped for slow subscribers.
func brokerDropped(b *broker.Broker) func() int64 {
	return func() int64 {
		st := b.Stats()
		return st.Dropped + st.InflightDropped
	}
}

func noDrops() int64 { return 0 }

// The kgen subject: the stream and rule from the README, in an engine whose
// root the harness made (and removes).
const (
	ruleID     = "loadharness"
	streamSQL  = `CREATE STREAM demo (temperature FLOAT, humidity BIGINT, ts BIGINT) WITH (DATASOURCE=%q, TYPE="mqtt", FORMAT="json")`
	ruleSQL    = `SELECT temperature * 2 AS t FROM demo WHERE temperature > 50`
	latencySQL = `SELECT temperature * 2 AS t, ts FROM demo WHERE temperature > 50`
)

func startKgen(cf childConfig) (_ *subject, err error) {
	if cf.root == "" {
		return nil, errors.New("-root is required")
	}
	root := layout.Root(cf.root)
	if err := os.MkdirAll(root.SourceConfs(), 0o755); err != nil {
		return nil, err
	}
	// The mqtt source subscribes at QoS 1 unless told otherwise; the bare
	// consumer subscribes at the harness's QoS, and so must the engine.
	if err := os.WriteFile(root.SourceConf("mqtt"), fmt.Appendf(nil, "default:\n  qos: %d\n", cf.qos), 0o644); err != nil {
		return nil, err
	}
	opts := engine.Options{Root: cf.root}
	if cf.server == "" {
		opts.Broker, opts.BrokerAddr = true, "127.0.0.1:0"
	} else if err := os.WriteFile(root.ConfigFile(), fmt.Appendf(nil, "mqtt:\n  server: %s\n", cf.server), 0o644); err != nil {
		return nil, err
	}
	e, err := engine.Open(opts)
	if err != nil {
		return nil, err
	}
	s := &subject{dropped: noDrops, closers: []func(){func() { e.Close() }}}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if b := e.Broker(); b != nil {
		s.addr, s.dropped = b.Addr(), brokerDropped(b)
	}
	if _, err := e.CreateStream(fmt.Sprintf(streamSQL, cf.topic)); err != nil {
		return nil, err
	}
	def := map[string]any{"id": ruleID, "sql": ruleSQL, "actions": []any{map[string]any{"nop": map[string]any{}}}}
	if cf.out != "" {
		def["sql"] = latencySQL
		def["actions"] = []any{map[string]any{"mqtt": map[string]any{"topic": cf.out, "qos": cf.qos}}}
	}
	data, err := json.Marshal(def)
	if err != nil {
		return nil, err
	}
	if _, err := e.CreateRule(data); err != nil {
		return nil, err
	}
	if err := waitConnected(e); err != nil {
		return nil, err
	}
	s.counts = func() (int64, int64) {
		st, _ := e.RuleStatus(ruleID)
		return st.RecordsIn, st.RecordsOut
	}
	return s, nil
}

// waitConnected waits until the rule's source has subscribed and its sink is
// connected: the mqtt source reports connected only once the broker has
// acknowledged the subscription.
func waitConnected(e *engine.Engine) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := e.RuleStatus(ruleID)
		if err != nil {
			return err
		}
		if st.Status == "failed" {
			return fmt.Errorf("rule %q failed: %s", ruleID, st.Message)
		}
		ready := st.Status == "running"
		for _, src := range st.Sources {
			ready = ready && src.Connection == "connected" && src.Message == ""
		}
		for _, snk := range st.Sinks {
			ready = ready && snk.Connection == "connected"
		}
		if ready {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("rule %q not connected within 30s: %+v", ruleID, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reading is a message of the demo stream.
type reading struct {
	Temperature float64 `json:"temperature"`
	Humidity    int64   `json:"humidity"`
	TS          int64   `json:"ts"`
}

// bareConsumer does what the rule does, by hand: decode, filter, compute t.
// With out set it is a relay, as the latency scenario's rule: it publishes
// {"t": …, "ts": …} to out for each message that passes, from paho's
// handler, without waiting for the write (QoS 0 needs no acknowledgement).
type bareConsumer struct {
	received, passed atomic.Int64
	t                float64 // the last t, so that computing it is not optimised away

	out    string
	qos    byte
	client paho.Client
	failed atomic.Int64 // relayed rows that could not be encoded
}

// relayed is a row the relay publishes.
type relayed struct {
	T  float64 `json:"t"`
	TS int64   `json:"ts"`
}

func (c *bareConsumer) onMessage(_ paho.Client, m paho.Message) {
	var r reading
	if err := json.Unmarshal(m.Payload(), &r); err == nil && r.Temperature > 50 {
		c.t = r.Temperature * 2
		if c.out != "" {
			b, err := json.Marshal(relayed{T: c.t, TS: r.TS})
			if err != nil {
				c.failed.Add(1)
			} else {
				c.client.Publish(c.out, c.qos, false, b)
			}
		}
		c.passed.Add(1)
	}
	c.received.Add(1)
}

func startBare(cf childConfig) (_ *subject, err error) {
	s := &subject{dropped: noDrops}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	url := cf.server
	if url == "" {
		b, err := broker.Start("127.0.0.1:0", nil)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, func() { b.Close() })
		s.addr, s.dropped, url = b.Addr(), brokerDropped(b), b.URL()
	}
	// paho's default options, as a hand-written consumer would have them.
	client := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("loadharness-bare"))
	if err := wait(client.Connect(), "connect to "+url); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { client.Disconnect(100) })
	c := bareConsumer{out: cf.out, qos: byte(cf.qos), client: client}
	if err := wait(client.Subscribe(cf.topic, byte(cf.qos), c.onMessage), "subscribe to "+strconv.Quote(cf.topic)); err != nil {
		return nil, err
	}
	s.counts = func() (int64, int64) { return c.received.Load(), c.passed.Load() }
	return s, nil
}

// startBroker runs the embedded broker alone: the broker-only baseline of
// the latency scenario with the embedded broker. It counts the PUBLISH
// packets the broker receives.
func startBroker() (*subject, error) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		return nil, err
	}
	return &subject{
		addr:    b.Addr(),
		counts:  func() (int64, int64) { return b.Stats().Received, 0 },
		dropped: brokerDropped(b),
		closers: []func(){func() { b.Close() }},
	}, nil
}
