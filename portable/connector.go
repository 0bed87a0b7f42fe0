package portable

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	portablev1 "github.com/kgen-dev/kgen/portable/proto/kgen/portable/v1"
	"github.com/kgen-dev/kgen/sdk"
)

// maxPending is how many source events an instance holds for the engine
// before its source's ingest calls wait: a source that outruns the engine
// is slowed down rather than growing the plugin's memory.
const maxPending = 4096

// maxBatch is the most events one SourceEvents message carries, which
// keeps messages well under gRPC's default size limit.
const maxBatch = 512

// connInstance is one provisioned source or sink of the plugin.
type connInstance struct {
	kind   portablev1.Kind
	name   string
	src    sdk.Source
	sink   sdk.Sink
	ctx    *funcContext // lives from Provision to Close
	cancel context.CancelFunc
	events *eventQueue

	mu         sync.Mutex
	subscribed bool // the push source's Subscribe ran
}

// label names the instance in errors: `source "counter"`.
func (c *connInstance) label() string {
	if c.kind == portablev1.Kind_KIND_SINK {
		return fmt.Sprintf("sink %q", c.name)
	}
	return fmt.Sprintf("source %q", c.name)
}

// eventQueue holds what a source ingested until the engine takes it.
type eventQueue struct {
	mu     sync.Mutex
	events []*portablev1.SourceEvent
	ready  chan struct{} // a token when events wait
	room   chan struct{} // closed when the queue is taken
	closed bool
}

func newEventQueue() *eventQueue {
	return &eventQueue{ready: make(chan struct{}, 1), room: make(chan struct{})}
}

// put queues ev, waiting while the queue is full until it is taken or
// ctx ends; a closed queue drops ev.
func (q *eventQueue) put(ctx context.Context, ev *portablev1.SourceEvent) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return
		}
		if len(q.events) < maxPending {
			q.events = append(q.events, ev)
			q.mu.Unlock()
			select {
			case q.ready <- struct{}{}:
			default:
			}
			return
		}
		room := q.room
		q.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return
		}
	}
}

// take returns what is queued and empties the queue.
func (q *eventQueue) take() []*portablev1.SourceEvent {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs := q.events
	q.events = nil
	if !q.closed { // a closed queue's room is closed for good
		close(q.room)
		q.room = make(chan struct{})
	}
	return evs
}

func (q *eventQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.room)
	}
}

// sourceData turns one sdk.Ingest call into an event: a bad row or meta is
// an error event naming what could not be sent.
func sourceData(data any, meta map[string]any, ts time.Time) *portablev1.SourceEvent {
	d := &portablev1.SourceData{}
	if !ts.IsZero() {
		d.TimestampUnixNano = ts.UnixNano()
	}
	var err error
	switch v := data.(type) {
	case map[string]any:
		var pv *portablev1.Value
		if pv, err = portablev1.ToValue(v); err == nil {
			d.Payload = &portablev1.SourceData_Row{Row: pv.GetMapValue()}
		}
	case []map[string]any:
		var pv *portablev1.Value
		if pv, err = portablev1.ToValue(v); err == nil {
			d.Payload = &portablev1.SourceData_Rows{Rows: pv.GetListValue()}
		}
	case []byte:
		d.Payload = &portablev1.SourceData_Raw{Raw: v}
	default:
		err = fmt.Errorf("want map[string]any, []map[string]any or []byte, got %T", data)
	}
	if err != nil {
		return errorEvent(fmt.Errorf("ingest: data: %w", err))
	}
	if len(meta) > 0 {
		pv, err := portablev1.ToValue(meta)
		if err != nil {
			return errorEvent(fmt.Errorf("ingest: meta: %w", err))
		}
		d.Meta = pv.GetMapValue()
	}
	return &portablev1.SourceEvent{Event: &portablev1.SourceEvent_Data{Data: d}}
}

func errorEvent(err error) *portablev1.SourceEvent {
	return &portablev1.SourceEvent{Event: &portablev1.SourceEvent_Error{Error: err.Error()}}
}

// ingest and ingestErr are the sdk.Ingest and sdk.ErrorIngest the
// instance's source calls; they queue events for the engine.
func (c *connInstance) ingest(_ sdk.Context, data any, meta map[string]any, ts time.Time) {
	c.events.put(c.ctx, sourceData(data, meta, ts))
}

func (c *connInstance) ingestErr(_ sdk.Context, err error) {
	if err == nil {
		err = errors.New("unknown error")
	}
	c.events.put(c.ctx, errorEvent(err))
}

func (c *connInstance) eof(_ sdk.Context, msg string) {
	c.events.put(c.ctx, &portablev1.SourceEvent{Event: &portablev1.SourceEvent_Eof{Eof: msg}})
}

func (c *connInstance) status(st sdk.ConnectionStatus, msg string) {
	c.events.put(c.ctx, &portablev1.SourceEvent{Event: &portablev1.SourceEvent_Status{
		Status: &portablev1.ConnectionStatus{Status: string(st), Message: msg},
	}})
}

// describeSource tells how the engine drives a source: pulled or pushed,
// bounded or not.
func describeSource(name string) (*portablev1.Extension, error) {
	ctor, _ := sdk.LookupSource(name)
	src, err := callSafe(func() (sdk.Source, error) { return ctor(), nil })
	if err == nil && src == nil {
		err = errors.New("constructor returned nil")
	}
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", name, err)
	}
	x := &portablev1.Extension{Kind: portablev1.Kind_KIND_SOURCE, Name: name}
	switch src.(type) {
	case sdk.PushSource:
	case sdk.PullSource:
		x.Pull = true
	default:
		return nil, fmt.Errorf("source %q: %T implements neither Subscribe (sdk.PushSource) nor Pull (sdk.PullSource)", name, src)
	}
	_, x.Bounded = src.(sdk.Bounded)
	return x, nil
}

func (s *server) Provision(_ context.Context, req *portablev1.ProvisionRequest) (*portablev1.ProvisionResponse, error) {
	inst := req.GetInstance()
	c := &connInstance{kind: req.GetKind(), name: req.GetName(), events: newEventQueue()}
	switch c.kind {
	case portablev1.Kind_KIND_SOURCE:
		ctor, ok := sdk.LookupSource(c.name)
		if !ok {
			return nil, fmt.Errorf("unknown source %q", c.name)
		}
		src, err := callSafe(func() (sdk.Source, error) { return ctor(), nil })
		if err == nil && src == nil {
			err = errors.New("constructor returned nil")
		}
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", c.name, err)
		}
		c.src = src
	case portablev1.Kind_KIND_SINK:
		ctor, ok := sdk.LookupSink(c.name)
		if !ok {
			return nil, fmt.Errorf("unknown sink %q", c.name)
		}
		sink, err := callSafe(func() (sdk.Sink, error) { return ctor(), nil })
		if err == nil && sink == nil {
			err = errors.New("constructor returned nil")
		}
		if err != nil {
			return nil, fmt.Errorf("sink %q: %w", c.name, err)
		}
		c.sink = sink
	default:
		return nil, fmt.Errorf("provision: kind %v is not a source or a sink", c.kind)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	if _, dup := s.conns[inst.GetId()]; dup {
		s.mu.Unlock()
		cancel()
		return nil, fmt.Errorf("instance %d is already provisioned", inst.GetId())
	}
	c.ctx = &funcContext{Context: ctx, state: s.state, root: s.root, inst: inst}
	s.mu.Unlock()
	c.cancel = cancel
	c.ctx.logger = s.logger.With("rule", inst.GetRuleId(), "op", inst.GetOpId())

	props := map[string]any{}
	if m := req.GetProps(); m != nil {
		props = portablev1.FromValue(&portablev1.Value{Kind: &portablev1.Value_MapValue{MapValue: m}}).(map[string]any)
	}
	_, err := callSafe(func() (struct{}, error) {
		var rep sdk.StatusReporter
		if c.src != nil {
			rep, _ = c.src.(sdk.StatusReporter)
		} else {
			rep, _ = c.sink.(sdk.StatusReporter)
		}
		if rep != nil {
			rep.SetStatusHandler(c.status)
		}
		if c.src != nil {
			if err := c.src.Provision(c.ctx, props); err != nil {
				return struct{}{}, err
			}
			if b, ok := c.src.(sdk.Bounded); ok {
				b.SetEOFIngest(c.eof)
			}
			return struct{}{}, nil
		}
		return struct{}{}, c.sink.Provision(c.ctx, props)
	})
	if err != nil {
		cancel()
		return nil, err
	}
	s.mu.Lock()
	s.conns[inst.GetId()] = c
	s.mu.Unlock()
	return &portablev1.ProvisionResponse{}, nil
}

// conn returns a provisioned instance.
func (s *server) conn(id uint64) (*connInstance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conns[id]
	if !ok {
		return nil, fmt.Errorf("instance %d is not provisioned", id)
	}
	return c, nil
}

func (s *server) Connect(_ context.Context, req *portablev1.ConnectRequest) (*portablev1.ConnectResponse, error) {
	c, err := s.conn(req.GetInstanceId())
	if err != nil {
		return nil, err
	}
	_, err = callSafe(func() (struct{}, error) {
		if c.src != nil {
			return struct{}{}, c.src.Connect(c.ctx)
		}
		return struct{}{}, c.sink.Connect(c.ctx)
	})
	if err != nil {
		return nil, err
	}
	return &portablev1.ConnectResponse{}, nil
}

// Subscribe starts the push source on the first call for an instance and
// streams what it ingests until the instance is closed or the engine ends
// the stream; a later Subscribe of the same instance takes the stream over.
func (s *server) Subscribe(req *portablev1.SubscribeRequest, stream portablev1.Plugin_SubscribeServer) error {
	c, err := s.conn(req.GetInstanceId())
	if err != nil {
		return err
	}
	push, ok := c.src.(sdk.PushSource)
	if !ok {
		return fmt.Errorf("%s is not a push source", c.label())
	}
	c.mu.Lock()
	first := !c.subscribed
	c.subscribed = true
	c.mu.Unlock()
	if first {
		if _, err := callSafe(func() (struct{}, error) {
			return struct{}{}, push.Subscribe(c.ctx, c.ingest, c.ingestErr)
		}); err != nil {
			return err
		}
	}
	// The first message, empty, tells the engine the source is subscribed.
	if err := stream.Send(&portablev1.SourceEvents{}); err != nil {
		return err
	}
	for {
		select {
		case <-c.events.ready:
		case <-c.ctx.Done():
			return s.flush(c, stream)
		case <-stream.Context().Done():
			return nil
		}
		if err := s.flush(c, stream); err != nil {
			return err
		}
	}
}

// flush sends what the instance's source has queued.
func (s *server) flush(c *connInstance, stream portablev1.Plugin_SubscribeServer) error {
	evs := c.events.take()
	for len(evs) > 0 {
		n := min(len(evs), maxBatch)
		if err := stream.Send(&portablev1.SourceEvents{Events: evs[:n]}); err != nil {
			return err
		}
		evs = evs[n:]
	}
	return nil
}

func (s *server) Pull(ctx context.Context, req *portablev1.PullRequest) (*portablev1.SourceEvents, error) {
	c, err := s.conn(req.GetInstanceId())
	if err != nil {
		return nil, err
	}
	pull, ok := c.src.(sdk.PullSource)
	if !ok {
		return nil, fmt.Errorf("%s is not a pull source", c.label())
	}
	trigger := time.Unix(0, req.GetTriggerUnixNano())
	_, err = callSafe(func() (struct{}, error) {
		pull.Pull(c.ctx, trigger, c.ingest, c.ingestErr)
		return struct{}{}, nil
	})
	if err != nil {
		c.ingestErr(c.ctx, err)
	}
	return &portablev1.SourceEvents{Events: c.events.take()}, nil
}

func (s *server) Collect(_ context.Context, req *portablev1.CollectRequest) (*portablev1.CollectResponse, error) {
	c, err := s.conn(req.GetInstanceId())
	if err != nil {
		return nil, err
	}
	if c.sink == nil {
		return nil, fmt.Errorf("%s is not a sink", c.label())
	}
	rows := make([]map[string]any, len(req.GetRows()))
	for i, r := range req.GetRows() {
		rows[i] = portablev1.FromValue(&portablev1.Value{Kind: &portablev1.Value_MapValue{MapValue: r}}).(map[string]any)
	}
	failed := func(err error, collected int) *portablev1.CollectResponse {
		return &portablev1.CollectResponse{Error: err.Error(), Retryable: sdk.IsRetryable(err), Collected: int32(collected)}
	}
	if req.GetList() {
		if _, err := callSafe(func() (struct{}, error) { return struct{}{}, c.sink.CollectList(c.ctx, rows) }); err != nil {
			return failed(err, 0), nil
		}
		return &portablev1.CollectResponse{Collected: int32(len(rows))}, nil
	}
	for i, row := range rows {
		if _, err := callSafe(func() (struct{}, error) { return struct{}{}, c.sink.Collect(c.ctx, row) }); err != nil {
			return failed(err, i), nil
		}
	}
	return &portablev1.CollectResponse{Collected: int32(len(rows))}, nil
}

func (s *server) Close(_ context.Context, req *portablev1.CloseRequest) (*portablev1.CloseResponse, error) {
	s.mu.Lock()
	c, ok := s.conns[req.GetInstanceId()]
	delete(s.conns, req.GetInstanceId())
	s.mu.Unlock()
	if !ok {
		return &portablev1.CloseResponse{}, nil
	}
	_, err := callSafe(func() (struct{}, error) {
		if c.src != nil {
			return struct{}{}, c.src.Close(c.ctx)
		}
		return struct{}{}, c.sink.Close(c.ctx)
	})
	c.cancel()
	c.events.close()
	if err != nil {
		return nil, err
	}
	return &portablev1.CloseResponse{}, nil
}
