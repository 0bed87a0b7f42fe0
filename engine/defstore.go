package engine

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/kgen-dev/kgen/engine/store"
	"github.com/kgen-dev/kgen/internal/layout"
)

// goodCopy is where the last good copy of the definitions store is kept:
// written after the store opened and checked whole, and at Close.
func goodCopy(l layout.Root) string { return l.StoreFile() + ".good" }

// openDefinitions opens data/kgen.db, the streams and rules. A damaged
// file (truncated, scribbled, or emptied while a good copy exists) does
// not brick the engine: it is moved aside, the last good copy takes its
// place when there is one (else the engine starts with no streams and
// rules), and damaged says what happened, for the log and the REST API.
func openDefinitions(l layout.Root, logger *slog.Logger) (kv *store.Bolt, damaged error, err error) {
	path, good := l.StoreFile(), goodCopy(l)
	err = emptied(path, good)
	if err == nil {
		kv, err = store.OpenBolt(path)
	}
	if err == nil || !errors.Is(err, store.ErrCorrupt) {
		if err == nil {
			if berr := kv.Backup(good); berr != nil {
				logger.Warn("the definitions store could not be copied; a damaged one will have no copy to start from", "err", berr)
			}
		}
		return kv, nil, err
	}
	aside := fmt.Sprintf("%s.damaged-%s", path, time.Now().UTC().Format("20060102T150405Z"))
	if rerr := os.Rename(path, aside); rerr != nil {
		return nil, nil, fmt.Errorf("%w; moving it aside: %v", err, rerr)
	}
	from := "no good copy: the engine starts with no streams and rules"
	if _, serr := os.Stat(good); serr == nil {
		if cerr := copyFile(good, path); cerr != nil {
			return nil, nil, fmt.Errorf("%w; restoring the good copy %s: %v", err, good, cerr)
		}
		from = "the engine starts from the last good copy, " + good
	}
	damaged = fmt.Errorf("the definitions store was damaged (%v); it was moved to %s and %s", err, aside, from)
	logger.Error("DEFINITIONS STORE DAMAGED", "err", damaged)
	kv, err = store.OpenBolt(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%v; then: %w", damaged, err)
	}
	return kv, damaged, nil
}

// emptied is ErrCorrupt when the store file is there but empty while a
// good copy exists: bbolt would start it afresh, silently losing every
// stream and rule.
func emptied(path, good string) error {
	st, err := os.Stat(path)
	if err != nil || st.Size() != 0 {
		return nil
	}
	if _, err := os.Stat(good); err != nil {
		return nil
	}
	return fmt.Errorf("open store %q: %w: the file is empty", path, store.ErrCorrupt)
}

// copyFile copies from to to, replacing it.
func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
