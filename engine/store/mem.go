package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Mem is a KV in memory, for tests. Its zero value is not usable; call
// NewMem.
type Mem struct {
	mu      sync.RWMutex
	buckets map[string]map[string][]byte // nil once closed
}

var _ KV = (*Mem)(nil)

// NewMem returns an empty in-memory store.
func NewMem() *Mem {
	return &Mem{buckets: map[string]map[string][]byte{}}
}

func (m *Mem) Get(bucket, key string) ([]byte, bool, error) {
	if err := checkKey(bucket, key); err != nil {
		return nil, false, keyErr("get", bucket, key, err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.buckets == nil {
		return nil, false, keyErr("get", bucket, key, ErrClosed)
	}
	v, ok := m.buckets[bucket][key]
	if !ok {
		return nil, false, nil
	}
	return append([]byte{}, v...), true, nil
}

func (m *Mem) Put(bucket, key string, value []byte) error {
	if err := checkKey(bucket, key); err != nil {
		return keyErr("put", bucket, key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buckets == nil {
		return keyErr("put", bucket, key, ErrClosed)
	}
	m.bucket(bucket)[key] = append([]byte{}, value...)
	return nil
}

func (m *Mem) Delete(bucket, key string) error {
	if err := checkKey(bucket, key); err != nil {
		return keyErr("delete", bucket, key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buckets == nil {
		return keyErr("delete", bucket, key, ErrClosed)
	}
	delete(m.buckets[bucket], key)
	return nil
}

func (m *Mem) Keys(bucket string) ([]string, error) {
	if bucket == "" {
		return nil, bucketErr("list keys of", bucket, errNoBucket)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.buckets == nil {
		return nil, bucketErr("list keys of", bucket, ErrClosed)
	}
	return m.sortedKeys(bucket, ""), nil
}

func (m *Mem) Scan(bucket, prefix string, fn func(key string, value []byte) error) error {
	if bucket == "" {
		return bucketErr("scan", bucket, errNoBucket)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.buckets == nil {
		return bucketErr("scan", bucket, ErrClosed)
	}
	b := m.buckets[bucket]
	for _, k := range m.sortedKeys(bucket, prefix) {
		if err := fn(k, b[k]); err != nil {
			return err
		}
	}
	return nil
}

func (m *Mem) Apply(bucket string, puts map[string][]byte) error {
	if err := checkApply(bucket, puts); err != nil {
		return err
	}
	_, err := m.commit(putOps(bucket, puts), nil)
	return bucketErr("apply to", bucket, err)
}

func (m *Mem) Commit(w Write) (map[string]map[string]int64, error) {
	puts, adds, err := flatten(w)
	if err != nil {
		return nil, err
	}
	sums, err := m.commit(puts, adds)
	if err != nil {
		return nil, commitErr(err)
	}
	return totals(adds, sums), nil
}

// commit checks every add before it writes anything, so a failing one
// leaves the store as it was.
func (m *Mem) commit(puts []putOp, adds []addOp) ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buckets == nil {
		return nil, ErrClosed
	}
	sums := make([]int64, len(adds))
	for i, a := range adds {
		// The value the add sees is the one the puts leave.
		v, ok := m.buckets[a.bucket][a.key]
		if j, put := slices.BinarySearchFunc(puts, a, cmpPutAdd); put {
			v, ok = puts[j].value, puts[j].value != nil
		}
		sum, err := a.add(v, ok)
		if err != nil {
			return nil, err
		}
		sums[i] = sum
	}
	for _, p := range puts {
		if p.value == nil {
			delete(m.buckets[p.bucket], p.key)
		} else {
			m.bucket(p.bucket)[p.key] = append([]byte{}, p.value...)
		}
	}
	for i, a := range adds {
		m.bucket(a.bucket)[a.key] = strconv.AppendInt(nil, sums[i], 10)
	}
	return sums, nil
}

func (m *Mem) DeletePrefix(bucket, prefix string) error {
	op := fmt.Sprintf("delete prefix %q from", prefix)
	if bucket == "" {
		return bucketErr(op, bucket, errNoBucket)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buckets == nil {
		return bucketErr(op, bucket, ErrClosed)
	}
	b := m.buckets[bucket]
	for k := range b {
		if strings.HasPrefix(k, prefix) {
			delete(b, k)
		}
	}
	return nil
}

// Close drops the data.
func (m *Mem) Close() error {
	m.mu.Lock()
	m.buckets = nil
	m.mu.Unlock()
	return nil
}

func (m *Mem) bucket(name string) map[string][]byte {
	b := m.buckets[name]
	if b == nil {
		b = map[string][]byte{}
		m.buckets[name] = b
	}
	return b
}

func (m *Mem) sortedKeys(bucket, prefix string) []string {
	var keys []string
	for k := range m.buckets[bucket] {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
