package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/kgen-dev/kgen/engine/rule"
	"github.com/kgen-dev/kgen/engine/state"
	"github.com/kgen-dev/kgen/engine/store"
	"github.com/kgen-dev/kgen/internal/layout"
)

// openStateStore opens where extension state and checkpoints live: the
// embedded data/state.db or Redis. A damaged state.db does not stop the
// engine: it is moved aside, a new one is made, and damaged says what
// happened so that every rule reports it on its status.
func openStateStore(l layout.Root, c store.Config, definitions store.KV) (kv store.KV, damaged error, err error) {
	path := l.StateFile()
	_, statErr := os.Stat(path)
	fresh := errors.Is(statErr, os.ErrNotExist)
	kv, err = store.OpenState(c, path)
	if errors.Is(err, store.ErrCorrupt) {
		aside := fmt.Sprintf("%s.damaged-%s", path, time.Now().UTC().Format("20060102T150405Z"))
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, nil, fmt.Errorf("%w; moving it aside: %v", err, rerr)
		}
		damaged = fmt.Errorf("the state store was damaged (%v); it was moved to %s and the rules start without their saved state", err, aside)
		fresh = false
		kv, err = store.OpenState(c, path)
	}
	if err != nil {
		return nil, nil, err
	}
	if fresh && (c.Type == "" || c.Type == "bolt") {
		if err := migrateState(definitions, kv); err != nil {
			kv.Close()
			return nil, nil, err
		}
	}
	return kv, damaged, nil
}

// migrateState moves extension state that an older engine kept in
// data/kgen.db into the new state store.
func migrateState(from, to store.KV) error {
	puts := map[string][]byte{}
	err := from.Scan(state.Bucket, "", func(key string, value []byte) error {
		puts[key] = append([]byte(nil), value...)
		return nil
	})
	if err != nil || len(puts) == 0 {
		return err
	}
	if err := to.Apply(state.Bucket, puts); err != nil {
		return fmt.Errorf("move extension state to the state store: %w", err)
	}
	return from.DeletePrefix(state.Bucket, "")
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// instanceName is the engine's name among those sharing a state store.
func instanceName(conf *Config, root string) string {
	if conf.Name != "" {
		return conf.Name
	}
	if conf.Store.Type == "" || conf.Store.Type == "bolt" {
		return "local"
	}
	host, _ := os.Hostname()
	sum := sha256.Sum256([]byte(root))
	return unsafeID.ReplaceAllString(host, "_") + "-" + hex.EncodeToString(sum[:4])
}

// durableSourceProps gives an MQTT source in a rule that checkpoints a
// client id of its own that is the same at every start, so that the broker
// keeps its session, and with it the messages not yet acknowledged, while
// the engine is down.
func (e *Engine) durableSourceProps(typ, ruleID, stream string) map[string]any {
	if typ != "mqtt" {
		return nil
	}
	id := "kgen-" + e.env.Instance + "-" + ruleID + "-" + stream
	return map[string]any{"durableClientid": unsafeID.ReplaceAllString(id, "_")}
}

// dropCheckpoint removes this engine's checkpoint record of a rule.
func (e *Engine) dropCheckpoint(id string) error {
	return rule.DropCheckpoint(e.states.Store(), id, e.env.Instance)
}
