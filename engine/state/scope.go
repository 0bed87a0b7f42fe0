package state

import (
	"fmt"
	"math"
	"strings"
	"sync"
)

// Scope is the state of one extension instance: the sdk.Context state
// methods. It is safe for concurrent use.
type Scope struct {
	m  *Manager
	id string

	mu      sync.Mutex
	loaded  bool
	deleted bool // removed by DeleteScopes: no longer persisted
	slots   map[string]*slot
	dirty   []string // keys to write at the next flush, each once
}

// slot is one key's value. Integers (counters) live unboxed in n so
// IncrCounter does not allocate.
type slot struct {
	kind  kind
	dirty bool  // the key is in Scope.dirty
	n     int64 // integer kinds; unsigned kinds keep their bits
	v     any   // kValue: a private copy, replaced but never modified
}

// entry is a copy of a dirty slot taken for a flush.
type entry struct {
	key  string
	kind kind
	n    int64
	v    any
}

// ID returns the scope id.
func (s *Scope) ID() string { return s.id }

// PutState stores v under key, replacing what was there. See the package
// documentation for the types it accepts.
func (s *Scope) PutState(key string, v any) error {
	k, n, isInt := intOf(v)
	if !isInt {
		var err error
		if v, err = clone(v); err != nil {
			return fmt.Errorf("state %q: %w", key, err)
		}
		k = kValue
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return err
	}
	sl := s.slot(key)
	sl.kind, sl.n, sl.v = k, n, v
	s.touch(key, sl)
	return nil
}

// GetState returns the value under key, or (nil, nil) when there is none.
// Maps, slices and byte slices are copies.
func (s *Scope) GetState(key string) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return nil, err
	}
	sl := s.slots[key]
	switch {
	case sl == nil || sl.kind == kDeleted:
		return nil, nil
	case sl.kind.isInt():
		return intValue(sl.kind, sl.n), nil
	}
	return clone(sl.v) // cannot fail: the value was cloned before
}

// IncrCounter adds amount to the counter under key, starting from an int 0.
// It fails when key holds a value that is not an integer, or when the sum
// leaves the range of the integer's kind.
func (s *Scope) IncrCounter(key string, amount int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return err
	}
	sl := s.slots[key]
	if sl == nil || sl.kind == kDeleted {
		sl = s.slot(key)
		sl.kind, sl.n, sl.v = kInt, 0, nil
	}
	if !sl.kind.isInt() {
		return s.notCounter(key, sl)
	}
	n, ok := add(sl.kind, sl.n, amount)
	if !ok {
		return fmt.Errorf("state %q: adding %d overflows %s counter %v", key, amount, intKindNames[sl.kind], intValue(sl.kind, sl.n))
	}
	sl.n = n
	s.touch(key, sl)
	return nil
}

// GetCounter returns the counter under key as an int, or (0, nil) when
// there is none. It fails when key holds a value that is not an integer,
// or one too large for an int.
func (s *Scope) GetCounter(key string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return 0, err
	}
	sl := s.slots[key]
	switch {
	case sl == nil || sl.kind == kDeleted:
		return 0, nil
	case !sl.kind.isInt():
		return 0, s.notCounter(key, sl)
	case sl.kind.signed() || uint64(sl.n) <= math.MaxInt:
		return int(sl.n), nil
	}
	return 0, fmt.Errorf("state %q: counter %v overflows int", key, intValue(sl.kind, sl.n))
}

// DeleteState removes key; removing a missing key is not an error.
func (s *Scope) DeleteState(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return err
	}
	sl := s.slots[key]
	if sl == nil || sl.kind == kDeleted {
		return nil
	}
	// The slot stays as a tombstone until the flush deletes the key.
	sl.kind, sl.n, sl.v = kDeleted, 0, nil
	s.touch(key, sl)
	return nil
}

func (s *Scope) notCounter(key string, sl *slot) error {
	return fmt.Errorf("state %q: holds %s, not a counter", key, typeName(sl.kind, sl.v))
}

// load reads the scope's keys from the store on first use. s.mu is held.
func (s *Scope) load() error {
	if s.loaded {
		return nil
	}
	slots := map[string]*slot{}
	prefix := s.id + sep
	err := s.m.kv.Scan(Bucket, prefix, func(key string, value []byte) error {
		k, n, v, err := decode(value)
		if err != nil {
			return fmt.Errorf("key %q: %w", strings.TrimPrefix(key, prefix), err)
		}
		slots[strings.TrimPrefix(key, prefix)] = &slot{kind: k, n: n, v: v}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load state %q: %w", s.id, err)
	}
	s.slots, s.loaded = slots, true
	return nil
}

// slot returns the slot of key, adding an empty one. s.mu is held.
func (s *Scope) slot(key string) *slot {
	sl := s.slots[key]
	if sl == nil {
		sl = &slot{}
		s.slots[key] = sl
	}
	return sl
}

// touch queues key for the next flush. s.mu is held.
func (s *Scope) touch(key string, sl *slot) {
	if sl.dirty || s.deleted {
		return
	}
	sl.dirty = true
	s.dirty = append(s.dirty, key)
	if len(s.dirty) == 1 {
		s.m.markDirty(s)
	}
}

// takeDirty copies the queued keys for a flush and empties the queue.
func (s *Scope) takeDirty() []entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleted {
		return nil
	}
	es := make([]entry, 0, len(s.dirty))
	for _, key := range s.dirty {
		e := entry{key: key}
		if sl := s.slots[key]; sl != nil {
			sl.dirty = false
			e.kind, e.n, e.v = sl.kind, sl.n, sl.v
			if sl.kind == kDeleted {
				delete(s.slots, key) // the flush deletes it on disk
			}
		}
		es = append(es, e)
	}
	s.dirty = nil
	return es
}

// redirty queues the keys of a failed flush again.
func (s *Scope) redirty(es []entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleted {
		return
	}
	for _, e := range es {
		sl := s.slots[e.key]
		if sl == nil {
			sl = &slot{kind: kDeleted}
			s.slots[e.key] = sl
		}
		s.touch(e.key, sl)
	}
}

// drop empties a scope removed by DeleteScopes.
func (s *Scope) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted, s.loaded = true, true
	s.slots = map[string]*slot{}
	s.dirty = nil
}
