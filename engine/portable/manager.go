package portable

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultInitTimeout       = 30 * time.Second
	DefaultCallTimeout       = 10 * time.Second
	DefaultRestartBackoff    = time.Second
	DefaultMaxRestartBackoff = 30 * time.Second
	DefaultHealthInterval    = 5 * time.Second
)

// Options configure a Manager.
type Options struct {
	// Root is the engine root folder.
	Root string
	// Logger receives the plugins' logs (their stderr) and lifecycle
	// events; nil discards them.
	Logger *slog.Logger
	// InitTimeout bounds a plugin's start: the process up, go-plugin's
	// handshake, the protocol handshake and Describe. 0 means
	// DefaultInitTimeout.
	InitTimeout time.Duration
	// CallTimeout bounds one call of a plugin (Validate, a batch of rows):
	// a plugin that does not answer in time fails that call, and its rows
	// are exceptions, instead of holding its rule up. 0 means
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// RestartBackoff is the wait after a plugin exits or fails to start
	// before the next start is tried; it doubles on every failure in a row
	// up to MaxRestartBackoff. 0 means the defaults.
	RestartBackoff, MaxRestartBackoff time.Duration
	// PythonBin is the interpreter of Python plugins: a path, or a name
	// looked up on PATH. Empty means DefaultPythonBin.
	PythonBin string
	// HealthInterval is how often running plugins are pinged: one that
	// does not answer is killed, and a plugin with live sources or sinks
	// is started again (after its back-off) with its instances provisioned
	// again, so an idle source or sink comes back by itself. 0 means
	// DefaultHealthInterval; a negative value turns the checks off.
	HealthInterval time.Duration
}

// Manager knows the portable plugins under <root>/plugins/portable/ and
// runs them.
type Manager struct {
	opts    Options
	logger  *slog.Logger
	state   *stateServer
	python  pythonSDK
	nextID  atomic.Uint64
	mu      sync.Mutex
	plugins map[string]*Plugin
	funcs   map[string]*Plugin
	inst    installs // install.go: installs, leases, retired versions
	sources map[string]*Plugin
	sinks   map[string]*Plugin

	stopHealth chan struct{}
	healthDone chan struct{}
	closeOnce  sync.Once
}

// NewManager returns a manager of the plugins under opts.Root; Scan finds
// them.
func NewManager(opts Options) *Manager {
	if opts.InitTimeout <= 0 {
		opts.InitTimeout = DefaultInitTimeout
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.RestartBackoff <= 0 {
		opts.RestartBackoff = DefaultRestartBackoff
	}
	if opts.MaxRestartBackoff <= 0 {
		opts.MaxRestartBackoff = DefaultMaxRestartBackoff
	}
	if opts.PythonBin == "" {
		opts.PythonBin = DefaultPythonBin
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.HealthInterval == 0 {
		opts.HealthInterval = DefaultHealthInterval
	}
	m := &Manager{opts: opts, logger: logger, state: newStateServer(), plugins: map[string]*Plugin{},
		funcs: map[string]*Plugin{}, sources: map[string]*Plugin{}, sinks: map[string]*Plugin{},
		stopHealth: make(chan struct{}), healthDone: make(chan struct{})}
	go m.healthLoop()
	return m
}

// Dir is the folder of the portable plugins under root.
func Dir(root string) string { return filepath.Join(root, "plugins", "portable") }

// SocketDir is where plugin sockets are made, under the data folder.
func SocketDir(root string) string { return filepath.Join(root, "data", "portable") }

// Scan reads the manifest of every folder under <root>/plugins/portable/.
// A bad manifest, or a source, sink or function name another plugin has,
// is returned as an error and that plugin left out; no process is started.
func (m *Manager) Scan() []error {
	m.recoverStaging() // install.go
	entries, err := os.ReadDir(Dir(m.opts.Root))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return []error{fmt.Errorf("portable plugins: %w", err)}
	}
	var errs []error
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") { // .staging: install.go
			continue
		}
		dir := filepath.Join(Dir(m.opts.Root), e.Name())
		man, err := ReadManifest(dir)
		if err == nil {
			err = m.claimedLocked(man, "")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("portable plugin %q: %w", e.Name(), err))
			continue
		}
		m.registerLocked(&Plugin{m: m, dir: dir, man: man})
	}
	return errs
}

// registerLocked makes p the plugin of its name and of the extensions its
// manifest lists; m.mu is held.
func (m *Manager) registerLocked(p *Plugin) {
	m.plugins[p.Name()] = p
	for _, f := range p.man.Functions {
		m.funcs[f] = p
	}
	for _, n := range p.man.Sources {
		m.sources[n] = p
	}
	for _, n := range p.man.Sinks {
		m.sinks[n] = p
	}
}

// claimedLocked is the error of a manifest naming an extension that
// another plugin than the one named self already serves.
func (m *Manager) claimedLocked(man *Manifest, self string) error {
	for _, c := range []struct {
		kind  string
		names []string
		taken map[string]*Plugin
	}{{"source", man.Sources, m.sources}, {"sink", man.Sinks, m.sinks}, {"function", man.Functions, m.funcs}} {
		for _, n := range c.names {
			if other, ok := c.taken[n]; ok && other.Name() != self {
				return fmt.Errorf("%s %q is also in portable plugin %q", c.kind, n, other.Name())
			}
		}
	}
	return nil
}

// Functions returns the sorted names of the functions of every plugin.
func (m *Manager) Functions() []string { return m.names(m.funcs) }

// Sources returns the sorted names of the sources of every plugin.
func (m *Manager) Sources() []string { return m.names(m.sources) }

// Sinks returns the sorted names of the sinks of every plugin.
func (m *Manager) Sinks() []string { return m.names(m.sinks) }

func (m *Manager) names(of map[string]*Plugin) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(of))
	for n := range of {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Function returns a fresh instance of a plugin function for one SQL call
// site; the plugin is started when the instance is first used.
func (m *Manager) Function(name string) (*Function, bool) {
	m.mu.Lock()
	p, ok := m.funcs[name]
	m.mu.Unlock()
	if !ok {
		return nil, false
	}
	f := &Function{p: p, name: name, id: m.nextID.Add(1)}
	m.lease(f) // install.go: the version stays until the call site's rule stops
	return f, true
}

// Plugin returns the plugin of that name.
func (m *Manager) Plugin(name string) (*Plugin, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.plugins[name]
	return p, ok
}

// Close stops the health checks and every plugin process.
func (m *Manager) Close() error {
	m.closeOnce.Do(func() { close(m.stopHealth) })
	<-m.healthDone
	m.mu.Lock()
	ps := make([]*Plugin, 0, len(m.plugins))
	for _, p := range m.plugins {
		ps = append(ps, p)
	}
	m.mu.Unlock()
	slices.SortFunc(ps, func(a, b *Plugin) int { return cmp.Compare(a.Name(), b.Name()) })
	for _, p := range ps {
		p.stop()
	}
	m.closeRetired() // install.go
	return nil
}

// logWriter logs each line written to it.
type logWriter struct {
	logger *slog.Logger
}

func (w logWriter) Write(p []byte) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(p))
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			w.logger.Info(line)
		}
	}
	return len(p), nil
}
