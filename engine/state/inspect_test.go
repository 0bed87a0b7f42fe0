package state

import (
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine/store"
)

// wantJSON is the JSON of each key of values(), as Inspect reports it.
var wantJSON = map[string]string{
	"int":      `{"key":"int","type":"int","value":-7}`,
	"int8":     `{"key":"int8","type":"int8","value":-8}`,
	"int16":    `{"key":"int16","type":"int16","value":16}`,
	"int32":    `{"key":"int32","type":"int32","value":-32}`,
	"int64":    `{"key":"int64","type":"int64","value":4611686018427387904}`,
	"uint":     `{"key":"uint","type":"uint","value":7}`,
	"uint8":    `{"key":"uint8","type":"uint8","value":255}`,
	"uint16":   `{"key":"uint16","type":"uint16","value":16}`,
	"uint32":   `{"key":"uint32","type":"uint32","value":32}`,
	"uint64":   `{"key":"uint64","type":"uint64","value":18446744073709551615}`,
	"uintptr":  `{"key":"uintptr","type":"uintptr","value":9}`,
	"float32":  `{"key":"float32","type":"float32","value":1.5}`,
	"float64":  `{"key":"float64","type":"float64","value":63.5}`,
	"nan":      `{"key":"nan","type":"float64","value":"-Inf"}`,
	"string":   `{"key":"string","type":"string","value":"s-17 ✓"}`,
	"empty":    `{"key":"empty","type":"string","value":""}`,
	"bytes":    `{"key":"bytes","type":"bytes","value":"AAH/"}`,
	"true":     `{"key":"true","type":"bool","value":true}`,
	"false":    `{"key":"false","type":"bool","value":false}`,
	"nil":      `{"key":"nil","type":"null","value":null}`,
	"time":     `{"key":"time","type":"time","value":"2024-02-29T23:59:58.123456789+02:30"}`,
	"utc":      `{"key":"utc","type":"time","value":"1969-07-20T20:17:00Z"}`,
	"emptymap": `{"key":"emptymap","type":"map","value":{}}`,
	"list": `{"key":"list","type":"list","value":[` +
		`{"type":"int64","value":1},{"type":"float64","value":2.5},{"type":"string","value":"x"},{"type":"null","value":null},` +
		`{"type":"list","value":[]},{"type":"map","value":{"deep":{"type":"bytes","value":"ZA=="}}}]}`,
	"map": `{"key":"map","type":"map","value":{` +
		`"":{"type":"string","value":"empty key"},` +
		`"a":{"type":"int8","value":1},` +
		`"b":{"type":"map","value":{"c":{"type":"list","value":[{"type":"time","value":"2023-11-14T22:13:20Z"},{"type":"uint16","value":3}]}}}}}`,
}

// checkAllValues wants sc to hold exactly the keys of values(), in order,
// in the JSON of wantJSON, and to come back the same from JSON.
func checkAllValues(t *testing.T, sc ScopeState) {
	t.Helper()
	if len(sc.Keys) != len(wantJSON) {
		t.Errorf("scope %s: %d keys, want %d", sc.ID, len(sc.Keys), len(wantJSON))
	}
	for i, k := range sc.Keys {
		if i > 0 && sc.Keys[i-1].Key >= k.Key {
			t.Errorf("scope %s: keys out of order: %q before %q", sc.ID, sc.Keys[i-1].Key, k.Key)
		}
		data, err := json.Marshal(k)
		check(t, err)
		if want := wantJSON[k.Key]; string(data) != want {
			t.Errorf("key %s:\ngot  %s\nwant %s", k.Key, data, want)
		}
		var back KeyState
		check(t, json.Unmarshal(data, &back))
		if !reflect.DeepEqual(back, k) {
			t.Errorf("key %s: JSON round trip gave %#v, want %#v", k.Key, back, k)
		}
	}
}

func scopeIDs(scopes []ScopeState) []string {
	var ids []string
	for _, sc := range scopes {
		ids = append(ids, sc.ID+" ("+sc.Op+")")
	}
	return ids
}

func TestInspect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kgen.db")
	kv, err := store.OpenBolt(path)
	check(t, err)
	m := NewManager(kv, time.Hour, nil)
	for k, v := range values() {
		check(t, m.Scope("r1/func:0:f").PutState(k, v))
	}
	check(t, m.Scope("r1/source:demo").IncrCounter("n", 3))
	check(t, m.Scope("r10/func:0:f").IncrCounter("n", 10))
	check(t, m.Scope("r2/sink:0:log").PutState("x", "y"))
	check(t, m.Close())
	check(t, kv.Close())

	// After a restart every scope is only in the store.
	kv, err = store.OpenBolt(path)
	check(t, err)
	defer kv.Close()
	m = NewManager(kv, time.Hour, nil)
	defer m.Close()
	got, err := m.Inspect("r1/")
	check(t, err)
	if ids := strings.Join(scopeIDs(got), ", "); ids != "r1/func:0:f (func:0:f), r1/source:demo (source:demo)" {
		t.Fatalf("Inspect(r1/) = %s", ids)
	}
	checkAllValues(t, got[0])
	if len(m.scopes) != 0 {
		t.Errorf("Inspect created %d scopes in the manager", len(m.scopes))
	}

	// Scopes in use are read from memory, changes not yet flushed
	// included; a scope in memory that has not loaded yet still shows
	// what the store has, and one without keys does not show.
	src := m.Scope("r1/source:demo")
	check(t, src.IncrCounter("n", 1))
	check(t, src.PutState("gone", true))
	check(t, m.Flush())
	check(t, src.DeleteState("gone"))
	check(t, src.PutState("f32", float32(math.NaN())))
	m.Scope("r1/func:0:f")   // not loaded
	m.Scope("r1/sink:0:nop") // no keys
	check(t, m.Scope("r1/func:1:g").PutState("new", uint64(math.MaxUint64)))
	got, err = m.Inspect("r1/")
	check(t, err)
	if ids := strings.Join(scopeIDs(got), ", "); ids != "r1/func:0:f (func:0:f), r1/func:1:g (func:1:g), r1/source:demo (source:demo)" {
		t.Fatalf("Inspect(r1/) in use = %s", ids)
	}
	checkAllValues(t, got[0])
	want := []ScopeState{
		{ID: "r1/func:1:g", Op: "func:1:g", Keys: []KeyState{{Key: "new", Type: "uint64", Value: uint64(math.MaxUint64)}}},
		{ID: "r1/source:demo", Op: "source:demo", Keys: []KeyState{
			{Key: "f32", Type: "float32", Value: "NaN"},
			{Key: "n", Type: "int", Value: 4},
		}},
	}
	if !reflect.DeepEqual(got[1:], want) {
		t.Errorf("scopes in use:\ngot  %#v\nwant %#v", got[1:], want)
	}

	// Everything, and nothing.
	all, err := m.Inspect("")
	check(t, err)
	if ids := strings.Join(scopeIDs(all), ", "); ids != "r1/func:0:f (r1/func:0:f), r1/func:1:g (r1/func:1:g), r1/source:demo (r1/source:demo), "+
		"r10/func:0:f (r10/func:0:f), r2/sink:0:log (r2/sink:0:log)" {
		t.Errorf("Inspect() = %s", ids)
	}
	check(t, m.DeleteScopes("r1/"))
	if got, err := m.Inspect("r1/"); len(got) != 0 || err != nil {
		t.Errorf("after DeleteScopes: %v, %v", scopeIDs(got), err)
	}
	if got, err := m.Inspect("r10/"); len(got) != 1 || err != nil || got[0].Keys[0].Value != 10 {
		t.Errorf("r10 after deleting r1: %+v, %v", got, err)
	}
}

func TestInspectCorruptValue(t *testing.T) {
	m, kv := newManager(t)
	check(t, kv.Put(Bucket, "r1/op\x00k", []byte{formatV1, 99}))
	_, err := m.Inspect("r1/")
	wantErr(t, err, `inspect state "r1/": load state "r1/op": key "k": unknown type tag 99`)
}

func TestKeyStateBadJSON(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"key":"k","type":"int8","value":300}`, `state key "k": int8 value: json: cannot unmarshal number 300 into Go value of type int8`},
		{`{"key":"k","type":"complex","value":1}`, `state key "k": unknown value type "complex"`},
		{`{"key":"k","type":"list","value":[{"type":"null","value":1}]}`, `state key "k": list value: null value: want null, got 1`},
	} {
		var ks KeyState
		err := json.Unmarshal([]byte(tt.in), &ks)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: %v, want %s", tt.in, err, tt.want)
		}
	}
}

// Inspect runs beside writes, flushes and first loads without a race, and
// never sees a counter go back.
func TestInspectConcurrent(t *testing.T) {
	kv := store.NewMem()
	m := NewManager(kv, time.Millisecond, nil)
	defer m.Close()
	const scopes, incrs = 4, 500
	done := make(chan struct{})
	for i := range scopes {
		go func() {
			defer func() { done <- struct{}{} }()
			s := m.Scope("r1/op" + string(rune('a'+i)))
			for range incrs {
				if err := s.IncrCounter("n", 1); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	last := map[string]int{}
	for finished := 0; finished < scopes; {
		select {
		case <-done:
			finished++
		default:
		}
		got, err := m.Inspect("r1/")
		check(t, err)
		for _, sc := range got {
			n := sc.Keys[0].Value.(int)
			if n < last[sc.ID] {
				t.Fatalf("%s went back from %d to %d", sc.ID, last[sc.ID], n)
			}
			last[sc.ID] = n
		}
	}
	got, err := m.Inspect("r1/")
	check(t, err)
	if len(got) != scopes {
		t.Fatalf("%d scopes, want %d", len(got), scopes)
	}
	for _, sc := range got {
		if sc.Keys[0].Value != incrs {
			t.Errorf("%s: %v, want %d", sc.ID, sc.Keys[0].Value, incrs)
		}
	}
}
