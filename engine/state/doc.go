// Package state keeps the key-value state of extension instances (the
// state methods of sdk.Context) in memory and makes it durable in a
// store.KV.
//
// A Manager hands out one Scope per id (for example "rule1/op/fn:3"). A
// scope loads its persisted keys on first use; after that every read and
// write is in memory under the scope's mutex, so IncrCounter costs a map
// lookup and no allocation. Changed keys are written to the store every
// flush interval and on Flush or Close, all scopes in one transaction: a
// crash loses at most the last interval, never half of one.
//
// # Values
//
// PutState accepts nil, bool, every Go integer kind (int, int8 … int64,
// uint, uint8 … uint64, uintptr), float32, float64, string, []byte,
// time.Time, and []any and map[string]any holding those values, nested to
// any depth. Everything comes back with the type it was stored with, also
// after a restart: an int64 stays an int64, an int8 inside a []any stays an
// int8. Other types, named types included (time.Duration, a struct, a
// []string), are refused with an error naming the type.
//
// Maps, slices and byte slices are copied when stored and when returned, so
// state cannot change behind the scope's back. A nil map or slice comes back
// empty. After a restart a time.Time comes back with the same instant and
// UTC offset, but without its location name and monotonic reading.
//
// # Counters
//
// A key holding a value of any integer kind is a counter: IncrCounter adds
// to it in its own kind (and fails rather than wrap when the sum leaves
// that kind's range), GetCounter returns it as an int. IncrCounter on a
// missing key starts an int at 0.
//
// # Keys in the store
//
// Each key is stored in bucket "state" under scope id + "\x00" + key, as a
// format byte followed by a type-tagged binary encoding (not gob, not JSON).
// Scope ids therefore must not contain NUL.
package state
