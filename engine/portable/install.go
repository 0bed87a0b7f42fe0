package portable

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kgen-dev/kgen/engine/pluginzip"
	"github.com/kgen-dev/kgen/internal/fserr"
	"github.com/kgen-dev/kgen/sdk"
)

// Installing, replacing and deleting portable plugins while rules run.
//
// The installed version of plugin <name> is always the folder
// <root>/plugins/portable/<name>/. An install unpacks the zip into a
// staging folder <root>/plugins/portable/.staging/<name>-<random>/new/<name>/,
// checks its manifest there, and only then swaps it in: the folder of the
// version it replaces is renamed to .../old/<name>/ in the same staging
// folder and the new one renamed into place. A failure before the swap
// leaves the installed version as it was.
//
// Hot reload: a replaced (or deleted) version is retired, not stopped. Each
// SQL call site holds a lease on the version it was planned with (see
// Manager.Function); rules planned afterwards get the new version, and
// running rules keep calling the old process (its files are in the staging
// folder, where a restart after a crash finds them) until they stop. The
// lease of a call site ends when its rule stops (the rule's context ends)
// or, for one that never ran, when it is garbage collected; when the last
// lease of a retired version ends, its process is stopped and its staging
// folder removed. Manager.Close stops them all.

// stagingDir is where installs unpack and retired versions wait; Scan skips
// it (its name starts with a dot).
const stagingDir = ".staging"

// installs is the Manager's record of installs, leases and retired versions.
type installs struct {
	// serial makes installs and deletes take turns.
	serial sync.Mutex

	mu      sync.Mutex
	leases  map[*Plugin]int    // live call sites per version
	retired map[*Plugin]string // a retired version → its staging folder
	// disposing counts the retired versions being stopped, for Close.
	disposing sync.WaitGroup
}

// lease is one call site's hold on the version it calls.
type lease struct {
	m    *Manager
	p    *Plugin
	id   uint64
	once sync.Once // the rule's context is watched once
	done sync.Once
}

// hold makes a lease on version p for user id: a SQL call site, or a
// source or sink instance.
func (m *Manager) hold(p *Plugin, id uint64) *lease {
	m.inst.mu.Lock()
	if m.inst.leases == nil {
		m.inst.leases = map[*Plugin]int{}
	}
	m.inst.leases[p]++
	m.inst.mu.Unlock()
	return &lease{m: m, p: p, id: id}
}

// lease makes f hold its plugin version until its rule stops or f is
// garbage collected.
func (m *Manager) lease(f *Function) {
	l := m.hold(f.p, f.id)
	f.lease = l
	// Cleanups share one goroutine: stopping a process must not hold it.
	runtime.AddCleanup(f, func(l *lease) { go l.release() }, l)
}

// watch ends the lease when ctx (the rule's, which ends when the rule
// stops) is done.
func (l *lease) watch(ctx context.Context) {
	if l == nil || ctx == nil {
		return
	}
	l.once.Do(func() { context.AfterFunc(ctx, l.release) })
}

func (l *lease) release() {
	if l == nil {
		return
	}
	l.done.Do(func() {
		l.m.state.contexts.Delete(l.id)
		m := l.m
		m.inst.mu.Lock()
		m.inst.leases[l.p]--
		n := m.inst.leases[l.p]
		dir, retired := m.inst.retired[l.p]
		if n <= 0 {
			delete(m.inst.leases, l.p)
		}
		last := n <= 0 && retired
		if last {
			delete(m.inst.retired, l.p)
			m.inst.disposing.Add(1)
		}
		m.inst.mu.Unlock()
		if last {
			defer m.inst.disposing.Done()
			m.dispose(l.p, dir)
		}
	})
}

// users is the number of live call sites and source and sink instances
// of version p.
func (m *Manager) users(p *Plugin) int {
	m.inst.mu.Lock()
	defer m.inst.mu.Unlock()
	return m.inst.leases[p]
}

// retire keeps version p, moved to staging, until its last lease ends.
func (m *Manager) retire(p *Plugin, staging string) {
	m.inst.mu.Lock()
	n := m.inst.leases[p]
	if n > 0 {
		if m.inst.retired == nil {
			m.inst.retired = map[*Plugin]string{}
		}
		m.inst.retired[p] = staging
	}
	m.inst.mu.Unlock()
	if n > 0 {
		m.logger.Info("portable plugin version retired; running rules keep it until they stop", "plugin", p.Name(), "version", p.man.Version, "call_sites", n)
		return
	}
	m.dispose(p, staging)
}

// dispose stops a retired version and removes its files.
func (m *Manager) dispose(p *Plugin, staging string) {
	p.stop()
	if err := os.RemoveAll(staging); err != nil {
		m.logger.Warn("portable plugin: the files of a retired version stay", "plugin", p.Name(), "dir", staging, "err", err)
	}
	m.logger.Info("portable plugin version stopped: no rule uses it", "plugin", p.Name(), "version", p.man.Version)
}

// closeRetired stops every retired version, for Close.
func (m *Manager) closeRetired() {
	m.inst.mu.Lock()
	retired := m.inst.retired
	m.inst.retired = nil
	m.inst.mu.Unlock()
	for p, dir := range retired {
		m.dispose(p, dir)
	}
	m.inst.disposing.Wait()
}

// recoverStaging tidies the staging folder at Scan, when no plugin runs: a
// swap that a crash interrupted (the old version moved out, the new one not
// yet in) gets the old version back, and everything else there goes.
func (m *Manager) recoverStaging() {
	staging := filepath.Join(Dir(m.opts.Root), stagingDir)
	entries, err := os.ReadDir(staging)
	if err != nil {
		return
	}
	for _, e := range entries {
		old := filepath.Join(staging, e.Name(), "old")
		olds, _ := os.ReadDir(old)
		for _, o := range olds {
			cur := filepath.Join(Dir(m.opts.Root), o.Name())
			if _, err := os.Lstat(cur); errors.Is(err, fs.ErrNotExist) {
				if err := os.Rename(filepath.Join(old, o.Name()), cur); err == nil {
					m.logger.Warn("portable plugin: an interrupted install was rolled back", "plugin", o.Name())
				}
			}
		}
	}
	if err := os.RemoveAll(staging); err != nil {
		m.logger.Warn("portable plugins: the staging folder stays", "dir", staging, "err", err)
	}
}

// InstallOptions tune Install.
type InstallOptions struct {
	// Replace allows replacing an installed plugin of that name (a
	// reinstall); without it, that is an error matching fs.ErrExist.
	Replace bool
	// Check, when set, vets the new manifest before it is swapped in (the
	// engine refuses function names its other extensions have).
	Check func(*Manifest) error
	// Limits bound the zip; zero means pluginzip.DefaultLimits.
	Limits pluginzip.Limits
}

// Installed describes an install.
type Installed struct {
	Manifest Manifest
	// Replaced is the version that was replaced, nil for a new plugin.
	Replaced *Manifest
	// Retired is how many call sites of running rules keep the replaced
	// version until their rules stop.
	Retired int
}

// InstallFile installs the portable plugin zip at zipPath as plugin name.
// Errors read `install portable plugin "greet": greet.zip: <reason>`.
func (m *Manager) InstallFile(name, zipPath string, opts InstallOptions) (*Installed, error) {
	inst, err := m.installFile(name, zipPath, opts)
	if err != nil {
		return nil, fmt.Errorf("install portable plugin %q: %w", name, err)
	}
	return inst, nil
}

func (m *Manager) installFile(name, zipPath string, opts InstallOptions) (_ *Installed, err error) {
	if err := sdk.ValidateName(name); err != nil {
		return nil, err
	}
	f, st, err := pluginzip.OpenRegular(zipPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", zipPath, err)
	}
	lim := opts.Limits
	if lim == (pluginzip.Limits{}) {
		lim = pluginzip.DefaultLimits
	}
	if err := checkZip(zr, name, lim); err != nil {
		return nil, fmt.Errorf("%s: %w", zipPath, err)
	}

	m.inst.serial.Lock()
	defer m.inst.serial.Unlock()
	m.mu.Lock()
	old := m.plugins[name]
	m.mu.Unlock()
	if old != nil && !opts.Replace {
		return nil, fserr.Errorf(fserr.Exists, "portable plugin %q is already installed (version %q); reinstall it to replace it", name, old.man.Version)
	}

	root := Dir(m.opts.Root)
	if err := os.MkdirAll(filepath.Join(root, stagingDir), 0o755); err != nil {
		return nil, err
	}
	staging, err := os.MkdirTemp(filepath.Join(root, stagingDir), name+"-")
	if err != nil {
		return nil, err
	}
	keep := false // the staging folder holds the retired version
	defer func() {
		if !keep {
			os.RemoveAll(staging)
		}
	}()
	fresh := filepath.Join(staging, "new", name)
	if err := os.MkdirAll(fresh, 0o755); err != nil {
		return nil, err
	}
	if err := pluginzip.Extract(zr, fresh, lim, true); err != nil {
		return nil, fmt.Errorf("%s: %w", zipPath, err)
	}
	man, err := ReadManifest(fresh)
	if err != nil {
		// The path is the staging one; name the zip's entry instead.
		msg := strings.ReplaceAll(err.Error(), filepath.Join(fresh, name+".json"), "zip entry "+fmt.Sprintf("%q", name+".json"))
		return nil, fmt.Errorf("%s: %s", zipPath, msg)
	}
	if err := m.checkClaims(man, name); err != nil {
		return nil, err
	}
	if opts.Check != nil {
		if err := opts.Check(man); err != nil {
			return nil, err
		}
	}

	// The swap: the old version's folder goes to staging, the new one in.
	cur := filepath.Join(root, name)
	moved := ""
	if _, err := os.Lstat(cur); err == nil {
		moved = filepath.Join(staging, "old", name)
		if err := os.MkdirAll(filepath.Dir(moved), 0o755); err != nil {
			return nil, err
		}
		if old != nil {
			old.mu.Lock()
		}
		err := os.Rename(cur, moved)
		if err == nil && old != nil {
			old.dir = moved
		}
		if old != nil {
			old.mu.Unlock()
		}
		if err != nil {
			return nil, fmt.Errorf("move the installed version aside: %w", err)
		}
	}
	if err := os.Rename(fresh, cur); err != nil {
		if moved != "" {
			if rerr := os.Rename(moved, cur); rerr == nil && old != nil {
				old.mu.Lock()
				old.dir = cur
				old.mu.Unlock()
			}
		}
		return nil, fmt.Errorf("put the new version in place: %w", err)
	}
	p := &Plugin{m: m, dir: cur, man: man}
	m.mu.Lock()
	if old != nil {
		m.unregisterLocked(old)
	}
	m.plugins[name] = p
	m.registerLocked(p)
	m.mu.Unlock()

	inst := &Installed{Manifest: *man}
	if old != nil {
		replaced := *old.man
		inst.Replaced = &replaced
		inst.Retired = m.users(old)
		keep = true
		m.retire(old, staging)
	}
	m.logger.Info("portable plugin installed", "plugin", name, "version", man.Version, "replaced", old != nil)
	return inst, nil
}

// checkClaims refuses a manifest with a source, sink or function that
// another plugin has.
func (m *Manager) checkClaims(man *Manifest, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.claimedLocked(man, name)
}

// unregisterLocked forgets p's names; m.mu is held.
func (m *Manager) unregisterLocked(p *Plugin) {
	if m.plugins[p.Name()] == p {
		delete(m.plugins, p.Name())
	}
	for _, names := range []map[string]*Plugin{m.funcs, m.sources, m.sinks} {
		for n, q := range names {
			if q == p {
				delete(names, n)
			}
		}
	}
}

// Delete uninstalls plugin name: new rules no longer find its functions,
// and its process stops once no running rule uses it (rules keep the
// version they were planned with until they stop). The engine refuses the
// delete of a plugin that rules use unless forced (see the REST API).
// It returns how many call sites of running rules keep it.
func (m *Manager) Delete(name string) (int, error) {
	if err := sdk.ValidateName(name); err != nil {
		return 0, fmt.Errorf("delete portable plugin %q: %w", name, err)
	}
	m.inst.serial.Lock()
	defer m.inst.serial.Unlock()
	m.mu.Lock()
	p := m.plugins[name]
	m.mu.Unlock()
	root := Dir(m.opts.Root)
	cur := filepath.Join(root, name)
	if _, err := os.Lstat(cur); err != nil {
		if p == nil {
			return 0, fserr.Errorf(fserr.NotFound, "portable plugin %q is not installed", name)
		}
		m.mu.Lock()
		m.unregisterLocked(p)
		m.mu.Unlock()
		m.retire(p, "")
		return 0, nil
	}
	if err := os.MkdirAll(filepath.Join(root, stagingDir), 0o755); err != nil {
		return 0, fmt.Errorf("delete portable plugin %q: %w", name, err)
	}
	staging, err := os.MkdirTemp(filepath.Join(root, stagingDir), name+"-")
	if err != nil {
		return 0, fmt.Errorf("delete portable plugin %q: %w", name, err)
	}
	moved := filepath.Join(staging, "old", name)
	if err := os.MkdirAll(filepath.Dir(moved), 0o755); err != nil {
		os.RemoveAll(staging)
		return 0, fmt.Errorf("delete portable plugin %q: %w", name, err)
	}
	if p != nil {
		p.mu.Lock()
	}
	err = os.Rename(cur, moved)
	if err == nil && p != nil {
		p.dir = moved
	}
	if p != nil {
		p.mu.Unlock()
	}
	if err != nil {
		os.RemoveAll(staging)
		return 0, fmt.Errorf("delete portable plugin %q: %w", name, err)
	}
	if p == nil {
		// Installed but not loaded (Scan refused it): only files to remove.
		os.RemoveAll(staging)
		return 0, nil
	}
	m.mu.Lock()
	m.unregisterLocked(p)
	m.mu.Unlock()
	n := m.users(p)
	m.retire(p, staging)
	m.logger.Info("portable plugin deleted", "plugin", name, "running_call_sites", n)
	return n, nil
}

// Status is what the engine knows of a portable plugin.
type Status struct {
	Manifest
	// State is "running" (a process serves it), "idle" (not started yet,
	// or no longer used) or "down" (it exited or failed to start; the
	// next call after RestartAt starts it again).
	State string `json:"status"`
	Pid   int    `json:"pid,omitempty"`
	// LastError is why it is down.
	LastError string     `json:"lastError,omitempty"`
	RestartAt *time.Time `json:"restartAt,omitempty"`
	// CallSites counts the SQL call sites (of planned rules) and the
	// source and sink instances (of running rules) bound to this version.
	CallSites int `json:"callSites"`
	// Retired are replaced or deleted versions that running rules still
	// call, until they restart.
	Retired []Status `json:"retired,omitempty"`
}

// Status returns the status of plugin name and of its retired versions.
func (m *Manager) Status(name string) (Status, bool) {
	m.mu.Lock()
	p := m.plugins[name]
	m.mu.Unlock()
	var retired []*Plugin
	m.inst.mu.Lock()
	for q := range m.inst.retired {
		if q.Name() == name {
			retired = append(retired, q)
		}
	}
	m.inst.mu.Unlock()
	if p == nil && len(retired) == 0 {
		return Status{}, false
	}
	var st Status
	if p != nil {
		st = m.status(p)
	} else {
		st = Status{Manifest: Manifest{Name: name}, State: "deleted"}
	}
	slices.SortFunc(retired, func(a, b *Plugin) int { return strings.Compare(a.dirName(), b.dirName()) })
	for _, q := range retired {
		st.Retired = append(st.Retired, m.status(q))
	}
	return st, true
}

// Installed lists the installed plugins' manifests, sorted by name.
func (m *Manager) Installed() []Manifest {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Manifest, 0, len(m.plugins))
	for _, p := range m.plugins {
		out = append(out, *p.man)
	}
	slices.SortFunc(out, func(a, b Manifest) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (m *Manager) status(p *Plugin) Status {
	st := Status{Manifest: *p.man, CallSites: m.users(p)}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.proc != nil && !p.proc.client.Exited():
		st.State, st.Pid = "running", p.proc.pid
	case p.lastErr != nil:
		st.State, st.LastError = "down", p.lastErr.Error()
		if p.proc != nil {
			st.LastError = "the process exited"
		}
		if !p.retryAt.IsZero() {
			at := p.retryAt
			st.RestartAt = &at
		}
	case p.proc != nil:
		st.State, st.LastError = "down", "the process exited"
	default:
		st.State = "idle"
	}
	return st
}

func (p *Plugin) dirName() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dir
}

// checkZip checks a portable plugin zip before anything is written: safe
// entry names, its manifest <name>.json at the root and naming the plugin,
// and the executable it names at the root with its executable bits set.
// eKuiper's layout: <name>.json, the executable, and optionally
// sources/, sinks/ and functions/ with per-extension configuration and
// metadata, and any files the executable needs.
func checkZip(zr *zip.Reader, name string, lim pluginzip.Limits) error {
	files := map[string]*zip.File{}
	err := pluginzip.CheckEntries(zr, lim, func(f *zip.File, clean string, isDir bool) error {
		if !isDir {
			files[clean] = f
		}
		return nil
	})
	if err != nil {
		return err
	}
	mf := files[name+".json"]
	if mf == nil {
		var jsons []string
		for n := range files {
			if !strings.Contains(n, "/") && strings.HasSuffix(n, ".json") {
				jsons = append(jsons, n)
			}
		}
		slices.Sort(jsons)
		if len(jsons) > 0 {
			return fmt.Errorf("zip has no %s.json (the manifest of plugin %q) at its root; it has %s: is the plugin name right?", name, name, strings.Join(jsons, ", "))
		}
		return fmt.Errorf("zip has no %s.json (the manifest of plugin %q) at its root", name, name)
	}
	man, err := readZipManifest(mf)
	if err != nil {
		return fmt.Errorf("zip entry %q: %w", mf.Name, err)
	}
	if man.Name != "" && man.Name != name {
		return fmt.Errorf("zip entry %q: name: the manifest is for plugin %q, not %q", mf.Name, man.Name, name)
	}
	if man.Executable == "" {
		return fmt.Errorf("zip entry %q: executable: missing", mf.Name)
	}
	exe := files[man.Executable]
	switch {
	case path.Base(man.Executable) != man.Executable:
		return fmt.Errorf("zip entry %q: executable: %q must be a file at the zip's root", mf.Name, man.Executable)
	case exe == nil:
		return fmt.Errorf("zip has no entry %q, the executable %s names", man.Executable, mf.Name)
	case exe.Mode()&0o111 == 0 && (man.Language == "go" || man.Language == ""):
		// (An interpreted plugin's script need not be executable.)
		return fmt.Errorf("zip entry %q: the executable is not executable (mode %v); pack it with its x bits (kgen pack -portable does)", exe.Name, exe.Mode())
	}
	return nil
}

// readZipManifest decodes the manifest entry.
func readZipManifest(f *zip.File) (*Manifest, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return &m, nil
}
