package state

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ScopeState is the state of one scope as Inspect reports it.
type ScopeState struct {
	ID string `json:"id"`
	// Op is ID without the prefix given to Inspect: for a rule's scopes,
	// the operator ("func:wordCount(text)", "source:demo", "sink:0:log").
	Op   string     `json:"op"`
	Keys []KeyState `json:"keys"`
}

// KeyState is one key of a scope and its value, ready for JSON, which it
// marshals to as {"key": ..., "type": ..., "value": ...}.
//
// Type is the Go type the value is stored with: "int", "int8" … "uint64",
// "uintptr", "float32", "float64", "string", "bool", "bytes", "time", "null",
// "list" or "map". Value is the value as JSON can carry it exactly: integers
// and floats as numbers (a NaN or an infinity as the string "NaN", "+Inf" or
// "-Inf"), bytes as standard base64 text, a time as RFC 3339 text with
// nanoseconds and its UTC offset, a list as []TypedValue and a map as
// map[string]TypedValue, so the types of their elements are kept too.
//
// Unmarshaling reads Value back by Type into those same Go types (an int8
// as an int8, a list as []TypedValue), so a KeyState survives a JSON round
// trip unchanged, large uint64 counters included.
type KeyState struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// TypedValue is an element of a list or map value: its type and its value,
// as in KeyState.
type TypedValue struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Inspect returns every scope whose id starts with prefix and has at least
// one key, sorted by id, each with its keys sorted: what is in memory for
// scopes in use, what is in the store for the others. It reads the store
// directly and does not add scopes to the Manager.
func (m *Manager) Inspect(prefix string) ([]ScopeState, error) {
	// Holding mu keeps the set of scopes fixed: a scope that is not in
	// memory now cannot be created, loaded and written to meanwhile, so
	// the store is its current state.
	m.mu.Lock()
	defer m.mu.Unlock()
	found := map[string][]KeyState{}
	inMemory := map[string]bool{}
	for id, s := range m.scopes {
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		keys, loaded := s.entries()
		if !loaded {
			continue // not read from the store yet: the store has it
		}
		inMemory[id] = true
		if len(keys) > 0 {
			found[id] = keys
		}
	}
	stored := map[string]bool{}
	err := m.kv.Scan(Bucket, prefix, func(storeKey string, _ []byte) error {
		if id, _, ok := strings.Cut(storeKey, sep); ok && !inMemory[id] {
			stored[id] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inspect state %q: %w", prefix, err)
	}
	for id := range stored {
		slots, err := m.read(id)
		if err != nil {
			return nil, fmt.Errorf("inspect state %q: %w", prefix, err)
		}
		if keys := slotKeys(slots); len(keys) > 0 {
			found[id] = keys
		}
	}
	out := make([]ScopeState, 0, len(found))
	for id, keys := range found {
		slices.SortFunc(keys, func(a, b KeyState) int { return strings.Compare(a.Key, b.Key) })
		out = append(out, ScopeState{ID: id, Op: strings.TrimPrefix(id, prefix), Keys: keys})
	}
	slices.SortFunc(out, func(a, b ScopeState) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// entries returns the scope's keys in JSON form, unsorted, and false when
// the scope has not loaded its keys from the store yet. It is the one
// reader of slots outside the state methods; the values it returns share
// nothing with them.
func (s *Scope) entries() ([]KeyState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		return nil, false
	}
	return slotKeys(s.slots), true
}

// slotKeys are the keys of slots in JSON form, unsorted.
func slotKeys(slots map[string]*slot) []KeyState {
	keys := make([]KeyState, 0, len(slots))
	for key, sl := range slots {
		switch {
		case sl.kind == kDeleted:
		case sl.kind.isInt():
			keys = append(keys, keyState(key, intValue(sl.kind, sl.n)))
		default:
			keys = append(keys, keyState(key, sl.v))
		}
	}
	return keys
}

func keyState(key string, v any) KeyState {
	t := toTyped(v)
	return KeyState{Key: key, Type: t.Type, Value: t.Value}
}

// Type names of the values that are not integers.
const (
	typeFloat32 = "float32"
	typeFloat64 = "float64"
	typeString  = "string"
	typeBool    = "bool"
	typeBytes   = "bytes"
	typeTime    = "time"
	typeNull    = "null"
	typeList    = "list"
	typeMap     = "map"
)

// toTyped turns a stored value into its type name and JSON form.
func toTyped(v any) TypedValue {
	if k, _, ok := intOf(v); ok {
		return TypedValue{intKindNames[k], v}
	}
	switch v := v.(type) {
	case nil:
		return TypedValue{typeNull, nil}
	case bool:
		return TypedValue{typeBool, v}
	case float32:
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return TypedValue{typeFloat32, strconv.FormatFloat(f, 'g', -1, 32)}
		}
		return TypedValue{typeFloat32, v}
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return TypedValue{typeFloat64, strconv.FormatFloat(v, 'g', -1, 64)}
		}
		return TypedValue{typeFloat64, v}
	case string:
		return TypedValue{typeString, v}
	case []byte:
		return TypedValue{typeBytes, base64.StdEncoding.EncodeToString(v)}
	case time.Time:
		return TypedValue{typeTime, v.Format(time.RFC3339Nano)}
	case []any:
		l := make([]TypedValue, len(v))
		for i, x := range v {
			l[i] = toTyped(x)
		}
		return TypedValue{typeList, l}
	case map[string]any:
		m := make(map[string]TypedValue, len(v))
		for k, x := range v {
			m[k] = toTyped(x)
		}
		return TypedValue{typeMap, m}
	}
	// PutState and decode only produce the types above.
	return TypedValue{fmt.Sprintf("%T", v), fmt.Sprint(v)}
}

// UnmarshalJSON reads Value by Type, as the KeyState documentation says.
func (ks *KeyState) UnmarshalJSON(data []byte) error {
	var raw struct {
		Key   string          `json:"key"`
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	v, err := fromJSON(raw.Type, raw.Value)
	if err != nil {
		return fmt.Errorf("state key %q: %w", raw.Key, err)
	}
	*ks = KeyState{Key: raw.Key, Type: raw.Type, Value: v}
	return nil
}

// UnmarshalJSON reads Value by Type, as KeyState does.
func (tv *TypedValue) UnmarshalJSON(data []byte) error {
	var raw struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	v, err := fromJSON(raw.Type, raw.Value)
	if err != nil {
		return err
	}
	*tv = TypedValue{Type: raw.Type, Value: v}
	return nil
}

// fromJSON decodes the JSON form of a value of type typ into the Go type
// toTyped gave it.
func fromJSON(typ string, data json.RawMessage) (any, error) {
	var (
		v   any
		err error
	)
	switch typ {
	case "int":
		v, err = decodeAs[int](data)
	case "int8":
		v, err = decodeAs[int8](data)
	case "int16":
		v, err = decodeAs[int16](data)
	case "int32":
		v, err = decodeAs[int32](data)
	case "int64":
		v, err = decodeAs[int64](data)
	case "uint":
		v, err = decodeAs[uint](data)
	case "uint8":
		v, err = decodeAs[uint8](data)
	case "uint16":
		v, err = decodeAs[uint16](data)
	case "uint32":
		v, err = decodeAs[uint32](data)
	case "uint64":
		v, err = decodeAs[uint64](data)
	case "uintptr":
		v, err = decodeAs[uintptr](data)
	case typeFloat32:
		v, err = decodeFloat[float32](data)
	case typeFloat64:
		v, err = decodeFloat[float64](data)
	case typeString, typeBytes, typeTime:
		v, err = decodeAs[string](data)
	case typeBool:
		v, err = decodeAs[bool](data)
	case typeNull:
		if string(data) != "null" {
			err = fmt.Errorf("want null, got %s", data)
		}
	case typeList:
		v, err = decodeAs[[]TypedValue](data)
	case typeMap:
		v, err = decodeAs[map[string]TypedValue](data)
	default:
		return nil, fmt.Errorf("unknown value type %q", typ)
	}
	if err != nil {
		return nil, fmt.Errorf("%s value: %w", typ, err)
	}
	return v, nil
}

func decodeAs[T any](data json.RawMessage) (T, error) {
	var v T
	err := json.Unmarshal(data, &v)
	return v, err
}

// decodeFloat reads a number, or the text of a NaN or an infinity.
func decodeFloat[T float32 | float64](data json.RawMessage) (any, error) {
	if len(data) > 0 && data[0] == '"' {
		return decodeAs[string](data)
	}
	return decodeAs[T](data)
}
