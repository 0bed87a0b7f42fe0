package store

import "fmt"

// Config is the `store:` section of etc/kgen.yaml:
//
//	store:
//	  type: redis
//	  redis:
//	    addr: 127.0.0.1:6379
//	    prefix: kgen
//	    dialTimeout: 2s
type Config struct {
	Type  string       `yaml:"type"`  // "bolt" (default when empty) or "redis"
	Redis RedisOptions `yaml:"redis"` // the server, when Type is "redis"
}

// OpenState opens the store for extension state and checkpoints: for
// "bolt", the file path given; for "redis", the server in c.Redis. An
// unknown type is an error naming it and the valid ones.
func OpenState(c Config, boltPath string) (KV, error) {
	switch c.Type {
	case "", "bolt":
		b, err := OpenBolt(boltPath)
		if err != nil {
			return nil, err // not a typed nil in a KV
		}
		return b, nil
	case "redis":
		r, err := OpenRedis(c.Redis)
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	return nil, fmt.Errorf("store type %q: want %q or %q", c.Type, "bolt", "redis")
}
