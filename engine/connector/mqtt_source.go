package connector

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/kgen-dev/kgen/engine/broker"
	"github.com/kgen-dev/kgen/sdk"
)

func init() {
	sdk.RegisterSource("mqtt", func() sdk.Source { return &mqttSource{} })
}

// mqttSource subscribes to the DATASOURCE topic filter and ingests each
// payload as bytes, with meta {"topic", "messageId", "qos"}.
//
// Backpressure: messages are handled one at a time on paho's reading
// goroutine (SetOrderMatters(true)), so an ingest that blocks stops reading
// from the socket and TCP flow control pushes back to the broker. QoS 1 and
// 2 messages are acknowledged only after ingest returns.
//
// In a rule at qos 1 or 2 the engine calls DeferAcks, and messages are
// acknowledged once a checkpoint covers them (sdk.Acknowledger); the
// engine then gives the source a client id of its own, so that its session
// persists.
//
// On the engine's embedded broker (broker.Lookup finds it by the server
// URL) the source subscribes in process instead: each message is ingested
// on the goroutine that read it from its publisher, so a slow rule slows
// the publisher down and nothing is queued or dropped on the way. Not so
// for a "$share/" filter or a clientid set in the properties (a
// persistent session): those connect over TCP, and the messages the
// broker drops for them, its queue for the client being full, are counted
// (sdk.Lossy).
//
// Reconnection: paho reconnects with backoff (at once, then 1s doubling up to
// 10s) and the OnConnect handler subscribes again after every connection, so
// the subscription survives a broker that lost its state. A generated client
// id uses a clean session; a configured one keeps its session, so that the
// broker queues QoS 1 and 2 messages while the connection is down. Close
// unsubscribes, so a stopped rule leaves nothing queuing on the broker.
type mqttSource struct {
	statusReporter

	cfg         mqttConfig
	filter      string
	topicFilter []string // filter without a "$share/group/" prefix, split
	qos         byte
	clean       bool

	// inline is the embedded broker subscribed to in process, nil over
	// TCP; inlineMu serialises its publishers' calls, unsubscribe ends the
	// subscription.
	inline      *broker.Broker
	inlineMu    sync.Mutex
	unsubscribe func()
	// embedded is the embedded broker this source connects to over TCP,
	// which counts what it drops for it; nil for another broker.
	embedded *broker.Broker

	client paho.Client
	// ready is closed by Subscribe: until then (or Close) a message that
	// arrives for a resumed session waits, since there is no ingest yet.
	ready     chan struct{}
	readyOnce sync.Once
	stop      chan struct{} // closed by Close
	stopOnce  sync.Once

	mu        sync.Mutex
	ctx       sdk.Context
	ingest    sdk.Ingest
	ingestErr sdk.ErrorIngest
	// onConnectRan tells Subscribe that onConnect has run and will not
	// subscribe for it: subscribing twice would make the broker resend its
	// retained messages.
	onConnectRan bool

	// In a rule that checkpoints (DeferAcks), messages are acknowledged
	// by Ack: unacked holds them in arrival order, numbered by seq; cur is
	// the number of the message being ingested.
	deferAcks  bool
	maxUnacked int
	ackMu      sync.Mutex
	seq        uint64
	cur        uint64
	unacked    []unackedMsg
}

type unackedMsg struct {
	seq uint64
	msg paho.Message
}

var _ sdk.Acknowledger = (*mqttSource)(nil)

// DeferAcks holds acknowledgements until Ack. The broker stops sending
// once it has as many unacknowledged messages out as its in-flight window
// (mosquitto: max_inflight_messages, 20 by default), so the engine is
// asked to checkpoint after maxUnacked (the property, default 16). In
// process there is nothing to acknowledge and nothing waits.
func (s *mqttSource) DeferAcks() int {
	if s.inline != nil {
		return math.MaxInt32
	}
	s.deferAcks = true
	return s.maxUnacked
}

// GetOffset is the number of the message being ingested.
func (s *mqttSource) GetOffset() (any, error) {
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	return s.cur, nil
}

// Ack acknowledges, in arrival order, every message up to the one numbered
// offset.
func (s *mqttSource) Ack(offset any) error {
	upTo, ok := offset.(uint64)
	if !ok {
		return fmt.Errorf("mqtt source: offset %v: want a uint64", offset)
	}
	s.ackMu.Lock()
	i := 0
	for i < len(s.unacked) && s.unacked[i].seq <= upTo {
		i++
	}
	done := s.unacked[:i:i]
	s.unacked = s.unacked[i:]
	s.ackMu.Unlock()
	for _, u := range done {
		u.msg.Ack()
	}
	return nil
}

// hold queues a message for Ack and makes it the current one. It reports
// false for a message the broker sends again (after a reconnection) while
// the first delivery still waits for its Ack: that one was ingested
// already.
func (s *mqttSource) hold(m paho.Message) bool {
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	if m.Duplicate() && m.Qos() > 0 {
		for _, u := range s.unacked {
			if u.msg.MessageID() == m.MessageID() {
				return false
			}
		}
	}
	s.seq++
	s.cur = s.seq
	s.unacked = append(s.unacked, unackedMsg{seq: s.seq, msg: m})
	return true
}

func (s *mqttSource) Provision(ctx sdk.Context, props map[string]any) error {
	s.ready, s.stop = make(chan struct{}), make(chan struct{})
	r := propReader{props: props}
	s.cfg = readMQTTConfig(ctx, &r, "clientid")
	userClientID := s.cfg.clientID
	if s.cfg.clientID == "" {
		// The engine's client id for a rule that checkpoints.
		s.cfg.clientID = r.string("durableClientid", "")
	}
	s.filter = r.required("datasource")
	s.qos = byte(r.intRange("qos", 1, 0, 2))
	s.maxUnacked = r.intRange("maxUnacked", 16, 1, 65535)
	r.accept(mqttClientIDs...)
	r.accept("durableClientid")
	r.accept(CommonSourceProps...)
	r.strict(ctx, ekuiperSourceProps, ekuiperMQTTSourceProps)
	if r.err != nil {
		return fmt.Errorf("mqtt source: %w", r.err)
	}
	if s.cfg.clientID == "" {
		s.cfg.clientID, s.clean = newClientID(), true
	}
	s.topicFilter = strings.Split(s.filter, "/")
	shared := s.topicFilter[0] == "$share" && len(s.topicFilter) > 2
	if shared {
		s.topicFilter = s.topicFilter[2:]
	}
	if b := broker.Lookup(s.cfg.server); b != nil && !shared && userClientID == "" {
		s.inline = b
	} else {
		s.embedded = b
	}
	return nil
}

var _ sdk.Lossy = (*mqttSource)(nil)

// Dropped is how many messages the embedded broker dropped for this
// source's client, its queue being full. Other brokers do not tell.
func (s *mqttSource) Dropped() int64 {
	if s.embedded == nil {
		return 0
	}
	return s.embedded.DroppedFor(s.cfg.clientID)
}

func (s *mqttSource) Connect(ctx sdk.Context) error {
	if s.inline != nil {
		s.report(sdk.StatusConnecting, s.cfg.server+" (in process)")
		return nil
	}
	opts := s.watch(s.cfg.clientOptions()).
		SetCleanSession(s.clean).
		SetOrderMatters(true).
		SetAutoAckDisabled(true). // ack after ingest, in onMessage
		SetDefaultPublishHandler(s.onSessionMessage).
		SetOnConnectHandler(s.onConnect)
	s.client = paho.NewClient(opts)
	s.report(sdk.StatusConnecting, s.cfg.server)
	if err := connectMQTT(ctx, s.client, s.cfg.server); err != nil {
		s.report(sdk.StatusDisconnected, err.Error())
		return fmt.Errorf("mqtt source: %w", err)
	}
	return nil
}

// Subscribe records where messages go and subscribes in the background if
// the client is connected; otherwise onConnect subscribes when the connection
// is (back) up. It does not wait for the broker's answer: with a resumed
// session, queued messages may fill the engine before the SUBACK is read.
func (s *mqttSource) Subscribe(ctx sdk.Context, ingest sdk.Ingest, ingestErr sdk.ErrorIngest) error {
	if s.client == nil && s.inline == nil {
		return errors.New("mqtt source: not connected")
	}
	s.mu.Lock()
	if s.ingest != nil {
		s.mu.Unlock()
		return errors.New("mqtt source: already subscribed")
	}
	s.ctx, s.ingest, s.ingestErr = ctx, ingest, ingestErr
	ran := s.onConnectRan
	s.mu.Unlock()
	s.readyOnce.Do(func() { close(s.ready) })
	if s.inline != nil {
		unsub, err := s.inline.Subscribe(s.filter, s.qos, s.onInline)
		if err != nil {
			return fmt.Errorf("mqtt source: %w", err)
		}
		s.mu.Lock()
		s.unsubscribe = unsub
		s.mu.Unlock()
		s.report(sdk.StatusConnected, "")
	} else if ran && s.client.IsConnectionOpen() {
		go s.subscribe()
	}
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close(ctx)
		case <-s.stop:
		}
	}()
	return nil
}

// onConnect runs (in its own goroutine) after every connection.
func (s *mqttSource) onConnect(paho.Client) {
	s.mu.Lock()
	s.onConnectRan = true
	subscribed := s.ingest != nil
	s.mu.Unlock()
	if subscribed { // else Subscribe will subscribe
		s.subscribe()
	}
}

// subscribe subscribes on the current connection and then reports connected,
// so that for a source "connected" means messages flow. A refusal is retried
// a few times: mochi (the embedded broker) refuses a SUBSCRIBE whose packet id
// is in use by a message it is still sending, which happens right after a
// persistent session resumes. A final failure is reported to the engine and
// in the status message.
func (s *mqttSource) subscribe() {
	var err error
	for wait := 250 * time.Millisecond; ; wait *= 2 {
		err = s.trySubscribe()
		if err == nil {
			s.report(sdk.StatusConnected, "")
			return
		}
		if !errors.Is(err, errRefused) || wait > 2*time.Second {
			break
		}
		select {
		case <-time.After(wait):
		case <-s.stop:
			return
		}
	}
	if errors.Is(err, errStopped) {
		return
	}
	s.mu.Lock()
	ctx, ingestErr := s.ctx, s.ingestErr
	s.mu.Unlock()
	err = fmt.Errorf("mqtt source: %w", err)
	ingestErr(ctx, err)
	s.report(sdk.StatusConnected, err.Error())
}

var errRefused = errors.New("refused by the broker")

func (s *mqttSource) trySubscribe() error {
	tok := s.client.Subscribe(s.filter, s.qos, s.onMessage)
	// No timeout: the token completes when the broker answers, when the
	// connection drops (paho then fails it) or never matters after Close.
	select {
	case <-tok.Done():
	case <-s.stop:
		return errStopped
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("subscribe to %q: %w", s.filter, err)
	}
	// A broker refuses a subscription in the SUBACK, not with an error.
	if st, ok := tok.(*paho.SubscribeToken); ok {
		for _, code := range st.Result() {
			if code >= 0x80 {
				return fmt.Errorf("subscribe to %q: %w", s.filter, errRefused)
			}
		}
	}
	return nil
}

// onMessage hands a message to the engine and then acknowledges it, so that
// a message the source stopped before ingesting is redelivered by a broker
// that keeps the session; in a rule that checkpoints it is acknowledged by
// Ack instead, once a checkpoint covers it.
func (s *mqttSource) onMessage(_ paho.Client, m paho.Message) {
	select {
	case <-s.ready:
	case <-s.stop:
		return
	}
	select {
	case <-s.stop:
		return
	default:
	}
	s.mu.Lock()
	ctx, ingest := s.ctx, s.ingest
	s.mu.Unlock()
	meta := map[string]any{
		"topic":     m.Topic(),
		"messageId": int64(m.MessageID()),
		"qos":       int64(m.Qos()),
	}
	if s.deferAcks {
		if s.hold(m) {
			ingest(ctx, m.Payload(), meta, time.Time{})
		}
		return
	}
	ingest(ctx, m.Payload(), meta, time.Time{})
	m.Ack()
}

// onInline ingests a message of the in-process subscription, one at a
// time.
func (s *mqttSource) onInline(m broker.Message) {
	s.inlineMu.Lock()
	defer s.inlineMu.Unlock()
	s.onMessage(nil, inlineMessage{m})
}

// inlineMessage is an in-process message as paho's: nothing to
// acknowledge.
type inlineMessage struct{ m broker.Message }

func (m inlineMessage) Duplicate() bool   { return m.m.Duplicate }
func (m inlineMessage) Qos() byte         { return m.m.QoS }
func (m inlineMessage) Retained() bool    { return m.m.Retained }
func (m inlineMessage) Topic() string     { return m.m.Topic }
func (m inlineMessage) MessageID() uint16 { return m.m.PacketID }
func (m inlineMessage) Payload() []byte   { return m.m.Payload }
func (m inlineMessage) Ack()              {}

// onSessionMessage receives what no subscription of this connection routes:
// the messages a resumed session delivers before Subscribe. Those for another
// topic filter (the session of an earlier DATASOURCE) are dropped.
func (s *mqttSource) onSessionMessage(c paho.Client, m paho.Message) {
	if !matchTopic(s.topicFilter, strings.Split(m.Topic(), "/")) {
		m.Ack()
		return
	}
	s.onMessage(c, m)
}

// Close disconnects, waiting briefly for in-flight work. A source with a
// clean session unsubscribes first; one with a persistent session (a rule
// that checkpoints, or a user's clientid) keeps its subscription, so the
// broker queues what is published while the rule is stopped or the engine
// is down, and the rule gets it when it starts again. Forget ends such a
// session when the rule is deleted.
func (s *mqttSource) Close(ctx sdk.Context) error {
	s.stopOnce.Do(func() {
		s.statusReporter.close()
		if s.stop != nil {
			close(s.stop)
		}
		s.mu.Lock()
		unsub := s.unsubscribe
		s.mu.Unlock()
		if unsub != nil {
			unsub()
		}
		if s.client == nil {
			return
		}
		if s.clean && s.client.IsConnectionOpen() {
			s.client.Unsubscribe(s.filter).WaitTimeout(time.Second)
		}
		s.client.Disconnect(mqttDisconnectMs)
	})
	return nil
}

// Forget ends the persistent session of a closed source whose rule is
// deleted: the broker drops its subscription and what it queued. It
// connects with the session's client id and a clean session, and
// disconnects. A clean or in-process source has nothing to forget.
func (s *mqttSource) Forget(ctx sdk.Context) error {
	if s.clean || s.inline != nil {
		return nil
	}
	c := paho.NewClient(s.cfg.clientOptions().SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false))
	if err := connectMQTT(ctx, c, s.cfg.server); err != nil {
		return fmt.Errorf("mqtt source: end the session of client %q: %w", s.cfg.clientID, err)
	}
	c.Disconnect(mqttDisconnectMs)
	return nil
}
