package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/kgen-dev/kgen/internal/atomicfile"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// lockTimeout is how long OpenBolt waits for the file lock; tests shorten it.
var lockTimeout = 2 * time.Second

// Bolt is a KV in one bbolt file. The file is locked while open, so only one
// engine can use a root folder at a time.
//
// bbolt reads the file through a memory mapping, where a page past the end
// of a truncated file faults (SIGBUS) instead of failing a read, and a
// garbled page trips a panic inside bbolt. OpenBolt checks the file before
// it is used, and every call runs with faults turned into panics that are
// recovered: a damaged file is an error wrapping ErrCorrupt, never a crash.
type Bolt struct {
	db   *bolt.DB
	path string
}

var _ KV = (*Bolt)(nil)

// OpenBolt opens or creates the store file at path, creating its parent
// folders. It fails within a few seconds with ErrLocked when another
// process has the file open, and with ErrCorrupt when the file is damaged.
func OpenBolt(path string) (*Bolt, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	if err := checkFile(path); err != nil {
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	var file *os.File
	opts := &bolt.Options{
		Timeout: lockTimeout,
		// Keep the file, to close it (and release its lock) if bbolt panics
		// while opening it and so never returns it.
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	}
	var db *bolt.DB
	err := guard("", func() (err error) {
		db, err = bolt.Open(path, 0o600, opts)
		return err
	})
	if errors.Is(err, ErrCorrupt) && file != nil {
		// Only the file: the mapping bbolt may have made stays until exit.
		file.Close()
	}
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %q: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	b := &Bolt{db: db, path: path}
	if err := guard("", b.verify); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	return b, nil
}

// Backup writes a consistent copy of the store to path, all or nothing
// (a crash leaves the previous copy): for a small store such as the
// engine's definitions.
func (b *Bolt) Backup(path string) error {
	var buf bytes.Buffer
	if err := b.db.View(func(tx *bolt.Tx) error { _, err := tx.WriteTo(&buf); return err }); err != nil {
		return fmt.Errorf("back up store %q: %w", b.path, err)
	}
	if err := atomicfile.Write(path, buf.Bytes()); err != nil {
		return fmt.Errorf("back up store %q: %w", b.path, err)
	}
	return nil
}

// verify reads the whole database once, the way calls will: every bucket,
// key and value, checking that keys are in order. A fault or panic on a bad
// page surfaces here, at open, instead of in the middle of a rule. It reads
// each page once, so it costs about one sequential read of the file.
//
// It does not use bbolt's Tx.Check: that runs in a goroutine of its own,
// where debug.SetPanicOnFault does not reach, so a fault in it would still
// kill the process.
func (b *Bolt) verify() error {
	st, err := os.Stat(b.path)
	if err != nil {
		return err
	}
	return b.db.View(func(tx *bolt.Tx) error {
		if tx.Size() > st.Size() {
			return fmt.Errorf("%w: %d bytes, its meta page counts %d", ErrCorrupt, st.Size(), tx.Size())
		}
		var sink byte
		return walk(tx.Cursor(), tx.Bucket, nil, &sink)
	})
}

// walk reads every key and value under c, and the nested buckets that
// bucket opens, reporting keys out of order as ErrCorrupt. sink takes a byte
// of every key and value so that the reads are not optimised away.
func walk(c *bolt.Cursor, bucket func([]byte) *bolt.Bucket, path []string, sink *byte) error {
	var prev []byte
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) == 0 {
			return fmt.Errorf("%w: bucket %q: empty key", ErrCorrupt, strings.Join(path, "/"))
		}
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			return fmt.Errorf("%w: bucket %q: key %q after %q", ErrCorrupt, strings.Join(path, "/"), k, prev)
		}
		prev = k
		*sink ^= k[0] ^ k[len(k)-1]
		if len(v) > 0 {
			*sink ^= v[0] ^ v[len(v)-1]
		}
		if v != nil {
			continue
		}
		if nested := bucket(k); nested != nil {
			if err := walk(nested.Cursor(), nested.Bucket, append(path, string(k)), sink); err != nil {
				return err
			}
		}
	}
	return nil
}

// guard runs fn with memory faults turned into panics, and turns a panic
// in fn (from bbolt reading a damaged file) into an error wrapping
// ErrCorrupt that names path, if given. A panic in a caller's Scan function
// is passed on.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if p, ok := r.(callerPanic); ok {
				panic(p.v)
			}
			if path != "" {
				err = fmt.Errorf("%w %q: %v", ErrCorrupt, path, r)
			} else {
				err = fmt.Errorf("%w: %v", ErrCorrupt, r)
			}
		}
	}()
	return fn()
}

// callerPanic carries a panic of a caller's function through guard.
type callerPanic struct{ v any }

func (b *Bolt) view(fn func(tx *bolt.Tx) error) error {
	return guard(b.path, func() error { return b.db.View(fn) })
}

func (b *Bolt) update(fn func(tx *bolt.Tx) error) error {
	return guard(b.path, func() error { return b.db.Update(fn) })
}

func (b *Bolt) Get(bucket, key string) ([]byte, bool, error) {
	if err := checkKey(bucket, key); err != nil {
		return nil, false, keyErr("get", bucket, key, err)
	}
	var (
		val   []byte
		found bool
	)
	err := b.view(func(tx *bolt.Tx) error {
		val, found = get(tx.Bucket([]byte(bucket)), key)
		if found {
			val = append([]byte{}, val...)
		}
		return nil
	})
	if err != nil {
		return nil, false, keyErr("get", bucket, key, err)
	}
	return val, found, nil
}

// get returns the value under key in bk (nil for a missing bucket), valid
// for the transaction. A cursor tells an empty value from a missing key,
// which Bucket.Get does not.
func get(bk *bolt.Bucket, key string) ([]byte, bool) {
	if bk == nil {
		return nil, false
	}
	k, v := bk.Cursor().Seek([]byte(key))
	if k == nil || string(k) != key {
		return nil, false
	}
	return v, true
}

func (b *Bolt) Put(bucket, key string, value []byte) error {
	if err := checkKey(bucket, key); err != nil {
		return keyErr("put", bucket, key, err)
	}
	err := b.update(func(tx *bolt.Tx) error {
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
	err := b.update(func(tx *bolt.Tx) error {
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
	err := b.view(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(bucket))
		if bk == nil {
			return nil
		}
		p := []byte(prefix)
		c := bk.Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if fnErr = callFn(fn, string(k), v); fnErr != nil {
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

// callFn calls a caller's Scan function, marking its panic as the caller's.
func callFn(fn func(key string, value []byte) error, k string, v []byte) error {
	defer func() {
		if r := recover(); r != nil {
			panic(callerPanic{r})
		}
	}()
	return fn(k, v)
}

func (b *Bolt) Apply(bucket string, puts map[string][]byte) error {
	if err := checkApply(bucket, puts); err != nil {
		return err
	}
	if len(puts) == 0 {
		return nil
	}
	_, err := b.commit(putOps(bucket, puts), nil)
	return bucketErr("apply to", bucket, err)
}

func (b *Bolt) Commit(w Write) (map[string]map[string]int64, error) {
	puts, adds, err := flatten(w)
	if err != nil {
		return nil, err
	}
	if len(puts) == 0 && len(adds) == 0 {
		// Nothing to write, and no transaction to sync: only say if closed.
		return nil, commitErr(closedErr(b.view(func(*bolt.Tx) error { return nil })))
	}
	sums, err := b.commit(puts, adds)
	if err != nil {
		return nil, commitErr(closedErr(err))
	}
	return totals(adds, sums), nil
}

// commit writes puts, then adds, in one transaction, which a failing add
// rolls back.
func (b *Bolt) commit(puts []putOp, adds []addOp) ([]int64, error) {
	sums := make([]int64, len(adds))
	err := b.update(func(tx *bolt.Tx) error {
		var (
			bk   *bolt.Bucket
			name string
		)
		// puts and adds are sorted by bucket, so each bucket is looked up once.
		open := func(bucket string) error {
			if bk != nil && name == bucket {
				return nil
			}
			var err error
			bk, err = tx.CreateBucketIfNotExists([]byte(bucket))
			name = bucket
			return err
		}
		for _, p := range puts {
			if err := open(p.bucket); err != nil {
				return err
			}
			var err error
			if p.value == nil {
				err = bk.Delete([]byte(p.key))
			} else {
				err = bk.Put([]byte(p.key), p.value)
			}
			if err != nil {
				return fmt.Errorf("key %q in bucket %q: %w", p.key, p.bucket, err)
			}
		}
		for i, a := range adds {
			if err := open(a.bucket); err != nil {
				return err
			}
			sum, err := a.add(get(bk, a.key))
			if err != nil {
				return err
			}
			sums[i] = sum
			if err := bk.Put([]byte(a.key), strconv.AppendInt(nil, sum, 10)); err != nil {
				return fmt.Errorf("key %q in bucket %q: %w", a.key, a.bucket, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sums, nil
}

func (b *Bolt) DeletePrefix(bucket, prefix string) error {
	op := fmt.Sprintf("delete prefix %q from", prefix)
	if bucket == "" {
		return bucketErr(op, bucket, errNoBucket)
	}
	err := b.update(func(tx *bolt.Tx) error {
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
