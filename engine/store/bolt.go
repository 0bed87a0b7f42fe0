package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// lockTimeout is how long OpenBolt waits for the file lock; tests shorten it.
var lockTimeout = 2 * time.Second

// Bolt is a KV in one bbolt file. The file is locked while open, so only one
// engine can use a root folder at a time.
type Bolt struct {
	db   *bolt.DB
	path string
}

var _ KV = (*Bolt)(nil)

// OpenBolt opens or creates the store file at path, creating its parent
// folders. It fails within a few seconds with ErrLocked when another
// process has the file open.
func OpenBolt(path string) (*Bolt, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %q: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	return &Bolt{db: db, path: path}, nil
}

func (b *Bolt) Get(bucket, key string) ([]byte, bool, error) {
	if err := checkKey(bucket, key); err != nil {
		return nil, false, keyErr("get", bucket, key, err)
	}
	var (
		val   []byte
		found bool
	)
	err := b.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(bucket))
		if bk == nil {
			return nil
		}
		// A cursor tells an empty value from a missing key, which
		// Bucket.Get does not.
		k, v := bk.Cursor().Seek([]byte(key))
		if k != nil && string(k) == key {
			val = append([]byte{}, v...)
			found = true
		}
		return nil
	})
	if err != nil {
		return nil, false, keyErr("get", bucket, key, err)
	}
	return val, found, nil
}

func (b *Bolt) Put(bucket, key string, value []byte) error {
	if err := checkKey(bucket, key); err != nil {
		return keyErr("put", bucket, key, err)
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		return bk.Put([]byte(key), value)
	})
	return keyErr("put", bucket, key, err)
}

func (b *Bolt) Delete(bucket, key string) error {
	if err := checkKey(bucket, key); err != nil {
		return keyErr("delete", bucket, key, err)
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(bucket))
		if bk == nil {
			return nil
		}
		return bk.Delete([]byte(key))
	})
	return keyErr("delete", bucket, key, err)
}

func (b *Bolt) Keys(bucket string) ([]string, error) {
	var keys []string
	err := b.scan("list keys of", bucket, "", func(key string, _ []byte) error {
		keys = append(keys, key)
		return nil
	})
	return keys, err
}

func (b *Bolt) Scan(bucket, prefix string, fn func(key string, value []byte) error) error {
	return b.scan("scan", bucket, prefix, fn)
}

func (b *Bolt) scan(op, bucket, prefix string, fn func(key string, value []byte) error) error {
	if bucket == "" {
		return bucketErr(op, bucket, errNoBucket)
	}
	var fnErr error
	err := b.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(bucket))
		if bk == nil {
			return nil
		}
		p := []byte(prefix)
		c := bk.Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if fnErr = fn(string(k), v); fnErr != nil {
				return fnErr
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr // the caller's own error, unwrapped
	}
	return bucketErr(op, bucket, err)
}

func (b *Bolt) Apply(bucket string, puts map[string][]byte) error {
	if bucket == "" {
		return bucketErr("apply to", bucket, errNoBucket)
	}
	if _, ok := puts[""]; ok {
		return bucketErr("apply to", bucket, errNoKey)
	}
	if len(puts) == 0 {
		return nil
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		for k, v := range puts {
			if v == nil {
				err = bk.Delete([]byte(k))
			} else {
				err = bk.Put([]byte(k), v)
			}
			if err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
		}
		return nil
	})
	return bucketErr("apply to", bucket, err)
}

func (b *Bolt) DeletePrefix(bucket, prefix string) error {
	op := fmt.Sprintf("delete prefix %q from", prefix)
	if bucket == "" {
		return bucketErr(op, bucket, errNoBucket)
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(bucket))
		if bk == nil {
			return nil
		}
		// Collect first: deleting under a moving cursor can skip keys.
		var doomed [][]byte
		p := []byte(prefix)
		c := bk.Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			doomed = append(doomed, k)
		}
		for _, k := range doomed {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return bucketErr(op, bucket, err)
}

// Close closes the file and releases its lock.
func (b *Bolt) Close() error {
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("close store %q: %w", b.path, err)
	}
	return nil
}

// keyErr wraps err as `put "k" in bucket "b": …`; nil stays nil.
func keyErr(op, bucket, key string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %q in bucket %q: %w", op, key, bucket, closedErr(err))
}

// bucketErr wraps err as `scan bucket "b": …`; nil stays nil.
func bucketErr(op, bucket string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s bucket %q: %w", op, bucket, closedErr(err))
}

func closedErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}
