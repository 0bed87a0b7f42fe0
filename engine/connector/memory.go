package connector

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

// DefaultMemoryBuffer is the per-subscriber buffer of the memory source when
// the bufferLength property is not set, and of Subscribe when n <= 0.
const DefaultMemoryBuffer = 1024

// MemoryHub is an in-process publish/subscribe hub for rows. Topics are
// '/'-separated levels; subscriptions may use the MQTT wildcards '+' (one
// level) and '#' (the rest, last level only).
//
// Delivery is bounded and lossless: every subscriber has a buffer of fixed
// size, and Publish waits while a matching subscriber's buffer is full, until
// there is room, the subscriber cancels or the publisher's context ends. A
// topic with no subscriber swallows what is published to it.
//
// Every subscriber receives its own shallow copy of a row; nested maps and
// slices are shared and must be treated as read-only.
type MemoryHub struct {
	mu   sync.RWMutex
	subs map[*memorySub]struct{}
}

// NewMemoryHub returns an empty hub.
func NewMemoryHub() *MemoryHub {
	return &MemoryHub{subs: map[*memorySub]struct{}{}}
}

type memoryHubKey struct{}

// defaultMemoryHub serves contexts that carry no hub (a source or sink used
// outside an engine, a test). An engine puts its own hub into every context it
// creates, so that two engines in one process never see each other's rows.
var defaultMemoryHub = NewMemoryHub()

// WithMemoryHub returns a copy of ctx that carries h.
func WithMemoryHub(ctx context.Context, h *MemoryHub) context.Context {
	return context.WithValue(ctx, memoryHubKey{}, h)
}

// MemoryHubFrom returns the hub carried by ctx, or a process-wide default hub
// when there is none.
func MemoryHubFrom(ctx context.Context) *MemoryHub {
	if h, ok := ctx.Value(memoryHubKey{}).(*MemoryHub); ok && h != nil {
		return h
	}
	return defaultMemoryHub
}

// memoryMessage is what the memory source receives: the row and the topic it
// was published to (a subscription may have wildcards).
type memoryMessage struct {
	topic   string
	row     map[string]any
	payload []byte // set instead of row by PublishPayload
	raw     bool   // from PublishPayload: payload, even empty, is the message
}

type memorySub struct {
	filter []string
	// Exactly one of rows (Subscribe) and msgs (the memory source) is set; a
	// nil channel is never ready in a select, so Publish offers to both.
	rows chan map[string]any
	msgs chan memoryMessage

	done chan struct{} // closed by cancel, releases blocked publishers
	// sending is held (read) by publishers while they offer a row, so that
	// cancel can close the delivery channel once none is sending.
	sending sync.RWMutex
	closed  bool
	once    sync.Once
}

// Publish delivers row to every subscriber whose filter matches topic,
// waiting while a subscriber's buffer is full. It returns ctx's error if ctx
// ends first; subscribers served before that keep their copy. A topic must
// not be empty nor contain wildcards.
func (h *MemoryHub) Publish(ctx context.Context, topic string, row map[string]any) error {
	return h.publish(ctx, memoryMessage{topic: topic, row: row})
}

// PublishPayload delivers an encoded payload (for example JSON) to the
// memory sources subscribed to topic; the engine decodes it by the stream
// FORMAT, as it does MQTT payloads. Subscribe channels carry rows only and do
// not see payloads. The payload must not be changed afterwards.
func (h *MemoryHub) PublishPayload(ctx context.Context, topic string, payload []byte) error {
	return h.publish(ctx, memoryMessage{topic: topic, payload: payload, raw: true})
}

func (h *MemoryHub) publish(ctx context.Context, m memoryMessage) error {
	topic := m.topic
	if err := validateMemoryTopic(topic); err != nil {
		return err
	}
	levels := strings.Split(topic, "/")
	h.mu.RLock()
	var targets []*memorySub
	for s := range h.subs {
		if matchTopic(s.filter, levels) {
			targets = append(targets, s)
		}
	}
	h.mu.RUnlock()
	// Offer without holding h.mu, so that a blocked publisher never stops
	// others from subscribing or cancelling.
	for _, s := range targets {
		msg := m
		if !m.raw {
			msg.row = maps.Clone(m.row)
		} else if s.rows != nil {
			continue // row subscribers do not see raw payloads
		}
		if err := s.offer(ctx, msg); err != nil {
			return err
		}
	}
	return nil
}

func (s *memorySub) offer(ctx context.Context, m memoryMessage) error {
	s.sending.RLock()
	defer s.sending.RUnlock()
	if s.closed {
		return nil
	}
	select {
	case s.rows <- m.row:
	case s.msgs <- m:
	case <-s.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// Subscribe registers a subscription for filter with a buffer of n rows (n <=
// 0 means DefaultMemoryBuffer). The channel is closed by cancel, which may be
// called more than once. A malformed filter ("a/b#") matches topics literally.
func (h *MemoryHub) Subscribe(filter string, n int) (<-chan map[string]any, func()) {
	if n <= 0 {
		n = DefaultMemoryBuffer
	}
	s := &memorySub{rows: make(chan map[string]any, n)}
	return s.rows, h.add(s, filter)
}

// subscribe is Subscribe with the topic of each row, for the memory source.
func (h *MemoryHub) subscribe(filter string, n int) (<-chan memoryMessage, func()) {
	s := &memorySub{msgs: make(chan memoryMessage, n)}
	return s.msgs, h.add(s, filter)
}

func (h *MemoryHub) add(s *memorySub, filter string) (cancel func()) {
	s.filter = strings.Split(filter, "/")
	s.done = make(chan struct{})
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return func() {
		s.once.Do(func() {
			h.mu.Lock()
			delete(h.subs, s)
			h.mu.Unlock()
			close(s.done) // wake publishers blocked on a full buffer
			s.sending.Lock()
			s.closed = true
			if s.rows != nil {
				close(s.rows)
			} else {
				close(s.msgs)
			}
			s.sending.Unlock()
		})
	}
}

// matchTopic reports whether the levels of a topic match a filter with MQTT
// wildcards. As in MQTT, a wildcard in the first level does not match topics
// that start with '$'.
func matchTopic(filter, topic []string) bool {
	if len(filter) > 0 && len(topic) > 0 && (filter[0] == "+" || filter[0] == "#") && strings.HasPrefix(topic[0], "$") {
		return false
	}
	for i, f := range filter {
		switch {
		case f == "#" && i == len(filter)-1:
			return true // "a/#" matches "a" and everything below it
		case i >= len(topic):
			return false
		case f != "+" && f != topic[i]:
			return false
		}
	}
	return len(filter) == len(topic)
}

func validateMemoryTopic(topic string) error {
	if topic == "" {
		return errors.New("memory: empty topic")
	}
	if strings.ContainsAny(topic, "+#") {
		return fmt.Errorf("memory: publish to %q: topic must not contain wildcards", topic)
	}
	return nil
}

// validateMemoryFilter checks a subscription filter: '+' and '#' must fill a
// whole level and '#' must be last.
func validateMemoryFilter(filter string) error {
	if filter == "" {
		return errors.New("empty topic filter")
	}
	levels := strings.Split(filter, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1:
			return fmt.Errorf("topic filter %q: '#' must be the last level", filter)
		case l != "#" && l != "+" && strings.ContainsAny(l, "+#"):
			return fmt.Errorf("topic filter %q: a wildcard must fill a whole level", filter)
		}
	}
	return nil
}

func init() {
	sdk.RegisterSource("memory", func() sdk.Source { return &memorySource{} })
	sdk.RegisterSink("memory", func() sdk.Sink { return &memorySink{} })
}

// memorySource subscribes to the engine's hub and ingests the rows published
// to the DATASOURCE topic filter, with meta {"topic": topic}. Rows still
// buffered when the source closes are dropped with the subscription.
type memorySource struct {
	filter string
	buffer int

	mu   sync.Mutex
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the delivery goroutine ends
}

func (s *memorySource) Provision(ctx sdk.Context, props map[string]any) error {
	r := propReader{props: props}
	s.filter = r.string("datasource", "")
	s.buffer = r.intRange("bufferLength", DefaultMemoryBuffer, 1, 1<<24)
	r.accept(CommonSourceProps...)
	r.strict(ctx, ekuiperSourceProps)
	if r.err != nil {
		return fmt.Errorf("memory source: %w", r.err)
	}
	if err := validateMemoryFilter(s.filter); err != nil {
		return fmt.Errorf("memory source: datasource: %w", err)
	}
	return nil
}

func (s *memorySource) Connect(ctx sdk.Context) error { return nil }

func (s *memorySource) Subscribe(ctx sdk.Context, ingest sdk.Ingest, _ sdk.ErrorIngest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop != nil {
		return errors.New("memory source: already subscribed")
	}
	// Subscribing before returning, not in the goroutine, means no row
	// published after Subscribe returns is missed.
	msgs, cancel := MemoryHubFrom(ctx).subscribe(s.filter, s.buffer)
	stop, done := make(chan struct{}), make(chan struct{})
	s.stop, s.done = stop, done
	go func() {
		defer close(done)
		defer cancel()
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					return
				}
				select {
				case <-stop: // select picks at random among ready cases
					return
				default:
				}
				var data any = m.row
				if m.raw {
					data = m.payload
				}
				ingest(ctx, data, map[string]any{"topic": m.topic}, time.Time{})
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return nil
}

// Close unsubscribes and waits until the row being ingested, if any, is
// handed over (or ctx ends).
func (s *memorySource) Close(ctx sdk.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop == nil {
		return nil
	}
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	select {
	case <-s.done:
	case <-ctx.Done():
	}
	return nil
}

// memorySink publishes rows to the engine's hub under a fixed topic, waiting
// while a subscriber is full.
type memorySink struct {
	topic string
	hub   *MemoryHub
}

func (s *memorySink) Provision(ctx sdk.Context, props map[string]any) error {
	r := propReader{props: props}
	s.topic = r.required("topic")
	r.strict(ctx, CommonSinkProps, []string{"rowkindField", "keyField"})
	if r.err != nil {
		return fmt.Errorf("memory sink: %w", r.err)
	}
	if strings.ContainsAny(s.topic, "+#") {
		return fmt.Errorf("memory sink: property \"topic\": must not contain wildcards, got %q", s.topic)
	}
	return nil
}

func (s *memorySink) Connect(ctx sdk.Context) error {
	s.hub = MemoryHubFrom(ctx)
	return nil
}

func (s *memorySink) Collect(ctx sdk.Context, row map[string]any) error {
	if err := s.hub.Publish(ctx, s.topic, row); err != nil {
		return fmt.Errorf("memory sink: publish to %q: %w", s.topic, err)
	}
	return nil
}

func (s *memorySink) CollectList(ctx sdk.Context, rows []map[string]any) error {
	for _, row := range rows {
		if err := s.Collect(ctx, row); err != nil {
			return err
		}
	}
	return nil
}

func (s *memorySink) Close(ctx sdk.Context) error { return nil }
