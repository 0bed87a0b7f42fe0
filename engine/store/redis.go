package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// RedisOptions say which Redis server keeps the data, and under which
// prefix. They are the `redis:` part of the store configuration.
type RedisOptions struct {
	// Addr is host:port; "localhost:6379" when empty.
	Addr     string `yaml:"addr"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// DB is the database number (SELECT).
	DB int `yaml:"db"`
	// Prefix starts the name of every hash the store uses; "kgen" when
	// empty. Engines sharing a server need different prefixes.
	Prefix string `yaml:"prefix"`
	// DialTimeout bounds connecting, and OpenRedis as a whole; 5s when zero.
	DialTimeout time.Duration `yaml:"dialTimeout"`
}

// Redis is a KV on a Redis server. Each bucket is one hash, named
// "<prefix>:<bucket>", with a field per key holding the value's bytes, so
// an operator can read the store with HGETALL kgen:streams. Writes that
// must be atomic (Apply, Commit, DeletePrefix) and Scan run as Lua
// scripts, which Redis runs without interleaving other commands.
type Redis struct {
	c      *redis.Client
	addr   string
	prefix string
	closed atomic.Bool
}

var _ KV = (*Redis)(nil)

// OpenRedis connects to the server in opts and checks that it answers,
// failing within opts.DialTimeout with an error naming the address.
func OpenRedis(opts RedisOptions) (*Redis, error) {
	if opts.Addr == "" {
		opts.Addr = "localhost:6379"
	}
	if opts.Prefix == "" {
		opts.Prefix = "kgen"
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	c := redis.NewClient(&redis.Options{
		Addr:        opts.Addr,
		Username:    opts.Username,
		Password:    opts.Password,
		DB:          opts.DB,
		DialTimeout: opts.DialTimeout,
		// Let the open's deadline bound dialing and its retries.
		ContextTimeoutEnabled: true,
		// A commit's adds are not idempotent: retrying a script whose reply
		// was lost could apply it twice.
		MaxRetries: -1,
		// CLIENT SETINFO and MAINT_NOTIFICATIONS only cost round trips on
		// servers that lack them, and a store needs neither.
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	ctx, cancel := context.WithTimeout(context.Background(), opts.DialTimeout)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("open redis store %q: %w", opts.Addr, err)
	}
	return &Redis{c: c, addr: opts.Addr, prefix: opts.Prefix}, nil
}

// hash returns the name of bucket's hash.
func (r *Redis) hash(bucket string) string { return r.prefix + ":" + bucket }

// err maps a go-redis error to the store's: ErrClosed once closed. It
// checks r's own flag first so a call racing with Close fails the same way.
func (r *Redis) err(err error) error {
	if err == nil {
		return nil
	}
	if r.closed.Load() || errors.Is(err, redis.ErrClosed) {
		return ErrClosed
	}
	return err
}

func (r *Redis) Get(bucket, key string) ([]byte, bool, error) {
	if err := checkKey(bucket, key); err != nil {
		return nil, false, keyErr("get", bucket, key, err)
	}
	if r.closed.Load() {
		return nil, false, keyErr("get", bucket, key, ErrClosed)
	}
	v, err := r.c.HGet(context.Background(), r.hash(bucket), key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, keyErr("get", bucket, key, r.err(err))
	}
	return v, true, nil
}

func (r *Redis) Put(bucket, key string, value []byte) error {
	if err := checkKey(bucket, key); err != nil {
		return keyErr("put", bucket, key, err)
	}
	if r.closed.Load() {
		return keyErr("put", bucket, key, ErrClosed)
	}
	if value == nil {
		value = []byte{}
	}
	err := r.c.HSet(context.Background(), r.hash(bucket), key, value).Err()
	return keyErr("put", bucket, key, r.err(err))
}

func (r *Redis) Delete(bucket, key string) error {
	if err := checkKey(bucket, key); err != nil {
		return keyErr("delete", bucket, key, err)
	}
	if r.closed.Load() {
		return keyErr("delete", bucket, key, ErrClosed)
	}
	err := r.c.HDel(context.Background(), r.hash(bucket), key).Err()
	return keyErr("delete", bucket, key, r.err(err))
}

func (r *Redis) Keys(bucket string) ([]string, error) {
	if bucket == "" {
		return nil, bucketErr("list keys of", bucket, errNoBucket)
	}
	if r.closed.Load() {
		return nil, bucketErr("list keys of", bucket, ErrClosed)
	}
	keys, err := r.c.HKeys(context.Background(), r.hash(bucket)).Result()
	if err != nil {
		return nil, bucketErr("list keys of", bucket, r.err(err))
	}
	slices.Sort(keys)
	return keys, nil
}

// scanScript returns the fields and values of the hash KEYS[1] whose
// field matches the pattern ARGV[1], alternating, read in one go so that a
// scan sees a whole Commit or none of it.
var scanScript = redis.NewScript(`
local out, cursor = {}, '0'
repeat
	local r = redis.call('HSCAN', KEYS[1], cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
	cursor = r[1]
	for _, v in ipairs(r[2]) do
		out[#out + 1] = v
	end
until cursor == '0'
return out
`)

func (r *Redis) Scan(bucket, prefix string, fn func(key string, value []byte) error) error {
	if bucket == "" {
		return bucketErr("scan", bucket, errNoBucket)
	}
	if r.closed.Load() {
		return bucketErr("scan", bucket, ErrClosed)
	}
	res, err := scanScript.Run(context.Background(), r.c, []string{r.hash(bucket)}, globPrefix(prefix)).StringSlice()
	if err != nil {
		return bucketErr("scan", bucket, r.err(err))
	}
	type kv struct{ k, v string }
	pairs := make([]kv, 0, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		pairs = append(pairs, kv{res[i], res[i+1]})
	}
	slices.SortFunc(pairs, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	// HSCAN may return a field twice when the hash is resized under it.
	pairs = slices.CompactFunc(pairs, func(a, b kv) bool { return a.k == b.k })
	for _, p := range pairs {
		if err := fn(p.k, []byte(p.v)); err != nil {
			return err
		}
	}
	return nil
}

// globPrefix returns the HSCAN MATCH pattern for fields starting with
// prefix: the prefix with its glob characters escaped, then "*".
func globPrefix(prefix string) string {
	var b strings.Builder
	for i := 0; i < len(prefix); i++ {
		switch c := prefix[i]; c {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('*')
	return b.String()
}

func (r *Redis) Apply(bucket string, puts map[string][]byte) error {
	if err := checkApply(bucket, puts); err != nil {
		return err
	}
	if r.closed.Load() {
		return bucketErr("apply to", bucket, ErrClosed)
	}
	if len(puts) == 0 {
		return nil
	}
	_, err := r.commit(putOps(bucket, puts), nil)
	return bucketErr("apply to", bucket, err)
}

func (r *Redis) Commit(w Write) (map[string]map[string]int64, error) {
	puts, adds, err := flatten(w)
	if err != nil {
		return nil, err
	}
	if r.closed.Load() {
		return nil, commitErr(ErrClosed)
	}
	if len(puts) == 0 && len(adds) == 0 {
		return nil, nil
	}
	sums, err := r.commit(puts, adds)
	if err != nil {
		return nil, commitErr(err)
	}
	return totals(adds, sums), nil
}

// commitScript applies a Write. KEYS are the hashes of its buckets; ARGV
// are its entries in groups of four: kind, index in KEYS, field, argument.
// Kind "p" puts the argument, "d" deletes the field, "a" adds the integer
// argument; adds come after puts.
//
// Redis does not roll a script back when a command in it fails, so the
// script first checks everything that could fail (each hash is a hash,
// each add's field holds a counter and the total fits an int64), and
// only then writes. It reads counters the way HINCRBY does but adds them
// itself, in two parts of nine digits: Lua numbers are doubles, exact only
// to 2^53. It returns {"ok", total…} with a total per add, as text, or
// {problem, entry} for the first entry (from 0) that fails.
var commitScript = redis.NewScript(`
local function parse(s)
	if s == '0' then return 0, 0 end
	local neg, digits = string.match(s, '^(%-?)([1-9]%d*)$')
	if not digits or #digits > 19 then return nil end
	local lo, hi = tonumber(string.sub(digits, -9)), 0
	if #digits > 9 then hi = tonumber(string.sub(digits, 1, -10)) end
	if hi > 9223372036 or (hi == 9223372036 and lo > (neg == '-' and 854775808 or 854775807)) then
		return nil
	end
	if neg == '-' then return -hi, -lo end
	return hi, lo
end

local function sum(bh, bl, ah, al)
	local h, l = bh + ah, bl + al
	if l >= 1e9 then h, l = h + 1, l - 1e9 elseif l <= -1e9 then h, l = h - 1, l + 1e9 end
	if h > 0 and l < 0 then h, l = h - 1, l + 1e9 elseif h < 0 and l > 0 then h, l = h + 1, l - 1e9 end
	if h > 9223372036 or (h == 9223372036 and l > 854775807) or
		h < -9223372036 or (h == -9223372036 and l < -854775808) then
		return nil
	end
	local sign = ''
	if h < 0 or l < 0 then sign, h, l = '-', -h, -l end
	if h == 0 then return sign .. string.format('%d', l) end
	return sign .. string.format('%d%09d', h, l)
end

for i, key in ipairs(KEYS) do
	local t = redis.call('TYPE', key).ok
	if t ~= 'hash' and t ~= 'none' then return {'wrongtype', i, t} end
end

local n = #ARGV / 4
local put = {} -- put[index][field]: the value put, or false when deleted
local out = {'ok'}
for i = 0, n - 1 do
	local kind, k, f, arg = ARGV[4*i+1], tonumber(ARGV[4*i+2]), ARGV[4*i+3], ARGV[4*i+4]
	if kind == 'a' then
		local cur = put[k] and put[k][f]
		if cur == nil then cur = redis.call('HGET', KEYS[k], f) end
		local bh, bl = 0, 0
		if cur then
			bh, bl = parse(cur)
			if not bh then return {'notint', i} end
		end
		local total = sum(bh, bl, parse(arg))
		if not total then return {'overflow', i} end
		out[#out + 1] = total
	else
		put[k] = put[k] or {}
		put[k][f] = kind == 'p' and arg
	end
end

-- Runs of entries to one hash go in one HSET or HDEL each, in order (a
-- field put then added is set twice, the total last), with at most 1000
-- arguments as unpack is bounded by the Lua stack.
local cmd, key, args, j = nil, nil, {}, 1
local function flush()
	if #args > 0 then redis.call(cmd, key, unpack(args)) end
	args = {}
end
for i = 0, n - 1 do
	local kind, k, f, arg = ARGV[4*i+1], KEYS[tonumber(ARGV[4*i+2])], ARGV[4*i+3], ARGV[4*i+4]
	local c = kind == 'd' and 'HDEL' or 'HSET'
	if c ~= cmd or k ~= key or #args >= 1000 then
		flush()
		cmd, key = c, k
	end
	args[#args + 1] = f
	if kind == 'p' then
		args[#args + 1] = arg
	elseif kind == 'a' then
		j = j + 1
		args[#args + 1] = out[j]
	end
end
flush()
return out
`)

func (r *Redis) commit(puts []putOp, adds []addOp) ([]int64, error) {
	names := buckets(puts, adds)
	keys := make([]string, len(names))
	index := make(map[string]string, len(names)) // bucket → its index in KEYS, from 1
	for i, b := range names {
		keys[i] = r.hash(b)
		index[b] = strconv.Itoa(i + 1)
	}
	args := make([]any, 0, 4*(len(puts)+len(adds)))
	for _, p := range puts {
		if p.value == nil {
			args = append(args, "d", index[p.bucket], p.key, "")
		} else {
			args = append(args, "p", index[p.bucket], p.key, p.value)
		}
	}
	for _, a := range adds {
		args = append(args, "a", index[a.bucket], a.key, strconv.FormatInt(a.n, 10))
	}
	res, err := commitScript.Run(context.Background(), r.c, keys, args...).Slice()
	if err != nil {
		return nil, r.err(err)
	}
	status, _ := res[0].(string)
	switch status {
	case "ok":
		sums := make([]int64, len(adds))
		for i := range adds {
			s, _ := res[i+1].(string)
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("commit script: total %q: %w", s, err)
			}
			sums[i] = n
		}
		return sums, nil
	case "notint", "overflow":
		a := adds[res[1].(int64)-int64(len(puts))]
		if status == "notint" {
			return nil, a.err(errNotInt)
		}
		return nil, a.err(errOverflow)
	case "wrongtype":
		return nil, fmt.Errorf("bucket %q: key %q holds a %v, not a hash", names[res[1].(int64)-1], keys[res[1].(int64)-1], res[2])
	}
	return nil, fmt.Errorf("commit script: unexpected reply %q", res)
}

// deletePrefixScript deletes the fields of the hash KEYS[1] that match the
// pattern ARGV[1], all at once.
var deletePrefixScript = redis.NewScript(`
local cursor = '0'
repeat
	local r = redis.call('HSCAN', KEYS[1], cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
	cursor = r[1]
	local page = r[2]
	for i = 1, #page, 2 do
		redis.call('HDEL', KEYS[1], page[i])
	end
until cursor == '0'
return 0
`)

func (r *Redis) DeletePrefix(bucket, prefix string) error {
	op := fmt.Sprintf("delete prefix %q from", prefix)
	if bucket == "" {
		return bucketErr(op, bucket, errNoBucket)
	}
	if r.closed.Load() {
		return bucketErr(op, bucket, ErrClosed)
	}
	var err error
	if prefix == "" {
		err = r.c.Del(context.Background(), r.hash(bucket)).Err()
	} else {
		err = deletePrefixScript.Run(context.Background(), r.c, []string{r.hash(bucket)}, globPrefix(prefix)).Err()
	}
	return bucketErr(op, bucket, r.err(err))
}

// Close closes the connections to the server.
func (r *Redis) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	if err := r.c.Close(); err != nil {
		return fmt.Errorf("close redis store %q: %w", r.addr, err)
	}
	return nil
}
