package rule

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kgen-dev/kgen/engine/schema"
	"github.com/kgen-dev/kgen/engine/sql"
	"github.com/kgen-dev/kgen/sdk"
)

// sourceNode runs one source instance of a rule.
type sourceNode struct {
	r      *Rule
	stream *Stream
	// index is the stream's among the rule's streams, which tags its rows
	// in a joined rule's window.
	index int
	// emit is Rule.emitLocked for this source, made once.
	emit    func(row map[string]any) error
	typ     string
	src     sdk.Source
	ctx     *extContext
	decoder *schema.Decoder
	props   map[string]any

	closed    atomic.Bool
	closeOnce sync.Once
	wg        sync.WaitGroup
	conn      atomic.Pointer[connState]
	errors    atomic.Int64
	eofOnce   sync.Once

	// Checkpoints (qos 1 and 2): the source's roles, then, under procMu,
	// its offset as of the last ingest, and the acknowledgement mark of
	// the last ingest with the number of ingests not yet acknowledged.
	rewinder  sdk.Rewindable
	acker     sdk.Acknowledger
	offsetter interface{ GetOffset() (any, error) } // whichever of the two

	maxPending int
	offset     any
	ackMark    any
	unacked    int
}

func (n *sourceNode) label() string { return fmt.Sprintf("source %q", n.typ) }

type connState struct {
	status  sdk.ConnectionStatus
	message string
}

const defaultPullInterval = time.Second

// planSource provisions the source of stream st, whose rows the rule reads
// fields of.
func (r *Rule) planSource(index int, st *Stream, fields sql.Fields) (*sourceNode, error) {
	ctor, err := r.env.Source(st.Type)
	if err != nil {
		return nil, fmt.Errorf("stream %q: %w", st.Name, err)
	}
	props, err := r.env.SourceProps(st.Type, st.ConfKey)
	if err != nil {
		return nil, fmt.Errorf("stream %q: %w", st.Name, err)
	}
	if r.def.Options.Qos > 0 && r.env.DurableSourceProps != nil {
		for k, v := range r.env.DurableSourceProps(st.Type, r.def.ID, st.Name) {
			if _, set := props[k]; !set {
				props[k] = v
			}
		}
	}
	props["datasource"] = st.Options["DATASOURCE"]
	props["format"] = st.Format
	dec, err := schema.NewDecoder(st.Format, st.Schema, decodeOptions(st, fields)...)
	if err != nil {
		return nil, fmt.Errorf("stream %q: %w", st.Name, err)
	}
	n := &sourceNode{r: r, stream: st, index: index, typ: st.Type, decoder: dec, props: props}
	n.emit = func(row map[string]any) error { return r.emitLocked(n, row) }
	n.ctx = r.newContext(r.srcCtx, "source:"+st.Name, 0, 0)
	n.conn.Store(&connState{status: sdk.StatusConnecting})
	err = guard(fmt.Sprintf("source %q", st.Type), func() error {
		n.src = ctor()
		if n.src == nil {
			return fmt.Errorf("constructor returned nil")
		}
		switch n.src.(type) {
		case sdk.PushSource, sdk.PullSource:
		default:
			return fmt.Errorf("%T implements neither Subscribe (sdk.PushSource) nor Pull (sdk.PullSource)", n.src)
		}
		if rep, ok := n.src.(sdk.StatusReporter); ok {
			rep.SetStatusHandler(n.setStatus)
		}
		if r.env.CheckProps != nil {
			if err := r.env.CheckProps(sdk.KindSource, st.Type, props); err != nil {
				return err
			}
		}
		if err := n.src.Provision(n.ctx, props); err != nil {
			return err
		}
		if r.def.Options.Qos > 0 {
			n.checkpointRoles()
		}
		if b, ok := n.src.(sdk.Bounded); ok {
			b.SetEOFIngest(n.eof)
		}
		return nil
	})
	if err != nil {
		n.src = nil
		return nil, fmt.Errorf("stream %q: %w", st.Name, err)
	}
	return n, nil
}

// decodeOptions make the decoder of a stream materialise only the fields
// the rule reads of its rows, f (with its TIMESTAMP column, for event
// time), unless it reads whole rows.
func decodeOptions(st *Stream, f sql.Fields) []schema.Option {
	if f.All {
		return nil
	}
	names := f.Names
	if ts := st.Options["TIMESTAMP"]; ts != "" {
		names = append(names, ts)
	}
	return []schema.Option{schema.WithFields(names...)}
}

func (n *sourceNode) setStatus(status sdk.ConnectionStatus, msg string) {
	n.conn.Store(&connState{status: status, message: msg})
	if status == sdk.StatusDisconnected {
		n.r.logger.Warn("source disconnected", "stream", n.stream.Name, "message", msg)
	}
}

func (n *sourceNode) start() error {
	label := fmt.Sprintf("source %q", n.typ)
	if err := guard(label, func() error { return n.src.Connect(n.ctx) }); err != nil {
		n.setStatus(sdk.StatusDisconnected, err.Error())
		return fmt.Errorf("stream %q: connect: %w", n.stream.Name, err)
	}
	if _, reports := n.src.(sdk.StatusReporter); !reports {
		n.setStatus(sdk.StatusConnected, "")
	}
	switch s := n.src.(type) {
	case sdk.PushSource:
		if err := guard(label, func() error { return s.Subscribe(n.ctx, n.ingest, n.ingestErr) }); err != nil {
			return fmt.Errorf("stream %q: subscribe: %w", n.stream.Name, err)
		}
	case sdk.PullSource:
		interval, err := pullInterval(n.props["interval"])
		if err != nil {
			return fmt.Errorf("stream %q: %w", n.stream.Name, err)
		}
		n.wg.Add(1)
		go n.pullLoop(s, interval)
	}
	return nil
}

// pullInterval reads the "interval" property: an int is milliseconds, a
// string a Go duration.
func pullInterval(v any) (time.Duration, error) {
	var d time.Duration
	switch x := v.(type) {
	case nil:
		return defaultPullInterval, nil
	case int:
		d = time.Duration(x) * time.Millisecond
	case int64:
		d = time.Duration(x) * time.Millisecond
	case float64:
		d = time.Duration(x * float64(time.Millisecond))
	case string:
		if ms, err := strconv.Atoi(x); err == nil {
			d = time.Duration(ms) * time.Millisecond
		} else if d, err = time.ParseDuration(x); err != nil {
			return 0, fmt.Errorf("property \"interval\": want milliseconds or a duration like \"1s\", got %q", x)
		}
	default:
		return 0, fmt.Errorf("property \"interval\": want milliseconds or a duration like \"1s\", got %T", v)
	}
	if d <= 0 {
		return 0, fmt.Errorf("property \"interval\": must be positive, got %v", v)
	}
	return d, nil
}

func (n *sourceNode) pullLoop(s sdk.PullSource, interval time.Duration) {
	defer n.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	trigger := time.Now()
	for {
		err := guard(fmt.Sprintf("source %q", n.typ), func() error {
			s.Pull(n.ctx, trigger, n.ingest, n.ingestErr)
			return nil
		})
		if err != nil {
			n.ingestErr(n.ctx, err)
		}
		select {
		case <-n.ctx.Done():
			return
		case trigger = <-t.C:
		}
	}
}

// ingest is the sdk.Ingest the source calls.
func (n *sourceNode) ingest(_ sdk.Context, data any, meta map[string]any, _ time.Time) {
	if n.closed.Load() {
		return
	}
	switch v := data.(type) {
	case []byte:
		n.r.ingestBytes(n, v, meta)
	case map[string]any:
		n.r.ingestRows(n, meta, v)
	case []map[string]any:
		n.r.ingestRows(n, meta, v...)
	default:
		n.r.exception(fmt.Errorf("source %q: ingested %T; want map[string]any, []map[string]any or []byte", n.typ, data))
	}
}

func (n *sourceNode) ingestErr(_ sdk.Context, err error) {
	n.errors.Add(1)
	n.r.exception(fmt.Errorf("source %q: %w", n.typ, err))
}

func (n *sourceNode) eof(_ sdk.Context, msg string) {
	n.eofOnce.Do(func() {
		n.r.logger.Info("source reached its end", "stream", n.stream.Name, "message", msg)
		n.r.sourceEOF()
	})
}

// stop ends delivery: later ingests are ignored and the pull loop ends.
func (n *sourceNode) stop() {
	n.closed.Store(true)
	n.close()
	n.wg.Wait()
}

// forgetter is a source that keeps something for its rule between runs
// (an MQTT persistent session) and lets go of it when the rule is deleted.
type forgetter interface {
	Forget(ctx sdk.Context) error
}

func (n *sourceNode) close() {
	n.closeOnce.Do(func() {
		if n.src == nil {
			return
		}
		if err := guard(fmt.Sprintf("source %q", n.typ), func() error { return n.src.Close(n.ctx) }); err != nil {
			n.r.logger.Warn("source close failed", "stream", n.stream.Name, "err", err)
		}
	})
}

func (n *sourceNode) status() SourceStatus {
	c := n.conn.Load()
	st := SourceStatus{Stream: n.stream.Name, Type: n.typ, Connection: string(c.status), Message: c.message, Errors: n.errors.Load()}
	if l, ok := n.src.(sdk.Lossy); ok {
		_ = guard(n.label(), func() error { st.Dropped = l.Dropped(); return nil })
	}
	return st
}

// guard runs an extension call, turning a panic into an error.
func guard(what string, f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: panic: %v", what, p)
		}
	}()
	return f()
}
