// Package store is the engine's durable key-value storage: streams, rules
// and extension state are kept in named buckets of byte values.
//
// KV is the contract every backend implements; Bolt keeps the data in one
// embedded bbolt file and Mem keeps it in memory (for tests).
package store

import "errors"

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
	// DeletePrefix removes every key of bucket starting with prefix.
	DeletePrefix(bucket, prefix string) error
	// Close releases the store. Calling it again is not an error; any
	// other call after Close fails with ErrClosed.
	Close() error
}

var (
	// ErrLocked is returned by OpenBolt when another process holds the file.
	ErrLocked = errors.New("locked by another process")
	// ErrClosed is returned by calls on a closed store.
	ErrClosed = errors.New("store closed")
)

var (
	errNoBucket = errors.New("empty bucket name")
	errNoKey    = errors.New("empty key")
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
