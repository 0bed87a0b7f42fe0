package window

import (
	"testing"
	"time"
)

// TestAlignment: the first end of a window whose clock starts at `from`,
// aligned to the unit enclosing the window's, as Next reports it, and the
// end after it.
func TestAlignment(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800) // a half-hour offset: local hours are not UTC hours
	cst := time.FixedZone("CST", 8*3600)
	utc := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05.999", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	in := func(loc *time.Location, s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05.999", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name          string
		kind          Kind
		unit, period  time.Duration
		loc           *time.Location
		from          time.Time
		first, second time.Time
	}{
		{"ms: to the second", Tumbling, time.Millisecond, 300 * time.Millisecond, time.UTC,
			utc("2024-03-09 10:00:07.250"), utc("2024-03-09 10:00:07.300"), utc("2024-03-09 10:00:07.600")},
		{"ms: a start on a boundary ends a period later", Tumbling, time.Millisecond, 100 * time.Millisecond, time.UTC,
			utc("2024-03-09 10:00:07.300"), utc("2024-03-09 10:00:07.400"), utc("2024-03-09 10:00:07.500")},
		{"ss: to the minute", Tumbling, time.Second, 10 * time.Second, time.UTC,
			utc("2024-03-09 10:00:07.250"), utc("2024-03-09 10:00:10"), utc("2024-03-09 10:00:20")},
		{"ss: 10.5 s ends at :20, not :10 as in eKuiper", Tumbling, time.Second, 10 * time.Second, time.UTC,
			utc("2024-03-09 10:00:10.500"), utc("2024-03-09 10:00:20"), utc("2024-03-09 10:00:30")},
		{"ss: 7 s does not divide the minute", Tumbling, time.Second, 7 * time.Second, time.UTC,
			utc("2024-03-09 10:00:58"), utc("2024-03-09 10:01:03"), utc("2024-03-09 10:01:10")},
		{"ss: 90 s, longer than the minute", Tumbling, time.Second, 90 * time.Second, time.UTC,
			utc("2024-03-09 10:00:30"), utc("2024-03-09 10:01:30"), utc("2024-03-09 10:03:00")},
		{"mi: to the hour", Tumbling, time.Minute, 15 * time.Minute, time.UTC,
			utc("2024-03-09 10:20:00"), utc("2024-03-09 10:30:00"), utc("2024-03-09 10:45:00")},
		{"hh: to local midnight", Tumbling, time.Hour, 2 * time.Hour, ist,
			in(ist, "2024-03-09 11:30:00"), in(ist, "2024-03-09 12:00:00"), in(ist, "2024-03-09 14:00:00")},
		{"dd: local midnight", Tumbling, day, day, cst,
			utc("2024-03-09 22:00:00"), in(cst, "2024-03-11 00:00:00"), in(cst, "2024-03-12 00:00:00")},
		{"dd: 2 days from today's midnight", Tumbling, day, 2 * day, cst,
			in(cst, "2024-03-10 06:00:00"), in(cst, "2024-03-12 00:00:00"), in(cst, "2024-03-14 00:00:00")},
		{"hopping aligns its hop", Hopping, time.Second, 2 * time.Second, time.UTC,
			utc("2024-03-09 10:00:07.250"), utc("2024-03-09 10:00:08"), utc("2024-03-09 10:00:10")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := Spec{Kind: tt.kind, Length: tt.period, Unit: tt.unit, Location: tt.loc}
			if tt.kind == Hopping {
				spec.Length, spec.Interval = 3*tt.period, tt.period
			}
			w := mustNew(t, spec)
			w.Advance(tt.from)
			for i, want := range []time.Time{tt.first, tt.second} {
				got, ok := w.Next()
				if !ok || !got.Equal(want) {
					t.Fatalf("end %d: %v, want %v", i+1, got, want)
				}
				es := w.Advance(got)
				if len(es) != 1 || !es[0].End.Equal(want) || !es[0].Start.Equal(want.Add(-spec.Length)) {
					t.Fatalf("end %d: Advance gives %+v", i+1, es)
				}
				if es[0].End.Location() != tt.loc {
					t.Errorf("End in %v, want %v", es[0].End.Location(), tt.loc)
				}
			}
		})
	}
}

// TestDayAcrossDST: a day window ends at local midnight on both sides of a
// DST change, its span being 23 h then.
func TestDayAcrossDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	w := mustNew(t, Spec{Kind: Tumbling, Length: day, Unit: day, Location: ny})
	w.Advance(time.Date(2024, 3, 9, 12, 0, 0, 0, ny))
	w.Advance(time.Date(2024, 3, 10, 0, 0, 0, 0, ny))
	if _, _, err := w.Add(time.Date(2024, 3, 10, 23, 30, 0, 0, ny), "late evening"); err != nil {
		t.Fatal(err)
	}
	end, _ := w.Next()
	if want := time.Date(2024, 3, 11, 0, 0, 0, 0, ny); !end.Equal(want) {
		t.Fatalf("Next %v, want %v", end, want)
	}
	es := w.Advance(end)
	if len(es) != 1 || len(es[0].Rows) != 1 || !es[0].Start.Equal(time.Date(2024, 3, 10, 0, 0, 0, 0, ny)) {
		t.Fatalf("got %+v", es)
	}
	if span := es[0].End.Sub(es[0].Start); span != 23*time.Hour {
		t.Errorf("span %v, want 23h", span)
	}
}

func TestGridFloor(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	g := newGrid(time.Date(2024, 1, 1, 0, 0, 0, 0, ny), 2*day, day)
	for k := int64(-400); k < 400; k++ {
		p := g.at(k)
		if got := g.floor(p); got != k {
			t.Fatalf("floor(at(%d)) = %d", k, got)
		}
		if got := g.floor(p - 1); got != k-1 {
			t.Fatalf("floor(at(%d)-1) = %d", k, got)
		}
	}
	g = newGrid(time.Unix(0, 5), 10, time.Millisecond)
	for x, want := range map[int64]int64{5: 0, 14: 0, 15: 1, 4: -1, -5: -1, -6: -2} {
		if got := g.floor(x); got != want {
			t.Errorf("floor(%d) = %d, want %d", x, got, want)
		}
	}
}
