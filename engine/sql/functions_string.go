package sql

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// String functions. Positions and lengths count characters (runes), not
// bytes.
var stringFuncs = map[string]*builtin{
	// concat joins the text of its arguments and skips NULLs, as in
	// PostgreSQL: it is how a possibly missing field is put into a string.
	"concat":         {min: 1, max: -1, nullSafe: true, call: fnConcat},
	"lower":          {min: 1, max: 1, params: []param{stringParam}, call: stringFunc(strings.ToLower)},
	"upper":          {min: 1, max: 1, params: []param{stringParam}, call: stringFunc(strings.ToUpper)},
	"trim":           {min: 1, max: 1, params: []param{stringParam}, call: stringFunc(strings.TrimSpace)},
	"length":         {min: 1, max: 1, call: fnLength},
	"substring":      {min: 2, max: 3, params: []param{stringParam, intParam}, call: fnSubstring},
	"split_value":    {min: 3, max: 3, params: []param{stringParam, stringParam, intParam}, call: fnSplitValue},
	"regexp_matches": {min: 2, max: 2, params: []param{stringParam}, compile: compileRegexpMatches},
}

func stringFunc(f func(string) string) func([]any) (any, error) {
	return func(args []any) (any, error) { return f(args[0].(string)), nil }
}

func fnConcat(args []any) (any, error) {
	var b strings.Builder
	for _, v := range args {
		if v == nil {
			continue
		}
		s, err := text(v)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// text is the string form of a value: numbers as in JSON, times in
// RFC 3339, bytes as they are, maps and lists as JSON.
func text(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		return formatFloat(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	case []byte:
		return string(v), nil
	case time.Time:
		return v.Format(time.RFC3339Nano), nil
	case nil:
		return "", nil
	}
	if n, ok := number(v); ok {
		return text(n.value())
	}
	return toJSON(v)
}

// formatFloat writes f as encoding/json does: the shortest text, with an
// exponent only for very large or very small magnitudes.
func formatFloat(f float64) string {
	abs := math.Abs(f)
	if abs == 0 || 1e-6 <= abs && abs < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	// 1e-07 → 1e-7, as encoding/json writes it.
	if n := len(s); n >= 4 && s[n-4] == 'e' && s[n-3] == '-' && s[n-2] == '0' {
		s = s[:n-2] + s[n-1:]
	}
	return s
}

func fnLength(args []any) (any, error) {
	switch v := args[0].(type) {
	case string:
		return int64(utf8.RuneCountInString(v)), nil
	case []any:
		return int64(len(v)), nil
	case map[string]any:
		return int64(len(v)), nil
	case []byte:
		return int64(len(v)), nil
	}
	return nil, fmt.Errorf("argument 1: want string, list or map, got %s", typeName(args[0]))
}

// fnSubstring is substring(s, start[, end]): runes start (0-based) up to
// end (exclusive, default the end of s), both clamped to the length.
func fnSubstring(args []any) (any, error) {
	s := args[0].(string)
	start := args[1].(int64)
	if start < 0 {
		return nil, fmt.Errorf("argument 2: want a non-negative index, got %d", start)
	}
	end := int64(math.MaxInt64)
	if len(args) > 2 {
		end = args[2].(int64)
		if end < start {
			return nil, fmt.Errorf("argument 3: want an index not before start %d, got %d", start, end)
		}
	}
	// Walk runes once, without converting s to []rune.
	var from, to = len(s), len(s)
	var i int64
	for off := range s {
		if i == start {
			from = off
		}
		if i == end {
			to = off
			break
		}
		i++
	}
	if from > to {
		from = to
	}
	return s[from:to], nil
}

// fnSplitValue is split_value(s, sep, index): element index (0-based,
// negative from the end) of s split at sep; NULL when there is none.
func fnSplitValue(args []any) (any, error) {
	s, sep, i := args[0].(string), args[1].(string), args[2].(int64)
	if sep == "" {
		return nil, errors.New("argument 2: want a non-empty separator")
	}
	parts := strings.Split(s, sep)
	if i < 0 {
		i += int64(len(parts))
	}
	if i < 0 || i >= int64(len(parts)) {
		return nil, nil
	}
	return parts[i], nil
}

// compileRegexpMatches compiles a constant pattern once; a pattern that
// varies per row is compiled per row, with the last one cached.
func compileRegexpMatches(s site, args []code) (code, error) {
	str, pat := args[0], args[1]
	if p, ok := pat.val.(string); ok && pat.konst {
		re, err := regexp.Compile(p)
		if err != nil {
			return code{}, s.wrap(fmt.Errorf("argument 2: %w", err))
		}
		se := str.eval
		return fold(func(row map[string]any) (any, error) {
			v, err := se(row)
			if err != nil || v == nil {
				return nil, err
			}
			sv, ok := v.(string)
			if !ok {
				return nil, s.errorf("argument 1: want string, got %s", typeName(v))
			}
			return re.MatchString(sv), nil
		}, str)
	}
	type cached struct {
		pattern string
		re      *regexp.Regexp
	}
	var last atomic.Pointer[cached]
	se, pe := str.eval, pat.eval
	return code{eval: func(row map[string]any) (any, error) {
		v, err := se(row)
		if err != nil {
			return nil, err
		}
		p, err := pe(row)
		if err != nil || v == nil || p == nil {
			return nil, err
		}
		sv, ok := v.(string)
		if !ok {
			return nil, s.errorf("argument 1: want string, got %s", typeName(v))
		}
		ps, ok := p.(string)
		if !ok {
			return nil, s.errorf("argument 2: want string, got %s", typeName(p))
		}
		c := last.Load()
		if c == nil || c.pattern != ps {
			re, err := regexp.Compile(ps)
			if err != nil {
				return nil, s.wrap(fmt.Errorf("argument 2: %w", err))
			}
			c = &cached{ps, re}
			last.Store(c)
		}
		return c.re.MatchString(sv), nil
	}}, nil
}
