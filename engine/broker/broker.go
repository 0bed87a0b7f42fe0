// Package broker runs an embedded MQTT broker (mochi-mqtt) so that a kgen
// engine can offer MQTT to its rules without an external server. It accepts
// anonymous clients and keeps no state on disk: it is meant for a single
// machine, for demos and for tests.
//
// The engine's own sources subscribe in process (Subscribe): a message is
// handed to them on the goroutine that read it from its publisher, so a
// slow rule slows the publisher down (TCP flow control) instead of the
// broker queueing and, once a subscriber's queue is full, dropping. Lookup
// finds the broker a server URL points at.
package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Broker is a running embedded MQTT broker.
type Broker struct {
	server    *mqtt.Server
	ln        *tcpListener
	drops     *dropHook
	subID     atomic.Int64 // the last in-process subscription id
	closeOnce sync.Once
	closeErr  error
}

// running are the brokers started and not closed, for Lookup.
var running = struct {
	sync.Mutex
	m map[*Broker]struct{}
}{m: map[*Broker]struct{}{}}

// DefaultMaxPacketSize bounds an MQTT packet the embedded broker takes,
// in bytes, unless StartWith is given another bound.
const DefaultMaxPacketSize = 16 << 20

// Start listens on addr (host:port; port 0 picks a free port) and serves MQTT
// 3.1, 3.1.1 and 5 with anonymous access allowed, packets up to
// DefaultMaxPacketSize. The broker logs through logger; nil discards its
// logs.
func Start(addr string, logger *slog.Logger) (*Broker, error) {
	return StartWith(addr, logger, DefaultMaxPacketSize)
}

// StartWith is Start with packets bounded to maxPacket bytes: the broker
// disconnects a client that sends a larger one before it reads the packet
// in, so a huge message costs it nothing.
func StartWith(addr string, logger *slog.Logger, maxPacket uint32) (*Broker, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// Listen here rather than in mochi's TCP listener: the caller learns the
	// real port when it asked for port 0, and a busy port fails here with a
	// readable error.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("embedded mqtt broker: listen %s: %w", addr, listenCause(err))
	}
	l := &tcpListener{ln: ln, conns: map[net.Conn]struct{}{}, served: make(chan struct{})}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = maxPacket
	server := mqtt.New(&mqtt.Options{Logger: logger, InlineClient: true, Capabilities: caps})
	drops := &dropHook{}
	for _, h := range []mqtt.Hook{new(auth.AllowHook), drops} {
		if err := server.AddHook(h, nil); err != nil {
			ln.Close()
			return nil, fmt.Errorf("embedded mqtt broker: add hook %s: %w", h.ID(), err)
		}
	}
	if err := server.AddListener(l); err != nil {
		ln.Close()
		return nil, fmt.Errorf("embedded mqtt broker: add listener: %w", err)
	}
	// Serve starts the listener goroutine and returns.
	if err := server.Serve(); err != nil {
		ln.Close()
		return nil, fmt.Errorf("embedded mqtt broker: serve: %w", err)
	}
	b := &Broker{server: server, ln: l, drops: drops}
	running.Lock()
	running.m[b] = struct{}{}
	running.Unlock()
	return b, nil
}

// Lookup returns the running broker that a client of server (an MQTT URL:
// tcp:// or mqtt://, host and port) would reach through a loopback
// address, or nil.
func Lookup(server string) *Broker {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "mqtt") {
		return nil
	}
	host, port := u.Hostname(), u.Port()
	running.Lock()
	defer running.Unlock()
	for b := range running.m {
		lh, lp, err := net.SplitHostPort(b.Addr())
		if err != nil || lp != port {
			continue
		}
		if host == lh || isLoopback(host) && (isLoopback(lh) || isUnspecified(lh)) {
			return b
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isUnspecified(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

// Message is a message an in-process subscription receives.
type Message struct {
	Topic     string
	Payload   []byte // the subscriber's to keep: the broker does not reuse it
	QoS       byte   // the lower of the publisher's and the subscription's
	Retained  bool   // sent because the subscription is new
	Duplicate bool
	PacketID  uint16 // the publisher's
}

// Subscribe subscribes fn to filter (no "$share/" filters) in process. fn
// runs on the goroutine of the client that published the message, which
// reads nothing more from its connection until fn returns; several
// publishers may call fn at once. Retained messages are delivered before
// Subscribe returns. The returned func unsubscribes.
func (b *Broker) Subscribe(filter string, qos byte, fn func(Message)) (unsubscribe func(), err error) {
	if strings.HasPrefix(filter, "$share/") {
		return nil, fmt.Errorf("subscribe %q in process: shared subscriptions need a client connection", filter)
	}
	id := int(b.subID.Add(1))
	handler := func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		fn(Message{
			Topic: pk.TopicName, Payload: pk.Payload, QoS: min(pk.FixedHeader.Qos, qos),
			Retained: pk.FixedHeader.Retain, Duplicate: pk.FixedHeader.Dup, PacketID: pk.PacketID,
		})
	}
	if err := b.server.Subscribe(filter, id, handler); err != nil {
		return nil, fmt.Errorf("subscribe %q in process: %w", filter, err)
	}
	var once sync.Once
	return func() { once.Do(func() { _ = b.server.Unsubscribe(filter, id) }) }, nil
}

// Publish publishes a message in process, as a client would.
func (b *Broker) Publish(topic string, payload []byte, retain bool, qos byte) error {
	if err := b.server.Publish(topic, payload, retain, qos); err != nil {
		return fmt.Errorf("publish to %q in process: %w", topic, err)
	}
	return nil
}

// DroppedFor is how many messages the broker dropped for the client with
// the given id because its queue was full.
func (b *Broker) DroppedFor(clientID string) int64 {
	if n, ok := b.drops.byClient.Load(clientID); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

// dropHook counts the messages dropped for each client that had some,
// until a client with a clean session (whose count nobody can ask for
// after it) goes away.
type dropHook struct {
	mqtt.HookBase
	byClient sync.Map // client id → *atomic.Int64
}

func (h *dropHook) ID() string { return "kgen-drops" }

func (h *dropHook) Provides(b byte) bool {
	return b == mqtt.OnPublishDropped || b == mqtt.OnDisconnect
}

func (h *dropHook) OnDisconnect(cl *mqtt.Client, _ error, _ bool) {
	if cl.Properties.Clean {
		h.byClient.Delete(cl.ID)
	}
}

func (h *dropHook) OnPublishDropped(cl *mqtt.Client, _ packets.Packet) {
	n, _ := h.byClient.LoadOrStore(cl.ID, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

// listenCause strips the "listen tcp addr: bind:" layers of a net.Listen
// error, keeping the cause ("address already in use") and its identity for
// errors.Is.
func listenCause(err error) error {
	var sysErr *os.SyscallError
	if errors.As(err, &sysErr) {
		return sysErr.Err
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Err
	}
	return err
}

// Stats are the broker's counters.
type Stats struct {
	// Clients is how many clients are connected.
	Clients int64
	// Received and Sent count PUBLISH messages.
	Received, Sent int64
	// Dropped counts the messages the broker dropped for a subscriber
	// whose queue was full; InflightDropped those it dropped because a
	// subscriber had too many QoS 1 and 2 messages unacknowledged.
	Dropped, InflightDropped int64
}

// Stats returns the broker's counters.
func (b *Broker) Stats() Stats {
	i := b.server.Info.Clone()
	return Stats{
		Clients: i.ClientsConnected, Received: i.MessagesReceived, Sent: i.MessagesSent,
		Dropped: i.MessagesDropped, InflightDropped: i.InflightDropped,
	}
}

// Addr returns the address the broker listens on, as host:port.
func (b *Broker) Addr() string { return b.ln.Address() }

// URL returns the address as an MQTT client URL: "tcp://host:port".
func (b *Broker) URL() string { return "tcp://" + b.Addr() }

// Close disconnects every client, stops listening and frees the port. It is
// safe to call more than once.
//
// mochi's own Close waits for every connection handler while new ones may
// still start (a client reconnecting at once), and never ends a connection
// that has not sent CONNECT. So Close first stops accepting, disconnects the
// clients, closes what is left and waits for the handlers, and only then
// lets mochi stop the rest.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		running.Lock()
		delete(running.m, b)
		running.Unlock()
		b.ln.stopAccepting()
		for _, cl := range b.server.Clients.GetByListener(b.ln.ID()) {
			_ = b.server.DisconnectClient(cl, packets.ErrServerShuttingDown)
		}
		b.ln.closeConns()
		b.ln.handlers.Wait()
		b.closeErr = b.server.Close()
	})
	return b.closeErr
}

// tcpListener is a mochi listener over a net.Listener that keeps track of
// its connections and of the goroutines serving them.
type tcpListener struct {
	ln       net.Listener
	served   chan struct{} // closed when Serve returns
	handlers sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

var _ listeners.Listener = (*tcpListener)(nil)

func (l *tcpListener) ID() string                { return "tcp" }
func (l *tcpListener) Address() string           { return l.ln.Addr().String() }
func (l *tcpListener) Protocol() string          { return "tcp" }
func (l *tcpListener) Init(_ *slog.Logger) error { return nil }

// Serve accepts connections until the listener is closed.
func (l *tcpListener) Serve(establish listeners.EstablishFn) {
	defer close(l.served)
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		l.conns[c] = struct{}{}
		l.mu.Unlock()
		l.handlers.Add(1)
		go func() {
			defer l.handlers.Done()
			// establish returns when the client disconnects; its error
			// (a client that went away) is not the broker's.
			_ = establish(l.ID(), c)
			c.Close()
			l.mu.Lock()
			delete(l.conns, c)
			l.mu.Unlock()
		}()
	}
}

// Close is called by mochi's Close, after Broker.Close has done the work.
func (l *tcpListener) Close(closeClients listeners.CloseFn) {
	l.stopAccepting()
	closeClients(l.ID())
}

func (l *tcpListener) stopAccepting() {
	_ = l.ln.Close()
	<-l.served
}

func (l *tcpListener) closeConns() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		c.Close()
	}
}
