package store

import (
	"path/filepath"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kgen-dev/kgen/internal/testutil/redistest"
)

func TestConfigYAML(t *testing.T) {
	var c struct {
		Store Config `yaml:"store"`
	}
	in := `
store:
  type: redis
  redis:
    addr: 10.0.0.1:6380
    username: kgen
    password: secret
    db: 2
    prefix: plant1
    dialTimeout: 2s
`
	check(t, yaml.Unmarshal([]byte(in), &c))
	want := Config{Type: "redis", Redis: RedisOptions{
		Addr: "10.0.0.1:6380", Username: "kgen", Password: "secret", DB: 2, Prefix: "plant1", DialTimeout: 2 * time.Second,
	}}
	if c.Store != want {
		t.Fatalf("config = %+v, want %+v", c.Store, want)
	}
}

func TestOpenState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	for _, typ := range []string{"", "bolt"} {
		kv, err := OpenState(Config{Type: typ}, path)
		check(t, err)
		if _, ok := kv.(*Bolt); !ok {
			t.Fatalf("type %q opened a %T", typ, kv)
		}
		check(t, kv.Close())
	}

	srv := redistest.Start(t)
	kv, err := OpenState(Config{Type: "redis", Redis: RedisOptions{Addr: srv.Addr()}}, path)
	check(t, err)
	defer kv.Close()
	if _, ok := kv.(*Redis); !ok {
		t.Fatalf("type redis opened a %T", kv)
	}

	kv, err = OpenState(Config{Type: "etcd"}, path)
	want := `store type "etcd": want "bolt" or "redis"`
	if kv != nil || err == nil || err.Error() != want {
		t.Fatalf("unknown type = %v, %v; want %s", kv, err, want)
	}
	// A failed open returns a nil KV, not a nil *Bolt inside one.
	kv, err = OpenState(Config{}, filepath.Join(path, "sub", "x.db"))
	if kv != nil || err == nil {
		t.Fatalf("open under a file = %v, %v", kv, err)
	}
}
