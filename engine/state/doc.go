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
// Scope ids therefore must not contain NUL. An integer's "state" entry
// keeps only its kind; its number is in bucket "counters" under the same
// key, as base-10 text, so that the store can add to it atomically.
//
// # Writes, holds and checkpoints
//
// A counter is written as what IncrCounter added since its last write (a
// store.Write add), unless it was set since (PutState, a kind change, a
// delete), which writes its value. After a write it reads as the store's
// total plus what was added since. Flush writes every changed key of the
// scopes not held; a rule that checkpoints holds its scopes (Hold) and
// writes them itself: Capture takes a scope's changed keys at the rule's
// barrier, Commit writes captured keys with the checkpoint record in one
// transaction, Abandon puts them back when the checkpoint fails.
//
// # Engines sharing a store (Redis)
//
// Engines that point at one Redis share the state of rules with the same
// id. What that gives:
//   - Counters are exact: every engine's increments add up in Redis
//     (IncrCounter never loses another engine's increments), each written
//     at that engine's next flush or checkpoint. An engine reads its own
//     increments at once and the others' as of its last write.
//   - A value set with PutState (or a counter set to a value) is last
//     writer wins, at write time; another engine sees it when it loads the
//     scope again (the rule restarts).
//   - Windows and source offsets are each engine's own (checkpoint records
//     are kept per engine name): with a shared MQTT subscription each
//     engine's window aggregates the messages that engine received.
//   - Deleting or resetting a rule's state deletes it for all of them.
package state
