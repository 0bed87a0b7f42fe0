package window

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestSnapshotRestore: a window restored from a snapshot taken at any point
// emits exactly what the original emits from then on, in processing and in
// event time (rows shuffled within the tolerance), Flush included, for
// every kind.
func TestSnapshotRestore(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, spec := range propertySpecs {
		for _, eventTime := range []bool{false, true} {
			for round := range 10 {
				rows := randomRows(r, 120, 20000)
				if eventTime {
					rows = shuffle(r, rows, 500)
				}
				s := spec
				s.EventTime, s.LateTolerance = eventTime, 500*time.Millisecond
				cut := r.IntN(len(rows) + 1)
				name := fmt.Sprintf("%v event=%v round %d cut %d", spec.Kind, eventTime, round, cut)

				orig := mustNew(t, s)
				feed := func(w *Window, rows []row) (out []got) {
					for _, x := range rows {
						es, _, err := w.Add(at(x.ts), x)
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						out = append(out, conv(es)...)
						if !eventTime && x.ts%5 == 0 {
							out = append(out, conv(w.Advance(at(x.ts+700)))...)
						}
					}
					return out
				}
				feed(orig, rows[:cut])
				st := orig.Snapshot(0)
				copied := mustNew(t, s)
				if err := copied.Restore(st); err != nil {
					t.Fatalf("%s: restore: %v", name, err)
				}
				if !reflect.DeepEqual(copied.Snapshot(0), st) {
					t.Fatalf("%s: snapshot of the restored window differs", name)
				}
				want := append(feed(orig, rows[cut:]), conv(orig.Flush())...)
				got := append(feed(copied, rows[cut:]), conv(copied.Flush())...)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s:\n got  %v\n want %v", name, got, want)
				}
				if orig.Late() != copied.Late() {
					t.Fatalf("%s: late %d, want %d", name, copied.Late(), orig.Late())
				}
			}
		}
	}
}

func TestRestoreRefusesAnotherKind(t *testing.T) {
	w := mustNew(t, Spec{Kind: Count, Count: 2})
	st := mustNew(t, Spec{Kind: Tumbling, Length: time.Second, Unit: time.Second}).Snapshot(0)
	if err := w.Restore(st); err == nil {
		t.Fatal("restoring a tumbling window's state into a count window worked")
	}
	st = w.Snapshot(0)
	st.Rows, st.Held = []TimedRow{{TS: 2}, {TS: 1}}, 2
	if err := w.Restore(st); err == nil || !strings.Contains(err.Error(), "older") {
		t.Fatalf("rows out of order: %v", err)
	}
	st.Rows, st.Held = []TimedRow{{TS: 1}}, 2
	if err := w.Restore(st); err == nil || !strings.Contains(err.Error(), "want the 2 held") {
		t.Fatalf("a row short: %v", err)
	}
}

// Snapshot(from) holds the rows numbered from on; with the rows before it
// they restore the window.
func TestSnapshotFrom(t *testing.T) {
	s := Spec{Kind: Sliding, Length: 10 * time.Second, Unit: time.Second}
	w := mustNew(t, s)
	for i := range 30 {
		if _, _, err := w.Add(at(int64(i)*1000), i); err != nil {
			t.Fatal(err)
		}
	}
	all := w.Snapshot(0)
	if all.Seq == 0 || all.From != all.Seq || len(all.Rows) != all.Held {
		t.Fatalf("Snapshot(0): seq %d from %d, %d of %d rows", all.Seq, all.From, len(all.Rows), all.Held)
	}
	for _, from := range []uint64{0, all.Seq, all.Seq + 3, all.Seq + uint64(all.Held), all.Seq + 100} {
		st := w.Snapshot(from)
		want := min(max(from, all.Seq), all.Seq+uint64(all.Held))
		if st.From != want || !reflect.DeepEqual(st.Rows, all.Rows[want-all.Seq:]) {
			t.Fatalf("Snapshot(%d): from %d with %d rows, want from %d", from, st.From, len(st.Rows), want)
		}
	}
	part := w.Snapshot(all.Seq + 3)
	part.Rows, part.From = append(all.Rows[:3:3], part.Rows...), all.Seq
	copied := mustNew(t, s)
	if err := copied.Restore(part); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(copied.Snapshot(0), all) {
		t.Fatal("the rows put back together restore another window")
	}
}
