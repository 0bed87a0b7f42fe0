package state

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kgen-dev/kgen/engine/store"
)

// Bucket is the store bucket that holds all scopes' keys; CounterBucket
// holds the values of their integers, as base-10 text that the store adds
// to atomically (store.Write.Adds).
const (
	Bucket        = "state"
	CounterBucket = "counters"
)

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
	// held are the id prefixes of scopes the flush leaves alone: a rule
	// that checkpoints writes their keys itself (Capture, Commit).
	held map[string]bool

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
		held:   map[string]bool{},
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
	for s := range scopes {
		if m.isHeld(s.id) {
			delete(scopes, s)
		}
	}
	m.dirtyMu.Unlock()
	if len(scopes) == 0 {
		return nil
	}
	changes := make([]Changes, 0, len(scopes))
	for s := range scopes {
		changes = append(changes, s.Capture())
	}
	if err := m.Commit(changes, store.Write{}); err != nil {
		return fmt.Errorf("flush state: %w", err)
	}
	return nil
}

// Commit writes captured changes and extra in one atomic store write. On
// failure the changes are pending again, for the next Commit or flush.
func (m *Manager) Commit(changes []Changes, extra store.Write) error {
	w := store.Write{Puts: map[string]map[string][]byte{}, Adds: map[string]map[string]int64{}}
	for b, kv := range extra.Puts {
		w.Puts[b] = kv
	}
	for b, kv := range extra.Adds {
		w.Adds[b] = kv
	}
	put := func(bucket, key string, b []byte) {
		if w.Puts[bucket] == nil {
			w.Puts[bucket] = map[string][]byte{}
		}
		w.Puts[bucket][key] = b
	}
	for _, c := range changes {
		for _, e := range c.es {
			key := c.s.id + sep + e.key
			switch {
			case e.kind == kDeleted:
				put(Bucket, key, nil)
				put(CounterBucket, key, nil)
			case e.kind.isInt():
				// The state key keeps the kind, written when it
				// changes; the number is in CounterBucket, where
				// increments add up.
				if e.stored != e.kind {
					put(Bucket, key, appendInt([]byte{formatV1}, e.kind, 0))
				}
				if e.set {
					put(CounterBucket, key, []byte(strconv.FormatInt(e.n, 10)))
				} else {
					if w.Adds[CounterBucket] == nil {
						w.Adds[CounterBucket] = map[string]int64{}
					}
					w.Adds[CounterBucket][key] = e.delta
				}
			default:
				b, err := encode(nil, e.kind, e.n, e.v)
				if err != nil {
					// PutState checked the value, so this is a bug;
					// losing one key beats losing the write.
					m.logger.Error("encode state", "scope", c.s.id, "key", e.key, "err", err)
					continue
				}
				put(Bucket, key, b)
				if e.stored.isInt() {
					put(CounterBucket, key, nil)
				}
			}
		}
	}
	totals, err := m.kv.Commit(w)
	if err != nil {
		m.Abandon(changes)
		return err
	}
	for _, c := range changes {
		c.s.settle(c.es, totals[CounterBucket])
	}
	return nil
}

// Abandon makes captured changes pending again.
func (m *Manager) Abandon(changes []Changes) {
	for _, c := range changes {
		if len(c.es) > 0 {
			c.s.redirty(c.es)
		}
	}
}

// Hold keeps the flush from writing the scopes whose ids start with prefix
// (a rule's, "rule1/"): a rule that checkpoints writes them with Capture and
// Commit, so that the store holds its last checkpoint and nothing newer.
func (m *Manager) Hold(prefix string) {
	m.dirtyMu.Lock()
	m.held[prefix] = true
	m.dirtyMu.Unlock()
}

// Release undoes Hold: the flush writes those scopes again, starting with
// what they hold.
func (m *Manager) Release(prefix string) {
	m.dirtyMu.Lock()
	had := m.held[prefix]
	delete(m.held, prefix)
	m.dirtyMu.Unlock()
	if !had {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, s := range m.scopes {
		if strings.HasPrefix(id, prefix) {
			s.mu.Lock()
			if len(s.dirty) > 0 {
				m.markDirty(s)
			}
			s.mu.Unlock()
		}
	}
}

// Held tells whether Hold(prefix) is in effect.
func (m *Manager) Held(prefix string) bool {
	m.dirtyMu.Lock()
	defer m.dirtyMu.Unlock()
	return m.held[prefix]
}

// isHeld tells whether a scope is held; dirtyMu is held.
func (m *Manager) isHeld(id string) bool {
	for p := range m.held {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// Store returns the store the Manager writes to.
func (m *Manager) Store() store.KV { return m.kv }

// read loads a scope's keys from the store.
func (m *Manager) read(id string) (map[string]*slot, error) {
	slots := map[string]*slot{}
	prefix := id + sep
	err := m.kv.Scan(Bucket, prefix, func(key string, value []byte) error {
		k, n, v, err := decode(value)
		if err != nil {
			return fmt.Errorf("key %q: %w", strings.TrimPrefix(key, prefix), err)
		}
		slots[strings.TrimPrefix(key, prefix)] = &slot{kind: k, n: n, v: v, stored: k}
		return nil
	})
	found := map[string]bool{}
	if err == nil {
		err = m.kv.Scan(CounterBucket, prefix, func(key string, value []byte) error {
			k := strings.TrimPrefix(key, prefix)
			sl := slots[k]
			if sl != nil && !sl.kind.isInt() {
				return nil // a key another engine is changing
			}
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil {
				return fmt.Errorf("counter %q: %w", k, err)
			}
			if sl == nil {
				// A counter without its kind: another engine added to
				// it after this one's scope had deleted the key. It is
				// an int, and the next write puts the kind back.
				sl = &slot{kind: kInt}
				slots[k] = sl
			}
			sl.n = n
			found[k] = true
			return nil
		})
	}
	for key, sl := range slots {
		if sl.kind.isInt() && !found[key] && sl.n != 0 {
			// Written before counters had their own bucket: the next
			// write moves the number there.
			sl.set = true
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load state %q: %w", id, err)
	}
	return slots, nil
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
	for _, b := range []string{Bucket, CounterBucket} {
		if err := m.kv.DeletePrefix(b, prefix); err != nil {
			return fmt.Errorf("delete state %q: %w", prefix, err)
		}
	}
	return nil
}

// Prune removes the scopes whose ids start with prefix but are not in
// keep, in memory and in the store: what a rule no longer uses after an
// update.
func (m *Manager) Prune(prefix string, keep []string) error {
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := map[string]bool{}
	for _, id := range keep {
		kept[id] = true
	}
	gone := map[string]bool{}
	for id, s := range m.scopes {
		if strings.HasPrefix(id, prefix) && !kept[id] {
			s.drop()
			delete(m.scopes, id)
			m.dirtyMu.Lock()
			delete(m.dirty, s)
			m.dirtyMu.Unlock()
			gone[id] = true
		}
	}
	for _, b := range []string{Bucket, CounterBucket} {
		err := m.kv.Scan(b, prefix, func(key string, _ []byte) error {
			if id, _, ok := strings.Cut(key, sep); ok && !kept[id] {
				gone[id] = true
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("prune state %q: %w", prefix, err)
		}
	}
	for id := range gone {
		for _, b := range []string{Bucket, CounterBucket} {
			if err := m.kv.DeletePrefix(b, id+sep); err != nil {
				return fmt.Errorf("prune state %q: %w", id, err)
			}
		}
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
