package connector

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/kgen-dev/kgen/engine/broker"
	"github.com/kgen-dev/kgen/sdk"
)

func init() {
	sdk.RegisterSink("mqtt", func() sdk.Sink { return &mqttSink{} })
}

// mqttPublishTimeout bounds the wait for a publish to be acknowledged (QoS
// 1, 2) or written (QoS 0).
const mqttPublishTimeout = 5 * time.Second

// errNotConnected is returned (marked retryable) while the connection is
// down; the sink reconnects in the background.
var errNotConnected = errors.New("not connected")

// mqttSink publishes every row as a JSON object, and every list as a JSON
// array, to one topic. Failures while the connection is down or a publish
// times out are sdk.Retryable, so the engine retries the row; a message whose
// acknowledgement was lost may then be delivered twice (at least once).
//
// On the engine's embedded broker (broker.Lookup finds it by the server
// URL) the sink publishes in process: no connection, no acknowledgement to
// wait for; the broker has the message when Collect returns.
//
// The engine's retry is the only redelivery: paho keeps no store of
// unacknowledged publishes to resend after a reconnection. paho 1.5 resends
// that store while OnConnect already lets new publishes through, which races
// on the packets and duplicates them.
//
// A publish the broker refuses (its ACL denies the topic) has no reason
// code in MQTT 3.1.1, and brokers answer it in one of two ways. mochi-mqtt,
// at QoS 1 and 2, closes the connection: a QoS 1 or 2 publish whose
// connection is lost before its acknowledgement is retried, and once
// mqttRefusedAfter of them in a row were lost (each on a connection that
// was open when it was sent), the row fails with an error that is not
// retried, which the engine counts as the sink's exception; from then on
// a row that loses the connection fails at its first attempt, until a
// publish is acknowledged again. mosquitto (at any QoS) and mochi-mqtt (at
// QoS 0) drop the message and still acknowledge it: the sink gets no
// signal and counts the row as written. (mosquitto with
// max_queued_messages 0 also closes the connection after its
// acknowledgement; at QoS 1 and 2 the two race.)
type mqttSink struct {
	statusReporter

	cfg      mqttConfig
	topic    string
	qos      byte
	retained bool

	inline *broker.Broker // the embedded broker, published to in process
	client paho.Client

	droppedMu sync.Mutex
	// dropped counts the QoS 1 and 2 publishes in a row whose connection
	// was lost before their acknowledgement.
	dropped int

	closing chan struct{} // closed by Close: reconnect gives up
}

// mqttRefusedAfter is how many QoS 1 or 2 publishes in a row may lose the
// connection before their acknowledgement until the sink takes the topic
// as refused by the broker.
const mqttRefusedAfter = 3

func (s *mqttSink) Provision(ctx sdk.Context, props map[string]any) error {
	r := propReader{props: props}
	s.cfg = readMQTTConfig(ctx, &r, "clientId")
	s.topic = r.required("topic")
	if strings.ContainsAny(s.topic, "+#\x00") {
		// A broker refuses a publish to a wildcard: every row would be lost.
		r.keep(fmt.Errorf(`property "topic": %q: a topic to publish to has no wildcards (+, #) or NUL`, s.topic))
	}
	s.qos = byte(r.intRange("qos", 0, 0, 2))
	s.retained = r.bool("retained", false)
	r.accept(mqttClientIDs...)
	r.strict(ctx, CommonSinkProps, ekuiperMQTTSinkProps)
	if r.err != nil {
		return fmt.Errorf("mqtt sink: %w", r.err)
	}
	if s.cfg.clientID == "" {
		s.cfg.clientID = newClientID()
	}
	s.inline = broker.Lookup(s.cfg.server)
	return nil
}

func (s *mqttSink) Connect(ctx sdk.Context) error {
	if s.inline != nil {
		s.report(sdk.StatusConnected, "")
		return nil
	}
	s.closing = make(chan struct{})
	// The sink reconnects by itself, not paho: paho, reconnecting, keeps
	// a QoS 1 or 2 publish lost with its connection (and its message id)
	// forever, to resend from a store the sink does not keep; without
	// its reconnection it ends such publishes with an error and frees
	// their ids.
	opts := s.watch(s.cfg.clientOptions()).
		SetAutoReconnect(false).
		SetCleanSession(true).
		SetStore(noStore{}).
		SetOnConnectHandler(func(paho.Client) { s.report(sdk.StatusConnected, "") })
	reportLost := opts.OnConnectionLost
	opts.SetConnectionLostHandler(func(c paho.Client, err error) {
		reportLost(c, err)
		go s.reconnect()
	})
	s.client = paho.NewClient(opts)
	s.report(sdk.StatusConnecting, s.cfg.server)
	if err := connectMQTT(ctx, s.client, s.cfg.server); err != nil {
		s.report(sdk.StatusDisconnected, err.Error())
		return fmt.Errorf("mqtt sink: %w", err)
	}
	return nil
}

func (s *mqttSink) Collect(ctx sdk.Context, row map[string]any) error {
	b, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("mqtt sink: encode row: %w", err)
	}
	return s.publish(ctx, b)
}

func (s *mqttSink) CollectList(ctx sdk.Context, rows []map[string]any) error {
	b, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("mqtt sink: encode rows: %w", err)
	}
	return s.publish(ctx, b)
}

func (s *mqttSink) publish(ctx sdk.Context, payload []byte) error {
	if s.inline != nil {
		if err := s.inline.Publish(s.topic, payload, s.retained, s.qos); err != nil {
			return fmt.Errorf("mqtt sink: %w", err)
		}
		return nil
	}
	if s.client == nil {
		return errors.New("mqtt sink: not connected")
	}
	// paho would queue a publish made while it reconnects; refusing it
	// instead lets the engine's retry and backoff see the outage.
	if !s.client.IsConnectionOpen() {
		return fmt.Errorf("mqtt sink: publish to %q: %w", s.topic, sdk.Retryable(errNotConnected))
	}
	tok := s.client.Publish(s.topic, s.qos, s.retained, payload)
	t := time.NewTimer(mqttPublishTimeout)
	defer t.Stop()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		return fmt.Errorf("mqtt sink: publish to %q: %w", s.topic, ctx.Err())
	case <-t.C:
		return fmt.Errorf("mqtt sink: publish to %q: %w", s.topic,
			sdk.Retryable(fmt.Errorf("no acknowledgement within %v", mqttPublishTimeout)))
	}
	if err := tok.Error(); err != nil {
		if s.qos > 0 && strings.HasPrefix(err.Error(), pahoLostPublish) {
			return s.droppedPublish()
		}
		return fmt.Errorf("mqtt sink: publish to %q: %w", s.topic, sdk.Retryable(err))
	}
	if s.qos > 0 {
		s.droppedMu.Lock()
		s.dropped = 0
		s.droppedMu.Unlock()
	}
	return nil
}

// pahoLostPublish begins the error paho ends a publish with when its
// connection is lost before the acknowledgement (TestMQTTSinkRefusedPublishClosesTheConnection
// notices a change).
const pahoLostPublish = "connection lost before Publish completed"

// reconnect connects again after the connection was lost, as paho would:
// at once, then after 1 s, doubling up to mqttMaxReconnect, until it
// succeeds or the sink closes.
func (s *mqttSink) reconnect() {
	wait := time.Second
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			select {
			case <-s.closing:
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, mqttMaxReconnect)
		}
		select {
		case <-s.closing:
			return
		default:
		}
		tok := s.client.Connect()
		tok.Wait() // bounded by the connect timeout
		if tok.Error() == nil {
			select {
			case <-s.closing: // closed while connecting: Close's disconnect came first
				s.client.Disconnect(mqttDisconnectMs)
			default:
			}
			return
		}
		s.reconnectFailed(tok.Error())
	}
}

// droppedPublish counts a publish whose connection was lost before its
// acknowledgement: retryable, unless that happened to mqttRefusedAfter
// publishes in a row.
func (s *mqttSink) droppedPublish() error {
	s.droppedMu.Lock()
	s.dropped++
	n := s.dropped
	s.droppedMu.Unlock()
	if n < mqttRefusedAfter {
		return fmt.Errorf("mqtt sink: publish to %q: %w", s.topic,
			sdk.Retryable(errors.New("connection lost before the acknowledgement")))
	}
	return fmt.Errorf("mqtt sink: publish to %q: refused: the broker closed the connection instead of acknowledging %d publishes in a row (as an ACL that denies the topic does in MQTT 3.1.1)", s.topic, n)
}

func (s *mqttSink) Close(ctx sdk.Context) error {
	s.statusReporter.close()
	if s.client != nil {
		select {
		case <-s.closing:
		default:
			close(s.closing)
		}
		s.client.Disconnect(mqttDisconnectMs)
	}
	return nil
}

// noStore is a paho.Store that keeps nothing.
type noStore struct{}

func (noStore) Open()                             {}
func (noStore) Put(string, packets.ControlPacket) {}
func (noStore) Get(string) packets.ControlPacket  { return nil }
func (noStore) All() []string                     { return nil }
func (noStore) Del(string)                        {}
func (noStore) Close()                            {}
func (noStore) Reset()                            {}
