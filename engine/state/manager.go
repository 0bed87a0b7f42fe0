package state

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/kgen-dev/kgen/engine/store"
)

// Bucket is the store bucket that holds all scopes' keys.
const Bucket = "state"

// sep separates the scope id from the key in store keys.
const sep = "\x00"

// Manager owns the scopes of one engine. It is safe for concurrent use.
type Manager struct {
	kv     store.KV
	logger *slog.Logger

	// flushMu serializes Flush and DeleteScopes, so a flush that copied a
	// scope's keys cannot write them back after the scope was deleted.
	flushMu sync.Mutex

	// mu guards scopes. Lock order: mu, then a Scope's mu, then dirtyMu.
	mu     sync.Mutex
	scopes map[string]*Scope

	dirtyMu sync.Mutex
	dirty   map[*Scope]struct{} // scopes with keys to flush

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// NewManager keeps state in memory and writes changed keys to kv every
// flushEvery (none when flushEvery <= 0) and on Flush and Close, so state
// survives an engine restart without a disk write per row. Flush errors of
// the background flusher are logged to logger (which may be nil); the keys
// stay pending and are retried at the next flush. The Manager does not close
// kv.
func NewManager(kv store.KV, flushEvery time.Duration, logger *slog.Logger) *Manager {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{
		kv:     kv,
		logger: logger,
		scopes: map[string]*Scope{},
		dirty:  map[*Scope]struct{}{},
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if flushEvery > 0 {
		go m.flushLoop(flushEvery)
	} else {
		close(m.done)
	}
	return m
}

func (m *Manager) flushLoop(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := m.Flush(); err != nil {
				m.logger.Error("flush state", "err", err)
			}
		case <-m.stop:
			return
		}
	}
}

// Scope returns the scope with the given id, the same *Scope for the same id
// until DeleteScopes removes it. Its persisted keys are loaded on first use,
// and a load error is returned by that call (and retried by the next).
func (m *Manager) Scope(id string) *Scope {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.scopes[id]
	if s == nil {
		s = &Scope{m: m, id: id}
		m.scopes[id] = s
	}
	return s
}

// Flush writes every changed key of every scope to the store in one
// transaction. Scopes are locked only to copy their changed keys, never
// during encoding or the write. On failure the keys stay pending.
func (m *Manager) Flush() error {
	m.flushMu.Lock()
	defer m.flushMu.Unlock()

	m.dirtyMu.Lock()
	scopes := m.dirty
	m.dirty = map[*Scope]struct{}{}
	m.dirtyMu.Unlock()
	if len(scopes) == 0 {
		return nil
	}

	taken := make(map[*Scope][]entry, len(scopes))
	for s := range scopes {
		if es := s.takeDirty(); len(es) > 0 {
			taken[s] = es
		}
	}
	puts := map[string][]byte{}
	for s, es := range taken {
		for _, e := range es {
			var b []byte
			if e.kind != kDeleted {
				var err error
				if b, err = encode(nil, e.kind, e.n, e.v); err != nil {
					// PutState checked the value, so this is a bug;
					// losing one key beats losing the flush.
					m.logger.Error("encode state", "scope", s.id, "key", e.key, "err", err)
					continue
				}
			}
			puts[s.id+sep+e.key] = b
		}
	}
	if err := m.kv.Apply(Bucket, puts); err != nil {
		for s, es := range taken {
			s.redirty(es)
		}
		return fmt.Errorf("flush state: %w", err)
	}
	return nil
}

// DeleteScopes removes every scope whose id starts with prefix, in memory
// and in the store; use a trailing separator ("rule1/") so that "rule10"
// is spared. Callers still holding a removed *Scope can use it, but it
// starts empty and is no longer persisted; Scope(id) returns a new one.
func (m *Manager) DeleteScopes(prefix string) error {
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	// Holding mu through the delete keeps Scope from creating, and then
	// loading, a scope whose keys are about to go.
	m.mu.Lock()
	defer m.mu.Unlock()
	var gone []*Scope
	for id, s := range m.scopes {
		if strings.HasPrefix(id, prefix) {
			s.drop()
			delete(m.scopes, id)
			gone = append(gone, s)
		}
	}
	m.dirtyMu.Lock()
	for _, s := range gone {
		delete(m.dirty, s)
	}
	m.dirtyMu.Unlock()
	if err := m.kv.DeletePrefix(Bucket, prefix); err != nil {
		return fmt.Errorf("delete state %q: %w", prefix, err)
	}
	return nil
}

// Close stops the background flusher and flushes. Scopes keep working in
// memory afterwards; Flush can still be called.
func (m *Manager) Close() error {
	m.closeOnce.Do(func() { close(m.stop) })
	<-m.done
	return m.Flush()
}

func (m *Manager) markDirty(s *Scope) {
	m.dirtyMu.Lock()
	m.dirty[s] = struct{}{}
	m.dirtyMu.Unlock()
}
