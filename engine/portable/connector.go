package portable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	portablev1 "github.com/kgen-dev/kgen/portable/proto/kgen/portable/v1"
	"github.com/kgen-dev/kgen/sdk"
)

// Sources and sinks of portable plugins: proxies that implement the sdk
// interfaces the rule runtime drives, each one an instance the plugin
// process holds from Provision to Close. An instance remembers its
// properties and whether it was connected, so that after a restart of the
// process it is provisioned and connected again on the new one.

var (
	_ sdk.PushSource     = (*pushSource)(nil)
	_ sdk.PullSource     = (*pullSource)(nil)
	_ sdk.Bounded        = (*source)(nil)
	_ sdk.StatusReporter = (*source)(nil)
	_ sdk.Sink           = (*Sink)(nil)
	_ sdk.StatusReporter = (*Sink)(nil)
)

// Source returns the constructor of a plugin source type. The plugin is
// started when an instance is made, to learn whether the source is pulled
// or pushes; an instance of a plugin that cannot start fails Provision
// with the reason.
func (m *Manager) Source(name string) (func() sdk.Source, bool) {
	m.mu.Lock()
	p, ok := m.sources[name]
	m.mu.Unlock()
	if !ok {
		return nil, false
	}
	return func() sdk.Source { return p.newSource(name) }, true
}

// Sink returns the constructor of a plugin sink type; the plugin is
// started when an instance is provisioned.
func (m *Manager) Sink(name string) (func() sdk.Sink, bool) {
	m.mu.Lock()
	p, ok := m.sinks[name]
	m.mu.Unlock()
	if !ok {
		return nil, false
	}
	return func() sdk.Sink {
		return &Sink{instance: p.newInstance(portablev1.Kind_KIND_SINK, name)}
	}, true
}

func (p *Plugin) newSource(name string) sdk.Source {
	s := &source{instance: p.newInstance(portablev1.Kind_KIND_SOURCE, name)}
	proc, err := p.running()
	if err != nil {
		s.startErr = err
		return &pushSource{source: s}
	}
	if proc.sources[name].GetPull() {
		return &pullSource{source: s}
	}
	return &pushSource{source: s}
}

func (p *Plugin) newInstance(kind portablev1.Kind, name string) *instance {
	in := &instance{p: p, kind: kind, name: name, id: p.m.nextID.Add(1), label: fmt.Sprintf("sink %q", name)}
	if kind == portablev1.Kind_KIND_SOURCE {
		in.label = fmt.Sprintf("source %q", name)
	}
	return in
}

// instance is one source or sink instance of a rule.
type instance struct {
	p     *Plugin
	kind  portablev1.Kind
	name  string
	id    uint64
	label string // `source "counter"`
	// startErr is why the plugin could not start when the instance was
	// made; Provision returns it.
	startErr error

	mu        sync.Mutex
	ctx       sdk.Context
	props     *portablev1.MapValue
	proc      *process // the process the instance is provisioned on
	connected bool     // the engine's Connect went through
	closed    bool
	handler   sdk.StatusHandler
	status    sdk.ConnectionStatus // as last reported
}

func (in *instance) SetStatusHandler(h sdk.StatusHandler) {
	in.mu.Lock()
	in.handler = h
	in.mu.Unlock()
}

// report passes a connection status on to the engine.
func (in *instance) report(st sdk.ConnectionStatus, msg string) {
	in.mu.Lock()
	h := in.handler
	in.status = st
	in.mu.Unlock()
	if h != nil {
		h(st, msg)
	}
}

// recovered reports the instance connected again after it was not.
func (in *instance) recovered() {
	in.mu.Lock()
	down := in.connected && in.status != sdk.StatusConnected
	in.mu.Unlock()
	if down {
		in.report(sdk.StatusConnected, "")
	}
}

func (in *instance) pb() *portablev1.Instance {
	pi := &portablev1.Instance{Id: in.id}
	if in.ctx != nil {
		pi.RuleId, pi.OpId, pi.InstanceIndex = in.ctx.GetRuleId(), in.ctx.GetOpId(), int32(in.ctx.GetInstanceId())
	}
	return pi
}

func (in *instance) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), in.p.m.opts.CallTimeout)
}

// callErr is the error of a call of the instance that failed: when the
// plugin is gone it is marked down, so that the next use waits for the
// back-off and restarts it.
func (in *instance) callErr(proc *process, step string, err error) error {
	if proc.client.Exited() || status.Code(err) == codes.Unavailable {
		in.p.down(proc, fmt.Errorf("lost during a call: %v", rpcErr(err)))
		return fmt.Errorf("portable plugin %q is down: %v", in.p.Name(), rpcErr(err))
	}
	if status.Code(err) == codes.DeadlineExceeded {
		return fmt.Errorf("portable plugin %q: %s: %s: no answer within %v", in.p.Name(), in.label, step, in.p.m.opts.CallTimeout)
	}
	return fmt.Errorf("portable plugin %q: %s: %s: %v", in.p.Name(), in.label, step, rpcErr(err))
}

// ready returns the running process with the instance provisioned (and
// connected, once the engine connected it) on it: a new process, after a
// restart, gets the instance again.
func (in *instance) ready() (*process, error) {
	proc, err := in.p.running()
	if err != nil {
		return nil, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return nil, fmt.Errorf("portable plugin %q: %s is closed", in.p.Name(), in.label)
	}
	if in.proc == proc {
		return proc, nil
	}
	again := in.proc != nil
	ctx, cancel := in.callCtx()
	defer cancel()
	_, err = proc.conn.Plugin.Provision(ctx, &portablev1.ProvisionRequest{Kind: in.kind, Name: in.name, Instance: in.pb(), Props: in.props})
	if err != nil {
		return nil, in.callErr(proc, "provision", err)
	}
	if in.connected {
		if _, err := proc.conn.Plugin.Connect(ctx, &portablev1.ConnectRequest{InstanceId: in.id}); err != nil {
			err = in.callErr(proc, "connect", err)
			cctx, ccancel := in.callCtx()
			defer ccancel()
			_, _ = proc.conn.Plugin.Close(cctx, &portablev1.CloseRequest{InstanceId: in.id})
			return nil, err
		}
	}
	in.proc = proc
	if again {
		in.p.m.logger.Info("portable instance provisioned again", "plugin", in.p.Name(), "instance", in.label, "id", in.id, "pid", proc.pid)
	}
	return proc, nil
}

func (in *instance) provision(ctx sdk.Context, props map[string]any) error {
	if in.startErr != nil {
		return in.startErr
	}
	pv, err := portablev1.ToValue(props)
	if err != nil {
		return fmt.Errorf("portable plugin %q: %s: properties: %w", in.p.Name(), in.label, err)
	}
	in.mu.Lock()
	in.ctx, in.props = ctx, pv.GetMapValue()
	in.mu.Unlock()
	in.p.m.state.bind(in.id, ctx)
	if _, err := in.ready(); err != nil {
		in.p.m.state.unbind(in.id)
		return err
	}
	in.p.mu.Lock()
	in.p.live[in.id] = in
	in.p.mu.Unlock()
	return nil
}

func (in *instance) connect() error {
	proc, err := in.ready()
	if err != nil {
		return err
	}
	ctx, cancel := in.callCtx()
	defer cancel()
	if _, err := proc.conn.Plugin.Connect(ctx, &portablev1.ConnectRequest{InstanceId: in.id}); err != nil {
		return in.callErr(proc, "connect", err)
	}
	in.mu.Lock()
	in.connected = true
	in.mu.Unlock()
	in.report(sdk.StatusConnected, "")
	return nil
}

// close closes the instance in the plugin, when it runs, and forgets it.
func (in *instance) close() error {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil
	}
	in.closed = true
	proc := in.proc
	in.mu.Unlock()
	in.p.mu.Lock()
	delete(in.p.live, in.id)
	current := in.p.proc == proc
	in.p.mu.Unlock()
	defer in.p.m.state.unbind(in.id)
	if proc == nil || !current || proc.client.Exited() {
		return nil
	}
	ctx, cancel := in.callCtx()
	defer cancel()
	if _, err := proc.conn.Plugin.Close(ctx, &portablev1.CloseRequest{InstanceId: in.id}); err != nil {
		return in.callErr(proc, "close", err)
	}
	return nil
}

// source is what push and pull sources share.
type source struct {
	*instance
	eof sdk.EOFIngest
}

func (s *source) Provision(ctx sdk.Context, props map[string]any) error {
	return s.provision(ctx, props)
}

func (s *source) Connect(sdk.Context) error { return s.connect() }

func (s *source) SetEOFIngest(eof sdk.EOFIngest) { s.eof = eof }

// deliver hands the engine what the plugin's source ingested.
func (s *source) deliver(ctx sdk.Context, evs *portablev1.SourceEvents, ingest sdk.Ingest, ingestErr sdk.ErrorIngest) {
	for _, ev := range evs.GetEvents() {
		switch e := ev.GetEvent().(type) {
		case *portablev1.SourceEvent_Data:
			data, meta, ts := fromSourceData(e.Data)
			ingest(ctx, data, meta, ts)
		case *portablev1.SourceEvent_Error:
			ingestErr(ctx, errors.New(e.Error))
		case *portablev1.SourceEvent_Eof:
			if s.eof != nil {
				s.eof(ctx, e.Eof)
			}
		case *portablev1.SourceEvent_Status:
			s.report(sdk.ConnectionStatus(e.Status.GetStatus()), e.Status.GetMessage())
		}
	}
}

// fromSourceData turns one of the plugin's ingests back into sdk.Ingest
// arguments.
func fromSourceData(d *portablev1.SourceData) (data any, meta map[string]any, ts time.Time) {
	switch p := d.GetPayload().(type) {
	case *portablev1.SourceData_Row:
		data = mapOf(p.Row)
	case *portablev1.SourceData_Rows:
		rows := make([]map[string]any, 0, len(p.Rows.GetValues()))
		for _, v := range p.Rows.GetValues() {
			rows = append(rows, mapOf(v.GetMapValue()))
		}
		data = rows
	case *portablev1.SourceData_Raw:
		data = p.Raw
	default:
		data = map[string]any{}
	}
	if d.GetMeta() != nil {
		meta = mapOf(d.GetMeta())
	}
	if n := d.GetTimestampUnixNano(); n != 0 {
		ts = time.Unix(0, n)
	}
	return data, meta, ts
}

func mapOf(m *portablev1.MapValue) map[string]any {
	out := make(map[string]any, len(m.GetFields()))
	for k, v := range m.GetFields() {
		out[k] = portablev1.FromValue(v)
	}
	return out
}

// pushSource is a plugin source that pushes: one Subscribe stream per
// process, opened again on the next process when the plugin restarts.
type pushSource struct {
	*source
	cancel context.CancelFunc
	done   chan struct{}
}

// Subscribe opens the stream and returns once the plugin subscribed its
// source; the delivery goes on in the background until Close.
func (s *pushSource) Subscribe(ctx sdk.Context, ingest sdk.Ingest, ingestErr sdk.ErrorIngest) error {
	runCtx, cancel := context.WithCancel(ctx)
	stream, err := s.subscribe(runCtx)
	if err != nil {
		cancel()
		return err
	}
	s.cancel, s.done = cancel, make(chan struct{})
	go s.run(runCtx, ctx, stream, ingest, ingestErr)
	return nil
}

// subscribe opens a Subscribe stream on the running process and waits for
// its first answer: the plugin's empty message once its source is
// subscribed, or the error of its Subscribe.
func (s *pushSource) subscribe(ctx context.Context) (*subscription, error) {
	proc, err := s.ready()
	if err != nil {
		return nil, err
	}
	stream, err := proc.conn.Plugin.Subscribe(ctx, &portablev1.SubscribeRequest{InstanceId: s.id})
	if err == nil {
		_, err = stream.Recv()
	}
	if err != nil {
		return nil, s.callErr(proc, "subscribe", err)
	}
	return &subscription{proc: proc, stream: stream}, nil
}

type subscription struct {
	proc   *process
	stream portablev1.Plugin_SubscribeClient
}

// run delivers the stream's events; when the stream breaks (the plugin
// died), it reports the source disconnected and an error, then subscribes
// again on the restarted process.
func (s *pushSource) run(ctx context.Context, sctx sdk.Context, sub *subscription, ingest sdk.Ingest, ingestErr sdk.ErrorIngest) {
	defer close(s.done)
	for {
		var err error
		for {
			var evs *portablev1.SourceEvents
			if evs, err = sub.stream.Recv(); err != nil {
				break
			}
			s.deliver(sctx, evs, ingest, ingestErr)
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("portable plugin %q: %s: the plugin ended the stream", s.p.Name(), s.label)
		} else {
			err = s.callErr(sub.proc, "subscribe", err)
		}
		s.report(sdk.StatusDisconnected, err.Error())
		ingestErr(sctx, err)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(s.p.retryIn()):
			}
			if sub, err = s.subscribe(ctx); err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			s.report(sdk.StatusDisconnected, err.Error())
		}
		s.report(sdk.StatusConnected, "")
	}
}

func (s *pushSource) Close(sdk.Context) error {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	return s.close()
}

// pullSource is a plugin source the engine polls.
type pullSource struct {
	*source
}

func (s *pullSource) Pull(ctx sdk.Context, trigger time.Time, ingest sdk.Ingest, ingestErr sdk.ErrorIngest) {
	fail := func(err error) {
		s.report(sdk.StatusDisconnected, err.Error())
		ingestErr(ctx, err)
	}
	proc, err := s.ready()
	if err != nil {
		fail(err)
		return
	}
	cctx, cancel := s.callCtx()
	defer cancel()
	evs, err := proc.conn.Plugin.Pull(cctx, &portablev1.PullRequest{InstanceId: s.id, TriggerUnixNano: trigger.UnixNano()})
	if err != nil {
		fail(s.callErr(proc, "pull", err))
		return
	}
	s.recovered()
	s.deliver(ctx, evs, ingest, ingestErr)
}

func (s *pullSource) Close(sdk.Context) error { return s.close() }

// Sink is a plugin sink: each Collect or CollectList is one Collect call
// of the plugin. While the plugin is down the rows fail (the rule counts
// them as exceptions) and the sink reports itself disconnected.
type Sink struct {
	*instance
}

func (s *Sink) Provision(ctx sdk.Context, props map[string]any) error {
	return s.provision(ctx, props)
}

func (s *Sink) Connect(sdk.Context) error { return s.connect() }

func (s *Sink) Close(sdk.Context) error { return s.close() }

func (s *Sink) Collect(_ sdk.Context, row map[string]any) error {
	return s.collect([]map[string]any{row}, false)
}

func (s *Sink) CollectList(_ sdk.Context, rows []map[string]any) error {
	return s.collect(rows, true)
}

func (s *Sink) collect(rows []map[string]any, list bool) error {
	req := &portablev1.CollectRequest{InstanceId: s.id, List: list, Rows: make([]*portablev1.MapValue, len(rows))}
	for i, r := range rows {
		v, err := portablev1.ToValue(r)
		if err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
		req.Rows[i] = v.GetMapValue()
	}
	fail := func(err error) error {
		s.report(sdk.StatusDisconnected, err.Error())
		return err
	}
	proc, err := s.ready()
	if err != nil {
		return fail(err)
	}
	ctx, cancel := s.callCtx()
	defer cancel()
	resp, err := proc.conn.Plugin.Collect(ctx, req)
	if err != nil {
		return fail(s.callErr(proc, "collect", err))
	}
	s.recovered()
	if resp.GetError() != "" {
		err := errors.New(resp.GetError())
		if resp.GetRetryable() {
			return sdk.Retryable(err)
		}
		return err
	}
	return nil
}

// retryIn is how long until the plugin may be started again; at least a
// short pause, so that a loop waiting for it does not spin.
func (p *Plugin) retryIn() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return min(max(time.Until(p.retryAt), 50*time.Millisecond), time.Second)
}

// healthLoop checks the plugins every HealthInterval until Close.
func (m *Manager) healthLoop() {
	defer close(m.healthDone)
	if m.opts.HealthInterval < 0 {
		<-m.stopHealth
		return
	}
	t := time.NewTicker(m.opts.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-m.stopHealth:
			return
		case <-t.C:
		}
		m.mu.Lock()
		ps := make([]*Plugin, 0, len(m.plugins))
		for _, p := range m.plugins {
			ps = append(ps, p)
		}
		m.mu.Unlock()
		for _, p := range ps {
			p.check()
		}
	}
}

// check pings the running process, killing it when it does not answer,
// and brings a plugin with live sources or sinks back up (after its
// back-off) with those instances provisioned again.
func (p *Plugin) check() {
	p.mu.Lock()
	proc := p.proc
	live := make([]*instance, 0, len(p.live))
	for _, in := range p.live {
		live = append(live, in)
	}
	p.mu.Unlock()
	if proc != nil {
		if err := proc.ping(p.m.opts.CallTimeout); err != nil {
			p.down(proc, fmt.Errorf("health check: %w", err))
		}
	}
	for _, in := range live {
		if _, err := in.ready(); err != nil {
			p.m.logger.Warn("portable instance not restored", "plugin", p.Name(), "instance", in.label, "err", err)
			continue
		}
		in.recovered()
	}
}

// ping asks the process's gRPC health service whether it serves.
func (proc *process) ping(timeout time.Duration) error {
	if proc.client.Exited() {
		return errors.New("the process exited")
	}
	if proc.health == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := proc.health.Check(ctx, &healthpb.HealthCheckRequest{Service: plugin.GRPCServiceName}); err != nil {
		return fmt.Errorf("no answer to a ping: %v", rpcErr(err))
	}
	return nil
}
