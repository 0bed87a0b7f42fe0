package state

import (
	"fmt"
	"math"
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
	// An integer is written as what IncrCounter added since the last
	// write (delta), so that engines sharing a store add up, unless it
	// was set (set: PutState, or a kind change), which writes n.
	delta int64
	set   bool
	// stored is the kind the store holds under the key (kDeleted: none),
	// so that a write puts an integer's kind marker, or deletes its
	// counter, only when the kind changes.
	stored kind
}

// entry is a copy of a dirty slot taken for a flush.
type entry struct {
	key    string
	kind   kind
	n      int64
	v      any
	delta  int64
	set    bool
	stored kind
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
	sl.delta, sl.set = 0, true
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
		// A new counter adds to what the store has (another engine's
		// increments); one that replaces a deleted key is set, so the
		// deletion is not lost.
		set := sl != nil
		sl = s.slot(key)
		sl.kind, sl.n, sl.v = kInt, 0, nil
		sl.delta, sl.set = 0, set
	}
	if !sl.kind.isInt() {
		return s.notCounter(key, sl)
	}
	n, ok := add(sl.kind, sl.n, amount)
	if !ok {
		return fmt.Errorf("state %q: adding %d overflows %s counter %v", key, amount, intKindNames[sl.kind], intValue(sl.kind, sl.n))
	}
	sl.n = n
	sl.delta += int64(amount)
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
	sl.delta, sl.set = 0, true
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
	slots, err := s.m.read(s.id)
	if err != nil {
		return err
	}
	s.slots, s.loaded = slots, true
	for key, sl := range slots {
		if sl.set {
			s.touch(key, sl)
		}
	}
	return nil
}

// Load reads the scope's keys from the store unless it has already: the
// state methods do on first use, Load reports a failure at a chosen time.
func (s *Scope) Load() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load()
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
			e.kind, e.n, e.v, e.delta, e.set, e.stored = sl.kind, sl.n, sl.v, sl.delta, sl.set, sl.stored
			sl.delta, sl.set = 0, false
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
			sl = &slot{kind: kDeleted, set: true}
			s.slots[e.key] = sl
		}
		// The store still holds what it held before the failed write.
		sl.stored = e.stored
		// What was not written is written next time: a value set
		// since stands; else the increments add up.
		switch {
		case sl.set:
		case e.set || e.kind != sl.kind:
			sl.set = true
		default:
			sl.delta += e.delta
		}
		s.touch(e.key, sl)
	}
}

// settle notes what a write stored, and takes the totals it returned for
// the counters it added to: each becomes the counter's value, plus what
// was added since.
func (s *Scope) settle(es []entry, totals map[string]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleted {
		return
	}
	for _, e := range es {
		sl := s.slots[e.key]
		if sl == nil {
			continue
		}
		sl.stored = e.kind
		total, ok := totals[s.id+sep+e.key]
		if !ok || sl.set || sl.kind != e.kind || !sl.kind.isInt() {
			continue
		}
		sl.n = total + sl.delta
	}
}

// Changes are the keys of one scope changed since the last checkpoint,
// taken by Capture; Manager.Commit writes them.
type Changes struct {
	s  *Scope
	es []entry
}

// Capture takes the keys changed since the last capture (or flush), for a
// checkpoint. After Capture they are no longer pending: Manager.Commit
// writes them, or Manager.Abandon makes them pending again.
func (s *Scope) Capture() Changes { return Changes{s: s, es: s.takeDirty()} }

// drop empties a scope removed by DeleteScopes.
func (s *Scope) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted, s.loaded = true, true
	s.slots = map[string]*slot{}
	s.dirty = nil
}
