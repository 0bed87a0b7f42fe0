package sdk

import "time"

// Source brings data into a stream. The engine calls Provision once when the
// rule is planned, Connect once when it starts, then either Subscribe (for a
// PushSource) or Pull on every tick of the `interval` property (for a
// PullSource), and Close when the rule stops.
type Source interface {
	// Provision receives the merged properties: the conf key's values from
	// etc/sources/<type>.yaml, then the stream's own (datasource, format).
	Provision(ctx Context, props map[string]any) error
	Connect(ctx Context) error
	Close(ctx Context) error
}

// Ingest hands data to the engine. data is a decoded row (map[string]any), a
// list of rows ([]map[string]any) or raw bytes ([]byte) that the engine
// decodes by the stream FORMAT. meta may be nil; a zero ts means now.
type Ingest func(ctx Context, data any, meta map[string]any, ts time.Time)

// ErrorIngest reports a failure that is not fatal to the source (for example
// a message that could not be read). The engine counts and logs it.
type ErrorIngest func(ctx Context, err error)

// EOFIngest tells the engine a bounded source has no more data.
type EOFIngest func(ctx Context, msg string)

// PushSource delivers data as it arrives. Subscribe must not block for the
// lifetime of the source; it starts the delivery and returns. Delivery stops
// when ctx is done or Close is called.
type PushSource interface {
	Source
	Subscribe(ctx Context, ingest Ingest, ingestErr ErrorIngest) error
}

// PullSource is polled by the engine: once at start, then every interval
// (an int property is milliseconds, a string a Go duration; default 1s).
type PullSource interface {
	Source
	Pull(ctx Context, trigger time.Time, ingest Ingest, ingestErr ErrorIngest)
}

// Bounded is implemented by sources whose data ends (a file, a fixed list).
// SetEOFIngest is called right after Provision.
type Bounded interface {
	SetEOFIngest(eof EOFIngest)
}

// Lossy is a source that can lose data before the engine sees it, for
// example to a broker that drops messages for a subscriber that does not
// keep up. Dropped is the running total; the engine shows it on the rule
// status.
type Lossy interface {
	Dropped() int64
}

// ConnectionStatus is the state of a source's or sink's connection.
type ConnectionStatus string

const (
	StatusConnecting   ConnectionStatus = "connecting"
	StatusConnected    ConnectionStatus = "connected"
	StatusDisconnected ConnectionStatus = "disconnected"
)

// StatusHandler receives connection status changes.
type StatusHandler func(status ConnectionStatus, message string)

// StatusReporter is implemented by sources and sinks that hold a connection
// and reconnect by themselves. The engine calls SetStatusHandler before
// Connect and shows the latest status in the rule status.
type StatusReporter interface {
	SetStatusHandler(h StatusHandler)
}
