package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kgen-dev/kgen/internal/confine"
	"github.com/kgen-dev/kgen/internal/suggest"
	"github.com/kgen-dev/kgen/sdk"
)

// Properties come from YAML or JSON, so one setting can arrive as an int, an
// int64, a float64 or a string. These helpers accept every spelling that
// means the same value and return errors that name the property and say what
// was wanted:
//
//	property "qos": want int 0..2, got "x"
//
// A missing key or a nil value yields the default. The caller prefixes the
// connector ("mqtt source: ").

// getString returns a string property. Numbers and booleans are accepted in
// their canonical text form, because YAML reads `password: 123456` as an int.
func getString(props map[string]any, key, def string) (string, error) {
	v, ok := props[key]
	if !ok || v == nil {
		return def, nil
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32), nil
	case json.Number:
		return v.String(), nil
	}
	if n, ok := asInt64(v); ok {
		return strconv.FormatInt(n, 10), nil
	}
	return "", fmt.Errorf("property %q: want string, got %s", key, describe(v))
}

// getInt returns an integer property: any Go integer type, an integral
// float64, or a string holding an integer.
func getInt(props map[string]any, key string, def int) (int, error) {
	v, ok := props[key]
	if !ok || v == nil {
		return def, nil
	}
	n, ok := toInt(v)
	if !ok {
		return 0, fmt.Errorf("property %q: want int, got %s", key, describe(v))
	}
	return n, nil
}

// getIntRange is getInt limited to min..max (inclusive).
func getIntRange(props map[string]any, key string, def, min, max int) (int, error) {
	v, ok := props[key]
	if !ok || v == nil {
		return def, nil
	}
	n, ok := toInt(v)
	if !ok || n < min || n > max {
		return 0, fmt.Errorf("property %q: want int %d..%d, got %s", key, min, max, describe(v))
	}
	return n, nil
}

// getBool returns a boolean property; the strings accepted by
// strconv.ParseBool ("true", "false", "1", "0"...) count too.
func getBool(props map[string]any, key string, def bool) (bool, error) {
	v, ok := props[key]
	if !ok || v == nil {
		return def, nil
	}
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("property %q: want bool, got %s", key, describe(v))
}

// getDuration returns a non-negative duration property: a number is
// milliseconds, a string is a Go duration ("1s", "250ms") or a number of
// milliseconds.
func getDuration(props map[string]any, key string, def time.Duration) (time.Duration, error) {
	v, ok := props[key]
	if !ok || v == nil {
		return def, nil
	}
	var d time.Duration
	ok = false
	switch s := v.(type) {
	case string:
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			d, ok = time.Duration(ms)*time.Millisecond, true
		} else if pd, err := time.ParseDuration(s); err == nil {
			d, ok = pd, true
		}
	default:
		if ms, isInt := toInt(v); isInt {
			d, ok = time.Duration(ms)*time.Millisecond, true
		}
	}
	if !ok || d < 0 {
		return 0, fmt.Errorf("property %q: want a duration (milliseconds or a string like \"1s\"), got %s", key, describe(v))
	}
	return d, nil
}

// toInt converts the integer spellings of YAML and JSON to int.
func toInt(v any) (int, bool) {
	switch v := v.(type) {
	case float64:
		if v != math.Trunc(v) || v < math.MinInt64 || v >= 1<<63 || int64(v) < math.MinInt || int64(v) > math.MaxInt {
			return 0, false
		}
		return int(v), true
	case float32:
		return toInt(float64(v))
	case string:
		n, err := strconv.Atoi(v)
		return n, err == nil
	case json.Number:
		n, err := strconv.Atoi(v.String())
		return n, err == nil
	}
	n, ok := asInt64(v)
	if !ok || n < math.MinInt || n > math.MaxInt {
		return 0, false
	}
	return int(n), true
}

func asInt64(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case uint:
		return int64(v), v <= math.MaxInt64
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint64:
		return int64(v), v <= math.MaxInt64
	}
	return 0, false
}

// describe renders a property value for an error message: strings quoted,
// everything else as Go prints it.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", v)
}

// propReader reads several properties and keeps the first error, so that a
// Provision reads as a list of settings followed by one check. It records
// the keys it was asked for, so that strict can refuse the others: what a
// connector reads is the one list of what it knows.
type propReader struct {
	props map[string]any
	err   error
	known []string
}

// accept marks keys as known without reading them (read only in some
// cases, or read by the engine).
func (r *propReader) accept(keys ...string) {
	for _, k := range keys {
		if !slices.Contains(r.known, k) {
			r.known = append(r.known, k)
		}
	}
}

// strict fails on a property the connector neither read nor accepted,
// naming the closest known one. Properties eKuiper has that kgen does not
// implement (ignored) are accepted, so that eKuiper files still load, and
// logged as ignored. Call it after every read.
func (r *propReader) strict(ctx sdk.Context, ignored ...[]string) {
	var skipped []string
	for _, k := range slices.Sorted(maps.Keys(r.props)) {
		switch {
		case slices.Contains(r.known, k):
		case slices.ContainsFunc(ignored, func(l []string) bool { return slices.Contains(l, k) }):
			skipped = append(skipped, k)
		default:
			r.keep(UnknownProperty(k, r.known))
		}
	}
	if len(skipped) > 0 && ctx != nil && r.err == nil {
		ctx.GetLogger().Warn("eKuiper properties kgen does not implement are ignored", "properties", skipped)
	}
}

// UnknownProperty is the error for a property key that is not among known:
// `unknown property "qoss", did you mean "qos"?`, or with the known keys
// listed when none is close.
func UnknownProperty(key string, known []string) error {
	if hint := suggest.DidYouMean(key, known); hint != "" {
		return fmt.Errorf("unknown property %q%s", key, hint)
	}
	if len(known) == 0 {
		return fmt.Errorf("unknown property %q (it takes none)", key)
	}
	return fmt.Errorf("unknown property %q (known: %s)", key, strings.Join(slices.Sorted(slices.Values(known)), ", "))
}

// CommonSinkProps are eKuiper's properties of every sink (its docs'
// guide/sinks/overview.md) that kgen's sinks do not implement: accepted and
// logged as ignored. (sendSingle is implemented by the engine, for every
// sink.)
var CommonSinkProps = []string{
	"bufferLength", "omitIfEmpty", "dataTemplate", "format", "schemaId", "delimiter", "fields", "dataField",
	"enableCache", "resendInterval", "batchSize", "lingerInterval", "compression", "encryption",
	"concurrency", "runAsync", "retryInterval", "retryCount", "cacheLength", "cacheSaveInterval",
}

// CommonSourceProps are the properties the engine reads or sets for every
// source (format from the stream's FORMAT, interval for pull sources),
// which a source need not read.
var CommonSourceProps = []string{"format", "interval"}

// ekuiperSourceProps are eKuiper's properties of every source that kgen's
// sources do not implement.
var ekuiperSourceProps = []string{"bufferLength", "decompression", "connectionSelector"}

func (r *propReader) keep(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *propReader) string(key, def string) string {
	r.accept(key)
	v, err := getString(r.props, key, def)
	r.keep(err)
	return v
}

func (r *propReader) int(key string, def int) int {
	r.accept(key)
	v, err := getInt(r.props, key, def)
	r.keep(err)
	return v
}

func (r *propReader) intRange(key string, def, min, max int) int {
	r.accept(key)
	v, err := getIntRange(r.props, key, def, min, max)
	r.keep(err)
	return v
}

func (r *propReader) bool(key string, def bool) bool {
	r.accept(key)
	v, err := getBool(r.props, key, def)
	r.keep(err)
	return v
}

func (r *propReader) duration(key string, def time.Duration) time.Duration {
	r.accept(key)
	v, err := getDuration(r.props, key, def)
	r.keep(err)
	return v
}

// required is string for a property that must be present and non-empty.
func (r *propReader) required(key string) string {
	v := r.string(key, "")
	if v == "" {
		r.keep(fmt.Errorf("property %q is required", key))
	}
	return v
}

// oneOf is string limited to a set of values; an absent property gives def,
// which need not be one of them.
func (r *propReader) oneOf(key, def string, allowed ...string) string {
	v := r.string(key, def)
	if r.err != nil || r.props[key] == nil {
		return v
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.keep(fmt.Errorf("property %q: want %s, got %q", key, quoteOr(allowed), v))
	return v
}

// quoteOr renders ["a","b","c"] as `"a", "b" or "c"`.
func quoteOr(vals []string) string {
	s := ""
	for i, v := range vals {
		switch {
		case i == 0:
		case i == len(vals)-1:
			s += " or "
		default:
			s += ", "
		}
		s += strconv.Quote(v)
	}
	return s
}

// resolvePath resolves a path property (relative ones from base, or from
// the engine root when base is empty) and refuses one outside the engine
// root and paths.allow, through the policy the engine puts in the context
// (confine.With); without one, the engine root alone is allowed. what
// names the property in errors, for example `file sink "path"`.
func resolvePath(ctx sdk.Context, what, base, path string) (string, error) {
	return resolveUnder(ctx, ctx.GetRootPath(), what, base, path)
}

func resolveUnder(ctx context.Context, root, what, base, path string) (string, error) {
	p, err := confine.From(ctx, root)
	if err != nil {
		return "", err
	}
	return p.Resolve(what, base, path)
}
