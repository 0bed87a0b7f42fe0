package plugin

import (
	"cmp"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	goplugin "plugin"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kgen-dev/kgen/engine/pluginzip"
	"github.com/kgen-dev/kgen/internal/atomicfile"
	"github.com/kgen-dev/kgen/internal/layout"
	"github.com/kgen-dev/kgen/internal/pluginmeta"
	"github.com/kgen-dev/kgen/sdk"
)

// Info describes one plugin file the Manager found: loaded (Err empty) or
// refused (Err says why).
type Info struct {
	Kind sdk.Kind
	// Name is the plugin name from the file name ("random" for Random.so);
	// the file name itself when it is not a valid plugin file name.
	Name string
	// Version is the version from the file name ("v1.0.0" for
	// Random@v1.0.0.so), "" when absent.
	Version string
	// File is the path of the .so.
	File string
	// Functions lists the SQL functions a function plugin provides: the
	// names from its JSON metadata, or just Name.
	Functions []string
	// Err is why the plugin was not loaded; empty when it was.
	Err string
	// Quarantined is the folder, relative to the root, that Scan moved the
	// plugin's file into because it failed to load (see Scan); empty when
	// it was not.
	Quarantined string
}

// PanicError is returned for a plugin whose package init panicked in
// plugin.Open: the panic was recovered and the plugin refused.
type PanicError struct {
	Name, File string
	// Value is what the init panicked with; Stack is where.
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("plugin %q (%s): its init panicked while it was opened: %v; the plugin was not loaded", e.Name, e.File, e.Value)
}

// brokenError marks a failure of the plugin file itself (not a Go plugin,
// built differently, its init panicked, its symbols are missing), as
// opposed to a conflict with other plugins: Scan quarantines those.
type brokenError struct{ error }

func (e brokenError) Unwrap() error { return e.error }

// MismatchError is returned for a plugin whose build differs from the
// engine's: it was not opened.
type MismatchError struct {
	Name, File string
	Diffs      []Diff
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plugin %q (%s) was built differently from the engine, so it was not opened:", e.Name, e.File)
	for _, d := range e.Diffs {
		b.WriteString("\n\t")
		b.WriteString(d.String())
	}
	return b.String()
}

// Manager loads Go plugins (.so files) from <root>/plugins/{sources,sinks,functions}/
// after checking that each was built to match the host. It is safe for
// concurrent use.
type Manager struct {
	root   string
	self   *debug.BuildInfo
	logger *slog.Logger
	// hostHashes are the package fingerprints of the running executable.
	hostHashes func() (map[string]string, error)

	mu sync.Mutex
	// infos is what List reports, by kind and plugin name.
	infos map[sdk.Kind]map[string]*Info
	// opened is every plugin file this process has opened, by kind and
	// name, newest last: Go cannot unload one, so it stays here after
	// Forget, and decides whether a reinstall can take effect.
	opened map[sdk.Kind]map[string][]*opened
	// owned are the names plugins registered with sdk.Register* from their
	// init functions, which run in the host's sdk: they are not compiled-in
	// extensions, and the engine asks the Manager about them.
	owned map[sdk.Kind]map[string]bool
	// pkgs are the package fingerprints of every opened plugin, with the
	// plugin's name, so that two plugins sharing a package must agree.
	pkgs map[string]pkgOwner
	// poisoned are the packages, not the engine's own, of plugins whose
	// init panicked: their init may have stopped half way, and Go cannot
	// run it again, so a plugin linking one is refused until a restart.
	poisoned map[string]string
	// ctors are the constructors new rules can use, by name (function
	// names for functions).
	sources   map[string]func() sdk.Source
	sinks     map[string]func() sdk.Sink
	functions map[string]func() sdk.Function
}

type opened struct {
	info Info
	// sum is the SHA-256 of the file's bytes; pluginPath is the import path
	// of its main package, by which Go knows the plugin.
	sum, pluginPath string
	ctors           map[string]any // func() sdk.Source, ... by provided name
	// err is why its symbols did not resolve; it stays opened all the same.
	err error
}

// ErrRestartNeeded is returned (wrapped) by Load for a plugin whose name an
// earlier, different build already holds in this process: Go cannot unload
// that one, nor open a second build of its plugin path, so the new code
// would not run. The REST API answers 409.
var ErrRestartNeeded = errors.New("restart needed")

// RestartError says why a plugin cannot be replaced without a restart.
type RestartError struct {
	Name string
	// Old is the file the running engine loaded; Why is what Go does with
	// the new one.
	Old, Why string
}

func (e *RestartError) Error() string {
	return fmt.Sprintf("restart kgen to replace plugin %q: the running engine has its old code loaded (%s); %s", e.Name, e.Old, e.Why)
}

func (e *RestartError) Unwrap() error { return ErrRestartNeeded }

type pkgOwner struct{ hash, plugin string }

// NewManager returns a Manager for the engine root folder. self is the
// host's build info (debug.ReadBuildInfo); with nil, nothing can be checked
// and every .so is refused. A nil logger discards logs.
func NewManager(root string, self *debug.BuildInfo, logger *slog.Logger) *Manager {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m := &Manager{
		root:      root,
		self:      self,
		logger:    logger,
		infos:     map[sdk.Kind]map[string]*Info{},
		opened:    map[sdk.Kind]map[string][]*opened{},
		owned:     map[sdk.Kind]map[string]bool{},
		pkgs:      map[string]pkgOwner{},
		poisoned:  map[string]string{},
		sources:   map[string]func() sdk.Source{},
		sinks:     map[string]func() sdk.Sink{},
		functions: map[string]func() sdk.Function{},
	}
	for _, k := range sdk.Kinds {
		m.infos[k] = map[string]*Info{}
		m.opened[k] = map[string][]*opened{}
		m.owned[k] = map[string]bool{}
	}
	m.hostHashes = sync.OnceValues(func() (map[string]string, error) {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		return packageHashes(exe)
	})
	return m
}

// Scan loads every plugin under <root>/plugins/{sources,sinks,functions}/.
// Of several files of one plugin (random.so, Random@v1.9.0.so,
// Random@v1.10.0.so) the highest semantic version is loaded. A plugin that
// fails is kept in List with its error and returned among the errors; it
// never stops the others.
//
// A plugin file that fails to load by its own fault (not a Go plugin, built
// differently from the engine, its init panicked, a symbol is missing) is
// quarantined: moved to plugins/.quarantine/<type>/<name>-<time>/ with a
// reason.txt (see pluginzip.Quarantine), so that it cannot fail every start;
// List reports it with its error and the folder. A file whose opening
// crashed the previous run of the engine (a fatal error in its init, which
// no recover can catch) is known by the marker Load leaves while opening,
// and quarantined without being opened again.
func (m *Manager) Scan() []error {
	var errs []error
	if err := m.quarantineCrashed(); err != nil {
		errs = append(errs, err)
	}
	for _, kind := range sdk.Kinds {
		dir := layout.Root(m.root).Plugins(kind)
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("scan %s plugins: %w", kind, err))
			continue
		}
		type candidate struct{ file, version string }
		best := map[string]candidate{}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".so") {
				continue
			}
			path := filepath.Join(dir, e.Name())
			name, version, err := sdk.ParsePluginFileName(e.Name())
			if err != nil {
				err = fmt.Errorf("%s: %w", path, err)
				m.refuse(Info{Kind: kind, Name: e.Name(), File: path}, err)
				errs = append(errs, err)
				continue
			}
			c := candidate{path, version}
			old, ok := best[name]
			switch {
			case !ok:
				best[name] = c
			case sdk.CompareVersions(version, old.version) > 0,
				// Between random.so and Random.so, the canonical name wins.
				sdk.CompareVersions(version, old.version) == 0 && e.Name() == sdk.PluginFileName(name, version):
				m.logger.Info("plugin file shadowed by a newer one", "kind", kind.String(), "file", old.file, "by", path)
				best[name] = c
			default:
				m.logger.Info("plugin file shadowed by a newer one", "kind", kind.String(), "file", path, "by", old.file)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(best)) {
			if _, err := m.Load(kind, best[name].file); err != nil {
				var broken brokenError
				if errors.As(err, &broken) {
					err = m.quarantine(kind, name, best[name].file, err)
				}
				errs = append(errs, err)
			}
		}
	}
	m.listQuarantined()
	return errs
}

// listQuarantined reports the plugins quarantined by earlier starts that
// nothing has replaced: List shows them with their reason until they are
// deleted.
func (m *Manager) listQuarantined() {
	for _, kind := range sdk.Kinds {
		qs, err := pluginzip.ListQuarantined(m.root, kind)
		if err != nil {
			m.logger.Error("list quarantined plugins", "kind", kind.String(), "err", err)
			continue
		}
		m.mu.Lock()
		for _, q := range qs { // oldest first: the newest wins
			if old := m.infos[kind][q.Name]; old != nil && old.Quarantined == "" {
				continue
			}
			info := &Info{Kind: kind, Name: q.Name, File: q.File, Quarantined: q.Dir,
				Err: cmp.Or(q.Reason, "no reason.txt") + "; quarantined to " + q.Dir + " (reason.txt): fix or rebuild the plugin, then install it again"}
			if _, v, err := sdk.ParsePluginFileName(filepath.Base(q.File)); err == nil {
				info.Version = v
			}
			m.infos[kind][q.Name] = info
		}
		m.mu.Unlock()
	}
}

// refuse records a plugin that failed and logs why.
func (m *Manager) refuse(info Info, err error) {
	info.Err = err.Error()
	m.mu.Lock()
	m.infos[info.Kind][info.Name] = &info
	m.mu.Unlock()
	m.logger.Error("plugin not loaded", "kind", info.Kind.String(), "file", info.File, "err", err)
}

// Load checks and opens one .so file of the given kind (used by install).
// Before plugin.Open it compares the file's build info and package hashes
// with the engine's and refuses a mismatch with a *MismatchError.
//
// Go cannot unload a plugin, so for a name this process opened before
// (installed, deleted, installed again) Load decides by what Go would do:
//   - the same bytes as a file opened before: its code is loaded already,
//     and new rules use it again;
//   - a file at the path of one opened before: Go would hand back the old
//     plugin for that path, so the new code would not run;
//   - a build of the plugin path (main package) of one opened before: Go
//     refuses to open a plugin path twice ("plugin already loaded");
//   - any other build: it is opened, and rules planned from now on use it;
//     running rules keep the old code until they restart.
//
// The second and third fail with a *RestartError (ErrRestartNeeded):
// `restart kgen to replace plugin "x": the running engine has its old code
// loaded (...)`.
func (m *Manager) Load(kind sdk.Kind, path string) (*Info, error) {
	name, version, err := sdk.ParsePluginFileName(filepath.Base(path))
	if err != nil {
		err = fmt.Errorf("%s: %w", path, err)
		m.refuse(Info{Kind: kind, Name: filepath.Base(path), File: path}, err)
		return nil, err
	}
	info := Info{Kind: kind, Name: name, Version: version, File: path, Functions: []string{name}}
	if kind == sdk.KindFunction {
		fns, err := m.functionNames(filepath.Dir(path), name)
		if err != nil {
			err = fmt.Errorf("plugin %q (%s): %w", name, path, err)
			m.refuse(info, err)
			return nil, err
		}
		info.Functions = fns
	}
	if kind != sdk.KindFunction {
		info.Functions = nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out, err := m.loadLocked(&info)
	if err != nil {
		info.Err = err.Error()
		m.infos[kind][name] = &info
		m.logger.Error("plugin not loaded", "kind", kind.String(), "file", path, "err", err)
		return nil, err
	}
	m.logger.Info("plugin loaded", "kind", kind.String(), "name", name, "version", version, "file", path)
	return out, nil
}

func (m *Manager) loadLocked(info *Info) (*Info, error) {
	kind, name, path := info.Kind, info.Name, info.File
	provides := info.Functions
	if kind != sdk.KindFunction {
		provides = []string{name}
	}
	var sum, pluginPath string
	if prev := m.opened[kind][name]; len(prev) > 0 {
		var err error
		if sum, err = atomicfile.SHA256(path); err != nil {
			return nil, fmt.Errorf("plugin %q: %w", name, err)
		}
		for _, o := range prev {
			if o.sum != sum {
				continue
			}
			// The same bytes again (installed after a delete): Go returns
			// the plugin it opened, so reuse its constructors.
			if o.err != nil {
				return nil, o.err
			}
			if err := m.checkNames(kind, name, provides); err != nil {
				return nil, err
			}
			m.publish(kind, o.ctors)
			out := *info
			out.Functions = slices.Clone(o.info.Functions)
			m.infos[kind][name] = &out
			return &out, nil
		}
		if bi, err := buildinfo.ReadFile(path); err == nil {
			pluginPath = bi.Path
		}
		for _, o := range prev {
			old := filepath.Base(o.info.File) + ", " + versionText(o.info.Version)
			var pe *PanicError
			if errors.As(o.err, &pe) && (o.info.File == path || pluginPath != "" && o.pluginPath == pluginPath) {
				return nil, &RestartError{Name: name, Old: old + ", whose init panicked",
					Why: "Go cannot open that file or plugin path again in this process"}
			}
			switch {
			case o.info.File == path:
				return nil, &RestartError{Name: name, Old: old, Why: "Go opens a plugin file once per process and would keep returning the old code for " + filepath.Base(path)}
			case pluginPath != "" && o.pluginPath == pluginPath:
				return nil, &RestartError{Name: name, Old: old, Why: fmt.Sprintf("Go opens a plugin path (%s) once per process", pluginPath)}
			}
		}
	}
	if err := m.checkNames(kind, name, provides); err != nil {
		return nil, err
	}
	hashes, err := m.check(name, path)
	if err != nil {
		if m.self != nil {
			err = brokenError{err}
		}
		return nil, err
	}
	for _, pkg := range slices.Sorted(maps.Keys(hashes)) {
		if other, ok := m.poisoned[pkg]; ok {
			return nil, fmt.Errorf("plugin %q (%s): it links package %s, whose init ran, perhaps half way, when the init of plugin %q panicked; "+
				"Go cannot run an init twice, so restart kgen to load it (%w)", name, path, pkg, other, ErrRestartNeeded)
		}
	}
	if sum == "" {
		if sum, err = atomicfile.SHA256(path); err != nil {
			return nil, fmt.Errorf("plugin %q: %w", name, err)
		}
	}
	if pluginPath == "" {
		if bi, err := buildinfo.ReadFile(path); err == nil {
			pluginPath = bi.Path
		}
	}
	before := registered()
	p, err := m.open(kind, name, path)
	for _, k := range sdk.Kinds {
		for _, n := range sdk.Registered(k) {
			if !slices.Contains(before[k], n) {
				m.owned[k][n] = true
			}
		}
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		// Its code stays in the process, half initialised: remember it, so
		// that Go is never asked to open that file or plugin path again
		// (it would wait forever for the first open to finish), and that
		// no plugin sharing its packages runs their init a second time.
		m.logger.Error("plugin init panicked", "kind", kind.String(), "file", path, "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
		m.opened[kind][name] = append(m.opened[kind][name], &opened{info: *info, sum: sum, pluginPath: pluginPath, err: err})
		host, _ := m.hostHashes()
		for pkg := range hashes {
			if _, ok := host[pkg]; !ok {
				m.poisoned[pkg] = name
			}
		}
		return nil, brokenError{err}
	}
	if err != nil {
		return nil, brokenError{fmt.Errorf("plugin %q (%s): open: %w", name, path, err)}
	}
	o := &opened{info: *info, sum: sum, pluginPath: pluginPath, ctors: map[string]any{}}
	m.opened[kind][name] = append(m.opened[kind][name], o)
	for pkg, h := range hashes {
		if _, ok := m.pkgs[pkg]; !ok {
			m.pkgs[pkg] = pkgOwner{h, name}
		}
	}
	var errs []error
	for _, n := range provides {
		ctor, err := lookup(p, kind, n)
		if err != nil {
			errs = append(errs, fmt.Errorf("plugin %q (%s): %w", name, path, err))
			continue
		}
		o.ctors[n] = ctor
	}
	if len(errs) > 0 {
		o.ctors, o.err = nil, errors.Join(errs...)
		return nil, brokenError{o.err}
	}
	m.publish(kind, o.ctors)
	out := *info
	m.infos[kind][name] = &out
	return &out, nil
}

func versionText(v string) string {
	if v == "" {
		return "without a version"
	}
	return v
}

// checkNames refuses names that compiled-in extensions or other plugins
// already provide.
func (m *Manager) checkNames(kind sdk.Kind, plugin string, provides []string) error {
	for _, n := range provides {
		if err := sdk.ValidateName(n); err != nil {
			return fmt.Errorf("plugin %q: %w", plugin, err)
		}
		if slices.Contains(sdk.Registered(kind), n) && !m.owned[kind][n] {
			return fmt.Errorf("plugin %q: %s %q is compiled into the engine; a plugin cannot replace it", plugin, kind, n)
		}
		for other, info := range m.infos[kind] {
			if other != plugin && info.Err == "" && slices.Contains(providedBy(info), n) {
				return fmt.Errorf("plugin %q: %s %q is already provided by plugin %q", plugin, kind, n, other)
			}
		}
	}
	return nil
}

func providedBy(info *Info) []string {
	if info.Kind == sdk.KindFunction {
		return info.Functions
	}
	return []string{info.Name}
}

// check compares a plugin's build with the engine's without opening it,
// and returns the plugin's package hashes.
func (m *Manager) check(name, path string) (map[string]string, error) {
	if m.self == nil {
		return nil, fmt.Errorf("plugin %q (%s): the engine has no build info to check it against, so it was not opened", name, path)
	}
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		// "could not read Go build info from <path>: <why>": the path
		// is in the message already.
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return nil, fmt.Errorf("plugin %q (%s): not a Go plugin: %w", name, path, err)
	}
	if mode := settingMap(bi)["-buildmode"]; mode != "plugin" {
		return nil, fmt.Errorf("plugin %q (%s): not a Go plugin: built with -buildmode=%s", name, path, cmp.Or(mode, "exe"))
	}
	if diffs := Compare(m.self, bi); len(diffs) > 0 {
		return nil, &MismatchError{Name: name, File: path, Diffs: diffs}
	}
	hashes, err := packageHashes(path)
	if err != nil {
		return nil, fmt.Errorf("plugin %q (%s): read package hashes: %w", name, path, err)
	}
	host, err := m.hostHashes()
	if err != nil {
		return nil, fmt.Errorf("plugin %q (%s): read the engine's package hashes: %w", name, path, err)
	}
	var diffs []Diff
	for _, pkg := range slices.Sorted(maps.Keys(hashes)) {
		h := hashes[pkg]
		if hh, ok := host[pkg]; ok && hh != h {
			diffs = append(diffs, Diff{
				What: "package " + pkg, Host: hh, Plugin: h,
				Fix: "module " + moduleOf(pkg, bi) + " was compiled from different sources; build the plugin with kgen build against the engine's sources",
			})
		} else if o, ok := m.pkgs[pkg]; ok && o.hash != h {
			diffs = append(diffs, Diff{
				What: "package " + pkg, Host: "plugin " + o.plugin + " " + o.hash, Plugin: h,
				Fix: "plugins that share module " + moduleOf(pkg, bi) + " must use the same version of it",
			})
		}
	}
	if len(diffs) > 0 {
		return nil, &MismatchError{Name: name, File: path, Diffs: diffs}
	}
	return hashes, nil
}

// moduleOf names the module of pkg in a build: the longest module path
// that is a prefix of it; "the standard library" for none.
func moduleOf(pkg string, bi *debug.BuildInfo) string {
	best := ""
	for _, d := range append([]*debug.Module{&bi.Main}, bi.Deps...) {
		if (pkg == d.Path || strings.HasPrefix(pkg, d.Path+"/")) && len(d.Path) > len(best) {
			best = d.Path
		}
	}
	if best == "" {
		return "std (the Go toolchain)"
	}
	return best
}

func registered() map[sdk.Kind][]string {
	out := map[sdk.Kind][]string{}
	for _, k := range sdk.Kinds {
		out[k] = sdk.Registered(k)
	}
	return out
}

// publish makes constructors available to new rules.
func (m *Manager) publish(kind sdk.Kind, ctors map[string]any) {
	for n, c := range ctors {
		switch kind {
		case sdk.KindSource:
			m.sources[n] = c.(func() sdk.Source)
		case sdk.KindSink:
			m.sinks[n] = c.(func() sdk.Sink)
		case sdk.KindFunction:
			m.functions[n] = c.(func() sdk.Function)
		}
	}
}

// lookup finds the symbol for name and turns it into a constructor.
func lookup(p *goplugin.Plugin, kind sdk.Kind, name string) (any, error) {
	sym := sdk.SymbolName(name)
	iface := map[sdk.Kind]string{sdk.KindSource: "sdk.Source", sdk.KindSink: "sdk.Sink", sdk.KindFunction: "sdk.Function"}[kind]
	want := "func() " + iface + " or a value implementing " + iface
	s, err := p.Lookup(sym)
	if err != nil {
		return nil, fmt.Errorf("symbol %q not found; a %s plugin must export %q as %s", sym, kind, sym, want)
	}
	var ctor any
	var ok bool
	switch kind {
	case sdk.KindSource:
		ctor, ok = constructor[sdk.Source](s)
	case sdk.KindSink:
		ctor, ok = constructor[sdk.Sink](s)
	case sdk.KindFunction:
		ctor, ok = constructor[sdk.Function](s)
	}
	if !ok {
		return nil, fmt.Errorf("symbol %q has type %s; want %s", sym, symbolType(s), want)
	}
	return ctor, nil
}

// symbolType names the Go type of an exported symbol as its author wrote
// it: Lookup returns a pointer to an exported variable.
func symbolType(s goplugin.Symbol) string {
	t := reflect.TypeOf(s)
	if t.Kind() == reflect.Pointer && t.Elem().Kind() != reflect.Struct {
		return "var of type " + t.Elem().String()
	}
	return t.String()
}

// constructor accepts func() T (an exported constructor, called once per
// rule instance), a variable holding one, or a value implementing T (an
// exported variable; one instance shared by every rule, as in eKuiper).
func constructor[T any](s goplugin.Symbol) (func() T, bool) {
	switch v := s.(type) {
	case func() T:
		return v, true
	case *func() T:
		if v != nil && *v != nil {
			return *v, true
		}
		return nil, false
	case T:
		return func() T { return v }, true
	}
	if rv := reflect.ValueOf(s); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		if v, ok := rv.Elem().Interface().(T); ok {
			return func() T { return v }, true
		}
	}
	return nil, false
}

// functionNames lists the functions of a function plugin from its JSON
// metadata: <name>.json or <Name>.json beside the .so or in etc/functions/,
// and any other .json beside it whose "name" is the plugin's. Without one,
// the plugin provides the function named after it.
func (m *Manager) functionNames(dir, name string) ([]string, error) {
	var files []string
	for _, f := range []string{
		filepath.Join(dir, name+".json"),
		filepath.Join(dir, sdk.SymbolName(name)+".json"),
		layout.Root(m.root).PluginMetaFile(sdk.KindFunction, name),
	} {
		if _, err := os.Stat(f); err == nil && !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	others, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var fns []string
	for _, f := range append(files, others...) {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		meta, err := pluginmeta.ReadNames(data)
		if err != nil {
			if slices.Contains(files, f) {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			continue
		}
		if !slices.Contains(files, f) && meta.Name != name {
			continue
		}
		for _, fn := range meta.Functions {
			if !slices.Contains(fns, fn) {
				fns = append(fns, fn)
			}
		}
	}
	if len(fns) == 0 {
		return []string{name}, nil
	}
	return fns, nil
}

// Source returns the constructor of a loaded source plugin.
func (m *Manager) Source(name string) (func() sdk.Source, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.sources[name]
	return f, ok
}

// Sink returns the constructor of a loaded sink plugin.
func (m *Manager) Sink(name string) (func() sdk.Sink, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.sinks[name]
	return f, ok
}

// Function returns the constructor of a SQL function from a loaded
// function plugin.
func (m *Manager) Function(name string) (func() sdk.Function, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.functions[name]
	return f, ok
}

// Owns reports whether name was registered in the sdk registry by a plugin
// this Manager opened (plugin init functions call sdk.Register*), so that
// the engine does not take it for a compiled-in extension.
func (m *Manager) Owns(kind sdk.Kind, name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.owned[kind][name]
}

// List returns what Scan and Load found for a kind, loaded or refused,
// sorted by name.
func (m *Manager) List(kind sdk.Kind) []Info {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Info, 0, len(m.infos[kind]))
	for _, name := range slices.Sorted(maps.Keys(m.infos[kind])) {
		i := *m.infos[kind][name]
		i.Functions = slices.Clone(i.Functions)
		out = append(out, i)
	}
	return out
}

// Forget is called after a plugin was deleted: new rules can no longer use
// it. Running rules keep their instances, and the plugin stays opened (Go
// cannot unload it); see Load for what can be loaded under its name before
// a restart.
func (m *Manager) Forget(kind sdk.Kind, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	info := m.infos[kind][name]
	delete(m.infos[kind], name)
	if info == nil {
		return
	}
	for _, n := range providedBy(info) {
		switch kind {
		case sdk.KindSource:
			delete(m.sources, n)
		case sdk.KindSink:
			delete(m.sinks, n)
		case sdk.KindFunction:
			delete(m.functions, n)
		}
	}
}

// openingFile is the marker Load keeps under <root>/plugins/ while Go opens
// a plugin (and runs its init): found at the next start, it names the file
// whose opening ended the process.
const openingFile = ".opening.json"

type openingMarker struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	File string `json:"file"`
}

func (m *Manager) markerPath() string {
	return filepath.Join(m.root, layout.PluginsDir, openingFile)
}

// open runs plugin.Open, which runs the plugin's package init functions in
// this goroutine: a panic there becomes a *PanicError. A fatal error there
// (a segmentation fault in cgo code, a runtime throw) ends the process and
// cannot be caught; the marker written around the open lets the next start
// quarantine the file instead of crashing again.
func (m *Manager) open(kind sdk.Kind, name, path string) (p *goplugin.Plugin, err error) {
	data, _ := json.Marshal(openingMarker{Kind: kind.Dir(), Name: name, File: path})
	marked := atomicfile.Write(m.markerPath(), data) == nil
	if !marked {
		// A root the engine cannot write to: the plugin still loads, but a
		// crash in its init will not be known at the next start.
		m.logger.Warn("cannot mark the plugin being opened", "file", m.markerPath())
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, &PanicError{Name: name, File: path, Value: r, Stack: debug.Stack()}
		}
		if marked {
			if rerr := os.Remove(m.markerPath()); rerr != nil {
				m.logger.Warn("remove plugin marker", "err", rerr)
			}
		}
	}()
	return goplugin.Open(path)
}

// quarantineCrashed quarantines the plugin whose opening ended the previous
// run of the engine, if any.
func (m *Manager) quarantineCrashed() error {
	data, err := os.ReadFile(m.markerPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", m.markerPath(), err)
	}
	defer os.Remove(m.markerPath())
	var mk openingMarker
	if err := json.Unmarshal(data, &mk); err != nil {
		return fmt.Errorf("%s: %w", m.markerPath(), err)
	}
	kind, err := sdk.ParseKind(mk.Kind)
	if err != nil {
		return fmt.Errorf("%s: %w", m.markerPath(), err)
	}
	// Only a file in this root's plugin folder is moved.
	if filepath.Dir(mk.File) != layout.Root(m.root).Plugins(kind) || sdk.ValidateName(mk.Name) != nil {
		return fmt.Errorf("%s: names %s, not a plugin file of this engine", m.markerPath(), mk.File)
	}
	if _, err := os.Lstat(mk.File); err != nil {
		return nil // deleted by hand since
	}
	info := Info{Kind: kind, Name: mk.Name, File: mk.File}
	if _, v, err := sdk.ParsePluginFileName(filepath.Base(mk.File)); err == nil {
		info.Version = v
	}
	cause := fmt.Errorf("plugin %q (%s): the engine ended while opening it: its init crashed the process "+
		"(a fatal error that Go cannot recover, such as a segmentation fault), or the engine was killed at that moment", mk.Name, mk.File)
	m.refuse(info, cause)
	return m.quarantine(kind, mk.Name, mk.File, cause)
}

// quarantine moves a plugin file that failed to load aside, and records
// where in its Info.
func (m *Manager) quarantine(kind sdk.Kind, name, file string, cause error) error {
	dir, err := pluginzip.Quarantine(m.root, kind, name, file, cause.Error(), time.Now())
	if err != nil {
		m.logger.Error("plugin not quarantined", "kind", kind.String(), "file", file, "err", err)
		return errors.Join(cause, err)
	}
	note := "; quarantined to " + dir + " (reason.txt): fix or rebuild the plugin, then install it again"
	m.mu.Lock()
	if info := m.infos[kind][name]; info != nil && info.File == file {
		info.Err += note
		info.Quarantined = dir
	}
	m.mu.Unlock()
	m.logger.Error("plugin quarantined", "kind", kind.String(), "file", file, "to", dir, "err", cause)
	return fmt.Errorf("%w%s", cause, note)
}
