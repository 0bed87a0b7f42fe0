package connector

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/internal/testutil/syncbuf"
	"github.com/kgen-dev/kgen/sdk"
)

// testContext is a minimal sdk.Context for connector tests: a cancellable
// context, a logger writing into a buffer, a temporary root path and
// in-memory state.
type testContext struct {
	context.Context
	logger *slog.Logger
	logs   *syncbuf.Buffer
	root   string

	mu    sync.Mutex
	state map[string]any
}

// newTestContext returns a context that ends with the test, carrying its own
// MemoryHub so that tests never share the default hub.
func newTestContext(t *testing.T) *testContext {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	logs := &syncbuf.Buffer{}
	h := slog.NewTextHandler(logs, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	return &testContext{
		Context: WithMemoryHub(ctx, NewMemoryHub()),
		logger:  slog.New(h).With("rule", "r1", "op", "op1"),
		logs:    logs,
		root:    t.TempDir(),
		state:   map[string]any{},
	}
}

// withCancel returns a copy of c with a context that can be cancelled on its
// own, sharing the hub, logger and root.
func (c *testContext) withCancel() (*testContext, context.CancelFunc) {
	ctx, cancel := context.WithCancel(c.Context)
	return &testContext{Context: ctx, logger: c.logger, logs: c.logs, root: c.root, state: map[string]any{}}, cancel
}

func (c *testContext) GetLogger() *slog.Logger { return c.logger }
func (c *testContext) GetRuleId() string       { return "r1" }
func (c *testContext) GetOpId() string         { return "op1" }
func (c *testContext) GetInstanceId() int      { return 0 }
func (c *testContext) GetRootPath() string     { return c.root }

func (c *testContext) PutState(key string, v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state[key] = v
	return nil
}

func (c *testContext) GetState(key string) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state[key], nil
}

func (c *testContext) IncrCounter(key string, amount int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.state[key].(int)
	if !ok && c.state[key] != nil {
		return fmt.Errorf("state %q is not a counter", key)
	}
	c.state[key] = n + amount
	return nil
}

func (c *testContext) GetCounter(key string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, _ := c.state[key].(int)
	return n, nil
}

func (c *testContext) DeleteState(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.state, key)
	return nil
}

var _ sdk.Context = (*testContext)(nil)

// ingested is what a source handed to the engine.
type ingested struct {
	data any
	meta map[string]any
}

// recorder collects what a source ingests, its errors and EOFs, on channels
// the test reads with deadlines.
type recorder struct {
	rows chan ingested
	errs chan error
	eofs chan string
}

func newRecorder(n int) *recorder {
	return &recorder{rows: make(chan ingested, n), errs: make(chan error, n), eofs: make(chan string, 4)}
}

func (r *recorder) ingest(_ sdk.Context, data any, meta map[string]any, _ time.Time) {
	r.rows <- ingested{data, meta}
}
func (r *recorder) ingestErr(_ sdk.Context, err error) { r.errs <- err }
func (r *recorder) eof(_ sdk.Context, msg string)      { r.eofs <- msg }

// next waits for the next ingested row.
func (r *recorder) next(t *testing.T, within time.Duration) ingested {
	t.Helper()
	select {
	case in := <-r.rows:
		return in
	case <-time.After(within):
		t.Fatalf("nothing ingested within %v", within)
		return ingested{}
	}
}

// statusLog records status changes; wait blocks until one matches.
type statusLog struct {
	ch chan statusChange
}

type statusChange struct {
	status sdk.ConnectionStatus
	msg    string
}

func newStatusLog() *statusLog { return &statusLog{ch: make(chan statusChange, 64)} }

func (l *statusLog) handler(status sdk.ConnectionStatus, msg string) {
	l.ch <- statusChange{status, msg}
}

func (l *statusLog) wait(t *testing.T, want sdk.ConnectionStatus, within time.Duration) statusChange {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case c := <-l.ch:
			if c.status == want {
				return c
			}
		case <-deadline:
			t.Fatalf("no status %q within %v", want, within)
			return statusChange{}
		}
	}
}
