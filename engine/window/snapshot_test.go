package window

import (
	"fmt"
	"math/rand/v2"
	"reflect"
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
				st := orig.Snapshot()
				copied := mustNew(t, s)
				if err := copied.Restore(st); err != nil {
					t.Fatalf("%s: restore: %v", name, err)
				}
				if !reflect.DeepEqual(copied.Snapshot(), st) {
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
	st := mustNew(t, Spec{Kind: Tumbling, Length: time.Second, Unit: time.Second}).Snapshot()
	if err := w.Restore(st); err == nil {
		t.Fatal("restoring a tumbling window's state into a count window worked")
	}
	st = w.Snapshot()
	st.Rows = []TimedRow{{TS: 2}, {TS: 1}}
	if err := w.Restore(st); err == nil {
		t.Fatal("rows out of order were restored")
	}
}
