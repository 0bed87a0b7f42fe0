package connector

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/kgen-dev/kgen/engine/broker"
	"github.com/kgen-dev/kgen/internal/testutil/mosquitto"
	"github.com/kgen-dev/kgen/sdk"
)

// startMQTTSource provisions, connects and subscribes an mqtt source, and
// waits until it reports connected: the subscription is then active.
func startMQTTSource(t *testing.T, ctx *testContext, props map[string]any) (*statusLog, *recorder) {
	t.Helper()
	rec := newRecorder(100)
	return subscribeMQTT(t, ctx, props, rec.ingest), rec
}

func subscribeMQTT(t *testing.T, ctx *testContext, props map[string]any, ingest sdk.Ingest) *statusLog {
	t.Helper()
	_, status := runMQTTSource(t, ctx, props, ingest)
	return status
}

// runMQTTSource provisions, connects and subscribes an mqtt source, waits
// until it is connected, and closes it at the end of the test.
func runMQTTSource(t *testing.T, ctx *testContext, props map[string]any, ingest sdk.Ingest) (*mqttSource, *statusLog) {
	t.Helper()
	src := &mqttSource{}
	if err := src.Provision(ctx, props); err != nil {
		t.Fatal(err)
	}
	status := newStatusLog()
	src.SetStatusHandler(status.handler)
	if err := src.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close(ctx) })
	if err := src.Subscribe(ctx, ingest, func(_ sdk.Context, err error) { t.Errorf("ingest error: %v", err) }); err != nil {
		t.Fatal(err)
	}
	status.wait(t, sdk.StatusConnecting, time.Second)
	status.wait(t, sdk.StatusConnected, 10*time.Second)
	return src, status
}

func startMQTTSink(t *testing.T, ctx *testContext, props map[string]any, status *statusLog) *mqttSink {
	t.Helper()
	sink := &mqttSink{}
	if err := sink.Provision(ctx, props); err != nil {
		t.Fatal(err)
	}
	if status != nil {
		sink.SetStatusHandler(status.handler)
	}
	if err := sink.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close(ctx) })
	return sink
}

// expectMessage waits for the next ingested payload and checks it.
func expectMessage(t *testing.T, rec *recorder, topic, payload string, qos int64) {
	t.Helper()
	in := rec.next(t, 10*time.Second)
	b, ok := in.data.([]byte)
	if !ok {
		t.Fatalf("ingested %T, want []byte", in.data)
	}
	if string(b) != payload || in.meta["topic"] != topic || in.meta["qos"] != qos {
		t.Fatalf("ingested %s with meta %v, want %s on %q with qos %d", b, in.meta, payload, topic, qos)
	}
	if _, ok := in.meta["messageId"].(int64); !ok {
		t.Fatalf("meta messageId = %#v", in.meta["messageId"])
	}
}

func TestMQTTEmbeddedBroker(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := newTestContext(t)

	_, rec := startMQTTSource(t, ctx, map[string]any{"server": b.URL(), "datasource": "sensors/+/temp", "qos": 1, "format": "json"})
	_, all := startMQTTSource(t, ctx, map[string]any{"server": b.URL(), "datasource": "sensors/#", "qos": 0, "clientid": "kgen-all"})

	sink := startMQTTSink(t, ctx, map[string]any{"server": b.URL(), "topic": "sensors/a/temp", "qos": 1}, nil)
	if err := sink.Collect(ctx, map[string]any{"t": 21}); err != nil {
		t.Fatal(err)
	}
	if err := sink.CollectList(ctx, []map[string]any{{"t": 1}, {"t": 2}}); err != nil {
		t.Fatal(err)
	}
	expectMessage(t, rec, "sensors/a/temp", `{"t":21}`, 1)
	expectMessage(t, rec, "sensors/a/temp", `[{"t":1},{"t":2}]`, 1)
	expectMessage(t, all, "sensors/a/temp", `{"t":21}`, 0)
	expectMessage(t, all, "sensors/a/temp", `[{"t":1},{"t":2}]`, 0)

	// A topic outside "+/temp" reaches only the "#" subscriber.
	hum := startMQTTSink(t, ctx, map[string]any{"server": b.URL(), "topic": "sensors/a/hum", "qos": 1, "clientId": "kgen-hum-sink"}, nil)
	if err := hum.Collect(ctx, map[string]any{"h": 40}); err != nil {
		t.Fatal(err)
	}
	expectMessage(t, all, "sensors/a/hum", `{"h":40}`, 0)
	if err := sink.Collect(ctx, map[string]any{"t": 22}); err != nil {
		t.Fatal(err)
	}
	expectMessage(t, rec, "sensors/a/temp", `{"t":22}`, 1)
}

// Two sources in one shared-subscription group split the messages between
// them: each message arrives exactly once.
func TestMQTTSharedSubscription(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := newTestContext(t)
	props := map[string]any{"server": b.URL(), "datasource": "$share/g/jobs/#", "qos": 1}
	_, r1 := startMQTTSource(t, ctx, props)
	_, r2 := startMQTTSource(t, ctx, props)
	sink := startMQTTSink(t, ctx, map[string]any{"server": b.URL(), "topic": "jobs/x", "qos": 1}, nil)
	const n = 20
	for i := range n {
		if err := sink.Collect(ctx, map[string]any{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	deadline := time.After(10 * time.Second)
	for len(seen) < n {
		var in ingested
		select {
		case in = <-r1.rows:
		case in = <-r2.rows:
		case <-deadline:
			t.Fatalf("received %d of %d messages", len(seen), n)
		}
		p := string(in.data.([]byte))
		if seen[p] {
			t.Fatalf("message %s delivered twice", p)
		}
		seen[p] = true
	}
}

func TestMQTTConnectFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	ctx := newTestContext(t)
	src := &mqttSource{}
	status := newStatusLog()
	src.SetStatusHandler(status.handler)
	if err := src.Provision(ctx, map[string]any{"server": "tcp://" + addr, "datasource": "t"}); err != nil {
		t.Fatal(err)
	}
	err = src.Connect(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "mqtt source: connect to tcp://"+addr+": ") || !sdk.IsRetryable(err) {
		t.Fatalf("Connect = %v", err)
	}
	status.wait(t, sdk.StatusConnecting, time.Second)
	status.wait(t, sdk.StatusDisconnected, time.Second)
	src.Close(ctx)
}

// A slow ingest holds the next message back instead of piling up messages
// in goroutines: at most one message is in the handler at a time.
func TestMQTTSourceBackpressure(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := newTestContext(t)

	release := make(chan struct{})
	got := make(chan string, 100)
	inHandler := make(chan int, 100)
	active := 0
	ingest := func(_ sdk.Context, data any, _ map[string]any, _ time.Time) {
		active++ // the race detector flags concurrent calls
		inHandler <- active
		<-release
		got <- string(data.([]byte))
		active--
	}
	subscribeMQTT(t, ctx, map[string]any{"server": b.URL(), "datasource": "bp", "qos": 1}, ingest)
	sink := startMQTTSink(t, ctx, map[string]any{"server": b.URL(), "topic": "bp", "qos": 1}, nil)
	const n = 10
	// In process, the handler runs on the publisher's connection: while it
	// waits, the broker reads nothing more from the sink, so the sink
	// publishes from its own goroutine.
	published := make(chan error, 1)
	go func() {
		for i := range n {
			if err := sink.Collect(ctx, map[string]any{"i": i}); err != nil {
				published <- err
				return
			}
		}
		published <- nil
	}()
	for i := range n {
		select {
		case a := <-inHandler:
			if a != 1 {
				t.Fatalf("%d messages in the handler at once", a)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d not handed over", i)
		}
		release <- struct{}{}
		if p := <-got; p != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("message %d = %s (out of order)", i, p)
		}
	}
	if err := <-published; err != nil {
		t.Fatal(err)
	}
}

func TestMQTTMosquitto(t *testing.T) {
	m := mosquitto.Start(t)
	ctx := newTestContext(t)

	sinkStatus := newStatusLog()
	srcStatus, rec := startMQTTSource(t, ctx, map[string]any{"server": m.URL(), "datasource": "plant/+/temp", "qos": 1})
	sink := startMQTTSink(t, ctx, map[string]any{"server": m.URL(), "topic": "plant/p1/temp", "qos": 1, "protocolVersion": "3.1"}, sinkStatus)
	sinkStatus.wait(t, sdk.StatusConnected, 10*time.Second)

	if err := sink.Collect(ctx, map[string]any{"t": 1}); err != nil {
		t.Fatal(err)
	}
	expectMessage(t, rec, "plant/p1/temp", `{"t":1}`, 1)

	// The broker dies: both report it, and the sink asks to be retried.
	m.Kill()
	c := srcStatus.wait(t, sdk.StatusDisconnected, 20*time.Second)
	if c.msg == "" {
		t.Error("disconnected without a reason")
	}
	sinkStatus.wait(t, sdk.StatusDisconnected, 20*time.Second)
	err := sink.Collect(ctx, map[string]any{"t": 2})
	if !sdk.IsRetryable(err) {
		t.Fatalf("Collect while the broker is down = %v, want a retryable error", err)
	}
	if want := `mqtt sink: publish to "plant/p1/temp": not connected`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}

	// The broker comes back on the same port, without any state: both
	// reconnect, and the source reports connected once it has subscribed
	// again.
	m.Start()
	srcStatus.wait(t, sdk.StatusConnected, 20*time.Second)
	sinkStatus.wait(t, sdk.StatusConnected, 20*time.Second)
	if err := sink.Collect(ctx, map[string]any{"t": 3}); err != nil {
		t.Fatal(err)
	}
	expectMessage(t, rec, "plant/p1/temp", `{"t":3}`, 1)
}

var (
	_ sdk.PushSource     = (*mqttSource)(nil)
	_ sdk.StatusReporter = (*mqttSource)(nil)
	_ sdk.StatusReporter = (*mqttSink)(nil)
)

// tcpProxy forwards connections to a target and can cut them, to drop a
// client's connection while the broker (and its sessions) stays up.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveProxy(t, ln, target)
}

// serveProxy forwards the connections ln accepts to target.
func serveProxy(t *testing.T, ln net.Listener, target string) *tcpProxy {
	p := &tcpProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			p.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *tcpProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func (p *tcpProxy) url() string { return "tcp://" + p.ln.Addr().String() }

// cut closes every forwarded connection; down refuses new ones until up.
func (p *tcpProxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// A source with a fixed client id keeps its session: QoS 1 messages
// published while its connection is down arrive after it reconnects.
func TestMQTTPersistentSession(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	proxy := startProxy(t, b.Addr())
	ctx := newTestContext(t)

	status, rec := startMQTTSource(t, ctx, map[string]any{"server": proxy.url(), "datasource": "orders", "qos": 1, "clientid": "kgen-persistent"})
	sink := startMQTTSink(t, ctx, map[string]any{"server": b.URL(), "topic": "orders", "qos": 1}, nil)
	if err := sink.Collect(ctx, map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	expectMessage(t, rec, "orders", `{"n":1}`, 1)

	proxy.cut(true)
	status.wait(t, sdk.StatusDisconnected, 10*time.Second)
	for n := 2; n <= 4; n++ {
		if err := sink.Collect(ctx, map[string]any{"n": n}); err != nil {
			t.Fatal(err)
		}
	}
	proxy.restore()
	status.wait(t, sdk.StatusConnected, 20*time.Second)
	// QoS 1 is at least once: {"n":1} comes again if its acknowledgement was
	// cut off with the connection.
	missing := map[string]bool{`{"n":2}`: true, `{"n":3}`: true, `{"n":4}`: true}
	for len(missing) > 0 {
		p := string(rec.next(t, 10*time.Second).data.([]byte))
		if !missing[p] && p != `{"n":1}` {
			t.Fatalf("unexpected message %s", p)
		}
		delete(missing, p)
	}
}

type fakeMessage struct {
	topic string
	acked chan string
}

func (m fakeMessage) Duplicate() bool   { return false }
func (m fakeMessage) Qos() byte         { return 1 }
func (m fakeMessage) Retained() bool    { return false }
func (m fakeMessage) Topic() string     { return m.topic }
func (m fakeMessage) MessageID() uint16 { return 7 }
func (m fakeMessage) Payload() []byte   { return []byte("{}") }
func (m fakeMessage) Ack()              { m.acked <- m.topic }

// Messages of a resumed session are ingested only when they match the
// DATASOURCE (a shared subscription's group prefix aside), and every message
// is acknowledged after it was ingested.
func TestMQTTSessionMessages(t *testing.T) {
	ctx := newTestContext(t)
	src := &mqttSource{}
	if err := src.Provision(ctx, map[string]any{"datasource": "$share/g/a/+"}); err != nil {
		t.Fatal(err)
	}
	var events []string
	acked := make(chan string, 4)
	src.ingest = func(_ sdk.Context, _ any, meta map[string]any, _ time.Time) {
		events = append(events, "ingest "+meta["topic"].(string))
	}
	src.ctx = ctx
	close(src.ready)
	for _, topic := range []string{"a/1", "b/1"} {
		src.onSessionMessage(nil, fakeMessage{topic: topic, acked: acked})
		events = append(events, "ack "+<-acked)
	}
	if got, want := strings.Join(events, ", "), "ingest a/1, ack a/1, ack b/1"; got != want {
		t.Fatalf("events: %s, want %s", got, want)
	}
}

// A source on the embedded broker with a clientid of its own connects over
// TCP, where the broker drops messages for it once its queue is full; every
// message is then either received or counted as dropped.
func TestMQTTDropsCounted(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := newTestContext(t)
	src := &mqttSource{}
	if err := src.Provision(ctx, map[string]any{"server": b.URL(), "datasource": "fast", "qos": 0, "clientid": "kgen-slow"}); err != nil {
		t.Fatal(err)
	}
	if src.inline != nil {
		t.Fatal("a source with a clientid subscribed in process")
	}
	status := newStatusLog()
	src.SetStatusHandler(status.handler)
	if err := src.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close(ctx)
	release := make(chan struct{})
	var received atomic.Int64
	ingest := func(sdk.Context, any, map[string]any, time.Time) {
		<-release
		received.Add(1)
	}
	if err := src.Subscribe(ctx, ingest, func(sdk.Context, error) {}); err != nil {
		t.Fatal(err)
	}
	status.wait(t, sdk.StatusConnected, 10*time.Second)

	pub := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("fast-pub"))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer pub.Disconnect(50)
	const n = 30_000 // well over the broker's queue of 8192 per client
	payload := make([]byte, 512)
	var last paho.Token
	for range n {
		last = pub.Publish("fast", 0, false, payload)
	}
	if !last.WaitTimeout(time.Minute) || last.Error() != nil {
		t.Fatalf("publish: %v", last.Error())
	}
	deadline := time.Now().Add(20 * time.Second)
	for b.Stats().Received < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	for received.Load()+src.Dropped() < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	got, dropped := received.Load(), src.Dropped()
	if dropped == 0 || got+dropped != n || dropped != b.Stats().Dropped {
		t.Fatalf("%d sent: %d received, %d dropped for the source, %d by the broker", n, got, dropped, b.Stats().Dropped)
	}
}

// selfSigned makes a certificate for 127.0.0.1 that is its own authority,
// and returns it with its PEM.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kgen test broker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// A source reaches a broker over TLS (ssl://), trusting the authority of
// rootCaPath and no other.
func TestMQTTOverTLS(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cert, caPEM := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := serveProxy(t, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}}), b.Addr())
	ctx := newTestContext(t)
	if err := os.WriteFile(filepath.Join(ctx.root, "ca.pem"), caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	server := "ssl://" + p.ln.Addr().String()
	_, rec := startMQTTSource(t, ctx, map[string]any{"server": server, "datasource": "secure", "qos": 1, "rootCaPath": "ca.pem"})
	sink := startMQTTSink(t, ctx, map[string]any{"server": b.URL(), "topic": "secure", "qos": 1}, nil)
	if err := sink.Collect(ctx, map[string]any{"t": 1}); err != nil {
		t.Fatal(err)
	}
	expectMessage(t, rec, "secure", `{"t":1}`, 1)

	untrusting := &mqttSource{}
	if err := untrusting.Provision(ctx, map[string]any{"server": server, "datasource": "secure"}); err != nil {
		t.Fatal(err)
	}
	defer untrusting.Close(ctx)
	if err := untrusting.Connect(ctx); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("connecting without the authority: %v, want a certificate error", err)
	}
}

// A source with a persistent session keeps its subscription when it is
// closed (a rule stopped, the engine shut down): what is published
// meanwhile arrives when it runs again. Forget (the rule deleted) ends the
// session, and what was queued for it goes with it.
func TestMQTTSessionKeptAcrossCloseUntilForgotten(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := newTestContext(t)
	props := map[string]any{"server": b.URL(), "datasource": "orders", "qos": 1, "clientid": "kgen-kept"}
	sink := startMQTTSink(t, ctx, map[string]any{"server": b.URL(), "topic": "orders", "qos": 1}, nil)
	run := func() (*mqttSource, *recorder) {
		rec := newRecorder(100)
		src, _ := runMQTTSource(t, ctx, props, rec.ingest)
		return src, rec
	}
	publish := func(n int) {
		if err := sink.Collect(ctx, map[string]any{"n": n}); err != nil {
			t.Fatal(err)
		}
	}

	src, _ := run()
	src.Close(ctx)
	publish(1) // while closed
	src, rec := run()
	expectMessage(t, rec, "orders", `{"n":1}`, 1)
	src.Close(ctx)

	publish(2) // queued for the session, then forgotten with it
	if err := src.Forget(ctx); err != nil {
		t.Fatal(err)
	}
	_, rec = run()
	publish(3)
	// Only the subscription made after Forget delivers: n=2 went with the
	// old session.
	expectMessage(t, rec, "orders", `{"n":3}`, 1)
}
