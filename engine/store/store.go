// Package store is the engine's durable key-value storage: streams, rules
// and extension state are kept in named buckets of byte values.
//
// KV is the contract every backend implements:
//
//   - Bolt keeps the data in one embedded bbolt file. Opening it checks the
//     file first, so a truncated or overwritten file is an error wrapping
//     ErrCorrupt rather than a crash.
//   - Redis keeps it on a Redis server, one hash per bucket: the hash
//     "<prefix>:<bucket>" (prefix "kgen" unless RedisOptions.Prefix says
//     otherwise) holds a field per key whose value is the stored bytes.
//     Several engines may share a server with different prefixes.
//   - Mem keeps it in memory, for tests.
//
// Commit writes across buckets atomically and keeps integer counters:
// an Add stores its total as base-10 text, the way strconv.FormatInt
// writes it, so a counter reads back with Get like any other value.
// OpenState opens the backend that the `store:` configuration names.
package store

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// KV is a bucketed key-value store. Buckets are created on first write;
// reading or deleting in a missing bucket is not an error. Keys and bucket
// names must not be empty. Implementations are safe for concurrent use and
// never retain or hand out a caller's byte slices: values passed in are
// copied, values returned are the caller's to keep.
type KV interface {
	// Get returns the value under key, and false when there is none.
	Get(bucket, key string) ([]byte, bool, error)
	// Put stores value under key, replacing what was there. A nil value
	// is stored as an empty one.
	Put(bucket, key string, value []byte) error
	// Delete removes key; removing a missing key is not an error.
	Delete(bucket, key string) error
	// Keys returns the sorted keys of a bucket (empty, not an error, when the
	// bucket doesn't exist).
	Keys(bucket string) ([]string, error)
	// Scan calls fn with each key of bucket that starts with prefix, in
	// sorted order; it stops at the first error fn returns and returns that
	// error as is. value is only valid during the call: fn must copy what
	// it keeps and must not call the store.
	Scan(bucket, prefix string, fn func(key string, value []byte) error) error
	// Apply writes puts atomically in one transaction: a nil value deletes
	// the key, any other value (even empty) is stored.
	Apply(bucket string, puts map[string][]byte) error
	// Commit applies w atomically: all of it or nothing. It returns the new
	// value of every key in w.Adds (bucket → key → total). An Add on a key
	// whose value is not base-10 integer text, or that overflows int64,
	// fails the whole Commit with an error naming bucket and key, and
	// nothing is written.
	Commit(w Write) (map[string]map[string]int64, error)
	// DeletePrefix removes every key of bucket starting with prefix.
	DeletePrefix(bucket, prefix string) error
	// Close releases the store. Calling it again is not an error; any
	// other call after Close fails with ErrClosed.
	Close() error
}

// Write is one atomic change across buckets.
type Write struct {
	// Puts maps bucket → key → value; a nil value deletes the key, any
	// other (even empty) stores it.
	Puts map[string]map[string][]byte
	// Adds maps bucket → key → an amount added to the integer stored under
	// the key as base-10 ASCII text (strconv.FormatInt); a missing key
	// counts as 0. Applied after Puts.
	Adds map[string]map[string]int64
}

var (
	// ErrLocked is returned by OpenBolt when another process holds the file.
	ErrLocked = errors.New("locked by another process")
	// ErrClosed is returned by calls on a closed store.
	ErrClosed = errors.New("store closed")
	// ErrCorrupt is returned by OpenBolt, and by calls on an open Bolt,
	// when the file is damaged: truncated, or overwritten with bytes that
	// are not a consistent bbolt database.
	ErrCorrupt = errors.New("damaged store file")
)

var (
	errNoBucket = errors.New("empty bucket name")
	errNoKey    = errors.New("empty key")
	errNotInt   = errors.New("value is not an integer")
	errOverflow = errors.New("total overflows int64")
)

func checkKey(bucket, key string) error {
	if bucket == "" {
		return errNoBucket
	}
	if key == "" {
		return errNoKey
	}
	return nil
}

// checkApply checks Apply's arguments the same way for every backend.
func checkApply(bucket string, puts map[string][]byte) error {
	if bucket == "" {
		return bucketErr("apply to", bucket, errNoBucket)
	}
	if _, ok := puts[""]; ok {
		return bucketErr("apply to", bucket, errNoKey)
	}
	return nil
}

// commitErr wraps a backend's error as `commit: …`; nil stays nil and a
// failed Add, which already names its bucket and key, stays as is.
func commitErr(err error) error {
	var ae *addError
	if err == nil || errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("commit: %w", err)
}

// putOp and addOp are the entries of a Write, checked and flattened.
type putOp struct {
	bucket, key string
	value       []byte // nil deletes
}

type addOp struct {
	bucket, key string
	n           int64
}

// flatten checks w's names and lists its entries sorted by bucket, then
// key, so that every backend applies a Write, and names its first failing
// Add, in the same order.
func flatten(w Write) ([]putOp, []addOp, error) {
	var np, na int
	for _, m := range w.Puts {
		np += len(m)
	}
	for _, m := range w.Adds {
		na += len(m)
	}
	puts := make([]putOp, 0, np)
	adds := make([]addOp, 0, na)
	for _, b := range slices.Sorted(maps.Keys(w.Puts)) {
		if b == "" {
			return nil, nil, bucketErr("commit to", b, errNoBucket)
		}
		for _, k := range slices.Sorted(maps.Keys(w.Puts[b])) {
			if k == "" {
				return nil, nil, keyErr("commit", b, k, errNoKey)
			}
			puts = append(puts, putOp{b, k, w.Puts[b][k]})
		}
	}
	for _, b := range slices.Sorted(maps.Keys(w.Adds)) {
		if b == "" {
			return nil, nil, bucketErr("commit to", b, errNoBucket)
		}
		for _, k := range slices.Sorted(maps.Keys(w.Adds[b])) {
			if k == "" {
				return nil, nil, keyErr("commit", b, k, errNoKey)
			}
			adds = append(adds, addOp{b, k, w.Adds[b][k]})
		}
	}
	return puts, adds, nil
}

// putOps flattens Apply's puts like flatten does a Write's.
func putOps(bucket string, puts map[string][]byte) []putOp {
	ops := make([]putOp, 0, len(puts))
	for _, k := range slices.Sorted(maps.Keys(puts)) {
		ops = append(ops, putOp{bucket, k, puts[k]})
	}
	return ops
}

// cmpPutAdd orders a put against an add the way flatten sorts them.
func cmpPutAdd(p putOp, a addOp) int {
	return cmp.Or(cmp.Compare(p.bucket, a.bucket), cmp.Compare(p.key, a.key))
}

// buckets returns the sorted names of the buckets puts and adds write to.
func buckets(puts []putOp, adds []addOp) []string {
	var names []string
	for _, p := range puts {
		names = append(names, p.bucket)
	}
	for _, a := range adds {
		names = append(names, a.bucket)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// add returns the counter text v (missing when !ok) plus a.n.
func (a addOp) add(v []byte, ok bool) (int64, error) {
	var cur int64
	if ok {
		var isInt bool
		if cur, isInt = parseCounter(v); !isInt {
			return 0, a.err(errNotInt)
		}
	}
	sum := cur + a.n
	if (a.n > 0 && sum < cur) || (a.n < 0 && sum > cur) {
		return 0, a.err(errOverflow)
	}
	return sum, nil
}

func (a addOp) err(err error) error {
	return &addError{bucket: a.bucket, key: a.key, n: a.n, err: err}
}

// addError is a failed Add: `add 5 to "k" in bucket "b": value is not an integer`.
type addError struct {
	bucket, key string
	n           int64
	err         error
}

func (e *addError) Error() string {
	return fmt.Sprintf("add %d to %q in bucket %q: %v", e.n, e.key, e.bucket, e.err)
}

func (e *addError) Unwrap() error { return e.err }

// parseCounter reads a counter: an int64 in base-10 text exactly as
// strconv.FormatInt writes it. Redis's HINCRBY, and the Redis backend's
// commit script, read counters the same way, so "+1", "01", "-0" and " 1"
// are not counters on any backend.
func parseCounter(v []byte) (int64, bool) {
	s := string(v)
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || digits[0] < '0' || digits[0] > '9' || digits[0] == '0' && len(s) > 1 {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// totals collects the results of adds into Commit's bucket → key → total.
func totals(adds []addOp, sums []int64) map[string]map[string]int64 {
	if len(adds) == 0 {
		return nil
	}
	out := map[string]map[string]int64{}
	for i, a := range adds {
		if out[a.bucket] == nil {
			out[a.bucket] = map[string]int64{}
		}
		out[a.bucket][a.key] = sums[i]
	}
	return out
}
