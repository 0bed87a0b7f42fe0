package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/kgen-dev/kgen/engine/broker"
	"github.com/kgen-dev/kgen/engine/connector"
	"github.com/kgen-dev/kgen/engine/plugin"
	"github.com/kgen-dev/kgen/engine/portable"
	"github.com/kgen-dev/kgen/engine/rule"
	"github.com/kgen-dev/kgen/engine/service"
	"github.com/kgen-dev/kgen/engine/sql"
	"github.com/kgen-dev/kgen/engine/state"
	"github.com/kgen-dev/kgen/engine/store"
	"github.com/kgen-dev/kgen/internal/clock"
	"github.com/kgen-dev/kgen/internal/confine"
	"github.com/kgen-dev/kgen/internal/fserr"
	"github.com/kgen-dev/kgen/internal/layout"
	"github.com/kgen-dev/kgen/sdk"
)

// Errors callers branch on (the REST API maps them to status codes). They
// match fs.ErrNotExist and fs.ErrExist, as do the plugin installer's and
// the service registry's.
var (
	ErrNotFound = fserr.NotFound
	ErrExists   = fserr.Exists
)

// Options configure Open.
type Options struct {
	// Root is the engine root folder; see ResolveRoot.
	Root string
	// Logger receives the engine's logs; nil discards them.
	Logger *slog.Logger
	// Broker starts the embedded MQTT broker (unless etc/kgen.yaml names an
	// external one).
	Broker bool
	// BrokerAddr overrides the embedded broker's listen address (tests use
	// "127.0.0.1:0").
	BrokerAddr string
	// OnOutput sees every row any rule sends to its sinks.
	OnOutput func(rule string, row map[string]any)
	// NoRestore skips starting the rules that were running at the last stop.
	NoRestore bool
	// AllowPaths are absolute folders that file sources and sinks may use,
	// besides the engine root and etc/kgen.yaml paths.allow (kgen run
	// allows its project folder).
	AllowPaths []string
	// Clock is the time windows run on in processing time; nil is the wall
	// clock. Tests pass a clock.Fake to fire windows without sleeping.
	Clock clock.Clock
}

// Engine is a running kgen engine.
type Engine struct {
	layout layout.Root
	conf   *Config
	paths  *confine.Policy // where definitions may point (paths.allow)
	logger *slog.Logger
	// kv holds the definitions (streams, rules) in data/kgen.db; stateKV
	// holds extension state and checkpoints (data/state.db or Redis).
	kv       store.KV
	stateKV  store.KV
	stateErr error // the state store was damaged at Open
	storeErr error // the definitions store was damaged at Open
	states   *state.Manager
	broker   *broker.Broker
	hub      *connector.MemoryHub
	ctx      context.Context
	cancel   context.CancelFunc
	env      *rule.Env
	// plugins are the Go plugins (.so files) under <root>/plugins/.
	plugins *plugin.Manager
	// portable are the portable plugins under <root>/plugins/portable/.
	portable *portable.Manager
	// services are the external services under <root>/data/services/,
	// whose rpcs are SQL functions.
	services *service.Registry
	metrics  *metrics

	// opMu serialises the changes of streams and rules; mu guards the
	// maps and is released while a change waits on a rule's stop (see
	// stopOutside), so reads go on meanwhile. Lock order: opMu, then mu.
	opMu    sync.Mutex
	mu      sync.Mutex
	streams map[string]*streamEntry
	rules   map[string]*ruleEntry
	// validations numbers the scratch ids ValidateRule plans under.
	validations int
}

type streamEntry struct {
	sql    string
	stream *rule.Stream
}

type ruleEntry struct {
	def     *rule.Def
	rule    *rule.Rule // nil when not planned (stopped, or failed to plan)
	running bool       // desired: started by the user
	err     error      // why the rule could not be planned or started
}

const (
	bucketStreams = "streams"
	bucketRules   = "rules"
)

// Open prepares the root folder, opens the store, starts the embedded broker
// if asked, and restores streams and rules.
func Open(opts Options) (_ *Engine, err error) {
	root, err := ResolveRoot(opts.Root)
	if err != nil {
		return nil, err
	}
	if errs := sdk.RegistrationErrors(); len(errs) > 0 {
		return nil, fmt.Errorf("extension registration: %w", errors.Join(errs...))
	}
	l := layout.Root(root)
	conf, err := prepare(l)
	if err != nil {
		return nil, err
	}
	paths, err := confine.New(root, append(slices.Clip(conf.Paths.Allow), opts.AllowPaths...))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.ConfigFile(), err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Engine{
		layout:  l,
		conf:    conf,
		paths:   paths,
		logger:  logger,
		hub:     connector.NewMemoryHub(),
		streams: map[string]*streamEntry{},
		rules:   map[string]*ruleEntry{},
	}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	// Through a local: a failed open returns a nil *Bolt, which must not
	// become a non-nil store.KV that Close would call.
	kv, storeErr, err := openDefinitions(l, logger)
	if err != nil {
		return nil, err
	}
	e.kv, e.storeErr = kv, storeErr
	skv, damaged, err := openStateStore(l, conf.Store.Config, kv)
	if err != nil {
		return nil, err
	}
	e.stateKV, e.stateErr = skv, damaged
	if damaged != nil {
		logger.Error("state store damaged", "err", damaged)
	}
	e.states = state.NewManager(e.stateKV, conf.Store.FlushInterval, logger)
	if opts.Broker && conf.MQTT.Server == "" {
		addr := conf.MQTT.Embedded
		if opts.BrokerAddr != "" {
			addr = opts.BrokerAddr
		}
		if e.broker, err = broker.StartWith(addr, logger.With("component", "broker"), cmp.Or(conf.MQTT.MaxPacketSize, broker.DefaultMaxPacketSize)); err != nil {
			return nil, err
		}
	}
	self, _ := debug.ReadBuildInfo()
	e.plugins = plugin.NewManager(root, self, logger.With("component", "plugins"))
	// A plugin that fails is logged by the manager and listed with its
	// error; it never stops the engine.
	e.plugins.Scan()
	e.portable = portable.NewManager(portable.Options{Root: root, Logger: logger.With("component", "portable"),
		InitTimeout: conf.Portable.InitTimeout, CallTimeout: conf.Portable.CallTimeout, RestartBackoff: conf.Portable.RestartBackoff,
		PythonBin: conf.Portable.PythonBin, HealthInterval: conf.Portable.HealthInterval})
	for _, err := range e.portable.Scan() {
		logger.Error("portable plugin skipped", "err", err)
	}
	// A bad service file is logged and skipped by the registry; the others
	// load.
	e.services = service.NewRegistry(root, logger.With("component", "services"))
	e.services.SetShadowing(e.functionProvider)
	e.services.Load()
	if e.metrics, err = newMetrics(e); err != nil {
		return nil, err
	}
	e.services.ObserveCalls(e.metrics.observeCall)
	e.ctx, e.cancel = context.WithCancel(confine.With(connector.WithMemoryHub(context.Background(), e.hub), e.paths))
	e.env = &rule.Env{
		Root:        root,
		Context:     e.ctx,
		Logger:      logger,
		States:      e.states,
		Stream:      e.lookupStream,
		SourceProps: e.sourceProps,
		Source:      e.lookupSource,
		Sink:        e.lookupSink,
		CheckProps:  e.checkProps,
		SinkDefaults: func(typ string) map[string]any {
			if typ == "mqtt" {
				return map[string]any{"server": e.BrokerURL()}
			}
			return nil
		},
		Function: e.lookupFunction,
		Latency:  e.metrics.ruleLatency,
		OnOutput: opts.OnOutput,
		Clock:    cmp.Or[clock.Clock](opts.Clock, clock.Real),
		Instance: instanceName(conf, root),
		StateError: func(string) error {
			return e.stateErr
		},
	}
	e.env.DurableSourceProps = e.durableSourceProps
	if err := e.restore(!opts.NoRestore); err != nil {
		return nil, err
	}
	return e, nil
}

// Root returns the absolute engine root folder.
func (e *Engine) Root() string { return string(e.layout) }

// Config returns the engine settings read from etc/kgen.yaml.
func (e *Engine) Config() Config { return *e.conf }

// MemoryHub returns the in-process pub/sub of the memory source and sink.
func (e *Engine) MemoryHub() *connector.MemoryHub { return e.hub }

// Broker returns the embedded MQTT broker, nil when it is not running.
func (e *Engine) Broker() *broker.Broker { return e.broker }

// BrokerURL returns the URL MQTT sources and sinks use by default: the
// external broker from the settings, or the embedded one.
func (e *Engine) BrokerURL() string {
	if e.conf.MQTT.Server != "" {
		return e.conf.MQTT.Server
	}
	if e.broker != nil {
		return e.broker.URL()
	}
	return "tcp://" + e.conf.MQTT.Embedded
}

// StoreDamage says how the definitions store (data/kgen.db) was found
// damaged at Open and what the engine started from instead; nil when it
// was sound.
func (e *Engine) StoreDamage() error { return e.storeErr }

// Close stops every rule (remembering which were running), flushes state and
// closes the store and the broker.
func (e *Engine) Close() error {
	// Every rule stops at once: each stop is bounded (rule.Rule.Stop), so
	// the engine's shutdown is bounded by the slowest, not by their sum.
	e.mu.Lock()
	var stops sync.WaitGroup
	for _, r := range e.rules {
		if rl := r.rule; rl != nil {
			stops.Go(rl.Stop)
		}
	}
	e.mu.Unlock()
	stops.Wait()
	var errs []error
	if e.portable != nil {
		errs = append(errs, e.portable.Close())
	}
	if e.services != nil {
		errs = append(errs, e.services.Close())
	}
	if e.states != nil {
		errs = append(errs, e.states.Close())
	}
	if e.stateKV != nil {
		errs = append(errs, e.stateKV.Close())
	}
	if e.kv != nil {
		if b, ok := e.kv.(*store.Bolt); ok {
			if err := b.Backup(goodCopy(e.layout)); err != nil {
				e.logger.Warn("the definitions store could not be copied at close", "err", err)
			}
		}
		errs = append(errs, e.kv.Close())
	}
	if e.broker != nil {
		errs = append(errs, e.broker.Close())
	}
	if e.cancel != nil {
		e.cancel()
	}
	return errors.Join(errs...)
}

func (e *Engine) sourceProps(typ, confKey string) (map[string]any, error) {
	props, err := sourceProps(e.layout, typ, confKey)
	if err != nil {
		return nil, err
	}
	if typ == "mqtt" {
		if _, ok := props["server"]; !ok {
			props["server"] = e.BrokerURL()
		}
	}
	return props, nil
}

// Plugins returns the manager of the engine's Go plugins (.so files), for
// installing and deleting them.
func (e *Engine) Plugins() *plugin.Manager { return e.plugins }

// Portable returns the manager of the portable plugins, for installing,
// replacing and deleting them while rules run.
func (e *Engine) Portable() *portable.Manager { return e.portable }

// Services returns the registry of external services, for adding, updating
// and deleting them; changes apply to rules planned afterwards.
func (e *Engine) Services() *service.Registry { return e.services }

// Compiled-in extensions (the sdk registry) come first, then plugins, then
// portable plugins, then (for functions) external services. Names that plugins registered from
// their init functions are the plugins'.

func (e *Engine) lookupSource(typ string) (func() sdk.Source, error) {
	if f, ok := sdk.LookupSource(typ); ok && !e.plugins.Owns(sdk.KindSource, typ) {
		return f, nil
	}
	if f, ok := e.plugins.Source(typ); ok {
		return f, nil
	}
	if f, ok := e.portable.Source(typ); ok {
		return f, nil
	}
	return nil, fmt.Errorf("unknown source type %q (known: %s)", typ, strings.Join(e.known(sdk.KindSource), ", "))
}

func (e *Engine) lookupSink(typ string) (func() sdk.Sink, error) {
	if f, ok := sdk.LookupSink(typ); ok && !e.plugins.Owns(sdk.KindSink, typ) {
		return f, nil
	}
	if f, ok := e.plugins.Sink(typ); ok {
		return f, nil
	}
	if f, ok := e.portable.Sink(typ); ok {
		return f, nil
	}
	return nil, fmt.Errorf("unknown sink type %q (known: %s)", typ, strings.Join(e.known(sdk.KindSink), ", "))
}

func (e *Engine) lookupFunction(name string) (sdk.Function, error) {
	f, ok := sdk.LookupFunction(name)
	if !ok || e.plugins.Owns(sdk.KindFunction, name) {
		f, ok = e.plugins.Function(name)
	}
	if !ok {
		if fn, ok := e.portable.Function(name); ok {
			return fn, nil
		}
		// Bound to the registry's current snapshot: the rule keeps this
		// definition until it is planned again.
		if fn, ok := e.services.Function(name); ok {
			return fn, nil
		}
		return nil, fmt.Errorf("%w %q", sql.ErrUnknownFunction, name)
	}
	fn := f()
	if fn == nil {
		return nil, fmt.Errorf("function %q: constructor returned nil", name)
	}
	return fn, nil
}

// functionProvider says what provides the SQL function name other than
// an external service ("" for nothing): lookupFunction tries those first.
func (e *Engine) functionProvider(name string) string {
	if _, ok := e.plugins.Function(name); ok || e.plugins.Owns(sdk.KindFunction, name) {
		return "a function of a native plugin"
	}
	if _, ok := sdk.LookupFunction(name); ok {
		return "a function compiled into the engine"
	}
	if slices.Contains(e.portable.Functions(), name) {
		return "a function of a portable plugin"
	}
	return ""
}

// known lists the compiled-in, loaded and portable names of a kind, sorted.
func (e *Engine) known(kind sdk.Kind) []string {
	var names []string
	for _, n := range sdk.Registered(kind) {
		if !e.plugins.Owns(kind, n) {
			names = append(names, n)
		}
	}
	for _, info := range e.plugins.List(kind) {
		if info.Err == "" {
			if kind == sdk.KindFunction {
				names = append(names, info.Functions...)
			} else {
				names = append(names, info.Name)
			}
		}
	}
	switch kind {
	case sdk.KindSource:
		names = append(names, e.portable.Sources()...)
	case sdk.KindSink:
		names = append(names, e.portable.Sinks()...)
	case sdk.KindFunction:
		names = append(names, e.portable.Functions()...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// restore reads streams and rules from the store. Bad entries are logged and
// kept out; rules that were running are started when start is true.
func (e *Engine) restore(start bool) error {
	names, err := e.kv.Keys(bucketStreams)
	if err != nil {
		return err
	}
	for _, name := range names {
		text, _, err := e.kv.Get(bucketStreams, name)
		if err != nil {
			return err
		}
		st, err := e.parseStream(string(text), false)
		if err != nil {
			e.logger.Error("stored stream is invalid; skipped", "stream", name, "err", err)
			continue
		}
		e.streams[st.Name] = &streamEntry{sql: string(text), stream: st}
	}
	ids, err := e.kv.Keys(bucketRules)
	if err != nil {
		return err
	}
	for _, id := range ids {
		data, _, err := e.kv.Get(bucketRules, id)
		if err != nil {
			return err
		}
		var stored storedRule
		if err := json.Unmarshal(data, &stored); err != nil {
			e.logger.Error("stored rule is invalid; skipped", "rule", id, "err", err)
			continue
		}
		def, err := rule.Parse(stored.Rule)
		if err != nil {
			e.logger.Error("stored rule is invalid; skipped", "rule", id, "err", err)
			continue
		}
		entry := &ruleEntry{def: def, running: stored.Running}
		e.rules[id] = entry
		if stored.Running && start {
			if err := e.startLocked(entry); err != nil {
				e.logger.Error("rule could not be restarted", "rule", id, "err", err)
			}
		}
	}
	return nil
}

type storedRule struct {
	Rule    json.RawMessage `json:"rule"`
	Running bool            `json:"running"`
}

func (e *Engine) saveRule(entry *ruleEntry) error {
	raw, err := json.Marshal(entry.def)
	if err != nil {
		return err
	}
	data, err := json.Marshal(storedRule{Rule: raw, Running: entry.running})
	if err != nil {
		return err
	}
	return e.kv.Put(bucketRules, entry.def.ID, data)
}
